"""Difference-in-differences and event studies: parity and planted-effect simulations.

- did_2x2 equals the difference of the four cell means (computed here with a plain groupby) and
  statsmodels' OLS with the interaction;
- the TWFE event study equals statsmodels OLS with explicit event-time, unit and year dummies;
- Sun & Abraham's cohort effects equal the hand-computed 2x2 DiDs of each cohort against the
  never-treated (balanced panel, no covariates) and pyfixest's saturated event study; the
  averages use the cohort shares computed here;
- with effects that differ by cohort and grow with time since adoption, TWFE is biased (and shows
  spurious pre-trends) while Sun & Abraham recovers the planted effects exactly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models import EventStudyResult, did_2x2, event_study

T0 = 2010
#: cohort -> size of its effect; the effect k periods after adoption is size * (k + 1)
SIZES = {T0 + 4: 1.0, T0 + 6: 2.0, T0 + 8: 3.0}


def staggered(
    n_units: int = 120,
    n_periods: int = 10,
    never_share: float = 0.25,
    noise: float = 0.0,
    seed: int = 1,
    cohorts: dict[int, float] = SIZES,
) -> pd.DataFrame:
    """A balanced panel with staggered adoption and heterogeneous, dynamic effects."""
    rng = np.random.default_rng(seed)
    n_never = int(n_units * never_share)
    keys = np.array(list(cohorts))
    cohort = np.full(n_units, np.nan)
    cohort[n_never:] = keys[rng.integers(0, keys.size, n_units - n_never)]
    unit_fe = rng.normal(size=n_units)
    year_fe = rng.normal(size=n_periods)
    rows = []
    for i in range(n_units):
        for t in range(n_periods):
            year = T0 + t
            e = cohort[i]
            eff = cohorts[e] * (year - e + 1) if not np.isnan(e) and year >= e else 0.0
            y = unit_fe[i] + year_fe[t] + eff + noise * rng.normal()
            rows.append((f"U{i:03d}", year, e, y, eff))
    return pd.DataFrame(rows, columns=["unit", "year", "cohort", "y", "effect"])


def true_event_effects(df: pd.DataFrame) -> pd.Series:
    """Sun & Abraham's estimand: the average planted effect of the treated at each k >= 0."""
    tr = df[df["cohort"].notna()].assign(k=lambda d: d["year"] - d["cohort"])
    return tr[tr["k"] >= 0].groupby("k")["effect"].mean()


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


# --- 2x2 -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_by_two():
    rng = np.random.default_rng(5)
    n = 80
    units = np.repeat(np.arange(n), 2)
    post = np.tile([0, 1], n)
    treated = (units < 30).astype(int)
    y = rng.normal(size=n)[units] + 0.4 * post + 1.25 * treated * post + rng.normal(size=2 * n)
    return pd.DataFrame(
        {"trust": [f"T{u:02d}" for u in units], "post": post, "treated": treated, "y": y,
         "ics": [f"Q{u % 12}" for u in units]}
    )  # fmt: skip


def test_did_2x2_equals_difference_of_means_and_statsmodels(two_by_two):
    import statsmodels.formula.api as smf

    df = two_by_two
    m = df.groupby(["treated", "post"])["y"].mean()
    expected = (m[1, 1] - m[1, 0]) - (m[0, 1] - m[0, 0])
    res = did_2x2(df, "y", treated="treated", post="post", cluster="ics")
    assert res.params["treated:post"] == pytest.approx(expected, rel=1e-10)
    assert res.extra["did_of_means"] == pytest.approx(expected, rel=1e-12)
    assert res.extra["means"].loc[1, 1] == pytest.approx(m[1, 1])
    ref = smf.ols("y ~ treated * post", df).fit(cov_type="cluster", cov_kwds={"groups": df["ics"]})
    np.testing.assert_allclose(res.params["treated:post"], ref.params["treated:post"], rtol=1e-8)
    np.testing.assert_allclose(res.bse["treated:post"], ref.bse["treated:post"], rtol=1e-6)
    assert list(res.params.index) == ["Intercept", "treated", "post", "treated:post"]


def test_did_2x2_with_unit_effects_balanced_panel(two_by_two):
    df = two_by_two
    pooled = did_2x2(df, "y", treated="treated", post="post")
    fe = did_2x2(df, "y", treated="treated", post="post", entity="trust")
    # balanced, no covariates: the unit-effects estimate is the same difference of means
    assert fe.params["treated:post"] == pytest.approx(pooled.params["treated:post"], rel=1e-9)
    assert fe.fixed_effects == ("trust", "post")
    assert fe.extra["cluster"] == ["trust"] and fe.n_groups["clusters: trust"] == 80
    # the planted effect
    assert abs(fe.params["treated:post"] - 1.25) < 2.5 * fe.bse["treated:post"]


def test_did_2x2_bad_input(two_by_two):
    df = two_by_two
    with pytest.raises(InvalidParameterError, match="must be 0/1"):
        did_2x2(df.assign(post=df["post"] * 2), "y", treated="treated", post="post")
    with pytest.raises(InvalidParameterError, match="no observations for treated=1, post=1"):
        did_2x2(df[~((df.treated == 1) & (df.post == 1))], "y", treated="treated", post="post")
    bad = df.copy()
    bad.loc[bad.index[1], "treated"] = 1 - bad.loc[bad.index[1], "treated"]
    with pytest.raises(InvalidParameterError, match="varies within entity"):
        did_2x2(bad, "y", treated="treated", post="post", entity="trust")
    with pytest.raises(InvalidParameterError, match="did you mean 'post'"):
        did_2x2(df, "y", treated="treated", post="pots")


# --- TWFE event study -------------------------------------------------------------------------


def test_twfe_event_study_matches_statsmodels_dummies():
    import statsmodels.api as sm

    df = staggered(noise=0.7, seed=3)
    res = _quiet(
        event_study, df, "y", entity="unit", time="year", cohort="cohort", window=(-3, 3),
        small_sample="full",
    )  # fmt: skip
    # event-time dummies built here: bins at -3 (all k <= -3) and 3 (all k >= 3), -1 omitted
    k = (df["year"] - df["cohort"]).clip(-3, 3)
    X = pd.DataFrame(index=df.index)
    names = {-3: "t<=-3", -2: "t-2", 0: "t+0", 1: "t+1", 2: "t+2", 3: "t>=3"}
    for kk, name in names.items():
        X[name] = (k == kk).astype(float)
    X = pd.concat(
        [X, pd.get_dummies(df["unit"], drop_first=True, dtype=float),
         pd.get_dummies(df["year"].astype(str), drop_first=True, dtype=float)], axis=1,
    )  # fmt: skip
    X.insert(0, "const", 1.0)
    ref = sm.OLS(df["y"], X).fit(cov_type="cluster", cov_kwds={"groups": df["unit"]})
    terms = list(names.values())
    assert res.event_terms() == terms
    np.testing.assert_allclose(res.params[terms], ref.params[terms], rtol=1e-8)
    np.testing.assert_allclose(res.bse[terms], ref.bse[terms], rtol=1e-6)
    table = res.event_table()
    assert table.loc[table["reference"], "rel_time"].tolist() == [-1]
    assert table.loc[table["reference"], "estimate"].tolist() == [0.0]
    assert table["n_obs"].sum() == df["cohort"].notna().sum()  # every treated row in one bin


def test_heteroskedasticity_robust_inference_without_clusters():
    df = staggered(noise=0.5, seed=17)
    res = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort", vcov="hetero")
    assert res.cov_type == "heteroskedasticity-robust (HC1)"
    assert res.df_resid == res.nobs - res.extra.get("n_missing", 0) - (
        len(res.params) + 120 + 10 - 1
    )  # N - K with every unit and year effect counted (nothing is nested without clusters)
    two = _quiet(did_2x2, df.assign(post=df["year"] >= 2015, tr=df["cohort"].notna()), "y",
                 treated="tr", post="post", entity="unit", vcov="hetero")  # fmt: skip
    assert two.extra["cluster"] == []


def test_twfe_without_never_treated_needs_binning():
    df = staggered(never_share=0.0, seed=4, noise=0.3)
    with pytest.raises(InvalidParameterError, match="(?s)not identified.*window="):
        _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort")
    res = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort", window=(-4, 4))
    assert res.extra["binned"] == {"lower": True, "upper": True}


# --- Sun & Abraham -------------------------------------------------------------------------------


def test_sun_abraham_cohort_effects_are_2x2_dids_against_never_treated():
    df = staggered(noise=0.6, seed=6)
    res = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort",
                 estimator="sun-abraham")  # fmt: skip
    means = df.assign(g=df["cohort"].fillna(0)).groupby(["g", "year"])["y"].mean()
    ce = res.extra["cohort_effects"]
    for r in ce.itertuples():
        e, year = r.cohort, r.cohort + r.rel_time
        did = (means[e, year] - means[e, e - 1]) - (means[0, year] - means[0, e - 1])
        assert r.estimate == pytest.approx(did, rel=1e-8, abs=1e-10)
    # the averages use each cohort's share of the treated units at that relative period
    n_units = df[df["cohort"].notna()].groupby("cohort")["unit"].nunique()
    for term, k in res.extra["event_times"].items():
        cells = ce[ce["rel_time"] == k]
        w = n_units[cells["cohort"]].to_numpy() / n_units[cells["cohort"]].sum()
        assert res.params[term] == pytest.approx(float(w @ cells["estimate"]), rel=1e-10)


def test_sun_abraham_matches_pyfixest_saturated_event_study():
    import pyfixest as pf

    df = staggered(noise=0.5, seed=2)
    df["g"] = df["cohort"].fillna(0).astype(int)
    ref = _quiet(pf.event_study, df, yname="y", idname="unit", tname="year", gname="g",
                 estimator="saturated").tidy()  # fmt: skip
    res = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort",
                 estimator="sun-abraham")  # fmt: skip
    ce = res.extra["cohort_effects"]
    idx = [f"rel_time::{float(k)}:first_treated_period::{int(e)}" for e, k in
           zip(ce["cohort"], ce["rel_time"], strict=True)]  # fmt: skip
    np.testing.assert_allclose(ce["estimate"], ref.loc[idx, "Estimate"], rtol=1e-8)
    np.testing.assert_allclose(ce["se"], ref.loc[idx, "Std. Error"], rtol=1e-6)


def test_heterogeneous_effects_bias_twfe_but_not_sun_abraham():
    df = staggered(noise=0.0, seed=1)  # noise-free: an estimator is exact or it is biased
    truth = true_event_effects(df)
    sa = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort",
                estimator="sun-abraham")  # fmt: skip
    tw = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort")
    ev = sa.extra["event_times"]
    lags = [t for t, k in ev.items() if k >= 0]
    leads = [t for t, k in ev.items() if k < 0]
    np.testing.assert_allclose(sa.params[lags], truth[[ev[t] for t in lags]], atol=1e-9)
    np.testing.assert_allclose(sa.params[leads], 0.0, atol=1e-9)  # no anticipation planted
    # TWFE: contaminated lags and spurious "pre-trends"
    tw_bias = (tw.params[lags] - truth[[ev[t] for t in lags]].to_numpy()).abs()
    assert tw_bias.max() > 0.5
    assert tw.params[leads].abs().max() > 0.5
    # the ATT: SA's equals the mean planted effect of the treated observations
    att = sa.att()
    planted = df.loc[df["effect"] > 0, "effect"].mean()
    assert att["estimate"].iloc[0] == pytest.approx(planted, rel=1e-9)
    assert abs(tw.att()["estimate"].iloc[0] - planted) > 0.2


def test_sun_abraham_with_noise_covers_the_truth_and_passes_pretrend_test():
    df = staggered(noise=1.0, seed=9, n_units=200)
    sa = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort",
                estimator="sun-abraham", window=(-4, 4))  # fmt: skip
    planted = df.loc[df["effect"] > 0, "effect"].mean()
    att = sa.att()
    assert abs(att["estimate"].iloc[0] - planted) < 3 * att["se"].iloc[0]
    assert sa.pretrend_test()["p_value"] > 0.01
    tw = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort", window=(-4, 4))
    assert tw.pretrend_test()["p_value"] < 1e-6  # spurious pre-trends from heterogeneity


def test_sun_abraham_last_treated_cohort_as_control():
    df = staggered(never_share=0.0, noise=0.0, seed=8)
    sa = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort",
                estimator="sun-abraham")  # fmt: skip
    assert sa.extra["control"] == "last"
    last = max(SIZES)
    # only periods before the last cohort adopts remain; the planted effects there are recovered
    kept = df[(df["year"] < last) & (df["cohort"] < last)]
    truth = true_event_effects(kept)
    ev = sa.extra["event_times"]
    lags = [t for t, k in ev.items() if k >= 0]
    np.testing.assert_allclose(sa.params[lags], truth[[ev[t] for t in lags]], atol=1e-9)
    assert any("last cohort" in w for w in sa.warnings)
    with pytest.raises(InvalidParameterError, match="control='last'"):
        _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort",
               estimator="sun-abraham", control="never")  # fmt: skip


# --- inputs -------------------------------------------------------------------------------------


def test_treatment_indicator_equals_cohort_input():
    df = staggered(noise=0.4, seed=12)
    df["d"] = (df["cohort"].notna() & (df["year"] >= df["cohort"])).astype(int)
    a = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort", window=(-3, 3))
    b = _quiet(event_study, df, "y", entity="unit", time="year", treatment="d", window=(-3, 3))
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    assert isinstance(b, EventStudyResult)


def test_units_always_treated_or_adopting_late():
    df = staggered(noise=0.3, seed=13)
    df.loc[df["unit"] == "U100", "cohort"] = T0  # treated from the first period
    df.loc[df["unit"] == "U101", "cohort"] = T0 + 50  # after the sample
    res = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort", window=(-3, 3))
    assert "U100" not in set(df.loc[res.sample, "unit"])
    assert "U101" in set(df.loc[res.sample, "unit"])
    assert any("every observed period" in w for w in res.warnings)
    assert any("after the last period" in w for w in res.warnings)


@pytest.mark.parametrize(
    ("mutate", "kwargs", "match"),
    [
        (lambda d: d.assign(year=d["year"] + 0.5), {}, "whole numbers"),
        (lambda d: d.assign(year=d["year"].astype(str)), {}, "integer periods"),
        (lambda d: pd.concat([d, d.head(1)]), {}, "duplicated"),
        (
            lambda d: d.assign(cohort=np.where(d["year"] == T0, 2014.0, d["cohort"])),
            {},
            "constant within a unit",
        ),  # fmt: skip
        (lambda d: d, {"window": (-3, 3), "reference": -5}, "outside window"),
        (lambda d: d, {"window": (3, -3)}, "lo < hi"),
        (lambda d: d, {"estimator": "callaway"}, "estimator="),
        (lambda d: d, {"treatment": "cohort"}, "exactly one"),
        (lambda d: d, {"reference": -20}, "reference period -20"),
        (lambda d: d, {"reference": "-1"}, "whole number"),
        (lambda d: d, {"vcov": "DK"}, "event_study does not support vcov='DK'"),
        (lambda d: d, {"small_sample": False}, "small_sample=False"),
    ],
)
def test_event_study_bad_input(mutate, kwargs, match):
    df = mutate(staggered(n_units=40, noise=0.3, seed=14))
    with pytest.raises(InvalidParameterError, match=match):
        _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort", **kwargs)


def test_treatment_that_switches_off_is_refused():
    df = staggered(n_units=40, noise=0.3, seed=15)
    df["d"] = (df["cohort"].notna() & (df["year"] >= df["cohort"])).astype(int)
    row = df.index[(df["cohort"] == T0 + 4) & (df["year"] == T0 + 6)][0]  # mid-spell
    df.loc[row, "d"] = 0
    with pytest.raises(InvalidParameterError, match="switches off"):
        event_study(df, "y", entity="unit", time="year", treatment="d")


def test_event_study_plot_and_table_round_trip(tmp_path):
    df = staggered(noise=0.5, seed=16)
    res = _quiet(event_study, df, "y", entity="unit", time="year", cohort="cohort",
                 estimator="sun-abraham", window=(-3, 3))  # fmt: skip
    plot = res.plot()
    assert plot.kind == "event_study"
    pd.testing.assert_frame_equal(plot.data, res.event_table())
    written = plot.save(tmp_path / "es")
    assert written["png"].stat().st_size > 10_000
    plot.close()
