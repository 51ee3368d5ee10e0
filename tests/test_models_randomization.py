"""Randomization inference (``icsresearch.models.inference.randomization``).

Independent references:

* **brute force**: a plain loop over every choice of treated units (``itertools``), each fitted by
  statsmodels OLS with explicit unit and year dummies and statsmodels' cluster-robust covariance.
  The RI p-values (coefficient and t) must equal the loop's exactly, the null distribution of the
  coefficient to 1e-10 (observed: ~1e-15), and the t statistics up to the constant ratio of the
  two small-sample factors (statsmodels counts the dummies in ``K``, plm does not), checked
  constant to 1e-10 relative. Done for ``fit`` (fast path and refit), ``fit_hdfe`` and ``did_2x2``
  (refits), a 2x2 and a staggered design.
* **known exact case**: a large planted effect on 3 of 12 units is the most extreme of all
  ``choose(12, 3) = 220`` assignments, so p = 1/220 exactly.
* the assignment counter and enumerator against ``itertools.permutations`` of the multiset.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from icsresearch.errors import InvalidParameterError
from icsresearch.models import did_2x2, event_study, fit, fit_hdfe
from icsresearch.models.inference.randomization import (
    count_assignments,
    enumerate_assignments,
    randomization_inference,
)

pytestmark = pytest.mark.filterwarnings("ignore")


def panel(G: int = 8, T: int = 4, treated=(1, 4, 6), adopt=2, effect=0.3, seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        [(f"u{g:02d}", 2010 + t) for g in range(G) for t in range(T)], columns=["unit", "year"]
    )
    df["treated"] = df["unit"].isin([f"u{g:02d}" for g in treated]).astype(int)
    df["post"] = (df["year"] >= 2010 + adopt).astype(int)
    df["d"] = df["treated"] * df["post"]
    scale = 1 + np.arange(G) / 3  # heteroskedastic units, so t and coefficient RI differ
    df["y"] = (
        rng.normal(size=G).repeat(T)
        + 0.2 * (df["year"] - 2010)
        + rng.normal(size=len(df)) * scale.repeat(T)
        + effect * df["d"]
    )
    return df


def brute_force(df: pd.DataFrame, adoptions: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct permutation of the units' adoption years, fitted by statsmodels."""
    units = sorted(adoptions)
    values = [adoptions[u] for u in units]
    coefs, tstats = [], []
    for perm in sorted(set(itertools.permutations(values))):
        start = dict(zip(units, perm, strict=True))
        d = (df["year"] >= df["unit"].map(start)).astype(float)
        m = smf.ols("y ~ d + C(unit) + C(year)", data=df.assign(d=d)).fit(
            cov_type="cluster", cov_kwds={"groups": pd.factorize(df["unit"])[0]}
        )
        coefs.append(m.params["d"])
        tstats.append(m.tvalues["d"])
    return np.array(coefs), np.array(tstats)


def observed_sm(df: pd.DataFrame) -> tuple[float, float]:
    m = smf.ols("y ~ d + C(unit) + C(year)", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(df["unit"])[0]}
    )
    return m.params["d"], m.tvalues["d"]


def p_two_sided(null: np.ndarray, obs: float) -> float:
    return float(np.mean(np.abs(null) >= abs(obs) - 1e-10 * max(abs(obs), 1)))


def check_against(ri, df, adoptions):
    coefs, tstats = brute_force(df, adoptions)
    b_obs, t_obs = observed_sm(df)
    assert ri.enumerated and ri.n_assignments == len(coefs) == ri.draws
    np.testing.assert_allclose(np.sort(ri.null_coefs), np.sort(coefs), rtol=0, atol=1e-10)
    ratio = np.sort(ri.null_tstats) / np.sort(tstats)
    assert np.ptp(ratio) < 1e-10 * abs(ratio[0])  # one constant small-sample factor
    assert ri.p_value_coef == p_two_sided(coefs, b_obs)
    assert ri.p_value_t == p_two_sided(tstats, t_obs)
    assert ri.null_coefs[0] == pytest.approx(ri.estimate, abs=1e-12)  # observed included


@pytest.fixture(scope="module")
def df2x2():
    return panel()


@pytest.fixture(scope="module")
def adoptions2x2(df2x2):
    first = df2x2[df2x2["d"] == 1].groupby("unit")["year"].min()
    return {u: float(first.get(u, np.inf)) for u in df2x2["unit"].unique()}


def test_fit_fast_path_equals_brute_force(df2x2, adoptions2x2):
    res = fit(df2x2, "y ~ d", entity="unit", time="year", effects="twoways", vcov="CRV1")
    ri = randomization_inference(res, data=df2x2, treatment="d")
    assert ri.method == "fast" and ri.n_assignments == math.comb(8, 3) == 56
    check_against(ri, df2x2, adoptions2x2)
    assert ri.p_value == ri.p_value_t  # studentized by default
    refit = randomization_inference(res, data=df2x2, treatment="d", method="refit")
    assert refit.method == "refit"
    np.testing.assert_allclose(refit.null_tstats, ri.null_tstats, rtol=1e-10)


def test_fit_hdfe_and_did_2x2_equal_brute_force():
    # every assignment is a pyfixest refit: 2 treated of 6 units (15 assignments) keeps it fast
    df = panel(G=6, treated=(1, 4), seed=8)
    first = df[df["d"] == 1].groupby("unit")["year"].min()
    adoptions = {u: float(first.get(u, np.inf)) for u in df["unit"].unique()}
    res = fit_hdfe(df, "y ~ d | unit + year", cluster="unit")
    check_against(randomization_inference(res, data=df, treatment="d", time="year"), df, adoptions)
    did = did_2x2(df, "y", treated="treated", post="post", entity="unit")
    ri = randomization_inference(did, data=df, statistic="coef")
    assert ri.term == "treated:post" and ri.p_value == ri.p_value_coef
    # did_2x2 absorbs post, not years: in a balanced 2x2 the estimate and its clustered t are
    # those of the year-effects regression, so the same brute force applies
    check_against(ri, df, adoptions)


def test_staggered_permutes_adoption_dates():
    df = panel(G=6, T=5, treated=(), effect=0.0, seed=5)
    start = {"u01": 2012, "u04": 2013}  # two cohorts, four never treated: 6!/(1!1!4!) = 30
    df["d"] = (df["year"] >= df["unit"].map(start).fillna(np.inf)).astype(int)
    df["y"] += 0.5 * df["d"]
    adoptions = {u: float(start.get(u, np.inf)) for u in df["unit"].unique()}
    res = fit(df, "y ~ d", entity="unit", time="year", effects="twoways", vcov="CRV1")
    ri = randomization_inference(res, data=df, treatment="d")
    assert ri.n_assignments == 30 and ri.cohorts == {2012.0: 1, 2013.0: 1, "never": 4}
    assert ri.n_treated_units == 2
    check_against(ri, df, adoptions)
    # the event study permutes its cohort column the same way (30 assignments, observed first)
    df["cohort"] = df["unit"].map(start)
    es = event_study(df, "y", entity="unit", time="year", cohort="cohort")
    ri_es = randomization_inference(es, "t+0", data=df)
    assert ri_es.enumerated and ri_es.n_assignments == 30
    assert ri_es.null_tstats[0] == pytest.approx(ri_es.t_statistic, rel=1e-10)


def test_known_exact_case_smallest_p():
    df = panel(G=12, T=4, treated=(1, 4, 7), effect=50.0, seed=11)
    res = fit(df, "y ~ d", entity="unit", time="year", effects="twoways", vcov="CRV1")
    ri = randomization_inference(res, data=df, treatment="d")
    assert ri.enumerated and ri.n_assignments == 220
    assert ri.p_value_coef == pytest.approx(1 / 220, abs=1e-15)
    assert ri.p_value_t == pytest.approx(1 / 220, abs=1e-15)
    assert ri.min_p_value == pytest.approx(1 / 220)
    assert "220 assignments (exact)" in repr(ri)


def test_random_draws_are_seeded_and_include_the_observed():
    df = panel(G=12, T=4, treated=(1, 4, 7), effect=0.5, seed=2)
    res = fit(df, "y ~ d", entity="unit", time="year", effects="twoways", vcov="CRV1")
    a = randomization_inference(res, data=df, treatment="d", reps=99, seed=7)
    b = randomization_inference(res, data=df, treatment="d", reps=99, seed=7)
    assert not a.enumerated and a.draws == 99 and a.seed == 7
    np.testing.assert_array_equal(a.null_tstats, b.null_tstats)
    count = np.sum(np.abs(a.null_tstats) >= abs(a.t_statistic) - 1e-10 * abs(a.t_statistic))
    assert a.p_value == (1 + count) / 100
    # each draw keeps the number of treated units: the coefficient distribution is that of
    # 3-of-12 assignments, which enumeration gives in full
    full = randomization_inference(res, data=df, treatment="d", reps=99, max_enumerate=220)
    allowed = np.round(full.null_coefs, 10)
    assert np.isin(np.round(a.null_coefs, 10), allowed).all()


def test_assignment_counting_and_enumeration():
    codes = np.array([0, 0, 1, 2, 2, 2])
    brute = {tuple(p) for p in itertools.permutations(codes)}
    listed = [tuple(a) for a in enumerate_assignments(codes)]
    assert len(listed) == len(set(listed)) == len(brute) == count_assignments([2, 1, 3]) == 60
    assert set(listed) == brute and listed[0] == tuple(codes)
    assert count_assignments([9, 3]) == 220


def test_permutation_unit_coarser_than_entity():
    # trusts (entity) in systems (cluster): the treatment is assigned to systems
    df = panel(G=12, T=3, treated=(0, 1, 2, 3), effect=0.0, seed=4)
    df["ics"] = "S" + (df["unit"].str[1:].astype(int) // 2).astype(str)  # 6 systems of 2
    res = fit(df, "y ~ d", entity="unit", time="year", effects="twoways", cluster="ics")
    ri = randomization_inference(res, data=df, treatment="d")
    assert ri.unit == "ics" and ri.n_units == 6 and ri.n_assignments == math.comb(6, 2)
    assert ri.method == "fast"
    slow = randomization_inference(res, data=df, treatment="d", method="refit")
    np.testing.assert_allclose(slow.null_tstats, ri.null_tstats, rtol=1e-10)
    # brute force: every choice of 2 treated systems, statsmodels with trust and year dummies
    tstats = []
    for pair in itertools.combinations(sorted(df["ics"].unique()), 2):
        d = (df["ics"].isin(pair) & (df["year"] >= 2012)).astype(float)
        m = smf.ols("y ~ d + C(unit) + C(year)", data=df.assign(d=d)).fit(
            cov_type="cluster", cov_kwds={"groups": pd.factorize(df["ics"])[0]}
        )
        tstats.append(m.tvalues["d"])
    ratio = np.sort(ri.null_tstats) / np.sort(tstats)
    assert np.ptp(ratio) < 1e-10 * abs(ratio[0])
    with pytest.raises(InvalidParameterError, match="not the same across 'ics'"):
        bad = df.assign(d=df["d"].where(df["unit"] != "u00", 0))
        randomization_inference(
            fit(bad, "y ~ d", entity="unit", time="year", effects="twoways", cluster="ics"),
            data=bad,
            treatment="d",
        )


@pytest.mark.parametrize(
    "change, kwargs, message",
    [
        (None, {}, "needs treatment="),
        (None, {"treatment": "d", "reps": 5}, "reps must be an integer"),
        (None, {"treatment": "d", "statistic": "z"}, "statistic='z'"),
        (None, {"treatment": "d", "term": "nope"}, "not a coefficient"),
        ("switch_off", {"treatment": "d"}, "switches off"),
        ("not_binary", {"treatment": "d"}, "must be 0/1"),
        ("no_variation", {"treatment": "d"}, "does not vary"),
    ],
)
def test_bad_input_one_clear_error(change, kwargs, message):
    df = panel()
    if change == "switch_off":
        df.loc[(df["unit"] == "u01") & (df["year"] == 2013), "d"] = 0
    elif change == "not_binary":
        df["d"] = df["d"] * 2.0
    elif change == "no_variation":
        df["d"] = (df["year"] >= 2012).astype(int)
    formula = "y ~ d + post" if change == "no_variation" else "y ~ d"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(df, formula, entity="unit", time="year", vcov="CRV1")
    with pytest.raises(InvalidParameterError, match=message) as err:
        randomization_inference(res, data=df, **kwargs)
    assert "\n  Fix: " in str(err.value)


def test_result_without_spec_is_refused(df2x2):
    res = fit(df2x2, "y ~ d", entity="unit", time="year", vcov="CRV1")
    import dataclasses

    with pytest.raises(InvalidParameterError, match="no specification"):
        randomization_inference(dataclasses.replace(res, spec=None), data=df2x2, treatment="d")
