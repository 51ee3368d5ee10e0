"""English Indices of Deprivation: IMD 2019 by LSOA (2011) and IMD 2025 summaries for the 42 ICBs.

Publisher: Ministry of Housing, Communities & Local Government (OGL v3), via the humaniverse IMD
R package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ._base import Column, Schema, _refetch_hint, finish, numbers, read_rda, source
from .lsoa import LSOA11_ENGLAND, N_LSOA11_ENGLAND
from .ods import ICB_ONS_CODE, checked_codes, published_names

#: The seven IoD domains and the IMD, as (published prefix in the 2019 file, output prefix, label).
DOMAINS_2019 = (
    ("IMD", "imd", "Index of Multiple Deprivation"),
    ("Income", "income", "Income"),
    ("Employment", "employment", "Employment"),
    ("Education", "education", "Education, Skills and Training"),
    ("Health", "health", "Health Deprivation and Disability"),
    ("Crime", "crime", "Crime"),
    ("Housing_and_Access", "housing", "Barriers to Housing and Services"),
    ("Environment", "environment", "Living Environment"),
)


def _int_column(
    values: pd.Series, src, column: str, lo: int, hi: int, *, first_row: int = 1
) -> pd.Series:
    """Whole numbers between lo and hi, none missing; else a DataFileError naming rows."""
    num = numbers(values, src, column)
    bad = num.isna() | (num < lo) | (num > hi) | (num != np.floor(num))
    if bad.any():
        shown = ", ".join(
            f"row {pos + first_row}: {_shown(values.iloc[pos])}"
            for pos in np.flatnonzero(bad.to_numpy())[:5]
        )
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not whole numbers "
            f"{lo}-{hi} ({shown})",
            "Ranks run from 1 (most deprived) to the number of areas and deciles from 1 to 10; "
            "check the file is the published one.",
        )
    return num.astype(int)


def _shown(value) -> str:
    """A value as a reader would write it: 40000 rather than np.float64(40000.0)."""
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return repr(value)


# --- IMD 2019 by LSOA ----------------------------------------------------------------------------

IMD2019 = Schema(
    dataset="imd2019_lsoa",
    columns=(
        Column("lsoa11_code", "LSOA", "ONS E01 code", "Lower layer super output area (2011)."),
        *(
            column
            for _, out, label in DOMAINS_2019
            for column in (
                Column(
                    f"{out}_rank",
                    f"{label} rank",
                    "rank 1-32,844",
                    f"Rank of the LSOA among the 32,844 in England on the {label} "
                    f"{'index' if out == 'imd' else 'domain'}: 1 = most deprived.",
                ),
                Column(
                    f"{out}_decile",
                    f"{label} decile",
                    "decile 1-10",
                    "National decile of the rank: 1 = the most deprived 10% of LSOAs.",
                ),
            )
        ),
    ),
    year_convention="No year column: the 2019 release; most indicators refer to 2015/16.",
    notes="32,844 English LSOAs (2011), each once. Rank 1 is the most deprived. Ranks are tied "
    "where scores are tied (26 pairs of LSOAs share an IMD rank, and the next rank is skipped), "
    "so ranks are not a permutation of 1..32,844. Deciles are ceil(rank / 3,284.4). The "
    "'Housing_and_Access' domain of the file is Barriers to Housing and Services (housing_*), "
    "'Environment' the Living Environment.",
    key=("lsoa11_code",),
)


def read_imd2019_lsoa(path: str | Path | None = None) -> pd.DataFrame:
    """Index of Multiple Deprivation 2019: ranks and deciles of the IMD and its 7 domains by LSOA.

    Parameters
    ----------
    path
        An ``.rda`` file with an ``imd2019_england_lsoa11`` table in the humaniverse IMD
        layout; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        lsoa11_code, imd_rank, imd_decile, income_rank, income_decile, employment_*,
        education_*, health_*, crime_*, housing_*, environment_* (rank 1 = most deprived).
    """
    src = source(IMD2019.dataset, path)
    required = ["lsoa11_code"] + [
        f"{pub}_{what}" for pub, _, _ in DOMAINS_2019 for what in ("rank", "decile")
    ]
    raw = read_rda(src, "imd2019_england_lsoa11", required=required)
    if raw.empty:
        raise DataFileError(src.path, "has no rows in imd2019_england_lsoa11", _refetch_hint(src))
    df = pd.DataFrame(
        {
            "lsoa11_code": checked_codes(
                raw["lsoa11_code"],
                src,
                "lsoa11_code",
                LSOA11_ENGLAND,
                "English 2011 LSOA codes (E01000001)",
                first_row=1,
            )
        }
    )
    for pub, out, _ in DOMAINS_2019:
        df[f"{out}_rank"] = _int_column(raw[f"{pub}_rank"], src, f"{pub}_rank", 1, N_LSOA11_ENGLAND)
        df[f"{out}_decile"] = _int_column(raw[f"{pub}_decile"], src, f"{pub}_decile", 1, 10)
    return finish(df, IMD2019, src)


# --- IMD 2025 ICB summaries --------------------------------------------------------------------

#: 2025 file prefixes -> output prefixes and labels.
DOMAINS_2025 = (
    ("imd", "imd", "IMD"),
    ("income", "income", "Income"),
    ("employment", "employment", "Employment"),
    ("education_skills_and_training", "education", "Education, Skills and Training"),
    ("health_deprivation_and_disability", "health", "Health Deprivation and Disability"),
    ("crime", "crime", "Crime"),
    ("barriers_to_housing_and_services", "housing", "Barriers to Housing and Services"),
    ("living_environment", "environment", "Living Environment"),
)
_MOST_DEPRIVED = "proportion_of_lso_as_in_most_deprived_10_percent_nationally"


#: Hard bounds of a domain's score: income and employment are rates of people (0-1); health and
#: crime are standardised (mean 0; LSOAs range -3.3 to 3.5); the others are 0-100 scores.
_SCORE_BOUNDS = {
    "income": (0.0, 1.0),
    "employment": (0.0, 1.0),
    "health": (-10.0, 10.0),
    "crime": (-10.0, 10.0),
}
#: The usual range of the standardised scores (real LSOAs -3.3 to 3.5).
_SCORE_TYPICAL = {"health": (-5.0, 5.0), "crime": (-5.0, 5.0)}
#: Ranks of 2021 LSOAs run 1-33,755; averages of reversed ranks stay within them.
_AVG_RANK_BOUNDS = (1.0, 33_755.0)


def _summary_measures() -> list[tuple[str, Column, str]]:
    """(published name, output column, kind) for every ICB summary measure; kind: rank/share/value."""
    out: list[tuple[str, Column, str]] = []
    for pub, short, label in DOMAINS_2025:
        out += [
            (
                f"{pub}_average_rank",
                Column(
                    f"{short}_avg_rank",
                    f"{label}: average rank",
                    "rank",
                    "Population-weighted average of the ICB's LSOA ranks, with the LSOAs ranked "
                    "so that the most deprived has the highest rank: higher = more deprived.",
                    bounds=_AVG_RANK_BOUNDS,
                ),
                "value",
            ),
            (
                f"{pub}_rank_of_average_rank",
                Column(
                    f"{short}_rank_of_avg_rank",
                    f"{label}: rank of average rank",
                    "rank 1-42",
                    "Rank of the ICB on the average rank: 1 = most deprived.",
                ),
                "rank",
            ),
            (
                f"{pub}_average_score",
                Column(
                    f"{short}_avg_score",
                    f"{label}: average score",
                    "score",
                    "Population-weighted average of the LSOA scores: higher = more deprived "
                    "(income/employment scores are rates of people deprived; health and crime "
                    "scores are standardised and can be negative).",
                    bounds=_SCORE_BOUNDS.get(short, (0.0, 100.0)),
                    typical=_SCORE_TYPICAL.get(short),
                ),
                "value",
            ),
            (
                f"{pub}_rank_of_average_score",
                Column(
                    f"{short}_rank_of_avg_score",
                    f"{label}: rank of average score",
                    "rank 1-42",
                    "Rank of the ICB on the average score: 1 = most deprived.",
                ),
                "rank",
            ),
            (
                f"{pub}_{_MOST_DEPRIVED}",
                Column(
                    f"{short}_most_deprived_10pct_share",
                    f"{label}: share of LSOAs in the most deprived 10%",
                    "0-1",
                    "Share of the ICB's LSOAs in the most deprived 10% of LSOAs nationally.",
                ),
                "share",
            ),
            (
                f"{pub}_rank_of_{_MOST_DEPRIVED}",
                Column(
                    f"{short}_rank_of_most_deprived_10pct",
                    f"{label}: rank of share in most deprived 10%",
                    "rank 1-42",
                    "Rank of the ICB on that share: 1 = highest share (ties share a rank).",
                ),
                "rank",
            ),
        ]
        if short == "imd":
            out += [
                (
                    "imd_2025_extent",
                    Column(
                        "imd_extent_share",
                        "IMD: extent",
                        "0-1",
                        "Share of the ICB's population living in the most deprived LSOAs "
                        "nationally (the IoD 'extent' measure, weighting the most deprived 30%).",
                    ),
                    "share",
                ),
                (
                    "imd_2025_rank_of_extent",
                    Column(
                        "imd_rank_of_extent",
                        "IMD: rank of extent",
                        "rank 1-42",
                        "1 = most deprived.",
                    ),
                    "rank",
                ),
                (
                    "imd_2025_local_concentration",
                    Column(
                        "imd_local_concentration",
                        "IMD: local concentration",
                        "rank",
                        "Population-weighted average rank of the ICB's most deprived LSOAs "
                        "holding 10% of its population (highest rank = most deprived).",
                        bounds=_AVG_RANK_BOUNDS,
                    ),
                    "value",
                ),
                (
                    "imd_2025_rank_of_local_concentration",
                    Column(
                        "imd_rank_of_local_concentration",
                        "IMD: rank of local concentration",
                        "rank 1-42",
                        "1 = most deprived.",
                    ),
                    "rank",
                ),
            ]
        if short in ("income", "employment"):
            out += [
                (
                    f"{pub}_scale",
                    Column(
                        f"{short}_scale_count",
                        f"{label}: scale",
                        "people",
                        f"Number of people {short}-deprived in the ICB (can be fractional: "
                        "modelled).",
                        # England has 57m people; the largest ICB 857,240 income-deprived
                        bounds=(0.0, 6e7),
                        typical=(0.0, 3e6),
                    ),
                    "value",
                ),
                (
                    f"rank_of_{pub}_scale",
                    Column(
                        f"{short}_rank_of_scale",
                        f"{label}: rank of scale",
                        "rank 1-42",
                        "1 = most people deprived.",
                    ),
                    "rank",
                ),
            ]
    return out


_MEASURES = _summary_measures()

IMD2025_ICB = Schema(
    dataset="imd2025_icb",
    columns=(
        Column(
            "icb_ons_code",
            "ICB",
            "ONS E54 code",
            "ICB, 2024 ONS codes (Surrey Heartlands E54000063, Sussex E54000064).",
        ),
        Column("icb_name", "ICB name", "", "icb24_name as published."),
        *(column for _, column, _ in _MEASURES),
    ),
    year_convention="No year column: the 2025 release, summarised for the 42 ICBs of 2024.",
    notes="42 ICBs with the 2024 ONS codes: Surrey Heartlands and Sussex are E54000063/64 here, "
    "not the E54000052/53 of the 2022 files (their boundary moved in 2023), so join to 2022 data "
    "through the ICB Q-code or name, not the E54 code. The 2025 indices rank LSOAs of 2021 "
    "(33,755 in England). Ranks of ICBs run 1-42 with 1 the most deprived; shares are 0-1 "
    "fractions. The published column names misspell LSOAs as 'lso_as'.",
    key=("icb_ons_code",),
)


def read_imd2025_icb(path: str | Path | None = None) -> pd.DataFrame:
    """IMD 2025 summary measures for the 42 ICBs (2024 ONS codes).

    Parameters
    ----------
    path
        An ``.rda`` file with an ``imd2025_england_icb24`` table in the humaniverse IMD layout;
        by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        icb_ons_code, icb_name and, for the IMD and each domain, ``*_avg_rank``,
        ``*_rank_of_avg_rank``, ``*_avg_score``, ``*_rank_of_avg_score``,
        ``*_most_deprived_10pct_share`` and its rank; plus the IMD extent and local
        concentration and the income/employment scale (see ``attrs["columns"]``).
    """
    src = source(IMD2025_ICB.dataset, path)
    required = ["icb24_code", "icb24_name"] + [pub for pub, _, _ in _MEASURES]
    raw = read_rda(src, "imd2025_england_icb24", required=required)
    if raw.empty:
        raise DataFileError(src.path, "has no rows in imd2025_england_icb24", _refetch_hint(src))
    n = len(raw)
    df = pd.DataFrame(
        {
            "icb_ons_code": checked_codes(
                raw["icb24_code"],
                src,
                "icb24_code",
                ICB_ONS_CODE,
                "ONS ICB codes (E54000008)",
                first_row=1,
            ),
            "icb_name": published_names(raw["icb24_name"]),
        }
    )
    for pub, column, kind in _MEASURES:
        if kind == "rank":
            df[column.name] = _int_column(raw[pub], src, pub, 1, n)
            continue
        values = numbers(raw[pub], src, pub)
        if values.isna().any():
            raise DataFileError(
                src.path,
                f"column {pub!r} has {int(values.isna().sum())} missing value(s)",
                "Every ICB has every summary measure in the published file.",
            )
        if kind == "share" and not values.between(0, 1).all():
            raise DataFileError(
                src.path,
                f"column {pub!r} has values outside 0-1 (max {values.max():g}); the published "
                "layout gives proportions",
                "If your file gives percentages, divide the column by 100 before reading.",
            )
        df[column.name] = values
    return finish(df, IMD2025_ICB, src)


# --- IMD 2025 by LSOA (2021) -----------------------------------------------------------------

#: Number of LSOAs (2021) in England, ranked by the 2025 indices.
N_LSOA21 = 33_755

#: The IMD and seven domains in the 2025 LSOA file: (published prefix, output prefix, label,
#: description of the score).
DOMAINS_2025_LSOA = (
    (
        "IMD",
        "imd",
        "Index of Multiple Deprivation",
        "IMD score: the seven domain scores, ranked, exponentially transformed and combined "
        "with the published domain weights; 0-100, higher = more deprived. A relative "
        "measure: compare ranks or deciles, not score differences.",
    ),
    (
        "Income",
        "income",
        "Income",
        "Proportion of the LSOA's population experiencing income deprivation, 0-1 (3 d.p.).",
    ),
    (
        "Employment",
        "employment",
        "Employment",
        "Proportion of the LSOA's working-age population involuntarily excluded from work, "
        "0-1 (3 d.p.).",
    ),
    (
        "Education",
        "education",
        "Education, Skills and Training",
        "Domain score (combined indicators of children's attainment and adult skills): higher "
        "= more deprived; not a rate.",
    ),
    (
        "Health",
        "health",
        "Health Deprivation and Disability",
        "Domain score, standardised (about -3 to 3; negative = less deprived than average): "
        "higher = more deprived.",
    ),
    (
        "Crime",
        "crime",
        "Crime",
        "Domain score, standardised (about -3 to 3; negative = less deprived than average): "
        "higher = more deprived.",
    ),
    (
        "Housing_and_Services",
        "housing",
        "Barriers to Housing and Services",
        "Domain score (geographical barriers and wider barriers such as affordability): "
        "higher = more deprived; not a rate.",
    ),
    (
        "Environment",
        "environment",
        "Living Environment",
        "Domain score (indoors: housing condition, heating; outdoors: air quality, road "
        "traffic accidents): higher = more deprived; not a rate.",
    ),
)
#: Domains whose scores are proportions 0-1 (a file giving percentages is refused).
_RATE_SCORES = ("income", "employment")

IMD2025_LSOA = Schema(
    dataset="imd2025_lsoa",
    columns=(
        Column("lsoa21_code", "LSOA", "ONS E01 code", "Lower layer super output area (2021)."),
        *(
            column
            for _, out, label, score in DOMAINS_2025_LSOA
            for column in (
                Column(
                    f"{out}_score",
                    f"{label} score",
                    "0-1" if out in _RATE_SCORES else "score",
                    score,
                    bounds=_SCORE_BOUNDS.get(out, (0.0, 100.0)),
                    typical=_SCORE_TYPICAL.get(out),
                ),
                Column(
                    f"{out}_rank",
                    f"{label} rank",
                    "rank 1-33,755",
                    f"Rank of the LSOA among the 33,755 in England on the {label} "
                    f"{'index' if out == 'imd' else 'domain'}: 1 = most deprived. Equal scores "
                    "share a rank and the next rank is skipped.",
                ),
                Column(
                    f"{out}_decile",
                    f"{label} decile",
                    "decile 1-10",
                    "National decile of the rank, ceil(rank x 10 / 33,755): 1 = the most "
                    "deprived 10% of LSOAs.",
                ),
            )
        ),
    ),
    year_convention="No year column: the 2025 release of the English Indices of Deprivation; "
    "most indicators refer to 2021-2023.",
    notes="33,755 English LSOAs (2021), each once (Wales has its own index). Rank 1 is the "
    "most deprived. The IMD, employment, health, crime and living environment ranks are a "
    "permutation of 1..33,755; income has 3 tied pairs of ranks, education and barriers to "
    "housing and services 1 each (equal scores; the next rank is skipped). Deciles are "
    "ceil(rank x 10 / 33,755) (3,375 or 3,376 LSOAs each). Scores are rounded to 3 decimals, "
    "so ranks order LSOAs that print the same score. Not comparable with IMD 2019 ranks "
    "(2011 LSOAs, other indicator years) except as relative positions. No populations: "
    "population-weighted averages for larger areas cannot be recomputed from this table.",
    key=("lsoa21_code",),
)


def read_imd2025_lsoa(path: str | Path | None = None) -> pd.DataFrame:
    """Index of Multiple Deprivation 2025 by LSOA (2021): score, rank and decile of each domain.

    Parameters
    ----------
    path
        An ``.rda`` file with an ``imd2025_england_lsoa21`` table in the humaniverse IMD layout
        (``lsoa21_code`` and ``<Domain>_score``, ``<Domain>_rank``, ``<Domain>_decile`` for IMD,
        Income, Employment, Education, Health, Crime, Housing_and_Services, Environment); by
        default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per English LSOA: lsoa21_code, imd_score, imd_rank, imd_decile, then
        ``*_score``, ``*_rank``, ``*_decile`` for income, employment, education, health, crime,
        housing and environment (rank 1 = most deprived).

    Examples
    --------
    >>> from icsresearch.sources.deprivation import read_imd2025_lsoa
    >>> imd = read_imd2025_lsoa()  # doctest: +SKIP
    >>> (imd.imd_decile == 1).mean()  # doctest: +SKIP
    """
    from ._base import completeness
    from .lsoa import LSOA21_ENGLAND

    src = source(IMD2025_LSOA.dataset, path)
    table = "imd2025_england_lsoa21"
    required = ["lsoa21_code"] + [
        f"{pub}_{what}" for pub, *_ in DOMAINS_2025_LSOA for what in ("score", "rank", "decile")
    ]
    raw = read_rda(src, table, required=required)
    if raw.empty:
        raise DataFileError(src.path, f"has no rows in {table}", _refetch_hint(src))
    df = pd.DataFrame(
        {
            "lsoa21_code": checked_codes(
                raw["lsoa21_code"],
                src,
                "lsoa21_code",
                LSOA21_ENGLAND,
                "English 2021 LSOA codes (E01000001)",
                first_row=1,
            )
        }
    )
    for pub, out, _, _ in DOMAINS_2025_LSOA:
        score = numbers(raw[f"{pub}_score"], src, f"{pub}_score")
        _no_missing(score, src, f"{pub}_score")
        if out in _RATE_SCORES and not score.between(0, 1).all():
            raise DataFileError(
                src.path,
                f"column '{pub}_score' has values outside 0-1 (max {score.max():g}); the "
                "published layout gives the proportion of people deprived",
                "If your file gives percentages, divide the column by 100 before reading.",
            )
        if out == "imd" and not score.between(0, 100).all():
            raise DataFileError(
                src.path,
                f"column 'IMD_score' has values outside 0-100 (from {score.min():g} to "
                f"{score.max():g})",
                "The IMD score combines exponentially transformed domain ranks and lies in "
                "0-100; check the column has not been shifted.",
            )
        rank = _int_column(raw[f"{pub}_rank"], src, f"{pub}_rank", 1, N_LSOA21)
        decile = _int_column(raw[f"{pub}_decile"], src, f"{pub}_decile", 1, 10)
        expected = -((-rank * 10) // N_LSOA21)  # ceil(rank * 10 / N) in whole numbers
        off = decile != expected
        if off.any():
            pos = int(off.to_numpy().nonzero()[0][0])
            raise DataFileError(
                src.path,
                f"column '{pub}_decile' disagrees with '{pub}_rank' in {int(off.sum())} row(s), "
                f"e.g. row {pos + 1} ({df['lsoa21_code'].iloc[pos]}): rank {rank.iloc[pos]} "
                f"is decile {expected.iloc[pos]}, not {decile.iloc[pos]}",
                "Deciles are ceil(rank x 10 / 33,755) of the national rank; check the file "
                "is the published one and its columns are not shifted.",
            )
        _check_order(df["lsoa21_code"], score, rank, src, f"{pub}_score", f"{pub}_rank")
        df[f"{out}_score"] = score
        df[f"{out}_rank"] = rank
        df[f"{out}_decile"] = decile
    coverage = completeness(df, counts=["imd_score", "imd_rank"], units="lsoa21_code")
    return finish(df, IMD2025_LSOA, src, coverage=coverage)


def _no_missing(values: pd.Series, src, column: str) -> None:
    if values.isna().any():
        pos = int(values.isna().to_numpy().nonzero()[0][0])
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(values.isna().sum())} missing value(s) (first at row "
            f"{pos + 1})",
            "Every area has every value in the published file.",
        )


def _check_order(
    names: pd.Series, value: pd.Series, rank: pd.Series, src, value_col: str, rank_col: str
) -> None:
    """Rank 1 = most deprived: ordered by rank, the values never rise."""
    order = np.argsort(rank.to_numpy(), kind="stable")
    v = value.to_numpy()[order]
    rises = np.flatnonzero(v[1:] > v[:-1] + 1e-9)
    if len(rises):
        a, b = order[rises[0]], order[rises[0] + 1]
        raise DataFileError(
            src.path,
            f"columns {value_col!r} and {rank_col!r} disagree: {names.iloc[a]} (rank "
            f"{rank.iloc[a]}) has {value_col} {_shown(value.iloc[a])} but {names.iloc[b]} "
            f"(rank {rank.iloc[b]}, less deprived) has {_shown(value.iloc[b])}",
            "Rank 1 is the most deprived, i.e. the highest value; check the columns have not "
            "been shifted or re-sorted separately.",
        )


# --- IMD 2025 summaries for the 296 local authority districts (2024) --------------------------

#: Number of English local authority districts in 2024.
N_LTLA24 = 296

_DISTRICT_TEXT = {
    "imd_avg_score": "Population-weighted mean of the district's LSOA IMD scores (MHCLG's "
    "population weights, which are not in this package's data): higher = more deprived. Not "
    "recomputable from read_imd2025_lsoa() without them; for the Isles of Scilly (one LSOA) it "
    "equals the LSOA's score.",
    "imd_avg_rank": "Population-weighted mean of the district's LSOA IMD ranks, with the ranks "
    "reversed so that the most deprived LSOA has rank 33,755 (an LSOA of rank r counts as "
    "33,756 - r): higher = more deprived. For the Isles of Scilly, 33,756 minus its LSOA rank.",
    "imd_most_deprived_10pct_share": "Number of the district's LSOAs in the most deprived 10% "
    "of LSOAs nationally (IMD decile 1) / number of its LSOAs, 0-1 to 4 d.p.: a count of areas, "
    "not people, so it can be recomputed from read_imd2025_lsoa() and an LSOA-district lookup.",
    "imd_extent_share": "Extent: share of the district's population living in the most "
    "deprived 30% of LSOAs nationally, the most deprived 10% counted fully and the next 20% "
    "with weights falling on a sliding scale, 0-1.",
    "imd_local_concentration": "Local concentration: population-weighted mean of the reversed "
    "ranks (highest = most deprived) of the district's most deprived LSOAs that together hold "
    "10% of its population: higher = more deprived hot spots.",
}


def _district_measures() -> list[tuple[str, Column, str]]:
    """The ICB summary measures as published for districts (``imd25_`` prefixes, ranks 1-296)."""
    from dataclasses import replace

    out = []
    for pub, column, kind in _MEASURES:
        description = column.description.replace("ICB's", "district's").replace("ICB", "district")
        out.append(
            (
                pub.replace("imd_2025_", "imd25_"),
                replace(
                    column,
                    unit=column.unit.replace("1-42", f"1-{N_LTLA24}"),
                    description=_DISTRICT_TEXT.get(column.name, description),
                ),
                kind,
            )
        )
    return out


_DISTRICT_MEASURES = _district_measures()

IMD2025_LTLA = Schema(
    dataset="imd2025_ltla",
    columns=(
        Column(
            "ltla_code",
            "Local authority",
            "ONS code",
            "Lower-tier local authority district, 2024 (E06/E07/E08/E09).",
        ),
        Column("ltla_name", "Local authority name", "", "ltla24_name as published."),
        *(column for _, column, _ in _DISTRICT_MEASURES),
    ),
    year_convention="No year column: the 2025 release, summarised for the 296 English local "
    "authority districts of 2024.",
    notes="296 districts, each once; the same measures as read_imd2025_icb() (average rank and "
    "score, share of LSOAs in the most deprived 10%, their ranks, the IMD extent and local "
    "concentration, the income and employment scale) with district ranks 1-296 (1 = most "
    "deprived; ties share the lower rank, so e.g. the 104 districts with no LSOA in the most "
    "deprived 10% all rank 193). Average ranks and scores, extent and local concentration "
    "are population-weighted and cannot be recomputed without LSOA populations; the share in "
    "the most deprived 10% can: from read_imd2025_lsoa() and read_lsoa21_ward_ltla24_lookup() "
    "it matches for 294 districts, and for Cherwell and West Northamptonshire once LSOA "
    "E01027305, which that best-fit lookup puts in Cherwell, is counted in West "
    "Northamptonshire as MHCLG does. Published names misspell LSOAs as 'lso_as' and prefix "
    "extent and local concentration 'imd25_' (the ICB file: 'imd_2025_').",
    key=("ltla_code",),
)


def read_imd2025_ltla(path: str | Path | None = None) -> pd.DataFrame:
    """IMD 2025 summary measures for the 296 local authority districts of England (2024).

    Parameters
    ----------
    path
        An ``.rda`` file with an ``imd2025_england_ltla24`` table in the humaniverse IMD layout;
        by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        ltla_code, ltla_name and, for the IMD and each domain, ``*_avg_rank``,
        ``*_rank_of_avg_rank``, ``*_avg_score``, ``*_rank_of_avg_score``,
        ``*_most_deprived_10pct_share`` and its rank; plus the IMD extent and local
        concentration and the income/employment scale (see ``attrs["columns"]``).

    Examples
    --------
    >>> from icsresearch.sources.deprivation import read_imd2025_ltla
    >>> la = read_imd2025_ltla()  # doctest: +SKIP
    >>> la.nsmallest(5, "imd_rank_of_avg_score")[["ltla_name", "imd_avg_score"]]  # doctest: +SKIP
    """
    from ._base import completeness
    from .lsoa import LTLA_CODE

    src = source(IMD2025_LTLA.dataset, path)
    table = "imd2025_england_ltla24"
    required = ["ltla24_code", "ltla24_name"] + [pub for pub, _, _ in _DISTRICT_MEASURES]
    raw = read_rda(src, table, required=required)
    if raw.empty:
        raise DataFileError(src.path, f"has no rows in {table}", _refetch_hint(src))
    code = checked_codes(
        raw["ltla24_code"],
        src,
        "ltla24_code",
        LTLA_CODE,
        "local authority codes (E06000001)",
        first_row=1,
    )
    if code.str.startswith("W").any():
        raise DataFileError(
            src.path,
            f"column 'ltla24_code' has Welsh authorities ({code[code.str.startswith('W')].iloc[0]})",
            "The English indices cover English districts only (E06-E09).",
        )
    df = pd.DataFrame({"ltla_code": code, "ltla_name": published_names(raw["ltla24_name"])})
    previous = None
    for pub, column, kind in _DISTRICT_MEASURES:
        if kind == "rank":
            df[column.name] = _int_column(raw[pub], src, pub, 1, N_LTLA24)
            value_pub, value_col = previous
            _check_order(df["ltla_name"], df[value_col], df[column.name], src, value_pub, pub)
            continue
        values = numbers(raw[pub], src, pub)
        _no_missing(values, src, pub)
        if kind == "share" and not values.between(0, 1).all():
            raise DataFileError(
                src.path,
                f"column {pub!r} has values outside 0-1 (max {values.max():g}); the published "
                "layout gives proportions",
                "If your file gives percentages, divide the column by 100 before reading.",
            )
        df[column.name] = values
        previous = (pub, column.name)
    coverage = completeness(df, counts=["imd_avg_score"], units="ltla_code")
    return finish(df, IMD2025_LTLA, src, coverage=coverage)
