"""The synthetic demo world: fictional regions, systems and trusts, and their data.

Everything here is generated from a fixed seed and the summary figures in ``calibration.json``
(computed from the real panels by :mod:`icsresearch.demo.calibrate`); no published row is used.
See :mod:`icsresearch.demo` for the planted effects.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from ..panel.columns import INDICATOR_COLUMNS, TRUST_YEAR_COLUMNS
from ..sources._base import fy_label

SEED = 20221
SYNTHETIC = "synthetic demo data"

#: Planted effects (acute non-specialist trusts). Documented in :mod:`icsresearch.demo`.
PLANTED = {
    "managers_fte_within_effect": 0.0,
    "management_score_on_ae_4hr_pct": 0.30,  # percentage points per score point
    "management_score_on_rtt_18wk_pct": 0.20,  # percentage points per score point
    "management_score_on_log_shmi": -0.004,  # per score point
    "log_rr_shmi_per_bed_per_nurse": float(np.log(1.20)),
    "log_rr_shmi_per_bed_per_doctor": float(np.log(1.08)),
    "log_rr_shmi_per_bed_per_support": float(np.log(0.95)),
    "ae_step_up_trusts": 2,  # trusts whose monthly 4-hour share rises 6 points from Oct 2017
    "ae_step_up_pct": 6.0,
    "ae_decline_trusts": 1,  # a trust whose 4-hour share falls 0.8 points a month through 2018
    "ae_decline_pct_per_month": 0.8,
}

#: Fictional NHS regions, in the order of the calibration's real regions (same ICS counts).
REGIONS = (
    ("ZR1", "Northern Fells", "North East and Yorkshire"),
    ("ZR2", "Western Dales", "North West"),
    ("ZR3", "Central Shires", "Midlands"),
    ("ZR4", "Eastern Fens", "East of England"),
    ("ZR5", "Capital", "London"),
    ("ZR6", "Southern Downs", "South East"),
    ("ZR7", "Western Peninsula", "South West"),
)

_STEMS = (
    "Alder",
    "Bracken",
    "Corm",
    "Dun",
    "Elder",
    "Fen",
    "Gorse",
    "Heron",
    "Ivel",
    "Juniper",
    "Kestrel",
    "Lark",
    "Marsh",
    "Nettle",
    "Oak",
    "Pike",
    "Quill",
    "Rook",
    "Sedge",
    "Thorn",
    "Umber",
    "Vetch",
    "Wren",
    "Yarrow",
    "Ash",
    "Birch",
    "Crane",
    "Dove",
    "Esk",
    "Flint",
    "Glen",
    "Hazel",
    "Moss",
    "Otter",
    "Plover",
    "Rush",
    "Sloe",
    "Teal",
    "Willow",
    "Yew",
    "Amber",
    "Bramble",
    "Cinder",
    "Dew",
    "Ember",
    "Fallow",
    "Garnet",
    "Holly",
    "Kite",
    "Linnet",
    "Merlin",
    "Nightjar",
    "Osier",
    "Primrose",
    "Quarry",
    "Rowan",
    "Swift",
    "Tansy",
    "Vole",
    "Wold",
)
_ENDS = (
    "mere",
    "holt",
    "wick",
    "ford",
    "ley",
    "by",
    "stow",
    "combe",
    "dale",
    "worth",
    "hithe",
    "ham",
)


def _calibration() -> dict:
    with resources.files("icsresearch.demo").joinpath("calibration.json").open() as fh:
        return json.load(fh)


@dataclass(frozen=True)
class DemoWorld:
    regions: pd.DataFrame
    icbs_2022: pd.DataFrame
    icbs_2026: pd.DataFrame
    map_2026: dict[str, str]
    trusts: pd.DataFrame
    weights: dict[tuple[int, str], pd.DataFrame]
    covariates: dict[int, pd.DataFrame]
    panel: pd.DataFrame
    ae_monthly: pd.DataFrame


def _names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct invented place names (stem + ending)."""
    pool = [s + e for s in _STEMS for e in _ENDS]
    idx = rng.choice(len(pool), size=n, replace=False)
    return [pool[i] for i in idx]


def _geography(
    rng: np.random.Generator, cal: dict, places
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, str]]:
    regions = pd.DataFrame(REGIONS, columns=["region_code", "region_name", "calibration_region"])
    per_region = [cal["ics_per_region"][r] for r in regions["calibration_region"]]
    rows = []
    k = 0
    for (code, name, _), n in zip(REGIONS, per_region, strict=True):
        for _ in range(n):
            a, b = next(places), next(places)
            rows.append(
                {
                    "icb_code": f"ZQ{k + 1:02d}",
                    "icb_ons_code": f"Z54{k + 1:06d}",
                    "icb_name": f"{a} and {b} Integrated Care Board",
                    "short_name": f"{a} & {b}",
                    "region_code": code,
                    "region_name": name,
                }
            )
            k += 1
    icbs = pd.DataFrame(rows)
    icbs["predecessors"] = icbs["icb_code"]
    # Acute trusts per system and population: the real distributions, shuffled, with larger
    # systems (more trusts) given larger populations as in the real data.
    acute = rng.permutation(cal["acute_trusts_per_ics"])
    icbs["_acute"] = acute
    pops = np.array(cal["ics_population"], dtype=float)
    order = np.argsort(acute + rng.uniform(0, 1.5, len(acute)))
    population = np.empty(len(acute))
    population[order] = np.sort(pops)
    icbs["_population"] = np.round(population * rng.uniform(0.95, 1.05, len(acute)), -3)

    # 2026: twelve systems merge into six (three pairs in the east, two in the south east, one
    # in the capital), mirroring the real April 2026 pattern of 42 -> 36.
    merges = []
    for region, pairs in (("ZR4", 3), ("ZR6", 2), ("ZR5", 1)):
        codes = icbs.loc[icbs["region_code"] == region, "icb_code"].tolist()
        for p in range(pairs):
            merges.append((codes[2 * p], codes[2 * p + 1]))
    map_2026 = {c: c for c in icbs["icb_code"]}
    new_rows = []
    for j, (a, b) in enumerate(merges, start=1):
        new = f"ZN{j:02d}"
        map_2026[a] = map_2026[b] = new
        first = icbs.set_index("icb_code").loc[a]
        second = icbs.set_index("icb_code").loc[b]
        name_a = first["short_name"].split(" & ")[0]
        name_b = second["short_name"].split(" & ")[0]
        new_rows.append(
            {
                "icb_code": new,
                "icb_ons_code": pd.NA,
                "icb_name": f"{name_a} and {name_b} Integrated Care Board",
                "short_name": f"{name_a} & {name_b}",
                "region_code": first["region_code"],
                "region_name": first["region_name"],
                "predecessors": f"{a};{b}",
            }
        )
    kept = icbs[[map_2026[c] == c for c in icbs["icb_code"]]].drop(
        columns=["_acute", "_population"]
    )
    icbs_2026 = (
        pd.concat([kept, pd.DataFrame(new_rows)], ignore_index=True)
        .sort_values("icb_code")
        .reset_index(drop=True)
    )
    return regions, icbs, icbs_2026, map_2026


def _trusts(
    rng: np.random.Generator, cal: dict, regions: pd.DataFrame, icbs: pd.DataFrame, places
) -> pd.DataFrame:
    rows = []

    def add(icb: pd.Series, ttype: str) -> None:
        place = next(places)
        name = {
            "acute non-specialist": f"{place} Hospitals NHS Foundation Trust",
            "acute specialist": f"{place} Specialist Hospital NHS Foundation Trust",
            "mental health": f"{place} Mental Health NHS Trust",
            "community": f"{place} Community Health Services NHS Trust",
            "ambulance": f"{place} Ambulance Service NHS Trust",
        }[ttype]
        rows.append(
            {
                "trust_name": name,
                "trust_type": ttype,
                "region_code": icb["region_code"],
                "hq_icb_code": icb["icb_code"],
            }
        )

    for _, icb in icbs.iterrows():
        for _ in range(int(icb["_acute"])):
            add(icb, "acute non-specialist")
    for _, reg in regions.iterrows():
        counts = cal["trusts_by_region_and_type"].get(reg["calibration_region"], {})
        in_region = icbs[icbs["region_code"] == reg["region_code"]]
        weights = in_region["_population"].to_numpy() / in_region["_population"].sum()
        for ttype in ("acute specialist", "mental health", "community", "ambulance"):
            for _ in range(int(counts.get(ttype, 0))):
                add(in_region.iloc[rng.choice(len(in_region), p=weights)], ttype)
    trusts = pd.DataFrame(rows)
    trusts.insert(0, "trust_code", [f"ZZ{i + 101:03d}" for i in range(len(trusts))])
    trusts["region_name"] = trusts["region_code"].map(
        regions.set_index("region_code")["region_name"]
    )
    return trusts


def _weights(
    rng: np.random.Generator, trusts: pd.DataFrame, icbs: pd.DataFrame, map_2026: dict[str, str]
) -> dict:
    out = {}
    hq = pd.DataFrame(
        {"trust_code": trusts["trust_code"], "icb_code": trusts["hq_icb_code"], "weight": 1.0}
    )
    region_of = icbs.set_index("icb_code")["region_code"]
    spread = {}
    for method, (lo, hi, extra) in {
        "catchment": (0.72, 0.97, 3),
        "ae_activity": (0.85, 1.0, 1),
    }.items():
        rows = []
        for t in trusts.itertuples():
            no_spread = t.trust_type in ("mental health", "community", "ambulance") or (
                method == "ae_activity" and t.trust_type != "acute non-specialist"
            )
            if no_spread:
                rows.append((t.trust_code, t.hq_icb_code, 1.0, "headquarters (fallback)"))
                continue
            main = rng.uniform(lo, hi)
            rows.append((t.trust_code, t.hq_icb_code, main, method))
            neighbours = [
                c
                for c in region_of.index
                if region_of[c] == region_of[t.hq_icb_code] and c != t.hq_icb_code
            ]
            if neighbours and main < 1.0:
                k = min(extra, len(neighbours))
                chosen = rng.choice(neighbours, size=k, replace=False)
                parts = rng.dirichlet(np.ones(k)) * (1 - main)
                rows.extend(
                    (t.trust_code, c, float(p), method) for c, p in zip(chosen, parts, strict=True)
                )
            else:
                rows[-1] = (t.trust_code, t.hq_icb_code, 1.0, method)
        spread[method] = pd.DataFrame(
            rows, columns=["trust_code", "icb_code", "weight", "method_used"]
        )
    hq["method_used"] = "headquarters"
    for method, table in {"headquarters": hq, **spread}.items():
        out[(2022, method)] = table.sort_values(
            ["trust_code", "weight"], ascending=[True, False]
        ).reset_index(drop=True)
        t26 = table.assign(icb_code=table["icb_code"].map(map_2026))
        t26 = t26.groupby(["trust_code", "icb_code"], as_index=False).agg(
            weight=("weight", "sum"), method_used=("method_used", "first")
        )
        out[(2026, method)] = t26.sort_values(
            ["trust_code", "weight"], ascending=[True, False]
        ).reset_index(drop=True)
    return out


def _covariates(
    rng: np.random.Generator, cal: dict, icbs: pd.DataFrame, map_2026: dict[str, str]
) -> dict:
    n = len(icbs)
    # Deprivation: the real distributions, shuffled; the three measures move together as in the
    # real data (a deprived system ranks low, has many deprived LSOAs and a high IMD 2025 score).
    depth = rng.permutation(n)
    rank = np.sort(cal["ics_imd2019_mean_rank"])[::-1][depth]
    deprived = np.sort(cal["ics_imd2019_most_deprived_pct"])[depth]
    score = np.sort(cal["ics_imd2025_average_score"])[depth]
    c22 = pd.DataFrame(
        {
            "icb_code": icbs["icb_code"],
            "population": icbs["_population"].astype("int64"),
            "imd2019_mean_rank": rank,
            "imd2019_most_deprived_pct": deprived,
            "imd2025_average_score": score,
        }
    )
    c = c22.assign(icb_code=c22["icb_code"].map(map_2026))
    g = c.assign(
        w_rank=c["imd2019_mean_rank"] * c["population"],
        w_dep=c["imd2019_most_deprived_pct"] * c["population"],
        w_score=c["imd2025_average_score"] * c["population"],
    ).groupby("icb_code")
    c26 = pd.DataFrame(
        {
            "population": g["population"].sum(),
            "imd2019_mean_rank": g["w_rank"].sum() / g["population"].sum(),
            "imd2019_most_deprived_pct": g["w_dep"].sum() / g["population"].sum(),
            "imd2025_average_score": g["w_score"].sum() / g["population"].sum(),
        }
    ).reset_index()
    return {2022: c22, 2026: c26}


def _simulate_panel(rng: np.random.Generator, cal: dict, trusts: pd.DataFrame) -> pd.DataFrame:
    years = cal["years"]
    size = rng.standard_normal(len(trusts))  # latent trust size (standardised)
    trusts = trusts.assign(_size=size)
    frames = []
    for ttype, group in trusts.groupby("trust_type", sort=True):
        spec = cal["types"].get(ttype)
        if spec is None:
            continue
        ind = spec["indicators"]
        n = len(group)
        z = group["_size"].to_numpy()
        grid = pd.DataFrame(
            {
                "trust_code": np.repeat(group["trust_code"].to_numpy(), len(years)),
                "year": np.tile(years, n),
            }
        )
        yy = grid["year"].to_numpy()
        values: dict[str, np.ndarray] = {}
        between: dict[str, np.ndarray] = {}
        for col, f in ind.items():
            rho = float(np.clip(f["corr_size"], -0.95, 0.95))
            b = f["sd_between"] * (rho * z + np.sqrt(1 - rho**2) * rng.standard_normal(n))
            between[col] = np.repeat(b, len(years))
            w = f["sd_within"] * rng.standard_normal(len(grid))
            mean = np.array([f["year_mean"].get(str(y), np.nan) for y in yy], dtype=float)
            values[col] = mean + between[col] + w
        # Planted effects (acute non-specialist trusts only).
        if ttype == "acute non-specialist":
            score = values["management_score"]
            # Years without a survey (2019/20) carry no management effect rather than no outcome.
            dev = np.nan_to_num(score - np.nanmean(score))
            values["ae_4hr_pct"] = (
                values["ae_4hr_pct"] + PLANTED["management_score_on_ae_4hr_pct"] * dev
            )
            values["rtt_18wk_pct"] = (
                values["rtt_18wk_pct"] + PLANTED["management_score_on_rtt_18wk_pct"] * dev
            )
            ratios = cal["staffing_ratios_2017"]
            trait = {
                k: np.repeat(
                    ratios[k]["mean"] + ratios[k]["sd"] * rng.standard_normal(n), len(years)
                )
                for k in ("nurses_fte", "doctors_fte", "support_fte")
            }
            log_shmi_shift = (
                PLANTED["management_score_on_log_shmi"] * dev
                + PLANTED["log_rr_shmi_per_bed_per_nurse"]
                * (trait["nurses_fte"] - ratios["nurses_fte"]["mean"])
                + PLANTED["log_rr_shmi_per_bed_per_doctor"]
                * (trait["doctors_fte"] - ratios["doctors_fte"]["mean"])
                + PLANTED["log_rr_shmi_per_bed_per_support"]
                * (trait["support_fte"] - ratios["support_fte"]["mean"])
            )
            for col in ("shmi", "shmi_v2"):
                values[col] = values[col] * np.exp(log_shmi_shift)
        else:
            trait = None
        out = grid.copy()
        for col, f in ind.items():
            v = values[col]
            if f["log"]:
                v = np.exp(np.clip(v, f["min"] - 0.5, f["max"] + 0.5))
            else:
                v = np.clip(v, f["min"], f["max"])
            out[col] = v
        # Staff groups follow beds and the trust's staffing ratios (occupied beds per staff).
        occupied = (
            out["beds_available"] * out["occupancy_pct"] / 100
            if "beds_available" in out and "occupancy_pct" in out
            else None
        )
        if trait is not None and occupied is not None:
            for col in ("nurses_fte", "doctors_fte", "support_fte"):
                out[col] = occupied / np.maximum(trait[col], 0.05)
        # Availability: each trust reports an indicator in the years the real data do.
        for col, f in ind.items():
            avail = np.array([f["availability"].get(str(y), 0.0) for y in yy])
            reports = rng.uniform(size=len(out)) < avail
            out[col] = np.where(reports, out[col], np.nan)
        frames.append(out)
    panel = pd.concat(frames, ignore_index=True)
    for col in INDICATOR_COLUMNS:
        if col.name not in panel:
            panel[col.name] = np.nan
    # Derived columns, consistent with their definitions.
    panel["occupied_beds"] = (panel["beds_available"] * panel["occupancy_pct"] / 100).round(2)
    panel["beds_available"] = panel["beds_available"].round()
    # RTT counts and share come from one return: published together or not at all.
    both = panel["rtt_incomplete_pathways"].notna() & panel["rtt_18wk_pct"].notna()
    panel["rtt_incomplete_pathways"] = panel["rtt_incomplete_pathways"].round().where(both)
    panel["rtt_within_18wk"] = (
        panel["rtt_incomplete_pathways"] * panel["rtt_18wk_pct"] / 100
    ).round()
    panel["rtt_18wk_pct"] = (
        100 * panel["rtt_within_18wk"] / panel["rtt_incomplete_pathways"]
    ).round(1)
    # Accounts add up: cost = income - surplus, with a little noise for other items.
    income, position = panel["operating_income_gbp_m"], panel["financial_position_gbp_m"]
    other = 0.01 * income * rng.standard_normal(len(panel))
    panel["operating_cost_gbp_m"] = (income - position.fillna(0) + other).where(
        panel["operating_cost_gbp_m"].notna()
    )
    panel["admissions"] = panel["admissions"].round()
    panel["survey_responses"] = panel["survey_responses"].round()
    panel["ae_4hr_pct"] = panel["ae_4hr_pct"].round(1)
    for col in ("management_score", "immediate_manager_score", "senior_manager_score"):
        panel[col] = panel[col].round(1)
    for col in ("cqc_overall_score", "cqc_well_led_score"):  # ratings are whole grades 0-3
        panel[col] = panel[col].round().clip(0, 3)
    for col in [c for c in panel if c.startswith("age_") or c == "female_pct"]:
        panel[col] = panel[col].round()
    return panel


def _ae_monthly(
    rng: np.random.Generator, cal: dict, panel: pd.DataFrame, trusts: pd.DataFrame
) -> pd.DataFrame:
    months = pd.date_range("2016-04-01", "2019-03-01", freq="MS")
    acute = trusts[trusts["trust_type"] == "acute non-specialist"]["trust_code"].to_numpy()
    ae = panel.set_index(["trust_code", "year"])["ae_4hr_pct"]
    month_effect = cal["ae_month_effect_pct"]
    sd = cal["ae_monthly_sd_pct"] / 2  # the real residual includes type mix and reporting noise
    att = cal["ae_type1_monthly_attendances"]
    step_up = set(acute[: PLANTED["ae_step_up_trusts"]])
    decline = set(
        acute[
            PLANTED["ae_step_up_trusts"] : PLANTED["ae_step_up_trusts"]
            + PLANTED["ae_decline_trusts"]
        ]
    )
    rows = []
    for code in acute:
        base = float(np.exp(att["log_mean"] + att["log_sd"] * rng.standard_normal()))
        trust_mean = (
            ae.xs(code, level="trust_code").mean() if code in ae.index.get_level_values(0) else 88.0
        )
        for m in months:
            year = m.year - (m.month < 4)
            level = ae.get((code, year), np.nan)
            level = trust_mean if pd.isna(level) else level
            share = level + month_effect[str(m.month)] + sd * rng.standard_normal()
            if code in step_up and m >= pd.Timestamp("2017-10-01"):
                share += PLANTED["ae_step_up_pct"]
            if code in decline and m >= pd.Timestamp("2018-01-01"):
                months_in = (m.year - 2018) * 12 + m.month
                share -= PLANTED["ae_decline_pct_per_month"] * months_in
            share = float(np.clip(share, 40, 99.5))
            n1 = int(rng.poisson(base * (1 + 0.04 * np.sin(2 * np.pi * (m.month - 4) / 12))))
            rows.append(
                (
                    code,
                    m,
                    year,
                    "1",
                    n1,
                    int(round(n1 * (1 - share / 100))),
                    int(rng.binomial(n1, 0.27)),
                )
            )
            n_other = int(rng.poisson(base * 0.35))
            rows.append((code, m, year, "other", n_other, int(rng.binomial(n_other, 0.01)), 0))
    return pd.DataFrame(
        rows,
        columns=[
            "trust_code",
            "period",
            "year",
            "department_type",
            "attendances",
            "breaches",
            "admissions",
        ],
    )


@functools.cache
def world(seed: int = SEED) -> DemoWorld:
    """The whole demo world, generated once per process (about a second)."""
    rng = np.random.default_rng(seed)
    cal = _calibration()
    places = iter(_names(rng, 600))
    regions, icbs, icbs_2026, map_2026 = _geography(rng, cal, places)
    trusts = _trusts(rng, cal, regions, icbs, places)
    weights = _weights(rng, trusts, icbs, map_2026)
    covariates = _covariates(rng, cal, icbs, map_2026)
    values = _simulate_panel(rng, cal, trusts)
    panel = values.merge(trusts, on="trust_code", how="left")
    panel["fy"] = panel["year"].map(fy_label)
    panel["data_source"] = SYNTHETIC
    panel = panel.dropna(subset=[c.name for c in INDICATOR_COLUMNS], how="all")
    ae = _ae_monthly(rng, cal, panel, trusts)
    annual = ae.groupby(["trust_code", "year"], as_index=False)["attendances"].sum()
    panel = panel.drop(columns="ae_attendances").merge(
        annual.rename(columns={"attendances": "ae_attendances"}),
        on=["trust_code", "year"],
        how="left",
    )
    icbs_2022 = icbs.drop(columns=["_acute", "_population"])
    return DemoWorld(
        regions[["region_code", "region_name"]],
        icbs_2022,
        icbs_2026,
        map_2026,
        trusts,
        weights,
        covariates,
        panel,
        ae,
    )


def trust_year(footprint: int, method: str) -> pd.DataFrame:
    w = world()
    weights = w.weights[(footprint, method)].drop_duplicates("trust_code").set_index("trust_code")
    names = (w.icbs_2022 if footprint == 2022 else w.icbs_2026).set_index("icb_code")["icb_name"]
    panel = w.panel.copy()
    panel["icb_code"] = panel["trust_code"].map(weights["icb_code"])
    panel["icb_weight"] = panel["trust_code"].map(weights["weight"])
    panel["icb_name"] = panel["icb_code"].map(names)
    return (
        panel[[c.name for c in TRUST_YEAR_COLUMNS]]
        .sort_values(["trust_code", "year"])
        .reset_index(drop=True)
    )
