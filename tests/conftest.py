"""Test set-up: an isolated cache, strict offline mode, and access to the real-data mirror.

Real-data tests (marker ``realdata``, on a module, a function or one ``pytest.param``) read the
published files through ``ICSRESEARCH_MIRROR`` (``make test`` and CI point it at
``../shared/data``). They are skipped only when no mirror is configured at all; a mirror that is
configured but missing is an error. The check runs before any fixture of the test is set up, so a
module-scoped fixture that reads real data is never reached without a mirror, and only the items
that carry the marker are affected: the simulated parametrisations of a test run without it.

The terminal summary ends with one line per reason for the skipped tests.
"""

from __future__ import annotations

import os
from collections import Counter
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


@pytest.fixture(autouse=True)
def _environment_restored():
    """Each test leaves os.environ as it found it.

    Libraries change it behind a test's back: distributed's LocalCluster sets
    OPENBLAS_NUM_THREADS=1 (and others) for its workers and never removes them, so every later
    test, and every subprocess it starts, ran with one BLAS thread.
    """
    before = dict(os.environ)
    yield
    if dict(os.environ) != before:
        os.environ.clear()
        os.environ.update(before)


def _require_mirror() -> Path:
    """The configured mirror; skips without one, fails for one that is configured but absent."""
    if not MIRROR:
        pytest.skip(f"{config.MIRROR_ENV} is not set: real-data test skipped")
    path = Path(MIRROR)
    if not (path / "sources.csv").is_file():
        pytest.fail(f"{config.MIRROR_ENV}={MIRROR} has no sources.csv: the mirror is misconfigured")
    return path


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The real-data mirror; skips the test when none is configured."""
    return _require_mirror()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Items marked ``realdata`` need the mirror before any of their fixtures is set up.

    The marker is read per item, so one real-data ``pytest.param`` leaves the other
    parametrisations of the same test alone (an earlier version appended ``mirror`` to the
    fixture names, a list every parametrisation of a function shares).
    """
    if item.get_closest_marker("realdata"):
        _require_mirror()


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter):
    """How many tests skipped and why, one line per reason (``make test`` prints it last)."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons = Counter(_skip_reason(r) for r in skipped)
    terminalreporter.write_sep("-", f"{len(skipped)} skipped")
    for reason, n in reasons.most_common():
        terminalreporter.write_line(f"{n:5d}  {reason}")
