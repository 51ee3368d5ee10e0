"""CQC inspection ratings by provider, population group (core service) and key question.

Publisher: Care Quality Commission (CQC), "Latest ratings" (OGL v3); the CSV is the compilation
of Asaria, McGuire & Street (2022), the workbook the CQC export of 3 September 2018 it used.

Linking to trusts. The files identify providers by **CQC provider ID**, kept as
``cqc_provider_id``. For NHS trusts CQC uses the trust's ODS code as its provider ID (``RHA``,
``RXE``...): 226 of the 249 IDs in the CSV are such codes, and all 226 are organisation codes
of the same compilation's provider list (``hm_providers``). Those rows carry the code in
``trust_code`` and link to other tables directly. The other 23 IDs are CQC-format IDs such as
``1-102643363`` (other providers of NHS community and mental-health services): no file in the
registry maps them to ODS codes, so their ``trust_code`` is missing and linking them needs an
external CQC-ODS lookup (e.g. CQC's public directory of registered providers).

Scores and labels: the 0-3 scale (0 Inadequate ... 3 Outstanding) is read from the registry's
``hm_cqc_rating_scores`` file (or a source folder holding ``CQC_ratings_lookup.csv``), also when
a ratings file is passed by path.

Year convention: ``year`` is the financial year of the publication date (a rating published on
10/02/2015 is in 2014/15, year 2014). A "latest ratings" file holds, for each provider, service
and key question, the rating in force when the file was made, so publication dates span years.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    finish,
    fy_start,
    integers_in,
    read_csv_text,
    read_xlsx,
    show,
    source,
)

KEY_QUESTIONS = ("Safe", "Effective", "Caring", "Responsive", "Well-led", "Overall")

_PROVIDER_ID = re.compile(r"^(1-\d{6,12}|[A-Z0-9]{3,5})$")
_CQC_FORMAT = re.compile(r"^1-\d+$")
# CQC published its first ratings under the current regime in late 2013.
_FIRST_RATING = pd.Timestamp("2013-01-01")

_LINK_NOTE = (
    "cqc_provider_id is CQC's provider ID, not an ODS column: for NHS trusts it equals the ODS "
    "code (copied to trust_code); CQC-format IDs ('1-...') have no ODS code in any registry "
    "file, so trust_code is missing for them and an external CQC-ODS lookup is needed to link them."
)

_COLUMNS = (
    Column(
        "cqc_provider_id",
        "CQC provider ID",
        "CQC ID",
        "CQC's provider identifier. For NHS trusts this is the ODS code (e.g. RXE); other "
        "providers have CQC-format IDs such as 1-102643363.",
    ),
    Column(
        "trust_code",
        "Trust",
        "ODS code",
        "cqc_provider_id where it is an ODS code (NHS trusts); missing for CQC-format IDs, "
        "which need an external CQC-ODS lookup.",
    ),
    Column("publication_date", "Published", "date", "Date CQC published the rating."),
    Column("year", "Financial year", "FY start", "Financial year start of the publication date."),
    Column(
        "population_group",
        "Service / population group",
        "",
        "'Overall' for the whole provider, otherwise the core service or population group rated "
        "(e.g. 'Community health services for adults').",
    ),
    Column(
        "key_question",
        "Key question",
        "",
        "Safe, Effective, Caring, Responsive, Well-led, or Overall.",
    ),
    Column(
        "rating_score",
        "Rating score",
        "0-3",
        "0 Inadequate, 1 Requires improvement, 2 Good, 3 Outstanding (hm_cqc_rating_scores).",
    ),
    Column("rating", "Rating", "", "The rating label."),
)

RATINGS = Schema(
    dataset="hm_cqc_ratings",
    columns=_COLUMNS,
    year_convention="Publication date (DATE, dd/mm/yyyy); `year` is its financial year. "
    + YEAR_CONVENTION,
    notes="A 'latest ratings' snapshot of about March 2019 (publication dates Dec 2013 - Feb "
    "2019). A provider can hold two ratings for the same service and question with different "
    "dates (RXE has two 'Long stay/rehabilitation' services), so the key includes the date. "
    "Where this file and the 3 September 2018 export (cqc_latest_ratings_2018) share a "
    "provider, service, question and date, the ratings agree in all 6,607 cases; most other "
    "differences are ratings re-published after September 2018. " + _LINK_NOTE,
    key=("cqc_provider_id", "population_group", "key_question", "publication_date"),
)

LATEST_2018 = Schema(
    dataset="cqc_latest_ratings_2018",
    columns=(
        *_COLUMNS,
        Column(
            "report_type",
            "Report type",
            "",
            "'Provider' (whole-provider ratings) or 'CoreService' (a core service or population group).",
        ),
    ),
    year_convention="Publication Date (Excel date); `year` is its financial year. "
    + YEAR_CONVENTION,
    notes="CQC 'Latest ratings' export of 3 September 2018 (sheet Providers; publication dates "
    "to 31 August 2018). The rating label is published; rating_score comes from the 0-3 scale of "
    "hm_cqc_rating_scores. " + _LINK_NOTE,
    key=("cqc_provider_id", "population_group", "key_question", "publication_date"),
)


def read_cqc_ratings(path: str | Path | None = None) -> pd.DataFrame:
    """CQC ratings by provider, population group and key question (Asaria et al. compilation).

    ``ORG_CODE`` in this file is the **CQC provider ID**, returned as ``cqc_provider_id``. It is
    the ODS code for NHS trusts (copied to ``trust_code``) and a CQC-format ID (``1-...``) for
    other providers, which cannot be linked to ODS codes without an external lookup.

    Parameters
    ----------
    path
        A file in the published layout of ``CQC_ratings.csv`` (ORG_CODE, DATE as dd/mm/yyyy,
        POPULATION, QUESTION, RATING_SCORE 0-3); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        ``cqc_provider_id``, ``trust_code``, ``publication_date``, ``year``,
        ``population_group``, ``key_question``, ``rating_score``, ``rating``.
    """
    src = source(RATINGS.dataset, path)
    raw = read_csv_text(
        src, required=["ORG_CODE", "DATE", "POPULATION", "QUESTION", "RATING_SCORE"]
    )
    labels = _rating_labels()
    score = integers_in(raw["RATING_SCORE"], src, "RATING_SCORE", 0, 3)
    provider = _provider_ids(raw["ORG_CODE"], src, "ORG_CODE")
    published = _publication_dates(raw["DATE"], src, "DATE")
    df = pd.DataFrame(
        {
            "cqc_provider_id": provider,
            "trust_code": _trust_codes(provider),
            "publication_date": published,
            "year": fy_start(published),
            "population_group": _text(raw["POPULATION"], src, "POPULATION"),
            "key_question": _key_questions(raw["QUESTION"], src, "QUESTION"),
            "rating_score": score,
            "rating": score.map(labels).astype("str"),
        }
    )
    df = df.sort_values(["cqc_provider_id", "population_group", "key_question", "publication_date"])
    return finish(df, RATINGS, src)


def read_cqc_latest_ratings(path: str | Path | None = None) -> pd.DataFrame:
    """CQC "Latest ratings" export of 3 September 2018, by provider, service and key question.

    Parameters
    ----------
    path
        An .xlsx workbook in the layout of CQC's Latest ratings export (sheet ``Providers``:
        Provider ID, Service / Population Group, Key Question, Latest Rating, Publication Date,
        Report Type); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`read_cqc_ratings` plus ``report_type``; ``rating_score`` is the
        0-3 score of the published label.
    """
    src = source(LATEST_2018.dataset, path)
    raw = read_xlsx(
        src,
        "Providers",
        required=[
            "Provider ID",
            "Service / Population Group",
            "Key Question",
            "Latest Rating",
            "Publication Date",
            "Report Type",
        ],
    )
    scores = {label: score for score, label in _rating_labels().items()}
    label = raw["Latest Rating"].astype("string").str.strip()
    unknown = ~label.isin(list(scores)).fillna(False)
    if unknown.any():
        rows = ", ".join(
            f"row {i + 2}: {show(v)}" for i, v in raw["Latest Rating"][unknown].head(5).items()
        )
        raise DataFileError(
            src.path,
            f"column 'Latest Rating' has labels that are not CQC ratings ({rows})",
            f"Ratings are {', '.join(scores)}.",
        )
    provider = _provider_ids(raw["Provider ID"], src, "Provider ID")
    published = _publication_dates(raw["Publication Date"], src, "Publication Date")
    df = pd.DataFrame(
        {
            "cqc_provider_id": provider,
            "trust_code": _trust_codes(provider),
            "publication_date": published,
            "year": fy_start(published),
            "population_group": _text(
                raw["Service / Population Group"], src, "Service / Population Group"
            ),
            "key_question": _key_questions(raw["Key Question"], src, "Key Question"),
            "rating_score": label.map(scores).astype(int),
            "rating": label.astype("str"),
            "report_type": _text(raw["Report Type"], src, "Report Type"),
        }
    )
    df = df.sort_values(["cqc_provider_id", "population_group", "key_question", "publication_date"])
    return finish(df, LATEST_2018, src)


# --- helpers ------------------------------------------------------------------------------------


def _rating_labels() -> dict[int, str]:
    """Score -> label from the registry's CQC_ratings_lookup.csv (checked to be the 0-3 scale)."""
    src = source("hm_cqc_rating_scores", None)
    raw = read_csv_text(src, required=["RATING", "SCORE"], line_end=True)
    score = integers_in(raw["SCORE"], src, "SCORE", 0, 3)
    if sorted(score) != [0, 1, 2, 3] or (raw["RATING"] == "").any():
        raise DataFileError(
            src.path,
            f"does not give one label for each score 0-3 (found {sorted(score)})",
            "Run `icsresearch data fetch hm_cqc_rating_scores` to restore it.",
        )
    return dict(zip(score.tolist(), raw["RATING"].tolist(), strict=True))


def _provider_ids(values: pd.Series, src, column: str) -> pd.Series:
    ids = values.astype("string").str.strip().str.upper()
    bad = ids.isna() | ~ids.str.fullmatch(_PROVIDER_ID.pattern).fillna(False)
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not CQC provider IDs ({rows})",
            "CQC provider IDs are either an NHS trust's ODS code (e.g. RXE) or 1- followed by digits "
            "(e.g. 1-102643363).",
        )
    return ids.astype("str")


def _trust_codes(provider: pd.Series) -> pd.Series:
    """The provider ID where it is an ODS code; missing for CQC-format IDs."""
    return provider.where(~provider.str.fullmatch(_CQC_FORMAT.pattern)).astype("str")


def _publication_dates(values: pd.Series, src, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values)
    else:
        # Excel cells arrive as datetimes; text must be dd/mm/yyyy exactly, because a US-style
        # date would otherwise be silently misread.
        is_date = values.map(lambda v: isinstance(v, datetime.date))
        text = values.where(~is_date).astype("string").str.strip()
        parsed = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
        if is_date.any():
            parsed = parsed.where(~is_date, pd.to_datetime(values.where(is_date)))
    bad = parsed.isna()
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has values that are not dates dd/mm/yyyy ({rows})",
            "Publication dates are written day/month/year, e.g. 10/02/2015.",
        )
    today = pd.Timestamp.today().normalize()
    implausible = (parsed < _FIRST_RATING) | (parsed > today)
    if implausible.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[implausible].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has dates before 2013 or in the future ({rows})",
            "CQC ratings were first published in late 2013; check the day/month order and the year.",
        )
    return parsed.astype("datetime64[ns]")


def _key_questions(values: pd.Series, src, column: str) -> pd.Series:
    q = values.astype("string").str.strip()
    bad = ~q.isin(KEY_QUESTIONS).fillna(False)
    if bad.any():
        raise DataFileError(
            src.path,
            f"column {column!r} has values that are not CQC key questions: {sorted(set(q[bad].fillna('<blank>')))[:5]}",
            f"Key questions are {', '.join(KEY_QUESTIONS)}.",
        )
    return q.astype("str")


def _text(values: pd.Series, src, column: str) -> pd.Series:
    s = values.astype("string").str.strip()
    blank = s.isna() | (s == "")
    if blank.any():
        rows = ", ".join(f"row {i + 2}" for i in s[blank].index[:5])
        raise DataFileError(
            src.path,
            f"column {column!r} has blank values ({rows})",
            "Every rating needs this field.",
        )
    return s.astype("str")
