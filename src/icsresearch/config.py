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
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "ICSRESEARCH_CACHE"
MIRROR_ENV = "ICSRESEARCH_MIRROR"
OFFLINE_ENV = "ICSRESEARCH_OFFLINE"

_TRUE = {"1", "true", "yes", "on"}


def cache_dir() -> Path:
    """The cache directory (created on first use)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "icsresearch").resolve()


def mirror_dir() -> Path | None:
    """The offline mirror directory, or None when ``ICSRESEARCH_MIRROR`` is unset."""
    env = os.environ.get(MIRROR_ENV)
    return Path(env).expanduser().resolve() if env else None


def offline() -> bool:
    """True in strict mode: never download."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in _TRUE
