"""Cluster diagnostics (``icsresearch.models.inference.diagnostics``), against independent code.

* **G*** (Carter, Schnepel & Steigerwald 2017) by a hand loop of the formula: explicit
  dummy-variable design (statsmodels' patsy), ``a = X (X'X)^-1 e_k``, one explicit
  ``Omega_g = (1 - rho) I + rho 11'`` matrix per cluster, ``Gamma`` and ``G / (1 + Gamma)``;
  for a pooled model, and for a within model against the dummy regression (equal by FWL).
* **partial leverage** against its definition: the residual of ``x_k`` on every other column and
  the dummies (statsmodels OLS), ``x~_g'x~_g / x~'x~``.
* **leverage** against the explicit hat matrix of the partialled-out design.
* **leave-one-cluster-out estimates** against statsmodels dummy-variable OLS refitted without each
  cluster (for ``fit`` with clusters nested and not nested in the fixed effects, and ``did_2x2``).
* ``did_2x2`` (pyfixest) results: G*(0) and partial leverage from the design the result keeps for
  its wild bootstrap, against the same hand computations on the dummy regression.

Tolerance 1e-9 relative (observed ~1e-13).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from icsresearch.errors import InvalidParameterError
from icsresearch.models import did_2x2, fit
from icsresearch.models.inference.diagnostics import cluster_diagnostics, effective_clusters

pytestmark = pytest.mark.filterwarnings("ignore")
RTOL = 1e-9


@pytest.fixture(scope="module")
def df():
    """18 trusts in 7 systems of unequal size, 5 years, one trust missing a year."""
    rng = np.random.default_rng(42)
    sizes = [1, 2, 2, 3, 3, 3, 4]
    ics = np.repeat([f"S{i}" for i in range(7)], sizes)
    rows = [(f"T{t:02d}", ics[t], 2015 + y) for t in range(len(ics)) for y in range(5)]
    out = pd.DataFrame(rows, columns=["trust", "ics", "year"])
    out = out.drop(index=3).reset_index(drop=True)  # unbalanced
    n = len(out)
    out["treated"] = out["ics"].isin(["S0", "S3"]).astype(int)
    out["post"] = (out["year"] >= 2017).astype(int)
    out["d"] = out["treated"] * out["post"]
    out["x"] = rng.normal(size=n) + out["ics"].str[1].astype(int) * 0.3
    out["y"] = 0.5 * out["x"] + 0.4 * out["d"] + rng.normal(size=n) * (1 + out["treated"])
    return out


def hand_g_star(X: np.ndarray, clusters: np.ndarray, k: int, rho: float) -> float:
    a = X @ np.linalg.inv(X.T @ X)[:, k]
    gammas = []
    for g in pd.unique(clusters):
        ag = a[clusters == g]
        omega = (1 - rho) * np.eye(len(ag)) + rho * np.ones((len(ag), len(ag)))
        gammas.append(ag @ omega @ ag)
    gammas = np.array(gammas)
    Gamma = np.sum((gammas - gammas.mean()) ** 2) / (len(gammas) * gammas.mean() ** 2)
    return len(gammas) / (1 + Gamma)


def test_pooled_g_star_leverage_and_jackknife(df):
    res = fit(df, "y ~ x + d", entity="trust", time="year", model="pooled", cluster="ics")
    diag = cluster_diagnostics(res, "d", data=df)
    m = smf.ols("y ~ x + d", data=df).fit()
    X = m.model.exog
    k = m.model.exog_names.index("d")
    assert diag.effective_clusters_rho0 == pytest.approx(
        hand_g_star(X, df["ics"], k, 0.0), rel=RTOL
    )
    assert diag.effective_clusters_rho1 == pytest.approx(
        hand_g_star(X, df["ics"], k, 1.0), rel=RTOL
    )
    assert diag.effective_clusters == min(
        diag.effective_clusters_rho0, diag.effective_clusters_rho1
    )
    H = X @ np.linalg.inv(X.T @ X) @ X.T
    hat = pd.Series(np.diag(H)).groupby(df["ics"].to_numpy()).sum()
    np.testing.assert_allclose(diag.table["leverage"], hat.loc[diag.table.index], rtol=RTOL)
    assert diag.table["leverage"].sum() == pytest.approx(3, rel=RTOL)
    drops = [
        smf.ols("y ~ x + d", data=df[df["ics"] != g]).fit().params["d"] for g in diag.table.index
    ]
    np.testing.assert_allclose(diag.table["beta_drop"], drops, rtol=RTOL)
    assert diag.n_clusters == 7 and (diag.size_min, diag.size_max) == (4, 20)  # S0 lost a row


def test_within_against_dummy_regression(df):
    res = fit(df, "y ~ x + d", entity="trust", time="year", effects="twoways", cluster="ics")
    diag = cluster_diagnostics(res, "d", data=df)
    m = smf.ols("y ~ x + d + C(trust) + C(year)", data=df).fit()
    X = m.model.exog
    k = m.model.exog_names.index("d")
    # G*(0) of the within regression is the dummy regression's (FWL: same a = X(X'X)^-1 e_k)
    assert diag.effective_clusters_rho0 == pytest.approx(
        hand_g_star(X, df["ics"], k, 0.0), rel=RTOL
    )
    # trust effects are nested in the systems: a_g sums to zero, G*(1) is undefined
    assert np.isnan(diag.effective_clusters_rho1)
    assert diag.effective_clusters == diag.effective_clusters_rho0
    # partial leverage: FWL residual of d on x and all dummies
    others = smf.ols("d ~ x + C(trust) + C(year)", data=df).fit().resid
    pl = (others**2).groupby(df["ics"]).sum() / (others**2).sum()
    np.testing.assert_allclose(diag.table["partial_leverage"], pl.loc[diag.table.index], rtol=RTOL)
    assert diag.table["partial_leverage"].sum() == pytest.approx(1, rel=RTOL)
    # leverage of the partialled-out design: explicit hat matrix of [x~, d~]
    Xt = np.column_stack(
        [smf.ols(f"{v} ~ C(trust) + C(year)", data=df).fit().resid for v in ("x", "d")]
    )
    H = Xt @ np.linalg.inv(Xt.T @ Xt) @ Xt.T
    lev = pd.Series(np.diag(H)).groupby(df["ics"].to_numpy()).sum()
    np.testing.assert_allclose(diag.table["leverage"], lev.loc[diag.table.index], rtol=RTOL)
    # leave-one-system-out: year effects are re-estimated, trust effects of the dropped system go
    drops = [
        smf.ols("y ~ x + d + C(trust) + C(year)", data=df[df["ics"] != g]).fit().params["d"]
        for g in diag.table.index
    ]
    np.testing.assert_allclose(diag.table["beta_drop"], drops, rtol=RTOL)
    worst = diag.table["influence"].abs().idxmax()
    assert diag.most_influential == worst
    assert diag.max_influence == pytest.approx(
        drops[list(diag.table.index).index(worst)] - diag.estimate
    )
    assert "most influential cluster" in repr(diag) and "<table" in diag._repr_html_()


def test_clustered_by_entity(df):
    res = fit(df, "y ~ x + d", entity="trust", time="year", effects="twoways", vcov="CRV1")
    diag = cluster_diagnostics(res, "x")
    assert diag.cluster == "trust" and diag.n_clusters == 18
    drops = [
        smf.ols("y ~ x + d + C(trust) + C(year)", data=df[df["trust"] != g]).fit().params["x"]
        for g in diag.table.index[:4]
    ]
    np.testing.assert_allclose(diag.table["beta_drop"].iloc[:4], drops, rtol=RTOL)
    assert list(diag.to_frame().columns) == [
        "size",
        "leverage",
        "partial_leverage",
        "beta_drop",
        "influence",
    ]


def test_did_2x2_jackknife_by_refit(df):
    res = did_2x2(df, "y", treated="treated", post="post", entity="trust", cluster="ics")
    diag = cluster_diagnostics(res, "treated:post", data=df)
    # G* and partial leverage from the design the result keeps (fixed effects partialled out)
    m = smf.ols("y ~ d + post + C(trust)", data=df).fit()
    k = m.model.exog_names.index("d")
    hand = hand_g_star(m.model.exog, df["ics"].to_numpy(), k, 0.0)
    assert diag.effective_clusters_rho0 == pytest.approx(hand, rel=RTOL)
    others = smf.ols("d ~ post + C(trust)", data=df).fit().resid
    pl = (others**2).groupby(df["ics"]).sum() / (others**2).sum()
    np.testing.assert_allclose(diag.table["partial_leverage"], pl.loc[diag.table.index], rtol=RTOL)
    # the jackknife by refitting without each system
    for g in ("S1", "S5"):
        sub = df[df["ics"] != g]
        ref = smf.ols("y ~ d + C(trust) + post", data=sub).fit().params["d"]
        assert diag.table.loc[g, "beta_drop"] == pytest.approx(ref, rel=RTOL)


def test_only_treated_cluster_cannot_be_dropped(df):
    one = df.assign(d=((df["ics"] == "S3") & (df["year"] >= 2017)).astype(int))
    res = fit(one, "y ~ x + d", entity="trust", time="year", effects="twoways", cluster="ics")
    diag = cluster_diagnostics(res, "d", data=one)
    assert np.isnan(diag.table.loc["S3", "beta_drop"])
    assert diag.table["beta_drop"].drop("S3").notna().all()
    assert any("cannot be dropped" in n for n in diag.notes)
    assert diag.most_influential != "S3"


def test_effective_clusters_equal_clusters_give_g():
    # identical clusters: every gamma_g equal, so G* = G
    X = np.tile(np.column_stack([np.ones(4), np.arange(4.0)]), (5, 1))
    codes = np.repeat(np.arange(5), 4)
    assert effective_clusters(X, codes, 1, 0.0) == pytest.approx(5)
    with pytest.raises(InvalidParameterError, match="rho"):
        effective_clusters(X, codes, 1, 2.0)


def test_bad_input(df):
    res = fit(df, "y ~ x + d", entity="trust", time="year", cluster="ics")
    with pytest.raises(InvalidParameterError, match="not a coefficient") as err:
        cluster_diagnostics(res, "z", data=df)
    assert "\n  Fix: " in str(err.value)
    with pytest.raises(InvalidParameterError, match="no specification"):
        cluster_diagnostics(dataclasses.replace(res, spec=None), "x")
    did = did_2x2(df, "y", treated="treated", post="post", entity="trust")
    with pytest.raises(InvalidParameterError, match="need the data"):
        cluster_diagnostics(did, "treated:post")
    with pytest.raises(InvalidParameterError, match="not available in this result"):
        cluster_diagnostics(res, "x", cluster="region")
