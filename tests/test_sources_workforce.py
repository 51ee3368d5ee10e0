"""Workforce readers: the hospital_management FTE files, stability, and the two NHS Digital
staff-group extracts, checked against independent reads of the raw files."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import zipfile
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pandas as pd
import pytest

from icsresearch.data.registry import get
from icsresearch.errors import DataFileError, InvalidParameterError
from icsresearch.sources import workforce as wf

HM = "hospital_management/data/csv"


# --- independent readers of the raw files ---------------------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


def _raw_sheet(path: Path, sheet: str) -> list[dict[str, str]]:
    """Rows of one sheet as dicts keyed by the header, read from the .xlsx XML itself.

    Independent of openpyxl (which the readers use): shared strings and the sheet XML are parsed
    directly. Numbers stay text; the caller converts them.
    """
    with zipfile.ZipFile(path) as z:
        book = ET.fromstring(z.read("xl/workbook.xml"))
        rid = next(s.get(f"{_REL}id") for s in book.iter(f"{_MAIN}sheet") if s.get("name") == sheet)
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        strings = [
            "".join(si.itertext())
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(f"{_MAIN}si")
        ]
        xml = z.read("xl/" + target.removeprefix("/xl/")).decode("utf-8")
    cells: dict[int, dict[str, str]] = defaultdict(dict)
    for col, row, attrs, inner in _CELL.findall(xml):
        value = re.search(r"<v>([^<]*)</v>", inner or "")
        if value is None:
            continue
        text = value.group(1)
        if 't="s"' in attrs:
            text = strings[int(text)]
        cells[int(row)][col] = text
    header_row = min(cells)
    header = cells[header_row]
    return [
        {header[c]: v for c, v in cells[r].items() if c in header}
        for r in sorted(cells)
        if r != header_row
    ]


def _excel_date(serial: str) -> pd.Timestamp:
    return pd.Timestamp(dt.date(1899, 12, 30) + dt.timedelta(days=float(serial)))


@pytest.fixture(scope="module")
def non_medical(mirror):
    return wf.read_non_medical_staff()


@pytest.fixture(scope="module")
def hchs(mirror):
    return wf.read_hchs_staff_groups()


@pytest.fixture(scope="module")
def raw_non_medical(mirror):
    path = mirror / get("non_medical_staff_2017").path
    lookups = {
        sheet: {int(r[code]): r[name] for r in _raw_sheet(path, sheet)}
        for sheet, code, name in [
            ("main_staff_group", "MAIN_STAFF_GROUP_CODE", "MAIN_STAFF_GROUP_NAME"),
            ("staff_group_1", "STAFF_GROUP_1_CODE", "STAFF_GROUP_1_NAME"),
            ("staff_group_2", "STAFF_GROUP_2_CODE", "STAFF_GROUP_2_NAME"),
        ]
    }
    return _raw_sheet(path, "non_medical_staff"), lookups


@pytest.fixture(scope="module")
def raw_hchs(mirror):
    return _raw_sheet(mirror / get("hchs_staff_groups").path, "Data")


# --- the hospital_management FTE files ----------------------------------------------------------

SIMPLE = [
    (wf.read_managers_fte, "managers_simple_def.csv", "SIMPLE_MANAGERS_FTE", "managers_fte"),
    (
        wf.read_consultants_fte,
        "consultants_simple_def.csv",
        "SIMPLE_CONSULTANTS_FTE",
        "consultants_fte",
    ),
    (wf.read_all_staff_fte, "all_staff_simple_def.csv", "SIMPLE_ALL_STAFF_FTE", "all_staff_fte"),
]


@pytest.mark.realdata
@pytest.mark.parametrize(("reader", "filename", "raw_col", "out_col"), SIMPLE)
def test_simple_fte_files_match_the_raw_csv(mirror, reader, filename, raw_col, out_col):
    raw = _csv_rows(mirror / HM / filename)
    df = reader()
    assert df.attrs["verified"] is True
    assert (
        set(df.attrs["columns"])
        == set(df.columns)
        == {
            "trust_code",
            "year",
            "census_date",
            out_col,
        }
    )
    assert len(df) == len(raw)
    expected = {(r["ORG_CODE"].strip(), int(r["YEAR"])): float(r[raw_col]) for r in raw}
    got = dict(zip(zip(df.trust_code, df.year, strict=True), df[out_col], strict=True))
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[k], expected[k], rel_tol=1e-12) for k in expected)
    assert not df.duplicated(["trust_code", "year"]).any()
    # September census of the same calendar year, which is the financial-year start.
    assert (df.census_date.dt.month == 9).all() and (df.census_date.dt.day == 30).all()
    assert (df.census_date.dt.year == df.year).all()
    assert df[out_col].gt(0).all()


@pytest.mark.realdata
def test_simple_fte_coverage_and_quirks(mirror):
    managers = wf.read_managers_fte()
    consultants = wf.read_consultants_fte()
    all_staff = wf.read_all_staff_fte()
    assert sorted(managers.year.unique()) == list(range(2009, 2019))
    assert sorted(consultants.year.unique()) == list(range(2009, 2019))
    assert sorted(all_staff.year.unique()) == list(range(2009, 2016))
    # all_staff is a balanced panel of 221 organisations
    per_year = all_staff.groupby("year").trust_code.apply(frozenset)
    assert per_year.nunique() == 1 and len(per_year.iloc[0]) == 221
    # '50' is a code mangled into a number ("5E1"), present only while PCTs existed
    assert sorted(managers.loc[managers.trust_code == "50", "year"]) == [2009, 2010, 2011, 2012]
    # values traced to the raw file's lines, e.g. "2009,5A3,40.6" and "AHO,2404.08119,2009"
    assert managers.set_index(["trust_code", "year"]).loc[("5A3", 2009), "managers_fte"] == 40.6
    assert all_staff.set_index(["trust_code", "year"]).loc[
        ("AHO", 2009), "all_staff_fte"
    ] == pytest.approx(2404.08119)


@pytest.mark.realdata
def test_stability_zeros_become_missing(mirror):
    raw = _csv_rows(mirror / HM / "stability.csv")
    df = wf.read_stability()
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert len(df) == len(raw) == 429 and set(df.year) == {2017}
    published = {r["ORG_CODE"]: float(r["STABILITY"]) for r in raw}
    by_code = df.set_index("trust_code")
    assert by_code.stability_pct_published.to_dict() == published
    zeros = {c for c, v in published.items() if v == 0}
    assert len(zeros) == 21 and {"RW3", "RM2", "RR1"} <= zeros
    assert set(by_code.index[by_code.stability_pct.isna()]) == zeros
    kept = by_code.drop(index=list(zeros))
    assert (kept.stability_pct == kept.stability_pct_published).all()
    assert by_code.loc["RY8", "stability_pct"] == 85.54  # line 2: "2017,RY8,85.54"


@pytest.mark.realdata
def test_zero_stability_organisations_had_no_staff_in_june_2018(hchs):
    """The evidence for reading a published 0 as 'undefined' rather than 'nobody stayed'."""
    stability = wf.read_stability()
    june = set(hchs.loc[hchs.census_date == "2018-06-30", "trust_code"])
    managers_2018 = set(wf.read_managers_fte().query("year == 2018").trust_code)
    zeros = set(stability.loc[stability.stability_pct.isna(), "trust_code"])
    assert not zeros & june and not zeros & managers_2018


# --- non-medical extract, September 2017 --------------------------------------------------------


@pytest.mark.realdata
def test_non_medical_matches_the_raw_workbook(non_medical, raw_non_medical):
    rows, lookups = raw_non_medical
    df = non_medical
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert len(df) == len(rows) == 62220
    assert {_excel_date(r["DATE"]) for r in rows} == {pd.Timestamp("2017-09-30")}
    assert set(df.census_date) == {pd.Timestamp("2017-09-30")} and set(df.year) == {2017}
    assert df.fte.sum() == pytest.approx(sum(float(r["FTE"]) for r in rows), rel=1e-12)
    assert df.trust_code.nunique() == len({r["ORG_CODE"] for r in rows}) == 429
    # FTE by organisation and staff group, and the names from the workbook's own lookups
    expected = defaultdict(float)
    for r in rows:
        name = lookups["staff_group_1"][int(r["STAFF_GROUP_1_CODE"])]
        expected[(r["ORG_CODE"], name)] += float(r["FTE"])
    got = df.groupby(["trust_code", "staff_group_1"]).fte.sum().to_dict()
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[k], expected[k], rel_tol=1e-9) for k in expected)
    for col in ("main_staff_group", "staff_group_2"):
        pairs = set(zip(df[f"{col}_code"], df[col], strict=True))
        assert pairs <= set(lookups[col].items())
    # key unique; AREA/LEVEL prefixes dropped without merging categories
    key = list(wf.NON_MEDICAL.key)
    assert not df.duplicated(key).any()
    assert not df.area.str.match(r"^\d").any() and not df.level.str.match(r"^\d").any()
    # the first data row of the sheet, traced by hand
    first = df[
        (df.trust_code == "RNQ")
        & (df.staff_group_2_code == 18)
        & (df.area == "Orthoptics / optics")
        & (df.level == "Technician")
        & (df.afc_band == "Band 6")
    ]
    assert len(first) == 1 and first.fte.iloc[0] == 1
    assert first.staff_group_1.iloc[0] == "Scientific, therapeutic & technical staff"
    assert first.main_staff_group.iloc[0] == "Professionally qualified clinical staff"


# --- HCHS workbook, September 2017 and June 2018 ------------------------------------------------


@pytest.mark.realdata
def test_hchs_matches_the_raw_workbook(hchs, raw_hchs):
    df = hchs
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert len(df) == len(raw_hchs) == 81603
    months = {"2017-SEP": pd.Timestamp("2017-09-30"), "2018-JUN": pd.Timestamp("2018-06-30")}
    assert {r["Month"] for r in raw_hchs} == set(months)
    assert df.groupby("census_date").year.unique().map(list).to_dict() == {
        pd.Timestamp("2017-09-30"): [2017],
        pd.Timestamp("2018-06-30"): [2018],
    }
    expected = defaultdict(float)
    for r in raw_hchs:
        expected[(months[r["Month"]], r["Organisation code"], r["Staff group"])] += float(r["FTE"])
    got = df.groupby(["census_date", "trust_code", "staff_group"]).fte.sum().to_dict()
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[k], expected[k], rel_tol=1e-9) for k in expected)
    assert not df.duplicated(list(wf.HCHS.key)).any()
    assert set(df.staff_group) == set(wf.HCHS_STAFF_GROUPS)
    assert df.groupby("census_date").trust_code.nunique().tolist() == [431, 414]
    # the first data row: "2017-SEP, 00D, NHS Durham Dales, Easington and Sedgefield CCG,
    # HCHS doctors, Unknown, 0.1"
    row = df[(df.trust_code == "00D") & (df.census_date == "2017-09-30")]
    assert row[["staff_group", "nationality", "fte"]].values.tolist() == [
        ["HCHS doctors", "Unknown", 0.1]
    ]
    assert row.org_name.iloc[0] == "NHS Durham Dales, Easington and Sedgefield CCG"


@pytest.mark.realdata
def test_staff_by_group_hchs_against_the_raw_workbook(hchs, raw_hchs):
    by_group = wf.staff_by_group("hchs", "2017-09", staff=hchs)
    assert set(by_group.attrs["columns"]) == set(by_group.columns)
    sep = [r for r in raw_hchs if r["Month"] == "2017-SEP"]
    assert len(by_group) == len({r["Organisation code"] for r in sep}) == 431
    total = defaultdict(float)
    for r in sep:
        total[(r["Organisation code"], r["Staff group"])] += float(r["FTE"])
    for code in ("RTH", "RW3", "00D", "RBS"):
        row = by_group.set_index("trust_code").loc[code]

        def raw(*groups, code=code):
            return sum(total[(code, g)] for g in groups)

        assert row.nurses_fte == pytest.approx(raw("Nurses & health visitors"))
        assert row.midwives_fte == pytest.approx(raw("Midwives"))
        assert row.doctors_fte == pytest.approx(raw("HCHS doctors"))
        assert row.support_fte == pytest.approx(raw("Support to doctors, nurses & midwives"))
        assert row.managers_fte == pytest.approx(raw("Managers", "Senior managers"))
        assert row.all_staff_fte == pytest.approx(raw(*wf.HCHS_STAFF_GROUPS))
        assert row.non_medical_fte == pytest.approx(row.all_staff_fte - row.doctors_fte)
        assert math.isnan(row.nursing_support_fte)
    # 00D employed only 0.1 FTE doctors: its other groups are 0, not missing
    assert by_group.set_index("trust_code").loc["00D", "nurses_fte"] == 0
    assert (by_group.census_date == "2017-09-30").all() and (by_group.year == 2017).all()
    june = wf.staff_by_group("hchs", "2018-06", staff=hchs)
    assert len(june) == 414 and set(june.year) == {2018}


@pytest.mark.realdata
def test_the_two_extracts_agree_for_september_2017(hchs, non_medical):
    """Nurses, midwives, support and managers: identical for every organisation."""
    a = wf.staff_by_group("hchs", "2017-09", staff=hchs).set_index("trust_code")
    b = wf.staff_by_group("non_medical", "2017-09", staff=non_medical).set_index("trust_code")
    # HCHS lists two CCGs more, each with only a fraction of a doctor
    assert set(b.index) <= set(a.index) and sorted(set(a.index) - set(b.index)) == ["00D", "10G"]
    a = a.loc[b.index]
    for col in ("nurses_fte", "midwives_fte", "support_fte", "managers_fte", "non_medical_fte"):
        diff = (a[col] - b[col]).abs()
        assert diff.max() < 1e-6, f"{col}: largest difference {diff.max()}"
    assert b.doctors_fte.isna().all() and b.all_staff_fte.isna().all() and b.org_name.isna().all()
    # nursing support staff are part of the support group, about 61% nationally
    assert (b.nursing_support_fte <= b.support_fte + 1e-9).all()
    assert b.nursing_support_fte.sum() / b.support_fte.sum() == pytest.approx(0.613, abs=0.001)


@pytest.mark.realdata
def test_hm_managers_2017_is_the_september_2017_census(hchs):
    managers = wf.read_managers_fte()
    census = hchs[hchs.staff_group.isin(["Managers", "Senior managers"])]
    by_month = census.groupby(["census_date", "trust_code"]).fte.sum()
    sep = by_month.loc[pd.Timestamp("2017-09-30")]
    hm17 = managers.query("year == 2017").set_index("trust_code").managers_fte
    assert len(hm17) == 426
    assert (sep.reindex(hm17.index) - hm17).abs().max() < 1e-6
    # only RM2 and RW3, merged into R0A on 1 October 2017, are in the census but not the panel
    assert sorted(set(sep.index) - set(hm17.index)) == ["RM2", "RW3"]
    # YEAR 2018 is not the June 2018 census (so it is the next September's)
    jun = by_month.loc[pd.Timestamp("2018-06-30")]
    hm18 = managers.query("year == 2018").set_index("trust_code").managers_fte
    both = hm18.index.intersection(jun.index)
    assert ((jun[both] - hm18[both]).abs() < 0.01).mean() < 0.1


@pytest.mark.realdata
def test_staff_by_group_parameter_errors(hchs, non_medical):
    with pytest.raises(InvalidParameterError, match="source='esr'.*'hchs'.*'non_medical'"):
        wf.staff_by_group("esr")
    with pytest.raises(InvalidParameterError, match="'Sep 2017' is not written 'YYYY-MM'"):
        wf.staff_by_group("hchs", "Sep 2017", staff=hchs)
    with pytest.raises(
        InvalidParameterError, match=r"'2018-06' is not in the 'non_medical'.*2017-09"
    ):
        wf.staff_by_group("non_medical", "2018-06", staff=non_medical)
    with pytest.raises(InvalidParameterError, match="staff_group_1.*read_non_medical_staff"):
        wf.staff_by_group("non_medical", "2017-09", staff=hchs)


# --- hand-made files in the published layouts ------------------------------------------------


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def _error(reader, path: Path) -> str:
    with pytest.raises(DataFileError) as info:
        reader(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    return message


def test_managers_layout_traps_are_handled(tmp_path):
    text = (
        "\ufeffYEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\r\n"
        "2017,RA2  ,12.5\r\n"
        '2017, rbs,"1,234.5"\r\n'
        "2017,RTH,*\r\n"
        "2018,RTH,-\r\n"
        "2018,RA2,\r\n"
    )
    df = wf.read_managers_fte(_write(tmp_path, "managers_simple_def.csv", text))
    assert df.attrs["verified"] is False
    got = df.set_index(["trust_code", "year"]).managers_fte
    assert got[("RA2", 2017)] == 12.5 and got[("RBS", 2017)] == 1234.5
    # suppressed or missing values stay missing
    assert got[["RTH", "RA2"]].isna().sum() == 3 and len(got) == 5


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"YEAR,ORG_CODE,FTE\n2017,RA2,1\n", r"missing column\(s\) \['SIMPLE_MANAGERS_FTE'\]"),
        (b"YEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\n2017,RA2,1\n2017,RB", "looks truncated"),
        (b"YEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\n2017,R\xe92,1\n", "not valid utf-8"),
        (b"YEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\n2017,RA2-X,1\n", "not organisation codes"),
        (b"YEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\n2017,RA2,-3.5\n", "negative staff numbers"),
        (b"YEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\n2017,RA2,n/k\n", "not numbers"),
        (b"YEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\n17,RA2,1\n", "outside 2000-2100"),
        (b"YEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\n", "header but no rows"),
        (
            b"YEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\n2017,RA2,1\n2017,RA2,2\n",
            "repeat the key",
        ),
    ],
)
def test_bad_managers_files_are_clear_errors(tmp_path, content, expected):
    message = _error(wf.read_managers_fte, _write(tmp_path, "managers_simple_def.csv", content))
    assert re.search(expected, message), message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.85", "looks like a fraction"), ("185", "outside 0-100"), ("-1", "outside 0-100")],
)
def test_bad_stability_values(tmp_path, value, expected):
    path = _write(tmp_path, "stability.csv", f"YEAR,ORG_CODE,STABILITY\n2017,RA2,{value}\n")
    assert expected in _error(wf.read_stability, path)


def test_stability_zero_is_missing_not_zero(tmp_path):
    path = _write(tmp_path, "stability.csv", "YEAR,ORG_CODE,STABILITY\n2017,RA2,0\n2017,RBS,91\n")
    df = wf.read_stability(path).set_index("trust_code")
    assert (
        math.isnan(df.loc["RA2", "stability_pct"]) and df.loc["RA2", "stability_pct_published"] == 0
    )
    assert df.loc["RBS", "stability_pct"] == 91


NM_HEADER = [
    "DATE",
    "ORG_CODE",
    "MAIN_STAFF_GROUP_CODE",
    "STAFF_GROUP_1_CODE",
    "STAFF_GROUP_2_CODE",
    "AREA",
    "LEVEL",
    "AFC_BAND",
    "FTE",
]
NM_ROWS = [
    [
        dt.datetime(2017, 9, 30),
        "RA2 ",
        "001",
        "005",
        "006",
        "001_Acute, Elderly & General",
        "004_Nurse Manager",
        "Band 7",
        10.5,
    ],
    [
        dt.datetime(2017, 9, 30),
        "RA2",
        "001",
        "013",
        "014",
        "003_Maternity Services",
        "005_Qualified Midwives",
        "Band 6",
        4,
    ],
    [
        dt.datetime(2017, 9, 30),
        "RA2",
        "021",
        "022",
        "024",
        "001_Acute, Elderly & General",
        "005_Healthcare Assistant",
        "Band 3",
        7.25,
    ],
    [
        dt.datetime(2017, 9, 30),
        "RA2",
        "021",
        "022",
        "025",
        "001_Central functions",
        "001_Clerical & administrative",
        "Band 3",
        2,
    ],
    [
        dt.datetime(2017, 9, 30),
        "RA2",
        "038",
        "041",
        "042",
        "001_Central functions",
        "004_Manager",
        "Band 8a",
        3,
    ],
    [
        dt.datetime(2017, 9, 30),
        "RBS",
        "001",
        "005",
        "007",
        "002_Paediatric Nursing",
        "005_Children's Nurse",
        "Band 5",
        20,
    ],
    [
        dt.datetime(2017, 9, 30),
        "RBS",
        "038",
        "039",
        "040",
        "001_Central functions",
        "003_Senior Manager",
        "Very Senior Manager",
        1,
    ],
]
NM_LOOKUPS = {
    "main_staff_group": (
        ["MAIN_STAFF_GROUP_CODE", "MAIN_STAFF_GROUP_NAME"],
        [[1, "Professionally qualified clinical staff"], [21, "Support to clinical staff"], [38, "NHS infrastructure support"]],
    ),
    "staff_group_1": (
        ["STAFF_GROUP_1_CODE", "STAFF_GROUP_1_NAME"],
        [[5, "Nurses & health visitors"], [13, "Midwives"], [22, "Support to doctors, nurses & midwives"], [39, "Senior managers"], [41, "Managers"]],
    ),
    "staff_group_2": (
        ["STAFF_GROUP_2_CODE", "STAFF_GROUP_2_NAME"],
        [[6, "Nurses - adult"], [7, "Nurses - children's"], [14, "Midwives"], [24, "Nursing support staff"], [25, "Clerical & administrative"], [40, "Senior managers"], [42, "Managers"]],
    ),
}  # fmt: skip


def _workbook(path: Path, sheets: dict[str, tuple[list, list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _non_medical(tmp_path: Path, rows=None, header=None, lookups=None) -> Path:
    sheets = {"non_medical_staff": (header or NM_HEADER, NM_ROWS if rows is None else rows)}
    sheets.update(NM_LOOKUPS if lookups is None else lookups)
    return _workbook(tmp_path / "non_medical_staff.xlsx", sheets)


def test_small_non_medical_workbook(tmp_path):
    df = wf.read_non_medical_staff(_non_medical(tmp_path))
    assert len(df) == 7 and set(df.trust_code) == {"RA2", "RBS"}
    nurse = df[(df.trust_code == "RA2") & (df.staff_group_1_code == 5)].iloc[0]
    assert (
        nurse.staff_group_1 == "Nurses & health visitors"
        and nurse.staff_group_2 == "Nurses - adult"
    )
    assert nurse.area == "Acute, Elderly & General" and nurse.level == "Nurse Manager"
    assert nurse.main_staff_group_code == 1 and nurse.year == 2017
    by_group = wf.staff_by_group("non_medical", "2017-09", path=tmp_path / "non_medical_staff.xlsx")
    ra2 = by_group.set_index("trust_code").loc["RA2"]
    assert (ra2.nurses_fte, ra2.midwives_fte, ra2.support_fte) == (10.5, 4, 9.25)
    assert (ra2.nursing_support_fte, ra2.managers_fte, ra2.non_medical_fte) == (7.25, 3, 26.75)
    rbs = by_group.set_index("trust_code").loc["RBS"]
    assert (rbs.nurses_fte, rbs.midwives_fte, rbs.managers_fte) == (20, 0, 1)


def test_non_medical_code_missing_from_its_lookup_sheet(tmp_path):
    rows = [
        *NM_ROWS,
        [dt.datetime(2017, 9, 30), "RBS", "001", "005", "099", "x_A", "y_B", "Band 5", 1],
    ]
    message = _error(wf.read_non_medical_staff, _non_medical(tmp_path, rows=rows))
    assert "'STAFF_GROUP_2_CODE' has codes that are not in sheet 'staff_group_2': [99]" in message


def test_non_medical_missing_lookup_sheet(tmp_path):
    lookups = {k: v for k, v in NM_LOOKUPS.items() if k != "staff_group_2"}
    message = _error(wf.read_non_medical_staff, _non_medical(tmp_path, lookups=lookups))
    assert "has no sheet 'staff_group_2'" in message


@pytest.mark.parametrize(
    ("index", "value", "expected"),
    [
        (7, "Band 10", "'AFC_BAND' has unknown values ['Band 10']"),
        (8, -2, "negative staff numbers"),
        (1, "R A2", "not organisation codes"),
        (0, "sometime", "'DATE' has values that are not dates"),
        (5, None, "'AREA' has blank values"),
    ],
)
def test_bad_non_medical_cells(tmp_path, index, value, expected):
    rows = [list(r) for r in NM_ROWS]
    rows[2][index] = value
    assert expected in _error(wf.read_non_medical_staff, _non_medical(tmp_path, rows=rows))


def test_truncated_and_wrong_workbooks(tmp_path):
    good = _non_medical(tmp_path)
    (tmp_path / "cut").mkdir()
    truncated = tmp_path / "cut" / "non_medical_staff.xlsx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert "not a readable .xlsx workbook" in _error(wf.read_non_medical_staff, truncated)
    wrong = _non_medical(tmp_path, header=[h if h != "FTE" else "HEADCOUNT" for h in NM_HEADER])
    assert "missing column(s) ['FTE']" in _error(wf.read_non_medical_staff, wrong)


HCHS_HEADER = [
    "Month",
    "Organisation code",
    "Organisation name",
    "Staff group",
    "Nationality",
    "FTE",
]
HCHS_ROWS = [
    ["2017-SEP", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Nurses & health visitors", "British", 800.5],
    ["2017-SEP", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Nurses & health visitors", "Irish", 20],
    ["2017-SEP", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "HCHS doctors", "British", 300],
    ["2017-SEP", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Midwives", "British", 50],
    ["2017-SEP", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Support to doctors, nurses & midwives", "British", 400],
    ["2017-SEP", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Managers", "British", 60],
    ["2017-SEP", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Senior managers", "British", 15],
    ["2017-SEP", "RBS", "Alder Hey Children's NHS Foundation Trust", "Nurses & health visitors", "British", 900],
    ["2017-SEP", "RBS", "Alder Hey Children's NHS Foundation Trust", "Managers", "Polish", "*"],
    ["2017-SEP", "RBS", "Alder Hey Children's NHS Foundation Trust", "Managers", "British", 40],
    ["2018-JUN", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Nurses & health visitors", "British", 810],
    ["2018-JUN", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Support to doctors, nurses & midwives", "British", 390],
    ["2018-JUN", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Managers", "British", 61],
    ["2018-JUN", "RA2", "Royal Surrey County Hospital NHS Foundation Trust", "Midwives", "British", 49],
]  # fmt: skip


def _hchs(tmp_path: Path, rows=None) -> Path:
    notes = (["NHS Hospital and Community Health Services (HCHS)"], [])
    return _workbook(
        tmp_path / get("hchs_staff_groups").filename,
        {"Notes": notes, "Data": (HCHS_HEADER, HCHS_ROWS if rows is None else rows)},
    )


def test_small_hchs_workbook_and_staff_by_group(tmp_path):
    path = _hchs(tmp_path)
    df = wf.read_hchs_staff_groups(path)
    assert df.groupby("census_date").year.first().to_dict() == {
        pd.Timestamp("2017-09-30"): 2017,
        pd.Timestamp("2018-06-30"): 2018,
    }
    assert df.fte.isna().sum() == 1  # the suppressed '*' stays missing
    sep = wf.staff_by_group("hchs", "2017-09", path=path).set_index("trust_code")
    ra2 = sep.loc["RA2"]
    assert (ra2.nurses_fte, ra2.doctors_fte, ra2.midwives_fte) == (820.5, 300, 50)
    assert (ra2.support_fte, ra2.managers_fte, ra2.all_staff_fte) == (400, 75, 1645.5)
    assert ra2.non_medical_fte == 1345.5 and math.isnan(ra2.nursing_support_fte)
    # RBS has a suppressed managers cell: its managers total is unknown, not understated
    rbs = sep.loc["RBS"]
    assert math.isnan(rbs.managers_fte) and math.isnan(rbs.all_staff_fte)
    assert rbs.nurses_fte == 900 and rbs.doctors_fte == 0
    jun = wf.staff_by_group("hchs", "2018-06", path=path)
    assert jun.trust_code.tolist() == ["RA2"] and jun.year.tolist() == [2018]
    assert jun.doctors_fte.tolist() == [0]


@pytest.mark.parametrize(
    ("index", "value", "expected"),
    [
        (0, "2017-09", "'Month' has values that are not months like '2017-SEP'"),
        (3, "Nurses and health visitors", "unknown groups ['Nurses and health visitors']"),
        (4, "", "'Nationality' has blank values"),
        (5, -1, "negative staff numbers"),
        (5, "lots", "not numbers"),
    ],
)
def test_bad_hchs_cells(tmp_path, index, value, expected):
    rows = [list(r) for r in HCHS_ROWS]
    rows[1][index] = value
    assert expected in _error(wf.read_hchs_staff_groups, _hchs(tmp_path, rows=rows))


def test_staff_by_group_needs_the_core_groups(tmp_path):
    rows = [r for r in HCHS_ROWS if r[3] != "Midwives"]
    path = _hchs(tmp_path, rows=rows)
    with pytest.raises(DataFileError, match=r"no rows for staff group\(s\) \['Midwives'\]"):
        wf.staff_by_group("hchs", "2017-09", path=path)
