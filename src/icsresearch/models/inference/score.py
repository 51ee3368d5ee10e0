r"""Score bootstrap (Kline & Santos 2012) for fixed-effect logit and Poisson models (``fit_glm``).

Refitting a logit or Poisson model with hundreds of fixed effects thousands of times is slow and
can fail (separation in a replication). The score bootstrap never refits: it perturbs each
cluster's contribution to the score and maps it through the inverse information, the
one-Newton-step approximation of a refit. This is what Stata's ``boottest`` does after maximum
likelihood estimation (Roodman, MacKinnon, Nielsen & Webb 2019, section 5.2).

For ``H0: beta_terms = r`` (one or several coefficients):

1. fit the model with the null imposed (``restricted=True``, recommended by Kline & Santos):
   the tested coefficients are fixed at ``r`` (an offset) and the others, fixed effects included,
   re-estimated; ``restricted=False`` uses the unrestricted estimates;
2. at those estimates, per observation (or per collapsed cell), the score
   :math:`s_i = x_i (y_i - \mu_i)` and the information :math:`H = \sum_i w_i x_i x_i'`
   (:math:`w_i = n_i p_i (1 - p_i)` for logit, :math:`\mu_i` for Poisson); the fixed effects are
   partialled out of ``x`` with the weights ``w`` (Frisch-Waugh-Lovell: the rows of
   :math:`H^{-1}` for the slopes, applied to the scores of the full dummy-variable model, are
   :math:`(\tilde X' W \tilde X)^{-1} \tilde x_i (y_i - \mu_i)`), so no dummy is built;
3. per cluster, :math:`a_g = R H^{-1} \sum_{i \in g} s_i`; replication ``b`` draws one weight
   :math:`v_g` per cluster and forms :math:`\theta^*_b = \sum_g v_g a_g` and
   :math:`V^*_b = \sum_g v_g^2 a_g a_g'` (the cluster-robust variance of the perturbed scores,
   as ``boottest``): :math:`t^*_b = \theta^*_b / \sqrt{V^*_b}`, or
   :math:`W^*_b = \theta^{*\prime} V^{*-1}_b \theta^*` for several terms;
4. the sample statistic is the model's cluster-robust Wald ``t`` (or ``W``) at the unrestricted
   estimates. Both use the CR0 variance; the reported statistic carries Stata's ML factor
   ``G/(G-1)`` (as ``fit_glm``), which cancels in the comparison.

p-values are as in :mod:`.wild` (``"symmetric"``, ``"equal-tailed"``, ``"lower"``, ``"upper"``;
Wald for joint tests, ties counted). With Rademacher weights and :math:`2^G \le` ``reps`` all sign
vectors are enumerated.

Collapsed fits: ``fit_glm``'s fast path fits cells of identical regressors, fixed effects and
cluster; a cell's score is the sum of its rows' scores (``x_c (y_c - n_c p_c)``) and its
information weight the sum of theirs, and the cluster is constant within a cell, so every
cluster sum, and hence the bootstrap, is the same as on the expanded rows (tested).

Confidence interval (one coefficient, by test inversion): with the null imposed every value of
``r`` needs a restricted refit, so the bisection stops at 1e-4 standard errors (about 30 refits
per end, each warm-started); unrestricted, ``p(r)`` needs no refit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ...errors import InvalidParameterError
from ...options import check_alpha
from .wild import (
    PVALUE_TYPES,
    WEIGHT_TYPES,
    WildBootstrapResult,
    _as_list,
    _codes,
    _group_sums,
    draw_weights,
    interval_end,
    partial_out,
    t_p_value,
    wald_p_value,
)


@dataclass(frozen=True)
class ScoreData:
    """What the score bootstrap needs from a ``fit_glm`` result (kept on the result).

    Attributes
    ----------
    family
        ``"logit"`` or ``"poisson"``.
    X
        Regressors per observation or cell, one column per coefficient of ``params`` (in order).
    y
        Outcome sum (successes, counts) per observation or cell.
    n
        Rows (trials) per cell: ones on the row path.
    exposure
        Poisson exposure per observation or cell (sum of ``exp(offset)``), or None.
    fixed_effects
        Codes of the absorbed fixed effects (name -> one code per observation or cell).
    groups
        Columns the bootstrap may cluster on (name -> codes): the cluster variable and the
        fixed effects.
    cluster
        The result's own cluster variable, if it clustered.
    """

    family: str
    X: np.ndarray
    y: np.ndarray
    n: np.ndarray
    exposure: np.ndarray | None = None
    fixed_effects: dict[str, np.ndarray] = field(default_factory=dict)
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    cluster: tuple[str, ...] = ()


def _moments(family: str, eta: np.ndarray, d: ScoreData) -> tuple[np.ndarray, np.ndarray]:
    """Score residual ``y - mu`` and information weight per observation/cell."""
    if family == "logit":
        p = 1.0 / (1.0 + np.exp(-np.clip(eta, -700, 700)))
        return d.y - d.n * p, d.n * p * (1.0 - p)
    mu = np.exp(np.clip(eta, -700, 700)) * (1.0 if d.exposure is None else d.exposure)
    return d.y - mu, mu


def _irls(
    d: ScoreData,
    free: np.ndarray,
    offset: np.ndarray,
    eta: np.ndarray | None = None,
    *,
    tol: float = 1e-13,
    max_iter: int = 500,
) -> np.ndarray:
    """Maximum likelihood by IRLS with the fixed effects absorbed; returns the linear predictor.

    ``free`` are the columns of ``X`` estimated; ``offset`` is the fixed part of the predictor
    (the tested coefficients times their regressors). ``eta`` warm-starts.
    """
    fes = list(d.fixed_effects.values())
    if eta is None:
        if d.family == "logit":
            p0 = (d.y + 0.5) / (d.n + 1.0)
            eta = np.log(p0 / (1.0 - p0))
        else:
            t = np.ones_like(d.y) if d.exposure is None else d.exposure
            rate = d.y.sum() / t.sum()
            eta = np.log((d.y + rate * t) / (2.0 * t))
    Xf = d.X[:, free]
    for _ in range(max_iter):
        resid, w = _moments(d.family, eta, d)
        sw = np.sqrt(w)
        z = eta - offset + resid / w  # working response of the free part
        Zt = np.column_stack([z, Xf]) * sw[:, None]
        if fes:
            Zt = partial_out(Zt, fes, sw)
        beta = np.linalg.lstsq(Zt[:, 1:], Zt[:, 0], rcond=None)[0] if Xf.shape[1] else []
        fitted_resid = (Zt[:, 0] - Zt[:, 1:] @ beta) / sw if Xf.shape[1] else Zt[:, 0] / sw
        new = offset + z - fitted_resid
        step = float(np.max(np.abs(new - eta)))
        eta = new
        if step < tol * max(1.0, float(np.max(np.abs(eta)))):
            return eta
    raise InvalidParameterError(
        "the restricted maximum likelihood fit did not converge (the null value may imply "
        "fitted probabilities of 0 or 1)\n  Fix: test a less extreme null value, or use "
        "restricted=False"
    )


def _contributions(
    d: ScoreData, eta: np.ndarray, R: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per observation ``R H^-1 s_i`` (n x q), the information's inverse and the slopes' scores."""
    resid, w = _moments(d.family, eta, d)
    sw = np.sqrt(w)
    Xt = d.X * sw[:, None]
    if d.fixed_effects:
        Xt = partial_out(Xt, list(d.fixed_effects.values()), sw)
    H = Xt.T @ Xt
    if np.linalg.matrix_rank(H) < H.shape[0]:
        raise InvalidParameterError(
            "the information matrix is singular at the estimates\n  Fix: drop collinear "
            "regressors, or test a less extreme null value"
        )
    Hinv = np.linalg.inv(H)
    scores = (Xt / sw[:, None]) * resid[:, None]  # x~_i (y_i - mu_i)
    return scores @ (R @ Hinv).T, Hinv, scores


def score_bootstrap(
    result: Any,
    term: str | Sequence[str],
    *,
    reps: int = 9999,
    seed: int | np.random.Generator | None = None,
    weights: Literal["webb", "rademacher"] = "webb",
    cluster: str | None = None,
    alpha: float | None = None,
    null: float | Sequence[float] = 0.0,
    restricted: bool = True,
    pvalue: Literal["symmetric", "equal-tailed", "lower", "upper"] = "symmetric",
    ci: bool = True,
) -> WildBootstrapResult:
    """Score bootstrap p-value (and test-inversion CI) for a ``fit_glm`` logit/Poisson result.

    Parameters
    ----------
    result
        A result of :func:`icsresearch.models.fit_glm` (either path: collapsed or rows).
    term
        A coefficient name, or several for a joint Wald test.
    reps
        Replications (all ``2**G`` sign vectors with Rademacher weights when ``2**G <= reps``).
    seed
        Seed or generator.
    weights
        ``"webb"`` (default) or ``"rademacher"``.
    cluster
        The cluster variable; default the result's own (a fixed-effect column also works).
    alpha
        Level of the interval (``1 - alpha``); default the result's.
    null
        ``H0: coef = null`` (one value, or one per term).
    restricted
        Impose the null (True, recommended) or not.
    pvalue
        ``"symmetric"``, ``"equal-tailed"``, ``"lower"`` or ``"upper"`` (one term).
    ci
        Compute the confidence interval (one term).

    Returns
    -------
    WildBootstrapResult
        ``method`` is ``"score-R"`` or ``"score-U"``.
    """
    d: ScoreData | None = getattr(result, "_score_data", None)
    if d is None:
        raise InvalidParameterError(
            "this result does not support the score bootstrap\n  Fix: use a result of "
            "fit_glm (logit or Poisson); for linear models use result.wild_bootstrap(term)"
        )
    names = [str(n) for n in result.params.index]
    terms = _as_list(term)
    for t in terms:
        if t not in names:
            raise InvalidParameterError(
                f"term {t!r} is not a coefficient; choose one of {names}\n  Fix: use a name of "
                "result.params"
            )
    if not terms or len(set(terms)) != len(terms):
        raise InvalidParameterError(f"terms {terms} must be distinct names\n  Fix: name each once")
    if d.X.shape[1] != len(names):
        raise InvalidParameterError(
            "the result's coefficients do not match its kept design\n  Fix: bootstrap the "
            "result fit_glm returned, not an edited copy"
        )
    if not (isinstance(reps, int | np.integer) and not isinstance(reps, bool) and reps >= 9):
        raise InvalidParameterError(f"reps must be an integer >= 9, got {reps!r}\n  Fix: reps=9999")
    if weights not in WEIGHT_TYPES:
        draw_weights(2, 9, str(weights), np.random.default_rng(0))
    if pvalue not in PVALUE_TYPES:
        raise InvalidParameterError(
            f"pvalue={pvalue!r} is not one of {PVALUE_TYPES}\n  Fix: pvalue='symmetric'"
        )
    if len(terms) > 1 and pvalue != "symmetric":
        raise InvalidParameterError(
            f"pvalue={pvalue!r} applies to one coefficient; a joint test uses the Wald "
            "statistic's upper tail\n  Fix: leave pvalue at its default"
        )
    alpha = check_alpha(getattr(result, "alpha", 0.05) if alpha is None else alpha)
    cluster = cluster or (d.cluster[0] if d.cluster else None)
    if cluster is None:
        raise InvalidParameterError(
            "the result is not clustered, so the bootstrap does not know its clusters\n  Fix: "
            "pass cluster='column' (the result's cluster variable or a fixed effect)"
        )
    if cluster not in d.groups:
        raise InvalidParameterError(
            f"cluster variable {cluster!r} is not available in this result\n  Fix: refit with "
            f"vcov='CRV1', cluster={cluster!r}, or cluster on one of {list(d.groups)}"
        )
    codes, G = _codes(d.groups[cluster])
    if G < 2:
        raise InvalidParameterError(
            f"the bootstrap needs at least 2 clusters; {cluster!r} has {G}\n  Fix: cluster on "
            "a variable with several levels"
        )
    q, k = len(terms), len(names)
    idx = np.array([names.index(t) for t in terms])
    R = np.zeros((q, k))
    R[np.arange(q), idx] = 1.0
    r = np.broadcast_to(np.asarray(null, dtype=float).ravel(), (q,)).copy()
    free = np.setdiff1d(np.arange(k), idx)

    # the sample: unrestricted estimates, CR0 cluster-robust Wald statistic
    eta_hat = _irls(d, np.arange(k), np.zeros(len(d.y)))
    a_hat, _, _ = _contributions(d, eta_hat, R)
    # slopes at the MLE: regress the fitted predictor on X with the fixed effects partialled out
    beta_hat = _slopes(d, eta_hat)
    A_hat = _group_sums(a_hat, codes, G)  # G x q
    V0 = A_hat.T @ A_hat
    factor = G / (G - 1)

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    V, enumerated = draw_weights(G, int(reps), weights, rng)
    B = V.shape[1]
    V2 = V * V
    cache: dict[float, np.ndarray] = {}

    def perturbed(rv: np.ndarray, warm: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Cluster contributions ``a_g`` at the restricted (or unrestricted) estimates."""
        if not restricted:
            return A_hat, eta_hat
        eta = _irls(d, free, d.X[:, idx] @ rv, warm)
        a, _, _ = _contributions(d, eta, R)
        return _group_sums(a, codes, G), eta

    est = R @ beta_hat
    if q > 1:
        A, _ = perturbed(r, None)
        num = A.T @ V  # q x B
        Vstar = np.einsum("gi,gj,gb->bij", A, A, V2)
        sol = np.linalg.pinv(Vstar) @ num.T[:, :, None]
        Wstar = np.einsum("bi,bi->b", num.T, sol[:, :, 0])
        theta = est - r
        try:
            W0 = float(theta @ np.linalg.solve(V0, theta))
        except np.linalg.LinAlgError:
            raise InvalidParameterError(
                "the sample's cluster-robust covariance of the tested terms is singular\n  Fix: "
                "test fewer terms"
            ) from None
        p = wald_p_value(W0, Wstar)
        return _result(
            terms, est, r, W0 / factor, p, (np.nan, np.nan), alpha, B, weights, seed, cluster, G,
            enumerated, restricted, "wald", Wstar / factor,
        )  # fmt: skip

    se0 = float(np.sqrt(V0[0, 0]))
    est0 = float(est[0])
    warm = {"eta": eta_hat}

    def tstar(rv: float) -> np.ndarray:
        key = float(rv)
        if key not in cache:
            A, eta = perturbed(np.array([rv]), warm["eta"])
            warm["eta"] = eta
            num = A[:, 0] @ V
            den = np.sqrt((A[:, 0] ** 2) @ V2)
            with np.errstate(divide="ignore", invalid="ignore"):
                cache[key] = num / den
        return cache[key]

    def pval(rv: float) -> float:
        return t_p_value((est0 - rv) / se0, tstar(rv), pvalue)

    precision = 1e-4 if restricted else 1e-7

    def crossing(direction: float) -> float:
        warm["eta"] = eta_hat  # each end's search starts from the unrestricted fit
        return interval_end(pval, est0, se0, alpha, direction, precision=precision, doublings=40)

    r0 = float(r[0])
    p = pval(r0)
    stats = tstar(r0)
    lo_hi = (crossing(-1.0), crossing(1.0)) if ci else (np.nan, np.nan)
    sf = np.sqrt(factor)
    return _result(
        terms, est0, r0, (est0 - r0) / (se0 * sf), p, lo_hi, alpha, B, weights, seed, cluster, G,
        enumerated, restricted, pvalue, stats / sf,
    )  # fmt: skip


def _slopes(d: ScoreData, eta: np.ndarray) -> np.ndarray:
    """The coefficients behind a fitted linear predictor (fixed effects partialled out)."""
    X, e = d.X, eta
    if d.fixed_effects:
        Z = partial_out(np.column_stack([e, X]), list(d.fixed_effects.values()))
        e, X = Z[:, 0], Z[:, 1:]
    return np.linalg.lstsq(X, e, rcond=None)[0]


def _result(
    terms, est, r, stat, p, ci, alpha, B, weights, seed, cluster, G, enumerated, restricted,
    ptype, stats,
) -> WildBootstrapResult:  # fmt: skip
    return WildBootstrapResult(
        term=", ".join(terms),
        estimate=est,
        null=r,
        statistic=float(stat),
        p_value=float(p),
        ci_low=float(ci[0]),
        ci_high=float(ci[1]),
        alpha=float(alpha),
        reps=int(B),
        weights=weights,
        seed=int(seed) if isinstance(seed, int | np.integer) else None,
        cluster=cluster,
        n_clusters=G,
        enumerated=enumerated,
        method="score-R" if restricted else "score-U",
        pvalue_type=ptype,
        terms=tuple(terms),
        clusters=(cluster,),
        bootcluster=cluster,
        n_clusters_by={cluster: G},
        bootstrap_statistics=stats,
    )
