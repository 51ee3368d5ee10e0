"""Rural-urban classification 2021 of the 2021 LSOAs of England and Wales.

Publisher: Office for National Statistics (OGL v3), via the geographr R package.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from ._base import Column, Schema, completeness, finish, source
from .lsoa import LSOA_ENGLAND_WALES, _rda_table
from .ods import checked_codes, published_names

#: The six 2021 classes: code -> (published classification, urban or rural).
RUC21_CLASSES = {
    "UN1": ("Urban: Nearer to a major town or city", "Urban"),
    "UF1": ("Urban: Further from a major town or city", "Urban"),
    "RLN1": ("Larger rural: Nearer to a major town or city", "Rural"),
    "RLF1": ("Larger rural: Further from a major town or city", "Rural"),
    "RSN1": ("Smaller rural: Nearer to a major town or city", "Rural"),
    "RSF1": ("Smaller rural: Further from a major town or city", "Rural"),
}

SCHEMA = Schema(
    dataset="rural_urban_2021",
    columns=(
        Column("lsoa21_code", "LSOA", "ONS E01/W01 code", "Lower layer super output area (2021)."),
        Column(
            "ruc21_code",
            "Rural-urban class",
            "RUC2021 code",
            "UN1, UF1 (urban), RLN1, RLF1 (larger rural), RSN1, RSF1 (smaller rural).",
        ),
        Column(
            "classification",
            "Rural-urban classification",
            "",
            "The class in words: settlement type (Urban; Larger rural; Smaller rural) and "
            "whether the LSOA is nearer to or further from a major town or city, by ONS's 2021 "
            "rules (see the ONS Rural Urban Classification 2021 user guide).",
        ),
        Column(
            "urban_rural",
            "Urban or rural",
            "",
            "'Urban' for UN1/UF1, 'Rural' for the four rural classes (the published 'ruc').",
        ),
    ),
    year_convention="No year column: the 2021 classification of 2021 census LSOAs.",
    notes="England and Wales: 35,672 LSOAs (33,755 English, 1,917 Welsh), each once; filter on "
    "the E01 prefix for England. All LSOAs: UN1 27,106, UF1 2,451, RLN1 2,127, RLF1 1,021, "
    "RSN1 1,735, RSF1 1,232. The 2021 classes replace the 2011 ones (A1 ... E2): the two "
    "cannot be compared class by class.",
    key=("lsoa21_code",),
)


def read_rural_urban_2021(path: str | Path | None = None) -> pd.DataFrame:
    """Rural-urban classification 2021 of each LSOA (2021) in England and Wales.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``ruc21_lsoa21`` table in the geographr layout (lsoa21_code,
        ruc21_code, classification, ruc); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA: lsoa21_code, ruc21_code, classification, urban_rural.

    Examples
    --------
    >>> from icsresearch.sources.rural_urban import read_rural_urban_2021
    >>> ruc = read_rural_urban_2021()  # doctest: +SKIP
    >>> ruc[ruc.lsoa21_code.str.startswith("E")].urban_rural.value_counts()  # doctest: +SKIP
    """
    src = source(SCHEMA.dataset, path)
    raw = _rda_table(src, "ruc21_lsoa21", ["lsoa21_code", "ruc21_code", "classification", "ruc"])
    code = checked_codes(
        raw["ruc21_code"],
        src,
        "ruc21_code",
        re.compile("^(" + "|".join(RUC21_CLASSES) + ")$"),
        f"RUC2021 codes ({', '.join(RUC21_CLASSES)})",
        first_row=1,
    )
    df = pd.DataFrame(
        {
            "lsoa21_code": checked_codes(
                raw["lsoa21_code"],
                src,
                "lsoa21_code",
                LSOA_ENGLAND_WALES,
                "LSOA codes (E01000001)",
                first_row=1,
            ),
            "ruc21_code": code,
            "classification": published_names(raw["classification"]),
            "urban_rural": published_names(raw["ruc"]),
        }
    )
    for column, published, which in (
        ("classification", "classification", 0),
        ("urban_rural", "ruc", 1),
    ):
        expected = code.map({k: v[which] for k, v in RUC21_CLASSES.items()})
        bad = df[column] != expected
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise DataFileError(
                src.path,
                f"column {published!r} disagrees with ruc21_code in {int(bad.sum())} row(s), "
                f"e.g. row {pos + 1}: {code.iloc[pos]} with {df[column].iloc[pos]!r} "
                f"(expected {expected.iloc[pos]!r})",
                "Each RUC2021 code has one classification and is Urban (U..) or Rural (R..); "
                "check the columns have not been shifted.",
            )
    coverage = completeness(df, counts=["ruc21_code"], units="ruc21_code")
    return finish(df, SCHEMA, src, coverage=coverage)
