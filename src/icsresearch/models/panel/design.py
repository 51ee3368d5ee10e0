"""From a DataFrame and a formula to the arrays the panel estimators use.

Everything that can go wrong with the input is caught here and reported as an
:class:`~icsresearch.errors.InvalidParameterError` that names the column or value at fault and says
how to fix it: missing columns, duplicated entity-time pairs, non-numeric outcomes, infinite values
(``log(0)``), non-positive weights, a time index that cannot be lagged, too few observations.

Lags and first differences respect the time index: the lag of ``y`` in year ``t`` is the value of
``y`` in year ``t - 1`` of the same entity, and is missing when that year is absent (a gap), never
the value from the previous *row*.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InvalidParameterError
from .transform import bincount_is_cheap

INTERCEPT = "Intercept"


@dataclass
class PanelDesign:
    """The estimation sample as arrays (rows already listwise-complete).

    Attributes
    ----------
    y, X
        Outcome and regressors (``X`` includes the intercept column when the formula has one).
    names
        Column names of ``X``.
    intercept
        Whether ``X[:, 0]`` is the intercept.
    entity, time
        Integer codes (``0..n-1``; time codes follow the sorted time values).
    entity_labels, time_labels
        The labels behind the codes.
    weights
        Analytic weights or ``None``.
    clusters
        Cluster variable name -> integer codes, for the requested clustering.
    index
        Row labels (of the caller's DataFrame) in the sample.
    dependent
        Name of the outcome as written in the formula.
    n_missing
        Rows dropped because a model variable was missing.
    n_lost
        Rows lost to lags or differences (previous period absent or missing).
    """

    y: np.ndarray
    X: np.ndarray
    names: list[str]
    intercept: bool
    entity: np.ndarray
    time: np.ndarray
    entity_labels: np.ndarray
    time_labels: np.ndarray
    weights: np.ndarray | None
    clusters: dict[str, np.ndarray]
    index: pd.Index
    dependent: str
    entity_name: str
    time_name: str
    n_missing: int = 0
    n_lost: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def nobs(self) -> int:
        """Number of rows in the sample."""
        return int(self.y.shape[0])

    @property
    def n_entities(self) -> int:
        """Number of entities in the sample."""
        return int(self.entity_labels.shape[0])

    @property
    def n_periods(self) -> int:
        """Number of distinct time periods in the sample."""
        return int(self.time_labels.shape[0])


def _fail(problem: str, fix: str) -> InvalidParameterError:
    return InvalidParameterError(f"{problem}\n  Fix: {fix}")


def panel_names(data: Any, entity: str | None, time: str | None) -> tuple[str, str]:
    """The names of the panel's entity and time: the columns given, or the MultiIndex levels.

    Parameters
    ----------
    data
        One row per entity-period, with entity and time columns or an (entity, time) index.
    entity, time
        Column names, or both None to use a two-level MultiIndex.

    Returns
    -------
    tuple of str
    """
    if not isinstance(data, pd.DataFrame):
        raise _fail(
            f"data must be a pandas DataFrame, got {type(data).__name__}",
            "pass a DataFrame with one row per entity-period",
        )
    if entity is None and time is None and isinstance(data.index, pd.MultiIndex):
        if data.index.nlevels != 2:
            raise _fail(
                f"data has a {data.index.nlevels}-level index; an (entity, time) index needs 2",
                "pass entity= and time= column names",
            )
        names = [n if n is not None else f"level_{i}" for i, n in enumerate(data.index.names)]
        return names[0], names[1]
    if entity is None or time is None:
        raise _fail(
            "entity= and time= are required unless data has an (entity, time) MultiIndex",
            "e.g. fit(df, 'shmi ~ managers_fte', entity='trust_code', time='year')",
        )
    return entity, time


def _resolve_panel_columns(
    data: Any, entity: str | None, time: str | None
) -> tuple[pd.DataFrame, str, str]:
    """Accept a DataFrame with entity/time columns, or with an (entity, time) MultiIndex."""
    from_index = entity is None and time is None
    entity, time = panel_names(data, entity, time)
    if from_index:
        frame = data.copy()
        frame.index = frame.index.set_names([entity, time])
        # keep the caller's row labels: the sample is reported in their terms
        frame = frame.reset_index(drop=False).set_index(data.index)
        return frame, entity, time
    frame = data
    missing_cols = [c for c in (entity, time) if c not in frame.columns]
    if missing_cols:
        in_index = [c for c in missing_cols if c in (frame.index.names or [])]
        if in_index and len(in_index) == len(missing_cols):
            frame = frame.reset_index(level=in_index, drop=False).set_index(data.index)
        else:
            raise _fail(
                f"column(s) {missing_cols} not found in data (columns: {list(data.columns)[:20]})",
                "check the entity= and time= names",
            )
    return frame, entity, time


def _parse_formula(formula: str):
    """formulaic's parse of a formula already split by :func:`icsresearch.models.core.parse_formula`."""
    try:
        return _parse_cached(formula)
    except Exception as exc:  # formulaic raises many parser error types
        raise _fail(f"cannot parse formula {formula!r}: {exc}", "check the formula syntax") from exc


@functools.lru_cache(maxsize=256)
def _parse_cached(formula: str):
    # parsing costs ~5 ms; the same formula is typically fitted many times (models x inference)
    import formulaic

    return formulaic.Formula(formula)


def _model_matrices(
    parsed, frame: pd.DataFrame, formula: str
) -> tuple[np.ndarray, np.ndarray, list[str], bool, str]:
    """y and X for the rows of ``frame`` (missing values pass through as NaN)."""
    import formulaic

    try:
        mm = formulaic.model_matrix(parsed, frame, na_action="ignore", output="pandas")
    except Exception as exc:
        raise _fail(
            f"cannot build the model matrix for {formula!r}: {exc}",
            "check that every variable in the formula is a column of data and has a usable type",
        ) from exc
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise _fail(
            f"the outcome of {formula!r} expands to {lhs.shape[1]} columns {list(lhs.columns)}",
            "the outcome must be one numeric column (convert text or categories to numbers first)",
        )
    dependent = str(lhs.columns[0])
    try:
        y = lhs.to_numpy(dtype=float).ravel()
        X = rhs.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise _fail(
            f"non-numeric values in the model variables of {formula!r}: {exc}",
            "convert the columns to numbers, or wrap categorical ones in C(...)",
        ) from exc
    names = [str(c) for c in rhs.columns]
    intercept = INTERCEPT in names
    if intercept and names[0] != INTERCEPT:
        j = names.index(INTERCEPT)
        order = [j] + [i for i in range(len(names)) if i != j]
        X, names = X[:, order], [names[i] for i in order]
    return y, X, names, intercept, dependent


def _check_finite(y: np.ndarray, X: np.ndarray, names: list[str], rows: np.ndarray) -> None:
    """Refuse infinite values in the outcome ``y`` or the regressors ``X`` (``names``: both)."""
    if not (np.isinf(y).any() or np.isinf(X).any()):  # the usual case, without a stacked copy
        return
    bad = np.isinf(np.column_stack([y, X]))
    cols = [names[j] for j in np.flatnonzero(bad.any(axis=0))]
    raise _fail(
        f"infinite values in {cols} ({int(bad.sum())} cells, e.g. row {rows[np.argmax(bad.any(axis=1))]!r})",
        "a transformation such as log() met zero or negative values: drop or recode those rows",
    )


def _integer_time(values: pd.Series, time: str, model: str) -> np.ndarray:
    """Time as integers: lags and differences need to know which period comes before which."""
    if not pd.api.types.is_numeric_dtype(values):
        raise _fail(
            f"model={model!r} needs a numeric time index, but {time!r} has dtype {values.dtype}",
            "convert it to integer periods (e.g. the financial-year start 2012, 2013, ...)",
        )
    arr = values.to_numpy(dtype=float)
    if np.any(np.abs(arr - np.round(arr)) > 1e-9):
        raise _fail(
            f"model={model!r} needs integer time periods, but {time!r} has non-integer values",
            "use consecutive integers for periods (years, quarters numbered 1, 2, ...)",
        )
    return np.round(arr).astype(np.int64)


def _previous_positions(ent_codes: np.ndarray, t_int: np.ndarray, lag: int) -> np.ndarray:
    """Row position of the same entity ``lag`` periods earlier, or -1 where that row is absent."""
    key = pd.MultiIndex.from_arrays([ent_codes, t_int])
    return key.get_indexer(pd.MultiIndex.from_arrays([ent_codes, t_int - lag]))


def _subframe(frame: pd.DataFrame, columns: list[str], idx: np.ndarray) -> pd.DataFrame:
    # a small frame of just the model's columns: formulaic and pandas are much faster on it
    cols = dict.fromkeys(columns)
    if len(idx) == len(frame):
        # every row is in the sample: the columns themselves (copy-on-write keeps the caller's
        # frame safe), where selecting and copying them took 7 ms at 400,000 rows
        return pd.DataFrame({c: frame[c].reset_index(drop=True) for c in cols}, copy=False)
    return pd.DataFrame({c: frame[c].iloc[idx].reset_index(drop=True) for c in cols})


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, labels = pd.factorize(values, sort=True)
    return np.asarray(codes, dtype=np.intp), np.asarray(labels)


def _has_duplicate_pairs(e_codes: np.ndarray, t_codes: np.ndarray, n_periods: int) -> bool:
    """Whether two rows share an (entity, period) pair, given both as dense codes.

    A count per possible pair (``bincount``) when the entity x period grid is not much larger
    than the data: at 20,000 x 20 it takes 1 ms where sorting the pairs (``np.unique``) took
    0.36 s, more than half of a within fit. A sparse grid (many entities, many periods, few
    rows) is sorted instead, so memory stays bounded by the data.
    """
    pair = e_codes.astype(np.int64) * n_periods + t_codes
    n_e = int(e_codes.max()) + 1 if len(e_codes) else 0
    cells = n_e * n_periods
    if bincount_is_cheap(cells, len(pair)):
        return bool((np.bincount(pair, minlength=cells) > 1).any())
    return np.unique(pair).shape[0] < pair.shape[0]


def build_design(
    data: pd.DataFrame,
    formula: str,
    *,
    entity: str | None,
    time: str | None,
    model: str,
    weights: str | None = None,
    cluster: list[str] | None = None,
    lags: int = 1,
) -> PanelDesign:
    """Validate the input and build the estimation sample.

    Parameters
    ----------
    data
        One row per entity-period (or an (entity, time) MultiIndex).
    formula
        ``"outcome ~ regressors"`` in formulaic syntax (``C(year)`` for year dummies).
    entity, time
        Column names of the panel dimensions.
    model
        The estimator (``"fd"`` differences the variables; ``"lagged"`` adds outcome lags).
    weights
        Column of positive analytic weights.
    cluster
        Columns to cluster on (their codes are returned for the sample rows).
    lags
        Number of outcome lags for ``model="lagged"``.

    Returns
    -------
    PanelDesign
    """
    frame, entity, time = _resolve_panel_columns(data, entity, time)
    parsed = _parse_formula(formula)
    required = set(parsed.required_variables)
    absent = sorted(v for v in required if v not in frame.columns)
    if absent:
        raise _fail(
            f"formula {formula!r} uses {absent}, which are not columns of data "
            f"(columns: {list(frame.columns)[:20]})",
            "check the spelling, or add the column",
        )
    extra_cols = [c for c in [weights, *(cluster or [])] if c is not None]
    for c in extra_cols:
        if c not in frame.columns:
            raise _fail(
                f"column {c!r} (weights/cluster) not found in data",
                f"choose one of {list(frame.columns)[:20]}",
            )

    # rows without an entity or a time label cannot be placed in the panel at all
    keyed = frame[entity].notna().to_numpy() & frame[time].notna().to_numpy()
    n_unkeyed = int((~keyed).sum())
    frame = frame.loc[keyed] if n_unkeyed else frame
    if frame.empty:
        raise _fail("no rows with both an entity and a time label", f"check {entity!r}/{time!r}")

    e_codes, e_labels = _codes(frame[entity])
    t_codes, t_labels = _codes(frame[time])
    if _has_duplicate_pairs(e_codes, t_codes, len(t_labels)):
        dup = frame.duplicated([entity, time], keep=False).to_numpy()
        ex = frame.loc[dup, [entity, time]].drop_duplicates().head(3).to_records(index=False)
        raise _fail(
            f"{int(dup.sum())} rows share an ({entity}, {time}) pair, e.g. {[tuple(e) for e in ex]}",
            "a panel has one row per entity and period: aggregate the duplicates, or check a merge",
        )

    notes: list[str] = []
    n_lost = 0
    if model in ("fd", "lagged"):
        t_int = _integer_time(frame[time], time, model)
        y_all, X_all, names, intercept, dependent = _model_matrices(parsed, frame, formula)
        _check_finite(y_all, X_all, ["(outcome)", *names], frame.index)
        raw_complete = frame[sorted(required)].notna().all(axis=1).to_numpy()
        nan_made = raw_complete & (np.isnan(y_all) | np.isnan(X_all).any(axis=1))
        if nan_made.any():
            raise _fail(
                f"{int(nan_made.sum())} rows give NaN after transforming the variables of {formula!r}",
                "a transformation (log, sqrt, ...) is undefined for some values: drop or recode them",
            )
        prev = _previous_positions(e_codes, t_int, 1)
        has_prev = prev >= 0
        if model == "fd":
            slope = [j for j, n in enumerate(names) if n != INTERCEPT]
            y = np.where(has_prev, y_all - y_all[np.where(has_prev, prev, 0)], np.nan)
            Xd = np.where(
                has_prev[:, None],
                X_all[:, slope] - X_all[np.where(has_prev, prev, 0)][:, slope],
                np.nan,
            )
            X = np.column_stack([np.ones(len(y)), Xd]) if intercept else Xd
            names = ([INTERCEPT] if intercept else []) + [names[j] for j in slope]
            n_lost = int((~has_prev).sum())
            lost_mask = ~has_prev
        else:
            if lags < 1:
                raise _fail(f"lags must be a positive integer, got {lags!r}", "use lags=1")
            lag_cols, lost_mask = [], np.zeros(len(y_all), bool)
            for j in range(1, lags + 1):
                pj = _previous_positions(e_codes, t_int, j)
                col = np.where(pj >= 0, y_all[np.where(pj >= 0, pj, 0)], np.nan)
                lost_mask |= np.isnan(col) & ~np.isnan(y_all)
                lag_cols.append(col)
            y = y_all
            pos = 1 if intercept else 0
            lag_names = [f"L{j}.{dependent}" for j in range(1, lags + 1)]
            X = np.column_stack([X_all[:, :pos], *lag_cols, X_all[:, pos:]])
            names = names[:pos] + lag_names + names[pos:]
            n_lost = int(lost_mask.sum())
        complete = ~np.isnan(y) & ~np.isnan(X).any(axis=1)
        for c in extra_cols:
            complete &= frame[c].notna().to_numpy()
        # rows that are incomplete only because their previous period is absent count as lost
        n_missing = int((~complete & ~lost_mask).sum()) + n_unkeyed
        n_lost = int((~complete & lost_mask).sum())
        idx = np.flatnonzero(complete)
        sample = _subframe(frame, [entity, time, *extra_cols], idx)
        y, X = y[complete], X[complete]
    else:
        needed = sorted(required | set(extra_cols))
        complete = np.ones(len(frame), bool)
        for c in needed:
            complete &= frame[c].notna().to_numpy()
        n_missing = int((~complete).sum()) + n_unkeyed
        idx = np.flatnonzero(complete)
        sample = _subframe(frame, [entity, time, *sorted(required | set(extra_cols))], idx)
        if sample.empty:
            raise _fail(
                f"no complete rows: every row misses at least one of {needed}",
                "check the variables for missing values",
            )
        y, X, names, intercept, dependent = _model_matrices(parsed, sample, formula)
        _check_finite(y, X, ["(outcome)", *names], frame.index[idx])
        incomplete = np.isnan(y) | np.isnan(X).any(axis=1)
        if incomplete.any():
            # a transformation produced NaN (e.g. log of a negative number): never drop silently
            raise _fail(
                f"{int(incomplete.sum())} rows give NaN after transforming the variables of {formula!r}",
                "a transformation (log, sqrt, ...) is undefined for some values: drop or recode them",
            )

    if sample.empty:
        raise _fail(
            f"no usable rows for model={model!r} after dropping missing values and rows "
            "without a previous period",
            "check the variables for missing values and the time index for gaps",
        )
    if n_missing:
        notes.append(f"{n_missing} rows dropped for missing values in the model variables")
    if n_lost:
        what = "first differences" if model == "fd" else "lags"
        notes.append(f"{n_lost} rows lost to {what} (previous period absent or missing)")

    w = None
    if weights is not None:
        w = pd.to_numeric(sample[weights], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            raise _fail(
                f"weights column {weights!r} has {int(bad.sum())} non-positive or non-numeric values",
                "weights must be positive numbers: drop those rows or choose another weight",
            )
    if len(idx) == len(frame):  # the sample is every row: its codes are those computed above
        ent_codes, ent_labels, time_codes, time_labels = e_codes, e_labels, t_codes, t_labels
    else:
        ent_codes, ent_labels = _codes(sample[entity])
        time_codes, time_labels = _codes(sample[time])
    clusters: dict[str, np.ndarray] = {}
    for c in cluster or []:
        if c == entity:
            clusters[c] = ent_codes
        elif c == time:
            clusters[c] = time_codes
        else:
            clusters[c] = _codes(sample[c])[0]
    return PanelDesign(
        y=np.ascontiguousarray(y, dtype=float),
        X=np.ascontiguousarray(X, dtype=float),
        names=names,
        intercept=intercept,
        entity=ent_codes,
        time=time_codes,
        entity_labels=ent_labels,
        time_labels=time_labels,
        weights=w,
        clusters=clusters,
        index=frame.index[idx],
        dependent=dependent,
        entity_name=entity,
        time_name=time,
        n_missing=n_missing,
        n_lost=n_lost,
        notes=notes,
    )
