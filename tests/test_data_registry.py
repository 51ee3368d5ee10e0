"""The registry and the cache/mirror/network fetcher."""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import http.server
import importlib
import io
import re
import shutil
import threading
from pathlib import Path

import pytest

from icsresearch import config
from icsresearch.data import store as store
from icsresearch.data.registry import REGISTRY, get
from icsresearch.errors import (
    DataFileError,
    DataUnavailableError,
    HashMismatchError,
    UnknownDatasetError,
)

SMALL = "hm_cqc_rating_scores"  # a 78-byte file: cheap to copy and corrupt


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(config.CACHE_ENV, str(cache))
    return cache


@pytest.mark.realdata
def test_every_shared_file_is_in_the_registry_with_the_same_hash(mirror):
    with open(mirror / "sources.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_path = {e.path: e for e in REGISTRY.values()}
    assert len(rows) == len(REGISTRY)
    for row in rows:
        entry = by_path[row["local_path"]]
        assert entry.sha256 == row["sha256"]
        assert entry.url == row["url"]
        assert entry.size == int(row["bytes"])
        # and the mirror really holds those bytes
        assert (
            hashlib.sha256((mirror / row["local_path"]).read_bytes()).hexdigest() == row["sha256"]
        )


#: The columns of registry.csv, in order, and the type each value must parse to.
REGISTRY_COLUMNS = {
    "name": str,
    "path": str,
    "url": str,
    "sha256": str,
    "size": int,
    "licence": str,
    "publisher": str,
    "citation": str,
    "description": str,
    "years": str,
    "year_convention": str,
    "reader": str,
}


def _registry_rows() -> tuple[list[str], list[dict[str, str]]]:
    """registry.csv read straight from the package with the csv module (not the package's loader)."""
    from importlib import resources

    text = resources.files("icsresearch.data").joinpath("registry.csv").read_text("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_the_registry_data_file_has_its_schema():
    header, rows = _registry_rows()
    assert header == list(REGISTRY_COLUMNS)
    assert rows and all(
        None not in row and all(v is not None for v in row.values()) for row in rows
    )
    names = [r["name"] for r in rows]
    paths = [r["path"] for r in rows]
    assert len(set(names)) == len(names), "registry names repeat"
    assert len(set(paths)) == len(paths), "registry paths repeat"
    for r in rows:
        assert re.fullmatch(r"[a-z0-9_]+", r["name"]), r["name"]
        assert re.fullmatch(r"[0-9a-f]{64}", r["sha256"]), r["name"]
        assert re.fullmatch(r"[1-9][0-9]*", r["size"]), r["name"]  # a positive whole number
        assert r["url"].startswith("https://raw.githubusercontent.com/"), r["name"]
        for column in ("path", "licence", "publisher", "citation", "description", "years"):
            assert r[column].strip() == r[column] and r[column], (r["name"], column)
        module, _, func = r["reader"].partition(":")
        reader = getattr(importlib.import_module(f"icsresearch.sources.{module}"), func, None)
        assert callable(reader), (r["name"], r["reader"])
    # the package's registry is exactly the file: same names in the same order, same values
    assert list(REGISTRY) == names
    for r in rows:
        entry = REGISTRY[r["name"]]
        for column, kind in REGISTRY_COLUMNS.items():
            assert getattr(entry, column) == kind(r[column]), (r["name"], column)


def test_registry_entries_are_complete():
    for entry in REGISTRY.values():
        assert entry.url.startswith("https://raw.githubusercontent.com/"), entry.name
        assert len(entry.sha256) == 64 and int(entry.sha256, 16) >= 0
        assert entry.licence and entry.publisher and entry.citation and entry.description
        assert ":" in entry.reader


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownDatasetError, match="hm_ae"):
        get("hm_aee")


@pytest.mark.realdata
def test_fetch_copies_from_mirror_after_checking_the_hash(mirror, fresh_cache):
    path = store.fetch(SMALL, progress=False)
    assert path == fresh_cache / "files" / get(SMALL).path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == get(SMALL).sha256
    assert store.is_cached(SMALL)


def _corrupt_mirror(mirror: Path, tmp_path: Path, name: str) -> Path:
    bad_mirror = tmp_path / "bad-mirror"
    target = bad_mirror / get(name).path
    target.parent.mkdir(parents=True)
    shutil.copyfile(mirror / get(name).path, target)
    with open(target, "ab") as fh:
        fh.write(b"Excellent,4\n")  # a "revised" file
    return bad_mirror


@pytest.mark.realdata
def test_a_revised_mirror_file_is_refused_and_kept_aside(
    mirror, fresh_cache, tmp_path, monkeypatch
):
    bad_mirror = _corrupt_mirror(mirror, tmp_path, SMALL)
    monkeypatch.setenv(config.MIRROR_ENV, str(bad_mirror))
    with pytest.raises(HashMismatchError) as info:
        store.fetch(SMALL, progress=False)
    err = info.value
    message = str(err)
    assert get(SMALL).sha256 in message and err.actual in message
    assert SMALL in message and str(bad_mirror / get(SMALL).path) in message
    assert err.kept is not None and err.kept.is_file()
    assert err.kept.read_bytes() == (bad_mirror / get(SMALL).path).read_bytes()
    assert not store.is_cached(SMALL), "a file with the wrong hash must never enter the cache"


@pytest.mark.realdata
def test_a_tampered_cache_file_is_replaced_from_the_mirror(mirror, fresh_cache):
    path = store.fetch(SMALL, progress=False)
    path.write_bytes(b"RATING,SCORE\nGood,9\n")
    assert store.fetch(SMALL, progress=False) == path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == get(SMALL).sha256
    rejected = list((fresh_cache / "_rejected").iterdir())
    assert len(rejected) == 1 and rejected[0].read_bytes() == b"RATING,SCORE\nGood,9\n"


def test_offline_without_mirror_names_the_files_and_both_ways(fresh_cache, monkeypatch):
    monkeypatch.delenv(config.MIRROR_ENV, raising=False)
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    with pytest.raises(DataUnavailableError) as info:
        store.fetch("hm_ae", progress=False)
    message = str(info.value)
    assert "hm_ae" in message and get("hm_ae").url in message
    assert "icsresearch data fetch hm_ae" in message and config.MIRROR_ENV in message


def test_verify_sets_aside_a_cached_file_with_the_wrong_hash(fresh_cache):
    entry = get(SMALL)
    target = fresh_cache / "files" / entry.path
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the published bytes\n")
    outcome = {o.name: o for o in store.verify([SMALL, "hm_ae"])}
    assert outcome[SMALL].status == "rejected" and entry.sha256 in outcome[SMALL].detail
    assert outcome["hm_ae"].status == "not cached"
    assert not target.exists()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def http_mirror(mirror):
    """Serve the mirror over loopback HTTP, standing in for raw.githubusercontent.com."""
    handler = functools.partial(_QuietHandler, directory=str(mirror))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.realdata
def test_download_checks_the_hash(http_mirror, fresh_cache, monkeypatch):
    monkeypatch.delenv(config.MIRROR_ENV, raising=False)
    monkeypatch.setenv(config.OFFLINE_ENV, "0")
    good = get("hm_ae")
    monkeypatch.setitem(
        REGISTRY, "hm_ae", dataclasses.replace(good, url=f"{http_mirror}/{good.path}")
    )
    path = store.fetch("hm_ae", progress=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == good.sha256
    # A URL serving other bytes (here: another file) is refused and nothing is cached.
    wrong = get("hm_rtt")
    monkeypatch.setitem(
        REGISTRY, "hm_rtt", dataclasses.replace(wrong, url=f"{http_mirror}/{good.path}")
    )
    with pytest.raises(HashMismatchError):
        store.fetch("hm_rtt", progress=False)
    assert not store.is_cached("hm_rtt")
    assert not list(path.parent.glob(".*.download")), "no partial download is left behind"


def test_download_failure_is_a_clear_message(fresh_cache, monkeypatch):
    monkeypatch.delenv(config.MIRROR_ENV, raising=False)
    monkeypatch.setenv(config.OFFLINE_ENV, "0")
    entry = get("hm_ae")
    monkeypatch.setitem(
        REGISTRY, "hm_ae", dataclasses.replace(entry, url="http://127.0.0.1:9/AE.csv")
    )
    with pytest.raises(DataUnavailableError, match="Download of 'hm_ae'.*failed"):
        store.fetch("hm_ae", progress=False)


def test_user_supplied_file_skips_the_hash_check(tmp_path):
    own = tmp_path / "AE.csv"
    own.write_text("YEAR,ORG_CODE,AE_SCORE\n2019,RA2,0.91\n")
    resolved = store.resolve("hm_ae", own)
    assert resolved.path == own and not resolved.verified and resolved.origin == "user-supplied"
    # a folder holding the published file name works too
    assert store.resolve("hm_ae", tmp_path).path == own
    with store.use_source_dir(tmp_path):
        assert store.resolve("hm_ae").path == own


def test_user_supplied_path_that_does_not_exist(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        store.resolve("hm_ae", tmp_path / "nope.csv")
    with pytest.raises(DataFileError, match="has no file named 'AE.csv'"):
        store.resolve("hm_ae", tmp_path)


def test_data_readme_documents_every_registry_file():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "data" / "README.md").read_text()
    missing = [name for name in REGISTRY if f"`{name}`" not in readme]
    assert not missing, f"data/README.md does not describe {missing}"
