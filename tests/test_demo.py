"""The synthetic demo dataset: fictional, deterministic, shaped like the real panel, effects planted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icsresearch import geography
from icsresearch.demo import PLANTED, SYNTHETIC
from icsresearch.demo.generate import world
from icsresearch.models import fit
from icsresearch.panel import ae_monthly, ics_year_panel, trust_year_panel


@pytest.fixture(scope="module")
def demo():
    return trust_year_panel("demo")


def test_fictional_organisations_in_both_footprints(demo):
    icbs22, icbs26 = geography.icbs(2022, "demo"), geography.icbs(2026, "demo")
    assert len(icbs22) == 42 and len(icbs26) == 36
    assert icbs22["region_code"].nunique() == 7
    assert icbs22["icb_code"].str.fullmatch(r"ZQ\d\d").all()
    assert demo["trust_code"].str.fullmatch(r"ZZ\d{3}").all()
    # Acute trusts per system follow the real distribution (a calibration figure).
    from icsresearch.demo.generate import _calibration

    acute = (
        geography.trusts("demo")
        .query("trust_type == 'acute non-specialist'")
        .groupby("hq_icb_code")
        .size()
    )
    assert (
        sorted(acute.reindex(icbs22["icb_code"]).fillna(0).astype(int))
        == _calibration()["acute_trusts_per_ics"]
    )
    assert (demo["data_source"] == SYNTHETIC).all() and demo.ics.synthetic
    assert "synthetic demo data" in demo.ics.source_note


def test_deterministic():
    a = trust_year_panel("demo")
    world.cache_clear()
    b = trust_year_panel("demo")
    pd.testing.assert_frame_equal(a, b)


def test_demo_validation_uses_demo_codes():
    assert geography.validate_ics_code("zq07", 2022, "demo") == "ZQ07"
    with pytest.raises(Exception, match="ZQ01"):
        geography.validate_ics_code("QYG", 2022, "demo")


def test_ics_panel_and_weights():
    for fp in (2022, 2026):
        for method in geography.METHODS:
            w = geography.trust_ics_weights(method, fp, "demo")
            assert np.allclose(w.groupby("trust_code")["weight"].sum(), 1.0)
        ics = ics_year_panel("demo", footprint=fp)
        assert ics["icb_code"].nunique() == (42 if fp == 2022 else 36)
        assert (ics["data_source"] == SYNTHETIC).all()
    # Merging systems moves trusts between systems but conserves national totals.
    p22, p26 = ics_year_panel("demo", footprint=2022), ics_year_panel("demo", footprint=2026)
    assert np.allclose(
        p22.groupby("year")["managers_fte"].sum(), p26.groupby("year")["managers_fte"].sum()
    )


def test_calibrated_spread_is_realistic(demo):
    """Between/within shape of the main indicators is close to the calibration figures."""
    from icsresearch.demo.generate import _calibration

    acute = demo[demo["trust_type"] == "acute non-specialist"]
    cal = _calibration()["types"]["acute non-specialist"]["indicators"]
    for col in ("ae_4hr_pct", "management_score", "occupancy_pct"):
        dev = acute[col] - acute.groupby("year")[col].transform("mean")
        between = dev.groupby(acute["trust_code"]).mean().std()
        assert between == pytest.approx(cal[col]["sd_between"], rel=0.35), col
    yearly = acute.groupby("year")["ae_4hr_pct"].mean()
    assert yearly[2012] > yearly[2018] + 3  # the real decline in A&E performance


def test_estimators_recover_the_planted_effects(demo):
    acute = demo[demo["trust_type"] == "acute non-specialist"].copy()
    kw = {"entity": "trust_code", "time": "year", "cov_type": "clustered", "cluster": "trust_code"}
    within_mgr = fit(acute, "ae_4hr_pct ~ managers_fte", model="within", effects="twoways", **kw)
    lo, hi = within_mgr.conf_int().loc["managers_fte"]
    assert lo < PLANTED["managers_fte_within_effect"] < hi
    within_score = fit(
        acute, "ae_4hr_pct ~ management_score", model="within", effects="twoways", **kw
    )
    lo, hi = within_score.conf_int().loc["management_score"]
    assert lo < PLANTED["management_score_on_ae_4hr_pct"] < hi
    # Staffing and mortality: log SHMI on occupied beds per nurse/doctor/support worker, 2017/18.
    cs = (
        acute[acute["year"] == 2017]
        .dropna(subset=["shmi", "nurses_fte", "doctors_fte", "support_fte", "occupied_beds"])
        .copy()
    )
    for staff in ("nurses", "doctors", "support"):
        cs[f"beds_per_{staff}"] = cs["occupied_beds"] / cs[f"{staff}_fte"]
    cs["log_shmi"] = np.log(cs["shmi"])
    res = fit(
        cs,
        "log_shmi ~ beds_per_nurses + beds_per_doctors + beds_per_support",
        entity="trust_code",
        time="year",
        model="pooled",
        cov_type="robust",
    )
    lo, hi = res.conf_int().loc["beds_per_nurses"]
    assert lo < PLANTED["log_rr_shmi_per_bed_per_nurse"] < hi
    assert res.params["beds_per_nurses"] > 0


def test_monthly_ae_has_the_planted_special_causes():
    m = ae_monthly("demo", department="type1")
    acute = (
        geography.trusts("demo")
        .query("trust_type == 'acute non-specialist'")["trust_code"]
        .tolist()
    )
    stepped = m[m["trust_code"] == acute[0]].set_index("period")["within_4hr_pct"]
    before, after = stepped[:"2017-09-01"].mean(), stepped["2017-10-01":].mean()
    assert after - before > PLANTED["ae_step_up_pct"] / 2
    assert m["period"].nunique() == 36 and m["trust_code"].nunique() == len(acute)


def _cli_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICSRESEARCH_")}
    env["ICSRESEARCH_CACHE"] = str(tmp_path / "cache")
    env["ICSRESEARCH_OFFLINE"] = "1"  # no mirror, no network: the demo must still work
    return env


EXE = shutil.which("icsresearch", path=str(Path(sys.executable).parent)) or "icsresearch"


@pytest.mark.parametrize(("level", "suffix"), [("trust", ".csv"), ("ics", ".parquet")])
def test_panel_build_command_writes_the_table_and_a_manifest(tmp_path, level, suffix):
    out = tmp_path / f"panel{suffix}"
    result = subprocess.run(
        [
            EXE,
            "panel",
            "build",
            "--level",
            level,
            "--source",
            "demo",
            "--footprint",
            "2026",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=_cli_env(tmp_path),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    df = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert (df["data_source"] == SYNTHETIC).all()
    assert df["icb_code"].nunique() == 36
    import json

    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
    assert manifest["parameters"]["footprint"] == 2026 and manifest["data_source"] == SYNTHETIC
    assert manifest["git_revision"] and "pandas" in manifest["environment"]


def test_panel_build_rejects_an_unknown_extension_and_real_data_without_files(tmp_path):
    bad = subprocess.run(
        [EXE, "panel", "build", "--out", str(tmp_path / "p.xlsx")],
        capture_output=True,
        text=True,
        env=_cli_env(tmp_path),
        timeout=300,
    )
    assert (
        bad.returncode == 1 and ".csv or .parquet" in bad.stderr and "Traceback" not in bad.stderr
    )
    real = subprocess.run(
        [EXE, "panel", "build", "--source", "real", "--out", str(tmp_path / "p.csv")],
        capture_output=True,
        text=True,
        env=_cli_env(tmp_path),
        timeout=300,
    )
    assert (
        real.returncode == 1
        and "ICSRESEARCH_MIRROR" in real.stderr
        and "Traceback" not in real.stderr
    )
    assert not (tmp_path / "p.csv").exists()
