"""Shared machinery for the readers: column documentation and defensive parsing.

Every reader returns a tidy :class:`pandas.DataFrame` whose ``attrs`` carry provenance (registry
name, sha256, whether it matched the registry, the path read) and documentation of each column
(label, unit, description). The parsing helpers here turn the real traps of published NHS files
(byte-order marks, trailing spaces in codes, suffixed codes, ``-``/``*``/blank for missing or
suppressed values, latin-1 exports, quoted thousands) into clean values, and turn bad input
(empty, truncated, wrong columns, wrong encoding, unparseable values) into a
:class:`~icsresearch.errors.DataFileError` that names the file and the fix.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.registry import get as registry_get
from ..data.store import ResolvedFile, resolve
from ..errors import DataFileError
from ..provenance import InputFile, Provenance

# Schemas and the year convention live in the leaf module; readers import them from here.
from ..schemas import (  # noqa: F401
    YEAR_CONVENTION,
    Column,
    Schema,
    column_docs,
    fy_label,
    fy_start,
)

#: Tokens that published NHS files use for "no value". ``*`` and ``..`` mark suppression (small
#: numbers hidden for disclosure control): they stay missing and are never back-calculated.
MISSING_TOKENS = frozenset(
    {
        "",
        "-",
        "*",
        "**",
        "..",
        ".",
        ":",
        "NA",
        "N/A",
        "n/a",
        "na",
        "NULL",
        "null",
        "#N/A",
        "x",
        "X",
        "z",
    }
)


def finish(
    df: pd.DataFrame,
    schema: Schema,
    src: ResolvedFile,
    *,
    coverage: dict | None = None,
) -> pd.DataFrame:
    """Order columns as documented and attach provenance and documentation in ``df.attrs``.

    ``attrs["provenance"]`` is the typed record (:class:`~icsresearch.provenance.Provenance`:
    published data, this one file); the same facts stay at the top level (``source``, ``path``,
    ``sha256``, ``verified``), where users of the readers look for them. ``coverage`` (from
    :func:`completeness`) is stored as ``attrs["completeness"]``: what the file covers and how
    much of it is missing, reported rather than filled.
    """
    missing = [c for c in schema.names if c not in df.columns]
    if missing:  # a bug in the reader, not in the user's file
        raise AssertionError(f"reader for {schema.dataset} did not produce {missing}")
    out = df[schema.names].reset_index(drop=True)
    if schema.key:
        dup = out.duplicated(list(schema.key), keep=False)
        if dup.any():
            example = out.loc[dup, list(schema.key)].head(3).to_dict("records")
            raise DataFileError(
                src.path,
                f"has {int(dup.sum())} rows that repeat the key {list(schema.key)}, e.g. {example}",
                "Each key should appear once; check the file is the published layout, not a concatenation.",
            )
    out.attrs = {
        "source": src.name,
        "path": str(src.path),
        "sha256": src.sha256,
        "verified": src.verified,
        "year_convention": schema.year_convention,
        "columns": column_docs(schema),
        "provenance": Provenance(
            synthetic=False,
            inputs=(InputFile(src.name, str(src.path), src.sha256, src.verified),),
        ),
    }
    if coverage is not None:
        out.attrs["completeness"] = coverage
    return out


def completeness(
    df: pd.DataFrame,
    *,
    counts: Sequence[str],
    period: str | None = None,
    freq: str = "MS",
    units: str | None = None,
) -> dict:
    """What a table covers, and how much of it is missing: reported, never filled.

    Parameters
    ----------
    df
        The tidy table.
    counts
        Value columns whose missing share is reported (suppressed and unreported values alike).
    period
        Date column; the report lists the first and last period, how many periods of the range
        at ``freq`` are present, and which are absent (a gap in a series stays a gap).
    freq
        Spacing of the periods: ``"MS"`` months, ``"D"`` days, ``"YS"`` years.
    units
        Column naming the reporting units (e.g. ``"trust_code"``): the report gives how many there
        are and the fewest and most present in any one period.

    Returns
    -------
    dict
        ``rows``, ``share_missing`` ({column: fraction of rows missing}) and, with ``period``,
        ``first``, ``last``, ``periods_present``, ``periods_expected``, ``missing_periods``
        (ISO dates); with ``units`` also ``units``, ``units_per_period_min``/``max``.
    """
    out: dict = {"rows": int(len(df))}
    if period is not None and len(df):
        when = pd.to_datetime(df[period])
        present = pd.DatetimeIndex(when.dropna().unique()).sort_values()
        expected = pd.date_range(present[0], present[-1], freq=freq)
        absent = expected.difference(present)
        out.update(
            first=present[0].date().isoformat(),
            last=present[-1].date().isoformat(),
            periods_present=int(len(present)),
            periods_expected=int(len(expected)),
            missing_periods=[d.date().isoformat() for d in absent],
        )
        if units is not None:
            per = df.groupby(when)[units].nunique()
            out.update(
                units=int(df[units].nunique()),
                units_per_period_min=int(per.min()),
                units_per_period_max=int(per.max()),
            )
    elif units is not None:
        out["units"] = int(df[units].nunique())
    out["share_missing"] = {
        c: round(float(df[c].isna().mean()), 6) if len(df) else 0.0 for c in counts
    }
    return out


def derived(df: pd.DataFrame, schema: Schema, base: dict, derivation: str) -> pd.DataFrame:
    """Document a table computed from a reader's output, keeping the input's provenance.

    Parameters
    ----------
    df
        The computed table (it must hold every column of ``schema``).
    schema
        Its documentation.
    base
        ``attrs`` of the reader output it was computed from (source, path, sha256, verified and
        the typed ``provenance`` record, all kept).
    derivation
        How it was computed, e.g. ``"management_scores(items)"``.

    Returns
    -------
    pandas.DataFrame
        ``df`` in the schema's column order with ``attrs`` documenting it.
    """
    out = df[schema.names].reset_index(drop=True)
    if schema.key:
        assert not out.duplicated(list(schema.key)).any(), "derived table repeats its key"
    out.attrs = {
        **{k: v for k, v in base.items() if k != "columns"},
        "derived": derivation,
        "year_convention": schema.year_convention,
        "columns": column_docs(schema),
    }
    return out


# --- reading the raw bytes -----------------------------------------------------------------


def _raw_bytes(src: ResolvedFile) -> bytes:
    data = src.path.read_bytes()
    if not data.strip():
        raise DataFileError(src.path, "is empty", _refetch_hint(src))
    return data


def _refetch_hint(src: ResolvedFile) -> str:
    if src.verified:
        return f"Run `icsresearch data fetch {src.name}` to restore it."
    return f"Re-download the published file ({registry_get(src.name).filename}), or omit the path to use the registry copy."


def _decode(src: ResolvedFile, data: bytes, encoding: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # UTF-8 byte-order mark: many NHS CSV exports start with one
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFileError(
            src.path,
            f"is not valid {encoding} text: byte 0x{data[exc.start]:02x} at line {line} cannot be decoded",
            "Save the file as UTF-8 (CSV UTF-8 in Excel). Files exported from Windows are often "
            "cp1252/latin-1; convert with `iconv -f latin1 -t utf-8`.",
        ) from None


def read_csv_text(
    src: ResolvedFile,
    *,
    required: Sequence[str],
    encoding: str = "utf-8",
    header: bool = True,
    names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV as stripped strings, checking it is non-empty, decodable, complete and has the columns.

    Values keep their text; convert with :func:`numbers` and :func:`codes`. Missing tokens are left
    as they are here (``""``, ``-``, ``*`` ...) so each column can treat them appropriately.
    """
    text = _decode(src, _raw_bytes(src), encoding)
    if not text.strip():  # e.g. a file holding only a byte-order mark
        raise DataFileError(src.path, "is empty", _refetch_hint(src))
    lines = text.splitlines()
    if header:
        ncols = _count_fields(lines[0])
    else:
        ncols = len(names) if names is not None else _count_fields(lines[0])
    last = lines[-1]
    if not text.endswith(("\n", "\r")) and _count_fields(last) < ncols and len(lines) > 1:
        raise DataFileError(
            src.path,
            f"looks truncated: its last line (line {len(lines)}) has {_count_fields(last)} of {ncols} fields and no line end",
            _refetch_hint(src),
        )
    try:
        df = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            header=0 if header else None,
            names=list(names) if names is not None else None,
            skipinitialspace=False,
        )
    except pd.errors.ParserError as exc:
        raise DataFileError(
            src.path, f"is not a well-formed CSV: {exc}", _refetch_hint(src)
        ) from None
    if not header and names is not None and len(df.columns) != len(names):
        raise DataFileError(
            src.path,
            f"has {len(df.columns)} columns; the published layout has {len(names)}",
            _refetch_hint(src),
        )
    df.columns = [str(c).strip() for c in df.columns]
    require_columns(df, required, src)
    if df.empty:
        raise DataFileError(src.path, "has a header but no rows", _refetch_hint(src))
    for c in df.columns:
        df[c] = df[c].str.strip()
    return df


def _count_fields(line: str) -> int:
    import csv

    return len(next(csv.reader([line]))) if line else 0


def require_columns(df: pd.DataFrame, required: Iterable[str], src: ResolvedFile) -> None:
    """Raise a DataFileError naming the missing columns and the ones found."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        found = ", ".join(map(str, df.columns[:20]))
        raise DataFileError(
            src.path,
            f"is missing column(s) {missing}; found: {found}",
            f"Is this the right file? The reader expects the published layout of "
            f"{registry_get(src.name).filename!r}.",
        )


def read_rda(src: ResolvedFile, object_name: str, *, required: Sequence[str]) -> pd.DataFrame:
    """Read one data frame from an R .rda/.RData file with pyreadr."""
    import pyreadr

    _raw_bytes(src)
    try:
        result = pyreadr.read_r(str(src.path))
    except Exception as exc:  # pyreadr raises LibrdataError/PyreadrError for bad files
        raise DataFileError(
            src.path, f"is not a readable R data file ({exc})", _refetch_hint(src)
        ) from None
    if object_name not in result:
        raise DataFileError(
            src.path,
            f"has no R object {object_name!r}; it holds {list(result)}",
            f"Is this the right file? Expected the published {registry_get(src.name).filename!r}.",
        )
    df = result[object_name]
    require_columns(df, required, src)
    return df


def read_rda_sf(src: ResolvedFile, object_name: str, *, required: Sequence[str]) -> pd.DataFrame:
    """Read an R ``sf`` table (geometry column) with the rdata package, which pyreadr cannot."""
    import warnings

    import rdata

    _raw_bytes(src)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # rdata warns once per unknown R class (sf, sfc, crs...)
            parsed = rdata.parser.parse_file(src.path)
            converted = rdata.conversion.convert(parsed, default_encoding="utf8")
    except Exception as exc:
        raise DataFileError(
            src.path, f"is not a readable R data file ({exc})", _refetch_hint(src)
        ) from None
    if object_name not in converted:
        raise DataFileError(
            src.path,
            f"has no R object {object_name!r}; it holds {list(converted)}",
            _refetch_hint(src),
        )
    df = pd.DataFrame(converted[object_name])
    require_columns(df, required, src)
    return df


def read_xlsx(
    src: ResolvedFile,
    sheet: str,
    *,
    required: Sequence[str],
    header_row: int = 0,
) -> pd.DataFrame:
    """Read one sheet of an .xlsx workbook, with clear errors for a bad file or a missing sheet.

    Cells come back as openpyxl's ``values_only`` would give them (str, int/float, bool,
    ``datetime``, ``None`` for empty), but parsed by calamine (Rust), which is 10-20x faster on the
    multi-megabyte NHS Digital workbooks. Codes such as ``'001'`` stay strings.
    """
    import datetime as dt

    from python_calamine import CalamineWorkbook

    _raw_bytes(src)
    try:
        wb = CalamineWorkbook.from_path(str(src.path))
    except Exception as exc:  # calamine raises its own error types for zip/xml problems
        raise DataFileError(
            src.path,
            f"is not a readable .xlsx workbook (truncated or another format?): {exc}",
            _refetch_hint(src),
        ) from None
    if sheet not in wb.sheet_names:
        raise DataFileError(
            src.path, f"has no sheet {sheet!r}; sheets: {wb.sheet_names}", _refetch_hint(src)
        )
    try:
        grid = wb.get_sheet_by_name(sheet).to_python()
    except Exception as exc:
        raise DataFileError(
            src.path, f"sheet {sheet!r} cannot be read: {exc}", _refetch_hint(src)
        ) from None

    rows = grid
    while rows and all(v == "" for v in rows[-1]):
        rows = rows[:-1]
    if len(rows) <= header_row + 1:
        raise DataFileError(src.path, f"sheet {sheet!r} has no data rows", _refetch_hint(src))
    head = [
        str(h).strip() if h not in (None, "") else f"unnamed_{i}"
        for i, h in enumerate(rows[header_row])
    ]
    df = pd.DataFrame(rows[header_row + 1 :], columns=head, dtype=object)
    # Match openpyxl's values: empty cells are None, dates are datetimes (calamine gives "" and date).
    for c in df.columns:
        col = df[c]
        df[c] = col.where(col != "", None)
        if col.map(type).eq(dt.date).any():
            df[c] = df[c].map(
                lambda v: dt.datetime(v.year, v.month, v.day) if type(v) is dt.date else v
            )
    df = df.dropna(how="all")
    require_columns(df, required, src)
    return df


# --- values ----------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def numbers(
    values: pd.Series,
    src: ResolvedFile,
    column: str,
    *,
    missing: Iterable[str] = MISSING_TOKENS,
) -> pd.Series:
    """Parse published numbers: quoted thousands (``"1,234"``), ``%``/``£`` signs, missing tokens.

    Suppressed or missing values (``*``, ``-``, blank, ``..``) become NaN and stay NaN. Anything
    else that is not a number raises a DataFileError naming the column, rows and values.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    missing = frozenset(missing)
    match = _NUMBER.fullmatch
    raw = values.to_numpy(dtype=object)
    out = np.empty(len(raw), dtype=float)
    bad: list[int] = []
    # A plain Python loop: these columns are short, and per-value work beats pandas' per-call cost.
    nan = np.nan
    for i, v in enumerate(raw):
        kind = type(v)
        if kind is str:
            text = v.strip()
            if text in missing:
                out[i] = nan
            elif match(text):
                out[i] = float(text)
            else:
                cleaned = text.replace(",", "").replace("£", "").replace("%", "").strip()
                if cleaned[:1] == "(" and cleaned[-1:] == ")":  # accounting negative "(1,234)"
                    cleaned = "-" + cleaned[1:-1]
                if match(cleaned):
                    out[i] = float(cleaned)
                else:
                    bad.append(i)
        elif kind is float or kind is int:
            out[i] = v
        elif v is None or v is pd.NA or (isinstance(v, float) and v != v):
            out[i] = nan
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
            v, (bool, np.bool_)
        ):
            out[i] = float(v)
        else:
            bad.append(i)
    if bad:
        rows = ", ".join(
            f"row {values.index[i] + 2 if isinstance(values.index[i], (int, np.integer)) else values.index[i]}: {raw[i]!r}"
            for i in bad[:5]
        )
        raise DataFileError(
            src.path,
            f"column {column!r} has {len(bad)} value(s) that are not numbers ({rows})",
            "Numbers may use thousands separators; missing or suppressed values should be blank, '-' or '*'.",
        )
    return pd.Series(out, index=values.index, name=values.name)


_CODE = re.compile(r"^[A-Z0-9]{2,9}$")


def codes(
    values: pd.Series,
    src: ResolvedFile,
    column: str,
    *,
    strip_suffix: bool = False,
    pattern: re.Pattern[str] = _CODE,
) -> pd.Series:
    """Clean organisation codes: strip spaces, upper-case, optionally drop a ``-X`` suffix.

    Codes that do not look like ODS codes (letters and digits) raise a DataFileError naming rows.
    """
    s = values.astype("string").str.strip().str.upper()
    if strip_suffix:
        s = s.str.replace(r"-[A-Z0-9]+$", "", regex=True)
    bad = s.isna() | ~s.str.fullmatch(pattern.pattern).fillna(False)
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {v!r}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not organisation codes ({rows})",
            "Organisation codes are ODS codes of letters and digits (e.g. RA2, R0A, 5A3).",
        )
    return s.astype(str)


def integers_in(values: pd.Series, src: ResolvedFile, column: str, lo: int, hi: int) -> pd.Series:
    """Parse a year-like integer column and check its range."""
    num = numbers(values, src, column)
    bad = num.isna() | (num < lo) | (num > hi) | (num != np.floor(num))
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {v!r}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path, f"column {column!r} has values outside {lo}-{hi} ({rows})", _refetch_hint(src)
        )
    return num.astype(int)


def source(name: str, path: str | Path | None) -> ResolvedFile:
    """Resolve a reader's input file (see :func:`icsresearch.data.store.resolve`)."""
    return resolve(name, path)


# --- R tables and monthly series (the healthyr compilations) ---------------------------------


def read_rda_table(src, object_name: str, required: list[str]) -> pd.DataFrame:
    """Read an R table and number its rows from 1 in error messages.

    The parsing helpers of ``_base`` report ``index + 2`` (a CSV's header is line 1); an R table
    has no header line, so the index starts at -1 to make them report the table's row number.
    """
    raw = read_rda(src, object_name, required=required)
    if raw.empty:
        raise DataFileError(src.path, f"R object {object_name!r} has no rows", _refetch_hint(src))
    return raw.set_axis(pd.RangeIndex(-1, len(raw) - 1))


def flagged_rows(values: pd.Series, bad: pd.Series, limit: int = 5) -> str:
    """'row 3: -1.0, row 9: 'x'' for the first flagged values (rows numbered as in the table)."""
    return ", ".join(f"row {i + 2}: {v!r}" for i, v in values[bad].head(limit).items())


def month_periods(labels: pd.Series, src, column: str) -> tuple[pd.Series, pd.Series]:
    """Parse 'April 2021' month labels to first-of-month Timestamps (and the stripped labels).

    Labels that are not a full month name and a year, or months before 2000 or after the
    current month, raise a DataFileError naming the rows.
    """
    text = labels.astype("string").str.strip()
    period = pd.to_datetime(text, format="%B %Y", errors="coerce")
    latest = pd.Timestamp.today().normalize().replace(day=1)
    bad = period.isna() | (period < pd.Timestamp("2000-01-01")) | (period > latest)
    if bad.any():
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} month(s) that are not a month from 2000 to "
            f"now written as 'Month YYYY' ({flagged_rows(labels, bad)})",
            "Months are full month names and years, e.g. 'April 2021'.",
        )
    return period, text.astype(str)


def whole_counts(values: pd.Series, src, column: str) -> pd.Series:
    """Parse a count column: missing stays missing; negative or fractional counts are refused."""
    num = numbers(values, src, column)
    finite = np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
    bad = num.notna() & ~(finite & (num >= 0) & (num % 1 == 0))
    if bad.any():
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} count(s) that are negative or not whole "
            f"numbers ({flagged_rows(values, bad)})",
            "Counts are whole numbers >= 0; a value that was not reported should be NA.",
        )
    return num


def over_limit(src, df: pd.DataFrame, part: str, whole: str, what: str, fix: str) -> None:
    """Refuse rows where a count exceeds the count it is part of."""
    bad = df[part] > df[whole]
    if bad.any():
        shown = ", ".join(
            f"row {i + 2}: {df.at[i, part]:g} > {df.at[i, whole]:g}" for i in df.index[bad][:5]
        )
        raise DataFileError(src.path, f"{int(bad.sum())} row(s): {what} ({shown})", fix)


def repeated_months(
    df: pd.DataFrame, unit: str, values: list[str], *, min_units: int = 20
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Pairs (earlier, later) of months whose values are identical for every unit.

    Two months of a real monthly series never agree on every count of 20 or more units; when
    they do, one of them is a copy made by the compilation. Missing values compare equal.
    """
    signatures: dict[tuple, pd.Timestamp] = {}
    pairs = []
    for period, block in df.sort_values("period").groupby("period", sort=True):
        if block[unit].nunique() < min_units or block[values].isna().all().all():
            continue
        table = block.set_index(unit)[values].sort_index()
        signature = (
            tuple(table.index),
            tuple(map(tuple, table.fillna(-1.0).to_numpy())),
        )
        if signature in signatures:
            pairs.append((signatures[signature], period))
        else:
            signatures[signature] = period
    return pairs


def blanked_months(pairs: list[tuple[pd.Timestamp, pd.Timestamp]]) -> list[dict]:
    """Which month of each repeated pair is the copy.

    The same calendar month a year or more later is a stale re-read of the earlier workbook:
    only the later month is blanked. For other pairs (e.g. adjacent months) nothing shows which
    month the numbers belong to, so both are blanked.
    """
    out = []
    for earlier, later in pairs:
        same_month = earlier.month == later.month and later.year > earlier.year
        out.append(
            {
                "month": later.date().isoformat(),
                "repeats": earlier.date().isoformat(),
                "blanked": [later.date().isoformat()]
                if same_month
                else [earlier.date().isoformat(), later.date().isoformat()],
            }
        )
    return out


def blank_repeated_months(
    df: pd.DataFrame, unit: str, values: list[str]
) -> tuple[pd.DataFrame, list[dict]]:
    """Set the values of months that repeat another month to missing; return the report."""
    report = blanked_months(repeated_months(df, unit, values))
    months = pd.to_datetime([m for r in report for m in r["blanked"]])
    if len(months):
        df.loc[df["period"].isin(months), values] = np.nan
    return df, report
