"""Monthly series by trust or ICS: A&E (2016-2019 and 2021-2025), G&A beds and discharge delays.

Each series starts from one trust-month table (counts, never rates), so the annual panel, the
monthly charts and the ICS figures are sums of the same numbers:

* A&E: attendances and attendances over 4 hours, all department types, from NHS England's
  monthly returns: April 2016 - March 2019 (``ae_monthly``) and April 2021 - July 2025
  (``ae_trust_monthly``). No trust-level file covers April 2019 - March 2021: those months are
  absent, so a chart shows the gap as a gap.
* Beds: general & acute (or another bed type) available and occupied, monthly averages of the
  daily SitRep, April 2022 - August 2025 (``beds_trust_monthly``).
* Discharge: daily patients no longer meeting the criteria to reside and those discharged,
  averaged per day over the days of the month reported, April 2022 - August 2025.

At ICS level each trust's counts are multiplied by its ICS weight and summed, and rates are
recomputed from the sums.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import geography
from ..data.store import memoised, recording
from ..errors import InvalidParameterError
from ..provenance import warn_unverified
from ..schemas import fy_start

if TYPE_CHECKING:
    from .providers import Provider

#: From this day the discharge files record a non-submission as missing; before it, as 0.
NON_SUBMISSION_AS_MISSING_FROM = pd.Timestamp("2023-06-01")
#: First month of each A&E era in the published trust files (the gap between them is real).
AE_ERAS = (("2016-04-01", "2019-03-01"), ("2021-04-01", "2025-07-01"))

_COLUMN_DOCS = {
    "period": {"label": "Month", "unit": "date", "description": "First day of the month."},
    "year": {
        "label": "Financial year",
        "unit": "FY start",
        "description": "April-March year of the month.",
    },
    "attendances": {
        "label": "A&E attendances",
        "unit": "count",
        "description": "All department types; apportioned by ICS weight at ICS level.",
    },
    "over_4hr": {
        "label": "Over 4 hours",
        "unit": "count",
        "description": "Attendances over 4 hours from arrival to admission, transfer or "
        "discharge (missing where the trust did not report it).",
    },
    "admissions": {
        "label": "Emergency admissions via A&E",
        "unit": "count",
        "description": "",
    },
    "within_4hr_pct": {
        "label": "A&E within 4 hours",
        "unit": "%",
        "description": "100 x (1 - over_4hr / attendances), from the month's counts.",
    },
    "beds_available": {
        "label": "Beds available",
        "unit": "beds",
        "description": "Monthly average of daily available beds of the bed type.",
    },
    "beds_occupied": {
        "label": "Beds occupied",
        "unit": "beds",
        "description": "Monthly average of daily occupied beds of the bed type.",
    },
    "occupancy_pct": {
        "label": "Bed occupancy",
        "unit": "%",
        "description": "100 x beds_occupied / beds_available.",
    },
    "days_reported": {
        "label": "Days reported",
        "unit": "days",
        "description": "Days of the month with both discharge counts (summed over trusts at ICS "
        "level).",
    },
    "patients_per_day": {
        "label": "No longer meeting the criteria to reside",
        "unit": "patients per day",
        "description": "Mean over the days reported.",
    },
    "discharged_per_day": {
        "label": "Discharged of those",
        "unit": "patients per day",
        "description": "Mean over the days reported.",
    },
    "remaining_per_day": {
        "label": "Delayed in hospital",
        "unit": "patients per day",
        "description": "Not meeting the criteria to reside and not discharged that day.",
    },
    "discharged_pct": {
        "label": "Discharged the same day",
        "unit": "%",
        "description": "100 x discharged_per_day / patients_per_day.",
    },
}


# --- trust-month tables (real data) ------------------------------------------------------------


@memoised
def real_ae_months(department: str) -> tuple[pd.DataFrame, tuple[dict, ...]]:
    """Trust-months of A&E from the published files, and the input records (cached per process).

    The records list every file read, the trust list of :mod:`icsresearch.geography` included;
    the table in memory is shared between calls (copy it before changing it).

    Parameters
    ----------
    department
        ``"all"`` department types or ``"type1"``.
    """
    with recording() as log:
        table = _ae_months(department)
    return table, tuple(log.records())


def _ae_months(department: str) -> pd.DataFrame:
    from ..sources.ae import read_ae_monthly, read_ae_trust_monthly

    old = read_ae_monthly()
    if department == "type1":
        old = old[old["department_type"] == "1"]
    old = old.groupby(["trust_code", "period", "year"], as_index=False)[
        ["attendances", "breaches", "admissions"]
    ].sum(min_count=1)
    old = old.rename(columns={"breaches": "over_4hr"})
    parts = [old]
    if department == "all":  # the 2021-2025 file gives all department types together only
        new = read_ae_trust_monthly()
        parts.append(
            new[["trust_code", "period", "year", "attendances", "over_4hr"]].assign(
                admissions=new["emergency_admissions"]
            )
        )
    out = pd.concat(parts, ignore_index=True)
    known = set(geography.trusts()["trust_code"])
    out = out[out["trust_code"].isin(known)]
    return out.reset_index(drop=True)


@memoised
def real_beds_months(bed_type: str) -> tuple[pd.DataFrame, tuple[dict, ...]]:
    """Trust-months of beds of one type from the published SitRep, and the input records.

    Parameters
    ----------
    bed_type
        A bed type of the file (``"general_acute"``...).
    """
    with recording() as log:
        table = _beds_months(bed_type)
    return table, tuple(log.records())


def _beds_months(bed_type: str) -> pd.DataFrame:
    from ..sources.beds import read_beds_monthly

    raw = read_beds_monthly()
    if bed_type not in set(raw["bed_type"]):
        raise InvalidParameterError(
            f"bed_type={bed_type!r} is not in the bed file; choose from "
            f"{sorted(raw['bed_type'].unique())}."
        )
    rows = raw[raw["bed_type"] == bed_type]
    out = rows[["trust_code", "period", "year", "beds_available", "beds_occupied"]]
    out = out[out["trust_code"].isin(set(geography.trusts()["trust_code"]))]
    return out.reset_index(drop=True)


@memoised
def real_discharge_months() -> tuple[pd.DataFrame, tuple[dict, ...]]:
    """Trust-months of discharge delays from the published files, and the input records."""
    with recording() as log:
        table = _discharge_months()
    return table, tuple(log.records())


def _discharge_months() -> pd.DataFrame:
    from ..sources.discharge import read_criteria_to_reside_trust, read_discharges_trust

    ctr = read_criteria_to_reside_trust()
    dis = read_discharges_trust()
    days = ctr.merge(
        dis[["trust_code", "date", "discharged_total"]], on=["trust_code", "date"], how="outer"
    )
    days = days.dropna(subset=["not_meeting_criteria", "discharged_total"])
    # Before June 2023 the files record a trust that did not submit as 0 patients, not as missing
    # (636 of the 939 zero trust-days of April 2022 - May 2023 are '-' in NHS England's revised
    # SitRep workbooks; 62 are real zeros): such days count as not reported.
    unreported = days["date"].lt(NON_SUBMISSION_AS_MISSING_FROM) & days["not_meeting_criteria"].eq(
        0
    )
    days = days[~unreported]
    out = discharge_months(days)
    out = out[out["trust_code"].isin(set(geography.trusts()["trust_code"]))]
    return out.reset_index(drop=True)


def discharge_months(days: pd.DataFrame) -> pd.DataFrame:
    """Trust-days (``trust_code, date, not_meeting_criteria, discharged_total``) -> trust-months.

    Parameters
    ----------
    days
        One row per trust and day with both counts reported.

    Returns
    -------
    pandas.DataFrame
        ``trust_code, period, year, days_reported, patients_per_day, discharged_per_day``:
        means over the days reported (the sums of daily counts divided by the days).
    """
    period = days["date"].dt.to_period("M").dt.to_timestamp()
    g = days.assign(period=period).groupby(["trust_code", "period"], as_index=False)
    out = g.agg(
        days_reported=("date", "nunique"),
        patients=("not_meeting_criteria", "sum"),
        discharged=("discharged_total", "sum"),
    )
    out["patients_per_day"] = out["patients"] / out["days_reported"]
    out["discharged_per_day"] = out["discharged"] / out["days_reported"]
    out["year"] = fy_start(out["period"])
    return out[
        ["trust_code", "period", "year", "days_reported", "patients_per_day", "discharged_per_day"]
    ]


# --- public builders -----------------------------------------------------------------------------


def _to_ics(trust: pd.DataFrame, weights: pd.DataFrame, counts: list[str]) -> pd.DataFrame:
    rows = trust.merge(weights[["trust_code", "icb_code", "weight"]], on="trust_code")
    rows = rows[rows["weight"] > 0]
    for c in counts:
        rows[c] = rows[c] * rows["weight"]
    return rows.groupby(["icb_code", "period", "year"], as_index=False)[counts].sum(min_count=1)


def _rate(num: pd.Series, den: pd.Series, scale: float = 100.0) -> pd.Series:
    with np.errstate(invalid="ignore", divide="ignore"):
        return scale * num / den.where(den > 0)


def monthly(
    kind: str,
    provider: Provider,
    level: str,
    footprint: int,
    method: str,
    option: str,
) -> pd.DataFrame:
    """One monthly series (``kind`` = ``"ae"``, ``"beds"`` or ``"discharge"``) by trust or ICS.

    Parameters
    ----------
    kind
        The series.
    provider
        Where the trust-month table comes from (:mod:`icsresearch.panel.providers`).
    level
        ``"trust"`` or ``"ics"``.
    footprint, method
        The systems and the trust -> system weights, for ``level="ics"``.
    option
        The series' option: A&E department, bed type, or ``""``.
    """
    with recording() as log:  # the trust-month files, and the weights' files at ICS level
        out, record = _monthly(kind, provider, level, footprint, method, option)
    record = record.with_inputs(log.inputs())
    params = {
        "series": kind,
        "source": provider.source,
        "level": level,
        "footprint": footprint,
        "method": method,
        "option": option,
    }
    record = dataclasses.replace(record, parameters={**record.parameters, **params})
    warn_unverified(record, f"the monthly {kind} table")
    out.attrs = {
        "provenance": record,
        "synthetic": record.synthetic,
        "parameters": params,
        "columns": {c: _COLUMN_DOCS[c] for c in out.columns if c in _COLUMN_DOCS},
    }
    return out


def _monthly(kind, provider, level, footprint, method, option):
    trust, record = provider.trust_months(kind, option)
    if kind == "ae":
        counts = ["attendances", "over_4hr", "admissions"]
    elif kind == "beds":
        counts = ["beds_available", "beds_occupied"]
    else:
        trust = trust.assign(
            remaining_per_day=trust["patients_per_day"] - trust["discharged_per_day"]
        )
        counts = ["days_reported", "patients_per_day", "discharged_per_day", "remaining_per_day"]
    key = "trust_code"
    if level == "ics":
        weights = provider.weights(footprint, method)
        if kind == "ae":
            # A month's rate uses only trusts reporting its numerator, so the ICS share is the
            # pooled share of those trusts (the same rule as the annual panel).
            timed = trust["over_4hr"].notna()
            trust = trust.assign(
                attendances_timed=trust["attendances"].where(timed),
            )
            counts = [*counts, "attendances_timed"]
        trust = _to_ics(trust, weights, counts)
        key = "icb_code"
    out = trust
    if kind == "ae":
        den = out["attendances_timed"] if "attendances_timed" in out else out["attendances"]
        den = den.where(out["over_4hr"].notna())
        out["within_4hr_pct"] = 100 - _rate(out["over_4hr"], den)
        out = out.drop(columns=["attendances_timed"], errors="ignore")
    elif kind == "beds":
        out["occupancy_pct"] = _rate(out["beds_occupied"], out["beds_available"])
    else:
        out["discharged_pct"] = _rate(out["discharged_per_day"], out["patients_per_day"])
    out = out.sort_values([key, "period"]).reset_index(drop=True)
    out = out.replace([np.inf, -np.inf], np.nan)
    return out, record
