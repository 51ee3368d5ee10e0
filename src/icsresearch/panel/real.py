"""Build the trust-year panel and the ICS-year covariates from the published files.

Each builder returns the input records of every file it read, as
:func:`icsresearch.data.store.recording` saw them: the readers' files and those read inside
:mod:`icsresearch.geography` (lookups, ODS, population), whether read now or answered from memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import geography
from ..data.store import recording
from ..releases.panel import extend_panel, last_locked_year
from ..schemas import fy_label
from .aggregate import aggregate
from .annual import ae_annual, beds_annual, discharge_annual, wellbeing_annual
from .columns import INDICATOR_COLUMNS, TRUST_YEAR_COLUMNS
from .monthly import real_ae_months, real_beds_months, real_discharge_months

FIRST_YEAR, LAST_YEAR = 2012, 2024
#: The last year of the 2012-2019 compilations (the CQC snapshots end in February 2019).
LAST_COMPILED_YEAR = 2018
REAL_DATA = "published NHS data"

#: Registry files the real-data panels may read: their hashes key the panel cache, so every file
#: a panel reads must be here (a test records the files each panel reads and checks).
INPUTS = (
    "hm_managers",
    "hm_consultants",
    "hm_all_staff",
    "hchs_staff_groups",
    "hm_staff_survey",
    "nhs_wellbeing",
    "hm_ae",
    "ae_monthly",
    "hm_rtt",
    "hm_shmi",
    "hm_beds",
    "hm_finance",
    "hm_admissions",
    "hm_cqc_ratings",
    "hm_cqc_rating_scores",
    "cqc_latest_ratings_2018",
    "hm_providers",
    "ods_etr",
    "ods_etr_tidy",
    "trust_successions",
    "eric_sites_2019",
    "lsoa_icb_lookup",
    "ccg_stp_reference",
    "trust_icb_catchment",
    "ics_ae_weights",
    "population_lsoa",
    "imd2019_lsoa",
    "imd2025_icb",
    # ICS era
    "ae_trust_monthly",
    "beds_trust_monthly",
    "criteria_to_reside_trust",
    "discharges_trust_daily",
    "staff_survey_2021_2024",
    "lsoa21_icb24_lookup",
    "lsoa21_ward_ltla24_lookup",
    "imd2025_lsoa",
    "health_index_icb",
)


def _indicators() -> pd.DataFrame:
    """All indicators merged on (trust_code, year), as reported, before any filtering."""
    from ..sources import admissions, ae, beds, finance, rtt, shmi, staff_survey, workforce

    def keep(df: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
        return df.rename(columns=cols)[["trust_code", "year", *cols.values()]]

    parts = [
        keep(workforce.read_managers_fte(), {"managers_fte": "managers_fte"}),
        keep(workforce.read_consultants_fte(), {"consultants_fte": "consultants_fte"}),
        keep(workforce.read_all_staff_fte(), {"all_staff_fte": "all_staff_fte"}),
    ]
    hchs = workforce.read_hchs_staff_groups()
    groups = pd.concat(
        [workforce.staff_by_group("hchs", census, staff=hchs) for census in ("2017-09", "2018-06")],
        ignore_index=True,
    )
    parts.append(groups[["trust_code", "year", "nurses_fte", "doctors_fte", "support_fte"]])

    items = staff_survey.read_staff_survey_items()
    scores = staff_survey.management_scores(items)
    responses = items.groupby(["trust_code", "year"], as_index=False)["n_responses"].max()
    responses = responses.rename(columns={"n_responses": "survey_responses"})
    parts.append(
        scores[
            [
                "trust_code",
                "year",
                "management_score",
                "immediate_manager_score",
                "senior_manager_score",
            ]
        ]
    )
    parts.append(responses)

    wb = shmi.read_shmi_wellbeing()
    parts.append(
        wb.rename(columns={"shmi": "shmi_v2", "engagement_index": "staff_engagement"})[
            ["trust_code", "year", "shmi_v2", "staff_engagement"]
        ]
    )

    parts.append(keep(ae.read_ae_annual(), {"ae_4hr_pct": "ae_4hr_pct_compiled"}))
    ae_months, _ = real_ae_months("all")
    parts.append(ae_annual(ae_months))
    beds_months, _ = real_beds_months("general_acute")
    parts.append(beds_annual(beds_months))
    discharge, _ = real_discharge_months()
    parts.append(discharge_annual(discharge))
    wellbeing = staff_survey.read_staff_survey_wellbeing()
    parts.append(wellbeing_annual(staff_survey.wellbeing_wide(wellbeing)))
    compiled_rtt = keep(
        rtt.read_rtt(),
        {
            "rtt_18wk_pct": "rtt_18wk_pct",
            "incomplete_pathways_count": "rtt_incomplete_pathways",
            "within_18wk_count": "rtt_within_18wk",
        },
    )
    parts.append(compiled_rtt)
    parts.append(keep(shmi.read_shmi(), {"shmi": "shmi"}))
    parts.append(
        keep(
            beds.read_beds(),
            {
                "beds_available": "beds_available",
                "occupied_beds": "occupied_beds",
                "occupancy_pct": "occupancy_pct",
            },
        )
    )
    fin = finance.read_finance()
    parts.append(
        pd.DataFrame(
            {
                "trust_code": fin["trust_code"],
                "year": fin["year"],
                "financial_position_gbp_m": fin["financial_position_gbp_k"] / 1000,
                "operating_income_gbp_m": fin["operating_income_gbp_k"] / 1000,
                "operating_cost_gbp_m": fin["operating_cost_gbp_k"] / 1000,
            }
        )
    )
    adm = admissions.read_admissions()
    mix = admissions.casemix_shares(adm)
    parts.append(
        pd.DataFrame(
            {
                "trust_code": adm["trust_code"],
                "year": adm["year"],
                "admissions": adm["total_episodes"],
            }
        )
    )
    parts.append(mix)

    cqc, _ = cqc_in_force()
    parts.append(cqc)

    merged = parts[0]
    for part in parts[1:]:
        dup = part.duplicated(["trust_code", "year"])
        if dup.any():  # each reader promises unique keys; guard the merge anyway
            raise AssertionError(f"duplicate trust-years in {list(part.columns)}")
        merged = merged.merge(part, on=["trust_code", "year"], how="outer")
    # After the compilations end: RTT, workforce, SHMI and KH03 from the files the user's
    # lockfile pins, when there is one (icsresearch.releases.panel; nothing without one).
    merged = extend_panel(merged)
    # Indicators whose numerator and denominator come from different files.
    occupied = merged["ga_beds_occupied"].where(merged["ga_beds_occupied"] > 0)
    merged["delayed_per_100_ga_beds"] = 100 * merged["ctr_remaining_per_day"] / occupied
    return merged


def cqc_in_force(
    years: range = range(FIRST_YEAR, LAST_COMPILED_YEAR + 1),
) -> tuple[pd.DataFrame, list[dict]]:
    """Trust-level CQC ratings (overall, well-led) in force on 31 March ending each financial year.

    Each CQC file lists only the latest rating per provider at its export date (3 September 2018;
    the compilation's last rating is from February 2019). The rating in force at a date E is
    known from the first snapshot taken on or after E when that snapshot's rating was published on
    or before E; otherwise a later re-inspection hides it and the value is left missing. For NHS
    trusts the CQC provider id is the trust's ODS code; CQC-format ids (``1-...``) are dropped.
    """
    from ..sources.cqc import read_cqc_latest_ratings, read_cqc_ratings

    snapshots = []
    with recording() as log:
        read = [reader() for reader in (read_cqc_latest_ratings, read_cqc_ratings)]
    for r, taken in zip(
        read, (pd.Timestamp("2018-09-03"), pd.Timestamp("2019-03-31")), strict=True
    ):
        r = r[
            (r["population_group"] == "Overall")
            & r["key_question"].isin(["Overall", "Well-led"])
            & r["trust_code"].notna()
        ]
        latest = (
            r.sort_values("publication_date")
            .groupby(["trust_code", "key_question"], as_index=False)
            .last()
        )
        snapshots.append((taken, latest))
    rows = []
    for year in years:
        end = pd.Timestamp(year + 1, 3, 31)
        taken, snap = next(((t, s) for t, s in snapshots if t >= end), snapshots[-1])
        known = snap[snap["publication_date"] <= end]
        for (code, question), score in known.set_index(["trust_code", "key_question"])[
            "rating_score"
        ].items():
            rows.append((code, year, question, float(score)))
    df = pd.DataFrame(rows, columns=["trust_code", "year", "key_question", "score"])
    wide = df.pivot_table(
        index=["trust_code", "year"], columns="key_question", values="score"
    ).reset_index()
    wide = wide.rename(columns={"Overall": "cqc_overall_score", "Well-led": "cqc_well_led_score"})
    wide.columns.name = None
    return wide[["trust_code", "year", "cqc_overall_score", "cqc_well_led_score"]], log.records()


def trust_year(
    footprint: int, method: str, harmonise_to: str
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """The real trust-year panel (all trust types), the code mapping applied, and the inputs read."""
    with recording() as log:
        panel, mapping = _trust_year(footprint, method, harmonise_to)
    return panel, mapping, log.records()


def _trust_year(
    footprint: int, method: str, harmonise_to: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = _indicators()
    # the panel runs on to the last year a locked official release holds (none: LAST_YEAR)
    last_year = max(LAST_YEAR, last_locked_year() or LAST_YEAR)
    raw = raw[raw["year"].between(FIRST_YEAR, last_year)]
    trusts = geography.trusts()
    known = trusts.dropna(subset=["trust_type"])
    # Rows for codes that are not NHS trusts in England (CCGs, independent providers, Welsh
    # bodies, sites) are dropped here: the panel is of trusts.
    raw = raw[raw["trust_code"].isin(set(known["trust_code"]))]
    raw = raw.dropna(subset=[c.name for c in INDICATOR_COLUMNS if c.name in raw], how="all")

    harmonised, mapping = geography.harmonise_trust_codes(raw, harmonise_to)
    if harmonise_to == "latest":
        harmonised = aggregate(harmonised, ["trust_code", "year"], INDICATOR_COLUMNS)
        harmonised = harmonised[harmonised["trust_code"].isin(set(known["trust_code"]))]
    attrs = known.set_index("trust_code")
    panel = harmonised[["trust_code", "year"]].copy()
    panel["trust_name"] = panel["trust_code"].map(attrs["trust_name"])
    panel["trust_type"] = panel["trust_code"].map(attrs["trust_type"])
    panel["region_code"] = panel["trust_code"].map(attrs["region_code"])
    panel["region_name"] = panel["region_code"].map(
        geography.regions().set_index("region_code")["region_name"]
    )
    weights = (
        geography.trust_ics_weights(method, footprint)
        .drop_duplicates("trust_code")
        .set_index("trust_code")
    )
    panel["icb_code"] = panel["trust_code"].map(weights["icb_code"])
    panel["icb_weight"] = panel["trust_code"].map(weights["weight"])
    names = geography.icbs(footprint).set_index("icb_code")["icb_name"]
    panel["icb_name"] = panel["icb_code"].map(names)
    panel["fy"] = panel["year"].map(fy_label)
    panel["data_source"] = REAL_DATA
    for col in INDICATOR_COLUMNS:
        panel[col.name] = harmonised[col.name].to_numpy() if col.name in harmonised else np.nan
    panel = (
        panel[[c.name for c in TRUST_YEAR_COLUMNS]]
        .sort_values(["trust_code", "year"])
        .reset_index(drop=True)
    )
    return panel, mapping


def ics_covariates(footprint: int) -> tuple[pd.DataFrame, list[dict]]:
    """Population (mid-2019) and deprivation (IMD 2019, IMD 2025) per ICS of the footprint."""
    with recording() as log:
        table = _ics_covariates(footprint)
    return table, log.records()


def _ics_covariates(footprint: int) -> pd.DataFrame:
    from ..sources.deprivation import read_imd2019_lsoa, read_imd2025_icb
    from ..sources.population import read_population_lsoa

    pop = read_population_lsoa()
    imd = read_imd2019_lsoa()
    imd25 = read_imd2025_icb()
    lk = geography.lsoa_to_icb(footprint)
    df = lk.merge(pop[["lsoa11_code", "total_population"]], on="lsoa11_code", how="left")
    df = df.merge(imd[["lsoa11_code", "imd_rank", "imd_decile"]], on="lsoa11_code", how="left")
    df["w_rank"] = df["imd_rank"] * df["total_population"]
    df["deprived"] = (df["imd_decile"] == 1) * df["total_population"]
    g = df.groupby("icb_code")
    out = pd.DataFrame(
        {
            "population": g["total_population"].sum(),
            "imd2019_mean_rank": g["w_rank"].sum() / g["total_population"].sum(),
            "imd2019_most_deprived_pct": 100 * g["deprived"].sum() / g["total_population"].sum(),
        }
    )
    # IMD 2025 is published per 2022 ICB (2024 ONS codes); 2026 boards get the population-weighted
    # mean of the parts they cover.
    q_of = geography.icbs(2022).set_index("icb_ons_code")["icb_code"]
    score = imd25.assign(
        icb2022_code=geography.normalise_icb_ons_code(imd25["icb_ons_code"]).map(q_of)
    )
    score = score.set_index("icb2022_code")["imd_avg_score"]
    parts = df.groupby(["icb_code", "icb2022_code"], as_index=False)["total_population"].sum()
    parts["score"] = parts["icb2022_code"].map(score) * parts["total_population"]
    pg = parts.groupby("icb_code")
    out["imd2025_average_score"] = pg["score"].sum() / pg["total_population"].sum()
    return out.join(_covariates_2021(footprint)).reset_index()


def _covariates_2021(footprint: int) -> pd.DataFrame:
    """Measures built on 2021 LSOAs (IMD 2025) and the ONS Health Index, per ICS of the footprint."""
    from ..sources.deprivation import read_imd2025_lsoa
    from ..sources.health_index import read_health_index_icb

    imd = read_imd2025_lsoa()
    hi = read_health_index_icb()
    lk = geography.lsoa21_to_icb(footprint).merge(
        imd[["lsoa21_code", "imd_decile"]], on="lsoa21_code", how="left", validate="one_to_one"
    )
    out = pd.DataFrame(
        {
            "imd2025_most_deprived_lsoa_pct": 100
            * lk.groupby("icb_code")["imd_decile"].agg(lambda d: (d == 1).mean())
        }
    )
    # The Health Index is an index, not a count: 2026 boards that are not one 2022 ICB get none.
    q_of = geography.icbs(2022).set_index("icb_ons_code")["icb_code"]
    latest = hi[hi["calendar_year"] == 2021].assign(
        icb2022_code=geography.normalise_icb_ons_code(hi["icb_ons_code"]).map(q_of)
    )
    score = latest.set_index("icb2022_code")["overall_score"]
    icbs = geography.icbs(footprint).set_index("icb_code")
    same = icbs["predecessors"].where(~icbs["predecessors"].str.contains(";", na=False))
    out["health_index_2021"] = same.reindex(out.index).map(score)
    return out
