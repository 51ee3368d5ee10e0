"""What the release readers share: the files to read, headers found by text, tidy output.

Official releases drift: columns are added (new week bands), renamed in case or spacing, moved;
header rows sit lower or higher in a workbook; merged group cells name blocks of repeated column
names. So nothing here reads a column by position or a header at a fixed row: headers are found
by their text (:func:`norm` makes ``"Org Code"``, ``"ORG_CODE"`` and ``" org  code "`` one
text), and a header row is the first row holding every text a layout requires.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.store import ResolvedFile, sha256_of
from ..errors import DataFileError
from ..provenance import Provenance
from ..schemas import Schema, column_docs
from ..sources._base import check_values, clip, numbers, show
from . import files
from .catalogue import MONTH_NAMES
from .lockfile import Lock, LockedFile, read

_MONTH_NAMES = {m.lower(): i for i, m in enumerate(MONTH_NAMES, start=1)}
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
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types
        raise DataFileError(
            src.path, f"{name} is not a readable workbook: {clip(str(exc), 200)}", _fix(src)
        ) from None
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
