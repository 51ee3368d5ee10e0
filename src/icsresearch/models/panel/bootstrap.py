r"""Wild cluster restricted (WCR) bootstrap for one coefficient: p-value and confidence interval.

With few clusters (42 ICSs, or a few dozen trusts in a region) cluster-robust t-tests over-reject.
The WCR bootstrap (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017; Roodman et al. 2019,
Stata's ``boottest``, R's ``fwildclusterboot``) is the standard remedy:

1. estimate the model with the null imposed, :math:`\beta_k = r`, giving restricted residuals
   :math:`\tilde u`;
2. for each replication ``b`` draw one weight :math:`v_g` per cluster (Rademacher :math:`\pm 1`, or
   Webb's six-point :math:`\pm\sqrt{1/2}, \pm 1, \pm\sqrt{3/2}`, better with fewer than about 12
   clusters) and build :math:`y^* = X\tilde\beta + \tilde u \cdot v_{g(i)}`;
3. re-estimate and compute the cluster-robust t-statistic :math:`t^*_b` for :math:`\beta_k = r`;
4. the symmetric p-value is the share of :math:`|t^*_b| \ge |t|`.

The model's own regression is bootstrapped: the demeaned data for ``within`` (fixed effects
partialled out, as ``boottest`` after ``areg``/``reghdfe``), the quasi-demeaned data with the
variance components held fixed for ``random``. The t-statistics use the CR1 variance; its constant
small-sample factor cancels between :math:`t` and :math:`t^*`, so the p-value does not depend on
the plm/Stata convention.

Computation follows Roodman et al. (2019): :math:`t^*` for every replication and every null
value ``r`` comes from a few ``G x G`` and ``G x B`` matrix products, without refitting. With
Rademacher weights and :math:`2^G \le` ``reps`` all :math:`2^G` sign vectors are enumerated (the
exact bootstrap distribution).

Confidence interval (test inversion): the interval is the set of ``r`` whose bootstrap p-value is
at least ``alpha``. Because the same weights are used for every ``r``, ``p(r)`` is a step function;
its two crossings of ``alpha`` either side of the estimate are found by bisection (to 1e-7 of a
standard error), starting from a bracket grown outward from the Wald interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from ...errors import InvalidParameterError
from ...options import check_alpha
from . import transform as tf

if TYPE_CHECKING:  # pragma: no cover
    from .model import PanelResult

WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass
class WildBootstrapResult:
    """Outcome of a wild cluster restricted bootstrap.

    Attributes
    ----------
    term, estimate
        The coefficient tested and its estimate.
    null
        The null value ``r`` of ``H0: coef = r`` for the p-value.
    statistic
        The CR1 cluster-robust t-statistic of the sample, ``(estimate - null) / se``.
    p_value
        Symmetric bootstrap p-value ``mean(|t*| >= |t|)``.
    ci_low, ci_high, alpha
        Confidence interval at level ``1 - alpha`` by test inversion.
    reps
        Replications used (``2**G`` when enumerated).
    weights, seed, cluster, n_clusters, enumerated
        How the bootstrap was run.
    """

    term: str
    estimate: float
    null: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float
    reps: int
    weights: str
    seed: int | None
    cluster: str
    n_clusters: int
    enumerated: bool

    def __repr__(self) -> str:
        level = 100 * (1 - self.alpha)
        how = "all sign vectors" if self.enumerated else f"{self.reps} replications"
        return (
            f"Wild cluster restricted bootstrap ({self.weights} weights, {how}, "
            f"{self.n_clusters} clusters in {self.cluster!r})\n"
            f"  {self.term}: estimate {self.estimate:.6g}, t = {self.statistic:.4f}, "
            f"p = {self.p_value:.4f} (H0: = {self.null:g})\n"
            f"  {level:g}% CI (test inversion): [{self.ci_low:.6g}, {self.ci_high:.6g}]"
        )


def _weights(G: int, reps: int, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    if kind == "rademacher":
        if reps >= 2**G:
            # every sign vector: the exact bootstrap distribution
            grid = (np.arange(2**G)[None, :] >> np.arange(G)[:, None]) & 1
            return (2.0 * grid - 1.0), True
        return rng.choice(np.array([-1.0, 1.0]), size=(G, reps)), False
    if kind == "webb":
        return rng.choice(WEBB, size=(G, reps)), False
    raise InvalidParameterError(f"weights={kind!r} is not 'webb' or 'rademacher'")


def wild_cluster_bootstrap(
    result: PanelResult,
    term: str,
    *,
    reps: int = 9999,
    seed: int | np.random.Generator | None = None,
    weights: Literal["webb", "rademacher"] = "webb",
    cluster: str | None = None,
    alpha: float = 0.05,
    null: float = 0.0,
) -> WildBootstrapResult:
    """WCR bootstrap p-value and test-inversion confidence interval for one coefficient.

    Parameters
    ----------
    result
        A result of :func:`icsresearch.models.panel.fit`.
    term
        Coefficient name (as in ``result.params``).
    reps
        Bootstrap replications (9,999 is customary; fewer for quick checks).
    seed
        Seed or generator, for reproducible results.
    weights
        ``"webb"`` (six-point, default) or ``"rademacher"``.
    cluster
        Column to cluster on; default the result's cluster variable, else the entity.
    alpha
        Confidence level ``1 - alpha`` of the interval.
    null
        Null value for the p-value (``H0: coef = null``).

    Returns
    -------
    WildBootstrapResult
    """
    reg = getattr(result, "regression", None)
    design = getattr(result, "design", None)
    spec = getattr(result, "spec", None)
    if reg is None or design is None or spec is None:
        raise InvalidParameterError(
            "this result does not carry its regression\n  Fix: use a result of "
            "icsresearch.models.fit(...)"
        )
    names = list(result.params.index)
    if term not in names:
        raise InvalidParameterError(f"term {term!r} is not a coefficient; choose one of {names}")
    if not (isinstance(reps, int | np.integer) and reps >= 9):
        raise InvalidParameterError(f"reps must be an integer >= 9, got {reps!r}")
    alpha = check_alpha(alpha)
    if cluster is None:
        used = list(spec.inference.cluster) or [design.entity_name]
        if len(used) != 1:
            raise InvalidParameterError(
                f"the result is clustered on {used}; the wild bootstrap clusters on one variable"
                "\n  Fix: pass cluster='...'"
            )
        cluster = used[0]
    if cluster in reg.clusters:
        codes = reg.clusters[cluster]
    elif cluster == design.entity_name:
        codes = reg.entity
    elif cluster == design.time_name and reg.time is not None:
        codes = reg.time
    else:
        raise InvalidParameterError(
            f"cluster variable {cluster!r} is not available in this result\n  Fix: refit with "
            f"vcov='CRV1', cluster={cluster!r}, or cluster on {design.entity_name!r}"
        )
    _, pos = np.unique(codes, return_inverse=True)
    G = int(pos.max()) + 1
    if G < 2:
        raise InvalidParameterError(f"the bootstrap needs at least 2 clusters; {cluster!r} has {G}")
    k = names.index(term)
    X, y, Q = reg.X, reg.y, reg.bread
    # restricted residuals are affine in the null value r: u(r) = a - r * b
    others = [j for j in range(X.shape[1]) if j != k]
    if others:
        Xo = X[:, others]
        coef = np.linalg.lstsq(Xo, np.column_stack([y, X[:, k]]), rcond=None)[0]
        ab = np.column_stack([y, X[:, k]]) - Xo @ coef
    else:
        ab = np.column_stack([y, X[:, k]])
    a, b = ab[:, 0], ab[:, 1]
    Sa = tf.group_sums(X * a[:, None], pos, G)  # rows: X_g' a_g
    Sb = tf.group_sums(X * b[:, None], pos, G)
    Pa, Pb = Q @ Sa.T, Q @ Sb.T  # k x G
    F = tf.group_sums((X[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1), pos, G)
    A = F.reshape(G, X.shape[1], X.shape[1]) @ Q[k]  # a_k' X_g'X_g, with Q symmetric
    Ma = np.diag(Pa[k]) - A @ Pa
    Mb = np.diag(Pb[k]) - A @ Pb

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    V, enumerated = _weights(G, int(reps), weights, rng)
    num_a, num_b = Pa[k] @ V, Pb[k] @ V
    SA, SB = Ma @ V, Mb @ V
    ss_aa, ss_ab, ss_bb = (SA * SA).sum(0), (SA * SB).sum(0), (SB * SB).sum(0)
    del SA, SB

    # the sample's CR0 t-statistic (CR1 factor cancels): unrestricted residuals
    u = reg.resid
    s = tf.group_sums(X * u[:, None], pos, G) @ Q[k]
    se0 = float(np.sqrt(s @ s))
    beta = float(reg.params[k])

    def pval(r: float) -> float:
        t = (beta - r) / se0
        den = ss_aa - 2 * r * ss_ab + r * r * ss_bb
        with np.errstate(divide="ignore", invalid="ignore"):
            tstar = (num_a - r * num_b) / np.sqrt(np.maximum(den, 0.0))
        return float(np.mean(np.abs(tstar) >= abs(t) - 1e-12 * max(abs(t), 1.0)))

    def crossing(direction: float) -> float:
        step = se0 * 2.0
        inner, outer = beta, beta + direction * step
        for _ in range(60):
            if pval(outer) < alpha:
                break
            inner, outer = outer, beta + direction * (abs(outer - beta) * 2)
        else:
            return direction * np.inf
        for _ in range(200):
            mid = (inner + outer) / 2
            if pval(mid) >= alpha:
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) < 1e-7 * se0:
                break
        return (inner + outer) / 2

    N, K = reg.nobs, reg.k
    c1 = G / (G - 1) * (N - 1) / (N - K)
    return WildBootstrapResult(
        term=term,
        estimate=beta,
        null=float(null),
        statistic=(beta - null) / (se0 * np.sqrt(c1)),
        p_value=pval(null),
        ci_low=crossing(-1.0),
        ci_high=crossing(1.0),
        alpha=float(alpha),
        reps=int(V.shape[1]),
        weights=weights,
        seed=seed if isinstance(seed, int) else None,
        cluster=cluster,
        n_clusters=G,
        enumerated=enumerated,
    )
