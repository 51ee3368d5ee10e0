"""Financial-year figures from trust-month tables: the panel's monthly-based columns.

The annual A&E, G&A bed, discharge-delay and staff-wellbeing columns of the trust-year panel
are computed from trust-month counts (or survey counts) by these functions, for the published
files and the demo's tables alike, so the annual panel is always the sum of the monthly series.
"""

from __future__ import annotations

import pandas as pd


def _year_extent(periods: pd.Series, freq: str) -> pd.Series:
    """Periods (months or days) the file covers in each financial year, between its first and last."""
    if freq == "D":
        span = pd.date_range(periods.min(), periods.max(), freq="D")
    else:
        span = pd.date_range(periods.min(), periods.max(), freq="MS")
    span = pd.Series(span)
    return span.groupby(span.dt.year - (span.dt.month < 4)).size()


def ae_annual(months: pd.DataFrame) -> pd.DataFrame:
    """Trust-months of A&E counts -> the panel's A&E columns per trust and financial year.

    Parameters
    ----------
    months
        ``trust_code, period, year, attendances, over_4hr`` (all department types).

    Returns
    -------
    pandas.DataFrame
        ``trust_code, year, ae_attendances, ae_within_4hr, ae_4hr_denominator, ae_4hr_pct,
        ae_4hr_completeness_pct``: sums over the months of the year; the 4-hour share uses the
        months that report both counts, and the completeness column is the share of the year's
        months that do (a month published as a copy of another, and so set missing, counts as
        not reported).
    """
    timed = months["over_4hr"].notna() & months["attendances"].notna()
    m = months.assign(
        _den=months["attendances"].where(timed),
        _within=(months["attendances"] - months["over_4hr"]).where(timed),
        _timed=timed,
    )
    g = m.groupby(["trust_code", "year"], as_index=False)
    out = g.agg(
        ae_attendances=("attendances", lambda x: x.sum(min_count=1)),
        ae_4hr_denominator=("_den", lambda x: x.sum(min_count=1)),
        ae_within_4hr=("_within", lambda x: x.sum(min_count=1)),
        _months=("_timed", "sum"),
    )
    den = out["ae_4hr_denominator"].where(out["ae_4hr_denominator"] > 0)
    out["ae_4hr_pct"] = 100 * out["ae_within_4hr"] / den
    extent = _year_extent(months["period"], "MS")
    out["ae_4hr_completeness_pct"] = 100 * out["_months"] / out["year"].map(extent)
    return out.drop(columns="_months")


def beds_annual(months: pd.DataFrame) -> pd.DataFrame:
    """Trust-months of G&A beds -> ``ga_beds_available, ga_beds_occupied, ga_occupancy_pct,
    ga_beds_completeness_pct`` per trust and financial year (means over the months reported).

    Parameters
    ----------
    months
        ``trust_code, period, year, beds_available, beds_occupied``.
    """
    both = months["beds_available"].notna() & months["beds_occupied"].notna()
    m = months[both]
    g = m.groupby(["trust_code", "year"], as_index=False)
    out = g.agg(
        ga_beds_available=("beds_available", "mean"),
        ga_beds_occupied=("beds_occupied", "mean"),
        _months=("period", "nunique"),
    )
    extent = _year_extent(months["period"], "MS")
    out["ga_occupancy_pct"] = (
        100 * out["ga_beds_occupied"] / out["ga_beds_available"].where(out["ga_beds_available"] > 0)
    )
    out["ga_beds_completeness_pct"] = 100 * out["_months"] / out["year"].map(extent)
    return out.drop(columns="_months")


def discharge_annual(months: pd.DataFrame) -> pd.DataFrame:
    """Trust-months of discharge counts -> the panel's ``ctr_*`` columns per trust and year.

    Parameters
    ----------
    months
        ``trust_code, period, year, days_reported, patients_per_day, discharged_per_day``
        (from :func:`icsresearch.panel.monthly.discharge_months`).

    Returns
    -------
    pandas.DataFrame
        ``trust_code, year, ctr_patients_per_day, ctr_discharged_per_day,
        ctr_remaining_per_day, ctr_discharged_pct, ctr_completeness_pct``: means per day over
        the days of the year reported.
    """
    m = months.assign(
        _patients=months["patients_per_day"] * months["days_reported"],
        _discharged=months["discharged_per_day"] * months["days_reported"],
        _last=months["period"] + pd.offsets.MonthEnd(0),
    )
    g = m.groupby(["trust_code", "year"], as_index=False)
    out = g.agg(
        _days=("days_reported", "sum"),
        _patients=("_patients", "sum"),
        _discharged=("_discharged", "sum"),
    )
    days = out["_days"].where(out["_days"] > 0)
    out["ctr_patients_per_day"] = out["_patients"] / days
    out["ctr_discharged_per_day"] = out["_discharged"] / days
    out["ctr_remaining_per_day"] = out["ctr_patients_per_day"] - out["ctr_discharged_per_day"]
    out["ctr_discharged_pct"] = (
        100
        * out["ctr_discharged_per_day"]
        / out["ctr_patients_per_day"].where(out["ctr_patients_per_day"] > 0)
    )
    first, last = months["period"].min(), m["_last"].max()
    extent = _year_extent(pd.Series([first, last]), "D")
    out["ctr_completeness_pct"] = 100 * out["_days"] / out["year"].map(extent)
    return out.drop(columns=["_days", "_patients", "_discharged"])


def wellbeing_annual(wide: pd.DataFrame) -> pd.DataFrame:
    """Staff Survey 2021-2024 wellbeing rates per organisation -> the panel's ``staff_*`` columns.

    Parameters
    ----------
    wide
        ``org_code, year, burnout_pct, stress_pct, enough_staff_pct`` and their ``*_base``,
        ``respondents`` (:func:`icsresearch.sources.staff_survey.wellbeing_wide`).
    """
    # The Isle of Wight NHS Trust (R1F) reports each of its sectors as R1F1-R1F4: pool them.
    code = wide["org_code"].str.replace(r"^(R1F)\d$", r"\1", regex=True)
    out = pd.DataFrame({"trust_code": code, "year": wide["year"]})
    for stem in ("burnout", "stress", "enough_staff"):
        pct, base = wide[f"{stem}_pct"], wide[f"{stem}_base"]
        out[f"staff_{stem}_base"] = base
        out[f"staff_{stem}_n"] = pct * base / 100
    out["staff_wellbeing_respondents"] = wide["respondents"]
    out = out.groupby(["trust_code", "year"], as_index=False).sum(min_count=1)
    for stem in ("burnout", "stress", "enough_staff"):
        base = out[f"staff_{stem}_base"].where(out[f"staff_{stem}_base"] > 0)
        out[f"staff_{stem}_pct"] = 100 * out[f"staff_{stem}_n"] / base
    return out
