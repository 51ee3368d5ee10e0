"""Compute the demo generator's calibration figures from the real panels.

Run once with the real data available, and commit the output::

    ICSRESEARCH_MIRROR=../shared/data python -m icsresearch.panel.calibrate

It writes ``icsresearch/demo/calibration.json``: summary figures only (means, standard
deviations, variance shares, year trends, availability by year, monthly seasonality, counts of
trusts and systems, sorted system covariates), never rows of the published data.

The figures come in four groups:

* ``types``: per trust type and panel indicator, the year means, between-trust and within-trust
  standard deviations, correlation with trust size, range and availability by year
  (:func:`panel_figures`);
* monthly shapes of the ICS-era series (:func:`monthly_figures`): A&E seasonality 2016-2019
  (type 1) and 2021-2025 (all types), the trusts that did not report over-4-hour counts, G&A
  occupancy and other bed types, discharge delays, and the months blank for every trust;
* the A&E compiled share against the count-based share in the years both exist;
* the geography: trusts per system and region, and the systems' population, deprivation and
  Health Index.

A&E attendances are described as 12-month equivalents (:func:`annualised_attendances`), the
level the generator spreads over the months before blanking the months the real files lack.

It lives with the panels, not the demo: it reads the real panels, and the demo imports nothing
from the panel (the panel builds its demo tables from the demo's world).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..schemas import fy_start

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
    "ae_attendances",
    "ga_beds_available",
    "staff_wellbeing_respondents",
}

#: Indicators simulated directly; the rest are derived (occupied beds, RTT counts, ...). The
#: ICS-era monthly indicators (A&E, G&A beds, discharge) are simulated as annual levels that the
#: monthly tables spread over the months; the panel's values are then recomputed from the months.
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
    "ae_4hr_pct_compiled",
    "ae_attendances",
    "rtt_18wk_pct",
    "rtt_incomplete_pathways",
    "shmi",
    "shmi_v2",
    "beds_available",
    "occupancy_pct",
    "ga_beds_available",
    "ga_occupancy_pct",
    "delayed_per_100_ga_beds",
    "ctr_discharged_pct",
    "staff_burnout_pct",
    "staff_stress_pct",
    "staff_enough_staff_pct",
    "staff_wellbeing_respondents",
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

#: Bed types of the bed SitRep besides general & acute (which is adult + paediatric).
OTHER_BED_TYPES = (
    "paediatric_general_acute",
    "adult_critical_care",
    "paediatric_intensive_care",
    "neonatal_intensive_care",
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
        "sd_within": round(float(within.std(ddof=1)), 5) if len(within) > 1 else 0.0,
        "corr_size": round(rho if np.isfinite(rho) else 0.0, 3),
        "min": round(float(x[col].min()), 5),
        "max": round(float(x[col].max()), 5),
    }


def with_size(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel with ``_size``: the trust's standardised mean log admissions (its latent size)."""
    size = panel.assign(_la=np.log(panel["admissions"].where(panel["admissions"] > 0)))
    size = size.groupby("trust_code")["_la"].mean()
    size = (size - size.mean()) / size.std()
    return panel.assign(_size=panel["trust_code"].map(size))


def panel_figures(panel: pd.DataFrame, columns=SIMULATED) -> dict:
    """Per trust type: trusts per year and each indicator's decomposition and availability.

    Parameters
    ----------
    panel
        A trust-year panel with ``_size`` (:func:`with_size`).
    columns
        The indicators to describe.
    """
    panel = panel.copy()
    if {"ctr_remaining_per_day", "ga_beds_occupied"} <= set(panel.columns):
        # The ratio of two panel columns: recomputed where the panel does not carry it.
        ratio = (
            100
            * panel["ctr_remaining_per_day"]
            / panel["ga_beds_occupied"].where(panel["ga_beds_occupied"] > 0)
        )
        panel["delayed_per_100_ga_beds"] = panel.get(
            "delayed_per_100_ga_beds", pd.Series(np.nan, index=panel.index)
        ).fillna(ratio)
    out: dict = {}
    for ttype, grp in panel.groupby("trust_type"):
        n_by_year = grp.groupby("year").size()
        figures = {
            "trusts_per_year": {int(k): int(v) for k, v in n_by_year.items()},
            "indicators": {},
        }
        for col in columns:
            if col not in grp:
                continue
            avail = grp.groupby("year")[col].apply(lambda s: s.notna().mean())
            if avail.max() == 0:
                continue
            dec = _decompose(grp, col)
            if dec:
                dec["availability"] = {int(k): round(float(v), 3) for k, v in avail.items()}
                figures["indicators"][col] = dec
        out[ttype] = figures
    return out


def ae_compiled_figures(panel: pd.DataFrame) -> dict:
    """The compiled annual A&E share against the count-based share, trust-years with both."""
    both = panel.dropna(subset=["ae_4hr_pct", "ae_4hr_pct_compiled"])
    both = both[both["trust_type"] == "acute non-specialist"]
    if both.empty:
        return {}
    diff = both["ae_4hr_pct_compiled"] - both["ae_4hr_pct"]
    return {
        "n": int(len(diff)),
        "mean_difference": round(float(diff.mean()), 3),
        "median_difference": round(float(diff.median()), 3),
        # a robust spread (the differences have a long tail down to -70 points)
        "sd_difference_robust": round(float(1.4826 * (diff - diff.median()).abs().median()), 3),
        "share_within_0_1": round(float((diff.abs() <= 0.1).mean()), 3),
    }


def blank_months(months: pd.DataFrame, counts: list[str]) -> list[str]:
    """Months present in a trust-month table with every trust's counts missing (for instance a
    month the compilation published as a copy of another, which the reader blanks)."""
    reported = months[counts].notna().any(axis=1).groupby(months["period"]).any()
    return [str(p.date()) for p in reported[~reported].index]


def annualised_attendances(panel: pd.DataFrame, ae_all: pd.DataFrame) -> pd.DataFrame:
    """The panel with ``ae_attendances`` as a 12-month equivalent (sum x 12 / months reported).

    The generator simulates a year's level and spreads it over 12 months; where the real year
    lacks months (February and March 2025 are blank for every trust), its sum would understate
    that level.
    """
    counted = ae_all.dropna(subset=["attendances"]).groupby(["trust_code", "year"])
    annual = counted["attendances"].sum() * 12 / counted["attendances"].count()
    keys = pd.MultiIndex.from_frame(panel[["trust_code", "year"]])
    value = pd.Series(annual.reindex(keys).to_numpy(), index=panel.index)
    return panel.assign(ae_attendances=value.where(panel["ae_attendances"].notna()))


def _month_effect(values: pd.Series, month: pd.Series, group: pd.Series) -> tuple[dict, float]:
    """Mean deviation from the group mean by calendar month, and the residual SD."""
    dev = values - values.groupby(group).transform("mean")
    effect = dev.groupby(month).mean()
    effect = effect - effect.mean()
    resid = dev - month.map(effect)
    return {int(k): round(float(v), 3) for k, v in effect.items()}, round(float(resid.std()), 4)


def ae_figures(
    ae_all: pd.DataFrame, ae_departments: pd.DataFrame, types: pd.Series
) -> dict[str, object]:
    """A&E monthly shapes.

    Parameters
    ----------
    ae_all
        Trust-months, all department types: ``trust_code, period, attendances, over_4hr``.
    ae_departments
        The 2016-2019 file by department type: ``trust_code, period, department_type,
        attendances, breaches``.
    types
        Trust type by trust code.
    """
    out: dict[str, object] = {}
    m = ae_departments[ae_departments["department_type"] == "1"]
    m = m.groupby(["trust_code", "period"], as_index=False)[["attendances", "breaches"]].sum()
    m = m[m["attendances"] > 0]
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
    out["ae_type1_reference_pct"] = round(100 * float(m["share"].mean()), 3)

    # Acute non-specialist trusts, 2016-2019: the other department types' share of attendances
    # and their 4-hour performance.
    d = ae_departments[ae_departments["trust_code"].map(types) == "acute non-specialist"]
    by = d.assign(is1=d["department_type"] == "1").groupby(["trust_code", "is1"])
    tot = by[["attendances", "breaches"]].sum().unstack("is1").fillna(0)
    att1, att_other = tot[("attendances", True)], tot[("attendances", False)]
    share_other = (att_other / (att1 + att_other)).where(att1 > 0).dropna()
    out["ae_other_share_2016"] = {
        "mean": round(float(share_other.mean()), 4),
        "sd": round(float(share_other.std()), 4),
    }
    other = d[d["department_type"] != "1"]
    out["ae_other_within_4hr_pct"] = round(
        100 * (1 - float(other["breaches"].sum()) / float(other["attendances"].sum())), 3
    )

    # 2021-2025, all department types.
    new = ae_all[ae_all["period"] >= pd.Timestamp("2021-04-01")].copy()
    new["type"] = new["trust_code"].map(types)
    timed = new.dropna(subset=["over_4hr"])
    timed = timed[(timed["type"] == "acute non-specialist") & (timed["attendances"] > 0)]
    share = 100 * (1 - timed["over_4hr"] / timed["attendances"])
    group = timed["trust_code"] + "|" + fy_start(timed["period"]).astype(str)
    effect, sd = _month_effect(share, timed["period"].dt.month, group)
    pos = new[new["attendances"] > 0]
    log_att = np.log(pos["attendances"])
    att_effect, att_sd = _month_effect(
        log_att,
        pos["period"].dt.month,
        pos["trust_code"] + "|" + fy_start(pos["period"]).astype(str),
    )
    unreported = new[new["over_4hr"].isna() & new["attendances"].notna()]
    reporting = new.groupby("type")["trust_code"].nunique()
    silent = unreported.groupby("type")["trust_code"].nunique()
    out["ae_2021"] = {
        "month_effect_pct": effect,
        "monthly_sd_pct": sd,
        "reference_pct": round(float(share.mean()), 3),
        "attendance_month_effect_log": att_effect,
        "attendance_monthly_sd_log": att_sd,
        "blank_months": blank_months(new, ["attendances", "over_4hr"]),
        "over_4hr_unreported": {
            "share_of_trusts": {
                t: round(float(silent.get(t, 0) / n), 4) for t, n in reporting.items() if n > 0
            },
            "first_month": (str(unreported["period"].min().date()) if len(unreported) else None),
            "last_month": (str(unreported["period"].max().date()) if len(unreported) else None),
        },
    }
    return out


def beds_figures(beds: dict[str, pd.DataFrame], types: pd.Series) -> dict[str, object]:
    """G&A occupancy seasonality and the other bed types relative to G&A beds.

    Parameters
    ----------
    beds
        ``{bed_type: trust-months (trust_code, period, beds_available, beds_occupied)}`` with
        ``"general_acute"`` and the :data:`OTHER_BED_TYPES`.
    types
        Trust type by trust code.
    """
    ga = beds["general_acute"]
    ga = ga[(ga["beds_available"] > 0) & ga["beds_occupied"].notna()]
    ga = ga.assign(type=ga["trust_code"].map(types))
    acute = ga[ga["type"] == "acute non-specialist"]
    occ = 100 * acute["beds_occupied"] / acute["beds_available"]
    group = acute["trust_code"] + "|" + fy_start(acute["period"]).astype(str)
    effect, sd = _month_effect(occ, acute["period"].dt.month, group)
    _, sd_avail = _month_effect(np.log(acute["beds_available"]), acute["period"].dt.month, group)
    out: dict[str, object] = {
        "ga_month_effect_pct": effect,
        "ga_monthly_sd_pct": sd,
        "ga_available_monthly_sd_log": sd_avail,
        "blank_months": blank_months(beds["general_acute"], ["beds_available", "beds_occupied"]),
        "ga_reporting_trusts": {
            t: int(n) for t, n in ga.groupby("type")["trust_code"].nunique().items()
        },
        "types": {},
    }
    ga_mean = ga.groupby("trust_code")["beds_available"].mean()
    for bed_type in OTHER_BED_TYPES:
        b = beds.get(bed_type)
        if b is None:
            continue
        b = b.assign(type=b["trust_code"].map(types))
        mean = b.groupby("trust_code")["beds_available"].mean()
        ttype = b.groupby("trust_code")["type"].first()
        has = mean > 0.5
        share = has.groupby(ttype).mean()
        ratio = (100 * mean[has] / ga_mean.reindex(mean[has].index)).dropna()
        ratio = ratio[ratio > 0]
        pos = b[b["trust_code"].isin(has[has].index) & (b["beds_available"] > 0)]
        o = 100 * pos["beds_occupied"] / pos["beds_available"]
        o_trust = o.groupby(pos["trust_code"]).mean()
        o_month = o.groupby(pos["period"].dt.month).mean()
        out["types"][bed_type] = {
            "share_of_trusts": {t: round(float(v), 3) for t, v in share.items()},
            "beds_per_100_ga": {
                "log_mean": round(float(np.log(ratio).mean()), 4),
                "log_sd": round(float(np.log(ratio).std()), 4),
            },
            "occupancy_pct": {
                "mean": round(float(o_trust.mean()), 3),
                "sd_between": round(float(o_trust.std()), 3),
                "sd_monthly": round(float((o - pos["trust_code"].map(o_trust)).std()), 3),
                "month_effect": {
                    int(k): round(float(v - o_month.mean()), 3) for k, v in o_month.items()
                },
            },
        }
    return out


def discharge_figures(
    discharge: pd.DataFrame, ga: pd.DataFrame, types: pd.Series
) -> dict[str, object]:
    """Seasonality of delayed discharges (per 100 occupied G&A beds) and of the discharged share.

    Parameters
    ----------
    discharge
        Trust-months: ``trust_code, period, days_reported, patients_per_day,
        discharged_per_day``.
    ga
        G&A trust-months: ``trust_code, period, beds_occupied``.
    types
        Trust type by trust code.
    """
    x = discharge.merge(
        ga[["trust_code", "period", "beds_occupied"]], on=["trust_code", "period"], how="inner"
    )
    x = x[(x["beds_occupied"] > 0) & (x["patients_per_day"] > 0)]
    x = x[x["trust_code"].map(types) == "acute non-specialist"]
    delayed = 100 * (x["patients_per_day"] - x["discharged_per_day"]) / x["beds_occupied"]
    discharged = 100 * x["discharged_per_day"] / x["patients_per_day"]
    group = x["trust_code"] + "|" + fy_start(x["period"]).astype(str)
    month = x["period"].dt.month
    d_effect, d_sd = _month_effect(delayed, month, group)
    p_effect, p_sd = _month_effect(discharged, month, group)
    days = discharge["days_reported"] / discharge["period"].dt.days_in_month
    return {
        "delayed_month_effect_per_100": d_effect,
        "delayed_monthly_sd_per_100": d_sd,
        "discharged_month_effect_pct": p_effect,
        "discharged_monthly_sd_pct": p_sd,
        "days_complete_share": round(float((days >= 1).mean()), 4),
        "partial_days_mean_share": round(float(days[days < 1].mean()), 4)
        if (days < 1).any()
        else 1.0,
        "reporting_trusts": {
            t: int(n)
            for t, n in discharge.groupby(discharge["trust_code"].map(types))["trust_code"]
            .nunique()
            .items()
        },
    }


def wellbeing_figures(panel: pd.DataFrame) -> dict[str, float]:
    """Respondents answering each wellbeing question, as a share of the survey's respondents."""
    out = {}
    for stem in ("burnout", "stress", "enough_staff"):
        base = panel[f"staff_{stem}_base"] / panel["staff_wellbeing_respondents"]
        base = base[(base > 0) & (base <= 1)]
        out[stem] = round(float(base.mean()), 4) if len(base) else 0.99
    return out


def geography_figures() -> dict:
    """Trusts per system and region, and the systems' population and deprivation (2022)."""
    from .. import geography
    from . import ics_year_panel

    out: dict = {}
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
    out.update(covariate_figures(ics.drop_duplicates("icb_code")))
    return out


def covariate_figures(cov: pd.DataFrame) -> dict:
    """Sorted values of each system covariate (one row per 2022 ICB)."""
    out: dict = {}
    out["ics_population"] = sorted(int(round(v, -3)) for v in cov["population"])
    out["ics_imd2019_mean_rank"] = sorted(round(float(v)) for v in cov["imd2019_mean_rank"])
    for key, col, digits in (
        ("ics_imd2019_most_deprived_pct", "imd2019_most_deprived_pct", 1),
        ("ics_imd2025_average_score", "imd2025_average_score", 2),
        ("ics_imd2025_most_deprived_lsoa_pct", "imd2025_most_deprived_lsoa_pct", 1),
        ("ics_health_index_2021", "health_index_2021", 1),
    ):
        if col in cov:
            out[key] = sorted(round(float(v), digits) for v in cov[col].dropna())
    return out


def monthly_figures(
    ae_all: pd.DataFrame,
    ae_departments: pd.DataFrame,
    beds: dict[str, pd.DataFrame],
    discharge: pd.DataFrame,
    types: pd.Series,
) -> dict:
    """Every monthly figure (A&E, beds, discharge), from the real trust-month tables."""
    out = ae_figures(ae_all, ae_departments, types)
    out["beds_monthly"] = beds_figures(beds, types)
    out["discharge_monthly"] = discharge_figures(discharge, beds["general_acute"], types)
    return out


def calibrate() -> dict:
    from .. import geography
    from ..sources.ae import read_ae_monthly
    from . import trust_year_panel
    from .monthly import real_ae_months, real_beds_months, real_discharge_months

    ae_all, _ = real_ae_months("all")
    panel = with_size(annualised_attendances(trust_year_panel("real"), ae_all))
    out: dict = {
        "years": sorted(int(y) for y in panel["year"].unique()),
        "types": panel_figures(panel),
    }

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
    out["ae_compiled_vs_count"] = ae_compiled_figures(panel)
    out["staff_wellbeing_base_share"] = wellbeing_figures(panel)
    out.update(geography_figures())

    types = geography.trusts().dropna(subset=["trust_type"]).set_index("trust_code")["trust_type"]
    beds = {"general_acute": real_beds_months("general_acute")[0]}
    for bed_type in OTHER_BED_TYPES:
        beds[bed_type] = real_beds_months(bed_type)[0]
    discharge, _ = real_discharge_months()
    out.update(monthly_figures(ae_all, read_ae_monthly(), beds, discharge, types))
    out["status"] = "calibrated from the real panels"
    return out


def main() -> None:
    from .. import demo

    figures = calibrate()
    path = Path(demo.__file__).with_name("calibration.json")
    path.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
