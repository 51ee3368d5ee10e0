"""Collapse Parquet data to cells chunk by chunk, in this process or on Dask workers.

:func:`~icsresearch.models.glm.fit_glm` accepts, instead of a data frame, a Parquet file, a folder
of (hive-)partitioned Parquet files or a ``pyarrow.dataset.Dataset``. The rows are never held in
memory together: each file is read in record batches of only the columns the model uses, each
batch is collapsed to cells (:func:`.collapse.row_statistics`) and the cells are summed
(:class:`.collapse.CellAccumulator`), so memory is one batch plus the cells. The cell sums add up
across batches (rows, outcome and, for Poisson, exposure and the squares and cross-products the
robust covariance needs), so the result is the cells of all the rows, whatever the batch size.

Levels
------
Level dictionaries are merged across batches and files (:class:`.levels.LevelDictionary`): a
level first seen in the fifth batch gets one global code. The reference level of a regressor is
the one ``pd.read_parquet`` followed by ``fit_glm`` on the data frame would use:

* a column dictionary-encoded in every file (a pandas categorical written with ``to_parquet``, a
  hive partition key) is a categorical whose categories are the dictionaries' entries in order of
  first appearance, unused ones included (how ``pyarrow`` unifies them, so as ``pd.read_parquet``
  reads them): its first category is the reference;
* a text column (plain in some file) enters as text: formulaic sorts its levels, the first in
  sort order is the reference; numbers and booleans likewise enter by value.

Text columns are read from Parquet as dictionaries (its dictionary pages, no strings built) and
plain columns are dictionary-encoded by ``pyarrow.compute.dictionary_encode``: no Python object is
made per row.

What is refused
---------------
With ``fit_glm(method="auto")``, a regressor that is numeric with more than ``max_levels``
distinct values (continuous: nearly every row would be its own cell, and the rows cannot be
fitted without holding them; ``method="collapsed"`` takes it, for values constant within
groups such as a hospital-quarter staffing ratio), a column
whose type differs between files (by kind: text, integer, float, boolean...), a column missing
from a file, and an outcome or exposure stored as text. Each is one
:class:`~icsresearch.errors.InvalidParameterError` naming the file and the column, never a
``pyarrow`` traceback. Rows with a missing value in a used column are dropped and counted per
column (each row under the first of its missing columns, in the order outcome, exposure/offset,
regressors, fixed effects, cluster), so the counts add up to the rows dropped.

On Dask
-------
With ``scheduler=`` (a ``distributed.Client`` or a scheduler address) each file is collapsed by a
worker (:func:`collapse_fragment`), which reads it from the path the client sees (the files must
be on storage every worker can read at that path) and sends back its cells with their level
*values* (not codes, which are local to the file); the client merges them in file order, so
levels, estimates and standard errors are those of the single-process run.
"""

from __future__ import annotations

import hashlib
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ...errors import InvalidParameterError
from ...provenance import InputFile
from . import checks
from .collapse import CellAccumulator, Cells, row_statistics
from .levels import LevelDictionary, may_be_missing

#: Rows per record batch read (at most: a batch never spans two Parquet row groups).
DEFAULT_BATCH_ROWS = 1 << 20
#: Batches decoded ahead of the one being collapsed (memory: one batch each).
_READAHEAD_BATCHES = 2

# Column kinds. Types of one kind may differ between files (int8/int64, string/large_string);
# kinds may not, except that a column dictionary-encoded in some files and plain text in others
# is text.
_CATEGORY, _TEXT, _INTEGER, _FLOAT, _BOOLEAN, _OTHER, _NULL = (
    "category",
    "text",
    "integer",
    "float",
    "boolean",
    "other",
    "null",
)
_NUMERIC = (_INTEGER, _FLOAT)
# The Arrow type levels of each kind are merged in (None: the column's own).
_LEVEL_TYPES = {
    _TEXT: pa.large_string(),
    _INTEGER: pa.int64(),
    _FLOAT: pa.float64(),
    _BOOLEAN: pa.bool_(),
    _NULL: pa.null(),
}


# --- the source ------------------------------------------------------------------------------


def is_stream_input(data: Any) -> bool:
    """Whether ``data`` is something :func:`open_source` reads: a path or a pyarrow dataset.

    Parameters
    ----------
    data
        What the caller passed as data.
    """
    return isinstance(data, (str, os.PathLike, ds.Dataset))


@dataclass
class Source:
    """Parquet data opened as a dataset: its fragments (files) and how to name them.

    Attributes
    ----------
    dataset
        The ``pyarrow`` dataset.
    fragments
        Its fragments, in the dataset's order (files for a file-system dataset).
    label
        The path given (or ``"a pyarrow dataset"``), for messages.
    """

    dataset: ds.Dataset
    fragments: list[ds.Fragment]
    label: str

    @property
    def columns(self) -> pd.Index:
        """Column names of the dataset (partition keys included)."""
        return pd.Index(self.dataset.schema.names)

    def frame_stub(self) -> Any:
        """An object with the ``columns`` and ``attrs`` that :mod:`..core`'s checks read."""
        from types import SimpleNamespace

        return SimpleNamespace(columns=self.columns, attrs={"path": self.label})


def fragment_label(fragment: ds.Fragment, position: int) -> str:
    """The file a fragment reads (or its position, for an in-memory dataset).

    Parameters
    ----------
    fragment
        A dataset fragment.
    position
        Its position in the dataset.
    """
    path = getattr(fragment, "path", None)
    return str(path) if path else f"fragment {position} of the in-memory dataset"


def open_source(data: str | os.PathLike | ds.Dataset) -> Source:
    """Open a Parquet file, a folder of Parquet files or a dataset for streaming.

    A folder is read as ``pd.read_parquet`` reads it: hive partition keys (``hospital=R01/``)
    become dictionary-encoded columns, files starting with ``_`` or ``.`` are skipped.

    Parameters
    ----------
    data
        A path (file or folder) or a ``pyarrow.dataset.Dataset``.

    Returns
    -------
    Source

    Raises
    ------
    InvalidParameterError
        The path does not exist, is not Parquet, or holds no files.
    """
    if isinstance(data, ds.Dataset):
        dataset, label = data, "a pyarrow dataset"
    else:
        path = Path(data)
        label = str(path)
        if not path.exists():
            raise InvalidParameterError(
                f"fit_glm: {label} does not exist. Fix: pass a Parquet file, a folder of Parquet "
                "files, or a pandas DataFrame."
            )
        partitioning = (
            ds.HivePartitioning.discover(infer_dictionary=True) if path.is_dir() else None
        )
        try:
            dataset = ds.dataset(str(path), format="parquet", partitioning=partitioning)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidParameterError(
                f"fit_glm: cannot read {label} as Parquet ({_first_line(exc)}). Fix: pass a "
                "Parquet file or a folder holding only Parquet files."
            ) from None
    fragments = list(dataset.get_fragments())
    if not fragments:
        raise InvalidParameterError(
            f"fit_glm: {label} holds no Parquet files. Fix: check the path (files starting with "
            "'_' or '.' are skipped)."
        )
    return Source(dataset=dataset, fragments=fragments, label=label)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --- column plan: which kind each column is, checked file by file ------------------------------


def _kind(arrow_type: pa.DataType) -> str | None:
    """A type's kind (see the module docstring), ``None`` for types a model cannot use."""
    t = pa.types
    if t.is_dictionary(arrow_type):
        return _CATEGORY
    is_string_view = getattr(t, "is_string_view", lambda _: False)  # pyarrow >= 16
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or is_string_view(arrow_type):
        return _TEXT
    if t.is_boolean(arrow_type):
        return _BOOLEAN
    if t.is_integer(arrow_type):
        return _INTEGER
    if t.is_floating(arrow_type):
        return _FLOAT
    if t.is_null(arrow_type):
        return _NULL
    if t.is_temporal(arrow_type) or t.is_decimal(arrow_type):
        return _OTHER
    return None


def _is_text_like(arrow_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(arrow_type):
        return _is_text_like(arrow_type.value_type)
    return _kind(arrow_type) == _TEXT


@dataclass(frozen=True)
class KeySpec:
    """A grouping column (regressor, fixed effect or cluster) as the plan settled it.

    Attributes
    ----------
    name
        Column name.
    kind
        Its kind over all files (``"category"``, ``"text"``, ``"integer"``...).
    level_type
        The Arrow type its levels are merged in.
    ordered
        For a category: whether the dictionary is ordered.
    max_levels
        Refuse the column beyond this many distinct values (numeric regressors), or ``None``.
    """

    name: str
    kind: str
    level_type: pa.DataType
    ordered: bool = False
    max_levels: int | None = None


@dataclass(frozen=True)
class FragmentTask:
    """What collapsing one file needs (picklable: sent to a Dask worker as is).

    Attributes
    ----------
    fragment
        The dataset fragment (a Parquet file).
    label
        How to name it in messages.
    partition_fields
        Partition-key columns of the dataset (not stored in the file).
    outcome, family, offset, exposure
        The model's outcome, family and offset or exposure column.
    keys
        The grouping columns.
    batch_size
        Rows per record batch.
    """

    fragment: ds.Fragment
    label: str
    partition_fields: tuple[pa.Field, ...]
    outcome: str
    family: str
    offset: str | None
    exposure: str | None
    keys: tuple[KeySpec, ...]
    batch_size: int

    @property
    def weight_columns(self) -> list[str]:
        """The outcome and the offset or exposure column."""
        return [self.outcome] + [c for c in (self.offset, self.exposure) if c]


# The kinds the outcome and the offset or exposure may have (read as float64, so they may differ
# between files), in words, and how to fix another; grouping columns take any kind but nested.
_WEIGHT_KINDS = {
    "outcome": ((_INTEGER, _FLOAT, _BOOLEAN, _NULL), "a number or boolean"),
    "offset": ((_INTEGER, _FLOAT, _NULL), "a number"),
    "exposure": ((_INTEGER, _FLOAT, _NULL), "a number"),
}
_GROUPING_KINDS = (
    (_CATEGORY, _TEXT, _INTEGER, _FLOAT, _BOOLEAN, _OTHER, _NULL),
    "text, a category, a number, a boolean or a date",
)
_KIND_FIX = {
    "outcome": "store it as 0/1 integers or booleans (e.g. (df[col] == 'yes').astype('int8')) "
    "when writing the files",
    "offset": "store it as a number when writing the files",
    "exposure": "store it as a number when writing the files",
}


def plan(
    source: Source,
    *,
    outcome: str,
    family: str,
    offset: str | None,
    exposure: str | None,
    keys: Sequence[tuple[str, str]],
    max_levels: int,
    batch_size: int,
) -> list[FragmentTask]:
    """Check every file's column types and settle each column's kind: one task per file.

    Reads each file's footer only (its schema), not its data.

    Parameters
    ----------
    source
        The opened data.
    outcome, family, offset, exposure
        The model's outcome, family and offset or exposure column.
    keys
        ``(column, role)`` of the grouping columns, role ``"regressor"``, ``"fixed-effect"`` or
        ``"cluster"``.
    max_levels
        Numeric regressors with more distinct values are refused (continuous).
    batch_size
        Rows per record batch.

    Returns
    -------
    list of FragmentTask

    Raises
    ------
    InvalidParameterError
        A file that is not Parquet, a column missing from a file, a type a model cannot use, an
        outcome or exposure stored as text, or a column whose kind differs between files.
    """
    roles = {outcome: "outcome"}
    if offset:
        roles[offset] = "offset"
    if exposure:
        roles[exposure] = "exposure"
    roles.update({name: role for name, role in keys if name not in roles})
    # Partition keys (hive folders) from each file's partition expression: a dataset's
    # ``partitioning.schema`` may list every column when the folders hold no keys.
    partition_names = set()
    for fragment in source.fragments:
        partition_names.update(ds.get_partition_keys(fragment.partition_expression))
    partition_fields = tuple(source.dataset.schema.field(n) for n in sorted(partition_names))
    seen: dict[str, list[tuple[str, pa.DataType, str]]] = {name: [] for name in roles}
    labels = []
    for position, fragment in enumerate(source.fragments):
        label = fragment_label(fragment, position)
        labels.append(label)
        try:
            physical = fragment.physical_schema
        except (pa.ArrowException, OSError) as exc:
            raise InvalidParameterError(
                f"fit_glm: cannot read {label} as Parquet ({_first_line(exc)}). Fix: remove it "
                f"from {source.label}, or pass a pyarrow dataset of the files to use."
            ) from None
        for name, role in roles.items():
            if name in physical.names:
                arrow_type = physical.field(name).type
            elif name in partition_names:
                arrow_type = source.dataset.schema.field(name).type
            else:
                raise InvalidParameterError(
                    f"fit_glm: {role} column {name!r} is not in file {label} (it is in the "
                    f"dataset's schema). Fix: write the column in every file of {source.label}, "
                    "or leave that file out."
                )
            kind = _kind(arrow_type)
            allowed, wanted = _WEIGHT_KINDS.get(role, _GROUPING_KINDS)
            if kind not in allowed:
                raise InvalidParameterError(
                    f"fit_glm: {role} column {name!r} in file {label} is stored as {arrow_type}; "
                    f"it must be {wanted}. Fix: "
                    + _KIND_FIX.get(role, "convert it when writing the files")
                    + "."
                )
            seen[name].append((label, arrow_type, kind))
    key_specs = tuple(
        _key_spec(name, seen[name], role == "regressor", max_levels) for name, role in keys
    )
    return [
        FragmentTask(
            fragment=fragment,
            label=label,
            partition_fields=partition_fields,
            outcome=outcome,
            family=family,
            offset=offset,
            exposure=exposure,
            keys=key_specs,
            batch_size=batch_size,
        )
        for fragment, label in zip(source.fragments, labels, strict=True)
    ]


def _settle_kind(name: str, seen: list[tuple[str, pa.DataType, str]]) -> str:
    """The column's kind over all files, or one error naming two files that disagree."""
    kinds = {kind for _, _, kind in seen if kind != _NULL}
    if kinds == {_CATEGORY, _TEXT} and all(_is_text_like(t) for _, t, _ in seen):
        return _TEXT  # categorical in some files, plain text in others: text
    if len(kinds) > 1 or (kinds == {_OTHER} and len({t for _, t, k in seen if k == _OTHER}) > 1):
        first = next(s for s in seen if s[2] != _NULL)
        other = next(s for s in seen if s[2] != _NULL and (s[2] != first[2] or s[1] != first[1]))
        raise InvalidParameterError(
            f"fit_glm: column {name!r} is stored as {first[1]} in file {first[0]} but as "
            f"{other[1]} in file {other[0]}: the files disagree on its type. Fix: write it with "
            "one type in every file (e.g. df[col] = df[col].astype('int64') before to_parquet)."
        )
    if kinds == {_CATEGORY}:
        value_types = {t.value_type for _, t, k in seen if k == _CATEGORY}
        if len(value_types) > 1 and not all(_is_text_like(t) for t in value_types):
            first, other = sorted(value_types, key=str)[:2]
            raise InvalidParameterError(
                f"fit_glm: categorical column {name!r} has {first} levels in some files and "
                f"{other} levels in others. Fix: write its categories with one type in every file."
            )
    return kinds.pop() if kinds else _NULL


def _key_spec(
    name: str, seen: list[tuple[str, pa.DataType, str]], regressor: bool, max_levels: int
) -> KeySpec:
    kind = _settle_kind(name, seen)
    if kind == _CATEGORY:
        value_types = [t.value_type for _, t, k in seen if k == _CATEGORY]
        level_type = pa.large_string() if _is_text_like(value_types[0]) else value_types[0]
        ordered = any(t.ordered for _, t, k in seen if k == _CATEGORY)
        return KeySpec(name, kind, level_type, ordered=ordered)
    level_type = _LEVEL_TYPES.get(kind) or next(t for _, t, k in seen if k == kind)
    limit = max_levels if regressor and kind in (*_NUMERIC, _OTHER) else None
    return KeySpec(name, kind, level_type, max_levels=limit)


# --- collapsing one file -----------------------------------------------------------------------


@dataclass
class FragmentCells:
    """One file collapsed: small enough to send from a Dask worker to the client.

    Attributes
    ----------
    levels
        Per grouping column, the level values seen in the file (position = local code).
    codes
        Per grouping column, the local level code of each cell.
    stats
        Sums per cell (:attr:`.collapse.Cells.stats`).
    rows_read
        Rows read from the file.
    chunks
        Record batches read.
    dropped
        Rows dropped per reason (``"missing <column>"``).
    peak_rss_bytes
        Peak resident memory of the process that collapsed the file.
    """

    levels: dict[str, pa.Array]
    codes: list[np.ndarray]
    stats: dict[str, np.ndarray]
    rows_read: int = 0
    chunks: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    peak_rss_bytes: int = 0


def _peak_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _readable_fragment(task: FragmentTask) -> tuple[ds.Fragment, pa.Schema]:
    """The fragment to scan, text columns read as Parquet dictionaries, and its read schema."""
    fragment = task.fragment
    names = [k.name for k in task.keys] + task.weight_columns
    partition = {f.name: f for f in task.partition_fields}
    text = [k.name for k in task.keys if k.kind == _TEXT and k.name not in partition]
    if text and isinstance(fragment, ds.ParquetFileFragment):
        # Read the Parquet dictionary pages as they are: no string is built per row.
        options = fragment.format.read_options
        fmt = ds.ParquetFileFormat(
            read_options=ds.ParquetReadOptions(
                dictionary_columns=set(options.dictionary_columns) | set(text),
                coerce_int96_timestamp_unit=options.coerce_int96_timestamp_unit,
            ),
            default_fragment_scan_options=fragment.format.default_fragment_scan_options,
        )
        fragment = fmt.make_fragment(
            fragment.path, fragment.filesystem, partition_expression=fragment.partition_expression
        )
    physical = fragment.physical_schema
    fields = [physical.field(n) if n in physical.names else partition[n] for n in names]
    return fragment, pa.schema(list(dict.fromkeys(fields)))


def _batches(task: FragmentTask) -> Iterator[pa.RecordBatch]:
    """The file's record batches, read errors turned into one message naming the file."""
    try:
        fragment, schema = _readable_fragment(task)
        batches = fragment.to_batches(
            schema=schema,
            columns=schema.names,
            batch_size=task.batch_size,
            batch_readahead=_READAHEAD_BATCHES,
            fragment_readahead=1,
        )
        yield from batches
    except (pa.ArrowException, OSError) as exc:
        raise InvalidParameterError(
            f"fit_glm: cannot read file {task.label} ({_first_line(exc)}). Fix: check that the "
            "file is complete and, on a Dask cluster, that every worker sees it at that path "
            "(shared storage)."
        ) from None


def _floats(array: pa.Array) -> np.ndarray:
    """A numeric or boolean column as float64, NaN where missing."""
    return array.cast(pa.float64()).to_numpy(zero_copy_only=False)


def _outcome(
    array: pa.Array, task: FragmentTask, where: str, rows: Callable[[np.ndarray], str]
) -> tuple[np.ndarray, np.ndarray | None]:
    """One batch's outcome as float64, checked, and its missing rows (``None``: none)."""
    y = _floats(array)
    if pa.types.is_integer(array.type) or pa.types.is_boolean(array.type):
        # Integers are never infinite and one pass in C++ bounds them: the element-wise checks
        # (and their message) are needed only when a value is out of range.
        bounds = pc.min_max(array)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is not None and (low < 0 or (task.family == "logit" and high > 1)):
            checks.check_outcome(y, task.outcome, task.family, where=where, rows=rows)
        return y, np.isnan(y) if array.null_count else None
    checks.check_outcome(y, task.outcome, task.family, where=where, rows=rows)
    missing = np.isnan(y)
    return y, missing if missing.any() else None


def _file_rows(first_row: int) -> Callable[[np.ndarray], str]:
    def name(mask: np.ndarray) -> str:
        positions = np.flatnonzero(mask)
        shown = ", ".join(str(first_row + int(i)) for i in positions[:5])
        return shown + (" ..." if len(positions) > 5 else "") + " of the file, counting from 0"

    return name


def collapse_fragment(
    task: FragmentTask, on_batch: Callable[[int], None] | None = None
) -> FragmentCells:
    """Collapse one file to cells, batch by batch (runs on a Dask worker, or in-process).

    Parameters
    ----------
    task
        The file and the model's columns.
    on_batch
        Called with the number of rows of each batch read (progress), or ``None``.

    Returns
    -------
    FragmentCells

    Raises
    ------
    InvalidParameterError
        An unreadable file, a bad outcome or exposure value, or a continuous regressor (each
        naming the file).
    """
    where = f" in file {task.label!r}"
    dictionaries = [LevelDictionary(k.name, k.level_type) for k in task.keys]
    cells = CellAccumulator(len(task.keys))
    dropped: Counter[str] = Counter()
    rows_read = chunks = 0
    poisson = task.family == "poisson"
    for batch in _batches(task):
        n = batch.num_rows
        rows = _file_rows(rows_read)
        y, y_missing = _outcome(batch.column(task.outcome), task, where, rows)
        missing = [(task.outcome, y_missing)]
        t = log_t = None
        if task.offset or task.exposure:
            name = task.offset or task.exposure
            t, log_t = checks.exposure_and_offset(
                _floats(batch.column(name)),
                is_exposure=task.exposure is not None,
                name=name,
                where=where,
                rows=rows,
            )
            missing.append((name, np.isnan(log_t)))
        codes = []
        for key, dictionary in zip(task.keys, dictionaries, strict=True):
            column = batch.column(key.name)
            key_codes = dictionary.encode(column)
            if key.max_levels is not None and dictionary.n_levels > key.max_levels:
                raise continuous_regressor(
                    key.name, dictionary.n_levels, key.max_levels, task.label
                )
            codes.append(key_codes)
            if may_be_missing(column):
                missing.append((key.name, key_codes < 0))
        keep = _count_dropped(missing, n, dropped)
        if keep is not None:
            rows_kept = np.flatnonzero(keep)
            codes = [c[rows_kept] for c in codes]
            y = y[rows_kept]
            if t is not None:
                t, log_t = t[rows_kept], log_t[rows_kept]
        if len(y):
            sizes = [d.n_levels for d in dictionaries]
            cell_codes, stats = row_statistics(
                codes, sizes, y, poisson=poisson, exposure=t, log_exposure=log_t
            )
            cells.add(cell_codes, stats, sizes)
        rows_read += n
        chunks += 1
        if on_batch is not None:
            on_batch(n)
    codes, stats = cells.result([d.n_levels for d in dictionaries])
    return FragmentCells(
        levels={k.name: d.values for k, d in zip(task.keys, dictionaries, strict=True)},
        codes=[c.astype(np.int32) for c in codes],  # what a Dask worker sends: half of int64
        stats=stats,
        rows_read=rows_read,
        chunks=chunks,
        dropped=dict(dropped),
        peak_rss_bytes=_peak_rss_bytes(),
    )


def _count_dropped(
    missing: list[tuple[str, np.ndarray | None]], n_rows: int, dropped: Counter[str]
) -> np.ndarray | None:
    """Rows to keep (``None``: all), counting each dropped row under its first missing column.

    ``missing`` holds ``(column, mask)`` in the order of attribution; ``mask`` is ``None`` for a
    column known to have no missing value in the batch.
    """
    lost = np.zeros(n_rows, dtype=bool)
    for name, mask in missing:
        if mask is None or not mask.any():
            continue
        new = mask & ~lost
        dropped[f"missing {name}"] += int(new.sum())
        lost |= mask
    return ~lost if lost.any() else None


def continuous_regressor(
    name: str, n_levels: int, max_levels: int, label: str
) -> InvalidParameterError:
    """The refusal of a numeric regressor with too many distinct values to collapse.

    Parameters
    ----------
    name
        The column.
    n_levels
        Distinct values seen so far.
    max_levels
        The threshold (``fit_glm``'s ``max_levels=``).
    label
        Where it was seen (a file, or the data).

    Returns
    -------
    InvalidParameterError
    """
    return InvalidParameterError(
        f"fit_glm: regressor {name!r} has more than {max_levels} distinct values ({n_levels:,} "
        f"so far, reading {label}): it is continuous, and Parquet data are fitted on collapsed "
        "cells only (nearly every row would be its own cell). Fix: discretise it (e.g. bands "
        "made with pd.cut before writing the files, then C(band) in the formula), raise "
        "max_levels= if its values are genuinely few levels, or load the rows into memory "
        "(pd.read_parquet) and fit them with method='rows'."
    )


# --- merging files -----------------------------------------------------------------------------


@dataclass
class Collapsed:
    """Parquet data collapsed: the cells, each column's levels and what was read.

    Attributes
    ----------
    cells
        The cells (keys in the dtypes ``pd.read_parquet`` would give).
    levels
        Per grouping column, its levels (position = code in ``cells.codes``).
    summary
        ``files``, ``chunks``, ``rows_read``, ``rows_dropped`` (per reason), ``cells``,
        ``peak_rss_bytes``, ``seconds``, ``scheduler`` and ``workers``.
    inputs
        The files read (path, size, modification time, rows, sha256 of the Parquet footer).
    """

    cells: Cells
    levels: dict[str, pd.Index]
    summary: dict[str, Any]
    inputs: list[dict[str, Any]]


class _Merger:
    """Sums files' cells into one table, their level values mapped to global codes in file order."""

    def __init__(self, keys: Sequence[KeySpec]):
        self.keys = list(keys)
        self.dictionaries = [LevelDictionary(k.name, k.level_type) for k in keys]
        self.cells = CellAccumulator(len(keys))
        self.rows_read = self.chunks = self.peak_rss = 0
        self.dropped: Counter[str] = Counter()

    def add(self, part: FragmentCells, label: str) -> None:
        codes = []
        for key, dictionary, local in zip(self.keys, self.dictionaries, part.codes, strict=True):
            to_global = dictionary.codes_of(part.levels[key.name])
            if key.max_levels is not None and dictionary.n_levels > key.max_levels:
                raise continuous_regressor(key.name, dictionary.n_levels, key.max_levels, label)
            codes.append(to_global[local])
        if part.stats and len(part.stats["n"]):
            self.cells.add(codes, part.stats, [d.n_levels for d in self.dictionaries])
        self.rows_read += part.rows_read
        self.chunks += part.chunks
        self.dropped.update(part.dropped)
        self.peak_rss = max(self.peak_rss, part.peak_rss_bytes)

    def cells_and_levels(self) -> tuple[Cells | None, dict[str, pd.Index]]:
        codes, stats = self.cells.result([d.n_levels for d in self.dictionaries])
        levels = {}
        keys = {}
        for key, dictionary, cell_codes in zip(self.keys, self.dictionaries, codes, strict=True):
            values = dictionary.values.to_pandas()
            if key.kind == _CATEGORY:
                dtype = pd.CategoricalDtype(pd.Index(values), ordered=key.ordered)
                levels[key.name] = pd.CategoricalIndex(values, dtype=dtype)
                keys[key.name] = pd.Categorical.from_codes(cell_codes, dtype=dtype)
            else:
                levels[key.name] = pd.Index(values)
                keys[key.name] = dictionary.values.take(pa.array(cell_codes)).to_pandas()
        if not stats:
            return None, levels
        frame = pd.DataFrame(keys) if keys else pd.DataFrame(index=pd.RangeIndex(len(stats["n"])))
        cells = Cells(
            keys=frame,
            codes=dict(zip([k.name for k in self.keys], codes, strict=True)),
            stats=stats,
            nobs=int(round(float(stats["n"].sum()))),
        )
        return cells, levels


def collapse_source(
    source: Source,
    tasks: Sequence[FragmentTask],
    *,
    scheduler: Any = None,
    progress: bool = False,
) -> Collapsed:
    """Collapse every file, in this process or on Dask workers, and merge the cells.

    Parameters
    ----------
    source
        The opened data.
    tasks
        One per file (:func:`plan`).
    scheduler
        ``None`` (this process), a ``distributed.Client`` or a scheduler address.
    progress
        Show a progress bar (rows read) and print the summary on stderr.

    Returns
    -------
    Collapsed
    """
    start = time.perf_counter()
    merger = _Merger(tasks[0].keys)
    total_rows = _total_rows(source.fragments)
    workers = None
    with _ProgressBar(progress, total_rows, len(tasks)) as bar:
        if scheduler is None:
            for task in tasks:
                merger.add(collapse_fragment(task, on_batch=bar.advance), task.label)
        else:
            workers = _on_dask(scheduler, tasks, merger, bar)
        cells, levels = merger.cells_and_levels()
        summary = {
            "files": len(tasks),
            "chunks": merger.chunks,
            "rows_read": merger.rows_read,
            "rows_dropped": dict(merger.dropped),
            "cells": 0 if cells is None else cells.n_cells,
            "peak_rss_bytes": max(merger.peak_rss, _peak_rss_bytes()),
            "seconds": time.perf_counter() - start,
            "scheduler": None if scheduler is None else _scheduler_name(scheduler),
            "workers": workers,
        }
        bar.summary(summary)
    if cells is None:
        raise InvalidParameterError(
            f"fit_glm: no rows left in {source.label} after dropping rows with missing values "
            f"({_dropped_text(summary['rows_dropped']) or 'no rows read'}). Fix: check the "
            "columns named."
        )
    return Collapsed(cells=cells, levels=levels, summary=summary, inputs=_input_files(source))


def _dropped_text(dropped: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {reason}" for reason, n in dropped.items())


def _total_rows(fragments: Iterable[ds.Fragment]) -> int | None:
    """Rows of all files from their footers (already read by :func:`plan`), or ``None``."""
    total = 0
    for fragment in fragments:
        metadata = getattr(fragment, "metadata", None)
        if metadata is None:
            return None
        total += metadata.num_rows
    return total


# --- Dask ----------------------------------------------------------------------------------------


def _scheduler_name(scheduler: Any) -> str:
    return scheduler if isinstance(scheduler, str) else str(scheduler.scheduler.address)


#: How fit_glm's scheduler option is named in messages.
_SCHEDULER_OPTION = "fit_glm: scheduler="


def check_scheduler(scheduler: Any) -> None:
    """Refuse, before any file is read, a ``scheduler=`` that is neither a well-formed scheduler
    address nor a ``distributed.Client`` (:func:`icsresearch.scheduler.check_scheduler`).

    Parameters
    ----------
    scheduler
        What the caller passed (None: no Dask).

    Raises
    ------
    InvalidParameterError
    """
    if scheduler is not None:
        from ...scheduler import check_scheduler as check

        check(scheduler, _SCHEDULER_OPTION)


def _on_dask(scheduler: Any, tasks: Sequence[FragmentTask], merger: _Merger, bar: Any) -> int:
    """Collapse each file on a worker; merge the results on the client in file order."""
    from ...scheduler import connected

    with connected(scheduler, option=_SCHEDULER_OPTION) as client:
        futures = [client.submit(collapse_fragment, task, pure=False) for task in tasks]
        try:
            for task, future in zip(tasks, futures, strict=True):
                part = future.result()
                merger.add(part, task.label)
                bar.advance(part.rows_read)
        finally:
            client.cancel(futures)
        return len(client.scheduler_info()["workers"])


# --- progress and provenance ---------------------------------------------------------------------


class _ProgressBar:
    """A ``rich`` progress bar over the rows read (on stderr), or nothing."""

    def __init__(self, show: bool, total_rows: int | None, n_files: int):
        self.show = show
        self._total, self._files = total_rows, n_files
        self._progress = self._console = None

    def __enter__(self) -> _ProgressBar:
        if self.show:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._console = Console(stderr=True)
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,.0f} rows"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self._console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                f"fit_glm: collapsing {self._files:,} file(s)", total=self._total
            )
        return self

    def advance(self, rows: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, rows)

    def summary(self, summary: dict[str, Any]) -> None:
        if self._progress is None:
            return
        self._progress.stop()
        dropped = _dropped_text(summary["rows_dropped"]) or "none"
        where = f" on {summary['workers']} Dask workers" if summary["workers"] else ""
        self._console.print(
            f"fit_glm: {summary['rows_read']:,} rows in {summary['files']:,} file(s), "
            f"{summary['chunks']:,} chunks{where}, {summary['seconds']:.1f} s -> "
            f"{summary['cells']:,} cells; dropped: {dropped}; peak memory "
            f"{summary['peak_rss_bytes'] / 2**30:.2f} GB"
        )

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None and self._progress.live.is_started:
            self._progress.stop()


def _footer_sha256(fragment: ds.Fragment) -> str | None:
    """sha256 of a Parquet file's footer (its schema, row groups and their statistics).

    A cheap fingerprint of the content (two small reads, whatever the file's size): a rewrite of
    the data changes the footer's statistics, offsets or sizes. Not a hash of every byte.
    """
    if not isinstance(fragment, ds.ParquetFileFragment):
        return None
    try:
        with fragment.filesystem.open_input_file(fragment.path) as fh:
            size = fh.size()
            fh.seek(size - 8)
            tail = fh.read(8)
            length = int.from_bytes(tail[:4], "little")
            fh.seek(size - 8 - length)
            return hashlib.sha256(fh.read(length) + tail).hexdigest()
    except (OSError, pa.ArrowException, ValueError):
        return None


def _input_files(source: Source) -> list[dict[str, Any]]:
    """Path, size, modification time, rows and footer sha256 of each file read."""
    import datetime as _dt

    out = []
    for fragment in source.fragments:
        path = getattr(fragment, "path", None)
        if not path:
            continue
        info = fragment.filesystem.get_file_info(path)
        modified = info.mtime
        metadata = getattr(fragment, "metadata", None)
        out.append(
            {
                "path": path,
                "size_bytes": info.size,
                "modified_utc": None
                if modified is None
                else modified.astimezone(_dt.UTC).isoformat(timespec="seconds"),
                "rows": None if metadata is None else metadata.num_rows,
                "footer_sha256": _footer_sha256(fragment),
            }
        )
    return out


def input_records(inputs: Sequence[dict[str, Any]]) -> list[InputFile]:
    """The files read as provenance :class:`~icsresearch.provenance.InputFile` records.

    Parameters
    ----------
    inputs
        :attr:`Collapsed.inputs`.

    Returns
    -------
    list of InputFile
        Path only: no registry name, no sha256 of the bytes (hashing every byte of 100 million
        rows would cost more than the fit), ``verified=None`` (nobody checked them).
    """
    return [InputFile(source=None, path=i["path"], sha256=None, verified=None) for i in inputs]
