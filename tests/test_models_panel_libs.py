"""Parity with the Python libraries that implement the same estimators.

- pyfixest (= R fixest defaults) for the Stata convention: CRV1 one- and two-way, HC1 ("hetero"),
  iid, weighted fixed effects, and CRV3;
- linearmodels: PanelOLS (within, weights, CR0 clustered), BetweenOLS, RandomEffects (balanced),
  FirstDifferenceOLS, and its Driscoll-Kraay ("kernel") meat;
- statsmodels: pooled OLS with HC1 and cluster-robust covariances.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyfixest as pf
import pytest

from icsresearch.models import fit
from test_models_panel_data import sim_balanced, sim_panel

KW = {"entity": "entity", "time": "year"}
FML = "y ~ x1 + x2"


@pytest.fixture(scope="module")
def sim():
    return sim_panel()


@pytest.fixture(scope="module")
def sim_complete(sim):
    return sim.dropna(subset=["x2"]).reset_index(drop=True)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


FE = {"entity": "entity", "twoways": "entity + year", "time": "year"}
VCOVS = [
    ({"CRV1": "entity"}, {"vcov": "CRV1", "cluster": "entity"}),
    ({"CRV1": "ics"}, {"vcov": "CRV1", "cluster": "ics"}),
    ({"CRV1": "year"}, {"vcov": "CRV1", "cluster": "year"}),
    ({"CRV1": "entity+year"}, {"vcov": "CRV1", "cluster": ["entity", "year"]}),
    ("hetero", {"vcov": "hetero"}),
    ("iid", {"vcov": "iid"}),
]


@pytest.mark.parametrize("effects", list(FE))
@pytest.mark.parametrize(("pf_vcov", "ours"), VCOVS, ids=[str(v[0]) for v in VCOVS])
def test_stata_convention_matches_pyfixest(sim, sim_complete, effects, pf_vcov, ours):
    m = pf.feols(f"{FML} | {FE[effects]}", data=sim_complete, vcov=pf_vcov, fixef_tol=1e-14)
    r = fit(sim, FML, model="within", effects=effects, convention="stata", **ours, **KW)
    assert rel(r.params[["x1", "x2"]], m.coef()[["x1", "x2"]]) < 1e-8
    assert rel(r.bse[["x1", "x2"]], m.se()[["x1", "x2"]]) < 1e-6
    assert r.df_resid == pytest.approx(float(m._df_t))
    np.testing.assert_allclose(
        r.pvalues[["x1", "x2"]].to_numpy(),
        m.pvalue()[["x1", "x2"]].to_numpy(),
        rtol=1e-5,
        atol=1e-12,
    )


@pytest.mark.parametrize("effects", list(FE))
def test_weighted_within_matches_pyfixest(sim, sim_complete, effects):
    m = pf.feols(
        f"{FML} | {FE[effects]}",
        data=sim_complete,
        vcov={"CRV1": "entity"},
        weights="w",
        fixef_tol=1e-14,
    )
    r = fit(
        sim, FML, model="within", effects=effects, weights="w", convention="stata",
        vcov="CRV1", **KW,
    )  # fmt: skip
    assert rel(r.params, m.coef()[["x1", "x2"]]) < 1e-8
    assert rel(r.bse, m.se()[["x1", "x2"]]) < 1e-6


def test_pooled_and_weighted_pooled_match_pyfixest(sim, sim_complete):
    for weights in (None, "w"):
        m = pf.feols(FML, data=sim_complete, vcov={"CRV1": "ics"}, weights=weights)
        r = fit(
            sim, FML, model="pooled", weights=weights, vcov="CRV1", cluster="ics",
            convention="stata", **KW,
        )  # fmt: skip
        assert rel(r.params.to_numpy(), m.coef().to_numpy()) < 1e-8
        assert rel(r.bse.to_numpy(), m.se().to_numpy()) < 1e-6


def test_cr3_matches_pyfixest_crv3(sim, sim_complete):
    """pyfixest's CRV3 = its CR1 factor x sum of squared jackknife deviations (refitting all
    fixed effects); ours = (G-1)/G x the same sum. Two-way effects: the time effects are not
    nested in the ICS clusters, so the exact jackknife must re-estimate them."""
    effects = "twoways"
    m = pf.feols(f"{FML} | {FE[effects]}", data=sim_complete, vcov={"CRV3": "ics"})
    r = fit(sim, FML, model="within", effects=effects, vcov="CRV3", cluster="ics", **KW)
    G = 42
    jack_sum = np.asarray(m._vcov) / float(np.ravel(m._ssc)[0])
    np.testing.assert_allclose(r.cov.to_numpy(), jack_sum * (G - 1) / G, rtol=1e-8)


# --- linearmodels -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lm_panel(sim_complete):
    return sim_complete.set_index(["entity", "year"])


def test_linearmodels_panelols(sim, lm_panel):
    from linearmodels.panel import PanelOLS

    lm = PanelOLS.from_formula(f"{FML} + EntityEffects", lm_panel).fit(
        cov_type="clustered", cluster_entity=True, debiased=False
    )
    r = fit(sim, FML, model="within", vcov="CRV1", small_sample="none", **KW)
    assert rel(r.params, lm.params) < 1e-8
    assert rel(r.bse, lm.std_errors) < 1e-6  # entity effects nested in clusters: plain CR0
    # with time effects (not nested in entity clusters) linearmodels scales CR0 by N/(N - a),
    # a = n + T - 1 absorbed effects
    lm2 = PanelOLS.from_formula(f"{FML} + EntityEffects + TimeEffects", lm_panel).fit(
        cov_type="clustered", cluster_entity=True, debiased=False
    )
    r2 = fit(
        sim, FML, model="within", effects="twoways", vcov="CRV1", small_sample="none",
        **KW,
    )  # fmt: skip
    assert rel(r2.params, lm2.params) < 1e-8
    N, a = r2.nobs, r2.n_groups["entity"] + r2.n_groups["year"] - 1
    np.testing.assert_allclose((lm2.std_errors / r2.bse) ** 2, N / (N - a), rtol=1e-8)
    lmw = PanelOLS.from_formula(f"{FML} + EntityEffects", lm_panel, weights=lm_panel["w"]).fit()
    rw = fit(sim, FML, model="within", weights="w", **KW)
    assert rel(rw.params, lmw.params) < 1e-8


def test_linearmodels_driscoll_kraay_meat(sim, lm_panel):
    """linearmodels' kernel covariance is the same Driscoll-Kraay meat; it scales by N/(N - a)
    with ``a`` the absorbed entity effects instead of plm's factors."""
    from linearmodels.panel import PanelOLS

    lm = PanelOLS.from_formula(f"{FML} + EntityEffects", lm_panel).fit(
        cov_type="kernel", kernel="bartlett", bandwidth=2, debiased=False
    )
    r = fit(
        sim, FML, model="within", vcov="DK", bandwidth=2, small_sample="none",
        **KW,
    )  # fmt: skip
    ratio = (lm.std_errors / r.bse) ** 2
    N, n = r.nobs, r.n_groups["entity"]
    np.testing.assert_allclose(ratio.to_numpy(), N / (N - n), rtol=1e-8)


def test_linearmodels_between_random_fd(sim, lm_panel):
    from linearmodels.panel import BetweenOLS, FirstDifferenceOLS, RandomEffects

    lb = BetweenOLS.from_formula("y ~ 1 + x1 + x2", lm_panel).fit()
    rb = fit(sim, FML, model="between", **KW)
    assert rel(rb.params, lb.params) < 1e-8
    assert rel(rb.bse, lb.std_errors) < 1e-6
    # random effects: linearmodels' variance components equal plm's Swamy-Arora when balanced
    bal = sim_balanced()
    lr = RandomEffects.from_formula("y ~ 1 + x1 + x2", bal.set_index(["entity", "year"])).fit()
    rr = fit(bal, FML, model="random", **KW)
    assert rel(rr.params, lr.params) < 1e-8
    assert rr.extra["sigma2"]["entity"] == pytest.approx(
        float(lr.variance_decomposition["Effects"]), rel=1e-8
    )
    # first differences without intercept, on the balanced panel (no gaps to disagree about)
    lf = FirstDifferenceOLS.from_formula("y ~ x1 + x2", bal.set_index(["entity", "year"])).fit()
    rf = fit(bal, "y ~ x1 + x2 - 1", model="fd", **KW)
    assert rel(rf.params, lf.params) < 1e-8
    assert rel(rf.bse, lf.std_errors) < 1e-6


# --- statsmodels --------------------------------------------------------------------------


def test_statsmodels_pooled(sim, sim_complete):
    import statsmodels.formula.api as smf

    ols = smf.ols(FML, data=sim_complete)
    hc1 = ols.fit(cov_type="HC1")
    r = fit(sim, FML, model="pooled", vcov="hetero", **KW)
    assert rel(r.params.to_numpy(), hc1.params.to_numpy()) < 1e-8
    assert rel(r.bse.to_numpy(), hc1.bse.to_numpy()) < 1e-6
    groups = sim_complete["ics"].astype("category").cat.codes.to_numpy()
    cl = ols.fit(cov_type="cluster", cov_kwds={"groups": groups})  # G/(G-1) (N-1)/(N-K)
    rc = fit(sim, FML, model="pooled", vcov="CRV1", cluster="ics", **KW)
    assert rel(rc.bse.to_numpy(), cl.bse.to_numpy()) < 1e-6
    wls = smf.wls(FML, data=sim_complete, weights=sim_complete["w"]).fit()
    rw = fit(sim, FML, model="pooled", weights="w", **KW)
    assert rel(rw.params.to_numpy(), wls.params.to_numpy()) < 1e-8
    assert rel(rw.bse.to_numpy(), wls.bse.to_numpy()) < 1e-6
