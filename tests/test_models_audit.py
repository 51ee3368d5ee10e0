"""The inference audit (``icsresearch.models.inference.audit``).

Independent checks: the CR1 row's standard error is statsmodels' CR0 (dummy-variable OLS,
``use_correction=False``) times plm's factor ``G/(G-1) (N-1)/(N-K)``; the CR3 row's is the
brute-force jackknife ``sqrt((G-1)/G sum_g (b_(g) - b)^2)`` from statsmodels refits without each
cluster; p-values are recomputed from the t distribution with the row's df. The bootstrap and
randomization rows must be exactly what those methods return with the same seed (each has its own
reference tests). The verdict is checked on constructed tables, including the wording of the
issue's example.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from icsresearch.errors import InvalidParameterError
from icsresearch.models import did_2x2, event_study, fit, fit_hdfe
from icsresearch.models.inference import audit as audit_module
from icsresearch.models.inference.audit import COLUMNS, _verdict, inference_audit
from icsresearch.models.inference.randomization import randomization_inference

pytestmark = pytest.mark.filterwarnings("ignore")
METHODS = ["CR1", "CR2-BM", "CR3", "wild bootstrap", "randomization"]


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(7)
    G, T = 10, 5
    out = pd.DataFrame(
        [(f"S{g}", 2018 + t) for g in range(G) for t in range(T)], columns=["ics", "year"]
    )
    out["treated"] = out["ics"].isin(["S1", "S5", "S8"]).astype(int)
    out["post"] = (out["year"] >= 2020).astype(int)
    out["d"] = out["treated"] * out["post"]
    out["y"] = (
        rng.normal(size=G).repeat(T)
        + rng.normal(size=len(out)) * np.linspace(0.5, 2, G).repeat(T)
        + 0.8 * out["d"]
    )
    return out


@pytest.fixture(scope="module")
def fitted(df):
    return fit(df, "y ~ d", entity="ics", time="year", effects="twoways", vcov="CRV1")


@pytest.fixture(scope="module")
def audit(df, fitted):
    return inference_audit(fitted, "d", data=df, treatment="d", seed=3, bootstrap_reps=999)


def test_every_method_has_a_row(audit):
    table = audit.to_frame()
    assert list(table.columns) == COLUMNS
    assert list(table["method"]) == METHODS
    assert table["p_value"].notna().all()  # fit results can do all five
    assert audit.n_clusters == 10 and audit.cluster == "ics"


def test_cr1_and_cr3_rows_against_statsmodels(df, audit):
    table = audit.table.set_index("method")
    m = smf.ols("y ~ d + C(ics) + C(year)", data=df).fit(
        cov_type="cluster",
        cov_kwds={"groups": pd.factorize(df["ics"])[0], "use_correction": False},
    )
    G, N, K = 10, len(df), 1
    cr1 = m.bse["d"] * np.sqrt(G / (G - 1) * (N - 1) / (N - K))
    assert table.loc["CR1", "se"] == pytest.approx(cr1, rel=1e-9)
    drops = np.array(
        [
            smf.ols("y ~ d + C(ics) + C(year)", data=df[df["ics"] != g]).fit().params["d"]
            for g in sorted(df["ics"].unique())
        ]
    )
    cr3 = np.sqrt((G - 1) / G * np.sum((drops - m.params["d"]) ** 2))
    assert table.loc["CR3", "se"] == pytest.approx(cr3, rel=1e-9)
    for method in ("CR1", "CR3"):
        row = table.loc[method]
        t = m.params["d"] / row["se"]
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), row["df"]), rel=1e-9)
        half = stats.t.ppf(0.975, row["df"]) * row["se"]
        assert row["ci_low"] == pytest.approx(m.params["d"] - half, rel=1e-9)
    assert audit.diagnostics.table["beta_drop"].to_numpy() == pytest.approx(drops, rel=1e-9)


def test_bootstrap_cr2_and_ri_rows_are_those_methods(df, fitted, audit):
    table = audit.table.set_index("method")
    wb = fitted.wild_bootstrap("d", reps=999, seed=3, weights="webb")
    assert table.loc["wild bootstrap", "p_value"] == wb.p_value
    assert table.loc["wild bootstrap", "ci_high"] == wb.ci_high
    ri = randomization_inference(fitted, data=df, treatment="d", seed=3)
    assert table.loc["randomization", "p_value"] == ri.p_value
    assert "exact, all 120 assignments" in table.loc["randomization", "note"]
    cr2 = fitted.with_cov("CR2")
    assert table.loc["CR2-BM", "se"] == pytest.approx(cr2.bse["d"], rel=1e-12)
    assert table.loc["CR2-BM", "df"] == pytest.approx(cr2.df_terms["d"], rel=1e-12)


def test_printing(audit):
    text = repr(audit)
    assert text.startswith("Inference audit for 'd'") and "Verdict: " in text
    assert "effective clusters G*" in text and "most influential cluster" in text
    html = audit._repr_html_()
    assert "<table" in html and "Verdict:" in html


def test_did_2x2_shows_unavailable_methods_with_reasons(df):
    # CR2 is fit()'s only; the row says why instead of disappearing
    res = did_2x2(df, "y", treated="treated", post="post", entity="ics")
    # 19 random permutations keep the pyfixest refits few (the full RI is tested elsewhere)
    out = inference_audit(res, "treated:post", data=df, seed=1, bootstrap_reps=999, ri_reps=19)
    table = out.table.set_index("method")
    assert list(out.table["method"]) == METHODS
    assert table.loc["CR2-BM", "note"].startswith("not available: did_2x2 does not support")
    assert np.isnan(table.loc["CR2-BM", "p_value"])
    wb = res.wild_bootstrap("treated:post", reps=999, seed=1, weights="webb")
    assert table.loc["wild bootstrap", "p_value"] == wb.p_value
    assert table.loc[["CR1", "CR3", "randomization"], "p_value"].notna().all()
    assert out.diagnostics is not None and out.diagnostics.effective_clusters > 1


@pytest.mark.parametrize("estimator", ["fit_hdfe", "event_study"])
def test_pyfixest_estimators(df, estimator):
    small = df[df["ics"].isin([f"S{g}" for g in range(7)])].reset_index(drop=True)  # 7 systems
    if estimator == "fit_hdfe":
        res = fit_hdfe(small, "y ~ d | ics + year", cluster="ics")
        term, extra = "d", {"treatment": "d", "time": "year"}
    else:
        cohort = small["ics"].map({"S1": 2020, "S5": 2020})  # S8 is not in the sample: 2 treated
        res = event_study(small.assign(cohort=cohort), "y", entity="ics", time="year",
                          cohort="cohort")  # fmt: skip
        small = small.assign(cohort=cohort)
        term, extra = "t+0", {}
    out = inference_audit(res, term, data=small, seed=2, bootstrap_reps=999, **extra)
    table = out.table.set_index("method")
    assert table.loc["CR1", "se"] == pytest.approx(res.bse[term], rel=1e-12)  # already CRV1
    assert table.loc["CR2-BM", "note"].startswith(f"not available: {estimator} does not support")
    wb = res.wild_bootstrap(term, reps=999, seed=2, weights="webb")
    assert table.loc["wild bootstrap", "p_value"] == wb.p_value
    ri = out.details["randomization"]
    assert ri.enumerated and ri.n_assignments == 21  # choose(7, 2)
    assert table.loc["randomization", "p_value"] == ri.p_value
    assert out.diagnostics.effective_clusters is not None  # from the kept design


def test_cr2_row_when_the_version_has_no_cr2(df, fitted, monkeypatch):
    no_cr2 = Literal["iid", "hetero", "CRV1", "CRV3", "DK"]
    monkeypatch.setattr(audit_module, "Vcov", no_cr2)
    out = inference_audit(fitted, "d", data=df, seed=1, bootstrap_reps=99)
    row = out.table.set_index("method").loc["CR2-BM"]
    assert row["note"] == "not available: vcov='CR2' is not in this version"
    assert np.isnan(row["p_value"])


def test_cr3_undefined_with_one_treated_cluster(df):
    one = df.assign(d=((df["ics"] == "S5") & (df["post"] == 1)).astype(int))
    res = fit(one, "y ~ d", entity="ics", time="year", effects="twoways", vcov="CRV1")
    out = inference_audit(res, "d", data=one, treatment="d", seed=1, bootstrap_reps=99)
    row = out.table.set_index("method").loc["CR3"]
    assert (
        row["note"] == "not available: the jackknife is undefined: without cluster(s) S5 'd' "
        "is not identified"
    )
    assert np.isnan(row["p_value"])
    # RI with one treated of 10 cannot go below 1/10
    assert out.details["randomization"].min_p_value == pytest.approx(0.1)


def test_ri_needs_a_treatment_for_fit(df, fitted):
    out = inference_audit(fitted, "d", data=df, seed=1, bootstrap_reps=99)
    row = out.table.set_index("method").loc["randomization"]
    assert row["note"].startswith("not available: pass treatment=")


def _table(pairs):
    rows = [dict.fromkeys(COLUMNS, np.nan) | {"method": m, "p_value": p} for m, p in pairs]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_verdict_wording():
    issue = _table([("CR1", 0.01), ("wild bootstrap", 0.21), ("randomization", 0.30)])
    assert _verdict(issue, 0.05, 4.2, 12) == (
        "Disagree at 5%: CR1 (p=0.01) rejects but wild bootstrap (p=0.21) and randomization "
        "(p=0.3) do not; with G*=4.2 effective clusters trust the few-cluster methods, which do "
        "not reject."
    )
    all_reject = _table([(m, 0.001) for m in METHODS])
    assert _verdict(all_reject, 0.05, 30.0, 42) == "Agree: all 5 methods reject at 5%."
    none = _table([("CR1", 0.4), ("CR3", 0.5)])
    assert _verdict(none, 0.05, None, 42) == "Agree: none of the 2 methods rejects at 5%."
    split = _table([("CR1", 0.01), ("CR3", 0.02), ("randomization", 0.2)])
    assert "even the few-cluster methods disagree" in _verdict(split, 0.05, 5.0, 6)
    many = _table([("CR1", 0.04), ("CR3", 0.06)])
    assert "CR1 is usually adequate" in _verdict(many, 0.05, 35.0, 42)


def test_bad_input(df, fitted):
    with pytest.raises(InvalidParameterError, match="not a coefficient") as err:
        inference_audit(fitted, "x", data=df)
    assert "\n  Fix: " in str(err.value)
    with pytest.raises(InvalidParameterError, match="no specification"):
        inference_audit(dataclasses.replace(fitted, spec=None), "d")
    with pytest.raises(InvalidParameterError, match="alpha"):
        inference_audit(fitted, "d", data=df, alpha=2)
