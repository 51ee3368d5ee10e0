"""The synthetic demo dataset: fictional, deterministic, shaped like the real panel, effects planted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icsresearch import geography
from icsresearch.demo import (
    PLANTED,
    SYNTHETIC,
    demo_ae_monthly_trust,
    demo_beds_monthly_trust,
    demo_discharge_monthly_trust,
)
from icsresearch.demo.generate import BED_TYPES, _calibration, world
from icsresearch.models import fit
from icsresearch.panel import (
    ICS_YEAR_COLUMNS,
    TRUST_YEAR_COLUMNS,
    ae_monthly,
    beds_monthly,
    discharge_monthly,
    ics_year_panel,
    trust_year_panel,
)
from icsresearch.panel.columns import INT_COLUMNS, TEXT_COLUMNS
from icsresearch.plots.spc import spc_analysis

#: The ICS-era panel columns, built from monthly tables or the 2021-2024 survey.
ICS_ERA = (
    "ae_attendances",
    "ae_within_4hr",
    "ae_4hr_denominator",
    "ae_4hr_pct",
    "ae_4hr_completeness_pct",
    "ga_beds_available",
    "ga_beds_occupied",
    "ga_occupancy_pct",
    "ga_beds_completeness_pct",
    "ctr_patients_per_day",
    "ctr_discharged_per_day",
    "ctr_remaining_per_day",
    "ctr_discharged_pct",
    "delayed_per_100_ga_beds",
    "ctr_completeness_pct",
    "staff_burnout_pct",
    "staff_burnout_n",
    "staff_burnout_base",
    "staff_stress_pct",
    "staff_stress_n",
    "staff_stress_base",
    "staff_enough_staff_pct",
    "staff_enough_staff_n",
    "staff_enough_staff_base",
    "staff_wellbeing_respondents",
)


@pytest.fixture(scope="module")
def demo():
    return trust_year_panel("demo")


def _acute() -> list[str]:
    trusts = geography.trusts("demo")
    return trusts.loc[trusts["trust_type"] == "acute non-specialist", "trust_code"].tolist()


def _system_acute(icb: str) -> list[str]:
    trusts = geography.trusts("demo")
    return trusts.loc[
        (trusts["trust_type"] == "acute non-specialist") & (trusts["hq_icb_code"] == icb),
        "trust_code",
    ].tolist()


def test_fictional_organisations_in_both_footprints(demo):
    icbs22, icbs26 = geography.icbs(2022, "demo"), geography.icbs(2026, "demo")
    assert len(icbs22) == 42 and len(icbs26) == 36
    assert icbs22["region_code"].nunique() == 7
    assert icbs22["icb_code"].str.fullmatch(r"ZQ\d\d").all()
    assert demo["trust_code"].str.fullmatch(r"ZZ\d{3}").all()
    # Acute trusts per system follow the real distribution (a calibration figure).
    acute = (
        geography.trusts("demo")
        .query("trust_type == 'acute non-specialist'")
        .groupby("hq_icb_code")
        .size()
    )
    assert (
        sorted(acute.reindex(icbs22["icb_code"]).fillna(0).astype(int))
        == _calibration()["acute_trusts_per_ics"]
    )
    assert (demo["data_source"] == SYNTHETIC).all() and demo.ics.synthetic
    assert "synthetic demo data" in demo.ics.source_note


def test_deterministic():
    a = world()
    tables = {
        "trust": trust_year_panel("demo"),
        "ics": ics_year_panel("demo", footprint=2026),
        "beds": beds_monthly("demo", level="ics", bed_type="adult_critical_care"),
    }
    world.cache_clear()
    b = world()
    assert a is not b
    for name in (
        "values",
        "wellbeing",
        "ae_monthly",
        "beds_monthly",
        "discharge_monthly",
        "trusts",
    ):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    for fp in (2022, 2026):
        pd.testing.assert_frame_equal(a.covariates[fp], b.covariates[fp])
    pd.testing.assert_frame_equal(tables["trust"], trust_year_panel("demo"))
    pd.testing.assert_frame_equal(tables["ics"], ics_year_panel("demo", footprint=2026))
    pd.testing.assert_frame_equal(
        tables["beds"], beds_monthly("demo", level="ics", bed_type="adult_critical_care")
    )


def test_the_whole_world_is_fast():
    world.cache_clear()
    start = time.process_time()  # CPU time of this process: others' jobs do not count
    world()
    assert time.process_time() - start < 3.0


def test_demo_validation_uses_demo_codes():
    assert geography.validate_ics_code("zq07", 2022, "demo") == "ZQ07"
    with pytest.raises(Exception, match="ZQ01"):
        geography.validate_ics_code("QYG", 2022, "demo")
    with pytest.raises(ValueError, match="bed_type='icu'"):
        demo_beds_monthly_trust("icu")
    with pytest.raises(ValueError, match="department='type2'"):
        demo_ae_monthly_trust("type2")


def test_ics_panel_and_weights():
    for fp in (2022, 2026):
        for method in geography.METHODS:
            w = geography.trust_ics_weights(method, fp, "demo")
            assert np.allclose(w.groupby("trust_code")["weight"].sum(), 1.0)
        ics = ics_year_panel("demo", footprint=fp)
        assert ics["icb_code"].nunique() == (42 if fp == 2022 else 36)
        assert (ics["data_source"] == SYNTHETIC).all()
        # Every system in every year 2012/13-2024/25, the uncovered 2020/21 included.
        assert sorted(ics["year"].unique()) == list(range(2012, 2025))
        assert len(ics) == ics["icb_code"].nunique() * 13
        assert ics.loc[ics["year"] == 2020, "ae_4hr_pct"].isna().all()
        assert list(ics.columns) == [c.name for c in ICS_YEAR_COLUMNS]
    # Merging systems moves trusts between systems but conserves national totals.
    p22, p26 = ics_year_panel("demo", footprint=2022), ics_year_panel("demo", footprint=2026)
    for col in ("managers_fte", "ae_attendances", "ga_beds_occupied", "staff_burnout_n"):
        assert np.allclose(p22.groupby("year")[col].sum(), p26.groupby("year")[col].sum()), col


def test_ics_era_covariates_follow_the_real_rules():
    cal = _calibration()
    c22 = ics_year_panel("demo").drop_duplicates("icb_code").set_index("icb_code")
    c26 = ics_year_panel("demo", footprint=2026).drop_duplicates("icb_code").set_index("icb_code")
    # The real values, shuffled among the fictional systems.
    assert (
        sorted(c22["imd2025_most_deprived_lsoa_pct"]) == cal["ics_imd2025_most_deprived_lsoa_pct"]
    )
    assert sorted(c22["health_index_2021"]) == cal["ics_health_index_2021"]
    # More deprived systems are less healthy, as in the real data.
    assert c22["imd2025_average_score"].corr(c22["health_index_2021"]) < -0.5
    icbs26 = geography.icbs(2026, "demo").set_index("icb_code")
    for code, row in c26.iterrows():
        parts = icbs26.loc[code, "predecessors"].split(";")
        if len(parts) == 1:
            assert row["health_index_2021"] == c22.loc[code, "health_index_2021"]
            assert (
                row["imd2025_most_deprived_lsoa_pct"]
                == c22.loc[code, "imd2025_most_deprived_lsoa_pct"]
            )
        else:  # an index does not add up over areas: merged boards have none
            assert np.isnan(row["health_index_2021"])
            pop = c22.loc[parts, "population"]
            expected = (c22.loc[parts, "imd2025_most_deprived_lsoa_pct"] * pop).sum() / pop.sum()
            assert row["imd2025_most_deprived_lsoa_pct"] == pytest.approx(expected)


def test_columns_types_and_years_are_those_of_the_real_panel(demo):
    assert list(demo.columns) == [c.name for c in TRUST_YEAR_COLUMNS]
    for col in demo.columns:
        want = "int64" if col in INT_COLUMNS else None if col in TEXT_COLUMNS else "float64"
        if want:
            assert str(demo[col].dtype) == want, col
    assert not demo.duplicated(["trust_code", "year"]).any()
    # The real panel's years: 2012/13-2019/20 and 2021/22-2024/25 (no trust file covers 2020/21).
    cal = _calibration()
    assert sorted(demo["year"].unique()) == cal["years"]
    assert 2020 not in cal["years"] and cal["years"][-1] == 2024
    # 2019/20 rows carry only what the real data have then.
    has = demo.loc[demo["year"] == 2019].drop(columns=[c.name for c in TRUST_YEAR_COLUMNS[:11]])
    assert set(has.columns[has.notna().any()]) == {"shmi_v2", "staff_engagement"}
    # Each ICS-era indicator is present exactly in the years the real data have it.
    for col in (
        "ae_4hr_pct",
        "ae_attendances",
        "ae_4hr_pct_compiled",
        "ga_occupancy_pct",
        "delayed_per_100_ga_beds",
        "ctr_discharged_pct",
        "staff_burnout_pct",
        "staff_wellbeing_respondents",
    ):
        real_years = {
            int(y)
            for spec in cal["types"].values()
            for y, share in spec["indicators"].get(col, {}).get("availability", {}).items()
            if share > 0
        }
        demo_years = set(demo.loc[demo[col].notna(), "year"])
        assert demo_years == real_years, col
    years = {c: set(demo.loc[demo[c].notna(), "year"]) for c in ICS_ERA}
    assert years["ae_attendances"] == {2016, 2017, 2018, 2021, 2022, 2023, 2024}
    assert years["ae_4hr_pct"] == years["ae_attendances"]
    for c in ICS_ERA:
        if c.startswith(("ga_", "ctr_", "delayed")):
            assert years[c] == {2022, 2023, 2024}, c
        if c.startswith("staff_"):
            assert years[c] == {2021, 2022, 2023, 2024}, c
    assert set(demo.loc[demo["ae_4hr_pct_compiled"].notna(), "year"]) == set(range(2012, 2019))
    # Survey counts are whole numbers and the rates are computed from them.
    s = demo.dropna(subset=["staff_burnout_pct"])
    assert np.allclose(s["staff_burnout_n"], s["staff_burnout_n"].round())
    assert np.allclose(s["staff_burnout_pct"], 100 * s["staff_burnout_n"] / s["staff_burnout_base"])
    assert (s["staff_burnout_base"] <= s["staff_wellbeing_respondents"]).all()
    # Beds and discharge: acute trusts only.
    types = set(demo.loc[demo["ga_beds_available"].notna(), "trust_type"])
    assert types == {"acute non-specialist", "acute specialist"}
    assert set(demo.loc[demo["ctr_patients_per_day"].notna(), "trust_type"]) <= types


def test_calibrated_spread_is_realistic(demo):
    """Between/within shape of the main indicators is close to the calibration figures."""
    acute = demo[demo["trust_type"] == "acute non-specialist"]
    cal = _calibration()["types"]["acute non-specialist"]["indicators"]
    for col in (
        "ae_4hr_pct",
        "ae_4hr_pct_compiled",
        "management_score",
        "occupancy_pct",
        "ga_occupancy_pct",
        "delayed_per_100_ga_beds",
        "ctr_discharged_pct",
        "staff_burnout_pct",
    ):
        dev = acute[col] - acute.groupby("year")[col].transform("mean")
        between = dev.groupby(acute["trust_code"]).mean().std()
        assert between == pytest.approx(cal[col]["sd_between"], rel=0.35), col
        # Year means within three standard errors of the calibrated ones.
        means, n = acute.groupby("year")[col].mean(), acute.groupby("year")[col].count()
        spread = np.hypot(cal[col]["sd_between"], cal[col]["sd_within"])
        for year, mean in cal[col]["year_mean"].items():
            tolerance = 3 * spread / np.sqrt(n[int(year)]) + 0.2
            assert means[int(year)] == pytest.approx(mean, abs=tolerance), (col, year)
    compiled = acute.groupby("year")["ae_4hr_pct_compiled"].mean()
    assert compiled[2012] > compiled[2018] + 3  # the real decline in A&E performance
    counted = acute.groupby("year")["ae_4hr_pct"].mean()
    assert counted[2022] < counted[2018] - 10  # and its fall after the pandemic


@pytest.mark.parametrize("outcome", ["ae_4hr_pct_compiled", "ae_4hr_pct"])
def test_estimators_recover_the_planted_management_effects(demo, outcome):
    """The planted A&E effect acts on latent performance: both A&E columns recover it."""
    acute = demo[demo["trust_type"] == "acute non-specialist"].copy()
    kw = {"entity": "trust_code", "time": "year", "vcov": "CRV1", "cluster": "trust_code"}
    within_mgr = fit(acute, f"{outcome} ~ managers_fte", model="within", effects="twoways", **kw)
    lo, hi = within_mgr.conf_int().loc["managers_fte"]
    assert lo < PLANTED["managers_fte_within_effect"] < hi
    within_score = fit(
        acute, f"{outcome} ~ management_score", model="within", effects="twoways", **kw
    )
    lo, hi = within_score.conf_int().loc["management_score"]
    assert lo < PLANTED["management_score_on_ae_4hr_pct"] < hi
    if outcome == "ae_4hr_pct_compiled":  # seven years: the effect is found, not just covered
        assert lo > 0


def test_staffing_and_mortality_is_recovered(demo):
    acute = demo[demo["trust_type"] == "acute non-specialist"]
    # Staffing and mortality: log SHMI on occupied beds per nurse/doctor/support worker, 2017/18.
    cs = (
        acute[acute["year"] == 2017]
        .dropna(subset=["shmi", "nurses_fte", "doctors_fte", "support_fte", "occupied_beds"])
        .copy()
    )
    for staff in ("nurses", "doctors", "support"):
        cs[f"beds_per_{staff}"] = cs["occupied_beds"] / cs[f"{staff}_fte"]
    cs["log_shmi"] = np.log(cs["shmi"])
    res = fit(
        cs,
        "log_shmi ~ beds_per_nurses + beds_per_doctors + beds_per_support",
        entity="trust_code",
        time="year",
        model="pooled",
        vcov="hetero",
    )
    lo, hi = res.conf_int().loc["beds_per_nurses"]
    assert lo < PLANTED["log_rr_shmi_per_bed_per_nurse"] < hi
    assert res.params["beds_per_nurses"] > 0


def test_annual_columns_are_the_sums_of_the_monthly_tables(demo):
    """Recomputed here with plain loops over the demo's own monthly tables."""
    p = demo.set_index(["trust_code", "year"])
    att, den, within, timed = (defaultdict(float) for _ in range(4))
    for r in demo_ae_monthly_trust("all").itertuples():
        key = (r.trust_code, r.year)
        if np.isnan(r.attendances):  # a month blank for every trust, as in the real file
            continue
        att[key] += r.attendances
        if not np.isnan(r.over_4hr):
            den[key] += r.attendances
            within[key] += r.attendances - r.over_4hr
            timed[key] += 1
    for key in att:
        if key[1] == 2025:  # April-July 2025: not a panel year
            assert key not in p.index
            continue
        row = p.loc[key]
        assert row["ae_attendances"] == att[key]
        if den[key]:
            assert row["ae_within_4hr"] == within[key] and row["ae_4hr_denominator"] == den[key]
            assert row["ae_4hr_pct"] == pytest.approx(100 * within[key] / den[key])
        else:
            assert np.isnan(row["ae_4hr_pct"])
        # completeness: the share of the year's 12 months with both counts
        assert row["ae_4hr_completeness_pct"] == pytest.approx(100 * timed[key] / 12)
    # G&A beds: means of the monthly averages; discharge: day-weighted means.
    avail, occ = defaultdict(list), defaultdict(list)
    for r in demo_beds_monthly_trust("general_acute").dropna().itertuples():
        avail[(r.trust_code, r.year)].append(r.beds_available)
        occ[(r.trust_code, r.year)].append(r.beds_occupied)
    for key in [k for k in avail if k[1] <= 2024]:
        row = p.loc[key]
        assert row["ga_beds_available"] == pytest.approx(np.mean(avail[key]))
        assert row["ga_occupancy_pct"] == pytest.approx(
            100 * np.mean(occ[key]) / np.mean(avail[key])
        )
        assert row["ga_beds_completeness_pct"] == pytest.approx(100 * len(avail[key]) / 12)
    days, patients, discharged = (defaultdict(float) for _ in range(3))
    for r in demo_discharge_monthly_trust().itertuples():
        key = (r.trust_code, r.year)
        days[key] += r.days_reported
        patients[key] += r.patients_per_day * r.days_reported
        discharged[key] += r.discharged_per_day * r.days_reported
    for key in [k for k in days if k[1] <= 2024]:
        row = p.loc[key]
        year_days = 366 if key[1] in (2023,) else 365
        assert row["ctr_patients_per_day"] == pytest.approx(patients[key] / days[key])
        assert row["ctr_remaining_per_day"] == pytest.approx(
            (patients[key] - discharged[key]) / days[key]
        )
        assert row["ctr_completeness_pct"] == pytest.approx(100 * days[key] / year_days)
        assert row["delayed_per_100_ga_beds"] == pytest.approx(
            100 * row["ctr_remaining_per_day"] / row["ga_beds_occupied"]
        )
    # Through the shared functions: the panel's columns are exactly what they return.
    from icsresearch.panel.annual import ae_annual, beds_annual, discharge_annual

    for part in (
        ae_annual(demo_ae_monthly_trust("all")),
        beds_annual(demo_beds_monthly_trust("general_acute")),
        discharge_annual(demo_discharge_monthly_trust()),
    ):
        part = part[part["year"] <= 2024].set_index(["trust_code", "year"])
        pd.testing.assert_frame_equal(
            p.loc[part.index, part.columns], part, check_names=False, check_dtype=False
        )


def test_ics_monthly_series_add_up_to_the_ics_panel():
    ics = ics_year_panel("demo", method="catchment").set_index(["icb_code", "year"])
    months = ae_monthly("demo", level="ics", method="catchment")
    months = months[months["year"] <= 2024]
    summed = months.groupby(["icb_code", "year"])["attendances"].sum()
    assert np.allclose(ics.loc[summed.index, "ae_attendances"], summed)
    beds = beds_monthly("demo", level="ics", method="catchment")
    beds = beds[beds["year"] <= 2024]
    mean = beds.groupby(["icb_code", "year"])["beds_occupied"].mean()
    assert np.allclose(ics.loc[mean.index, "ga_beds_occupied"], mean)


def test_bed_types_and_general_acute_is_adult_plus_paediatric():
    tables = {b: demo_beds_monthly_trust(b).set_index(["trust_code", "period"]) for b in BED_TYPES}
    ga, adult, paed = (
        tables["general_acute"],
        tables["adult_general_acute"],
        tables["paediatric_general_acute"],
    )
    assert ga.index.equals(adult.index) and ga.index.equals(paed.index)
    for col in ("beds_available", "beds_occupied"):
        assert ga[col].equals(adult[col] + paed[col])
    blank = _calibration()["beds_monthly"]["blank_months"]
    assert blank == ["2022-07-01", "2022-08-01"]  # the months the real file repeats
    for name, t in tables.items():
        periods = t.index.get_level_values("period")
        counts = t[["beds_available", "beds_occupied"]]
        assert counts[periods.isin(pd.to_datetime(blank))].isna().all().all(), name
        t = t[~periods.isin(pd.to_datetime(blank))]
        assert t.notna().all().all(), name
        assert list(t.reset_index().columns) == [
            "trust_code",
            "period",
            "year",
            "beds_available",
            "beds_occupied",
        ]
        assert (t["beds_occupied"] <= t["beds_available"]).all() and (t["beds_occupied"] >= 0).all()
        periods = tables[name].index.get_level_values("period")
        assert periods.min() == pd.Timestamp("2022-04-01") and periods.max() == pd.Timestamp(
            "2025-08-01"
        )
        assert periods.nunique() == 41, name
    # Most acute trusts run adult critical care; fewer have paediatric intensive care.
    has = {b: (tables[b].groupby(level=0)["beds_available"].max() > 0).mean() for b in BED_TYPES}
    assert has["adult_critical_care"] > 0.8 and has["paediatric_intensive_care"] < 0.5
    occupancy = 100 * ga["beds_occupied"].sum() / ga["beds_available"].sum()
    assert 88 < occupancy < 97


def test_monthly_tables_have_the_real_months_and_the_gap():
    ae = demo_ae_monthly_trust("all")
    assert list(ae.columns) == [
        "trust_code",
        "period",
        "year",
        "attendances",
        "over_4hr",
        "admissions",
    ]
    periods = set(ae["period"])
    expected = set(pd.date_range("2016-04-01", "2019-03-01", freq="MS")) | set(
        pd.date_range("2021-04-01", "2025-07-01", freq="MS")
    )
    assert periods == expected
    assert not ((ae["period"] > "2019-03-01") & (ae["period"] < "2021-04-01")).any()
    # February and March 2025: rows for every trust with no counts, as in the real file.
    blank = ae["period"].isin(pd.to_datetime(["2025-02-01", "2025-03-01"]))
    assert _calibration()["ae_2021"]["blank_months"] == ["2025-02-01", "2025-03-01"]
    assert ae.loc[blank, ["attendances", "over_4hr"]].isna().all().all()
    assert ae.loc[~blank, "attendances"].notna().all()
    assert (ae["year"] == ae["period"].dt.year - (ae["period"].dt.month < 4)).all()
    type1 = demo_ae_monthly_trust("type1")
    assert type1["period"].max() == pd.Timestamp("2019-03-01") and type1["period"].nunique() == 36
    assert (
        type1["attendances"]
        <= ae.set_index(["trust_code", "period"])
        .loc[pd.MultiIndex.from_frame(type1[["trust_code", "period"]]), "attendances"]
        .to_numpy()
    ).all()
    dis = demo_discharge_monthly_trust()
    assert list(dis.columns) == [
        "trust_code",
        "period",
        "year",
        "days_reported",
        "patients_per_day",
        "discharged_per_day",
    ]
    assert dis["period"].min() == pd.Timestamp("2022-04-01")
    assert dis["period"].max() == pd.Timestamp("2025-08-01")
    assert (dis["days_reported"] <= dis["period"].dt.days_in_month).all()
    assert (dis["discharged_per_day"] <= dis["patients_per_day"]).all()
    # The public monthly series read the same tables.
    m = ae_monthly("demo")
    assert set(m["period"]) == expected and "breaches" not in m  # one name: over_4hr


def test_field_test_sites_report_no_4_hour_counts_until_may_2023(demo):
    ae = demo_ae_monthly_trust("all")
    silent = ae[ae["over_4hr"].isna() & ae["attendances"].notna()]
    sites = set(silent["trust_code"])
    cal = _calibration()["ae_2021"]["over_4hr_unreported"]
    # Chosen among the acute trusts reporting A&E from 2021 with no planted special cause.
    planted = set(_acute()[:3]) | {PLANTED["ga_occupancy_trust"]}
    for key in ("ae_step_down_icb", "discharge_icb"):
        planted |= set(_system_acute(PLANTED[key]))
    pool = set(ae.loc[ae["period"] >= "2021-04-01", "trust_code"]) & set(_acute()) - planted
    assert sites <= pool
    assert len(sites) == round(cal["share_of_trusts"]["acute non-specialist"] * len(pool))
    assert silent["period"].min() == pd.Timestamp(cal["first_month"])
    assert silent["period"].max() == pd.Timestamp(cal["last_month"])
    p = demo.set_index(["trust_code", "year"])
    for code in sites:
        assert np.isnan(p.loc[(code, 2021), "ae_4hr_pct"])
        assert p.loc[(code, 2021), "ae_4hr_completeness_pct"] == 0
        assert 70 < p.loc[(code, 2023), "ae_4hr_completeness_pct"] < 100
        # 2024/25: every trust 10 of 12 months (February and March 2025 are blank)
        assert p.loc[(code, 2024), "ae_4hr_completeness_pct"] == pytest.approx(100 * 10 / 12)


def test_monthly_ae_has_the_planted_special_causes():
    m = ae_monthly("demo", department="type1")
    acute = _acute()
    old_era = demo_ae_monthly_trust("all").query("period < '2019-04-01'")
    assert m["period"].nunique() == 36
    assert set(m["trust_code"]) == set(old_era["trust_code"]) & set(acute)  # type 1: acute
    # Against the other acute trusts in the same months (same season, same national level).
    share = m.pivot(index="period", columns="trust_code", values="within_4hr_pct")
    others = share.drop(columns=acute[:3]).mean(axis=1)
    for code in acute[: PLANTED["ae_step_up_trusts"]]:
        gap = share[code] - others
        step = gap["2017-10-01":].mean() - gap[:"2017-09-01"].mean()
        assert step == pytest.approx(PLANTED["ae_step_up_pct"], abs=2.5), code
    decline = acute[PLANTED["ae_step_up_trusts"]]
    gap = (share[decline] - others)["2018-01-01":]  # January 2018 - March 2019
    slope = np.polyfit(np.arange(len(gap)), gap.to_numpy(), 1)[0]
    assert slope == pytest.approx(-PLANTED["ae_decline_pct_per_month"], abs=0.5)


def _flags(series: pd.Series, baseline_end: str, **kw) -> pd.DataFrame:
    series = series.dropna()  # the blank months (February-March 2025), as the report does
    sa = spc_analysis(series, baseline=(series.index[0], pd.Timestamp(baseline_end)), **kw)
    return sa.data.set_index("x")


def _england(monthly: pd.DataFrame, num: str, den: str | None = None) -> pd.Series:
    g = monthly.groupby("period")
    if den is None:
        return g[num].sum()
    timed = monthly[monthly[num].notna()].groupby("period")
    return 100 * (1 - timed[num].sum() / timed[den].sum())


def test_spc_finds_the_ics_era_special_causes():
    """SPC charts of 2024/25 find the planted changes, from the month they start."""
    # A&E: every acute trust of one system 8 points down from November 2023.
    # Limits from the months since April 2022 before the step (the post-pandemic level).
    ae = ae_monthly("demo", level="ics")
    ae = ae[ae["period"] >= "2022-04-01"]
    step = pd.Timestamp(PLANTED["ae_step_down_from"])
    system = ae[ae["icb_code"] == PLANTED["ae_step_down_icb"]].set_index("period")
    flags = _flags(system["within_4hr_pct"], "2023-10-01", improvement="up")
    low = flags["special_cause"] & (flags["variation"] == "special_cause_concern")
    assert low[step:].mean() > 0.8  # a shift below the mean, months on end
    assert low["2024-04-01":"2025-03-01"].mean() > 0.8  # through the report year 2024/25
    # The change starts at the step: before it, most months are common cause (the winter dip
    # of 2022/23 and a run below the mean starting a month or two early are signals too, as in
    # real charts); the step month itself is beyond the lower limit.
    assert low[: step - pd.DateOffset(months=1)].mean() < 0.5
    assert flags.loc[step, "outside_limits"] and flags.loc[step, "direction"] == "low"
    # The step, net of England's change over the same months, is the planted one.
    england = _england(ae_monthly("demo"), "over_4hr", "attendances")  # pooled over trusts
    change = system["within_4hr_pct"] - england
    assert change[step:].mean() - change[:step].iloc[:-1].mean() == pytest.approx(
        -PLANTED["ae_step_down_pct"], abs=2.5
    )
    # G&A occupancy above 95% from winter 2022 in one trust (and so in its one-trust system),
    # with the report's baseline (the first 12 months).
    beds = beds_monthly("demo").query(f"trust_code == '{PLANTED['ga_occupancy_trust']}'")
    beds = beds.dropna(subset=["occupancy_pct"])  # July and August 2022 are blank
    sa = spc_analysis(beds, value="occupancy_pct", x="period", baseline=12)
    after = sa.data[sa.data["x"] >= pd.Timestamp("2023-04-01")]
    assert after["special_cause"].all() and (after["direction"] == "high").all()
    assert (after["value"] > 95).all()
    before = sa.data[sa.data["x"] < pd.Timestamp(PLANTED["ga_occupancy_from"])]
    assert (before["value"] < 92).all()
    system = beds_monthly("demo", level="ics").query("icb_code == 'ZQ10'").dropna()
    assert np.allclose(system["occupancy_pct"], beds["occupancy_pct"])
    # Discharge: 35% fewer delayed patients in one system from April 2024 (2024/25).
    dis = discharge_monthly("demo", level="ics")
    start = pd.Timestamp(PLANTED["discharge_from"])
    system = dis[dis["icb_code"] == PLANTED["discharge_icb"]].set_index("period")
    flags = _flags(system["remaining_per_day"], "2024-03-01", improvement="down")
    better = flags["special_cause"] & (flags["variation"] == "special_cause_improvement")
    assert better[start:].mean() > 0.8
    assert better[: start - pd.DateOffset(months=1)].mean() < 0.5
    england = _england(discharge_monthly("demo"), "remaining_per_day")
    ratio = system["remaining_per_day"] / england
    fall = ratio["2024-04-01":"2025-03-01"].mean() / ratio["2023-04-01":"2024-03-01"].mean()
    assert fall == pytest.approx(1 - PLANTED["discharge_delayed_fall"], abs=0.1)


def _cli_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICSRESEARCH_")}
    env["ICSRESEARCH_CACHE"] = str(tmp_path / "cache")
    env["ICSRESEARCH_OFFLINE"] = "1"  # no mirror, no network: the demo must still work
    return env


EXE = shutil.which("icsresearch", path=str(Path(sys.executable).parent)) or "icsresearch"


@pytest.mark.parametrize(("level", "suffix"), [("trust", ".csv"), ("ics", ".parquet")])
def test_panel_build_command_writes_the_table_and_a_manifest(tmp_path, level, suffix):
    out = tmp_path / f"panel{suffix}"
    result = subprocess.run(
        [
            EXE,
            "panel",
            "build",
            "--level",
            level,
            "--source",
            "demo",
            "--footprint",
            "2026",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=_cli_env(tmp_path),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    df = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert (df["data_source"] == SYNTHETIC).all()
    assert df["icb_code"].nunique() == 36
    import json

    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
    assert manifest["parameters"]["footprint"] == 2026 and manifest["data_source"] == SYNTHETIC
    assert manifest["git_revision"] and "pandas" in manifest["environment"]


def test_panel_build_rejects_an_unknown_extension_and_real_data_without_files(tmp_path):
    bad = subprocess.run(
        [EXE, "panel", "build", "--out", str(tmp_path / "p.xlsx")],
        capture_output=True,
        text=True,
        env=_cli_env(tmp_path),
        timeout=300,
    )
    assert (
        bad.returncode == 1 and ".csv or .parquet" in bad.stderr and "Traceback" not in bad.stderr
    )
    real = subprocess.run(
        [EXE, "panel", "build", "--source", "real", "--out", str(tmp_path / "p.csv")],
        capture_output=True,
        text=True,
        env=_cli_env(tmp_path),
        timeout=300,
    )
    assert (
        real.returncode == 1
        and "ICSRESEARCH_MIRROR" in real.stderr
        and "Traceback" not in real.stderr
    )
    assert not (tmp_path / "p.csv").exists()
