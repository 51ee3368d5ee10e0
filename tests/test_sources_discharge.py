"""Discharge readers (healthyr compilations of the acute discharge SitRep) on the real files.

The compilations are read independently with pyreadr and checked row by row; the daily trust
series are also checked against the genuine NHS England SitRep workbooks (Table 2, read with
calamine), which is where the "0 means not submitted before June 2023" finding comes from. Bad
inputs are hand-made R data files in the published layout.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.discharge import (
    read_criteria_to_reside_icb,
    read_criteria_to_reside_trust,
    read_delay_reasons,
    read_discharges_trust,
)

pytestmark = pytest.mark.realdata

CTR = "healthyr/data/england_trust_criteria_to_reside.rda"
DIS = "healthyr/data/england_trust_discharged_patients.rda"
ICB = "healthyr/data/england_icb_criteria_to_reside.rda"
REASONS = "healthyr/data/england_delayed_discharge_reasons.rda"
SITREP = "Intermediate-care-open-data-clean/Raw_data/Acute_SitRep_data"
CTR_LABEL = "Number of patients who no longer meet the criteria to reside"
DIS_LABEL = "Number of patients discharged"


def _raw(mirror, path: str) -> pd.DataFrame:
    result = pyreadr.read_r(str(mirror / path))
    (frame,) = result.values()
    frame = frame.copy()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def _sitrep_table2(mirror, month: str) -> tuple[pd.DataFrame, dict]:
    """Trust rows of a SitRep workbook's Table 2 (long), and the England row by (day, label)."""
    from python_calamine import CalamineWorkbook

    grid = (
        CalamineWorkbook.from_path(str(mirror / SITREP / f"{month}.xlsx"))
        .get_sheet_by_name("Table 2")
        .to_python()
    )
    head = next(i for i, r in enumerate(grid) if sum(isinstance(v, dt.date) for v in r) > 5)
    day, cols = None, []
    for j, (v, label) in enumerate(zip(grid[head], grid[head + 1], strict=True)):
        if isinstance(v, dt.date):
            day = pd.Timestamp(v)
        if day is not None and label:
            cols.append((j, day, label))
    england = next(r for r in grid if str(r[2]).startswith("ENGLAND"))
    start = next(i for i, r in enumerate(grid) if str(r[1]).strip() == "Org Code")
    rows = []
    for r in grid[start + 1 :]:
        if not str(r[1]).strip():
            break
        rows += [(r[1].strip(), d, label, r[j]) for j, d, label in cols]
    trusts = pd.DataFrame(rows, columns=["trust_code", "date", "label", "value"])
    return trusts, {(d, label): england[j] for j, d, label in cols}


@pytest.fixture(scope="module")
def ctr(mirror):
    return read_criteria_to_reside_trust()


@pytest.fixture(scope="module")
def dis(mirror):
    return read_discharges_trust()


def _documented(df):
    assert df.attrs["verified"] is True
    assert list(df.attrs["columns"]) == list(df.columns)
    for doc in df.attrs["columns"].values():
        assert doc["label"] and doc["description"]


# --- real files -----------------------------------------------------------------------------


def test_criteria_to_reside_trust_matches_the_raw_file(mirror, ctr):
    raw = _raw(mirror, CTR)
    value = "do_not_meet_criteria_to_reside"
    placeholder = raw["nhs_trust22_code"].isna()
    assert placeholder.sum() == 243 and raw.loc[placeholder, value].isna().all()
    assert len(ctr) == len(raw) - 243 == 149_239
    _documented(ctr)
    assert list(ctr.columns) == ["trust_code", "date", "year", "not_meeting_criteria"]
    assert ctr["date"].min() == pd.Timestamp("2022-04-01")
    assert ctr["date"].max() == pd.Timestamp("2025-08-31")
    assert ctr["trust_code"].nunique() == 121
    # Financial year of the day: 31 March belongs to the year that started the April before.
    by_day = ctr.drop_duplicates("date").set_index("date")["year"]
    assert by_day[pd.Timestamp("2023-03-31")] == 2022 and by_day[pd.Timestamp("2023-04-01")] == 2023
    assert by_day[pd.Timestamp("2025-01-15")] == 2024
    # Spot values (RAJ also checked against the April 2022 workbook below).
    got = ctr.set_index(["trust_code", "date"])["not_meeting_criteria"]
    assert got[("RAJ", pd.Timestamp("2022-04-01"))] == 111
    assert got[("RAJ", pd.Timestamp("2022-04-03"))] == 241
    kept = raw[~placeholder].set_index(["nhs_trust22_code", "date"])[value]
    for key, v in kept.iloc[::7919].items():
        if key not in {("RH8", pd.Timestamp("2022-05-22")), ("RXQ", pd.Timestamp("2022-06-15"))}:
            assert got[key] == v or (np.isnan(v) and np.isnan(got[key]))
    # healthyr's two carried-forward values and 19 June 2022 (no collection) become missing.
    assert got[("RH8", pd.Timestamp("2022-05-21"))] == 86 and np.isnan(
        got[("RH8", pd.Timestamp("2022-05-22"))]
    )
    assert kept[("RH8", pd.Timestamp("2022-05-22"))] == 86  # as compiled: the previous day's
    assert np.isnan(got[("RXQ", pd.Timestamp("2022-06-15"))])
    assert ctr.loc[ctr.date == pd.Timestamp("2022-06-19"), "not_meeting_criteria"].isna().all()
    assert ctr["not_meeting_criteria"].sum() == pytest.approx(kept.sum() - 86 - 187)
    report = ctr.attrs["completeness"]
    assert report["periods_present"] == report["periods_expected"] == 1249
    assert report["missing_periods"] == []
    assert (report["units"], report["units_per_period_min"], report["units_per_period_max"]) == (
        121,
        118,
        121,
    )
    assert report["share_missing"]["not_meeting_criteria"] == pytest.approx(
        (1517 - 243 + 121 + 2) / 149_239, abs=1e-6
    )
    early = (kept.index.get_level_values("date") < "2023-06-01") & (
        kept.index.get_level_values("date") != "2022-06-19"
    )
    assert report["zero_values_before_june_2023"] == int((kept[early] == 0).sum()) == 969
    assert report["placeholder_rows_dropped"] == 243
    assert report["no_collection_days_set_missing"] == 121
    assert report["healthyr_fills_set_missing"] == 2


def test_zero_before_june_2023_is_mostly_a_non_submission(mirror, ctr, dis):
    """In the revised workbooks a non-submission is '-': the compilation has 0 before June 2023
    and NaN from June 2023; submitted values are equal."""
    got_ctr = ctr.set_index(["trust_code", "date"])["not_meeting_criteria"]
    got_dis = dis.set_index(["trust_code", "date"])["discharged_total"]
    for month, at_dash, differ in [("april2022", 0.0, (1, 2)), ("june2023", None, (0, 0))]:
        sheet, _ = _sitrep_table2(mirror, month)
        for label, got, n_differ in [
            (CTR_LABEL, got_ctr, differ[0]),
            (DIS_LABEL, got_dis, differ[1]),
        ]:
            x = sheet[sheet.label == label].set_index(["trust_code", "date"])["value"]
            ours = got.reindex(x.index)
            assert len(x) > 3500 and x.index.isin(got.index).all()  # every workbook trust-day
            dash = x.eq("-")
            assert dash.sum() == {"april2022": 48, "june2023": 33}[month]
            if at_dash is None:
                assert ours[dash].isna().all()
            else:
                assert (ours[dash] == at_dash).all()
            published = pd.to_numeric(x[~dash])
            assert int((published != ours[~dash]).sum()) == n_differ
        # The workbook's third column: remaining = not meeting the criteria - discharged.
        wide = sheet[~sheet.value.eq("-")].pivot(
            index=["trust_code", "date"], columns="label", values="value"
        )
        remaining = wide.filter(like="remaining").iloc[:, 0].astype(float)
        assert (remaining == wide[CTR_LABEL].astype(float) - wide[DIS_LABEL].astype(float)).all()


def test_discharges_trust_parts_and_totals(mirror, ctr, dis):
    raw = _raw(mirror, DIS)
    raw = raw[raw["nhs_trust22_code"].notna()]
    assert len(dis) == len(raw) == 149_239
    _documented(dis)
    assert list(dis.columns) == [
        "trust_code",
        "date",
        "year",
        "discharged_by_1700",
        "discharged_1701_2359",
        "discharged_total",
    ]
    parts = raw["discharged_by_1700"].notna()
    assert parts.sum() == 51_515 and raw.loc[parts, "date"].max() == pd.Timestamp("2023-05-31")
    assert (
        raw.loc[parts, "discharged_by_1700"] + raw.loc[parts, "discharged_between_1701_2359"]
        == raw.loc[parts, "discharged_total"]
    ).all()
    assert dis.loc[dis.date >= "2023-06-01", "discharged_by_1700"].isna().all()
    got = dis.set_index(["trust_code", "date"])
    assert got.loc[("RAJ", pd.Timestamp("2022-04-03"))].tolist()[1:] == [19, 5, 24]
    june = got.loc[("RAJ", pd.Timestamp("2023-06-01"))]
    assert np.isnan(june["discharged_by_1700"]) and june["discharged_total"] == 317
    assert dis["discharged_total"].sum() == raw["discharged_total"].sum()  # 19 June 2022 was all 0
    report = dis.attrs["completeness"]
    assert report["rows_with_split"] == report["split_sums_to_total"] == 51_515 - 121
    assert report["share_missing"]["discharged_total"] == pytest.approx(
        (1517 - 243 + 121) / 149_239, abs=1e-6
    )
    # "Discharged" counts patients who no longer met the criteria: in the workbooks remaining =
    # not meeting - discharged, and here the discharges never exceed that count to May 2023.
    both = got.join(ctr.set_index(["trust_code", "date"])["not_meeting_criteria"])
    early = both[both.index.get_level_values("date") < "2023-06-01"]
    assert not (early["discharged_total"] > early["not_meeting_criteria"]).any()
    over = both[both["discharged_total"] > both["not_meeting_criteria"]]
    assert len(over) == 51 and over.index.get_level_values("date").min() == pd.Timestamp(
        "2024-06-14"
    )


def test_discharges_from_june_2022_include_hospice_discharges(mirror, dis):
    """August 2022: the trust totals add up to the workbook's England row (which includes the
    hospice discharges that its trust rows leave out) on 1-28 August; revisions after that."""
    sheet, england = _sitrep_table2(mirror, "august2022")
    national = dis[dis.date.dt.month.eq(8) & dis.date.dt.year.eq(2022)]
    national = national.groupby("date")["discharged_total"].sum()
    equal = [d for d, v in national.items() if v == england[(d, DIS_LABEL)]]
    assert equal == list(pd.date_range("2022-08-01", "2022-08-28"))
    rows = sheet[(sheet.label == DIS_LABEL) & (sheet.date == "2022-08-01")]
    published = pd.to_numeric(rows["value"], errors="coerce").sum()
    assert 0 < national[pd.Timestamp("2022-08-01")] - published < 40  # hospice: 1-3 a trust


def test_criteria_to_reside_icb_against_the_trusts(mirror, ctr):
    from icsresearch.geography import icbs, trusts

    raw = _raw(mirror, ICB)
    icb = read_criteria_to_reside_icb()
    assert len(icb) == len(raw) == 51_727
    _documented(icb)
    assert list(icb.columns) == ["icb_ons_code", "date", "year", "not_meeting_criteria"]
    assert icb["icb_ons_code"].nunique() == 42 and icb["icb_ons_code"].str.match(r"E54\d{6}").all()
    cambs = icb[icb.icb_ons_code == "E54000056"]
    assert cambs["date"].max() == pd.Timestamp("2023-08-31")  # dropped by the compilation
    assert icb["not_meeting_criteria"].sum() == raw["do_not_meet_criteria_to_reside"].sum()
    report = icb.attrs["completeness"]
    assert (report["units"], report["units_per_period_min"], report["periods_present"]) == (
        42,
        41,
        1249,
    )
    assert report["no_collection_days_set_missing"] == 42
    # ICB = sum of its trusts (headquarters ICB), with three documented exceptions.
    hq = trusts().merge(icbs(2022), left_on="hq_icb_code", right_on="icb_code")
    hq = hq.set_index("trust_code")["icb_ons_code"]
    t = ctr.assign(icb_ons_code=ctr["trust_code"].map(hq))
    assert t["icb_ons_code"].notna().all()
    sums = t.groupby(["icb_ons_code", "date"])["not_meeting_criteria"].sum(min_count=1)
    j = icb.set_index(["icb_ons_code", "date"])["not_meeting_criteria"].to_frame("icb")
    j["trusts"] = sums
    same = (j.icb == j.trusts) | (j.icb.isna() & j.trusts.isna())
    assert int(same.sum()) == 50_044
    off = j[~same].reset_index()
    rcd = ctr[ctr.trust_code == "RCD"].set_index("date")["not_meeting_criteria"]
    harrogate = off.icb_ons_code.isin(["E54000051", "E54000054"]) & (off.date >= "2023-06-01")
    assert harrogate.sum() == 2 * 823
    for code, sign in [("E54000051", -1), ("E54000054", 1)]:
        x = off[harrogate & (off.icb_ons_code == code)].set_index("date")
        assert ((x.icb - x.trusts) == sign * rcd.reindex(x.index)).all()
    rest = off[~harrogate]
    not_submitted = (rest.icb == 0) & rest.trusts.isna()
    assert not_submitted.sum() == 35
    outliers = rest[~not_submitted].set_index(["icb_ons_code", "date"])["icb"]
    assert outliers.to_dict() == {
        ("E54000037", pd.Timestamp("2022-05-22")): 1867,
        ("E54000044", pd.Timestamp("2022-06-15")): 2072,
    }


def test_delay_reasons_matches_the_raw_file(mirror, ctr, dis):
    raw = pyreadr.read_r(str(mirror / REASONS))["england_delayed_discharge_reasons"]
    df = read_delay_reasons()
    assert len(df) == len(raw) == 52_651
    _documented(df)
    assert list(df.columns) == [
        "trust_code",
        "trust_name",
        "period",
        "year",
        "delay_reason",
        "delay_reason_group",
        "delay_count",
    ]
    assert sorted(df["period"].unique()) == list(
        pd.date_range("2024-06-01", "2025-05-01", freq="MS")
    )
    assert df.loc[df.period == "2025-03-01", "year"].eq(2024).all()
    assert df.loc[df.period == "2025-04-01", "year"].eq(2025).all()
    assert df["delay_reason"].nunique() == 37
    assert df.groupby("delay_reason_group")["delay_reason"].nunique().to_dict() == {
        "Capacity": 11,
        "Care transfer hub process": 3,
        "Hospital process": 7,
        "Interface process": 12,
        "Wellbeing concerns": 4,
    }
    counts = df["delay_count"].dropna()
    assert (counts == counts.round()).all() and counts.min() == 0  # whole numbers
    assert df["delay_count"].sum() == raw["delay_count"].sum()
    assert df["delay_count"].isna().sum() == 259 == 7 * 37
    one = df[
        (df.trust_code == "RAJ")
        & (df.period == "2024-06-01")
        & df.delay_reason.str.startswith("Hospital process – Awaiting therapy review")
    ]
    assert one["delay_count"].tolist() == [11.0]
    assert one["trust_name"].tolist() == ["Mid And South Essex NHS Foundation Trust"]
    report = df.attrs["completeness"]
    assert report["reasons"] == 37 and report["reasons_in_every_period"] is True
    assert report["reasons_without_group"] == []
    assert (report["periods_present"], report["units"], report["units_per_period_min"]) == (
        12,
        119,
        118,
    )
    # A level (patients at a time), not a monthly total: the reasons add up to about two thirds
    # of the month's average daily number remaining in hospital, as SitRep Table 5 did.
    mean = _mean_remaining(ctr, dis)
    reasons = df.groupby(["trust_code", "period"])["delay_count"].sum(min_count=1)
    ratio = (reasons / mean).dropna()
    assert 0.62 < ratio[np.isfinite(ratio)].median() < 0.7
    national = df.groupby("period")["delay_count"].sum() / mean.groupby("period").sum()
    assert national.dropna().between(0.66, 0.74).all() and national.notna().sum() == 12


def _mean_remaining(ctr, dis) -> pd.Series:
    """Average daily patients remaining in hospital not meeting the criteria, by trust-month."""
    remaining = (
        ctr.set_index(["trust_code", "date"])["not_meeting_criteria"]
        - dis.set_index(["trust_code", "date"])["discharged_total"]
    )
    remaining = remaining.reset_index(name="remaining")
    remaining["period"] = remaining["date"].dt.to_period("M").dt.to_timestamp()
    return remaining.groupby(["trust_code", "period"])["remaining"].mean()


def test_sitrep_table_5_has_the_same_scale_but_fractional_values(mirror, ctr, dis):
    """Table 5 of January 2024 (people per day, length of stay 14+, by 18 older reasons): the
    same share of the patients remaining as delay_count, but weekly-snapshot averages."""
    from python_calamine import CalamineWorkbook

    grid = (
        CalamineWorkbook.from_path(str(mirror / SITREP / "january2024.xlsx"))
        .get_sheet_by_name("Table 5")
        .to_python()
    )
    head = next(i for i, r in enumerate(grid) if sum(str(v).startswith("Awaiting") for v in r) > 3)
    reasons = [c for c in grid[head][3:] if c]
    assert len(reasons) == 18 and "No Plan" in reasons
    start = next(i for i, r in enumerate(grid) if str(r[1]).strip() == "Org Code")
    values = {}
    for r in grid[start + 1 :]:
        if not str(r[1]).strip():
            break
        values[r[1].strip()] = [v for v in r[3 : 3 + len(reasons)] if isinstance(v, float)]
    numbers = [v for vs in values.values() for v in vs]
    assert sum(v != round(v) for v in numbers) > len(numbers) / 3  # e.g. 0.25, 58.4
    mean = _mean_remaining(ctr, dis).xs(pd.Timestamp("2024-01-01"), level="period")
    total = sum(sum(vs) for vs in values.values())
    assert 0.6 < total / mean.sum() < 0.7


# --- hand-made bad input ---------------------------------------------------------------------


def _ctr_frame(**overrides) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "nhs_trust22_code": ["RAJ", "RAJ", "RC9"],
            "date": ["2022-04-01", "2022-04-02", "2022-04-01"],
            "do_not_meet_criteria_to_reside": [111.0, 67.0, 236.0],
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return df


def _write(tmp_path, df, name="england_trust_criteria_to_reside", file=None):
    path = tmp_path / (file or f"{name}.rda")
    pyreadr.write_rdata(str(path), df, df_name=name)
    return path


def _error(reader, path) -> str:
    with pytest.raises(DataFileError) as info:
        reader(path)
    msg = str(info.value)
    assert path.name in msg and "Fix:" in msg
    return msg


def test_a_user_file_in_the_published_layout_is_read(tmp_path):
    df = _ctr_frame()
    df.loc[3] = [None, "2025-01-01", np.nan]  # a placeholder row: no code, no value
    out = read_criteria_to_reside_trust(_write(tmp_path, df))
    assert out["trust_code"].tolist() == ["RAJ", "RAJ", "RC9"]
    assert out["date"].tolist() == list(pd.to_datetime(["2022-04-01", "2022-04-02", "2022-04-01"]))
    assert out["not_meeting_criteria"].tolist() == [111, 67, 236]
    assert out.attrs["verified"] is False
    assert out.attrs["completeness"]["placeholder_rows_dropped"] == 1


def test_no_collection_day_zeros_become_missing_but_values_stay(tmp_path):
    df = _ctr_frame(
        date=["2022-06-19", "2022-06-20", "2022-06-19"],
        do_not_meet_criteria_to_reside=[0.0, 0.0, 5.0],
    )
    out = read_criteria_to_reside_trust(_write(tmp_path, df)).set_index("trust_code")
    assert out.loc["RC9", "not_meeting_criteria"] == 5
    raj = out.loc["RAJ"].set_index("date")["not_meeting_criteria"]
    assert np.isnan(raj[pd.Timestamp("2022-06-19")]) and raj[pd.Timestamp("2022-06-20")] == 0


def test_wrong_r_object_and_missing_column(tmp_path):
    msg = _error(read_criteria_to_reside_trust, _write(tmp_path, _ctr_frame(), name="ctr"))
    assert "has no R object 'england_trust_criteria_to_reside'" in msg and "['ctr']" in msg
    path = _write(tmp_path, _ctr_frame().drop(columns="date"), file="nodate.rda")
    assert "missing column(s) ['date']" in _error(read_criteria_to_reside_trust, path)


def test_empty_and_truncated_files(tmp_path, mirror):
    empty = tmp_path / "empty.rda"
    empty.write_bytes(b"")
    assert "is empty" in _error(read_criteria_to_reside_trust, empty)
    cut = tmp_path / "england_trust_discharged_patients.rda"
    data = (mirror / DIS).read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert "not a readable R data file" in _error(read_discharges_trust, cut)


def test_negative_and_fractional_counts_name_the_row(tmp_path):
    path = _write(tmp_path, _ctr_frame(do_not_meet_criteria_to_reside=[111.0, -3.0, 5.0]))
    msg = _error(read_criteria_to_reside_trust, path)
    assert "'do_not_meet_criteria_to_reside' has 1 negative value(s)" in msg
    assert "row 2 (RAJ, 2022-04-02): -3.0" in msg
    path = _write(tmp_path, _ctr_frame(do_not_meet_criteria_to_reside=[111.0, 6.5, 5.0]))
    assert "not whole numbers (row 2 (RAJ, 2022-04-02): 6.5)" in _error(
        read_criteria_to_reside_trust, path
    )


def test_text_in_a_count_column_names_the_r_row(tmp_path):
    path = _write(tmp_path, _ctr_frame(do_not_meet_criteria_to_reside=["111", "many", "5"]))
    assert "not numbers (row 2: 'many')" in _error(read_criteria_to_reside_trust, path)


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2022-04-01", "soon", "2022-04-01"], "not dates (row 2 (RAJ, soon): 'soon')"),
        (["2022-04-01", "2022-04-31", "2022-04-01"], "not dates (row 2 (RAJ, 2022-04-31)"),
        (["2022-04-01", "2019-04-02", "2022-04-01"], "outside April 2020"),
        (["2022-04-01", "2099-04-02", "2022-04-01"], "outside April 2020"),
        (["2022-04-01", "2022-04-02 13:30:00", "2022-04-01"], "with a time of day"),
    ],
)
def test_bad_dates(tmp_path, dates, expected):
    assert expected in _error(
        read_criteria_to_reside_trust, _write(tmp_path, _ctr_frame(date=dates))
    )


def test_codes_and_duplicate_keys(tmp_path):
    path = _write(tmp_path, _ctr_frame(nhs_trust22_code=["RAJ", "Royal Surrey", "RC9"]))
    assert "not organisation codes (row 2: 'Royal Surrey')" in _error(
        read_criteria_to_reside_trust, path
    )
    path = _write(tmp_path, _ctr_frame(nhs_trust22_code=["RAJ", None, "RC9"]))
    assert "not organisation codes" in _error(read_criteria_to_reside_trust, path)
    path = _write(tmp_path, _ctr_frame(date=["2022-04-01", "2022-04-01", "2022-04-01"]))
    assert "repeat the key ['trust_code', 'date']" in _error(read_criteria_to_reside_trust, path)


def test_discharge_parts_that_exceed_the_total_are_refused(tmp_path):
    df = pd.DataFrame(
        {
            "nhs_trust22_code": ["RAJ", "RAJ", "RC9"],
            "date": ["2022-04-01", "2022-04-02", "2023-06-01"],
            "discharged_by_1700": [19.0, 12.0, np.nan],
            "discharged_between_1701_2359": [5.0, 3.0, np.nan],
            "discharged_total": [24.0, 10.0, 80.0],
        }
    )
    name = "england_trust_discharged_patients"
    msg = _error(read_discharges_trust, _write(tmp_path, df, name=name))
    assert "1 row(s) where discharged_by_1700 + discharged_between_1701_2359 exceed" in msg
    assert "row 2 (RAJ, 2022-04-02): '15 > 10'" in msg
    df.loc[1, "discharged_total"] = 16.0  # parts short of the total: kept, and counted
    out = read_discharges_trust(_write(tmp_path, df, name=name))
    assert out["discharged_total"].tolist() == [24, 16, 80]
    report = out.attrs["completeness"]
    assert (report["rows_with_split"], report["split_sums_to_total"]) == (2, 1)


def test_icb_codes_must_be_2022_ons_codes(tmp_path):
    df = pd.DataFrame(
        {
            "icb22_code": ["E54000056", "QUE"],
            "date": ["2022-04-01", "2022-04-01"],
            "do_not_meet_criteria_to_reside": [440.0, 1.0],
        }
    )
    msg = _error(
        read_criteria_to_reside_icb, _write(tmp_path, df, name="england_icb_criteria_to_reside")
    )
    assert "2022 ICB ONS codes" in msg and "row 2: 'QUE'" in msg


def _reasons_frame(**overrides) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "nhs_trust22_name": ["Trust A"] * 4,
            "nhs_trust22_code": ["RAJ"] * 4,
            "date": ["2024-06-01"] * 4,
            "delay_reason": [
                "Capacity – Housing provision not yet available (Pathway 0 or 1)",
                "Hospital process - Awaiting medical review of need for supported discharge",
                "Interface\xa0process – Further action requested by agreed provider",
                "Care transfer hub process– Awaiting necessary referrals by care transfer hub",
            ],
            "delay_count": [2.0, 0.0, 3.0, np.nan],
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return df


def test_delay_reason_groups_survive_typography_and_unknown_labels_are_reported(tmp_path):
    name = "england_delayed_discharge_reasons"
    out = read_delay_reasons(_write(tmp_path, _reasons_frame(), name=name))
    assert out.set_index("delay_reason")["delay_reason_group"].to_dict() == {
        "Capacity – Housing provision not yet available (Pathway 0 or 1)": "Capacity",
        "Care transfer hub process– Awaiting necessary referrals by care transfer hub": (
            "Care transfer hub process"
        ),
        "Hospital process - Awaiting medical review of need for supported discharge": (
            "Hospital process"
        ),
        "Interface\xa0process – Further action requested by agreed provider": "Interface process",
    }
    assert out["period"].eq(pd.Timestamp("2024-06-01")).all() and out["year"].eq(2024).all()
    assert np.isnan(out["delay_count"]).sum() == 1  # missing stays missing
    reasons = _reasons_frame()
    reasons.loc[1, "delay_reason"] = "Awaiting transport"  # a 2022-style label: no category
    out = read_delay_reasons(_write(tmp_path, reasons, name=name))
    assert out.loc[out.delay_reason == "Awaiting transport", "delay_reason_group"].isna().all()
    assert out.attrs["completeness"]["reasons_without_group"] == ["Awaiting transport"]


def test_delay_reasons_bad_input(tmp_path):
    name = "england_delayed_discharge_reasons"
    path = _write(tmp_path, _reasons_frame(date=["2024-06-01", "2024-06-15"] * 2), name=name)
    assert "not the first day of a month (row 2 (RAJ, 2024-06-15)" in _error(
        read_delay_reasons, path
    )
    path = _write(tmp_path, _reasons_frame(delay_count=[2.0, -1.0, 3.0, 0.0]), name=name)
    assert "'delay_count' has 1 negative value(s)" in _error(read_delay_reasons, path)
    blank = _reasons_frame()
    blank.loc[2, "delay_reason"] = " "
    path = _write(tmp_path, blank, name=name)
    assert "'delay_reason' has 1 blank value(s) (row 3 (RAJ, 2024-06-01)" in _error(
        read_delay_reasons, path
    )
    twice = _reasons_frame()
    twice.loc[1, "delay_reason"] = twice.loc[0, "delay_reason"]
    path = _write(tmp_path, twice, name=name)
    assert "repeat the key ['trust_code', 'period', 'delay_reason']" in _error(
        read_delay_reasons, path
    )
