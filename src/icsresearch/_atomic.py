"""Write outputs so that a crash never leaves a half-written file and a user's files stay theirs.

Two tools:

* :func:`atomic_write_bytes` / :func:`atomic_write_text`: write beside the target, then rename.
* :class:`OutputRecord`: what the workbench wrote into an output folder
  (``.icsresearch-outputs.json``: every file and folder it created, with sha256). Commands that
  write into a folder a user names (``--out``) check the names they would take against it and
  refuse, naming them, when one holds something the workbench did not write; they never delete
  or overwrite anything outside the record. :func:`check_output_dir` and
  :func:`check_output_file` turn a path that is a file, a read-only folder or cannot be created
  into one clear error before anything runs.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import OutputConflictError, OutputPathError

#: The record of what the workbench wrote into an output folder.
RECORD_NAME = ".icsresearch-outputs.json"
#: Held while a command writes into the folder (one writer at a time).
LOCK_NAME = ".icsresearch-outputs.lock"
_RECORD_FORMAT = 1


def _default_mode() -> int:
    """The permissions a plain ``open(path, "w")`` would give (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place.

    Parameters
    ----------
    path
        The target file (its folder is created).
    data
        The bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, _default_mode())  # mkstemp makes 0600 files; outputs are meant to be shared
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Text version of :func:`atomic_write_bytes` (UTF-8).

    Parameters
    ----------
    path
        The target file.
    text
        The text.
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def sha256_file(path: str | Path) -> str:
    """sha256 hex digest of a file, read in chunks.

    Parameters
    ----------
    path
        The file.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- where outputs may go ----------------------------------------------------------------------


def _can_write(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried, not guessed: root ignores modes)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".icsresearch-probe-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return True


def _nearest_existing(path: Path) -> Path:
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


_WRITABLE_FIX = (
    "Choose a folder you can write to (for example one under your home folder), or make this "
    "one writable."
)


def check_output_dir(
    path: str | Path, option: str | None = "--out", *, create: bool = True
) -> Path:
    """Check that ``path`` is, or can become, a folder the workbench can write to.

    Parameters
    ----------
    path
        The output folder asked for.
    option
        The option that named it, for the message (``"--out"``).
    create
        Create the folder (and its parents) once it passed the checks.

    Returns
    -------
    Path
        The absolute folder.

    Raises
    ------
    OutputPathError
        ``path`` is a file, lies under a file, or is (or would be created in) a read-only folder.
    """
    given = Path(path).expanduser()
    target = given.resolve()
    if target.exists() and not target.is_dir():
        raise OutputPathError(
            given,
            "is a file, not a folder",
            "Give a folder for the outputs (a new name is created), or move the file away.",
            option,
        )
    existing = _nearest_existing(target)
    if not existing.is_dir():
        raise OutputPathError(
            given,
            f"cannot be created: {existing} is a file, not a folder",
            "Choose a path whose parent folders are folders.",
            option,
        )
    if not _can_write(existing):
        problem = (
            "is a read-only folder"
            if existing == target
            else f"cannot be created: {existing} is read-only"
        )
        raise OutputPathError(given, problem, _WRITABLE_FIX, option)
    if create:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputPathError(
                given, f"cannot be created ({exc.strerror})", _WRITABLE_FIX, option
            ) from None
    return target


def check_output_file(
    path: str | Path, option: str | None = "--out", *, create_parent: bool = True
) -> Path:
    """Check that ``path`` names a file the workbench can write (its folder writable).

    Parameters
    ----------
    path
        The output file asked for.
    option
        The option that named it.
    create_parent
        Create its folder once the checks passed.

    Returns
    -------
    Path
        The absolute file path.

    Raises
    ------
    OutputPathError
        ``path`` is a folder, or its folder is a file or read-only.
    """
    given = Path(path).expanduser()
    target = given.resolve()
    if target.is_dir():
        raise OutputPathError(
            given, "is a folder", "Give a file name, e.g. --out panels/trust_year.csv.", option
        )
    try:
        check_output_dir(target.parent, option=None, create=create_parent)
    except OutputPathError as exc:
        raise OutputPathError(given, f"its folder {exc.problem}", exc.fix, option) from None
    return target


# --- the record of what the workbench wrote ----------------------------------------------------


def _listing(folder: Path) -> dict[str, str]:
    """``relative path -> sha256`` for every file, ``"dir"`` for every folder, under ``folder``."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        for d in dirs:
            out[(base / d).relative_to(folder).as_posix()] = "dir"
        for f in files:
            p = base / f
            rel = p.relative_to(folder).as_posix()
            out[rel] = "symlink" if p.is_symlink() else sha256_file(p)
    return out


def _present(folder: Path) -> set[str]:
    """Relative paths of every file and folder under ``folder`` (nothing is hashed)."""
    out: set[str] = set()
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        out.update((base / n).relative_to(folder).as_posix() for n in (*dirs, *files))
    return out


class OutputRecord:
    """The files and folders the workbench wrote into one output folder, with their sha256.

    Stored as ``FOLDER/.icsresearch-outputs.json``. A name is the workbench's when the record
    lists it; a recorded folder holding anything the record does not list (a file a user added)
    is not entirely the workbench's, and is treated as taken. Update it while holding
    :meth:`lock`.

    Parameters
    ----------
    folder
        The output folder.
    option
        The option that named the folder, for messages.

    Raises
    ------
    OutputPathError
        The record exists but cannot be read.
    """

    def __init__(self, folder: str | Path, option: str | None = "--out"):
        self.folder = Path(folder)
        self.path = self.folder / RECORD_NAME
        self.option = option
        self.entries: dict[str, dict[str, Any]] = {}
        self.purpose: dict[str, Any] = {}
        if os.path.lexists(self.path):
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                entries = data["entries"]
                purpose = data.get("purpose") or {}
                if not isinstance(entries, dict) or not isinstance(purpose, dict):
                    raise TypeError("entries")
            except (OSError, ValueError, KeyError, TypeError):
                raise OutputPathError(
                    self.folder,
                    f"its record of what icsresearch wrote there ({RECORD_NAME}) is unreadable",
                    "Choose another output folder, or delete the damaged record (icsresearch then "
                    "refuses to replace anything there it cannot recognise as its own).",
                    option,
                ) from None
            self.entries = {str(k): dict(v) for k, v in entries.items() if isinstance(v, dict)}
            self.purpose = dict(purpose)

    @contextlib.contextmanager
    def lock(self, busy: str | None = None) -> Iterator[OutputRecord]:
        """Hold the folder's lock (one writer at a time); reload the record once it is held.

        Parameters
        ----------
        busy
            Message of the error raised when another process holds the lock.

        Raises
        ------
        OutputPathError
            Another process is writing into the folder.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock
            yield self
            return
        fh = open(self.folder / LOCK_NAME, "a+")  # noqa: SIM115 - held for the whole block
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise OutputPathError(
                    self.folder,
                    busy or "another icsresearch command is writing into this folder",
                    "Wait for it to finish, or choose another output folder.",
                    self.option,
                ) from None
            fresh = OutputRecord(self.folder, self.option)
            self.entries, self.purpose = fresh.entries, fresh.purpose
            yield self
        finally:
            fh.close()

    def owns(self, name: str) -> bool:
        """Whether the record lists ``name`` (a file or folder directly in the folder).

        Parameters
        ----------
        name
            A name in the output folder.
        """
        return name in self.entries

    def foreign(
        self, names: Iterable[str], adopt: Callable[[Path], bool] | None = None
    ) -> list[str]:
        """The names (or, inside a recorded folder, the paths) that hold something not recorded.

        Parameters
        ----------
        names
            Names the caller is about to write (files or folders directly in the folder).
        adopt
            Called with the path of an existing, unrecorded name: return True when it is
            recognisably the workbench's own (written before the record existed); it is then
            recorded and not foreign.
        """
        out: list[str] = []
        for name in names:
            p = self.folder / name
            if not os.path.lexists(p):
                continue
            entry = self.entries.get(name)
            if entry is None:
                if adopt is not None and not p.is_symlink() and adopt(p):
                    self.add(name, kind="folder" if p.is_dir() else "file")
                    continue
                out.append(name)
            elif p.is_symlink():
                out.append(name)
            elif entry.get("kind") == "folder":
                if not p.is_dir():
                    out.append(name)
                    continue
                known = set(entry.get("files") or {})
                out.extend(f"{name}/{rel}" for rel in sorted(_present(p) - known))
            elif entry.get("kind") == "file" and p.is_dir():
                out.append(name)
        return out

    def claim(
        self,
        names: Iterable[str],
        *,
        adopt: Callable[[Path], bool] | None = None,
        fix: str = "Move them away, or choose another output folder.",
    ) -> None:
        """Refuse, before anything is written, when a name to be written holds a user's things.

        Parameters
        ----------
        names
            Names the caller is about to write or replace.
        adopt
            See :meth:`foreign`.
        fix
            The advice of the error.

        Raises
        ------
        OutputConflictError
            Naming every taken name.
        """
        taken = self.foreign(names, adopt)
        if taken:
            raise OutputConflictError(self.folder, tuple(taken), fix, self.option)

    def add(self, name: str, *, kind: str | None = None, **info: Any) -> None:
        """Record ``name`` as written now, with the sha256 of what is there.

        Parameters
        ----------
        name
            A file or folder directly in the output folder.
        kind
            ``"file"``, ``"folder"`` (every file inside is hashed) or ``"scratch"`` (a working
            folder whose contents the workbench manages itself; nothing is hashed). Default: what
            is on disk.
        info
            More facts to keep with the entry.
        """
        p = self.folder / name
        kind = kind or ("folder" if p.is_dir() else "file")
        entry: dict[str, Any] = {
            "kind": kind,
            "written_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            **info,
        }
        if kind == "file" and p.is_file():
            entry["sha256"] = sha256_file(p)
        elif kind == "folder" and p.is_dir():
            entry["files"] = _listing(p)
        self.entries[name] = entry

    def discard(self, name: str) -> None:
        """Forget ``name`` (after the workbench removed it).

        Parameters
        ----------
        name
            A recorded name.
        """
        self.entries.pop(name, None)

    def damaged(self, name: str) -> list[str]:
        """Recorded files of ``name`` that are missing or whose bytes changed since written.

        Parameters
        ----------
        name
            A recorded file or folder.
        """
        entry = self.entries.get(name) or {}
        p = self.folder / name
        if entry.get("kind") == "file":
            ok = p.is_file() and sha256_file(p) == entry.get("sha256")
            return [] if ok else [name]
        bad = []
        for rel, digest in (entry.get("files") or {}).items():
            q = p / rel
            if digest == "dir":
                if not q.is_dir():
                    bad.append(f"{name}/{rel}")
            elif digest == "symlink" or not q.is_file() or sha256_file(q) != digest:
                bad.append(f"{name}/{rel}")
        return bad

    def save(self) -> Path:
        """Write the record (atomically)."""
        data = {
            "format": _RECORD_FORMAT,
            "written_by": "icsresearch",
            "note": (
                "Files and folders icsresearch wrote here, with sha256. icsresearch never deletes "
                "or overwrites anything in this folder that this record does not list."
            ),
            "purpose": self.purpose,
            "entries": dict(sorted(self.entries.items())),
        }
        return atomic_write_text(self.path, json.dumps(data, indent=1, default=str) + "\n")
