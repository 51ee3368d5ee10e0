"""Test set-up: an isolated cache, strict offline mode, and access to the real-data mirror.

Real-data tests (marker ``realdata``) read the published files through ``ICSRESEARCH_MIRROR``
(``make test`` and CI point it at ``../shared/data``). They are skipped only when no mirror is
configured at all; a mirror that is configured but missing is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from icsresearch import config

MIRROR = os.environ.get(config.MIRROR_ENV)


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Every test session gets its own cache and never touches the network for data."""
    cache = tmp_path_factory.mktemp("icsresearch-cache")
    old = {k: os.environ.get(k) for k in (config.CACHE_ENV, config.OFFLINE_ENV)}
    os.environ[config.CACHE_ENV] = str(cache)
    os.environ[config.OFFLINE_ENV] = "1"
    yield cache
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The real-data mirror; skips the test when none is configured."""
    if not MIRROR:
        pytest.skip(f"{config.MIRROR_ENV} is not set: real-data test skipped")
    path = Path(MIRROR)
    if not (path / "sources.csv").is_file():
        pytest.fail(f"{config.MIRROR_ENV}={MIRROR} has no sources.csv: the mirror is misconfigured")
    return path


def pytest_collection_modifyitems(config, items):
    """Tests marked ``realdata`` request the mirror fixture automatically."""
    for item in items:
        if item.get_closest_marker("realdata") and "mirror" not in getattr(
            item, "fixturenames", ()
        ):
            item.fixturenames.append("mirror")
