"""Attacks on the caches, the provenance of every input and the data commands (issue 12).

Each case is reproduced on hand-made inputs in ``tmp_path``: a cached panel changed on disk, a
panel whose record leaves out files it read, a user-supplied file used without a word, a cache,
mirror or source folder that cannot be used, a corrupted cached file, and the fingerprint of the
user-supplied files an output read (for the reports' resume check). Every one either works or
stops with one message that names the file or option and the fix, with no traceback. No user
file is touched: caches are per test, the real mirror is only read.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import pytest

from icsresearch import config, provenance
from icsresearch.data import store
from icsresearch.data.registry import get
from icsresearch.errors import DataFileError, DataUnavailableError
from icsresearch.panel import _cache
from icsresearch.provenance import InputFile, Provenance, of

EXE = shutil.which("icsresearch", path=str(Path(sys.executable).parent)) or "icsresearch"
SMALL = "hm_cqc_rating_scores"  # a 78-byte file: cheap to copy and corrupt


def run(*args: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture
def env(tmp_path):
    """The environment of a user's shell: a cache of their own, offline, no mirror."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("ICSRESEARCH_")}
    e[config.CACHE_ENV] = str(tmp_path / "cache")
    e[config.OFFLINE_ENV] = "1"
    e["COLUMNS"] = "200"
    return e


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh, empty cache for this test, offline and without a mirror."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(config.CACHE_ENV, str(folder))
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    monkeypatch.delenv(config.MIRROR_ENV, raising=False)
    monkeypatch.delenv(store.SOURCE_DIR_ENV, raising=False)
    return folder


def _one_clear_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """The command failed with exit code 1, no traceback, and an error naming every needle."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    text = " ".join(result.stderr.split())  # rich may wrap long lines
    for needle in needles:
        assert needle in text, (needle, result.stderr)
    return text


# --- 1. a cached panel changed on disk -------------------------------------------------------


#: Values that do not compress, so each is stored as its own 8 bytes in the Parquet file.
VALUES = [95.123456789, 87.987654321, 91.192837465, 78.564738291]


def _panel() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "trust_code": ["RA2", "RVW", "RX1", "RYJ"],
            "year": [2015, 2015, 2015, 2015],
            "ae_4hr_pct": VALUES,
        }
    )
    df.attrs = {
        "kind": "trust_year",
        "provenance": Provenance.record(
            synthetic=False, inputs=[InputFile("hm_ae", "/m/AE.csv", "a" * 64, True)]
        ),
        "synthetic": False,
    }
    return df


@pytest.fixture
def no_registry_inputs(monkeypatch):
    """Panels keyed by their options only, so the cache is tested without the real files."""
    monkeypatch.setattr(_cache, "_located", lambda: {})


def _flip_value(path: Path, old: float, new: float) -> None:
    """Change one stored value in place, as a bad disk or a stray write would."""
    data = path.read_bytes()
    needle = struct.pack("<d", old)
    assert data.count(needle) == 1, "the value is not stored literally; pick another"
    path.write_bytes(data.replace(needle, struct.pack("<d", new)))


def test_a_byte_flipped_in_a_cached_panel_is_set_aside_and_the_panel_rebuilt(
    cache, no_registry_inputs
):
    builds = []

    def build():
        builds.append(1)
        return _panel()

    params = {"source": "real", "footprint": 2022}
    first = _cache.cached_build("trust_year", params, build)
    [path] = (cache / "panels").glob("trust_year-*.parquet")
    _flip_value(path, VALUES[1], 0.0)  # RVW's A&E share would become 0.0%
    bad = path.read_bytes()

    with pytest.warns(UserWarning, match=r"does not match the sha256") as caught:
        again = _cache.cached_build("trust_year", params, build)
    assert len(builds) == 2, "the changed panel must be rebuilt, not read"
    pd.testing.assert_frame_equal(again, first)
    message = str(caught[0].message)
    assert str(path) in message
    aside = list((cache / "_rejected" / "panels").iterdir())
    assert len(aside) == 1 and aside[0].read_bytes() == bad  # kept for inspection, as it was
    assert str(aside[0]) in message
    # the rebuilt panel is cached again, and read back without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _cache.cached_build("trust_year", params, build)
    assert len(builds) == 2


def test_a_truncated_or_renamed_cached_panel_is_rebuilt(cache, no_registry_inputs):
    builds = []

    def build():
        builds.append(1)
        return _panel()

    params = {"source": "real"}
    _cache.cached_build("trust_year", params, build)
    [path] = (cache / "panels").glob("trust_year-*.parquet")
    path.write_bytes(path.read_bytes()[:-100])  # cut, as by a full disk
    with pytest.warns(UserWarning, match="set aside"):
        back = _cache.cached_build("trust_year", params, build)
    assert len(builds) == 2 and back["ae_4hr_pct"].tolist() == VALUES
    # a cached panel whose name carries no hash (an older version's file) is never read
    [path] = (cache / "panels").glob("trust_year-*.parquet")
    stem = path.name.split("-")[0] + "-" + path.name.split("-")[1]
    for p in (cache / "panels").glob("*.parquet"):
        p.unlink()
    legacy = cache / "panels" / f"{stem}.parquet"
    stale = _panel().assign(ae_4hr_pct=0.0)
    stale.attrs = {}
    stale.to_parquet(legacy)
    assert _cache.cached_build("trust_year", params, build)["ae_4hr_pct"].tolist() == VALUES
    assert len(builds) == 3


def test_verify_panels_reports_each_cached_panel(cache, no_registry_inputs):
    _cache.cached_build("trust_year", {"a": 1}, _panel)
    _cache.cached_build("ics_year", {"a": 1}, _panel)
    outcomes = {o.name.split("-")[0]: o for o in _cache.verify_panels()}
    assert {o.status for o in outcomes.values()} == {"ok"}
    [path] = (cache / "panels").glob("ics_year-*.parquet")
    _flip_value(path, VALUES[2], 1.0)
    outcomes = {o.name.split("-")[0]: o for o in _cache.verify_panels()}
    assert outcomes["trust_year"].status == "ok"
    assert outcomes["ics_year"].status == "rejected" and "_rejected" in outcomes["ics_year"].detail
    assert not path.exists()
    assert _cache.verify_panels() and all(o.status == "ok" for o in _cache.verify_panels())


def test_data_verify_lists_the_panel_caches(tmp_path, env, monkeypatch, no_registry_inputs):
    monkeypatch.setenv(config.CACHE_ENV, env[config.CACHE_ENV])
    _cache.cached_build("trust_year", {"a": 1}, _panel)
    [path] = (Path(env[config.CACHE_ENV]) / "panels").glob("trust_year-*.parquet")

    good = run("data", "verify", "--cached-only", env=env)
    assert good.returncode == 0, good.stderr
    assert "panel" in good.stdout and path.name[:30] in good.stdout and "ok" in good.stdout

    _flip_value(path, VALUES[1], 50.0)
    bad = run("data", "verify", "--cached-only", env=env)
    _one_clear_error(bad, "set aside")
    assert "rejected" in bad.stdout
    assert not path.exists()
    assert list((Path(env[config.CACHE_ENV]) / "_rejected" / "panels").iterdir())


# --- 2. every file a panel reads is in its record --------------------------------------------


def _user_file(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / get(name).filename
    path.write_text(text)
    return path


def test_a_memoised_table_replays_the_files_it_read(tmp_path, cache):
    calls = []

    @store.memoised
    def table(name: str) -> int:
        calls.append(name)
        store.resolve(name, tmp_path / "mine")
        return len(calls)

    _user_file(tmp_path / "mine", "hm_ae", "YEAR,ORG_CODE,AE_SCORE\n2019,RA2,0.91\n")
    with store.recording() as first:
        assert table("hm_ae") == 1
    with store.recording() as second:
        assert table("hm_ae") == 1  # from the memo, and still counted as read
    assert calls == ["hm_ae"]
    assert [f.name for f in first.files] == [f.name for f in second.files] == ["hm_ae"]
    assert second.inputs()[0].verified is False
    # the file changes on disk: the memo is stale and the table is made again from the new bytes
    _user_file(tmp_path / "mine", "hm_ae", "YEAR,ORG_CODE,AE_SCORE\n2019,RA2,0.55\n")
    with store.recording() as third:
        assert table("hm_ae") == 2
    assert third.files[0].sha256 != first.files[0].sha256
    # nested blocks: the outer one sees what the inner one read
    with store.recording() as outer, store.recording() as inner:
        table("hm_ae")
    assert outer.files == inner.files and len(outer.files) == 1


PANELS = {
    "trust_year 2022 headquarters": lambda p: p.trust_year_panel("real", cache=False),
    "trust_year 2026 catchment latest": lambda p: p.trust_year_panel(
        "real", footprint=2026, method="catchment", harmonise_to="latest", cache=False
    ),
    "ics_year 2022 ae_activity": lambda p: p.ics_year_panel(
        "real", method="ae_activity", cache=False
    ),
    "ics_year 2026 headquarters": lambda p: p.ics_year_panel("real", footprint=2026, cache=False),
    "ae_monthly ics 2026 catchment": lambda p: p.ae_monthly(
        "real", level="ics", footprint=2026, method="catchment"
    ),
    "beds_monthly ics": lambda p: p.beds_monthly("real", level="ics"),
    "discharge_monthly trust": lambda p: p.discharge_monthly("real"),
}


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(PANELS))
def test_every_file_a_real_panel_reads_is_in_its_provenance(name, monkeypatch):
    import icsresearch.panel as panels
    import icsresearch.sources
    from icsresearch.panel.real import INPUTS

    # Every module that may bind `resolve` is imported first, so each binding is replaced below
    # (one imported during the build would keep whatever `store.resolve` was at that moment).
    for info in pkgutil.walk_packages(icsresearch.sources.__path__, "icsresearch.sources."):
        importlib.import_module(info.name)
    store.clear_memos()  # every geography and monthly table is read again, from the files
    read = []
    original = store.resolve

    def spy(name, path=None):
        resolved = original(name, path)
        read.append(resolved)
        return resolved

    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("icsresearch") and getattr(module, "resolve", None) is original:
            monkeypatch.setattr(module, "resolve", spy)
    panel = PANELS[name](panels)

    opened = {(f.name, str(f.path), f.sha256, f.verified) for f in read}
    listed = {(i.source, i.path, i.sha256, i.verified) for i in of(panel).inputs}
    assert listed == opened, (sorted(opened - listed), sorted(listed - opened))
    assert len(listed) == len(of(panel).inputs), "each file is listed once"
    # every file read keys the panel cache, so a changed one rebuilds the panel
    assert {f.name for f in read} <= set(INPUTS)
    assert all(i.verified is True for i in of(panel).inputs)


# --- 3. user-supplied files are named ---------------------------------------------------------


def test_unverified_inputs_are_named_once_per_process(tmp_path):
    mine = str(tmp_path / "shmi.csv")
    record = Provenance(
        synthetic=False,
        inputs=(
            InputFile("hm_shmi", mine, "c" * 64, False),
            InputFile("hm_rtt", "/m/RTT.csv", "d" * 64, True),
        ),
    )
    with pytest.warns(UserWarning) as caught:
        named = provenance.warn_unverified(record, "the trust-year panel")
    [warning] = [w for w in caught if mine in str(w.message)]
    message = str(warning.message)
    assert "hm_shmi" in message and "trust-year panel" in message and "verified" in message
    assert "RTT.csv" not in message
    assert [i.path for i in named] == [mine] == [i.path for i in record.unverified]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second use of the same file says nothing more
        assert provenance.warn_unverified(record, "the ICS-year panel") == []


def test_a_cached_panel_names_the_user_file_where_it_is_now(cache, monkeypatch, tmp_path):
    text = "YEAR,ORG_CODE,AE_SCORE\n2019,RA2,0.91\n"
    first = _user_file(tmp_path / "a", "hm_ae", text)
    moved = _user_file(tmp_path / "b", "hm_ae", text)  # the same bytes, elsewhere
    where = [first]
    monkeypatch.setattr(_cache, "_located", lambda: {"hm_ae": store.locate("hm_ae", where[0])})

    def build():
        df = _panel()
        df.attrs["provenance"] = Provenance.record(
            synthetic=False, inputs=[store.resolve("hm_ae", where[0]).input_file()]
        )
        return df

    built = _cache.cached_build("trust_year", {}, build)
    assert [i.path for i in of(built).inputs] == [str(first)]
    first.unlink()
    where[0] = moved

    def must_not_rebuild():
        raise AssertionError("the same bytes: the cached panel answers")

    with store.recording() as log:
        back = _cache.cached_build("trust_year", {}, must_not_rebuild)
    assert [(i.path, i.verified) for i in of(back).inputs] == [(str(moved), False)]
    assert [str(f.path) for f in log.files] == [str(moved)]  # noted as read, as a build would


def _revised_shmi(mirror: Path, folder: Path) -> Path:
    folder.mkdir()
    text = (mirror / get("hm_shmi").path).read_text()
    assert "2012,RA2,0.9447" in text
    path = folder / "shmi.csv"
    path.write_text(text.replace("2012,RA2,0.9447", "2012,RA2,1.5000"))
    return path


@pytest.mark.realdata
def test_a_panel_built_from_a_user_file_names_it_once(mirror, tmp_path):
    from icsresearch.panel import ics_year_panel, trust_year_panel

    revised = _revised_shmi(mirror, tmp_path / "revised")
    with store.use_source_dir(revised.parent):
        with pytest.warns(UserWarning, match=re.escape(str(revised))):
            trusts = trust_year_panel("real")
        with warnings.catch_warnings(record=True) as again:
            warnings.simplefilter("always")
            ics = ics_year_panel("real")
    assert not [w for w in again if str(revised) in str(w.message)], "once per process per file"
    for table in (trusts, ics):
        unverified = of(table).unverified
        assert [(i.source, i.path, i.verified) for i in unverified] == [
            ("hm_shmi", str(revised), False)
        ]


@pytest.mark.realdata
def test_the_command_line_names_a_user_file_it_used(mirror, tmp_path, env):
    revised = _revised_shmi(mirror, tmp_path / "revised")
    env[config.MIRROR_ENV] = str(mirror)
    env[config.CACHE_ENV] = os.environ[config.CACHE_ENV]  # the session's cache: files copied once
    env[store.SOURCE_DIR_ENV] = str(revised.parent)
    out = tmp_path / "trusts.csv"
    result = run("panel", "build", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    stderr = " ".join(result.stderr.split())
    assert str(revised) in stderr and "hm_shmi" in stderr
    manifest = (tmp_path / "trusts.csv.manifest.json").read_text()
    assert str(revised) in manifest and '"verified": false' in manifest


# --- 4. a cache or mirror that cannot be used -------------------------------------------------


def test_a_cache_that_is_a_file_is_named(tmp_path, monkeypatch, env):
    not_a_folder = tmp_path / "cache.txt"
    not_a_folder.write_text("my notes\n")
    monkeypatch.setenv(config.CACHE_ENV, str(not_a_folder))
    with pytest.raises(DataFileError) as info:
        store.fetch("hm_ae", progress=False)
    message = str(info.value)
    assert str(not_a_folder) in message and config.CACHE_ENV in message and "Fix:" in message
    assert "not a folder" in message
    env[config.CACHE_ENV] = str(not_a_folder)
    for args in (["data", "fetch", "hm_ae"], ["data", "list"], ["data", "verify"]):
        _one_clear_error(run(*args, env=env), config.CACHE_ENV, str(not_a_folder), "Fix:")
    assert not_a_folder.read_text() == "my notes\n"  # the user's file is untouched


def test_a_cache_that_cannot_be_created_is_named(tmp_path, monkeypatch, env, mirror):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    cache = blocker / "cache"  # a folder cannot be made inside a file
    monkeypatch.setenv(config.CACHE_ENV, str(cache))
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    with pytest.raises(DataFileError) as info:
        store.fetch(SMALL, progress=False)
    message = str(info.value)
    assert config.CACHE_ENV in message and str(cache) in message and "Fix:" in message
    env[config.CACHE_ENV] = str(cache)
    env[config.MIRROR_ENV] = str(mirror)
    _one_clear_error(run("data", "fetch", SMALL, env=env), config.CACHE_ENV, str(cache))


def test_a_read_only_cache_is_named(cache, monkeypatch, mirror):
    """The operating system refuses every write in the cache (a read-only folder or disk)."""
    cache.mkdir()
    real_mkstemp = tempfile.mkstemp

    def refuse(*args, dir=None, **kwargs):  # noqa: A002 (tempfile's own name)
        if dir is not None and Path(dir).resolve().is_relative_to(cache.resolve()):
            raise PermissionError(13, "Permission denied", str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))  # a good copy to put in the cache
    with pytest.raises(DataFileError) as info:
        store.fetch(SMALL, progress=False)
    message = str(info.value)
    assert config.CACHE_ENV in message and str(cache) in message
    assert "cannot be written" in message and "Fix:" in message


def test_a_panel_cache_that_cannot_be_written_stops_before_the_build(
    cache, monkeypatch, no_registry_inputs
):
    """Minutes of building are not spent on a panel the cache cannot take."""
    (cache / "panels").mkdir(parents=True)
    real_mkstemp = tempfile.mkstemp

    def refuse(*args, dir=None, **kwargs):  # noqa: A002 (tempfile's own name)
        if dir is not None and Path(dir).resolve().is_relative_to(cache.resolve()):
            raise PermissionError(13, "Permission denied", str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)

    def must_not_build():
        raise AssertionError("the cache was known to be unwritable before the build")

    with pytest.raises(DataFileError) as info:
        _cache.cached_build("trust_year", {}, must_not_build)
    message = str(info.value)
    assert config.CACHE_ENV in message and "cannot be written" in message and "Fix:" in message


def test_a_disk_that_fills_up_while_caching_a_panel_leaves_nothing_half_written(
    cache, monkeypatch, no_registry_inputs
):
    def full(path, data):  # atomic_write_bytes removes its temporary file, then raises
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(_cache, "atomic_write_bytes", full)
    with pytest.raises(DataFileError) as info:
        _cache.cached_build("trust_year", {}, _panel)
    message = str(info.value)
    assert "No space left on device" in message and config.CACHE_ENV in message
    assert "Fix:" in message
    assert list((cache / "panels").iterdir()) == []


def _corrupt_cached(cache: Path, name: str) -> Path:
    target = cache / "files" / get(name).path
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the published bytes\n")
    return target


def test_a_corrupted_cached_file_is_not_called_missing(cache):
    target = _corrupt_cached(cache, SMALL)
    with pytest.raises(DataUnavailableError) as info:
        store.fetch(SMALL, progress=False)
    message = str(info.value)
    assert "corrupted" in message and "not in the cache" not in message
    [aside] = (cache / "_rejected").iterdir()
    assert aside.read_bytes() == b"not the published bytes\n"
    assert str(aside) in message and f"icsresearch data fetch {SMALL}" in message
    assert config.MIRROR_ENV in message and get(SMALL).sha256 in message
    assert not target.exists()
    # asked again, the file really is not cached now: the copy set aside is still named
    with pytest.raises(DataUnavailableError) as info:
        store.resolve(SMALL)
    assert str(aside) in str(info.value) and "corrupted" in str(info.value)


def test_a_corrupted_cached_file_through_the_command_line(env):
    cache = Path(env[config.CACHE_ENV])
    _corrupt_cached(cache, SMALL)
    text = _one_clear_error(run("data", "fetch", SMALL, env=env), "corrupted", "_rejected")
    assert f"icsresearch data fetch {SMALL}" in text
    assert "not in the cache" not in text.split("corrupted")[0]


@pytest.mark.parametrize("kind", ["missing", "empty", "a file"])
def test_a_mirror_that_is_missing_or_empty_is_named(kind, tmp_path, cache, monkeypatch, env):
    mirror = tmp_path / "mirror"
    if kind == "empty":
        mirror.mkdir()
    elif kind == "a file":
        mirror.write_text("x")
    expected = {"missing": "does not exist", "empty": "is empty", "a file": "not a folder"}[kind]
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    with pytest.raises((DataFileError, DataUnavailableError)) as info:
        store.fetch("hm_ae", progress=False)
    message = str(info.value)
    assert config.MIRROR_ENV in message and str(mirror) in message and expected in message
    assert "Fix:" in message
    env[config.MIRROR_ENV] = str(mirror)
    text = _one_clear_error(
        run("data", "fetch", "--all", "--quiet", env=env), config.MIRROR_ENV, expected
    )
    assert text.count(expected) == 1, "one message, not one per file"
    # `data verify` advises the mirror for files not cached: a broken one is named, not advised
    _one_clear_error(run("data", "verify", env=env), config.MIRROR_ENV, str(mirror), expected)


def test_a_mirror_without_the_file_says_where_it_looked(tmp_path, cache, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "other").mkdir(parents=True)
    (mirror / "other" / "x.csv").write_text("x\n")
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    with pytest.raises(DataUnavailableError) as info:
        store.fetch("hm_ae", progress=False)
    assert str(mirror / get("hm_ae").path) in str(info.value)


def test_a_corrupted_cached_file_replaced_from_the_mirror_is_said(cache, monkeypatch, mirror):
    """A good copy is at hand: the panel gets the registry's bytes, and the user is told."""
    target = _corrupt_cached(cache, SMALL)
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    with pytest.warns(UserWarning, match="was corrupted") as caught:
        path = store.fetch(SMALL, progress=False)
    assert path == target and store.sha256_of(path) == get(SMALL).sha256
    message = str(caught[0].message)
    [aside] = (cache / "_rejected").iterdir()
    assert str(target) in message and str(aside) in message and "mirror" in message


def test_a_source_dir_that_does_not_exist_is_named(cache, monkeypatch, tmp_path, env):
    """A mistyped ICSRESEARCH_SOURCE_DIR must not quietly give the registry's files instead."""
    typo = tmp_path / "my-nhs-fiels"
    monkeypatch.setenv(store.SOURCE_DIR_ENV, str(typo))
    with pytest.raises(DataFileError) as info:
        store.resolve("hm_ae")
    message = str(info.value)
    assert store.SOURCE_DIR_ENV in message and str(typo) in message and "Fix:" in message
    env[store.SOURCE_DIR_ENV] = str(typo)
    _one_clear_error(
        run("panel", "build", "--out", str(tmp_path / "t.csv"), env=env),
        store.SOURCE_DIR_ENV,
        "does not exist",
    )
    assert not (tmp_path / "t.csv").exists()


# --- 5. the fingerprint of the user-supplied files an output read -----------------------------


def test_the_user_supplied_fingerprint_follows_the_files_not_the_folder(tmp_path):
    def record(*inputs: InputFile) -> dict:
        return Provenance(synthetic=False, inputs=inputs).to_dict()  # as a manifest holds it

    registry_only = record(InputFile("hm_rtt", "/m/RTT.csv", "d" * 64, True))
    mine = InputFile("hm_shmi", str(tmp_path / "a" / "shmi.csv"), "c" * 64, False)
    moved = InputFile("hm_shmi", str(tmp_path / "b" / "shmi.csv"), "c" * 64, False)
    edited = InputFile("hm_shmi", str(tmp_path / "a" / "shmi.csv"), "e" * 64, False)
    rtt = InputFile("hm_rtt", "/m/RTT.csv", "d" * 64, True)

    assert provenance.user_supplied_files(record(mine, rtt)) == [
        {"source": "hm_shmi", "name": "shmi.csv", "sha256": "c" * 64}
    ]
    assert provenance.user_supplied_files(registry_only) == []
    fp = provenance.user_supplied_fingerprint
    assert fp(registry_only) == fp(Provenance(synthetic=True)) == fp(record())
    assert fp(record(mine, rtt)) != fp(registry_only)
    assert fp(record(mine, rtt)) == fp(record(rtt, moved))  # same bytes elsewhere: same input
    assert fp(record(mine)) != fp(record(edited))  # an edited file is another input
    assert fp(record(mine)) == fp(record(mine, mine))  # each file counted once
    # a panel's table gives the same fingerprint as its record
    df = pd.DataFrame({"x": [1]})
    df.attrs["provenance"] = Provenance(synthetic=False, inputs=(mine, rtt))
    assert fp(df) == fp(record(mine, rtt)) and len(fp(df)) == 64
