"""One indicator, one definition: the definitions, the pooled England figure, and what AE.csv is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from icsresearch import indicators
from icsresearch.errors import InvalidParameterError
from icsresearch.panel.columns import ICS_YEAR_COLUMNS, TRUST_YEAR_COLUMNS


def test_every_indicator_is_a_ratio_of_documented_panel_columns():
    by_name = {c.name: c for c in TRUST_YEAR_COLUMNS}
    ics_names = {c.name for c in ICS_YEAR_COLUMNS}
    for ind in indicators.INDICATORS.values():
        col = by_name[ind.name]
        # the panel aggregates the value exactly as the definition says: a ratio of sums
        assert col.agg == f"ratio:{ind.numerator}/{ind.denominator}:{ind.scale:g}", ind.name
        for part in (ind.numerator, ind.denominator):
            assert by_name[part].agg == "sum" and part in ics_names, part
        if ind.completeness is not None:
            assert ind.completeness in by_name and ind.completeness in ics_names
        # the column documentation carries the definition
        assert ind.definition in col.description
        assert ind.sources and ind.scope and ind.period


def test_pooled_is_the_ratio_of_weighted_sums_not_a_mean_of_rates():
    rows = pd.DataFrame(
        {
            "ae_within_4hr": [90.0, 10.0, np.nan, 50.0],
            "ae_4hr_denominator": [100.0, 100.0, 100.0, np.nan],
            "w": [1.0, 0.5, 1.0, 1.0],
        }
    )
    # rows 3 and 4 lack a numerator or a denominator and are left out
    assert indicators.pooled(rows, "ae_4hr_pct") == pytest.approx(100 * 100 / 200)
    assert indicators.pooled(rows, "ae_4hr_pct", weight="w") == pytest.approx(100 * 95 / 150)
    assert np.isnan(indicators.pooled(rows.iloc[2:], "ae_4hr_pct"))


def test_england_is_pooled_over_every_reporting_trust_of_the_year():
    trusts = pd.DataFrame(
        {
            "year": [2023, 2023, 2024],
            "ga_beds_occupied": [90.0, 300.0, 10.0],
            "ga_beds_available": [100.0, 400.0, 10.0],
        }
    )
    assert indicators.england_value(trusts, "ga_occupancy_pct", 2023) == pytest.approx(78.0)


def test_describe_and_unknown_names():
    text = indicators.describe("ae_4hr_pct")
    assert "all department types" in text.lower() and "`ae_trust_monthly`" in text
    with pytest.raises(InvalidParameterError, match="ae_4hr_pct"):
        indicators.get("ae_4hr")


@pytest.mark.realdata
def test_what_the_compiled_annual_ae_share_is(mirror):
    """Re-derive AE_COMPILED_FINDING from the two raw files, read independently of the readers."""
    import pyreadr

    ae = pd.read_csv(mirror / "hospital_management/data/csv/AE.csv", encoding="utf-8-sig")
    ae.columns = [c.strip() for c in ae.columns]
    ae["org"] = ae["ORG_CODE"].str.strip().str.removesuffix("-X")
    m = pyreadr.read_r(str(mirror / "NHSRdatasets/data/ae_attendances.rda"))["ae_attendances"]
    m["period"] = pd.to_datetime(m["period"])
    m["fy"] = m["period"].dt.year - (m["period"].dt.month < 4)
    m["org"] = m["org_code"].astype(str)
    agree, gaps = {}, {}
    for fy in (2016, 2017, 2018):
        mm = m[m["fy"] == fy]
        sums = mm.groupby("org")[["attendances", "breaches"]].sum()
        all_types = 1 - sums["breaches"] / sums["attendances"]
        t1 = mm[mm["type"] == "1"].groupby("org")[["attendances", "breaches"]].sum()
        type1 = 1 - t1["breaches"] / t1["attendances"]
        a = ae[ae["YEAR"] == fy].set_index("org")["AE_SCORE"]
        j = pd.concat([a, all_types.rename("all")], axis=1, join="inner")
        agree[fy] = (j["AE_SCORE"] == j["all"].round(2)).mean()
        gaps[fy] = 100 * (j["AE_SCORE"] - j["all"].round(2))
        jt = pd.concat([a, type1.rename("t1")], axis=1, join="inner")
        assert (jt["AE_SCORE"] == jt["t1"].round(2)).mean() < 0.35  # not the type-1 share either
    assert all(0.44 < v < 0.51 for v in agree.values()), agree
    assert [round(float(g.mean()), 1) for g in gaps.values()] == [-1.9, -2.1, -3.7]
    assert min(float(g.min()) for g in gaps.values()) == pytest.approx(-71)
    assert max(float(g.max()) for g in gaps.values()) <= 2 + 1e-9  # hardly ever above
    assert "45-50%" in indicators.AE_COMPILED_FINDING  # the documented finding quotes these


def test_a_system_value_built_from_a_fraction_of_its_activity_is_withheld():
    ics = pd.DataFrame(
        {
            "ae_4hr_pct": [99.1, 71.0, 65.0],
            "ae_4hr_denominator": [5_000.0, 90_000.0, np.nan],
            "ae_attendances": [100_000.0, 100_000.0, 50_000.0],
        }
    )
    out = indicators.withhold_partial_systems(ics.copy())
    # 5% and 0% coverage are withheld; 90% is kept; the counts stay as they were
    assert out["ae_4hr_pct"].isna().tolist() == [True, False, True]
    assert out["ae_4hr_denominator"].equals(ics["ae_4hr_denominator"])
    assert indicators.system_coverage(ics.iloc[0], "ae_4hr_pct") == pytest.approx(5.0)
    assert indicators.system_coverage(ics.iloc[2], "ae_4hr_pct") == 0.0
    assert indicators.system_coverage(ics.iloc[0], "ga_occupancy_pct") is None
