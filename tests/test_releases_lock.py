"""`icsresearch data add / lock / verify / fetch --lock` end to end, against a loopback server.

The official releases are hand-made in their documented layouts (tests/releases_fixtures.py)
and served from http.server on 127.0.0.1; ICSRESEARCH_RELEASES_BASE_URL points the catalogue's
landing pages at it. Each test has its own cache, lockfile folder and server.
"""

from __future__ import annotations

import hashlib
import shutil
import tomllib
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from icsresearch import config
from icsresearch.cli import app
from icsresearch.errors import DataUnavailableError
from icsresearch.releases import (
    LockedHashMismatchError,
    _html,
    catalogue,
    files,
    read,
    read_rtt,
)
from releases_fixtures import (  # noqa: F401 (fixtures)
    Server,
    env_fixture,
    isolate,
    publish_rtt,
    rtt_landing_path,
    server_fixture,
    work_fixture,
)

PERIODS = ["2021-02", "2021-03", "2021-04", "2021-05"]  # two landing pages, both band layouts


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def locked(env, server):
    """RTT February-May 2021 published and locked with `icsresearch data add`."""
    pub = publish_rtt(server, PERIODS)
    result = cli("data", "add", "rtt", "--from", PERIODS[0], "--to", PERIODS[-1], "-q")
    assert result.exit_code == 0, result.output
    return pub


def test_add_writes_a_lockfile_and_a_second_run_downloads_nothing(locked, server, env):
    lock = env / "icsresearch.lock"
    raw = tomllib.loads(lock.read_text())
    assert raw["format"] == 1
    entries = {e["period"]: e for e in raw["file"]}
    assert list(entries) == PERIODS
    for p in PERIODS:
        e = entries[p]
        assert e["collection"] == "rtt" and e["layout"] == "full-csv-zip"
        assert e["url"] == server.url + locked.paths[p]  # the link read from the page
        assert e["filename"].startswith(
            f"Full-CSV-data-file-{catalogue.fill('{Mon}{yy}', p, pattern=False)}"
        )
        assert e["sha256"] == sha(locked.data[p]) and e["size"] == len(locked.data[p])
        assert e["landing_page"].endswith(rtt_landing_path(catalogue.template_fields(p)["fy"]))
    # two landing pages (2020-21, 2021-22), each fetched once, and four files
    assert server.hits[rtt_landing_path("2020-21")] == 1
    assert server.hits[rtt_landing_path("2021-22")] == 1
    assert server.total_hits() == 6
    before = lock.read_bytes()
    again = cli("data", "add", "rtt", "--from", PERIODS[0], "--to", PERIODS[-1], "-q")
    assert again.exit_code == 0, again.output
    assert server.total_hits() == 6  # nothing fetched: not a page, not a file
    assert "0 file(s) added" in again.output and "4 already locked; 0 downloaded" in again.output
    assert lock.read_bytes() == before


def test_readers_read_only_the_locked_bytes_and_record_them(locked, env):
    rtt = read_rtt()
    assert sorted(rtt["period"].dt.strftime("%Y-%m").unique()) == PERIODS
    record = rtt.attrs["provenance"]
    assert record.synthetic is False
    assert {i.source for i in record.inputs} == {f"release rtt {p}" for p in PERIODS}
    assert all(i.verified is True for i in record.inputs)
    assert {i.sha256 for i in record.inputs} == {sha(d) for d in locked.data.values()}


def test_a_tampered_cached_file_is_refused_with_both_hashes(locked, env, monkeypatch):
    entry = read().get("rtt", "2021-03")
    cached = files.cached_path(entry)
    cached.write_bytes(cached.read_bytes()[:-10] + b"0123456789")
    bad = sha(cached.read_bytes())
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    with pytest.raises(LockedHashMismatchError) as err:
        read_rtt(periods=["2021-03"])
    message = str(err.value)
    assert entry.sha256 in message and bad in message and "Fix:" in message
    assert not cached.exists()  # set aside, never read again
    assert list((Path(config.cache_dir()) / "_rejected" / "releases").iterdir())
    # online, the refused copy is replaced by the locked bytes, with a warning naming both hashes
    monkeypatch.delenv(config.OFFLINE_ENV)
    cached.write_bytes(b"tampered again")
    with pytest.warns(UserWarning, match=entry.sha256):
        rtt = read_rtt(periods=["2021-03"])
    assert sha(cached.read_bytes()) == entry.sha256 and len(rtt)


def test_a_file_changed_on_the_server_after_locking_is_refused(locked, server, env):
    entry = read().get("rtt", "2021-04")
    files.cached_path(entry).unlink()
    path = locked.paths["2021-04"]
    server.files[path] = (locked.data["2021-04"] + b"revised", "application/zip")
    with pytest.raises(LockedHashMismatchError) as err:
        read_rtt(periods=["2021-04"])
    message = str(err.value)
    assert "has changed since it was locked" in message
    assert entry.sha256 in message and sha(locked.data["2021-04"] + b"revised") in message
    assert "--update" in message
    # the same for `data add` over a locked month: refused, the lockfile unchanged
    before = (env / "icsresearch.lock").read_bytes()
    result = cli("data", "add", "rtt", "--from", "2021-04", "-q")
    assert result.exit_code == 1 and "has changed since it was locked" in result.output
    assert (env / "icsresearch.lock").read_bytes() == before


def test_update_re_pins_a_revised_file_on_purpose(locked, server, env):
    path = locked.paths["2021-04"]
    revised = locked.data["2021-04"] + b"revised"
    server.files[path] = (revised, "application/zip")
    result = cli("data", "add", "rtt", "--from", "2021-04", "--update", "-q")
    assert result.exit_code == 0, result.output
    assert "re-pinned" in result.output and "1 re-pinned" in result.output
    assert read().get("rtt", "2021-04").sha256 == sha(revised)
    assert read().get("rtt", "2021-03").sha256 == sha(locked.data["2021-03"])


def test_lock_check_ok_missing_and_tampered(locked, env, monkeypatch):
    ok = cli("data", "lock", "--check")
    assert ok.exit_code == 0, ok.output
    assert "all 4 locked file(s) present and intact" in ok.output
    book = read()
    missing, tampered = book.get("rtt", "2021-02"), book.get("rtt", "2021-05")
    files.cached_path(missing).unlink()
    files.cached_path(tampered).write_bytes(b"not the locked bytes")
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    result = cli("data", "lock", "--check")
    assert result.exit_code == 1
    out = result.output
    assert missing.filename in out and "1 file(s) locked in" in out
    assert "icsresearch data fetch --lock" in out and "ICSRESEARCH_MIRROR" in out and "Fix:" in out
    assert "tampered" in out and tampered.sha256 in out and sha(b"not the locked bytes") in out
    assert "1 locked file(s) tampered with and 1 missing, of 4" in out
    assert files.cached_path(tampered).exists()  # --check only reads
    listing = cli("data", "lock")
    assert listing.exit_code == 0 and missing.filename in listing.output


def test_offline_everything_locked_still_reads(locked, server, env, monkeypatch):
    server.stop()
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    assert len(read_rtt()) == 4 * 4 * 2  # months x providers x commissioners
    assert cli("data", "lock", "--check").exit_code == 0


def test_offline_missing_locked_files_give_one_message_naming_them(locked, env, monkeypatch):
    book = read()
    gone = [book.get("rtt", "2021-02"), book.get("rtt", "2021-04")]
    for e in gone:
        files.cached_path(e).unlink()
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    with pytest.raises(DataUnavailableError) as err:
        read_rtt()
    message = str(err.value)
    assert message.count("Fix:") == 1 and "2 file(s) locked in" in message
    for e in gone:
        assert e.filename in message and e.url in message
    assert "icsresearch data fetch --lock" in message and "ICSRESEARCH_MIRROR" in message


def test_a_mirror_serves_locked_files_offline(locked, env, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    shutil.copytree(Path(config.cache_dir()) / "releases", mirror / "releases")
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "fresh-cache"))
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    assert cli("data", "lock", "--check").exit_code == 0  # found in the mirror
    assert len(read_rtt()) == 32
    entry = read().get("rtt", "2021-05")
    files.cached_path(entry).unlink()
    (mirror / "releases" / "rtt" / "2021-05" / entry.filename).write_bytes(b"edited")
    with pytest.raises(LockedHashMismatchError, match=entry.sha256):
        read_rtt(periods=["2021-05"])


def test_fetch_lock_downloads_only_the_locked_files(locked, server, env, tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "colleague-cache"))
    before = server.total_hits()
    result = cli("data", "fetch", "--lock", "icsresearch.lock", "-q")
    assert result.exit_code == 0, result.output
    assert "4 locked file(s)" in result.output and "(4 downloaded now)" in result.output
    assert server.total_hits() == before + 4  # the locked URLs only: no landing page
    again = cli("data", "fetch", "--lock", "icsresearch.lock", "-q")
    assert "(0 downloaded now)" in again.output and server.total_hits() == before + 4


def test_data_verify_checks_the_locked_files(locked, env):
    ok = cli("data", "verify", "--cached-only")
    assert ok.exit_code == 0, ok.output
    assert "release rtt 2021-02" in ok.output and "4 locked release file(s) verified" in ok.output
    entry = read().get("rtt", "2021-03")
    files.cached_path(entry).write_bytes(b"x")
    bad = cli("data", "verify", "--cached-only")
    assert bad.exit_code == 1 and entry.sha256 in bad.output and "set aside" in bad.output
    assert not files.cached_path(entry).exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--from", "2019-13", "--to", "2020-01"], "month must be 01-12"),
        (["--from", "2019-4", "--to", "2020-01"], "not YYYY-MM"),
        (["--from", "2020-03", "--to", "2020-01"], "--from 2020-03 is after --to 2020-01"),
        (["--from", "2010-04", "--to", "2010-05"], "no layout of the catalogue covers 2010-04"),
    ],
)
def test_bad_months_give_one_clear_message(env, server, args, expected):
    result = cli("data", "add", "rtt", *args)
    assert result.exit_code == 1
    assert expected in result.output and result.output.count("Fix:") == 1
    assert server.total_hits() == 0 and not (env / "icsresearch.lock").exists()


def test_unknown_collection_says_did_you_mean(env):
    result = cli("data", "add", "rrt", "--from", "2024-04")
    assert result.exit_code == 1 and "Did you mean rtt?" in result.output


def test_a_month_not_published_is_named_and_the_others_are_locked(env, server):
    publish_rtt(server, ["2021-02", "2021-03"])
    result = cli("data", "add", "rtt", "--from", "2021-02", "--to", "2021-04", "-q")
    assert result.exit_code == 1
    assert "rtt 2021-04" in result.output and "HTTP 404" in result.output  # no 2021-22 page
    assert [e.period for e in read().files] == ["2021-02", "2021-03"]


def test_a_server_error_is_retried(env, server):
    publish_rtt(server, ["2021-03"])
    server.fail[rtt_landing_path("2020-21")] = 2  # two 503s, then the page
    result = cli("data", "add", "rtt", "--from", "2021-03", "-q")
    assert result.exit_code == 0, result.output
    assert server.hits[rtt_landing_path("2020-21")] == 3


def test_a_file_that_is_not_a_lockfile_is_never_overwritten(env, server):
    publish_rtt(server, ["2021-03"])
    mine = env / "icsresearch.lock"
    mine.write_text("my notes, not a lockfile\n")
    result = cli("data", "add", "rtt", "--from", "2021-03", "-q")
    assert result.exit_code == 1 and "not a usable icsresearch lockfile" in result.output
    assert mine.read_text() == "my notes, not a lockfile\n"


def test_offline_new_months_cannot_be_looked_up(env, monkeypatch):
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    result = cli("data", "add", "rtt", "--from", "2021-03")
    assert result.exit_code == 1 and "ICSRESEARCH_OFFLINE is set" in result.output


def test_lock_option_and_environment_variable(env, server, tmp_path, monkeypatch):
    publish_rtt(server, ["2021-03"])
    other = tmp_path / "elsewhere" / "project.lock"
    other.parent.mkdir()
    assert cli("data", "add", "rtt", "--from", "2021-03", "--lock", str(other), "-q").exit_code == 0
    assert other.is_file() and not (env / "icsresearch.lock").exists()
    monkeypatch.setenv("ICSRESEARCH_LOCK", str(other))
    assert len(read_rtt()) == 8


def test_links_are_read_from_the_html():
    html = (
        "<html><head><base href='/statistics/wp-content/'></head><body>"
        "<a href='uploads/Full-CSV-data-file-Apr24-ZIP-3M-x1.zip'>Full CSV data file "
        "<span>Apr24</span> (ZIP, 3M)</a>"
        "<a href='https://files.example/A6/SHMI%20data%20files%2C%20Jul20-Jun21.zip'>zip</a>"
        "<a name='anchor'>no href</a><a href='/unclosed'>open"
    )
    found = _html.links(html, "https://www.england.nhs.uk/statistics/page/")
    assert [f.text for f in found] == ["Full CSV data file Apr24 (ZIP, 3M)", "zip", "open"]
    assert found[0].url == (
        "https://www.england.nhs.uk/statistics/wp-content/uploads/"
        "Full-CSV-data-file-Apr24-ZIP-3M-x1.zip"
    )
    assert found[1].filename == "SHMI data files, Jul20-Jun21.zip"
    rtt = catalogue.collection("rtt").layouts[0]
    hits = _html.matching(
        found,
        text=catalogue.fill(rtt.link_text, "2024-04", pattern=True),
        href=catalogue.fill(rtt.link_href, "2024-04", pattern=True),
    )
    assert [h.filename for h in hits] == ["Full-CSV-data-file-Apr24-ZIP-3M-x1.zip"]
    shmi = catalogue.collection("shmi").layouts[0]
    assert _html.matching(found, href=catalogue.fill(shmi.link_href, "2021-06", pattern=True))


def test_several_matching_links_lock_the_first_with_a_warning(env, server):
    pub = publish_rtt(server, ["2021-03"])
    path = rtt_landing_path("2020-21")
    body, kind = server.files[path]
    extra = pub.paths["2021-03"].replace(".zip", "-revised.zip")
    server.put(extra, pub.data["2021-03"], "application/zip")
    server.files[path] = (
        body.replace(
            b"</ul>",
            f'<li><a href="{extra}">Full CSV data file Mar21 revised</a></li></ul>'.encode(),
        ),
        kind,
    )
    from icsresearch.releases import add

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = add("rtt", "2021-03", "2021-03", progress=False)
    assert report.added[0].url == server.url + pub.paths["2021-03"]
    assert any("2 links" in str(w.message) for w in caught)
