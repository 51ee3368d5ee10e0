"""Parquet cache for built panels, keyed by input hashes, options and package version.

A panel's ``attrs`` travel in the Parquet file's metadata as JSON; its typed provenance record is
written with :meth:`~icsresearch.provenance.Provenance.to_dict` and rebuilt with
:meth:`~icsresearch.provenance.Provenance.from_dict`, so a cached panel carries the same record as
a freshly built one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__, config
from ..data.store import resolve
from ..provenance import Provenance

#: Bump when the build logic changes in a way that alters a panel built from the same inputs
#: (5: attrs["provenance"] is the typed record).
PANEL_FORMAT = 5
_META_KEY = b"icsresearch"


def input_hashes() -> dict[str, str]:
    """sha256 of every input the real panels read (user-supplied files included)."""
    from .real import INPUTS

    return {name: resolve(name).sha256 for name in INPUTS}


def cache_key(kind: str, params: dict[str, Any]) -> str:
    payload = {
        "kind": kind,
        "params": params,
        "version": __version__,
        "format": PANEL_FORMAT,
        "inputs": input_hashes(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cache_path(kind: str, params: dict[str, Any]) -> Path:
    return config.cache_dir() / "panels" / f"{kind}-{cache_key(kind, params)[:20]}.parquet"


def _write(df: pd.DataFrame, path: Path) -> None:
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _read(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    attrs = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
    if isinstance(attrs.get("provenance"), dict):
        attrs["provenance"] = Provenance.from_dict(attrs["provenance"])
    df = table.to_pandas()
    df.attrs = attrs
    return df


def cached_build(
    kind: str,
    params: dict[str, Any],
    build: Callable[[], pd.DataFrame],
    *,
    use_cache: bool = True,
) -> pd.DataFrame:
    """Return the cached panel for (kind, params, inputs), or build and cache it.

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
    path = cache_path(kind, params)
    if use_cache and path.is_file():
        try:
            return _read(path)
        except Exception:  # a corrupt cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    df = build()
    _write(df, path)
    return df
