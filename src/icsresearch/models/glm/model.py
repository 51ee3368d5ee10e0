"""Logit and Poisson regressions with fixed effects, fitted on collapsed cells when the data allow.

:func:`fit_glm` takes patient-level rows. When every regressor, fixed effect and cluster variable is
discrete (the rule is in :mod:`.collapse`), it collapses the rows to cells and fits a binomial
(successes/trials) or Poisson (counts/exposure) GLM on the cells with the fixed effects as dummies:
the estimates, the model-based, the HC0-robust and the cluster-robust covariances are those of the
row-level fit (see :mod:`.covariance` for why they are exact). Otherwise it fits the rows with
pyfixest ``feglm``/``fepois`` (fixed effects absorbed) and computes the same covariances from
pyfixest's row scores, so the two paths report the same numbers under the same conventions.

Two ways in produce the cells: rows in memory (:func:`_fit_frame`, :func:`.collapse.collapse`), or
Parquet data read chunk by chunk, in this process or on Dask workers (:func:`_fit_parquet`,
:mod:`.stream`). Both hand a :class:`~.collapse.Cells` to the same separation check, fit and
covariance (:func:`_fit_cells`) and the same result assembly (:func:`_result`).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow.dataset

from ...errors import InvalidParameterError
from ...options import Convention, SmallSample, Vcov, check, check_bool
from .. import _pyfixest as pfx
from .. import core
from ..inference.score import ScoreData
from ..results import RegressionResult
from . import covariance as cv
from . import stream
from .checks import check_outcome, exposure_and_offset
from .collapse import (
    DEFAULT_MAX_LEVELS,
    STATEFUL_TRANSFORMS,
    Cells,
    KeyColumn,
    collapse,
    encode_column,
    is_discrete,
    is_dummy_kind,
)
from .stream import DEFAULT_BATCH_ROWS

Family = Literal["logit", "poisson"]
Method = Literal["auto", "collapsed", "rows"]

#: The inference :func:`fit_glm` supports, in the words of :mod:`icsresearch.options`.
CAPABILITIES = core.Capabilities(
    estimator="fit_glm",
    vcov=("iid", "hetero", "CRV1"),
    max_clusters=1,
    conventions=("stata",),
    small_sample=("default", "none"),
    why="logit/Poisson standard errors follow Stata's ML rules (N/(N-1), G/(G-1)) on one "
    "cluster variable; there is no jackknife",
)
#: ``fit_glm``'s old ``vcov`` and ``small_sample`` words.
VCOV_WORDS = {"robust": "hetero", "clustered": "CRV1"}
SMALL_SAMPLE_WORDS = {"stata": "default"}

#: ``method="auto"`` collapses only if the cells are at most this share of the rows.
MAX_CELL_SHARE = 0.5
#: Most columns (fixed-effect levels + regressor terms) of a collapsed fit, whose information
#: matrix is dense: beyond it ``auto`` fits the rows (pyfixest absorbs the fixed effects).
MAX_COLLAPSED_COLUMNS = 2000

_COLLIN_TOL = 1e-9


# --- input checks --------------------------------------------------------------------------------


def _parse_formula(
    formula: str, fixed_effects: str | Sequence[str] | None
) -> tuple[str, str, list[str], list[str]]:
    """Outcome, right-hand side, its variables (in order of appearance) and fixed effects."""
    f = core.parse_formula(formula, estimator="fit_glm")
    if isinstance(fixed_effects, str):
        fixed_effects = [fixed_effects]
    fes = list(fixed_effects or [])
    if not all(isinstance(fe, str) for fe in fes):
        raise InvalidParameterError(
            f"fixed_effects={fixed_effects!r} must be a column name or a list of column names."
        )
    if f.fixed_effects and fes:
        raise InvalidParameterError(
            "Fixed effects were given both after '|' in the formula and in fixed_effects=; "
            "give them in one place."
        )
    fes = list(dict.fromkeys(f.fixed_effects or fes))
    from formulaic import Formula

    try:
        parsed = Formula(f.rhs)
    except Exception as exc:  # formulaic raises several parser error types
        raise InvalidParameterError(f"Cannot parse the right-hand side {f.rhs!r}: {exc}") from exc
    return f.outcome, f.rhs, sorted(parsed.required_variables), fes


def _rhs_variables(rhs: str, required: list[str], columns: pd.Index) -> list[str]:
    """Columns the right-hand side uses, in order of appearance.

    formulaic's ``required_variables`` leaves out the arguments of its stateful transforms
    (``center(x)`` alone requires nothing), so identifiers of the formula that name a column are
    added: every column the design depends on must be part of the cell key.
    """
    names = set(required) | set(core.formula_columns(rhs, columns))
    return sorted(names, key=lambda v: (rhs.find(v), v))


def _examples(index: pd.Index, bad: np.ndarray, k: int = 5) -> str:
    return ", ".join(map(repr, index[np.flatnonzero(bad)[:k]].tolist()))


def _outcome(data: pd.DataFrame, name: str, family: str) -> np.ndarray:
    """The outcome as float64 (NaN where missing), validated for the family."""
    col = data[name]
    if not (pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype)):
        raise InvalidParameterError(
            f"Outcome {name!r} in {core.data_label(data)} has dtype {col.dtype}; it must be numeric "
            "or boolean. Fix: recode it (e.g. (df[col] == 'yes').astype(int))."
        )
    y = col.to_numpy(dtype=np.float64, na_value=np.nan)
    check_outcome(y, name, family, where="", rows=lambda bad: _examples(data.index, bad))
    return y


def _exposure(
    data: pd.DataFrame, offset: str | None, exposure: str | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``exp(offset)`` per row and the offset itself (NaN where missing), or ``(None, None)``."""
    if offset is None and exposure is None:
        return None, None
    name = offset if offset is not None else exposure
    col = data[name]
    if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        raise InvalidParameterError(
            f"{'offset' if offset else 'exposure'} column {name!r} has dtype {col.dtype}; it "
            "must be numeric."
        )
    return exposure_and_offset(
        col.to_numpy(dtype=np.float64, na_value=np.nan),
        is_exposure=exposure is not None,
        name=name,
        where="",
        rows=lambda bad: _examples(data.index, bad),
    )


# --- separation ----------------------------------------------------------------------------------


@dataclass
class _Pruned:
    """Units (rows or cells) left after dropping separated fixed-effect levels."""

    keep: np.ndarray
    levels: dict[str, list[Any]]  # fixed effect -> dropped level labels
    codes: dict[str, np.ndarray]  # fixed effect -> dropped level codes
    n_rows: int  # rows dropped


def _level_sums(
    codes: np.ndarray, n_levels: int, n: np.ndarray | None, s: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and outcome sums per level over the kept units (codes of dropped units may be -1)."""
    safe = np.where(keep, codes, 0)
    w = keep.astype(np.float64) if n is None else np.where(keep, n, 0.0)
    return (
        np.bincount(safe, weights=w, minlength=n_levels),
        np.bincount(safe, weights=np.where(keep, s, 0.0), minlength=n_levels),
    )


def _separated(n: np.ndarray, s: np.ndarray, family: str) -> np.ndarray:
    """Levels whose outcomes are all 0 (logit: or all 1): their effect is infinite."""
    return (n > 0) & ((s == 0) | ((s == n) if family == "logit" else False))


#: A grouping column for the separation check: its name, its levels and the level code per unit.
_Grouping = tuple[str, pd.Index, np.ndarray]


def _prune(
    fe_cols: list[_Grouping],
    reg_cols: list[_Grouping],
    n: np.ndarray | None,
    s: np.ndarray,
    keep: np.ndarray,
    family: str,
    outcome: str,
) -> _Pruned:
    """Drop separated fixed-effect levels (repeatedly), then refuse separated regressor levels.

    Works on rows (``n=None``) or cells (``n`` = rows per cell, ``s`` = outcome sum per cell),
    with each column given as ``(name, levels, codes of the units)``. A fixed-effect level whose
    outcomes are all 0 (logit: or all 1) has an infinite effect and its rows carry no information
    on the other parameters: pyfixest, fixest and Stata drop them too. Dropping rows can separate
    another fixed effect's level, hence the loop. A *regressor* level in that state has an
    infinite odds/rate ratio, which no estimator can report, so it is an error naming the level.
    """
    rows_before = float(keep.sum()) if n is None else float(n[keep].sum())
    levels: dict[str, list[Any]] = {}
    codes_out: dict[str, np.ndarray] = {}
    changed = True
    while changed:
        changed = False
        for name, col_levels, codes in fe_cols:
            bad = _separated(*_level_sums(codes, len(col_levels), n, s, keep), family)
            if bad.any():
                changed = True
                idx = np.flatnonzero(bad)
                levels.setdefault(name, []).extend(col_levels[idx].tolist())
                codes_out[name] = np.concatenate([codes_out.get(name, idx[:0]), idx])
                keep = keep & ~bad[np.where(keep, codes, 0)]
    if not keep.any():
        raise InvalidParameterError(
            "No rows left to fit after dropping missing values and fixed-effect levels that "
            "perfectly predict the outcome."
        )
    total_n = float(keep.sum()) if n is None else float(n[keep].sum())
    total_s = float(s[keep].sum())
    if family == "logit" and total_s in (0.0, total_n):
        raise InvalidParameterError(
            f"Outcome {outcome!r} is {int(total_s > 0)} in every row used: nothing to model."
        )
    if family == "poisson" and total_s == 0.0:
        raise InvalidParameterError(f"Outcome {outcome!r} is 0 in every row used.")
    for name, col_levels, codes in reg_cols:
        nn, ss = _level_sums(codes, len(col_levels), n, s, keep)
        bad = _separated(nn, ss, family)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            value = "0" if ss[i] == 0 else "1"
            ratio = "odds ratio" if family == "logit" else "rate ratio"
            raise InvalidParameterError(
                f"Level {col_levels[i]!r} of regressor {name!r} perfectly predicts the "
                f"outcome: all {int(nn[i]):,} of its rows have {outcome} = {value}, so its "
                f"{ratio} is infinite (separation). Fix: merge it with a neighbouring level, "
                "drop those rows, or make the variable a fixed effect (whose separated levels "
                "are dropped)."
            )
    return _Pruned(keep=keep, levels=levels, codes=codes_out, n_rows=int(rows_before - total_n))


# --- the collapsed fit ---------------------------------------------------------------------------


def _independent_columns(XtX: np.ndarray, tol: float = _COLLIN_TOL) -> np.ndarray:
    """Keep columns in order, dropping each one that is (nearly) a combination of those kept.

    A sequential Cholesky on the correlation-scaled cross-product: column ``j`` is kept when its
    squared residual on the kept columns exceeds ``tol``. Fixed-effect dummies come first, so a
    regressor collinear with the fixed effects is the one dropped (as in pyfixest).
    """
    from scipy.linalg import solve_triangular

    d = np.sqrt(np.diag(XtX))
    p = len(d)
    keep = np.zeros(p, dtype=bool)
    nz = d > 0
    R = np.zeros_like(XtX)
    R[np.ix_(nz, nz)] = XtX[np.ix_(nz, nz)] / np.outer(d[nz], d[nz])
    L = np.zeros((p, p))
    kept: list[int] = []
    for j in range(p):
        if not nz[j]:
            continue
        if kept:
            m = len(kept)
            v = solve_triangular(L[:m, :m], R[kept, j], lower=True)
            r = R[j, j] - v @ v
        else:
            v, r = np.empty(0), R[j, j]
        if r > tol:
            m = len(kept)
            L[m, :m] = v
            L[m, m] = np.sqrt(r)
            kept.append(j)
            keep[j] = True
    return keep


def _loglik_cells(family: str, eta: np.ndarray, stats: dict[str, np.ndarray]) -> float:
    """Log-likelihood up to a constant that does not depend on the parameters."""
    if family == "logit":
        return float(np.sum(stats["y"] * eta - stats["n"] * np.logaddexp(0.0, eta)))
    return float(np.sum(stats["y"] * eta - stats["t"] * np.exp(eta)))


def _newton(
    X, stats: dict[str, np.ndarray], family: str, maxiter: int = 100
) -> tuple[np.ndarray, int, bool]:
    """Maximum likelihood by Newton-Raphson (= IRLS for canonical links) with step halving.

    Stops when the Newton decrement ``U' A^-1 U`` is below 1e-20, i.e. every remaining step is
    under 1e-10 standard errors.
    """
    from scipy.linalg import cho_factor, cho_solve

    # Start from the saturated-ish fit: a weighted least squares of the smoothed link.
    if family == "logit":
        p0 = (stats["y"] + 0.5) / (stats["n"] + 1.0)
        eta0 = np.log(p0 / (1.0 - p0))
    else:
        rate = stats["y"].sum() / stats["t"].sum()
        eta0 = np.log((stats["y"] + rate * stats["t"]) / (2.0 * stats["t"]))
    resid, w, _ = cv.cell_moments(family, eta0, stats)
    z = eta0 + resid / w
    beta = cho_solve(cho_factor(cv.crossprod(X, w)), np.asarray(X.T @ (w * z)).ravel())
    ll = _loglik_cells(family, X @ beta, stats)
    converged = False
    iterations = 0
    for iterations in range(1, maxiter + 1):  # noqa: B007 (the count is returned)
        eta = X @ beta
        resid, w, _ = cv.cell_moments(family, eta, stats)
        U = np.asarray(X.T @ resid).ravel()
        try:
            step = cho_solve(cho_factor(cv.crossprod(X, w)), U)
        except np.linalg.LinAlgError:  # information singular: fitted values at 0/1 (separation)
            break
        decrement = float(U @ step)
        t = 1.0
        for _ in range(40):
            new_ll = _loglik_cells(family, X @ (beta + t * step), stats)
            if new_ll >= ll - 1e-12 * abs(ll):
                break
            t /= 2.0
        beta = beta + t * step
        ll = new_ll
        if decrement < 1e-20 * max(1.0, X.shape[1]):
            converged = True
            break
    else:
        # Out of iterations: accept a decrement at the floor that rounding allows on big data.
        converged = decrement < 1e-8
    return beta, iterations, converged


def _extreme_rows(family: str, eta: np.ndarray, n: np.ndarray | None) -> int:
    """Rows whose fitted probability is 0 or 1 (logit) or expected count 0 (Poisson), to 1e-8.

    Newton's method declares convergence under quasi-separation (the gradient and the curvature
    vanish together while a coefficient runs off to infinity), so it is checked on the fit.
    """
    bound = 18.4  # |eta| beyond which a probability is within 1e-8 of 0 or 1
    extreme = np.abs(eta) > bound if family == "logit" else eta < -bound
    return int(extreme.sum() if n is None else n[extreme].sum())


def _fe_block(cells_codes: dict[str, np.ndarray], fes: list[str], n_cells: int):
    """Intercept plus treatment-coded dummies of each fixed effect (first level dropped), sparse."""
    from scipy import sparse

    blocks = [sparse.csr_matrix(np.ones((n_cells, 1)))]
    names = ["(fe) intercept"]
    n_groups: dict[str, int] = {}
    for fe in fes:
        used, inverse = np.unique(cells_codes[fe], return_inverse=True)
        n_groups[fe] = len(used)
        rows = np.flatnonzero(inverse > 0)
        block = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, inverse[rows] - 1)), shape=(n_cells, len(used) - 1)
        )
        blocks.append(block)
        names += [f"(fe) {fe}[{j}]" for j in range(1, len(used))]
    return blocks, names, n_groups


def _fit_collapsed(
    *,
    cells: Cells,
    family: str,
    rhs: str,
    fes: list[str],
    vcov: str,
    cluster: str | None,
    small_sample: str,
    auto: bool,
) -> dict[str, Any] | str:
    """Fit the cells; in ``auto`` mode return a reason string when the rows would be better."""
    from formulaic import model_matrix

    nobs = cells.nobs
    mm = model_matrix(rhs, cells.keys, na_action="raise", output="sparse")
    reg_names = [str(c) for c in mm.model_spec.column_names]
    # Size check before building the dummies: one column per used fixed-effect level.
    p = len(reg_names) + sum(len(np.unique(cells.codes[fe])) for fe in fes)
    if p > MAX_COLLAPSED_COLUMNS:
        msg = (
            f"the collapsed fit would have {p:,} columns (fixed-effect levels and regressor "
            f"terms; more than {MAX_COLLAPSED_COLUMNS:,})"
        )
        if auto:
            return msg
        raise InvalidParameterError(f"method='collapsed': {msg}. Fix: use method='rows'.")
    from scipy import sparse

    X_reg = sparse.csc_matrix(mm, dtype=np.float64)
    if fes:
        if "Intercept" in reg_names:  # the fixed-effect block carries the intercept
            j = reg_names.index("Intercept")
            X_reg = X_reg[:, [i for i in range(len(reg_names)) if i != j]]
            reg_names.pop(j)
        fe_blocks, fe_names, n_groups = _fe_block(cells.codes, fes, cells.n_cells)
    else:
        fe_blocks, fe_names, n_groups = [], [], {}
    # Sparse: the cells' design is mostly dummies (see covariance.crossprod).
    X = sparse.hstack([*fe_blocks, X_reg], format="csr")
    names = fe_names + reg_names
    keep = _independent_columns(cv.crossprod(X, cells.stats["n"]))
    collinear = [n for n, k in zip(names, keep, strict=True) if not k and not n.startswith("(fe)")]
    X = X[:, np.flatnonzero(keep)].tocsr()
    names = [n for n, k in zip(names, keep, strict=True) if k]

    beta, iterations, converged = _newton(X, cells.stats, family)
    eta = X @ beta
    resid, weight, meat_w = cv.cell_moments(family, eta, cells.stats)
    from scipy.linalg import cho_factor, cho_solve

    try:
        bread = cho_solve(cho_factor(cv.crossprod(X, weight)), np.eye(X.shape[1]))
    except np.linalg.LinAlgError:
        raise InvalidParameterError(
            "The information matrix is singular at the estimates: some combination of "
            "regressors predicts the outcome perfectly (separation). Fix: merge sparse levels "
            "or drop the interaction involved."
        ) from None
    n_clusters = None
    if vcov == "iid":
        V = bread
    elif vcov == "hetero":
        V = cv.sandwich(bread, cv.crossprod(X, meat_w))
    else:
        assert cluster is not None
        cl_codes = cells.codes[cluster]
        n_clusters = len(np.unique(cl_codes))
        V = cv.sandwich(bread, cv.cluster_meat(X, resid, cl_codes))
    factor = cv.small_sample_factor(vcov, small_sample, nobs, n_clusters)
    report = [i for i, n in enumerate(names) if not n.startswith("(fe)")]
    rep_names = [names[i] for i in report]
    params = pd.Series(beta[report], index=rep_names, name="estimate")
    cov = pd.DataFrame(factor * V[np.ix_(report, report)], index=rep_names, columns=rep_names)
    score_groups = {fe: cells.codes[fe] for fe in fes}
    if cluster is not None and cluster in cells.codes:
        score_groups[cluster] = cells.codes[cluster]
    score_data = ScoreData(
        family=family,
        X=np.asarray(X[:, report].todense(), dtype=np.float64),
        y=np.asarray(cells.stats["y"], dtype=np.float64),
        n=np.asarray(cells.stats["n"], dtype=np.float64),
        exposure=None if family == "logit" else np.asarray(cells.stats["t"], dtype=np.float64),
        fixed_effects={fe: cells.codes[fe] for fe in fes},
        groups=score_groups,
        cluster=(cluster,) if vcov == "CRV1" and cluster else (),
    )
    return {
        "score_data": score_data,
        "params": params,
        "cov": cov,
        "nobs": nobs,
        # Poisson: judge the expected count of the cell, not the rate per unit of exposure.
        "extreme_rows": _extreme_rows(
            family, eta if family == "logit" else eta + np.log(cells.stats["t"]), cells.stats["n"]
        ),
        "loglik_kernel": _loglik_cells(family, eta, cells.stats),
        "converged": converged,
        "iterations": iterations,
        "collinear": collinear,
        "n_groups": n_groups,
        "n_clusters": n_clusters,
        "factor": factor,
        "extra": {
            "n_cells": cells.n_cells,
            "n_parameters_with_fe_dummies": X.shape[1],
        },
    }


# --- the row-level fit ---------------------------------------------------------------------------


def _fit_rows(
    *,
    data: pd.DataFrame,
    family: str,
    rhs: str,
    rhs_vars: list[str],
    fes: list[str],
    groups: dict[str, KeyColumn],
    y: np.ndarray,
    log_t: np.ndarray | None,
    keep: np.ndarray,
    vcov: str,
    cluster: str | None,
    small_sample: str,
) -> dict[str, Any]:
    """Fit the rows with pyfixest (fixed effects absorbed); raw sandwich times our own factor.

    The regressors are built here with formulaic, as on the collapsed path, and handed to
    pyfixest as plain numeric columns: term names are identical on both paths, and transforms
    that learn from the data (``center()``...) are computed on the rows.
    """
    from formulaic import model_matrix

    rows = None if keep.all() else np.flatnonzero(keep)
    frame = data.loc[:, rhs_vars] if rows is None else data[rhs_vars].iloc[rows]
    mm = model_matrix(rhs, frame.reset_index(drop=True), na_action="raise")
    names = [str(c) for c in mm.columns]
    X = np.asarray(mm, dtype=np.float64)
    del mm, frame
    intercept = "Intercept" in names
    if intercept:  # pyfixest adds its own (none with fixed effects)
        j = names.index("Intercept")
        X = np.delete(X, j, axis=1)
        names.pop(j)
    safe = [f"__x{i}__" for i in range(len(names))]
    columns: dict[str, np.ndarray] = {"__y__": y if rows is None else y[rows]}
    columns.update({s: X[:, i] for i, s in enumerate(safe)})
    # Fixed effects and cluster as integer codes: no second round of hashing strings.
    for name in dict.fromkeys([*fes, *([cluster] if cluster else [])]):
        codes = groups[name].codes
        columns[name] = codes if rows is None else codes[rows]
    offset_col = None
    if log_t is not None:
        offset_col = "__offset__"
        columns[offset_col] = log_t if rows is None else log_t[rows]
    sub = pd.DataFrame(columns)
    del X
    terms = " + ".join(safe) if safe else "1"
    if not intercept and not fes:
        terms = "0 + " + terms
    fml = f"__y__ ~ {terms}" + (f" | {' + '.join(fes)}" if fes else "")
    # No small-sample factor from pyfixest: ours is applied below, as on the collapsed path.
    # Singletons are kept so N is the same on both paths (they do not move the estimates);
    # separated fixed-effect levels were already dropped (and reported) by fit_glm.
    fit = pfx.read_glm(
        pfx.feglm_raw(fml, sub, family=family, vcov=vcov, cluster=cluster, offset=offset_col)
    )
    rename = dict(zip(safe, names, strict=True))
    params = fit.params.rename("estimate")
    params.index = [rename.get(str(c), str(c)) for c in params.index]
    collinear = [rename.get(v, v) for v in fit.collinear]
    n_clusters = int(len(np.unique(sub[cluster]))) if vcov == "CRV1" else None
    nobs = fit.nobs
    factor = cv.small_sample_factor(vcov, small_sample, nobs, n_clusters)
    cov = pd.DataFrame(factor * fit.cov, index=params.index, columns=params.index)
    mu = fit.mu
    yk = y[keep]
    loglik_kernel = None
    if len(mu) == len(yk):
        if family == "logit":
            mu = np.clip(mu, 1e-300, 1 - 1e-16)
            loglik_kernel = float(np.sum(yk * np.log(mu) + (1 - yk) * np.log1p(-mu)))
        else:
            # Same kernel as the cells: sum y*eta - mu with eta = log(mu) - offset.
            eta = np.log(np.maximum(mu, 1e-300)) - (0.0 if log_t is None else log_t[keep])
            loglik_kernel = float(np.sum(yk * eta - mu))
    n_groups = {fe: int(len(np.unique(sub[fe]))) for fe in fes}
    # the score bootstrap's design: the regressors in the order of params (pyfixest's own
    # intercept when there are no fixed effects)
    safe_of = {v: k for k, v in rename.items()}
    score_X = np.column_stack(
        [
            np.ones(len(sub)) if name == "Intercept" else sub[safe_of[name]].to_numpy(np.float64)
            for name in params.index
        ]
    ) if len(params) else np.zeros((len(sub), 0))  # fmt: skip
    score_groups = {
        name: sub[name].to_numpy()
        for name in dict.fromkeys([*fes, *([cluster] if cluster else [])])
    }
    score_data = ScoreData(
        family=family,
        X=score_X,
        y=sub["__y__"].to_numpy(np.float64),
        n=np.ones(len(sub)),
        exposure=None if offset_col is None else np.exp(sub[offset_col].to_numpy(np.float64)),
        fixed_effects={fe: sub[fe].to_numpy() for fe in fes},
        groups=score_groups,
        cluster=(cluster,) if vcov == "CRV1" and cluster else (),
    )
    extreme = _extreme_rows(family, fit.xbeta, None) if family == "logit" else 0
    return {
        "score_data": score_data,
        "params": params,
        "cov": cov,
        "nobs": nobs,
        "extreme_rows": extreme,
        "loglik_kernel": loglik_kernel,
        "converged": fit.converged,
        "iterations": None,
        "collinear": collinear,
        "n_groups": n_groups,
        "n_clusters": n_clusters,
        "factor": factor,
        "extra": {},
    }


# --- the two ways in: rows in memory, or Parquet read in chunks ----------------------------------


@dataclass(frozen=True)
class _Request:
    """The options of one ``fit_glm`` call, checked, and its formula parsed."""

    formula: str
    family: str
    method: str
    inference: core.Inference
    offset: str | None
    exposure: str | None
    max_levels: int
    lhs: str
    rhs: str
    required: list[str]
    fes: list[str]

    @property
    def vcov(self) -> str:
        return self.inference.vcov

    @property
    def small_sample(self) -> str:
        return self.inference.small_sample

    @property
    def cluster(self) -> str | None:
        return self.inference.cluster[0] if self.inference.cluster else None

    @property
    def stateful(self) -> list[str]:
        """Data-dependent transforms the formula uses (``center`` ...)."""
        return [t.rstrip("(") for t in STATEFUL_TRANSFORMS if t in self.rhs.replace(" ", "")]

    def rhs_variables(self, columns: pd.Index) -> list[str]:
        """The data's columns the right-hand side uses."""
        return _rhs_variables(self.rhs, self.required, columns)

    def check_roles(self, rhs_vars: list[str]) -> None:
        """Refuse a column that is both a regressor and a fixed effect, or the outcome twice."""
        both = sorted(set(rhs_vars) & set(self.fes))
        if both:
            raise InvalidParameterError(
                f"{', '.join(map(repr, both))} is both a regressor and a fixed effect; use it once."
            )
        if self.lhs in rhs_vars or self.lhs in self.fes:
            raise InvalidParameterError(
                f"The outcome {self.lhs!r} also appears on the right-hand side."
            )

    def roles(self, rhs_vars: list[str]) -> dict[str, list[str]]:
        """Role -> columns, for :func:`core.check_columns`."""
        return {
            "outcome": [self.lhs],
            "regressor": rhs_vars,
            "fixed-effect": self.fes,
            "cluster": [self.cluster] if self.cluster else [],
            "offset": [self.offset] if self.offset else [],
            "exposure": [self.exposure] if self.exposure else [],
        }

    def key_columns(self, rhs_vars: list[str]) -> list[str]:
        """The columns that define a cell: regressors, fixed effects, the cluster variable."""
        cluster = [self.cluster] if self.vcov == "CRV1" and self.cluster not in self.fes else []
        return list(dict.fromkeys(rhs_vars + self.fes + cluster))

    def spec(self) -> core.ModelSpec:
        return core.ModelSpec(
            function="fit_glm",
            formula=self.formula,
            inference=self.inference,
            options={
                "family": self.family,
                "fixed_effects": self.fes,
                "method": self.method,
                "offset": self.offset,
                "exposure": self.exposure,
                "max_levels": self.max_levels,
            },
        )


@dataclass
class _Totals:
    """Row totals the full log-likelihood needs beyond the kernel (see :func:`_logliks`)."""

    rows: float
    outcome: float
    exposure: float  # sum of exp(offset) (rows when there is no offset)
    constant: float  # Poisson: -sum log(y!) + sum y * offset


@dataclass
class _Fitted:
    """What either way in hands to the result: the fit and how the sample was made."""

    fit: dict[str, Any]
    pruned: _Pruned
    method: str
    reason: str
    n_missing: int
    totals: _Totals
    sample: pd.Index | None
    data: Any  # what the provenance is read from
    extra: dict[str, Any] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)


def _cell_totals(cells: Cells) -> _Totals:
    stats = cells.stats
    constant = -float(stats["lgamma_y"].sum()) if "lgamma_y" in stats else 0.0
    constant += float(stats["y_log_t"].sum()) if "y_log_t" in stats else 0.0
    rows = float(stats["n"].sum())
    return _Totals(
        rows=rows,
        outcome=float(stats["y"].sum()),
        exposure=float(stats["t"].sum()) if "t" in stats else rows,
        constant=constant,
    )


def _row_totals(
    family: str, yk: np.ndarray, t: np.ndarray | None, log_t: np.ndarray | None, keep: np.ndarray
) -> _Totals:
    constant = 0.0
    if family == "poisson":
        from scipy.special import gammaln

        constant = -float(np.sum(gammaln(yk + 1.0)))
        if log_t is not None:
            constant += float(np.sum(yk * log_t[keep]))
    return _Totals(
        rows=float(len(yk)),
        outcome=float(yk.sum()),
        exposure=float(len(yk)) if t is None else float(np.sum(t[keep])),
        constant=constant,
    )


def _fit_cells(
    cells: Cells,
    request: _Request,
    levels: dict[str, pd.Index],
    dummies: list[str],
    *,
    auto: bool,
) -> tuple[_Pruned, dict[str, Any] | str, Cells]:
    """Drop separated fixed-effect levels from the cells, then fit them (both ways in).

    Returns the pruning, the fit (or, with ``auto``, the reason the rows would be better) and
    the cells fitted.
    """
    # Separation is checked on the cells: same sums as on the rows, far fewer units.
    pruned = _prune(
        [(fe, levels[fe], cells.codes[fe]) for fe in request.fes],
        [(v, levels[v], cells.codes[v]) for v in dummies],
        cells.stats["n"],
        cells.stats["y"],
        np.ones(cells.n_cells, dtype=bool),
        request.family,
        request.lhs,
    )
    if pruned.codes:
        cells = cells.subset(pruned.keep)
    fit = _fit_collapsed(
        cells=cells,
        family=request.family,
        rhs=request.rhs,
        fes=request.fes,
        vcov=request.vcov,
        cluster=request.cluster,
        small_sample=request.small_sample,
        auto=auto,
    )
    return pruned, fit, cells


def _fit_frame(data: pd.DataFrame, request: _Request) -> _Fitted:
    """Rows in memory: collapse them when the data allow, else fit the rows."""
    family, method, cluster, vcov = request.family, request.method, request.cluster, request.vcov
    fes, lhs = request.fes, request.lhs
    rhs_vars = request.rhs_variables(data.columns)
    core.check_columns(data, request.roles(rhs_vars))
    request.check_roles(rhs_vars)
    if len(data) == 0:
        raise InvalidParameterError(f"{core.data_label(data)} has no rows.")

    y = _outcome(data, lhs, family)
    t, log_t = _exposure(data, request.offset, request.exposure)

    # Which path. Discreteness is checked before any encoding, so a continuous column costs
    # no hashing.
    stateful = request.stateful
    continuous = [v for v in rhs_vars if not is_discrete(data[v], request.max_levels)]
    reason = ""
    use_collapsed = method == "collapsed"
    if method == "collapsed" and stateful:
        raise InvalidParameterError(
            f"method='collapsed' cannot use the data-dependent transform(s) {stateful}: on cells "
            "they would be computed from cells, not rows. Fix: transform the column first, or "
            "use method='rows'."
        )
    if method == "auto":
        if stateful:
            reason = f"formula uses data-dependent transform(s) {stateful}"
        elif continuous:
            reason = (
                f"continuous regressor(s) {continuous} (numeric with more than "
                f"{request.max_levels} distinct values)"
            )
        use_collapsed = not reason
    elif method == "rows":
        reason = "method='rows' requested"
    else:
        reason = "method='collapsed' requested"

    # Encode grouping columns. Regressors only when collapsing (or for the separation check).
    encode = list(fes) + ([cluster] if vcov == "CRV1" else [])
    encode += [v for v in rhs_vars if use_collapsed or v not in continuous]
    encoded = {name: encode_column(data[name], name) for name in dict.fromkeys(encode)}
    core.check_types(
        data, estimator="fit_glm", outcome=[], regressors=rhs_vars, formula=request.formula
    )
    keep = ~np.isnan(y)
    if log_t is not None:
        keep &= ~np.isnan(log_t)
    for col in encoded.values():
        keep &= col.codes >= 0
    for v in rhs_vars:
        if v not in encoded:
            keep &= data[v].notna().to_numpy()
    n_missing = int(len(keep) - keep.sum())

    levels = {name: col.levels for name, col in encoded.items()}
    # Only dummy-coded regressors can be separated level by level; numeric ones enter linearly.
    dummies = [v for v in rhs_vars if v in encoded and encoded[v].dummy_kind]
    fit: dict[str, Any] | str | None = None
    pruned: _Pruned | None = None
    totals: _Totals | None = None
    if use_collapsed:
        rows = None if keep.all() else np.flatnonzero(keep)
        cells = collapse(
            [encoded[v] for v in request.key_columns(rhs_vars)],
            y if rows is None else y[rows],
            exposure=None if t is None else (t if rows is None else t[rows]),
            log_exposure=None if log_t is None else (log_t if rows is None else log_t[rows]),
            poisson=family == "poisson",
            rows=rows,
        )
        if method == "auto" and cells.n_cells > MAX_CELL_SHARE * cells.nobs:
            reason = (
                f"collapsing gives {cells.n_cells:,} cells for {cells.nobs:,} rows (more than "
                f"{MAX_CELL_SHARE:.0%}): little to gain"
            )
        else:
            pruned, fit, cells = _fit_cells(cells, request, levels, dummies, auto=method == "auto")
            if isinstance(fit, str):  # auto: the cell design is too big, fit the rows
                reason, fit = fit, None
            else:
                reason = reason or "every regressor is discrete"
                totals = _cell_totals(cells)
                for fe, dropped_codes in pruned.codes.items():
                    keep &= ~np.isin(encoded[fe].codes, dropped_codes)
    chosen = "collapsed" if fit is not None else "rows"
    if fit is None:
        pruned = _prune(
            [(c, levels[c], encoded[c].codes) for c in fes],
            [(c, levels[c], encoded[c].codes) for c in dummies],
            None,
            y,
            keep,
            family,
            lhs,
        )
        keep = pruned.keep
        fit = _fit_rows(
            data=data,
            family=family,
            rhs=request.rhs,
            rhs_vars=rhs_vars,
            fes=fes,
            groups=encoded,
            y=y,
            log_t=log_t,
            keep=keep,
            vcov=vcov,
            cluster=cluster,
            small_sample=request.small_sample,
        )
        totals = _row_totals(family, y[keep], t, log_t, keep)
    assert pruned is not None and totals is not None and isinstance(fit, dict)
    return _Fitted(
        fit=fit,
        pruned=pruned,
        method=chosen,
        reason=reason,
        n_missing=n_missing,
        totals=totals,
        # a boolean mask over millions of labels is slow even when it keeps them all
        sample=data.index if keep.all() else data.index[keep],
        data=data,
    )


def _fit_parquet(
    data: Any, request: _Request, *, scheduler: Any, progress: bool, batch_size: int
) -> _Fitted:
    """Parquet data: collapse them chunk by chunk (or file by file on Dask), fit the cells."""
    source = stream.open_source(data)
    stub = source.frame_stub()
    rhs_vars = request.rhs_variables(source.columns)
    core.check_columns(stub, request.roles(rhs_vars))
    request.check_roles(rhs_vars)
    if request.method == "rows":
        raise InvalidParameterError(
            f"method='rows' needs the rows in memory, and {source.label} is read in chunks. "
            "Fix: load the columns you need with pd.read_parquet(path, columns=[...]) and pass "
            "the DataFrame, or use method='auto' or 'collapsed'."
        )
    if request.stateful:
        raise InvalidParameterError(
            f"Parquet data are fitted on collapsed cells, where the data-dependent "
            f"transform(s) {request.stateful} would be computed from cells, not rows. Fix: "
            "transform the column before writing the files, or load the rows with "
            "pd.read_parquet and fit the DataFrame."
        )
    roles = {fe: "fixed-effect" for fe in request.fes}
    roles.update({v: "regressor" for v in rhs_vars})
    keys = request.key_columns(rhs_vars)
    tasks = stream.plan(
        source,
        outcome=request.lhs,
        family=request.family,
        offset=request.offset,
        exposure=request.exposure,
        keys=[(k, roles.get(k, "cluster")) for k in keys],
        # "collapsed" vouches that the cells are few whatever the values (a hospital-period
        # staffing ratio: many values, one per cell); "auto" refuses a continuous regressor
        max_levels=request.max_levels if request.method == "auto" else None,
        batch_size=batch_size,
    )
    collapsed = stream.collapse_source(source, tasks, scheduler=scheduler, progress=progress)
    cells, levels = collapsed.cells, collapsed.levels
    text = [v for v in rhs_vars if _is_text(cells.keys[v])]
    for v in text:  # judged on its distinct values: the rows are not at hand
        core.check_types(
            pd.DataFrame({v: levels[v]}),
            estimator="fit_glm",
            outcome=[],
            regressors=[v],
            formula=request.formula,
        )
    dummies = [v for v in rhs_vars if is_dummy_kind(cells.keys[v])]
    pruned, fit, cells = _fit_cells(cells, request, levels, dummies, auto=True)
    if isinstance(fit, str):
        raise InvalidParameterError(
            f"fit_glm: {fit}. Parquet data are fitted on collapsed cells only. Fix: load the "
            "rows with pd.read_parquet and fit the DataFrame with method='rows' (pyfixest absorbs "
            "the fixed effects), or use fewer fixed-effect levels."
        )
    summary = collapsed.summary
    return _Fitted(
        fit=fit,
        pruned=pruned,
        method="collapsed",
        reason=f"Parquet data are collapsed chunk by chunk ({summary['files']:,} file(s))",
        n_missing=sum(summary["rows_dropped"].values()),
        totals=_cell_totals(cells),
        sample=None,  # the rows were never in memory
        data=stub,
        extra={"stream": summary},
        inputs=collapsed.inputs,
    )


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column.dtype) and not isinstance(
        column.dtype, pd.CategoricalDtype
    )


# --- public entry point --------------------------------------------------------------------------


def fit_glm(
    data: pd.DataFrame | str | os.PathLike[str] | pyarrow.dataset.Dataset,
    formula: str,
    family: Family = "logit",
    *,
    fixed_effects: str | Sequence[str] | None = None,
    vcov: Vcov | None = None,
    cluster: str | Sequence[str] | None = None,
    convention: Convention | None = None,
    small_sample: SmallSample = "default",
    alpha: float = 0.05,
    method: Method = "auto",
    offset: str | None = None,
    exposure: str | None = None,
    max_levels: int = DEFAULT_MAX_LEVELS,
    scheduler: Any = None,
    progress: bool | None = None,
    batch_size: int = DEFAULT_BATCH_ROWS,
) -> RegressionResult:
    """Fit a logit or Poisson regression with fixed effects, on collapsed cells when exact.

    Parameters
    ----------
    data
        One row per patient (or per unit of observation): a pandas DataFrame, or Parquet data
        too big for memory: a Parquet file, a folder of (hive-)partitioned Parquet files (``str``
        or ``Path``) or a ``pyarrow.dataset.Dataset``. Parquet data are read in chunks of only
        the columns the model uses and collapsed as they are read, so memory holds one chunk
        plus the cells (see :mod:`icsresearch.models.glm.stream`); the estimates and standard
        errors are those of ``fit_glm(pd.read_parquet(path), ...)``.
    formula
        ``"outcome ~ x1 + x2"`` in formulaic syntax (``C(x)``, ``a:b``, ``a*b``, ``np.log(x)``).
        Fixed effects may instead follow a ``|`` as in pyfixest: ``"y ~ x | hospital + period"``.
        Strings, categoricals and booleans enter as treatment-coded dummies; numbers enter
        linearly (wrap them in ``C()`` for dummies).
    family
        ``"logit"`` (binary outcome: 0/1 or True/False) or ``"poisson"`` (non-negative counts;
        non-integer values give the Poisson pseudo-MLE).
    fixed_effects
        Column(s) whose levels get their own intercept (the same as writing them after ``|``).
        Levels whose outcomes are all 0 (logit: or all 1) are dropped with their rows,
        repeatedly, as in pyfixest; the result's ``extra["separated_levels"]`` and ``warnings``
        name them.
    vcov
        ``"iid"`` (inverse information; default without ``cluster``), ``"hetero"`` (the HC0
        sandwich of the row-level scores, times the small-sample factor) or ``"CRV1"`` (default
        with ``cluster``). ``"robust"`` and ``"clustered"`` are the deprecated spellings.
    cluster
        One column to cluster standard errors on (implies ``vcov="CRV1"``).
    convention
        ``"stata"`` (the only one, the default): Stata's ML small-sample rules below.
    small_sample
        ``"default"``: ``hetero`` times ``N/(N-1)``, ``CRV1`` times ``G/(G-1)``, as Stata's
        ``logit``/``poisson``; ``"none"``: the raw sandwich (statsmodels ``HC0``, ``cluster``
        with ``use_correction=False``). ``iid`` gets no factor in either. (``"stata"`` is the
        deprecated spelling of ``"default"``.)
    alpha
        Default level of the confidence intervals (``1 - alpha``).
    method
        ``"collapsed"`` fits the cells; ``"rows"`` fits the rows with pyfixest; ``"auto"``
        collapses when every regressor is discrete (boolean/categorical/string, or numeric with
        at most ``max_levels`` distinct values), the formula has no data-dependent transform
        (``center()``, ``scale()``, splines...), the cells are at most half the rows and the
        fixed-effect levels plus regressor terms number at most 2,000; otherwise it fits the rows
        and says why in ``extra["method_reason"]``. Parquet data are always collapsed
        (``"rows"`` is refused): with ``"auto"`` a numeric regressor with more than
        ``max_levels`` values is refused with the ways to discretise it; ``"collapsed"`` takes
        it (right for a value constant within groups, such as a hospital-quarter staffing
        ratio; for a truly continuous one the cells grow with the rows).
    offset, exposure
        Poisson only: a column added to the linear predictor, or a positive exposure column
        (person-time) whose log is the offset. Give at most one.
    max_levels
        The discreteness threshold for numeric regressors used by ``method="auto"`` (for
        Parquet data with ``"auto"``, beyond which a numeric regressor is refused).
    scheduler
        Parquet data only: a ``distributed.Client`` or a Dask scheduler address
        (``"tcp://host:8786"``). Each file is collapsed on a worker, which must see it at the
        same path (shared storage); only the cells (level values and sums) travel back, and the
        client fits them. ``None`` reads the files in this process.
    progress
        Parquet data only: show a progress bar over the rows read and print a summary on
        stderr; ``None`` shows them when stderr is a terminal.
    batch_size
        Parquet data only: rows per chunk read (at most; a chunk never spans two Parquet row
        groups). Memory grows with it; the results do not change.

    Returns
    -------
    RegressionResult
        ``params`` hold the regressors' log odds ratios (logit) or log rate ratios (Poisson),
        without the fixed effects (and without the intercept when fixed effects are present);
        ``tidy(exponentiate=True)`` gives odds/rate ratios and their CIs. Inference is normal
        (z). ``extra`` has ``method`` (``"collapsed"``/``"rows"``), ``method_reason``,
        ``n_cells``, ``loglik``, ``converged``, ``separated_levels``, ``n_dropped_separation``,
        ``n_dropped_missing``, ``small_sample_factor`` and ``dropped_collinear``; for Parquet
        data also ``stream``: ``files``, ``chunks``, ``rows_read``, ``rows_dropped`` (per
        ``"missing <column>"``), ``cells``, ``peak_rss_bytes``, ``seconds``, ``scheduler`` and
        ``workers``. The provenance of a Parquet fit names every file read (its
        ``extra["input_files"]`` adds size, modification time, rows and the sha256 of each
        file's Parquet footer); ``sample`` is ``None`` (the rows were never in memory).

    Raises
    ------
    InvalidParameterError
        Unknown options, a column not in the data, a non-binary outcome for logit, negative
        counts or non-positive exposure for Poisson, an outcome without variation, or a
        regressor level that perfectly predicts the outcome; for Parquet data also a column
        whose type differs between files or cannot be used (naming the file and the column),
        and a continuous regressor.
    """
    parquet = stream.is_stream_input(data)
    if not parquet and not isinstance(data, pd.DataFrame):
        raise InvalidParameterError(
            f"data must be a pandas DataFrame, a Parquet file or folder (str or Path) or a "
            f"pyarrow dataset, not {type(data).__name__}\n  Fix: pass one row per observation "
            "as a DataFrame, or the path of the Parquet files"
        )
    request = _check_request(
        formula,
        family,
        fixed_effects=fixed_effects,
        vcov=vcov,
        cluster=cluster,
        convention=convention,
        small_sample=small_sample,
        alpha=alpha,
        method=method,
        offset=offset,
        exposure=exposure,
        max_levels=max_levels,
    )
    if progress is not None:
        progress = check_bool("progress", progress)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidParameterError(f"batch_size={batch_size!r} must be a positive integer.")
    stream.check_scheduler(scheduler)
    if parquet:
        fitted = _fit_parquet(
            data,
            request,
            scheduler=scheduler,
            progress=sys.stderr.isatty() if progress is None else progress,
            batch_size=batch_size,
        )
    elif scheduler is not None:
        raise InvalidParameterError(
            "scheduler= applies to Parquet data (files the workers read), not to a DataFrame "
            "already in memory. Fix: pass the Parquet path, or leave scheduler=None."
        )
    else:
        fitted = _fit_frame(data, request)
    return _result(fitted, request)


def _check_request(
    formula: str,
    family: Any,
    *,
    fixed_effects: Any,
    vcov: Any,
    cluster: Any,
    convention: Any,
    small_sample: Any,
    alpha: Any,
    method: Any,
    offset: str | None,
    exposure: str | None,
    max_levels: Any,
) -> _Request:
    """Every option checked and the formula parsed, before any data is read."""
    family = check("family", family, Family)
    method = check("method", method, Method)
    inference = core.resolve_inference(
        CAPABILITIES,
        vcov=core.legacy_vcov(vcov, words=VCOV_WORDS, stacklevel=5),
        cluster=cluster,
        convention=convention,
        small_sample=core.legacy_small_sample(small_sample, SMALL_SAMPLE_WORDS, stacklevel=5),
        alpha=alpha,
    )
    if family == "logit" and (offset is not None or exposure is not None):
        raise InvalidParameterError("offset/exposure apply to family='poisson' only.")
    if offset is not None and exposure is not None:
        raise InvalidParameterError(
            "Give offset= or exposure= (whose log is the offset), not both."
        )
    if isinstance(max_levels, bool) or not isinstance(max_levels, int) or max_levels < 1:
        raise InvalidParameterError(f"max_levels={max_levels!r} must be a positive integer.")
    lhs, rhs, required, fes = _parse_formula(formula, fixed_effects)
    return _Request(
        formula=formula,
        family=family,
        method=method,
        inference=inference,
        offset=offset,
        exposure=exposure,
        max_levels=max_levels,
        lhs=lhs,
        rhs=rhs,
        required=required,
        fes=fes,
    )


def _result(fitted: _Fitted, request: _Request) -> RegressionResult:
    """The result of either way in: warnings, log-likelihoods, labels, specification."""
    family, vcov, cluster, fes = request.family, request.vcov, request.cluster, request.fes
    fit, pruned = fitted.fit, fitted.pruned
    warnings: list[str] = []
    if fitted.n_missing:
        warnings.append(f"{fitted.n_missing:,} rows with missing values were dropped.")
    separated, n_separated = pruned.levels, pruned.n_rows
    if separated:
        listing = "; ".join(
            f"{fe}: {', '.join(map(str, lv[:10]))}{' ...' if len(lv) > 10 else ''}"
            for fe, lv in separated.items()
        )
        all_what = "all 0 or all 1" if family == "logit" else "all 0"
        warnings.append(
            f"{n_separated:,} rows dropped: fixed-effect levels whose outcomes are {all_what} "
            f"perfectly predict the outcome ({listing})."
        )
    if fit["collinear"]:
        warnings.append(
            f"Dropped as collinear (with the fixed effects or other regressors): "
            f"{', '.join(fit['collinear'])}."
        )
    if fit["extreme_rows"]:
        warnings.append(
            f"{fit['extreme_rows']:,} rows have fitted "
            + ("probabilities of 0 or 1" if family == "logit" else "rates of 0")
            + " to within 1e-8: quasi-separation, some estimates may be infinite (check the "
            "terms with huge coefficients and standard errors)."
        )
    if not fit["converged"]:
        warnings.append("The likelihood maximisation did not converge: estimates are unreliable.")
    nobs = int(fit["nobs"])
    loglik, loglik_null = _logliks(family, fit["loglik_kernel"], fitted.totals)
    n_groups = dict(fit["n_groups"])
    if vcov == "CRV1":
        n_groups[cluster] = int(fit["n_clusters"])
        if fit["n_clusters"] < 30:
            warnings.append(
                f"Only {fit['n_clusters']} clusters: cluster-robust SEs may be too small; "
                "consider the score bootstrap, res.score_bootstrap(term)."
            )

    link = "logit" if family == "logit" else "log"
    fe_label = f", fixed effects: {' + '.join(fes)}" if fes else ""
    if fitted.method == "collapsed":
        source = f" from {len(fitted.inputs):,} Parquet file(s)" if fitted.inputs else ""
        how = f"collapsed to {fit['extra']['n_cells']:,} cells{source}, fixed effects as dummies"
    else:
        how = "row level, pyfixest " + ("feglm" if family == "logit" else "fepois")
    model = f"{'logit' if family == 'logit' else 'Poisson'} ML{fe_label} ({how})"
    factor = fit["factor"]
    if vcov == "iid":
        cov_type = "model-based (inverse information)"
    elif vcov == "hetero":
        cov_type = "robust HC0" + (" x N/(N-1) (Stata vce(robust))" if factor != 1 else "")
    else:
        cov_type = f"clustered by {cluster}" + (
            " x G/(G-1) (Stata vce(cluster))" if factor != 1 else " (no small-sample factor)"
        )

    spec = request.spec()
    extra = {
        "method": fitted.method,
        "method_reason": fitted.reason,
        "family": family,
        "link": link,
        "loglik": loglik,
        "loglik_null": loglik_null,
        "converged": fit["converged"],
        "iterations": fit["iterations"],
        "separated_levels": separated,
        "n_dropped_separation": n_separated,
        "n_dropped_missing": fitted.n_missing,
        "small_sample": request.small_sample,
        "small_sample_factor": factor,
        "dropped_collinear": fit["collinear"],
        **fit["extra"],
        **fitted.extra,
    }
    rsq = {}
    if loglik is not None and loglik_null:
        rsq["pseudo"] = 1.0 - loglik / loglik_null
    fields = core.result_fields(fitted.data, spec)
    if fitted.inputs:
        record = fields["provenance"].with_inputs(stream.input_records(fitted.inputs))
        fields["provenance"] = dataclasses.replace(
            record, extra={**record.extra, "input_files": fitted.inputs}
        )
    return RegressionResult(
        params=fit["params"],
        cov=fit["cov"],
        nobs=nobs,
        df_resid=None,
        model=model,
        cov_type=cov_type,
        dependent=request.lhs,
        formula=request.formula,
        n_groups=n_groups,
        rsquared=rsq,
        dist="normal",
        sample=fitted.sample,
        fixed_effects=tuple(fes),
        extra=extra,
        warnings=warnings,
        _score_data=fit.get("score_data"),
        **fields,
    )


def _logliks(
    family: str, kernel: float | None, totals: _Totals
) -> tuple[float | None, float | None]:
    """Full row-level log-likelihood of the fit and of the intercept-only (McFadden) model."""
    k, n = totals.outcome, totals.rows
    if family == "logit":
        p = k / n
        null = k * np.log(p) + (n - k) * np.log1p(-p)
        return kernel, float(null)
    # Poisson: add the parts of sum(y log mu - mu - log y!) that the kernel leaves out.
    rate = k / totals.exposure
    null = k * np.log(rate) - rate * totals.exposure + totals.constant
    return (None if kernel is None else kernel + totals.constant), float(null)
