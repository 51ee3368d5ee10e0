"""One indicator, one number: a report's headline, funnel and map agree for every system and year.

The headline comes from the ICS panel, the funnel from the trust panel's counts (pooled over the
system's trusts with their weights) and the map from the ICS panel again; England is the pooled
figure the funnel is centred on. They must be the same number, not merely close.
"""

from __future__ import annotations

import math

import pytest

from icsresearch.indicators import MIN_SYSTEM_COVERAGE
from icsresearch.reports import profile as rp
from icsresearch.reports.params import REPORT_YEARS, validate_report_parameters


def _check_every_system(source: str, footprint: int, method: str, years) -> int:
    codes = rp._frames(source, footprint, method)[0]["icbs"]["icb_code"]
    checked = 0
    for year in years:
        for code in codes:
            params = validate_report_parameters(code, footprint, source, year, method)
            data = rp.load_report_data(params)
            ae_year = rp.ae_year(data)
            headline = rp.indicator_summary(data, "ae_4hr_pct")
            table = rp.ae_funnel_table(data, ae_year)
            funnel = rp.pooled_share(table, "within_4hr", "attendances", "weight")
            tile = rp.ics_values(data, "ae_4hr_pct", ae_year).set_index("icb_code")["value"]
            england = rp.pooled_share(
                table.assign(weight=1.0), "within_4hr", "attendances", "weight"
            )
            assert headline["year"] == ae_year
            if headline["ics"] is None:
                # no A&E trust at all, or too little of the system's activity reported
                assert math.isnan(tile.get(code, math.nan))
                assert math.isnan(funnel) or headline["coverage"] < MIN_SYSTEM_COVERAGE
                continue
            assert headline["ics"] == pytest.approx(funnel, abs=1e-9), (code, year)
            assert headline["ics"] == pytest.approx(tile[code], abs=1e-9), (code, year)
            assert headline["england"] == pytest.approx(england, abs=1e-9), year
            checked += 1
    return checked


def test_demo_headline_funnel_and_map_agree_in_both_footprints():
    assert _check_every_system("demo", 2022, "headquarters", REPORT_YEARS) > 300
    assert _check_every_system("demo", 2026, "catchment", (2017, 2024)) > 60


@pytest.mark.realdata
@pytest.mark.slow
def test_real_headline_funnel_and_map_agree_for_every_system_and_year():
    # 42 systems x 11 years, less the 22 system-years whose A&E field-test trusts were silent
    assert _check_every_system("real", 2022, "headquarters", REPORT_YEARS) >= 42 * 11 - 22
    assert _check_every_system("real", 2022, "ae_activity", (2018, 2024)) >= 84
    assert _check_every_system("real", 2026, "headquarters", (2024,)) == 36
