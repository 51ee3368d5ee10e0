"""Exceptions that carry a message a researcher can act on.

Every error raised for bad input names the file (or value) at fault and says how to fix it. The
command line prints these messages without a traceback. Where code decides what to do by the kind
of error (the report batch collecting unknown ICS codes, a test requiring the report kernel), the
kind is a type here, never a prefix of the message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def shorten(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters with its length said (errors never echo 100 KB).

    Parameters
    ----------
    value
        What the user gave.
    limit
        Characters of the repr kept.

    Examples
    --------
    >>> shorten("x" * 1000, 10)
    "'xxxxxxxx... (1000 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str | bytes) else len(text)
    return f"{text[: limit - 1]}... ({size} characters)"


class IcsResearchError(Exception):
    """Base class for errors whose message is meant for the user, not the developer."""


class DataFileError(IcsResearchError, ValueError):
    """A data file cannot be used: missing, malformed, truncated or of the wrong layout.

    Parameters
    ----------
    path
        The file at fault.
    problem
        What is wrong with it.
    fix
        What the user can do about it.
    """

    def __init__(self, path: str | Path, problem: str, fix: str | None = None):
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        message = f"{self.path}: {problem}"
        if fix:
            message += f"\n  Fix: {fix}"
        super().__init__(message)


class HashMismatchError(DataFileError):
    """A file's sha256 differs from the registry's: it is never used."""

    def __init__(self, path: str | Path, name: str, expected: str, actual: str, kept: Path | None):
        self.name = name
        self.expected = expected
        self.actual = actual
        self.kept = kept
        problem = (
            f"sha256 of registry file {name!r} does not match the registry.\n"
            f"  expected {expected}\n  actual   {actual}"
        )
        fix = "The file was not used."
        if kept is not None:
            fix += f" The bad copy is kept for inspection at {kept}."
        fix += (
            " Fetch it again (`icsresearch data fetch "
            f"{name}`), or, if you mean to use a newer release, pass its path to the reader "
            "(path=...) or use --source-dir, which skip the hash check."
        )
        super().__init__(path, problem, fix)


class LockedHashMismatchError(HashMismatchError):
    """A locked file's sha256 differs from the lockfile's: it is never used.

    Parameters
    ----------
    path
        The file at fault (in the cache, the mirror, or a fresh download).
    entry
        Its lockfile entry (:class:`icsresearch.releases.lockfile.LockedFile`).
    actual
        The sha256 of the bytes found.
    kept
        Where the bad copy was set aside (None when it was not).
    lock_path
        The lockfile.
    downloaded
        True when the bytes came from the locked URL just now (the publisher changed them).
    """

    def __init__(
        self,
        path: str | Path,
        entry: Any,
        actual: str,
        kept: Path | None,
        lock_path: Path,
        downloaded: bool = False,
    ):
        self.name = entry.label
        self.expected = entry.sha256
        self.actual = actual
        self.kept = kept
        self.entry = entry
        where = (
            f"the file at {entry.url} has changed since it was locked"
            if downloaded
            else f"sha256 of {entry.label} ({entry.filename}) does not match the lockfile"
        )
        problem = f"{where} ({lock_path}).\n  expected {entry.sha256}\n  actual   {actual}"
        fix = "The file was not used."
        if kept is not None:
            fix += f" The bad copy is kept for inspection at {kept}."
        if downloaded:
            fix += (
                " If the publisher revised it on purpose, pin the new version with `icsresearch "
                f"data add {entry.collection} --from {entry.period} --to {entry.period} --update "
                f"--lock {lock_path}` and commit the lockfile; results made from the old bytes "
                "will differ."
            )
        else:
            fix += (
                f" Fetch it again: `icsresearch data fetch --lock {lock_path}` (online, or with "
                "ICSRESEARCH_MIRROR set)."
            )
        DataFileError.__init__(self, path, problem, fix)


class DataUnavailableError(IcsResearchError):
    """Files are not cached and cannot be fetched (offline, strict mode, or network failure)."""


class UnknownDatasetError(IcsResearchError, KeyError):
    """A registry name that does not exist."""

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0])


class InvalidParameterError(IcsResearchError, ValueError):
    """A parameter value outside the allowed set (an unknown ICS code, footprint, source...)."""


class UnknownCodeError(InvalidParameterError):
    """ICS (ICB) codes that are not systems of the footprint and data source asked for.

    The report batch catches this type for each requested code and raises one error naming
    every unknown code of the request.

    Parameters
    ----------
    codes
        The unknown codes, as given.
    footprint
        The footprint they were looked up in (2022 or 2026).
    source
        ``"demo"`` or ``"real"``.
    message
        The full message (it lists the valid codes).
    """

    def __init__(self, codes: tuple[str, ...], footprint: int, source: str, message: str):
        self.codes = tuple(codes)
        self.footprint = footprint
        self.source = source
        super().__init__(message)

    def __reduce__(self):  # travels intact between processes (a Dask worker, a kernel)
        return (type(self), (self.codes, self.footprint, self.source, str(self)))


class KernelError(IcsResearchError):
    """The Jupyter kernel a notebook runs on is not registered, is broken, or failed to set up.

    The message says how to (re-)register it (``python -m ipykernel install --sys-prefix --name
    icsresearch``, which ``make install`` runs).
    """


class ReplicationError(IcsResearchError):
    """A replication notebook failed or wrote no outputs; the message names the cell and error."""


class OutputPathError(InvalidParameterError):
    """An output location the workbench cannot or must not write to.

    Raised before anything is written: the path is a file where a folder is needed (or the
    reverse), a folder is read-only, or a name the output would take already holds something the
    workbench did not write (a user's own file or folder is never deleted or overwritten).

    Parameters
    ----------
    path
        The path at fault.
    problem
        What is wrong with it.
    fix
        What the user can do about it.
    option
        The option that named the path (``"--out"``), or ``None`` when it came from code.
    """

    def __init__(self, path: str | Path, problem: str, fix: str, option: str | None = "--out"):
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        self.option = option
        where = f"{option} {self.path}" if option else str(self.path)
        super().__init__(f"{where}: {problem}\n  Fix: {fix}")

    def __reduce__(self):  # travels intact between processes (a Dask worker)
        return (type(self), (self.path, self.problem, self.fix, self.option))


class OutputConflictError(OutputPathError):
    """Names an output would take hold files or folders the workbench did not write.

    Parameters
    ----------
    path
        The output folder.
    names
        The names taken by something else (relative to ``path``).
    fix
        What the user can do about it.
    option
        The option that named the folder.
    """

    def __init__(
        self, path: str | Path, names: tuple[str, ...], fix: str, option: str | None = "--out"
    ):
        self.names = tuple(names)
        shown = ", ".join(self.names[:8]) + (
            f" and {len(self.names) - 8} more" if len(self.names) > 8 else ""
        )
        problem = (
            f"{shown} already exist{'s' if len(self.names) == 1 else ''} and "
            f"{'was' if len(self.names) == 1 else 'were'} not written by icsresearch (they are "
            "not in its record of outputs, .icsresearch-outputs.json); nothing was changed"
        )
        super().__init__(path, problem, fix, option)

    def __reduce__(self):
        return (type(self), (self.path, self.names, self.fix, self.option))
