"""The ICS-era panels on the real files: A&E to 2024/25 with its gap, beds, discharge, wellbeing.

Every figure is checked against an independent read of the raw file (pyreadr), not against the
readers the panels use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from icsresearch import geography
from icsresearch.panel import (
    ae_monthly,
    beds_monthly,
    discharge_monthly,
    ics_year_panel,
    trust_year_panel,
)

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def trusts():
    return trust_year_panel("real")


@pytest.fixture(scope="module")
def ics():
    return ics_year_panel("real")


@pytest.fixture(scope="module")
def raw_ae(mirror):
    import pyreadr

    path = mirror / "healthyr/data/england_trust_accidents_emergency.rda"
    raw = pyreadr.read_r(str(path))["england_trust_accidents_emergency"]
    raw["period"] = pd.to_datetime(raw["date"], format="%B %Y")
    raw["fy"] = raw["period"].dt.year - (raw["period"].dt.month < 4)
    return raw


def test_the_done_when_counts(trusts, ics):
    ae24 = trusts[(trusts["year"] == 2024) & trusts["ae_4hr_pct"].notna()]
    assert ae24["trust_code"].nunique() >= 100
    ics23 = ics[(ics["year"] == 2023) & ics["ae_4hr_pct"].notna()]
    assert ics23["icb_code"].nunique() == 42
    assert sorted(ics["year"].unique()) == list(range(2012, 2025))  # 2020/21 is a row of gaps


def test_annual_ae_is_the_sum_of_the_published_months(trusts, raw_ae):
    # February and March 2025 repeat February and March 2024 exactly: they are not data
    copies = raw_ae["period"].isin(pd.to_datetime(["2025-02-01", "2025-03-01"]))
    for code, fy in (("R0A", 2024), ("RWH", 2022), ("RC9", 2021), ("RJ1", 2023)):
        months = raw_ae[(raw_ae["nhs_trust22_code"] == code) & (raw_ae["fy"] == fy) & ~copies]
        timed = months.dropna(subset=["attendances_over_4hours"])
        row = trusts[(trusts["trust_code"] == code) & (trusts["year"] == fy)].iloc[0]
        assert row["ae_attendances"] == pytest.approx(months["total_attendances"].sum())
        den = timed["total_attendances"].sum() if len(timed) else np.nan  # none: missing, not 0
        assert row["ae_4hr_denominator"] == pytest.approx(den, nan_ok=True)
        expected = 100 * (
            1 - timed["attendances_over_4hours"].sum() / timed["total_attendances"].sum()
        )
        if len(timed):
            assert row["ae_4hr_pct"] == pytest.approx(expected)
        assert row["ae_4hr_completeness_pct"] == pytest.approx(100 * len(timed) / 12)
    r0a = trusts[trusts["trust_code"] == "R0A"].set_index("year")["ae_4hr_completeness_pct"]
    assert r0a[2023] == 100 and r0a[2024] == pytest.approx(100 * 10 / 12)


def test_trusts_without_four_hour_counts_are_incomplete_not_zero(trusts, raw_ae):
    silent = raw_ae[raw_ae["fy"] == 2021].groupby("nhs_trust22_code")["attendances_over_4hours"]
    never = silent.apply(lambda s: s.isna().all())
    codes = never[never].index
    assert len(codes) > 0  # trusts that reported no 4-hour counts in 2021/22
    rows = trusts[(trusts["year"] == 2021) & trusts["trust_code"].isin(codes)]
    assert rows["ae_4hr_pct"].isna().all()
    assert (rows["ae_4hr_completeness_pct"] == 0).all() and (rows["ae_attendances"] > 0).all()


def test_the_2019_2021_gap_stays_a_gap(trusts, ics):
    for col in ("ae_4hr_pct", "ae_attendances", "ga_occupancy_pct", "staff_burnout_pct"):
        assert trusts.loc[trusts["year"].isin([2019, 2020]), col].isna().all(), col
    assert ics.loc[ics["year"] == 2020, ["ae_4hr_pct", "rtt_18wk_pct", "shmi"]].isna().all().all()
    m = ae_monthly("real")
    periods = set(m["period"])
    assert min(periods) == pd.Timestamp("2016-04-01") and max(periods) == pd.Timestamp("2025-07-01")
    between = [p for p in periods if pd.Timestamp("2019-04-01") <= p < pd.Timestamp("2021-04-01")]
    assert between == []


def test_instruments_are_never_spliced(trusts):
    assert trusts.loc[trusts["year"] >= 2019, "management_score"].isna().all()
    assert trusts.loc[trusts["year"] < 2021, "staff_burnout_pct"].isna().all()
    assert trusts.loc[trusts["year"] >= 2019, "occupancy_pct"].isna().all()  # KH03
    assert trusts.loc[trusts["year"] < 2022, "ga_occupancy_pct"].isna().all()  # daily SitRep
    assert trusts.loc[trusts["year"] > 2018, "ae_4hr_pct_compiled"].isna().all()


def test_ics_values_pool_the_weighted_trust_counts(trusts, ics):
    w = geography.trust_ics_weights("headquarters", 2022)
    rows = trusts.drop(columns=["icb_code"]).merge(w[["trust_code", "icb_code"]], on="trust_code")
    for col, num, den in (
        ("ae_4hr_pct", "ae_within_4hr", "ae_4hr_denominator"),
        ("ga_occupancy_pct", "ga_beds_occupied", "ga_beds_available"),
        ("ctr_discharged_pct", "ctr_discharged_per_day", "ctr_patients_per_day"),
        ("staff_burnout_pct", "staff_burnout_n", "staff_burnout_base"),
    ):
        y = rows[rows["year"] == 2023].dropna(subset=[num, den])
        brute = 100 * y.groupby("icb_code")[num].sum() / y.groupby("icb_code")[den].sum()
        panel = ics[ics["year"] == 2023].set_index("icb_code")[col]
        assert np.allclose(panel.reindex(brute.index), brute, rtol=1e-12), col


def test_monthly_ics_series_are_weighted_sums_of_trusts():
    trust = ae_monthly("real", level="trust")
    ics = ae_monthly("real", level="ics", method="catchment")
    w = geography.trust_ics_weights("catchment", 2022)
    month = pd.Timestamp("2024-01-01")
    t = trust[trust["period"] == month].merge(w, on="trust_code")
    brute = (t["attendances"] * t["weight"]).groupby(t["icb_code"]).sum()
    got = ics[ics["period"] == month].set_index("icb_code")["attendances"]
    assert np.allclose(got.reindex(brute.index), brute)
    beds = beds_monthly("real", level="ics")
    assert beds["period"].min() == pd.Timestamp("2022-04-01")
    # July and August 2022 are published as copies of each other: missing, kept as a gap
    gap = beds[beds["occupancy_pct"].isna()]
    assert set(gap["period"]) == {pd.Timestamp("2022-07-01"), pd.Timestamp("2022-08-01")}
    assert beds["occupancy_pct"].dropna().between(30, 110).all()
    dis = discharge_monthly("real", level="ics", footprint=2026)
    assert dis["icb_code"].nunique() == 36
    assert (dis["remaining_per_day"] >= -1e-9).all()


def test_beds_and_discharge_annual_match_the_raw_files(trusts, mirror):
    import pyreadr

    beds = pyreadr.read_r(str(mirror / "healthyr/data/england_critical_general_acute_beds.rda"))
    beds = beds["england_critical_general_acute_beds"]
    beds["period"] = pd.to_datetime(beds["date"], format="%B %Y")
    fy = beds[
        (beds["nhs_trust22_code"] == "R0A") & beds["period"].between("2023-04-01", "2024-03-01")
    ]
    fy = fy.dropna(subset=["general_acute_beds_available", "general_acute_beds_occupied"])
    row = trusts[(trusts["trust_code"] == "R0A") & (trusts["year"] == 2023)].iloc[0]
    assert row["ga_beds_available"] == pytest.approx(fy["general_acute_beds_available"].mean())
    assert row["ga_occupancy_pct"] == pytest.approx(
        100 * fy["general_acute_beds_occupied"].mean() / fy["general_acute_beds_available"].mean()
    )
    ctr = pyreadr.read_r(str(mirror / "healthyr/data/england_trust_criteria_to_reside.rda"))
    ctr = ctr["england_trust_criteria_to_reside"]
    dis = pyreadr.read_r(str(mirror / "healthyr/data/england_trust_discharged_patients.rda"))
    dis = dis["england_trust_discharged_patients"]
    days = ctr.merge(dis, on=["nhs_trust22_code", "date"])
    days["date"] = pd.to_datetime(days["date"])
    one = days[
        (days["nhs_trust22_code"] == "RAJ") & days["date"].between("2023-04-01", "2024-03-31")
    ]
    one = one.dropna(subset=["do_not_meet_criteria_to_reside", "discharged_total"])
    # before June 2023 a 0 records a day the trust did not submit
    zero = one["do_not_meet_criteria_to_reside"].eq(0) & one["date"].lt("2023-06-01")
    one = one[~zero]
    row = trusts[(trusts["trust_code"] == "RAJ") & (trusts["year"] == 2023)].iloc[0]
    assert row["ctr_patients_per_day"] == pytest.approx(
        one["do_not_meet_criteria_to_reside"].mean()
    )
    assert row["ctr_discharged_pct"] == pytest.approx(
        100 * one["discharged_total"].sum() / one["do_not_meet_criteria_to_reside"].sum()
    )
    assert row["ctr_completeness_pct"] == pytest.approx(100 * len(one) / 366)


def test_lsoa21_deprivation_equals_the_published_icb_summary(ics):
    from icsresearch.sources.deprivation import read_imd2025_icb

    published = read_imd2025_icb()
    q_of = geography.icbs(2022).set_index("icb_ons_code")["icb_code"]
    share = published.assign(
        icb_code=geography.normalise_icb_ons_code(published["icb_ons_code"]).map(q_of)
    ).set_index("icb_code")["imd_most_deprived_10pct_share"]
    ours = ics.drop_duplicates("icb_code").set_index("icb_code")["imd2025_most_deprived_lsoa_pct"]
    assert np.allclose(ours.reindex(share.index), 100 * share, atol=0.06)  # published to 3 d.p.
    ics26 = ics_year_panel("real", footprint=2026).drop_duplicates("icb_code")
    assert ics26["imd2025_most_deprived_lsoa_pct"].notna().all()
    merged = ics26[ics26["icb_code"].isin(["S1Y5D", "D7T5G"])]
    assert merged["health_index_2021"].isna().all()  # an index cannot be added across areas


def test_frimley_a_and_e_is_withheld_while_its_main_trust_was_silent(ics):
    from icsresearch.indicators import MIN_SYSTEM_COVERAGE, system_coverage

    frimley = ics[ics["icb_code"] == "QNQ"].set_index("year")
    for year in (2021, 2022):  # Frimley Health (RDU) field-tested new standards until May 2023
        assert np.isnan(frimley.loc[year, "ae_4hr_pct"])
        assert system_coverage(frimley.loc[year], "ae_4hr_pct") < 10
    assert system_coverage(frimley.loc[2023], "ae_4hr_pct") > MIN_SYSTEM_COVERAGE
    assert frimley.loc[2023, "ae_4hr_pct"] == pytest.approx(
        100 * frimley.loc[2023, "ae_within_4hr"] / frimley.loc[2023, "ae_4hr_denominator"]
    )
