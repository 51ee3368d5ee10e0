"""What the release readers share: the files to read, headers found by text, tidy output.

Official releases drift: columns are added (new week bands), renamed in case or spacing, moved;
header rows sit lower or higher in a workbook; merged group cells name blocks of repeated column
names. So nothing here reads a column by position or a header at a fixed row: headers are found
by their text (:func:`norm` makes ``"Org Code"``, ``"ORG_CODE"`` and ``" org  code "`` one
text), and a header row is the first row holding every text a layout requires.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.store import ResolvedFile, sha256_of
from ..errors import DataFileError
from ..provenance import Provenance
from ..schemas import Column, Schema, column_docs
from ..sources._base import check_values, clip, numbers, show
from . import files
from .catalogue import MONTH_NAMES
from .lockfile import Lock, LockedFile, read

_MONTH_NAMES = {m.lower(): i for i, m in enumerate(MONTH_NAMES, start=1)}
#: An ODS code of an organisation (trusts: 3 characters; sites and others up to 5).
ODS = re.compile(r"^[A-Z0-9]{3,5}$")
_MONTH_IN_TEXT = re.compile(r"([A-Za-z]{3,9})[\s_-]*(\d{4}|\d{2})\b")


def norm(text: object) -> str:
    """A header's text for matching: lower case, ``_`` as space, whitespace collapsed.

    Parameters
    ----------
    text
        A header cell.

    Examples
    --------
    >>> norm(" PROVIDER_CODE\\n")
    'provider code'
    """
    return " ".join(str(text if text is not None else "").replace("_", " ").lower().split())


def month_in(text: str) -> str | None:
    """The month a label names (``"RTT-April-2024"``, ``"MSitAE-APRIL-2024"``, ``"Apr24"``).

    Parameters
    ----------
    text
        A period label.

    Returns
    -------
    str or None
        ``YYYY-MM``, or None when no month name and year are found.

    Examples
    --------
    >>> month_in("RTT-April-2024"), month_in("MSitAE-APRIL-2019"), month_in("nothing")
    ('2024-04', '2019-04', None)
    """
    for word, year in _MONTH_IN_TEXT.findall(str(text)):
        w = word.lower()
        month = _MONTH_NAMES.get(w) or next(
            (i for name, i in _MONTH_NAMES.items() if len(w) == 3 and name.startswith(w)), None
        )
        if month:
            y = int(year) if len(year) == 4 else 2000 + int(year)
            return f"{y:04d}-{month:02d}"
    return None


def month_columns(period: str = "First day of the month.") -> tuple[Column, Column]:
    """The ``period`` and ``year`` columns of a monthly reader's schema.

    Parameters
    ----------
    period
        What the period's date is (its description).
    """
    return (
        Column("period", "Month", "date", period),
        Column("year", "Financial year", "FY start", "Financial year start of the month."),
    )


def month_of(period: object, month: object = None) -> str | None:
    """The month a (period, month) pair of cells names, ``YYYY-MM``, or None.

    ``period`` may be a date cell, a date or month written out (``"2023-04-01"``, ``"APR-2023"``),
    or a financial year (``"2023-24"``) that ``month`` (``"JAN"``) places: January of 2023-24 is
    2024-01.

    Parameters
    ----------
    period
        The period cell.
    month
        A month-name cell beside it, or None.

    Examples
    --------
    >>> month_of("2023-24", "JAN"), month_of("2023-04-01"), month_of("APR-2023")
    ('2024-01', '2023-04', '2023-04')
    """
    if isinstance(period, _dt.date):
        return period.strftime("%Y-%m")
    text = str(period if period is not None else "").strip()
    fy = re.match(r"^(\d{4})\s*[-/]\s*(\d{2}|\d{4})$", text)
    if fy and month is not None:
        m = month_in(f"{month} 2000")
        if m:
            mm = int(m[5:])
            return f"{int(fy[1]) + (mm < 4)}-{mm:02d}"
    iso = re.match(r"^(\d{4})-(\d{2})(-\d{2})?([ T].*)?$", text)
    if iso and 1 <= int(iso[2]) <= 12:
        return f"{iso[1]}-{iso[2]}"
    return month_in(f"{month} {text}" if month is not None else text) or month_in(text)


#: What every release reader's ``lock`` parameter is.
LOCK_DOC = (
    "The lockfile (default ``icsresearch.lock`` in the current folder, or ``ICSRESEARCH_LOCK``); "
    "only the bytes it pins are read."
)
_LOCKED_RAISES = (
    ("LockedHashMismatchError", "A locked file's bytes differ from the lockfile's sha256."),
    ("DataUnavailableError", "Locked files that are not here and cannot be fetched."),
)


def documented(*, periods: str | None = None, path: str | None = None):
    """Give a release reader the numpydoc sections every reader shares.

    A ``Parameters`` section (``lock``, and ``periods`` and ``path`` when given) is put before
    the docstring's ``Returns``, and the locked files' errors are added to its ``Raises``, so
    each reader's docstring says only what is its own.

    Parameters
    ----------
    periods
        What the reader's ``periods`` are (None: it takes no ``periods``).
    path
        What the reader's ``path`` reads (None: it takes no ``path``).
    """

    def wrap(text: str, indent: int) -> str:
        import textwrap

        pad = " " * indent
        return "\n".join(
            textwrap.wrap(text, 96 - indent, initial_indent=pad, subsequent_indent=pad)
        )

    params = [("lock", LOCK_DOC), ("periods", periods), ("path", path)]
    section = "    Parameters\n    ----------\n" + "".join(
        f"    {p}\n{wrap(doc, 8)}\n" for p, doc in params if doc is not None
    )
    raises = "".join(f"    {e}\n{wrap(doc, 8)}\n" for e, doc in _LOCKED_RAISES)

    def apply(fn):
        doc = fn.__doc__ or ""
        head, returns, rest = doc.partition("    Returns\n")
        doc = f"{head}{section}\n{returns}{rest}" if returns else f"{doc.rstrip()}\n\n{section}"
        if "    Raises\n    ------\n" in doc:
            before, sep, after = doc.partition("    Raises\n    ------\n")
            entries, gap, tail = after.partition("\n\n")
            doc = f"{before}{sep}{entries.rstrip()}\n{raises.rstrip()}{gap}{tail}"
        else:
            doc = f"{doc.rstrip()}\n\n    Raises\n    ------\n{raises}"
        fn.__doc__ = doc.rstrip() + "\n    "
        return fn

    return apply


def locked_periods(
    collection: str, lock: str | Path | Lock | None, month: str | None = None
) -> tuple[Lock, list[str]]:
    """The lockfile and its periods of ``collection`` (only those of calendar month ``month``).

    Parameters
    ----------
    collection
        Catalogue collection.
    lock
        The lockfile, a read :class:`Lock`, or None for the default one (none there: no periods).
    month
        ``"03"`` keeps the March periods; None keeps all.
    """
    book = lock if isinstance(lock, Lock) else read(lock)
    periods = [e.period for e in book.select(collection) if month in (None, e.period[5:])]
    return book, periods


def empty(columns: Sequence[str]) -> pd.DataFrame:
    """A table with these columns and no rows (what a trust-year table is without locked files).

    Parameters
    ----------
    columns
        Its columns.
    """
    return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})


# --- which files ------------------------------------------------------------------------------


def locked_sources(
    collection: str,
    lock: str | Path | Lock | None,
    periods: Iterable[str] | None,
    path: str | Path | None,
) -> list[tuple[LockedFile | None, ResolvedFile]]:
    """The files a reader reads: the locked ones (hash-checked) or one user-supplied ``path``.

    Parameters
    ----------
    collection
        Catalogue collection.
    lock
        The lockfile (or a read :class:`Lock`); None for the default one.
    periods
        Months to read (``YYYY-MM``); None reads every locked period of the collection.
    path
        A file in the published layout to read instead, without any hash check.

    Raises
    ------
    DataFileError
        No lockfile, or it locks no file of the collection (for the periods asked).
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise DataFileError(
                p, "does not exist", "Check the path, or omit it to read the lockfile's files."
            )
        return [(None, ResolvedFile(p, f"{collection} (user-supplied)", sha256_of(p), False))]
    book = lock if isinstance(lock, Lock) else read(lock, must_exist=True)
    wanted = None if periods is None else list(periods)
    entries = book.select(collection, wanted)
    if not entries:
        asked = f" for {', '.join(wanted)}" if wanted else ""
        raise DataFileError(
            book.path,
            f"locks no {collection} file{asked}",
            f"Add them: `icsresearch data add {collection} --from YYYY-MM --to YYYY-MM "
            f"--lock {book.path}`.",
        )
    return [(e, r) for e, r in files.read_locked(entries, book.path)]


def parse_all(
    collection: str,
    lock: str | Path | Lock | None,
    periods: Iterable[str] | None,
    path: str | Path | None,
    parse: Callable[[ResolvedFile, str | None], pd.DataFrame],
) -> tuple[pd.DataFrame, list[ResolvedFile]]:
    """Every file of :func:`locked_sources` parsed by ``parse(file, locked period or None)``.

    Parameters
    ----------
    collection, lock, periods, path
        As for :func:`locked_sources`.
    parse
        One file's parser: its table, given the file and the period it is locked as.

    Returns
    -------
    tuple
        The tables one after the other, and the files read.
    """
    parts, used = [], []
    for entry, src in locked_sources(collection, lock, periods, path):
        parts.append(parse(src, None if entry is None else entry.period))
        used.append(src)
    return pd.concat(parts, ignore_index=True), used


def payload(src: ResolvedFile, member: Callable[[str], bool]) -> tuple[str, bytes]:
    """The bytes to parse: the file itself, or the first member of a zip that ``member`` accepts.

    Parameters
    ----------
    src
        The file.
    member
        Which member names of a zip to take (e.g. names ending in ``.csv``).

    Returns
    -------
    tuple
        The name read (the file's or the member's) and its bytes.
    """
    data = src.path.read_bytes()
    if not data.strip():
        raise DataFileError(src.path, "is empty", _fix(src))
    if not data.startswith(b"PK\x03\x04"):
        return src.path.name, data
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise DataFileError(src.path, f"is a damaged zip archive ({exc})", _fix(src)) from None
    if any(n.startswith("xl/") for n in names):
        return src.path.name, data  # an .xlsx workbook is a zip too
    chosen = [n for n in names if not n.endswith("/") and member(n)]
    if not chosen:
        raise DataFileError(
            src.path,
            f"holds no file the reader can read ({', '.join(show(n, 50) for n in names[:5])})",
            _fix(src),
        )
    try:
        return chosen[0], zf.read(chosen[0])
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataFileError(
            src.path, f"member {chosen[0]!r} cannot be read ({exc})", _fix(src)
        ) from None


def _fix(src: ResolvedFile) -> str:
    if src.verified:
        return "Fetch it again: `icsresearch data fetch --lock` (its hash is checked)."
    return "Download the published file again, or read the lockfile's copy (omit path=)."


def csv_table(src: ResolvedFile, name: str, data: bytes) -> pd.DataFrame:
    """A CSV's cells as stripped strings (UTF-8 with or without BOM, else Windows-1252).

    Parameters
    ----------
    src
        The file (named in errors).
    name
        The file or zip member read.
    data
        Its bytes.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # NHS England's older exports
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(
            src.path, f"{name} is not a well-formed CSV: {clip(str(exc), 200)}", _fix(src)
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    for c in df.columns:
        df[c] = df[c].str.strip()
    return df


def _workbook(src: ResolvedFile, name: str, data: bytes):
    """The workbook (calamine reads .xls and .xlsx), or one error naming the file."""
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types
        raise DataFileError(
            src.path, f"{name} is not a readable workbook: {clip(str(exc), 200)}", _fix(src)
        ) from None


def excel_grid(src: ResolvedFile, name: str, data: bytes, sheet: str) -> list[list[object]]:
    """The cells of one sheet of an .xls or .xlsx workbook (calamine reads both).

    Parameters
    ----------
    src
        The file.
    name
        The file or zip member read.
    data
        Its bytes.
    sheet
        The sheet's name; matched ignoring case and surrounding spaces.
    """
    wb = _workbook(src, name, data)
    by_text = {norm(s): s for s in wb.sheet_names}
    if norm(sheet) not in by_text:
        raise DataFileError(
            src.path, f"{name} has no sheet {sheet!r}; sheets: {wb.sheet_names}", _fix(src)
        )
    return wb.get_sheet_by_name(by_text[norm(sheet)]).to_python()


def header_row(
    src: ResolvedFile, grid: Sequence[Sequence[object]], required: Sequence[str], within: int = 60
) -> int:
    """The index of the first row holding every text of ``required`` (compared with :func:`norm`).

    Parameters
    ----------
    src
        The file.
    grid
        The sheet's rows.
    required
        Header texts the row must hold (normalised).
    within
        How many rows to look through.

    Raises
    ------
    DataFileError
        No such row: the message lists what was looked for.
    """
    need = {norm(r) for r in required}
    for i, row in enumerate(grid[:within]):
        if need <= {norm(v) for v in row}:
            return i
    raise DataFileError(
        src.path,
        f"has no header row holding {sorted(need)} in its first {within} rows",
        "The reader finds the header by its text; if the publisher renamed these columns, the "
        "catalogue's layout needs updating (docs/releases.md).",
    )


def forward_filled(row: Sequence[object]) -> list[str]:
    """A group-header row with each merged cell's text carried right over the empty cells.

    Parameters
    ----------
    row
        The cells of the row above the header (merged cells hold their text in the first cell).
    """
    out, last = [], ""
    for v in row:
        text = norm(v)
        if text:
            last = text
        out.append(last)
    return out


@dataclass
class Sheet:
    """One table of a workbook sheet, its header row found by text.

    Attributes
    ----------
    name
        The sheet's name.
    headers
        The header row's cells, normalised (:func:`norm`).
    groups
        The row above the header with merged group cells carried right
        (:func:`forward_filled`); empty texts when there is none.
    body
        The rows below the header, columns numbered as ``headers``.
    preamble
        The text of each row above the header (titles, "Period: ...").
    """

    name: str
    headers: list[str]
    groups: list[str]
    body: pd.DataFrame
    preamble: list[str]


def sheet_table(
    src: ResolvedFile,
    name: str,
    data: bytes,
    sheets: str | Sequence[str],
    required: Sequence[str],
    *,
    within: int = 60,
) -> Sheet:
    """The first of ``sheets`` (names or regexes on :func:`norm` names) holding ``required``.

    Parameters
    ----------
    src, name, data
        The file, the name read (the file's or its zip member's) and its bytes.
    sheets
        One sheet name, or patterns tried in order against every sheet's normalised name
        (``r"org.*fte$"``); a workbook's other sheets are never read.
    required
        Header texts the header row must hold (regexes, searched in each normalised cell, all
        in one row).
    within
        How many rows to look through for the header.

    Raises
    ------
    DataFileError
        No such sheet, or none of them has a header row holding every text required.
    """
    if isinstance(sheets, str):
        grid = excel_grid(src, name, data, sheets)
        candidates = [(sheets, grid)]
    else:
        wb = _workbook(src, name, data)
        names = [s for rx in sheets for s in wb.sheet_names if re.search(rx, norm(s))]
        candidates = [(s, wb.get_sheet_by_name(s).to_python()) for s in dict.fromkeys(names)]
    need = [re.compile(r) for r in required]
    for sheet, grid in candidates:
        for i, row in enumerate(grid[:within]):
            cells = [norm(v) for v in row]
            if all(any(rx.search(c) for c in cells) for rx in need):
                width = max(len(r) for r in grid)
                rows = [list(r) + [None] * (width - len(r)) for r in grid]
                return Sheet(
                    name=sheet,
                    headers=[norm(v) for v in rows[i]],
                    groups=forward_filled(rows[i - 1]) if i > 0 else [""] * width,
                    body=pd.DataFrame(rows[i + 1 :], dtype=object),
                    preamble=[" ".join(str(v) for v in r if v not in (None, "")) for r in rows[:i]],
                )
    shown = ", ".join(s for s, _ in candidates) or "none of the sheets looked for"
    raise DataFileError(
        src.path,
        f"{name}: no sheet ({shown}) has a header row holding {list(required)} in its first "
        f"{within} rows",
        "The reader finds the sheet and its header by their text; if the publisher renamed "
        "them, the catalogue's layout needs updating (docs/releases.md).",
    )


def provider_rows(
    src: ResolvedFile, codes_raw: pd.Series, names: pd.Series, values: pd.DataFrame
) -> pd.Series:
    """Organisation rows: an ODS code; England, totals, blank, region and footnote rows dropped.

    A row with counts but no code (a shifted column) is refused rather than dropped.

    Parameters
    ----------
    src
        The file.
    codes_raw, names
        The code and name columns.
    values
        The columns holding the counts (to tell a footnote from a row that lost its code).
    """
    code = codes_raw.astype("string").str.strip().str.upper().fillna("")
    name = names.astype("string").fillna("").str.strip().str.lower()
    ods = code.str.fullmatch(ODS.pattern).fillna(False)
    totals = (
        name.str.startswith(("england", "total"))
        | code.isin(["", "-", "ENGLAND", "TOTAL", "ENG"])
        | code.str.fullmatch(r"Y\d\d").fillna(False)  # NHS England regions
    )
    has_numbers = values.apply(
        lambda c: c.map(
            lambda v: (
                isinstance(v, (int, float))
                and not isinstance(v, bool)
                and v == v
                or bool(re.match(r"^\d", str(v)))
            )
        )
    ).any(axis=1)
    stray = ~ods & ~totals & has_numbers
    if stray.any():
        i = stray[stray].index[0]
        raise DataFileError(
            src.path,
            f"has {int(stray.sum())} row(s) with counts but no organisation code "
            f"(e.g. {show(codes_raw[i])} {show(names[i])})",
            "Organisation rows start with their ODS code; check the sheet is the published one.",
        )
    return (ods & ~totals).astype(bool)


def one_month(src: ResolvedFile, name: str, labels: Iterable[object], expect: str | None) -> str:
    """The one month a file's labels name, checked against the period it is locked as.

    Parameters
    ----------
    src
        The file.
    name
        The file or zip member read.
    labels
        Period labels or title lines (``"MSitAE-APRIL-2024"``, ``"Period: April 2024"``).
    expect
        The locked period, or None for a user-supplied file.

    Raises
    ------
    DataFileError
        Several months, none (and no lock to tell), or another month than locked.
    """
    found = sorted({m for m in map(month_of, labels) if m})
    if len(found) > 1:
        raise DataFileError(
            src.path,
            f"{name} holds several months ({', '.join(found)})",
            "Each file of this collection holds one period; read each period's file.",
        )
    month = found[0] if found else expect
    if month is None:
        raise DataFileError(
            src.path, f"{name} names no month", "Pass the lockfile's copy, which knows its month."
        )
    if expect is not None and month != expect:
        raise DataFileError(
            src.path,
            f"{name} holds {month}, but it is locked as {expect}",
            "The lockfile's period and the file disagree: re-add the period with --update.",
        )
    return month


_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$")


def seconds(values: pd.Series, src: ResolvedFile, what: str, *, unit: str = "day") -> pd.Series:
    """Durations as seconds: Excel times and durations, ``h:mm:ss`` / ``m:ss`` text, or numbers.

    Parameters
    ----------
    values
        The cells.
    src
        The file.
    what
        The column, for the error.
    unit
        What a plain number counts: ``"day"`` (an Excel time stored as a fraction of a day),
        ``"second"``, ``"minute"`` or ``"hour"``.

    Raises
    ------
    DataFileError
        A cell that is none of these.
    """
    scale = {"day": 86400.0, "hour": 3600.0, "minute": 60.0, "second": 1.0}[unit]
    out, bad = [], []
    for v in values:
        if isinstance(v, _dt.timedelta):
            out.append(v.total_seconds())
        elif isinstance(v, _dt.time):
            out.append(v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v) * scale)
        else:
            text = "" if v is None else str(v).strip()
            m = _CLOCK.match(text)
            if m:
                h = int(m[1]) if m[1] is not None else 0
                out.append(h * 3600 + int(m[2]) * 60 + float(m[3]))
            elif text in ("", "-", "*", ".", "..", "n/a", "N/A"):
                out.append(np.nan)
            else:
                out.append(np.nan)
                bad.append(f"{show(v)}")
    if bad:
        raise DataFileError(
            src.path,
            f"column {what!r} has {len(bad)} value(s) that are not durations ({', '.join(bad[:5])})",
            "Durations are Excel times, 'h:mm:ss' text or numbers; check the column is the "
            "published one.",
        )
    return pd.Series(out, index=values.index, dtype=float)


def column(
    src: ResolvedFile, headers: Sequence[str], pattern: str, *, what: str, required: bool = True
) -> int | None:
    """The index of the first header matching ``pattern`` (a regex on :func:`norm` text).

    Parameters
    ----------
    src
        The file.
    headers
        The normalised headers.
    pattern
        Regular expression, searched.
    what
        What the column holds, for the error.
    required
        Raise when absent (else return None).
    """
    rx = re.compile(pattern)
    for i, h in enumerate(headers):
        if rx.search(h):
            return i
    if required:
        raise DataFileError(
            src.path,
            f"has no column for {what} (a header matching /{pattern}/); headers: "
            f"{clip(', '.join(h for h in headers if h), 300)}",
            "The reader finds columns by their text; if the publisher renamed this one, the "
            "reader needs updating (docs/releases.md).",
        )
    return None


def counts(values: pd.Series, src: ResolvedFile, what: str) -> pd.Series:
    """Non-negative whole counts; ``-``, ``*`` and blanks stay missing.

    Parameters
    ----------
    values
        The column's cells.
    src
        The file.
    what
        The column, for the error.
    """
    num = numbers(values.reset_index(drop=True), src, what)
    bad = num.notna() & ((num < 0) | (num != np.floor(num)))
    if bad.any():
        shown = ", ".join(f"{show(v)}" for v in values.reset_index(drop=True)[bad].head(5))
        raise DataFileError(
            src.path,
            f"column {what!r} has {int(bad.sum())} value(s) that are not whole counts >= 0 ({shown})",
            "Counts of patients are whole numbers; check the column is the published one.",
        )
    return num.set_axis(values.index)


def finish(
    df: pd.DataFrame,
    schema: Schema,
    sources: Sequence[ResolvedFile],
    *,
    sort: Sequence[str],
) -> pd.DataFrame:
    """Order, check and document a reader's table; attach the provenance of every file read.

    Parameters
    ----------
    df
        The table (every column of ``schema``).
    schema
        Its documentation (bounds are checked; the key must be unique).
    sources
        The files read.
    sort
        Columns to sort by.
    """
    out = df[schema.names].sort_values(list(sort), kind="stable").reset_index(drop=True)
    where = sources[0].path if len(sources) == 1 else f"{len(sources)} files"
    if schema.key:
        dup = out.duplicated(list(schema.key), keep=False)
        if dup.any():
            first = out[dup].iloc[0]
            raise DataFileError(
                where,
                f"repeat the key {list(schema.key)} in {int(dup.sum())} rows, e.g. "
                + ", ".join(f"{k}={first[k]}" for k in schema.key),
                "Each file should hold each key once; check two files are not the same period.",
            )
    check_values(out, schema, where)
    inputs = [s.input_file() for s in sources]
    out.attrs = {
        "source": schema.dataset,
        "verified": all(s.verified for s in sources),
        "year_convention": schema.year_convention,
        "columns": column_docs(schema),
        "provenance": Provenance(synthetic=False, inputs=tuple(inputs)),
    }
    return out
