"""One indicator, one definition: what every headline, chart, table and index row measures.

Each :class:`Indicator` names its numerator, denominator, scope (department types, bed types,
organisations) and period, the registry files it comes from in which years, and what "England"
means for it. The panel columns (:mod:`icsresearch.panel.columns`) carry these definitions in
their documentation, and the reports, the batch index and the notebooks compute the system, the
region and England from the same counts with the same rule, so the same system-year never shows
two values.

England is always the **pooled** figure over every NHS trust in the panel that reports the
indicator (the ratio of summed numerators to summed denominators, "all attendances at NHS
trusts"), never a mean of trust percentages; :func:`england_value` computes it.

Sources that measure the same thing differently are kept apart, never spliced:

* A&E 4-hour performance is computed from NHS England's monthly counts (all department types)
  in both eras. The annual ``AE.csv`` share of the Asaria et al. compilation is a different
  quantity (see :data:`AE_COMPILED_FINDING`) and lives in its own column,
  ``ae_4hr_pct_compiled``, used by the replication that needs it.
* Bed occupancy before 2019 is the KH03 quarterly overnight count, all sectors
  (``occupancy_pct``); from 2022/23 it is the daily general & acute SitRep averaged by month
  (``ga_occupancy_pct``).
* The 2012-2018 staff-survey management score and the 2021-2024 wellbeing rates come from
  different questionnaires.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .errors import InvalidParameterError


@dataclass(frozen=True)
class Indicator:
    """The definition of one indicator.

    Attributes
    ----------
    name
        The panel column holding the value (e.g. ``"ae_4hr_pct"``).
    label
        Short label for axes and tables.
    unit
        Unit of the value (``"%"``, ``"per 100 beds"``).
    numerator, denominator
        Panel columns whose weighted sums give the value (value = scale x numerator /
        denominator, pooled over trusts); the descriptions say what each counts.
    scale
        100 for percentages.
    definition
        One paragraph: numerator, denominator, scope and period in words.
    scope
        Which activity or organisations are included (department types, bed types, trusts).
    period
        How the financial-year value is formed from the source's periods.
    sources
        ``{registry name: years}`` the value is computed from.
    completeness
        The panel column saying how complete each indicator-year is.
    higher_is_better
        Direction of improvement (``None`` when neither).
    coverage
        ``(covered, total)`` volume columns: a system's value is published only where
        ``covered / total`` reaches :data:`MIN_SYSTEM_COVERAGE` (a system value built from a
        fraction of its activity describes some of its trusts, not the system).
    england
        What the England figure is.
    """

    name: str
    label: str
    unit: str
    numerator: str
    denominator: str
    scale: float
    definition: str
    scope: str
    period: str
    sources: dict[str, str]
    completeness: str | None
    higher_is_better: bool | None
    coverage: tuple[str, str] | None = None
    england: str = (
        "pooled over every NHS trust reporting the indicator: the sum of numerators over the sum "
        "of denominators"
    )


#: Smallest share (%) of a system's activity that must carry an indicator's counts for the
#: system's value to be published. A trust silent for a whole year removes 15-95% of a system's
#: attendances (2021/22-2022/23, the A&E field-test sites); two silent months remove about 17%
#: (the same trusts in 2023/24, when every system stays above 84%). 80% withholds the first kind.
MIN_SYSTEM_COVERAGE = 80.0


INDICATORS: dict[str, Indicator] = {
    i.name: i
    for i in (
        Indicator(
            name="ae_4hr_pct",
            label="A&E within 4 hours",
            unit="%",
            numerator="ae_within_4hr",
            denominator="ae_4hr_denominator",
            scale=100.0,
            definition=(
                "Share of A&E attendances at the trust's departments (all department types) "
                "admitted, transferred or discharged within 4 hours of arrival: 100 x "
                "(attendances - attendances over 4 hours) / attendances, summed over the months "
                "of the financial year in which the trust reported both counts."
            ),
            scope=(
                "All department types run by the trust: type 1 major emergency departments, type "
                "2 single-specialty departments and type 3/4 minor injury units, urgent "
                "treatment centres and walk-in centres; NHS trusts' own monthly returns."
            ),
            period="financial year (April-March), months summed",
            sources={
                "ae_monthly": "2016/17-2018/19",
                "ae_trust_monthly": "2021/22-2024/25 (monthly to July 2025)",
            },
            completeness="ae_4hr_completeness_pct",
            higher_is_better=True,
            coverage=("ae_4hr_denominator", "ae_attendances"),
            england=(
                "pooled over every NHS trust reporting 4-hour counts: the sum of attendances "
                "within 4 hours over the sum of their attendances (like NHS England's own national "
                "figure, this leaves out the 14 trusts that field-tested new standards and "
                "reported no 4-hour counts until May 2023)"
            ),
        ),
        Indicator(
            name="ga_occupancy_pct",
            label="G&A bed occupancy",
            unit="%",
            numerator="ga_beds_occupied",
            denominator="ga_beds_available",
            scale=100.0,
            definition=(
                "Occupied general & acute beds as a share of available general & acute beds "
                "(adult and paediatric), from the daily SitRep averaged over each month and then "
                "over the months of the financial year."
            ),
            scope="General & acute beds (adult + paediatric) of acute trusts; critical care excluded.",
            period="financial year, mean of the monthly averages of daily counts",
            sources={"beds_trust_monthly": "2022/23-2024/25 (monthly to August 2025)"},
            completeness="ga_beds_completeness_pct",
            higher_is_better=None,
        ),
        Indicator(
            name="ctr_discharged_pct",
            label="Discharged the same day",
            unit="%",
            numerator="ctr_discharged_per_day",
            denominator="ctr_patients_per_day",
            scale=100.0,
            definition=(
                "Of the patients who no longer met the criteria to reside in hospital, the share "
                "discharged that day: mean daily discharges of such patients / mean daily number "
                "of such patients, over the days of the financial year the trust reported."
            ),
            scope="Acute trusts submitting the daily discharge SitRep.",
            period="financial year, mean of daily counts",
            sources={
                "criteria_to_reside_trust": "2022/23-2024/25",
                "discharges_trust_daily": "2022/23-2024/25",
            },
            completeness="ctr_completeness_pct",
            higher_is_better=True,
        ),
        Indicator(
            name="delayed_per_100_ga_beds",
            label="Delayed discharges per 100 occupied G&A beds",
            unit="per 100 beds",
            numerator="ctr_remaining_per_day",
            denominator="ga_beds_occupied",
            scale=100.0,
            definition=(
                "Patients who no longer met the criteria to reside but remained in hospital "
                "(mean per day) per 100 occupied general & acute beds (mean per day), over the "
                "financial year; trusts reporting both."
            ),
            scope="Acute trusts submitting both the discharge and the bed SitRep.",
            period="financial year, means of daily counts",
            sources={
                "criteria_to_reside_trust": "2022/23-2024/25",
                "discharges_trust_daily": "2022/23-2024/25",
                "beds_trust_monthly": "2022/23-2024/25",
            },
            completeness="ctr_completeness_pct",
            higher_is_better=False,
        ),
        Indicator(
            name="staff_burnout_pct",
            label="Staff often or always burnt out",
            unit="%",
            numerator="staff_burnout_n",
            denominator="staff_burnout_base",
            scale=100.0,
            definition=(
                "NHS Staff Survey (2021-2024 questionnaire): respondents who often or always feel "
                "burnt out because of their work, as a share of those answering."
            ),
            scope="Staff of NHS trusts responding to the survey in the autumn of the year.",
            period="survey year = financial-year start (autumn 2021 = 2021/22)",
            sources={"staff_survey_2021_2024": "2021/22-2024/25"},
            completeness=None,
            higher_is_better=False,
        ),
        Indicator(
            name="staff_stress_pct",
            label="Staff unwell from work-related stress",
            unit="%",
            numerator="staff_stress_n",
            denominator="staff_stress_base",
            scale=100.0,
            definition=(
                "NHS Staff Survey (2021-2024 questionnaire): respondents who felt unwell as a "
                "result of work-related stress in the last 12 months, as a share of those answering."
            ),
            scope="Staff of NHS trusts responding to the survey in the autumn of the year.",
            period="survey year = financial-year start",
            sources={"staff_survey_2021_2024": "2021/22-2024/25"},
            completeness=None,
            higher_is_better=False,
        ),
        Indicator(
            name="staff_enough_staff_pct",
            label="Enough staff to do the job properly",
            unit="%",
            numerator="staff_enough_staff_n",
            denominator="staff_enough_staff_base",
            scale=100.0,
            definition=(
                "NHS Staff Survey (2021-2024 questionnaire): respondents who agree or strongly "
                "agree that there are enough staff at their organisation to do their job "
                "properly, as a share of those answering."
            ),
            scope="Staff of NHS trusts responding to the survey in the autumn of the year.",
            period="survey year = financial-year start",
            sources={"staff_survey_2021_2024": "2021/22-2024/25"},
            completeness=None,
            higher_is_better=True,
        ),
    )
}

#: What the annual ``AE.csv`` share of the Asaria et al. compilation is, checked against NHS
#: England's monthly counts (``tests/test_indicators.py`` re-derives these numbers).
AE_COMPILED_FINDING = (
    "AE.csv (AE_SCORE, 'A&E waiting time target met') is not the all-department-types share of "
    "NHS England's monthly counts: it equals that share (both rounded to 2 decimals) for only "
    "45-50% of trust-years in 2016/17-2018/19, is lower for almost all the others (mean gap -1.9, "
    "-2.1 and -3.7 points; up to -71), and matches the type-1 share or any other combination of "
    "department types, single months or quarters even less often. Its construction is not "
    "documented, so it is kept as a separate column (ae_4hr_pct_compiled) for the replication "
    "of Asaria et al. and never mixed with the count-based ae_4hr_pct."
)


def withhold_partial_systems(ics: pd.DataFrame) -> pd.DataFrame:
    """Set a system's value missing where its counts cover too little of its activity.

    Parameters
    ----------
    ics
        An ICS-year panel (system rows holding each indicator's coverage columns).

    Returns
    -------
    pandas.DataFrame
        ``ics`` with, for each indicator that has a ``coverage`` rule, the value missing where
        ``100 x covered / total`` is below :data:`MIN_SYSTEM_COVERAGE` (e.g. Frimley's A&E in
        2022/23, when its main acute trust reported no 4-hour counts); the counts are kept.
    """
    for ind in INDICATORS.values():
        if ind.coverage is None or ind.name not in ics:
            continue
        covered, total = (ics[c].astype(float) for c in ind.coverage)
        share = 100 * covered.fillna(0) / total.where(total > 0)
        ics.loc[share < MIN_SYSTEM_COVERAGE, ind.name] = float("nan")
    return ics


def system_coverage(row: pd.Series | dict, name: str) -> float | None:
    """The share (%) of a system's activity that carries an indicator's counts, or None.

    Parameters
    ----------
    row
        One ICS-year row.
    name
        Indicator name.
    """
    ind = get(name)
    if ind.coverage is None:
        return None
    covered, total = (row.get(c) for c in ind.coverage)
    if total is None or pd.isna(total) or total <= 0:
        return None
    return 100 * (0.0 if covered is None or pd.isna(covered) else float(covered)) / float(total)


def get(name: str) -> Indicator:
    """The definition of indicator ``name``.

    Parameters
    ----------
    name
        A key of :data:`INDICATORS`, e.g. ``"ae_4hr_pct"``.

    Raises
    ------
    InvalidParameterError
        An unknown name; the message lists the known ones.
    """
    try:
        return INDICATORS[name]
    except KeyError:
        raise InvalidParameterError(
            f"No indicator {name!r}; choose from {sorted(INDICATORS)}."
        ) from None


def pooled(rows: pd.DataFrame, name: str, weight: str | None = None) -> float:
    """The pooled value of an indicator over ``rows`` (trust-years), weighted by ``weight``.

    Parameters
    ----------
    rows
        Trust rows holding the indicator's numerator and denominator columns.
    name
        Indicator name.
    weight
        Optional column of trust weights (a trust's share attributed to a system).

    Returns
    -------
    float
        ``scale x sum(w x numerator) / sum(w x denominator)`` over rows reporting both; NaN when
        none do.
    """
    ind = get(name)
    w = rows[weight].astype(float) if weight else pd.Series(1.0, index=rows.index)
    num = rows[ind.numerator].astype(float)
    den = rows[ind.denominator].astype(float)
    both = num.notna() & den.notna() & w.notna()
    d = float((w * den)[both].sum())
    if not both.any() or d <= 0:
        return float("nan")
    return ind.scale * float((w * num)[both].sum()) / d


def england_value(trusts: pd.DataFrame, name: str, year: int) -> float:
    """England in one financial year: the indicator pooled over every trust that reports it.

    Parameters
    ----------
    trusts
        A trust-year panel.
    name
        Indicator name.
    year
        Financial-year start.

    Examples
    --------
    >>> from icsresearch.panel import trust_year_panel
    >>> from icsresearch.indicators import england_value
    >>> round(england_value(trust_year_panel("demo"), "ae_4hr_pct", 2018), 1)  # doctest: +SKIP
    """
    return pooled(trusts[trusts["year"] == year], name)


def describe(name: str) -> str:
    """The definition of an indicator as one Markdown paragraph for reports and notebooks.

    Parameters
    ----------
    name
        Indicator name.
    """
    ind = get(name)
    sources = "; ".join(f"`{k}` {v}" for k, v in ind.sources.items())
    return (
        f"**{ind.label} ({ind.unit}).** {ind.definition} Scope: {ind.scope} "
        f"England: {ind.england}. Sources: {sources}."
    )
