"""ONS Health Index for England by integrated care board, 2015-2021.

Publisher: Office for National Statistics, Health Index for England (integrated care systems
edition, OGL v3), as compiled by the healthyr package (``england_health_index_ics``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from ._base import (
    Column,
    Schema,
    codes,
    completeness,
    finish,
    flagged_rows,
    integers_in,
    numbers,
    read_rda_table,
    source,
)

_ICB_ONS = re.compile(r"^E54\d{6}$")
#: (published column, output column, label, what the score measures)
_SCORES = (
    (
        "overall_score",
        "overall_score",
        "Health Index",
        "Overall Health Index score, combining the three domains (ONS).",
    ),
    (
        "healthy_people_domain",
        "healthy_people",
        "Healthy People domain",
        "Health outcomes: mortality, physical and mental health conditions, difficulties in "
        "daily life, personal well-being.",
    ),
    (
        "healthy_lives_domain",
        "healthy_lives",
        "Healthy Lives domain",
        "Risk factors: behavioural risks, children and young people's health and education, "
        "physiological risk factors, protective measures (e.g. screening, vaccination).",
    ),
    (
        "healthy_places_domain",
        "healthy_places",
        "Healthy Places domain",
        "Wider determinants: access to green space, local services, crime, economic and "
        "working conditions, living conditions.",
    ),
)
#: Scores are scaled to 100 for England in 2015 (published ICB scores 83.7-118.3); values far
#: outside are not on this scale.
_SCORE_RANGE = (40.0, 160.0)

SCHEMA = Schema(
    dataset="health_index_icb",
    columns=(
        Column(
            "icb_ons_code",
            "ICB",
            "ONS E54 code",
            "Integrated care board, 2022 ONS code (icb22_code), 42 boards.",
        ),
        Column("icb_name", "ICB name", "", "As published (icb22_name)."),
        Column(
            "calendar_year",
            "Calendar year",
            "year",
            "CALENDAR year of the index (January-December), not a financial year: 2021 is the "
            "index for 2021, built from indicators of about that year. Compare with financial-"
            "year data (`year` elsewhere, 2021 = 2021/22) with care.",
        ),
        *(
            Column(
                out,
                label,
                "index (England 2015 = 100)",
                f"{what} Higher is healthier; 100 = England in 2015, so changes over time and "
                f"differences between boards are comparable. Published to 1 decimal.",
                bounds=(0, 300),
                typical=(70, 130),  # boards 2015-2021: 83.7-118.3
            )
            for _, out, label, what in _SCORES
        ),
    ),
    year_convention=(
        "Calendar years 2015-2021 (`calendar_year`). There is no `year` column: the index is not "
        "a financial-year measure, and panels keyed on financial years must decide how to align "
        "it (e.g. calendar 2021 with 2021/22)."
    ),
    notes=(
        "42 ICBs x 7 years (2015-2021), 294 rows, no value missing. The overall score is not "
        "the mean of the three domain scores (it differs from it by -2.3 to +2.6 points): ONS "
        "rescales each to England 2015 = 100 separately. Each ONS edition revises earlier years, "
        "so take a series from one edition only (this one ends in 2021)."
    ),
    key=("icb_ons_code", "calendar_year"),
)


def read_health_index_icb(path: str | Path | None = None) -> pd.DataFrame:
    """ONS Health Index scores (overall and three domains) by ICB and calendar year, 2015-2021.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_health_index_ics`` table in the healthyr layout
        (skips the registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per ICB and calendar year: icb_ons_code, icb_name, calendar_year,
        overall_score, healthy_people, healthy_lives, healthy_places.

    Raises
    ------
    DataFileError
        For an unreadable or truncated file, a wrong R object, missing columns, codes that are
        not ONS ICB codes, years outside 2015-2100, non-numeric scores or scores outside
        40-160 (not on the England 2015 = 100 scale), or an ICB repeated within a year.

    Examples
    --------
    >>> from icsresearch.sources.health_index import read_health_index_icb
    >>> hi = read_health_index_icb()  # doctest: +SKIP
    >>> hi.pivot(index="icb_name", columns="calendar_year", values="overall_score")  # doctest: +SKIP
    """
    src = source(SCHEMA.dataset, path)
    raw = read_rda_table(
        src,
        "england_health_index_ics",
        ["icb22_code", "icb22_name", "year", *(published for published, *_ in _SCORES)],
    )
    df = pd.DataFrame(
        {
            "icb_ons_code": codes(raw["icb22_code"], src, "icb22_code", pattern=_ICB_ONS),
            "icb_name": raw["icb22_name"].astype("string").str.strip().astype(str),
            "calendar_year": integers_in(raw["year"], src, "year", 2015, 2100),
        }
    )
    lo, hi = _SCORE_RANGE
    for published, out, *_ in _SCORES:
        score = numbers(raw[published], src, published)
        bad = (score < lo) | (score > hi)
        if bad.any():
            raise DataFileError(
                src.path,
                f"column {published!r} has {int(bad.sum())} score(s) outside {lo:g}-{hi:g} "
                f"({flagged_rows(raw[published], bad)})",
                "Health Index scores are on ONS's scale with England 2015 = 100; a file on "
                "another scale (0-1, ranks) cannot be read as it.",
            )
        df[out] = score
    df = df.sort_values(["icb_ons_code", "calendar_year"], kind="stable")
    years = df.assign(_year=pd.to_datetime(df["calendar_year"].astype(str), format="%Y"))
    coverage = completeness(
        years,
        counts=[out for _, out, *_ in _SCORES],
        period="_year",
        freq="YS",
        units="icb_ons_code",
    )
    return finish(df, SCHEMA, src, coverage=coverage)
