"""mchugh2021: the simulator, the design's estimators and the replication run end to end.

References: the planted effects, and an independent row-level fit of the same simulated patients
with statsmodels (hospital and period dummies, cluster-robust covariance by hospital).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.replications import mchugh2021 as M
from icsresearch.replications.comparison import NOT_REPRODUCED, REPRODUCED
from icsresearch.replications.simulate_mchugh import (
    AGE_GROUPS,
    McHughDesign,
    hospital_table,
    simulate,
)

SMALL = McHughDesign(n_patients=20_000)


@pytest.fixture(scope="module")
def study():
    return simulate(seed=2021)


def test_simulated_study_has_the_published_dimensions(study):
    hosp = hospital_table(study)
    assert (hosp["treated"] == 1).sum() == 27 and (hosp["treated"] == 0).sum() == 28
    assert len(study) == 400_000
    assert study["hospital"].nunique() == 55
    assert set(study["period"]) == {0, 1}
    assert list(study["age_group"].cat.categories) == list(AGE_GROUPS)
    # staffing: baseline mean/SD near 5.52/2.03 (55 draws), falling about 1 in intervention
    assert hosp["ppn_baseline"].between(2.5, 12).all()
    assert abs(hosp["ppn_baseline"].mean() - 5.52) < 3 * 2.03 / math.sqrt(55)
    change = hosp["ppn_followup"] - hosp["ppn_baseline"]
    assert change[hosp["treated"] == 1].mean() == pytest.approx(-1.0, abs=0.25)
    assert change[hosp["treated"] == 0].mean() == pytest.approx(0.0, abs=0.25)
    # the staffing of every patient is their hospital's value for the period
    first = study.groupby(["hospital", "period"], observed=True)["patients_per_nurse"].nunique()
    assert (first == 1).all()
    # baseline rates calibrated to the design (binomial noise on ~200,000 patients)
    base = study[study["period"] == 0]
    assert base["died"].mean() == pytest.approx(0.035, abs=0.002)
    assert base["readmitted"].mean() == pytest.approx(0.045, abs=0.002)
    assert base["los"].mean() == pytest.approx(5.0, abs=0.05)
    assert study.loc[study["died"] == 1, "readmitted"].isna().all()
    assert study.attrs["planted"] == {"died": 0.93, "readmitted": 0.93, "los": 0.97}
    assert study.attrs["synthetic"] is True


def test_same_seed_same_patients():
    a, b = simulate(SMALL, seed=5), simulate(SMALL, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not simulate(SMALL, seed=6)["died"].equals(a["died"])


def test_design_rejects_impossible_parameters():
    with pytest.raises(InvalidParameterError, match="at least 2 hospitals"):
        McHughDesign(n_intervention=1)
    with pytest.raises(InvalidParameterError, match="rates"):
        McHughDesign(mortality_rate=0.7)
    with pytest.raises(InvalidParameterError, match="outcome='deaths'"):
        M.fit_outcome(simulate(SMALL, seed=1), "deaths")


def _statsmodels_fit(df: pd.DataFrame, outcome: str, term: str):
    """Row-level GLM with hospital and period dummies, CR0 clustered by hospital."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    family = sm.families.Binomial() if outcome != "los" else sm.families.Poisson()
    data = df.dropna(subset=[outcome]).astype({"hospital": str, "age_group": str, "sex": str})
    data["comorbidities"] = data["comorbidities"].astype(str)
    model = smf.glm(
        f"{outcome} ~ {term} + age_group + sex + comorbidities + C(hospital) + C(period)",
        data,
        family=family,
    )
    res = model.fit(
        cov_type="cluster",
        cov_kwds={"groups": pd.factorize(data["hospital"])[0], "use_correction": False},
    )
    return res.params[term], res.bse[term]


@pytest.mark.parametrize(
    ("outcome", "analysis"), [("died", "staffing"), ("los", "staffing"), ("readmitted", "did")]
)
def test_collapsed_fit_equals_an_independent_row_level_fit(outcome, analysis):
    df = simulate(SMALL, seed=11)
    term = "patients_per_nurse" if analysis == "staffing" else "treated_post"
    b_ref, se_ref = _statsmodels_fit(df, outcome, term)
    res = M.fit_outcome(df, outcome, analysis=analysis, small_sample="none")
    assert res.extra["method"] == "collapsed"
    assert res.params[term] == pytest.approx(b_ref, rel=1e-6)
    assert res.bse[term] == pytest.approx(se_ref, rel=1e-5)


@pytest.mark.parametrize("outcome", ["died", "los"])
def test_the_design_fits_partitioned_parquet_files_as_the_data_frame(outcome, tmp_path):
    """A trusted research environment's extract: one Parquet file per period, streamed."""
    df = simulate(SMALL, seed=12)
    for period, part in df.groupby("period", observed=True):
        part.to_parquet(tmp_path / f"period-{period}.parquet", index=False)
    for analysis in ("staffing", "did"):
        term = "patients_per_nurse" if analysis == "staffing" else "treated_post"
        in_memory = M.fit_outcome(df, outcome, analysis=analysis)
        streamed = M.fit_outcome(tmp_path, outcome, analysis=analysis)
        assert streamed.extra["stream"]["rows_read"] == len(df)
        assert streamed.params[term] == pytest.approx(in_memory.params[term], rel=1e-10)
        assert streamed.bse[term] == pytest.approx(in_memory.bse[term], rel=1e-10)


def test_staffing_model_recovers_the_planted_effects(study):
    est = M.estimate(study, row_outcomes=())
    staffing = est[est["analysis"] == "staffing"].set_index("outcome")
    for outcome, planted in study.attrs["planted"].items():
        r = staffing.loc[outcome]
        assert r["planted"] == planted
        assert r["ratio_ci_low"] <= planted <= r["ratio_ci_high"], outcome
        # CI from the coefficient: per one FEWER patient, exp(-(b -/+ 1.96 se))
        assert r["ratio"] == pytest.approx(math.exp(-r["coef"]))
        assert r["ratio_ci_high"] == pytest.approx(
            math.exp(-(r["coef"] - 1.959964 * r["se"])), rel=1e-6
        )
    did = est[est["analysis"] == "did"].set_index("outcome")
    assert did.loc["died", "ratio"] < 1 and did.loc["los", "ratio"] < 1
    # the implied DiD truth: planted ** -(difference in staffing changes), about 1 patient
    assert 0.92 < did.loc["died", "planted"] < 0.94


def test_power_analysis_counts_detections():
    per, summary = M.power_analysis(SMALL, replicates=3, seed=3)
    assert len(per) == 3 and set(per["outcome"]) == {"died"}
    row = summary.iloc[0]
    assert row["replicates"] == 3 and row["planted"] == 0.93
    assert row["power"] == per["detected"].mean() and row["coverage"] == per["covers"].mean()
    expect = (per["p_value"] < 0.05) & (per["ratio"] < 1)
    assert (per["detected"] == expect).all()
    with pytest.raises(InvalidParameterError, match="replicates"):
        M.power_analysis(SMALL, replicates=0)


def test_design_claims_follow_their_rules():
    est = pd.DataFrame(
        [
            dict(
                analysis="staffing",
                outcome=o,
                path="collapsed",
                coef=-math.log(r),
                ratio=r,
                ratio_ci_low=r - 0.05,
                ratio_ci_high=r + 0.05,
                planted=p,
                se=0.02,
            )
            for o, r, p in (("died", 0.92, 0.93), ("readmitted", 0.80, 0.93), ("los", 0.97, 0.97))
        ]
    )
    v = {c.id: c.verdict for c in M.evaluate_claims(est)}
    assert v["design:died"] == REPRODUCED and v["design:los"] == REPRODUCED
    assert v["design:readmitted"] == NOT_REPRODUCED  # CI 0.75-0.85 misses 0.93
    assert v["effect:died"] == "not reproducible from public data"
    assert v["design:paths_agree"] == "not reproducible from public data"  # no rows fitted


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from icsresearch.replications.runner import run_replication

    params = {"n_patients": 20_000, "seed": 11, "power_replicates": 2, "row_outcomes": ["died"]}
    return run_replication(
        "mchugh2021", tmp_path_factory.mktemp("mchugh"), parameters=params
    ), params


def test_run_end_to_end_matches_an_independent_fit(run):
    paths, params = run
    est = pd.read_csv(paths["estimates.csv"])
    assert list(est.columns) == M.ESTIMATE_COLUMNS
    # same seed and design as the notebook: the same patients
    df = simulate(McHughDesign(n_patients=params["n_patients"]), seed=params["seed"])
    G = df["hospital"].nunique()
    b_ref, se_ref = _statsmodels_fit(df, "died", "patients_per_nurse")
    for path in ("collapsed", "rows"):
        r = est[(est.analysis == "staffing") & (est.outcome == "died") & (est.path == path)].iloc[0]
        assert r["coef"] == pytest.approx(b_ref, rel=1e-6)
        # estimates.csv uses Stata's G/(G-1) factor on the clustered covariance
        assert r["se"] == pytest.approx(se_ref * math.sqrt(G / (G - 1)), rel=1e-5)
    md = paths["comparison.md"].read_text(encoding="utf-8")
    assert "SIMULATED patients (20,000, seed 11)" in md
    assert "- **reproduced** - Design check: the collapsed fast path" in md
    man = json.loads(paths["manifest.json"].read_text(encoding="utf-8"))
    assert man["synthetic"] is True and man["inputs"] == []
    assert man["parameters"]["n_patients"] == 20_000
    assert man["design"]["or_mortality"] == 0.93
    assert len(man["power"]) == 1 and man["power"][0]["replicates"] == 2
    assert paths["mchugh2021.html"].is_file()


def test_did_table_is_the_crude_two_by_two(study):
    t = M.did_table(study)
    d = study.groupby(["treated", "period"])["died"].mean() * 100
    expect = (d[(1, 1)] - d[(1, 0)]) - (d[(0, 1)] - d[(0, 0)])
    assert t.loc[("difference-in-differences", ""), "mortality_pct"] == pytest.approx(expect)
    assert (
        t.loc[("intervention", "baseline"), "patients"]
        == ((study.treated == 1) & (study.period == 0)).sum()
    )
    assert np.isnan(t.loc[("difference-in-differences", ""), "patients"])
