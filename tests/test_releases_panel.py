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
from icsresearch.releases.panel import panel_inputs
from releases_fixtures import (  # noqa: F401 (fixtures)
    Server,
    isolate,
    publish_rtt,
    rtt_expected,
    server_fixture,
    work_fixture,
)

MARCHES = ["2020-03", "2021-03"]  # 2019/20 (bands to 52+) and 2020/21 (also 52+ here)


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


# --- workforce, SHMI and KH03 after the compilations ------------------------------------------

WF_SEPTEMBERS = ["2019-09", "2020-09"]  # 2019/20 and 2020/21
SHMI_WINDOWS = ["2020-03", "2021-03"]  # April-March windows: 2019/20 and 2020/21
KH03_QUARTERS = ["2019-06", "2019-09", "2019-12", "2020-03"]  # all of 2019/20


def lock_the_rest(server):
    from releases_fixtures import publish_shmi
    from releases_fixtures_more import publish_kh03, publish_workforce

    publish_workforce(server, [*WF_SEPTEMBERS, "2020-10"])
    publish_shmi(server, SHMI_WINDOWS)
    publish_kh03(server, [*KH03_QUARTERS, "2020-06"])  # 2020/21 has one quarter: not a year
    for p in WF_SEPTEMBERS:
        add("workforce", p, p, progress=False)
    add("workforce", "2020-10", "2020-10", progress=False)  # not a September: not read
    for p in SHMI_WINDOWS:
        add("shmi", p, p, progress=False)
    add("kh03", "2019-04", "2020-06", progress=False)


def test_trust_year_tables_of_the_locked_collections(work, server):
    from icsresearch.releases import kh03_trust_year, shmi_trust_year, workforce_trust_year
    from icsresearch.releases.panel import panel_inputs as all_inputs
    from releases_fixtures import shmi_rows
    from releases_fixtures_more import kh03_expected, workforce_expected

    assert all_inputs() == {} and workforce_trust_year().empty and kh03_trust_year().empty
    lock_the_rest(server)
    wf = workforce_trust_year().set_index(["trust_code", "year"])
    for p, year in zip(WF_SEPTEMBERS, [2019, 2020], strict=True):
        for code, want in workforce_expected(p).items():
            for col in ("managers_fte", "consultants_fte", "nurses_fte", "all_staff_fte"):
                assert abs(wf.loc[(code, year), col] - want[col]) < 0.01
    assert set(wf.index.get_level_values("year")) == {2019, 2020}  # October 2020 left out
    sh = shmi_trust_year().set_index(["trust_code", "year"])
    for p, year in zip(SHMI_WINDOWS, [2019, 2020], strict=True):
        for code, _, shmi, _, _, observed, expected in shmi_rows(p):
            assert sh.loc[(code, year), "shmi"] == shmi
            assert sh.loc[(code, year), "observed_deaths"] == observed
            assert sh.loc[(code, year), "expected_deaths"] == expected
    beds = kh03_trust_year().set_index("trust_code")
    assert set(beds["year"]) == {2019} and beds["quarters"].eq(4).all()
    for code in ("R0A", "RJ1", "RYJ"):
        q = [kh03_expected(p)[code] for p in KH03_QUARTERS]
        avail = sum(x["available_total"] for x in q) / 4
        occupied = sum(x["occupied_total"] for x in q) / 4
        assert abs(beds.loc[code, "beds_available"] - avail) < 1e-6
        assert abs(beds.loc[code, "occupancy_pct"] - 100 * occupied / avail) < 1e-6
    inputs = all_inputs()
    book = read()
    want = [("workforce", p) for p in WF_SEPTEMBERS] + [("shmi", p) for p in SHMI_WINDOWS]
    want += [("kh03", p) for p in KH03_QUARTERS]
    assert inputs == {f"release {c} {p}": book.get(c, p).sha256 for c, p in want}


@pytest.mark.realdata
def test_panels_extend_workforce_shmi_and_beds_from_the_lockfile(
    work, server, monkeypatch, tmp_path
):
    from icsresearch.panel import ics_year_panel, trust_year_panel
    from releases_fixtures import shmi_rows
    from releases_fixtures_more import workforce_expected

    cols = ["managers_fte", "consultants_fte", "nurses_fte", "shmi", "beds_available"]
    before = trust_year_panel("real")  # no lockfile yet
    for c in cols:  # the compilations end in 2018/19
        assert before.dropna(subset=[c])["year"].max() <= 2018, c
    lock_the_rest(server)
    server.stop()
    monkeypatch.setenv(config.OFFLINE_ENV, "1")  # unplugged: the locked files are in the cache
    after = trust_year_panel("real")
    rows = after.set_index(["trust_code", "year"])
    for p, year in zip(WF_SEPTEMBERS, [2019, 2020], strict=True):
        for code, want in workforce_expected(p).items():
            assert abs(rows.loc[(code, year), "managers_fte"] - want["managers_fte"]) < 0.01
            assert abs(rows.loc[(code, year), "doctors_fte"] - want["doctors_fte"]) < 0.01
    for p, year in zip(SHMI_WINDOWS, [2019, 2020], strict=True):
        for code, _, shmi, *_rest in shmi_rows(p):
            assert rows.loc[(code, year), "shmi"] == shmi
    assert rows.loc[("R0A", 2019), "beds_available"] > 0
    assert pd.isna(rows.loc[("R0A", 2020), "beds_available"])  # one quarter is not a year
    # the compilations' years are untouched
    cols_all = ["trust_code", "year", *cols, "occupancy_pct", "all_staff_fte"]
    pd.testing.assert_frame_equal(
        before[before["year"] <= 2018][cols_all].reset_index(drop=True),
        after[after["year"] <= 2018][cols_all].reset_index(drop=True),
    )
    record = {i.source: i for i in after.ics.provenance.inputs}
    for c, p in [("workforce", "2019-09"), ("shmi", "2021-03"), ("kh03", "2019-12")]:
        assert record[f"release {c} {p}"].verified is True
        assert record[f"release {c} {p}"].sha256 == read().get(c, p).sha256
    assert "release workforce 2020-10" not in record
    # the ICS-year panel carries them through its aggregation
    ics = ics_year_panel("real")
    in_2019 = after[(after["year"] == 2019) & after["managers_fte"].notna()]
    for icb, part in in_2019.groupby("icb_code"):
        row = ics[(ics["icb_code"] == icb) & (ics["year"] == 2019)].iloc[0]
        assert abs(row["managers_fte"] - part["managers_fte"].sum()) < 1e-6
    shmi_2019 = after[(after["year"] == 2019) & after["shmi"].notna()]
    assert len(shmi_2019) == 3  # one trust per system here: the system's SHMI is its trust's
    for icb, part in shmi_2019.groupby("icb_code"):
        row = ics[(ics["icb_code"] == icb) & (ics["year"] == 2019)].iloc[0]
        assert row["shmi"] == pytest.approx(part["shmi"].iloc[0])
    assert record.keys() <= {i.source for i in ics.ics.provenance.inputs}
    # the lockfile moved away: the panel is as before (another cache key)
    (work / "icsresearch.lock").rename(tmp_path / "kept.lock")
    pd.testing.assert_frame_equal(trust_year_panel("real"), before)


@pytest.mark.realdata
def test_a_release_locked_after_the_panels_last_year_extends_the_panels(work, server, monkeypatch):
    """March 2026 ends 2025/26, after the panel's own last year (2024/25): it reaches the panels
    (before: read, then cut off with the years after LAST_YEAR, without a word)."""
    from icsresearch.panel import ics_year_panel, trust_year_panel
    from icsresearch.panel.real import LAST_YEAR
    from icsresearch.releases.panel import last_locked_year

    assert last_locked_year() is None and LAST_YEAR == 2024
    publish_rtt(server, ["2026-03"])
    add("rtt", "2026-03", "2026-03", progress=False)
    server.stop()
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    assert last_locked_year() == 2025
    trusts = trust_year_panel("real")
    assert trusts["year"].max() == 2025
    latest = trusts[trusts["year"] == 2025].dropna(subset=["rtt_18wk_pct"]).set_index("trust_code")
    assert set(latest.index) == {"R0A", "RJ1", "RYJ"}
    for code in latest.index:
        assert latest.loc[code, "rtt_18wk_pct"] == rtt_expected("2026-03")[code]["pct"]
    systems = ics_year_panel("real")
    assert systems["year"].max() == 2025
    assert systems.loc[systems["year"] == 2025, "rtt_incomplete_pathways"].notna().any()
