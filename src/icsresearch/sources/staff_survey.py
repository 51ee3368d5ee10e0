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
    show,
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
#: The five response-share columns of the items table, from "strongly disagree" (scored 1) to
#: "strongly agree" (scored 5).
RESPONSE_COLUMNS = tuple(_RESPONSES.values())
# Rounded percentages (2016 and 2017 are whole numbers) sum to 98-102; beyond this the row is wrong.
_SUM_TOLERANCE = 3.0

# ODS codes, survey sub-units such as Isle of Wight's R1F1-R1F3, and merged CCG returns "01T/01V".
_SURVEY_CODE = re.compile(r"^[A-Z0-9]{3,5}(/[A-Z0-9]{3,5})*$")

_CODE_NOTE = (
    "Codes are kept as published: Isle of Wight NHS Trust (R1F) appears as R1F1 (all years) and "
    "R1F2, R1F3 (2016-2017), and CCGs that surveyed jointly as '01T/01V', '05J/05T/06D' etc., so "
    "these rows do not link to single ODS codes."
)

#: Respondents at one organisation: the largest survey has about 13,000; a million is impossible.
_RESPONDENTS = (0, 1_000_000)

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
            "n_responses",
            "Responses",
            "count",
            "Number of staff who answered the question (_N).",
            bounds=_RESPONDENTS,
            typical=(0, 30_000),
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

    pct_cols = list(RESPONSE_COLUMNS)
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
            "n_items",
            "Questions used",
            "count",
            "Number of item scores in the mean (9 or 11).",
            bounds=(0, 11),
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
        rows = ", ".join(
            f"row {i + 2}: {show(v)}" for i, v in raw["QUESTION"][unknown].head(5).items()
        )
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


# --- NHS Staff Survey 2021-2024: well-being and working-conditions rates ------------------------

#: (published stem of ``<stem>_rate``, stem of its ``<base>_base``, label, definition). The
#: question numbers are those of the 2021-2024 core questionnaire that the compiler's script
#: selects (NHS-Gender, "11. Datafile creation ..."); background questions move between years.
_WELLBEING_MEASURES: tuple[tuple[str, str, str, str], ...] = (
    (
        "Burned_out",
        "Burned_out",
        "Burnt out often or always",
        "Q12b 'How often, if at all, do you feel burnt out because of your work?': % answering "
        "'often' or 'always'. The burnout measure.",
    ),
    (
        "Burned_out_sometimes",
        "Burned_out",
        "Burnt out at least sometimes",
        "Q12b: % answering 'sometimes', 'often' or 'always'.",
    ),
    (
        "Burned_out_ever",
        "Burned_out",
        "Ever burnt out",
        "Q12b: 100 - % answering 'never' (rarely or more often).",
    ),
    (
        "Emotionally_exhausting",
        "Emotionally_exhausting",
        "Work emotionally exhausting often or always",
        "Q12a 'How often, if at all, do you find your work emotionally exhausting?': % 'often' "
        "or 'always'.",
    ),
    (
        "Emotionally_exhausting_sometimes",
        "Emotionally_exhausting",
        "Work emotionally exhausting at least sometimes",
        "Q12a: % 'sometimes', 'often' or 'always'.",
    ),
    (
        "Emotionally_exhausting_ever",
        "Emotionally_exhausting",
        "Work ever emotionally exhausting",
        "Q12a: 100 - % 'never'.",
    ),
    (
        "Frustration",
        "Frustration",
        "Frustrated by work often or always",
        "Q12c 'How often, if at all, does your work frustrate you?': % 'often' or 'always'.",
    ),
    (
        "Frustration_sometimes",
        "Frustration",
        "Frustrated by work at least sometimes",
        "Q12c: % 'sometimes', 'often' or 'always'.",
    ),
    ("Frustration_ever", "Frustration", "Ever frustrated by work", "Q12c: 100 - % 'never'."),
    (
        "Stress",
        "Stress",
        "Unwell from work-related stress",
        "Q11c 'In the last 12 months have you felt unwell as a result of work related stress?': "
        "% 'yes'.",
    ),
    (
        "Enough_staff",
        "Enough_staff",
        "Enough staff",
        "Q3i 'There are enough staff at this organisation for me to do my job properly': % "
        "'agree' or 'strongly agree'.",
    ),
    (
        "Autonomy",
        "Autonomy",
        "Able to make improvements happen",
        "Q3f 'I am able to make improvements happen in my area of work': % agree or strongly "
        "agree (the compiler's 'autonomy').",
    ),
    (
        "Time_demands_meet",
        "Time_demands_meet",
        "Able to meet conflicting demands",
        "Q3g 'I am able to meet all the conflicting demands on my time at work': % agree or "
        "strongly agree.",
    ),
    (
        "Mastery_meaning",
        "Mastery",
        "Role makes a difference",
        "Q6a 'I feel that my role makes a difference to patients / service users': % agree or "
        "strongly agree (base column Mastery_base).",
    ),
    (
        "Membership",
        "Membership",
        "Valued by team",
        "Q7h 'I feel valued by my team': % agree or strongly agree.",
    ),
    (
        "Physical_public",
        "Physical_public",
        "Physical violence from the public",
        "Q13a: % who experienced physical violence at work from patients / service users, their "
        "relatives or the public at least once in the last 12 months (100 - % 'never').",
    ),
    (
        "Physical_manager",
        "Physical_manager",
        "Physical violence from managers",
        "Q13b: as Q13a, from managers (100 - % 'never').",
    ),
    (
        "Physical_colleagues",
        "Physical_colleagues",
        "Physical violence from colleagues",
        "Q13c: as Q13a, from other colleagues (100 - % 'never').",
    ),
    (
        "Emotional_public",
        "Emotional_public",
        "Harassment, bullying or abuse from the public",
        "Q14a: % who experienced harassment, bullying or abuse at work from patients / service "
        "users, their relatives or the public at least once in the last 12 months (100 - % "
        "'never').",
    ),
    (
        "Emotional_manager",
        "Emotional_manager",
        "Harassment, bullying or abuse from managers",
        "Q14b: as Q14a, from managers (100 - % 'never').",
    ),
    (
        "Emotional_colleagues",
        "Emotional_colleagues",
        "Harassment, bullying or abuse from colleagues",
        "Q14c: as Q14a, from other colleagues (100 - % 'never').",
    ),
    (
        "Discrimination_public",
        "Discrimination_public",
        "Discrimination from the public",
        "Q16a: % who personally experienced discrimination at work from patients / service "
        "users, their relatives or the public in the last 12 months ('yes').",
    ),
    (
        "Discrimination_internal",
        "Discrimination_internal",
        "Discrimination from managers or colleagues",
        "Q16b: % who experienced discrimination at work from a manager / team leader or other "
        "colleagues in the last 12 months ('yes').",
    ),
    (
        "Patient_facing",
        "Patient_facing",
        "Patient-facing role",
        "Q1: % with face-to-face contact with patients / service users ('yes, frequently' or "
        "'yes, occasionally'). A respondent profile, not an outcome.",
    ),
    ("Female", "Female", "Female respondents", "% of respondents who gave their gender as female."),
    ("Older", "Older", "Respondents aged 51+", "% of respondents aged 51-65 or 66+."),
    (
        "Ethnic_minority",
        "Ethnic_minority",
        "Ethnic minority respondents",
        "100 - the % in the White ethnic categories, so any 'prefer not to say' counts here.",
    ),
    (
        "Sexual_minority",
        "Sexual_minority",
        "Not heterosexual",
        "100 - % 'heterosexual or straight', so 'other' and 'prefer not to say' count here.",
    ),
    (
        "Med_Dental",
        "Med_Dental",
        "Medical and dental respondents",
        "% of respondents in the medical / dental occupation groups (consultant, in training, "
        "other).",
    ),
    *(
        (
            f"Religion_{stem}",
            "Religion",
            f"Religion: {label}",
            f"% of respondents giving their religion as {label.lower()}; the nine religion "
            "measures sum to 100.",
        )
        for stem, label in (
            ("None", "None"),
            ("Christian", "Christian"),
            ("Buddhist", "Buddhist"),
            ("Hindu", "Hindu"),
            ("Jewish", "Jewish"),
            ("Muslim", "Muslim"),
            ("Sikh", "Sikh"),
            ("Any_other", "Any other religion"),
            ("Decline_answer", "I would prefer not to say"),
        )
    ),
)

#: Output measure name (snake case of the published stem) -> (rate column, base column).
WELLBEING_MEASURES = {
    stem.lower(): (f"{stem}_rate", f"{base}_base") for stem, base, _, _ in _WELLBEING_MEASURES
}
#: Label and definition of each measure.
WELLBEING_MEASURE_DOCS = {
    stem.lower(): (label, text) for stem, _, label, text in _WELLBEING_MEASURES
}
#: Measures published at three thresholds of one frequency question: often/always <= at least
#: sometimes <= ever.
_NESTED = ("burned_out", "emotionally_exhausting", "frustration")
_RELIGION = [m for m in WELLBEING_MEASURES if m.startswith("religion_")]
_MISSING_NAMES = frozenset({"", "-", "NA", "<NA>"})

_ID_COLUMNS = [
    "ODS code",
    "Year",
    "Organisation name",
    "Benchmarking group",
    "Region",
    "ICS/STP",
    "Weighting",
    "Respondents",
]

_MEASURE_TABLE = " ".join(f"{m}: {text}" for m, (_, text) in WELLBEING_MEASURE_DOCS.items())

WELLBEING = Schema(
    dataset="staff_survey_2021_2024",
    columns=(
        Column(
            "org_code",
            "Organisation",
            "ODS code",
            "ODS code as published: trusts (R.., T..), ICBs (Q-codes, from the 2022 survey), "
            "CCGs (2021 only, including joint returns such as '01T/01V' and the 5-character "
            "codes of merged CCGs), CSUs (0AR, 0CX, 0DE, 0DF) and social enterprises (N..). "
            "Isle of Wight NHS Trust (R1F) reports by sector as R1F1-R1F4.",
        ),
        Column(
            "year",
            "Financial year",
            "FY start",
            "Survey year (the 'Year' column) = financial-year start: the 2021 survey ran in "
            "autumn 2021, in 2021/22.",
        ),
        Column("org_name", "Organisation name", "", "As published for that survey year."),
        Column(
            "benchmarking_group",
            "Benchmarking group",
            "",
            "NHS Staff Survey benchmarking group as published: 'ICBs' identifies the ICBs (2022 "
            "onwards); 'CCGs' (2021 only); trust groups such as 'Acute and Acute & Community "
            "Trusts', 'Ambulance Trusts'; 'CSUs'; 'Social Enterprises - ...'.",
        ),
        Column(
            "region",
            "NHS England region",
            "",
            "One of the seven NHS England regions, taken from whichever of the file's 'Region' "
            "and 'ICS/STP' columns holds a region name (the 2021 rows have the two swapped). "
            "Missing for CCGs, ICBs, CSUs, social enterprises and NXP.",
        ),
        Column(
            "ics",
            "ICS / STP",
            "",
            "The trust's ICS as published: STP names in 2021 (e.g. 'Cumbria and North East', "
            "in the file's 'Region' column), ICS names in 2022 ('ICS/STP' column) and 2023-2024 "
            "('ICS' column). Names change between years; join on codes, not on this. Missing "
            "for commissioners, CSUs, social enterprises and, from 2022, ambulance trusts.",
        ),
        Column(
            "weighting",
            "Weighting",
            "",
            "As published. 'Occupation Group': the organisation's percentages are weighted to "
            "its staff mix by occupation group (all trusts, CCGs and social enterprises; CSUs "
            "and NXP in 2021), so rate_pct x base / 100 is usually not a whole number. "
            "'Unweighted': plain shares of respondents, rate_pct x base / 100 is a whole number "
            "(ICBs; 11 of the 14 CSU rows and NXP from 2022).",
        ),
        Column(
            "respondents",
            "Respondents",
            "count",
            "'Respondents' as compiled: the largest value among the compiler's question columns, "
            "i.e. the largest item base (equal to the largest base returned here in 1,045 of "
            "1,075 rows, 1-4 more in 14): not the official count of completed questionnaires. "
            "Missing for the 16 organisation-years whose every base is below 100, where the "
            "compiled value is 100 (a percentage, not a count).",
            bounds=_RESPONDENTS,
            typical=(0, 30_000),
        ),
        Column(
            "measure",
            "Measure",
            "",
            "Snake case of the published stem (<Stem>_rate). Question numbers are those of "
            "the 2021-2024 core questionnaire as selected by the compiler. " + _MEASURE_TABLE,
        ),
        Column(
            "rate_pct",
            "Rate",
            "%",
            "The published <Stem>_rate, 0-100: the compiler's sum of NHS England's published "
            "response percentages (e.g. % often + % always), unrounded, weighted as in "
            "'weighting'. The file gives percentages for every measure (checked: every "
            "organisation has rates above 1); a file giving 0-1 fractions for every "
            "organisation is multiplied by 100, one mixing the two is refused.",
        ),
        Column(
            "base",
            "Base",
            "count",
            "The published <Base>_base: number of respondents who answered the question "
            "(unweighted). Burnout's three thresholds share Burned_out_base, the nine religion "
            "measures Religion_base.",
            bounds=_RESPONDENTS,
            typical=(0, 30_000),
        ),
    ),
    year_convention="The NHS Staff Survey runs from September to December; 'Year' is that "
    "survey year and also the financial-year start (2021 = 2021/22). " + YEAR_CONVENTION,
    notes="NHS Staff Survey organisational results 2021-2024 as selected and merged by the "
    "NHS-Gender project (GPL-3 code; the statistics are NHS England's, OGL v3). This is the "
    "People Promise questionnaire introduced in 2021: a different instrument from the 2012-2018 "
    "management items of read_staff_survey_items(); never splice the two into one series. "
    "All 38 measures are present for every organisation in all four years (no question "
    "changes at this level); every rate has a base. 1,075 organisation-years: 280 (2021), "
    "264 (2022), 268 (2023), 263 (2024). ICBs (benchmarking group 'ICBs', Q-codes) appear "
    "from 2022: 37 of the 42 in 2022 (no QHM, QOC, QOP, QOQ, QUE), 41 in 2023 (no QOQ), 41 in "
    "2024 (no QE1); the 52 CCG rows are 2021 only. Trust rows: 217, 215, 213, 210 (214, 212, "
    "210, 209 trusts, Isle of Wight counted once). The compiled item response rates "
    "(<Stem>_response_rate = base / Respondents, 0-1) are not returned: they use the compiled "
    "Respondents as denominator. Not the official People Promise theme scores.",
    key=("org_code", "year", "measure"),
)


def read_staff_survey_wellbeing(path: str | Path | None = None) -> pd.DataFrame:
    """NHS Staff Survey 2021-2024 well-being and working-conditions rates, one row per measure.

    Parameters
    ----------
    path
        A CSV in the published layout of ``data_trusts_well-being - organisational
        results.csv`` (``ODS code``, ``Year``, ``Organisation name``, ``Benchmarking group``,
        ``Region``, ``ICS/STP``, optionally ``ICS``, ``Weighting``, ``Respondents`` and, for
        each measure, ``<Stem>_rate`` with its ``<Base>_base``); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per organisation, survey year and measure: ``org_code``, ``year``,
        ``org_name``, ``benchmarking_group``, ``region``, ``ics``, ``weighting``,
        ``respondents``, ``measure``, ``rate_pct`` (0-100), ``base``. ``attrs["completeness"]``
        reports the years covered, organisations per year and missing shares.

    Examples
    --------
    >>> from icsresearch.sources.staff_survey import read_staff_survey_wellbeing, wellbeing_wide
    >>> long = read_staff_survey_wellbeing()  # doctest: +SKIP
    >>> long.query("measure == 'burned_out' and benchmarking_group == 'ICBs'")  # doctest: +SKIP
    >>> wide = wellbeing_wide(long)  # doctest: +SKIP
    """
    from ._base import completeness
    from .ods import NHS_REGIONS, published_names

    src = source(WELLBEING.dataset, path)
    rate_cols = [rate for rate, _ in WELLBEING_MEASURES.values()]
    base_cols = list(dict.fromkeys(base for _, base in WELLBEING_MEASURES.values()))
    raw = read_csv_text(src, required=[*_ID_COLUMNS, *rate_cols, *base_cols], line_end=True)
    line = pd.Series(raw.index + 2, index=raw.index)  # file line of each row, for messages

    def fail(mask: pd.Series, problem: str, fix: str) -> None:
        where = ", ".join(
            f"line {n} ({raw.at[i, 'ODS code']} {raw.at[i, 'Year']})"
            for i, n in line[mask].head(5).items()
        )
        raise DataFileError(src.path, f"{problem} ({where})", fix)

    ids = pd.DataFrame(
        {
            "org_code": codes(raw["ODS code"], src, "ODS code", pattern=_SURVEY_CODE),
            "year": integers_in(raw["Year"], src, "Year", 2021, 2100),
            "org_name": published_names(raw["Organisation name"]),
            "benchmarking_group": published_names(raw["Benchmarking group"]),
            "weighting": published_names(raw["Weighting"]),
        }
    )
    ids["region"], ids["ics"] = _region_and_ics(raw, set(NHS_REGIONS.values()), fail)

    rates = pd.DataFrame(
        {m: numbers(raw[rate], src, rate) for m, (rate, _) in WELLBEING_MEASURES.items()}
    )
    bases = {b: numbers(raw[b], src, b) for b in base_cols}
    rates = _rates_as_percent(rates, fail)
    _check_rates(rates, fail)

    for b, values in bases.items():
        bad = values.notna() & ((values < 0) | (values != np.floor(values)))
        if bad.any():
            fail(
                bad,
                f"column {b!r} has {int(bad.sum())} value(s) that are not whole numbers >= 0",
                "A base is the number of respondents who answered the question.",
            )
    max_base = pd.DataFrame(bases).max(axis=1)
    respondents = numbers(raw["Respondents"], src, "Respondents")
    bad = respondents.notna() & ((respondents < 0) | (respondents != np.floor(respondents)))
    if bad.any():
        fail(
            bad,
            f"column 'Respondents' has {int(bad.sum())} value(s) that are not whole numbers >= 0",
            "Respondents is a number of staff.",
        )
    # The compiler took the largest of all its question columns, percentages included: with
    # every base below 100 that maximum is a percentage (100), not a number of staff.
    respondents = respondents.mask((respondents == 100) & (max_base < 100))
    fewer = respondents < max_base
    if fewer.any():
        fail(
            fewer,
            "has fewer Respondents than staff answering one of its questions (a base)",
            "Respondents should be at least the largest <Stem>_base of its row; check the "
            "columns have not been shifted.",
        )
    ids["respondents"] = respondents.astype("Int64")

    parts = []
    for m, (rate, base) in WELLBEING_MEASURES.items():
        part = ids.copy()
        part["measure"] = m
        part["rate_pct"] = rates[m]
        part["base"] = bases[base]
        empty_base = (part["base"] == 0) & part["rate_pct"].notna()
        if empty_base.any():
            fail(
                empty_base,
                f"gives {rate} with {base} = 0: a rate needs at least one respondent",
                "Leave the rate blank (or NA) where nobody answered.",
            )
        parts.append(part)
    df = pd.concat(parts, ignore_index=True)
    df["base"] = df["base"].astype("Int64")
    df = df.sort_values(["year", "org_code", "measure"], kind="stable")
    coverage = completeness(
        df.assign(fy_start=pd.to_datetime(df["year"].astype(str) + "-04-01")),
        counts=["rate_pct", "base", "respondents"],
        period="fy_start",
        freq="YS-APR",
        units="org_code",
    )
    return finish(df, WELLBEING, src, coverage=coverage)


def _region_and_ics(raw: pd.DataFrame, regions: set[str], fail) -> tuple[pd.Series, pd.Series]:
    """NHS region and ICS/STP name of each row from the Region, ICS/STP and ICS columns.

    The columns drift between years: 2021 has the STP in 'Region' and the region in 'ICS/STP',
    2022 the region in 'Region' and the ICS in 'ICS/STP', 2023-2024 the ICS in 'ICS'. The region
    is whichever of the first two holds one of the seven region names; the ICS is the other
    non-missing name.
    """
    from .ods import published_names

    def column(name: str) -> pd.Series:
        if name not in raw.columns:
            return pd.Series(pd.NA, index=raw.index, dtype="object")
        s = published_names(raw[name])
        return s.where(~s.isin(_MISSING_NAMES))

    first, second, third = column("Region"), column("ICS/STP"), column("ICS")
    is_region = [first.isin(regions), second.isin(regions), third.isin(regions)]
    two = is_region[0] & is_region[1]
    if two.any():
        fail(two, "names an NHS region in both 'Region' and 'ICS/STP'", "Give the region once.")
    if is_region[2].any():
        fail(
            is_region[2],
            "has an NHS region name in the 'ICS' column",
            "The 'ICS' column holds ICS names; the region belongs in 'Region'.",
        )
    region = first.where(is_region[0], second.where(is_region[1]))
    others = pd.concat([first.where(~is_region[0]), second.where(~is_region[1]), third], axis=1)
    clash = others.nunique(axis=1) > 1
    if clash.any():
        fail(
            clash,
            "names two different ICS/STPs in 'Region', 'ICS/STP' and 'ICS', or a region that is "
            "not one of the seven NHS England regions",
            f"Regions are {sorted(regions)}; each row has at most one ICS/STP name.",
        )
    ics = others.bfill(axis=1).iloc[:, 0]
    return region.astype("str"), ics.astype("str")


def _rates_as_percent(rates: pd.DataFrame, fail) -> pd.DataFrame:
    """Percentages 0-100 as published; a file of 0-1 fractions throughout is scaled by 100."""
    row_max = rates.max(axis=1)
    fraction = row_max.notna() & (row_max > 0) & (row_max <= 1)
    percent = row_max > 1
    if fraction.any() and percent.any():
        fail(
            fraction,
            f"mixes percentages with 0-1 fractions: {int(fraction.sum())} row(s) have every rate "
            f"at most 1 while {int(percent.sum())} have rates above 1",
            "The published layout gives every <Stem>_rate as a percentage 0-100; multiply the "
            "fraction rows by 100.",
        )
    if fraction.any():
        return rates * 100
    return rates


def _check_rates(rates: pd.DataFrame, fail) -> None:
    """Rates within 0-100, nested thresholds in order, religion shares summing to 100."""
    for m in rates.columns:
        bad = (rates[m] < 0) | (rates[m] > 100)
        if bad.any():
            fail(
                bad,
                f"column {WELLBEING_MEASURES[m][0]!r} has {int(bad.sum())} value(s) outside 0-100 "
                f"(e.g. {rates.loc[bad, m].iloc[0]:g})",
                "Rates are percentages 0-100.",
            )
    tol = 1e-6
    for stem in _NESTED:
        often, sometimes, ever = (
            rates[stem],
            rates[f"{stem}_sometimes"],
            rates[f"{stem}_ever"],
        )
        bad = (often > sometimes + tol) | (sometimes > ever + tol)
        if bad.any():
            fail(
                bad,
                f"has {stem}_rate > {stem}_sometimes_rate or {stem}_sometimes_rate > "
                f"{stem}_ever_rate: often/always cannot exceed at-least-sometimes, nor that ever",
                "Check the three columns have not been swapped.",
            )
    religion = rates[_RELIGION]
    total = religion.sum(axis=1)
    bad = religion.notna().all(axis=1) & ((total - 100).abs() > 0.5)
    if bad.any():
        fail(
            bad,
            f"has religion shares that do not sum to 100 (e.g. {total[bad].iloc[0]:g})",
            "The nine Religion_*_rate columns split the respondents answering the religion "
            "question; check none is missing or shifted.",
        )


WIDE = Schema(
    dataset="staff_survey_wellbeing_wide",
    columns=(
        Column("org_code", "Organisation", "ODS code", "As in read_staff_survey_wellbeing()."),
        Column("year", "Financial year", "FY start", "Survey year = financial-year start."),
        Column(
            "burnout_pct",
            "Burnt out often or always",
            "%",
            "Measure 'burned_out': % answering 'often' or 'always' to Q12b 'How often, if at "
            "all, do you feel burnt out because of your work?'.",
        ),
        Column(
            "stress_pct",
            "Unwell from work-related stress",
            "%",
            "Measure 'stress': % answering 'yes' to Q11c 'In the last 12 months have you felt "
            "unwell as a result of work related stress?'.",
        ),
        Column(
            "enough_staff_pct",
            "Enough staff",
            "%",
            "Measure 'enough_staff': % agreeing or strongly agreeing with Q3i 'There are enough "
            "staff at this organisation for me to do my job properly'.",
        ),
        Column(
            "burnout_base",
            "Burnout base",
            "count",
            "Respondents answering Q12b.",
            bounds=_RESPONDENTS,
            typical=(0, 30_000),
        ),
        Column(
            "stress_base",
            "Stress base",
            "count",
            "Respondents answering Q11c.",
            bounds=_RESPONDENTS,
            typical=(0, 30_000),
        ),
        Column(
            "enough_staff_base",
            "Enough staff base",
            "count",
            "Respondents answering Q3i.",
            bounds=_RESPONDENTS,
            typical=(0, 30_000),
        ),
        Column(
            "respondents",
            "Respondents",
            "count",
            "As in read_staff_survey_wellbeing() (missing where the compiled value was a "
            "percentage).",
            bounds=_RESPONDENTS,
            typical=(0, 30_000),
        ),
    ),
    year_convention=WELLBEING.year_convention,
    notes="Three measures of the 2021-2024 People Promise questionnaire, one row per "
    "organisation and survey year; a measure absent for an organisation-year stays missing. "
    "Not comparable with the 2012-2018 management scores.",
    key=("org_code", "year"),
)

_WIDE_MEASURES = {"burned_out": "burnout", "stress": "stress", "enough_staff": "enough_staff"}


def wellbeing_wide(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Burnout, stress and enough-staff rates with their bases, one row per organisation-year.

    Parameters
    ----------
    df
        The long table returned by :func:`read_staff_survey_wellbeing`; read from the registry
        if omitted.

    Returns
    -------
    pandas.DataFrame
        ``org_code``, ``year``, ``burnout_pct`` (often/always burnt out), ``stress_pct``,
        ``enough_staff_pct``, ``burnout_base``, ``stress_base``, ``enough_staff_base``,
        ``respondents``. Nothing is filled: a measure missing in ``df`` stays missing.

    Examples
    --------
    >>> from icsresearch.sources.staff_survey import wellbeing_wide
    >>> wide = wellbeing_wide()  # doctest: +SKIP
    >>> wide.query("org_code == 'RR8'")  # doctest: +SKIP
    """
    if df is None:
        df = read_staff_survey_wellbeing()
    needed = {"org_code", "year", "measure", "rate_pct", "base", "respondents"}
    if not needed <= set(df.columns):
        raise InvalidParameterError(
            f"df lacks column(s) {sorted(needed - set(df.columns))}: pass the table returned by "
            "read_staff_survey_wellbeing()."
        )
    keys = ["org_code", "year"]
    out = df[keys].drop_duplicates().set_index(keys)
    out["respondents"] = df.groupby(keys)["respondents"].first()
    chosen = df[df["measure"].isin(list(_WIDE_MEASURES))]
    for measure, short in _WIDE_MEASURES.items():
        one = chosen[chosen["measure"] == measure].set_index(keys)
        out[f"{short}_pct"] = one["rate_pct"].reindex(out.index)
        out[f"{short}_base"] = one["base"].reindex(out.index)
    out = out.reset_index().sort_values(keys, kind="stable")
    return derived(out, WIDE, df.attrs, "wellbeing_wide(read_staff_survey_wellbeing())")
