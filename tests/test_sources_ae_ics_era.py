"""ICS-era A&E readers (healthyr compilations of NHS England's monthly A&E workbooks).

The R files are read independently with pyreadr and compared with the readers row by row; the
trust file is also compared with the May 2022 cross-section of the TamTobiRalph fork. Bad inputs
are hand-made R data files in the published layout, written with pyreadr.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.ae import (
    FIELD_TEST_ICBS,
    FIELD_TEST_TRUSTS,
    read_ae_icb_monthly,
    read_ae_trust_monthly,
    read_ae_type3_attribution,
)

pytestmark = pytest.mark.realdata

TRUST = "healthyr/data/england_trust_accidents_emergency.rda"
ICB = "healthyr/data/england_icb_accidents_emergency.rda"
ATTRIBUTION = "healthyr/data/england_ae_acute_trust_attribution.rda"
FORK = "healthyr@TamTobiRalph/data/england_nhs_ae.rda"
COUNTS = [
    "total_attendances",
    "attendances_over_4hours",
    "total_emergency_admissions",
    "emergency_admissions_over_4hours",
]
COPIES = pd.to_datetime(["2025-02-01", "2025-03-01"])


def _raw(mirror, path: str) -> pd.DataFrame:
    (frame,) = pyreadr.read_r(str(mirror / path)).values()
    frame = frame.copy()
    frame["period"] = pd.to_datetime(frame["date"], format="%B %Y")
    return frame


@pytest.fixture(scope="module")
def trust(mirror):
    return read_ae_trust_monthly()


@pytest.fixture(scope="module")
def icb(mirror):
    return read_ae_icb_monthly()


# --- trust file ----------------------------------------------------------------------------


def test_trust_file_matches_the_raw_file(mirror, trust):
    raw = _raw(mirror, TRUST)
    assert len(trust) == len(raw) == 7895
    assert list(trust.columns) == [
        "trust_code",
        "period",
        "year",
        "attendances",
        "over_4hr",
        "within_4hr_pct",
        "emergency_admissions",
        "admissions_over_4hr_from_decision",
        "month_label",
    ]
    assert trust.attrs["verified"] is True
    assert set(trust.attrs["columns"]) == set(trust.columns)
    assert all(d["description"] and d["label"] for d in trust.attrs["columns"].values())
    merged = raw.merge(
        trust, left_on=["nhs_trust22_code", "period"], right_on=["trust_code", "period"]
    )
    assert len(merged) == len(raw)
    kept = ~merged["period"].isin(COPIES)
    for published, ours in zip(
        COUNTS,
        ["attendances", "over_4hr", "emergency_admissions", "admissions_over_4hr_from_decision"],
        strict=True,
    ):
        a, b = merged.loc[kept, published], merged.loc[kept, ours]
        assert ((a == b) | (a.isna() & b.isna())).all(), published
        assert b.sum() == pytest.approx(a.sum())
    assert (merged["date"] == merged["month_label"]).all()
    one = trust[(trust.trust_code == "R0A") & (trust.period == pd.Timestamp("2021-04-01"))].iloc[0]
    assert (one.attendances, one.over_4hr, one.emergency_admissions) == (36777, 7772, 8941)
    assert one.admissions_over_4hr_from_decision == 808
    assert one.within_4hr_pct == pytest.approx(100 * (1 - 7772 / 36777))
    last = trust[(trust.trust_code == "RK9") & (trust.period == pd.Timestamp("2025-07-01"))]
    assert last[["attendances", "over_4hr"]].iloc[0].tolist() == [16062, 4445]


def test_trust_periods_and_financial_years(trust):
    assert trust["period"].min() == pd.Timestamp("2021-04-01")
    assert trust["period"].max() == pd.Timestamp("2025-07-01")
    assert (trust["period"].dt.day == 1).all()
    by_month = trust.drop_duplicates("period").set_index("period")["year"]
    assert by_month[pd.Timestamp("2021-04-01")] == 2021
    assert by_month[pd.Timestamp("2022-03-01")] == 2021
    assert by_month[pd.Timestamp("2022-04-01")] == 2022
    assert by_month[pd.Timestamp("2025-01-01")] == 2024
    assert sorted(trust["year"].unique()) == [2021, 2022, 2023, 2024, 2025]


def test_missing_4hr_counts_are_the_field_test_trusts_to_may_2023(mirror, trust):
    raw = _raw(mirror, TRUST)
    gone = raw[raw["attendances_over_4hours"].isna()]
    assert len(gone) == 354 and len(gone) / len(raw) == pytest.approx(0.0448, abs=5e-4)
    assert sorted(gone["nhs_trust22_code"].unique()) == sorted(FIELD_TEST_TRUSTS)
    assert gone["period"].max() == pd.Timestamp("2023-05-01")
    # Every month of every field-test trust up to May 2023 is missing, none after.
    ft = raw[raw["nhs_trust22_code"].isin(FIELD_TEST_TRUSTS)]
    early = ft["period"] <= pd.Timestamp("2023-05-01")
    assert ft.loc[early, "attendances_over_4hours"].isna().all()
    assert ft.loc[~early, "attendances_over_4hours"].notna().all()
    # R0D and RK9 are absent before September 2021 (12 x 26 + 2 x 21 = 354).
    assert gone.groupby("nhs_trust22_code").size().sort_values().iloc[:2].to_dict() == {
        "R0D": 21,
        "RK9": 21,
    }
    # The reader keeps them missing, and the 4-hour share with them.
    out = trust[trust.trust_code.isin(FIELD_TEST_TRUSTS) & (trust.period <= "2023-05-01")]
    assert out[["over_4hr", "within_4hr_pct"]].isna().all().all()


def test_within_4hr_from_counts_agrees_with_the_published_rounded_share(mirror, trust):
    raw = _raw(mirror, TRUST).merge(
        trust, left_on=["nhs_trust22_code", "period"], right_on=["trust_code", "period"]
    )
    has = raw["pct_attendance_over_4hours"].notna() & raw["within_4hr_pct"].notna()
    # Everywhere the compilation has a share, except the blanked 2025 copies.
    published = raw["pct_attendance_over_4hours"].notna()
    assert published.sum() == 7083
    assert (has == (published & ~raw["period"].isin(COPIES))).all() and has.sum() == 6800
    published_within = 100 * (1 - raw.loc[has, "pct_attendance_over_4hours"])
    assert (raw.loc[has, "within_4hr_pct"] - published_within).abs().max() <= 0.5 + 1e-9
    # Published share missing exactly where over_4hr is missing or there were no attendances.
    none = raw["total_attendances"] == 0
    assert none.sum() == 458
    assert (
        raw["pct_attendance_over_4hours"].isna() == (raw["attendances_over_4hours"].isna() | none)
    ).all()
    assert trust.loc[trust.attendances == 0, "within_4hr_pct"].isna().all()
    assert trust["within_4hr_pct"].dropna().between(0, 100).all()


def test_february_and_march_2025_repeat_2024_and_are_blanked(mirror, trust):
    raw = _raw(mirror, TRUST)
    for copy in COPIES:
        a = raw[raw.period == copy].set_index("nhs_trust22_code")[COUNTS].sort_index()
        b = (
            raw[raw.period == copy - pd.DateOffset(years=1)]
            .set_index("nhs_trust22_code")[COUNTS]
            .sort_index()
        )
        assert a.index.equals(b.index) and len(a) >= 150
        assert a.fillna(-1).equals(b.fillna(-1))
    assert "RAP" in set(raw.loc[raw.period.isin(COPIES), "nhs_trust22_code"])
    assert "RAP" not in set(raw.loc[raw.period == pd.Timestamp("2025-01-01"), "nhs_trust22_code"])
    copies = trust[trust.period.isin(COPIES)]
    assert len(copies) == 301 and copies[["attendances", "over_4hr"]].isna().all().all()
    genuine = trust[trust.period.isin(COPIES - pd.DateOffset(years=1))]
    assert genuine["attendances"].notna().all()
    report = trust.attrs["completeness"]["repeated_months"]
    assert report == [
        {"month": "2025-02-01", "repeats": "2024-02-01", "blanked": ["2025-02-01"]},
        {"month": "2025-03-01", "repeats": "2024-03-01", "blanked": ["2025-03-01"]},
    ]


def test_trust_completeness(trust):
    c = trust.attrs["completeness"]
    assert (c["rows"], c["periods_present"], c["periods_expected"]) == (7895, 52, 52)
    assert (c["units"], c["units_per_period_min"], c["units_per_period_max"]) == (157, 149, 155)
    assert c["missing_periods"] == []
    assert c["share_missing"]["attendances"] == pytest.approx(301 / 7895, abs=1e-6)
    assert c["share_missing"]["over_4hr"] == pytest.approx((354 + 301) / 7895, abs=1e-6)


def test_trust_file_against_the_may_2022_cross_section(mirror, trust):
    (fork,) = pyreadr.read_r(str(mirror / FORK)).values()
    may = trust[trust.period == pd.Timestamp("2022-05-01")].merge(
        fork, left_on="trust_code", right_on="Trust Code"
    )
    total = may["No. Attendance Total"]
    assert total.notna().sum() == 152
    assert (may["attendances"] == total).sum() == 149
    dta = may["No. patients >= 4h from decisiion to admit to admission"]
    assert dta.notna().sum() == 152
    assert (may["admissions_over_4hr_from_decision"] == dta).sum() == 148
    # The fork's all-types share within 4 hours agrees with ours where both exist.
    both = may["% Total <= 4 hours"].notna() & may["within_4hr_pct"].notna()
    close = (100 * may.loc[both, "% Total <= 4 hours"] - may.loc[both, "within_4hr_pct"]).abs()
    assert (close < 1e-6).sum() == 127 and both.sum() == 129


def test_emergency_admissions_include_admissions_not_via_ae(mirror, trust):
    raw = _raw(mirror, TRUST)
    assert (raw["total_attendances"] == 0).sum() == 458
    no_ae = trust[trust.attendances == 0]
    assert len(no_ae) == 458 - 18  # 18 are in the blanked 2025 copies
    assert no_ae["emergency_admissions"].max() == 836
    assert set(no_ae.loc[no_ae.emergency_admissions > 0, "trust_code"]) >= {"RBV", "RBQ"}
    assert (no_ae["admissions_over_4hr_from_decision"] == 0).all()
    both = trust[["admissions_over_4hr_from_decision", "emergency_admissions"]].dropna()
    assert len(both) == 7895 - 302
    assert (both.iloc[:, 0] <= both.iloc[:, 1]).all()
    assert trust["admissions_over_4hr_from_decision"].isna().sum() == 1 + 301


# --- ICB file ------------------------------------------------------------------------------


def test_icb_file_matches_the_raw_file(mirror, icb):
    raw = _raw(mirror, ICB)
    assert len(icb) == len(raw) == 1680
    assert icb.attrs["verified"] is True and set(icb.attrs["columns"]) == set(icb.columns)
    codes = set(icb["icb_ons_code"])
    assert len(codes) == 42 and {"E54000052", "E54000053"} <= codes
    assert not codes & {"E54000063", "E54000064"}
    merged = raw.merge(icb, left_on=["icb22_code", "period"], right_on=["icb_ons_code", "period"])
    assert len(merged) == 1680
    kept = ~merged["period"].isin(COPIES)
    assert (merged.loc[kept, "total_attendances"] == merged.loc[kept, "attendances"]).all()
    assert (
        merged.loc[kept, "total_emergency_admissions"] == merged.loc[kept, "emergency_admissions"]
    ).all()
    c = icb.attrs["completeness"]
    assert (c["periods_present"], c["units"], c["units_per_period_min"]) == (40, 42, 42)
    assert (c["first"], c["last"]) == ("2022-04-01", "2025-07-01")
    assert c["over_4hr_missing_field_test"] == 182
    assert c["share_missing"]["over_4hr"] == pytest.approx((182 + 84) / 1680, abs=1e-6)
    row = icb[(icb.icb_ons_code == "E54000008") & (icb.period == pd.Timestamp("2022-04-01"))]
    assert row[["attendances", "over_4hr"]].iloc[0].tolist() == [121022, 33535]


def test_field_test_boards_lack_over_4hr_until_may_2023(mirror, icb):
    raw = _raw(mirror, ICB)
    # Frimley reports 0 over 4 hours for six months: its field-test trust (RDU) is left out.
    frimley = raw[(raw.icb22_code == "E54000034") & (raw.period <= "2022-09-01")]
    assert (frimley["attendances_over_4hours"] == 0).all() and len(frimley) == 6
    # The 13 boards are exactly those whose share over 4 hours jumps in June 2023.
    share = raw.assign(s=raw.attendances_over_4hours / raw.total_attendances).pivot(
        index="icb22_code", columns="period", values="s"
    )
    step = share.loc[:, "2023-06-01":"2024-05-01"].mean(axis=1) - share.loc[:, :"2023-05-01"].mean(
        axis=1
    )
    assert set(step.nlargest(13).index) == set(FIELD_TEST_ICBS)
    assert step.drop(list(FIELD_TEST_ICBS)).max() < 0.02 < step[list(FIELD_TEST_ICBS)].min()
    blank = icb[icb.icb_ons_code.isin(FIELD_TEST_ICBS) & (icb.period <= "2023-05-01")]
    assert len(blank) == 182 and blank[["over_4hr", "within_4hr_pct"]].isna().all().all()
    after = icb[icb.icb_ons_code.isin(FIELD_TEST_ICBS) & (icb.period == "2023-06-01")]
    assert after["over_4hr"].notna().all()


def test_icb_totals_against_the_trust_file(mirror, trust, icb):
    cols = ["attendances", "over_4hr", "emergency_admissions", "admissions_over_4hr_from_decision"]
    late = pd.Timestamp("2023-06-01")  # both files complete for the 4-hour counts
    t = trust[trust.period >= "2022-04-01"].groupby("period")[cols].sum(min_count=1)
    i = icb.groupby("period")[cols].sum(min_count=1)
    ratio = (t / i).dropna(how="all")
    assert len(ratio) == 38  # the two blanked 2025 months drop out
    # Admissions: the same providers (NHS trusts); attendances: ICBs add non-NHS providers.
    assert ratio["emergency_admissions"].between(0.9988, 1.0).all()
    assert ratio["admissions_over_4hr_from_decision"].between(0.9988, 1.0).all()
    assert ratio["attendances"].between(0.9359, 0.9477).all()
    assert ratio.loc[late:, "over_4hr"].between(0.9916, 0.9976).all()
    # Before June 2023 the reader blanks the field-test boards; the published ICB counts, like
    # the trust file, leave the field-test trusts out, so they agree as closely.
    raw = _raw(mirror, ICB)
    raw = raw[~raw.period.isin(COPIES)].groupby("period")["attendances_over_4hours"].sum()
    early = (t["over_4hr"] / raw).loc[:"2023-05-01"]
    assert len(early) == 14 and early.between(0.985, 0.9963).all()
    assert (ratio.loc[:"2023-05-01", "over_4hr"] > 1.2).all()  # blanked boards left out
    # The fixed months, England totals: e.g. May 2022.
    may = pd.Timestamp("2022-05-01")
    assert i.at[may, "attendances"] == 2233053 and t.at[may, "attendances"] == 2102443


# --- type-3 attribution --------------------------------------------------------------------


def test_attribution_matches_the_raw_file(mirror):
    (raw,) = pyreadr.read_r(str(mirror / ATTRIBUTION)).values()
    df = read_ae_type3_attribution()
    assert len(df) == len(raw) == 215
    assert list(df.columns) == ["trust_code", "acute_trust_code", "share"]
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert df["trust_code"].nunique() == 197 and df["acute_trust_code"].nunique() == 124
    assert df.groupby("trust_code")["share"].sum().sub(1).abs().max() < 1e-9
    assert df["share"].sum() == pytest.approx(raw.iloc[:, 2].sum()) == pytest.approx(197)
    self_mapped = df[df.trust_code == df.acute_trust_code]
    assert len(self_mapped) == 124 and (self_mapped["share"] == 1).all()
    assert (df.groupby("trust_code").size() > 1).sum() == 14
    rw4 = df[df.trust_code == "RW4"].set_index("acute_trust_code")["share"].round(4).to_dict()
    assert rw4 == {"REM": 0.382, "RBS": 0.3759, "RBN": 0.2422}
    assert df.set_index(["trust_code", "acute_trust_code"]).at[("AD913", "RJZ"), "share"] == 0.38
    assert df.attrs["completeness"]["units"] == 197


# --- hand-made bad inputs ------------------------------------------------------------------


def _trust_frame(**overrides) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "nhs_trust22_code": ["RA2", "RA2", "RJ1"],
            "total_attendances": [1000.0, 1100.0, 5000.0],
            "attendances_over_4hours": [200.0, np.nan, 900.0],
            "total_emergency_admissions": [300.0, 310.0, 1200.0],
            "emergency_admissions_over_4hours": [20.0, 25.0, 100.0],
            "pct_attendance_over_4hours": [0.2, np.nan, 0.18],
            "pct_emergency_admissions_over_4hours": [0.07, 0.08, 0.08],
            "date": ["April 2022", "May 2022", "April 2022"],
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return df


def _rda(tmp_path, df: pd.DataFrame, name: str, file: str) -> object:
    path = tmp_path / file
    pyreadr.write_rdata(str(path), df, df_name=name)
    return path


def _trust_file(tmp_path, df=None, name="england_trust_accidents_emergency"):
    return _rda(tmp_path, _trust_frame() if df is None else df, name, "trust_ae.rda")


def test_a_user_file_in_the_published_layout_reads(tmp_path):
    df = read_ae_trust_monthly(_trust_file(tmp_path))
    assert df.attrs["verified"] is False
    assert df["trust_code"].tolist() == ["RA2", "RA2", "RJ1"]
    assert df["period"].tolist() == list(pd.to_datetime(["2022-04-01", "2022-05-01", "2022-04-01"]))
    assert df["within_4hr_pct"].iloc[0] == pytest.approx(80.0)
    assert np.isnan(df["over_4hr"].iloc[1]) and np.isnan(df["within_4hr_pct"].iloc[1])
    assert df.attrs["completeness"]["repeated_months"] == []


def test_suppression_tokens_in_a_text_column_stay_missing(tmp_path):
    df = read_ae_trust_monthly(
        _trust_file(tmp_path, _trust_frame(attendances_over_4hours=["200", "*", "-"]))
    )
    assert df["over_4hr"].isna().tolist() == [False, True, True]


def test_wrong_object_name(tmp_path):
    with pytest.raises(DataFileError) as info:
        read_ae_trust_monthly(_trust_file(tmp_path, name="ae"))
    msg = str(info.value)
    assert "trust_ae.rda" in msg and "no R object 'england_trust_accidents_emergency'" in msg
    assert "['ae']" in msg and "Fix:" in msg


def test_missing_column(tmp_path):
    df = _trust_frame().drop(columns="attendances_over_4hours")
    with pytest.raises(DataFileError) as info:
        read_ae_trust_monthly(_trust_file(tmp_path, df))
    assert "missing column(s) ['attendances_over_4hours']" in str(info.value)
    assert "Fix:" in str(info.value)


def test_non_numeric_count(tmp_path):
    bad = _trust_frame(total_attendances=["1000", "1,100", "lots"])
    with pytest.raises(DataFileError) as info:
        read_ae_trust_monthly(_trust_file(tmp_path, bad))
    msg = str(info.value)
    assert "'total_attendances'" in msg and "row 3: 'lots'" in msg and "Fix:" in msg


def test_negative_and_fractional_counts(tmp_path):
    with pytest.raises(DataFileError) as info:
        read_ae_trust_monthly(
            _trust_file(tmp_path, _trust_frame(total_emergency_admissions=[300.0, -5.0, 1200.0]))
        )
    assert "'total_emergency_admissions'" in str(info.value)
    assert "negative or not whole" in str(info.value) and "row 2: -5.0" in str(info.value)
    with pytest.raises(DataFileError, match=r"row 1: 1000\.5"):
        read_ae_trust_monthly(
            _trust_file(tmp_path, _trust_frame(total_attendances=[1000.5, 1100.0, 5000.0]))
        )


def test_more_over_4hr_than_attendances_and_more_waits_than_admissions(tmp_path):
    with pytest.raises(DataFileError) as info:
        read_ae_trust_monthly(
            _trust_file(tmp_path, _trust_frame(attendances_over_4hours=[200.0, 1200.0, 900.0]))
        )
    assert "exceed the attendances" in str(info.value) and "row 2: 1200 > 1100" in str(info.value)
    # The RTQ July 2021 case healthyr set to NA: 29 waits against 9 emergency admissions.
    rtq = _trust_frame(
        emergency_admissions_over_4hours=[29.0, 25.0, 100.0],
        total_emergency_admissions=[9.0, 310.0, 1200.0],
    )
    with pytest.raises(DataFileError) as info:
        read_ae_trust_monthly(_trust_file(tmp_path, rtq))
    assert "decision to admit exceed" in str(info.value) and "row 1: 29 > 9" in str(info.value)


def test_bad_month_labels(tmp_path):
    for labels in (["Apr 2022", "May 2022", "April 2022"], ["April 1999", "May 2022", "x"]):
        with pytest.raises(DataFileError) as info:
            read_ae_trust_monthly(_trust_file(tmp_path, _trust_frame(date=labels)))
        assert "'date'" in str(info.value) and "Month YYYY" in str(info.value)
    with pytest.raises(DataFileError, match="row 2: 'January 2999'"):
        read_ae_trust_monthly(
            _trust_file(tmp_path, _trust_frame(date=["April 2022", "January 2999", "May 2022"]))
        )


def test_duplicate_trust_month(tmp_path):
    with pytest.raises(DataFileError, match=r"repeat the key \['trust_code', 'period'\]"):
        read_ae_trust_monthly(
            _trust_file(tmp_path, _trust_frame(nhs_trust22_code=["RA2", "RA2", "RA2"]))
        )


def test_truncated_and_empty_files(tmp_path, mirror):
    data = (mirror / TRUST).read_bytes()
    cut = tmp_path / "england_trust_accidents_emergency.rda"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError) as info:
        read_ae_trust_monthly(cut)
    assert "not a readable R data file" in str(info.value) and "Fix:" in str(info.value)
    empty = tmp_path / "empty.rda"
    empty.write_bytes(b"")
    with pytest.raises(DataFileError, match="is empty"):
        read_ae_trust_monthly(empty)
    no_rows = _trust_file(tmp_path, _trust_frame().iloc[:0])
    with pytest.raises(DataFileError, match="has no rows"):
        read_ae_trust_monthly(no_rows)


def test_repeated_months_in_a_user_file_are_blanked(tmp_path):
    codes = [f"R{i:02d}" for i in range(25)]
    rng = np.random.default_rng(1)
    att = rng.integers(1000, 5000, 25).astype(float)
    months = ["January 2023", "February 2023", "February 2024"]
    blocks = []
    for month in months:
        a = att if month != "February 2023" else att + 7  # Feb 2024 repeats Jan 2023
        blocks.append(
            pd.DataFrame(
                {
                    "nhs_trust22_code": codes,
                    "total_attendances": a,
                    "attendances_over_4hours": a // 4,
                    "total_emergency_admissions": a // 3,
                    "emergency_admissions_over_4hours": a // 30,
                    "date": month,
                }
            )
        )
    df = read_ae_trust_monthly(_trust_file(tmp_path, pd.concat(blocks, ignore_index=True)))
    report = df.attrs["completeness"]["repeated_months"]
    # Not the same calendar month: nothing shows which is the copy, so both are blanked.
    assert report == [
        {"month": "2024-02-01", "repeats": "2023-01-01", "blanked": ["2023-01-01", "2024-02-01"]}
    ]
    assert df.loc[df.period == "2023-02-01", "attendances"].notna().all()
    assert df.loc[df.period != "2023-02-01", "attendances"].isna().all()


def test_icb_codes_must_be_ons_icb_codes(tmp_path):
    df = _trust_frame().drop(columns="nhs_trust22_code")
    df.insert(0, "icb22_code", ["E54000008", "QYG", "E54000010"])
    path = _rda(tmp_path, df, "england_icb_accidents_emergency", "icb.rda")
    with pytest.raises(DataFileError) as info:
        read_ae_icb_monthly(path)
    assert "'icb22_code'" in str(info.value) and "row 2: 'QYG'" in str(info.value)
    df["icb22_code"] = ["E54000008", "E54000008", "E54000010"]
    out = read_ae_icb_monthly(_rda(tmp_path, df, "england_icb_accidents_emergency", "icb2.rda"))
    assert out.attrs["completeness"]["over_4hr_missing_field_test"] == 0
    assert out["over_4hr"].notna().sum() == 2
    # A field-test board before June 2023 loses its over-4-hour count.
    df["icb22_code"] = ["E54000034", "E54000034", "E54000010"]
    out = read_ae_icb_monthly(_rda(tmp_path, df, "england_icb_accidents_emergency", "icb3.rda"))
    assert out.attrs["completeness"]["over_4hr_missing_field_test"] == 2
    assert out.set_index("icb_ons_code").loc["E54000034", "over_4hr"].isna().all()


def _attribution(tmp_path, shares, codes=("RY4", "RAT", "RAT"), acute=("RQW", "RF4", "RAJ")):
    df = pd.DataFrame(
        {
            "nhs_trust22_code_all": list(codes),
            "nhs_trust22_code_acute": list(acute),
            "proportion_attendances_attributed_to_acute_trust": shares,
        }
    )
    return _rda(tmp_path, df, "england_ae_acute_trust_attribution", "attribution.rda")


def test_attribution_bad_inputs(tmp_path):
    ok = read_ae_type3_attribution(_attribution(tmp_path, [1.0, 0.52, 0.48]))
    assert ok["share"].tolist() == [0.48, 0.52, 1.0] and ok.attrs["verified"] is False
    with pytest.raises(DataFileError) as info:
        read_ae_type3_attribution(_attribution(tmp_path, [100.0, 0.52, 0.48]))
    msg = str(info.value)
    assert "attribution.rda" in msg and "outside 0-1" in msg and "row 1: 100.0" in msg
    assert "divide by 100" in msg
    with pytest.raises(DataFileError) as info:
        read_ae_type3_attribution(_attribution(tmp_path, [1.0, 0.52, 0.58]))
    assert "do not sum to 1 (RAT: 1.1)" in str(info.value) and "Fix:" in str(info.value)
    with pytest.raises(DataFileError, match="missing or outside 0-1"):
        read_ae_type3_attribution(_attribution(tmp_path, [1.0, np.nan, 0.48]))
    with pytest.raises(DataFileError, match="not numbers"):
        read_ae_type3_attribution(_attribution(tmp_path, ["1", "half", "0.48"]))
    with pytest.raises(DataFileError, match="repeat the key"):
        read_ae_type3_attribution(
            _attribution(tmp_path, [1.0, 0.5, 0.5], acute=("RQW", "RF4", "RF4"))
        )
