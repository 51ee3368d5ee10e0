"""The wild cluster bootstrap on every linear estimator (icsresearch.models.inference.wild).

References:
(a) the PyPI package ``wildboottest`` (an independent implementation of boottest's WCR/WCU,
    one-way; pyfixest's ``Feols.wildboottest`` calls it with the fixed effects as dummies): the
    same bootstrap t-statistics with all 2^G Rademacher sign vectors, and the same p-values;
(b) brute force: every perturbed outcome refitted by least squares with the fixed effects as
    dummy variables (numpy ``lstsq``), the CR0 one- or two-way covariance and the t or Wald
    statistic computed from scratch.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import wildboottest.wildboottest as wildboottest  # the dev extra's independent reference

from icsresearch.errors import InvalidParameterError
from icsresearch.models import did_2x2, event_study, fit_hdfe
from icsresearch.models.inference import wild_bootstrap, wild_bootstrap_arrays


def _panel(G: int = 8, T: int = 5, seed: int = 1, weights: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"g": np.repeat(np.arange(G), T), "t": np.tile(np.arange(T), G)})
    n = len(df)
    df["region"] = df["g"] % 3
    df["x"] = rng.normal(size=n) + rng.normal(size=G)[df["g"]]
    df["z"] = rng.normal(size=n)
    df["y"] = 0.2 * df["x"] + rng.normal(size=n) + rng.normal(size=G)[df["g"]]
    if weights:
        df["w"] = rng.uniform(0.5, 2.0, size=n)
    return df


def _dummies(codes: np.ndarray) -> np.ndarray:
    levels = np.unique(codes)
    return (codes[:, None] == levels[None, 1:]).astype(float)  # first level dropped


def _design(df: pd.DataFrame, slopes: list[str], fes: list[str]) -> np.ndarray:
    cols = [df[s].to_numpy(float) for s in slopes]
    return np.column_stack([*cols, np.ones(len(df)), *[_dummies(df[f].to_numpy()) for f in fes]])


def _brute(Z, y, sw, dims, boot, R, r, restricted):
    """Refit on every sign vector: the bootstrap statistics (CR0; t for one row of R, else Wald).

    ``R`` applies to the first columns of ``Z`` (the slopes); ``sw`` are square roots of weights.
    """
    Zw, yw = Z * sw[:, None], y * sw
    k = Z.shape[1]
    Rf = np.zeros((R.shape[0], k))
    Rf[:, : R.shape[1]] = R
    beta = np.linalg.lstsq(Zw, yw, rcond=None)[0]
    if restricted:  # constrained least squares
        Qi = np.linalg.pinv(Zw.T @ Zw)
        beta_t = beta - Qi @ Rf.T @ np.linalg.solve(Rf @ Qi @ Rf.T, Rf @ beta - r)
        centre = r
    else:
        beta_t, centre = beta, Rf @ beta
    u_t = yw - Zw @ beta_t
    pieces = [(c, 1.0) for c in dims]
    if len(dims) == 2:
        pieces.append((dims[0] * 1000 + dims[1], -1.0))

    def stat(ystar, c):
        b = np.linalg.lstsq(Zw, ystar, rcond=None)[0]
        u = ystar - Zw @ b
        Qi = np.linalg.pinv(Zw.T @ Zw)
        meat = np.zeros((k, k))
        for codes, s in pieces:
            for g in np.unique(codes):
                sg = Zw[codes == g].T @ u[codes == g]
                meat += s * np.outer(sg, sg)
        V = Rf @ Qi @ meat @ Qi @ Rf.T
        th = Rf @ b - c
        if len(th) == 1:
            return th[0] / np.sqrt(V[0, 0]) if V[0, 0] > 0 else np.nan
        return th @ np.linalg.solve(V, th)

    G = len(np.unique(boot))
    sample = stat(yw, r)
    out = []
    for signs in itertools.product([-1.0, 1.0], repeat=G):
        v = np.array(signs)[boot]
        out.append(stat(Zw @ beta_t + u_t * v, centre))
    return sample, np.array(out)


def _sorted_close(a, b, tol=1e-10):
    a, b = np.sort(np.asarray(a)), np.sort(np.asarray(b))
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    ok = np.isfinite(a)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1.0)))


def _fit(df, fml, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_hdfe(df, fml, **kw)


# --- (a) wildboottest --------------------------------------------------------------------------


@pytest.mark.parametrize("restricted", [True, False])
def test_matches_wildboottest_with_all_sign_vectors(restricted):
    """Unit and period effects, unit clusters: the period effects are not nested (projection)."""
    df = _panel()
    res = _fit(df, "y ~ x + z | g + t", cluster="g")
    ours = res.wild_bootstrap("x", weights="rademacher", reps=9999, restricted=restricted)
    assert ours.enumerated and ours.reps == 2**8
    X = _design(df, ["x", "z"], ["g", "t"])
    R = np.zeros(X.shape[1])
    R[0] = 1.0
    wb = wildboottest.WildboottestCL(
        X=X, Y=df["y"].to_numpy(float), cluster=df["g"].to_numpy(), R=R, B=9999, seed=1,
        parallel=False,
    )  # fmt: skip
    wb.get_scores(bootstrap_type="11", impose_null=restricted, adj=True, cluster_adj=True)
    wb.get_weights(weights_type="rademacher")
    wb.get_numer()
    wb.get_denom()
    wb.get_tboot()
    wb.get_vcov()
    wb.get_tstat()
    wb.get_pvalue(pval_type="two-tailed")
    t_wb = float(np.ravel(wb.t_stat)[0])
    tb_wb = np.ravel(wb.t_boot)
    # the same bootstrap distribution (relative to the sample t: the CR1 factors differ in K)
    _sorted_close(ours.bootstrap_statistics / ours.statistic, tb_wb / t_wb)
    # p-values: wildboottest counts |t*| > |t| strictly, we count ties (|t*| = |t| up to 1e-12)
    ties = np.isclose(np.abs(tb_wb), abs(t_wb), rtol=1e-9, atol=0)
    if restricted:
        assert ties.sum() >= 2  # the all-ones vector and its mirror reproduce the sample
    # (a tie may land on either side of its strict comparison by rounding)
    assert float(wb.pvalue) - 1e-12 <= ours.p_value <= float(wb.pvalue) + ties.mean() + 1e-12
    if not restricted:
        assert not ties.any() and ours.p_value == pytest.approx(float(wb.pvalue), abs=1e-12)
    assert ours.p_value == pytest.approx(float(np.mean(np.abs(tb_wb) >= abs(t_wb) * (1 - 1e-9))))
    # the reported t is the result's own (pyfixest's CR1 factor)
    assert ours.statistic == pytest.approx(res.tvalues["x"], rel=1e-10)


# --- (b) brute force ---------------------------------------------------------------------------


@pytest.mark.parametrize("restricted", [True, False])
@pytest.mark.parametrize("terms", [["x"], ["x", "z"]])
def test_hdfe_matches_brute_force_refits(restricted, terms):
    df = _panel(weights=True)
    res = _fit(df, "y ~ x + z | g + t", cluster="g", weights="w")
    out = res.wild_bootstrap(
        terms if len(terms) > 1 else terms[0], weights="rademacher", reps=9999,
        restricted=restricted, null=0.1,
    )  # fmt: skip
    Z = _design(df, ["x", "z"], ["g", "t"])
    R = np.eye(2)[: len(terms)]
    codes = df["g"].to_numpy()
    sample, stars = _brute(
        Z, df["y"].to_numpy(float), np.sqrt(df["w"].to_numpy()), [codes], codes, R,
        np.full(len(terms), 0.1), restricted,
    )  # fmt: skip
    # scale-free: our statistics carry a constant small-sample factor
    scale = out.statistic / sample
    assert _sorted_close(out.bootstrap_statistics / scale, stars) < 1e-10
    expected = np.mean((np.abs(stars) if len(terms) == 1 else stars) >= abs(sample) * (1 - 1e-12))
    assert out.p_value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("restricted", [True, False])
@pytest.mark.parametrize("q", [1, 2])
def test_two_way_clustering_matches_brute_force(restricted, q):
    df = _panel(G=8, T=6, seed=3)
    Z = _design(df, ["x", "z"], [])
    y = df["y"].to_numpy(float)
    g, t = df["g"].to_numpy(), df["t"].to_numpy()
    R = np.zeros((q, Z.shape[1]))
    R[np.arange(q), np.arange(q)] = 1.0
    out = wild_bootstrap_arrays(
        Z, y, R, 0.05, clusters={"g": g, "t": t}, bootcluster="g", restricted=restricted,
        weights="rademacher", reps=9999, small_sample_factor=1.0,
    )  # fmt: skip
    assert out.bootcluster == "g" and out.n_clusters == 8 and out.enumerated
    sample, stars = _brute(Z, y, np.ones(len(y)), [g, t], g, R[:, :2], np.full(q, 0.05), restricted)
    assert out.statistic == pytest.approx(sample, rel=1e-10)
    assert _sorted_close(out.bootstrap_statistics, stars) < 1e-10
    # default bootstrap dimension: the one with fewer clusters (6 periods)
    assert wild_bootstrap_arrays(Z, y, R, clusters={"g": g, "t": t}, reps=99).bootcluster == "t"


def test_confidence_interval_is_where_the_brute_force_p_value_crosses_alpha():
    df = _panel(G=8, T=5, seed=5)
    res = _fit(df, "y ~ x + z | g", cluster="g")
    out = res.wild_bootstrap("x", weights="rademacher", reps=999)
    Z = _design(df, ["x", "z"], ["g"])
    codes = df["g"].to_numpy()

    def p(r):
        s, st = _brute(Z, df["y"].to_numpy(float), np.ones(len(df)), [codes], codes,
                       np.eye(2)[:1], np.array([r]), True)  # fmt: skip
        return np.mean(np.abs(st) >= abs(s) * (1 - 1e-12))

    eps = 1e-4 * (out.ci_high - out.ci_low)
    assert p(out.ci_low + eps) >= 0.05 > p(out.ci_low - eps)
    assert p(out.ci_high - eps) >= 0.05 > p(out.ci_high + eps)
    assert out.ci_low < out.estimate < out.ci_high


def test_p_value_types_and_equal_tailed_interval():
    df = _panel(G=12, seed=2)
    res = _fit(df, "y ~ x + z | g", cluster="g")
    kw = {"reps": 999, "seed": 4}
    sym = res.wild_bootstrap("x", **kw)
    eq = res.wild_bootstrap("x", pvalue="equal-tailed", **kw)
    lo = res.wild_bootstrap("x", pvalue="lower", **kw)
    up = res.wild_bootstrap("x", pvalue="upper", **kw)
    ts, t = sym.bootstrap_statistics, sym.statistic
    assert sym.p_value == pytest.approx(np.mean(np.abs(ts) >= abs(t) * (1 - 1e-12)))
    assert lo.p_value == pytest.approx(np.mean(ts <= t * (1 + 1e-12)))
    assert up.p_value == pytest.approx(np.mean(ts >= t * (1 - 1e-12)))
    assert eq.p_value == pytest.approx(2 * min(lo.p_value, up.p_value))
    assert eq.ci_low < eq.estimate < eq.ci_high
    assert np.isinf(lo.ci_low) or np.isinf(up.ci_high)  # one-sided tests: one-sided intervals


# --- estimators, reproducibility, errors -------------------------------------------------------


def test_seeded_and_reproducible_with_webb_weights():
    res = _fit(_panel(G=10), "y ~ x + z | g", cluster="g")
    a = res.wild_bootstrap("x", reps=499, seed=7)
    b = res.wild_bootstrap("x", reps=499, seed=7)
    c = res.wild_bootstrap("x", reps=499, seed=8)
    assert (a.p_value, a.ci_low, a.ci_high) == (b.p_value, b.ci_low, b.ci_high)
    assert not a.enumerated and a.weights == "webb" and a.seed == 7 and a.reps == 499
    assert not np.array_equal(a.bootstrap_statistics, c.bootstrap_statistics)
    text = repr(a)
    assert "restricted" in text and "test inversion" in text and "10 clusters" in text


def test_did_and_event_study_results_bootstrap():
    rng = np.random.default_rng(9)
    G, T = 10, 6
    df = pd.DataFrame({"unit": np.repeat(np.arange(G), T), "year": np.tile(2015 + np.arange(T), G)})
    df["cohort"] = np.where(df["unit"] < 4, 2018, np.where(df["unit"] < 7, 2019, np.nan))
    df["treated"] = (df["unit"] < 7).astype(int)
    df["post"] = (df["year"] >= 2018).astype(int)
    df["y"] = rng.normal(size=len(df)) + 0.5 * df["treated"] * df["post"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = did_2x2(df, "y", treated="treated", post="post", entity="unit")
        es = event_study(df, "y", entity="unit", time="year", cohort="cohort", window=(-3, 2))
        sa = event_study(
            df, "y", entity="unit", time="year", cohort="cohort", window=(-2, 2),
            estimator="sun-abraham",
        )  # fmt: skip
    term = d.extra["att_term"]
    out = d.wild_bootstrap(term, weights="rademacher", reps=9999)
    assert out.enumerated and out.statistic == pytest.approx(d.tvalues[term], rel=1e-8)
    leads = [t for t, k in es.extra["event_times"].items() if k < 0]
    assert len(leads) == 2
    joint = es.wild_bootstrap(leads, reps=999, seed=1)
    assert 0 <= joint.p_value <= 1 and joint.pvalue_type == "wald"
    one = sa.wild_bootstrap("t+0", reps=999, seed=1)
    # Sun & Abraham's terms are weighted sums of cohort effects: the bootstrap tests the sum
    assert one.estimate == pytest.approx(sa.params["t+0"], rel=1e-10)


def test_bad_input_is_one_clear_error():
    df = _panel()
    res = _fit(df, "y ~ x + z | g", cluster="g")
    bad = {
        "not a coefficient": dict(term="nope"),
        "pvalue=": dict(term="x", pvalue="two"),
        "weights=": dict(term="x", weights="mammen"),
        "reps must be": dict(term="x", reps=5),
        "not available": dict(term="x", cluster="nope"),
        "bootcluster=": dict(term="x", cluster=["g", "x"], bootcluster="z"),
        "one or two": dict(term="x", cluster=["g", "x", "z"]),
        "joint test": dict(term=["x", "z"], pvalue="lower"),
        "repeat": dict(term=["x", "x"]),
    }
    for msg, kw in bad.items():
        with pytest.raises(InvalidParameterError, match=msg) as err:
            wild_bootstrap(res, reps=kw.pop("reps", 99), **kw)
        assert "\n  Fix: " in str(err.value)
    plain = _fit(df, "y ~ x + z | g")
    with pytest.raises(InvalidParameterError, match="not clustered"):
        plain.wild_bootstrap("x", reps=99)
    assert plain.wild_bootstrap("x", reps=99, seed=1, cluster="g").n_clusters == 8
    iv = _fit(df, "y ~ z | g | x ~ t", cluster="g")
    with pytest.raises(InvalidParameterError, match="2SLS"):
        iv.wild_bootstrap("x", reps=99)
