"""The numbers behind one ICS report: who the system is, its trusts, and England comparators.

The report notebook (``icsresearch/reports/templates/ics_profile.ipynb``) calls these functions
and draws the charts; keeping the arithmetic here means it is tested once, not re-typed in every
notebook.
Everything works from the project's panels, so the same code serves the demo and the real data
and both footprints.

Conventions
-----------
* ``year`` is a financial-year start (2018 = 2018/19).
* "The system's trusts" are the trusts the chosen trust-to-ICS method attributes to the system
  with a share of at least :data:`MIN_SHARE` (10%); the share is shown. Under the
  ``headquarters`` method every share is 1.
* England and NHS-region figures aggregate trusts with the same rules as the ICS panel
  (sums for counts, volume-weighted means for rates, ratios of sums for shares; see
  :mod:`icsresearch.panel.columns`), so an ICS line and the England line are comparable.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from .. import provenance
from .display import md
from .params import ReportParameters

#: Smallest share of a trust attributed to a system for it to count as one of its trusts.
MIN_SHARE = 0.10
#: Trust types compared on the acute funnel plots.
ACUTE_TYPES = ("acute non-specialist", "acute specialist")
#: Expected deaths are not in the published compilations. The SHMI funnel approximates them as
#: this many deaths per finished consultant episode; the over-dispersed limits it draws are set
#: mostly by the between-trust variance, so the flags barely depend on it (docs/reports.md).
DEATHS_PER_EPISODE = 0.02
#: The trends section: indicators drawn as ICS vs region vs England, 2012/13 onward (a year no
#: file covers is a gap in the line, never a zero).
TREND_INDICATORS = (
    "ae_4hr_pct",
    "ga_occupancy_pct",
    "delayed_per_100_ga_beds",
    "staff_burnout_pct",
    "rtt_18wk_pct",
    "shmi",
)
#: The ICS-era indicators of the report's headline table, each one definition
#: (:mod:`icsresearch.indicators`).
ERA_INDICATORS = (
    "ae_4hr_pct",
    "ga_occupancy_pct",
    "ctr_discharged_pct",
    "delayed_per_100_ga_beds",
    "staff_burnout_pct",
    "staff_stress_pct",
    "staff_enough_staff_pct",
)
#: The last financial year of the 2012-2019 compilations (RTT, SHMI, staff survey management
#: items, workforce): the report's "before the ICS era" sections describe this year at the latest.
LAST_COMPILED_YEAR = 2018
#: ICSs became statutory on 1 July 2022; the 36 boards of the 2026 footprint on 1 April 2026.
FOOTPRINT_START = {2022: 2022, 2026: 2026}


@dataclass
class ReportData:
    """Everything a report reads, loaded once.

    Attributes
    ----------
    params
        The validated parameters.
    system
        One row of the footprint's ICB table as a dict (icb_code, icb_name, short_name,
        region_code, region_name, predecessors).
    icbs
        The footprint's systems.
    trusts
        The trust-year panel (all trust types) under the footprint and method.
    ics
        The ICS-year panel.
    weights
        Trust -> ICS weights (trust_code, icb_code, weight, method_used).
    monthly_trust, monthly_ics
        Monthly A&E (all department types) by trust and by ICS, April 2016 - March 2019 and
        April 2021 - July 2025.
    beds_ics, discharge_ics
        Monthly general & acute beds and discharge delays by ICS, April 2022 - August 2025.
    synthetic
        True for the demo data.
    meta
        The ``attrs`` (column docs, provenance) of each frame above, by attribute name. The
        frames themselves carry none: pandas deep-copies ``attrs`` on every operation, which made
        the report's arithmetic several times slower.
    """

    params: ReportParameters
    system: dict[str, Any]
    icbs: pd.DataFrame
    trusts: pd.DataFrame
    ics: pd.DataFrame
    weights: pd.DataFrame
    monthly_trust: pd.DataFrame
    monthly_ics: pd.DataFrame
    beds_ics: pd.DataFrame
    discharge_ics: pd.DataFrame
    synthetic: bool
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    def label(self, column: str) -> tuple[str, str]:
        """``(label, unit)`` of a panel column from the panels' documentation."""
        doc = (self.meta.get("ics", {}).get("columns") or {}).get(column) or {}
        return str(doc.get("label") or column), str(doc.get("unit") or "")

    @property
    def name(self) -> str:
        """The system's short name, e.g. ``"Cheshire & Merseyside"``."""
        return str(self.system["short_name"])


def load_report_data(params: ReportParameters) -> ReportData:
    """Load the panels, weights and monthly A&E a report needs.

    Parameters
    ----------
    params
        Validated parameters (:func:`~icsresearch.reports.params.validate_report_parameters`).

    Returns
    -------
    ReportData
        Frames are shallow (copy-on-write) copies of a per-process cache keyed by source,
        footprint and method, so the reports of a batch sharing a kernel load the panels once
        and a report that modifies its frames cannot change the next report's.
    """
    frames, meta = _frames(params.source, params.footprint, params.method)
    frames = {key: frame.copy(deep=False) for key, frame in frames.items()}
    icbs = frames["icbs"]
    system = icbs.loc[icbs["icb_code"] == params.ics_code].iloc[0].to_dict()
    return ReportData(
        params=params,
        system=system,
        synthetic=_record(meta["trusts"]).synthetic is True,
        meta=copy.deepcopy(meta),
        **frames,
    )


@functools.lru_cache(maxsize=4)
def _frames(source: str, footprint: int, method: str):
    """The report's frames without ``attrs`` (pandas deep-copies attrs on every operation,
    which made the report's arithmetic several times slower), and the attrs on the side."""
    from .. import geography
    from ..panel import (
        ae_monthly,
        beds_monthly,
        discharge_monthly,
        ics_year_panel,
        trust_year_panel,
    )

    kw = {"footprint": footprint, "method": method}
    frames = {
        "icbs": geography.icbs(footprint, source),
        "trusts": trust_year_panel(source, **kw),
        "ics": ics_year_panel(source, **kw),
        "weights": geography.trust_ics_weights(method, footprint, source),
        "monthly_trust": ae_monthly(source, level="trust", **kw),
        "monthly_ics": ae_monthly(source, level="ics", **kw),
        "beds_ics": beds_monthly(source, level="ics", **kw),
        "discharge_ics": discharge_monthly(source, level="ics", **kw),
    }
    meta = {}
    for key, frame in frames.items():
        meta[key] = copy.deepcopy(frame.attrs)
        frames[key] = frame.copy(deep=False)  # never clear attrs on a panel cached elsewhere
        frames[key].attrs = {}
    return frames, meta


# --- who the system is ---------------------------------------------------------------------


def _rank(values: pd.Series, code: str, ascending: bool) -> int | None:
    """1-based rank of ``code`` in ``values`` (indexed by code); None when it has no value."""
    clean = values.dropna()
    if code not in clean.index:
        return None
    return int(clean.rank(ascending=ascending, method="min")[code])


def system_overview(data: ReportData) -> dict[str, Any]:
    """Name, region, population and deprivation of the system, with ranks among all systems.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).

    Returns
    -------
    dict
        ``icb_code, icb_name, short_name, region_name, predecessors, population,
        population_rank, imd2019_mean_rank, imd2019_most_deprived_pct, imd2025_average_score,
        imd2025_most_deprived_lsoa_pct, health_index_2021, health_index_rank (1 = healthiest),
        deprivation_rank, n_systems, n_trusts, fy``. Population and deprivation come from the
        latest panel year with a value (mid-2019 population; IMD 2019 by LSOA; IMD 2025 by ICB);
        ``deprivation_rank`` is 1 for the most deprived system by IMD 2019 mean rank.
    """
    p = data.params
    code = p.ics_code
    latest = data.ics.sort_values("year").groupby("icb_code", sort=False).last()
    cov = latest[
        [
            "population",
            "imd2019_mean_rank",
            "imd2019_most_deprived_pct",
            "imd2025_average_score",
            "imd2025_most_deprived_lsoa_pct",
            "health_index_2021",
        ]
    ]
    row = cov.loc[code] if code in cov.index else pd.Series(dtype=float)
    trusts = system_trusts(data)
    return {
        "icb_code": code,
        "icb_name": data.system["icb_name"],
        "short_name": data.system["short_name"],
        "region_name": data.system["region_name"],
        "predecessors": data.system.get("predecessors") or code,
        "population": _float(row.get("population")),
        "population_rank": _rank(cov["population"], code, ascending=False),
        "imd2019_mean_rank": _float(row.get("imd2019_mean_rank")),
        "imd2019_most_deprived_pct": _float(row.get("imd2019_most_deprived_pct")),
        "imd2025_average_score": _float(row.get("imd2025_average_score")),
        "imd2025_most_deprived_lsoa_pct": _float(row.get("imd2025_most_deprived_lsoa_pct")),
        "health_index_2021": _float(row.get("health_index_2021")),
        "health_index_rank": _rank(cov["health_index_2021"], code, ascending=False),
        # a lower mean rank is more deprived (rank 1 = most deprived LSOA)
        "deprivation_rank": _rank(cov["imd2019_mean_rank"], code, ascending=True),
        "n_systems": len(data.icbs),
        "n_trusts": len(trusts),
        "fy": p.fy,
    }


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def system_trusts(data: ReportData, min_share: float = MIN_SHARE) -> pd.DataFrame:
    """The system's trusts in the report year: those it holds at least ``min_share`` of.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    min_share
        Smallest share of a trust attributed to the system (default 10%).

    Returns
    -------
    pandas.DataFrame
        ``trust_code, trust_name, trust_type, share`` (of the trust attributed to this system),
        ``main_system`` (True when this is the trust's largest share), ``ae_attendances``,
        ``ga_beds_available`` (ICS era) and ``beds_available``, ``managers_fte`` (2012-2018);
        sorted by type then name. Trusts that report nothing in the year (closed or merged)
        are not listed: the system as it was that year.
    """
    p = data.params
    in_year = data.trusts[data.trusts["year"] == p.year]
    w = data.weights[data.weights["icb_code"] == p.ics_code][["trust_code", "weight"]]
    w = w.groupby("trust_code", as_index=False)["weight"].sum()
    out = in_year.merge(w, on="trust_code", how="inner")
    out = out[out["weight"] >= min_share - 1e-12]
    out = out.assign(share=out["weight"], main_system=out["icb_code"] == p.ics_code)
    type_order = {t: i for i, t in enumerate(_type_order())}
    out = out.assign(_order=out["trust_type"].map(type_order).fillna(len(type_order)))
    out = out.sort_values(["_order", "trust_name", "trust_code"])
    cols = [
        "trust_code",
        "trust_name",
        "trust_type",
        "share",
        "main_system",
        "ae_attendances",
        "ga_beds_available",
        "beds_available",
        "managers_fte",
    ]
    return out[cols].reset_index(drop=True)


def _type_order() -> tuple[str, ...]:
    from ..geography import TRUST_TYPES

    return TRUST_TYPES


def trusts_by_type(trusts: pd.DataFrame) -> pd.DataFrame:
    """Counts of a system's trusts by type (every type listed, zeros included).

    Parameters
    ----------
    trusts
        A system's trusts (:func:`system_trusts`).
    """
    types = list(_type_order())
    counts = trusts["trust_type"].value_counts().reindex(types, fill_value=0)
    other = int(trusts["trust_type"].isna().sum())
    out = pd.DataFrame({"trust_type": types, "trusts": counts.to_numpy().astype(int)})
    if other:
        out = pd.concat(
            [out, pd.DataFrame({"trust_type": ["type not published"], "trusts": [other]})],
            ignore_index=True,
        )
    return out


# --- funnel tables --------------------------------------------------------------------------


def highlight_codes(data: ReportData) -> list[str]:
    """Codes of the system's trusts (for highlighting on England-wide charts).

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    return system_trusts(data)["trust_code"].tolist()


def ae_year(data: ReportData) -> int:
    """The financial year of the A&E funnel and headline.

    The report year, or the nearest year with trust A&E counts (2016/17-2018/19 and 2021/22 on)
    when the report year has none.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    t = data.trusts
    years = sorted(int(y) for y in t.loc[t["ae_4hr_denominator"].gt(0), "year"].unique())
    if not years:
        return data.params.year
    return min(years, key=lambda y: (abs(y - data.params.year), -y))


def system_weights(data: ReportData) -> pd.Series:
    """trust_code -> the share of each trust attributed to this system (only trusts with a share).

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    w = data.weights[data.weights["icb_code"] == data.params.ics_code]
    return w.groupby("trust_code")["weight"].sum()


def ae_funnel_table(data: ReportData, year: int | None = None) -> pd.DataFrame:
    """A&E 4-hour counts of every NHS trust with A&E attendances in a financial year.

    The same counts as the panels' ``ae_4hr_pct`` (all department types, months with over-4-hour
    counts), so the system's pooled value over these rows, weighted by ``weight``, is the
    system's headline and map value.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    year
        Financial-year start; default :func:`ae_year`.

    Returns
    -------
    pandas.DataFrame
        ``trust_code, trust_name, trust_type, attendances, within_4hr, completeness_pct, weight``
        (the share of the trust attributed to this system, 0 for the others).
    """
    year = ae_year(data) if year is None else year
    t = data.trusts[(data.trusts["year"] == year) & data.trusts["ae_4hr_denominator"].gt(0)]
    out = pd.DataFrame(
        {
            "trust_code": t["trust_code"],
            "trust_name": t["trust_name"],
            "trust_type": t["trust_type"],
            "attendances": t["ae_4hr_denominator"],
            "within_4hr": t["ae_within_4hr"],
            "completeness_pct": t["ae_4hr_completeness_pct"],
        }
    )
    out["weight"] = out["trust_code"].map(system_weights(data)).fillna(0.0)
    return out.reset_index(drop=True)


def pooled_share(table: pd.DataFrame, numerator: str, denominator: str, weight: str) -> float:
    """100 x sum(w x numerator) / sum(w x denominator) over rows with a positive weight.

    Parameters
    ----------
    table
        One row per trust (e.g. :func:`ae_funnel_table`).
    numerator, denominator, weight
        Column names.
    """
    rows = table[table[weight] > 0]
    den = float((rows[denominator] * rows[weight]).sum())
    return 100 * float((rows[numerator] * rows[weight]).sum()) / den if den > 0 else float("nan")


def published_icb_ae(data: ReportData) -> dict[str, Any] | None:
    """NHS England's own ICB-level A&E figure for the system, beside the report's.

    The report builds every system's A&E from its trusts' counts (so it works for both footprints
    and every attribution method, and the headline, funnel and map agree). NHS England also
    publishes ICB totals for the 42 ICBs of 2022 (``ae_icb_monthly``); this returns both for the
    A&E year so a report can say how far they differ.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).

    Returns
    -------
    dict or None
        ``fy, published, report, months`` (percentages; months = months pooled), or None for demo
        data, the 2026 footprint, or a year the ICB file does not cover (before 2022/23).
    """
    if data.synthetic or data.params.footprint != 2022:
        return None
    from ..geography import normalise_icb_ons_code
    from ..sources.ae import read_ae_icb_monthly

    year = ae_year(data)
    raw = read_ae_icb_monthly()
    ons = data.system.get("icb_ons_code")
    rows = raw[
        (normalise_icb_ons_code(raw["icb_ons_code"]) == ons)
        & (raw["year"] == year)
        & raw["over_4hr"].notna()
        & raw["attendances"].gt(0)
    ]
    if rows.empty:
        return None
    published = 100 * (1 - rows["over_4hr"].sum() / rows["attendances"].sum())
    return {
        "fy": f"{year}/{(year + 1) % 100:02d}",
        "published": float(published),
        "report": indicator_summary(data, "ae_4hr_pct")["ics"],
        "months": int(rows["period"].nunique()),
    }


def compiled_year(data: ReportData) -> int:
    """The year of the sections on the 2012-2019 compilations (RTT, SHMI, management).

    The report year, or 2018/19 (:data:`LAST_COMPILED_YEAR`) for a report on a later year: no
    registry file carries those indicators beyond it.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    return min(data.params.year, LAST_COMPILED_YEAR)


def rtt_funnel_table(data: ReportData) -> pd.DataFrame:
    """RTT incomplete pathways within 18 weeks (31 March snapshot) of acute trusts in the year.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).

    Returns
    -------
    pandas.DataFrame
        ``trust_code, trust_name, trust_type, rtt_within_18wk, rtt_incomplete_pathways``.
    """
    t = data.trusts[
        (data.trusts["year"] == compiled_year(data)) & data.trusts["trust_type"].isin(ACUTE_TYPES)
    ]
    t = t.dropna(subset=["rtt_within_18wk", "rtt_incomplete_pathways"])
    t = t[t["rtt_incomplete_pathways"] > 0]
    return t[
        ["trust_code", "trust_name", "trust_type", "rtt_within_18wk", "rtt_incomplete_pathways"]
    ].reset_index(drop=True)


def locked_shmi(data: ReportData) -> pd.DataFrame:
    """SHMI with its published observed and expected deaths from the lockfile's releases.

    Real data only, and only when the lockfile (``./icsresearch.lock`` or ``ICSRESEARCH_LOCK``;
    a batch passes its own to the kernels) pins SHMI windows ending in March: otherwise an
    empty table, and the report approximates expected deaths as before.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).

    Returns
    -------
    pandas.DataFrame
        :func:`icsresearch.releases.shmi_trust_year`'s columns (``trust_code, trust_name, year,
        shmi, observed_deaths, expected_deaths, ...``), possibly empty.
    """
    from ..releases.shmi import TRUST_YEAR_COLUMNS, shmi_trust_year

    if data.synthetic:  # the demo reads no release
        return pd.DataFrame({c: pd.Series(dtype=float) for c in TRUST_YEAR_COLUMNS})
    return shmi_trust_year()


def shmi_year(data: ReportData) -> int:
    """The financial year of the SHMI funnel.

    The report year when the lockfile pins its April-March SHMI window (published observed and
    expected deaths), else :func:`compiled_year`.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    locked = locked_shmi(data)
    if data.params.year in set(locked["year"]):
        return data.params.year
    return compiled_year(data)


def shmi_funnel_table(data: ReportData, deaths_per_episode: float = DEATHS_PER_EPISODE):
    """SHMI of non-specialist acute trusts with observed and expected deaths, for a funnel.

    When the lockfile pins the SHMI window of :func:`shmi_year` (an April-March release), its
    published observed and expected deaths are used (``deaths_source`` "published"). Otherwise
    expected deaths are approximated as ``deaths_per_episode`` x admissions (finished consultant
    episodes) of the year; where a trust's admissions are missing that year, its latest value
    from the two previous years is used (``volume_year`` says which), and observed = SHMI x
    expected (``deaths_source`` "approximated").

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    deaths_per_episode
        Expected deaths per finished consultant episode (default :data:`DEATHS_PER_EPISODE`),
        for the approximation.

    Returns
    -------
    pandas.DataFrame
        ``trust_code, trust_name, shmi, admissions, volume_year, expected_deaths,
        observed_deaths, deaths_source, window`` (``window``: the published window's last
        month, ``YYYY-MM``; empty when approximated).
    """
    year = shmi_year(data)
    locked = locked_shmi(data)
    locked = locked[locked["year"] == year]
    if not locked.empty:
        names = data.trusts.drop_duplicates("trust_code").set_index("trust_code")["trust_name"]
        out = locked.assign(
            trust_name=locked["trust_code"].map(names).fillna(locked["trust_name"]),
            admissions=np.nan,
            volume_year=year,
            deaths_source="published",
            window=locked["snapshot_period"],
        )
        out = out[out["expected_deaths"] > 0]
        return out[_SHMI_FUNNEL_COLUMNS].reset_index(drop=True)
    acute = data.trusts[data.trusts["trust_type"] == "acute non-specialist"]
    now = acute[(acute["year"] == year) & acute["shmi"].notna()][
        ["trust_code", "trust_name", "shmi"]
    ]
    vol = acute[acute["year"].between(year - 2, year) & acute["admissions"].gt(0)]
    vol = vol.sort_values("year").groupby("trust_code", as_index=False)[["admissions", "year"]]
    vol = vol.last().rename(columns={"year": "volume_year"})
    out = now.merge(vol, on="trust_code", how="inner")
    out = out.assign(expected_deaths=out["admissions"] * deaths_per_episode)
    out = out.assign(observed_deaths=out["shmi"] * out["expected_deaths"])
    out = out.assign(deaths_source="approximated", window="")
    return out[_SHMI_FUNNEL_COLUMNS].reset_index(drop=True)


_SHMI_FUNNEL_COLUMNS = [
    "trust_code",
    "trust_name",
    "shmi",
    "admissions",
    "volume_year",
    "expected_deaths",
    "observed_deaths",
    "deaths_source",
    "window",
]


def shmi_deaths_text(table: pd.DataFrame, deaths_per_episode: float = DEATHS_PER_EPISODE):
    """What the SHMI funnel's axis, note and methods say about where its deaths come from.

    Parameters
    ----------
    table
        :func:`shmi_funnel_table`'s table.
    deaths_per_episode
        The approximation's deaths per episode (when the deaths are not published).

    Returns
    -------
    dict
        ``published`` (bool), ``xlabel``, ``note`` (under the chart), ``methods`` (the report's
        methods paragraph).
    """
    published = len(table) > 0 and bool(table["deaths_source"].eq("published").all())
    if published:
        end = pd.Timestamp(f"{table['window'].iloc[0]}-01")
        window = f"{(end - pd.DateOffset(months=11)):%B %Y} - {end:%B %Y}"
        return {
            "published": True,
            "xlabel": "Expected deaths, as published with SHMI (count)",
            "note": f"observed and expected deaths as published with SHMI ({window})",
            "methods": (
                "**SHMI volume.** Observed and expected deaths are those NHS England publishes "
                f"with SHMI for {window}, read from the release pinned in the lockfile "
                "(icsresearch.lock; its sha256 is in the input files below)."
            ),
        }
    return {
        "published": False,
        "xlabel": (
            f"Expected deaths, approximated as {deaths_per_episode:.0%} of episodes (count)"
        ),
        "note": "expected deaths approximated from admissions (not published in the sources)",
        "methods": (
            "**SHMI volume.** Expected deaths are not published in the sources used: they are "
            f"approximated as {deaths_per_episode:.0%} of a trust's finished consultant episodes "
            "(the latest of the year and the two before). The over-dispersed limits are set "
            "mostly by the between-trust variance, so the flags barely depend on this choice. "
            "Lock SHMI releases (`icsresearch data add shmi`) to use the published deaths."
        ),
    }


# --- England and region comparators ------------------------------------------------------------


def _aggregate_trusts(rows: pd.DataFrame, keys: list[str], weight: str | None) -> pd.DataFrame:
    from ..panel.aggregate import aggregate
    from ..panel.columns import INDICATOR_COLUMNS

    return aggregate(rows, keys, INDICATOR_COLUMNS, weight=weight)


def england_by_year(data: ReportData) -> pd.DataFrame:
    """England: every trust aggregated by year with the ICS panel's rules (one row per year).

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    p = data.params
    return _england(p.source, p.footprint, p.method).copy(deep=False)


@functools.lru_cache(maxsize=4)
def _england(source: str, footprint: int, method: str) -> pd.DataFrame:
    trusts = _frames(source, footprint, method)[0]["trusts"]
    return _aggregate_trusts(trusts, ["year"], weight=None)


def region_by_year(data: ReportData) -> pd.DataFrame:
    """The system's NHS region: trusts of its systems (weighted as in the ICS panel) by year.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    p = data.params
    return _region(p.source, p.footprint, p.method, data.system["region_code"]).copy(deep=False)


@functools.lru_cache(maxsize=32)
def _region(source: str, footprint: int, method: str, region_code: str) -> pd.DataFrame:
    frames = _frames(source, footprint, method)[0]
    icbs, weights, trusts = frames["icbs"], frames["weights"], frames["trusts"]
    region_systems = set(icbs.loc[icbs["region_code"] == region_code, "icb_code"])
    w = weights[weights["icb_code"].isin(region_systems)]
    w = w.groupby("trust_code", as_index=False)["weight"].sum()
    rows = trusts.drop(columns=["icb_weight"], errors="ignore").merge(w, on="trust_code")
    return _aggregate_trusts(rows, ["year"], weight="weight")


def trend_series(data: ReportData, column: str) -> dict[str, pd.DataFrame]:
    """``{"ics", "region", "england"}`` -> ``year, value`` tables of one indicator, 2012/13 on.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    column
        A panel indicator, e.g. ``"ae_4hr_pct"``.
    """
    years = sorted(int(y) for y in data.ics["year"].unique() if int(y) <= max(_panel_years(data)))
    ics = data.ics[data.ics["icb_code"] == data.params.ics_code][["year", column]]
    out = {
        "ics": ics,
        "region": region_by_year(data)[["year", column]],
        "england": england_by_year(data)[["year", column]],
    }
    return {
        k: v[v["year"].isin(years)].rename(columns={column: "value"}).reset_index(drop=True)
        for k, v in out.items()
    }


def _panel_years(data: ReportData) -> list[int]:
    """Years with any indicator published (the demo has a 2019 row with covariates only).

    Computed once per report (a report asks about a hundred times, once per indicator and
    series) and kept on its ``data``.
    """
    years = data.__dict__.get("_panel_years")
    if years is None:
        t = data.trusts
        cols = ["ae_4hr_pct", "rtt_18wk_pct", "shmi", "managers_fte", "ga_occupancy_pct"]
        has = t[cols].notna().any(axis=1)
        years = data.__dict__["_panel_years"] = tuple(
            sorted(int(y) for y in t.loc[has, "year"].unique())
        )
    return list(years)


# --- monthly A&E --------------------------------------------------------------------------------


def system_monthly(data: ReportData, series: str = "ae", since: str | None = None) -> pd.DataFrame:
    """The system's monthly series, attendances and beds apportioned by ICS weight.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    series
        ``"ae"`` (A&E, value ``within_4hr_pct``), ``"beds"`` (G&A occupancy, ``occupancy_pct``)
        or ``"discharge"`` (``remaining_per_day``, ``discharged_pct``).
    since
        First month to keep (``"2021-04-01"``); default every month.
    """
    frame, value = {
        "ae": (data.monthly_ics, "within_4hr_pct"),
        "beds": (data.beds_ics, "occupancy_pct"),
        "discharge": (data.discharge_ics, "remaining_per_day"),
    }[series]
    m = frame[frame["icb_code"] == data.params.ics_code]
    if since is not None:
        m = m[m["period"] >= pd.Timestamp(since)]
    return m.dropna(subset=[value]).sort_values("period").reset_index(drop=True)


def trust_monthly(
    data: ReportData, codes: list[str], since: str | None = None
) -> dict[str, pd.DataFrame]:
    """Monthly A&E of each given trust with at least 12 months (an XmR chart needs no gaps).

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    codes
        Trust codes.
    since
        First month to keep (``"2021-04-01"``); default every month.
    """
    out = {}
    for code in codes:
        m = data.monthly_trust[data.monthly_trust["trust_code"] == code]
        if since is not None:
            m = m[m["period"] >= pd.Timestamp(since)]
        m = m.dropna(subset=["within_4hr_pct"]).sort_values("period").reset_index(drop=True)
        if len(m) >= 12:
            out[code] = m
    return out


# --- management and staffing ---------------------------------------------------------------


def management_table(data: ReportData) -> pd.DataFrame:
    """Non-specialist acute trusts in the report year: management and staffing against outcomes.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).

    Returns
    -------
    pandas.DataFrame
        ``trust_code, trust_name, managers_per_100_beds`` (managers FTE per 100 available beds),
        ``management_score`` (staff survey, 0-100), ``nurses_per_10_beds`` (registered nurses FTE
        per 10 occupied beds; published for 2017/18 and 2018/19 only), ``ae_4hr_pct_compiled``
        (the compilation's annual A&E share, the one every year 2012/13-2018/19 has),
        ``rtt_18wk_pct, shmi, in_system``; for :func:`compiled_year`.
    """
    t = data.trusts[
        (data.trusts["year"] == compiled_year(data))
        & (data.trusts["trust_type"] == "acute non-specialist")
    ]
    beds = t["beds_available"].where(t["beds_available"] > 0)
    occupied = t["occupied_beds"].where(t["occupied_beds"] > 0)
    out = pd.DataFrame(
        {
            "trust_code": t["trust_code"],
            "trust_name": t["trust_name"],
            "managers_per_100_beds": 100 * t["managers_fte"] / beds,
            "management_score": t["management_score"],
            "nurses_per_10_beds": 10 * t["nurses_fte"] / occupied,
            "ae_4hr_pct_compiled": t["ae_4hr_pct_compiled"],
            "rtt_18wk_pct": t["rtt_18wk_pct"],
            "shmi": t["shmi"],
        }
    )
    out["in_system"] = out["trust_code"].isin(set(highlight_codes(data)))
    return out.reset_index(drop=True)


MANAGEMENT_LABELS = {
    "managers_per_100_beds": ("Managers per 100 beds", "FTE per 100 available beds"),
    "management_score": ("Staff survey management score", "0-100"),
    "nurses_per_10_beds": ("Registered nurses per 10 occupied beds", "FTE"),
    "ae_4hr_pct_compiled": ("A&E within 4 hours (Asaria compilation)", "%"),
    "rtt_18wk_pct": ("RTT within 18 weeks", "%"),
    "shmi": ("SHMI", "ratio"),
}


def within_trust_model(data: ReportData):
    """England-wide within-trust regression of A&E 4-hour performance on management.

    Two-way fixed effects (trust and year), non-specialist acute trusts 2012/13-2018/19, standard
    errors clustered by trust; the outcome is the compilation's annual A&E share
    (``ae_4hr_pct_compiled``), the series that covers those years. Returns ``None`` when the
    panel is too thin to fit.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    p = data.params
    return _within_trust_model(p.source, p.footprint, p.method)


@functools.lru_cache(maxsize=4)
def _within_trust_model(source: str, footprint: int, method: str):
    # England-wide, so the same for every system: fitted once per kernel
    from ..models import fit

    trusts = _frames(source, footprint, method)[0]["trusts"]
    t = trusts[trusts["trust_type"] == "acute non-specialist"]
    beds = t["beds_available"].where(t["beds_available"] > 0)
    df = pd.DataFrame(
        {
            "trust_code": t["trust_code"],
            "year": t["year"],
            "ae_4hr_pct_compiled": t["ae_4hr_pct_compiled"],
            "management_score": t["management_score"],
            "managers_per_100_beds": 100 * t["managers_fte"] / beds,
        }
    ).dropna()
    if df["trust_code"].nunique() < 20:
        return None
    return fit(
        df,
        "ae_4hr_pct_compiled ~ management_score + managers_per_100_beds",
        entity="trust_code",
        time="year",
        model="within",
        effects="twoways",
        vcov="CRV1",
        cluster="trust_code",
    )


# --- the map ------------------------------------------------------------------------------------


def ics_values(data: ReportData, column: str, year: int | None = None) -> pd.DataFrame:
    """One value per system in a year (``icb_code, value``) for the map.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    column
        A panel indicator, e.g. ``"ae_4hr_pct"``.
    year
        Financial-year start; default the report year.
    """
    year = data.params.year if year is None else year
    v = data.ics[data.ics["year"] == year][["icb_code", column]]
    return v.rename(columns={column: "value"}).reset_index(drop=True)


# --- headline figures and provenance ------------------------------------------------------------


def indicator_year(data: ReportData, column: str) -> int:
    """The year a report shows an indicator for: A&E at :func:`ae_year`, the 2012-2019
    compilations at :func:`compiled_year`, the rest at the report year.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    column
        A panel indicator.
    """
    if column == "ae_4hr_pct":
        return ae_year(data)
    if column in ("rtt_18wk_pct", "shmi", "management_score", "ae_4hr_pct_compiled"):
        return compiled_year(data)
    return data.params.year


def indicator_summary(data: ReportData, column: str) -> dict[str, Any]:
    """The system, its region and England for one indicator, all by the same definition.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    column
        A panel indicator, e.g. ``"ga_occupancy_pct"``.

    Returns
    -------
    dict
        ``year, fy, ics, region, england`` (England pooled over every trust reporting it),
        ``completeness`` (the system's completeness column, where the indicator has one) and
        ``coverage`` (the share of the system's activity carrying the indicator's counts, for
        indicators with a coverage rule; below the rule the system's value is missing).
    """
    from ..indicators import INDICATORS

    year = indicator_year(data, column)
    ics = data.ics[(data.ics["icb_code"] == data.params.ics_code) & (data.ics["year"] == year)]
    reg, eng = region_by_year(data), england_by_year(data)
    ind = INDICATORS.get(column)
    comp = ind.completeness if ind is not None else None

    def first(frame: pd.DataFrame, col: str | None) -> float | None:
        if col is None or col not in frame or not len(frame):
            return None
        return _float(frame[col].iloc[0])

    from ..indicators import system_coverage

    return {
        "year": year,
        "fy": f"{year}/{(year + 1) % 100:02d}",
        "ics": first(ics, column),
        "region": first(reg[reg["year"] == year], column),
        "england": first(eng[eng["year"] == year], column),
        "completeness": first(ics, comp),
        "coverage": (
            _float(system_coverage(ics.iloc[0], column)) if len(ics) and ind is not None else None
        ),
    }


def era_table(data: ReportData) -> pd.DataFrame:
    """The ICS-era headline table: each indicator for the system, its region and England.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).

    Returns
    -------
    pandas.DataFrame
        ``indicator`` (column name), ``label, unit, fy, ics, region, england, completeness``;
        one row per :data:`ERA_INDICATORS`.
    """
    from ..indicators import INDICATORS

    rows = []
    for col in ERA_INDICATORS:
        ind = INDICATORS[col]
        rows.append(
            {"indicator": col, "label": ind.label, "unit": ind.unit} | indicator_summary(data, col)
        )
    out = pd.DataFrame(rows)
    return out[["indicator", "label", "unit", "fy", "ics", "region", "england", "completeness"]]


#: The figures of the batch index, in its column order.
HEADLINE_INDICATORS = (
    "ae_4hr_pct",
    "ga_occupancy_pct",
    "delayed_per_100_ga_beds",
    "staff_burnout_pct",
    "rtt_18wk_pct",
    "shmi",
    "management_score",
)


def headline_figures(data: ReportData) -> dict[str, Any]:
    """The figures the batch index shows: the system and England, each in its report year.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).

    Returns
    -------
    dict
        ``fy``; for each of :data:`HEADLINE_INDICATORS` the system's value, ``england_<col>``
        and ``<col>_fy`` (the year shown: A&E falls back to the nearest year with counts, the
        2012-2019 compilations to 2018/19 at the latest); ``population``,
        ``england_population`` (the sum over the footprint's systems), ``n_trusts``.
    """
    out: dict[str, Any] = {"fy": data.params.fy}
    for col in HEADLINE_INDICATORS:
        summary = indicator_summary(data, col)
        out[col] = summary["ics"]
        out[f"england_{col}"] = summary["england"]
        out[f"{col}_fy"] = summary["fy"]
    overview = system_overview(data)
    out["population"] = overview["population"]
    latest = data.ics.sort_values("year").groupby("icb_code", sort=False)["population"].last()
    out["england_population"] = float(latest.sum()) if latest.notna().any() else None
    out["n_trusts"] = overview["n_trusts"]
    return out


def key_points(data: ReportData) -> list[str]:
    """The "key points and caveats" of a report: what the data are, and what cannot be concluded.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).

    Returns
    -------
    list of str
        Markdown bullet texts, the footprint caveat first where it applies.
    """
    p = data.params
    points = []
    start = FOOTPRINT_START[p.footprint]
    n = len(data.icbs)
    if p.footprint == 2026:
        points.append(
            f"**Footprint applied before it existed.** The {n} boards of the 2026 footprint were "
            "created on 1 April 2026; every figure here groups earlier years' trusts and areas as "
            "if they had existed then."
        )
    elif p.year < start:
        points.append(
            f"**Footprint applied before it existed.** Integrated care systems were established on "
            f"1 July 2022; {p.fy} is described with the trusts of the time grouped into the "
            f"{n} systems of 2022."
        )
    elif p.year == start:
        points.append(
            "**Transition year.** ICSs were established on 1 July 2022, three months into 2022/23."
        )
    hist = compiled_year(data)
    hist_fy = f"{hist}/{(hist + 1) % 100:02d}"
    points.append(
        f"**What this covers.** {md(data.name)} in the {p.footprint} footprint ({n} "
        f"systems), trusts attributed by {p.method.replace('_', ' ')}: the ICS-era indicators "
        f"for {p.fy}, monthly charts from April 2022, trends from 2012/13 and the pre-ICS "
        f"comparisons for {hist_fy}."
    )
    if p.footprint == 2022 and p.year >= start:
        points.append(
            "**Earlier years grouped into 2022 systems.** ICSs were established on 1 July 2022: "
            f"the trends before 2022/23 and the {hist_fy} comparisons group the trusts of the "
            "time into the 2022 systems as if those had existed."
        )
    if data.synthetic:
        points.append(
            "**Synthetic demo data.** The numbers imitate the published panels' means, spreads, "
            "trends and gaps (summary figures only) with planted effects for the methods to find; "
            "every organisation is fictional and nothing here describes a real system."
        )
    elif p.year <= LAST_COMPILED_YEAR:
        points.append(
            f"**Data.** Published NHS England, NHS Digital, ONS and MHCLG statistics for {p.fy}, "
            "from the 2012-2019 compilations (workforce, staff survey, RTT, SHMI, KH03 beds, "
            "finance) and NHS England's monthly A&E counts; the ICS-era indicators (G&A beds, "
            "discharge delays, staff wellbeing) start in 2021/22."
        )
    else:
        points.append(
            f"**Data.** Published NHS England, NHS Digital, ONS and MHCLG statistics: A&E, general "
            f"& acute beds, discharge delays and the NHS Staff Survey for {p.fy}; RTT, SHMI, "
            f"workforce and the 2012-2018 staff survey for "
            f"{compiled_year(data)}/{(compiled_year(data) + 1) % 100:02d}, the last year "
            "they are in the registry."
        )
    ae = indicator_summary(data, "ae_4hr_pct")
    if ae["completeness"] is not None and ae["completeness"] < 99.95:
        points.append(
            f"**Incomplete A&E counts.** The system's trusts reported 4-hour counts for "
            f"{ae['completeness']:.0f}% of the months of {ae['fy']} (weighted by attendances); "
            "its A&E share pools the months reported."
            + (
                " February and March 2025 are missing for every trust: the published "
                "compilation repeats 2024's months there."
                if ae["year"] == 2024
                else ""
            )
        )
    if ae["ics"] is None and ae["coverage"] is not None:
        points.append(
            f"**No system A&E figure for {ae['fy']}.** Its trusts' 4-hour counts cover only "
            f"{ae['coverage']:.0f}% of its attendances: trusts field-testing new A&E standards "
            "reported none until May 2023. Their trusts are still on the funnel."
        )
    if ae["year"] != p.year:
        points.append(
            f"**A&E from {ae['fy']}.** No trust-level A&E counts cover {p.fy} (the published "
            "files cover April 2016 - March 2019 and April 2021 - July 2025)."
        )
    points.append(
        "**Gaps stay gaps.** No file in the registry covers trust A&E for April 2019 - March "
        "2021, or RTT, workforce and SHMI after 2019/20: those years are missing, never filled."
    )
    points.append(
        "**What this cannot show.** Differences between systems reflect their populations, "
        "trust mix and how trusts are attributed to systems, not only how well they perform; "
        "nothing here is a causal estimate."
    )
    return points


def input_files(data: ReportData) -> list[dict[str, Any]]:
    """The published files behind the report: registry name, file, sha256, verified.

    Every frame's provenance record (panels, reference geography, weights), plus every file of a
    source folder (``ICSRESEARCH_SOURCE_DIR``) that replaces a registry file the report's readers
    would otherwise take: such a file is read without a hash check, so it is listed as
    ``verified`` only when its bytes are the registry's. Empty for the demo data, which the
    package generates from a fixed seed.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    if data.synthetic:
        return []
    seen: dict[str, dict[str, Any]] = {}
    for key in sorted(data.meta):
        for rec in _record(data.meta.get(key) or {}).inputs:
            if not rec.sha256:
                continue
            seen.setdefault(
                str(rec.source or rec.path),
                {
                    "source": rec.source,
                    "file": str(rec.path or "").rsplit("/", 1)[-1],
                    "sha256": rec.sha256,
                    "verified": bool(rec.verified),
                },
            )
    for rec in supplied_files():
        known = seen.get(rec["source"])
        if known is None or known["sha256"] != rec["sha256"]:
            # a panel recorded from an earlier read cannot stand for the file now supplied
            seen[rec["source"]] = rec
    return sorted(seen.values(), key=lambda r: str(r["source"]))


def supplied_files() -> list[dict[str, Any]]:
    """Files of the source folder (``ICSRESEARCH_SOURCE_DIR``) that replace registry files.

    Returns
    -------
    list of dict
        ``source`` (registry name), ``file``, ``sha256`` and ``verified`` (whether the bytes
        happen to be the registry's), by registry name.
    """
    import os

    from ..data.registry import REGISTRY
    from ..data.store import SOURCE_DIR_ENV, find_in_folder, sha256_of

    folder = os.environ.get(SOURCE_DIR_ENV)
    if not folder:
        return []
    root = Path(folder).expanduser()
    out = []
    for entry in sorted(REGISTRY.values(), key=lambda e: e.name):
        found = find_in_folder(root, entry) if root.is_dir() else None
        if found is not None:
            digest = sha256_of(found)
            out.append(
                {
                    "source": entry.name,
                    "file": found.name,
                    "sha256": digest,
                    "verified": digest == entry.sha256,
                }
            )
    return out


def _record(attrs: dict[str, Any]) -> provenance.Provenance:
    """The provenance record of a frame from its kept ``attrs`` (the frames carry none)."""
    return provenance.of(SimpleNamespace(attrs=attrs))


def source_line(data: ReportData) -> str:
    """The footer ``Source:`` text of the report's figures.

    Parameters
    ----------
    data
        The report's data (:func:`load_report_data`).
    """
    if data.synthetic:
        return "icsresearch synthetic demo data (fictional organisations, fixed seed)"
    return "NHS England, NHS Digital, ONS, MHCLG (OGL v3) via icsresearch panels"
