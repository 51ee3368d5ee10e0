r"""CR2 cluster-robust covariance, Satterthwaite degrees of freedom and the HTZ Wald test.

The bias-reduced linearization of Bell & McCaffrey (2002), as generalised by Pustejovsky & Tipton
(2018) and computed by R clubSandwich (``vcovCR(type = "CR2")``, ``coef_test(test =
"Satterthwaite")``, ``Wald_test(test = "HTZ")``) for plm models, with clubSandwich's default
working model. The numbers equal clubSandwich 0.5.8's to about 1e-12 (``tests/test_models_cr2.py``
against ``tests/reference/cr2_reference.json``).

Notation, per cluster :math:`j` (rows :math:`X_j`, residuals :math:`e_j`): a working covariance
:math:`\Theta_j` with weights :math:`W_j = \Theta_j^{-1}` and upper Cholesky factor
:math:`\Theta_j = R_j'R_j`, the bread :math:`M = (\sum_j X_j'W_jX_j)^{-1}`, and

.. math::

    A_j = R_j'\,\big[R_j (I - U_j M_U U_j' W_j)\Theta_j R_j'\big]^{+1/2} R_j, \qquad
    V^{CR2} = M \Big(\sum_j X_j'W_jA_je_j e_j'A_j'W_jX_j\Big) M

where :math:`B^{+1/2}` is the inverse symmetric square root with eigenvalues below 1e-12 set to
zero (clubSandwich's ``matrix_power``), :math:`U = [X, S]` and :math:`M_U = (U'WU)^{-1}`.

Working model, by estimator (clubSandwich's choices for ``plm`` objects):

- ``pooled``, ``fd``, ``lagged``, ``between``: OLS, :math:`\Theta = I`, :math:`U = X` (the
  regression the model runs: differences for ``fd``, entity means for ``between``).
- ``within``: OLS on the demeaned data, :math:`\Theta = I`; :math:`S` spans the absorbed fixed
  effects. Effects nested in the clusters drop out of every formula (the demeaned regressors and
  residuals are orthogonal to them within each cluster), so only the projection on the effects
  *not* nested in the clusters is kept, as an orthonormal basis (e.g. time effects when
  clustering by entity or ICS, entity effects when clustering by year). This is the CR2 of the
  dummy-variable regression, which is what clubSandwich computes.
- ``random``: the untransformed design and residuals :math:`y - X\hat\beta`, with the
  random-effects working model :math:`\Theta_j = I + r\,J` within each group
  (:math:`r = \hat\sigma^2_\text{effect}/\hat\sigma^2_\text{idios}`); the groups must be nested
  in the clusters.

Satterthwaite degrees of freedom for a contrast :math:`c` (Bell-McCaffrey): with
:math:`G_j = c'ME_jR_j'` and :math:`Z_j = c'ME_jU_j` (:math:`E_j = X_j'W_jA_j`), the J x J matrix
:math:`P_{jk} = \delta_{jk} G_jG_j' - Z_j M_U Z_k'` gives
:math:`\nu = (\operatorname{tr} P)^2 / \sum_{jk} P_{jk}^2`. The HTZ test of :math:`C\beta = 0`
(q rows) is Hotelling's :math:`T^2` with the degrees of freedom of Tipton & Pustejovsky (2015):
:math:`F = \frac{\nu - q + 1}{\nu} \frac{Q}{q}` on :math:`(q, \nu - q + 1)` df, where
:math:`Q = (C\hat\beta)'(CVC')^{-1}C\hat\beta`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidParameterError
from . import transform as tf

#: Eigenvalues at or below this are treated as zero in inverse square roots (clubSandwich's
#: ``matrix_power(x, p, tol = -12)``: an absolute threshold).
EIGEN_TOL = 1e-12


@dataclass
class WorkingModel:
    """What CR2 needs beyond the regression the model ran (see the module docstring).

    Attributes
    ----------
    kind
        ``"ols"`` (pooled, fd, lagged, between), ``"within"`` or ``"random"``.
    X, resid
        Random effects only: the untransformed design (kept columns) and ``y - X b``.
    groups, ratio
        Random effects only: the random-effect group codes of the rows and
        ``sigma2_effect / sigma2_idios``.
    refused
        Why CR2 is not available for this model (``None`` when it is), quoted in the error.
    """

    kind: str
    X: np.ndarray | None = None
    resid: np.ndarray | None = None
    groups: np.ndarray | None = None
    ratio: float = 0.0
    refused: str | None = None


@dataclass
class CR2Pieces:
    """The CR2 covariance and the per-cluster matrices its degrees of freedom are made of.

    Attributes
    ----------
    cov
        The CR2 covariance (p x p).
    G
        Per cluster, :math:`M E_j R_j'` (p x n_j): :math:`G_jG_j' = ME_j\\Theta_jE_j'M`.
    Z
        Per cluster, :math:`M E_j U_j` (p x u).
    M_U
        :math:`(U'WU)^{-1}` (u x u).
    n_clusters
        Number of clusters.
    """

    cov: np.ndarray
    G: list[np.ndarray]
    Z: list[np.ndarray]
    M_U: np.ndarray
    n_clusters: int


def matrix_power(x: np.ndarray, power: float) -> np.ndarray:
    """Symmetric matrix power with eigenvalues ``<= 1e-12`` set to zero (clubSandwich's).

    Parameters
    ----------
    x
        A symmetric matrix (only its lower triangle is read, as R's ``eigen(symmetric = TRUE)``).
    power
        The power, e.g. ``-0.5``.

    Returns
    -------
    numpy.ndarray
    """
    values, vectors = np.linalg.eigh(x)
    keep = values > EIGEN_TOL
    scaled = np.zeros_like(values)
    scaled[keep] = values[keep] ** power
    return (vectors * scaled) @ vectors.T


def _fixed_effect_basis(reg, cluster: np.ndarray) -> np.ndarray | None:
    """Orthonormal basis of the absorbed effects not nested in ``cluster`` (after the nested).

    ``None`` when every absorbed effect is nested in the clusters (they then drop out).
    """
    from .covariance import is_nested

    nested = [f for f in reg.fixed_effects if is_nested(f.codes, cluster)]
    free = [f for f in reg.fixed_effects if f not in nested]
    if not free:
        return None
    n = reg.nobs
    dummies = np.zeros((n, sum(f.n_levels for f in free)))
    start = 0
    for f in free:
        dummies[np.arange(n), start + f.codes] = 1.0
        start += f.n_levels
    if nested:  # at most one: two nested dimensions leave nothing free
        f = nested[0]
        dummies = tf.demean(dummies, f.codes, f.n_levels)
    u, s, _ = np.linalg.svd(dummies, full_matrices=False)
    rank = int((s > s[0] * 1e-10).sum()) if s.size else 0
    return u[:, :rank]


def cr2_pieces(reg, cluster: np.ndarray, *, adjust: bool = True) -> CR2Pieces:
    """CR2 covariance of ``reg.params`` clustered by ``cluster``, and its df building blocks.

    Parameters
    ----------
    reg
        The model's :class:`~icsresearch.models.panel.covariance.Regression`, with its
        :class:`WorkingModel` in ``reg.working``.
    cluster
        Integer cluster codes of the regression's rows.
    adjust
        ``False`` replaces the adjustment matrices by the identity, which gives the CR0
        sandwich (a check of the algebra, not an estimator to use).

    Returns
    -------
    CR2Pieces

    Raises
    ------
    InvalidParameterError
        When the model has no CR2 (weights, a regression not made by ``fit``) or its random
        effects are not nested in the clusters.
    """
    working = getattr(reg, "working", None)
    if working is None or working.refused:
        why = (
            working.refused
            if working is not None
            else "CR2 is computed for the models fit() estimates (clubSandwich's working models), "
            "not for auxiliary regressions such as the regression-based Hausman test's"
        )
        raise InvalidParameterError(
            f"vcov='CR2' is not available here: {why}\n  Fix: use vcov='CRV1' or 'CRV3'"
        )
    _, pos = np.unique(cluster, return_inverse=True)
    J = int(pos.max()) + 1
    if J < 2:
        raise InvalidParameterError(
            f"the cluster variable has {J} cluster in the sample; CR2 needs at least 2"
        )
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(J + 1))
    rows = [order[bounds[j] : bounds[j + 1]] for j in range(J)]

    if working.kind == "random":
        X, resid, groups = working.X, working.resid, working.groups
        from .covariance import is_nested

        if not is_nested(groups, pos):
            raise InvalidParameterError(
                "CR2 for random effects needs the random-effect groups nested in the clusters "
                "(the working model is block-diagonal by group, as clubSandwich requires)\n"
                "  Fix: cluster on the entity or on a variable constant within each entity, or "
                "use vcov='CRV1'"
            )
        size = np.bincount(groups).astype(float)
        r = float(working.ratio)
        thetas, weights = [], []
        for idx in rows:
            same = (groups[idx][:, None] == groups[idx][None, :]).astype(float)
            thetas.append(np.eye(idx.size) + r * same)
            shrink = r / (1.0 + r * size[groups[idx]])  # inverse of I + rJ, group by group
            weights.append(np.eye(idx.size) - shrink[:, None] * same)
        basis = None
    else:
        X, resid = reg.X, reg.resid
        thetas = weights = None
        basis = _fixed_effect_basis(reg, pos) if working.kind == "within" else None

    p = X.shape[1]
    U = X if basis is None else np.column_stack([X, basis])
    if weights is None:
        XtWX, UtWU = X.T @ X, U.T @ U
    else:
        XtWX = sum(X[i].T @ w @ X[i] for i, w in zip(rows, weights, strict=True))
        UtWU = XtWX
    M = np.linalg.inv(XtWX)
    M_U_adj = matrix_power(UtWU, -1.0)  # as clubSandwich's CR2(): an eigen pseudo-inverse
    M_U = np.linalg.inv(UtWU)  # as its get_GH(): chol2inv (U has full column rank)

    meat = np.zeros((p, p))
    G, Z = [], []
    for j, idx in enumerate(rows):
        Xj, Uj = X[idx], U[idx]
        if weights is None:
            if adjust:
                A = matrix_power(np.eye(idx.size) - Uj @ M_U_adj @ Uj.T, -0.5)
            else:
                A = np.eye(idx.size)
            E = Xj.T @ A
            Rt = None
        else:
            W, Theta = weights[j], thetas[j]
            R = np.linalg.cholesky(Theta).T  # upper: Theta = R'R
            if adjust:
                IH = np.eye(idx.size) - Uj @ M_U_adj @ Uj.T @ W
                A = R.T @ matrix_power(R @ IH @ Theta @ R.T, -0.5) @ R
            else:
                A = np.eye(idx.size)
            E = Xj.T @ W @ A
            Rt = R.T
        c = E @ resid[idx]
        meat += np.outer(c, c)
        ME = M @ E
        G.append(ME if Rt is None else ME @ Rt)
        Z.append(ME @ Uj)
    V = M @ meat @ M
    return CR2Pieces((V + V.T) / 2, G, Z, M_U, J)


def _p_array(pieces: CR2Pieces, C: np.ndarray) -> np.ndarray:
    """clubSandwich's ``P_array`` for the contrasts ``C`` (q x p): shape (q, q, J, J)."""
    L = np.linalg.cholesky(pieces.M_U)
    K = np.stack([C @ z @ L for z in pieces.Z])  # (J, q, u)
    P = -np.einsum("jsu,ktu->stjk", K, K)
    for j, g in enumerate(pieces.G):
        Cg = C @ g
        P[:, :, j, j] += Cg @ Cg.T
    return P


def satterthwaite_df(pieces: CR2Pieces) -> np.ndarray:
    """Bell-McCaffrey / Satterthwaite degrees of freedom of each coefficient's t-test.

    Parameters
    ----------
    pieces
        From :func:`cr2_pieces`.

    Returns
    -------
    numpy.ndarray
        One df per coefficient (clubSandwich ``coef_test(test = "Satterthwaite")$df_Satt``).
    """
    p = pieces.cov.shape[0]
    out = np.empty(p)
    for i in range(p):
        P = _p_array(pieces, np.eye(p)[[i]])[0, 0]
        out[i] = np.trace(P) ** 2 / np.sum(P**2)
    return out


@dataclass
class HTZResult:
    """The HTZ Wald test of ``C beta = 0`` (clubSandwich ``Wald_test(test = "HTZ")``).

    Attributes
    ----------
    statistic
        The F statistic, ``delta * Q / q``.
    df_num, df_denom
        Its degrees of freedom (``q`` and ``nu - q + 1``).
    pvalue
        Upper tail of the F distribution (NaN when ``df_denom <= 0``).
    delta
        The scaling ``(nu - q + 1) / nu`` (floored at 0).
    wald
        The unscaled Wald statistic ``Q``.
    hypotheses
        One line per constraint, e.g. ``"x1 = 0"``.
    """

    statistic: float
    df_num: int
    df_denom: float
    pvalue: float
    delta: float
    wald: float
    hypotheses: list[str]

    def __str__(self) -> str:
        return (
            f"HTZ Wald test (CR2, Tipton-Pustejovsky df) of {'; '.join(self.hypotheses)}: "
            f"F = {self.statistic:.4f} on ({self.df_num}, {self.df_denom:.3f}) df, "
            f"p = {self.pvalue:.4g}"
        )


def htz_test(pieces: CR2Pieces, params: np.ndarray, C: np.ndarray) -> tuple[float, ...]:
    """HTZ test of ``C @ params = 0``: ``(F, df_num, df_denom, p, delta, Q)``.

    Parameters
    ----------
    pieces
        From :func:`cr2_pieces`.
    params
        The estimates.
    C
        The constraint matrix (q x p), of full row rank.

    Returns
    -------
    tuple
        ``(F, q, nu - q + 1, p_value, delta, Q)``.
    """
    from scipy import stats

    q = C.shape[0]
    P = _p_array(pieces, C)
    omega = np.einsum("stjj->st", P)
    root = matrix_power(omega, -0.5)
    B = np.einsum("as,stjk,tb->abjk", root, P, root)
    var = np.empty((q, q))
    for s in range(q):
        for t in range(s + 1):
            v = np.sum(B[s, t] * B[t, s]) + np.sum(B[s, s] * B[t, t])
            var[s, t] = var[t, s] = v
    nu = q * (q + 1) / var.sum()
    Cb = C @ params
    Q = float(Cb @ np.linalg.solve(C @ pieces.cov @ C.T, Cb))
    delta = max((nu - q + 1) / nu, 0.0)
    df2 = nu - q + 1
    F = delta * Q / q
    pval = float(stats.f.sf(F, q, df2)) if df2 > 0 else float("nan")
    return F, q, df2, pval, delta, Q
