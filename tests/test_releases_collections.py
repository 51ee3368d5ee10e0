"""Issue 17's "done when", collection by collection, against the loopback server.

For each collection: `icsresearch data add` over a range of months writes the lockfile (the
links read from the pages, the bytes served, their sha256), a second run fetches nothing, the
reader reads exactly the locked files (verified in its provenance), unplugged (server stopped,
ICSRESEARCH_OFFLINE=1) everything locked still reads, and a tampered file is refused with both
hashes. The panel half of the "done when" is in test_releases_panel.py.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from icsresearch import config, releases
from icsresearch.cli import app
from icsresearch.releases import LockedHashMismatchError, catalogue, files, read
from releases_fixtures import (  # noqa: F401 (fixtures)
    Server,
    env_fixture,
    isolate,
    publish_ae,
    publish_shmi,
    server_fixture,
    work_fixture,
)
from releases_fixtures_more import (
    publish_ambsys,
    publish_cancer,
    publish_dm01,
    publish_kh03,
    publish_staff_survey,
    publish_workforce,
)


@dataclass(frozen=True)
class Case:
    """One collection: the range asked for, the periods it holds, and how they are published."""

    collection: str
    start: str
    end: str
    periods: tuple[str, ...]
    publish: Callable[[Server], dict[str, bytes]]


CASES = [
    Case("workforce", "2023-08", "2023-09", ("2023-08", "2023-09"),
         lambda s: publish_workforce(s, ["2023-08", "2023-09"])),
    Case("kh03", "2023-04", "2024-03", ("2023-06", "2023-09", "2023-12", "2024-03"),
         lambda s: publish_kh03(s, ["2023-06", "2023-09", "2023-12", "2024-03"])),
    Case("dm01", "2024-02", "2024-04", ("2024-02", "2024-03", "2024-04"),
         lambda s: publish_dm01(s, ["2024-02", "2024-03", "2024-04"])),
    Case("ambsys", "2024-03", "2024-04", ("2024-03", "2024-04"),
         lambda s: publish_ambsys(s, ["2024-03", "2024-04"])["ambsys"]),
    Case("ambsys_series", "2024-03", "2024-04", ("2024-03", "2024-04"),
         lambda s: publish_ambsys(s, ["2024-03", "2024-04"])["ambsys_series"]),
    Case("cancer", "2023-09", "2023-10", ("2023-09", "2023-10"),
         lambda s: publish_cancer(s, ["2023-09", "2023-10"])),
    Case("staff_survey", "2022-01", "2023-12", ("2022-09", "2023-09"),
         lambda s: publish_staff_survey(s, [2022, 2023])),
    Case("shmi", "2024-03", "2024-03", ("2024-03",), lambda s: publish_shmi(s, ["2024-03"])),
    Case("ae", "2024-03", "2024-04", ("2024-03", "2024-04"),
         lambda s: publish_ae(s, ["2024-03", "2024-04"])["ae"]),
    Case("ae_provider", "2024-03", "2024-04", ("2024-03", "2024-04"),
         lambda s: publish_ae(s, ["2024-03", "2024-04"])["ae_provider"]),
]  # fmt: skip


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def reader(collection: str):
    module, func = catalogue.collection(collection).reader.split(":")
    return getattr(getattr(releases, module), func)


@pytest.mark.parametrize("case", CASES, ids=[c.collection for c in CASES])
def test_add_lock_rerun_unplug_and_tamper(case, env, server, monkeypatch):
    published = case.publish(server)
    added = cli("data", "add", case.collection, "--from", case.start, "--to", case.end, "-q")
    assert added.exit_code == 0, added.output
    raw = tomllib.loads((env / "icsresearch.lock").read_text())
    entries = {e["period"]: e for e in raw["file"]}
    assert tuple(entries) == case.periods
    for p, e in entries.items():
        assert e["collection"] == case.collection
        assert e["sha256"] == sha(published[p]) and e["size"] == len(published[p])
        assert e["layout"] == catalogue.collection(case.collection).layout_for(p).name
    hits = server.total_hits()
    again = cli("data", "add", case.collection, "--from", case.start, "--to", case.end, "-q")
    assert again.exit_code == 0, again.output
    assert server.total_hits() == hits, "a second run fetched something"
    assert (
        "0 file(s) added" in again.output and f"{len(case.periods)} already locked" in again.output
    )

    read_it = reader(case.collection)
    table = read_it()
    inputs = table.attrs["provenance"].inputs
    assert {i.source for i in inputs} == {f"release {case.collection} {p}" for p in case.periods}
    assert all(i.verified is True for i in inputs) and table.attrs["verified"] is True
    # unplugged: the server gone and strict offline, everything locked still reads
    server.stop()
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    again = read_it()
    assert len(again) == len(table)
    assert cli("data", "lock", "--check").exit_code == 0
    # a tampered file is refused with both hashes, and never read
    entry = read().get(case.collection, case.periods[-1])
    cached = files.cached_path(entry)
    cached.write_bytes(cached.read_bytes() + b"tampered")
    bad = sha(cached.read_bytes())
    with pytest.raises(LockedHashMismatchError) as err:
        read_it(periods=[case.periods[-1]])
    assert entry.sha256 in str(err.value) and bad in str(err.value) and "Fix:" in str(err.value)
    assert not cached.exists()


def test_a_quarterly_collection_needs_a_quarter_in_the_range(env, server):
    result = cli("data", "add", "kh03", "--from", "2024-04")
    assert result.exit_code == 1 and result.output.count("Fix:") == 1
    assert "--from 2024-06" in result.output and server.total_hits() == 0


def test_collections_are_listed_with_their_status(env):
    result = cli("data", "collections")
    assert result.exit_code == 0, result.output
    for name in catalogue.collections():
        assert name in result.output
    assert "fixtures only" in result.output
