"""NHS organisations from the Organisation Data Service (ODS): trusts, providers, CCGs and STPs.

Readers for the ODS ``etr.csv`` trusts file (headerless) and its tidy December 2021 extract, the
provider list with organisation type and specialist flag compiled by Asaria et al., the ODS
succession chain (old code -> new code), and NHS England's CCG -> STP -> region reference of
April 2020. :func:`successor_map` walks the succession chain to each code's latest successor.

Publisher: NHS Digital Organisation Data Service and NHS England (OGL v3).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pandas as pd

from ..errors import DataFileError, InvalidParameterError
from ._base import (
    Column,
    Schema,
    _decode,
    _raw_bytes,
    _refetch_hint,
    check_last_line,
    codes,
    finish,
    read_csv_text,
    read_rda,
    read_xlsx,
    show,
    source,
)

# --- code patterns and shared checks (used by the other geography readers too) ---------------

#: ODS codes of NHS trusts: three characters starting R or T (e.g. RA2, R0A, TAD).
TRUST_CODE = re.compile(r"^[RT][A-Z0-9]{2}$")
#: ODS codes of ICBs/STPs and of the old NHS England local offices ("Q-codes", e.g. QYG).
Q_CODE = re.compile(r"^Q[A-Z0-9]{2}$")
#: ODS codes of the seven NHS England regions (Y56 London ... Y63 North East and Yorkshire).
REGION_CODE = re.compile(r"^Y\d{2}$")
#: ONS codes of ICBs/STPs (E54000008 ...).
ICB_ONS_CODE = re.compile(r"^E54\d{6}$")

#: The seven NHS England regions as in NHS England's April 2020 reference file.
NHS_REGIONS = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}


def checked_codes(
    values: pd.Series,
    src,
    column: str,
    pattern: re.Pattern[str],
    kind: str,
    *,
    first_row: int = 2,
    upper: bool = True,
) -> pd.Series:
    """Strip (and upper-case) codes and check each matches ``pattern``; else a DataFileError.

    Parameters
    ----------
    values
        The published codes.
    src
        The file being read (for the error message).
    column
        The published column name.
    pattern
        The regular expression every code must match, e.g. :data:`ICB_ONS_CODE`.
    kind
        What the codes are, with an example, e.g. ``"ONS ICB codes (E54000008)"``.
    first_row
        Row number of the first value in the file, for the message: 2 for a CSV or sheet with a
        header line, 1 for the rows of an R table.
    upper
        Upper-case before checking (ODS codes); ONS codes are already upper-case.
    """
    s = values.astype("string").str.strip()
    if upper:
        s = s.str.upper()
    bad = s.isna() | ~s.str.fullmatch(pattern.pattern).fillna(False)
    if bad.any():
        shown = ", ".join(
            f"row {pos + first_row}: {values.iloc[pos]!r}" for pos in _positions(bad)[:5]
        )
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not {kind} ({shown})",
            f"Every value of {column!r} should be one of the {kind}; check the file is the "
            "published layout and that the column has not been shifted or reformatted.",
        )
    return s.astype(str)


def _positions(mask: pd.Series) -> list[int]:
    return [i for i, flag in enumerate(mask.to_numpy()) if flag]


def checked_dates(
    values: pd.Series,
    src,
    column: str,
    fmt: str,
    *,
    missing: frozenset[str] = frozenset({"", "NA"}),
    allow_missing: bool = True,
    first_row: int = 2,
) -> pd.Series:
    """Parse dates published in format ``fmt``; blank/"NA" become NaT, anything else is an error.

    Dates before 1948 (the NHS) or after 2100 are refused too: they come from a misread format.
    """
    s = values.astype("string").str.strip()
    is_missing = s.isna() | s.isin(list(missing))
    parsed = pd.to_datetime(s.where(~is_missing), format=fmt, errors="coerce")
    implausible = (parsed.dt.year < 1948) | (parsed.dt.year > 2100)
    bad = (parsed.isna() & ~is_missing) | (is_missing & (not allow_missing)) | implausible
    if bad.any():
        shown = ", ".join(
            f"row {pos + first_row}: {values.iloc[pos]!r}" for pos in _positions(bad)[:5]
        )
        example = pd.Timestamp("2020-04-01").strftime(fmt)
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not dates in the "
            f"published format {fmt!r} between 1948 and 2100 ({shown})",
            f"Dates in {column!r} are written like {example!r}"
            + ("; leave the field blank when there is none." if allow_missing else "."),
        )
    return parsed.astype("datetime64[ns]")


def published_names(values: pd.Series) -> pd.Series:
    """Published names, stripped, with non-breaking spaces (Excel exports) made ordinary spaces."""
    return values.astype("str").str.replace("\xa0", " ", regex=False).str.strip()


# --- ODS etr.csv (headerless) ------------------------------------------------------------------

_TRUST_COLUMNS = (
    Column("trust_code", "Trust", "ODS code", "ODS organisation code of the NHS trust."),
    Column(
        "trust_name",
        "Trust name",
        "",
        "Name as published (upper case in etr.csv, mixed case in the tidy extract); not re-cased, "
        "because automatic title-casing mangles 'NHS', 'and', 'of' and Welsh names.",
    ),
    Column(
        "region_code",
        "NHS region",
        "ODS Y-code",
        "ODS 'national grouping': NHS England region Y-code (Y56 London ... Y63 North East and "
        "Yorkshire); W00 for the Welsh trusts listed by ODS.",
    ),
    Column(
        "icb_code",
        "ICB/STP",
        "ODS Q-code",
        "ODS 'high level health geography': the STP (later ICB) Q-code at the extract date; "
        "closed trusts keep an older NHS England local-office Q-code, Welsh trusts Q99.",
    ),
    Column("postcode", "Postcode", "", "Postcode of the registered address."),
    Column("open_date", "Opened", "date", "ODS open date of the organisation code."),
    Column("close_date", "Closed", "date", "ODS close date; NaT while the trust is open."),
)

ODS_TRUSTS = Schema(
    dataset="ods_etr",
    columns=_TRUST_COLUMNS,
    year_convention="No year column: open_date/close_date are the ODS dates of the code. The file "
    "is the October 2020 ODS release, so icb_code is the STP code of that date.",
    notes="Genuine ODS etr.csv: no header, ODS column order (1 code, 2 name, 3 national grouping, "
    "4 high level health geography, 5-9 address, 10 postcode, 11 open date YYYYMMDD, 12 close "
    "date, 22 amended record indicator, 24 GOR code). The October 2020 release has 227 trusts, "
    "each line with 24 fields (ODS drops trailing empty fields; 24-27 are accepted). 4 codes are "
    "closed (R0C Project Nightingale, R1J, RNL, RQ6) and carry NHS England local-office Q-codes "
    "(Q71, Q86, Q74, Q75) instead of an STP code; 3 Welsh trusts (RQF, RT4, RYT) have region W00 "
    "and Q99. A missing close date does not prove a trust still exists: RJD (Mid Staffordshire, "
    "dissolved 2014) and the April 2020 merger predecessors RA3, RBA, RC1, RDD and RQ8 have none "
    "here and are gone from the December 2021 extract. Names are upper case as published.",
    key=("trust_code",),
)

#: The ODS etr field positions (1-based in the ODS documentation) that the reader uses.
_ETR_FIELDS = {"code": 0, "name": 1, "region": 2, "hlhg": 3, "postcode": 9, "open": 10, "close": 11}
_ETR_MIN_FIELDS, _ETR_MAX_FIELDS = 24, 27


def read_ods_trusts(path: str | Path | None = None) -> pd.DataFrame:
    """NHS trusts from the ODS ``etr.csv`` file (headerless, ODS column order).

    Parameters
    ----------
    path
        A file in the published ODS ``etr.csv`` layout (no header; 24-27 fields a line); by
        default the registry copy (October 2020).

    Returns
    -------
    pandas.DataFrame
        One row per trust: trust_code, trust_name, region_code, icb_code, postcode, open_date,
        close_date. ``attrs`` documents each column.

    Examples
    --------
    >>> from icsresearch.sources.ods import read_ods_trusts
    >>> trusts = read_ods_trusts()  # doctest: +SKIP
    >>> trusts.query("close_date.isna()").groupby("region_code").size()  # doctest: +SKIP
    """
    src = source(ODS_TRUSTS.dataset, path)
    text = _decode(src, _raw_bytes(src, "text"), "utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    rows = list(csv.reader(lines))
    if not rows:
        raise DataFileError(src.path, "has no trust records", _refetch_hint(src))
    first = rows[0]
    # A header has names, not a date, where the open date belongs (field 11).
    if len(first) > _ETR_FIELDS["open"] and not re.search(r"\d", first[10]):
        raise DataFileError(
            src.path,
            f"starts with a line that is not a trust record (a header?): {lines[0][:80]!r}",
            "etr.csv as published by ODS has no header line. For the tidy extract with a header "
            "(ods_code, ods_name, ...) use read_ods_trusts_tidy().",
        )
    for number, row in enumerate(rows, start=1):
        if not _ETR_MIN_FIELDS <= len(row) <= _ETR_MAX_FIELDS:
            truncated = number == len(rows) and not text.endswith(("\n", "\r"))
            raise DataFileError(
                src.path,
                f"line {number} has {len(row)} fields; ODS etr.csv lines have "
                f"{_ETR_MIN_FIELDS}-{_ETR_MAX_FIELDS} (27 columns, trailing empty ones may be "
                "dropped)" + (" - the file looks truncated" if truncated else ""),
                _refetch_hint(src)
                if truncated
                else "Is this the ODS etr.csv file? Other ODS files (eccg, epraccur...) have "
                "other layouts.",
            )
    # ODS ends every line of etr.csv with a line end: a file without one was cut inside a value.
    check_last_line(src, text, lines, _ETR_MIN_FIELDS, line_end=True)
    raw = pd.DataFrame(
        [[row[i].strip() for i in _ETR_FIELDS.values()] for row in rows],
        columns=list(_ETR_FIELDS),
    )
    df = pd.DataFrame(
        {
            "trust_code": checked_codes(
                raw["code"],
                src,
                "organisation code (field 1)",
                TRUST_CODE,
                "ODS codes of NHS trusts (R or T and two letters/digits, e.g. RA2, R0A)",
                first_row=1,
            ),
            "trust_name": published_names(raw["name"]),
            "region_code": checked_codes(
                raw["region"],
                src,
                "national grouping (field 3)",
                re.compile(r"^[YW]\d{2}$"),
                "NHS region codes (Y56 ... Y63, W00 for Wales)",
                first_row=1,
            ),
            "icb_code": checked_codes(
                raw["hlhg"],
                src,
                "high level health geography (field 4)",
                Q_CODE,
                "ODS Q-codes of STPs/ICBs (e.g. QYG)",
                first_row=1,
            ),
            "postcode": raw["postcode"].replace("", None),
            "open_date": checked_dates(
                raw["open"], src, "open date (field 11)", "%Y%m%d", allow_missing=False, first_row=1
            ),
            "close_date": checked_dates(
                raw["close"], src, "close date (field 12)", "%Y%m%d", first_row=1
            ),
        }
    )
    return finish(df, ODS_TRUSTS, src)


# --- ODS tidy extract (December 2021) ----------------------------------------------------------

ODS_TRUSTS_TIDY = Schema(
    dataset="ods_etr_tidy",
    columns=_TRUST_COLUMNS,
    year_convention="No year column: open_date/close_date are the ODS dates of the code. The "
    "extract is from December 2021.",
    notes="Tidy extract with a header (ods_code, ods_name, region_code, stp_code, ...); 'NA' marks "
    "missing values and dates are ISO YYYY-MM-DD. The December 2021 extract has 218 trusts: 6 "
    "closed in 2020-21 (RD3, RDZ -> R0D; RT3; RTV; RW6; RXH) and the 3 Welsh trusts (W00/Q99). "
    "Names are mixed case as published.",
    key=("trust_code",),
)


def read_ods_trusts_tidy(path: str | Path | None = None) -> pd.DataFrame:
    """NHS trusts from the tidy ODS extract of December 2021 (a CSV with a header).

    Parameters
    ----------
    path
        A CSV with the columns ods_code, ods_name, region_code, stp_code, postcode, open_date,
        close_date ("NA" for none); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        The same columns as :func:`read_ods_trusts`.
    """
    src = source(ODS_TRUSTS_TIDY.dataset, path)
    required = [
        "ods_code",
        "ods_name",
        "region_code",
        "stp_code",
        "postcode",
        "open_date",
        "close_date",
    ]
    raw = read_csv_text(src, required=required, line_end=True)
    df = pd.DataFrame(
        {
            "trust_code": checked_codes(
                raw["ods_code"],
                src,
                "ods_code",
                TRUST_CODE,
                "ODS codes of NHS trusts (R or T and two letters/digits, e.g. RA2, R0A)",
            ),
            "trust_name": published_names(raw["ods_name"]),
            "region_code": checked_codes(
                raw["region_code"],
                src,
                "region_code",
                re.compile(r"^[YW]\d{2}$"),
                "NHS region codes (Y56 ... Y63, W00 for Wales)",
            ),
            "icb_code": checked_codes(
                raw["stp_code"], src, "stp_code", Q_CODE, "ODS Q-codes of STPs/ICBs (e.g. QYG)"
            ),
            "postcode": raw["postcode"].where(raw["postcode"] != "NA"),
            "open_date": checked_dates(
                raw["open_date"], src, "open_date", "%Y-%m-%d", allow_missing=False
            ),
            "close_date": checked_dates(raw["close_date"], src, "close_date", "%Y-%m-%d"),
        }
    )
    return finish(df, ODS_TRUSTS_TIDY, src)


# --- providers with type and specialist flag -------------------------------------------------

#: Published ORG_TYPE -> trust_type (for acute trusts the specialist flag decides).
_ORG_TYPES = {
    "Acute": None,
    "Mental Health": "mental health",
    "Community Provider Trust": "community",
    "Ambulance": "ambulance",
    "Clinical Commissioning Group": "ccg",
}

PROVIDERS = Schema(
    dataset="hm_providers",
    columns=(
        Column(
            "trust_code",
            "Organisation",
            "ODS code",
            "ODS code of the trust (or of the CCG, for the CCG rows), trailing spaces removed.",
        ),
        Column("trust_name", "Name", "", "ORG_NAME as published, trailing spaces removed."),
        Column(
            "org_type",
            "Organisation type (published)",
            "",
            "ORG_TYPE: Acute, Community Provider Trust, Mental Health, Ambulance or Clinical "
            "Commissioning Group.",
        ),
        Column(
            "hee_region_code",
            "HEE region",
            "YDF code",
            "Health Education England local office code (see the hm_hee_regions file).",
        ),
        Column("specialist", "Specialist trust", "bool", "SPECIALIST flag (TRUE/FALSE)."),
        Column(
            "trust_type",
            "Trust type",
            "",
            "Derived: 'acute non-specialist', 'acute specialist', 'mental health', 'community', "
            "'ambulance' or 'ccg'.",
        ),
    ),
    year_convention="No year column: the list is as at 2018.",
    notes="431 organisations in 2018: 151 acute trusts (17 specialist), 52 mental health, 20 "
    "community, 10 ambulance and 198 CCGs. The file starts with a byte-order mark, has Windows "
    "line ends, and ORG_CODE/ORG_NAME carry a trailing space. Only acute trusts are flagged "
    "specialist.",
    key=("trust_code",),
)


def read_providers(path: str | Path | None = None) -> pd.DataFrame:
    """NHS trusts and CCGs with organisation type, HEE region and specialist flag (2018).

    Parameters
    ----------
    path
        A file in the published layout of ``nhs_provider.csv``; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        trust_code, trust_name, org_type, hee_region_code, specialist (bool) and the derived
        trust_type.
    """
    src = source(PROVIDERS.dataset, path)
    raw = read_csv_text(
        src, required=["ORG_CODE", "ORG_NAME", "ORG_TYPE", "HEE_REGION_CODE", "SPECIALIST"]
    )
    unknown = sorted(set(raw["ORG_TYPE"]) - set(_ORG_TYPES))
    if unknown:
        raise DataFileError(
            src.path,
            f"column 'ORG_TYPE' has unknown organisation type(s) {unknown}",
            f"ORG_TYPE should be one of {sorted(_ORG_TYPES)}.",
        )
    flag = raw["SPECIALIST"].str.upper()
    if not flag.isin(["TRUE", "FALSE"]).all():
        bad = raw.loc[~flag.isin(["TRUE", "FALSE"]), "SPECIALIST"]
        shown = ", ".join(f"row {i + 2}: {show(v)}" for i, v in bad.head(5).items())
        raise DataFileError(
            src.path,
            f"column 'SPECIALIST' has {len(bad)} value(s) that are not TRUE/FALSE ({shown})",
            "SPECIALIST is TRUE or FALSE for every organisation.",
        )
    specialist = flag.eq("TRUE").astype(bool)
    acute = raw["ORG_TYPE"].eq("Acute")
    trust_type = raw["ORG_TYPE"].map(_ORG_TYPES).astype("object")
    trust_type[acute & specialist] = "acute specialist"
    trust_type[acute & ~specialist] = "acute non-specialist"
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE"),
            "trust_name": published_names(raw["ORG_NAME"]),
            "org_type": raw["ORG_TYPE"],
            "hee_region_code": checked_codes(
                raw["HEE_REGION_CODE"],
                src,
                "HEE_REGION_CODE",
                re.compile(r"^YDF\d{2}$"),
                "Health Education England region codes (YDF21 ... YDF33)",
            ),
            "specialist": specialist,
            "trust_type": trust_type.astype("str"),
        }
    )
    return finish(df, PROVIDERS, src)


# --- succession chain ------------------------------------------------------------------------

SUCCESSIONS = Schema(
    dataset="trust_successions",
    columns=(
        Column("old_code", "Old code", "ODS code", "Code of the organisation that closed/merged."),
        Column("new_code", "New code", "ODS code", "Code of the organisation that took it over."),
        Column("succession_date", "Succession date", "date", "Date the succession took effect."),
    ),
    year_convention="No year column: succession_date is the date the succession took effect "
    "(1 April for most NHS reorganisations).",
    notes="The ODS succession file for all organisation types, 25,480 rows from 1992 to 2022, "
    "mostly not trusts: of its 43,107 distinct codes 40,628 have 5 characters (trust sites such "
    "as RX863 - 13,311 codes of R/T plus 4 characters - and other ODS organisations and sites, "
    "plus the CCGs created in April 2021 such as X2C4Y), 420 have 4, 2,056 have 3 and 3 have 2. "
    "Only 568 codes have the shape of a trust code (R or T plus 2 characters) and 422 rows "
    "link two such codes; the other 3-character codes are CCGs (e.g. 00D), PCTs (5xx) and "
    "NHS England/SHA Q- and Y-codes. 39 rows succeed a code to itself and 35 (old, new) pairs "
    "are recorded twice with different dates. 498 codes split: their most recent successions "
    "go to several codes on the same date (e.g. RW6 Pennine Acute -> RM3 and R0A, 1 October "
    "2021); see successor_map() for how they are resolved. Some trust mergers are missing "
    "(e.g. RA3 Weston and RBA Taunton and Somerset, both merged in April 2020, have no rows). "
    "Rows are kept as published.",
    key=("old_code", "new_code", "succession_date"),
)


def read_trust_successions(path: str | Path | None = None) -> pd.DataFrame:
    """The ODS succession chain: which code took over each closed organisation code, and when.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``lookup_trust_trust`` table (old_code, new_code, date) in the
        geographr layout; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        old_code, new_code, succession_date, as published. Use :func:`successor_map` to follow
        chains to the latest code.
    """
    src = source(SUCCESSIONS.dataset, path)
    raw = read_rda(src, "lookup_trust_trust", required=["old_code", "new_code", "date"])
    if raw.empty:
        raise DataFileError(src.path, "has no rows in lookup_trust_trust", _refetch_hint(src))
    any_code = re.compile(r"^[A-Z0-9]{2,9}$")
    kind = "ODS organisation codes (letters and digits, e.g. RA2, 00D, A81001)"
    df = pd.DataFrame(
        {
            "old_code": checked_codes(
                raw["old_code"], src, "old_code", any_code, kind, first_row=1
            ),
            "new_code": checked_codes(
                raw["new_code"], src, "new_code", any_code, kind, first_row=1
            ),
            "succession_date": checked_dates(
                _iso_dates(raw["date"]),
                src,
                "date",
                "%Y-%m-%d",
                allow_missing=False,
                first_row=1,
            ),
        }
    )
    return finish(df, SUCCESSIONS, src)


def _iso_dates(values: pd.Series) -> pd.Series:
    """R Date columns arrive as datetime.date objects (or datetime64): write them as YYYY-MM-DD."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d")
    return values.map(lambda v: v.isoformat()[:10] if hasattr(v, "isoformat") else v).astype(
        "string"
    )


#: Known splits resolved to the successor that took most of the organisation's services. Pennine
#: Acute Hospitals (RW6) was dissolved on 1 October 2021: the Royal Oldham, Fairfield General and
#: Rochdale Infirmary went to the Northern Care Alliance (Salford Royal, RM3); North Manchester
#: General had passed to Manchester University NHS FT (R0A) in April 2021.
MAIN_SUCCESSORS: dict[str, str] = {"RW6": "RM3"}


def successor_map(
    successions: pd.DataFrame | None = None,
    as_of: str | pd.Timestamp | None = None,
    *,
    trusts_only: bool = False,
    on_split: Literal["choose", "drop", "error"] = "choose",
    overrides: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Follow the succession chain from each old code to its latest code (A -> B -> C gives A -> C).

    Rules, in order:

    1. Rows with ``succession_date`` after ``as_of`` are ignored; rows that succeed a code to
       itself are dropped; an (old, new) pair recorded twice counts once, at its latest date.
    2. From each code, the chain follows its most recent succession.
    3. A *split* is a code whose most recent successions go to several codes on the same date.
       With ``on_split="choose"`` (default) the chain follows, in order of preference: the
       successor named in ``overrides`` (default :data:`MAIN_SUCCESSORS`, e.g. RW6 -> RM3);
       a successor of the same kind as the old code (a trust code - R or T plus two characters -
       to a trust code, otherwise a code of the same length); the alphabetically first. Such rows
       have ``split`` True and list every possible end in ``candidates``. ``on_split="drop"``
       leaves ``latest_code`` missing for them and ``"error"`` raises.
    4. A cycle (A -> B -> A) raises an error naming it.

    Parameters
    ----------
    successions
        Output of :func:`read_trust_successions` (read from the registry by default).
    as_of
        Only successions on or before this date count (e.g. ``"2019-03-31"`` for codes as at the
        end of 2018/19). Default: all.
    trusts_only
        Keep only successions between trust codes (R or T plus two characters), dropping CCGs,
        PCTs, GP practices and sites - and so the many community trusts that split into PCTs.
    on_split
        What to do with codes whose chain splits: ``"choose"``, ``"drop"`` or ``"error"``.
    overrides
        Split resolutions {old_code: successor}; default :data:`MAIN_SUCCESSORS`. Pass ``{}``
        to use the generic rules only.

    Returns
    -------
    pandas.DataFrame
        One row per old code: old_code, latest_code, steps (successions followed),
        last_date (date of the last one), split (bool) and candidates (the possible latest codes,
        ``;``-separated).

    Examples
    --------
    >>> from icsresearch.sources.ods import successor_map
    >>> succ = successor_map(trusts_only=True)  # doctest: +SKIP
    >>> latest = dict(zip(succ.old_code, succ.latest_code))  # doctest: +SKIP
    >>> panel["trust_code"].map(latest).fillna(panel["trust_code"])  # doctest: +SKIP
    """
    if on_split not in ("choose", "drop", "error"):
        raise InvalidParameterError(
            f"on_split={on_split!r} is not allowed; use 'choose', 'drop' or 'error'."
        )
    if successions is None:
        successions = read_trust_successions()
    needed = {"old_code", "new_code", "succession_date"}
    if not needed <= set(successions.columns):
        raise InvalidParameterError(
            f"successions needs the columns {sorted(needed)} (as returned by "
            f"read_trust_successions()); it has {list(successions.columns)}."
        )
    overrides = dict(MAIN_SUCCESSORS if overrides is None else overrides)
    edges = successions[["old_code", "new_code", "succession_date"]].copy()
    edges["succession_date"] = pd.to_datetime(edges["succession_date"])
    if as_of is not None:
        try:
            cutoff = pd.Timestamp(as_of)
        except (ValueError, TypeError):
            raise InvalidParameterError(
                f"as_of={as_of!r} is not a date; give e.g. '2019-03-31'."
            ) from None
        edges = edges[edges["succession_date"] <= cutoff]
    edges = edges[edges["old_code"] != edges["new_code"]]
    if trusts_only:
        pattern = TRUST_CODE.pattern
        edges = edges[
            edges["old_code"].str.fullmatch(pattern) & edges["new_code"].str.fullmatch(pattern)
        ]
    edges = edges.groupby(["old_code", "new_code"], as_index=False)["succession_date"].max()

    # The most recent succession(s) of each code: several on the same date make a split.
    latest = edges[
        edges["succession_date"] == edges.groupby("old_code")["succession_date"].transform("max")
    ]
    latest = latest.sort_values(["old_code", "new_code"])
    options: dict[str, list[str]] = {}
    when: dict[str, pd.Timestamp] = {}
    for old, new, date in zip(
        latest["old_code"], latest["new_code"], latest["succession_date"], strict=True
    ):
        options.setdefault(old, []).append(new)
        when[old] = date
    unknown = {k: v for k, v in overrides.items() if k in options and v not in options[k]}
    if unknown:
        raise InvalidParameterError(
            "overrides name successors that are not among the code's most recent successors: "
            + "; ".join(f"{k} -> {v} (successors: {options[k]})" for k, v in unknown.items())
        )
    nxt = {old: _choose(old, succ, overrides) for old, succ in options.items()}

    rows = []
    ends: dict[str, frozenset[str]] = {}
    for start in options:
        path = [start]
        code = start
        while code in nxt:
            code = nxt[code]
            if code in path:
                raise _cycle_error(successions, path[path.index(code) :] + [code])
            path.append(code)
        rows.append((start, code, len(path) - 1, when[path[-2]]))
        _all_ends(start, options, ends, successions)
    out = pd.DataFrame(rows, columns=["old_code", "latest_code", "steps", "last_date"])
    cands = out["old_code"].map(ends)
    out["split"] = cands.map(len) > 1
    out["candidates"] = cands.map(lambda s: ";".join(sorted(s)))
    out["latest_code"] = out["latest_code"].astype("str")
    if on_split == "drop":
        out.loc[out["split"], "latest_code"] = pd.NA
    elif on_split == "error" and out["split"].any():
        example = out.loc[out["split"], ["old_code", "candidates"]].head(5).to_dict("records")
        raise InvalidParameterError(
            f"{int(out['split'].sum())} code(s) split into several possible latest codes, "
            f"e.g. {example}. Use on_split='choose' (with overrides={{old: new}} for the ones you "
            "know) or on_split='drop'."
        )
    out.attrs["columns"] = {
        "old_code": {"label": "Old code", "unit": "ODS code", "description": "A superseded code."},
        "latest_code": {
            "label": "Latest code",
            "unit": "ODS code",
            "description": "End of the chain (see successor_map's rules for splits).",
        },
        "steps": {"label": "Steps", "unit": "count", "description": "Successions followed."},
        "last_date": {
            "label": "Last succession",
            "unit": "date",
            "description": "Date of the last succession followed.",
        },
        "split": {
            "label": "Split",
            "unit": "bool",
            "description": "True when the chain could end at more than one code.",
        },
        "candidates": {
            "label": "Possible latest codes",
            "unit": "",
            "description": "Every code the chain can end at, ';'-separated.",
        },
    }
    return out


def _same_kind(old: str, new: str) -> bool:
    if TRUST_CODE.fullmatch(old):
        return bool(TRUST_CODE.fullmatch(new))
    return len(old) == len(new)


def _choose(old: str, successors: list[str], overrides: Mapping[str, str]) -> str:
    if len(successors) == 1:
        return successors[0]
    if old in overrides:
        return overrides[old]
    same = [s for s in successors if _same_kind(old, s)]
    return (same or successors)[0]  # successors are sorted: alphabetical tie-break


def _all_ends(
    start: str,
    options: dict[str, list[str]],
    ends: dict[str, frozenset[str]],
    successions: pd.DataFrame,
) -> frozenset[str]:
    """Every code reachable at the end of ``start``'s chain, following all branches of splits."""
    # Iterative depth-first walk with memo (chains of 25,000 codes would overflow recursion).
    stack: list[tuple[str, bool]] = [(start, False)]
    on_path: list[str] = []
    while stack:
        code, expanded = stack.pop()
        if code in ends:
            continue
        if code not in options:
            ends[code] = frozenset({code})
            continue
        if expanded:
            on_path.remove(code)
            ends[code] = frozenset().union(*(ends[s] for s in options[code]))
            continue
        if code in on_path:
            raise _cycle_error(successions, on_path[on_path.index(code) :] + [code])
        on_path.append(code)
        stack.append((code, True))
        stack.extend((s, False) for s in options[code] if s not in ends)
        for s in options[code]:
            if s in on_path:
                raise _cycle_error(successions, on_path[on_path.index(s) :] + [s])
    return ends[start]


def _cycle_error(successions: pd.DataFrame, cycle: list[str]) -> Exception:
    problem = f"the succession chain has a cycle: {' -> '.join(cycle)}"
    fix = "A code cannot succeed itself through other codes; correct or remove one of these rows."
    where = successions.attrs.get("path")
    if where:
        return DataFileError(where, problem, fix)
    return InvalidParameterError(f"{problem}. {fix}")


# --- CCG -> STP -> region reference ------------------------------------------------------------

CCG_STP = Schema(
    dataset="ccg_stp_reference",
    columns=(
        Column("ccg_code", "CCG", "ODS code", "Clinical commissioning group ODS code."),
        Column("ccg_name", "CCG name", "", "CCG name as published."),
        Column("stp_code", "STP", "ODS Q-code", "Sustainability and transformation partnership."),
        Column("stp_name", "STP name", "", "STP name as published (April 2020)."),
        Column("region_code", "NHS region", "ODS Y-code", "NHS England region (Y56 ... Y63)."),
        Column("region_name", "NHS region name", "", "NHS England region name."),
    ),
    year_convention="No year column: CCGs, STPs and regions as at 1 April 2020.",
    notes="Sheet 'Post-Apr 2020' of NHS England's reference file: 135 CCGs in 42 STPs in 7 "
    "regions (Y56 London, Y58 South West, Y59 South East, Y60 Midlands, Y61 East of England, Y62 "
    "North West, Y63 North East and Yorkshire). The STP Q-codes are the codes the 42 ICBs kept "
    "in July 2022. Other sheets (pre-April 2020 CCGs, mergers, commissioning hubs) are not read.",
    key=("ccg_code",),
)


def read_ccg_stp_reference(path: str | Path | None = None) -> pd.DataFrame:
    """CCG -> STP -> NHS region lookup of 1 April 2020 (NHS England reference file).

    Parameters
    ----------
    path
        An ``.xlsx`` workbook in the published layout (sheet "Post-Apr 2020"); by default the
        registry copy.

    Returns
    -------
    pandas.DataFrame
        ccg_code, ccg_name, stp_code, stp_name, region_code, region_name; one row per CCG.
    """
    src = source(CCG_STP.dataset, path)
    required = ["CCG Code", "CCG Name", "STP Code", "STP Name", "Region Code", "Region Name"]
    raw = read_xlsx(src, "Post-Apr 2020", required=required)
    df = pd.DataFrame(
        {
            "ccg_code": codes(raw["CCG Code"], src, "CCG Code"),
            "ccg_name": published_names(raw["CCG Name"]),
            "stp_code": checked_codes(
                raw["STP Code"], src, "STP Code", Q_CODE, "ODS Q-codes of STPs (e.g. QYG)"
            ),
            "stp_name": published_names(raw["STP Name"]),
            "region_code": checked_codes(
                raw["Region Code"], src, "Region Code", REGION_CODE, "NHS region Y-codes (Y56)"
            ),
            "region_name": published_names(raw["Region Name"]),
        }
    )
    for code, name in (("stp_code", "stp_name"), ("region_code", "region_name")):
        n_names = df.groupby(code)[name].nunique()
        if (n_names > 1).any():
            clash = n_names[n_names > 1].index[0]
            raise DataFileError(
                src.path,
                f"{code.split('_')[0].upper()} {clash} has several names: "
                f"{sorted(df.loc[df[code] == clash, name].unique())}",
                "Each code should have one name in the published reference file.",
            )
    return finish(df, CCG_STP, src)
