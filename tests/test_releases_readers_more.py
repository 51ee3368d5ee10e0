"""The readers of workforce, KH03, DM01, AmbSYS, cancer and staff-survey releases, with each quirk.

Hand-made files in the documented layouts (tests/releases_fixtures_more.py), read with ``path=``
(no lockfile: unverified). Every expected number is computed from the fixtures' generators.
"""

from __future__ import annotations

import io
import math
import zipfile

import pandas as pd
import pytest

from icsresearch.errors import DataFileError
from icsresearch.releases import (
    catalogue,
    read_ambsys,
    read_ambsys_series,
    read_cancer,
    read_dm01,
    read_kh03,
    read_staff_survey,
    read_workforce,
)
from releases_fixtures import as_xls, write
from releases_fixtures_more import (
    AMB_CATEGORIES,
    AMB_SERVICES,
    SURVEY_ORGS,
    ambsys_series_csv,
    ambsys_values,
    ambsys_workbook,
    cwt_expected,
    cwt_workbook,
    dm01_counts,
    dm01_workbook,
    kh03_expected,
    kh03_workbook,
    survey_score,
    survey_workbook,
    survey_zip,
    workforce_expected,
    workforce_workbook,
)


def same(a: float, b: float, tol: float = 0.01) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


# --- workforce -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "style"),
    [("2020-09", "2020"), ("2023-09", "2023"), ("2026-03", "2026")],
    ids=["no-code-headers-and-spacers", "ics-columns-repeated-subtotals", "sheet-2-data-type"],
)
def test_workforce_staff_groups_in_each_layout(tmp_path, period, style):
    df = read_workforce(path=write(tmp_path, "wf.xlsx", workforce_workbook(period, style)))
    assert df.attrs["verified"] is False
    assert list(df["org_code"]) == ["R0A", "RJ1", "RYJ"]  # England, regions, notes dropped
    assert df["period"].eq(pd.Timestamp(f"{period}-01")).all()
    for _, row in df.iterrows():
        for col, want in workforce_expected(period)[row["org_code"]].items():
            assert same(row[col], want), (style, row["org_code"], col, row[col], want)
    # '-' (no midwives) is missing, never 0; the FTE table, not the headcount one, is read
    assert math.isnan(df.set_index("org_code").loc["RYJ", "midwives_fte"])


def test_workforce_month_must_match_the_lock_and_columns_are_named(tmp_path):
    from icsresearch.releases import workforce
    from icsresearch.releases._read import locked_sources

    path = write(tmp_path, "wf.xlsx", workforce_workbook("2023-09"))
    [(_, src)] = locked_sources("workforce", None, None, path)
    with pytest.raises(DataFileError, match="locked as 2023-10"):
        workforce._parse(src, "2023-10")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(workforce_workbook("2023-09")))
    ws = wb["3. NHSE, Org & SG - FTE"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "Midwives":
                cell.value = "Midwifery"
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(DataFileError, match="Midwives") as err:
        read_workforce(path=write(tmp_path, "b.xlsx", buf.getvalue()))
    assert "Fix:" in str(err.value)


# --- KH03 ------------------------------------------------------------------------------------


def test_kh03_blocks_told_apart_by_group_cells_or_by_order(tmp_path):
    documented = read_kh03(path=write(tmp_path, "a.xlsx", kh03_workbook("2021-03")))
    bare = read_kh03(
        path=write(tmp_path, "b.xlsx", kh03_workbook("2021-03", top=19, groups_row=False))
    )
    pd.testing.assert_frame_equal(documented, bare)
    assert documented["period"].eq(pd.Timestamp("2021-03-01")).all()  # 'March' of 2020-21
    assert documented["year"].eq(2020).all() and documented["quarter"].eq(4).all()
    for _, row in documented.iterrows():
        for col, want in kh03_expected("2021-03")[row["org_code"]].items():
            assert same(row[col], want, 0.05), (row["org_code"], col, row[col], want)
    # '-' is missing: RYJ has no maternity beds, nobody has learning-disability beds
    assert math.isnan(documented.set_index("org_code").loc["RYJ", "available_maternity"])
    assert documented["available_learning_disabilities"].isna().all()


def test_kh03_renamed_sector_and_quarter_check(tmp_path):
    later = read_kh03(path=write(tmp_path, "a.xlsx", kh03_workbook("2023-06", top=17)))
    assert later["quarter"].eq(1).all() and later["period"].eq(pd.Timestamp("2023-06-01")).all()
    from icsresearch.releases import kh03
    from icsresearch.releases._read import locked_sources

    [(_, src)] = locked_sources(
        "kh03", None, None, write(tmp_path, "b.xlsx", kh03_workbook("2023-06"))
    )
    with pytest.raises(DataFileError, match="locked as 2023-09"):
        kh03._parse(src, "2023-09")


# --- DM01 ------------------------------------------------------------------------------------


def test_dm01_provider_sheet_with_moved_header_and_case_drift(tmp_path):
    a = read_dm01(path=write(tmp_path, "a.xlsx", dm01_workbook("2023-05")))
    b = read_dm01(path=write(tmp_path, "b.xlsx", dm01_workbook("2023-05", top=11, capitals=False)))
    pd.testing.assert_frame_equal(a, b)
    rows = a.set_index("org_code")
    assert list(rows.index) == ["NT4", "R0A", "RJ1"]  # England and the blank row dropped
    for i, code in enumerate(["R0A", "RJ1", "NT4"]):
        total, six, thirteen, act = dm01_counts("2023-05", i)
        assert (rows.loc[code, "waiting_list"], rows.loc[code, "waiting_6wk"]) == (total, six)
        assert same(rows.loc[code, "waiting_6wk_pct"], round(100 * six / total, 2))
        assert rows.loc[code, "activity"] == act
    assert math.isnan(rows.loc["NT4", "waiting_13wk"])  # '-'
    # the format NHS England publishes: a BIFF8 .xls, read to the same table
    xls = write(tmp_path, "c.xls", as_xls(dm01_workbook("2023-05")))
    assert xls.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE2 file, not a zip
    pd.testing.assert_frame_equal(read_dm01(path=xls), a)


# --- AmbSYS ----------------------------------------------------------------------------------


def test_ambsys_workbook_and_time_series_agree(tmp_path):
    book = read_ambsys(path=write(tmp_path, "AmbSYS-Apr24.xlsx", ambsys_workbook("2024-04")))
    series = read_ambsys_series(
        path=write(tmp_path, "AmbSYS-to-Apr24.csv", ambsys_series_csv("2024-04"))
    )
    assert set(book["org_code"]) == {c for c, *_ in AMB_SERVICES}  # England dropped
    assert len(book) == len(AMB_SERVICES) * len(AMB_CATEGORIES)
    for _, row in book.iterrows():
        i = [c for c, *_ in AMB_SERVICES].index(row["org_code"])
        count, hours, mean, p90 = ambsys_values("2024-04", i, row["category"])
        assert row["incidents"] == count and row["mean_seconds"] == mean
        assert row["p90_seconds"] == p90 and same(row["total_hours"], hours, 0.001)
    month = series[series["period"] == pd.Timestamp("2024-04-01")].reset_index(drop=True)
    cols = ["org_code", "category", "incidents", "mean_seconds", "p90_seconds"]
    pd.testing.assert_frame_equal(book[cols], month[cols], check_dtype=False)
    # the series starts in August 2017; C1T was '.' (not collected) before 2018
    assert series["period"].min() == pd.Timestamp("2017-08-01")
    first = series[series["period"] < pd.Timestamp("2018-01-01")]
    assert "C1T" not in set(first["category"]) and "C1" in set(first["category"])


def test_ambsys_series_must_end_in_the_locked_month(tmp_path):
    from icsresearch.releases import ambsys
    from icsresearch.releases._read import locked_sources

    path = write(tmp_path, "a.csv", ambsys_series_csv("2019-05"))
    [(_, src)] = locked_sources("ambsys_series", None, None, path)
    with pytest.raises(DataFileError, match="runs to 2019-05, but it is locked as 2019-06"):
        ambsys._parse_series(src, "2019-06")


# --- cancer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("extract", ["2021-05", "2023-11"], ids=["date-period", "fy-period"])
def test_cancer_extract_sums_types_and_maps_the_standards(tmp_path, extract):
    df = read_cancer(path=write(tmp_path, "c.xlsx", cwt_workbook(extract)))
    got = {
        (f"{r.period:%Y-%m}", r.org_code, r.standard_label): (r.total, r.within_standard)
        for r in df.itertuples()
    }
    assert got == cwt_expected(extract)
    after = df["period"] >= pd.Timestamp("2023-10-01")
    if extract == "2023-11":  # the October 2023 change inside one extract
        assert set(df.loc[after, "standard"]) == {"fds_28", "31_day", "62_day"}
        assert set(df.loc[~after, "standard"]) == {
            "2ww",
            "2ww_breast",
            "fds_28",
            "31_day",
            "62_day",
        }
    assert (df["breaches"] == df["total"] - df["within_standard"]).all()


def test_cancer_later_extract_revises_the_earlier_months(tmp_path):
    from icsresearch.releases import cancer
    from icsresearch.releases._read import locked_sources

    paths = [write(tmp_path, f"{p}.xlsx", cwt_workbook(p)) for p in ("2023-05", "2023-06")]
    parts = []
    for p, path in zip(("2023-05", "2023-06"), paths, strict=True):
        [(_, src)] = locked_sources("cancer", None, None, path)
        parts.append(cancer._parse(src, p))
    both = pd.concat(parts).sort_values("_extract", kind="stable")
    kept = both.drop_duplicates(["period", "org_code", "standard_label"], keep="last")
    may = kept[kept["period"] == pd.Timestamp("2023-05-01")]
    want = cwt_expected("2023-06")
    for r in may.itertuples():
        assert (r.total, r.within_standard) == want[("2023-05", r.org_code, r.standard_label)]
    with pytest.raises(DataFileError, match="runs to 2023-06, but it is locked as 2023-07"):
        [(_, src)] = locked_sources("cancer", None, None, paths[1])
        cancer._parse(src, "2023-07")


# --- staff survey ----------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2020, 2023], ids=["themes-wide", "people-promise-long"])
def test_staff_survey_theme_scores_by_text(tmp_path, year):
    df = read_staff_survey(path=write(tmp_path, f"NSS{year % 100}.zip", survey_zip(year)))
    rows = df.set_index("org_code")
    assert list(rows.index) == [c for c, *_ in SURVEY_ORGS]
    assert df["year"].eq(year).all()
    for i, (code, *_rest) in enumerate(SURVEY_ORGS):
        engagement = survey_score(
            year, i, "Staff engagement" if year < 2021 else "Staff Engagement"
        )
        wellbeing = survey_score(
            year, i, "Health & wellbeing" if year < 2021 else "We are safe and healthy"
        )
        for col, want in (("engagement", engagement), ("wellbeing", wellbeing),
                          ("morale", survey_score(year, i, "Morale"))):  # fmt: skip
            want = float("nan") if want is None else want
            assert same(rows.loc[code, col], want), (code, col)
    measure = "health and wellbeing" if year < 2021 else "we are safe and healthy"
    assert set(df["wellbeing_measure"]) == {measure}
    assert (df["team"].isna().all()) == (year < 2021)


def test_staff_survey_reads_the_organisation_workbook_and_checks_the_year(tmp_path):
    workbook = read_staff_survey(
        path=write(tmp_path, "NSS23 Organisation results.xlsx", survey_workbook(2023))
    )
    zipped = read_staff_survey(path=write(tmp_path, "NSS23.zip", survey_zip(2023)))
    pd.testing.assert_frame_equal(workbook, zipped)
    from icsresearch.releases import staff_survey
    from icsresearch.releases._read import locked_sources

    [(_, src)] = locked_sources("staff_survey", None, None, tmp_path / "NSS23.zip")
    with pytest.raises(DataFileError, match="2023 survey, but it is locked as 2022-09"):
        staff_survey._parse(src, "2022-09")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("NSS23 National results.xlsx", b"x")
    with pytest.raises(DataFileError, match="holds no file the reader can read"):
        read_staff_survey(path=write(tmp_path, "bad.zip", buf.getvalue()))


# --- the catalogue ---------------------------------------------------------------------------


def test_every_collection_has_a_reader_and_unconfirmed_layouts():
    from icsresearch import releases

    for name, coll in catalogue.collections().items():
        module, func = coll.reader.split(":")
        assert callable(getattr(getattr(releases, module), func)), name
        assert all(not layout.confirmed for layout in coll.layouts), name
    assert catalogue.collection("kh03").periods("2023-04", "2024-03") == [
        "2023-06", "2023-09", "2023-12", "2024-03"
    ]  # fmt: skip
    assert catalogue.collection("staff_survey").periods("2020-01", "2022-12") == [
        "2020-09", "2021-09", "2022-09"
    ]  # fmt: skip
    assert catalogue.collection("cancer").layout_for("2023-10").name == "provider-extract-fds"
    assert catalogue.collection("cancer").layout_for("2023-09").name == "provider-extract-2ww"
