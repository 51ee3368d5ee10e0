"""The synthetic demo world: fictional regions, systems and trusts, and their data.

Everything here is generated from a fixed seed and the summary figures in ``calibration.json``
(computed from the real panels by :mod:`icsresearch.panel.calibrate`); no published row is used.
See :mod:`icsresearch.demo` for the planted effects.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from ..schemas import fy_start

SEED = 20221
#: Key of the random stream of the latent A&E performance and the ICS-era series, drawn apart
#: from the 2012-2019 stream (``SEED``) so that adding ICS-era figures leaves the geography and
#: the earlier indicators alone. Like any fixed seed it gives one realisation; this key is the
#: first (of 1-12 tried) whose realisation shows every planted effect as documented: the tests
#: of ``tests/test_demo.py`` pass, and the notebook's within regression (A&E on management score
#: and managers FTE) has a managers interval covering 0 and a management interval covering
#: 0.30 for both A&E columns, excluding 0 for ``ae_4hr_pct_compiled`` (keys 1 and 2 do not: one
#: interval includes 0 or excludes 0.30, as 95% intervals sometimes do).
ICS_STREAM = 3
SYNTHETIC = "synthetic demo data"

#: Planted effects (acute non-specialist trusts). Documented in :mod:`icsresearch.demo`. The
#: management effect on A&E acts on the trusts' latent A&E performance, so it is in both
#: ``ae_4hr_pct_compiled`` (2012/13-2018/19) and the count-based ``ae_4hr_pct`` (2016/17-2018/19
#: with the management score; 2021/22 on there is no management score).
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
    # ICS-era special causes (monthly series, April 2021 on)
    "ae_step_down_icb": "ZQ09",  # every acute trust of this system: 4-hour share down 8 points
    "ae_step_down_from": "2023-11-01",
    "ae_step_down_pct": 8.0,
    "ga_occupancy_trust": "ZZ129",  # the only acute trust of ZQ10: G&A occupancy 88% -> 97.5%
    "ga_occupancy_from": "2022-11-01",
    "ga_occupancy_before_pct": 88.0,
    "ga_occupancy_after_pct": 97.5,
    "discharge_icb": "ZQ14",  # every acute trust of this system: delayed discharges fall 35%
    "discharge_from": "2024-04-01",
    "discharge_delayed_fall": 0.35,
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


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one world per seed
class DemoWorld:
    """Everything the demo generates; :mod:`icsresearch.panel` builds the demo panels from it.

    The world holds the same kinds of tables as the published files: trust-year values of the
    indicators published yearly (``values``, with the latent ``_``-prefixed yearly levels the
    monthly series were drawn from), the staff survey's wellbeing table in the layout of
    :func:`icsresearch.sources.staff_survey.wellbeing_wide`, and trust-month A&E, beds (by bed
    type) and discharge tables. The annual A&E, bed, discharge and wellbeing columns of the
    trust-year panel are computed from these by the panel, with the functions it applies to the
    published files.
    """

    regions: pd.DataFrame
    icbs_2022: pd.DataFrame
    icbs_2026: pd.DataFrame
    map_2026: dict[str, str]
    trusts: pd.DataFrame
    weights: dict[tuple[int, str], pd.DataFrame]
    covariates: dict[int, pd.DataFrame]
    values: pd.DataFrame
    wellbeing: pd.DataFrame
    ae_monthly: pd.DataFrame
    beds_monthly: pd.DataFrame
    discharge_monthly: pd.DataFrame


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
    rng: np.random.Generator,
    cal: dict,
    icbs: pd.DataFrame,
    map_2026: dict[str, str],
    more: np.random.Generator,
) -> dict:
    n = len(icbs)
    # Deprivation: the real distributions, shuffled; the measures move together as in the real
    # data (a deprived system ranks low, has many deprived LSOAs, a high IMD 2025 score and a low
    # Health Index). ``more`` draws the ICS-era covariates without disturbing ``rng``.
    depth = rng.permutation(n)
    rank = np.sort(cal["ics_imd2019_mean_rank"])[::-1][depth]
    deprived = np.sort(cal["ics_imd2019_most_deprived_pct"])[depth]
    score = np.sort(cal["ics_imd2025_average_score"])[depth]
    deprived25 = np.sort(cal["ics_imd2025_most_deprived_lsoa_pct"])[depth]
    # The Health Index follows deprivation loosely: ranks jittered before the real values are
    # assigned (most deprived -> least healthy).
    health_order = np.argsort(np.argsort(depth + more.normal(0, 6, n)))
    health = np.sort(cal["ics_health_index_2021"])[::-1][health_order]
    c22 = pd.DataFrame(
        {
            "icb_code": icbs["icb_code"],
            "population": icbs["_population"].astype("int64"),
            "imd2019_mean_rank": rank,
            "imd2019_most_deprived_pct": deprived,
            "imd2025_average_score": score,
            "imd2025_most_deprived_lsoa_pct": deprived25,
            "health_index_2021": health,
        }
    )
    c = c22.assign(icb_code=c22["icb_code"].map(map_2026))
    g = c.assign(
        w_rank=c["imd2019_mean_rank"] * c["population"],
        w_dep=c["imd2019_most_deprived_pct"] * c["population"],
        w_score=c["imd2025_average_score"] * c["population"],
        # LSOAs hold similar numbers of people: the parts' shares weighted by population
        w_dep25=c["imd2025_most_deprived_lsoa_pct"] * c["population"],
    ).groupby("icb_code")
    c26 = pd.DataFrame(
        {
            "population": g["population"].sum(),
            "imd2019_mean_rank": g["w_rank"].sum() / g["population"].sum(),
            "imd2019_most_deprived_pct": g["w_dep"].sum() / g["population"].sum(),
            "imd2025_average_score": g["w_score"].sum() / g["population"].sum(),
            "imd2025_most_deprived_lsoa_pct": g["w_dep25"].sum() / g["population"].sum(),
            # an index, not a count: boards formed from several systems have none
            "health_index_2021": g["health_index_2021"].first().where(g.size() == 1),
        }
    ).reset_index()
    return {2022: c22, 2026: c26}


#: Annual indicators whose panel values are recomputed from the demo's monthly tables (with the
#: real panel's functions); the panel simulation gives only their latent yearly levels.
FROM_MONTHS = (
    "ae_4hr_pct",
    "ae_attendances",
    "ga_beds_available",
    "ga_occupancy_pct",
    "delayed_per_100_ga_beds",
    "ctr_discharged_pct",
)
#: Simulated after the 2012-2019 indicators, from a separate random stream.
ICS_ERA = (
    "staff_burnout_pct",
    "staff_stress_pct",
    "staff_enough_staff_pct",
    "staff_wellbeing_respondents",
)
AE_MONTHS_OLD = pd.date_range("2016-04-01", "2019-03-01", freq="MS")
AE_MONTHS_NEW = pd.date_range("2021-04-01", "2025-07-01", freq="MS")
SITREP_MONTHS = pd.date_range("2022-04-01", "2025-08-01", freq="MS")
BED_TYPES = (
    "general_acute",
    "adult_general_acute",
    "paediatric_general_acute",
    "adult_critical_care",
    "paediatric_intensive_care",
    "neonatal_intensive_care",
)


def _year_value(f: dict, yy: np.ndarray) -> np.ndarray:
    return np.array([f["year_mean"].get(str(y), np.nan) for y in yy], dtype=float)


def _draw(
    rng: np.random.Generator, f: dict, z: np.ndarray, n_years: int, steady=None
) -> np.ndarray:
    """Between-trust (correlated with size) plus within-trust deviations, trust-major order.

    ``steady`` (rows) get no within-trust deviation: the trusts of the planted monthly special
    causes keep their level from year to year, so that the planted change is what an SPC chart
    of their months sees.
    """
    rho = float(np.clip(f["corr_size"], -0.95, 0.95))
    b = f["sd_between"] * (rho * z + np.sqrt(1 - rho**2) * rng.standard_normal(len(z)))
    w = f["sd_within"] * rng.standard_normal(len(z) * n_years)
    if steady is not None:
        w = np.where(steady, 0.0, w)
    return np.repeat(b, n_years) + w


def _finish(v: np.ndarray, f: dict) -> np.ndarray:
    if f["log"]:
        return np.exp(np.clip(v, f["min"] - 0.5, f["max"] + 0.5))
    return np.clip(v, f["min"], f["max"])


def _simulate_panel(
    rng: np.random.Generator, ics_rng: np.random.Generator, cal: dict, trusts: pd.DataFrame
) -> pd.DataFrame:
    years = cal["years"]
    size = rng.standard_normal(len(trusts))  # latent trust size (standardised)
    trusts = trusts.assign(_size=size)
    frames = []
    spread = cal.get("ae_compiled_vs_count", {}).get("sd_difference_robust", 1.5)
    for ttype, group in trusts.groupby("trust_type", sort=True):
        spec = cal["types"].get(ttype)
        if spec is None:
            continue
        every = spec["indicators"]
        ind = {
            k: f
            for k, f in every.items()
            if k not in FROM_MONTHS and k not in ICS_ERA and k != "ae_4hr_pct_compiled"
        }
        n = len(group)
        z = group["_size"].to_numpy()
        grid = pd.DataFrame(
            {
                "trust_code": np.repeat(group["trust_code"].to_numpy(), len(years)),
                "year": np.tile(years, n),
            }
        )
        yy = grid["year"].to_numpy()
        # Trusts with planted monthly special causes keep their yearly A&E, bed and discharge
        # levels in the years of the change (2016-2018 for the step-up and decline trusts,
        # 2021 on for the ICS-era ones): the planted change is then what their charts show.
        steady = (grid["trust_code"].isin(_ics_era_planted(trusts)).to_numpy() & (yy >= 2021)) | (
            grid["trust_code"].isin(_planted_2016(trusts)).to_numpy() & (yy >= 2016) & (yy <= 2018)
        )
        values: dict[str, np.ndarray] = {}
        for col, f in ind.items():
            values[col] = _year_value(f, yy) + _draw(rng, f, z, len(years))
        # Latent A&E performance (the count-based, all-department share): one deviation per
        # trust-year, seen both by the monthly counts and by the compiled annual share.
        ae_spec = every.get("ae_4hr_pct") or every.get("ae_4hr_pct_compiled")
        ae_dev = _draw(ics_rng, ae_spec, z, len(years), steady) if ae_spec else np.zeros(len(grid))
        # Planted effects (acute non-specialist trusts only).
        if ttype == "acute non-specialist":
            score = pd.Series(values["management_score"])
            # The score's deviation from its year mean (so the calibrated year means of the
            # outcomes stay put); years without a survey (2019/20 on) carry no effect.
            dev = np.nan_to_num(score - score.groupby(yy).transform("mean")).astype(float)
            ae_dev = ae_dev + PLANTED["management_score_on_ae_4hr_pct"] * dev
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
            out[col] = _finish(values[col], f)
        if "ae_4hr_pct_compiled" in every:
            f = every["ae_4hr_pct_compiled"]
            compiled = _year_value(f, yy) + ae_dev + spread * ics_rng.standard_normal(len(grid))
            out["ae_4hr_pct_compiled"] = _finish(compiled, f)
            ind["ae_4hr_pct_compiled"] = f
        # Staff groups follow beds and the trust's staffing ratios (occupied beds per staff).
        occupied = (
            out["beds_available"] * out["occupancy_pct"] / 100
            if "beds_available" in out and "occupancy_pct" in out
            else None
        )
        if trait is not None and occupied is not None:
            for col in ("nurses_fte", "doctors_fte", "support_fte"):
                out[col] = occupied / np.maximum(trait[col], 0.05)
        # ICS-era survey measures (a separate random stream, so the 2012-2019 figures stay put).
        for col in ICS_ERA:
            if col in every:
                f = every[col]
                out[col] = _finish(_year_value(f, yy) + _draw(ics_rng, f, z, len(years)), f)
                ind[col] = f
        # Latent yearly levels of the monthly series (no availability: the months decide).
        for col in FROM_MONTHS:
            f = every.get(col)
            if col == "ae_4hr_pct" and f is not None:
                level = _year_value(f, yy) + ae_dev
                out["_ae_4hr_pct"] = np.clip(level, f["min"], min(f["max"], 99.9))
            elif f is not None:
                level = _year_value(f, yy) + _draw(ics_rng, f, z, len(years), steady)
                out[f"_{col}"] = _finish(level, f)
            # Which trusts report the series: a draw per trust and era (2016-2019, 2021 on).
            if f is None:
                out[f"_{col}_reports"] = False
            else:
                before = np.repeat(_reporting(ics_rng, f, n, range(2012, 2020)), len(years))
                after = np.repeat(_reporting(ics_rng, f, n, range(2020, 2100)), len(years))
                out[f"_{col}_reports"] = np.where(yy < 2020, before, after)
        # Availability: each trust reports an indicator in the years the real data do; the
        # survey's measures are published together (one draw per trust-year).
        survey = ics_rng.uniform(size=len(out))
        for col, f in ind.items():
            avail = np.array([f["availability"].get(str(y), 0.0) for y in yy])
            draw = survey if col in ICS_ERA else rng.uniform(size=len(out))
            out[col] = np.where(draw < avail, out[col], np.nan)
        frames.append(out)
    panel = pd.concat(frames, ignore_index=True)
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
    # The compilation's AE_SCORE has two decimals: whole percentages.
    panel["ae_4hr_pct_compiled"] = panel["ae_4hr_pct_compiled"].round()
    for col in ("management_score", "immediate_manager_score", "senior_manager_score"):
        panel[col] = panel[col].round(1)
    for col in ("cqc_overall_score", "cqc_well_led_score"):  # ratings are whole grades 0-3
        panel[col] = panel[col].round().clip(0, 3)
    for col in [c for c in panel if c.startswith("age_") or c == "female_pct"]:
        panel[col] = panel[col].round()
    return panel


def _reporting(rng: np.random.Generator, f: dict, n: int, years) -> np.ndarray:
    """Which of ``n`` trusts report a monthly series in an era: the share of the type's trusts
    that do in the era's years (the mean of the yearly shares)."""
    shares = [v for y, v in f["availability"].items() if int(y) in years and v > 0]
    p = float(np.mean(shares)) if shares else 0.0
    return rng.uniform(size=n) < p


def _reporting_trusts(panel: pd.DataFrame, col: str, year: int) -> np.ndarray:
    rows = panel[(panel["year"] == year) & panel[f"_{col}_reports"].astype(bool)]
    return np.sort(rows["trust_code"].unique())


def _wellbeing(cal: dict, panel: pd.DataFrame) -> pd.DataFrame:
    """The demo's survey table in the layout of ``staff_survey.wellbeing_wide``: whole numbers of
    respondents answering and giving each answer, and the rates they imply."""
    rows = panel.dropna(subset=["staff_wellbeing_respondents"])
    shares = cal.get("staff_wellbeing_base_share", {})
    respondents = rows["staff_wellbeing_respondents"].round()
    wide = pd.DataFrame(
        {"org_code": rows["trust_code"], "year": rows["year"], "respondents": respondents}
    )
    for stem in ("burnout", "stress", "enough_staff"):
        base = (respondents * shares.get(stem, 0.99)).round()
        n = (base * rows[f"staff_{stem}_pct"] / 100).round()
        wide[f"{stem}_base"] = base.where(rows[f"staff_{stem}_pct"].notna())
        wide[f"{stem}_pct"] = 100 * n / base.where(base > 0)
    return wide.reset_index(drop=True)


def _month_effect(effect: dict, months) -> np.ndarray:
    return np.array([effect.get(str(m), 0.0) for m in pd.DatetimeIndex(months).month], dtype=float)


def _trust_month_grid(codes: np.ndarray, months: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "trust_code": np.repeat(codes, len(months)),
            "period": np.tile(months.to_numpy(), len(codes)),
        }
    ).assign(year=lambda d: fy_start(d["period"]))


def _levels(panel: pd.DataFrame, grid: pd.DataFrame, col: str) -> np.ndarray:
    """A trust's latent yearly level for each month (2025/26 months carry 2024/25's level)."""
    table = panel.set_index(["trust_code", "year"])[col]
    year = np.minimum(grid["year"].to_numpy(), max(panel["year"]))
    keys = pd.MultiIndex.from_arrays([grid["trust_code"].to_numpy(), year])
    return table.reindex(keys).to_numpy(dtype=float)


def _codes_in(trusts: pd.DataFrame, icb: str, acute_only: bool = False) -> list[str]:
    """Trusts headquartered in a system (only its acute non-specialist ones if asked)."""
    rows = trusts["hq_icb_code"] == icb
    if acute_only:
        rows &= trusts["trust_type"] == "acute non-specialist"
    return trusts.loc[rows, "trust_code"].tolist()


def _ae_monthly(
    rng: np.random.Generator, cal: dict, panel: pd.DataFrame, trusts: pd.DataFrame
) -> pd.DataFrame:
    """Trust-months of A&E by department type ("1" and "other" to March 2019, "all" from April
    2021), built around each trust's latent yearly 4-hour share and attendances."""
    types = trusts.set_index("trust_code")["trust_type"]
    acute = trusts.loc[trusts["trust_type"] == "acute non-specialist", "trust_code"].to_numpy()
    k_up, k_down = PLANTED["ae_step_up_trusts"], PLANTED["ae_decline_trusts"]
    step_up, decline = set(acute[:k_up]), set(acute[k_up : k_up + k_down])
    step_down = set(_codes_in(trusts, PLANTED["ae_step_down_icb"]))
    att_effect = cal["ae_2021"]["attendance_month_effect_log"]
    att_sd = cal["ae_2021"]["attendance_monthly_sd_log"]
    frames = []

    # April 2016 - March 2019.
    reporting = _reporting_trusts(panel, "ae_attendances", 2016)
    g = _trust_month_grid(reporting, AE_MONTHS_OLD)
    total = _levels(panel, g, "_ae_attendances") / 12
    total = rng.poisson(
        np.nan_to_num(total)
        * np.exp(_month_effect(att_effect, g["period"]) + att_sd * rng.standard_normal(len(g)))
    ).astype(float)
    level = _levels(panel, g, "_ae_4hr_pct")
    is_acute = g["trust_code"].map(types).eq("acute non-specialist").to_numpy()
    other_cal = cal["ae_other_share_2016"]
    trust_other = pd.Series(
        np.clip(
            other_cal["mean"] + other_cal["sd"] * rng.standard_normal(len(reporting)), 0.0, 0.6
        ),
        index=reporting,
    )
    other_share = np.where(is_acute, g["trust_code"].map(trust_other).to_numpy(), 1.0)
    n_other = rng.binomial(total.astype("int64"), other_share).astype(float)
    n1 = total - n_other
    q_other = cal["ae_other_within_4hr_pct"] / 100
    effect = _month_effect(cal["ae_month_effect_pct"], g["period"])
    # Half the real residual SD: the real one also holds type mix and reporting noise.
    noise = cal["ae_monthly_sd_pct"] / 2 * rng.standard_normal(len(g))
    ref = cal["ae_type1_reference_pct"]
    # Type-1 share so that all types together meet the trust's level for the year.
    with np.errstate(invalid="ignore", divide="ignore"):
        share1 = (level / 100 * total - q_other * n_other) / n1 * 100
    share1 = share1 + effect + noise
    month_no = (g["period"].dt.year - 2018) * 12 + g["period"].dt.month
    up = g["trust_code"].isin(step_up) & (g["period"] >= pd.Timestamp("2017-10-01"))
    down = g["trust_code"].isin(decline) & (g["period"] >= pd.Timestamp("2018-01-01"))
    share1 = share1 + np.where(up, PLANTED["ae_step_up_pct"], 0.0)
    share1 = share1 - np.where(down, PLANTED["ae_decline_pct_per_month"] * month_no, 0.0)
    share1 = np.clip(share1, 40, 99.5)
    # Trusts with other department types only (minor injury units): seasonality scaled by their
    # share of attendances over 4 hours.
    scale = (100 - level) / (100 - ref)
    share_other = np.where(
        is_acute, 100 * q_other, np.clip(level + scale * (effect + noise), 40, 100)
    )
    over_other = rng.binomial(n_other.astype("int64"), 1 - share_other / 100).astype(float)
    over_1 = np.round(n1 * (1 - np.nan_to_num(share1) / 100))
    adm_1 = rng.binomial(n1.astype("int64"), 0.27).astype(float)
    base = g[["trust_code", "period", "year"]]
    frames.append(
        base.assign(department_type="1", attendances=n1, over_4hr=over_1, admissions=adm_1)[
            is_acute
        ]
    )
    frames.append(
        base.assign(
            department_type="other",
            attendances=n_other,
            over_4hr=over_other,
            admissions=0.0,
        )
    )

    # April 2021 - July 2025, all department types together.
    new = cal["ae_2021"]
    reporting = _reporting_trusts(panel, "ae_attendances", 2021)
    g = _trust_month_grid(reporting, AE_MONTHS_NEW)
    total = _levels(panel, g, "_ae_attendances") / 12
    total = rng.poisson(
        np.nan_to_num(total)
        * np.exp(_month_effect(att_effect, g["period"]) + att_sd * rng.standard_normal(len(g)))
    ).astype(float)
    level = _levels(panel, g, "_ae_4hr_pct")
    scale = (100 - level) / (100 - new["reference_pct"])
    share = level + scale * (
        _month_effect(new["month_effect_pct"], g["period"])
        + new["monthly_sd_pct"] * rng.standard_normal(len(g))
    )
    stepped = g["trust_code"].isin(step_down) & (
        g["period"] >= pd.Timestamp(PLANTED["ae_step_down_from"])
    )
    share = np.clip(share - np.where(stepped, PLANTED["ae_step_down_pct"], 0.0), 30, 100)
    over = np.round(total * (1 - share / 100))
    # Trusts testing new A&E standards reported no over-4-hour counts for a while.
    silent = _silent_trusts(rng, cal, trusts, reporting)
    unreported = cal["ae_2021"]["over_4hr_unreported"]
    gap = (
        g["trust_code"].isin(silent)
        & (g["period"] >= pd.Timestamp(unreported["first_month"]))
        & (g["period"] <= pd.Timestamp(unreported["last_month"]))
    )
    over = np.where(gap, np.nan, over)
    is_acute = g["trust_code"].map(types).isin(["acute non-specialist", "acute specialist"])
    admissions = rng.binomial(total.astype("int64"), np.where(is_acute, 0.27, 0.02)).astype(float)
    frames.append(
        g.assign(department_type="all", attendances=total, over_4hr=over, admissions=admissions)
    )
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["trust_code", "period", "department_type"]).reset_index(drop=True)
    return out[
        [
            "trust_code",
            "period",
            "year",
            "department_type",
            "attendances",
            "over_4hr",
            "admissions",
        ]
    ]


def _silent_trusts(
    rng: np.random.Generator, cal: dict, trusts: pd.DataFrame, reporting: np.ndarray
) -> list[str]:
    """The demo's field-test sites: acute trusts without over-4-hour counts, 2021-2023."""
    planted = set(_planted_trusts(trusts))
    shares = cal["ae_2021"]["over_4hr_unreported"]["share_of_trusts"]
    out: list[str] = []
    for ttype, share in sorted(shares.items()):
        pool = trusts.loc[trusts["trust_type"] == ttype, "trust_code"]
        pool = [c for c in pool if c in set(reporting) and c not in planted]
        k = int(round(share * len(pool)))
        if k:
            out += sorted(rng.choice(pool, size=k, replace=False).tolist())
    return out


def _planted_trusts(trusts: pd.DataFrame) -> list[str]:
    """Every trust with a planted monthly special cause (they report every monthly series)."""
    return _planted_2016(trusts) + _ics_era_planted(trusts, acute_only=True)


def _planted_2016(trusts: pd.DataFrame) -> list[str]:
    """The step-up and decline trusts of 2017-2018 (the first acute trusts)."""
    acute = trusts.loc[trusts["trust_type"] == "acute non-specialist", "trust_code"].tolist()
    return acute[: PLANTED["ae_step_up_trusts"] + PLANTED["ae_decline_trusts"]]


def _ics_era_planted(trusts: pd.DataFrame, acute_only: bool = False) -> list[str]:
    """The trusts of the planted ICS-era special causes."""
    return (
        _codes_in(trusts, PLANTED["ae_step_down_icb"], acute_only)
        + _codes_in(trusts, PLANTED["discharge_icb"], acute_only)
        + [PLANTED["ga_occupancy_trust"]]
    )


def _beds_monthly(
    rng: np.random.Generator, cal: dict, panel: pd.DataFrame, trusts: pd.DataFrame
) -> pd.DataFrame:
    """Trust-months of beds by type: adult and paediatric G&A (general_acute = their sum), adult
    critical care, paediatric and neonatal intensive care, April 2022 - August 2025."""
    spec = cal["beds_monthly"]
    types = trusts.set_index("trust_code")["trust_type"]
    codes = _reporting_trusts(panel, "ga_beds_available", 2022)
    g = _trust_month_grid(codes, SITREP_MONTHS)
    ttype = g["trust_code"].map(types).to_numpy()
    n_t = len(codes)
    idx = np.repeat(np.arange(n_t), len(SITREP_MONTHS))
    ga = _levels(panel, g, "_ga_beds_available") * np.exp(
        spec["ga_available_monthly_sd_log"] * rng.standard_normal(len(g))
    )
    occ = (
        _levels(panel, g, "_ga_occupancy_pct")
        + _month_effect(spec["ga_month_effect_pct"], g["period"])
        + spec["ga_monthly_sd_pct"] * rng.standard_normal(len(g))
    )
    planted = g["trust_code"].eq(PLANTED["ga_occupancy_trust"]).to_numpy()
    after = (g["period"] >= pd.Timestamp(PLANTED["ga_occupancy_from"])).to_numpy()
    occ = np.where(
        planted,
        np.where(after, PLANTED["ga_occupancy_after_pct"], PLANTED["ga_occupancy_before_pct"])
        + 0.6 * rng.standard_normal(len(g)),
        occ,
    )
    occ = np.clip(occ, 30, 99.5)

    def unit(bed_type: str) -> tuple[np.ndarray, np.ndarray]:
        """Per trust: has the unit, and its size per 100 G&A beds."""
        f = spec["types"][bed_type]
        p = np.array([f["share_of_trusts"].get(t, 0.0) for t in types.reindex(codes)])
        has = rng.uniform(size=n_t) < p
        ratio = np.exp(
            f["beds_per_100_ga"]["log_mean"]
            + f["beds_per_100_ga"]["log_sd"] * rng.standard_normal(n_t)
        )
        return has, np.minimum(ratio, 40.0)

    def occupancy(bed_type: str) -> np.ndarray:
        f = spec["types"][bed_type]["occupancy_pct"]
        trust = f["mean"] + f["sd_between"] * rng.standard_normal(n_t)
        v = trust[idx] + _month_effect(f["month_effect"], g["period"])
        return np.clip(v + f["sd_monthly"] * rng.standard_normal(len(g)), 5, 100)

    has_p, ratio_p = unit("paediatric_general_acute")
    paed = np.round(ga * np.where(has_p, ratio_p, 0.0)[idx] / 100)
    adult = np.maximum(np.round(ga) - paed, 1)
    paed_occ = np.round(paed * occupancy("paediatric_general_acute") / 100)
    target = np.round((adult + paed) * occ / 100)  # G&A occupied beds
    adult_occ = np.clip(target - paed_occ, 0, adult)
    # Very full trusts fill their paediatric beds too when the adult beds are all taken.
    paed_occ = np.clip(np.maximum(paed_occ, target - adult_occ), 0, paed)
    frames = [
        g.assign(bed_type="adult_general_acute", beds_available=adult, beds_occupied=adult_occ),
        g.assign(bed_type="paediatric_general_acute", beds_available=paed, beds_occupied=paed_occ),
        g.assign(
            bed_type="general_acute",
            beds_available=adult + paed,
            beds_occupied=adult_occ + paed_occ,
        ),
    ]
    ga_mean = pd.Series(ga).groupby(idx).mean().to_numpy()
    for bed_type in ("adult_critical_care", "paediatric_intensive_care", "neonatal_intensive_care"):
        has, ratio = unit(bed_type)
        size = np.where(has, np.maximum(np.round(ga_mean * ratio / 100), 1), 0)
        available = np.maximum(size[idx] + np.round(0.5 * rng.standard_normal(len(g))), 0)
        available = np.where(size[idx] > 0, np.maximum(available, 1), 0)
        occupied = np.minimum(np.round(available * occupancy(bed_type) / 100), available)
        frames.append(g.assign(bed_type=bed_type, beds_available=available, beds_occupied=occupied))
    del ttype
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["bed_type", "trust_code", "period"]).reset_index(drop=True)[
        ["trust_code", "period", "year", "bed_type", "beds_available", "beds_occupied"]
    ]


def _discharge_monthly(
    rng: np.random.Generator,
    cal: dict,
    panel: pd.DataFrame,
    trusts: pd.DataFrame,
    beds: pd.DataFrame,
) -> pd.DataFrame:
    """Trust-months of the discharge SitRep, April 2022 - August 2025: days reported and the
    daily means of patients no longer meeting the criteria to reside and of those discharged."""
    spec = cal["discharge_monthly"]
    codes = _reporting_trusts(panel, "delayed_per_100_ga_beds", 2022)
    g = _trust_month_grid(codes, SITREP_MONTHS)
    days_in = g["period"].dt.days_in_month.to_numpy()
    complete = rng.uniform(size=len(g)) < spec["days_complete_share"]
    partial = np.clip(2 * spec["partial_days_mean_share"] - 1, 0.05, 1.0)
    days = np.where(
        complete, days_in, np.maximum(np.round(days_in * rng.uniform(partial, 1.0, len(g))), 1)
    )
    ga = beds[beds["bed_type"] == "general_acute"].set_index(["trust_code", "period"])
    occupied = ga["beds_occupied"].reindex(pd.MultiIndex.from_frame(g[["trust_code", "period"]]))
    occupied = occupied.to_numpy(dtype=float)
    delayed = (
        _levels(panel, g, "_delayed_per_100_ga_beds")
        + _month_effect(spec["delayed_month_effect_per_100"], g["period"])
        + spec["delayed_monthly_sd_per_100"] * rng.standard_normal(len(g))
    )
    delayed = np.clip(delayed, 0.5, None)
    improved = g["trust_code"].isin(_codes_in(trusts, PLANTED["discharge_icb"])) & (
        g["period"] >= pd.Timestamp(PLANTED["discharge_from"])
    )
    delayed = delayed * np.where(improved, 1 - PLANTED["discharge_delayed_fall"], 1.0)
    discharged_pct = np.clip(
        _levels(panel, g, "_ctr_discharged_pct")
        + _month_effect(spec["discharged_month_effect_pct"], g["period"])
        + spec["discharged_monthly_sd_pct"] * rng.standard_normal(len(g)),
        5,
        95,
    )
    remaining = delayed / 100 * occupied
    patients = remaining / (1 - discharged_pct / 100)
    # Daily counts are whole numbers: the month's totals are, and the means are totals / days.
    patients_total = np.round(patients * days)
    discharged_total = np.round(patients_total * discharged_pct / 100)
    out = g.assign(
        days_reported=days.astype(float),
        patients_per_day=patients_total / days,
        discharged_per_day=discharged_total / days,
    )
    out = out.dropna(subset=["patients_per_day"])
    return out[
        ["trust_code", "period", "year", "days_reported", "patients_per_day", "discharged_per_day"]
    ].reset_index(drop=True)


def ae_all_types(ae: pd.DataFrame) -> pd.DataFrame:
    """Trust-months of A&E, all department types together (``monthly.py``'s layout)."""
    return ae.groupby(["trust_code", "period", "year"], as_index=False)[
        ["attendances", "over_4hr", "admissions"]
    ].sum(min_count=1)


@functools.cache
def world(seed: int = SEED) -> DemoWorld:
    """The whole demo world, generated once per process (about a second)."""
    rng = np.random.default_rng(seed)
    ics_rng = np.random.default_rng([seed, ICS_STREAM])  # the ICS-era series: their own stream
    cal = _calibration()
    places = iter(_names(rng, 600))
    regions, icbs, icbs_2026, map_2026 = _geography(rng, cal, places)
    trusts = _trusts(rng, cal, regions, icbs, places)
    _check_planted(trusts)
    weights = _weights(rng, trusts, icbs, map_2026)
    covariates = _covariates(rng, cal, icbs, map_2026, np.random.default_rng([seed, 2021]))
    values = _simulate_panel(rng, ics_rng, cal, trusts)
    # The planted trusts report every monthly series.
    planted = values["trust_code"].isin(_planted_trusts(trusts))
    for col in FROM_MONTHS:
        values[f"_{col}_reports"] = values[f"_{col}_reports"] | (
            planted & values[f"_{col}"].notna().groupby(values["trust_code"]).transform("any")
        )
    ae = _ae_monthly(ics_rng, cal, values, trusts)
    beds = _beds_monthly(ics_rng, cal, values, trusts)
    discharge = _discharge_monthly(ics_rng, cal, values, trusts, beds)
    # Months the real files hold for every trust with no counts (published as copies of other
    # months, blanked by the readers): rows kept, counts missing, as there.
    ae = _blank(
        ae, cal["ae_2021"].get("blank_months", []), ["attendances", "over_4hr", "admissions"]
    )
    beds = _blank(
        beds, cal["beds_monthly"].get("blank_months", []), ["beds_available", "beds_occupied"]
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
        values,
        _wellbeing(cal, values),
        ae,
        beds,
        discharge,
    )


def _blank(table: pd.DataFrame, months: list[str], counts: list[str]) -> pd.DataFrame:
    out = table.copy()
    out.loc[out["period"].isin(pd.to_datetime(months)), counts] = np.nan
    return out


def _check_planted(trusts: pd.DataFrame) -> None:
    """The planted systems and trust exist with the acute trusts the effects need."""
    for key, least in (("ae_step_down_icb", 2), ("discharge_icb", 2)):
        if len(_codes_in(trusts, PLANTED[key], acute_only=True)) < least:  # pragma: no cover
            raise AssertionError(f"PLANTED[{key!r}] needs a system with {least}+ acute trusts")
    code = PLANTED["ga_occupancy_trust"]
    row = trusts.set_index("trust_code").loc[code]
    alone = len(_codes_in(trusts, row["hq_icb_code"], acute_only=True)) == 1
    if row["trust_type"] != "acute non-specialist" or not alone:
        raise AssertionError(  # pragma: no cover - calibration change
            f"PLANTED['ga_occupancy_trust'] ({code}) must be the only acute trust of its system"
        )
