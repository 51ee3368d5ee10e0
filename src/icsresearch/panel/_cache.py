"""Parquet cache for built panels, keyed by input hashes, options and package version."""

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
from ..provenance import manifest
from .columns import ICS_YEAR_COLUMNS, TRUST_YEAR_COLUMNS, attrs_for

#: Bump when the build logic changes in a way that alters a panel built from the same inputs.
PANEL_FORMAT = 4
_META_KEY = b"icsresearch"
_COLUMNS = {"trust_year": TRUST_YEAR_COLUMNS, "ics_year": ICS_YEAR_COLUMNS}


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

    attrs = df.attrs
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
    df = table.to_pandas()
    df.attrs = attrs
    return df


def cached_build(
    kind: str,
    params: dict[str, Any],
    build: Callable[[], tuple[pd.DataFrame, dict[str, Any]]],
    *,
    use_cache: bool = True,
) -> pd.DataFrame:
    """Return the cached panel for (kind, params, inputs) or build, document and cache it."""
    path = cache_path(kind, params)
    if use_cache and path.is_file():
        try:
            return _read(path)
        except Exception:  # a corrupt cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    df, meta = build()
    inputs = meta.pop("inputs", [])
    df.attrs = {
        "kind": kind,
        "columns": attrs_for(_COLUMNS[kind]),
        "provenance": manifest(inputs=inputs, parameters=params),
        **meta,
    }
    _write(df, path)
    return df
