"""Row-exact covariance matrices computed from cell sufficient statistics.

Notation: cell ``c`` has design row ``x_c``, linear predictor ``eta_c = x_c'b`` and rows ``i``.
The score of row ``i`` is ``x_c (y_i - mu_i)`` (canonical links), so

* **information** ``A = sum_c x_c x_c' w_c`` with ``w_c = sum_i var(y_i)``: ``n_c p_c (1 - p_c)``
  (logit) or ``lambda_c t_c`` (Poisson, ``t_c`` = summed exposure). Exact by construction.
* **HC0 meat** ``B = sum_i s_i s_i' = sum_c x_c x_c' m_c`` with ``m_c = sum_i (y_i - mu_i)^2``.
  This is *not* the outer product of the cell score (``(sum_i (y_i - mu_i))^2`` would be the
  grouped-data estimator, which understates row-level heteroskedasticity). It is still a function
  of cell sums: a binary outcome takes two values, so
  ``m_c = k_c (1 - p_c)^2 + (n_c - k_c) p_c^2`` (``k_c`` successes of ``n_c``); for Poisson with
  ``mu_i = lambda_c t_i``, ``m_c = sum y^2 - 2 lambda_c sum t y + lambda_c^2 sum t^2``.
* **cluster meat** ``B = sum_g S_g S_g'`` with ``S_g = sum_{c in g} x_c (y_c - mu_c)``: exact when
  no cell straddles two clusters, which holds because the cluster variable is part of the cell key.

Small-sample factors (``small_sample``, the words of :mod:`icsresearch.options`):

* ``"default"``: as Stata's ``logit``/``poisson`` (all ML estimators): ``iid`` ``1``;
  ``hetero`` ``N/(N-1)``; ``CRV1`` ``G/(G-1)``. ``N`` = rows used, ``G`` = clusters.
* ``"none"``: no factor: statsmodels ``GLM(cov_type="HC0")`` and
  ``cov_type="cluster"`` with ``use_correction=False``; R ``sandwich::vcovHC(type="HC0")``.

Not applied: statsmodels' default cluster correction ``G/(G-1) (N-1)/(N-K)`` and pyfixest's default
``ssc()`` (``(N-1)/(N-K)``, ``N/(N-K)`` for hetero, with ``K`` counting fixed-effect levels not
nested in the cluster): with hundreds of fixed-effect levels and a binary outcome those
``K``-based factors are a linear-model heuristic, not a likelihood property.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def expit(eta: np.ndarray) -> np.ndarray:
    """Logistic function, stable for large ``|eta|``."""
    out = np.empty_like(eta)
    pos = eta >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-eta[pos]))
    e = np.exp(eta[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def cell_moments(
    family: str, eta: np.ndarray, stats: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residual, information weight and exact HC0 meat weight of each cell.

    Parameters
    ----------
    family
        ``"logit"`` or ``"poisson"``.
    eta
        Linear predictor per cell (without the exposure offset).
    stats
        Cell sums from :func:`~.collapse.collapse`.

    Returns
    -------
    resid, weight, meat
        ``sum_i (y_i - mu_i)``, ``sum_i var(y_i)`` and ``sum_i (y_i - mu_i)^2`` per cell.
    """
    if family == "logit":
        n, k = stats["n"], stats["y"]
        p = expit(eta)
        resid = k - n * p
        weight = n * p * (1.0 - p)
        meat = k * (1.0 - p) ** 2 + (n - k) * p**2
    else:
        lam = np.exp(eta)
        mu = lam * stats["t"]
        resid = stats["y"] - mu
        weight = mu
        meat = stats["yy"] - 2.0 * lam * stats["ty"] + lam**2 * stats["tt"]
        meat = np.maximum(meat, 0.0)  # a sum of squares: clip rounding below zero
    return resid, weight, meat


def scale_rows(X, w: np.ndarray):
    """``diag(w) X`` for a dense array or a CSR sparse matrix."""
    if sparse.issparse(X):
        out = X.copy()
        out.data = out.data * np.repeat(w, np.diff(X.indptr))
        return out
    return X * w[:, None]


def crossprod(X, w: np.ndarray) -> np.ndarray:
    """``X' diag(w) X`` as a dense array (``X`` dense or CSR sparse).

    The collapsed design is mostly fixed-effect dummies, a handful of non-zeros per row, so the
    sparse product costs a few operations per cell and uses no BLAS threads (which spin and slow
    down badly on a loaded, shared machine).
    """
    if sparse.issparse(X):
        return np.asarray((X.T @ scale_rows(X, w)).todense())
    return X.T @ (X * w[:, None])


def cluster_meat(X, resid: np.ndarray, cluster_codes: np.ndarray) -> np.ndarray:
    """``sum_g S_g S_g'`` with ``S_g`` the summed scores of the cells in cluster ``g``."""
    _, g = np.unique(cluster_codes, return_inverse=True)
    n_cells = len(resid)
    indicator = sparse.csr_matrix(
        (np.ones(n_cells), (g, np.arange(n_cells))), shape=(int(g.max()) + 1, n_cells)
    )
    S = indicator @ scale_rows(X, resid)
    S = np.asarray(S.todense()) if sparse.issparse(S) else np.asarray(S)
    return S.T @ S


def small_sample_factor(vcov: str, small_sample: str, nobs: int, n_clusters: int | None) -> float:
    """The factor multiplying the sandwich (see the module docstring).

    Parameters
    ----------
    vcov
        ``"iid"``, ``"hetero"`` or ``"CRV1"``.
    small_sample
        ``"default"`` or ``"none"``.
    nobs
        Rows used (not cells).
    n_clusters
        Number of clusters (clustered only).

    Returns
    -------
    float
    """
    if small_sample == "none" or vcov == "iid":
        return 1.0
    if vcov == "hetero":
        return nobs / (nobs - 1.0)
    assert n_clusters is not None
    return n_clusters / (n_clusters - 1.0)


def sandwich(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    """``bread @ meat @ bread``, symmetrised against rounding."""
    v = bread @ meat @ bread
    return (v + v.T) / 2.0
