"""The data layer: a pinned registry of published files and the cache/mirror/network fetcher."""

from __future__ import annotations

from .registry import REGISTRY, RegistryFile, get
from .store import fetch, fetch_many, is_cached, resolve, use_source_dir, verify

__all__ = [
    "REGISTRY",
    "RegistryFile",
    "fetch",
    "fetch_many",
    "get",
    "is_cached",
    "resolve",
    "use_source_dir",
    "verify",
]
