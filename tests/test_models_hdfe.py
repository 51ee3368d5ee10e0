"""fit_hdfe: HDFE OLS and IV through pyfixest, checked against independent implementations.

Parity targets (coefficients 1e-8 relative, standard errors 1e-6):

- icsresearch.models.fit (own demeaning code, R plm-verified) with ``convention="stata"``, for
  conventional, robust, clustered and CR3 inference (CR3 up to the documented factor);
- statsmodels OLS/WLS with explicit dummy variables (``small_sample="full"`` counts every dummy);
- linearmodels IV2SLS with dummies for 2SLS.

Simulation tests plant effects (an endogenous regressor with a valid instrument; the demo data's
management and managers effects) and check they are recovered.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models import RegressionResult, fit, fit_hdfe, from_pyfixest
from test_models_panel_data import sim_panel

RTOL_B, RTOL_SE = 1e-8, 1e-6
KW = {"entity": "entity", "time": "year"}


@pytest.fixture(scope="module")
def sim():
    return sim_panel()


def _dummies(df: pd.DataFrame, cols, regressors) -> pd.DataFrame:
    """Regressors + intercept + treatment-coded dummies, built without the package's code."""
    X = [df[list(regressors)].astype(float)]
    for c in cols:
        X.append(pd.get_dummies(df[c].astype(str), prefix=c, drop_first=True, dtype=float))
    out = pd.concat(X, axis=1)
    out.insert(0, "const", 1.0)
    return out


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


# --- parity with the project's own within estimator (Stata convention) ----------------------


@pytest.mark.parametrize("vcov", ["iid", "hetero", "CRV1"])
def test_matches_panel_within_twoways_stata_convention(sim, vcov):
    cluster = "entity" if vcov == "CRV1" else None
    a = _quiet(
        fit, sim, "y ~ x1 + x2", model="within", effects="twoways", vcov=vcov, cluster=cluster,
        convention="stata", **KW,
    )  # fmt: skip
    b = _quiet(fit_hdfe, sim, "y ~ x1 + x2 | entity + year", vcov=vcov, cluster=cluster)
    np.testing.assert_allclose(b.params, a.params, rtol=RTOL_B)
    np.testing.assert_allclose(b.bse, a.bse, rtol=RTOL_SE)
    assert b.nobs == a.nobs == 847
    assert b.df_resid == a.df_resid  # G - 1 = 149 clustered, N - K otherwise
    np.testing.assert_allclose(b.pvalues, a.pvalues, rtol=1e-6)


def test_clustered_by_ics_two_way_effects(sim):
    # effects not nested in the clusters (entities span... no: entities are nested in ICSs,
    # years are not): Stata counts the years, not the entities
    a = _quiet(
        fit, sim, "y ~ x1 + x2", model="within", effects="twoways", vcov="CRV1",
        cluster="ics", convention="stata", **KW,
    )  # fmt: skip
    b = _quiet(fit_hdfe, sim, "y ~ x1 + x2 | entity + year", cluster="ics")
    np.testing.assert_allclose(b.bse, a.bse, rtol=RTOL_SE)
    assert b.df_resid == 41
    assert b.n_groups["clusters: ics"] == 42


def test_crv3_is_the_jackknife_with_the_cr1_factor(sim):
    # docs/inference.md: pyfixest's CRV3 = our exact jackknife * CR1 factor / ((G-1)/G)
    a = _quiet(
        fit, sim, "y ~ x1 + x2", model="within", effects="twoways", vcov="CRV3",
        cluster="ics", convention="stata", **KW,
    )  # fmt: skip
    b = _quiet(fit_hdfe, sim, "y ~ x1 + x2 | entity + year", vcov="CRV3", cluster="ics")
    G, N = 42, 847
    K = 2 + 7  # slopes + years (entities, nested in the ICS clusters, count once)
    factor = G / (G - 1) * (N - 1) / (N - K) / ((G - 1) / G)
    np.testing.assert_allclose(b.bse**2, a.bse**2 * factor, rtol=RTOL_SE)
    assert b.extra["k_small_sample"] == K


# --- parity with statsmodels OLS with dummies --------------------------------------------------


@pytest.mark.parametrize("vcov", ["iid", "hetero", "CRV1"])
def test_full_small_sample_matches_statsmodels_dummies(sim, vcov):
    import statsmodels.api as sm

    d = sim.dropna(subset=["x2"]).reset_index(drop=True)
    X = _dummies(d, ["entity", "year"], ["x1", "x2"])
    ols = sm.OLS(d["y"], X)
    ref = {
        "iid": lambda: ols.fit(),
        "hetero": lambda: ols.fit(cov_type="HC1"),
        "CRV1": lambda: ols.fit(cov_type="cluster", cov_kwds={"groups": d["ics"]}),
    }[vcov]()
    res = _quiet(
        fit_hdfe, d, "y ~ x1 + x2 | entity + year", vcov=vcov,
        cluster="ics" if vcov == "CRV1" else None, small_sample="full",
    )  # fmt: skip
    np.testing.assert_allclose(res.params, ref.params[["x1", "x2"]], rtol=RTOL_B)
    np.testing.assert_allclose(res.bse, ref.bse[["x1", "x2"]], rtol=RTOL_SE)
    if vcov == "iid":
        assert res.df_resid == ref.df_resid


def test_weighted_matches_statsmodels_wls(sim):
    import statsmodels.api as sm

    d = sim.dropna(subset=["x2"]).reset_index(drop=True)
    X = _dummies(d, ["entity", "year"], ["x1", "x2"])
    ref = sm.WLS(d["y"], X, weights=d["w"]).fit(cov_type="HC1")
    res = _quiet(
        fit_hdfe, d, "y ~ x1 + x2 | entity + year", vcov="hetero", weights="w",
        small_sample="full",
    )  # fmt: skip
    np.testing.assert_allclose(res.params, ref.params[["x1", "x2"]], rtol=RTOL_B)
    np.testing.assert_allclose(res.bse, ref.bse[["x1", "x2"]], rtol=RTOL_SE)
    assert "weighted" in res.model


def test_no_fixed_effects_is_plain_ols(sim):
    import statsmodels.api as sm

    d = sim.dropna(subset=["x2"])
    ref = sm.OLS(d["y"], sm.add_constant(d[["x1", "x2"]])).fit(cov_type="HC1")
    res = fit_hdfe(d, "y ~ x1 + x2", vcov="hetero")
    np.testing.assert_allclose(res.params, ref.params.to_numpy(), rtol=RTOL_B)
    np.testing.assert_allclose(res.bse, ref.bse.to_numpy(), rtol=RTOL_SE)
    assert res.fixed_effects == ()
    assert list(res.params.index) == ["Intercept", "x1", "x2"]


# --- IV ------------------------------------------------------------------------------------------


def _iv_panel(seed: int = 7) -> pd.DataFrame:
    """Entities x years with an endogenous d (shares the error u) and a valid instrument z."""
    rng = np.random.default_rng(seed)
    n_e, years = 120, np.arange(2012, 2019)
    e = np.repeat(np.arange(n_e), years.size)
    t = np.tile(years, n_e)
    a = rng.normal(size=n_e)[e]
    lam = rng.normal(size=years.size)[t - years[0]]
    z = rng.normal(size=e.size) + 0.5 * a
    u = rng.normal(size=e.size)
    d = 0.8 * z + 0.7 * u + a + rng.normal(size=e.size)
    x = rng.normal(size=e.size)
    y = 1.5 * d - 0.5 * x + 2 * a + lam + u
    return pd.DataFrame(
        {"entity": [f"T{i:03d}" for i in e], "year": t, "ics": [f"Q{i % 30:02d}" for i in e],
         "y": y, "d": d, "x": x, "z": z}
    )  # fmt: skip


def test_iv_matches_linearmodels_2sls_with_dummies():
    from linearmodels.iv import IV2SLS

    df = _iv_panel()
    X = _dummies(df, ["entity", "year"], ["x"])
    ref = IV2SLS(df["y"], X, df[["d"]], df[["z"]]).fit(
        cov_type="clustered", clusters=df["ics"], debiased=True
    )
    res = _quiet(fit_hdfe, df, "y ~ x | entity + year | d ~ z", cluster="ics", small_sample="full")
    np.testing.assert_allclose(res.params[["x", "d"]], ref.params[["x", "d"]], rtol=RTOL_B)
    np.testing.assert_allclose(res.bse[["x", "d"]], ref.std_errors[["x", "d"]], rtol=RTOL_SE)
    assert res.extra["endogenous"] == ["d"] and res.extra["instruments"] == ["z"]
    assert "2SLS" in res.model


def test_iv_recovers_planted_effect_where_ols_is_biased():
    df = _iv_panel(seed=11)
    iv = fit_hdfe(df, "y ~ x | entity + year | d ~ z", cluster="entity")
    ols = fit_hdfe(df, "y ~ x + d | entity + year", cluster="entity")
    assert abs(iv.params["d"] - 1.5) < 2.5 * iv.bse["d"]
    assert abs(iv.params["x"] + 0.5) < 2.5 * iv.bse["x"]
    assert ols.params["d"] - 1.5 > 5 * ols.bse["d"]  # u enters d with +0.7: OLS biased upwards
    fs = iv.extra["first_stage"]["d"]
    # the first-stage F: an independent computation from the within-transformed first stage
    assert fs["F"] > 100 and not any("Weak instrument" in w for w in iv.warnings)


def test_weak_instrument_warns():
    df = _iv_panel()
    rng = np.random.default_rng(3)
    df["noise"] = rng.normal(size=len(df))
    with pytest.warns(UserWarning, match="Weak instrument"):
        res = fit_hdfe(df, "y ~ x | entity + year | d ~ noise", cluster="entity")
    assert res.extra["first_stage"]["d"]["F"] < 10


# --- planted effects of the demo data -------------------------------------------------------------


def test_demo_within_estimates_recover_planted_effects():
    from icsresearch.demo import PLANTED
    from icsresearch.panel import trust_year_panel

    p = trust_year_panel("demo")
    acute = p[p["trust_type"] == "acute non-specialist"]
    res = fit_hdfe(
        acute, "ae_4hr_pct ~ management_score + managers_fte | trust_code + year",
        cluster="trust_code",
    )  # fmt: skip
    b, se = res.params, res.bse
    assert (
        abs(b["management_score"] - PLANTED["management_score_on_ae_4hr_pct"])
        < 2 * se["management_score"]
    )
    assert abs(b["managers_fte"]) < 2 * se["managers_fte"]
    assert res.fixed_effects == ("trust_code", "year")
    # rows dropped for missing values, counted independently
    need = ["ae_4hr_pct", "management_score", "managers_fte", "trust_code", "year"]
    assert res.extra["n_missing"] == int(acute[need].isna().any(axis=1).sum())
    assert res.nobs == len(acute) - res.extra["n_missing"] - res.extra["n_singletons"]
    assert not acute.loc[res.sample, need].isna().any().any()
    assert res.provenance.synthetic is True  # fitted on the demo panel
    assert res.spec.inference.cluster == ("trust_code",) and res.spec.inference.vcov == "CRV1"


# --- singletons, collinearity and bad input -------------------------------------------------------


def test_singletons_dropped_counted_or_refused(sim):
    d = sim.dropna(subset=["x2"]).copy()
    extra = d[d["entity"] == "E001"].head(1).assign(entity="SOLO", year=2015)
    d = pd.concat([d, extra], ignore_index=True)
    res = fit_hdfe(d, "y ~ x1 + x2 | entity + year")
    assert res.extra["n_singletons"] == 1
    assert res.nobs == len(d) - 1
    assert "SOLO" not in set(d.loc[res.sample, "entity"])
    assert any("singleton" in w for w in res.warnings)
    kept = fit_hdfe(d, "y ~ x1 + x2 | entity + year", singletons="keep")
    assert kept.nobs == len(d)
    np.testing.assert_allclose(kept.params, res.params, rtol=1e-10)  # no slope information
    with pytest.raises(InvalidParameterError, match="SOLO") as err:
        fit_hdfe(d, "y ~ x1 + x2 | entity + year", singletons="raise")
    assert "singletons='drop'" in str(err.value)


def test_regressor_collinear_with_fixed_effect_is_a_clear_error(sim):
    d = sim.copy()
    d["ics_num"] = d["ics"].str[1:].astype(float)  # constant within entities
    with pytest.raises(InvalidParameterError, match="'ics_num' does not vary within 'entity'"):
        fit_hdfe(d, "y ~ x1 + ics_num | entity + year")
    with pytest.warns(UserWarning, match="Dropped as collinear"):
        res = fit_hdfe(d, "y ~ x1 + ics_num | entity + year", collinear="drop")
    assert list(res.params.index) == ["x1"]
    assert res.extra["dropped_collinear"] == ["ics_num"]


def test_collinear_endogenous_or_instrument_always_raises():
    df = _iv_panel()
    df["z_entity"] = df.groupby("entity")["z"].transform("mean")
    with pytest.raises(InvalidParameterError, match="IV model unidentified"):
        fit_hdfe(df, "y ~ x | entity + year | d ~ z_entity", collinear="drop")
    df["d_entity"] = df.groupby("entity")["d"].transform("mean")
    with pytest.raises(InvalidParameterError, match="d_entity"):
        fit_hdfe(df, "y ~ x | entity + year | d_entity ~ z", collinear="drop")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"formula": "y ~ x1 | entity + yeer"}, "did you mean 'year'"),
        ({"formula": "y ~ x1 | entity", "cluster": "icss"}, "cluster column 'icss'"),
        ({"formula": "y ~ x1 | entity", "vcov": "CRV1"}, "needs cluster="),
        ({"formula": "y ~ x1 | entity", "vcov": "hetero", "cluster": "ics"}, "cluster="),
        ({"formula": "y ~ x1 | entity", "vcov": "HC7"}, "vcov='HC7'"),
        ({"formula": "y ~ x1 | entity", "vcov": "CRV3", "cluster": ["ics", "year"]}, "one"),
        ({"formula": "y ~ x1 | entity | d ~ z | w"}, "at most two"),
        ({"formula": "y + x2 ~ x1"}, "one outcome"),
        ({"formula": "y ~ 1 | entity | x2 + x1 ~ w + year"}, "supports one"),
        ({"formula": "y ~ 1 | entity | x2 + x1 ~ w"}, "not identified"),
        ({"formula": "y ~ 1 | entity | x2 ~ w + x1", "small_sample": "stata"}, "small_sample"),
        ({"formula": "y ~ x1 + y | entity"}, "also appears"),
        ({"formula": "y x1"}, "must be a string like"),
        ({"formula": "y ~ x1", "alpha": 1.5}, "alpha"),
    ],
)
def test_bad_options_are_clear_errors(sim, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        fit_hdfe(sim, **kwargs)


def test_bad_data_values(sim):
    d = sim.copy()
    d.loc[d.index[4], "x1"] = np.inf
    with pytest.raises(InvalidParameterError, match=r"'x1'.*1 infinite value.*rows 4"):
        fit_hdfe(d, "y ~ x1 | entity")
    d = sim.copy()
    d["w"] = d["w"].where(d.index != 9, -1.0)
    with pytest.raises(InvalidParameterError, match=r"weights column 'w'.*non-positive.*rows 9"):
        fit_hdfe(d, "y ~ x1 | entity", weights="w")
    d = sim.assign(y=sim["y"].astype(str))
    with pytest.raises(InvalidParameterError, match="outcome 'y'.*not numeric"):
        fit_hdfe(d, "y ~ x1 | entity")
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        fit_hdfe(sim.to_numpy(), "y ~ x1")
    with pytest.raises(InvalidParameterError, match="could not fit"):
        fit_hdfe(sim, "y ~ x1 + nosuchfn(x2) | entity")


def test_missing_cluster_values_are_dropped_not_an_error(sim):
    d = sim.copy()
    d.loc[d.index[:5], "ics"] = np.nan
    res = _quiet(fit_hdfe, d, "y ~ x1 + x2 | entity + year", cluster="ics")
    expected = int((d["x2"].isna() | d["ics"].isna()).sum())
    assert res.extra["n_missing"] == expected
    assert res.nobs + expected + res.extra["n_singletons"] == len(d)


def test_from_pyfixest_and_result_type(sim):
    import pyfixest as pf

    m = _quiet(pf.feols, "y ~ x1 + x2 | entity + year", data=sim.dropna(), vcov={"CRV1": "ics"})
    res = from_pyfixest(m)
    assert isinstance(res, RegressionResult)
    np.testing.assert_allclose(res.params, m.coef().to_numpy())
    np.testing.assert_allclose(res.bse, m.se().to_numpy())
    assert res.cov_type == "clustered by ics (CRV1)"
    assert res.n_groups == {"entity": 150, "year": 7, "clusters: ics": 42}
    with pytest.raises(InvalidParameterError, match="pyfixest"):
        from_pyfixest(object())


def test_two_way_clustering(sim):
    import statsmodels.api as sm

    d = sim.dropna(subset=["x2"]).reset_index(drop=True)
    res = _quiet(fit_hdfe, d, "y ~ x1 + x2 | entity", cluster=["ics", "year"])
    assert res.cov_type == "clustered by ics and year (two-way CRV1)"
    assert res.df_resid == 6  # min(G) - 1
    # CGM by hand on the dummy regression: V_ics + V_year - V_ics∩year, CR0 meats, and
    # fixest's single min(G)/(min(G)-1) * (N-1)/(N-K) factor. The entity effects are nested in
    # one of the cluster variables (ics), so fixest/pyfixest count them as one parameter
    X = _dummies(d, ["entity"], ["x1", "x2"]).to_numpy()
    ols = sm.OLS(d["y"].to_numpy(), X).fit()
    u = ols.resid
    bread = np.linalg.inv(X.T @ X)

    def meat(codes):
        S = np.zeros((X.shape[1], X.shape[1]))
        for g in np.unique(codes):
            s = X[codes == g].T @ u[codes == g]
            S += np.outer(s, s)
        return S

    inter = (d["ics"] + "_" + d["year"].astype(str)).to_numpy()
    V = bread @ (meat(d["ics"].to_numpy()) + meat(d["year"].to_numpy()) - meat(inter)) @ bread
    N, Gmin = len(d), 7
    K = 2 + 1
    V *= Gmin / (Gmin - 1) * (N - 1) / (N - K)
    np.testing.assert_allclose(res.bse, np.sqrt(np.diag(V)[1:3]), rtol=RTOL_SE)


# --- the real trust panel -------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_shmi_panel_matches_r_plm_with_stata_factor(mirror):
    from test_models_panel_data import dataset, plm_reference

    data, _ = dataset("real_shmi", mirror)
    ref = plm_reference()["fits"]["real_shmi/within_twoways"]
    res = fit_hdfe(data, "shmi ~ managers_fte | trust_code + year", cluster="trust_code")
    assert res.nobs == ref["nobs"] == 923  # one trust-year without managers FTE dropped
    assert res.extra["n_missing"] == 1 and res.extra["n_singletons"] == 0
    np.testing.assert_allclose(res.params["managers_fte"], ref["coef"]["managers_fte"], rtol=1e-8)
    # R's CR0 sandwich times the Stata/fixest factor: K = 1 slope + 7 years (trusts are nested
    # in the trust clusters and count once), G = 134 (docs/inference.md: SE 1.2277e-04)
    G, N, K = 134, 923, 8
    se = np.sqrt(ref["vcov"]["cluster_group_HC0"][0] * G / (G - 1) * (N - 1) / (N - K))
    np.testing.assert_allclose(res.bse["managers_fte"], se, rtol=RTOL_SE)
    assert round(float(res.bse["managers_fte"]), 8) == 1.2277e-04
    assert res.n_groups["clusters: trust_code"] == G
