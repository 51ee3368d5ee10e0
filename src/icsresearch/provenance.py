"""Provenance: what every output records about how it was made.

A manifest holds the input files (registry name, path, sha256, whether it matched the registry),
the parameters, package versions, the git revision of the workbench and a timestamp.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

#: Libraries whose versions change numbers or figures.
TRACKED_PACKAGES = (
    "icsresearch",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "pyfixest",
    "matplotlib",
    "papermill",
    "pyreadr",
    "openpyxl",
)


def package_versions(packages: Iterable[str] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions (``"not installed"`` when absent); looked up once per process."""
    return dict(_versions(tuple(packages)))


@functools.cache
def _versions(packages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return tuple(out.items())


@functools.cache
def git_revision() -> str:
    """The git commit of the workbench source (``+dirty`` if it has uncommitted changes), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def describe_environment() -> dict[str, str]:
    """Python, platform, git revision and tracked package versions, for display and manifests."""
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_revision": git_revision(),
    }
    env.update(package_versions())
    return env


def input_record(df_or_attrs: Any) -> dict[str, Any]:
    """The provenance of one reader's table (from ``DataFrame.attrs``)."""
    attrs = getattr(df_or_attrs, "attrs", df_or_attrs)
    return {k: attrs.get(k) for k in ("source", "path", "sha256", "verified")}


def manifest(
    *,
    inputs: Iterable[Mapping[str, Any]] = (),
    parameters: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A manifest dict: inputs, parameters, environment, git revision and a UTC timestamp."""
    record: dict[str, Any] = {
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "environment": describe_environment(),
        "parameters": dict(parameters or {}),
        "inputs": [dict(i) for i in inputs],
    }
    if extra:
        record.update(extra)
    return record


def write_manifest(path: str | Path, record: Mapping[str, Any]) -> Path:
    """Write a manifest as JSON atomically."""
    from ._atomic import atomic_write_text

    return atomic_write_text(
        path, json.dumps(record, indent=2, sort_keys=False, default=str) + "\n"
    )
