r"""Wild cluster bootstrap for every linear estimator: restricted and unrestricted, one- and two-way.

ICS research has few clusters by construction (42 systems, 7 regions, a handful of treated
systems), and cluster-robust t-tests over-reject with few clusters. The wild cluster bootstrap
(Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017; Roodman, MacKinnon, Nielsen & Webb 2019,
Stata's ``boottest``, R's ``fwildclusterboot``) is the standard remedy. This module is the one
engine behind :meth:`RegressionResult.wild_bootstrap` for ``fit`` (linear panel), ``fit_hdfe``,
``did_2x2`` and ``event_study``; :mod:`icsresearch.models.panel.bootstrap` is a thin wrapper.

The bootstrap
-------------
For ``H0: R beta = r`` (one or several coefficients):

1. WCR (``restricted=True``, the default, as ``boottest``): estimate with the null imposed,
   giving :math:`\tilde\beta` and residuals :math:`\tilde u`; WCU (``restricted=False``): use
   the unrestricted :math:`\hat\beta, \hat u`, and centre the bootstrap statistics on
   :math:`R\hat\beta` instead of ``r``;
2. for each replication ``b`` draw one weight :math:`v_h` per *bootstrap cluster* ``h``
   (Rademacher :math:`\pm 1`, or Webb's six-point :math:`\pm\sqrt{1/2}, \pm 1, \pm\sqrt{3/2}`,
   better below about 12 clusters) and build :math:`y^* = X\tilde\beta + \tilde u \cdot v_{h(i)}`;
3. re-estimate and compute the cluster-robust statistic: :math:`t^*_b` for one coefficient, the
   Wald statistic :math:`W^*_b = \theta^{*\prime}(R V^* R')^{-1}\theta^*` for several;
4. the p-value compares the sample statistic with the :math:`t^*_b` (below).

With Rademacher weights and :math:`2^G \le` ``reps`` all :math:`2^G` sign vectors are enumerated:
the exact bootstrap distribution, deterministic (no seed needed).

Nothing is refitted: the bootstrap residuals are linear in the weights,
:math:`u^* = (W - X P) v` with ``W`` the ``n x G`` matrix whose column ``h`` is :math:`\tilde u`
on the rows of cluster ``h`` (zero elsewhere) and :math:`P = (X'X)^{-1} X'W`, so every
replication's score sums and covariance come from ``G x G`` quadratic forms (Roodman et al.
2019, section 3). All replications and all null values of the confidence interval take a few
matrix products.

Fixed effects (Frisch-Waugh-Lovell)
-----------------------------------
The engine works on the regression with the fixed effects partialled out (``X``, ``y`` demeaned;
for weighted models, both multiplied by :math:`\sqrt{w}`). When every fixed effect is *nested*
in the bootstrap clusters (unit effects with unit or ICS clusters), bootstrapping the demeaned
regression is exactly the bootstrap of the model with the fixed effects as dummies: the weights
are constant within each fixed-effect level, so :math:`\tilde u \cdot v` stays orthogonal to the
dummies. When a fixed effect is *not* nested (period effects with unit clusters) it is not:
re-estimating the dummies changes the bootstrap residuals by the projection of
:math:`\tilde u \cdot v` on them. That case is handled exactly too, because the projection is
linear in ``v``: the columns of ``W`` are demeaned by all the fixed effects (alternating
projections, to 1e-13), which is the bootstrap of the full dummy-variable model (as
``wildboottest`` via pyfixest's one-hot design, and ``boottest`` after ``regress`` with the
dummies). Results of :func:`icsresearch.models.fit` bootstrap the regression the panel model
actually runs (its demeaned data, fixed effects not re-estimated), as before.

Two-way clustering
------------------
With two cluster variables the statistic uses the two-way CRV1 covariance of Cameron, Gelbach &
Miller (:math:`V_1 + V_2 - V_{12}`), in the sample and in every replication; the weights are
drawn at the level of **one** dimension, the *bootstrap cluster*: by default the dimension with
fewer clusters, as MacKinnon, Nielsen & Webb (2021) recommend ("bootstrap by the dimension with
fewer clusters"); ``bootcluster=`` picks another. ``boottest``'s ``bootcluster()`` option is the
same choice. A constant small-sample factor (CR1's, with the smallest ``G`` for two-way, as
Stata/fixest) cancels between the statistic and its bootstrap copies, so p-values do not depend
on the convention; ``statistic`` is reported with that factor.

p-values (as ``boottest``'s ``ptype()``)
----------------------------------------
``"symmetric"`` ``mean(|t*| >= |t|)`` (default), ``"equal-tailed"``
``2 min(mean(t* <= t), mean(t* >= t))``, ``"lower"`` ``mean(t* <= t)`` (H1: below) and
``"upper"`` ``mean(t* >= t)``. Joint tests use ``mean(W* >= W)``. Ties are counted as
exceedances (``>=``, with a relative tolerance of 1e-12): under WCR the all-ones weight vector
reproduces the sample, so with enumerated weights the sample statistic is one of the bootstrap
statistics and counting it matters at ``2^-G``. ``wildboottest`` counts strictly (``>``); the
two differ only by such ties.

Confidence interval (test inversion, one coefficient)
------------------------------------------------------
The set of ``r`` whose bootstrap p-value is at least ``alpha``. The same weights are used for
every ``r``, so ``p(r)`` is a step function; its two crossings of ``alpha`` either side of the
estimate are found by bisection (to 1e-7 of a standard error) from a bracket grown outward from
twice the standard error. Restricted residuals are affine in ``r``, so each ``p(r)`` costs a few
vector operations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ...errors import InvalidParameterError
from ...options import check_alpha

#: Webb's six-point distribution: mean 0, variance 1, for fewer than about 12 clusters.
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
WEIGHT_TYPES = ("webb", "rademacher")
PVALUE_TYPES = ("symmetric", "equal-tailed", "lower", "upper")
# relative tolerance for ties between the sample statistic and a bootstrap statistic
_TIE = 1e-12


def t_p_value(t: float, tstar: np.ndarray, pvalue: str) -> float:
    """Bootstrap p-value of a t statistic from its bootstrap copies (ties count as exceeding).

    Parameters
    ----------
    t
        The sample statistic (centred on the null value).
    tstar
        The bootstrap statistics; NaN (no statistic in that replication) never exceeds.
    pvalue
        ``"symmetric"`` (``mean(|t*| >= |t|)``), ``"equal-tailed"`` (twice the smaller tail),
        ``"lower"`` or ``"upper"``, as Stata's ``boottest``.
    """
    tol = _TIE * max(abs(t), 1.0)
    if pvalue == "symmetric":
        return float(np.mean(np.abs(tstar) >= abs(t) - tol))
    lower = float(np.mean(tstar <= t + tol))
    upper = float(np.mean(tstar >= t - tol))
    if pvalue == "lower":
        return lower
    if pvalue == "upper":
        return upper
    return min(1.0, 2 * min(lower, upper))


def interval_end(
    pval: Callable[[float], float],
    estimate: float,
    se: float,
    alpha: float,
    direction: float,
    *,
    precision: float = 1e-7,
    doublings: int = 60,
) -> float:
    """One end of a confidence interval by test inversion: where ``pval(r)`` crosses ``alpha``.

    A bracket grows outward from ``estimate`` (doubling from two standard errors) until the
    null is rejected, then bisection locates the crossing to ``precision`` standard errors.

    Parameters
    ----------
    pval
        The bootstrap p-value of ``H0: beta = r`` as a function of ``r``.
    estimate, se
        The coefficient and its standard error (the scale of the search).
    alpha
        The interval's level is ``1 - alpha``.
    direction
        ``-1.0`` for the lower end, ``1.0`` for the upper.
    precision
        Bisection stops when the bracket is narrower than this many standard errors.
    doublings
        How far the bracket may grow before the end is declared infinite.

    Returns
    -------
    float
        The end, or ``direction * inf`` when no value is rejected.
    """
    inner, outer = estimate, estimate + direction * 2.0 * se
    for _ in range(doublings):
        if pval(outer) < alpha:
            break
        inner, outer = outer, estimate + direction * (abs(outer - estimate) * 2)
    else:
        return direction * np.inf
    for _ in range(200):
        mid = (inner + outer) / 2
        if pval(mid) >= alpha:
            inner = mid
        else:
            outer = mid
        if abs(outer - inner) < precision * se:
            break
    return (inner + outer) / 2


def wald_p_value(wald: float, wstar: np.ndarray) -> float:
    """Bootstrap p-value of a Wald statistic: the share of bootstrap copies at least as large.

    Parameters
    ----------
    wald
        The sample Wald statistic.
    wstar
        Its bootstrap copies.
    """
    return float(np.mean(wstar >= wald - _TIE * max(abs(wald), 1.0)))


@dataclass
class WildBootstrapResult:
    """Outcome of a wild cluster bootstrap test (and, for one coefficient, its interval).

    Attributes
    ----------
    term
        The coefficient tested, or the terms joined by ``", "`` for a joint test.
    estimate
        The estimate of ``R beta`` (a float for one coefficient, an array for several).
    null
        The null value ``r`` of ``H0: R beta = r`` (float or array).
    statistic
        The sample's cluster-robust statistic: ``t`` (CR1 factor) for one coefficient, the Wald
        statistic ``theta' (R V R')^-1 theta`` for several.
    p_value
        The bootstrap p-value (``pvalue_type``).
    ci_low, ci_high, alpha
        Confidence interval at level ``1 - alpha`` by test inversion (one coefficient; NaN for a
        joint test).
    reps
        Replications used (``2**G`` when enumerated).
    weights, seed, cluster, n_clusters, enumerated
        Weight distribution, seed (None when a generator or nothing was given), the cluster
        variable(s) as text (``"a + b"`` for two-way), the number of bootstrap clusters, and
        whether all sign vectors were enumerated.
    method
        ``"WCR"`` (null imposed) or ``"WCU"``; for the score bootstrap ``"score-R"`` (null
        imposed) or ``"score-U"``.
    pvalue_type
        ``"symmetric"``, ``"equal-tailed"``, ``"lower"``, ``"upper"``, or ``"wald"`` (joint).
    terms, clusters, bootcluster
        The terms tested; the cluster variables; the variable the weights are drawn on.
    n_clusters_by
        Clusters per variable.
    bootstrap_statistics
        The ``reps`` bootstrap statistics (``t*`` or ``W*``, with the same factor as
        ``statistic``), for checks and plots.
    """

    term: str
    estimate: Any
    null: Any
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
    method: str = "WCR"
    pvalue_type: str = "symmetric"
    terms: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    bootcluster: str = ""
    n_clusters_by: dict[str, int] = field(default_factory=dict)
    bootstrap_statistics: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        level = 100 * (1 - self.alpha)
        how = "all sign vectors" if self.enumerated else f"{self.reps} replications"
        kind = {
            "WCR": "Wild cluster restricted bootstrap",
            "WCU": "Wild cluster unrestricted bootstrap",
            "score-R": "Score bootstrap, null imposed (Kline & Santos)",
            "score-U": "Score bootstrap, null not imposed (Kline & Santos)",
        }.get(self.method, self.method)
        where = f"{self.n_clusters} clusters in {self.cluster!r}"
        if len(self.clusters) > 1:
            where = (
                f"two-way by {self.cluster!r}, weights by {self.bootcluster!r} "
                f"({self.n_clusters} clusters)"
            )
        head = f"{kind} ({self.weights} weights, {how}, {where})"
        if len(self.terms) > 1:
            nulls = ", ".join(f"{t} = {v:g}" for t, v in zip(self.terms, self.null, strict=True))
            return (
                f"{head}\n  joint Wald test of {nulls}: W = {self.statistic:.4f}, "
                f"p = {self.p_value:.4f}"
            )
        return (
            f"{head}\n"
            f"  {self.term}: estimate {self.estimate:.6g}, t = {self.statistic:.4f}, "
            f"p = {self.p_value:.4f} ({self.pvalue_type}; H0: = {self.null:g})\n"
            f"  {level:g}% CI (test inversion): [{self.ci_low:.6g}, {self.ci_high:.6g}]"
        )


@dataclass(frozen=True)
class WildData:
    """The regression a wild bootstrap re-runs, kept on a result by its estimator.

    Attributes
    ----------
    X, y
        Regressors and outcome with the fixed effects partialled out and, for weighted models,
        multiplied by the square root of the weights (columns in the order of ``params``).
    rows
        The rows used (same order as ``X``), with the columns clusters may be drawn from.
    fixed_effects
        Integer codes per absorbed fixed effect (name -> codes, one per row).
    sqrt_weights
        Square roots of the regression weights, or None.
    cluster
        The cluster variables of the result's own inference (the default of the bootstrap).
    n_absorbed
        Parameters absorbed by the fixed effects that the small-sample ``K`` counts.
    small_sample_factor
        The result's own CRV1 factor when it clustered, else None.
    coef_map
        For results whose coefficients are linear combinations of the regression's (Sun &
        Abraham event studies): the matrix mapping regression coefficients to them; else None.
    """

    X: np.ndarray
    y: np.ndarray
    rows: pd.DataFrame
    fixed_effects: dict[str, np.ndarray] = field(default_factory=dict)
    sqrt_weights: np.ndarray | None = None
    cluster: tuple[str, ...] = ()
    n_absorbed: int = 0
    small_sample_factor: float | None = None
    coef_map: np.ndarray | None = None


# --- weights ---------------------------------------------------------------------------------


def draw_weights(
    n_clusters: int, reps: int, kind: str, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """Bootstrap weights, one row per cluster and one column per replication.

    Parameters
    ----------
    n_clusters
        Number of bootstrap clusters ``G``.
    reps
        Replications asked for.
    kind
        ``"rademacher"`` (all ``2**G`` sign vectors when ``2**G <= reps``) or ``"webb"``.
    rng
        The random generator (unused when enumerating).

    Returns
    -------
    tuple
        The ``G x B`` weights and whether they are the full enumeration.
    """
    G = n_clusters
    if kind == "rademacher":
        if G < 63 and reps >= 2**G:
            # every sign vector: the exact bootstrap distribution
            grid = (np.arange(2**G)[None, :] >> np.arange(G)[:, None]) & 1
            return (2.0 * grid - 1.0), True
        return rng.choice(np.array([-1.0, 1.0]), size=(G, reps)), False
    if kind == "webb":
        return rng.choice(WEBB, size=(G, reps)), False
    raise InvalidParameterError(
        f"weights={kind!r} is not 'webb' or 'rademacher'\n  Fix: pass weights='webb' (fewer "
        "than about 12 clusters) or weights='rademacher'"
    )


# --- helpers ---------------------------------------------------------------------------------


def _codes(values: Any) -> tuple[np.ndarray, int]:
    codes = np.asarray(pd.factorize(pd.Series(np.asarray(values)), sort=True)[0], dtype=np.intp)
    return codes, int(codes.max()) + 1 if codes.size else 0


def _group_sums(M: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sums of the rows of ``M`` (any trailing shape) within each group."""
    flat = M.reshape(M.shape[0], -1)
    out = np.zeros((n_groups, flat.shape[1]))
    np.add.at(out, codes, flat)
    return out.reshape((n_groups, *M.shape[1:]))


def _is_nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether every level of ``inner`` lies within one level of ``outer``."""
    pairs = np.unique(np.column_stack([inner, outer]), axis=0)
    return len(pairs) == len(np.unique(inner))


def partial_out(
    Z: np.ndarray,
    fixed_effects: Sequence[np.ndarray],
    sqrt_weights: np.ndarray | None = None,
    *,
    tol: float = 1e-13,
    max_iter: int = 100_000,
) -> np.ndarray:
    """Residuals of the columns of ``Z`` on the fixed-effect dummies (alternating projections).

    Parameters
    ----------
    Z
        ``n x m`` matrix, on the scale of the transformed regression (times ``sqrt(w)``).
    fixed_effects
        Integer codes per fixed effect.
    sqrt_weights
        Square roots of the regression weights (the dummies are ``sqrt(w) D``), or None.
    tol, max_iter
        Convergence: largest change below ``tol`` times the largest entry.

    Returns
    -------
    numpy.ndarray
        ``M_D Z``, the same shape as ``Z``.
    """
    sw = np.ones(Z.shape[0]) if sqrt_weights is None else np.asarray(sqrt_weights, float)
    w = sw**2
    work = Z / sw[:, None]  # back to the raw scale: weighted demeaning there
    groups = []
    for raw in fixed_effects:
        codes = np.unique(np.asarray(raw), return_inverse=True)[1].ravel()  # no empty levels
        G = int(codes.max()) + 1
        groups.append((codes, G, np.bincount(codes, weights=w, minlength=G)))
    scale = float(np.abs(work).max()) or 1.0
    for _ in range(max_iter):
        change = 0.0
        for codes, G, wsum in groups:
            means = _group_sums(work * w[:, None], codes, G) / wsum[:, None]
            work = work - means[codes]
            change = max(change, float(np.abs(means).max()))
        if len(groups) == 1 or change < tol * scale:  # one fixed effect: one pass is exact
            break
    else:
        raise InvalidParameterError(
            "partialling out the fixed effects did not converge\n  Fix: check that the fixed "
            "effects are connected, or cluster so that they are nested in the bootstrap clusters"
        )
    return work * sw[:, None]


# --- the engine ------------------------------------------------------------------------------


def wild_bootstrap_arrays(
    X: np.ndarray,
    y: np.ndarray,
    R: np.ndarray,
    null: float | Sequence[float] = 0.0,
    *,
    clusters: dict[str, np.ndarray],
    bootcluster: str | None = None,
    fixed_effects: Sequence[np.ndarray] = (),
    sqrt_weights: np.ndarray | None = None,
    restricted: bool = True,
    weights: Literal["webb", "rademacher"] = "webb",
    reps: int = 9999,
    seed: int | np.random.Generator | None = None,
    pvalue: Literal["symmetric", "equal-tailed", "lower", "upper"] = "symmetric",
    alpha: float = 0.05,
    small_sample_factor: float | None = None,
    n_absorbed: int = 0,
    terms: Sequence[str] | None = None,
) -> WildBootstrapResult:
    """Wild cluster bootstrap test of ``R beta = null`` on a regression given as arrays.

    Parameters
    ----------
    X, y
        Regressors (``n x k``) and outcome, fixed effects partialled out, weights applied.
    R
        Constraint matrix, ``q x k`` (a row vector or a ``k`` vector for one constraint).
    null
        ``r``: one value per constraint.
    clusters
        One or two cluster variables: name -> one code per row.
    bootcluster
        The variable the weights are drawn on: a key of ``clusters`` (default: the one with
        fewest clusters).
    fixed_effects
        Codes of fixed effects already partialled out of ``X`` and ``y`` that are to be
        re-estimated in each replication (needed only when not nested in the bootstrap clusters).
    sqrt_weights
        Square roots of the regression weights, or None.
    restricted
        WCR (True, null imposed) or WCU.
    weights
        ``"webb"`` or ``"rademacher"``.
    reps
        Replications (all ``2**G`` sign vectors with Rademacher weights when ``2**G <= reps``).
    seed
        Seed or generator.
    pvalue
        ``"symmetric"``, ``"equal-tailed"``, ``"lower"`` or ``"upper"`` (one constraint).
    alpha
        Level of the test-inversion confidence interval (one constraint).
    small_sample_factor
        The factor of the reported statistic; default CR1's
        ``G/(G-1) (N-1)/(N-K)`` with ``K`` the columns of ``X`` plus ``n_absorbed``.
    n_absorbed
        Fixed-effect parameters counted in ``K``.
    terms
        Names for the constraints, for the report.

    Returns
    -------
    WildBootstrapResult
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise InvalidParameterError(
            f"X has shape {X.shape} and y {y.shape}\n  Fix: pass an n x k X and n-vector y"
        )
    n, k = X.shape
    R = np.atleast_2d(np.asarray(R, dtype=float))
    if R.shape[1] != k:
        raise InvalidParameterError(
            f"the constraint matrix has {R.shape[1]} columns for {k} coefficients\n  Fix: one "
            "column per coefficient"
        )
    q = R.shape[0]
    r = np.broadcast_to(np.asarray(null, dtype=float).ravel(), (q,)).copy()
    if not (isinstance(reps, int | np.integer) and not isinstance(reps, bool) and reps >= 9):
        raise InvalidParameterError(f"reps must be an integer >= 9, got {reps!r}\n  Fix: reps=9999")
    if weights not in WEIGHT_TYPES:
        draw_weights(2, 9, str(weights), np.random.default_rng(0))  # raises the clear error
    if pvalue not in PVALUE_TYPES:
        raise InvalidParameterError(
            f"pvalue={pvalue!r} is not one of {PVALUE_TYPES}\n  Fix: pvalue='symmetric'"
        )
    if not isinstance(restricted, bool):
        raise InvalidParameterError(
            f"restricted must be True (WCR) or False (WCU), got {restricted!r}\n  Fix: "
            "restricted=True"
        )
    alpha = check_alpha(alpha)
    if not 1 <= len(clusters) <= 2:
        raise InvalidParameterError(
            f"the wild bootstrap clusters on one or two variables, got {list(clusters)}\n  Fix: "
            "pass cluster='...' or cluster=['a', 'b']"
        )
    dims = {name: _codes(c) for name, c in clusters.items()}
    for name, (codes, G) in dims.items():
        if codes.shape[0] != n:
            raise InvalidParameterError(
                f"cluster {name!r} has {codes.shape[0]} codes for {n} rows\n  Fix: one per row"
            )
        if G < 2:
            raise InvalidParameterError(
                f"the bootstrap needs at least 2 clusters; {name!r} has {G}\n  Fix: cluster on "
                "a variable with several levels"
            )
    if bootcluster is None:
        bootcluster = min(dims, key=lambda d: dims[d][1])
    if bootcluster not in dims:
        raise InvalidParameterError(
            f"bootcluster={bootcluster!r} is not one of the cluster variables {list(dims)}\n"
            "  Fix: pass one of them"
        )
    boot, Gb = dims[bootcluster]
    names = list(terms) if terms is not None else [f"R{i}" for i in range(q)]

    XtX = X.T @ X
    if np.linalg.matrix_rank(XtX) < k:
        raise InvalidParameterError(
            "the regressors are collinear, so the bootstrap cannot re-estimate the model\n  Fix: "
            "drop collinear regressors"
        )
    Q = np.linalg.inv(XtX)
    Q = (Q + Q.T) / 2
    RQR = R @ Q @ R.T
    if np.linalg.matrix_rank(RQR) < q:
        raise InvalidParameterError(
            "the constraints are linearly dependent\n  Fix: drop redundant rows of R / terms"
        )
    beta = Q @ (X.T @ y)
    resid = y - X @ beta
    C = R @ Q  # q x k: the rows of (X'X)^-1 the statistic needs
    XC = X @ C.T  # n x q

    # two-way CRV1 = V1 + V2 - V12 (Cameron, Gelbach & Miller): the intersection is a third
    # "dimension" with sign -1
    pieces: list[tuple[np.ndarray, int, float]] = [(c, G, 1.0) for c, G in dims.values()]
    if len(dims) == 2:
        (c1, _), (c2, _) = dims.values()
        inter, Gi = _codes(c1.astype(np.int64) * (int(c2.max()) + 1) + c2)
        pieces.append((inter, Gi, -1.0))
    G_min = min(G for _, G in dims.values())
    if small_sample_factor is None:
        small_sample_factor = G_min / (G_min - 1) * (n - 1) / (n - k - n_absorbed)

    # the sample's CR0 covariance of R beta (any constant factor cancels in the p-value)
    V0 = np.zeros((q, q))
    for codes, G, sign in pieces:
        S = _group_sums(XC * resid[:, None], codes, G)
        V0 += sign * S.T @ S
    theta = R @ beta - r

    fe_list = [np.asarray(f, dtype=np.intp) for f in fixed_effects]
    need_projection = any(not _is_nested(f, boot) for f in fe_list)

    def pieces_for(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Numerator map ``R P`` (q x Gb) and the meat quadratic forms (q x q x Gb x Gb)."""
        W = np.zeros((n, Gb))
        W[np.arange(n), boot] = u
        if need_projection:
            W = partial_out(W, fe_list, sqrt_weights)
        P = Q @ (X.T @ W)  # k x Gb: beta* - beta~ = P v
        E = W - X @ P  # n x Gb: u* = E v
        L = [(_group_sums(XC[:, :, None] * E[:, None, :], c, G), s) for c, G, s in pieces]
        return R @ P, L

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    V, enumerated = draw_weights(Gb, int(reps), weights, rng)
    B = V.shape[1]

    def quad(La: list, Lb: list) -> np.ndarray:
        """Per replication, ``sum_c (La_c v)(Lb_c v)'`` with signs: q x q x B."""
        out = np.zeros((q, q, B))
        for (A, s), (Bm, _) in zip(La, Lb, strict=True):
            # A: G_d x q x Gb; M_ij = sum_c A_ci' B_cj (Gb x Gb)
            M = np.einsum("cig,cjh->ijgh", A, Bm)
            for i in range(q):
                for j in range(q):
                    out[i, j] += s * ((M[i, j] @ V) * V).sum(0)
        return out

    if restricted:
        # restricted estimates are affine in r: beta~(r) = beta0 + g r, u~(r) = a - X g r
        G_ = Q @ R.T @ np.linalg.inv(RQR)  # k x q
        beta0 = beta - G_ @ (R @ beta)
        a = y - X @ beta0
        if q == 1:
            b = X @ G_[:, 0]
            num_a, La = pieces_for(a)
            num_b, Lb = pieces_for(b)
            Na, Nb = (num_a @ V)[0], (num_b @ V)[0]
            qaa = quad(La, La)[0, 0]
            qab = quad(La, Lb)[0, 0]
            qbb = quad(Lb, Lb)[0, 0]
        else:
            num, L = pieces_for(y - X @ (beta0 + G_ @ r))
    else:
        num, L = pieces_for(resid)
        if q == 1:
            Na, Nb = (num @ V)[0], np.zeros(B)
            qaa = quad(L, L)[0, 0]
            qab = qbb = np.zeros(B)

    if q == 1:
        se0 = float(np.sqrt(V0[0, 0])) if V0[0, 0] > 0 else float("nan")
        est = float((R @ beta)[0])

        def tstar(rv: float) -> np.ndarray:
            den = qaa - 2 * rv * qab + rv * rv * qbb
            # a two-way variance can be negative: that replication has no t* (NaN, which
            # counts as not exceeding the sample's)
            with np.errstate(divide="ignore", invalid="ignore"):
                return (Na - rv * Nb) / np.sqrt(np.where(den > 0, den, np.nan))

        def pval(rv: float) -> float:
            return t_p_value((est - rv) / se0, tstar(rv), pvalue)

        def crossing(direction: float) -> float:
            return interval_end(pval, est, se0, alpha, direction)

        if not np.isfinite(se0):
            raise InvalidParameterError(
                "the sample's cluster-robust variance is not positive (two-way clustering can "
                "give a negative one)\n  Fix: cluster on one variable"
            )
        factor = np.sqrt(small_sample_factor)
        r0 = float(r[0])
        return WildBootstrapResult(
            term=names[0],
            estimate=est,
            null=r0,
            statistic=(est - r0) / (se0 * factor),
            p_value=pval(r0),
            ci_low=crossing(-1.0),
            ci_high=crossing(1.0),
            alpha=float(alpha),
            reps=int(B),
            weights=weights,
            seed=int(seed) if isinstance(seed, int | np.integer) else None,
            cluster=" + ".join(dims),
            n_clusters=Gb,
            enumerated=enumerated,
            method="WCR" if restricted else "WCU",
            pvalue_type=pvalue,
            terms=(names[0],),
            clusters=tuple(dims),
            bootcluster=bootcluster,
            n_clusters_by={d: G for d, (_, G) in dims.items()},
            bootstrap_statistics=tstar(r0) / factor,
        )

    # joint Wald test
    if pvalue != "symmetric":
        raise InvalidParameterError(
            f"pvalue={pvalue!r} applies to one coefficient; a joint test uses the Wald "
            "statistic's upper tail\n  Fix: leave pvalue at its default"
        )
    num_star = num @ V  # q x B
    Vstar = np.moveaxis(quad(L, L), 2, 0)  # B x q x q
    try:
        W0 = float(theta @ np.linalg.solve(V0, theta))
    except np.linalg.LinAlgError:
        raise InvalidParameterError(
            "the sample's cluster-robust covariance of the tested terms is singular (more "
            "restrictions than clusters support)\n  Fix: test fewer terms"
        ) from None
    # pinv: a replication whose covariance is singular gets a finite statistic, not an error
    sol = np.linalg.pinv(Vstar) @ num_star.T[:, :, None]
    Wstar = np.einsum("bi,bi->b", num_star.T, sol[:, :, 0])
    p = wald_p_value(W0, Wstar)
    return WildBootstrapResult(
        term=", ".join(names),
        estimate=R @ beta,
        null=r,
        statistic=W0 / small_sample_factor,
        p_value=p,
        ci_low=float("nan"),
        ci_high=float("nan"),
        alpha=float(alpha),
        reps=int(B),
        weights=weights,
        seed=int(seed) if isinstance(seed, int | np.integer) else None,
        cluster=" + ".join(dims),
        n_clusters=Gb,
        enumerated=enumerated,
        method="WCR" if restricted else "WCU",
        pvalue_type="wald",
        terms=tuple(names),
        clusters=tuple(dims),
        bootcluster=bootcluster,
        n_clusters_by={d: G for d, (_, G) in dims.items()},
        bootstrap_statistics=Wstar / small_sample_factor,
    )


# --- results of the estimators -----------------------------------------------------------------


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _panel_problem(result: Any, cluster: list[str]) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """X, y, cluster codes and the CR1 factor inputs of a :func:`fit` result's own regression."""
    reg, design, spec = result.regression, result.design, result.spec
    if not cluster:
        cluster = list(spec.inference.cluster) or [design.entity_name]
    codes: dict[str, np.ndarray] = {}
    for name in cluster:
        if name in reg.clusters:
            codes[name] = reg.clusters[name]
        elif name == design.entity_name:
            codes[name] = reg.entity
        elif name == design.time_name and reg.time is not None:
            codes[name] = reg.time
        else:
            raise InvalidParameterError(
                f"cluster variable {name!r} is not available in this result\n  Fix: refit with "
                f"vcov='CRV1', cluster={name!r}, or cluster on {design.entity_name!r}"
            )
    return reg.X, reg.y, codes, {"nobs": reg.nobs, "k": reg.k}


def wild_bootstrap(
    result: Any,
    term: str | Sequence[str],
    *,
    reps: int = 9999,
    seed: int | np.random.Generator | None = None,
    weights: Literal["webb", "rademacher"] = "webb",
    cluster: str | Sequence[str] | None = None,
    alpha: float | None = None,
    null: float | Sequence[float] = 0.0,
    restricted: bool = True,
    pvalue: Literal["symmetric", "equal-tailed", "lower", "upper"] = "symmetric",
    bootcluster: str | None = None,
) -> WildBootstrapResult:
    """Wild cluster bootstrap test (and test-inversion CI) for a fitted linear model.

    Parameters
    ----------
    result
        A result of ``fit``, ``fit_hdfe`` (OLS), ``did_2x2`` or ``event_study``.
    term
        A coefficient name, or several for a joint Wald test that all equal ``null``.
    reps
        Replications (all ``2**G`` sign vectors with Rademacher weights when ``2**G <= reps``).
    seed
        Seed or generator, for reproducible results.
    weights
        ``"webb"`` (six-point, default) or ``"rademacher"``.
    cluster
        One or two columns to cluster on; default the result's own cluster variable(s) (for
        ``fit``, else the entity).
    alpha
        The interval's level is ``1 - alpha``; default the result's ``alpha``.
    null
        ``H0: coef = null`` (one value, or one per term).
    restricted
        True: WCR, null imposed (recommended); False: WCU.
    pvalue
        ``"symmetric"`` (default), ``"equal-tailed"``, ``"lower"`` or ``"upper"``.
    bootcluster
        With two-way clustering, the variable the weights are drawn on (default: the one with
        fewer clusters).

    Returns
    -------
    WildBootstrapResult
    """
    names = [str(n) for n in result.params.index]
    terms = _as_list(term)
    if not terms:
        raise InvalidParameterError("no term to test\n  Fix: pass term='name' or a list of names")
    for t in terms:
        if t not in names:
            raise InvalidParameterError(
                f"term {t!r} is not a coefficient; choose one of {names}\n  Fix: use a name "
                "of result.params"
            )
    if len(set(terms)) != len(terms):
        raise InvalidParameterError(f"terms {terms} repeat a name\n  Fix: name each term once")
    alpha = getattr(result, "alpha", 0.05) if alpha is None else alpha
    wanted = _as_list(cluster)
    R_res = np.zeros((len(terms), len(names)))
    for i, t in enumerate(terms):
        R_res[i, names.index(t)] = 1.0

    if getattr(result, "regression", None) is not None and getattr(result, "design", None):
        X, y, codes, dims = _panel_problem(result, wanted)
        G_min = min(len(np.unique(c)) for c in codes.values())
        n, k = dims["nobs"], dims["k"]
        factor = G_min / (G_min - 1) * (n - 1) / (n - k) if G_min > 1 else None
        return wild_bootstrap_arrays(
            X, y, R_res, null, clusters=codes, bootcluster=bootcluster, restricted=restricted,
            weights=weights, reps=reps, seed=seed, pvalue=pvalue, alpha=alpha,
            small_sample_factor=factor, terms=terms,
        )  # fmt: skip

    data: WildData | None = getattr(result, "_wild_data", None)
    if data is None:
        why = getattr(result, "extra", {}).get("wild_bootstrap_unavailable")
        raise InvalidParameterError(
            f"this result does not support the wild cluster bootstrap"
            f"{': ' + why if why else ''}\n  Fix: use a result of fit, fit_hdfe (OLS), did_2x2 "
            "or event_study; for fit_glm use icsresearch.models.inference.score_bootstrap"
        )
    coef_map = getattr(data, "coef_map", None)
    R = R_res if coef_map is None else R_res @ coef_map
    if R.shape[1] != data.X.shape[1]:
        raise InvalidParameterError(
            f"the result has {len(names)} coefficients but its regression {data.X.shape[1]}\n"
            "  Fix: bootstrap the result the estimator returned, not an edited copy"
        )
    wanted = wanted or list(data.cluster)
    if not wanted:
        raise InvalidParameterError(
            "the result is not clustered, so the bootstrap does not know its clusters\n  Fix: "
            "pass cluster='column' (e.g. the ICS or trust code)"
        )
    codes = {}
    for name in wanted:
        if name not in data.rows.columns:
            raise InvalidParameterError(
                f"cluster variable {name!r} is not available in this result\n  Fix: cluster on "
                f"a column of the data the model was fitted on ({list(data.rows.columns)[:8]}...)"
            )
        values = data.rows[name]
        if values.isna().any():
            raise InvalidParameterError(
                f"cluster column {name!r} is missing for {int(values.isna().sum())} rows\n  Fix: "
                f"refit with cluster={name!r} so those rows are dropped"
            )
        codes[name] = values.to_numpy()
    same = tuple(wanted) == tuple(data.cluster)
    return wild_bootstrap_arrays(
        data.X, data.y, R, null, clusters=codes, bootcluster=bootcluster,
        fixed_effects=list(data.fixed_effects.values()), sqrt_weights=data.sqrt_weights,
        restricted=restricted, weights=weights, reps=reps, seed=seed, pvalue=pvalue, alpha=alpha,
        small_sample_factor=data.small_sample_factor if same else None,
        n_absorbed=data.n_absorbed, terms=terms,
    )  # fmt: skip
