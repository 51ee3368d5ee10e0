"""The numbers behind a report, checked against independent computations.

Demo data: references are computed with plain Python loops from the demo generator's own tables
(``icsresearch.demo``), not through the report code. Real data: references are read from the
published files in the mirror with the ``csv`` module and pyreadr, not the project's readers.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icsresearch import geography
from icsresearch.demo import demo_ae_monthly_trust
from icsresearch.panel import trust_year_panel
from icsresearch.reports import profile as rp
from icsresearch.reports.params import validate_report_parameters


@pytest.fixture(scope="module")
def zq01():
    return rp.load_report_data(validate_report_parameters("ZQ01", 2022, "demo", 2018))


def _rows(df: pd.DataFrame) -> list[dict]:
    return df.to_dict("records")


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def test_system_trusts_are_those_with_at_least_a_tenth_of_their_weight_here():
    data = rp.load_report_data(validate_report_parameters("ZQ05", 2022, "demo", 2018, "catchment"))
    weights = geography.trust_ics_weights("catchment", 2022, "demo")
    share = defaultdict(float)
    for r in _rows(weights):
        if r["icb_code"] == "ZQ05":
            share[r["trust_code"]] += r["weight"]
    in_2018 = {r["trust_code"] for r in _rows(data.trusts) if r["year"] == 2018}
    expected = {c for c, w in share.items() if w >= 0.1 and c in in_2018}
    got = rp.system_trusts(data)
    assert set(got["trust_code"]) == expected and len(expected) > 5
    for r in _rows(got):
        assert r["share"] == pytest.approx(share[r["trust_code"]])
    # under catchment some trusts serve several systems: at least one is shared
    assert (got["share"] < 1).any()


def test_ae_funnel_table_sums_the_demo_months_of_the_financial_year(zq01):
    raw = demo_ae_monthly_trust("all")
    att, within = defaultdict(float), defaultdict(float)
    for r in _rows(raw):
        period = pd.Timestamp(r["period"])
        timed = _num(r["over_4hr"]) is not None and _num(r["attendances"]) is not None
        if pd.Timestamp("2018-04-01") <= period <= pd.Timestamp("2019-03-01") and timed:
            att[r["trust_code"]] += r["attendances"]
            within[r["trust_code"]] += r["attendances"] - r["over_4hr"]
    table = rp.ae_funnel_table(zq01)
    # every trust with A&E counts that year, whatever its type: the system's headline pools them
    assert set(table["trust_code"]) == {c for c, a in att.items() if a > 0}
    share = defaultdict(float)
    for r in _rows(geography.trust_ics_weights("headquarters", 2022, "demo")):
        if r["icb_code"] == "ZQ01":
            share[r["trust_code"]] += r["weight"]
    for r in _rows(table):
        assert r["attendances"] == att[r["trust_code"]]
        assert r["within_4hr"] == within[r["trust_code"]]
        assert r["weight"] == share.get(r["trust_code"], 0.0)
    headline = rp.indicator_summary(zq01, "ae_4hr_pct")["ics"]
    mine = [r for r in _rows(table) if r["weight"] > 0]
    assert headline == pytest.approx(
        100 * sum(r["within_4hr"] for r in mine) / sum(r["attendances"] for r in mine)
    )


def test_ae_funnel_year_falls_back_to_the_monthly_years():
    data = rp.load_report_data(validate_report_parameters("ZQ01", 2022, "demo", 2013))
    assert rp.ae_year(data) == 2016  # monthly A&E starts in April 2016
    data = rp.load_report_data(validate_report_parameters("ZQ01", 2022, "demo", 2017))
    assert rp.ae_year(data) == 2017


def test_england_aggregates_trusts_with_the_panel_rules(zq01):
    eng = rp.england_by_year(zq01).set_index("year")
    panel = trust_year_panel("demo")
    for year in (2012, 2016, 2018, 2023):
        rows = [r for r in _rows(panel) if r["year"] == year]
        # A&E 4-hour: pooled counts over every trust reporting them (2016/17-2018/19, 2021/22 on)
        pairs = [(r["ae_within_4hr"], r["ae_4hr_denominator"]) for r in rows]
        pairs = [(n, d) for n, d in pairs if _num(n) is not None and _num(d) is not None]
        ae = 100 * sum(n for n, _ in pairs) / sum(d for _, d in pairs) if pairs else None
        # the compilation's annual share (2012-2018): mean weighted by A&E attendances where any
        # trust reports them (2016/17 on), else by admissions, over trusts reporting both
        compiled = None
        for volume in ("ae_attendances", "admissions"):
            pw = [(r["ae_4hr_pct_compiled"], r[volume]) for r in rows]
            pw = [(a, w) for a, w in pw if _num(a) is not None and _num(w) and w > 0]
            if pw:
                compiled = sum(a * w for a, w in pw) / sum(w for _, w in pw)
                break
        if year == 2012:
            assert ae is None and math.isnan(eng.loc[year, "ae_4hr_pct"])
        else:
            assert eng.loc[year, "ae_4hr_pct"] == pytest.approx(ae, rel=1e-12)
        if year <= 2018:
            assert eng.loc[year, "ae_4hr_pct_compiled"] == pytest.approx(compiled, rel=1e-12)
            # RTT: ratio of summed counts
            both = [(r["rtt_within_18wk"], r["rtt_incomplete_pathways"]) for r in rows]
            both = [(n, d) for n, d in both if _num(n) is not None and _num(d) is not None]
            rtt = 100 * sum(n for n, _ in both) / sum(d for _, d in both)
            assert eng.loc[year, "rtt_18wk_pct"] == pytest.approx(rtt, rel=1e-12)
            managers = sum(r["managers_fte"] for r in rows if _num(r["managers_fte"]) is not None)
            assert eng.loc[year, "managers_fte"] == pytest.approx(managers, rel=1e-12)


def test_region_is_the_trusts_of_the_regions_systems(zq01):
    region = rp.region_by_year(zq01).set_index("year")
    icbs = geography.icbs(2022, "demo")
    systems = set(icbs.loc[icbs["region_code"] == zq01.system["region_code"], "icb_code"])
    # headquarters method: every trust has weight 1 in its main system
    rows = [
        r for r in _rows(trust_year_panel("demo")) if r["year"] == 2018 and r["icb_code"] in systems
    ]
    num = sum(
        r["rtt_within_18wk"]
        for r in rows
        if _num(r["rtt_within_18wk"]) is not None and _num(r["rtt_incomplete_pathways"]) is not None
    )
    den = sum(
        r["rtt_incomplete_pathways"]
        for r in rows
        if _num(r["rtt_within_18wk"]) is not None and _num(r["rtt_incomplete_pathways"]) is not None
    )
    assert region.loc[2018, "rtt_18wk_pct"] == pytest.approx(100 * num / den, rel=1e-12)
    trends = rp.trend_series(zq01, "rtt_18wk_pct")
    assert list(trends) == ["ics", "region", "england"]
    # every year from the first to the last with any indicator: the gap years are rows of NaN
    assert trends["ics"]["year"].tolist() == list(range(2012, 2025))
    assert trends["ics"].set_index("year").loc[[2019, 2020], "value"].isna().all()


def test_shmi_volume_is_carried_forward_at_most_two_years(zq01):
    trusts = zq01.trusts.copy()
    acute = trusts[(trusts["trust_type"] == "acute non-specialist") & (trusts["year"] == 2018)]
    a, b = acute["trust_code"].iloc[:2]
    admissions_2017_a = trusts.loc[
        (trusts["trust_code"] == a) & (trusts["year"] == 2017), "admissions"
    ].iloc[0]
    trusts.loc[(trusts["trust_code"] == a) & (trusts["year"] == 2018), "admissions"] = np.nan
    trusts.loc[(trusts["trust_code"] == b) & trusts["year"].between(2016, 2018), "admissions"] = (
        np.nan
    )
    table = rp.shmi_funnel_table(dataclasses.replace(zq01, trusts=trusts)).set_index("trust_code")
    assert table.loc[a, "volume_year"] == 2017
    assert table.loc[a, "expected_deaths"] == pytest.approx(0.02 * admissions_2017_a)
    assert b not in table.index  # no admissions in 2016-2018: left out
    for _code, r in table.iterrows():
        assert r["observed_deaths"] == pytest.approx(r["shmi"] * r["expected_deaths"])


def test_overview_ranks_population_and_deprivation(zq01):
    latest = zq01.ics[zq01.ics["year"] == zq01.ics["year"].max()].set_index("icb_code")
    o = rp.system_overview(zq01)
    pop = latest["population"]
    assert o["population"] == pop["ZQ01"]
    assert o["population_rank"] == 1 + sum(v > pop["ZQ01"] for v in pop)
    imd = latest["imd2019_mean_rank"]
    assert o["deprivation_rank"] == 1 + sum(v < imd["ZQ01"] for v in imd)
    assert o["n_systems"] == 42 and o["n_trusts"] == len(rp.system_trusts(zq01))


def test_headline_figures_are_the_system_row_and_england(zq01):
    h = rp.headline_figures(zq01)
    row = zq01.ics[(zq01.ics["icb_code"] == "ZQ01") & (zq01.ics["year"] == 2018)].iloc[0]
    for col in ("ae_4hr_pct", "rtt_18wk_pct", "shmi", "management_score"):
        assert h[col] == pytest.approx(row[col]) and h[f"{col}_fy"] == "2018/19"
    for col in ("ga_occupancy_pct", "staff_burnout_pct"):  # not published in 2018/19
        assert h[col] is None
    eng = rp.england_by_year(zq01).set_index("year")
    assert h["england_ae_4hr_pct"] == pytest.approx(eng.loc[2018, "ae_4hr_pct"])


def test_an_ics_era_report_shows_the_era_and_the_compilations_at_2018(zq01):
    data = rp.load_report_data(validate_report_parameters("ZQ01", 2022, "demo"))
    assert data.params.year == 2023 and rp.compiled_year(data) == 2018
    h = rp.headline_figures(data)
    row = data.ics[(data.ics["icb_code"] == "ZQ01") & (data.ics["year"] == 2023)].iloc[0]
    for col in ("ae_4hr_pct", "ga_occupancy_pct", "delayed_per_100_ga_beds", "staff_burnout_pct"):
        assert h[col] == pytest.approx(row[col]) and h[f"{col}_fy"] == "2023/24"
    assert h["rtt_18wk_pct_fy"] == "2018/19"
    era = rp.era_table(data).set_index("indicator")
    assert list(era.index) == list(rp.ERA_INDICATORS)
    eng = rp.england_by_year(data).set_index("year")
    for col in rp.ERA_INDICATORS:
        assert era.loc[col, "england"] == pytest.approx(eng.loc[2023, col])
    points = " ".join(rp.key_points(data))
    assert "Synthetic demo data" in points and "Gaps stay gaps" in points
    assert "before it existed" not in points  # 2023/24 is inside the 2022 footprint's life
    late = rp.load_report_data(validate_report_parameters("ZN02", 2026, "demo", 2024))
    points = " ".join(rp.key_points(late))
    assert "Footprint applied before it existed" in points and "February and March 2025" in points


def test_management_ratios(zq01):
    mt = rp.management_table(zq01).set_index("trust_code")
    t = zq01.trusts[
        (zq01.trusts["year"] == 2018) & (zq01.trusts["trust_type"] == "acute non-specialist")
    ]
    r = t.iloc[0]
    assert mt.loc[r["trust_code"], "managers_per_100_beds"] == pytest.approx(
        100 * r["managers_fte"] / r["beds_available"]
    )
    assert mt.loc[r["trust_code"], "nurses_per_10_beds"] == pytest.approx(
        10 * r["nurses_fte"] / r["occupied_beds"]
    )
    assert set(mt.index[mt["in_system"]]) == set(rp.system_trusts(zq01)["trust_code"]) & set(
        mt.index
    )


def test_a_report_cannot_change_the_next_reports_data(zq01):
    before = trust_year_panel("demo")["ae_4hr_pct"].sum()
    england_before = rp.england_by_year(zq01).copy()
    first = rp.load_report_data(zq01.params)
    first.trusts["ae_4hr_pct"] = 0.0
    first.trusts.loc[first.trusts.index[0], "trust_name"] = "changed"
    second = rp.load_report_data(zq01.params)
    assert second.trusts["ae_4hr_pct"].sum() == pytest.approx(before)
    assert second.trusts["trust_name"].iloc[0] != "changed"
    pd.testing.assert_frame_equal(rp.england_by_year(second), england_before)


def test_frames_carry_no_attrs_but_the_docs_stay_available(zq01):
    assert zq01.trusts.attrs == {} and zq01.ics.attrs == {}
    assert zq01.label("ae_4hr_pct") == ("A&E within 4 hours", "%")
    assert zq01.synthetic is True
    assert rp.input_files(zq01) == []  # the demo reads no files


def test_both_footprints_load_for_demo():
    data = rp.load_report_data(validate_report_parameters("ZN03", 2026, "demo"))
    assert data.system["icb_code"] == "ZN03" and ";" in data.system["predecessors"]
    assert len(data.icbs) == 36
    assert len(rp.system_trusts(data)) > 0


# --- real data ---------------------------------------------------------------------------------


def _csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): v.strip() for k, v in r.items()} for r in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def qyg(mirror):
    return rp.load_report_data(validate_report_parameters("QYG", 2022, "real", 2018))


@pytest.mark.realdata
def test_real_ae_funnel_matches_the_published_monthly_file(mirror, qyg):
    import pyreadr

    raw = next(iter(pyreadr.read_r(mirror / "NHSRdatasets/data/ae_attendances.rda").values()))
    period = pd.to_datetime(raw["period"])
    fy = raw[(period >= "2018-04-01") & (period <= "2019-03-01")]
    att = fy.groupby(fy["org_code"].astype(str))["attendances"].sum()
    br = fy.groupby(fy["org_code"].astype(str))["breaches"].sum()
    table = rp.ae_funnel_table(qyg)
    assert 140 <= len(table) <= 200  # NHS trusts with A&E in 2018/19 (independent units left out)
    for r in _rows(table):
        assert r["attendances"] == att[r["trust_code"]]
        assert r["within_4hr"] == att[r["trust_code"]] - br[r["trust_code"]]
    ours = rp.highlight_codes(qyg)
    # Cheshire and Merseyside's acute trusts include the Countess of Chester (RJR) and Aintree (REM)
    assert {"RJR", "REM"} <= set(ours)


@pytest.mark.realdata
def test_real_2023_ae_funnel_matches_the_ics_era_file(mirror):
    import pyreadr

    path = mirror / "healthyr/data/england_trust_accidents_emergency.rda"
    raw = next(iter(pyreadr.read_r(str(path)).values()))
    period = pd.to_datetime(raw["date"], format="%B %Y")
    fy = raw[(period >= "2023-04-01") & (period <= "2024-03-01")].dropna(
        subset=["attendances_over_4hours"]
    )
    code = fy["nhs_trust22_code"].astype(str)
    att = fy.groupby(code)["total_attendances"].sum()
    over = fy.groupby(code)["attendances_over_4hours"].sum()
    data = rp.load_report_data(validate_report_parameters("QYG", 2022, "real", 2023))
    table = rp.ae_funnel_table(data)
    assert len(table) >= 140 and rp.ae_year(data) == 2023
    for r in _rows(table):
        assert r["attendances"] == att[r["trust_code"]]
        assert r["within_4hr"] == att[r["trust_code"]] - over[r["trust_code"]]


@pytest.mark.realdata
def test_real_rtt_and_shmi_tables_match_the_published_csvs(mirror, qyg):
    base = mirror / "hospital_management/data/csv"
    rtt = {r["ORG_CODE"]: r for r in _csv_rows(base / "RTT.csv") if r["YEAR"] == "2018"}
    table = rp.rtt_funnel_table(qyg)
    assert len(table) > 120
    for r in _rows(table):
        src = rtt[r["trust_code"]]
        assert r["rtt_within_18wk"] == float(src["N_18_WEEKS"])
        assert r["rtt_incomplete_pathways"] == float(src["N_TOTAL"])
    shmi = {
        r["ORG_CODE"]: float(r["SHMI"]) for r in _csv_rows(base / "shmi.csv") if r["YEAR"] == "2018"
    }
    episodes = {
        r["ORG_CODE"]: float(r["TOTAL_EPISODES"])
        for r in _csv_rows(base / "inpatient_data.csv")
        if r["YEAR"] == "2018" and r["TOTAL_EPISODES"] not in ("", "NA")
    }
    table = rp.shmi_funnel_table(qyg)
    checked = 0
    for r in _rows(table):
        assert r["shmi"] == pytest.approx(shmi[r["trust_code"]])
        if r["volume_year"] == 2018:
            assert r["expected_deaths"] == pytest.approx(0.02 * episodes[r["trust_code"]])
            checked += 1
    assert checked > 100


@pytest.mark.realdata
def test_real_overview_and_inputs(qyg):
    o = rp.system_overview(qyg)
    assert o["region_name"] == "North West" and o["short_name"] == "Cheshire & Merseyside"
    # ONS mid-2019: Cheshire and Merseyside is about 2.6 million people
    assert 2.4e6 < o["population"] < 2.8e6
    inputs = rp.input_files(qyg)
    names = {i["source"] for i in inputs}
    assert {"ae_monthly", "hm_managers"} <= names
    assert all(len(i["sha256"]) == 64 and i["verified"] for i in inputs)


@pytest.mark.realdata
def test_shmi_flags_barely_depend_on_the_expected_deaths_approximation(qyg):
    """Halving or doubling deaths per episode leaves every 2018/19 SHMI flag unchanged."""
    from icsresearch.plots import funnel_data

    flags = []
    for per_episode in (0.01, 0.02, 0.04):
        table = rp.shmi_funnel_table(qyg, deaths_per_episode=per_episode)
        fa = funnel_data(
            table, numerator="observed_deaths", denominator="expected_deaths", unit="trust_code",
            kind="ratio", target=1.0, scale="log", overdispersion="additive",
        )  # fmt: skip
        flags.append(dict(zip(fa.data["unit"], fa.data["flag"], strict=True)))
    assert flags[0] == flags[1] == flags[2]
    assert len(flags[0]) > 120 and sum(f != "within" for f in flags[0].values()) > 5
