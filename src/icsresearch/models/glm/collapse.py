"""Collapse patient rows to cells: the sufficient statistics of a binomial or Poisson GLM.

When every regressor, fixed effect and cluster variable takes few distinct values, each row's
design vector is a function of its *cell* (its combination of those values). The logit
log-likelihood then depends on the data only through the number of rows and of successes per
cell, and the Poisson log-likelihood only through the sums of counts and of exposures per cell.
A handful of further per-cell sums makes the row-level robust (HC0) covariance exact too (see
:mod:`.covariance`).

The discreteness rule (used by ``fit_glm(method="auto")``)
----------------------------------------------------------
A column is *discrete* when

* its dtype is boolean, categorical, string or object (it enters the design as dummies), or
* it is numeric (integer **or** float) with at most ``max_levels`` distinct non-missing values
  (default :data:`DEFAULT_MAX_LEVELS` = 50).

Collapsing is exact whenever the design row is constant within a cell, whatever the dtype, so the
rule is about *benefit*, not validity: a numeric column with thousands of values (age in days,
a continuous staffing ratio) would make nearly every row its own cell. Fixed effects and the
cluster variable are grouping keys and always count as discrete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Numeric columns with at most this many distinct values count as discrete.
DEFAULT_MAX_LEVELS = 50

#: formulaic transforms that learn from the data (a mean, quantiles, knots...). On cells they would
#: learn from unweighted cells instead of rows, so formulas using them are fitted on rows.
STATEFUL_TRANSFORMS = (
    "center(",
    "scale(",
    "standardize(",
    "poly(",
    "bs(",
    "cr(",
    "cs(",
    "cc(",
    "te(",
    "hashed(",
)

# Above this many possible cells the combined key is compressed with a sort before going on, and
# a dense bincount over the key space is only used when the space is at most this size (memory).
_DENSE_KEY_SPACE = 1 << 26
# Rows inspected first when deciding whether a numeric column is discrete: a continuous column
# shows itself in the first rows, so the full column is only scanned when the head looks discrete.
_HEAD_ROWS = 100_000


def _is_dummy_kind(series: pd.Series) -> bool:
    """Columns that formulas turn into dummies: boolean, categorical, string or object."""
    dtype = series.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
    )


def is_discrete(series: pd.Series, max_levels: int = DEFAULT_MAX_LEVELS) -> bool:
    """Whether a regressor column counts as discrete under the module's rule.

    Parameters
    ----------
    series
        The column.
    max_levels
        Numeric columns with at most this many distinct non-missing values are discrete.

    Returns
    -------
    bool
        ``True`` for boolean, categorical, string and object columns, and for numeric columns
        with at most ``max_levels`` distinct values.
    """
    if _is_dummy_kind(series):
        return True
    if series.head(_HEAD_ROWS).nunique() > max_levels:  # cheap early exit for continuous data
        return False
    return series.nunique() <= max_levels


@dataclass
class KeyColumn:
    """One grouping variable, encoded as integer level codes per row.

    Attributes
    ----------
    name
        Column name.
    codes
        Level code of every row (``-1`` where missing), a signed integer array.
    levels
        The distinct values in the column's own dtype, position = code.
    dummy_kind
        Whether the column is boolean/categorical/string/object.
    """

    name: str
    codes: np.ndarray
    levels: pd.Index
    dummy_kind: bool

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    def values_at(self, codes: np.ndarray) -> pd.Series:
        """The column's values (original dtype) for an array of level codes."""
        return pd.Series(self.levels.take(codes), name=self.name).reset_index(drop=True)


def encode_column(series: pd.Series, name: str | None = None) -> KeyColumn:
    """Encode a column as level codes (categoricals keep their categories and their order).

    Parameters
    ----------
    series
        The column.
    name
        Name to record (defaults to ``series.name``).

    Returns
    -------
    KeyColumn
    """
    name = str(series.name if name is None else name)
    if isinstance(series.dtype, pd.CategoricalDtype):
        # The category codes already are level codes: no hashing, and every category keeps its
        # place (so reference levels match a row-level fit).
        codes = series.cat.codes.to_numpy()  # int8/int16: no widening copy of every row
        levels = pd.CategoricalIndex(series.cat.categories, dtype=series.dtype)
        # categories may be unused: formulaic also builds a (zero) column for them, so keep them.
    else:
        codes, levels = pd.factorize(series, sort=False, use_na_sentinel=True)
        levels = pd.Index(levels)
    return KeyColumn(name=name, codes=codes, levels=levels, dummy_kind=_is_dummy_kind(series))


@dataclass
class Cells:
    """Rows collapsed to cells of identical grouping values, with per-cell sums.

    Attributes
    ----------
    keys
        One row per cell: the grouping columns in their original dtypes.
    codes
        Per grouping column, the level code of each cell.
    stats
        Per-cell sums: ``n`` (rows) and ``y`` (outcome), and for Poisson also ``t`` (exposure,
        i.e. ``exp(offset)``), ``yy``, ``ty`` and ``tt`` (needed for the exact robust covariance).
    nobs
        Rows collapsed.
    """

    keys: pd.DataFrame
    codes: dict[str, np.ndarray]
    stats: dict[str, np.ndarray] = field(default_factory=dict)
    nobs: int = 0

    @property
    def n_cells(self) -> int:
        return len(self.keys)

    def subset(self, mask: np.ndarray) -> Cells:
        """The cells where ``mask`` is true."""
        stats = {k: v[mask] for k, v in self.stats.items()}
        return Cells(
            keys=self.keys.loc[mask].reset_index(drop=True),
            codes={k: v[mask] for k, v in self.codes.items()},
            stats=stats,
            nobs=int(round(stats["n"].sum())),
        )


def _combined_code(columns: list[KeyColumn], rows: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """One int64 key per row from several level codes (mixed radix; compressed if it would overflow)."""
    code = None
    radix = 1
    compressed = False
    for col in columns:
        c = col.codes if rows is None else col.codes[rows]
        if code is None:
            code, radix = c.astype(np.int64), col.n_levels
            continue
        if radix * col.n_levels > _DENSE_KEY_SPACE * 64:
            # Renumber the keys seen so far before the product grows past int64's comfort zone.
            _, code = np.unique(code, return_inverse=True)
            radix = int(code.max()) + 1
            compressed = True
        code = code * col.n_levels + c
        radix *= col.n_levels
    return code, compressed


def collapse(
    columns: list[KeyColumn],
    y: np.ndarray,
    *,
    exposure: np.ndarray | None = None,
    poisson: bool = False,
    rows: np.ndarray | None = None,
) -> Cells:
    """Collapse rows to cells of identical ``columns`` values and sum what the likelihood needs.

    Parameters
    ----------
    columns
        The grouping variables (regressors, fixed effects, cluster), encoded.
    y
        Outcome per row (0/1 for logit, a count for Poisson), ``float64``, already subset to ``rows``.
    exposure
        Poisson only: ``exp(offset)`` per row (``None`` means 1), already subset to ``rows``.
    poisson
        Also compute the Poisson sums ``t``, ``yy``, ``ty``, ``tt``.
    rows
        Positions of the rows to use in the columns' codes (``None``: all rows).

    Returns
    -------
    Cells
    """
    if not columns:  # intercept-only model: one cell
        code = np.zeros(len(y), dtype=np.int64)
        compressed = False
    else:
        code, compressed = _combined_code(columns, rows)

    key_space = int(code.max()) + 1 if len(code) else 0
    if not compressed and key_space <= max(_DENSE_KEY_SPACE, 4 * len(code)):
        # Dense path: one pass of bincount per statistic, no sort.
        counts = np.bincount(code, minlength=key_space)
        present = np.flatnonzero(counts)

        def cell_sum(weights: np.ndarray | None) -> np.ndarray:
            if weights is None:
                return counts[present].astype(np.float64)
            return np.bincount(code, weights=weights, minlength=key_space)[present]

        cell_keys = present
        first_row = None
    else:
        cell_keys, first_row, inverse = np.unique(code, return_index=True, return_inverse=True)
        n_cells = len(cell_keys)

        def cell_sum(weights: np.ndarray | None) -> np.ndarray:
            return np.bincount(inverse, weights=weights, minlength=n_cells).astype(np.float64)

    # Level codes of each cell, per column: decode the mixed radix, or (after compression) read
    # them off a representative row.
    cell_codes: dict[str, np.ndarray] = {}
    if compressed:
        for col in columns:
            src = col.codes if rows is None else col.codes[rows]
            cell_codes[col.name] = src[first_row]
    else:
        rest = cell_keys.astype(np.int64, copy=True)
        for col in reversed(columns):
            rest, cell_codes[col.name] = np.divmod(rest, col.n_levels)
        cell_codes = {col.name: cell_codes[col.name] for col in columns}

    keys = pd.DataFrame({col.name: col.values_at(cell_codes[col.name]) for col in columns})
    if not columns:
        keys = pd.DataFrame(index=pd.RangeIndex(len(cell_keys)))
    stats = {"n": cell_sum(None), "y": cell_sum(y)}
    if poisson:
        t = np.ones_like(y) if exposure is None else exposure
        stats["t"] = stats["n"].copy() if exposure is None else cell_sum(t)
        stats["yy"] = cell_sum(y * y)
        stats["ty"] = stats["y"].copy() if exposure is None else cell_sum(t * y)
        stats["tt"] = stats["n"].copy() if exposure is None else cell_sum(t * t)
    return Cells(keys=keys, codes=cell_codes, stats=stats, nobs=len(y))
