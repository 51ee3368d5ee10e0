"""Trust-year and ICS-year panels on the real data: checks against independent reads of the files."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pandas as pd
import pytest

from icsresearch import geography
from icsresearch.data.store import use_source_dir
from icsresearch.panel import ae_monthly, ics_year_panel, trust_year_panel

pytestmark = pytest.mark.realdata


def _raw(mirror, name):
    with open(mirror / "hospital_management/data/csv" / name, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def panel():
    return trust_year_panel("real")


def test_one_row_per_trust_year_and_documented_columns(panel):
    assert not panel.duplicated(["trust_code", "year"]).any()
    assert panel["year"].min() == 2012 and panel["year"].max() == 2024
    assert 2020 not in set(panel["year"])  # no file covers 2020/21: no trust-year rows
    docs = panel.ics.docs
    assert list(docs.index) == list(panel.columns)
    assert {"label", "unit", "source", "year_convention", "aggregation"} <= set(docs.columns)
    assert panel.ics.label("ae_4hr_pct") == "A&E within 4 hours (%)"
    prov = panel.ics.provenance
    assert prov.synthetic is False and panel.ics.synthetic is False
    assert prov.git_revision and prov.environment["pandas"]
    assert {i.source for i in prov.inputs} >= {"hm_managers", "hm_shmi", "hm_staff_survey"}
    assert all(len(i.sha256) == 64 and i.verified for i in prov.inputs)
    assert prov.parameters["footprint"] == 2022 and prov.parameters["harmonise_to"] == "as_reported"
    assert (panel["data_source"] == "published NHS data").all()
    assert "published NHS data" in panel.ics.source_note


def test_acute_trust_counts_per_year_match_the_sources(mirror, panel):
    """Acute non-specialist trusts with managers data each year = raw managers file x providers list."""
    listed = {r["ORG_CODE"].strip(): r for r in _raw(mirror, "nhs_provider.csv")}
    providers = {
        c for c, r in listed.items() if r["ORG_TYPE"] == "Acute" and r["SPECIALIST"] == "FALSE"
    }
    managers = _raw(mirror, "managers_simple_def.csv")
    acute = panel[panel["trust_type"] == "acute non-specialist"]
    for year in range(2012, 2019):
        expected = {r["ORG_CODE"].strip() for r in managers if int(r["YEAR"]) == year} & providers
        got = set(acute.loc[(acute["year"] == year) & acute["managers_fte"].notna(), "trust_code"])
        assert expected <= got, year
        # The only extras are trusts formed after the 2018 providers list (typed from ERIC 2019/20),
        # such as Manchester University NHS FT (R0A, October 2017).
        assert not (got - expected) & set(listed), year
    assert "R0A" in set(acute.loc[acute["year"] == 2018, "trust_code"])


def test_values_trace_back_to_the_published_files(mirror, panel):
    p = panel.set_index(["trust_code", "year"])
    for r in _raw(mirror, "shmi.csv")[::40]:
        key = (r["ORG_CODE"].strip(), int(r["YEAR"]))
        if key in p.index:
            assert p.loc[key, "shmi"] == pytest.approx(float(r["SHMI"]))
    for r in _raw(mirror, "financial_positions.csv")[::60]:
        key = (r["ORG_CODE"].strip(), int(r["YEAR"]))
        if key in p.index and r["OP_COST"] not in ("", "0"):
            assert p.loc[key, "operating_cost_gbp_m"] == pytest.approx(-float(r["OP_COST"]) / 1000)
    # Management score: Asaria et al.'s formula computed here independently from the raw items.
    rows = [
        r
        for r in _raw(mirror, "NHS_SS_management.csv")
        if r["ORG_CODE"].strip() == "RA2" and r["YEAR"] == "2016"
    ]
    items = []
    for q in ("7a", "7b", "7c", "7d", "7e", "7f", "7g", "8a", "8b", "8c", "8d"):
        vals = [rows[0][f"{q}_{k}"] for k in ("SD", "D", "NAND", "A", "SA")]
        if "NA" not in vals:
            items.append(sum((i + 1) * float(v) for i, v in enumerate(vals)) / 100)
    assert p.loc[("RA2", 2016), "management_score"] == pytest.approx(
        round((np.mean(items) - 1) / 4 * 100, 1)
    )


def test_trust_type_filter_and_harmonisation(panel):
    acute = trust_year_panel("real", trust_types=["acute non-specialist"])
    assert set(acute["trust_type"]) == {"acute non-specialist"}
    assert len(acute) == (panel["trust_type"] == "acute non-specialist").sum()
    latest = trust_year_panel("real", harmonise_to="latest")
    assert not latest.duplicated(["trust_code", "year"]).any()
    # Manchester: RM2 and RW3 merged into R0A (October 2017); harmonised 2016 managers are their sum.
    asr = panel.set_index(["trust_code", "year"])["managers_fte"]
    expected = sum(asr.get((c, 2016), 0) for c in ("RM2", "RW3", "R0A"))
    assert latest.set_index(["trust_code", "year"]).loc[
        ("R0A", 2016), "managers_fte"
    ] == pytest.approx(expected)
    assert {"RM2", "RW3"} <= {m["old_code"] for m in latest.attrs["code_mapping"]}
    assert "RM2" not in set(latest["trust_code"])


def test_ics_year_panel_sums_and_weighted_means(panel):
    ics = ics_year_panel("real")
    assert len(ics) == 42 * 13 and not ics.duplicated(["icb_code", "year"]).any()  # 2012-2024
    one = panel[(panel["icb_code"] == "QYG") & (panel["year"] == 2016)]
    row = ics[(ics["icb_code"] == "QYG") & (ics["year"] == 2016)].iloc[0]
    assert row["managers_fte"] == pytest.approx(one["managers_fte"].sum())
    both = one.dropna(subset=["shmi", "admissions"])
    assert row["shmi"] == pytest.approx(np.average(both["shmi"], weights=both["admissions"]))
    rtt = one.dropna(subset=["rtt_within_18wk", "rtt_incomplete_pathways"])
    assert row["rtt_18wk_pct"] == pytest.approx(
        100 * rtt["rtt_within_18wk"].sum() / rtt["rtt_incomplete_pathways"].sum()
    )
    assert ics.groupby("year")["population"].sum().iloc[0] == 56_286_961
    sources = {i.source for i in ics.ics.provenance.inputs}
    assert {"hm_managers", "hm_shmi", "population_lsoa", "imd2019_lsoa"} <= sources


@pytest.mark.parametrize("method", ["catchment", "ae_activity"])
def test_apportioned_ics_totals_conserve_the_trust_totals(panel, method):
    """With weights summing to 1 per trust, apportioned managers add up to the national total."""
    ics = ics_year_panel("real", method=method, footprint=2026)
    assert ics["icb_code"].nunique() == 36
    for year in (2013, 2017):
        national = panel.loc[panel["year"] == year, "managers_fte"].sum()
        assert ics.loc[ics["year"] == year, "managers_fte"].sum() == pytest.approx(national)


def test_monthly_ae_by_trust_and_ics():
    trust = ae_monthly("real")
    # 36 months of 2016-2019 and 52 of 2021-2025, nothing between
    assert trust["period"].min() == pd.Timestamp("2016-04-01") and trust["period"].nunique() == 88
    ics = ae_monthly("real", level="ics", footprint=2026)
    assert ics["icb_code"].nunique() == 36
    month = pd.Timestamp("2018-01-01")
    assert ics.loc[ics["period"] == month, "attendances"].sum() == pytest.approx(
        trust.loc[trust["period"] == month, "attendances"].sum()
    )
    assert ics["within_4hr_pct"].dropna().between(0, 100).all()


def test_cache_rebuilds_when_an_input_changes(mirror, tmp_path):
    from icsresearch.panel._cache import cache_path, cache_stem

    params = {
        "source": "real",
        "footprint": 2022,
        "method": "headquarters",
        "harmonise_to": "as_reported",
    }
    before = cache_path("trust_year", params)
    assert before is not None and before.is_file()
    stem = cache_stem("trust_year", params)
    # A user brings a revised SHMI file: same layout, one value changed.
    revised = tmp_path / "revised"
    revised.mkdir()
    shutil.copyfile(mirror / "hospital_management/data/csv/shmi.csv", revised / "shmi.csv")
    text = (revised / "shmi.csv").read_text()
    (revised / "shmi.csv").write_text(text.replace("2012,RA2,0.9447", "2012,RA2,1.5000"))
    with use_source_dir(revised):
        assert cache_stem("trust_year", params) != stem  # another key: the panel is rebuilt
        with pytest.warns(UserWarning, match="hm_shmi"):  # (once per process per file)
            rebuilt = trust_year_panel("real")
        after = cache_path("trust_year", params)
    assert after is not None and after != before and before.is_file()
    assert rebuilt.set_index(["trust_code", "year"]).loc[("RA2", 2012), "shmi"] == 1.5
    assert any(i.source == "hm_shmi" and not i.verified for i in rebuilt.ics.provenance.inputs)
    assert trust_year_panel("real").set_index(["trust_code", "year"]).loc[
        ("RA2", 2012), "shmi"
    ] == pytest.approx(0.9447)


def test_demo_panels_have_exactly_the_real_schema(panel):
    demo = trust_year_panel("demo")
    assert list(demo.columns) == list(panel.columns)
    assert (demo.dtypes == panel.dtypes).all()
    assert demo["year"].min() == panel["year"].min() and demo["year"].max() == panel["year"].max()
    real_ics, demo_ics = ics_year_panel("real"), ics_year_panel("demo")
    assert (
        list(demo_ics.columns) == list(real_ics.columns)
        and (demo_ics.dtypes == real_ics.dtypes).all()
    )
    # Every indicator published for a year in the real panel is present that year in the demo.
    for col in (
        "managers_fte",
        "nurses_fte",
        "shmi",
        "shmi_v2",
        "all_staff_fte",
        "cqc_overall_score",
    ):
        real_years = set(panel.loc[panel[col].notna(), "year"])
        demo_years = set(demo.loc[demo[col].notna(), "year"])
        assert demo_years == real_years, col


def test_real_trusts_sit_in_the_chosen_footprint(panel):
    p26 = trust_year_panel("real", footprint=2026)
    assert set(p26["icb_code"].dropna()) <= set(geography.icbs(2026)["icb_code"])
    assert (
        p26.loc[p26["trust_code"] == "RDU", "icb_code"].iloc[0] == "S9B9J"
    )  # Frimley Health, Camberley


def test_ics_ae_shares_pool_counts_and_the_compilation_is_weighted(panel):
    """The A&E share pools counts; the compiled annual share is weighted by attendances, else
    admissions (2012/13-2015/16), as before."""
    ics = ics_year_panel("real")
    one = panel[(panel["icb_code"] == "QKS") & (panel["year"] == 2017)]
    row = ics[(ics["icb_code"] == "QKS") & (ics["year"] == 2017)].iloc[0]
    counted = one.dropna(subset=["ae_within_4hr", "ae_4hr_denominator"])
    assert row["ae_4hr_pct"] == pytest.approx(
        100 * counted["ae_within_4hr"].sum() / counted["ae_4hr_denominator"].sum()
    )
    compiled = one.dropna(subset=["ae_4hr_pct_compiled", "ae_attendances"])
    assert row["ae_4hr_pct_compiled"] == pytest.approx(
        np.average(compiled["ae_4hr_pct_compiled"], weights=compiled["ae_attendances"])
    )
    assert row["ae_attendances"] == pytest.approx(one["ae_attendances"].sum())
    early = panel[(panel["icb_code"] == "QKS") & (panel["year"] == 2013)].dropna(
        subset=["ae_4hr_pct_compiled", "admissions"]
    )
    row13 = ics[(ics["icb_code"] == "QKS") & (ics["year"] == 2013)].iloc[0]
    assert row13["ae_4hr_pct_compiled"] == pytest.approx(
        np.average(early["ae_4hr_pct_compiled"], weights=early["admissions"])
    )
    assert np.isnan(row13["ae_4hr_pct"])  # no monthly counts before April 2016
