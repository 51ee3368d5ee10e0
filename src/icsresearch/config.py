"""Where files live: cache, mirror and strict (offline) mode, all overridable by environment.

Environment variables
---------------------
ICSRESEARCH_CACHE
    Cache directory for fetched files and built panels. Default: the OS cache
    (``~/.cache/icsresearch`` on Linux).
ICSRESEARCH_MIRROR
    A folder laid out like the published sources (``<repo>/<path>``); files are copied from it into
    the cache after their sha256 is checked, so no network is needed.
ICSRESEARCH_OFFLINE
    ``1``/``true``: strict mode, never go to the network (CI sets this).

A cache or mirror that cannot be used (a file where a folder should be, a folder that cannot be
written, a mirror that is missing or empty) raises :class:`~icsresearch.errors.DataFileError`
naming the variable, the path and the fix, never an ``OSError`` from deep inside a copy.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import DataFileError

CACHE_ENV = "ICSRESEARCH_CACHE"
MIRROR_ENV = "ICSRESEARCH_MIRROR"
OFFLINE_ENV = "ICSRESEARCH_OFFLINE"

_TRUE = {"1", "true", "yes", "on"}


def _default_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "icsresearch").resolve()


def _cache_fix(path: Path) -> str:
    return (
        f"Point {CACHE_ENV} at a folder you can write to (for example "
        f"`export {CACHE_ENV}=~/.cache/icsresearch`), or unset it to use the default "
        f"{_default_cache()}; to keep {path}, make it a writable folder."
    )


def cache_dir() -> Path:
    """The cache directory (``ICSRESEARCH_CACHE``, else the OS cache); it may not exist yet.

    Raises
    ------
    DataFileError
        The path exists and is not a folder.
    """
    env = os.environ.get(CACHE_ENV)
    path = Path(env).expanduser().resolve() if env else _default_cache()
    if path.exists() and not path.is_dir():
        setting = f"{CACHE_ENV}={env}" if env else "the default cache folder"
        raise DataFileError(path, f"is a file, not a folder ({setting})", _cache_fix(path))
    return path


def writable_cache_folder(folder: Path) -> Path:
    """Create ``folder`` inside the cache if needed and check a file can be written there.

    The check writes and removes a small file, so it holds for read-only disks, access lists and
    the superuser alike (a permission bit says less than a write does).

    Parameters
    ----------
    folder
        A folder inside :func:`cache_dir` (or the cache itself).

    Returns
    -------
    Path
        ``folder``, ready for writing.

    Raises
    ------
    DataFileError
        The folder cannot be created or written; the message names ``ICSRESEARCH_CACHE``.
    """
    root = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check-", dir=folder)
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        where = "" if folder == root else f" (at {folder})"
        raise DataFileError(
            root,
            f"the cache folder ({CACHE_ENV}) cannot be written: {reason}{where}",
            _cache_fix(root),
        ) from None
    return folder


def mirror_dir() -> Path | None:
    """The offline mirror directory, or None when ``ICSRESEARCH_MIRROR`` is unset.

    Raises
    ------
    DataFileError
        ``ICSRESEARCH_MIRROR`` is set but names something that is not a usable folder: missing,
        a file, unreadable or empty (a mistyped path is said to be so, not taken for a mirror
        that lacks every file).
    """
    env = os.environ.get(MIRROR_ENV)
    if not env:
        return None
    path = Path(env).expanduser().resolve()
    fix = (
        f"Point {MIRROR_ENV} at the folder laid out like the published sources (it holds "
        f"`sources.csv` and one folder per source repository, e.g. "
        f"`export {MIRROR_ENV}=../shared/data`), or unset it to download the files."
    )
    if not path.exists():
        raise DataFileError(path, f"does not exist ({MIRROR_ENV}={env})", fix)
    if not path.is_dir():
        raise DataFileError(path, f"is not a folder ({MIRROR_ENV}={env})", fix)
    try:
        empty = next(path.iterdir(), None) is None
    except OSError as exc:
        raise DataFileError(
            path, f"cannot be read ({MIRROR_ENV}={env}): {exc.strerror or exc}", fix
        ) from None
    if empty:
        raise DataFileError(path, f"is empty ({MIRROR_ENV}={env})", fix)
    return path


def offline() -> bool:
    """True in strict mode: never download."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in _TRUE
