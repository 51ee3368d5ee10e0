"""Hospital Episode Statistics (HES) admitted patient care: episodes and admissions by provider.

Publisher: NHS Digital, Hospital Admitted Patient Care Activity (OGL v3), as compiled by Asaria,
McGuire & Street (2022) in ``inpatient_data.csv``; :func:`casemix_shares` reproduces the case-mix
controls of that paper.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError, InvalidParameterError
from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    codes,
    finish,
    integers_in,
    numbers,
    read_csv_text,
    show,
    source,
)

#: Published age-band column -> output suffix.
AGE_BANDS: dict[str, str] = {
    "0-14": "0_14",
    "15-29": "15_29",
    "30-44": "30_44",
    "45-59": "45_59",
    "60-74": "60_74",
    "75-89": "75_89",
    "90+": "90_plus",
}

_COUNTS = {
    "TOTAL_EPISODES": "total_episodes",
    "ADMISSIONS": "admissions",
    "MALE_ADMISSIONS": "male_admissions",
    "FEMALE_ADMISSIONS": "female_admissions",
    **{band: f"admissions_age_{suffix}" for band, suffix in AGE_BANDS.items()},
}

#: Bounds of one trust's episodes in a year: the largest has about 480,000; ten million is
#: impossible, over a million unusual.
_TRUST_YEAR_COUNT = {"bounds": (0, 10_000_000), "typical": (0, 1_000_000)}

SCHEMA = Schema(
    dataset="hm_admissions",
    columns=(
        Column(
            "trust_code",
            "Provider",
            "ODS code",
            "Provider ODS code with the compilation's '-X' suffix removed (NHS trusts have 3 "
            "characters, independent-sector sites 5, e.g. NT427).",
        ),
        Column(
            "trust_code_published",
            "Code as published",
            "",
            "ORG_CODE as in the file, surrounding spaces removed (e.g. 'RQQ-X').",
        ),
        Column("year", "Financial year", "FY start", "Financial year start (2012 = 2012/13)."),
        Column(
            "total_episodes",
            "Finished consultant episodes",
            "count",
            "TOTAL_EPISODES: finished consultant episodes (FCEs) in the year.",
            **_TRUST_YEAR_COUNT,
        ),
        Column(
            "admissions",
            "Admissions",
            "count",
            "ADMISSIONS: first episodes of admitted spells (admissions) in the year.",
            **_TRUST_YEAR_COUNT,
        ),
        Column(
            "male_admissions",
            "Male",
            "count",
            "MALE_ADMISSIONS as published; despite the name it sums with female_admissions to "
            "about total_episodes, not admissions (see notes).",
            **_TRUST_YEAR_COUNT,
        ),
        Column(
            "female_admissions",
            "Female",
            "count",
            "FEMALE_ADMISSIONS as published (episodes with sex recorded female; see notes).",
            **_TRUST_YEAR_COUNT,
        ),
        *(
            Column(
                f"admissions_age_{suffix}",
                f"Age {band}",
                "count",
                f"Published age band {band!r}: episodes of patients aged {band.replace('+', ' and over')}.",
                **_TRUST_YEAR_COUNT,
            )
            for band, suffix in AGE_BANDS.items()
        ),
    ),
    year_convention="YEAR is already the financial-year start. " + YEAR_CONVENTION,
    notes=(
        "Counts by sex and age band are of episodes: MALE + FEMALE equals TOTAL_EPISODES in "
        "1,741 of 3,245 rows and is below it in 1,449 (sex unknown), while it equals ADMISSIONS "
        "in only 1,511; the seven age bands add up to less than TOTAL_EPISODES in 2,917 rows "
        "(age unknown). From 2016/17 every count is rounded to the nearest 5 (HES disclosure "
        "control), so in small providers the parts can exceed the total (55 rows by sex, 40 by "
        "age, all 2016-2018) and a 0 may hide a small count; before 2016/17 counts are exact "
        "(about 20% of them are multiples of 5, as chance gives). ORG_CODE has surrounding spaces "
        "in every row of 2013 and 2018, and 96 rows carry a '-X' suffix (stripped into "
        "trust_code; no trust-year appears twice after stripping). 35 rows have no episodes. "
        "Besides NHS trusts (R..., T...) it includes independent-sector providers (5-character "
        "codes such as NT427) and primary care trust providers (5.. codes, 2012 only)."
    ),
    key=("trust_code", "year"),
)


def read_admissions(path: str | Path | None = None) -> pd.DataFrame:
    """HES episodes and admissions by provider and financial year, by sex and age band.

    Parameters
    ----------
    path
        A file in the published layout of ``inpatient_data.csv``; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``trust_code``, ``trust_code_published``, ``year``, ``total_episodes``,
        ``admissions``, ``male_admissions``, ``female_admissions`` and
        ``admissions_age_0_14`` ... ``admissions_age_90_plus`` (nullable Int64 counts: a
        suppressed ``*`` or blank count stays missing, never back-calculated).

    Raises
    ------
    DataFileError
        If columns are missing, counts are negative or fractional, or a code with and
        without its '-X' suffix both appear in one year.
    """
    src = source(SCHEMA.dataset, path)
    raw = read_csv_text(src, required=["YEAR", "ORG_CODE", *_COUNTS])
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE", strip_suffix=True),
            "trust_code_published": raw["ORG_CODE"],
            "year": integers_in(raw["YEAR"], src, "YEAR", 2000, 2100),
        }
    )
    for published, name in _COUNTS.items():
        df[name] = _counts(raw[published], src, published)
    repeated = df.duplicated(["trust_code", "year"], keep=False)
    if repeated.any():
        clash = df.loc[repeated].sort_values(["trust_code", "year"]).head(4)
        pairs = ", ".join(
            f"{r.trust_code_published!r} (row {i + 2}, {r.year})" for i, r in clash.iterrows()
        )
        raise DataFileError(
            src.path,
            f"has {int(repeated.sum())} rows that name the same provider and year once the "
            f"'-X' suffix is removed: {pairs}",
            "Keep one row per provider and year (the suffixed and plain codes are the same "
            "organisation), or check the file is not two releases concatenated.",
        )
    df = df.sort_values(["trust_code", "year"], kind="stable")
    return finish(df, SCHEMA, src)


def _counts(values: pd.Series, src, column: str) -> pd.Series:
    """Whole non-negative counts as nullable Int64; suppressed ('*') or blank stay missing."""
    num = numbers(values, src, column)
    bad = num.notna() & ((num < 0) | (num != np.floor(num)))
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not whole non-negative counts ({rows})",
            "HES counts are whole numbers >= 0; suppressed counts may be '*' or blank.",
        )
    return num.astype("Int64")


# --- case-mix controls (Asaria, McGuire & Street 2022) -------------------------------------------

CASEMIX_COLUMNS: dict[str, dict[str, str]] = {
    "female_pct": {
        "label": "Female share of inpatient admissions (%)",
        "unit": "%",
        "description": "round(female_admissions / total_episodes, 2) * 100: note the denominator "
        "is episodes, as in the paper; missing when there are no episodes.",
    },
    **{
        f"age_{suffix}_pct": {
            "label": f"Inpatient admissions age {band} (%)",
            "unit": "%",
            "description": f"round(admissions_age_{suffix} / (sum of the seven age bands), 2) * "
            "100; missing when all bands are 0 or any band is missing.",
        }
        for band, suffix in AGE_BANDS.items()
    },
}


def casemix_shares(df: pd.DataFrame) -> pd.DataFrame:
    """Case-mix shares exactly as defined by Asaria, McGuire & Street (2022).

    ``female_pct = round(FEMALE_ADMISSIONS / TOTAL_EPISODES, 2) * 100`` and, for each of the seven
    age bands, ``age_<band>_pct = round(band / (sum of the seven bands), 2) * 100``. Rounding to
    2 decimal places happens *before* multiplying by 100, so every share is a whole percentage.
    The paper computed them in R; rounding here follows R's ``round()`` exactly (the algorithm of
    R >= 4.0.0): ``round(1/40, 2)`` is 0.03 and ``round(1495/2600, 2)`` is 0.58 in R and here,
    where ``numpy.round`` gives 0.02 and Python's ``round`` 0.57. On the registry file the result
    equals R 4.2.2's for every row and column.

    Parameters
    ----------
    df
        The output of :func:`read_admissions` (or any table with ``trust_code``, ``year``,
        ``total_episodes``, ``female_admissions`` and the ``admissions_age_*`` columns).

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, ``female_pct`` and ``age_0_14_pct`` ... ``age_90_plus_pct``,
        whole numbers (float; NaN where a count is missing or the denominator is 0). The age
        shares need not sum to exactly 100 because each is rounded separately, and from 2016/17
        (counts rounded to 5) the shares of tiny providers are coarse.
        ``attrs["columns"]`` documents the columns.

    Raises
    ------
    InvalidParameterError
        If ``df`` lacks one of the required columns.
    """
    ages = [f"admissions_age_{suffix}" for suffix in AGE_BANDS.values()]
    needed = ["trust_code", "year", "total_episodes", "female_admissions", *ages]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"casemix_shares needs the columns of read_admissions(); missing {missing}. "
            "Pass the table returned by icsresearch.sources.admissions.read_admissions()."
        )
    out = pd.DataFrame({"trust_code": df["trust_code"], "year": df["year"]})
    out["female_pct"] = _pct_r(df["female_admissions"], df["total_episodes"])
    # A suppressed band makes the denominator unknown: the sum must not skip it.
    all_ages = df[ages].astype(float).sum(axis=1, skipna=False)
    for suffix, column in zip(AGE_BANDS.values(), ages, strict=True):
        out[f"age_{suffix}_pct"] = _pct_r(df[column], all_ages)
    out.attrs = {
        "source": df.attrs.get("source", ""),
        "derived_by": "icsresearch.sources.admissions.casemix_shares",
        "columns": CASEMIX_COLUMNS,
    }
    return out.reset_index(drop=True)


def _pct_r(part: pd.Series, whole: pd.Series) -> pd.Series:
    """``round(part / whole, 2) * 100`` with R's rounding, as an exact whole number (NaN for 0/0)."""
    whole = whole.astype(float)
    ratio = (part.astype(float) / whole.where(whole > 0)).to_numpy()
    # The float error of R's "* 100" (0.29 * 100 = 28.999999999999996) is dropped by rint.
    return pd.Series(np.rint(_round_r(ratio, 2) * 100), index=part.index, dtype=float)


def _round_r(x: np.ndarray, digits: int) -> np.ndarray:
    """R's ``round(x, digits)`` (R >= 4.0.0, src/nmath/fround.c) for x >= 0, vectorised.

    R takes the two candidates either side of ``x`` at ``digits`` decimals and returns the one
    closer to ``x`` *in double arithmetic*, the even one when both differences are equal. This
    is neither numpy.round (which rounds ``x * 10**digits``) nor Python's round (exact binary
    value): on the 1.13 million fractions f/t with t <= 1500, numpy.round disagrees with R 4.2.2
    in 204 cases and Python's round in 476, this function in none.
    """
    scale = 10.0**digits
    scaled = x * scale
    low = np.floor(scaled)
    down, up = low / scale, np.ceil(scaled) / scale
    gap_up, gap_down = up - x, x - down
    take_up = (gap_up < gap_down) | ((gap_up == gap_down) & (np.fmod(low, 2) == 1))
    return np.where(take_up, up, down)
