"""Exceptions that carry a message a researcher can act on.

Every error raised for bad input names the file (or value) at fault and says how to fix it. The
command line prints these messages without a traceback.
"""

from __future__ import annotations

from pathlib import Path


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


class DataUnavailableError(IcsResearchError):
    """Files are not cached and cannot be fetched (offline, strict mode, or network failure)."""


class UnknownDatasetError(IcsResearchError, KeyError):
    """A registry name that does not exist."""

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0])


class InvalidParameterError(IcsResearchError, ValueError):
    """A parameter value outside the allowed set (an unknown ICS code, footprint, source...)."""
