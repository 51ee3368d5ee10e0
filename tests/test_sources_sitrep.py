"""Discharge Delays (Acute) SitRep readers on the 22 genuine monthly workbooks and the series.

Every month is read and checked against an independent read of its raw sheets with
python_calamine (the test finds the ENGLAND row and the section headers itself), against the
arithmetic the publisher's notes promise (regions sum to England; ICB discharges fall short by
the hospice discharges of Table 4), and against the national time series. Hand-made workbooks
in the published layout (written with openpyxl) check that bad input gives one clear error.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

import icsresearch
from icsresearch.data.registry import get
from icsresearch.errors import DataFileError, InvalidParameterError
from icsresearch.sources import read, schema
from icsresearch.sources.sitrep import (
    FAMILY,
    SCHEMA,
    SERIES,
    read_discharge_sitrep,
    read_discharge_sitrep_series,
)

pytestmark = pytest.mark.realdata

DIR = "Intermediate-care-open-data-clean/Raw_data/Acute_SitRep_data"
T2_HEADINGS = {  # the test's own reading of the three Table 2 headings
    "Number of patients who no longer meet the criteria to reside": "not_meeting_criteria",
    "Number of patients discharged": "discharged",
    "Number of patients remaining in hospital who no longer meet the criteria to reside": "remaining",
}


def _month(name: str) -> pd.Timestamp:
    y, m = name.rsplit("_", 2)[-2:]
    return pd.Timestamp(int(y), int(m), 1)


def _file(name: str) -> str:
    m = _month(name)
    return f"{calendar.month_name[m.month].lower()}{m.year}.xlsx"


@functools.cache
def _read(name: str) -> pd.DataFrame:
    return read_discharge_sitrep(dataset=name)


@functools.cache
def _series() -> pd.DataFrame:
    return read_discharge_sitrep_series()


@functools.cache
def _icbs_2022() -> dict[str, str]:
    """ICB ODS code -> region (upper case) of the 42 ICBs of 2022, from the package's own table."""
    layout = Path(icsresearch.__file__).parent / "tables" / "ics_tile_layout.csv"
    with open(layout, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["footprint"] == "2022"]
    return {r["icb_code"]: r["region"].upper() for r in rows}


@functools.cache
def _raw(path: str, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(path).get_sheet_by_name(sheet).to_python()


def _raw_table(mirror, name: str, sheet: str) -> dict:
    """An independent parse of one raw table sheet: rows and columns by their text."""
    grid = _raw(str(mirror / get(name).path), sheet)
    eng = next(i for i, r in enumerate(grid) if any(str(v).startswith("ENGLAND") for v in r))
    ncol = next(j for j, v in enumerate(grid[eng]) if str(v).startswith("ENGLAND"))
    icb = next(i for i, r in enumerate(grid) if "ICB Code" in r)
    org = next(i for i, r in enumerate(grid) if "Org Code" in r)
    regions = [r for r in grid[eng + 1 : icb] if r[ncol] != ""]
    icbs = [r for r in grid[icb + 1 : org] if r[ncol - 1] != ""]
    trusts = [r for r in grid[org + 1 :] if r[ncol - 1] != ""]
    return {
        "grid": grid,
        "england": grid[eng],
        "first": ncol + 1,
        "heads": grid[eng - 1],
        "dates": grid[eng - 2],
        "regions": regions,
        "icbs": icbs,
        "trusts": trusts,
    }


# --- every month against its raw workbook ------------------------------------------------


@pytest.mark.parametrize("name", FAMILY)
def test_every_month_matches_its_raw_workbook(mirror, name):
    df = _read(name)
    month = _month(name)
    days = pd.date_range(month, month + pd.offsets.MonthEnd(0), freq="D")
    raw = _raw_table(mirror, name, "Table 2")

    # all tables, all levels, the month, documentation
    assert set(df["table"]) == {"table1", "table2", "table3", "table4", "table5"}
    for t in ("table2", "table3", "table4", "table5"):
        assert set(df.loc[df.table == t, "level"]) == {"england", "region", "icb", "trust"}, t
    assert (df["month"] == month).all()
    assert df.attrs["source"] == name and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns) == set(SCHEMA.names)
    assert set(df.attrs["measures"]) == set(df["measure"])
    assert not df.duplicated(list(SCHEMA.key)).any()

    # Table 2: the days of the month, the row count, England values at several days
    t2 = df[df.table == "table2"]
    assert list(pd.DatetimeIndex(sorted(t2["date"].unique()))) == list(days)
    raw_days = [v for v in raw["dates"][raw["first"] :] if v != ""]
    assert [pd.Timestamp(d) for d in raw_days] == list(days)
    n_orgs = 1 + len(raw["regions"]) + len(raw["icbs"]) + len(raw["trusts"])
    assert len(t2) == n_orgs * len(days) * 3
    eng = t2[t2.level == "england"].set_index(["date", "measure"])["value"]
    for k in (0, len(days) // 2, 18, len(days) - 1):  # day 19: 19 June 2022 not collected
        for m in range(3):
            col = raw["first"] + 3 * k + m
            measure = T2_HEADINGS[raw["heads"][col]]
            published = raw["england"][col]
            got = eng[(days[k], measure)]
            if days[k] == pd.Timestamp("2022-06-19"):  # not collected: published 0, read missing
                assert published == 0 and np.isnan(got)
            else:
                assert got == published, (days[k], measure)

    # regions sum exactly to England; ICBs fall short on 'discharged' by the hospice discharges
    wide = t2.groupby(["date", "measure", "level"])["value"].sum(min_count=1).unstack("level")
    present = eng.notna()
    assert present.sum() == len(eng) - (3 if name == "discharge_sitrep_2022_06" else 0)
    assert (wide["region"].reindex(eng.index)[present] == eng[present]).all()
    icb_gap = (wide["england"] - wide["icb"]).unstack("measure")
    assert (icb_gap["not_meeting_criteria"].dropna() == 0).all()
    assert (icb_gap["discharged"].dropna() == -icb_gap["remaining"].dropna()).all()
    t4 = _raw_table(mirror, name, "Table 4")
    hospice_col = next(j for j, h in enumerate(t4["heads"]) if "Hospice" in str(h))
    assert icb_gap["discharged"].sum() == t4["england"][hospice_col] > 300
    assert (
        df.query("table == 'table4' and level == 'england' and measure == 'p2_hospice'")[
            "value"
        ].squeeze()
        == t4["england"][hospice_col]
    )

    # ICBs: 42 valid Q-codes, as published; trusts: the organisations in scope
    icbs = sorted(t2.loc[t2.level == "icb", "org_code"].unique())
    assert len(icbs) == 42 and all(re.fullmatch(r"Q[A-Z0-9]{2}", c) for c in icbs)
    assert icbs == sorted(r[raw["first"] - 2] for r in raw["icbs"])
    # ... the 42 ICBs of the 2022 footprint (the package's tile layout), in the same regions
    ref = _icbs_2022()
    icb_regions = t2[t2.level == "icb"].drop_duplicates("org_code").set_index("org_code")
    assert icb_regions["region_name"].to_dict() == ref
    trusts = t2.loc[t2.level == "trust", "org_code"].unique()
    title = _raw(str(mirror / get(name).path), "Table 1")[0][0]
    scope = int(re.search(r"scope=(\d+)", title)[1])
    assert len(trusts) == len(raw["trusts"]) == scope
    assert len(trusts) == (
        121
        if month < pd.Timestamp("2023-04-01")
        else 120
        if month < pd.Timestamp("2023-07-01")
        else 119
    )

    # Table 3: week-commencing dates parsed from the raw labels, near the month
    t3 = _raw_table(mirror, name, "Table 3")
    labels = [v for v in t3["dates"][t3["first"] :] if v != ""]
    weeks = [pd.Timestamp(dt.datetime.strptime(v.split()[1], "%d/%m/%Y")) for v in labels]
    got_weeks = sorted(df.loc[df.table == "table3", "date"].unique())
    assert list(pd.DatetimeIndex(got_weeks)) == weeks
    assert weeks[0] >= month - pd.Timedelta(days=6) and weeks[-1] <= days[-1]
    e3 = df.query("table == 'table3' and level == 'england' and date == @weeks[0]")
    assert e3.set_index("measure")["value"].tolist() == t3["england"][t3["first"] : t3["first"] + 3]
    # Tables 4-5 are dated by the month
    assert (df.loc[df.table.isin(["table4", "table5"]), "date"] == month).all()

    # completeness: days, trusts, trust-days not submitted ('-' in the raw trust rows)
    c = df.attrs["completeness"]
    dashes = sum(r[j] == "-" for r in raw["trusts"] for j in range(raw["first"], len(r), 3))
    assert c["trust_days_not_submitted"] == dashes
    assert c["share_trust_days_not_submitted"] == pytest.approx(
        dashes / (scope * len(days)), abs=1e-6
    )
    assert c["days"] == c["days_in_month"] == len(days) == c["periods_present"]
    assert c["missing_periods"] == [] and c["trusts"] == scope and c["icbs"] == 42
    assert c["organisations_in_scope"] == scope and c["weeks"] == [
        w.date().isoformat() for w in weeks
    ]


def test_month_by_month_facts_of_the_layouts(mirror):
    """What changes between months: trusts in scope, weeks, missing submissions, oddities."""
    c = {n: _read(n).attrs["completeness"] for n in FAMILY}
    assert [c[n]["trusts"] for n in FAMILY] == [121] * 12 + [120] * 3 + [119] * 7
    assert [len(c[n]["weeks"]) for n in FAMILY].count(5) == 7
    # 19 June 2022: the switch to weekly collection, no trust submitted
    assert c["discharge_sitrep_2022_06"]["days_not_collected"] == ["2022-06-19"]
    assert all(c[n]["days_not_collected"] == [] for n in FAMILY if n != "discharge_sitrep_2022_06")
    # Table 1 agrees with the trust '-' cells, except 19 June 2022 and 28-31 August 2023
    for n in FAMILY:
        diff = c[n]["trust_days_not_submitted"] - c[n]["table1_not_submitted_total"]
        assert diff == {"discharge_sitrep_2022_06": 121, "discharge_sitrep_2023_08": -4}.get(
            n, 0
        ), n
    assert c["discharge_sitrep_2022_11"]["trust_days_not_submitted"] == 0
    assert c["discharge_sitrep_2022_09"]["trust_days_not_submitted"] == 111
    # weekly snapshots moved from Fridays to Mondays in June 2022
    weeks = [pd.Timestamp(w) for n in FAMILY for w in c[n]["weeks"]]
    assert {w.day_name() for w in weeks if w < pd.Timestamp("2022-06-20")} == {"Friday"}
    assert {w.day_name() for w in weeks if w > pd.Timestamp("2022-06-20")} == {"Monday"}
    # Table 4's month totals equal Table 2's England discharges summed over the month, bar one
    for n in FAMILY:
        df = _read(n)
        t4 = df.query("table == 'table4' and level == 'england'")["value"].sum()
        t2 = df.query("table == 'table2' and level == 'england' and measure == 'discharged'")
        assert t4 - t2["value"].sum() == (3 if n == "discharge_sitrep_2023_10" else 0), n


# --- the national series -------------------------------------------------------------------


def test_series_matches_the_raw_file(mirror):
    s = _series()
    path = str(mirror / DIR / "latest_time_series.xlsx")
    daily = [r for r in _raw(path, "Daily Series") if isinstance(r[0], dt.date)]
    weekly = [r for r in _raw(path, "Weekly Series") if isinstance(r[0], dt.date)]
    d = s[s.frequency == "daily"]
    w = s[s.frequency == "weekly"]
    assert len(d) == len(daily) * 15 == 1036 * 15 and len(w) == len(weekly) * 21 == 148 * 21
    assert s.attrs["verified"] is True and set(s.attrs["columns"]) == set(SERIES.names)
    assert d["date"].min() == pd.Timestamp("2021-04-01") and d["date"].max() == pd.Timestamp(
        "2024-01-31"
    )
    dv = d.set_index(["date", "measure"])["value"]
    for r in daily[::97]:
        day = pd.Timestamp(r[0])
        for k, measure in enumerate(["not_meeting_criteria", "discharged", "remaining"]):
            if r[k + 1] == "":
                assert np.isnan(dv[(day, measure)])
            else:
                assert dv[(day, measure)] == r[k + 1]
    # destinations published as 0 before they were collected (to 10 May 2021) are missing
    dest = d[d.measure == "p0_domestic_home_without_reablement"].set_index("date")["value"]
    assert dest[:"2021-05-10"].isna().all() and len(dest[:"2021-05-10"]) == 40
    assert dest["2021-05-11"] == 7823 and dest["2021-05-11":].notna().sum() == 1036 - 40 - 1
    # 7+ day bed days published as 0 (below the 14+ cohort) until 4 Feb 2022 are missing
    los7 = w[w.measure == "extra_bed_days_los7"].set_index("date")["value"]
    assert los7[:"2022-02-04"].isna().sum() == 46 and los7["2022-02-11":].notna().all()
    assert np.isnan(dv[(pd.Timestamp("2022-06-19"), "discharged")])  # not collected
    cov = s.attrs["completeness"]
    assert cov["daily"]["dates_all_missing"] == ["2022-06-19"]
    assert cov["weekly"]["gaps_not_7_days"] == ["2022-06-10 -> 2022-06-20"]
    assert w["date"].min() == pd.Timestamp("2021-03-26") and w["date"].max() == pd.Timestamp(
        "2024-01-22"
    )


def test_series_agrees_with_the_england_rows_of_every_month():
    s = _series()
    daily = s[s.frequency == "daily"].set_index(["date", "measure"])["value"]
    weekly = s[s.frequency == "weekly"].set_index(["date", "measure"])["value"]
    both = agree = 0
    week_mismatch = []
    for n in FAMILY:
        df = _read(n)
        e2 = df.query("table == 'table2' and level == 'england'").set_index(["date", "measure"])[
            "value"
        ]
        pair = pd.concat([e2, daily.reindex(e2.index)], axis=1, keys=["month", "series"]).dropna()
        both += len(pair)
        agree += int((pair["month"] == pair["series"]).sum())
        assert len(pair) == len(e2) - (3 if n == "discharge_sitrep_2022_06" else 0)
        e3 = df.query("table == 'table3' and level == 'england'").set_index(["date", "measure"])[
            "value"
        ]
        ser = weekly.reindex(e3.index)
        week_mismatch += sorted({d.date().isoformat() for (d, _), v in ser.items() if np.isnan(v)})
        assert ((e3 == ser) | ser.isna()).all()
        # the daily destinations summed over the month are Table 4's England totals
        e4 = df.query("table == 'table4' and level == 'england'").set_index("measure")["value"]
        month = df["month"].iloc[0]
        days = daily.loc[month : month + pd.offsets.MonthEnd(0)]
        assert (days.groupby(level="measure").sum()[e4.index] == e4).all(), n
    assert both == agree == 2010  # 2,013 England cells less the 3 of 19 June 2022
    # the one week the series does not have: the June 2022 workbook's 'w/c 17/06/2022' is the
    # series' 20/06/2022 (same values)
    assert week_mismatch == ["2022-06-17"]
    june = _read("discharge_sitrep_2022_06").query(
        "table == 'table3' and level == 'england' and date == '2022-06-17'"
    )
    assert june.set_index("measure")["value"].equals(
        weekly.loc[pd.Timestamp("2022-06-20")][june["measure"]].rename("value")
    )


def test_dispatch_through_the_registry():
    assert len(FAMILY) == 22 and FAMILY[0] == "discharge_sitrep_2022_04"
    for n in FAMILY:
        assert get(n).reader == "sitrep:read_discharge_sitrep"
        assert get(n).path == f"{DIR}/{_file(n)}"  # e.g. april2022.xlsx
        assert schema(n) is SCHEMA
    assert schema("discharge_sitrep_series") is SERIES
    df = read("discharge_sitrep_2023_01")
    assert (
        df["month"].iloc[0] == pd.Timestamp("2023-01-01")
        and df.attrs["source"] == "discharge_sitrep_2023_01"
    )
    with pytest.raises(InvalidParameterError, match="discharge_sitrep_series"):
        read_discharge_sitrep(dataset="hm_beds")


# --- hand-made workbooks in the published layout ---------------------------------------------

H2 = list(T2_HEADINGS)
H3 = [
    f"Number of additional bed days, patients with length of stay of {n}+ days" for n in (7, 14, 21)
]
D1, D2 = dt.date(2022, 4, 1), dt.date(2022, 4, 2)


def _sheets() -> dict[str, list[list]]:
    """A two-day, one-region, one-ICB, two-trust workbook in the published layout."""
    sections = [
        ["", "", "ENGLAND (Type 1 Trusts)"],
        ["", "", "LONDON"],
        [],
        ["Region", "ICB Code", "ICB Name"],
        ["LONDON", "QRV", "NHS NORTH WEST LONDON INTEGRATED CARE BOARD"],
        [],
        ["Region", "Org Code", "Org Name"],
        ["LONDON", "RAS", "THE HILLINGDON HOSPITALS NHS FOUNDATION TRUST"],
        ["LONDON", "R1K ", "LONDON NORTH WEST UNIVERSITY HEALTHCARE NHS TRUST"],
    ]

    def table(title, top, heads, values):
        rows = [[title], ["Contents"], *top, ["Notes: made by hand", "", "", *heads]]
        for s, v in zip(sections, values, strict=True):
            rows.append(s + v if s and s[0] != "Region" else list(s))
        return rows

    t2 = [
        [30, 12, 18, 25, 10, 15],
        [30, 12, 18, 25, 10, 15],
        [],
        [],
        [30, 11, 19, 25, 10, 15],
        [],
        [],
        [20, 8, 12, 25, 10, 15],
        [10, 3, 7, "-", "-", "-"],
    ]
    t3 = [
        [900, 800, 700],
        [900, 800, 700],
        [],
        [],
        [900, 800, 700],
        [],
        [],
        [600, 500, 400],
        [300, 300, 300],
    ]
    t4 = [[40, 1], [40, 1], [], [], [39, "-"], [], [], [30, "-"], [9, "-"]]
    t5 = [[2.5, 0.5], [2.5, 0.5], [], [], [2.5, "-"], [], [], [2.0, "-"], [0.5, "-"]]
    h4 = [
        "P0 - Domestic home without reablement support",
        "P2 - Hospice \n(short term 24hr support)",
    ]
    h5 = ["Awaiting transport", "Safeguarding concern preventing discharge or Court of protection"]
    return {
        "Cover Sheet": [
            ["Title:", "Acute Daily Discharge Situation Report "],
            ["Period:", D1, "-", dt.date(2022, 4, 30)],
        ],
        "Table 1": [
            [
                "Table 1: Number of organisations for whom no data was submitted per day (total organisations in scope=2)"
            ],
            ["Contents"],
            ["Date", "Missing organisations (Acute Trust with Type 1)"],
            [D1, 0],
            [D2, 1],
        ],
        "Table 2": table(
            "Table 2: Number of patients", [["", "", "", D1, "", "", D2]], H2 + H2, t2
        ),
        "Table 3": table(
            "Table 3: bed days", [["", "", "", "w/c 01/04/2022 (daily snapshot)"]], H3, t3
        ),
        "Table 4": table(
            "Table 4: destinations",
            [["", "", "", "April 2022 - Total number of patients discharged"]],
            h4,
            t4,
        ),
        "Table 5": table(
            "Table 5: reasons",
            [["", "", "", "April 2022 - Average number of people per day"]],
            h5,
            t5,
        ),
    }


def _write(tmp_path, sheets: dict[str, list[list]], name: str = "april2022.xlsx"):
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append([None if v == "" else v for v in row])
    path = tmp_path / name
    wb.save(path)
    return path


def _error(path, reader=read_discharge_sitrep) -> str:
    with pytest.raises(DataFileError) as info:
        reader(path)
    msg = str(info.value)
    assert path.name in msg and "Fix:" in msg and msg.count("Fix:") == 1
    return msg


def test_a_hand_made_workbook_reads_as_published(tmp_path):
    df = read_discharge_sitrep(_write(tmp_path, _sheets()))
    assert df.attrs["verified"] is False and df.attrs["source"] == "discharge_sitrep_2022_04"
    t2 = df[df.table == "table2"].set_index(["org_code", "date", "measure"])["value"]
    assert t2[("R1K", pd.Timestamp(D1), "discharged")] == 3  # code stripped of its space
    assert np.isnan(t2[("R1K", pd.Timestamp(D2), "remaining")])  # '-' stays missing
    assert t2[("LONDON", pd.Timestamp(D2), "not_meeting_criteria")] == 25
    assert t2[("ENG", pd.Timestamp(D1), "remaining")] == 18
    t4 = df[df.table == "table4"].set_index(["org_code", "measure"])["value"]
    assert t4[("ENG", "p2_hospice")] == 1 and np.isnan(t4[("QRV", "p2_hospice")])
    assert set(df.loc[df.table == "table3", "date"]) == {pd.Timestamp("2022-04-01")}
    assert df.loc[df.level == "region", "org_code"].unique().tolist() == ["LONDON"]
    assert df.loc[df.level == "england", "region_name"].isna().all()
    c = df.attrs["completeness"]
    assert c["trust_days_not_submitted"] == 1 and c["share_trust_days_not_submitted"] == 0.25
    assert c["table1_not_submitted_total"] == 1 and c["organisations_in_scope"] == 2
    assert df.attrs["cover"]["period_start"] == "2022-04-01"


def test_a_day_no_trust_submitted_is_missing_not_zero(tmp_path):
    sheets = _sheets()
    t2 = sheets["Table 2"]
    for r in t2:
        if len(r) > 6 and r[2] in (
            "ENGLAND (Type 1 Trusts)",
            "LONDON",
            "NHS NORTH WEST LONDON INTEGRATED CARE BOARD",
        ):
            r[6:9] = [0, 0, 0]
        elif len(r) > 6 and r[1] in ("RAS",):
            r[6:9] = ["-", "-", "-"]
    sheets["Table 1"][4] = [D2, "NO DATA SUBMITTED DUE TO REPORTING CHANGES"]
    df = read_discharge_sitrep(_write(tmp_path, sheets))
    day2 = df[(df.table.isin(["table1", "table2"])) & (df.date == pd.Timestamp(D2))]
    assert day2["value"].isna().all() and len(day2) == 1 + 5 * 3
    assert df.attrs["completeness"]["days_not_collected"] == ["2022-04-02"]


def test_a_workbook_without_table_2(tmp_path):
    sheets = _sheets()
    del sheets["Table 2"]
    msg = _error(_write(tmp_path, sheets))
    assert "has no sheet 'Table 2'" in msg and "'Table 3'" in msg


def test_an_unknown_heading_is_named(tmp_path):
    sheets = _sheets()
    sheets["Table 2"][3][7] = "Number of patients transferred to another trust"
    msg = _error(_write(tmp_path, sheets))
    assert "unknown measure heading 'Number of patients transferred to another trust'" in msg
    assert "'Table 2'!H4" in msg and "TABLE2_MEASURES" in msg


def test_a_heading_with_other_line_breaks_and_spaces_is_the_same_measure(tmp_path):
    sheets = _sheets()
    sheets["Table 2"][3][4] = "  Number of patients\ndischarged "
    df = read_discharge_sitrep(_write(tmp_path, sheets))
    assert set(df.loc[df.table == "table2", "measure"]) == set(T2_HEADINGS.values())


def test_a_truncated_workbook(tmp_path, mirror):
    data = (mirror / DIR / "april2022.xlsx").read_bytes()
    path = tmp_path / "april2022.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert "is not a readable .xlsx workbook" in _error(path)


def test_an_empty_file_and_an_empty_sheet(tmp_path):
    path = tmp_path / "april2022.xlsx"
    path.write_bytes(b"")
    assert "is empty" in _error(path)
    sheets = _sheets()
    sheets["Table 2"] = []
    assert "sheet 'Table 2' is empty" in _error(_write(tmp_path, sheets))


@pytest.mark.parametrize(
    ("row", "col", "value", "expected"),
    [
        (11, 4, "12a", "'Table 2'!E12 (RAS): '12a'"),
        (11, 4, -3, "negative value(s), e.g. 'Table 2'!E12 (RAS, discharged, 2022-04-01): -3"),
        (
            11,
            4,
            21,
            "'Table 2'!E12 (RAS 2022-04-01): discharged 21 exceeds not_meeting_criteria 20",
        ),
        (12, 1, "RAS", "repeat the key"),
        (8, 1, "X12", "not organisation codes"),
        (11, 0, "WALES", "region 'WALES' of RAS is not one of the region rows"),
    ],
)
def test_bad_values_are_named_by_cell(tmp_path, row, col, value, expected):
    sheets = _sheets()
    sheets["Table 2"][row][col] = value
    assert expected in _error(_write(tmp_path, sheets))


def test_a_gap_inside_the_trust_section_is_refused(tmp_path):
    sheets = _sheets()
    sheets["Table 2"].insert(12, [])
    assert "holds data after a blank row" in _error(_write(tmp_path, sheets))


def test_dates_outside_the_month(tmp_path):
    sheets = _sheets()
    sheets["Table 2"][2][6] = dt.date(2022, 5, 2)
    assert "dates outside April 2022" in _error(_write(tmp_path, sheets))
    sheets = _sheets()
    sheets["Table 3"][2][3] = "week of 1 April"
    assert "is not a week ('w/c dd/mm/yyyy ...')" in _error(_write(tmp_path, sheets))
    sheets = _sheets()
    sheets["Table 4"][2][3] = "May 2022 - Total number of patients discharged"
    assert "but Table 2 covers April 2022" in _error(_write(tmp_path, sheets))


def test_bad_series_workbooks(tmp_path):
    head = ["Date", *H2]
    good = {
        "Daily Series": [["Daily Series"], [], head, [D1, 30, 12, 18], [D2, 25, 10, 15]],
        "Weekly Series": [["Weekly Series"], ["Week commencing", *H3], [D1, 900, 800, 700]],
    }
    s = read_discharge_sitrep_series(_write(tmp_path, good, "latest_time_series.xlsx"))
    assert len(s) == 2 * 3 + 3 and s.attrs["verified"] is False
    bad = {
        **good,
        "Daily Series": [
            ["Daily Series"],
            [],
            [*head, "Number of patients readmitted"],
            [D1, 30, 12, 18, 1],
        ],
    }
    msg = _error(_write(tmp_path, bad, "latest_time_series.xlsx"), read_discharge_sitrep_series)
    assert "unknown measure heading 'Number of patients readmitted'" in msg
    msg = _error(
        _write(tmp_path, {"Daily Series": good["Daily Series"]}, "latest_time_series.xlsx"),
        read_discharge_sitrep_series,
    )
    assert "has no sheet 'Weekly Series'" in msg
