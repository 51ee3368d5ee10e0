"""Shared machinery for the readers: column documentation and defensive parsing.

Every reader returns a tidy :class:`pandas.DataFrame` whose ``attrs`` carry provenance (registry
name, sha256, whether it matched the registry, the path read) and documentation of each column
(label, unit, description). The parsing helpers here turn the real traps of published NHS files
(byte-order marks, trailing spaces in codes, suffixed codes, ``-``/``*``/blank for missing or
suppressed values, latin-1 exports, quoted thousands) into clean values, and turn bad input
(empty, truncated, wrong columns, wrong encoding, unparseable values) into a
:class:`~icsresearch.errors.DataFileError` that names the file and the fix.

Damaged files
-------------
- **Another format.** A gzip, zip/.xlsx, .xls, R data, Parquet, PDF or HTML file where another
  kind is expected is named as what it is (from its first bytes), not as "not UTF-8".
- **Cut inside the last line.** A text file without a final line end is truncated when its
  last line has too few fields, when its reader declares that the published layout ends with a
  line end (``read_csv_text(..., line_end=True)``), or when its last value breaks the pattern of
  its column (empty where no other row is, or fewer digits or decimals than every other row:
  ``2015,RVW,0`` in a column of ``0.95``; a bare sign or trailing point). Most published CSVs
  end without a line end, so a missing one alone proves nothing: when the last value fits no
  pattern that rules a cut out (a user-supplied file whose column has mixed decimals), the
  reader warns, naming the row.
- **Cut or damaged inside** (user-supplied files). A blank line between rows, or the one value
  of a column with fewer decimals than all the others, is the trace of a line end written over
  a digit: the reader warns. A number ending in a point (``213.``) is refused.
- **Cut at a row boundary** (user-supplied files only; registry files are hash-checked). Such a
  file parses, so the reader compares what can be compared and warns (``UserWarning`` naming the
  file) when the file is a prefix of the registry release held locally (cache or mirror), is
  named like the registry file but more than 10% smaller than it (:data:`SHORT_FILE_SHARE`), or
  stops part-way: its last period holds fewer than half the units of a typical period
  (:data:`SHORT_PERIOD_SHARE`). A newer, longer release is larger, is no prefix and has full
  periods, so it does not warn.
- **Numbers.** Commas are thousands separators only in groups of three digits (``1,234``,
  ``12,345,678``); ``12,3``, ``0,93`` or ``1.234,5`` are decimal commas and are refused (read as
  written they would be 10-1000 times too large). ``inf``, ``nan``, values beyond the range
  of a float (``1e400``) and digits other than ASCII 0-9 (fullwidth, Arabic-Indic) are not
  numbers. Every numeric column is checked against the bounds in
  its :class:`~icsresearch.schemas.Column` (see :mod:`icsresearch.schemas`): outside the hard
  bounds is an error, outside the typical range a warning.
- **Echoes.** Values quoted in messages are cut to :data:`SHOW_CHARS` characters.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..data.registry import get as registry_get
from ..data.store import ResolvedFile, cached_path, resolve
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

    Every numeric column is checked against its documented bounds (:func:`check_values`), and a
    user-supplied file is compared with what is known of the release it stands in for
    (:func:`short_file_warnings`).
    """
    missing = [c for c in schema.names if c not in df.columns]
    if missing:  # a bug in the reader, not in the user's file
        raise AssertionError(f"reader for {schema.dataset} did not produce {missing}")
    out = df[schema.names].reset_index(drop=True)
    if schema.key:
        dup = out.duplicated(list(schema.key), keep=False)
        if dup.any():
            example = ", ".join(_key_text(out, i, schema.key) for i in out.index[dup][:3])
            raise DataFileError(
                src.path,
                f"has {int(dup.sum())} rows that repeat the key {list(schema.key)}, e.g. {example}",
                "Each key should appear once; check the file is the published layout, not a concatenation.",
            )
    check_values(out, schema, src.path)
    if not src.verified:
        reasons = short_file_warnings(out, schema, src)
        if reasons:
            warnings.warn(
                f"{src.path}: looks short for {registry_get(src.name).filename!r}: "
                + "; ".join(reasons)
                + ". The file is user-supplied (not hash-checked): if it is a cut download, "
                "download it again; if it is a subset made on purpose, ignore this warning.",
                UserWarning,
                stacklevel=3,
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
    check_values(out, schema, base.get("path", schema.dataset))
    out.attrs = {
        **{k: v for k, v in base.items() if k != "columns"},
        "derived": derivation,
        "year_convention": schema.year_convention,
        "columns": column_docs(schema),
    }
    return out


# --- plausible values and complete files ------------------------------------------------------

#: Characters of a value quoted in an error message; longer values are cut and marked "...".
SHOW_CHARS = 60
#: A user file named like a registry file but smaller than this share of its size looks short.
SHORT_FILE_SHARE = 0.9
#: A last period with fewer units than this share of the median period looks cut off.
SHORT_PERIOD_SHARE = 0.5
_PERIOD_COLUMNS = ("period", "date", "year", "census_date")


def show(value: object, limit: int = SHOW_CHARS) -> str:
    """``repr`` of a value for a message, cut to ``limit`` characters (a 100 KB cell stays short).

    Parameters
    ----------
    value
        The value to quote.
    limit
        Characters kept.

    Returns
    -------
    str
        ``repr(value)``, or the repr of its first ``limit`` characters followed by
        ``... (N characters)``.

    Examples
    --------
    >>> show("RA2")
    "'RA2'"
    >>> show("X" * 100, limit=5)
    "'XXXXX'... (100 characters)"
    """
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return repr(value)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def clip(text: str, limit: int = SHOW_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with ``...`` when it was longer.

    Parameters
    ----------
    text
        Text to quote in a message (a header, a line of a file).
    limit
        Characters kept.

    Returns
    -------
    str
        The text, or its first ``limit`` characters and ``...``.
    """
    return text if len(text) <= limit else text[:limit] + "..."


def _key_text(df: pd.DataFrame, i, key: Sequence[str]) -> str:
    parts = []
    for k in key:
        v = df.at[i, k]
        if isinstance(v, pd.Timestamp):
            v = v.date().isoformat()
        elif isinstance(v, np.integer) or (
            isinstance(v, (float, np.floating)) and float(v).is_integer()
        ):
            v = int(v)
        parts.append(f"{k}={show(v, 30)}")
    return ", ".join(parts)


def _where(df: pd.DataFrame, values: pd.Series, mask: pd.Series, key: Sequence[str]) -> str:
    """'trust_code='RA2', year=2015: 1e+12; ...' for the first flagged rows (table rows without a key)."""
    shown = []
    for i in df.index[mask.to_numpy()][:5]:
        where = _key_text(df, i, key) if key else f"table row {i + 1}"
        shown.append(f"{where}: {values.at[i]:g}")
    return "; ".join(shown)


def check_values(df: pd.DataFrame, schema: Schema, path: str | Path) -> None:
    """Refuse infinities and values outside a column's bounds; warn outside its typical range.

    Parameters
    ----------
    df
        A reader's table (every column of ``schema``).
    schema
        Its documentation: each :class:`~icsresearch.schemas.Column` may state ``bounds`` (hard
        limits, else those of its unit) and ``typical`` (the usual range).
    path
        The file the table was read from, named in the error or warning.

    Raises
    ------
    DataFileError
        A value is infinite or outside the column's hard bounds.

    Warns
    -----
    UserWarning
        Values outside the column's typical range (they are kept).
    """
    for col in schema.columns:
        if col.name not in df.columns:
            continue
        series = df[col.name]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = pd.Series(series.to_numpy(dtype=float, na_value=np.nan), index=df.index)
        unit = f", {col.unit}" if col.unit else ""
        infinite = pd.Series(np.isinf(values.to_numpy()), index=df.index)
        limits = col.limits
        if limits is None and values.notna().any():
            # a bug in the schema, not in the user's file: every number needs its plausible range
            raise AssertionError(
                f"schema {schema.dataset}: numeric column {col.name!r} states no bounds "
                "(Column(..., bounds=(lo, hi)) or a unit that fixes them)"
            )
        outside = infinite.copy()
        if limits is not None:
            # a share computed from counts can land a rounding error beyond 100
            slack = 1e-9 * max(abs(limits[0]), abs(limits[1]), 1.0)
            outside |= (values < limits[0] - slack) | (values > limits[1] + slack)
        if outside.any():
            span = (
                f"{limits[0]:,.10g} to {limits[1]:,.10g}"
                if limits is not None
                else "finite numbers"
            )
            raise DataFileError(
                path,
                f"column {col.name!r} ({col.label}{unit}) has {int(outside.sum())} value(s) "
                f"outside the possible range {span} ({_where(df, values, outside, schema.key)})",
                f"Column {col.name!r} cannot hold these values: check the rows against the "
                "publisher's release (a misplaced decimal point, a change of unit, shifted "
                "columns?) and blank a value known to be wrong (missing values stay missing).",
            )
        if col.typical is not None:
            unusual = (values < col.typical[0]) | (values > col.typical[1])
            if unusual.any():
                warnings.warn(
                    f"{path}: column {col.name!r} ({col.label}{unit}) has {int(unusual.sum())} "
                    f"value(s) outside the usual range {col.typical[0]:,.10g} to {col.typical[1]:,.10g} "
                    f"({_where(df, values, unusual, schema.key)}); they are kept: check them "
                    "against the publisher's release before use.",
                    UserWarning,
                    stacklevel=4,
                )


def _registry_copy(name: str) -> Path | None:
    """The registry's copy of a file if it is already on this machine (cache or mirror); no fetch."""
    cached = cached_path(name)
    if cached.is_file():
        return cached
    mirror = config.mirror_dir()
    if mirror is not None:
        candidate = mirror / registry_get(name).path
        if candidate.is_file():
            return candidate
    return None


def short_file_warnings(df: pd.DataFrame, schema: Schema, src: ResolvedFile) -> list[str]:
    """Why a user-supplied file looks cut at a row boundary (empty when nothing does).

    Such a file parses, so only comparisons can show it is short:

    - it is a proper prefix of the registry release held on this machine (cache or mirror);
    - it has the registry file's name but is more than 10% smaller than the release it stands in
      for (:data:`SHORT_FILE_SHARE`);
    - it stops part-way: its last period (``period``/``date``/``year`` in the key) holds fewer
      than half the units of the median period (:data:`SHORT_PERIOD_SHARE`), over 3+ periods.

    A newer, longer release is larger than the registry's, is not a prefix of it and has
    complete periods, so it gives no reason.

    Parameters
    ----------
    df
        The reader's table.
    schema
        Its documentation (the key names the period and unit columns).
    src
        The file read.

    Returns
    -------
    list of str
        One phrase per reason.
    """
    reasons = []
    entry = registry_get(src.name)
    size = src.path.stat().st_size
    local = _registry_copy(src.name)
    if local is not None and size < local.stat().st_size:
        with open(local, "rb") as fh:
            head = fh.read(size)
        if head == src.path.read_bytes():
            reasons.append(
                f"it is the first {size:,} of the {local.stat().st_size:,} bytes of the registry "
                "release"
            )
    if not reasons and src.path.name == entry.filename and size < SHORT_FILE_SHARE * entry.size:
        reasons.append(
            f"it is {size:,} bytes, against {entry.size:,} for the registry release it stands "
            "in for"
        )
    period = next((c for c in schema.key if c in _PERIOD_COLUMNS), None)
    units = [c for c in schema.key if c != period]
    if period is not None and units and len(df):
        per = df.drop_duplicates([period, *units]).groupby(period, sort=True).size()
        if len(per) >= 3:
            typical = float(per.iloc[:-1].median())
            last = int(per.iloc[-1])
            if last < SHORT_PERIOD_SHARE * typical:
                when = per.index[-1]
                when = when.date().isoformat() if isinstance(when, pd.Timestamp) else when
                reasons.append(
                    f"its last {period} ({when}) has {last} row(s) of {'/'.join(units)} against "
                    f"{typical:g} in a typical {period}: it may stop part-way"
                )
    return reasons


# --- reading the raw bytes -----------------------------------------------------------------


#: What each reader kind expects, as named in messages.
_EXPECTED = {
    "text": "a CSV text file",
    "xlsx": "an Excel .xlsx workbook",
    "rda": "an R data file (.rda)",
}


def sniff(data: bytes) -> tuple[str, str] | None:
    """What a file is, from its first bytes: ``(kind, description)``, or ``None`` for plain text.

    ``kind`` is ``"xlsx"``, ``"rda"``, ``"compressed"`` (a compressed file too damaged to look
    into) or ``"other"``; compressed files are looked into, so a gzip-compressed R data file is
    ``"rda"`` and a gzip of a CSV is ``"other"``.

    Parameters
    ----------
    data
        The file's bytes (the first few kilobytes are enough).

    Returns
    -------
    tuple of str or None
        The kind and a description for messages (``"a gzip-compressed file"``); ``None`` when
        the bytes do not start like a known binary format.

    Examples
    --------
    >>> sniff(b"PK\\x03\\x04" + bytes(40))[0]
    'xlsx'
    >>> sniff(b"YEAR,ORG_CODE\\n") is None
    True
    """
    import zipfile

    head = data[:8]
    for magic, what in (
        (b"\x1f\x8b", "gzip"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
    ):
        if head.startswith(magic):
            inner = _peek_compressed(data, what)
            if inner is None:  # cut or damaged: it may still have been R data
                return (
                    "compressed",
                    f"a {what}-compressed file (damaged: it cannot be decompressed)",
                )
            if inner.startswith((b"RDX", b"RDA", b"RDB")):
                return "rda", f"an R data file ({what}-compressed)"
            return "other", f"a {what}-compressed file (decompress it first)"
    if head.startswith((b"RDX2", b"RDX3", b"RDA2", b"RDA3", b"RDB2", b"RDB3")):
        return "rda", "an R data file"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except Exception:  # a damaged zip still starts like one
            names = []
        if any(n.startswith("xl/") for n in names):
            return "xlsx", "an Excel .xlsx workbook"
        if not names:
            return "xlsx", "a zip archive or .xlsx workbook (damaged: it cannot be opened)"
        return "other", f"a zip archive (holding {', '.join(show(n, 40) for n in names[:3])})"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "other", "an old-format Excel .xls workbook (OLE2)"
    if head.startswith(b"PAR1"):
        return "other", "a Parquet file"
    if head.startswith(b"%PDF"):
        return "other", "a PDF document"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "other", "UTF-16 text"
    start = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html", b"<?xml")):
        page = "an HTML page" if b"html" in start[:15] else "an XML document"
        return "other", f"{page} (a download that returned a web page instead of the file?)"
    return None


def _peek_compressed(data: bytes, what: str) -> bytes | None:
    """The first bytes of a compressed file's content, or None when they cannot be read."""
    import bz2
    import gzip
    import lzma

    try:
        if what == "gzip":
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                inner = fh.read(16)
        elif what == "bzip2":  # bzip2 decodes whole blocks (up to 900 kB): give it everything
            inner = bz2.BZ2Decompressor().decompress(data, max_length=16)
        else:
            inner = lzma.LZMADecompressor().decompress(data, max_length=16)
    except Exception:  # truncated or damaged: the reader's own error says so
        return None
    return inner or None


def check_kind(src: ResolvedFile, data: bytes, expect: str) -> None:
    """Refuse a file that is plainly another format than the reader expects, naming both.

    Parameters
    ----------
    src
        The file.
    data
        Its bytes.
    expect
        ``"text"`` (CSV), ``"xlsx"`` or ``"rda"``.

    Raises
    ------
    DataFileError
        ``"<file>: is a gzip-compressed file, not a CSV text file"`` and the like.
    """
    found = sniff(data)
    kind = found[0] if found is not None else "text"
    if kind == expect or (kind == "compressed" and expect == "rda"):
        return  # (a damaged compressed file may be R data: its reader says what is wrong)
    what = found[1] if found is not None else "a text file"
    published = registry_get(src.name).filename
    fix = f"The reader expects {_EXPECTED[expect]}, the published {published!r}."
    if found is not None and "compressed" in what and expect == "text":
        fix += f" Decompress it (e.g. `gunzip {src.path.name}`) and pass the result."
    elif found is not None and found[1].startswith("UTF-16"):
        fix += " Save it as 'CSV UTF-8 (Comma delimited)'."
    elif expect == "text" and (kind == "xlsx" or "Excel" in what):
        fix += " Open it in Excel and save the sheet as 'CSV UTF-8 (Comma delimited)'."
    else:
        fix += " " + _refetch_hint(src)
    raise DataFileError(src.path, f"is {what}, not {_EXPECTED[expect]}", fix)


def _raw_bytes(src: ResolvedFile, expect: str | None = None) -> bytes:
    """The file's bytes, refusing an empty file and (with ``expect``) a file of another format."""
    data = src.path.read_bytes()
    if not data.strip():
        what = "is empty (0 bytes)" if not data else "is empty (only blank space)"
        raise DataFileError(src.path, what, _refetch_hint(src))
    if expect is not None:
        check_kind(src, data, expect)
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
        check_kind(src, data, "text")  # a binary format is named as such, not as "not UTF-8"
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
    line_end: bool = False,
) -> pd.DataFrame:
    """Read a CSV as stripped strings, checking it is non-empty, decodable, complete and has the columns.

    Values keep their text; convert with :func:`numbers` and :func:`codes`. Missing tokens are left
    as they are here (``""``, ``-``, ``*`` ...) so each column can treat them appropriately.
    ``line_end=True`` declares that the published layout ends its last line with a line end, so a
    file without one is truncated (see :func:`check_last_line` for the other signs).
    """
    text = _decode(src, _raw_bytes(src, "text"), encoding)
    if not text.strip():  # e.g. a file holding only a byte-order mark
        raise DataFileError(src.path, "is empty", _refetch_hint(src))
    lines = text.splitlines()
    if header:
        ncols = _count_fields(lines[0])
    else:
        ncols = len(names) if names is not None else _count_fields(lines[0])
    check_last_line(src, text, lines, ncols, line_end=line_end)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            header=0 if header else None,
            names=list(names) if names is not None else None,
            skipinitialspace=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise DataFileError(
            src.path, f"is not a well-formed CSV: {clip(str(exc), 200)}", _refetch_hint(src)
        ) from None
    if not src.verified and len(df) > 1:
        _check_last_value(src, text, df)
    if not src.verified:
        # numbered as an editor shows the file's lines
        _blank_lines_warning(src, lines[1:] if header else lines, 2 if header else 1)
        _odd_decimals_warning(src, df)
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
    try:
        return len(next(csv.reader([line]))) if line else 0
    except csv.Error:  # e.g. a NUL byte: the parser reports the file as malformed
        return 0


def check_last_line(
    src: ResolvedFile, text: str, lines: Sequence[str], ncols: int, *, line_end: bool = False
) -> None:
    """Refuse a text file whose last line was cut: too few fields, or a declared line end missing.

    Parameters
    ----------
    src
        The file.
    text
        Its decoded text.
    lines
        ``text.splitlines()``.
    ncols
        Fields a line has.
    line_end
        The published layout ends its last line with a line end, so a file without one is cut.

    Raises
    ------
    DataFileError
        "looks truncated", naming the last line.
    """
    if text.endswith(("\n", "\r")) or len(lines) < 2:
        return
    fields = _count_fields(lines[-1])
    if fields < ncols:
        raise DataFileError(
            src.path,
            f"looks truncated: its last line (line {len(lines)}) has {fields} of {ncols} fields "
            "and no line end",
            _refetch_hint(src),
        )
    if line_end and not src.verified:
        raise DataFileError(
            src.path,
            f"looks truncated: its last line (line {len(lines)}) has no line end, which every "
            "line of the published file has",
            _refetch_hint(src) + " If the file is complete (some tools drop the last line end), "
            "add a line end after its last line.",
        )


_SHAPE = re.compile(r"[-+]?(\d+)(?:\.(\d*))?", re.ASCII)
#: What a cut leaves of a number: a bare sign, a trailing point or an exponent without digits.
_FRAGMENT = re.compile(r"[-+]|[-+]?\d*\.|[-+]?\d+(\.\d+)?[eE][-+]?", re.ASCII)


def _check_last_value(src: ResolvedFile, text: str, df: pd.DataFrame) -> None:
    """Refuse (or warn about) a last value that may be cut, in a file without a final line end.

    A cut inside the last value leaves a complete-looking line (``2015,RVW,0`` from
    ``2015,RVW,0.95``). It is refused when the value is plainly a fragment (a bare sign, a
    trailing point, an exponent without digits), empty where no other row is, or has fewer
    decimals than every other row (or, in a column of whole numbers that all have the same
    number of digits, fewer digits). In a column of numbers, a cut cannot be ruled out otherwise
    unless the value has the column's one pattern (every row with the same number of decimals)
    or repeats another row's value, so the reader warns, naming the last row: most published
    CSVs end without a line end, and adding one to a complete file silences the warning.
    """
    if text.endswith(("\n", "\r")):
        return
    column = df.columns[-1]
    values = df[column].astype(str).str.strip()
    last, others = values.iloc[-1], values.iloc[:-1]
    named = f"its last value {show(last, 30)} (column {show(str(column), 40)})"
    problem = None
    shapes = others.str.extract(_SHAPE.pattern.join(["^", "$"]))
    numeric = bool(len(others)) and shapes[0].notna().all()
    shape = _SHAPE.fullmatch(last)
    if last == "" and (others != "").all():
        problem = f"its last value (column {show(str(column), 40)}) is empty, where no other row is"
    elif _FRAGMENT.fullmatch(last) and (numeric or others.str.fullmatch(_NUMBER.pattern).any()):
        problem = f"{named} is the start of a number, not a number"
    elif numeric and shape is not None:
        decimals = shapes[1].fillna("").str.len()
        digits = shapes[0].str.len()
        last_decimals, last_digits = len(shape.group(2) or ""), len(shape.group(1))
        if last_decimals < decimals.min():
            problem = (
                f"{named} has {last_decimals} decimal(s) where every other row has at least "
                f"{decimals.min()}"
            )
        elif (
            decimals.eq(0).all()
            and last_decimals == 0
            and digits.nunique() == 1
            and last_digits < digits.iloc[0]
        ):
            problem = (
                f"{named} has {last_digits} digit(s) where every other row has {digits.iloc[0]}"
            )
    if problem is not None:
        raise DataFileError(
            src.path,
            f"looks truncated: it has no final line end and {problem}",
            _refetch_hint(src) + " If the file is complete, add a line end after its last line.",
        )
    one_pattern = (
        numeric
        and shape is not None
        and shapes[1].fillna("").str.len().nunique() == 1
        and shapes[1].fillna("").str.len().iloc[0] > 0
    )
    if not numeric or shape is None or one_pattern or last in set(others):
        return  # (a cut label is not a wrong number, and text columns vary too much to tell)
    warnings.warn(
        f"{src.path}: has no final line end, so a cut inside {named} on line "
        f"{len(df) + 1} cannot be ruled out. Check that row against the publisher's release; "
        "if the file is complete, add a line end after its last line to silence this warning.",
        UserWarning,
        stacklevel=4,
    )


def _odd_decimals_warning(src: ResolvedFile, df: pd.DataFrame) -> None:
    """Warn about the one value of a column written with fewer decimals than all the others.

    Published numbers of one column share a format (``0.95``, ``0.80``); one row with fewer
    decimals among five or more is the trace of a lost digit (a line end written over it, a
    cut) rather than of a format, which would leave several such rows.
    """
    if len(df) < 5:
        return
    pattern = _SHAPE.pattern.join(["^", "$"])
    for column in df.columns:
        text = df[column].astype(str).str.strip()
        shapes = text.str.extract(pattern)
        if shapes[0].isna().any():
            continue  # not a column of plain numbers
        decimals = shapes[1].fillna("").str.len()
        usual = int(decimals.mode().iloc[0])
        fewer = decimals < usual
        if usual > 0 and int(fewer.sum()) == 1 and int((decimals != usual).sum()) == 1:
            i = int(np.flatnonzero(fewer.to_numpy())[0])
            warnings.warn(
                f"{src.path}: column {show(str(column), 40)} row {i + 2} holds "
                f"{show(text.iloc[i], 30)}, with {decimals.iloc[i]} decimal(s) where every other "
                f"row has {usual}: a digit may have been lost. Check it against the "
                "publisher's release.",
                UserWarning,
                stacklevel=4,
            )


def _blank_lines_warning(src: ResolvedFile, lines: Sequence[str], first_line: int = 1) -> None:
    """Warn about blank lines between rows: published files have none, damage leaves them.

    A line end written over the last character of a row (``5982`` -> ``598`` and a blank line)
    leaves a file that parses with one value cut short; the blank line is the only trace.
    """
    last = len(lines)
    while last and not lines[last - 1].strip():
        last -= 1  # blank lines at the end are harmless
    blank = [first_line + i for i, line in enumerate(lines[:last]) if not line.strip()]
    if blank:
        shown = ", ".join(map(str, blank[:5])) + (" ..." if len(blank) > 5 else "")
        warnings.warn(
            f"{src.path}: has {len(blank)} blank line(s) between rows (line {shown}); they are "
            "skipped, but a damaged file can look like this (a line end written over a digit "
            "leaves the value before it cut short): check the rows next to them against the "
            "publisher's release.",
            UserWarning,
            stacklevel=4,
        )


def require_columns(df: pd.DataFrame, required: Iterable[str], src: ResolvedFile) -> None:
    """Raise a DataFileError naming the missing columns and the ones found."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        found = ", ".join(clip(str(c), 40) for c in df.columns[:20])
        if len(df.columns) > 20:
            found += f" ... ({len(df.columns)} columns)"
        raise DataFileError(
            src.path,
            f"is missing column(s) {missing}; found: {found}",
            f"Is this the right file? The reader expects the published layout of "
            f"{registry_get(src.name).filename!r}.",
        )


def read_rda(src: ResolvedFile, object_name: str, *, required: Sequence[str]) -> pd.DataFrame:
    """Read one data frame from an R .rda/.RData file with pyreadr."""
    import pyreadr

    _raw_bytes(src, "rda")
    try:
        result = pyreadr.read_r(str(src.path))
    except Exception as exc:  # pyreadr raises LibrdataError/PyreadrError for bad files
        raise DataFileError(
            src.path,
            f"is not a readable R data file (truncated or damaged?): {clip(str(exc), 200)}",
            _refetch_hint(src),
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
    import rdata

    _raw_bytes(src, "rda")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # rdata warns once per unknown R class (sf, sfc, crs...)
            parsed = rdata.parser.parse_file(src.path)
            converted = rdata.conversion.convert(parsed, default_encoding="utf8")
    except Exception as exc:
        raise DataFileError(
            src.path,
            f"is not a readable R data file (truncated or damaged?): {clip(str(exc), 200)}",
            _refetch_hint(src),
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

    _raw_bytes(src, "xlsx")
    try:
        wb = CalamineWorkbook.from_path(str(src.path))
    except Exception as exc:  # calamine raises its own error types for zip/xml problems
        raise DataFileError(
            src.path,
            f"is not a readable .xlsx workbook (truncated or damaged?): {clip(str(exc), 200)}",
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
            src.path, f"sheet {sheet!r} cannot be read: {clip(str(exc), 200)}", _refetch_hint(src)
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

#: A number as published: ASCII digits only (``float`` would also take fullwidth and Arabic-Indic
#: digits), and never a bare trailing point (``213.`` is ``213.4`` with its last digit lost).
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?$", re.ASCII)
#: Thousands separators: a comma before every group of exactly three digits (1,234 12,345,678.5).
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$", re.ASCII)
#: Decimal commas (12,3 0,93 1,2345 1.234,5): refused, never read as thousands.
_DECIMAL_COMMA = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d*),\d+$", re.ASCII)
_INF = math.inf


def _row_label(index_value) -> str:
    if isinstance(index_value, (int, np.integer)):
        return f"row {index_value + 2}"
    return f"row {index_value}"


def numbers(
    values: pd.Series,
    src: ResolvedFile,
    column: str,
    *,
    missing: Iterable[str] = MISSING_TOKENS,
    fraction: bool = False,
) -> pd.Series:
    """Parse published numbers: quoted thousands (``"1,234"``), ``%``/``£`` signs, missing tokens.

    ``fraction=True`` declares a column of 0-1 fractions, where a ``%`` sign is refused: ``0.95%``
    would otherwise be read as 0.95, a hundred times what it says.

    Suppressed or missing values (``*``, ``-``, blank, ``..``) become NaN and stay NaN. A comma is
    a thousands separator only before groups of exactly three digits; a decimal comma (``12,3``,
    ``0,93``) raises a DataFileError that says so, as does anything else that is not a finite
    number (``abc``, ``inf``, ``nan``, ``1e400``), naming the column, rows and values.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        out = values.astype(float)
        infinite = np.isinf(out.to_numpy())
        if infinite.any():
            rows = ", ".join(f"{_row_label(i)}: {v!r}" for i, v in out[infinite].head(5).items())
            raise DataFileError(
                src.path,
                f"column {column!r} has {int(infinite.sum())} infinite value(s) ({rows})",
                "Infinity is not a value: a count, share or amount is finite. Set values that "
                "were not reported to missing (NA).",
            )
        return out
    missing = frozenset(missing)
    match = _NUMBER.fullmatch
    raw = values.to_numpy(dtype=object)
    out = np.empty(len(raw), dtype=float)
    bad: list[int] = []
    decimal_commas: list[int] = []
    infinite: list[int] = []
    percent_signs: list[int] = []
    # A plain Python loop: these columns are short, and per-value work beats pandas' per-call cost.
    nan = np.nan
    for i, v in enumerate(raw):
        kind = type(v)
        if kind is str:
            text = v.strip()
            if text in missing:
                out[i] = nan
                continue
            if match(text):
                x = float(text)
            else:
                if fraction and "%" in text:
                    percent_signs.append(i)
                    continue
                cleaned = text.replace("£", "").replace("%", "").strip()
                if cleaned[:1] == "(" and cleaned[-1:] == ")":  # accounting negative "(1,234)"
                    cleaned = "-" + cleaned[1:-1]
                if "," in cleaned:
                    if _THOUSANDS.fullmatch(cleaned):
                        cleaned = cleaned.replace(",", "")
                    elif _DECIMAL_COMMA.fullmatch(cleaned):
                        decimal_commas.append(i)
                        continue
                if not match(cleaned):
                    bad.append(i)
                    continue
                x = float(cleaned)
            if x == _INF or x == -_INF:  # e.g. "1e400": beyond the range of a float
                infinite.append(i)
                continue
            out[i] = x
        elif kind is float or kind is int:
            if v == _INF or v == -_INF:
                infinite.append(i)
            else:
                out[i] = v
        elif v is None or v is pd.NA or (isinstance(v, float) and v != v):
            out[i] = nan
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
            v, (bool, np.bool_)
        ):
            out[i] = float(v)
            if math.isinf(out[i]):
                infinite.append(i)
        else:
            bad.append(i)
    if decimal_commas:
        rows = ", ".join(
            f"{_row_label(values.index[i])}: {show(raw[i])}" for i in decimal_commas[:5]
        )
        raise DataFileError(
            src.path,
            f"column {column!r} has {len(decimal_commas)} value(s) written with a decimal comma "
            f"({rows}); read as thousands they would be 10 to 1000 times too large",
            "Convert decimal commas to points (12,3 -> 12.3), e.g. export the file with '.' as "
            "the decimal separator. Commas are read only as thousands separators (1,234).",
        )
    if percent_signs:
        rows = ", ".join(
            f"{_row_label(values.index[i])}: {show(raw[i])}" for i in percent_signs[:5]
        )
        raise DataFileError(
            src.path,
            f"column {column!r} has {len(percent_signs)} value(s) with a percent sign ({rows}); "
            "the published layout gives a fraction 0-1",
            "Write the fractions without '%' (95% -> 0.95): a percent sign cannot be read in a "
            "column of fractions without guessing which scale was meant.",
        )
    if infinite:
        rows = ", ".join(f"{_row_label(values.index[i])}: {show(raw[i])}" for i in infinite[:5])
        raise DataFileError(
            src.path,
            f"column {column!r} has {len(infinite)} value(s) beyond the range of a number "
            f"(read as infinity: {rows})",
            "A count, share or amount is finite: check these cells against the publisher's "
            "release (a misplaced exponent?); a value that was not reported should be blank.",
        )
    if bad:
        rows = ", ".join(f"{_row_label(values.index[i])}: {show(raw[i])}" for i in bad[:5])
        raise DataFileError(
            src.path,
            f"column {column!r} has {len(bad)} value(s) that are not numbers ({rows})",
            "Numbers are written with the digits 0-9 and may use thousands separators (1,234); "
            "missing or suppressed values should be blank, '-' or '*'; a number ending in a "
            "point ('213.'), 'inf' and 'nan' are not numbers: check these cells against the "
            "publisher's release.",
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
        rows = ", ".join(f"{_row_label(i)}: {show(v)}" for i, v in values[bad].head(5).items())
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
        rows = ", ".join(f"{_row_label(i)}: {show(v)}" for i, v in values[bad].head(5).items())
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
    return ", ".join(f"{_row_label(i)}: {show(v)}" for i, v in values[bad].head(limit).items())


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
