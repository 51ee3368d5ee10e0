"""Simulation and hand-computed checks: planted parameters, gaps in lags and differences, exact
two-way demeaning, the CR3 jackknife and the wild cluster bootstrap against brute force."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from icsresearch.models import fit
from icsresearch.models.panel import wild_cluster_bootstrap
from test_models_panel_data import sim_panel

KW = {"entity": "entity", "time": "year"}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def simulate(n=400, T=8, seed=0, beta=(0.5, -0.3), rho=None, drop=0.15):
    """An unbalanced panel with entity effects correlated with x1 and random gaps."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    lam = rng.normal(scale=0.5, size=T)
    rows = []
    for i in range(n):
        y_prev = 0.0
        for t in range(T):
            x1 = 0.8 * a[i] + rng.normal()
            x2 = rng.normal()
            e = rng.normal()
            if rho is None:
                y = 1 + beta[0] * x1 + beta[1] * x2 + a[i] + lam[t] + e
            else:  # dynamic model without entity effects: pooled OLS with the lag is consistent
                y = 1 + rho * y_prev + beta[0] * x1 + e
            y_prev = y
            rows.append((i, 2000 + t, x1, x2, y))
    df = pd.DataFrame(rows, columns=["entity", "year", "x1", "x2", "y"])
    keep = rng.random(len(df)) > drop
    return df[keep].reset_index(drop=True)


def test_estimators_recover_planted_parameters():
    df = simulate()
    for model, effects in (("within", "entity"), ("within", "twoways"), ("fd", "entity")):
        res = fit(df, "y ~ x1 + x2", model=model, effects=effects, vcov="CRV1", **KW)
        for name, b in zip(["x1", "x2"], (0.5, -0.3), strict=True):
            assert abs(res.params[name] - b) < 4 * res.bse[name], (model, effects, name)
    # pooled OLS is biased by the correlated entity effect (planted 0.5, plim about 1.0)
    pooled = fit(df, "y ~ x1 + x2", model="pooled", **KW)
    assert pooled.params["x1"] > 0.5 + 10 * pooled.bse["x1"]


def test_random_effects_recover_variance_components():
    rng = np.random.default_rng(3)
    n, T = 300, 6
    a = rng.normal(scale=np.sqrt(2.0), size=n)  # sigma2_effect = 2, independent of x
    ent = np.repeat(np.arange(n), T)
    df = pd.DataFrame({"entity": ent, "year": np.tile(np.arange(T), n)})
    df["x"] = rng.normal(size=len(df))
    df["y"] = 1 + 0.7 * df["x"] + a[ent] + rng.normal(size=len(df))  # sigma2_idios = 1
    df = df[rng.random(len(df)) > 0.2]
    for method in ("swamy-arora", "amemiya"):
        res = fit(df, "y ~ x", model="random", re_method=method, **KW)
        assert res.extra["sigma2"]["idios"] == pytest.approx(1.0, abs=0.1)
        assert res.extra["sigma2"]["entity"] == pytest.approx(2.0, abs=0.4)
        assert abs(res.params["x"] - 0.7) < 4 * res.bse["x"]


def test_lagged_model_recovers_rho_and_respects_gaps():
    df = simulate(n=300, T=10, seed=5, rho=0.6, drop=0.1)
    res = fit(df, "y ~ x1", model="lagged", vcov="CRV1", **KW)
    assert abs(res.params["L1.y"] - 0.6) < 4 * res.bse["L1.y"]
    # every row used has its previous year present; rows after a gap are lost, not paired
    d = res.design
    used = pd.DataFrame({"e": d.entity_labels[d.entity], "t": d.time_labels[d.time]})
    present = set(zip(df["entity"], df["year"], strict=True))
    assert all((e, t - 1) in present for e, t in zip(used["e"], used["t"], strict=True))
    expected = sum((e, t - 1) in present for e, t in present)
    assert res.nobs == expected


def test_lag_and_difference_after_a_gap_are_missing():
    """Entity A has 2012, 2013, 2015: 2015 has no lag and no difference (2014 is absent)."""
    df = pd.DataFrame(
        {
            "entity": ["A", "A", "A", "B", "B", "B"],
            "year": [2012, 2013, 2015, 2012, 2013, 2014],
            "y": [1.0, 2.0, 10.0, 3.0, 5.0, 4.0],
            "x": [0.0, 1.0, 7.0, 2.0, 1.0, 3.0],
        }
    )
    fd = fit(df, "y ~ x", model="fd", **KW)
    d = fd.design
    assert sorted(zip(d.entity_labels[d.entity], d.time_labels[d.time], strict=True)) == [
        ("A", 2013),
        ("B", 2013),
        ("B", 2014),
    ]
    np.testing.assert_array_equal(np.sort(d.y), [-1.0, 1.0, 2.0])  # 2-1, 5-3, 4-5
    assert d.n_lost == 3  # the first year of A and B, and A's 2015 after the gap
    lag = fit(df, "y ~ 1", model="lagged", **KW)
    L = lag.design
    lagcol = L.X[:, L.names.index("L1.y")]
    got = dict(
        zip(zip(L.entity_labels[L.entity], L.time_labels[L.time], strict=True), lagcol, strict=True)
    )
    assert got == {("A", 2013): 1.0, ("B", 2013): 3.0, ("B", 2014): 5.0}


def test_unbalanced_twoway_within_equals_dummy_regression():
    """Exact two-way demeaning: the slopes equal OLS with explicit entity and year dummies."""
    df = sim_panel().dropna(subset=["x2"])
    df = df[df["ics"].isin(sorted(df["ics"].unique())[:15])].reset_index(drop=True)
    res = fit(df, "y ~ x1 + x2", model="within", effects="twoways", **KW)
    E = pd.get_dummies(df["entity"], dtype=float).to_numpy()
    Y = pd.get_dummies(df["year"], dtype=float).to_numpy()[:, 1:]
    Z = np.column_stack([df[["x1", "x2"]].to_numpy(), E, Y])
    beta = np.linalg.lstsq(Z, df["y"].to_numpy(), rcond=None)[0][:2]
    np.testing.assert_allclose(res.params.to_numpy(), beta, rtol=1e-10)
    resid = df["y"].to_numpy() - Z @ np.linalg.lstsq(Z, df["y"].to_numpy(), rcond=None)[0]
    df_resid = len(df) - np.linalg.matrix_rank(Z)
    sigma2 = resid @ resid / df_resid
    assert res.df_resid == df_resid
    conv = fit(df, "y ~ x1 + x2", model="within", effects="twoways", **KW)
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(Z.T @ Z))[:2])
    np.testing.assert_allclose(conv.bse.to_numpy(), se, rtol=1e-8)


def test_cr3_equals_brute_force_jackknife_with_year_dummies():
    """CR3 clustered by ICS for a two-way model: refit with dummies, dropping one ICS at a time."""
    df = sim_panel().dropna(subset=["x2"])
    df = df[df["ics"].isin(sorted(df["ics"].unique())[:15])].reset_index(drop=True)
    res = fit(
        df, "y ~ x1 + x2", model="within", effects="twoways", vcov="CRV3", cluster="ics", **KW
    )

    def slopes(d):
        Z = np.column_stack(
            [
                d[["x1", "x2"]].to_numpy(),
                pd.get_dummies(d["entity"], dtype=float).to_numpy(),
                pd.get_dummies(d["year"], dtype=float).to_numpy()[:, 1:],
            ]
        )
        return np.linalg.solve(Z.T @ Z, Z.T @ d["y"].to_numpy())[:2]

    b = slopes(df)
    groups = sorted(df["ics"].unique())
    devs = np.array([slopes(df[df["ics"] != g]) - b for g in groups])
    G = len(groups)
    np.testing.assert_allclose(res.cov.to_numpy(), (G - 1) / G * devs.T @ devs, rtol=1e-8)


def _brute_force_wcr(res, term, cluster_codes, r0):
    """p-value by refitting for all 2^G Rademacher sign vectors (the bootstrap by definition)."""
    reg = res.regression
    X, y = reg.X, reg.y
    k = list(res.params.index).index(term)
    G = int(cluster_codes.max()) + 1

    def t_stat(yy):
        XtXi = np.linalg.inv(X.T @ X)
        b = XtXi @ X.T @ yy
        u = yy - X @ b
        S = np.array([X[cluster_codes == g].T @ u[cluster_codes == g] for g in range(G)])
        V = XtXi @ S.T @ S @ XtXi
        return (b[k] - r0) / np.sqrt(V[k, k])

    Xo = np.delete(X, k, axis=1)
    yr = y - r0 * X[:, k]
    bo = np.linalg.lstsq(Xo, yr, rcond=None)[0]
    u_r = yr - Xo @ bo
    fitted = y - u_r
    t0 = t_stat(y)
    ts = [
        t_stat(fitted + u_r * np.array(s)[cluster_codes])
        for s in itertools.product([-1.0, 1.0], repeat=G)
    ]
    return float(np.mean(np.abs(ts) >= abs(t0) - 1e-12))


def test_wild_bootstrap_matches_brute_force_enumeration():
    df = sim_panel()
    few = df[df["ics"].isin(sorted(df["ics"].unique())[:8])]
    res = fit(few, "y ~ x1 + x2", model="within", vcov="CRV1", cluster="ics", **KW)
    codes = np.unique(res.regression.clusters["ics"], return_inverse=True)[1]
    out = res.wild_bootstrap("x2", weights="rademacher", reps=999)
    assert out.enumerated and out.reps == 2**8
    assert out.p_value == pytest.approx(_brute_force_wcr(res, "x2", codes, 0.0), abs=1e-12)
    # the CI ends are where the p-value crosses alpha
    lo, hi = out.ci_low, out.ci_high
    eps = 1e-4 * (hi - lo)
    assert (
        _brute_force_wcr(res, "x2", codes, lo + eps)
        >= 0.05
        > _brute_force_wcr(res, "x2", codes, lo - eps)
    )
    assert (
        _brute_force_wcr(res, "x2", codes, hi - eps)
        >= 0.05
        > _brute_force_wcr(res, "x2", codes, hi + eps)
    )


def test_wild_bootstrap_is_seeded_and_reports():
    res = fit(sim_panel(), "y ~ x1 + x2", model="within", vcov="CRV1", cluster="ics", **KW)
    a = res.wild_bootstrap("x1", reps=499, seed=7)
    b = wild_cluster_bootstrap(res, "x1", reps=499, seed=7)
    assert a.p_value == b.p_value and a.ci_low == b.ci_low
    assert a.n_clusters == 42 and a.weights == "webb" and not a.enumerated
    assert a.ci_low < a.estimate < a.ci_high
    assert "test inversion" in repr(a)


def test_wild_bootstrap_p_values_are_roughly_uniform_under_the_null():
    """Coarse: 150 simulated datasets with 12 clusters and a true null; Webb weights, 199 reps."""
    rng = np.random.default_rng(11)
    pvals = []
    for _ in range(150):
        G, m = 12, 10
        g = np.repeat(np.arange(G), m)
        x = rng.normal(size=G * m) + rng.normal(size=G)[g]
        y = 1 + 0.0 * x + rng.normal(size=G * m) + rng.normal(size=G)[g]
        df = pd.DataFrame({"entity": np.arange(G * m), "year": 1, "g": g, "x": x, "y": y})
        res = fit(df, "y ~ x", model="pooled", vcov="CRV1", cluster="g", **KW)
        pvals.append(res.wild_bootstrap("x", reps=199, seed=int(rng.integers(1 << 31))).p_value)
    pvals = np.array(pvals)
    assert 0.01 <= np.mean(pvals < 0.1) <= 0.2  # nominal 0.10
    assert 0.4 <= np.mean(pvals < 0.5) <= 0.6


def test_aux_hausman_drops_aliased_year_columns_and_tests_chosen_terms():
    """With year dummies in both models their within columns are aliased: R's lm drops them.

    Without dropping, the auxiliary covariance is singular and the statistic can come out
    negative; with dropping, the statistic equals the test on the non-aliased columns only.
    """
    from icsresearch.models.panel import hausman

    df = simulate(n=150, T=6, seed=3)
    fe = fit(df, "y ~ x1 + x2 + C(year)", model="within", effects="entity", **KW)
    re = fit(df, "y ~ x1 + x2 + C(year)", model="random", effects="entity", **KW)
    full = hausman(fe, re, method="aux", cluster="entity")
    assert full.statistic >= 0 and full.df <= 2 + df["year"].nunique() - 1
    only_x = hausman(fe, re, method="aux", cluster="entity", terms=["x1"])
    assert only_x.df == 1 and only_x.statistic > 0
    # Entity effects correlated with x1 (planted): the test rejects random effects.
    assert only_x.p_value < 0.01
    # Passing the entity as the cluster works whether or not the RE model was clustered.
    assert hausman(fe, re, method="aux").statistic == pytest.approx(full.statistic)
    with pytest.raises(Exception, match="not regressors"):
        hausman(fe, re, method="aux", terms=["nope"])
