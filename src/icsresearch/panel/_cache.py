"""Parquet cache for built panels, keyed by input hashes, options and package version.

A panel's ``attrs`` travel in the Parquet file's metadata as JSON; its typed provenance record is
written with :meth:`~icsresearch.provenance.Provenance.to_dict` and rebuilt with
:meth:`~icsresearch.provenance.Provenance.from_dict`, so a cached panel carries the same record as
a freshly built one.

Each cached file is named ``<kind>-<key>-<sha256>.parquet``: the sha256 of the bytes written, in
the one name that is renamed into place, so the hash and the file can never disagree after a
crash or two processes writing at once. A file whose bytes no longer have that hash (a flipped
bit, a cut copy) is never read: it is set aside in ``<cache>/_rejected/panels/`` with a warning and
the panel is rebuilt. :func:`verify_panels` checks every cached panel (``icsresearch data
verify``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .. import __version__, config
from .._atomic import atomic_write_bytes
from ..data.store import ResolvedFile, locate, note_read
from ..errors import DataFileError
from ..provenance import Provenance, of

#: Bump when the build logic changes in a way that alters a panel built from the same inputs
#: (5: attrs["provenance"] is the typed record; 6: every file read is in it, and the file name
#: carries the sha256 of its bytes).
PANEL_FORMAT = 6
_META_KEY = b"icsresearch"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<sha256>[0-9a-f]{64})\.parquet$")


def _located() -> dict[str, ResolvedFile]:
    """Where every input the real panels may read is now (located, not noted as read)."""
    from .real import INPUTS

    return {name: locate(name) for name in INPUTS}


def input_hashes() -> dict[str, str]:
    """sha256 of every input the real panels read (user-supplied files included).

    The files are located, not noted as read: a cache key is not an input of the panel. The
    locked release files a panel reads (:func:`icsresearch.releases.panel.panel_inputs`) count
    too; with no lockfile there are none and the keys are as before.
    """
    from ..releases.panel import panel_inputs

    return {name: f.sha256 for name, f in _located().items()} | panel_inputs()


def cache_key(kind: str, params: dict[str, Any], hashes: dict[str, str] | None = None) -> str:
    """sha256 of the kind, options, package version, cache format and every input's hash.

    Parameters
    ----------
    kind, params
        The panel and its options.
    hashes
        The inputs' sha256 (default: :func:`input_hashes`).
    """
    payload = {
        "kind": kind,
        "params": params,
        "version": __version__,
        "format": PANEL_FORMAT,
        "inputs": input_hashes() if hashes is None else hashes,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _folder() -> Path:
    return config.cache_dir() / "panels"


def cache_stem(kind: str, params: dict[str, Any], hashes: dict[str, str] | None = None) -> str:
    """The start of the cached file names of a panel: ``<kind>-<key>``."""
    return f"{kind}-{cache_key(kind, params, hashes)[:20]}"


def _as_located(record: Provenance, located: dict[str, ResolvedFile]) -> Provenance:
    """The record with each input at the path its bytes are at now.

    The key holds the inputs' hashes, not their paths: a panel built from a user's file is
    answered from the cache when the same bytes sit elsewhere, and its record then names the file
    this process would read, not one that may be gone.
    """
    inputs = []
    for i in record.inputs:
        here = located.get(i.source or "")
        if here is not None and here.sha256 == i.sha256:
            i = here.input_file()
        inputs.append(i)
    return dataclasses.replace(record, inputs=tuple(inputs))


def _copies(folder: Path, stem: str) -> list[Path]:
    """Cached files of one panel, newest first (two exist only after concurrent builds)."""
    if not folder.is_dir():
        return []
    found = []
    for p in folder.glob(f"{stem}-*.parquet"):
        m = _NAME.match(p.name)
        if m and m["stem"] == stem:
            try:
                found.append((p.stat().st_mtime_ns, p))
            except FileNotFoundError:  # replaced by another process meanwhile
                continue
    return [p for _, p in sorted(found, reverse=True)]


def cache_path(kind: str, params: dict[str, Any]) -> Path | None:
    """The cached file of a panel built with these options and inputs, or None."""
    copies = _copies(_folder(), cache_stem(kind, params))
    return copies[0] if copies else None


class _BadCache(Exception):
    """A cached panel that must not be read: ``problem`` says why."""

    def __init__(self, problem: str):
        self.problem = problem
        super().__init__(problem)


def _write(df: pd.DataFrame, folder: Path, stem: str) -> Path:
    """Write ``df`` (its ``attrs`` in the metadata) as ``<stem>-<sha256>.parquet``; return the path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    attrs = dict(df.attrs)
    if isinstance(attrs.get("provenance"), Provenance):
        attrs["provenance"] = attrs["provenance"].to_dict()
    plain = df.copy()
    plain.attrs = {}
    table = pa.Table.from_pandas(plain, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps(attrs, default=str).encode()
    table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    data = sink.getvalue().to_pybytes()
    path = (
        config.writable_cache_folder(folder) / f"{stem}-{hashlib.sha256(data).hexdigest()}.parquet"
    )
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:  # a disk that filled up meanwhile: nothing half-written is left
        raise DataFileError(
            path,
            f"the panel could not be written to the cache ({config.CACHE_ENV}): "
            f"{exc.strerror or exc}",
            f"Free space in {config.cache_dir()} or point {config.CACHE_ENV} at a folder with "
            "room, then build the panel again.",
        ) from None
    return path


def _check(path: Path) -> bytes:
    """The bytes of a cached panel, or :class:`_BadCache` unless they have the named sha256."""
    m = _NAME.match(path.name)
    if m is None:
        raise _BadCache("has no sha256 in its name (written by an older version)")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != m["sha256"]:
        raise _BadCache(
            f"does not match the sha256 recorded when it was written (recorded "
            f"{m['sha256'][:12]}..., now {actual[:12]}...): changed on disk since"
        )
    return data


def _read(path: Path) -> pd.DataFrame:
    """A cached panel, read from the very bytes whose hash was checked."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = _check(path)
    try:
        table = pq.read_table(pa.BufferReader(data))
        attrs = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
    except Exception as exc:  # pyarrow raises many types; all mean "not a panel we can read"
        raise _BadCache(f"cannot be read ({type(exc).__name__}: {exc})") from None
    if isinstance(attrs.get("provenance"), dict):
        attrs["provenance"] = Provenance.from_dict(attrs["provenance"])
    df = table.to_pandas()
    df.attrs = attrs
    return df


def _set_aside(path: Path) -> Path:
    """Move a bad cached panel to ``<cache>/_rejected/panels/`` (kept for inspection)."""
    folder = config.writable_cache_folder(config.cache_dir() / "_rejected" / "panels")
    dest = folder / path.name
    n = 1
    while dest.exists():
        dest = folder / f"{path.name}.{n}"
        n += 1
    shutil.move(path, dest)
    return dest


def cached_build(
    kind: str,
    params: dict[str, Any],
    build: Callable[[], pd.DataFrame],
    *,
    use_cache: bool = True,
) -> pd.DataFrame:
    """Return the cached panel for (kind, params, inputs), or build and cache it.

    A cached file whose bytes do not have the sha256 in its name is set aside (with a
    ``UserWarning`` naming it and where it went) and the panel is rebuilt. A panel answered from
    the cache notes its input files as read in any open
    :func:`~icsresearch.data.store.recording`, as a build would.

    Parameters
    ----------
    kind
        ``"trust_year"`` or ``"ics_year"``.
    params
        The options the panel is built with (part of the key).
    build
        Makes the documented panel (``attrs`` included) when the cache has none.
    use_cache
        False rebuilds (and rewrites the cache) even when a cached panel exists.
    """
    from ..releases.panel import panel_inputs

    folder = _folder()
    located = _located()
    hashes = {name: f.sha256 for name, f in located.items()} | panel_inputs()
    stem = cache_stem(kind, params, hashes)
    if use_cache:
        for path in _copies(folder, stem):
            try:
                df = _read(path)
            except FileNotFoundError:  # superseded by another process's build meanwhile
                continue
            except _BadCache as bad:
                kept = _set_aside(path)
                warnings.warn(
                    f"{path}: this cached {kind} panel {bad.problem}. It was set aside at {kept} "
                    "and is not used; the panel is rebuilt from its input files.",
                    UserWarning,
                    stacklevel=3,
                )
                continue
            if "provenance" in df.attrs:
                df.attrs["provenance"] = _as_located(of(df), located)
            note_read(of(df).inputs)
            return df
    # A cache that cannot take the panel is said before the build, not after minutes of work.
    config.writable_cache_folder(folder)
    df = build()
    written = _write(df, folder, stem)
    for older in _copies(folder, stem):
        if older != written:  # the same panel from an earlier build: superseded
            older.unlink(missing_ok=True)
    return df


@dataclass(frozen=True)
class PanelCacheOutcome:
    """One cached panel checked by :func:`verify_panels`."""

    name: str
    status: Literal["ok", "rejected", "no hash"]
    detail: str = ""


def verify_panels() -> list[PanelCacheOutcome]:
    """Re-hash every cached panel; one whose bytes changed is set aside (and rebuilt when used).

    Returns
    -------
    list of PanelCacheOutcome
        One per file in ``<cache>/panels/``: ``status`` is ``"ok"``, ``"rejected"`` (moved to
        ``<cache>/_rejected/panels/``) or ``"no hash"`` (an older version's file, never read),
        with a ``detail`` message.
    """
    folder = _folder()
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.parquet")):
        try:
            _check(path)
        except FileNotFoundError:
            continue
        except _BadCache as bad:
            if _NAME.match(path.name) is None:
                detail = f"{path}: {bad.problem}; it is never read (panels are rebuilt when used)"
                out.append(PanelCacheOutcome(path.name, "no hash", detail))
                continue
            kept = _set_aside(path)
            detail = (
                f"{path}: {bad.problem}. Set aside at {kept}; the panel is rebuilt from its "
                "input files the next time it is used."
            )
            out.append(PanelCacheOutcome(path.name, "rejected", detail))
            continue
        out.append(PanelCacheOutcome(path.name, "ok"))
    return out
