"""fit_mixed: random-intercept models against R lme4 and an independent dense-matrix likelihood.

Reference values: ``tests/reference/lme4_reference.json`` written by
``tests/reference/make_lme4_reference.R`` (lme4 1.1-31, estimates polished to ~1e-10) on
``sim_panel.csv``. Tolerances: coefficients 1e-8 relative, standard errors and variance components
1e-6, log-likelihood 1e-6 absolute.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models import fit_mixed
from test_models_panel_data import sim_panel

REFERENCE = json.loads((Path(__file__).parent / "reference" / "lme4_reference.json").read_text())


@pytest.fixture(scope="module")
def sim():
    d = sim_panel()
    d = d[d["x2"].notna()].copy()
    d["ics_num"] = d["ics"].str[1:].astype(float) / 10
    # entity means of y0 are explained exactly by the regressors: the entity variance is 0
    d["y0"] = (
        d["x2"] - d.groupby("entity")["x2"].transform("mean") + 0.5 * d["ics_num"] + (0.3 * d["x1"])
    )
    return d


SPECS = {
    "entity": ("y ~ x1 + x2", "entity"),
    "ics": ("y ~ x1 + x2", "ics"),
    "nested": ("y ~ x1 + x2", ["ics", "entity"]),
    "null_var": ("y0 ~ x1 + ics_num", "entity"),
}


def _fit(*a, **k):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_mixed(*a, **k)
    return res, [str(w.message) for w in caught]


_CACHE: dict = {}


def _spec_fit(sim, name, reml=True):
    """The fits of SPECS, computed once per test session (statsmodels is slow)."""
    if (name, reml) not in _CACHE:
        formula, group = SPECS[name]
        _CACHE[name, reml] = _fit(sim, formula, group=group, reml=reml)
    return _CACHE[name, reml]


@pytest.mark.parametrize("reml", [True, False], ids=["reml", "ml"])
@pytest.mark.parametrize("name", list(SPECS))
def test_matches_lme4(sim, name, reml):
    ref = REFERENCE[f"{name}_{'reml' if reml else 'ml'}"]
    res, _ = _spec_fit(sim, name, reml)
    terms = list(ref["params"])
    assert list(res.params.index) == terms
    np.testing.assert_allclose(res.params[terms], [ref["params"][t] for t in terms], rtol=1e-8)
    np.testing.assert_allclose(res.bse[terms], [ref["se"][t] for t in terms], rtol=1e-6)
    assert res.extra["loglik"] == pytest.approx(ref["loglik"], abs=1e-6)
    assert res.nobs == ref["nobs"] == 847
    vc = res.extra["variance_components"]
    lme4_vc = dict(ref["variance"])
    if "entity:ics" in lme4_vc:  # lme4's name of the nested level
        lme4_vc["entity"] = lme4_vc.pop("entity:ics")
    assert set(vc) == set(lme4_vc)
    for k, v in lme4_vc.items():
        assert vc[k] == pytest.approx(v, rel=1e-6, abs=1e-10)
    # lme4 flags the same singular fits as we do
    assert bool(res.extra["singular"]) == bool(ref["singular"])


def test_singular_fit_is_flagged_and_equals_ols(sim):
    res, caught = _spec_fit(sim, "null_var")
    assert res.extra["singular"] == ["entity"]
    assert res.extra["variance_components"]["entity"] == 0.0
    assert any("entity variance component is ~0" in w for w in caught)
    # the zero-variance check: the mixed estimates are OLS (computed here independently)
    X = np.column_stack([np.ones(len(sim)), sim["x1"], sim["ics_num"]])
    ols = np.linalg.lstsq(X, sim["y0"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(res.params, ols, rtol=1e-10)
    check = res.extra["zero_variance_check"]
    assert check.attrs["reference_model"] == "OLS"
    assert check["difference_in_se"].max() < 1e-6
    # the group-level regressor is estimated, not returned as 0 (statsmodels issue #10239)
    assert res.params["ics_num"] == pytest.approx(REFERENCE["null_var_reml"]["params"]["ics_num"])


def test_nested_with_zero_ics_variance_equals_one_level_model(sim):
    nested, caught = _spec_fit(sim, "nested")
    one, _ = _spec_fit(sim, "entity")
    assert nested.extra["singular"] == ["ics"]
    np.testing.assert_allclose(nested.params, one.params, rtol=1e-9)
    assert nested.extra["zero_variance_check"].attrs["reference_model"] == "other level only"
    assert nested.n_groups == {"ics": 42, "entity": 150}


def test_estimates_survive_statsmodels_failing(sim):
    # L-BFGS alone fails on the singular model (singular matrix / infinite log-likelihood);
    # the profiled likelihood still finds lme4's answer and says what happened
    res, caught = _fit(sim, "y0 ~ x1 + ics_num", group="entity", methods=("lbfgs",))
    ref = REFERENCE["null_var_reml"]["params"]
    np.testing.assert_allclose(res.params, [ref[t] for t in res.params.index], rtol=1e-8)
    assert any("statsmodels MixedLM failed" in w for w in caught) or res.extra["statsmodels"].get(
        "problems"
    )


# --- an independent implementation: dense V, straight from the formulas ---------------------


def _dense_loglik(y, X, groups, sigma2_u, sigma2_e, reml):
    Z = (groups[:, None] == np.unique(groups)[None, :]).astype(float)
    V = sigma2_e * np.eye(y.size) + sigma2_u * Z @ Z.T
    Vi = np.linalg.inv(V)
    XtViX = X.T @ Vi @ X
    beta = np.linalg.solve(XtViX, X.T @ Vi @ y)
    r = y - X @ beta
    n, p = X.shape
    ll = -0.5 * (n * np.log(2 * np.pi) + np.linalg.slogdet(V)[1] + r @ Vi @ r)
    if reml:
        ll += 0.5 * p * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(XtViX)[1]
    return ll, beta, np.linalg.inv(XtViX)


def _small_sim(seed=21, n_groups=60, per=6, s2u=0.5, s2e=1.0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per)
    g = g[rng.random(g.size) < 0.85]  # unbalanced
    x = rng.normal(size=g.size)
    z = rng.normal(size=n_groups)[g]  # a group-level regressor
    y = 1.0 + 0.7 * x - 0.4 * z + rng.normal(scale=np.sqrt(s2u), size=n_groups)[g]
    y = y + rng.normal(scale=np.sqrt(s2e), size=g.size)
    return pd.DataFrame({"g": g, "x": x, "z": z, "y": y})


@pytest.mark.parametrize("reml", [True, False])
def test_likelihood_and_estimates_match_dense_formulas(reml):
    df = _small_sim()
    res, _ = _fit(df, "y ~ x + z", group="g", reml=reml)
    vc = res.extra["variance_components"]
    y = df["y"].to_numpy()
    X = np.column_stack([np.ones(len(df)), df["x"], df["z"]])
    g = df["g"].to_numpy()
    ll, beta, XtViX_inv = _dense_loglik(y, X, g, vc["g"], vc["residual"], reml)
    assert res.extra["loglik"] == pytest.approx(ll, abs=1e-8)
    np.testing.assert_allclose(res.params, beta, rtol=1e-10)
    np.testing.assert_allclose(res.cov.to_numpy(), XtViX_inv, rtol=1e-8)
    # a maximum: moving either variance lowers the likelihood
    for du, de in [(1.01, 1), (0.99, 1), (1, 1.01), (1, 0.99)]:
        assert _dense_loglik(y, X, g, vc["g"] * du, vc["residual"] * de, reml)[0] < ll


def test_recovers_planted_variance_components():
    df = _small_sim(seed=5, n_groups=400, per=8, s2u=0.5, s2e=1.0)
    res, _ = _fit(df, "y ~ x + z", group="g")
    vc = res.extra["variance_components"]
    assert vc["g"] == pytest.approx(0.5, rel=0.2)
    assert vc["residual"] == pytest.approx(1.0, rel=0.08)
    assert res.extra["icc"]["g"] == pytest.approx(0.5 / 1.5, rel=0.2)
    for term, b in {"x": 0.7, "z": -0.4}.items():
        assert abs(res.params[term] - b) < 3 * res.bse[term]
    # predicted intercepts: shrunken group means of the residuals, correlated with the truth
    assert res.extra["random_effects"].shape == (400,)
    assert not res.extra["singular"]


def test_demo_management_effect():
    from icsresearch.panel import trust_year_panel

    p = trust_year_panel("demo")
    acute = p[p["trust_type"] == "acute non-specialist"]
    res, _ = _fit(acute, "ae_4hr_pct ~ management_score + C(year)", group="trust_code")
    # planted: +0.30 points per management point, between and within trusts
    assert abs(res.params["management_score"] - 0.30) < 2.5 * res.bse["management_score"]
    assert res.extra["variance_components"]["trust_code"] > 0
    assert 0 < res.rsquared["marginal"] < res.rsquared["conditional"] < 1
    assert res.dist == "normal"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"formula": "y ~ x1", "group": "entty"}, "did you mean 'entity'"),
        ({"formula": "y ~ x1 + (1 | entity)", "group": "entity"}, "given by group="),
        ({"formula": "y ~ x1", "group": ["ics", "ics"]}, "must differ"),
        ({"formula": "y ~ x1", "group": ["entity", "ics", "year"]}, "one column"),
        ({"formula": "y ~ x1", "group": ["year", "entity"]}, "not nested in 'year'"),
        ({"formula": "y ~ x1 + x1b", "group": "entity"}, "rank deficient"),
        ({"formula": "y ~ x1", "group": "entity", "zero_tol": 2}, "zero_tol"),
        ({"formula": "y ~ x1", "group": "entity", "methods": ("newton",)}, "methods"),
        ({"formula": "y ~ x1", "group": "entity", "reml": "yes"}, "reml"),
        ({"formula": "y ~ x1", "group": "one"}, "fewer than two groups"),
        ({"formula": "ics ~ x1", "group": "entity"}, "not numeric"),
    ],
)
def test_bad_input(sim, kwargs, match):
    d = sim.assign(x1b=2 * sim["x1"], one="a")
    with pytest.raises(InvalidParameterError, match=match):
        fit_mixed(d, **kwargs)
