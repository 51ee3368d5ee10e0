"""NHS Staff Survey: the management questions 7a-7g and 8a-8d, and the trust management score.

Publisher: NHS England, NHS Staff Survey (OGL v3), compiled by Asaria, McGuire & Street (2022).

Year convention. The survey's fieldwork runs from late September to early December, so the
"2017 survey" (Oct-Nov 2017, published March 2018) lies in financial year 2017/18. The file's
``YEAR`` is that survey year, hence also the financial-year start. Checked: the responses to
question 8a summed over organisations are 412,538 for YEAR 2016 and 474,911 for YEAR 2017,
97.5% of the published national totals of the 2016 survey (423,000, 316 organisations) and the
2017 survey (487,227, 309 organisations) respectively; the 2015 survey had only 299,000
respondents, so the labels cannot be shifted by a year.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError, InvalidParameterError
from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    codes,
    derived,
    finish,
    integers_in,
    numbers,
    read_csv_text,
    source,
)

#: Questions on the immediate manager (7a-7g) and on senior managers (8a-8d).
IMMEDIATE_MANAGER_ITEMS = ("7a", "7b", "7c", "7d", "7e", "7f", "7g")
SENIOR_MANAGER_ITEMS = ("8a", "8b", "8c", "8d")
ITEMS = IMMEDIATE_MANAGER_ITEMS + SENIOR_MANAGER_ITEMS

# Published suffix -> output column, in scale order (1 = strongly disagree ... 5 = strongly agree).
_RESPONSES = {
    "SD": "pct_strongly_disagree",
    "D": "pct_disagree",
    "NAND": "pct_neither",
    "A": "pct_agree",
    "SA": "pct_strongly_agree",
}
# Rounded percentages (2016 and 2017 are whole numbers) sum to 98-102; beyond this the row is wrong.
_SUM_TOLERANCE = 3.0

# ODS codes, survey sub-units such as Isle of Wight's R1F1-R1F3, and merged CCG returns "01T/01V".
_SURVEY_CODE = re.compile(r"^[A-Z0-9]{3,5}(/[A-Z0-9]{3,5})*$")

_CODE_NOTE = (
    "Codes are kept as published: Isle of Wight NHS Trust (R1F) appears as R1F1 (all years) and "
    "R1F2, R1F3 (2016-2017), and CCGs that surveyed jointly as '01T/01V', '05J/05T/06D' etc., so "
    "these rows do not link to single ODS codes."
)

ITEM_SCHEMA = Schema(
    dataset="hm_staff_survey",
    columns=(
        Column(
            "trust_code",
            "Organisation",
            "ODS code",
            "ODS code of the surveyed organisation as published (see notes for R1F1-R1F3 and joint CCG codes).",
        ),
        Column(
            "year",
            "Financial year",
            "FY start",
            "Financial year start of the survey's fieldwork (= survey_year).",
        ),
        Column(
            "survey_year",
            "Survey year",
            "year",
            "YEAR as published: the NHS Staff Survey of that autumn (fieldwork Sep-Dec).",
        ),
        Column(
            "item",
            "Question",
            "",
            "Question number 7a-7g (immediate manager) or 8a-8d (senior managers); wording in "
            "read_staff_survey_questions().",
        ),
        Column("pct_strongly_disagree", "Strongly disagree", "%", "Share of responses, 0-100."),
        Column("pct_disagree", "Disagree", "%", "Share of responses, 0-100."),
        Column("pct_neither", "Neither agree nor disagree", "%", "Share of responses, 0-100."),
        Column("pct_agree", "Agree", "%", "Share of responses, 0-100."),
        Column("pct_strongly_agree", "Strongly agree", "%", "Share of responses, 0-100."),
        Column(
            "n_responses", "Responses", "count", "Number of staff who answered the question (_N)."
        ),
        Column(
            "item_score",
            "Item score",
            "1-5",
            "(1 x %SD + 2 x %D + 3 x %NAND + 4 x %A + 5 x %SA) / 100: the mean response on a 1-5 "
            "scale (Asaria, McGuire & Street 2022).",
        ),
    ),
    year_convention="YEAR is the autumn survey year, which is the financial-year start "
    "(the 2017 survey ran in Oct-Nov 2017, in 2017/18). " + YEAR_CONVENTION,
    notes="Items not asked in a year are 'NA' in all six columns and are left out: 7f and 7g "
    "start in 2015. 2012-2015 and 2018 cover about 150-160 acute trusts with unrounded "
    "percentages; 2016 and 2017 cover about 300 organisations (trusts and CCGs) with "
    "percentages published as whole numbers, which sum to 98-102, so item_score carries a "
    "rounding error of up to about 0.05 in those years. " + _CODE_NOTE,
    key=("trust_code", "year", "item"),
)


def read_staff_survey_items(path: str | Path | None = None) -> pd.DataFrame:
    """NHS Staff Survey management questions by organisation, year and question, with item scores.

    Parameters
    ----------
    path
        A file in the published layout of ``NHS_SS_management.csv`` (ORG_CODE, YEAR and, for each
        question 7a...8d, the columns ``<q>_SD``, ``<q>_D``, ``<q>_NAND``, ``<q>_A``, ``<q>_SA``
        and ``<q>_N``); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per organisation, year and question asked: ``trust_code``, ``year``,
        ``survey_year``, ``item``, the five ``pct_*`` columns, ``n_responses``, ``item_score``.

    Examples
    --------
    >>> from icsresearch.sources.staff_survey import read_staff_survey_items
    >>> items = read_staff_survey_items()  # doctest: +SKIP
    >>> items.query("trust_code == 'RBS' and year == 2017")[["item", "item_score"]]  # doctest: +SKIP
    """
    src = source(ITEM_SCHEMA.dataset, path)
    columns = [f"{item}_{suffix}" for item in ITEMS for suffix in [*_RESPONSES, "N"]]
    raw = read_csv_text(src, required=["ORG_CODE", "YEAR", *columns])
    code = codes(raw["ORG_CODE"], src, "ORG_CODE", pattern=_SURVEY_CODE)
    year = integers_in(raw["YEAR"], src, "YEAR", 2000, 2100)

    parts = []
    for item in ITEMS:
        pct = {
            out: numbers(raw[f"{item}_{suffix}"], src, f"{item}_{suffix}")
            for suffix, out in _RESPONSES.items()
        }
        n = numbers(raw[f"{item}_N"], src, f"{item}_N")
        part = pd.DataFrame({"trust_code": code, "year": year, "item": item, **pct})
        part["n_responses"] = n
        part["row"] = raw.index + 2  # file line, for error messages
        parts.append(part)
    df = pd.concat(parts, ignore_index=True)

    pct_cols = list(_RESPONSES.values())
    asked = df[[*pct_cols, "n_responses"]].notna().any(axis=1)
    df = df[asked].copy()
    _check_items(df, pct_cols, src)

    weights = np.arange(1, 6)
    df["item_score"] = (df[pct_cols].to_numpy() @ weights) / 100
    df["n_responses"] = df["n_responses"].astype("Int64")
    df["survey_year"] = df["year"]
    df = df.sort_values(["year", "trust_code", "item"])
    return finish(df, ITEM_SCHEMA, src)


def _check_items(df: pd.DataFrame, pct_cols: list[str], src) -> None:
    """Percentages 0-100 summing to ~100, whole non-negative response counts."""

    def fail(mask: pd.Series, problem: str, fix: str) -> None:
        bad = df[mask].head(5)
        where = ", ".join(
            f"line {r} item {i}" for r, i in zip(bad["row"], bad["item"], strict=True)
        )
        raise DataFileError(src.path, f"{problem} ({where})", fix)

    pct = df[pct_cols]
    partial = pct.isna().any(axis=1) | df["n_responses"].isna()
    if partial.any():
        fail(
            partial,
            f"has {int(partial.sum())} question(s) with some but not all of the six values",
            "A question not asked has 'NA' in all six columns (_SD, _D, _NAND, _A, _SA, _N); "
            "otherwise all six are needed.",
        )
    out_of_range = ((pct < 0) | (pct > 100)).any(axis=1)
    if out_of_range.any():
        fail(
            out_of_range,
            "has response percentages outside 0-100",
            "Percentages are 0-100; check the column order.",
        )
    total = pct.sum(axis=1)
    fractions = (total - 1).abs() <= 0.05  # shares 0-1 instead of percentages
    if fractions.any():
        fail(
            fractions,
            "has response shares that sum to 1, not 100: they look like fractions",
            "The published layout gives percentages 0-100; multiply the share columns by 100.",
        )
    off = (total - 100).abs() > _SUM_TOLERANCE
    if off.any():
        fail(
            off,
            f"has questions whose five response percentages do not sum to 100 (e.g. {total[off].iloc[0]:.1f})",
            "Each question's _SD, _D, _NAND, _A and _SA columns should add up to 100.",
        )
    n = df["n_responses"]
    bad_n = (n < 0) | (n != np.floor(n))
    if bad_n.any():
        fail(
            bad_n,
            "has response counts (_N) that are not whole non-negative numbers",
            "_N is the number of staff who answered the question.",
        )


# --- the trust management score -----------------------------------------------------------------

SCORE_SCHEMA = Schema(
    dataset="management_scores",
    columns=(
        Column("trust_code", "Organisation", "ODS code", "As in read_staff_survey_items()."),
        Column(
            "year",
            "Financial year",
            "FY start",
            "Financial year start of the survey (= survey year).",
        ),
        Column(
            "management_score",
            "Management score",
            "0-100",
            "Mean of the item scores present for the organisation-year, rescaled as "
            "((mean - 1) / 4) x 100 and rounded to 1 decimal (Asaria, McGuire & Street 2022).",
        ),
        Column(
            "n_items", "Questions used", "count", "Number of item scores in the mean (9 or 11)."
        ),
        Column(
            "immediate_manager_score",
            "Immediate manager score",
            "0-100",
            "The same score from questions 7a-7g only.",
        ),
        Column(
            "senior_manager_score",
            "Senior manager score",
            "0-100",
            "The same score from questions 8a-8d only.",
        ),
    ),
    year_convention=ITEM_SCHEMA.year_convention,
    notes="The overall score averages the available items equally, so it uses 9 questions in "
    "2012-2014 (7f and 7g were not asked) and 11 from 2015; compare levels across that break "
    "with care. " + _CODE_NOTE,
    key=("trust_code", "year"),
)


def management_scores(items: pd.DataFrame | None = None) -> pd.DataFrame:
    """Trust-year management score from the Staff Survey, as in Asaria, McGuire & Street (2022).

    The score is the mean of the item scores present for an organisation and year (each item
    score is the mean response on the 1-5 agreement scale), rescaled to 0-100 by
    ``((score - 1) / 4) * 100`` and rounded to 1 decimal. The immediate-manager (7a-7g) and
    senior-manager (8a-8d) sub-scores are computed the same way from their own questions.

    Parameters
    ----------
    items
        The table returned by :func:`read_staff_survey_items`; read from the registry if omitted.

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, ``management_score``, ``n_items``,
        ``immediate_manager_score``, ``senior_manager_score``.
    """
    if items is None:
        items = read_staff_survey_items()
    needed = {"trust_code", "year", "item", "item_score"}
    if not needed <= set(items.columns):
        raise InvalidParameterError(
            f"items lacks column(s) {sorted(needed - set(items.columns))}: pass the table returned "
            "by read_staff_survey_items()."
        )
    scored = items.dropna(subset=["item_score"])
    keys = ["trust_code", "year"]
    overall = scored.groupby(keys)["item_score"].agg(["mean", "count"])
    out = pd.DataFrame(
        {"management_score": _rescale(overall["mean"]), "n_items": overall["count"].astype(int)}
    )
    for col, subset in (
        ("immediate_manager_score", IMMEDIATE_MANAGER_ITEMS),
        ("senior_manager_score", SENIOR_MANAGER_ITEMS),
    ):
        part = scored[scored["item"].isin(subset)].groupby(keys)["item_score"].mean()
        out[col] = _rescale(part).reindex(out.index)
    out = out.reset_index().sort_values(keys)
    return derived(out, SCORE_SCHEMA, items.attrs, "management_scores(items)")


def _rescale(mean_item_score: pd.Series) -> pd.Series:
    """1-5 agreement scale -> 0-100, rounded to 1 decimal as published in the paper.

    Rounding first to 9 decimals drops floating-point noise from the mean, so that an exact tie
    such as 66.25 rounds half to even (66.2, as R's ``round`` does) whatever the summation order.
    """
    return (((mean_item_score - 1) / 4) * 100).round(9).round(1)


# --- question wording ---------------------------------------------------------------------------

QUESTIONS = Schema(
    dataset="hm_staff_survey_questions",
    columns=(
        Column("item", "Question", "", "Question number, 7a-7g or 8a-8d."),
        Column("question", "Wording", "", "The statement staff agree or disagree with."),
        Column(
            "manager_level",
            "About",
            "",
            "'immediate' for 7a-7g (the respondent's immediate manager), 'senior' for 8a-8d.",
        ),
    ),
    notes="One wording per question, as compiled; questions 7f and 7g have data from 2015 only.",
    key=("item",),
)


def read_staff_survey_questions(path: str | Path | None = None) -> pd.DataFrame:
    """Wording of the Staff Survey management questions.

    Parameters
    ----------
    path
        A file in the published layout of ``NHS_SS_questions.csv`` (QUESTION, DESCRIPTION); by
        default the registry copy.

    Returns
    -------
    pandas.DataFrame
        ``item``, ``question``, ``manager_level``.
    """
    src = source(QUESTIONS.dataset, path)
    raw = read_csv_text(src, required=["QUESTION", "DESCRIPTION"])
    item = raw["QUESTION"].str.lower()
    unknown = ~item.isin(ITEMS)
    if unknown.any():
        rows = ", ".join(f"row {i + 2}: {v!r}" for i, v in raw["QUESTION"][unknown].head(5).items())
        raise DataFileError(
            src.path,
            f"column 'QUESTION' has question numbers outside 7a-7g and 8a-8d ({rows})",
            "The file lists the management questions 7a-7g and 8a-8d.",
        )
    if (raw["DESCRIPTION"] == "").any():
        raise DataFileError(
            src.path,
            "column 'DESCRIPTION' has blank wording",
            "Every question needs its wording.",
        )
    df = pd.DataFrame(
        {
            "item": item,
            "question": raw["DESCRIPTION"],
            "manager_level": np.where(item.str.startswith("7"), "immediate", "senior"),
        }
    )
    return finish(df.sort_values("item"), QUESTIONS, src)
