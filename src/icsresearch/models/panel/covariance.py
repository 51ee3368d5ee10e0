r"""Covariance estimators for the linear panel models, with R plm's and Stata/fixest's conventions.

All estimators are sandwiches :math:`V = c\,(X'X)^{-1} S (X'X)^{-1}` on the regression the model
actually runs (the demeaned data for ``within``, quasi-demeaned for ``random``, entity means for
``between``, differences for ``fd``), with ``X`` and the residuals ``u`` of that regression. They
differ in the "meat" ``S`` and the small-sample factor ``c``. The ``vcov`` words are those of
:data:`icsresearch.options.Vcov` (pyfixest's spelling).

Meat
----
- ``hetero`` (heteroskedasticity-robust, White): :math:`S = \sum_i x_i x_i' u_i^2`.
- ``CRV1`` one-way (Arellano / Liang-Zeger): :math:`S = \sum_g X_g' u_g u_g' X_g`.
- ``CRV1`` two-way (Cameron-Gelbach-Miller / Thompson):
  :math:`V = V_1 + V_2 - V_{12}`, where :math:`V_{12}` clusters on the intersection; with
  entity x time clusters the intersection is one observation, i.e. the White meat (plm
  ``vcovDC``).
- ``DK`` (Driscoll-Kraay): with :math:`h_t = \sum_{i} x_{it} u_{it}` (cross-sectional sums of the
  scores), :math:`S = \Gamma_0 + \sum_{l=1}^{L} (1 - l/(L+1)) (\Gamma_l + \Gamma_l')`,
  :math:`\Gamma_l = \sum_t h_t h_{t-l}'`, periods taken in sorted order of those present; the
  default bandwidth is plm's ``floor(max_i(T_i)^{1/4})`` (plm ``vcovSCC``).
- ``CR2``: the Bell-McCaffrey bias-reduced linearization (clubSandwich ``vcovCR(type = "CR2")``),
  with Satterthwaite degrees of freedom per coefficient; see :mod:`.cr2`. No small-sample factor
  (the adjustment matrices are the correction).
- ``CRV3``: the MacKinnon-Nielsen-Webb (2023) jackknife
  :math:`V = \frac{G-1}{G}\sum_g (\hat\beta_{(g)} - \hat\beta)(\hat\beta_{(g)} - \hat\beta)'`,
  where :math:`\hat\beta_{(g)}` re-estimates the model without cluster ``g``. Fixed effects
  nested in the clusters are partialled out (dropping a cluster drops its effects too); fixed
  effects not nested in the clusters are re-estimated as dummies, so the jackknife is exact.
  This equals the Bell-McCaffrey CR3 of clubSandwich (``vcovCR(type = "CR3")``, no
  ``(G-1)/G``) times ``(G-1)/G``; pyfixest's ``CRV3`` multiplies the same sum by its CR1 factor
  ``G/(G-1) (N-1)/(N-K)`` instead. ``random`` holds the variance components fixed.

Small-sample factor ``c`` (``small_sample="default"``; ``"none"`` gives the plain HC0/CR0 sandwich)
-------------------------------------------------------------------------------------------------
``convention="plm"`` follows plm's ``vcovHC(..., type = "sss")`` (and ``vcovDC``/``vcovSCC``
with ``type = "sss"``):

- clustered: :math:`c = \frac{G}{G-1}\frac{N-1}{N-K}` with ``K`` the number of coefficients of
  the estimated regression. For ``within`` models that is the slopes only: the absorbed fixed
  effects are **not** counted.
- robust: :math:`c = N/(N-K)` (plm's ``white1`` with ``sss``, i.e. HC1 with plm's ``K``).
- two-way clustered: each of the three terms gets its own factor (:math:`G_1`, :math:`G_2`, and
  :math:`N/(N-K)` for the White term).
- driscoll-kraay: :math:`c = \frac{T}{T-1}\frac{N-1}{N-K}`.
- t-tests use the model's residual degrees of freedom (``N - K - #fixed effects`` for within).

``convention="stata"`` follows Stata (``xtreg, fe vce(cluster)``, ``areg``/``reghdfe``) and R
fixest's default ``ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE)`` (= pyfixest CRV1):

- clustered: :math:`c = \frac{G}{G-1}\frac{N-1}{N-K}` where ``K`` = slopes + the absorbed fixed
  effects that are *not* nested in the clusters + 1 for each fixed-effect dimension that *is*
  nested (the "constant" Stata's ``xtreg, fe`` reports). Entity effects with entity clusters:
  ``K`` = slopes + 1; two-way effects with entity clusters: ``K`` = slopes + ``T``.
- robust: :math:`c = N/(N-K)` with every absorbed fixed effect counted (``K`` = slopes +
  ``n_entities`` (+ ``T - 1``)): Stata ``areg, vce(robust)`` / fixest ``"hetero"``.
- two-way clustered: all three terms use :math:`\min(G_1, G_2)` (fixest ``cluster.df = "min"``).
- t-tests for clustered inference use :math:`G - 1` degrees of freedom (:math:`\min(G) - 1`).

For pooled, between, random, fd and lagged models there are no absorbed effects, ``K`` counts every
coefficient including the intercept, and the two conventions give the same covariance (they still
differ in the degrees of freedom of clustered t-tests). Driscoll-Kraay is the same in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import InvalidParameterError
from . import linalg
from . import transform as tf
from .cr2 import WorkingModel, cr2_pieces, satterthwaite_df

#: Below this many clusters cluster-robust inference is unreliable (Cameron & Miller 2015;
#: MacKinnon, Nielsen & Webb 2023): t-tests over-reject.
FEW_CLUSTERS = 50


@dataclass
class FixedEffect:
    """An absorbed fixed-effect dimension of a within model."""

    name: str
    codes: np.ndarray
    n_levels: int


@dataclass
class Regression:
    """The regression a model runs, as the covariance estimators need it.

    ``X``/``y``/``resid`` are transformed and weighted (``sqrt(w)``-scaled). ``entity``/``time``
    give each regression row's codes (``time`` is ``None`` for the between model). ``raw_X`` and
    ``raw_y`` (within only) are the weighted variables before the fixed effects are removed, for
    the exact CR3 jackknife. ``working`` is what CR2 needs (:class:`.cr2.WorkingModel`), or
    ``None`` for a regression that has no CR2 (e.g. a test's auxiliary regression).
    """

    X: np.ndarray
    y: np.ndarray
    params: np.ndarray
    resid: np.ndarray
    bread: np.ndarray
    df_resid: float
    entity: np.ndarray
    time: np.ndarray | None
    clusters: dict[str, np.ndarray]
    fixed_effects: list[FixedEffect] = field(default_factory=list)
    raw_X: np.ndarray | None = None
    raw_y: np.ndarray | None = None
    sw: np.ndarray | None = None
    working: WorkingModel | None = None

    @property
    def nobs(self) -> int:
        return int(self.X.shape[0])

    @property
    def k(self) -> int:
        return int(self.X.shape[1])


@dataclass
class CovResult:
    """A covariance matrix and what describes it.

    ``df_terms`` are per-coefficient degrees of freedom (CR2's Satterthwaite df), which then
    replace ``df`` for t-tests and intervals.
    """

    cov: np.ndarray
    label: str
    df: float | None
    n_clusters: dict[str, int] = field(default_factory=dict)
    factor: float | list[float] = 1.0
    k_used: int | None = None
    warnings: list[str] = field(default_factory=list)
    df_terms: np.ndarray | None = None


# --- building blocks ------------------------------------------------------------------------


def sandwich(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    """``bread @ meat @ bread``, symmetrised."""
    v = bread @ meat @ bread
    return (v + v.T) / 2


def cluster_score_sums(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Sum of the scores within each cluster (G x k)."""
    return tf.group_sums(scores, codes, int(codes.max()) + 1)


def cluster_meat(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """:math:`\\sum_g s_g s_g'` with :math:`s_g` the cluster sums of the scores."""
    s = cluster_score_sums(scores, codes)
    return s.T @ s


def n_groups(codes: np.ndarray) -> int:
    """Number of distinct codes.

    Codes are usually dense (``0..G-1``, from factorizing a column): counting the rows of each
    (``bincount``) takes 0.3 ms for 400,000 rows where sorting them (``np.unique``) took 6 ms.
    """
    if (
        codes.shape[0]
        and codes.dtype.kind in "iu"
        and codes.min() >= 0
        and tf.bincount_is_cheap(int(codes.max()) + 1, codes.shape[0])
    ):
        return int(np.count_nonzero(np.bincount(codes)))
    return int(np.unique(codes).shape[0])


def is_nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True when every level of ``inner`` lies within a single level of ``outer``."""
    pairs = inner.astype(np.int64) * (int(outer.max()) + 1) + outer
    return n_groups(pairs) == n_groups(inner)


def kernel_weights(maxlag: int) -> np.ndarray:
    """Bartlett weights ``1 - l/(L+1)`` for ``l = 1..L`` (plm ``vcovSCC``'s default ``wj``)."""
    lags = np.arange(1, maxlag + 1)
    return 1.0 - lags / (maxlag + 1.0)


def driscoll_kraay_meat(scores: np.ndarray, time: np.ndarray, maxlag: int) -> np.ndarray:
    """Newey-West meat on the cross-sectional sums of the scores (periods in sorted order)."""
    _, pos = np.unique(time, return_inverse=True)
    h = tf.group_sums(scores, pos, int(pos.max()) + 1)
    S = h.T @ h
    for lag, w in zip(range(1, maxlag + 1), kernel_weights(maxlag), strict=True):
        if lag >= h.shape[0]:
            break
        G = h[lag:].T @ h[:-lag]
        S = S + w * (G + G.T)
    return S


def default_bandwidth(entity: np.ndarray) -> int:
    """plm's default Driscoll-Kraay lag: ``floor(max(T_i) ** (1/4))``."""
    return int(np.floor(np.bincount(entity).max() ** 0.25))


# --- degrees-of-freedom conventions ---------------------------------------------------------


def fixest_k(reg: Regression, cluster_codes: list[np.ndarray] | None) -> int:
    """``K`` in ``(N-1)/(N-K)`` as fixest/pyfixest count it (``fixef.K = "nested"``).

    With no clusters (robust) every fixed effect counts; fixed-effect dimensions nested in a
    cluster variable are discarded and replaced by one parameter each.
    """
    fes = reg.fixed_effects
    if not fes:
        return reg.k
    k_fe = sum(f.n_levels for f in fes) - (len(fes) - 1)
    if not cluster_codes:
        return reg.k + k_fe
    nested = [any(is_nested(f.codes, c) for c in cluster_codes) for f in fes]
    if not any(nested):
        return reg.k + k_fe
    k_nested = sum(f.n_levels for f, n in zip(fes, nested, strict=True) if n)
    return reg.k + k_fe - k_nested + sum(nested)


# --- the estimators -------------------------------------------------------------------------


def conventional(reg: Regression) -> np.ndarray:
    """Homoskedastic covariance :math:`\\hat\\sigma^2 (X'X)^{-1}`, with the model's df."""
    sigma2 = linalg.dot(reg.resid, reg.resid) / reg.df_resid
    return sigma2 * reg.bread


def compute(
    reg: Regression,
    vcov: str,
    *,
    convention: str = "plm",
    small_sample: str = "default",
    cluster: list[str] | tuple[str, ...] | None = None,
    bandwidth: int | None = None,
    normal: bool = False,
) -> CovResult:
    """The covariance of ``reg.params`` under the requested inference.

    Parameters
    ----------
    reg
        The regression (see :class:`Regression`).
    vcov
        ``"iid"``, ``"hetero"``, ``"CRV1"``, ``"CR2"``, ``"CRV3"`` or ``"DK"`` (checked by the
        caller).
    convention
        ``"plm"`` or ``"stata"`` (see the module docstring).
    small_sample
        ``"default"``: the convention's finite-sample factor (plm ``type = "sss"``); ``"none"``:
        HC0/CR0. ``CRV3`` always has ``(G-1)/G``.
    cluster
        One or two names from ``reg.clusters``.
    bandwidth
        Driscoll-Kraay maximum lag (default: plm's).
    normal
        Reference distribution is normal (random effects): ``df`` is then ``None``.

    Returns
    -------
    CovResult
    """
    N, k = reg.nobs, reg.k
    scores = reg.X * reg.resid[:, None]
    model_df = None if normal else reg.df_resid
    corrected = small_sample != "none"
    ss = "" if corrected else ", no small-sample factor"

    if vcov == "iid":
        return CovResult(conventional(reg), "conventional (homoskedastic)", model_df, k_used=k)

    if vcov == "hetero":
        meat = scores.T @ scores
        K = reg.k if convention == "plm" else fixest_k(reg, None)
        c = N / (N - K) if corrected else 1.0
        kind = "HC1" if corrected else "HC0"
        label = f"heteroskedasticity-robust ({kind}, {convention}: K={K}{ss})"
        df = model_df if convention == "plm" or normal else N - K
        return CovResult(c * sandwich(reg.bread, meat), label, df, factor=c, k_used=K)

    if vcov == "DK":
        if reg.time is None:
            raise InvalidParameterError(
                "Driscoll-Kraay covariance needs a time dimension, which the between model "
                "averages away.\n  Fix: use vcov='hetero' or 'CRV1' for the between model"
            )
        L = default_bandwidth(reg.entity) if bandwidth is None else int(bandwidth)
        if L < 0:
            raise InvalidParameterError(f"bandwidth must be >= 0, got {bandwidth!r}")
        T = n_groups(reg.time)
        if T < 2:
            raise InvalidParameterError(
                f"Driscoll-Kraay covariance needs at least 2 periods; the estimation sample has "
                f"{T}: the cross-sectional correlation it allows for cannot be estimated from one "
                "period\n  Fix: use vcov='hetero' (or 'CRV1' by entity) for a single cross-section"
            )
        c = T / (T - 1) * (N - 1) / (N - k) if corrected else 1.0
        V = c * sandwich(reg.bread, driscoll_kraay_meat(scores, reg.time, L))
        out = CovResult(
            V,
            f"Driscoll-Kraay (Bartlett kernel, max lag {L}, {T} periods{ss})",
            model_df,
            n_clusters={"time": T},
            factor=c,
            k_used=k,
        )
        if T < 20:
            out.warnings.append(
                f"Driscoll-Kraay standard errors rest on asymptotics in the number of periods; "
                f"with {T} periods they can be badly biased. Prefer clustered or wild-bootstrap "
                "inference when periods are few."
            )
        return out

    if vcov not in ("CRV1", "CR2", "CRV3"):  # a bug in the caller: options are checked before
        raise ValueError(f"unknown vcov {vcov!r}")
    names = list(cluster or [])
    codes = [reg.clusters[n] for n in names]
    Gs = [n_groups(c) for c in codes]
    for n, G in zip(names, Gs, strict=True):
        if G < 2:
            raise InvalidParameterError(
                f"cluster variable {n!r} has {G} cluster in the sample; clustering needs at least 2"
            )
    warnings = [
        (
            f"Only {G} clusters in {n!r}: cluster-robust standard errors and t-tests are "
            f"unreliable (they over-reject) with fewer than about {FEW_CLUSTERS} clusters. "
            "Check the result with res.wild_bootstrap(term) (wild cluster restricted bootstrap, "
            "Webb weights) or vcov='CRV3'."
        )
        for n, G in zip(names, Gs, strict=True)
        if G < FEW_CLUSTERS
    ]
    n_clusters = dict(zip(names, Gs, strict=True))

    if vcov == "CR2":
        if len(names) != 1:
            raise InvalidParameterError(
                "vcov='CR2' supports one cluster variable (clubSandwich has no two-way CR2).\n"
                "  Fix: pass a single name in cluster=, or use vcov='CRV1' for two-way"
            )
        pieces = cr2_pieces(reg, codes[0])
        df_terms = satterthwaite_df(pieces)
        label = (
            f"CR2 clustered by {names[0]} (Bell-McCaffrey, clubSandwich); t-tests on each "
            "coefficient's own Satterthwaite df"
        )
        # (no small-sample factor: "default" and "none" are the same CR2.) The Satterthwaite df
        # already account for few clusters, so the usual few-clusters warning would point at
        # remedies CR2 is one of; very small df are another matter (Pustejovsky & Tipton 2018)
        low = [f"{df:.2f}" for df in df_terms if df < 4]
        cr2_warnings = (
            [
                f"Satterthwaite degrees of freedom below 4 ({', '.join(low)}): even CR2 t-tests "
                "can be unreliable there (Pustejovsky & Tipton 2018); read those p-values with "
                "care, or check them with res.wild_bootstrap(term)."
            ]
            if low
            else []
        )
        return CovResult(pieces.cov, label, None, n_clusters, 1.0, None, cr2_warnings, df_terms)

    if vcov == "CRV3":
        if len(names) != 1:
            raise InvalidParameterError(
                "vcov='CRV3' supports one cluster variable.\n"
                "  Fix: pass a single name in cluster=, or use vcov='CRV1' for two-way"
            )
        V, K = cr3(reg, codes[0]), reg.k if convention == "plm" else fixest_k(reg, codes)
        G = Gs[0]
        df = model_df if convention == "plm" or normal else G - 1
        label = f"CR3 jackknife clustered by {names[0]} (MacKinnon-Nielsen-Webb, (G-1)/G)"
        return CovResult(V, label, df, n_clusters, (G - 1) / G, K, warnings)

    if len(names) == 1:
        K = reg.k if convention == "plm" else fixest_k(reg, codes)
        G = Gs[0]
        c = G / (G - 1) * (N - 1) / (N - K) if corrected else 1.0
        V = c * sandwich(reg.bread, cluster_meat(scores, codes[0]))
        df = model_df if convention == "plm" or normal else G - 1
        what = f"G/(G-1)*(N-1)/(N-K), G={G}, K={K}" if corrected else "CR0"
        label = f"clustered by {names[0]} ({convention}: {what})"
        return CovResult(V, label, df, n_clusters, c, K, warnings)

    if len(names) != 2:
        raise InvalidParameterError(f"cluster= takes one or two column names, got {names}")
    # two-way: V1 + V2 - V12, the intersection clusters on (c1, c2) pairs
    inter = np.unique(
        codes[0].astype(np.int64) * (int(codes[1].max()) + 1) + codes[1], return_inverse=True
    )[1]
    meats = [
        cluster_meat(scores, codes[0]),
        cluster_meat(scores, codes[1]),
        cluster_meat(scores, inter),
    ]
    G12 = n_groups(inter)
    if convention == "plm":
        K = reg.k
        if corrected:
            # plm vcovDC: each term its own "sss" factor; the intersection term is White's (G=N)
            facs = [G / (G - 1) * (N - 1) / (N - K) for G in (*Gs, G12)]
        else:
            facs = [1.0, 1.0, 1.0]
        df = model_df
    else:
        K = fixest_k(reg, [*codes, inter])
        Gmin = min(*Gs, G12)
        c = Gmin / (Gmin - 1) * (N - 1) / (N - K) if corrected else 1.0
        facs = [c, c, c]
        df = None if normal else Gmin - 1
    V = facs[0] * sandwich(reg.bread, meats[0]) + facs[1] * sandwich(reg.bread, meats[1])
    V = V - facs[2] * sandwich(reg.bread, meats[2])
    label = f"two-way clustered by {names[0]} and {names[1]} ({convention}, K={K})"
    if np.any(np.diag(V) < 0):
        warnings.append(
            "The two-way clustered covariance has a negative variance on its diagonal "
            "(V1 + V2 - V12 need not be positive definite); its standard errors are NaN."
        )
    return CovResult(V, label, df, n_clusters, facs, K, warnings)


# --- CR3 ------------------------------------------------------------------------------------


def _cr3_design(reg: Regression, cluster_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Design and outcome whose leave-one-cluster-out fits are the model's exact jackknife."""
    if not reg.fixed_effects:
        return reg.X, reg.y
    nested = [f for f in reg.fixed_effects if is_nested(f.codes, cluster_codes)]
    free = [f for f in reg.fixed_effects if f not in nested]
    M = np.column_stack([reg.raw_X, reg.raw_y])
    if len(nested) == 1:
        M = tf.demean(M, nested[0].codes, nested[0].n_levels, reg.sw)
    elif len(nested) == 2:
        a, b = nested
        M = tf.demean_twoways(M, a.codes, a.n_levels, b.codes, b.n_levels, reg.sw)[0]
    parts = [M[:, :-1]]
    for f in free:  # effects not nested in the clusters are re-estimated: explicit dummies
        D = np.zeros((reg.nobs, f.n_levels))
        D[np.arange(reg.nobs), f.codes] = 1.0 if reg.sw is None else reg.sw
        if nested:
            D = tf.demean(D, nested[0].codes, nested[0].n_levels, reg.sw) if len(nested) == 1 else D
        parts.append(D)
    Z = np.column_stack(parts)
    names = [f"x{j}" for j in range(Z.shape[1])]
    protect = tuple(names[: reg.k])
    Z, kept, _ = tf.drop_aliased(Z, names, protect=protect)
    return Z, M[:, -1]


def _slopes_unidentified(A: np.ndarray, k: int) -> bool:
    """Whether the cross-product ``A`` leaves one of its first ``k`` coefficients unidentified.

    A coefficient is identified when no direction of ``A``'s null space moves it. Dummy columns
    of a left-out cluster's own levels are null directions too, but they move no slope.
    """
    values, vectors = np.linalg.eigh(A)
    null = values <= 1e-10 * max(float(values.max()), 1.0)
    return bool(null.any() and np.abs(vectors[:k, null]).max() > 1e-6)


def cr3(reg: Regression, cluster_codes: np.ndarray) -> np.ndarray:
    """MacKinnon-Nielsen-Webb CR3: ``(G-1)/G`` times the sum of squared jackknife deviations."""
    Z, yz = _cr3_design(reg, cluster_codes)
    k = reg.k
    ZtZ, Zty = Z.T @ Z, Z.T @ yz
    beta = np.linalg.solve(ZtZ, Zty)[:k]
    _, pos = np.unique(cluster_codes, return_inverse=True)
    G = int(pos.max()) + 1
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(G + 1))
    devs = np.empty((G, k))
    for g in range(G):
        rows = order[bounds[g] : bounds[g + 1]]
        Zg = Z[rows]
        A, b = ZtZ - Zg.T @ Zg, Zty - Zg.T @ yz[rows]
        if _slopes_unidentified(A, k):
            # e.g. the only treated cluster: without it the treatment effect is not estimable,
            # and a least-squares "solution" would give a huge, meaningless standard error
            raise InvalidParameterError(
                f"CR3: leaving out cluster {g + 1} of {G} (in sorted order) leaves a coefficient "
                "unidentified (a regressor that varies only in that cluster, such as a "
                "treatment given to one system): the jackknife is undefined\n  Fix: use the "
                "wild cluster bootstrap (res.wild_bootstrap(term)) or randomization inference "
                "(icsresearch.models.randomization_inference), which are valid with few treated "
                "clusters"
            )
        try:
            bg = np.linalg.solve(A, b)
        except np.linalg.LinAlgError:
            bg = np.linalg.lstsq(A, b, rcond=None)[0]
        devs[g] = bg[:k] - beta
    return (G - 1) / G * (devs.T @ devs)
