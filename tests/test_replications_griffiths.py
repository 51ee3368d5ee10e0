"""griffiths2016: the replication run end to end, checked against R ``lm``/plm on the raw files.

Reference values: ``tests/reference/griffiths_reference.json``, written by
``tests/reference/make_griffiths_reference.R`` from the raw workbook, CSVs and R data files.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.replications import griffiths2016 as G
from icsresearch.replications import multiverse as MV
from icsresearch.replications.comparison import NOT_REPRODUCED, REPRODUCED

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "griffiths_reference.json").read_text(encoding="utf-8")
)
KEY = ["analysis", "model", "term"]


def _check_against_r(est: pd.DataFrame, analyses=("cross_section", "panel")) -> None:
    ref = pd.DataFrame(REFERENCE["estimates"])
    ref = ref[ref["analysis"].isin(analyses)]
    m = est.merge(ref, on=KEY, suffixes=("", "_r"), validate="one_to_one")
    assert len(m) == len(ref)
    for col, tol in (("coef", 1e-6), ("se", 1e-5), ("ratio_ci_low", 1e-6), ("ratio_ci_high", 1e-6)):
        np.testing.assert_allclose(m[col], m[f"{col}_r"], rtol=tol, err_msg=col)
    np.testing.assert_allclose(m["p_value"], m["p_value_r"], rtol=1e-5)
    assert (m["nobs"] == m["nobs_r"]).all() and (m["ngroups"] == m["ngroups_r"]).all()


@pytest.fixture(scope="module")
def run(tmp_path_factory, mirror):
    from icsresearch.replications.runner import run_replication

    return run_replication(
        "griffiths2016", tmp_path_factory.mktemp("griffiths"), parameters={"multiverse": "small"}
    )


@pytest.mark.realdata
def test_run_matches_r_and_compares_with_the_published_ratios(run):
    est = pd.read_csv(run["estimates.csv"])
    assert list(est.columns) == G.ESTIMATE_COLUMNS
    assert len(est) == 3 + 3 + 3 + 6 + 3  # univariate, multivariable, +type; panel models
    _check_against_r(est)
    md = run["comparison.md"].read_text(encoding="utf-8")
    for (model, term), (ratio, lo, hi) in G.PUBLISHED.items():
        assert f"RR {ratio:.2f} ({lo:.2f}-{hi:.2f})" in md, (model, term)
    assert md.count("\n- **") == len(G.published_claims())
    man = json.loads(run["manifest.json"].read_text(encoding="utf-8"))
    sources = {i["source"] for i in man["inputs"]}
    assert {"hchs_staff_groups", "hm_beds", "hm_shmi", "eric_sites_2019"} <= sources
    assert all(i["verified"] for i in man["inputs"])
    html = run["griffiths2016.html"].read_text(encoding="utf-8")
    images = re.findall(r"<img[^>]*>", html)
    captions = re.findall(r"<figcaption><b>Figure (\d+)\.</b>", html)
    # the ratios, then the two specification curves: numbered, each with alt text in words
    assert len(images) == 3 and captions == ["1", "2", "3"]
    alts = [re.search(r'alt="([^"]*)"', img).group(1) for img in images]
    assert "No description has been provided" not in html
    assert alts[0].startswith("Coefficient plot: Staffing and mortality ratios. 12 ratios")
    assert "Nurses, univariate (Published (2016)): 1.22 (1.04 to 1.43)" in alts[0]
    for alt, claim in zip(alts[1:], MV.KEY_CLAIMS[G.ID], strict=True):
        assert alt.startswith("Specification curve of ") and claim in alt


@pytest.mark.realdata
def test_cross_section_rows_match_the_raw_files(mirror):
    cs = G.build_cross_section("2017-09")
    assert len(cs) == REFERENCE["sample"]["cross_section"] == 129
    assert cs["trust_type"].value_counts().to_dict() == REFERENCE["sample"]["trust_types"]
    # occupied beds and SHMI of one trust, read with the csv module
    csv_dir = mirror / "hospital_management" / "data" / "csv"
    with open(csv_dir / "beds.csv", encoding="utf-8-sig", newline="") as fh:
        beds = {
            r["ORG_CODE"].strip(): float(r["BEDS"]) * float(r["BEDS_OCCUPIED_PERCENT"])
            for r in csv.DictReader(fh)
            if r["YEAR"] == "2017"
        }
    with open(csv_dir / "shmi.csv", encoding="utf-8-sig", newline="") as fh:
        shmi = {
            r["ORG_CODE"].strip(): float(r["SHMI"])
            for r in csv.DictReader(fh)
            if r["YEAR"] == "2017"
        }
    for row in cs.sample(5, random_state=1).itertuples():
        assert row.occupied_beds == pytest.approx(beds[row.trust_code], rel=1e-12)
        assert row.log_shmi == pytest.approx(math.log(shmi[row.trust_code]), rel=1e-12)
    assert {d["trust_code"] for d in cs.attrs["dropped"]} == {"RGQ", "RJF", "RM2", "RR1", "RW3"}


@pytest.mark.realdata
def test_source_dir_files_replace_the_registry_copies(tmp_path, mirror):
    """--source-dir: a beds.csv with every BEDS doubled doubles each ratio and halves the slopes."""
    from icsresearch.replications.runner import run_replication

    src = mirror / "hospital_management" / "data" / "csv" / "beds.csv"
    folder = tmp_path / "corrected"
    folder.mkdir()
    with open(src, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(folder / "beds.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            r["BEDS"] = (
                str(2 * float(r["BEDS"])) if r["BEDS"].strip() not in ("", "-") else r["BEDS"]
            )
            w.writerow(r)
    out = run_replication(
        "griffiths2016",
        tmp_path / "out",
        source_dir=folder,
        parameters={"panel": False, "multiverse": "off"},
    )
    est = pd.read_csv(out["estimates.csv"]).set_index(["model", "term"])
    ref = pd.DataFrame(REFERENCE["estimates"]).set_index(["model", "term"])
    for key in [("univariate", t) for t in G.RATIOS] + [("multivariable", t) for t in G.RATIOS]:
        assert est.loc[key, "coef"] == pytest.approx(ref.loc[key, "coef"] / 2, rel=1e-9)
    man = json.loads(out["manifest.json"].read_text(encoding="utf-8"))
    beds = next(i for i in man["inputs"] if i["source"] == "hm_beds")
    # no machine folder in the outputs: the --source-dir folder is a placeholder
    assert beds["verified"] is False and beds["path"] == "<source-dir>/beds.csv"
    assert man["parameters"]["source_dir"] == "<source-dir>"
    assert "without hash checks" in out["comparison.md"].read_text(encoding="utf-8")


def test_unknown_census_is_refused():
    with pytest.raises(InvalidParameterError, match="census='2019-03'"):
        G.build_cross_section("2019-03")


def _estimates(ratios: dict, panel: dict | None = None) -> pd.DataFrame:
    rows = []
    for (model, term), (r, lo, hi) in ratios.items():
        rows.append(
            dict(
                analysis="cross_section",
                model=model,
                term=term,
                coef=math.log(r),
                se=0.1,
                ratio=r,
                ratio_ci_low=lo,
                ratio_ci_high=hi,
                p_value=0.5,
                nobs=100,
                ngroups=100,
            )
        )
    for term, (r, lo, hi) in (panel or {}).items():
        rows.append(
            dict(
                analysis="panel",
                model="within_between",
                term=term,
                coef=math.log(r),
                se=0.1,
                ratio=r,
                ratio_ci_low=lo,
                ratio_ci_high=hi,
                p_value=0.5,
                nobs=200,
                ngroups=100,
            )
        )
    return pd.DataFrame(rows)


def test_verdict_rule_direction_and_overlap():
    same = {k: v for k, v in G.PUBLISHED.items()}
    flipped = dict(same)
    flipped[("univariate", "beds_per_rn")] = (0.8, 0.7, 0.9)  # sign flip
    apart = dict(same)
    apart[("univariate", "beds_per_doctor")] = (1.5, 1.3, 1.7)  # same side, no overlap
    verdicts = {c.id: c.verdict for c in G.evaluate_claims(_estimates(same))}
    assert all(verdicts[f"{m}:{t}"] == REPRODUCED for m, t in G.PUBLISHED)
    assert verdicts["panel:between_vs_within"] == "not reproducible from public data"
    v2 = {c.id: c.verdict for c in G.evaluate_claims(_estimates(flipped))}
    assert v2["univariate:beds_per_rn"] == NOT_REPRODUCED
    v3 = {c.id: c.verdict for c in G.evaluate_claims(_estimates(apart))}
    assert v3["univariate:beds_per_doctor"] == NOT_REPRODUCED


def test_panel_rule_between_larger_and_within_not_significant():
    ok = {"beds_per_rn_between": (1.5, 1.1, 2.0), "beds_per_rn_within": (1.1, 0.8, 1.5)}
    bad = {"beds_per_rn_between": (1.1, 0.8, 1.5), "beds_per_rn_within": (1.5, 1.1, 2.0)}
    v = {c.id: c.verdict for c in G.evaluate_claims(_estimates(G.PUBLISHED, ok))}
    assert v["panel:between_vs_within"] == REPRODUCED
    v = {c.id: c.verdict for c in G.evaluate_claims(_estimates(G.PUBLISHED, bad))}
    assert v["panel:between_vs_within"] == NOT_REPRODUCED


@pytest.mark.realdata
def test_a_broken_source_file_fails_with_the_readers_message(tmp_path, mirror):
    from icsresearch.replications.runner import ReplicationError, run_replication

    folder = tmp_path / "broken"
    folder.mkdir()
    # a SHMI that is not a number: the reader must refuse the file and say which one
    (folder / "shmi.csv").write_text(
        "YEAR,ORG_CODE,SHMI\n2017,RA2,not-a-number\n", encoding="utf-8"
    )
    with pytest.raises(ReplicationError) as info:
        run_replication("griffiths2016", tmp_path / "out", source_dir=folder)
    message = str(info.value)
    assert "DataFileError" in message and "shmi.csv" in message
    assert "griffiths2016.ipynb" in message, "points at the executed notebook for the traceback"
    assert not (tmp_path / "out" / "estimates.csv").exists()
