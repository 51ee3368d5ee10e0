"""fit_glm: the collapsed fit reproduces row-level logit/Poisson fits exactly.

References are independent row-level fits: statsmodels ``GLM``/``Logit`` on a dummy matrix built
with ``pd.get_dummies`` (not formulaic, which fit_glm uses), and pyfixest ``feglm``/``fepois``
with the fixed effects absorbed. Small-sample factors are checked against their formulas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models.glm import collapse as collapse_mod
from icsresearch.models.glm import fit_glm

# pyfixest 0.60 (the reference fits below call it directly) uses a pandas keyword that pandas
# deprecates; that is not the package's code, so it may not fail -W error::DeprecationWarning
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")

REGRESSORS = ["band", "age_group", "sex", "ppn"]
FORMULA = "died ~ band + age_group + sex + ppn"
FE = ["hospital", "period"]


def simulate_logit(n: int = 20_000, seed: int = 11, n_hosp: int = 12, n_period: int = 5):
    """Patient rows: discrete staffing band, patients per nurse (integer), age group and sex."""
    rng = np.random.default_rng(seed)
    hospitals = np.array([f"R{i:02d}" for i in range(n_hosp)])
    h = rng.integers(0, n_hosp, n)
    ppn = rng.integers(4, 11, n)  # patients per registered nurse
    band = np.where(ppn <= 6, "good", np.where(ppn <= 8, "mid", "poor"))
    age = rng.integers(0, 4, n)
    male = rng.random(n) < 0.5
    eta = (
        -2.5
        + rng.normal(0, 0.4, n_hosp)[h]
        + np.log(1 / 0.93) * ppn
        + 0.1 * (band == "poor")
        + np.array([0.0, 0.5, 0.9, 1.4])[age]
        + 0.2 * male
    )
    df = pd.DataFrame(
        {
            "hospital": hospitals[h],
            "period": rng.integers(0, n_period, n),
            "band": pd.Categorical(band, categories=["good", "mid", "poor"]),
            "age_group": pd.Categorical.from_codes(age, ["18-64", "65-74", "75-84", "85+"]),
            "sex": np.where(male, "M", "F"),
            "ppn": ppn,
        }
    )
    # The period effect uses the period actually stored.
    eta = eta + 0.08 * df["period"].to_numpy()
    df["died"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return df


@pytest.fixture(scope="module")
def logit_data():
    return simulate_logit()


def reference_design(df: pd.DataFrame, fes=FE, regressors=REGRESSORS) -> pd.DataFrame:
    """Row-level dummy matrix built without formulaic; columns named as fit_glm names terms."""
    cols = {"const": np.ones(len(df))}
    for v in regressors:
        s = df[v]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or s.dtype == "str":
            levels = list(s.cat.categories) if hasattr(s, "cat") else sorted(s.unique())
            for lev in levels[1:]:
                cols[f"{v}[T.{lev}]"] = (s == lev).to_numpy(float)
        else:
            cols[v] = s.to_numpy(float)
    for fe in fes:
        levels = sorted(df[fe].unique())
        for lev in levels[1:]:
            cols[f"fe_{fe}_{lev}"] = (df[fe] == lev).to_numpy(float)
    return pd.DataFrame(cols, index=df.index)


def sm_glm(df, family, vcov, cluster=None, offset=None, outcome="died", **kw):
    import statsmodels.api as sm

    X = reference_design(df, **kw)
    fam = sm.families.Binomial() if family == "logit" else sm.families.Poisson()
    model = sm.GLM(df[outcome].to_numpy(float), X, family=fam, offset=offset)
    if vcov == "iid":
        return model.fit(tol=1e-13)
    if vcov == "hetero":
        return model.fit(tol=1e-13, cov_type="HC0")
    groups = pd.factorize(df[cluster])[0]
    return model.fit(
        tol=1e-13,
        cov_type="cluster",
        cov_kwds={"groups": groups, "use_correction": False, "df_correction": False},
    )


def assert_close(ours: pd.Series, ref: pd.Series, rtol: float):
    ref = ref[ours.index]
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=rtol, atol=0)


# --- exactness against statsmodels ----------------------------------------------------------------


@pytest.mark.parametrize("vcov", ["iid", "hetero", "CRV1"])
def test_collapsed_logit_equals_row_level_statsmodels(logit_data, vcov):
    cluster = "hospital" if vcov == "CRV1" else None
    res = fit_glm(
        logit_data,
        FORMULA,
        family="logit",
        fixed_effects=FE,
        vcov=vcov,
        cluster=cluster,
        method="collapsed",
        small_sample="none",
    )
    assert res.extra["method"] == "collapsed"
    assert res.extra["n_cells"] < len(logit_data) / 4  # the point: far fewer cells than rows
    assert res.nobs == len(logit_data)
    ref = sm_glm(logit_data, "logit", vcov, cluster)
    assert_close(res.params, ref.params, 1e-8)
    assert_close(res.bse, ref.bse, 1e-6)
    assert res.extra["loglik"] == pytest.approx(ref.llf, rel=1e-10)


def test_statsmodels_logit_with_dummies_agrees(logit_data):
    import statsmodels.api as sm

    X = reference_design(logit_data)
    ref = sm.Logit(logit_data["died"].to_numpy(float), X).fit(disp=0, method="newton", tol=1e-12)
    res = fit_glm(logit_data, FORMULA, fixed_effects=FE)
    assert_close(res.params, ref.params, 1e-8)
    assert_close(res.bse, ref.bse, 1e-6)
    assert res.rsquared["pseudo"] == pytest.approx(ref.prsquared, rel=1e-8)


def test_grouped_data_sandwich_is_not_the_row_level_one(logit_data):
    """The naive robust SE of a binomial GLM on cells differs: fit_glm does not use it."""
    import statsmodels.api as sm

    keys = REGRESSORS + FE
    cells = logit_data.groupby(keys, observed=True)["died"].agg(["sum", "count"]).reset_index()
    X = reference_design(cells)
    endog = np.column_stack([cells["sum"], cells["count"] - cells["sum"]])
    naive = sm.GLM(endog, X, family=sm.families.Binomial()).fit(cov_type="HC0", tol=1e-13)
    res = fit_glm(logit_data, FORMULA, fixed_effects=FE, vcov="hetero", small_sample="none")
    assert_close(res.params, naive.params, 1e-8)  # same MLE
    ratio = res.bse / naive.bse[res.bse.index]
    assert (np.abs(ratio - 1) > 0.01).any()


def test_small_sample_factors_follow_stata(logit_data):
    kw = dict(data=logit_data, formula=FORMULA, fixed_effects=FE)
    n, g = len(logit_data), logit_data["hospital"].nunique()
    for vcov, cluster, factor in [
        ("iid", None, 1.0),
        ("hetero", None, n / (n - 1)),  # Stata ML vce(robust)
        ("CRV1", "hospital", g / (g - 1)),  # Stata ML vce(cluster)
    ]:
        stata = fit_glm(**kw, vcov=vcov, cluster=cluster)
        raw = fit_glm(**kw, vcov=vcov, cluster=cluster, small_sample="none")
        np.testing.assert_allclose(stata.cov.to_numpy(), factor * raw.cov.to_numpy(), rtol=1e-12)
        assert stata.extra["small_sample_factor"] == pytest.approx(factor)


def test_statsmodels_default_cluster_correction_differs_by_its_formula(logit_data):
    """statsmodels' default cluster SEs add (N-1)/(N-K), K counting every dummy: documented."""
    import statsmodels.api as sm

    X = reference_design(logit_data)
    groups = pd.factorize(logit_data["hospital"])[0]
    ref = sm.GLM(logit_data["died"].to_numpy(float), X, family=sm.families.Binomial()).fit(
        tol=1e-13, cov_type="cluster", cov_kwds={"groups": groups}
    )
    raw = fit_glm(logit_data, FORMULA, fixed_effects=FE, cluster="hospital", small_sample="none")
    n, k, g = len(logit_data), X.shape[1], len(np.unique(groups))
    expected = raw.bse * np.sqrt(g / (g - 1) * (n - 1) / (n - k))
    assert_close(expected, ref.bse, 1e-6)


# --- against pyfixest and between our two paths ---------------------------------------------------


@pytest.mark.parametrize("vcov", ["iid", "hetero", "CRV1"])
def test_collapsed_equals_pyfixest_feglm(logit_data, vcov):
    import pyfixest as pf

    pf_vcov = {"iid": "iid", "hetero": "hetero", "CRV1": {"CRV1": "hospital"}}[vcov]
    ref = pf.feglm(
        "died ~ band + age_group + sex + ppn | hospital + period",
        logit_data,
        family="logit",
        vcov=pf_vcov,
        ssc=pf.ssc(k_adj=False, G_adj=False),
        iwls_tol=1e-12,
        demeaner=pf.MapDemeaner(fixef_tol=1e-12),
    )
    res = fit_glm(
        logit_data,
        FORMULA,
        fixed_effects=FE,
        vcov=vcov,
        cluster="hospital" if vcov == "CRV1" else None,
        small_sample="none",
    )
    assert_close(res.params, ref.coef(), 1e-8)
    assert_close(res.bse, ref.se(), 1e-6)


def test_pyfixest_default_hetero_factor_counts_fixed_effects(logit_data):
    """pyfixest's default ssc() scales hetero SEs by N/(N-K), K = slopes + FE levels - (n_fe-1)."""
    import pyfixest as pf

    ref = pf.feglm(
        "died ~ band + age_group + sex + ppn | hospital + period",
        logit_data,
        family="logit",
        vcov="hetero",
        iwls_tol=1e-12,
        demeaner=pf.MapDemeaner(fixef_tol=1e-12),
    )
    raw = fit_glm(logit_data, FORMULA, fixed_effects=FE, vcov="hetero", small_sample="none")
    n = len(logit_data)
    k = len(raw.params) + logit_data["hospital"].nunique() + logit_data["period"].nunique() - 1
    assert_close(raw.bse * np.sqrt(n / (n - k)), ref.se(), 1e-6)


@pytest.mark.parametrize("vcov", ["iid", "hetero", "CRV1"])
def test_rows_method_equals_collapsed(logit_data, vcov):
    kw = dict(fixed_effects=FE, vcov=vcov, cluster="hospital" if vcov == "CRV1" else None)
    a = fit_glm(logit_data, FORMULA, method="collapsed", **kw)
    b = fit_glm(logit_data, FORMULA, method="rows", **kw)
    assert (a.extra["method"], b.extra["method"]) == ("collapsed", "rows")
    assert_close(a.params, b.params, 1e-8)
    assert_close(a.bse, b.bse, 1e-6)
    assert a.nobs == b.nobs == len(logit_data)
    assert a.extra["loglik"] == pytest.approx(b.extra["loglik"], rel=1e-9)


def test_fixed_effects_after_bar_equal_argument(logit_data):
    a = fit_glm(logit_data, FORMULA + " | hospital + period")
    b = fit_glm(logit_data, FORMULA, fixed_effects=FE)
    pd.testing.assert_series_equal(a.params, b.params)
    assert a.fixed_effects == ("hospital", "period")


def test_no_fixed_effects_reports_intercept(logit_data):
    res = fit_glm(logit_data, FORMULA, vcov="hetero", small_sample="none")
    ref = sm_glm(logit_data, "logit", "hetero", fes=[])
    assert "Intercept" in res.params.index
    ref_params = ref.params.rename({"const": "Intercept"})
    ref_bse = ref.bse.rename({"const": "Intercept"})
    assert_close(res.params, ref_params, 1e-8)
    assert_close(res.bse, ref_bse, 1e-6)


# --- Poisson --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def poisson_data():
    rng = np.random.default_rng(5)
    n = 15_000
    df = pd.DataFrame(
        {
            "hospital": rng.choice([f"H{i}" for i in range(8)], n),
            "period": rng.integers(0, 4, n),
            "band": pd.Categorical(rng.choice(["good", "mid", "poor"], n)),
            "sex": rng.choice(["F", "M"], n),
            # Exposure varies within every cell: the exact robust meat needs sum t^2 and sum t*y.
            "bed_days": rng.uniform(0.5, 12.0, n),
        }
    )
    h = df["hospital"].str[1:].astype(int).to_numpy()
    rate = np.exp(
        -2.0 + rng.normal(0, 0.4, 8)[h] + 0.25 * (df["band"] == "poor") + 0.1 * df["period"]
    )
    # Over-dispersed counts, so robust and model-based SEs differ.
    df["falls"] = rng.poisson(df["bed_days"] * rate * rng.gamma(2.0, 0.5, n))
    return df


@pytest.mark.parametrize("vcov", ["iid", "hetero", "CRV1"])
def test_collapsed_poisson_with_exposure_equals_statsmodels(poisson_data, vcov):
    cluster = "hospital" if vcov == "CRV1" else None
    res = fit_glm(
        poisson_data,
        "falls ~ band + sex",
        family="poisson",
        fixed_effects=FE,
        exposure="bed_days",
        vcov=vcov,
        cluster=cluster,
        small_sample="none",
    )
    assert res.extra["method"] == "collapsed"
    ref = sm_glm(
        poisson_data,
        "poisson",
        vcov,
        cluster,
        offset=np.log(poisson_data["bed_days"].to_numpy()),
        outcome="falls",
        regressors=["band", "sex"],
    )
    assert_close(res.params, ref.params, 1e-8)
    assert_close(res.bse, ref.bse, 1e-6)
    assert res.extra["loglik"] == pytest.approx(ref.llf, rel=1e-10)


def test_poisson_offset_equals_exposure_and_pyfixest(poisson_data):
    import pyfixest as pf

    df = poisson_data.assign(log_days=np.log(poisson_data["bed_days"]))
    a = fit_glm(df, "falls ~ band + sex", "poisson", fixed_effects=FE, exposure="bed_days",
                cluster="hospital", small_sample="none")  # fmt: skip
    b = fit_glm(df, "falls ~ band + sex", "poisson", fixed_effects=FE, offset="log_days",
                cluster="hospital", small_sample="none", method="rows")  # fmt: skip
    ref = pf.fepois(
        "falls ~ band + sex | hospital + period",
        df,
        offset="log_days",
        vcov={"CRV1": "hospital"},
        ssc=pf.ssc(k_adj=False, G_adj=False),
        iwls_tol=1e-12,
        demeaner=pf.MapDemeaner(fixef_tol=1e-12),
    )
    assert_close(a.params, ref.coef(), 1e-8)
    assert_close(a.bse, ref.se(), 1e-6)
    assert_close(b.params, a.params, 1e-8)
    assert_close(b.bse, a.bse, 1e-6)


def test_poisson_fixed_effect_with_no_events_is_dropped_like_pyfixest(poisson_data):
    import pyfixest as pf

    df = poisson_data.copy()
    df.loc[df["hospital"] == "H3", "falls"] = 0
    res = fit_glm(df, "falls ~ band + sex", "poisson", fixed_effects=FE, exposure="bed_days")
    n_h3 = int((df["hospital"] == "H3").sum())
    assert res.extra["separated_levels"] == {"hospital": ["H3"]}
    assert res.extra["n_dropped_separation"] == n_h3
    assert res.nobs == len(df) - n_h3
    assert any("H3" in w for w in res.warnings)
    ref = pf.fepois(
        "falls ~ band + sex | hospital + period",
        df.assign(log_days=np.log(df["bed_days"])),
        offset="log_days",
        iwls_tol=1e-12,
        demeaner=pf.MapDemeaner(fixef_tol=1e-12),
    )
    assert res.nobs == ref._N
    assert_close(res.params, ref.coef(), 1e-8)


# --- planted parameters ---------------------------------------------------------------------------


def test_planted_odds_ratio_recovered():
    """An odds ratio of 0.93 per one fewer patient per nurse is recovered (1/OR per extra one)."""
    covered = 0
    for seed in range(20):
        df = simulate_logit(n=20_000, seed=100 + seed)
        res = fit_glm(df, FORMULA, fixed_effects=FE, cluster="hospital")
        row = res.tidy(exponentiate=True).set_index("term").loc["ppn"]
        # one fewer patient per nurse: the reciprocal of the per-extra-patient odds ratio
        lo, hi = 1 / row["ci_high"], 1 / row["ci_low"]
        covered += lo <= 0.93 <= hi
        if seed == 0:  # the deterministic seed: its CI covers the planted value
            assert lo <= 0.93 <= hi
            assert row["estimate"] == pytest.approx(np.exp(res.params["ppn"]))
    assert covered >= 16  # nominal 95%: 19 of 20 expected


# --- method choice --------------------------------------------------------------------------------


def test_auto_falls_back_to_rows_with_a_continuous_covariate(logit_data):
    df = logit_data.assign(los=np.random.default_rng(3).gamma(2.0, 2.5, len(logit_data)))
    res = fit_glm(df, FORMULA + " + los", fixed_effects=FE, vcov="hetero", small_sample="none")
    assert res.extra["method"] == "rows"
    assert "los" in res.extra["method_reason"]
    ref = sm_glm(df, "logit", "hetero", regressors=REGRESSORS + ["los"])
    assert_close(res.params, ref.params, 1e-7)
    assert_close(res.bse, ref.bse, 1e-6)


def test_auto_rule_for_numeric_columns(logit_data):
    df = logit_data.assign(day=np.random.default_rng(4).integers(0, 60, len(logit_data)))
    assert fit_glm(df, FORMULA, fixed_effects=FE).extra["method"] == "collapsed"
    assert fit_glm(df, "died ~ day", fixed_effects=FE).extra["method"] == "rows"  # 60 > 50
    res = fit_glm(df, "died ~ day", fixed_effects=FE, max_levels=60)
    assert res.extra["method"] == "collapsed"
    # a float column with few values is discrete too
    res = fit_glm(df.assign(ppn=df["ppn"].astype(float)), FORMULA, fixed_effects=FE)
    assert res.extra["method"] == "collapsed"


def test_auto_fits_rows_when_collapsing_gains_little(logit_data):
    df = logit_data.assign(week=np.arange(len(logit_data)) % 40)
    res = fit_glm(df, FORMULA + " + C(week)", fixed_effects=FE)
    assert res.extra["method"] == "rows"
    assert "cells" in res.extra["method_reason"]


def test_stateful_transform_is_not_collapsed(logit_data):
    res = fit_glm(logit_data, "died ~ center(ppn) + sex", fixed_effects=FE)
    assert res.extra["method"] == "rows"
    # centring moves only the intercept, absorbed by the fixed effects
    plain = fit_glm(logit_data, "died ~ ppn + sex", fixed_effects=FE)
    assert res.params["center(ppn)"] == pytest.approx(plain.params["ppn"], rel=1e-8)
    with pytest.raises(InvalidParameterError, match="center"):
        fit_glm(logit_data, "died ~ center(ppn) + sex", fixed_effects=FE, method="collapsed")


def test_collapse_paths_agree(monkeypatch, logit_data):
    """The sort-based and compressed key paths give the same cells as the dense one."""
    cols = [collapse_mod.encode_column(logit_data[c]) for c in REGRESSORS + FE]
    y = logit_data["died"].to_numpy(float)
    dense = collapse_mod.collapse(cols, y)
    monkeypatch.setattr(collapse_mod, "_DENSE_KEY_SPACE", 4)
    sparse = collapse_mod.collapse(cols, y)
    ref = logit_data.groupby(REGRESSORS + FE, observed=True)["died"].agg(["sum", "count"])
    for cells in (dense, sparse):
        got = cells.keys.assign(sum=cells.stats["y"], count=cells.stats["n"])
        got = got.set_index(REGRESSORS + FE).sort_index()
        assert len(got) == len(ref)
        np.testing.assert_array_equal(got["sum"].to_numpy(), ref.sort_index()["sum"].to_numpy())
        np.testing.assert_array_equal(got["count"].to_numpy(), ref.sort_index()["count"].to_numpy())


# --- data problems --------------------------------------------------------------------------------


def test_separated_hospital_is_dropped_and_named(logit_data):
    df = logit_data.copy()
    df.loc[df["hospital"] == "R04", "died"] = 0
    df.loc[df["hospital"] == "R07", "died"] = 1
    res = fit_glm(df, FORMULA, fixed_effects=FE, cluster="hospital")
    assert sorted(res.extra["separated_levels"]["hospital"]) == ["R04", "R07"]
    dropped = df["hospital"].isin(["R04", "R07"])
    assert res.extra["n_dropped_separation"] == int(dropped.sum())
    assert res.nobs == int((~dropped).sum())
    assert res.n_groups["hospital"] == df["hospital"].nunique() - 2
    assert any("R04" in w and "R07" in w for w in res.warnings)
    assert res.sample.equals(df.index[~dropped])
    rows = fit_glm(df, FORMULA, fixed_effects=FE, cluster="hospital", method="rows")
    assert rows.extra["separated_levels"] == res.extra["separated_levels"]
    assert_close(rows.params, res.params, 1e-8)
    ref = sm_glm(df[~dropped], "logit", "CRV1", "hospital")
    g = df.loc[~dropped, "hospital"].nunique()
    assert_close(res.params, ref.params, 1e-8)
    assert_close(res.bse, ref.bse * np.sqrt(g / (g - 1)), 1e-6)


def test_missing_values_are_dropped(logit_data):
    df = logit_data.copy()
    df["band"] = df["band"].astype(object)
    df.loc[df.index[:37], "band"] = None
    df.loc[df.index[50:53], "died"] = np.nan
    res = fit_glm(df, FORMULA, fixed_effects=FE)
    assert res.nobs == len(df) - 40
    assert res.extra["n_dropped_missing"] == 40
    ref = fit_glm(df.dropna(subset=["band", "died"]), FORMULA, fixed_effects=FE)
    pd.testing.assert_series_equal(res.params, ref.params)


def test_regressor_collinear_with_fixed_effects_is_dropped(logit_data):
    teaching = {f"R{i:02d}": i % 3 == 0 for i in range(12)}
    df = logit_data.assign(teaching=logit_data["hospital"].map(teaching))
    for method in ("collapsed", "rows"):
        res = fit_glm(df, FORMULA + " + teaching", fixed_effects=FE, method=method)
        assert "teaching" not in " ".join(res.params.index)
        assert any("teaching" in w for w in res.warnings), method
        base = fit_glm(df, FORMULA, fixed_effects=FE, method=method)
        assert_close(res.params, base.params, 1e-8)


def test_bool_outcome_and_exponentiated_tidy(logit_data):
    a = fit_glm(logit_data.assign(died=logit_data["died"].astype(bool)), FORMULA, fixed_effects=FE)
    b = fit_glm(logit_data, FORMULA, fixed_effects=FE)
    pd.testing.assert_series_equal(a.params, b.params)
    tidy = a.tidy(exponentiate=True).set_index("term")
    np.testing.assert_allclose(tidy["estimate"], np.exp(a.params))
    assert a.dist == "normal" and a.df_resid is None


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (None, {"formula": "died ~ bnad + sex"}, r"'bnad'.*did you mean 'band'"),
        (None, {"fixed_effects": ["hosptial"]}, r"fixed-effect column 'hosptial'"),
        ({"died": 2}, {}, r"'died' must be binary.*e\.g\. 2"),
        (None, {"family": "probit"}, r"family='probit'"),
        (None, {"vcov": "CRV1"}, r"needs cluster="),
        (None, {"cluster": "hospital", "vcov": "iid"}, r"vcov='iid' does not cluster"),
        (None, {"vcov": "CRV3", "cluster": "hospital"}, r"fit_glm does not support vcov='CRV3'"),
        (None, {"cluster": ["hospital", "period"]}, r"one cluster variable"),
        (None, {"convention": "plm"}, r"supports convention='stata'"),
        (None, {"small_sample": "full"}, r"small_sample='default', small_sample='none'"),
        (None, {"alpha": 0}, r"alpha=0"),
        (None, {"method": "fast"}, r"method='fast'"),
        (None, {"offset": "ppn"}, r"family='poisson' only"),
        (None, {"formula": "died ~ band + hospital"}, r"both a regressor and a fixed effect"),
        (None, {"formula": "died + band"}, r"exactly one '~'"),
    ],
)
def test_bad_input_gives_clear_errors(logit_data, change, kwargs, match):
    df = logit_data.copy()
    if change:
        for col, value in change.items():
            df.loc[df.index[:3], col] = value
    args = {"formula": FORMULA, "fixed_effects": FE, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        fit_glm(df, **args)


def test_poisson_bad_input(poisson_data):
    df = poisson_data.copy()
    df.loc[df.index[:4], "falls"] = -1
    with pytest.raises(InvalidParameterError, match=r"non-negative count.*4 rows"):
        fit_glm(df, "falls ~ band", "poisson", fixed_effects=FE)
    df = poisson_data.copy()
    df.loc[df.index[:2], "bed_days"] = 0.0
    with pytest.raises(InvalidParameterError, match=r"exposure column 'bed_days' must be positive"):
        fit_glm(df, "falls ~ band", "poisson", exposure="bed_days")
    with pytest.raises(InvalidParameterError, match="not both"):
        fit_glm(poisson_data, "falls ~ band", "poisson", exposure="bed_days", offset="bed_days")


def test_separated_regressor_level_is_an_error(logit_data):
    df = logit_data.copy()
    df.loc[df["age_group"] == "18-64", "died"] = 0
    with pytest.raises(InvalidParameterError, match=r"Level '18-64' of regressor 'age_group'"):
        fit_glm(df, FORMULA, fixed_effects=FE)


def test_string_outcome_and_no_variation(logit_data):
    with pytest.raises(InvalidParameterError, match="numeric or boolean"):
        fit_glm(logit_data.assign(died="yes"), FORMULA)
    with pytest.raises(InvalidParameterError, match="every row"):
        fit_glm(logit_data.assign(died=0), "died ~ sex")


# --- real data ------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_ae_breach_rates_collapsed_equals_rows():
    """NHS England A&E, Apr 2016 - Mar 2019: 4-hour breaches per attendance by department type.

    Poisson with trust and month fixed effects and attendances as exposure. Trusts with no
    breach in any month (mostly minor-injury units) are dropped, as pyfixest does; which ones is
    checked against a pandas groupby of the reader's table.
    """
    import pyfixest as pf

    from icsresearch import sources

    ae = sources.read("ae_monthly")
    ae = ae[ae["attendances"] > 0].assign(month=ae["period"].dt.strftime("%Y-%m"))
    res = fit_glm(ae, "breaches ~ department_type", "poisson", fixed_effects=["trust_code", "month"],
                  exposure="attendances", cluster="trust_code", small_sample="none",
                  method="collapsed")  # fmt: skip
    # Already aggregated: one row per cell, so "auto" would fit the rows (nothing to gain).
    auto = fit_glm(ae, "breaches ~ department_type", "poisson", fixed_effects=["trust_code", "month"],
                   exposure="attendances")  # fmt: skip
    assert auto.extra["method"] == "rows" and "cells" in auto.extra["method_reason"]
    by_trust = ae.groupby("trust_code")["breaches"].sum()
    no_breach = sorted(by_trust.index[by_trust == 0])
    assert sorted(res.extra["separated_levels"]["trust_code"]) == no_breach
    assert res.nobs == int((~ae["trust_code"].isin(no_breach)).sum())
    rows = fit_glm(ae, "breaches ~ department_type", "poisson", fixed_effects=["trust_code", "month"],
                   exposure="attendances", cluster="trust_code", small_sample="none", method="rows")  # fmt: skip
    assert (res.extra["method"], rows.extra["method"]) == ("collapsed", "rows")
    assert_close(res.params, rows.params, 1e-8)
    assert_close(res.bse, rows.bse, 1e-6)
    ref = pf.fepois("breaches ~ department_type | trust_code + month",
                    ae.assign(log_att=np.log(ae["attendances"])), offset="log_att",
                    vcov={"CRV1": "trust_code"}, ssc=pf.ssc(k_adj=False, G_adj=False), fixef_rm="none",
                    iwls_tol=1e-12, demeaner=pf.MapDemeaner(fixef_tol=1e-12))  # fmt: skip
    assert res.nobs == ref._N
    assert_close(res.params, ref.coef(), 1e-7)
    assert_close(res.bse, ref.se(), 1e-6)


def test_quasi_separation_in_an_interaction_is_flagged(logit_data):
    """Every main level has deaths, but one combination has none: its coefficient is infinite."""
    df = logit_data.copy()
    df.loc[(df["band"] == "poor") & (df["sex"] == "M"), "died"] = 0
    for method in ("collapsed", "rows"):
        try:
            res = fit_glm(df, "died ~ band * sex + age_group", fixed_effects=FE, method=method)
        except InvalidParameterError as exc:  # singular information: also an acceptable answer
            assert "separation" in str(exc)
            continue
        assert any("quasi-separation" in w for w in res.warnings), method
        assert res.params["band[T.poor]:sex[T.M]"] < -10
