"""Compute the demo generator's calibration figures from the real panels.

Run once with the real data available, and commit the output::

    ICSRESEARCH_MIRROR=../shared/data python -m icsresearch.demo.calibrate

It writes ``calibration.json`` beside this file: summary figures only (means, standard
deviations, variance shares, year trends, availability by year, counts of trusts and systems),
never rows of the published data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

#: How each indicator is modelled: on the log scale (positive, skewed volumes) or as is.
LOG_SCALE = {
    "managers_fte",
    "consultants_fte",
    "all_staff_fte",
    "nurses_fte",
    "doctors_fte",
    "support_fte",
    "survey_responses",
    "rtt_incomplete_pathways",
    "beds_available",
    "operating_income_gbp_m",
    "operating_cost_gbp_m",
    "admissions",
}

#: Indicators simulated directly; the rest are derived (occupied beds, RTT counts, ...).
SIMULATED = (
    "managers_fte",
    "consultants_fte",
    "all_staff_fte",
    "nurses_fte",
    "doctors_fte",
    "support_fte",
    "management_score",
    "immediate_manager_score",
    "senior_manager_score",
    "survey_responses",
    "staff_engagement",
    "ae_4hr_pct",
    "rtt_18wk_pct",
    "rtt_incomplete_pathways",
    "shmi",
    "shmi_v2",
    "beds_available",
    "occupancy_pct",
    "financial_position_gbp_m",
    "operating_income_gbp_m",
    "operating_cost_gbp_m",
    "admissions",
    "female_pct",
    "age_0_14_pct",
    "age_15_29_pct",
    "age_30_44_pct",
    "age_45_59_pct",
    "age_60_74_pct",
    "age_75_89_pct",
    "age_90_plus_pct",
    "cqc_overall_score",
    "cqc_well_led_score",
)


def _decompose(df: pd.DataFrame, col: str) -> dict:
    """Year means, between-trust SD, within-trust SD and correlation with trust size."""
    x = df[["trust_code", "year", col, "_size"]].dropna(subset=[col])
    if col in LOG_SCALE:
        x = x[x[col] > 0].assign(**{col: np.log(x[col][x[col] > 0])})
    if len(x) < 10 or x["trust_code"].nunique() < 5:
        return {}
    year_mean = x.groupby("year")[col].mean()
    x = x.assign(dev=x[col] - x["year"].map(year_mean))
    trust_mean = x.groupby("trust_code")["dev"].mean()
    within = x["dev"] - x["trust_code"].map(trust_mean)
    size = x.groupby("trust_code")["_size"].first().reindex(trust_mean.index)
    ok = size.notna()
    rho = (
        float(np.corrcoef(trust_mean[ok], size[ok])[0, 1])
        if ok.sum() > 5 and trust_mean[ok].std() > 0
        else 0.0
    )
    return {
        "log": col in LOG_SCALE,
        "year_mean": {int(k): round(float(v), 5) for k, v in year_mean.items()},
        "sd_between": round(float(trust_mean.std(ddof=1)), 5),
        "sd_within": round(float(within.std(ddof=1)), 5),
        "corr_size": round(rho if np.isfinite(rho) else 0.0, 3),
        "min": round(float(x[col].min()), 5),
        "max": round(float(x[col].max()), 5),
    }


def calibrate() -> dict:
    from .. import geography
    from ..panel import ics_year_panel, trust_year_panel

    panel = trust_year_panel("real")
    size = panel.assign(_la=np.log(panel["admissions"].where(panel["admissions"] > 0)))
    size = size.groupby("trust_code")["_la"].mean()
    size = (size - size.mean()) / size.std()
    panel = panel.assign(_size=panel["trust_code"].map(size))

    out: dict = {"years": sorted(int(y) for y in panel["year"].unique()), "types": {}}
    for ttype, grp in panel.groupby("trust_type"):
        n_by_year = grp.groupby("year").size()
        figures = {
            "trusts_per_year": {int(k): int(v) for k, v in n_by_year.items()},
            "indicators": {},
        }
        for col in SIMULATED:
            avail = grp.groupby("year")[col].apply(lambda s: s.notna().mean())
            if avail.max() == 0:
                continue
            dec = _decompose(grp, col)
            if dec:
                dec["availability"] = {int(k): round(float(v), 3) for k, v in avail.items()}
                figures["indicators"][col] = dec
        out["types"][ttype] = figures

    # Occupied beds per registered nurse / doctor / support worker (acute, Sep 2017 census).
    acute17 = panel[(panel["trust_type"] == "acute non-specialist") & (panel["year"] == 2017)]
    out["staffing_ratios_2017"] = {}
    for col in ("nurses_fte", "doctors_fte", "support_fte"):
        ratio = (acute17["occupied_beds"] / acute17[col].where(acute17[col] > 0)).dropna()
        out["staffing_ratios_2017"][col] = {
            "mean": round(float(ratio.mean()), 4),
            "sd": round(float(ratio.std()), 4),
            "n": int(len(ratio)),
        }

    hq = geography.trusts().dropna(subset=["trust_type"])
    icbs = geography.icbs(2022)
    acute = hq[hq["trust_type"] == "acute non-specialist"].groupby("hq_icb_code").size()
    out["acute_trusts_per_ics"] = sorted(int(v) for v in acute.reindex(icbs["icb_code"]).fillna(0))
    by_region = hq.merge(
        icbs[["icb_code", "region_name"]], left_on="hq_icb_code", right_on="icb_code"
    )
    out["trusts_by_region_and_type"] = {
        r: {t: int(n) for t, n in g.groupby("trust_type").size().items()}
        for r, g in by_region.groupby("region_name")
    }
    out["ics_per_region"] = {r: int(n) for r, n in icbs.groupby("region_name").size().items()}
    ics = ics_year_panel("real")
    cov = ics.drop_duplicates("icb_code")
    out["ics_population"] = sorted(int(round(v, -3)) for v in cov["population"])
    out["ics_imd2019_mean_rank"] = sorted(round(float(v)) for v in cov["imd2019_mean_rank"])
    out["ics_imd2019_most_deprived_pct"] = sorted(
        round(float(v), 1) for v in cov["imd2019_most_deprived_pct"]
    )
    out["ics_imd2025_average_score"] = sorted(
        round(float(v), 2) for v in cov["imd2025_average_score"]
    )

    from ..sources.ae import read_ae_monthly

    m = read_ae_monthly()
    m = (
        m[m["department_type"] == "1"]
        .groupby(["trust_code", "period"], as_index=False)[["attendances", "breaches"]]
        .sum()
    )
    m["month"] = m["period"].dt.month
    m["share"] = 1 - m["breaches"] / m["attendances"]
    month_effect = m.groupby("month")["share"].mean() - m["share"].mean()
    out["ae_month_effect_pct"] = {int(k): round(100 * float(v), 2) for k, v in month_effect.items()}
    att = m.groupby("trust_code")["attendances"].mean()
    out["ae_type1_monthly_attendances"] = {
        "log_mean": round(float(np.log(att).mean()), 4),
        "log_sd": round(float(np.log(att).std()), 4),
    }
    resid = m.assign(
        d=m["share"]
        - m.groupby("trust_code")["share"].transform("mean")
        - m["month"].map(month_effect)
    )
    out["ae_monthly_sd_pct"] = round(100 * float(resid["d"].std()), 3)
    return out


def main() -> None:
    figures = calibrate()
    path = Path(__file__).with_name("calibration.json")
    path.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
