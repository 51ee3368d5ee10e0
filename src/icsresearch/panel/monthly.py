"""Monthly A&E by trust or ICS (April 2016 - March 2019)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import geography


def _finish(df: pd.DataFrame, key: str) -> pd.DataFrame:
    att = df["attendances"].where(df["attendances"] > 0)
    df["within_4hr_pct"] = 100 * (1 - df["breaches"] / att)
    return df.sort_values([key, "period"]).reset_index(drop=True)


def monthly(source: str, level: str, footprint: int, method: str, department: str) -> pd.DataFrame:
    if source == "demo":
        from ..demo import demo_ae_monthly_trust, demo_weights

        trust = demo_ae_monthly_trust(department)
        weights = demo_weights(footprint, method)
        attrs = {"synthetic": True}
    else:
        from ..provenance import input_record
        from ..sources.ae import read_ae_monthly

        raw = read_ae_monthly()
        if department == "type1":
            raw = raw[raw["department_type"] == "1"]
        known = set(geography.trusts()["trust_code"])
        raw = raw[raw["trust_code"].isin(known)]
        trust = raw.groupby(["trust_code", "period", "year"], as_index=False)[
            ["attendances", "breaches", "admissions"]
        ].sum(min_count=1)
        weights = geography.trust_ics_weights(method, footprint)
        attrs = {"inputs": [input_record(raw)]}
    if level == "trust":
        out = _finish(trust, "trust_code")
    else:
        rows = trust.merge(weights[["trust_code", "icb_code", "weight"]], on="trust_code")
        for c in ("attendances", "breaches", "admissions"):
            rows[c] = rows[c] * rows["weight"]
        out = rows.groupby(["icb_code", "period", "year"], as_index=False)[
            ["attendances", "breaches", "admissions"]
        ].sum(min_count=1)
        out = _finish(out, "icb_code")
    out.attrs = {
        **attrs,
        "parameters": {
            "source": source,
            "level": level,
            "footprint": footprint,
            "method": method,
            "department": department,
        },
        "columns": {
            "period": {"label": "Month", "unit": "date", "description": "First day of the month."},
            "year": {
                "label": "Financial year",
                "unit": "FY start",
                "description": "April-March year of the month.",
            },
            "attendances": {
                "label": "A&E attendances",
                "unit": "count",
                "description": "Apportioned by ICS weight at ICS level.",
            },
            "breaches": {
                "label": "Over 4 hours",
                "unit": "count",
                "description": "Attendances over 4 hours from arrival to admission, transfer or discharge.",
            },
            "admissions": {
                "label": "Emergency admissions via A&E",
                "unit": "count",
                "description": "",
            },
            "within_4hr_pct": {
                "label": "A&E within 4 hours",
                "unit": "%",
                "description": "100 x (1 - breaches / attendances).",
            },
        },
    }
    return out.replace([np.inf, -np.inf], np.nan)
