"""Test data for the panel-model tests: the real trust panel (built with plain pandas from the
mirror's published files, independently of the code under test) and the committed simulated panel.

No data are stored in the repository except the synthetic ``tests/reference/sim_panel.csv``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd

REFERENCE = Path(__file__).parent / "reference"


@cache
def plm_reference() -> dict:
    """Values written by ``tests/reference/make_plm_reference.R`` (R plm, sandwich, clubSandwich)."""
    return json.loads((REFERENCE / "plm_reference.json").read_text())


def sim_panel() -> pd.DataFrame:
    """The seeded simulated unbalanced panel with gaps (150 entities, 42 ICSs, 2012-2018)."""
    return pd.read_csv(REFERENCE / "sim_panel.csv")


def sim_balanced() -> pd.DataFrame:
    """Entities of the simulated panel observed (with x2) in all 7 years: a balanced panel."""
    sim = sim_panel()
    full = sim[sim["x2"].notna()].groupby("entity").size()
    return sim[sim["entity"].isin(full[full == 7].index)].reset_index(drop=True)


@cache
def _real_trust_panel(mirror: str) -> pd.DataFrame:
    csv = Path(mirror) / "hospital_management/data/csv"
    prov = pd.read_csv(csv / "nhs_provider.csv", encoding="utf-8-sig")
    prov["ORG_CODE"] = prov["ORG_CODE"].str.strip()  # codes carry trailing spaces
    acute = set(prov.loc[(prov["ORG_TYPE"] == "Acute") & ~prov["SPECIALIST"], "ORG_CODE"])

    def keep(d: pd.DataFrame) -> pd.DataFrame:
        return d[d["ORG_CODE"].isin(acute) & d["YEAR"].between(2012, 2018)]

    shmi = keep(pd.read_csv(csv / "shmi.csv", encoding="utf-8-sig"))
    ae = pd.read_csv(csv / "AE.csv", encoding="utf-8-sig")
    ae["ORG_CODE"] = ae["ORG_CODE"].str.replace(r"-X$", "", regex=True)
    ae = keep(ae)
    mgr = keep(pd.read_csv(csv / "managers_simple_def.csv", encoding="utf-8-sig"))
    panel = shmi.merge(ae, on=["ORG_CODE", "YEAR"], how="outer").merge(
        mgr, on=["ORG_CODE", "YEAR"], how="left"
    )
    return panel.rename(
        columns={
            "ORG_CODE": "trust_code",
            "YEAR": "year",
            "SHMI": "shmi",
            "AE_SCORE": "ae",
            "SIMPLE_MANAGERS_FTE": "managers_fte",
        }
    )


def real_trust_panel(mirror: Path) -> pd.DataFrame:
    """Non-specialist acute trusts 2012-2018: SHMI, A&E 4-hour share and managers FTE."""
    return _real_trust_panel(str(mirror)).copy()


def dataset(name: str, mirror: Path | None = None) -> tuple[pd.DataFrame, str]:
    """A named dataset of the reference file and its entity column."""
    if name == "sim":
        return sim_panel(), "entity"
    if name == "sim_bal":
        return sim_balanced(), "entity"
    real = real_trust_panel(mirror)
    if name == "real_shmi":
        return real[real["shmi"].notna()], "trust_code"
    if name == "real_ae":
        return real[real["ae"].notna()], "trust_code"
    raise KeyError(name)


# --- tests of the data the parity tests rely on (independent reading with the csv module) ---

import csv  # noqa: E402

import pytest  # noqa: E402


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.realdata
def test_real_panel_matches_the_published_files(mirror):
    csv_dir = mirror / "hospital_management/data/csv"
    acute = {
        r["ORG_CODE"].strip()
        for r in _rows(csv_dir / "nhs_provider.csv")
        if r["ORG_TYPE"] == "Acute" and r["SPECIALIST"] == "FALSE"
    }
    shmi = {
        (r["ORG_CODE"], int(r["YEAR"])): float(r["SHMI"])
        for r in _rows(csv_dir / "shmi.csv")
        if r["ORG_CODE"] in acute and 2012 <= int(r["YEAR"]) <= 2018
    }
    panel = real_trust_panel(mirror)
    got = panel.dropna(subset=["shmi"]).set_index(["trust_code", "year"])["shmi"]
    assert len(got) == len(shmi)
    assert all(got[k] == v for k, v in shmi.items())
    assert panel["trust_code"].nunique() == len({k[0] for k in shmi})
    # A&E codes carry a "-X" suffix: after stripping, every A&E row of an acute trust is kept
    ae_rows = [
        r
        for r in _rows(csv_dir / "AE.csv")
        if r["ORG_CODE"].removesuffix("-X") in acute and 2012 <= int(r["YEAR"]) <= 2018
    ]
    assert panel["ae"].notna().sum() == len(ae_rows)


@pytest.mark.realdata
def test_real_panel_quirks(mirror):
    """The facts the report cites: gaps in the A&E panel, managers missing for some trust-years."""
    panel = real_trust_panel(mirror)
    ae = panel.dropna(subset=["ae"])
    span = ae.groupby("trust_code")["year"].agg(["min", "max", "count"])
    gappy = span[span["max"] - span["min"] + 1 > span["count"]].index.tolist()
    assert gappy  # internal gaps exist: first differences and lags must respect them
    shmi = panel.dropna(subset=["shmi"])
    assert shmi["managers_fte"].isna().sum() >= 1  # listwise deletion is exercised
