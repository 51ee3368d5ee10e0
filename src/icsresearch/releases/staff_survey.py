"""NHS Staff Survey: organisation theme scores (engagement, morale, wellbeing), yearly.

Publisher: NHS England, NHS Staff Survey, run by the Survey Coordination Centre (OGL v3). Each
year's "detailed spreadsheets" are a zip of three workbooks (national, organisation type,
organisation results); the reader takes the organisation results. The questionnaire and its
summary measures change every few years:

* 2018-2020: ten themes scored 0-10, among them ``Staff engagement``, ``Morale`` and ``Health &
  wellbeing``;
* 2021 on: the seven People Promise elements (``We are safe and healthy`` ...) and the themes
  ``Staff engagement`` and ``Morale``, 0-10.

Question numbers change with the questionnaire, so nothing is read by number: the sheet, its
header row and every score are found by their text (:data:`MEASURES`), in a wide table (one
column per theme) or a long one (a theme column and a score column). ``wellbeing`` is the
"Health & wellbeing" theme to 2020 and the "We are safe and healthy" element from 2021
(``wellbeing_measure`` says which): different questions, never one series. Organisations with
too few responses have ``-``: missing.

A period is the survey year's September (``2023-09`` is the autumn 2023 survey, financial year
2023/24). Built from the documented layouts and tested on hand-made fixtures only.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ..schemas import YEAR_CONVENTION, Column, Schema
from ..sources._base import codes, numbers
from . import _read
from .lockfile import Lock

#: Reader column -> (pattern of the theme's published text, normalised; label).
MEASURES = {
    "engagement": (r"^staff engagement$", "Staff engagement"),
    "morale": (r"^morale$", "Morale"),
    "health_wellbeing": (r"^health (&|and) ?wellbeing$", "Health & wellbeing (2018-2020)"),
    "compassionate_inclusive": (
        r"^we are compassionate (&|and) inclusive$",
        "We are compassionate and inclusive",
    ),
    "recognised_rewarded": (
        r"^we are recogni[sz]ed (&|and) rewarded$",
        "We are recognised and rewarded",
    ),
    "voice_counts": (r"^we each have a voice that counts$", "We each have a voice that counts"),
    "safe_healthy": (r"^we are safe (&|and) healthy$", "We are safe and healthy"),
    "always_learning": (r"^we are always learning$", "We are always learning"),
    "work_flexibly": (r"^we work flexibly$", "We work flexibly"),
    "team": (r"^we are a team$", "We are a team"),
}
#: The People Promise elements (2021 on).
PROMISE = (
    "compassionate_inclusive",
    "recognised_rewarded",
    "voice_counts",
    "safe_healthy",
    "always_learning",
    "work_flexibly",
    "team",
)
_SCORE = {"bounds": (0, 10)}

SCHEMA = Schema(
    dataset="staff_survey",
    columns=(
        Column("period", "Survey", "date", "September of the survey year."),
        Column("year", "Financial year", "FY start", "The survey year (autumn, in year/year+1)."),
        Column("org_code", "Organisation", "ODS code", "As published."),
        Column("org_name", "Organisation name", "", "As published."),
        Column("engagement", "Staff engagement", "0-10", "Theme score.", **_SCORE),
        Column("morale", "Morale", "0-10", "Theme score.", **_SCORE),
        Column(
            "wellbeing",
            "Wellbeing",
            "0-10",
            "'Health & wellbeing' theme to 2020; 'We are safe and healthy' from 2021.",
            **_SCORE,
        ),
        Column("wellbeing_measure", "Wellbeing measure", "", "Which of the two it is."),
        *(
            Column(k, MEASURES[k][1], "0-10", "People Promise element, from 2021.", **_SCORE)
            for k in PROMISE
        ),
        Column(
            "respondents",
            "Respondents",
            "count",
            "Number of responses, when published.",
            bounds=(0, 100_000),
        ),
    ),
    year_convention=(
        "One survey a year, in the autumn: `period` is September of the survey year and `year` "
        "that year (the financial year it falls in). " + YEAR_CONVENTION
    ),
    notes=(
        "Theme scores 0-10. The 2018-2020 themes and the 2021 People Promise measures are "
        "different questionnaires: do not splice them. Built from the documented layouts and "
        "tested on hand-made fixtures only."
    ),
    key=("period", "org_code"),
)


def _member(name: str) -> bool:
    text = _read.norm(name)
    return (
        text.endswith((".xlsx", ".xls"))
        and "org" in text
        and not re.search(r"national|type|benchmark", text)
    )


def _wide(src, sheet: _read.Sheet) -> dict[str, pd.Series]:
    got = {}
    for key, (rx, _) in MEASURES.items():
        i = _read.column(src, sheet.headers, rx, what=key, required=False)
        if i is not None:
            got[key] = sheet.body[i]
    return got


def _long(src, sheet: _read.Sheet, c_code: int) -> dict[str, pd.Series]:
    h = sheet.headers
    c_theme = _read.column(
        src, h, r"^(theme|measure|indicator|people promise element)s?$", what="t"
    )
    c_score = _read.column(src, h, r"^(theme )?score$", what="the score")
    theme = sheet.body[c_theme].map(_read.norm)
    got = {}
    for key, (rx, _) in MEASURES.items():
        rows = theme.map(lambda t, rx=rx: bool(re.search(rx, t)))
        if rows.any():
            by_org = sheet.body.loc[rows].set_index(c_code)[c_score]
            got[key] = sheet.body[c_code].map(by_org.groupby(level=0).first())
    return got


def _survey_year(name: str) -> str | None:
    """``"2020-09"`` from a name like "NSS20 Organisation results.xlsx" or "... 2020 ...", or None."""
    m = re.search(r"(?:nss|survey)\s*_?(\d{2}|\d{4})\b|\b(20\d{2})\b", _read.norm(name))
    if m is None:
        return None
    y = m[1] or m[2]
    return f"{2000 + int(y) if len(y) == 2 else int(y)}-09"


def _parse(src, expect: str | None) -> pd.DataFrame:
    name, data = _read.payload(src, _member)
    sheet = _read.sheet_table(
        src, name, data, (r"theme|people promise|score", r"."), [r"^(org|organisation|trust) code$"]
    )
    h = sheet.headers
    c_code = _read.column(src, h, r"^(org|organisation|trust) code$", what="the code")
    c_name = _read.column(
        src, h, r"^(org|organisation|trust) name$", what="the name", required=False
    )
    wide = any(re.search(MEASURES["engagement"][0], x) for x in h)
    got = _wide(src, sheet) if wide else _long(src, sheet, c_code)
    if "engagement" not in got:
        raise DataFileError(
            src.path,
            f"{name}: sheet {sheet.name!r} has no 'Staff engagement' score (as a column, or as a "
            "theme in a theme/score table)",
            "The reader finds the themes by their text; check the workbook is the organisation "
            "results.",
        )
    body = sheet.body
    if not wide:  # a long table: one row per organisation and theme
        first = ~body[c_code].duplicated()
        body, got = body[first], {k: v[first] for k, v in got.items()}
    names = body[c_name] if c_name is not None else body[c_code]
    keep = _read.provider_rows(src, body[c_code], names, pd.DataFrame(got))
    found = _survey_year(name) or _survey_year(src.path.name)
    if expect is not None and found is not None and found != expect:
        raise DataFileError(
            src.path,
            f"{name} is the {found[:4]} survey, but it is locked as {expect}",
            "The lockfile's period and the file disagree: re-add it with --update.",
        )
    period = expect or found
    if period is None:
        raise DataFileError(
            src.path, f"{name}: its survey year cannot be told", "Pass the lockfile's copy."
        )
    out = pd.DataFrame(
        {
            "org_code": codes(body[c_code][keep].reset_index(drop=True), src, "Org code"),
            "org_name": names[keep].astype("string").str.strip().reset_index(drop=True),
        }
    )
    for key in MEASURES:
        out[key] = (
            numbers(got[key][keep].reset_index(drop=True), src, key) if key in got else np.nan
        )
    c_n = _read.column(src, h, r"respon(ses|dents)", what="responses", required=False)
    out["respondents"] = (
        numbers(body[c_n][keep].reset_index(drop=True), src, "responses")
        if c_n is not None
        else np.nan
    )
    later = int(period[:4]) >= 2021
    out["wellbeing"] = out["safe_healthy"] if later else out["health_wellbeing"]
    out["wellbeing_measure"] = "we are safe and healthy" if later else "health and wellbeing"
    out["period"] = pd.Timestamp(f"{period}-01")
    out["year"] = int(period[:4])
    return out


@_read.documented(
    periods='Surveys to read, each named by September of its year (``"2023-09"``); default every locked one.',
    path="One year's zip (or its organisation-results workbook) to read instead, without a hash check.",
)
def read_staff_survey(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Staff engagement, morale and wellbeing scores by organisation, from the locked surveys.

    Returns
    -------
    pandas.DataFrame
        One row per survey and organisation (:data:`SCHEMA`); provenance in ``attrs``.

    Raises
    ------
    DataFileError
        No organisation-results workbook, no sheet with an organisation code and a 'Staff
        engagement' score, another survey year than locked.
    """
    df, used = _read.parse_all("staff_survey", lock, periods, path, _parse)
    df["respondents"] = df["respondents"].astype(float)
    return _read.finish(df, SCHEMA, used, sort=["period", "org_code"])
