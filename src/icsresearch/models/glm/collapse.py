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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from .levels import LevelDictionary

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
# Partial cell tables are merged once they hold at least this many cells (or as many as the
# merged table): fewer, larger merges.
_MERGE_MIN_CELLS = 1 << 16


def is_dummy_kind(series: pd.Series) -> bool:
    """Whether formulas turn a column into dummies: boolean, categorical, string or object.

    Parameters
    ----------
    series
        The column.
    """
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
    if is_dummy_kind(series):
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


def _arrow_strings(series: pd.Series) -> pa.Array | pa.ChunkedArray | None:
    """The Arrow array behind a pyarrow-backed string column, else ``None``."""
    if not pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        return None
    if getattr(series.dtype, "storage", None) != "pyarrow":
        return None
    return series.array.__arrow_array__()  # the protocol pyarrow itself uses: no copy


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
    strings = _arrow_strings(series)
    if isinstance(series.dtype, pd.CategoricalDtype):
        # The category codes already are level codes: no hashing, and every category keeps its
        # place (so reference levels match a row-level fit).
        codes = series.cat.codes.to_numpy()  # int8/int16: no widening copy of every row
        levels = pd.CategoricalIndex(series.cat.categories, dtype=series.dtype)
        # categories may be unused: formulaic also builds a (zero) column for them, so keep them.
    elif strings is not None:
        # pyarrow-backed text (pandas' default "str"): hashed in C++ with 32-bit codes, the same
        # levels in the same order as pd.factorize, without its 64-bit codes.
        dictionary = LevelDictionary(name, strings.type)
        codes = dictionary.encode(strings)
        levels = pd.Index(dictionary.values.to_pandas(types_mapper=_same_dtype(series.dtype)))
    else:
        codes, levels = pd.factorize(series, sort=False, use_na_sentinel=True)
        levels = pd.Index(levels)
    return KeyColumn(name=name, codes=codes, levels=levels, dummy_kind=is_dummy_kind(series))


def _same_dtype(dtype):
    """A ``types_mapper`` for ``to_pandas`` that gives every Arrow type back as ``dtype``."""
    return lambda _arrow_type: dtype


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
        i.e. ``exp(offset)``), ``yy``, ``ty`` and ``tt`` (needed for the exact robust covariance),
        ``lgamma_y`` (``log y!``) and, with an offset, ``y_log_t`` (``y * offset``): the
        log-likelihood's constant.
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


def _combined_code(codes: Sequence[np.ndarray], sizes: Sequence[int]) -> tuple[np.ndarray, bool]:
    """One key per row from several level codes (mixed radix; compressed if it would overflow).

    The key is 32-bit when every combination fits (half the memory traffic of 64-bit keys on
    millions of rows), 64-bit otherwise.
    """
    dtype = np.int32 if math.prod(sizes) <= np.iinfo(np.int32).max else np.int64
    code = codes[0].astype(dtype)  # a copy: the loop below works in place
    radix = sizes[0]
    compressed = False
    for c, size in zip(codes[1:], sizes[1:], strict=True):
        if radix * size > _DENSE_KEY_SPACE * 64:
            # Renumber the keys seen so far before the product grows past int64's comfort zone.
            _, code = np.unique(code, return_inverse=True)
            radix = int(code.max()) + 1
            compressed = True
        code *= size
        code += c
        radix *= size
    return code, compressed


def group_sums(
    codes: Sequence[np.ndarray],
    sizes: Sequence[int],
    weights: Mapping[str, np.ndarray],
    n_rows: int,
) -> tuple[list[np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """Units per distinct combination of level codes, and the sums of ``weights`` over them.

    Parameters
    ----------
    codes
        Level codes per grouping column (no missing values), one entry per unit (row or cell).
    sizes
        Number of levels of each column (every code is below it).
    weights
        Per-unit values to sum per combination.
    n_rows
        Number of units (needed when there is no grouping column: one combination).

    Returns
    -------
    cell_codes, counts, sums
        The level codes of each combination per column, the number of units in it (float64) and
        each weight's sum.
    """
    if not codes:  # intercept-only model: one cell
        code, compressed = np.zeros(n_rows, dtype=np.int32), False
    else:
        code, compressed = _combined_code(codes, sizes)

    key_space = int(code.max()) + 1 if n_rows else 0
    if not compressed and key_space <= max(_DENSE_KEY_SPACE, 4 * n_rows):
        # Dense path: one pass of bincount per statistic, no sort.
        dense_counts = np.bincount(code, minlength=key_space)
        present = np.flatnonzero(dense_counts)
        counts = dense_counts[present].astype(np.float64)

        def cell_sum(w: np.ndarray) -> np.ndarray:
            return np.bincount(code, weights=w, minlength=key_space)[present]

        cell_keys, first_row = present, None
    else:
        cell_keys, first_row, inverse = np.unique(code, return_index=True, return_inverse=True)
        n_cells = len(cell_keys)

        def cell_sum(w: np.ndarray | None) -> np.ndarray:
            return np.bincount(inverse, weights=w, minlength=n_cells).astype(np.float64)

        counts = cell_sum(None)

    # Level codes of each cell, per column: decode the mixed radix, or (after compression) read
    # them off a representative row.
    if compressed:
        cell_codes = [c[first_row] for c in codes]
    else:
        cell_codes = []
        rest = cell_keys.astype(np.int64, copy=True)
        for size in reversed(sizes):
            rest, this = np.divmod(rest, size)
            cell_codes.append(this)
        cell_codes.reverse()
    return cell_codes, counts, {name: cell_sum(w) for name, w in weights.items()}


def row_statistics(
    codes: Sequence[np.ndarray],
    sizes: Sequence[int],
    y: np.ndarray,
    *,
    poisson: bool,
    exposure: np.ndarray | None = None,
    log_exposure: np.ndarray | None = None,
) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Collapse rows: the level codes of each cell and its sufficient statistics.

    Parameters
    ----------
    codes, sizes
        As for :func:`group_sums`, one entry per row.
    y
        Outcome per row, ``float64``.
    poisson
        Also compute the Poisson sums (see :class:`Cells`).
    exposure, log_exposure
        Poisson only: ``exp(offset)`` and the offset per row (``None``: no offset).

    Returns
    -------
    cell_codes, stats
        The level codes of each cell per column, and :attr:`Cells.stats`.
    """
    weights = {"y": y}
    if poisson:
        from scipy.special import gammaln

        weights["yy"] = y * y
        weights["lgamma_y"] = gammaln(y + 1.0)
        if exposure is not None:
            weights["t"] = exposure
            weights["ty"] = exposure * y
            weights["tt"] = exposure * exposure
            weights["y_log_t"] = y * log_exposure
    cell_codes, counts, stats = group_sums(codes, sizes, weights, len(y))
    stats["n"] = counts
    if poisson and exposure is None:  # exposure 1 per row
        stats.update(t=counts.copy(), ty=stats["y"].copy(), tt=counts.copy())
    return cell_codes, stats


def collapse(
    columns: list[KeyColumn],
    y: np.ndarray,
    *,
    exposure: np.ndarray | None = None,
    log_exposure: np.ndarray | None = None,
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
    exposure, log_exposure
        Poisson only: ``exp(offset)`` and the offset per row (``None``: no offset), already
        subset to ``rows``.
    poisson
        Also compute the Poisson sums ``t``, ``yy``, ``ty``, ``tt`` (and ``lgamma_y``,
        ``y_log_t`` for the log-likelihood's constant).
    rows
        Positions of the rows to use in the columns' codes (``None``: all rows).

    Returns
    -------
    Cells
    """
    codes = [col.codes if rows is None else col.codes[rows] for col in columns]
    cell_codes, stats = row_statistics(
        codes,
        [col.n_levels for col in columns],
        y,
        poisson=poisson,
        exposure=exposure,
        log_exposure=log_exposure,
    )
    del codes
    keys = pd.DataFrame(
        {col.name: col.values_at(c) for col, c in zip(columns, cell_codes, strict=True)}
    )
    if not columns:
        keys = pd.DataFrame(index=pd.RangeIndex(len(stats["n"])))
    return Cells(
        keys=keys,
        codes={col.name: c for col, c in zip(columns, cell_codes, strict=True)},
        stats=stats,
        nobs=len(y),
    )


class CellAccumulator:
    """Partial cell tables (of chunks, files or Dask workers) summed into one.

    Level codes must be in one code space (see :class:`.levels.LevelDictionary`); the number of
    levels of a column may grow from one table to the next. Tables are buffered and merged when
    the buffer outgrows the merged table, so merging costs a few passes over the cells however
    many tables arrive.

    Parameters
    ----------
    n_columns
        Number of grouping columns.
    """

    def __init__(self, n_columns: int):
        self._n_columns = n_columns
        self._tables: list[tuple[list[np.ndarray], dict[str, np.ndarray]]] = []
        self._buffered = 0
        self._merged = 0

    def add(
        self, codes: Sequence[np.ndarray], stats: Mapping[str, np.ndarray], sizes: Sequence[int]
    ) -> None:
        """Add a partial table.

        Parameters
        ----------
        codes
            Level codes of each cell, per column.
        stats
            Sums per cell (the same names in every table).
        sizes
            The current number of levels of each column.
        """
        self._tables.append((list(codes), dict(stats)))
        self._buffered += len(stats["n"])
        if self._buffered > max(self._merged, _MERGE_MIN_CELLS):
            self._merge(sizes)

    def result(self, sizes: Sequence[int]) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
        """The merged cells: level codes per column and sums.

        Parameters
        ----------
        sizes
            The final number of levels of each column.
        """
        self._merge(sizes)
        if not self._tables:
            return [np.empty(0, dtype=np.int64) for _ in range(self._n_columns)], {}
        return self._tables[0]

    def _merge(self, sizes: Sequence[int]) -> None:
        if len(self._tables) > 1:
            codes = [
                np.concatenate(parts) for parts in zip(*(t[0] for t in self._tables), strict=True)
            ]
            names = self._tables[0][1]
            weights = {k: np.concatenate([t[1][k] for t in self._tables]) for k in names}
            cell_codes, _, sums = group_sums(codes, sizes, weights, len(weights["n"]))
            self._tables = [(cell_codes, sums)]
        self._merged = len(self._tables[0][1]["n"]) if self._tables else 0
        self._buffered = 0
