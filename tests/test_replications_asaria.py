"""asaria2022: the replication run end to end, checked against R plm on the raw CSVs.

Reference values: ``tests/reference/asaria_reference_authors.json`` (the authors' processing,
the default) and ``asaria_reference_cleaned.json`` (the package's cleaning), written by
``tests/reference/make_asaria_reference.R``, which builds the sample from the raw files with
base R and fits every model with plm 2.6-2 (independently of the Python code); and
``asaria_reference_perturbed.json``: the same script on perturbed copies of the files made by
``tests/reference/make_asaria_perturbed.py`` (seeds 1 and 2), which the tests regenerate and
pass with ``--source-dir`` / ``use_source_dir``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icsresearch.data import get as registry_entry
from icsresearch.errors import InvalidParameterError
from icsresearch.replications import asaria2022 as A
from icsresearch.replications.comparison import NOT_REPRODUCED, REPRODUCED, VERDICTS

REFERENCES = Path(__file__).parent / "reference"


def _load(name: str) -> dict:
    return json.loads((REFERENCES / name).read_text(encoding="utf-8"))


REFERENCE = _load("asaria_reference_authors.json")
CLEANED = _load("asaria_reference_cleaned.json")
PERTURBED = _load("asaria_reference_perturbed.json")
KEY = ["outcome", "measure", "controls", "model"]


def _reference(part: str, reference: dict = REFERENCE) -> pd.DataFrame:
    return pd.DataFrame(reference[part])


def _assert_matches_r(estimates: pd.DataFrame, reference: dict) -> None:
    """All 100 models: coefficients to 1e-6 and SEs to 1e-5 (relative), the same rows."""
    m = _compare(estimates, _reference("estimates", reference))
    assert len(m) == 100
    np.testing.assert_allclose(m["coef"], m["coef_r"], rtol=1e-6, atol=0)
    np.testing.assert_allclose(m["se"], m["se_r"], rtol=1e-5, atol=0)
    assert (m["nobs"] == m["nobs_r"]).all()
    assert (m["ngroups"] == m["ngroups_r"]).all()


def _compare(ours: pd.DataFrame, ref: pd.DataFrame, key=KEY) -> pd.DataFrame:
    merged = ours.merge(ref, on=key, suffixes=("", "_r"), validate="one_to_one")
    assert len(merged) == len(ref) == len(ours)
    return merged


# --- end to end: icsresearch replicate asaria2022 ---------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory, mirror):
    from icsresearch.replications.runner import run_replication

    out = tmp_path_factory.mktemp("asaria")
    return run_replication("asaria2022", out, parameters={"multiverse": "small"})


@pytest.mark.realdata
def test_run_writes_every_output(run):
    for name in (
        "estimates.csv",
        "comparison.md",
        "manifest.json",
        "asaria2022.ipynb",
        "asaria2022.html",
    ):
        assert run[name].is_file() and run[name].stat().st_size > 0, name
    html = run["asaria2022.html"].read_text(encoding="utf-8")
    assert "Management and hospital performance" in html and "<html" in html
    # the robustness multiverse (small grid here): its tables and its section of the report
    mv = pd.read_csv(run["multiverse.csv"])
    assert mv["spec_id"].nunique() == 4 and mv["published"].sum() == 7
    assert len(pd.read_csv(run["multiverse_summary.csv"])) == 7
    assert "## Robustness multiverse" in run["comparison.md"].read_text(encoding="utf-8")


@pytest.mark.realdata
def test_estimates_csv_matches_r_plm(run):
    est = pd.read_csv(run["estimates.csv"])
    assert list(est.columns) == A.ESTIMATE_COLUMNS
    assert len(est) == 100
    assert set(est["controls"]) == {False, True}  # written as false/true
    assert set(est["outcome"]) == set(A.OUTCOMES) and set(est["model"]) == set(A.MODELS)
    assert REFERENCE["meta"]["processing"] == "authors"
    _assert_matches_r(est, REFERENCE)


@pytest.mark.realdata
def test_run_reports_the_cleaned_variant_side_by_side(run):
    sens = pd.read_csv(run["processing_sensitivity.csv"])
    assert len(sens) == 100
    m = sens.merge(_reference("estimates", CLEANED), on=KEY, validate="one_to_one")
    np.testing.assert_allclose(m["coef_cleaned"], m["coef"], rtol=1e-6)
    np.testing.assert_allclose(m["se_cleaned"], m["se"], rtol=1e-5)
    # the '-X' A&E rows: 102 trust-years more in the cleaned variant's A&E models
    ae = sens[(sens.outcome == "ae_4hr_pct") & (sens.model == "pooled") & ~sens.controls]
    assert set(ae["nobs_cleaned"] - ae["nobs_authors"]) == {102}
    md = run["comparison.md"].read_text(encoding="utf-8")
    assert "Sensitivity: the package's cleaning instead of the authors' processing" in md
    assert "A&E rows filed under 'RXX-X' count for trust RXX" in md  # codes keep their case
    man = json.loads(run["manifest.json"].read_text(encoding="utf-8"))
    assert man["parameters"]["processing"] == "authors"
    assert "processing_sensitivity.csv" in man["outputs"]


@pytest.mark.realdata
def test_cleaned_processing_matches_r_and_is_one_flag_away(mirror, tmp_path):
    from typer.testing import CliRunner

    from icsresearch.cli import app

    sample = A.build_sample(processing="cleaned")
    assert sample.attrs["processing"] == "cleaned" and CLEANED["meta"]["processing"] == "cleaned"
    _assert_matches_r(A.estimate_all(sample), CLEANED)
    out = tmp_path / "cleaned"
    res = CliRunner().invoke(
        app,
        ["replicate", "asaria2022", "--out", str(out), "--processing", "cleaned"]
        + ["-p", "multiverse=off"],
    )
    assert res.exit_code == 0, res.output
    _assert_matches_r(pd.read_csv(out / "estimates.csv"), CLEANED)
    assert not (out / "processing_sensitivity.csv").exists()  # the variant has no variant
    bad = CliRunner().invoke(
        app, ["replicate", "asaria2022", "--out", str(out), "--processing", "tidy"]
    )
    assert bad.exit_code == 1 and isinstance(bad.exception, InvalidParameterError)
    assert "'authors', 'cleaned'" in str(bad.exception)  # main() prints it without a traceback


@pytest.fixture(scope="module")
def perturbed(tmp_path_factory, mirror):
    """Perturbed copies of the files (seeds 1, 2), regenerated by the committed script."""
    import subprocess
    import sys

    folders = {}
    for seed in (1, 2):
        folder = tmp_path_factory.mktemp(f"perturbed{seed}")
        subprocess.run(
            [sys.executable, str(REFERENCES / "make_asaria_perturbed.py"), str(mirror),
             str(folder), "--seed", str(seed)],
            check=True, capture_output=True,
        )  # fmt: skip
        folders[seed] = folder
    return folders


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("seed", "key", "processing"),
    [(1, "seed_1", "authors"), (2, "seed_2", "authors"), (1, "seed_1_cleaned", "cleaned")],
)
def test_perturbed_inputs_match_r(perturbed, seed, key, processing):
    from icsresearch.data import use_source_dir

    reference = PERTURBED[key]
    with use_source_dir(perturbed[seed]), pytest.warns(UserWarning, match="no final line end"):
        sample = A.build_sample(processing=processing)
    assert len(sample) == reference["sample"]["rows"]
    assert not any(i["verified"] for i in sample.attrs["inputs"] if i["source"].startswith("hm_a"))
    _assert_matches_r(A.estimate_all(sample), reference)


@pytest.mark.realdata
def test_replicate_with_source_dir_matches_r_on_perturbed_files(perturbed, tmp_path):
    from icsresearch.replications.runner import run_replication

    paths = run_replication(
        "asaria2022", tmp_path / "out", source_dir=perturbed[2], parameters={"multiverse": "off"}
    )
    _assert_matches_r(pd.read_csv(paths["estimates.csv"]), PERTURBED["seed_2"])


@pytest.mark.realdata
def test_manifest_records_inputs_parameters_and_verdicts(run):
    man = json.loads(run["manifest.json"].read_text(encoding="utf-8"))
    assert man["replication"] == "asaria2022"
    sources = {i["source"]: i for i in man["inputs"]}
    for name in ("hm_providers", "hm_managers", "hm_consultants", "hm_staff_survey", "hm_shmi"):
        assert sources[name]["sha256"] == registry_entry(name).sha256
        assert sources[name]["verified"] is True
    assert man["parameters"]["convention"] == "plm"
    assert man["parameters"]["output_dir"] == "."  # the folder holding the manifest
    assert man["git_revision"] and man["environment"]["pandas"]
    assert man["runner"]["kernel"] == "icsresearch"
    assert {v["verdict"] for v in man["verdicts"]} <= set(VERDICTS)
    assert {"asaria2022.ipynb", "asaria2022.html", "estimates.csv"} <= set(man["outputs"])


@pytest.mark.realdata
def test_comparison_reads_right(run):
    md = run["comparison.md"].read_text(encoding="utf-8")
    verdict_lines = [ln for ln in md.splitlines() if ln.startswith("- **")]
    assert len(verdict_lines) == len(A.published_claims())
    for ln in verdict_lines:
        assert any(ln.startswith(f"- **{v}** - ") for v in VERDICTS), ln
    # the claims that need restricted data say so
    assert "- **not reproducible from public data** - Measures M3" in md
    assert "| 129 trusts, 2012/13-2018/19 | verified |" in md
    assert "### Summary Hospital-level Mortality Indicator" in md


# --- the sample, quality regressions and tests, against R -------------------------------------


@pytest.fixture(scope="module")
def sample(mirror):
    return A.build_sample()


@pytest.mark.realdata
def test_sample_counts_match_r_and_the_raw_files(sample, mirror):
    ref = REFERENCE["sample"]
    assert len(sample) == ref["rows"] == 928
    assert sample["trust_code"].nunique() == ref["trusts"] == 134
    per_year = sample.groupby("year")["trust_code"].nunique()
    assert {str(k): v for k, v in per_year.items()} == ref["trusts_per_year"]
    assert per_year[2018] == A.PUBLISHED_TRUSTS
    # independent count with the csv module: acute non-specialist trusts in 2018 in both files
    csv_dir = mirror / "hospital_management" / "data" / "csv"

    def rows(name):
        with open(csv_dir / name, encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    acute = {
        r["ORG_CODE"].strip()
        for r in rows("nhs_provider.csv")
        if r["ORG_TYPE"] == "Acute" and r["SPECIALIST"] == "FALSE"
    }
    mgr = {r["ORG_CODE"].strip() for r in rows("managers_simple_def.csv") if r["YEAR"] == "2018"}
    con = {r["ORG_CODE"].strip() for r in rows("consultants_simple_def.csv") if r["YEAR"] == "2018"}
    assert set(sample.loc[sample.year == 2018, "trust_code"]) == acute & mgr & con


@pytest.mark.realdata
def test_quality_regressions_match_r(sample):
    q = A.quality_regressions(sample)
    m = _compare(q, _reference("quality"))
    np.testing.assert_allclose(m["coef"], m["coef_r"], rtol=1e-6)
    np.testing.assert_allclose(m["se"], m["se_r"], rtol=1e-5)


@pytest.mark.realdata
def test_specification_tests_match_r(sample):
    t = A.specification_tests(sample)
    m = _compare(t, _reference("tests"), key=["outcome", "measure"])
    for col in ("bp_stat", "bp_p", "hausman_stat", "hausman_p"):
        np.testing.assert_allclose(m[col], m[f"{col}_r"], rtol=1e-6, atol=1e-300)
    assert (m["nobs"] == m["nobs_r"]).all()


@pytest.mark.realdata
def test_stata_convention_changes_only_within_ses(sample):
    plm = A.fit_model(sample, "shmi", "managers_fte", False, "within")
    stata = A.fit_model(sample, "shmi", "managers_fte", False, "within", convention="stata")
    assert plm.params["managers_fte"] == stata.params["managers_fte"]
    # two-way FE, trust clusters: Stata counts the 7 year effects, K 1 -> 8 (docs/inference.md)
    n = plm.nobs
    ratio = stata.bse["managers_fte"] / plm.bse["managers_fte"]
    assert ratio == pytest.approx(np.sqrt((n - 1) / (n - 8)), rel=1e-9)


# --- verdict rules, on constructed estimates (no data) ------------------------------------------


def _fake_estimates(coef, se, measure="managers_fte", outcome="shmi"):
    rows = []
    for i, (controls, model) in enumerate((c, m) for c in (False, True) for m in A.MODELS):
        b, s = coef[i], se[i]
        rows.append(
            {
                "outcome": outcome,
                "measure": measure,
                "controls": controls,
                "model": model,
                "coef": b,
                "se": s,
                "ci_low": b - 1.96 * s,
                "ci_high": b + 1.96 * s,
                "p_value": 0.001 if abs(b / s) > 3 else 0.5,
            }
        )
    return pd.DataFrame(rows)


def test_no_association_rule_needs_eight_of_ten_cis_covering_zero():
    ok, text = A._no_association(_fake_estimates([0.1] * 8 + [5, 5], [1] * 10))
    assert ok and "8 of 10" in text
    ok, _ = A._no_association(_fake_estimates([0.1] * 7 + [5, 5, 5], [1] * 10))
    assert not ok


def test_quality_rule_counts_better_and_worse_directions():
    claim = next(c for c in A.published_claims() if c.id == "quality_vs_performance")
    parts = []
    for outcome in A.OUTCOMES:
        parts.append(_fake_estimates([0.0] * 10, [1] * 10, "management_score", outcome))
    base = pd.concat(parts, ignore_index=True)
    assert A._judge_quality(claim, base).verdict == NOT_REPRODUCED
    better = base.copy()
    shmi = better["outcome"] == "shmi"
    better.loc[shmi, "coef"] = [-5] * 5 + [0] * 5  # lower SHMI is better: 5 of 10 significant
    better.loc[shmi, "p_value"] = [0.001] * 5 + [0.5] * 5
    assert A._judge_quality(claim, better).verdict == REPRODUCED
    worse = better.copy()
    fin = worse["outcome"] == "net_financial_position"
    worse.loc[fin, "coef"] = -5.0  # a significantly worse finance result vetoes
    worse.loc[fin, "p_value"] = 0.001
    assert A._judge_quality(claim, worse).verdict == NOT_REPRODUCED


def test_bad_years_and_models_are_refused():
    with pytest.raises(InvalidParameterError, match="first_year"):
        A.build_sample(2018, 2012)
    with pytest.raises(InvalidParameterError, match="model='ols'"):
        A.formula("shmi", "managers_fte", False, "ols")


def test_regression_table_layout():
    est = pd.concat(
        [
            _fake_estimates([1.0] * 10, [0.1] * 10, m, "shmi").assign(nobs=900, ngroups=130)
            for m in A.MEASURES
        ]
    )
    table = A.regression_table(est, "shmi")
    assert list(table.columns) == list(A.MODELS.values())
    assert len(table) == 2 * 2 * 3  # panels x measures x (coef, se, N)
    assert table.iloc[0, 0] == "1.000***" and table.iloc[1, 0] == "(0.1000)"
    with pytest.raises(InvalidParameterError, match="no estimates"):
        A.regression_table(est, "ae_4hr_pct")
