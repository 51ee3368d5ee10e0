"""Least squares and the other products of a panel fit over its rows, without BLAS threads.

A panel regression is tall and narrow (400,000 x 2 for 20,000 entities over 20 periods). On such
arrays a matrix-vector product or a QR decomposition is bound by memory, so a second thread adds
little; but OpenBLAS hands every call above ~10,000 elements to its worker threads, and those keep
spinning for a while afterwards. On 2 cores shared with other work they compete with the fit
itself: on the development machine, loaded, a within fit at 2,000 x 20 or 20,000 x 20 took
2-3.5x as long with the default threads as with one. Here the sums over rows are
:func:`numpy.einsum` over contiguous rows instead: one thread, about as fast as single-threaded
BLAS for these shapes, and the worker threads are never woken. (The library alternative,
``threadpoolctl``'s limit around each fit, would give the same speed but sets the process-wide
OpenBLAS thread count: fits running at once on several threads, as in Dask's threaded workers,
would change it under each other. These kernels touch no global state.)

The numbers are those of LAPACK's Householder QR (what R's ``lm`` and numpy use) up to rounding:
the sums run in another order, as they also do between OpenBLAS's one- and two-thread kernels.
Designs wider than :data:`MAX_UNBLOCKED_COLUMNS` go to LAPACK, whose blocked QR pays off there.
"""

from __future__ import annotations

import math

import numpy as np

#: Up to this many columns least squares runs Householder QR column by column (numpy.einsum);
#: wider designs use LAPACK's blocked QR, faster there in spite of its threads.
MAX_UNBLOCKED_COLUMNS = 16


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """The inner product of two vectors, summed in this thread."""
    return float(np.einsum("i,i->", a, b))


def column_rows(X: np.ndarray, columns: list[int] | None = None) -> np.ndarray:
    """The (chosen) columns of ``X`` as contiguous rows (k x n): a view of ``X`` when its
    columns already are, else a copy."""
    return np.ascontiguousarray(X.T if columns is None else X.T[columns], dtype=float)


def matvec(X: np.ndarray, b: np.ndarray, columns: list[int] | None = None) -> np.ndarray:
    """``X[:, columns] @ b`` (all columns by default), summed in this thread."""
    return np.einsum("ji,j->i", column_rows(X, columns), b)


def _householder(rows: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``R`` and the first ``k`` elements of ``Q'y`` for ``rows.T = QR`` (``rows`` is k x n and is
    overwritten with the Householder vectors), or None when a column has no finite nonzero
    norm left (LAPACK then decides).

    Each column is reflected onto ``-sign(x_0) ||x|| e_1``, LAPACK ``dlarfg``'s choice, so ``R``
    has LAPACK's signs.
    """
    k = rows.shape[0]
    qty = np.array(y, dtype=float)
    R = np.zeros((k, k))
    for j in range(k):
        v = rows[j, j:]
        norm = math.sqrt(dot(v, v))
        if not 0.0 < norm < math.inf:
            return None
        head = float(v[0])
        R[j, j] = -math.copysign(norm, head)
        v[0] = head - R[j, j]  # v = x - R_jj e_1, whose squared norm is 2 norm (norm + |x_0|)
        scale = 1.0 / (norm * (norm + abs(head)))  # 2 / v'v
        for later in range(j + 1, k):
            w = rows[later, j:]
            w -= (scale * dot(v, w)) * v
            R[j, later] = w[0]
        tail = qty[j:]
        tail -= (scale * dot(v, tail)) * v
    return R, qty[:k]


def _lapack_qr(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.linalg import qr

    # numpy.linalg.qr's LAPACK factorization, bit for bit, but numpy forms Q ~8x slower; C order
    # as numpy returns them, so that the product below is the same BLAS call
    Q, R = (np.ascontiguousarray(a) for a in qr(X, mode="economic", check_finite=False))
    return R, Q.T @ y


def ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and ``(X'X)^{-1}`` by a QR decomposition (as R's ``lm``).

    ``X`` must have full column rank (aliased columns dropped first, see
    :func:`.transform.drop_aliased`).
    """
    factored = None
    if X.shape[1] <= MAX_UNBLOCKED_COLUMNS:
        factored = _householder(np.array(X.T, dtype=float, order="C"), y)  # a copy to overwrite
    R, qty = factored if factored is not None else _lapack_qr(X, y)
    # k is small: numpy's LAPACK calls are cheaper here than scipy's triangular solver overhead
    Rinv = np.linalg.inv(R)
    return Rinv @ qty, Rinv @ Rinv.T


def least_squares(
    X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients, ``(X'X)^{-1}``, fitted values ``X @ params`` and residuals."""
    params, bread = ols(X, y)
    fitted = matvec(X, params)
    return params, bread, fitted, y - fitted


def squared_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """``cor(a, b)^2``; NaN for fewer than two values or a constant ``a`` or ``b``."""
    if a.size < 2:
        return float("nan")
    da, db = a - a.mean(), b - b.mean()
    saa, sbb = dot(da, da), dot(db, db)
    if saa == 0 or sbb == 0:
        return float("nan")
    r = dot(da, db) / math.sqrt(saa) / math.sqrt(sbb)
    return min(max(r, -1.0), 1.0) ** 2
