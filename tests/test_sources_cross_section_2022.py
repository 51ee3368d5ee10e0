"""The one-month 2022 cross-sections (TamTobiRalph/healthyr fork): real files and bad inputs.

Real-data tests read each ``.rda`` independently with pyreadr and check row counts, values at
named trusts, sums, the month (against independent published figures and the healthyr monthly
A&E file), the documentation and the completeness report. The ambulance tests check every rule
for the response times that lost their hours, on the real rows and on hand-made ones. Bad inputs
are hand-made ``.rda`` files in the published layout (or cut copies of the real ones).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources import cross_section_2022 as cs
from icsresearch.sources.cross_section_2022 import (
    read_ae_2022,
    read_ambulance_2022,
    read_bed_occupancy_2022,
    read_cancer_2022,
    read_diagnostics_2022,
    read_referrals_2022,
    read_rtt_2022,
)

pytestmark = pytest.mark.realdata

FORK = "healthyr@TamTobiRalph/data"


def _raw(mirror, stem: str) -> pd.DataFrame:
    result = pyreadr.read_r(str(mirror / FORK / f"{stem}.rda"))
    assert list(result) == [stem]
    return result[stem]


def _documented(df: pd.DataFrame) -> None:
    assert df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns)
    for doc in df.attrs["columns"].values():
        assert doc["label"] and doc["description"]


def _row(df: pd.DataFrame, **key) -> pd.Series:
    hit = df
    for k, v in key.items():
        hit = hit[hit[k] == v]
    assert len(hit) == 1, key
    return hit.iloc[0]


# --- RTT ------------------------------------------------------------------------------------------


def test_rtt_matches_an_independent_read(mirror):
    raw = _raw(mirror, "england_nhs_referral_treatment_waiting_times")
    have = raw.dropna(subset=["Referral Treatment Type"])
    df = read_rtt_2022()
    _documented(df)
    assert len(raw) == 824 and len(df) == len(have) == 779
    labels = {
        "Incomplete Pathways": "incomplete",
        "Incomplete Pathways with DTA": "incomplete_with_dta",
        "Completed Pathways For Admitted Patients": "admitted",
        "Completed Pathways For Non-Admitted Patients": "non_admitted",
        "New RTT Periods - All Patients": "new_periods",
    }
    want = have.groupby(have["Referral Treatment Type"].map(labels))["Total Waiting List"].sum()
    got = df.groupby("pathway")["waiting_total"].sum()
    assert got.to_dict() == want.to_dict()
    assert got["incomplete"] == 6_212_382
    inc = df[df.pathway == "incomplete"]
    assert inc["waiting_52wk_plus"].sum() == 317_437 and inc["waiting_18wk_plus"].sum() == 2_292_733

    r0a = _row(df, trust_code="R0A", pathway="incomplete")
    assert (r0a.waiting_total, r0a.waiting_18wk_plus, r0a.waiting_52wk_plus) == (
        164237,
        82018,
        15608,
    )
    assert r0a.over_18wk_pct == pytest.approx(100 * 82018 / 164237)
    published = have[
        (have["Trust Code"] == "R0A") & (have["Referral Treatment Type"] == "Incomplete Pathways")
    ]
    assert r0a.over_52wk_pct == pytest.approx(100 * published["% Waiting 52+ Weeks"].iloc[0])

    # New RTT periods have no wait bands: the compiler's zeros become missing.
    new = df[df.pathway == "new_periods"]
    assert len(new) == 167 and new["waiting_18wk_plus"].isna().all()
    assert (
        have.loc[have["Referral Treatment Type"].str.startswith("New"), "Waiting 18+ Weeks"] == 0
    ).all()

    assert (df["period"] == pd.Timestamp("2022-05-01")).all() and (df["year"] == 2022).all()
    cov = df.attrs["completeness"]
    assert (cov["trusts_listed"], cov["trusts_with_data"], cov["trusts_without_data"]) == (
        212,
        167,
        45,
    )
    assert {"R1L", "RA2", "RBZ"} <= set(cov["trusts_without_data_codes"])
    assert cov["pathway_rows"] == {
        "incomplete": 167,
        "incomplete_with_dta": 137,
        "admitted": 141,
        "non_admitted": 167,
        "new_periods": 167,
    }
    assert cov["share_missing"]["waiting_18wk_plus"] == pytest.approx(167 / 779, abs=1e-6)


def test_rtt_is_not_april_2022(mirror):
    """Published end-of-April 2022 trust figures (Bolton, Rotherham) are not this file's."""
    df = read_rtt_2022().query("pathway == 'incomplete'").set_index("trust_code")
    bolton, rotherham = df.loc["RMC"], df.loc["RFR"]
    assert (bolton.waiting_total, bolton.waiting_52wk_plus) == (33625, 1626)  # April: 33,598; 1,660
    assert (rotherham.waiting_total, rotherham.waiting_52wk_plus) == (
        22228,
        79,
    )  # April: 22,244; 73
    assert "Bolton" in read_rtt_2022().attrs["year_convention"]


# --- A&E ------------------------------------------------------------------------------------------


def test_ae_long_layout_matches_an_independent_read(mirror):
    raw = _raw(mirror, "england_nhs_ae").dropna(subset=["No. Attendance Total"])
    df = read_ae_2022()
    _documented(df)
    assert len(raw) == 152 and len(df) == 4 * 152
    assert df.groupby("department_type").size().to_dict() == {
        "1": 152,
        "2": 152,
        "3": 152,
        "all": 152,
    }
    for t, col in [
        ("1", "No. Type 1 Attendance"),
        ("2", "No. Type 2 Attendance"),
        ("3", "No. Type 3 Attendance"),
        ("all", "No. Attendance Total"),
    ]:
        assert df.loc[df.department_type == t, "attendances"].sum() == raw[col].sum()
    assert df.loc[df.department_type == "all", "attendances"].sum() == 2_059_187

    one = _row(df, trust_code="R0A", department_type="1")
    share = raw.loc[raw["Trust Code"] == "R0A", "% Type 1 <= 4 hours"].iloc[0]
    assert one.attendances == 27070 and one.within_4hr == round(27070 * share) == 13357
    assert one.within_4hr_pct == pytest.approx(100 * share)
    assert math.isnan(one.dta_4hr_plus)
    total = _row(df, trust_code="R0A", department_type="all")
    assert (total.attendances, total.dta_4hr_plus, total.dta_12hr_plus) == (39499, 2848, 20)
    assert df.loc[df.department_type == "all", "dta_12hr_plus"].sum() == 19_053
    # within_4hr is an exact whole number and adds up across types.
    w = df.pivot(index="trust_code", columns="department_type", values="within_4hr").dropna()
    assert ((w["1"] + w["2"] + w["3"]) == w["all"]).all()

    # The 14 trusts testing the new standards report attendances but no 4-hour share.
    cov = df.attrs["completeness"]
    assert cov["trusts_without_4hr_share"] == 14
    assert {"RGT", "RYJ", "RHU", "RDU"} <= set(cov["trusts_without_4hr_share_codes"])
    assert (cov["trusts_with_data"], cov["trusts_without_data"]) == (152, 60)
    assert (df["period"] == pd.Timestamp("2022-05-01")).all() and (df["year"] == 2022).all()


def test_ae_is_may_2022_by_the_healthyr_monthly_file(mirror):
    monthly = pyreadr.read_r(str(mirror / "healthyr/data/england_trust_accidents_emergency.rda"))
    monthly = next(iter(monthly.values()))
    ours = read_ae_2022().query("department_type == 'all'").set_index("trust_code")

    def matches(month: str) -> tuple[int, int]:
        m = monthly[monthly["date"] == month].set_index("nhs_trust22_code")
        j = ours.join(m, how="inner")
        return int((j["attendances"] == j["total_attendances"]).sum()), len(j)

    hit, n = matches("May 2022")
    assert n == 152 and hit == 149
    for other in ("March 2022", "April 2022", "June 2022"):
        assert matches(other)[0] < 0.1 * n


# --- cancer ---------------------------------------------------------------------------------------


def test_cancer_matches_an_independent_read_and_april_2022(mirror):
    raw = _raw(mirror, "england_nhs_cancer_wait_times").dropna(subset=["Standard"])
    df = read_cancer_2022()
    _documented(df)
    assert len(raw) == len(df) == 1327
    assert df["treated"].sum() == raw["Total Treated"].sum()
    assert df["breaches"].sum() == raw["Breaches"].sum()
    screening = _row(df, trust_code="R0A", standard="62d_screening")
    assert (screening.treated, screening.within_standard, screening.breaches) == (31.5, 21.0, 10.5)
    assert screening.within_standard_pct == pytest.approx(100 * 21 / 31.5)
    assert ((df["treated"] * 2) % 1 == 0).all() and (df["treated"] % 1 != 0).sum() == 124

    # England results published for April 2022: 21% not seen within 2 weeks, 35% not treated
    # within 62 days (and Manchester University FT's May 2022 62-day figure was 31.36%).
    nat = df.groupby("standard")[["treated", "within_standard"]].sum()
    assert 100 * nat.loc["2ww", "within_standard"] / nat.loc["2ww", "treated"] == pytest.approx(
        78.97, abs=0.01
    )
    assert 100 * nat.loc["62d", "within_standard"] / nat.loc["62d", "treated"] == pytest.approx(
        65.12, abs=0.01
    )
    assert _row(df, trust_code="R0A", standard="62d").within_standard_pct == pytest.approx(
        48.39, abs=0.01
    )
    # The 'by route' rows repeat the same patients: never add them to fds_28d.
    assert nat.loc["fds_28d", "treated"] == nat.loc["fds_28d_by_route", "treated"] == 198_795
    cov = df.attrs["completeness"]
    assert (cov["trusts_with_data"], cov["trusts_without_data"]) == (139, 73)
    assert (df["period"] == pd.Timestamp("2022-04-01")).all()


# --- diagnostics ----------------------------------------------------------------------------------


def test_diagnostics_matches_an_independent_read(mirror):
    raw = _raw(mirror, "england_nhs_diagnostic_wait_times").dropna(subset=["Waiting List Total"])
    df = read_diagnostics_2022()
    _documented(df)
    assert len(df) == len(raw) == 159
    assert df[["waiting_total", "waiting_6wk_plus", "waiting_13wk_plus"]].sum().tolist() == [
        1_446_891,
        426_928,
        148_460,
    ]
    r0a = _row(df, trust_code="R0A")
    assert (r0a.waiting_total, r0a.waiting_6wk_plus, r0a.waiting_13wk_plus) == (28468, 8328, 2925)
    assert r0a.over_6wk_pct == pytest.approx(100 * 8328 / 28468)
    empty = _row(df, trust_code="RV5")  # an empty waiting list: no share, not 0%
    assert empty.waiting_total == 0 and math.isnan(empty.over_6wk_pct)
    assert df["period"].isna().all() and (df["year"] == 2022).all()
    assert "exact month unverified" in df.attrs["year_convention"]
    cov = df.attrs["completeness"]
    assert (cov["rows"], cov["trusts_without_data"]) == (159, 53) and "first" not in cov


# --- beds -----------------------------------------------------------------------------------------


def test_beds_match_an_independent_read_and_cover_january_march_2022(mirror):
    raw = _raw(mirror, "england_nhs_bed_occupancy")
    df = read_bed_occupancy_2022()
    _documented(df)
    assert len(df) == 187 * 2 * 5
    night = df[(df["shift"] == "night") & (df["sector"] == "total")]
    assert night["beds_occupied"].sum() == pytest.approx(raw["Total Night Beds Occupied"].sum())
    assert night["beds_occupied"].sum() == pytest.approx(111_131.98, abs=0.01)
    r0a = _row(df, trust_code="R0A", shift="day", sector="total")
    assert r0a.occupancy_pct == pytest.approx(100 * raw.loc[0, "% Total Day Beds Occupied"])
    assert r0a.beds_available * 90 == pytest.approx(14754)

    # Every average is a whole number of bed-days over 90 days (Jan-Mar 2022), not 91 or 92.
    def whole(x, days):
        v = x.dropna() * days
        return bool(((v - v.round()).abs() < 1e-6).all())

    assert whole(df["beds_occupied"], 90) and whole(df["beds_available"], 90)
    assert not whole(df["beds_occupied"], 91) and not whole(df["beds_occupied"], 92)
    assert (df["period"] == pd.Timestamp("2022-01-01")).all() and (df["year"] == 2021).all()

    # Sectors add up to the total, for occupied and (where all are known) available beds.
    wide = df.pivot_table(index=["trust_code", "shift"], columns="sector", values="beds_occupied")
    parts = wide[["general_acute", "learning_disabilities", "maternity", "mental_illness"]]
    assert np.allclose(parts.sum(axis=1), wide["total"])

    over = _row(df, trust_code="RP1", shift="night", sector="mental_illness")
    assert over.occupancy_pct == pytest.approx(
        136.15, abs=0.01
    ) and over.beds_available == pytest.approx(139)
    cov = df.attrs["completeness"]
    assert cov["occupancy_above_100"] == ["RP1 night mental_illness"]
    assert cov["occupied_without_share"] == [
        "RN5 night learning_disabilities",
        "RVJ night mental_illness",
    ]
    assert (cov["trusts_with_data"], cov["trusts_without_data"]) == (187, 25)


# --- referrals ------------------------------------------------------------------------------------


def test_referrals_match_an_independent_read(mirror):
    raw = _raw(mirror, "england_nhs_outpatient_referrals").dropna(
        subset=["GP Referrals Made (All)"]
    )
    df = read_referrals_2022()
    _documented(df)
    assert len(df) == len(raw) == 168
    assert df["gp_referrals_all"].sum() == raw["GP Referrals Made (All)"].sum() == 877_591
    assert df["other_referrals_specific_acute"].sum() == 678_124
    r1a = _row(df, trust_code="R1A")
    assert r1a[["gp_referrals_all", "other_referrals_all"]].tolist() == [1244, 156]
    assert df["period"].isna().all() and (df["year"] == 2022).all()
    assert df.attrs["completeness"]["trusts_without_data"] == 44


# --- ambulance: the real rows ---------------------------------------------------------------------


def test_ambulance_real_rows_and_status_counts(mirror):
    raw = _raw(mirror, "england_nhs_ambulance_quality_indicators").dropna(subset=["Category"])
    df = read_ambulance_2022()
    _documented(df)
    assert len(raw) == len(df) == 55  # 11 services x 5 categories
    assert df["incidents"].sum() == raw["Incident Count"].sum()

    london_c2 = _row(df, service="London", category="C2")
    assert london_c2.mean_min == pytest.approx(48890 * 60 / 52640, abs=0.05)  # = 55.73
    assert (
        london_c2.mean_min == pytest.approx(55 + 44 / 60)
        and london_c2.mean_status == "as published"
    )
    assert london_c2.p90_published == "03:29" and math.isnan(london_c2.p90_min)
    assert london_c2.p90_status == "truncated"  # really 2:03:29: below the mean as published

    sc_c3 = _row(df, service="South Central", category="C3")
    assert sc_c3.mean_min == pytest.approx(36684 * 60 / 11936, abs=0.05)  # = 184.40
    assert sc_c3.mean_published == "04:24" and sc_c3.mean_min == pytest.approx(184.4)
    assert sc_c3.mean_status == "hours restored" and sc_c3.p90_status == "truncated"

    cov = df.attrs["completeness"]
    assert cov["mean_status"] == {"as published": 31, "hours restored": 24}
    assert cov["p90_status"] == {"as published": 23, "truncated": 32}
    assert (cov["trusts_with_data"], cov["trusts_without_data"]) == (11, 201)
    assert (df["period"] == pd.Timestamp("2022-06-01")).all()


def test_ambulance_rules_hold_on_every_real_row(mirror):
    df = read_ambulance_2022()
    n, t = df["incidents"], df["total_hours"]
    # Every mean lies within the rounding range of total hours / incidents (+- 1 s).
    assert (
        (df["mean_min"] >= (t - 0.5) * 60 / n - 1 / 60)
        & (df["mean_min"] <= (t + 0.5) * 60 / n + 1 / 60)
    ).all()
    restored = df["mean_status"] == "hours restored"
    assert (df.loc[restored, "mean_min"] >= 60).all()
    published = df["p90_published"].str.split(":", expand=True).astype(float)
    p90_pub = published[0] + published[1] / 60
    trunc = df["p90_status"] == "truncated"
    assert ((df["mean_min"] >= 60) | (p90_pub < df["mean_min"]))[trunc].all()
    assert ((df["mean_min"] >= 60) & trunc).sum() == 24 and (
        (df["mean_min"] < 60) & trunc
    ).sum() == 8
    kept = df["p90_status"] == "as published"
    ratio = df.loc[kept, "p90_min"] / df.loc[kept, "mean_min"]
    assert ratio.between(1.6, 2.2).all()  # the unambiguous rows: 1.66-2.19
    assert ((df.loc[kept, "p90_min"] + 60) / df.loc[kept, "mean_min"] > cs.P90_MEAN_RATIO_MAX).all()
    assert set(df.loc[kept, "category"]) == {"C1", "C1T", "C2"}


def test_ambulance_file_is_june_2022(mirror):
    """England C2 mean 51:38 and Yorkshire's times are the published June 2022 figures."""
    df = read_ambulance_2022()
    c2 = df[df.category == "C2"]
    england = c2["total_hours"].sum() * 60 / c2["incidents"].sum()
    assert int(england) == 51 and round(england % 1 * 60) == 38  # May 2022 was 39:58
    yorks = df[df.service == "Yorkshire"].set_index("category")
    assert yorks.loc["C1", "mean_min"] == pytest.approx(9.5)  # 9 min 30 s
    assert int(yorks.loc["C2", "mean_min"]) == 43
    assert (
        divmod(yorks.loc["C3", "mean_min"], 60)[0] == 2
        and int(yorks.loc["C3", "mean_min"] % 60) == 17
    )
    assert (
        divmod(yorks.loc["C4", "mean_min"], 60)[0] == 2
        and int(yorks.loc["C4", "mean_min"] % 60) == 41
    )


# --- ambulance: hand-made rows --------------------------------------------------------------------

AMB_COLS = [
    "Trust Code",
    "Trust Name",
    "Ambulance Service",
    "Incident Count",
    "Total Response Time (h)",
    "Mean Response Time (min:sec)",
    "90th Centile Response Time (min:sec)",
    "Category",
]
AMB = "england_nhs_ambulance_quality_indicators"


def _write(tmp_path, df: pd.DataFrame, obj: str, name: str | None = None):
    path = tmp_path / (name or f"{obj}.rda")
    pyreadr.write_rdata(str(path), df, df_name=obj)
    return path


def _amb(tmp_path, rows, **kw):
    return _write(tmp_path, pd.DataFrame(rows, columns=AMB_COLS), AMB, **kw)


def _fails(path, reader, *needles):
    with pytest.raises(DataFileError) as info:
        reader(path)
    msg = str(info.value)
    assert path.name in msg and "Fix:" in msg, msg
    for needle in needles:
        assert needle in msg, msg
    return msg


def test_ambulance_rules_on_hand_made_rows(tmp_path):
    rows = [
        # clear: mean 9:00 (= 150 h / 1000), 90th 16:00; an hour more would be 8.4 x the mean
        ["RX1", "A", "Alpha", 1000, 150, "09:00", "16:00", "cat1"],
        # the mean lost an hour: 1500 h / 1000 = 90 min, published "30:00"
        ["RX1", "A", "Alpha", 1000, 1500, "30:00", "55:00", "cat2"],
        # the 90th centile is below the mean: it lost hours
        ["RX1", "A", "Alpha", 1000, 500, "30:00", "25:00", "cat3"],
        # mean 40 min, 90th 55:00: right, or 1:55:00 (2.9 x the mean): cannot tell
        ["RX1", "A", "Alpha", 1000, 667, "40:00", "55:00", "cat4"],
        # no whole number of hours fits: 150 h / 1000 = 9 min but "30:00" published
        ["RX2", "B", "Beta", 1000, 150, "30:00", "45:00", "cat1"],
        # no incidents: nothing to check the mean against
        ["RX2", "B", "Beta", 0, 0, "05:00", "09:00", "cat1t"],
        # mean 30:00 and 90th 50:00: an hour more would be 3.67 x the mean, so it is kept
        ["RX2", "B", "Beta", 1000, 500, "30:00", "50:00", "cat2"],
        # a trust with no data at all: dropped and counted
        ["RA2", "C", None, None, None, None, None, None],
    ]
    df = read_ambulance_2022(_amb(tmp_path, rows)).set_index(["trust_code", "category"])
    got = df[["mean_min", "mean_status", "p90_min", "p90_status"]]
    assert got.loc[("RX1", "C1")].tolist() == [9.0, "as published", 16.0, "as published"]
    assert got.loc[("RX1", "C2"), "mean_min"] == 90.0
    assert got.loc[("RX1", "C2"), ["mean_status", "p90_status"]].tolist() == [
        "hours restored",
        "truncated",
    ]
    assert got.loc[("RX1", "C3"), ["mean_status", "p90_status"]].tolist() == [
        "as published",
        "truncated",
    ]
    assert got.loc[("RX1", "C4"), ["mean_min", "p90_status"]].tolist() == [40.0, "ambiguous"]
    assert math.isnan(got.loc[("RX1", "C4"), "p90_min"])
    assert got.loc[("RX2", "C1"), ["mean_status", "p90_status"]].tolist() == [
        "inconsistent",
        "unverifiable",
    ]
    assert math.isnan(got.loc[("RX2", "C1"), "mean_min"])
    assert got.loc[("RX2", "C1T"), "mean_status"] == "unverifiable"
    assert got.loc[("RX2", "C2"), ["p90_min", "p90_status"]].tolist() == [50.0, "as published"]
    assert df.attrs["verified"] is False
    cov = df.attrs["completeness"]
    assert cov["trusts_without_data_codes"] == ["RA2"] and cov["rows"] == 7


@pytest.mark.parametrize("bad", ["1:2:3:4", "ab:cd", "7:5", "61:00", "1:02:03"])
def test_a_malformed_response_time_is_named(tmp_path, bad):
    path = _amb(tmp_path, [["RX1", "A", "Alpha", 1000, 150, bad, "16:00", "cat1"]])
    _fails(path, read_ambulance_2022, "'Mean Response Time (min:sec)'", repr(bad), "RX1", "mm:ss")


def test_ambulance_bad_files(tmp_path, mirror):
    good = ["RX1", "A", "Alpha", 1000, 150, "09:00", "16:00", "cat1"]
    _fails(
        _amb(tmp_path, [good[:3] + [-5] + good[4:]]),
        read_ambulance_2022,
        "negative",
        "'Incident Count'",
    )
    _fails(_amb(tmp_path, [good[:3] + [10.5] + good[4:]]), read_ambulance_2022, "not whole numbers")
    _fails(
        _amb(tmp_path, [good[:3] + ["12a"] + good[4:]]), read_ambulance_2022, "not numbers", "'12a'"
    )
    _fails(_amb(tmp_path, [good[:-1] + ["cat5"]]), read_ambulance_2022, "unknown", "cat5")
    _fails(_amb(tmp_path, [good, good]), read_ambulance_2022, "repeat the key", "RX1")
    df = pd.DataFrame([good], columns=AMB_COLS)
    _fails(
        _write(tmp_path, df.drop(columns=["Total Response Time (h)"]), AMB),
        read_ambulance_2022,
        "missing column(s) ['Total Response Time (h)']",
    )
    _fails(
        _write(tmp_path, df, "something_else", name=f"{AMB}.rda"),
        read_ambulance_2022,
        f"no R object '{AMB}'",
        "something_else",
    )
    real = (mirror / FORK / f"{AMB}.rda").read_bytes()
    cut = tmp_path / f"{AMB}.rda"
    cut.write_bytes(real[: len(real) // 2])
    _fails(cut, read_ambulance_2022, "not a readable R data file")
    cut.write_bytes(b"")
    _fails(cut, read_ambulance_2022, "is empty")


def test_every_reader_refuses_a_truncated_copy(tmp_path, mirror):
    for reader, stem in [
        (read_rtt_2022, "england_nhs_referral_treatment_waiting_times"),
        (read_ae_2022, "england_nhs_ae"),
        (read_cancer_2022, "england_nhs_cancer_wait_times"),
        (read_diagnostics_2022, "england_nhs_diagnostic_wait_times"),
        (read_bed_occupancy_2022, "england_nhs_bed_occupancy"),
        (read_referrals_2022, "england_nhs_outpatient_referrals"),
    ]:
        real = (mirror / FORK / f"{stem}.rda").read_bytes()
        path = tmp_path / f"{stem}.rda"
        path.write_bytes(real[: len(real) * 2 // 3])
        _fails(path, reader, "not a readable R data file")


# --- hand-made bad inputs for the other readers ---------------------------------------------------

RTT_COLS = [
    "Trust Code",
    "Trust Name",
    "Referral Treatment Type",
    "Waiting 52+ Weeks",
    "Waiting 18+ Weeks",
    "Total Waiting List",
    "% Waiting 18+ Weeks",
    "% Waiting 52+ Weeks",
]


def _rtt(tmp_path, rows):
    return _write(
        tmp_path,
        pd.DataFrame(rows, columns=RTT_COLS),
        "england_nhs_referral_treatment_waiting_times",
    )


def test_rtt_hand_made(tmp_path):
    ok = [
        ["RA1", "A", "Incomplete Pathways", 10, 40, 100, 0.4, 0.1],
        ["RA1", "A", "Incomplete Pathways with DTA", 5, 20, 30, 0.67, 0.17],
        ["RA1", "A", "New RTT Periods - All Patients", 0, 0, 50, 0.0, 0.0],
        ["RA2", "B", None, None, None, None, None, None],
    ]
    df = read_rtt_2022(_rtt(tmp_path, ok))
    assert df["pathway"].tolist() == ["incomplete", "incomplete_with_dta", "new_periods"]
    assert df["over_18wk_pct"].iloc[0] == 40.0 and math.isnan(df["waiting_18wk_plus"].iloc[2])
    assert df.attrs["completeness"]["trusts_without_data_codes"] == ["RA2"]
    _fails(
        _rtt(tmp_path, [["RA1", "A", "Incomplete", 1, 2, 3, 0, 0]]),
        read_rtt_2022,
        "unknown",
        "'Incomplete'",
    )
    _fails(
        _rtt(tmp_path, [["RA1", "A", "Incomplete Pathways", 50, 40, 100, 0, 0]]),
        read_rtt_2022,
        "'Waiting 52+ Weeks' exceeds 'Waiting 18+ Weeks'",
        "RA1",
    )
    _fails(
        _rtt(tmp_path, [["RA1", "A", "Incomplete Pathways", 1, 400, 100, 0, 0]]),
        read_rtt_2022,
        "'Waiting 18+ Weeks' exceeds 'Total Waiting List'",
    )
    _fails(
        _rtt(tmp_path, [ok[0], ["RA1", "A", "Incomplete Pathways with DTA", 5, 20, 300, 0, 0]]),
        read_rtt_2022,
        "decision to admit",
        "RA1",
    )
    _fails(_rtt(tmp_path, [ok[0], ok[0]]), read_rtt_2022, "repeat the key")
    _fails(
        _rtt(tmp_path, [["RA1", "A", "Incomplete Pathways", 1, 2, -3, 0, 0]]),
        read_rtt_2022,
        "negative",
    )


AE_COLS = [
    "Trust Code",
    "Trust Name",
    "No. Type 1 Attendance",
    "No. Type 2 Attendance",
    "No. Type 3 Attendance",
    "No. Attendance Total",
    "% Type 1 <= 4 hours",
    "% Type 2 <= 4 hours",
    "% Type 3 <= 4 hours",
    "% Total <= 4 hours",
    "No. patients >= 4h from decisiion to admit to admission",
    "No. patients >= 12h from decisiion to admit to admission",
]


def _ae(tmp_path, rows):
    return _write(tmp_path, pd.DataFrame(rows, columns=AE_COLS), "england_nhs_ae")


def test_ae_hand_made(tmp_path):
    ok = ["RA1", "A", 100, 0, 50, 150, 0.5, None, 1.0, 100 / 150, 20, 3]
    df = read_ae_2022(_ae(tmp_path, [ok])).set_index("department_type")
    assert df.loc[["1", "3", "all"], "within_4hr"].tolist() == [50, 50, 100]
    assert math.isnan(df.loc["2", "within_4hr"])
    assert df.loc["all", ["dta_4hr_plus", "dta_12hr_plus"]].tolist() == [20, 3]
    assert df.loc["2", "attendances"] == 0 and math.isnan(df.loc["2", "within_4hr_pct"])
    assert df.loc["all", "within_4hr_pct"] == pytest.approx(100 * 100 / 150)
    _fails(
        _ae(tmp_path, [ok[:6] + [49.3] + ok[7:]]),
        read_ae_2022,
        "outside 0-1",
        "divide the column by 100",
    )
    _fails(
        _ae(tmp_path, [ok[:5] + [151] + ok[6:]]), read_ae_2022, "not the sum of the type 1, 2 and 3"
    )
    _fails(_ae(tmp_path, [ok[:6] + [0.123] + ok[7:]]), read_ae_2022, "whole number of attendances")
    _fails(_ae(tmp_path, [ok[:7] + [0.5] + ok[8:]]), read_ae_2022, "no attendances")
    _fails(_ae(tmp_path, [ok[:10] + [2, 3]]), read_ae_2022, "exceeds", "4h from decisiion")


CANCER_COLS = [
    "Trust Code",
    "Trust Name",
    "Standard",
    "Total Treated",
    "Within Standard",
    "Breaches",
]


def _cancer(tmp_path, rows):
    return _write(
        tmp_path, pd.DataFrame(rows, columns=CANCER_COLS), "england_nhs_cancer_wait_times"
    )


def test_cancer_hand_made(tmp_path):
    df = read_cancer_2022(_cancer(tmp_path, [["RA1", "A", "62 Days (Screening)", 5.5, 4.5, 1.0]]))
    assert df[["standard", "treated", "within_standard_pct"]].iloc[0].tolist() == [
        "62d_screening",
        5.5,
        pytest.approx(100 * 4.5 / 5.5),
    ]
    _fails(
        _cancer(tmp_path, [["RA1", "A", "62 Days", 5, 4, 2]]),
        read_cancer_2022,
        "'Within Standard' + 'Breaches'",
    )
    _fails(_cancer(tmp_path, [["RA1", "A", "62 Days", 5, 6, -1]]), read_cancer_2022, "negative")
    _fails(
        _cancer(tmp_path, [["RA1", "A", "62 Days", 5, 6, 0]]),
        read_cancer_2022,
        "exceeds 'Total Treated'",
    )
    _fails(
        _cancer(tmp_path, [["RA1", "A", "62 Days", 5.25, 4.25, 1]]),
        read_cancer_2022,
        "multiples of 0.5",
    )
    _fails(
        _cancer(tmp_path, [["RA1", "A", "104 Days", 5, 4, 1]]),
        read_cancer_2022,
        "unknown",
        "104 Days",
    )


def test_diagnostics_referrals_and_beds_hand_made(tmp_path):
    dcols = [
        "Trust Code",
        "Trust Name",
        "Waiting List Total",
        "Waiting 6+ weeks",
        "Waiting 13+ weeks",
    ]
    dcols += ["% waiting 6+ weeks", "% waiting 13+ weeks"]
    diag = "england_nhs_diagnostic_wait_times"
    path = _write(tmp_path, pd.DataFrame([["RA1", "A", 10, 5, 6, 0.5, 0.6]], columns=dcols), diag)
    _fails(path, read_diagnostics_2022, "'Waiting 13+ weeks' exceeds 'Waiting 6+ weeks'", "RA1")

    rcols = ["Trust Code", "Trust Name", *cs._REFERRALS.values()]
    refs = "england_nhs_outpatient_referrals"
    path = _write(tmp_path, pd.DataFrame([["RA1", "A", 10, 10, 11, 5]], columns=rcols), refs)
    _fails(path, read_referrals_2022, "'GP Referrals Made (Specific Acute)' exceeds")

    occ = [f"{s} {w} Beds Occupied" for w in ("Day", "Night") for s in cs._BED_SECTORS.values()]
    bcols = ["Trust Code", "Trust Name", *occ, *[f"% {o}" for o in occ]]
    row = {c: 0.0 for c in bcols} | {"Trust Code": "RA1", "Trust Name": "A"}
    row |= {"Total Night Beds Occupied": 90.0, "General Acute Night Beds Occupied": 90.0}
    row |= {"% Total Night Beds Occupied": 0.9, "% General Acute Night Beds Occupied": 0.9}
    for o in occ:
        if row[o] == 0:
            row[f"% {o}"] = None
    beds = "england_nhs_bed_occupancy"
    df = read_bed_occupancy_2022(_write(tmp_path, pd.DataFrame([row]), beds))
    ga = _row(df, shift="night", sector="general_acute")
    assert (ga.beds_occupied, ga.beds_available, ga.occupancy_pct) == (90, 100, 90)
    assert math.isnan(_row(df, shift="day", sector="total").beds_available)
    path = _write(tmp_path, pd.DataFrame([row | {"% Total Night Beds Occupied": 90.0}]), beds)
    _fails(path, read_bed_occupancy_2022, "outside 0-2", "divide the column by 100")
    path = _write(tmp_path, pd.DataFrame([row | {"Total Night Beds Occupied": 95.0}]), beds)
    _fails(path, read_bed_occupancy_2022, "not the sum of the four sectors")
    path = _write(tmp_path, pd.DataFrame([row | {"Maternity Night Beds Occupied": -1.0}]), beds)
    _fails(path, read_bed_occupancy_2022, "negative")


def test_schemas_are_found_by_registry_name():
    from icsresearch.sources import schema

    for name, sch in [
        ("rtt_2022", cs.RTT),
        ("ae_2022", cs.AE),
        ("cancer_2022", cs.CANCER),
        ("diagnostics_2022", cs.DIAGNOSTICS),
        ("bed_occupancy_2022", cs.BEDS),
        ("referrals_2022", cs.REFERRALS),
        ("ambulance_2022", cs.AMBULANCE),
    ]:
        assert schema(name) is sch
        assert sch.names[:2] == ["trust_code", "trust_name"] and {"period", "year"} <= set(
            sch.names
        )
