"""Small areas to NHS geography: LSOA (2011) -> sub-ICB location -> ICB (2022) and local authority.

Publisher: ONS Open Geography (OGL v3), via the geographr R package.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from ._base import Column, Schema, _refetch_hint, finish, read_rda, source
from .ods import ICB_ONS_CODE, Q_CODE, checked_codes, published_names

#: ONS codes of English LSOAs (2011): E01 and six digits.
LSOA11_ENGLAND = re.compile(r"^E01\d{6}$")
#: ODS codes of sub-ICB locations: the former CCG codes, three characters (01F, 15N) or, for the
#: CCGs merged in April 2021, five (M2L0M, X2C4Y).
SUB_ICB_CODE = re.compile(r"^[0-9A-Z]{3}([0-9A-Z]{2})?$")

#: Number of LSOAs (2011) in England.
N_LSOA11_ENGLAND = 32_844

LSOA_ICB = Schema(
    dataset="lsoa_icb_lookup",
    columns=(
        Column("lsoa11_code", "LSOA", "ONS E01 code", "Lower layer super output area (2011)."),
        Column("lsoa11_name", "LSOA name", "", "e.g. 'Halton 007A'."),
        Column(
            "sub_icb_ons_code",
            "Sub-ICB location",
            "ONS E38 code",
            "Sub-ICB location (the former CCG area), July 2022.",
        ),
        Column(
            "sub_icb_code",
            "Sub-ICB location",
            "ODS code",
            "ODS code of the sub-ICB location: the former CCG code (e.g. 01F; 5 characters for "
            "the 9 CCGs created by the April 2021 mergers, e.g. X2C4Y).",
        ),
        Column(
            "sub_icb_name",
            "Sub-ICB location name",
            "",
            "e.g. 'NHS Cheshire and Merseyside ICB - 01F'.",
        ),
        Column(
            "icb_ons_code",
            "ICB",
            "ONS E54 code",
            "ICB, July 2022 ONS code (Surrey Heartlands E54000052, Sussex E54000053).",
        ),
        Column("icb_code", "ICB", "ODS Q-code", "ICB ODS code (e.g. QYG)."),
        Column(
            "icb_name", "ICB name", "", "e.g. 'NHS Cheshire and Merseyside Integrated Care Board'."
        ),
        Column(
            "ltla_code",
            "Local authority",
            "ONS code",
            "Lower-tier local authority, 2022 (E06 unitary, E07 district, E08 metropolitan, E09 "
            "London borough).",
        ),
        Column("ltla_name", "Local authority name", "", "Lower-tier local authority name."),
    ),
    year_convention="No year column: 2011 LSOAs on the NHS geography of July 2022.",
    notes="32,844 English LSOAs (each once), 106 sub-ICB locations, 42 ICBs and 309 local "
    "authorities. Each ICB ONS code has one Q-code. 12 local authorities are split between two "
    "ICBs (e.g. East Suffolk 73/73 LSOAs, Buckinghamshire, Guildford, Chichester), so aggregate "
    "LSOAs, not local authorities, to ICBs. E54 codes are the July 2022 "
    "ones (E54000052/53 for Surrey Heartlands and Sussex; they became E54000063/64 in 2023).",
    key=("lsoa11_code",),
)


def read_lsoa_icb_lookup(path: str | Path | None = None) -> pd.DataFrame:
    """LSOA (2011) -> sub-ICB location -> ICB (July 2022) -> local authority lookup.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``lookup_lsoa11_sicbl22_icb22_ltla22`` table in the geographr
        layout; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA: lsoa11_code, lsoa11_name, sub_icb_ons_code, sub_icb_code,
        sub_icb_name, icb_ons_code, icb_code, icb_name, ltla_code, ltla_name.

    Examples
    --------
    >>> from icsresearch.sources.lsoa import read_lsoa_icb_lookup
    >>> lookup = read_lsoa_icb_lookup()  # doctest: +SKIP
    >>> lookup.groupby(["icb_code", "icb_ons_code", "icb_name"]).size()  # doctest: +SKIP
    """
    src = source(LSOA_ICB.dataset, path)
    table = "lookup_lsoa11_sicbl22_icb22_ltla22"
    published = [
        "lsoa11_code",
        "lsoa11_name",
        "sicbl22_code",
        "sicbl22_code_h",
        "sicbl22_name",
        "icb22_code",
        "icb22_code_h",
        "icb22_name",
        "ltla22_code",
        "ltla22_name",
    ]
    raw = read_rda(src, table, required=published)
    if raw.empty:
        raise DataFileError(src.path, f"has no rows in {table}", _refetch_hint(src))

    def check(column: str, pattern: re.Pattern[str], kind: str) -> pd.Series:
        return checked_codes(raw[column], src, column, pattern, kind, first_row=1)

    df = pd.DataFrame(
        {
            "lsoa11_code": check(
                "lsoa11_code", LSOA11_ENGLAND, "English 2011 LSOA codes (E01011949)"
            ),
            "lsoa11_name": published_names(raw["lsoa11_name"]),
            "sub_icb_ons_code": check(
                "sicbl22_code", re.compile(r"^E38\d{6}$"), "ONS sub-ICB codes (E38000068)"
            ),
            "sub_icb_code": check("sicbl22_code_h", SUB_ICB_CODE, "ODS sub-ICB codes (01F, X2C4Y)"),
            "sub_icb_name": published_names(raw["sicbl22_name"]),
            "icb_ons_code": check("icb22_code", ICB_ONS_CODE, "ONS ICB codes (E54000008)"),
            "icb_code": check("icb22_code_h", Q_CODE, "ODS ICB Q-codes (QYG)"),
            "icb_name": published_names(raw["icb22_name"]),
            "ltla_code": check(
                "ltla22_code",
                re.compile(r"^E0[6-9]\d{6}$"),
                "ONS local authority codes (E06000006)",
            ),
            "ltla_name": published_names(raw["ltla22_name"]),
        }
    )
    for a, b in (("icb_ons_code", "icb_code"), ("sub_icb_ons_code", "sub_icb_code")):
        _check_one_to_one(df, src, a, b)
    return finish(df, LSOA_ICB, src)


def _check_one_to_one(df: pd.DataFrame, src, a: str, b: str) -> None:
    """Each ONS code goes with one ODS code and vice versa."""
    for x, y in ((a, b), (b, a)):
        n = df.groupby(x)[y].nunique()
        if (n > 1).any():
            code = n[n > 1].index[0]
            raise DataFileError(
                src.path,
                f"{x} {code} goes with several {y} values: "
                f"{sorted(df.loc[df[x] == code, y].unique())}",
                "Each area has one ONS code and one ODS code; the file mixes two vintages.",
            )


# --- 2021 LSOAs: ICB (2024), LSOA 2011 -> 2021, ward and district (2024), district -> region ---

#: ONS codes of English LSOAs (2021): E01 and six digits, as for 2011.
LSOA21_ENGLAND = re.compile(r"^E01\d{6}$")
#: ONS codes of LSOAs in England (E01) or Wales (W01).
LSOA_ENGLAND_WALES = re.compile(r"^[EW]01\d{6}$")
#: ONS codes of electoral wards (E05) and Welsh electoral divisions (W05).
WARD_CODE = re.compile(r"^[EW]05\d{6}$")
#: ONS codes of lower-tier local authorities (E06 unitary, E07 district, E08 metropolitan, E09
#: London borough) and Welsh unitary authorities (W06).
LTLA_CODE = re.compile(r"^(E0[6-9]|W06)\d{6}$")
#: ONS codes of English regions (E12).
REGION_ONS_CODE = re.compile(r"^E12\d{6}$")
#: Number of LSOAs (2021) in England.
N_LSOA21_ENGLAND = 33_755


def _rda_table(src, table: str, published: list[str]) -> pd.DataFrame:
    """The R table with its published columns; a file without rows is refused."""
    raw = read_rda(src, table, required=published)
    if raw.empty:
        raise DataFileError(src.path, f"has no rows in {table}", _refetch_hint(src))
    return raw


def _nested(df: pd.DataFrame, src, inner: str, outer: str) -> None:
    """Each ``inner`` area lies in one ``outer`` area."""
    n = df.groupby(inner)[outer].nunique()
    if (n > 1).any():
        code = n[n > 1].index[0]
        raise DataFileError(
            src.path,
            f"{inner} {code} lies in several {outer} values: "
            f"{sorted(df.loc[df[inner] == code, outer].unique())}",
            f"Each {inner} belongs to one {outer} in the published lookup; the file mixes "
            "vintages or rows were edited.",
        )


def _same_country(df: pd.DataFrame, src, columns: list[str]) -> None:
    """The codes of one row are all English (E..) or all Welsh (W..)."""
    first = df[columns[0]].str[0]
    for c in columns[1:]:
        bad = df[c].str[0] != first
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise DataFileError(
                src.path,
                f"row {pos + 1} joins {columns[0]} {df[columns[0]].iloc[pos]!r} to "
                f"{c} {df[c].iloc[pos]!r}: an English and a Welsh area",
                "English areas have E codes and Welsh areas W codes; check the columns have "
                "not been shifted.",
            )


LSOA21_ICB = Schema(
    dataset="lsoa21_icb24_lookup",
    columns=(
        Column("lsoa21_code", "LSOA", "ONS E01 code", "Lower layer super output area (2021)."),
        Column("lsoa21_name", "LSOA name", "", "e.g. 'Halton 001A'."),
        Column(
            "sicbl_ons_code",
            "Sub-ICB location",
            "ONS E38 code",
            "Sub-ICB location, April 2024 ONS code (92A is E38000264 and 70F E38000265 here, "
            "E38000246/248 in the July 2022 lookup).",
        ),
        Column(
            "sicbl_code",
            "Sub-ICB location",
            "ODS code",
            "ODS code of the sub-ICB location: the former CCG code, 3 characters (01F) or 5 for "
            "the CCGs created by the April 2021 mergers (X2C4Y, M1J4Y ...).",
        ),
        Column(
            "sicbl_name",
            "Sub-ICB location name",
            "",
            "e.g. 'NHS Cheshire and Merseyside ICB - 01F'.",
        ),
        Column(
            "icb_ons_code",
            "ICB",
            "ONS E54 code",
            "ICB, April 2024 ONS code (Surrey Heartlands E54000063, Sussex E54000064).",
        ),
        Column("icb_code", "ICB", "ODS Q-code", "ICB ODS code (e.g. QYG)."),
        Column(
            "icb_name",
            "ICB name",
            "",
            "e.g. 'NHS Cheshire and Merseyside Integrated Care Board'.",
        ),
    ),
    year_convention="No year column: 2021 LSOAs on the NHS geography of April 2024 (valid until "
    "the 42 ICBs became 36 on 1 April 2026).",
    notes="33,755 English LSOAs (each once), 106 sub-ICB locations (9 with 5-character codes), "
    "42 ICBs (313-1,889 LSOAs each); every sub-ICB lies in one ICB and each ONS code has one ODS "
    "code. Against the July 2022 lookup (2011 LSOAs), the 31,810 LSOAs unchanged in 2021 keep "
    "their ICB except 4 that moved from Surrey Heartlands (92A, QXU) to Sussex (70F, QNX) in "
    "2023, which is why those two ICBs have new E54 codes; join to 2022 data through the "
    "Q-code, not the E54 code. No population is given: LSOA-level populations for 2021 LSOAs "
    "are not in this package's data.",
    key=("lsoa21_code",),
)


def read_lsoa21_icb24_lookup(path: str | Path | None = None) -> pd.DataFrame:
    """LSOA (2021) -> sub-ICB location -> ICB lookup, April 2024, with ONS and ODS codes.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``lookup_lsoa21_icb24`` table in the geographr layout; by
        default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per English LSOA: lsoa21_code, lsoa21_name, sicbl_ons_code, sicbl_code,
        sicbl_name, icb_ons_code, icb_code, icb_name.

    Examples
    --------
    >>> from icsresearch.sources.lsoa import read_lsoa21_icb24_lookup
    >>> lookup = read_lsoa21_icb24_lookup()  # doctest: +SKIP
    >>> lookup.groupby("icb_code").size()  # LSOAs per ICB  # doctest: +SKIP
    """
    from ._base import completeness

    src = source(LSOA21_ICB.dataset, path)
    table = "lookup_lsoa21_icb24"
    raw = _rda_table(
        src,
        table,
        [
            "lsoa21_code",
            "lsoa21_name",
            "sicbl24_code",
            "sicbl24_code_nhs",
            "sicbl24_name",
            "icb24_code",
            "icb24_code_nhs",
            "icb24_name",
        ],
    )

    def check(column: str, pattern: re.Pattern[str], kind: str) -> pd.Series:
        return checked_codes(raw[column], src, column, pattern, kind, first_row=1)

    df = pd.DataFrame(
        {
            "lsoa21_code": check(
                "lsoa21_code", LSOA21_ENGLAND, "English 2021 LSOA codes (E01012392)"
            ),
            "lsoa21_name": published_names(raw["lsoa21_name"]),
            "sicbl_ons_code": check(
                "sicbl24_code", re.compile(r"^E38\d{6}$"), "ONS sub-ICB codes (E38000068)"
            ),
            "sicbl_code": check("sicbl24_code_nhs", SUB_ICB_CODE, "ODS sub-ICB codes (01F, X2C4Y)"),
            "sicbl_name": published_names(raw["sicbl24_name"]),
            "icb_ons_code": check("icb24_code", ICB_ONS_CODE, "ONS ICB codes (E54000008)"),
            "icb_code": check("icb24_code_nhs", Q_CODE, "ODS ICB Q-codes (QYG)"),
            "icb_name": published_names(raw["icb24_name"]),
        }
    )
    for a, b in (("icb_ons_code", "icb_code"), ("sicbl_ons_code", "sicbl_code")):
        _check_one_to_one(df, src, a, b)
    _nested(df, src, "sicbl_code", "icb_code")
    coverage = completeness(df, counts=["lsoa21_name", "sicbl_name", "icb_name"], units="icb_code")
    return finish(df, LSOA21_ICB, src, coverage=coverage)


#: 2011 -> 2021 LSOA change codes.
CHANGE_CODES = {
    "U": "unchanged: the same area and code",
    "S": "split: one 2011 LSOA became two or more 2021 LSOAs",
    "M": "merged: two or more 2011 LSOAs became one 2021 LSOA",
    "X": "irregular: redrawn boundaries, many-to-many",
}

LSOA11_LSOA21 = Schema(
    dataset="lsoa11_lsoa21_lookup",
    columns=(
        Column(
            "lsoa11_code",
            "LSOA (2011)",
            "ONS E01/W01 code",
            "Lower layer super output area (2011).",
        ),
        Column("lsoa11_name", "LSOA (2011) name", "", "e.g. 'Hartlepool 009A'."),
        Column(
            "lsoa21_code",
            "LSOA (2021)",
            "ONS E01/W01 code",
            "Lower layer super output area (2021).",
        ),
        Column("lsoa21_name", "LSOA (2021) name", "", "Named after the 2021 local authority."),
        Column(
            "change_code",
            "Change 2011-2021",
            "U/S/M/X",
            "; ".join(f"{k} {v}" for k, v in CHANGE_CODES.items()) + ".",
        ),
        Column(
            "ltla22_code",
            "Local authority (2022)",
            "ONS code",
            "Local authority of the 2021 LSOA, 2022 boundaries (E06/E07/E08/E09, W06).",
        ),
        Column("ltla22_name", "Local authority (2022) name", "", "As published."),
    ),
    year_convention="No year column: the 2011 and 2021 census geographies, local authorities of "
    "2022.",
    notes="England and Wales: 35,795 rows linking 34,753 LSOAs of 2011 (32,844 English, 1,909 "
    "Welsh) to 35,672 of 2021 (33,755 English, 1,917 Welsh); filter on the E01 prefix for "
    "England. Rows by change code (England / Wales): U 31,810 / 1,837, S 1,842 / 58 (834 English "
    "2011 LSOAs split into 2-9), M 194 / 45 (97 English 2021 LSOAs, each from 2), X 9 / 0 (6 "
    "English 2011 and 6 2021 LSOAs). Every 2021 LSOA has at least one 2011 LSOA and vice versa. "
    "U rows keep the code. Three 2011 LSOAs of type X (E01008187, E01023508, E01023964) straddle two 2022 local authorities. The "
    "lookup has no weights: do not apportion counts across S, M or X rows without populations.",
    key=("lsoa11_code", "lsoa21_code"),
)


def read_lsoa11_lsoa21_lookup(path: str | Path | None = None) -> pd.DataFrame:
    """LSOA (2011) -> LSOA (2021) lookup with the change code and the 2022 local authority.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``lookup_lsoa11_lsoa21_ltla22`` table in the geographr layout;
        by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per pair of 2011 and 2021 LSOAs that overlap: lsoa11_code, lsoa11_name,
        lsoa21_code, lsoa21_name, change_code (U, S, M, X), ltla22_code, ltla22_name.

    Examples
    --------
    >>> from icsresearch.sources.lsoa import read_lsoa11_lsoa21_lookup
    >>> pairs = read_lsoa11_lsoa21_lookup()  # doctest: +SKIP
    >>> pairs.change_code.value_counts()  # doctest: +SKIP
    """
    from ._base import completeness

    src = source(LSOA11_LSOA21.dataset, path)
    table = "lookup_lsoa11_lsoa21_ltla22"
    raw = _rda_table(
        src,
        table,
        [
            "lsoa11_code",
            "lsoa11_name",
            "change_code",
            "lsoa21_code",
            "lsoa21_name",
            "ltla22_code",
            "ltla22_name",
        ],
    )

    def check(column: str, pattern: re.Pattern[str], kind: str) -> pd.Series:
        return checked_codes(raw[column], src, column, pattern, kind, first_row=1)

    df = pd.DataFrame(
        {
            "lsoa11_code": check("lsoa11_code", LSOA_ENGLAND_WALES, "LSOA codes (E01011949)"),
            "lsoa11_name": published_names(raw["lsoa11_name"]),
            "lsoa21_code": check("lsoa21_code", LSOA_ENGLAND_WALES, "LSOA codes (E01011949)"),
            "lsoa21_name": published_names(raw["lsoa21_name"]),
            "change_code": check(
                "change_code", re.compile(r"^[USMX]$"), "change codes (U, S, M or X)"
            ),
            "ltla22_code": check("ltla22_code", LTLA_CODE, "local authority codes (E06000001)"),
            "ltla22_name": published_names(raw["ltla22_name"]),
        }
    )
    _same_country(df, src, ["lsoa11_code", "lsoa21_code", "ltla22_code"])
    _nested(df, src, "lsoa21_code", "ltla22_code")
    _check_change_codes(df, src)
    coverage = completeness(
        df, counts=["lsoa11_name", "lsoa21_name", "ltla22_name"], units="lsoa21_code"
    )
    return finish(df, LSOA11_LSOA21, src, coverage=coverage)


def _check_change_codes(df: pd.DataFrame, src) -> None:
    """What each change code implies, in any subset of the lookup's rows."""
    n21 = df.groupby("lsoa11_code")["lsoa21_code"].transform("size")
    n11 = df.groupby("lsoa21_code")["lsoa11_code"].transform("size")
    code = df["change_code"]
    rules = (
        (
            (code == "U") & ((df["lsoa11_code"] != df["lsoa21_code"]) | (n21 > 1) | (n11 > 1)),
            "U (unchanged) rows whose 2011 and 2021 codes differ or that appear in other rows",
        ),
        ((code == "S") & (n11 > 1), "S (split) rows whose 2021 LSOA comes from several 2011 LSOAs"),
        ((code == "M") & (n21 > 1), "M (merged) rows whose 2011 LSOA goes to several 2021 LSOAs"),
    )
    for bad, problem in rules:
        if bad.any():
            pos = [int(i) for i in bad.to_numpy().nonzero()[0][:3]]
            shown = ", ".join(
                f"row {p + 1}: {df['lsoa11_code'].iloc[p]} -> {df['lsoa21_code'].iloc[p]}"
                for p in pos
            )
            raise DataFileError(
                src.path,
                f"has {int(bad.sum())} {problem} ({shown})",
                "U links an LSOA to itself, S one 2011 LSOA to several 2021 LSOAs, M several to "
                "one; check the change_code column has not been shifted.",
            )


LSOA21_WARD = Schema(
    dataset="lsoa21_ward_ltla24_lookup",
    columns=(
        Column("lsoa21_code", "LSOA", "ONS E01/W01 code", "Lower layer super output area (2021)."),
        Column("lsoa21_name", "LSOA name", "", "Named after the 2021 local authority."),
        Column(
            "ward_code",
            "Ward",
            "ONS E05/W05 code",
            "Electoral ward (Welsh electoral division), 2024, best fit of the LSOA.",
        ),
        Column("ward_name", "Ward name", "", "Not unique across authorities: use the code."),
        Column(
            "ltla_code",
            "Local authority",
            "ONS code",
            "Lower-tier local authority, 2024 (E06 unitary, E07 district, E08 metropolitan, E09 "
            "London borough, W06 Welsh unitary).",
        ),
        Column("ltla_name", "Local authority name", "", "2024 name, e.g. 'Cumberland'."),
    ),
    year_convention="No year column: 2021 LSOAs best-fitted to the wards and local authorities "
    "of 2024.",
    notes="England and Wales: 35,672 LSOAs (33,755 E01, 1,917 W01), each once; 7,536 wards; "
    "318 local authorities (296 English, the 2024 districts after the 2023 reorganisation of "
    "Cumbria, North Yorkshire and Somerset, and 22 Welsh). Best fit: an LSOA lies wholly in its "
    "ward's authority, but the fit can differ from MHCLG's - E01027305 'West Northamptonshire "
    "048E' is placed in Cherwell here (ward Cropredy, Sibfords and Wroxton) while the IMD 2025 "
    "district summaries count it in West Northamptonshire (238 LSOAs there, 102 in Cherwell).",
    key=("lsoa21_code",),
)


def read_lsoa21_ward_ltla24_lookup(path: str | Path | None = None) -> pd.DataFrame:
    """LSOA (2021) -> electoral ward -> local authority district lookup, 2024, England and Wales.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``lookup_lsoa21_ward24_ltla24`` table in the geographr layout;
        by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA: lsoa21_code, lsoa21_name, ward_code, ward_name, ltla_code, ltla_name.

    Examples
    --------
    >>> from icsresearch.sources.lsoa import read_lsoa21_ward_ltla24_lookup
    >>> wards = read_lsoa21_ward_ltla24_lookup()  # doctest: +SKIP
    >>> england = wards[wards.lsoa21_code.str.startswith("E")]  # doctest: +SKIP
    """
    from ._base import completeness

    src = source(LSOA21_WARD.dataset, path)
    table = "lookup_lsoa21_ward24_ltla24"
    raw = _rda_table(
        src,
        table,
        ["lsoa21_code", "lsoa21_name", "ward24_code", "ward24_name", "ltla24_code", "ltla24_name"],
    )

    def check(column: str, pattern: re.Pattern[str], kind: str) -> pd.Series:
        return checked_codes(raw[column], src, column, pattern, kind, first_row=1)

    df = pd.DataFrame(
        {
            "lsoa21_code": check("lsoa21_code", LSOA_ENGLAND_WALES, "LSOA codes (E01012049)"),
            "lsoa21_name": published_names(raw["lsoa21_name"]),
            "ward_code": check("ward24_code", WARD_CODE, "ward codes (E05009861)"),
            "ward_name": published_names(raw["ward24_name"]),
            "ltla_code": check("ltla24_code", LTLA_CODE, "local authority codes (E06000002)"),
            "ltla_name": published_names(raw["ltla24_name"]),
        }
    )
    _same_country(df, src, ["lsoa21_code", "ward_code", "ltla_code"])
    _nested(df, src, "ward_code", "ltla_code")
    _check_one_to_one(df, src, "ltla_code", "ltla_name")
    coverage = completeness(df, counts=["lsoa21_name", "ward_name", "ltla_name"], units="ltla_code")
    return finish(df, LSOA21_WARD, src, coverage=coverage)


LTLA_REGION = Schema(
    dataset="ltla24_region_lookup",
    columns=(
        Column(
            "ltla_code",
            "Local authority",
            "ONS code",
            "English lower-tier local authority, 2024 (E06/E07/E08/E09).",
        ),
        Column("ltla_name", "Local authority name", "", "2024 name."),
        Column("region_code", "Region", "ONS E12 code", "English region (E12000001-E12000009)."),
        Column(
            "region_name",
            "Region name",
            "",
            "One of the nine English regions (ONS 'regions', formerly government office "
            "regions): not the seven NHS England regions.",
        ),
    ),
    year_convention="No year column: local authorities and regions of 2024.",
    notes="296 English local authorities (63 E06, 164 E07, 36 E08, 33 E09), each once, in 9 "
    "regions (North East 12 ... South East 64). Codes and names agree with the 296 English "
    "authorities of the LSOA-ward-authority 2024 lookup.",
    key=("ltla_code",),
)


def read_ltla24_region_lookup(path: str | Path | None = None) -> pd.DataFrame:
    """Local authority district (2024) -> English region lookup.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``lookup_ltla24_region24`` table in the geographr layout; by
        default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per English local authority: ltla_code, ltla_name, region_code, region_name.
    """
    from ._base import completeness

    src = source(LTLA_REGION.dataset, path)
    table = "lookup_ltla24_region24"
    raw = _rda_table(src, table, ["ltla24_code", "ltla24_name", "region24_code", "region24_name"])

    def check(column: str, pattern: re.Pattern[str], kind: str) -> pd.Series:
        return checked_codes(raw[column], src, column, pattern, kind, first_row=1)

    df = pd.DataFrame(
        {
            "ltla_code": check(
                "ltla24_code",
                re.compile(r"^E0[6-9]\d{6}$"),
                "English local authority codes (E06000001)",
            ),
            "ltla_name": published_names(raw["ltla24_name"]),
            "region_code": check("region24_code", REGION_ONS_CODE, "ONS region codes (E12000001)"),
            "region_name": published_names(raw["region24_name"]),
        }
    )
    _check_one_to_one(df, src, "region_code", "region_name")
    coverage = completeness(df, counts=["ltla_name", "region_name"], units="region_code")
    return finish(df, LTLA_REGION, src, coverage=coverage)
