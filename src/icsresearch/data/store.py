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

Every file a reader reads goes through :func:`resolve`, which notes it in each open
:func:`recording` block: a panel built inside one knows every file it read, however deep the call
(geography lookups included). Tables kept in memory between calls use :func:`memoised`, which
notes again the files the first call read each time it answers from memory, and makes the table
again when one of those files has changed since.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from .. import config
from ..errors import DataFileError, DataUnavailableError, HashMismatchError, IcsResearchError
from ..provenance import InputFile
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
    dest_dir = config.writable_cache_folder(config.cache_dir() / _REJECTED)
    # named by registry name too: two sources may publish files with the same name
    dest = dest_dir / f"{entry.name}.{entry.filename}.{actual[:12]}"
    if move:
        shutil.move(bad, dest)
    else:
        shutil.copyfile(bad, dest)
    return dest


def _install(src: Path, dest: Path, *, move: bool) -> None:
    """Copy or move ``src`` to ``dest`` atomically (temporary name in the same folder, then rename)."""
    config.writable_cache_folder(dest.parent)
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


def _set_aside(entry: RegistryFile) -> list[Path]:
    """Copies of ``entry`` put aside earlier because their sha256 was wrong (newest first)."""
    folder = config.cache_dir() / _REJECTED
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{entry.name}.{entry.filename}.*") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def _usable_mirror() -> Path | None:
    """The mirror for a message: None when unset or unusable (that has its own error)."""
    try:
        return config.mirror_dir()
    except DataFileError:
        return None


def _how_to_get(entries: Iterable[RegistryFile], lead: str | None = None) -> str:
    """Which files cannot be had and both ways to get them; ``lead`` replaces the first line."""
    entries = list(entries)
    names = [e.name for e in entries]
    mirror = _usable_mirror()
    lines = []
    for e in entries:
        lines.append(f"  - {e.name}: {e.path}\n      {e.url}")
        for kept in _set_aside(e)[:1]:
            lines.append(
                f"      a corrupted copy (wrong sha256) was set aside at {kept} and is not used"
            )
        if mirror is not None:
            lines.append(f"      not in the mirror {mirror} (no {mirror / e.path})")
    listing = "\n".join(lines)
    head = lead or f"{len(names)} file(s) are not in the cache and cannot be fetched:"
    return (
        f"{head}\n{listing}\n"
        "  Fix: two ways to get them:\n"
        f"  1. with network access, run `icsresearch data fetch {' '.join(names)}` "
        f"(unset {config.OFFLINE_ENV} if it is set);\n"
        f"  2. offline, point {config.MIRROR_ENV} at a folder laid out like the published sources "
        "(for example `export ICSRESEARCH_MIRROR=../shared/data`) and run the same command."
    )


def download_url(url: str, dest: str | Path, *, label: str, progress: bool = True) -> None:
    """Download ``url`` into ``dest`` (pooch's HTTP downloader, a rich progress bar).

    Errors of the HTTP client propagate as they are (``requests`` raises many types); callers
    turn them into a :class:`~icsresearch.errors.DataUnavailableError` naming the file.

    Parameters
    ----------
    url
        What to download.
    dest
        The file to write (a temporary name: callers check the hash before installing it).
    label
        The name shown beside the progress bar.
    progress
        Show the progress bar.
    """
    import pooch

    bar = _RichBar(label) if progress else False
    try:
        pooch.HTTPDownloader(progressbar=bar, timeout=60)(url, str(dest), None)
    except BaseException:
        if bar:  # pooch closes the bar only when the download ends well
            bar.close()
        raise


def _download(entry: RegistryFile, dest: Path, progress: bool) -> None:
    config.writable_cache_folder(dest.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".download", dir=dest.parent)
    os.close(fd)
    try:
        try:
            download_url(entry.url, tmp, label=entry.filename, progress=progress)
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
    corrupt: HashMismatchError | None = None
    if dest.is_file():
        try:
            _check(dest, entry, owned=True)
            return dest
        except HashMismatchError as exc:
            corrupt = exc  # the bad cached copy is now set aside; get a good one below
    mirror = config.mirror_dir()
    if mirror is not None:
        candidate = mirror / entry.path
        if candidate.is_file():
            _check(candidate, entry, owned=False)
            _install(candidate, dest, move=False)
            _replaced(corrupt, "the mirror's copy")
            return dest
    if config.offline():
        lead = None
        if corrupt is not None:  # say what happened to the copy that was there
            lead = (
                f"{dest}: the cached copy of {name!r} is corrupted (sha256 {corrupt.actual}, "
                f"registry {entry.sha256}). It was set aside at {corrupt.kept} and is not used, "
                "and no good copy can be fetched now:"
            )
        raise DataUnavailableError(_how_to_get([entry], lead))
    _download(entry, dest, progress)
    _replaced(corrupt, "a fresh download")
    return dest


def _replaced(corrupt: HashMismatchError | None, by: str) -> None:
    """Say (once, as a warning) that a corrupted cached copy was set aside and replaced."""
    if corrupt is None:
        return
    warnings.warn(
        f"{corrupt.path}: the cached copy of {corrupt.name!r} was corrupted (sha256 "
        f"{corrupt.actual[:12]}..., registry {corrupt.expected[:12]}...). It was set aside at "
        f"{corrupt.kept} and replaced by {by}, whose sha256 is the registry's.",
        UserWarning,
        stacklevel=3,
    )


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
        cached, not in the mirror, and not downloadable) or ``"rejected"`` (wrong sha256, or a
        corrupted cached copy set aside with no good one to replace it), with the error
        ``message``.

    Raises
    ------
    DataFileError
        The cache or the mirror cannot be used (one error, not one per file).
    """
    config.mirror_dir()  # a mistyped mirror is one error, before any file is tried
    outcomes = []
    for name in names:
        try:
            outcomes.append(FetchOutcome(name, "ok", fetch(name, progress=progress)))
        except HashMismatchError as exc:
            outcomes.append(FetchOutcome(name, "rejected", None, str(exc)))
        except DataUnavailableError as exc:
            status = "rejected" if _set_aside(get(name)) else "missing"
            outcomes.append(FetchOutcome(name, status, None, str(exc)))
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
    """The folders of user-supplied files, innermost :func:`use_source_dir` first.

    Raises
    ------
    DataFileError
        ``ICSRESEARCH_SOURCE_DIR`` names something that is not a folder: a mistyped path would
        otherwise silently give the registry's files to a user who meant to read their own.
    """
    dirs = list(reversed(_source_dir_override))
    env = os.environ.get(SOURCE_DIR_ENV)
    if env:
        folder = Path(env).expanduser().resolve()
        if not folder.is_dir():
            problem = "does not exist" if not folder.exists() else "is not a folder"
            raise DataFileError(
                folder,
                f"{problem} ({SOURCE_DIR_ENV}={env})",
                f"Point {SOURCE_DIR_ENV} at the folder holding your files with the published "
                "names, or unset it to read the registry's files.",
            )
        dirs.append(folder)
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

    def input_file(self) -> InputFile:
        """This file as a provenance :class:`~icsresearch.provenance.InputFile`."""
        return InputFile(self.name, str(self.path), self.sha256, self.verified)


def resolve(name: str, path: str | Path | None = None) -> ResolvedFile:
    """Choose the file a reader should read, and note it as read in every open :func:`recording`.

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
    found = locate(name, path)
    _note([(found, None if path is None else str(path))])
    return found


def locate(name: str, path: str | Path | None = None) -> ResolvedFile:
    """The file :func:`resolve` would choose, without noting it as read (for cache keys).

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


# --- what was read ---------------------------------------------------------------------------


class ReadLog:
    """The files resolved while a :func:`recording` block ran, each once, in first-read order."""

    def __init__(self) -> None:
        # (name, path, sha256) -> (file, the path argument it was asked for with)
        self._seen: dict[tuple[str, str, str], tuple[ResolvedFile, str | None]] = {}

    def add(self, file: ResolvedFile, requested: str | None = None) -> None:
        """Note ``file`` as read (asked for with ``requested``, the reader's ``path=``)."""
        self._seen.setdefault((file.name, str(file.path), file.sha256), (file, requested))

    @property
    def files(self) -> tuple[ResolvedFile, ...]:
        """The files read."""
        return tuple(f for f, _ in self._seen.values())

    def requests(self) -> tuple[tuple[ResolvedFile, str | None], ...]:
        """The files read, each with the ``path`` argument it was resolved with."""
        return tuple(self._seen.values())

    def inputs(self) -> list[InputFile]:
        """The files read, as provenance records."""
        return [f.input_file() for f in self.files]

    def records(self) -> list[dict[str, Any]]:
        """The files read, as ``{source, path, sha256, verified}`` dicts."""
        return [i.as_dict() for i in self.inputs()]

    def __len__(self) -> int:
        return len(self._seen)

    def __iter__(self) -> Iterator[ResolvedFile]:
        return iter(self.files)


_open_logs: contextvars.ContextVar[tuple[ReadLog, ...]] = contextvars.ContextVar(
    "icsresearch_read_logs", default=()
)


@contextlib.contextmanager
def recording() -> Iterator[ReadLog]:
    """Within the block, note every file resolved (directly, or through a memoised table).

    Blocks nest: a file read in an inner block is noted in every block open around it.

    Examples
    --------
    >>> from icsresearch.data.store import recording
    >>> from icsresearch import geography
    >>> with recording() as log:  # doctest: +SKIP
    ...     geography.trusts()
    >>> sorted(f.name for f in log.files)  # doctest: +SKIP
    ['ccg_stp_reference', 'eric_sites_2019', 'hm_providers', 'lsoa_icb_lookup', ...]
    """
    log = ReadLog()
    token = _open_logs.set((*_open_logs.get(), log))
    try:
        yield log
    finally:
        _open_logs.reset(token)


def _note(requests: Iterable[tuple[ResolvedFile, str | None]]) -> None:
    logs = _open_logs.get()
    if not logs:
        return
    for file, requested in requests:
        for log in logs:
            log.add(file, requested)


def note_read(files: Iterable[ResolvedFile | InputFile]) -> None:
    """Note files as read in every open :func:`recording` (a cache answering for a build does).

    Parameters
    ----------
    files
        Resolved files, or provenance records of files (those without a registry name or path,
        such as the demo's, are skipped).
    """
    resolved = []
    for f in files:
        if isinstance(f, InputFile):
            if not (f.source and f.path and f.sha256):
                continue
            f = ResolvedFile(Path(f.path), f.source, f.sha256, f.verified is True)
        resolved.append((f, None))
    _note(resolved)


_F = TypeVar("_F", bound=Callable[..., Any])
_memo_clearers: list[Callable[[], None]] = []


def _still_current(
    requests: tuple[tuple[ResolvedFile, str | None], ...],
) -> list[tuple[ResolvedFile, str | None]] | None:
    """The files a memoised call read, as they resolve now; None when one of them changed."""
    now = []
    for file, requested in requests:
        try:
            current = locate(file.name, requested)
        except IcsResearchError:
            # The file cannot be had now (cache cleared, offline): the table in memory was made
            # from the bytes recorded, so it still answers, with that record.
            now.append((file, requested))
            continue
        if current.sha256 != file.sha256 or current.verified != file.verified:
            return None
        now.append((current, requested))
    return now


def memoised(func: _F) -> _F:
    """``functools.cache`` for tables made from files: the files read travel with the table.

    The first call records the files it resolves; every later call answered from memory notes
    them again in the open :func:`recording` blocks (so a panel built twice lists the same
    inputs), and makes the table again when one of them now resolves to other bytes (a file
    edited, a source folder switched on or off).

    Parameters
    ----------
    func
        A function of hashable arguments whose result depends only on them and on the files it
        resolves. Its result is shared between calls: callers must not change it.

    Returns
    -------
    callable
        The memoised function, with ``cache_clear()``.
    """
    memo: dict[Any, tuple[Any, tuple[tuple[ResolvedFile, str | None], ...]]] = {}

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = (args, tuple(sorted(kwargs.items())))
        hit = memo.get(key)
        if hit is not None:
            current = _still_current(hit[1])
            if current is not None:
                _note(current)
                return hit[0]
        with recording() as log:  # the open blocks around this call see the same files
            value = func(*args, **kwargs)
        memo[key] = (value, log.requests())
        return value

    wrapper.cache_clear = memo.clear  # type: ignore[attr-defined]
    _memo_clearers.append(memo.clear)
    return wrapper  # type: ignore[return-value]


def clear_memos() -> None:
    """Forget every table kept by :func:`memoised` (the next call reads its files again)."""
    for clear in _memo_clearers:
        clear()
