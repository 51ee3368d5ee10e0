"""Get registry files into the cache: from the cache itself, a mirror, or the network.

Order of preference for :func:`fetch`:

1. the cache (``ICSRESEARCH_CACHE``), if its copy still has the registry sha256;
2. the mirror (``ICSRESEARCH_MIRROR``), a folder laid out like the published sources, copied into
   the cache after the hash check;
3. a download from the pinned URL (never in strict mode, ``ICSRESEARCH_OFFLINE=1``).

A file whose sha256 differs from the registry is never used: the error names the file and both
hashes, and the bad copy is moved to ``<cache>/_rejected/`` for inspection.

User-supplied files (a newer release in the same layout) bypass the registry: pass ``path=`` to a
reader, or point :func:`use_source_dir` / ``ICSRESEARCH_SOURCE_DIR`` at a folder of files with the
published names. Those are read as they are, without a hash check.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .. import config
from ..errors import DataFileError, DataUnavailableError, HashMismatchError
from .registry import REGISTRY, RegistryFile, get

SOURCE_DIR_ENV = "ICSRESEARCH_SOURCE_DIR"
_REJECTED = "_rejected"

# (path, size, mtime_ns) -> sha256, so a reader called many times hashes each file once.
_hash_memo: dict[tuple[str, int, int], str] = {}


def sha256_of(path: str | Path) -> str:
    """sha256 hex digest of a file, memoised on (path, size, mtime)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    digest = _hash_memo.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        _hash_memo[key] = digest
    return digest


def cached_path(name: str) -> Path:
    """Where a registry file lives in the cache (it may not exist yet)."""
    return config.cache_dir() / "files" / get(name).path


def is_cached(name: str) -> bool:
    """True if the cache holds the file (the hash is checked when it is used).

    Parameters
    ----------
    name
        Registry name (see ``icsresearch data list``).
    """
    return cached_path(name).is_file()


def _reject(bad: Path, entry: RegistryFile, actual: str, *, move: bool) -> Path:
    """Put a copy of a file with the wrong hash aside for inspection; return where."""
    dest_dir = config.cache_dir() / _REJECTED
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{entry.filename}.{actual[:12]}"
    if move:
        shutil.move(bad, dest)
    else:
        shutil.copyfile(bad, dest)
    return dest


def _install(src: Path, dest: Path, *, move: bool) -> None:
    """Copy or move ``src`` to ``dest`` atomically (temporary name in the same folder, then rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        if move:
            shutil.move(src, tmp)
        else:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _check(path: Path, entry: RegistryFile, *, owned: bool) -> None:
    """Raise HashMismatchError (and put the file aside) unless ``path`` has the registry hash.

    ``owned`` files (in the cache, or just downloaded) are moved aside; a mirror's file is copied
    aside and left where it is.
    """
    actual = sha256_of(path)
    if actual != entry.sha256:
        kept = _reject(path, entry, actual, move=owned)
        raise HashMismatchError(path, entry.name, entry.sha256, actual, kept)


def _how_to_get(entries: Iterable[RegistryFile]) -> str:
    names = [e.name for e in entries]
    listing = "\n".join(f"  - {e.name}: {e.path}\n      {e.url}" for e in entries)
    return (
        f"{len(names)} file(s) are not in the cache and cannot be fetched:\n{listing}\n"
        "Two ways to get them:\n"
        f"  1. with network access, run `icsresearch data fetch {' '.join(names)}` "
        f"(unset {config.OFFLINE_ENV} if it is set);\n"
        f"  2. offline, point {config.MIRROR_ENV} at a folder laid out like the published sources "
        "(for example `export ICSRESEARCH_MIRROR=../shared/data`) and run the same command."
    )


def _download(entry: RegistryFile, dest: Path, progress: bool) -> None:
    import pooch

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".download", dir=dest.parent)
    os.close(fd)
    try:
        bar = _RichBar(entry.filename) if progress else False
        downloader = pooch.HTTPDownloader(progressbar=bar, timeout=60)
        try:
            downloader(entry.url, tmp, None)
        except Exception as exc:  # requests raises many types; all mean "could not download"
            raise DataUnavailableError(
                f"Download of {entry.name!r} from {entry.url} failed: {exc}\n"
                + _how_to_get([entry])
            ) from None
        _check(Path(tmp), entry, owned=True)
        _install(Path(tmp), dest, move=True)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


class _RichBar:
    """The small progress-bar protocol pooch expects (total, update, reset, close), drawn by rich."""

    def __init__(self, label: str):
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            transient=True,
        )
        self._task = self._progress.add_task(label, total=None)
        self._progress.start()
        self.total: int | None = None

    def update(self, n: int) -> None:
        self._progress.update(self._task, advance=n, total=self.total)

    def reset(self) -> None:
        self._progress.reset(self._task, total=self.total)

    def close(self) -> None:
        self._progress.stop()


def fetch(name: str, *, progress: bool = True) -> Path:
    """Return the path of a verified copy of registry file ``name`` in the cache.

    Parameters
    ----------
    name
        Registry name (see ``icsresearch data list``).
    progress
        Show a progress bar while downloading.

    Raises
    ------
    HashMismatchError
        The mirror's (or downloaded) file has the wrong sha256.
    DataUnavailableError
        Not cached, not in the mirror, and the network is off-limits or unreachable.
    """
    entry = get(name)
    dest = cached_path(name)
    if dest.is_file():
        try:
            _check(dest, entry, owned=True)
            return dest
        except HashMismatchError:
            pass  # the bad cached copy is now set aside; get a good one below
    mirror = config.mirror_dir()
    if mirror is not None:
        candidate = mirror / entry.path
        if candidate.is_file():
            _check(candidate, entry, owned=False)
            _install(candidate, dest, move=False)
            return dest
    if config.offline():
        raise DataUnavailableError(_how_to_get([entry]))
    _download(entry, dest, progress)
    return dest


@dataclass(frozen=True)
class FetchOutcome:
    name: str
    status: Literal["ok", "missing", "rejected"]
    path: Path | None
    message: str = ""


def fetch_many(names: Iterable[str], *, progress: bool = True) -> list[FetchOutcome]:
    """Fetch several files, carrying on past failures; see :func:`fetch`.

    Parameters
    ----------
    names
        Registry names (see ``icsresearch data list``).
    progress
        Show a progress bar while downloading.

    Returns
    -------
    list of FetchOutcome
        One per name, in order: ``status`` is ``"ok"`` (with ``path``), ``"missing"`` (not
        cached, not in the mirror, and not downloadable) or ``"rejected"`` (wrong sha256), with
        the error ``message``.
    """
    outcomes = []
    for name in names:
        try:
            outcomes.append(FetchOutcome(name, "ok", fetch(name, progress=progress)))
        except HashMismatchError as exc:
            outcomes.append(FetchOutcome(name, "rejected", None, str(exc)))
        except DataUnavailableError as exc:
            outcomes.append(FetchOutcome(name, "missing", None, str(exc)))
    return outcomes


def unavailable_message(names: Iterable[str]) -> str:
    """One message naming every file in ``names`` and both ways to get it."""
    return _how_to_get([get(n) for n in names])


@dataclass(frozen=True)
class VerifyOutcome:
    name: str
    status: Literal["ok", "not cached", "rejected"]
    detail: str = ""


def verify(names: Iterable[str] | None = None) -> list[VerifyOutcome]:
    """Re-hash cached files (all by default); a file with the wrong hash is moved aside.

    Parameters
    ----------
    names
        Registry names to check; ``None`` checks every registry file.

    Returns
    -------
    list of VerifyOutcome
        One per name: ``status`` is ``"ok"``, ``"not cached"`` or ``"rejected"`` (moved to
        ``<cache>/_rejected/``), with a ``detail`` message.
    """
    _hash_memo.clear()  # re-read the bytes, even if a file was rewritten within one mtime tick
    out = []
    for name in names if names is not None else REGISTRY:
        entry = get(name)
        path = cached_path(name)
        if not path.is_file():
            out.append(VerifyOutcome(name, "not cached"))
            continue
        try:
            _check(path, entry, owned=True)
            out.append(VerifyOutcome(name, "ok"))
        except HashMismatchError as exc:
            out.append(VerifyOutcome(name, "rejected", str(exc)))
    return out


# --- user-supplied files ---------------------------------------------------------------------

_source_dir_override: list[Path] = []


@contextlib.contextmanager
def use_source_dir(folder: str | Path) -> Iterator[Path]:
    """Within the block, read files from ``folder`` (published names, no hash check) when present.

    Files missing from the folder still come from the registry. ``ICSRESEARCH_SOURCE_DIR`` does the
    same for a whole process (papermill kernels inherit it).

    Parameters
    ----------
    folder
        A folder of files with the published names (or laid out like the mirror).

    Examples
    --------
    >>> from icsresearch.data import use_source_dir
    >>> from icsresearch.sources.rtt import read_rtt
    >>> with use_source_dir("~/downloads/nhs"):  # doctest: +SKIP
    ...     rtt = read_rtt()  # a newer RTT.csv from that folder, recorded as user-supplied
    """
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise DataFileError(
            folder, "is not a folder", "Pass a folder holding files with the published names."
        )
    _source_dir_override.append(folder)
    try:
        yield folder
    finally:
        _source_dir_override.pop()


def _source_dirs() -> list[Path]:
    dirs = list(reversed(_source_dir_override))
    env = os.environ.get(SOURCE_DIR_ENV)
    if env:
        dirs.append(Path(env).expanduser().resolve())
    return dirs


def find_in_folder(folder: Path, entry: RegistryFile) -> Path | None:
    """A file for ``entry`` in a user folder: the mirror layout first, then the bare file name."""
    for candidate in (folder / entry.path, folder / entry.filename):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class ResolvedFile:
    """A file chosen for reading, and whether its bytes are the registry's."""

    path: Path
    name: str
    sha256: str
    verified: bool  # True if it matched the registry hash

    @property
    def origin(self) -> str:
        return "registry" if self.verified else "user-supplied"


def resolve(name: str, path: str | Path | None = None) -> ResolvedFile:
    """Choose the file a reader should read.

    ``path`` (a file, or a folder holding the published file name) wins and is not hash-checked;
    then a source folder (:func:`use_source_dir` or ``ICSRESEARCH_SOURCE_DIR``); then the registry
    via :func:`fetch`.

    Parameters
    ----------
    name
        Registry name of the file the reader expects.
    path
        A user-supplied file, or a folder holding a file with the published name; ``None`` for
        the registry copy.

    Returns
    -------
    ResolvedFile
        ``path``, ``name``, ``sha256`` and ``verified`` (whether the bytes are the registry's).
    """
    entry = get(name)
    if path is not None:
        p = Path(path).expanduser()
        if p.is_dir():
            found = find_in_folder(p, entry)
            if found is None:
                raise DataFileError(
                    p,
                    f"has no file named {entry.filename!r} (for {name!r})",
                    "Put the file there with its published name, or pass the file's own path.",
                )
            p = found
        if not p.is_file():
            raise DataFileError(
                p,
                "does not exist",
                f"Check the path, or omit it to use the registry copy of {name!r}.",
            )
        digest = sha256_of(p)
        return ResolvedFile(p, name, digest, digest == entry.sha256)
    for folder in _source_dirs():
        found = find_in_folder(folder, entry)
        if found is not None:
            digest = sha256_of(found)
            return ResolvedFile(found, name, digest, digest == entry.sha256)
    fetched = fetch(name)
    return ResolvedFile(fetched, name, entry.sha256, True)
