"""The documented columns of the trust-year and ICS-year panels, and how each one aggregates.

One specification serves three jobs: documentation (label, unit, source, year convention), merging
trust-years that share a code after harmonisation, and building ICS-year figures from trusts. The
demo generator produces exactly these columns, so code written on demo data runs on real data.

Aggregation rules
-----------------
``sum``
    Counts and stocks (FTE, beds, admissions, money): the sum over trusts, each multiplied by the
    trust's ICS weight.
``mean:<weight>`` or ``mean:<weight>|<fallback>``
    Rates and indices (A&E 4-hour %, SHMI, survey scores): the mean weighted by the trust's ICS
    weight x ``<weight>`` (a volume column), over trusts reporting both; where no trust in the
    group reports ``<weight>``, the ``<fallback>`` volume is used instead.
``ratio:<num>/<den>:<scale>``
    Shares recomputed from summed numerators and denominators (x ``scale``), which is exact.
``first``
    Identifiers and attributes that do not aggregate.

Plausible values
----------------
Every numeric column states hard ``bounds`` (from its unit where the unit fixes them: ``%``,
``0-1``, ``1-5`` ...) and, for counts and money, a ``typical`` range. Both are wide enough for an
ICS-year sum, since trust-year and ICS-year panels share the indicator columns. :func:`conform`
(which every panel passes through, cached or not, real or demo) refuses infinities and values
outside the bounds, and warns about values outside the typical range.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._meta import share
from ..errors import IcsResearchError
from ..schemas import unit_bounds

FY = "financial year start (2012 = 2012/13)"


@dataclass(frozen=True)
class PanelColumn:
    """Documentation of one panel column.

    Attributes
    ----------
    name, label, unit, source, year_convention, agg, description
        What the column holds, where it comes from and how it aggregates.
    bounds
        Hard limits ``(lo, hi)``; ``None`` takes them from the unit
        (:func:`icsresearch.schemas.unit_bounds`).
    typical
        The usual range ``(lo, hi)`` (trusts and systems alike); ``None``: no warning range.
    """

    name: str
    label: str
    unit: str
    source: str
    year_convention: str
    agg: str
    description: str = ""
    bounds: tuple[float, float] | None = None
    typical: tuple[float, float] | None = None

    @property
    def limits(self) -> tuple[float, float] | None:
        """The hard limits: ``bounds``, or those of the unit when ``bounds`` is ``None``."""
        return self.bounds if self.bounds is not None else unit_bounds(self.unit)


def _c(
    name,
    label,
    unit,
    source,
    agg,
    description="",
    year_convention=FY,
    *,
    bounds=None,
    typical=None,
) -> PanelColumn:
    return PanelColumn(
        name, label, unit, source, year_convention, agg, description, bounds, typical
    )


# Bounds shared by several columns. Trust-year and ICS-year panels share the indicator columns,
# so the limits hold a system's sum: the largest ICS employs about 180,000 FTE, sees 2.4m A&E
# attendances and 1.5m episodes a year, and has 10,500 beds.
_FTE = {"bounds": (0, 1_000_000)}
_RESPONSES = {"bounds": (0, 10_000_000), "typical": (0, 500_000)}
_A_AND_E_YEAR = {"bounds": (0, 100_000_000), "typical": (0, 10_000_000)}
_RTT = {"bounds": (0, 100_000_000), "typical": (0, 2_000_000)}
_BEDS = {"bounds": (0, 1_000_000), "typical": (0, 50_000)}
_OCCUPANCY = {"bounds": (0, 200), "typical": (0, 110)}
_PER_DAY = {"bounds": (0, 1_000_000), "typical": (0, 20_000)}
_SHMI = {"bounds": (0.2, 3.0), "typical": (0.4, 1.6)}


HM = "hospital_management compilation (Asaria et al. 2022)"
SURVEY_2021 = "NHS Staff Survey organisational results 2021-2024 (NHS-Gender compilation)"
SURVEY_YEAR = "survey in autumn of the financial year"
#: Appended to the source of the columns the lockfile's official releases continue
#: (:mod:`icsresearch.releases.panel`).
LOCKED = "; later years from the official releases a lockfile pins, when there is one"
NOT_SPLICED = (
    "A different questionnaire from the 2012-2018 management items: never splice the two into one "
    "series."
)


def _definition(name: str) -> str:
    from ..indicators import get

    ind = get(name)
    return f"{ind.definition} Scope: {ind.scope}"


ID_COLUMNS = (
    _c(
        "trust_code",
        "Trust",
        "ODS code",
        "NHS ODS",
        "first",
        "Trust code (as reported, or the latest code when harmonised).",
    ),
    _c("trust_name", "Trust name", "", "NHS ODS / providers list", "first"),
    _c(
        "trust_type",
        "Trust type",
        "",
        "providers list; ERIC 2019/20",
        "first",
        "acute non-specialist, acute specialist, mental health, community or ambulance.",
    ),
    _c("region_code", "NHS region", "ODS Y-code", "NHS ODS", "first"),
    _c("region_name", "NHS region name", "", "NHS England", "first"),
    _c(
        "icb_code",
        "ICS (ICB)",
        "ODS code",
        "icsresearch.geography",
        "first",
        "Main ICS of the trust under the chosen footprint and method (largest weight).",
    ),
    _c("icb_name", "ICS name", "", "icsresearch.geography", "first"),
    _c(
        "icb_weight",
        "ICS weight",
        "0-1",
        "icsresearch.geography",
        "first",
        "Share of the trust attributed to its main ICS under the chosen method (1 for headquarters).",
    ),
    _c(
        "year",
        "Financial year",
        "FY start",
        "all",
        "first",
        "Financial year start: 2012 = 2012/13.",
    ),
    _c("fy", "Financial year label", "", "all", "first", "e.g. '2012/13'."),
    _c(
        "data_source",
        "Data source",
        "",
        "icsresearch",
        "first",
        "'published NHS data' or 'synthetic demo data' (fictional organisations).",
    ),
)

INDICATOR_COLUMNS = (
    # workforce
    _c(
        "managers_fte",
        "Managers",
        "FTE",
        f"NHS Digital HCHS workforce via {HM}" + LOCKED,
        "sum",
        "Staff groups 'Manager' + 'Senior manager' (Asaria et al. measure M1).",
        "September census of the financial year",
        **_FTE,
        typical=(0, 20_000),
    ),
    _c(
        "consultants_fte",
        "Consultants",
        "FTE",
        f"NHS Digital HCHS workforce via {HM}" + LOCKED,
        "sum",
        "",
        "September census of the financial year",
        **_FTE,
        typical=(0, 20_000),
    ),
    _c(
        "all_staff_fte",
        "All staff",
        "FTE",
        f"NHS Digital HCHS workforce via {HM}" + LOCKED,
        "sum",
        "Published to 2015/16.",
        "September census of the financial year",
        **_FTE,
        typical=(0, 400_000),
    ),
    _c(
        "nurses_fte",
        "Registered nurses",
        "FTE",
        "NHS Digital HCHS staff by staff group (Sep 2017, Jun 2018)" + LOCKED,
        "sum",
        "Nurses & health visitors (midwives excluded).",
        "census month: Sep 2017 -> 2017/18, Jun 2018 -> 2018/19",
        **_FTE,
        typical=(0, 100_000),
    ),
    _c(
        "doctors_fte",
        "Doctors",
        "FTE",
        "NHS Digital HCHS staff by staff group (Sep 2017, Jun 2018)" + LOCKED,
        "sum",
        "HCHS doctors.",
        "census month: Sep 2017 -> 2017/18, Jun 2018 -> 2018/19",
        **_FTE,
        typical=(0, 50_000),
    ),
    _c(
        "support_fte",
        "Support to clinical staff",
        "FTE",
        "NHS Digital HCHS staff by staff group (Sep 2017, Jun 2018)" + LOCKED,
        "sum",
        "Support to doctors, nurses & midwives (healthcare support workers).",
        "census month: Sep 2017 -> 2017/18, Jun 2018 -> 2018/19",
        **_FTE,
        typical=(0, 80_000),
    ),
    # staff survey
    _c(
        "management_score",
        "Management quality score",
        "0-100",
        f"NHS Staff Survey items 7a-7g, 8a-8d via {HM}",
        "mean:survey_responses",
        "Asaria et al. measure M2: mean item score (1-5) rescaled to 0-100.",
        "survey in autumn of the financial year",
    ),
    _c(
        "immediate_manager_score",
        "Immediate manager score",
        "0-100",
        f"NHS Staff Survey items 7a-7g via {HM}",
        "mean:survey_responses",
        "",
        "survey in autumn of the financial year",
    ),
    _c(
        "senior_manager_score",
        "Senior manager score",
        "0-100",
        f"NHS Staff Survey items 8a-8d via {HM}",
        "mean:survey_responses",
        "",
        "survey in autumn of the financial year",
    ),
    _c(
        "survey_responses",
        "Staff survey responses",
        "count",
        f"NHS Staff Survey via {HM}",
        "sum",
        "Largest number of responses to any management item.",
        "survey in autumn of the financial year",
        **_RESPONSES,
    ),
    _c(
        "staff_engagement",
        "Staff engagement index",
        "1-5",
        "NHS Staff Survey via the NHS-wellbeing compilation",
        "mean:survey_responses",
        "",
        "survey in autumn of the financial year",
    ),
    # performance
    _c(
        "ae_4hr_pct",
        "A&E within 4 hours",
        "%",
        "NHS England monthly A&E returns (ae_monthly 2016/17-2018/19; ae_trust_monthly 2021/22 on)",
        "ratio:ae_within_4hr/ae_4hr_denominator:100",
        _definition("ae_4hr_pct")
        + " Systems: missing where 4-hour counts cover under 80% of the system's attendances "
        "(icsresearch.indicators.MIN_SYSTEM_COVERAGE).",
        "calendar months mapped to the April-March year",
    ),
    _c(
        "ae_within_4hr",
        "A&E attendances within 4 hours",
        "count",
        "NHS England monthly A&E returns",
        "sum",
        "Attendances (all department types) minus attendances over 4 hours from arrival to "
        "admission, transfer or discharge, summed over the months that report both counts.",
        "calendar months mapped to the April-March year",
        **_A_AND_E_YEAR,
    ),
    _c(
        "ae_4hr_denominator",
        "A&E attendances with 4-hour counts",
        "count",
        "NHS England monthly A&E returns",
        "sum",
        "Attendances (all department types) in the months that report attendances over 4 hours: "
        "the denominator of ae_4hr_pct.",
        "calendar months mapped to the April-March year",
        **_A_AND_E_YEAR,
    ),
    _c(
        "ae_attendances",
        "A&E attendances",
        "count",
        "NHS England monthly A&E returns",
        "sum",
        "All department types, summed over the months of the financial year (2016/17-2018/19 "
        "and 2021/22 on; no trust-level file covers April 2019 - March 2021).",
        "calendar months mapped to the April-March year",
        **_A_AND_E_YEAR,
    ),
    _c(
        "ae_4hr_completeness_pct",
        "A&E 4-hour counts reported",
        "%",
        "NHS England monthly A&E returns",
        "mean:ae_attendances",
        "Months of the financial year with both attendance and over-4-hour counts, as a share "
        "of the 12 (trusts field-testing new A&E standards reported no 4-hour counts until May "
        "2023; February and March 2025 are missing for every trust: the compilation repeats "
        "2024's months there). Systems: the trusts' shares weighted by their attendances.",
        "calendar months mapped to the April-March year",
    ),
    _c(
        "ae_4hr_pct_compiled",
        "A&E within 4 hours (Asaria compilation)",
        "%",
        f"AE.csv via {HM}",
        "mean:ae_attendances|admissions",
        "The compilation's annual AE_SCORE x 100, 2012/13-2018/19: not the same quantity as "
        "ae_4hr_pct (see icsresearch.indicators.AE_COMPILED_FINDING); kept for the replication "
        "of Asaria et al. Aggregated weighted by A&E attendances where known, else admissions.",
    ),
    _c(
        "rtt_18wk_pct",
        "RTT within 18 weeks",
        "%",
        f"NHS England RTT via {HM}" + LOCKED,
        "ratio:rtt_within_18wk/rtt_incomplete_pathways:100",
        "Incomplete pathways waiting under 18 weeks.",
        "31 March snapshot at the end of the financial year",
    ),
    _c(
        "rtt_incomplete_pathways",
        "RTT incomplete pathways",
        "count",
        f"NHS England RTT via {HM}" + LOCKED,
        "sum",
        "",
        "31 March snapshot at the end of the financial year",
        **_RTT,
    ),
    _c(
        "rtt_within_18wk",
        "RTT pathways within 18 weeks",
        "count",
        f"NHS England RTT via {HM}" + LOCKED,
        "sum",
        "",
        "31 March snapshot at the end of the financial year",
        **_RTT,
    ),
    _c(
        "shmi",
        "SHMI",
        "ratio",
        f"NHS Digital SHMI via {HM}" + LOCKED,
        "mean:admissions",
        "Summary Hospital-level Mortality Indicator (observed/expected deaths); non-specialist acute trusts only.",
        **_SHMI,
    ),
    _c(
        "shmi_v2",
        "SHMI (second compilation)",
        "ratio",
        "NHS Digital SHMI via the NHS-wellbeing compilation",
        "mean:admissions",
        "Independent compilation with a different reporting window; extends to 2019/20.",
        **_SHMI,
    ),
    # regulator
    _c(
        "cqc_overall_score",
        "CQC overall rating",
        "0-3",
        "CQC ratings (Sep 2018 export and Feb 2019 compilation)",
        "mean:admissions",
        "Trust-level overall rating in force at the end of the financial year: 0 inadequate, 1 requires improvement, 2 good, 3 outstanding. Missing where the two snapshots cannot tell which rating was in force.",
        "rating in force on 31 March at the end of the financial year",
    ),
    _c(
        "cqc_well_led_score",
        "CQC well-led rating",
        "0-3",
        "CQC ratings (Sep 2018 export and Feb 2019 compilation)",
        "mean:admissions",
        "Trust-level 'well-led' key question rating in force at the end of the financial year (0-3).",
        "rating in force on 31 March at the end of the financial year",
    ),
    # capacity
    _c(
        "beds_available",
        "Beds available",
        "beds",
        f"NHS England KH03 via {HM}" + LOCKED,
        "sum",
        "Average available beds.",
        **_BEDS,
    ),
    _c(
        "occupied_beds",
        "Beds occupied",
        "beds",
        f"NHS England KH03 via {HM}" + LOCKED,
        "sum",
        "Beds available x occupancy.",
        **_BEDS,
    ),
    _c(
        "occupancy_pct",
        "Bed occupancy (KH03, all sectors)",
        "%",
        f"NHS England KH03 via {HM}" + LOCKED,
        "ratio:occupied_beds/beds_available:100",
        **_OCCUPANCY,
    ),
    # ICS era: general & acute beds (daily SitRep, monthly averages)
    _c(
        "ga_beds_available",
        "G&A beds available",
        "beds",
        "NHS England bed availability SitRep via healthyr (beds_trust_monthly)",
        "sum",
        "General & acute beds (adult + paediatric) available, mean over the months of the year of "
        "the monthly average of daily counts. A different collection from KH03 beds_available.",
        "calendar months mapped to the April-March year",
        **_BEDS,
    ),
    _c(
        "ga_beds_occupied",
        "G&A beds occupied",
        "beds",
        "NHS England bed availability SitRep via healthyr (beds_trust_monthly)",
        "sum",
        "General & acute beds occupied, mean over the months of the year of the monthly average.",
        "calendar months mapped to the April-March year",
        **_BEDS,
    ),
    _c(
        "ga_occupancy_pct",
        "G&A bed occupancy",
        "%",
        "NHS England bed availability SitRep via healthyr (beds_trust_monthly)",
        "ratio:ga_beds_occupied/ga_beds_available:100",
        _definition("ga_occupancy_pct"),
        "calendar months mapped to the April-March year",
        **_OCCUPANCY,
    ),
    _c(
        "ga_beds_completeness_pct",
        "G&A bed months reported",
        "%",
        "NHS England bed availability SitRep via healthyr (beds_trust_monthly)",
        "mean:ga_beds_available",
        "Months of the financial year with G&A beds reported, as a share of the months the file "
        "covers in that year.",
        "calendar months mapped to the April-March year",
    ),
    # ICS era: discharge (daily SitRep)
    _c(
        "ctr_patients_per_day",
        "No longer meeting the criteria to reside",
        "patients per day",
        "NHS England discharge SitRep via healthyr (criteria_to_reside_trust)",
        "sum",
        "Mean daily number of patients who no longer met the criteria to reside in hospital, over "
        "the days of the financial year the trust reported.",
        "days mapped to the April-March year",
        **_PER_DAY,
    ),
    _c(
        "ctr_discharged_per_day",
        "Discharged of those",
        "patients per day",
        "NHS England discharge SitRep via healthyr (discharges_trust_daily)",
        "sum",
        "Mean daily number of those patients discharged that day (by 17:00 and 17:01-23:59).",
        "days mapped to the April-March year",
        **_PER_DAY,
    ),
    _c(
        "ctr_remaining_per_day",
        "Delayed in hospital",
        "patients per day",
        "NHS England discharge SitRep via healthyr",
        "sum",
        "Mean daily number who no longer met the criteria to reside and were not discharged that "
        "day (not meeting the criteria - discharged), over days reporting both.",
        "days mapped to the April-March year",
        **_PER_DAY,
    ),
    _c(
        "ctr_discharged_pct",
        "Discharged the same day",
        "%",
        "NHS England discharge SitRep via healthyr",
        "ratio:ctr_discharged_per_day/ctr_patients_per_day:100",
        _definition("ctr_discharged_pct"),
        "days mapped to the April-March year",
    ),
    _c(
        "delayed_per_100_ga_beds",
        "Delayed discharges per 100 occupied G&A beds",
        "per 100 beds",
        "NHS England discharge and bed SitReps via healthyr",
        "ratio:ctr_remaining_per_day/ga_beds_occupied:100",
        _definition("delayed_per_100_ga_beds"),
        "days mapped to the April-March year",
        bounds=(0, 1000),
        typical=(0, 100),
    ),
    _c(
        "ctr_completeness_pct",
        "Discharge days reported",
        "%",
        "NHS England discharge SitRep via healthyr (criteria_to_reside_trust)",
        "mean:ctr_patients_per_day",
        "Days of the financial year with a discharge return, as a share of the days the file "
        "covers in that year.",
        "days mapped to the April-March year",
    ),
    # ICS era: staff wellbeing (NHS Staff Survey 2021-2024 questionnaire)
    *(
        col
        for stem, label in (
            ("burnout", "Staff often or always burnt out"),
            ("stress", "Staff unwell from work-related stress"),
            ("enough_staff", "Enough staff to do the job properly"),
        )
        for col in (
            _c(
                f"staff_{stem}_pct",
                label,
                "%",
                SURVEY_2021,
                f"ratio:staff_{stem}_n/staff_{stem}_base:100",
                _definition(f"staff_{stem}_pct") + " " + NOT_SPLICED,
                SURVEY_YEAR,
            ),
            _c(
                f"staff_{stem}_n",
                f"{label}: respondents",
                "count",
                SURVEY_2021,
                "sum",
                "Respondents giving that answer (published rate x base).",
                SURVEY_YEAR,
                **_RESPONSES,
            ),
            _c(
                f"staff_{stem}_base",
                f"{label}: base",
                "count",
                SURVEY_2021,
                "sum",
                "Respondents answering the question.",
                SURVEY_YEAR,
                **_RESPONSES,
            ),
        )
    ),
    _c(
        "staff_wellbeing_respondents",
        "Staff survey respondents (2021 questionnaire)",
        "count",
        SURVEY_2021,
        "sum",
        "Respondents to the 2021-2024 survey at the organisation.",
        SURVEY_YEAR,
        **_RESPONSES,
    ),
    # finance (GBP m)
    _c(
        "financial_position_gbp_m",
        "Net financial position",
        "GBP m",
        f"NHS Improvement accounts via {HM}",
        "sum",
        "Surplus (+) or deficit (-).",
        bounds=(-100_000, 100_000),
        typical=(-2_000, 2_000),
    ),
    _c(
        "operating_income_gbp_m",
        "Operating income",
        "GBP m",
        f"NHS Improvement accounts via {HM}",
        "sum",
        bounds=(0, 1_000_000),
        typical=(0, 50_000),
    ),
    _c(
        "operating_cost_gbp_m",
        "Operating cost",
        "GBP m",
        f"NHS Improvement accounts via {HM}",
        "sum",
        "Published as negative; shown positive.",
        bounds=(0, 1_000_000),
        typical=(0, 50_000),
    ),
    # activity and casemix
    _c(
        "admissions",
        "Admissions (episodes)",
        "count",
        f"NHS Digital HES via {HM}",
        "sum",
        "HES finished consultant episodes (TOTAL_EPISODES), the Asaria et al. admissions outcome.",
        bounds=(0, 1_000_000_000),
        typical=(0, 10_000_000),
    ),
    _c(
        "female_pct",
        "Female admissions",
        "%",
        f"NHS Digital HES via {HM}",
        "mean:admissions",
        "round(female/episodes, 2) x 100, as Asaria et al.",
    ),
    _c(
        "age_0_14_pct",
        "Admissions aged 0-14",
        "%",
        f"NHS Digital HES via {HM}",
        "mean:admissions",
        "Share of the seven age bands, round(band/sum, 2) x 100.",
    ),
    _c(
        "age_15_29_pct",
        "Admissions aged 15-29",
        "%",
        f"NHS Digital HES via {HM}",
        "mean:admissions",
    ),
    _c(
        "age_30_44_pct",
        "Admissions aged 30-44",
        "%",
        f"NHS Digital HES via {HM}",
        "mean:admissions",
    ),
    _c(
        "age_45_59_pct",
        "Admissions aged 45-59",
        "%",
        f"NHS Digital HES via {HM}",
        "mean:admissions",
    ),
    _c(
        "age_60_74_pct",
        "Admissions aged 60-74",
        "%",
        f"NHS Digital HES via {HM}",
        "mean:admissions",
    ),
    _c(
        "age_75_89_pct",
        "Admissions aged 75-89",
        "%",
        f"NHS Digital HES via {HM}",
        "mean:admissions",
    ),
    _c(
        "age_90_plus_pct",
        "Admissions aged 90+",
        "%",
        f"NHS Digital HES via {HM}",
        "mean:admissions",
    ),
)

TRUST_YEAR_COLUMNS = ID_COLUMNS + INDICATOR_COLUMNS

ICS_ID_COLUMNS = (
    _c("icb_code", "ICS (ICB)", "ODS code", "icsresearch.geography", "first"),
    _c("icb_name", "ICS name", "", "icsresearch.geography", "first"),
    _c("short_name", "ICS short name", "", "icsresearch.geography", "first"),
    _c("region_code", "NHS region", "ODS Y-code", "icsresearch.geography", "first"),
    _c("region_name", "NHS region name", "", "NHS England", "first"),
    _c("year", "Financial year", "FY start", "all", "first"),
    _c("fy", "Financial year label", "", "all", "first"),
    _c(
        "n_trusts",
        "Trusts",
        "count",
        "icsresearch.geography",
        "first",
        "Trusts with a positive weight in the ICS that year.",
        bounds=(0, 1_000),
    ),
    _c(
        "data_source",
        "Data source",
        "",
        "icsresearch",
        "first",
        "'published NHS data' or 'synthetic demo data' (fictional organisations).",
    ),
)

ICS_COVARIATES = (
    _c(
        "population",
        "Population",
        "people",
        "ONS mid-2019 LSOA estimates",
        "first",
        "Resident population (mid-2019), all years.",
        "mid-2019",
        bounds=(0, 60_000_000),
        typical=(0, 10_000_000),
    ),
    _c(
        "imd2019_mean_rank",
        "IMD 2019 mean rank",
        "rank (1 = most deprived of 32,844)",
        "MHCLG IMD 2019",
        "first",
        "Population-weighted mean of LSOA IMD ranks.",
        "IMD 2019",
        bounds=(1, 32_844),
    ),
    _c(
        "imd2019_most_deprived_pct",
        "In most deprived decile",
        "%",
        "MHCLG IMD 2019",
        "first",
        "Share of the population living in LSOAs of national IMD decile 1.",
        "IMD 2019",
    ),
    _c(
        "imd2025_average_score",
        "IMD 2025 average score",
        "score (higher = more deprived)",
        "MHCLG IMD 2025",
        "first",
        "ICB average score; for 2026 boards, the population-weighted mean of the parts.",
        "IMD 2025",
        bounds=(0, 100),
    ),
    _c(
        "imd2025_most_deprived_lsoa_pct",
        "LSOAs in the most deprived tenth (IMD 2025)",
        "% of LSOAs",
        "MHCLG IMD 2025 by LSOA (2021) and the ONS LSOA (2021) -> ICB (2024) lookup",
        "first",
        "Share of the system's 2021 LSOAs in national IMD 2025 decile 1 (MHCLG's LSOA-count "
        "measure; it equals the published ICB summary for the 42 ICBs). For 2026 boards, the "
        "2021 LSOAs of their parts.",
        "IMD 2025",
        bounds=(0, 100),
    ),
    _c(
        "health_index_2021",
        "ONS Health Index 2021",
        "index (England 2015 = 100)",
        "ONS Health Index for England by ICB (health_index_icb)",
        "first",
        "Overall Health Index score, calendar year 2021; missing for 2026 boards that are not a "
        "2022 ICB (the index is not additive across areas).",
        "calendar year 2021",
        bounds=(0, 300),
        typical=(70, 130),
    ),
)

ICS_YEAR_COLUMNS = ICS_ID_COLUMNS + ICS_COVARIATES + INDICATOR_COLUMNS


def docs(columns=TRUST_YEAR_COLUMNS) -> pd.DataFrame:
    """The column documentation as a table.

    Parameters
    ----------
    columns
        Column specifications: ``TRUST_YEAR_COLUMNS`` (default) or ``ICS_YEAR_COLUMNS``.

    Returns
    -------
    pandas.DataFrame
        column, label, unit, source, year_convention, aggregation, description, bounds (hard
        limits, ``None`` for text) and typical (the usual range, where stated).

    Examples
    --------
    >>> from icsresearch.panel import docs
    >>> docs().set_index("column").loc["rtt_18wk_pct", "unit"]
    '%'
    """
    return pd.DataFrame(
        [
            (
                c.name,
                c.label,
                c.unit,
                c.source,
                c.year_convention,
                c.agg,
                c.description,
                c.limits,
                c.typical,
            )
            for c in columns
        ],
        columns=[
            "column",
            "label",
            "unit",
            "source",
            "year_convention",
            "aggregation",
            "description",
            "bounds",
            "typical",
        ],
    )


def attrs_for(columns) -> dict:
    """Column documentation in the form stored in ``DataFrame.attrs["columns"]``.

    Numeric columns also carry ``bounds`` and, where stated, ``typical`` as ``[lo, hi]`` lists
    (lists, so that they read back the same from a cached panel's JSON metadata).
    """
    out = {}
    for c in columns:
        entry = {
            "label": c.label,
            "unit": c.unit,
            "source": c.source,
            "year_convention": c.year_convention,
            "aggregation": c.agg,
            "description": c.description,
        }
        if c.name not in TEXT_COLUMNS and c.limits is not None:
            entry["bounds"] = [float(v) for v in c.limits]
        if c.typical is not None:
            entry["typical"] = [float(v) for v in c.typical]
        out[c.name] = entry
    return out


#: Columns that hold text; every other panel column is numeric (float64, ``year``/``n_trusts`` int64).
TEXT_COLUMNS = frozenset(
    {
        "trust_code",
        "trust_name",
        "trust_type",
        "region_code",
        "region_name",
        "icb_code",
        "icb_name",
        "short_name",
        "fy",
        "data_source",
    }
)
INT_COLUMNS = frozenset({"year", "n_trusts"})


def check_values(df: pd.DataFrame, columns) -> None:
    """Refuse infinities and values outside each column's bounds; warn outside its typical range.

    Parameters
    ----------
    df
        A panel (trust-year or ICS-year).
    columns
        Its column specifications.

    Raises
    ------
    IcsResearchError
        A value is infinite or outside its column's hard bounds: the readers refuse such values
        in their files, so the panel was damaged after it was built (a cached copy) or built
        wrongly.

    Warns
    -----
    UserWarning
        Values outside a column's typical range (they are kept).
    """
    keys = [k for k in ("trust_code", "icb_code", "year") if k in df.columns]
    for c in columns:
        if c.name in TEXT_COLUMNS or c.name not in df.columns:
            continue
        values = pd.to_numeric(df[c.name], errors="coerce").astype("float64")
        outside = pd.Series(np.isinf(values.to_numpy()), index=df.index)
        limits = c.limits
        if limits is not None:
            # weighted means of shares can land a rounding error beyond 100
            slack = 1e-9 * max(abs(limits[0]), abs(limits[1]), 1.0)
            outside |= (values < limits[0] - slack) | (values > limits[1] + slack)
        unit = f", {c.unit}" if c.unit else ""
        if outside.any():
            span = (
                f"{limits[0]:,.10g} to {limits[1]:,.10g}"
                if limits is not None
                else "finite numbers"
            )
            raise IcsResearchError(
                f"panel column {c.name!r} ({c.label}{unit}) has {int(outside.sum())} value(s) "
                f"outside the possible range {span} ({_rows(df, values, outside, keys)}).\n"
                "  Fix: the readers refuse such values, so the panel was damaged after it was "
                "built: rebuild it without the cache (cache=False, or `icsresearch data verify`); "
                "if it persists, report it as a bug."
            )
        if c.typical is not None:
            unusual = (values < c.typical[0]) | (values > c.typical[1])
            if unusual.any():
                warnings.warn(
                    f"panel column {c.name!r} ({c.label}{unit}) has {int(unusual.sum())} value(s) "
                    f"outside the usual range {c.typical[0]:,.10g} to {c.typical[1]:,.10g} "
                    f"({_rows(df, values, unusual, keys)}); check them before use.",
                    UserWarning,
                    stacklevel=4,
                )


def _rows(df: pd.DataFrame, values: pd.Series, mask: pd.Series, keys: list[str]) -> str:
    shown = []
    for i in df.index[mask.to_numpy()][:5]:
        where = ", ".join(f"{k}={_plain(df.at[i, k])!r}" for k in keys)
        shown.append(f"{where}: {values.at[i]:g}")
    return "; ".join(shown)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def conform(df: pd.DataFrame, columns) -> pd.DataFrame:
    """Order columns as documented and give each one its documented type (real and demo alike).

    Every value is checked against its column's bounds (:func:`check_values`).
    """
    attrs = df.attrs
    out = pd.DataFrame(index=df.index)
    for c in columns:
        values = df[c.name] if c.name in df else pd.Series(float("nan"), index=df.index)
        if c.name in TEXT_COLUMNS:
            out[c.name] = values.astype("str")  # pandas keeps missing values missing
        elif c.name in INT_COLUMNS:
            out[c.name] = values.astype("int64")
        else:
            out[c.name] = pd.to_numeric(values, errors="coerce").astype("float64")
    out = out.reset_index(drop=True)
    check_values(out, columns)
    out.attrs = share(attrs)
    return out
