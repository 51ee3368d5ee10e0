"""Locked files on this machine: the cache, the mirror, a download, and the sha256 check.

A locked file is looked for, in order, in

1. the cache: ``<ICSRESEARCH_CACHE>/releases/<collection>/<period>/<filename>``;
2. the mirror: ``<ICSRESEARCH_MIRROR>/releases/<collection>/<period>/<filename>`` (or without the
   period folder), copied into the cache after the hash check; a cache's ``releases/`` folder is
   a mirror as it is;
3. its locked URL (never in strict offline mode, ``ICSRESEARCH_OFFLINE=1``).

Exactly as for the registry, bytes whose sha256 differs from the lockfile's are never used: the
error names the file and both hashes, and the bad copy is set aside in
``<cache>/_rejected/releases/``. A file that changed on the publisher's server after it was
locked is refused the same way: re-pin it on purpose with ``icsresearch data add ... --update``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .. import config
from ..data.store import ResolvedFile, note_read, sha256_of
from ..errors import DataFileError, DataUnavailableError, LockedHashMismatchError
from . import _net
from .lockfile import LockedFile

_REJECTED = Path("_rejected") / "releases"


def cached_path(entry: LockedFile) -> Path:
    """Where a locked file lives in the cache (it may not exist yet).

    Parameters
    ----------
    entry
        Its lockfile entry.
    """
    return config.cache_dir() / "releases" / entry.collection / entry.period / entry.filename


def _mirror_candidates(entry: LockedFile) -> list[Path]:
    mirror = config.mirror_dir()
    if mirror is None:
        return []
    base = mirror / "releases" / entry.collection
    return [base / entry.period / entry.filename, base / entry.filename]


def _in_mirror(entry: LockedFile) -> Path | None:
    return next((p for p in _mirror_candidates(entry) if p.is_file()), None)


def _reject(bad: Path, entry: LockedFile, actual: str, *, move: bool) -> Path:
    folder = config.writable_cache_folder(config.cache_dir() / _REJECTED)
    dest = folder / f"{entry.collection}.{entry.period}.{entry.filename}.{actual[:12]}"
    if move:
        shutil.move(bad, dest)
    else:
        shutil.copyfile(bad, dest)
    return dest


def _check(path: Path, entry: LockedFile, lock_path: Path, *, owned: bool, downloaded=False):
    actual = sha256_of(path)
    if actual != entry.sha256:
        kept = _reject(path, entry, actual, move=owned)
        raise LockedHashMismatchError(path, entry, actual, kept, lock_path, downloaded)


def install(src: Path, dest: Path, *, move: bool = True) -> None:
    """Move (or copy) ``src`` to ``dest`` in the cache atomically: a temporary name, then a rename.

    Parameters
    ----------
    src
        The verified file.
    dest
        Its place in the cache (:func:`cached_path`).
    move
        Move the file (a download); False copies it (a mirror's file stays where it is).
    """
    config.writable_cache_folder(dest.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        (shutil.move if move else shutil.copyfile)(src, tmp)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def download_to_cache(url: str, dest: Path, *, label: str, progress: bool) -> Path:
    """Download ``url`` to a temporary file in ``dest``'s folder; return the temporary file.

    Parameters
    ----------
    url
        The file to download.
    dest
        Its final place in the cache (the temporary file sits beside it).
    label
        Shown beside the progress bar.
    progress
        Show a progress bar.

    Raises
    ------
    FetchFailed
        The download failed after its retries.
    """
    config.writable_cache_folder(dest.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".download", dir=dest.parent)
    os.close(fd)
    try:
        _net.download(url, Path(tmp), label=label, progress=progress)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(tmp)


class _Unavailable(Exception):
    def __init__(self, entry: LockedFile, reason: str):
        self.entry = entry
        self.reason = reason


def _obtain(entry: LockedFile, lock_path: Path, progress: bool) -> tuple[Path, bool]:
    """The cached, verified copy of ``entry`` and whether it was downloaded now."""
    dest = cached_path(entry)
    corrupt: LockedHashMismatchError | None = None
    if dest.is_file():
        try:
            _check(dest, entry, lock_path, owned=True)
            return dest, False
        except LockedHashMismatchError as exc:
            if config.offline() and _in_mirror(entry) is None:
                raise  # nothing can replace it now: say what was wrong with it
            corrupt = exc
    found = _in_mirror(entry)
    if found is not None:
        _check(found, entry, lock_path, owned=False)
        install(found, dest, move=False)
        _replaced(corrupt, "the mirror's copy")
        return dest, False
    if config.offline():
        raise _Unavailable(entry, f"offline ({config.OFFLINE_ENV} is set)")
    try:
        tmp = download_to_cache(entry.url, dest, label=entry.filename, progress=progress)
    except _net.FetchFailed as exc:
        raise _Unavailable(entry, f"download failed: {exc.reason}") from None
    try:
        _check(tmp, entry, lock_path, owned=True, downloaded=True)
        install(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _replaced(corrupt, "a fresh download from its locked URL")
    return dest, True


def _replaced(corrupt: LockedHashMismatchError | None, by: str) -> None:
    """Say (as a warning, with both hashes) that a tampered cached copy was set aside."""
    if corrupt is not None:
        warnings.warn(
            f"{corrupt.path}: the cached copy of {corrupt.name} was refused: sha256 "
            f"{corrupt.actual}, locked {corrupt.expected}. It was set aside at {corrupt.kept} "
            f"and replaced by {by}, whose sha256 is the locked one.",
            UserWarning,
            stacklevel=4,
        )


def unavailable_message(
    entries: Iterable[tuple[LockedFile, str]], lock_path: Path, lead: str | None = None
) -> str:
    """One message naming every locked file that cannot be had, and both ways to get them.

    Parameters
    ----------
    entries
        ``(entry, reason)`` pairs.
    lock_path
        The lockfile.
    lead
        The first line (default: how many files cannot be had).
    """
    entries = list(entries)
    mirror = None
    with contextlib.suppress(DataFileError):
        mirror = config.mirror_dir()
    lines = []
    for e, reason in entries:
        lines.append(f"  - {e.label}: {e.filename} ({reason})\n      {e.url}")
        if mirror is not None:
            lines.append(
                f"      not in the mirror {mirror} (no releases/{e.collection}/{e.period}/"
                f"{e.filename})"
            )
    head = lead or (
        f"{len(entries)} file(s) locked in {lock_path} are not in the cache and cannot be fetched:"
    )
    return (
        f"{head}\n" + "\n".join(lines) + "\n  Fix: two ways to get them:\n"
        f"  1. with network access, run `icsresearch data fetch --lock {lock_path}` (unset "
        f"{config.OFFLINE_ENV} if it is set), or `icsresearch data add` for those periods;\n"
        f"  2. offline, copy them into a mirror laid out as releases/<collection>/<period>/<file> "
        f"(a cache's releases/ folder is one) and point {config.MIRROR_ENV} at it."
    )


def obtain(
    entries: Iterable[LockedFile], lock_path: Path, *, progress: bool = False
) -> list[tuple[LockedFile, Path, bool]]:
    """Verified cached copies of locked files: ``(entry, path, downloaded now)`` for each.

    Parameters
    ----------
    entries
        Lockfile entries.
    lock_path
        The lockfile (named in messages).
    progress
        Show progress bars while downloading.

    Raises
    ------
    LockedHashMismatchError
        A copy (cached, in the mirror or downloaded) has another sha256 than the lockfile's.
    DataUnavailableError
        Files that are not cached, not in the mirror and cannot be downloaded: one message
        naming them all.
    """
    config.mirror_dir()  # a mistyped mirror is one error, before any file is tried
    out, missing = [], []
    for entry in entries:
        try:
            path, downloaded = _obtain(entry, lock_path, progress)
            out.append((entry, path, downloaded))
        except _Unavailable as exc:
            missing.append((exc.entry, exc.reason))
    if missing:
        raise DataUnavailableError(unavailable_message(missing, lock_path))
    return out


def resolved(entry: LockedFile, path: Path) -> ResolvedFile:
    """A verified locked file as the registry's readers describe theirs (for provenance).

    Parameters
    ----------
    entry
        Its lockfile entry.
    path
        Its verified copy.
    """
    return ResolvedFile(path, f"release {entry.label}", entry.sha256, True)


def read_locked(
    entries: Iterable[LockedFile], lock_path: Path, *, progress: bool = False
) -> list[tuple[LockedFile, ResolvedFile]]:
    """:func:`obtain` the files and note each as read in every open ``recording()`` block.

    Parameters
    ----------
    entries
        Lockfile entries.
    lock_path
        The lockfile.
    progress
        Show progress bars while downloading.
    """
    out = [(e, resolved(e, p)) for e, p, _ in obtain(entries, lock_path, progress=progress)]
    note_read(r for _, r in out)
    return out


@dataclass(frozen=True)
class Status:
    """What :func:`check` found for one locked file.

    Attributes
    ----------
    entry
        The lockfile entry.
    status
        ``"ok"`` (cached or in the mirror, with the locked hash), ``"missing"`` or
        ``"tampered"`` (another sha256).
    where
        The path checked (None when missing).
    detail
        Both hashes for a tampered file.
    """

    entry: LockedFile
    status: Literal["ok", "missing", "tampered"]
    where: Path | None = None
    detail: str = ""


def check(entries: Iterable[LockedFile]) -> list[Status]:
    """Whether each locked file is here and intact; reads only (nothing is moved or fetched).

    Parameters
    ----------
    entries
        Lockfile entries.

    Returns
    -------
    list of Status
        One per entry: the cache is looked at first, then the mirror.
    """
    from ..data import store

    config.mirror_dir()
    store._hash_memo.clear()  # re-read the bytes, even if rewritten within one mtime tick
    out = []
    for e in entries:
        path = cached_path(e)
        if not path.is_file():
            path = _in_mirror(e)
        if path is None:
            out.append(Status(e, "missing"))
            continue
        actual = sha256_of(path)
        if actual == e.sha256:
            out.append(Status(e, "ok", path))
        else:
            out.append(Status(e, "tampered", path, f"expected {e.sha256}\n      actual   {actual}"))
    return out


def verify(entries: Iterable[LockedFile], lock_path: Path) -> list[Status]:
    """Re-hash the cached copies; a copy with another sha256 is set aside (like the registry's).

    Parameters
    ----------
    entries
        Lockfile entries.
    lock_path
        The lockfile.

    Returns
    -------
    list of Status
        ``"ok"``, ``"missing"`` (not cached) or ``"tampered"`` (set aside; ``detail`` is the
        error message with both hashes).
    """
    from ..data import store

    store._hash_memo.clear()  # re-read the bytes, even if rewritten within one mtime tick
    out = []
    for e in entries:
        path = cached_path(e)
        if not path.is_file():
            out.append(Status(e, "missing"))
            continue
        try:
            _check(path, e, lock_path, owned=True)
            out.append(Status(e, "ok", path))
        except LockedHashMismatchError as exc:
            out.append(Status(e, "tampered", path, str(exc)))
    return out
