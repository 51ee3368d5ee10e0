"""The trust-year panel picks up the RTT months the lockfile holds, and says so in its provenance.

With no lockfile nothing changes (the rest of the suite runs without one); with locked March
Full CSV files the panel's RTT series runs past 2018/19, from the 31 March snapshots, and the
locked files are inputs of the panel's record with their sha256 and verified=True.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from icsresearch import config
from icsresearch.releases import add, read, rtt_trust_year
from icsresearch.releases.rtt import panel_inputs
from releases_fixtures import Server, isolate, publish_rtt, rtt_expected

MARCHES = ["2020-03", "2021-03"]  # 2019/20 (bands to 52+) and 2020/21 (also 52+ here)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def work(tmp_path, monkeypatch, server):
    return isolate(tmp_path, monkeypatch, server)


def lock_marches(server):
    pub = publish_rtt(server, [*MARCHES, "2021-04"])
    for p in MARCHES:
        add("rtt", p, p, progress=False)
    add("rtt", "2021-04", "2021-04", progress=False)  # not a March: not a panel year
    return pub


def test_rtt_trust_year_takes_the_march_snapshots(work, server):
    assert panel_inputs() == {}  # no lockfile: nothing for the panels
    pub = lock_marches(server)
    table = rtt_trust_year()
    assert list(table.columns) == [
        "trust_code",
        "year",
        "rtt_18wk_pct",
        "rtt_incomplete_pathways",
        "rtt_within_18wk",
        "snapshot_period",
    ]
    assert sorted(table["year"].unique()) == [2019, 2020]  # March 2020 ends 2019/20
    for march, year in zip(MARCHES, [2019, 2020], strict=True):
        rows = table[table["year"] == year].set_index("trust_code")
        for code, want in rtt_expected(march).items():
            assert rows.loc[code, "rtt_incomplete_pathways"] == want["total"]
            assert rows.loc[code, "rtt_within_18wk"] == want["within"]
            assert rows.loc[code, "rtt_18wk_pct"] == want["pct"]
    assert panel_inputs() == {
        f"release rtt {p}": hashlib.sha256(pub.data[p]).hexdigest() for p in MARCHES
    }


def test_rtt_trust_year_is_empty_without_march_files(work, server):
    publish_rtt(server, ["2021-04"])
    add("rtt", "2021-04", "2021-04", progress=False)
    assert rtt_trust_year().empty


@pytest.mark.realdata
def test_trust_year_panel_extends_rtt_with_the_locked_years(work, server, monkeypatch, tmp_path):
    from icsresearch.panel import trust_year_panel

    before = trust_year_panel("real")  # no lockfile yet
    assert before.dropna(subset=["rtt_18wk_pct"])["year"].max() == 2018
    lock_marches(server)
    server.stop()
    monkeypatch.setenv(config.OFFLINE_ENV, "1")  # the locked files are read from the cache
    after = trust_year_panel("real")  # same cache folder: the locked files change the key
    rtt = after.dropna(subset=["rtt_18wk_pct"])
    assert sorted(rtt["year"].unique())[-2:] == [2019, 2020]
    for march, year in zip(MARCHES, [2019, 2020], strict=True):
        rows = rtt[rtt["year"] == year].set_index("trust_code")
        assert set(rows.index) == {"R0A", "RJ1", "RYJ"}  # NT4 is not an NHS trust
        for code in rows.index:
            want = rtt_expected(march)[code]
            assert rows.loc[code, "rtt_incomplete_pathways"] == want["total"]
            assert rows.loc[code, "rtt_18wk_pct"] == want["pct"]
    # the compilation's years are untouched
    cols = ["trust_code", "year", "rtt_18wk_pct", "rtt_incomplete_pathways", "rtt_within_18wk"]
    old = before[before["year"] <= 2018][cols].reset_index(drop=True)
    same = after[after["year"] <= 2018][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, same)
    # and the panel's record names the locked files, with their hashes, as verified inputs
    record = after.ics.provenance
    locked = {i.source: i for i in record.inputs if i.source.startswith("release ")}
    book = read()
    assert set(locked) == {f"release rtt {p}" for p in MARCHES}
    for p in MARCHES:
        assert locked[f"release rtt {p}"].sha256 == book.get("rtt", p).sha256
        assert locked[f"release rtt {p}"].verified is True
    again = trust_year_panel("real")  # from the panel cache: the same record
    assert {i.source for i in again.ics.provenance.inputs} >= set(locked)
    # the lockfile moved away: the panel is as before (another cache key)
    (work / "icsresearch.lock").rename(tmp_path / "kept.lock")
    pd.testing.assert_frame_equal(trust_year_panel("real"), before)
