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
