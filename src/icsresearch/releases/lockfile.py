"""The lockfile: each official release file a piece of work uses, pinned by URL, size and sha256.

``icsresearch.lock`` lives beside the user's work (the current folder, ``--lock PATH``, or
``ICSRESEARCH_LOCK``) and is meant to be committed with it, like a pip requirements file with
hashes: the first ``icsresearch data add`` trusts what it downloads and records its sha256
(trust on first use); from then on every command and reader accepts only those bytes, so a
colleague re-running the work next year reads the same files or is told they differ.

The format is TOML (read with :mod:`tomllib`; written here, strings and integers only)::

    # icsresearch.lock ...
    format = 1

    [[file]]
    collection = "rtt"
    period = "2024-04"
    layout = "full-csv-zip"
    url = "https://www.england.nhs.uk/statistics/wp-content/uploads/sites/2/2024/06/Full-CSV-data-file-Apr24-ZIP-3795K-6d1f2.zip"
    filename = "Full-CSV-data-file-Apr24-ZIP-3795K-6d1f2.zip"
    size = 3885712
    sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    landing_page = "https://www.england.nhs.uk/statistics/statistical-work-areas/rtt-waiting-times/rtt-data-2024-25/"
    added = "2025-06-01T10:12:03Z"

Entries are kept sorted by collection and period; one entry per collection and period.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

from .._atomic import atomic_write_text
from ..errors import DataFileError

#: The lockfile's name in the current folder.
LOCK_NAME = "icsresearch.lock"
#: Points at a lockfile elsewhere (the default for every command and reader).
LOCK_ENV = "ICSRESEARCH_LOCK"
FORMAT = 1
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PERIOD = re.compile(r"^\d{4}-\d{2}$")

_HEADER = """\
# icsresearch.lock: official NHS releases pinned by URL, size and sha256.
# Written by `icsresearch data add`; every reader accepts only these bytes (trust on first use).
# Commit it beside your analysis. Check with `icsresearch data lock --check`.
# Format: docs/releases.md (TOML; one [[file]] per collection and period).
"""


@dataclass(frozen=True)
class LockedFile:
    """One pinned file.

    Attributes
    ----------
    collection
        Catalogue collection (``"rtt"``).
    period
        The month it holds, ``YYYY-MM`` (for SHMI the last month of its 12-month window).
    layout
        The catalogue layout it was found by.
    url
        Where it was downloaded from.
    filename
        Its published name (the last part of the URL).
    size
        Bytes.
    sha256
        The hash every later read must match.
    landing_page
        The page the link was read from.
    added
        When it was first locked (UTC, ISO 8601).
    """

    collection: str
    period: str
    layout: str
    url: str
    filename: str
    size: int
    sha256: str
    landing_page: str
    added: str

    @property
    def label(self) -> str:
        """``"rtt 2024-04"``: how messages and provenance name it."""
        return f"{self.collection} {self.period}"


def now() -> str:
    """The current UTC time as written in ``added``."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def default_path() -> Path:
    """``ICSRESEARCH_LOCK`` if set, else ``icsresearch.lock`` in the current folder."""
    env = os.environ.get(LOCK_ENV, "").strip()
    return Path(env).expanduser() if env else Path.cwd() / LOCK_NAME


@dataclass
class Lock:
    """A lockfile's entries (it may not exist yet: then it has none).

    Attributes
    ----------
    path
        Where it is read from and saved to.
    files
        The pinned files.
    """

    path: Path
    files: list[LockedFile] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        """Whether the file is on disk."""
        return self.path.is_file()

    def get(self, collection: str, period: str) -> LockedFile | None:
        """The entry of one collection and period, or None.

        Parameters
        ----------
        collection, period
            As in :class:`LockedFile`.
        """
        for f in self.files:
            if f.collection == collection and f.period == period:
                return f
        return None

    def select(self, collection: str | None = None, periods: Iterable[str] | None = None):
        """The entries of a collection (all by default), optionally only some periods.

        Parameters
        ----------
        collection
            Catalogue collection, or None for every entry.
        periods
            Months ``YYYY-MM`` to keep; None keeps all.

        Returns
        -------
        list of LockedFile
            Sorted by collection and period.
        """
        wanted = None if periods is None else set(periods)
        return [
            f
            for f in self.files
            if (collection is None or f.collection == collection)
            and (wanted is None or f.period in wanted)
        ]

    def put(self, entry: LockedFile) -> LockedFile | None:
        """Add or replace the entry of its collection and period; return the one replaced.

        Parameters
        ----------
        entry
            The new entry.
        """
        old = self.get(entry.collection, entry.period)
        self.files = [f for f in self.files if f is not old] + [entry]
        self.files.sort(key=lambda f: (f.collection, f.period))
        return old

    def text(self) -> str:
        """The lockfile's TOML text."""
        out = [_HEADER, f"format = {FORMAT}\n"]
        for f in self.files:
            out.append("\n[[file]]\n")
            for fl in fields(LockedFile):
                value = getattr(f, fl.name)
                # a JSON string is a valid TOML basic string (same escapes)
                shown = str(value) if isinstance(value, int) else json.dumps(value)
                out.append(f"{fl.name} = {shown}\n")
        return "".join(out)

    def save(self) -> Path:
        """Write the lockfile atomically (a temporary file beside it, then a rename).

        Returns
        -------
        Path
            The lockfile.
        """
        atomic_write_text(self.path, self.text())
        return self.path


def _problem(path: Path, what: str) -> DataFileError:
    return DataFileError(
        path,
        f"is not a usable icsresearch lockfile: {what}",
        "Restore it from version control, or point --lock (ICSRESEARCH_LOCK) at the lockfile "
        "`icsresearch data add` wrote. A file that is not a lockfile is never overwritten.",
    )


def read(path: str | Path | None = None, *, must_exist: bool = False) -> Lock:
    """Read a lockfile (the default one when ``path`` is None).

    Parameters
    ----------
    path
        The lockfile; None for :func:`default_path`.
    must_exist
        Raise when there is no file (else an empty :class:`Lock` is returned).

    Returns
    -------
    Lock
        Its entries, sorted by collection and period.

    Raises
    ------
    DataFileError
        The file is missing (with ``must_exist``), is a folder, or is not a lockfile (not TOML,
        another format number, an entry with missing or malformed fields, a repeated entry).
    """
    p = Path(path).expanduser() if path is not None else default_path()
    if p.is_dir():
        raise DataFileError(
            p, "is a folder, not a lockfile", f"Pass the lockfile's path, e.g. {p / LOCK_NAME}."
        )
    if not p.exists():
        if must_exist:
            raise DataFileError(
                p,
                "does not exist",
                "Create it with `icsresearch data add COLLECTION --from YYYY-MM --to YYYY-MM`, "
                "or point --lock (ICSRESEARCH_LOCK) at an existing lockfile.",
            )
        return Lock(p)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _problem(p, f"not TOML ({exc})") from None
    if raw.get("format") != FORMAT:
        raise _problem(p, f"format is {raw.get('format')!r}, this version reads {FORMAT}")
    entries = raw.get("file", [])
    if not isinstance(entries, list):
        raise _problem(p, "'file' must be an array of tables ([[file]])")
    lock = Lock(p)
    names = [fl.name for fl in fields(LockedFile)]
    for i, e in enumerate(entries, start=1):
        missing = [n for n in names if n not in e]
        if missing:
            raise _problem(p, f"entry {i} lacks {missing}")
        values = {n: e[n] for n in names}
        if not isinstance(values["size"], int) or values["size"] < 0:
            raise _problem(p, f"entry {i} has size {values['size']!r} (bytes, a whole number)")
        if not all(isinstance(values[n], str) for n in names if n != "size"):
            raise _problem(p, f"entry {i} has a field that is not a string")
        if not _SHA256.match(values["sha256"]):
            raise _problem(p, f"entry {i} has sha256 {values['sha256']!r} (64 hex digits)")
        if not _PERIOD.match(values["period"]):
            raise _problem(p, f"entry {i} has period {values['period']!r} (YYYY-MM)")
        entry = LockedFile(**values)
        if lock.get(entry.collection, entry.period) is not None:
            raise _problem(p, f"{entry.label} is locked twice")
        lock.put(entry)
    return lock
