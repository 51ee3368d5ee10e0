"""Panel transformations: group means, within (one- and two-way) and quasi-demeaning.

All functions work on arrays already multiplied by the square root of the weights (``sw``), so a
weighted regression is an ordinary one on the transformed arrays. With ``sw=None`` (no weights)
they reduce to the plain transformations.

Two-way demeaning of an *unbalanced* panel has no closed form. As plm does (``Within(...,
"twoways")`` for unbalanced data), we demean by entity and then project out the entity-demeaned
period dummies, exactly, by a QR decomposition; the roles are swapped when there are fewer
entities than periods. Only when both dimensions exceed :data:`MAX_DUMMIES` do we fall back to
alternating projections (iterated to a relative change below 1e-13).
"""

from __future__ import annotations

import numpy as np

#: Above this many levels in *both* dimensions, two-way demeaning iterates instead of using dummies.
MAX_DUMMIES = 3000


def group_sums(M: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``M`` within each group (``n_groups`` x ncol)."""
    M2 = M.reshape(M.shape[0], -1)
    out = np.empty((n_groups, M2.shape[1]))
    for j in range(M2.shape[1]):
        out[:, j] = np.bincount(codes, weights=M2[:, j], minlength=n_groups)
    return out


def group_means(
    M: np.ndarray, codes: np.ndarray, n_groups: int, sw: np.ndarray | None = None
) -> np.ndarray:
    """(Weighted) group means of the *unscaled* variables, one row per group.

    ``M`` is scaled by ``sw``; the weighted mean of the underlying ``x`` is
    ``sum(w x) / sum(w) = sum(sw * M) / sum(sw**2)``.
    """
    M2 = M.reshape(M.shape[0], -1)
    if sw is None:
        counts = np.bincount(codes, minlength=n_groups).astype(float)
        return group_sums(M2, codes, n_groups) / counts[:, None]
    wsum = np.bincount(codes, weights=sw * sw, minlength=n_groups)
    return group_sums(M2 * sw[:, None], codes, n_groups) / wsum[:, None]


def demean(
    M: np.ndarray, codes: np.ndarray, n_groups: int, sw: np.ndarray | None = None
) -> np.ndarray:
    """One-way within transformation (projection off the scaled group dummies)."""
    M2 = M.reshape(M.shape[0], -1)
    means = group_means(M2, codes, n_groups, sw)[codes]
    return M2 - (means if sw is None else means * sw[:, None])


def _dummies(codes: np.ndarray, n_groups: int, sw: np.ndarray | None) -> np.ndarray:
    D = np.zeros((codes.shape[0], n_groups))
    D[np.arange(codes.shape[0]), codes] = 1.0 if sw is None else sw
    return D


def _is_balanced(entity: np.ndarray, time: np.ndarray, n_e: int, n_t: int) -> bool:
    return entity.shape[0] == n_e * n_t  # duplicates are rejected upstream


def demean_twoways(
    M: np.ndarray,
    entity: np.ndarray,
    n_e: int,
    time: np.ndarray,
    n_t: int,
    sw: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Exact two-way within transformation.

    Returns
    -------
    (transformed, rank)
        ``rank`` is the number of linearly independent fixed-effect dummies absorbed
        (``n_e + n_t - 1`` for a connected panel), for the residual degrees of freedom.
    """
    M2 = M.reshape(M.shape[0], -1)
    if sw is None and _is_balanced(entity, time, n_e, n_t):
        Me = demean(M2, entity, n_e)
        return demean(Me, time, n_t), n_e + n_t - 1
    # dummies for the smaller dimension, demeaned by the larger one, projected out exactly
    if n_t <= n_e:
        big, n_big, small, n_small = entity, n_e, time, n_t
    else:
        big, n_big, small, n_small = time, n_t, entity, n_e
    if n_small <= MAX_DUMMIES:
        Mb = demean(M2, big, n_big, sw)
        D = demean(_dummies(small, n_small, sw), big, n_big, sw)
        Q, R, _ = _qr_pivoted(D)
        diag = np.abs(np.diag(R))
        rank = int(np.sum(diag > 1e-10 * max(diag.max(initial=0.0), 1.0)))
        Q = Q[:, :rank]
        return Mb - Q @ (Q.T @ Mb), n_big + rank
    return _alternating_projections(M2, entity, n_e, time, n_t, sw), n_e + n_t - 1


def _qr_pivoted(A: np.ndarray):
    from scipy.linalg import qr

    return qr(A, mode="economic", pivoting=True)


def _alternating_projections(M, entity, n_e, time, n_t, sw, tol=1e-13, max_iter=10_000):
    R = M.copy()
    scale = max(float(np.abs(M).max(initial=0.0)), 1.0)
    for _ in range(max_iter):
        prev = R
        R = demean(demean(R, entity, n_e, sw), time, n_t, sw)
        if float(np.abs(R - prev).max(initial=0.0)) < tol * scale:
            return R
    raise RuntimeError(
        "two-way demeaning did not converge; the panel may be disconnected or very large"
    )


def drop_aliased(
    X: np.ndarray, names: list[str], protect: tuple[str, ...] = (), tol: float = 1e-9
) -> tuple[np.ndarray, list[str], list[str]]:
    """Drop columns that are (numerically) zero or linear combinations of earlier columns.

    Columns are kept in order and a later column is dropped when it is explained by the earlier
    ones, which is what R's ``lm`` (and so plm) does for aliased coefficients.

    Returns
    -------
    (X kept, names kept, names dropped)
    """
    keep: list[int] = []
    Q = np.zeros((X.shape[0], 0))
    norms = np.sqrt((X * X).sum(axis=0))
    big = max(float(norms.max(initial=0.0)), 1.0)
    for j in range(X.shape[1]):
        v = X[:, j]
        nv = norms[j]
        if nv <= tol * big and names[j] not in protect:
            continue
        r = v - Q @ (Q.T @ v) if Q.shape[1] else v.copy()
        r = r - Q @ (Q.T @ r) if Q.shape[1] else r  # second pass: numerical orthogonality
        nr = float(np.sqrt(r @ r))
        if nr <= tol * max(nv, 1e-300) and names[j] not in protect:
            continue
        keep.append(j)
        Q = np.column_stack([Q, r / nr])
    dropped = [names[j] for j in range(X.shape[1]) if j not in keep]
    return X[:, keep], [names[j] for j in keep], dropped
