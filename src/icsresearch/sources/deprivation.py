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
