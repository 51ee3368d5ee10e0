"""`icsresearch data ...` as a user runs it: the installed console script in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from icsresearch import config
from icsresearch.data.registry import REGISTRY

EXE = shutil.which("icsresearch", path=str(Path(sys.executable).parent)) or "icsresearch"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def env(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith("ICSRESEARCH_")}
    e[config.CACHE_ENV] = str(tmp_path / "cache")
    e[config.OFFLINE_ENV] = "1"
    e["COLUMNS"] = "200"
    return e


@pytest.mark.realdata
def test_fetch_all_then_verify_with_the_mirror(mirror, env):
    env[config.MIRROR_ENV] = str(mirror)
    fetched = run("data", "fetch", "--all", "--quiet", env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert f"{len(REGISTRY)} of {len(REGISTRY)} file(s)" in fetched.stdout
    verified = run("data", "verify", env=env)
    assert verified.returncode == 0, verified.stderr
    assert f"{len(REGISTRY)} cached file(s) verified" in verified.stdout
    listing = run("data", "list", env=env)
    assert listing.returncode == 0 and "hm_managers" in listing.stdout
    cached = [
        line.rstrip().rstrip("│").split("│")[-1].strip() for line in listing.stdout.splitlines()
    ]
    cached = [c for c in cached if c in ("yes", "no")]
    assert cached == ["yes"] * len(REGISTRY)  # every file cached, none missing


def test_fetch_all_without_mirror_fails_clearly(env):
    result = run("data", "fetch", "--all", "--quiet", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "not in the cache and cannot be fetched" in result.stderr
    assert "ICSRESEARCH_MIRROR" in result.stderr and "icsresearch data fetch" in result.stderr
    verify = run("data", "verify", env=env)
    assert (
        verify.returncode == 1
        and "not cached" in verify.stderr
        and "Traceback" not in verify.stderr
    )


def test_unknown_name_and_missing_arguments(env):
    unknown = run("data", "fetch", "hm_aee", env=env)
    assert unknown.returncode == 1 and "Did you mean hm_ae" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    nothing = run("data", "fetch", env=env)
    assert nothing.returncode == 2 and "--all" in nothing.stderr


def test_info_shows_columns_year_convention_and_citation(env):
    result = run("data", "info", "hm_rtt", env=env)
    assert result.returncode == 0, result.stderr
    for expected in ("rtt_18wk_pct", "31 March", "Asaria", "sha256"):
        assert expected in result.stdout


def test_every_command_has_help(env):
    for args in (
        ["--help"],
        ["data", "--help"],
        ["data", "list", "--help"],
        ["data", "fetch", "--help"],
        ["data", "verify", "--help"],
        ["data", "info", "--help"],
        ["demo", "--help"],
    ):
        result = run(*args, env=env)
        assert result.returncode == 0 and "Usage" in result.stdout, args
