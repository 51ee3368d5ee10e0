"""Score bootstrap (Kline & Santos 2012) for fit_glm logit and Poisson with fixed effects.

Reference: brute force with statsmodels. The restricted and unrestricted fits are statsmodels
GLMs with the fixed effects as dummies (the null imposed by an offset); the per-observation
scores and the Hessian are statsmodels' ``score_obs`` and ``hessian`` on the full dummy-variable
model; every one of the 2^G Rademacher sign vectors is then applied in a plain loop. The
collapsed fast path is checked against the row-level path (expanded rows).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from icsresearch.errors import InvalidParameterError
from icsresearch.models import fit_glm, fit_hdfe

G = 8


def _data(family: str, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    m = 50
    df = pd.DataFrame({"g": np.repeat(np.arange(G), m)})
    df["hosp"] = df["g"] * 2 + rng.integers(0, 2, len(df))  # hospitals nested in systems
    df["x"] = rng.integers(0, 3, len(df))
    df["z"] = rng.integers(0, 2, len(df))
    eta = -0.5 + 0.15 * df["x"] - 0.2 * df["z"] + 0.5 * rng.normal(size=2 * G)[df["hosp"]]
    eta = eta + 0.3 * rng.normal(size=G)[df["g"]] * df["x"]  # cluster-level slope noise
    if family == "logit":
        df["y"] = (rng.uniform(size=len(df)) < 1 / (1 + np.exp(-eta))).astype(int)
    else:
        df["days"] = rng.integers(1, 4, len(df)).astype(float)
        df["y"] = rng.poisson(np.exp(eta) * df["days"])
    return df


def _fit(df, family, method="auto"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_glm(
            df, "y ~ x + z", family=family, fixed_effects="hosp", vcov="CRV1", cluster="g",
            method=method, exposure="days" if family == "poisson" else None,
        )  # fmt: skip


def _statsmodels_brute(df, family, terms, null, restricted):
    """Sample CR0 statistic and every bootstrap statistic, from statsmodels fits and loops."""
    dummies = pd.get_dummies(df["hosp"], prefix="h", dtype=float).to_numpy()
    X = np.column_stack([df["x"].to_numpy(float), df["z"].to_numpy(float), dummies])
    y = df["y"].to_numpy(float)
    fam = sm.families.Binomial() if family == "logit" else sm.families.Poisson()
    exposure = np.log(df["days"].to_numpy()) if family == "poisson" else np.zeros(len(df))
    idx = [["x", "z"].index(t) for t in terms]
    q = len(idx)
    R = np.zeros((q, X.shape[1]))
    R[np.arange(q), idx] = 1.0
    full = sm.GLM(y, X, family=fam, offset=exposure)
    unres = full.fit(tol=1e-13, maxiter=200)
    cr0 = full.fit(
        tol=1e-13, maxiter=200, cov_type="cluster",
        cov_kwds={"groups": df["g"].to_numpy(), "use_correction": False},
    )  # fmt: skip
    theta = R @ cr0.params - np.asarray(null)
    V0 = R @ cr0.cov_params() @ R.T
    sample = theta[0] / np.sqrt(V0[0, 0]) if q == 1 else theta @ np.linalg.solve(V0, theta)
    if restricted:
        keep = [j for j in range(X.shape[1]) if j not in idx]
        off = exposure + X[:, idx] @ np.asarray(null)
        rfit = sm.GLM(y, X[:, keep], family=fam, offset=off).fit(tol=1e-13, maxiter=200)
        beta = np.zeros(X.shape[1])
        beta[keep] = rfit.params
        beta[idx] = null
    else:
        beta = unres.params
    scores = full.score_obs(beta)  # n x p
    H = -full.hessian(beta)
    a = scores @ np.linalg.solve(H, R.T)  # R H^-1 s_i
    codes = df["g"].to_numpy()
    A = np.array([a[codes == g].sum(0) for g in range(G)])
    out = []
    for signs in itertools.product([-1.0, 1.0], repeat=G):
        v = np.array(signs)
        num = A.T @ v
        V = (A * (v**2)[:, None]).T @ A
        out.append(num[0] / np.sqrt(V[0, 0]) if q == 1 else num @ np.linalg.solve(V, num))
    return sample, np.array(out)


@pytest.mark.parametrize("family", ["logit", "poisson"])
@pytest.mark.parametrize("restricted", [True, False])
def test_matches_statsmodels_brute_force(family, restricted):
    df = _data(family)
    res = _fit(df, family)
    out = res.score_bootstrap("x", weights="rademacher", reps=9999, restricted=restricted, ci=False)
    assert (
        out.enumerated
        and out.reps == 2**G
        and out.method == ("score-R" if restricted else "score-U")
    )
    sample, stars = _statsmodels_brute(df, family, ["x"], [0.0], restricted)
    factor = np.sqrt(G / (G - 1))  # the reported statistic carries Stata's ML factor
    assert out.statistic * factor == pytest.approx(sample, rel=1e-7)
    assert out.statistic == pytest.approx(res.tvalues["x"], rel=1e-7)
    np.testing.assert_allclose(
        np.sort(out.bootstrap_statistics * factor), np.sort(stars), rtol=1e-7, atol=1e-9
    )
    assert out.p_value == pytest.approx(
        np.mean(np.abs(stars) >= abs(sample) * (1 - 1e-9)), abs=1e-12
    )


def test_joint_and_nonzero_null_match_brute_force():
    df = _data("logit", seed=4)
    res = _fit(df, "logit")
    out = res.score_bootstrap(["x", "z"], weights="rademacher", reps=9999, null=[0.1, -0.1])
    sample, stars = _statsmodels_brute(df, "logit", ["x", "z"], [0.1, -0.1], True)
    factor = G / (G - 1)
    assert out.statistic * factor == pytest.approx(sample, rel=1e-7)
    np.testing.assert_allclose(
        np.sort(out.bootstrap_statistics * factor), np.sort(stars), rtol=1e-7, atol=1e-9
    )
    assert out.p_value == pytest.approx(np.mean(stars >= sample * (1 - 1e-9)), abs=1e-12)
    assert "joint Wald test" in repr(out)


@pytest.mark.parametrize("family", ["logit", "poisson"])
def test_collapsed_cells_give_the_expanded_rows_answer(family):
    """Per-cell scores are the sums of the rows' scores: the same bootstrap on both paths."""
    df = _data(family, seed=5)
    cells = _fit(df, family, method="collapsed")
    rows = _fit(df, family, method="rows")
    assert cells.extra["method"] == "collapsed" and rows.extra["method"] == "rows"
    assert cells._score_data.y.shape[0] < rows._score_data.y.shape[0]
    for restricted in (True, False):
        kw = {"weights": "rademacher", "reps": 9999, "restricted": restricted, "null": 0.05}
        a = cells.score_bootstrap("x", **kw)
        b = rows.score_bootstrap("x", **kw)
        assert a.p_value == b.p_value
        np.testing.assert_allclose(
            a.bootstrap_statistics, b.bootstrap_statistics, rtol=1e-8, atol=1e-9
        )
        assert a.statistic == pytest.approx(b.statistic, rel=1e-8)
        assert a.ci_low == pytest.approx(b.ci_low, rel=1e-6)


def test_interval_brackets_where_the_p_value_crosses_alpha_and_is_seeded():
    df = _data("logit", seed=6)
    res = _fit(df, "logit")
    out = res.score_bootstrap("x", reps=199, seed=3)
    again = res.score_bootstrap("x", reps=199, seed=3)
    assert (out.p_value, out.ci_low, out.ci_high) == (again.p_value, again.ci_low, again.ci_high)
    assert out.ci_low < out.estimate < out.ci_high
    se = out.estimate / out.statistic
    eps = 1e-3 * abs(se)

    def p(r):
        return res.score_bootstrap("x", reps=199, seed=3, null=r, ci=False).p_value

    assert p(out.ci_low + eps) >= 0.05 > p(out.ci_low - eps)
    assert p(out.ci_high - eps) >= 0.05 > p(out.ci_high + eps)


def test_bad_input_is_one_clear_error():
    df = _data("logit")
    res = _fit(df, "logit")
    cases = {
        "not a coefficient": dict(term="nope"),
        "not available": dict(term="x", cluster="region"),
        "pvalue=": dict(term="x", pvalue="both"),
        "joint test": dict(term=["x", "z"], pvalue="upper"),
        "reps must be": dict(term="x", reps=3),
    }
    for msg, kw in cases.items():
        with pytest.raises(InvalidParameterError, match=msg) as err:
            res.score_bootstrap(**{"reps": 99, **kw})
        assert "\n  Fix: " in str(err.value)
    with pytest.raises(InvalidParameterError, match="score_bootstrap"):
        res.wild_bootstrap("x", reps=99)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lin = fit_hdfe(df, "y ~ x + z | hosp", cluster="g")
    with pytest.raises(InvalidParameterError, match="wild_bootstrap"):
        lin.score_bootstrap("x", reps=99)
    # clustering on a fixed effect that the result did not cluster on works
    assert res.score_bootstrap("x", reps=99, seed=1, cluster="hosp", ci=False).n_clusters == 2 * G
