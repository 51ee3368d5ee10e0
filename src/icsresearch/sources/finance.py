"""Trust finances: financial position, operating income and operating cost, GBP thousands.

Publisher: NHS Improvement / Monitor trust accounts consolidation (OGL v3), as compiled by Asaria,
McGuire & Street (2022).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    codes,
    finish,
    integers_in,
    numbers,
    read_csv_text,
    source,
)

SCHEMA = Schema(
    dataset="hm_finance",
    columns=(
        Column("trust_code", "Trust", "ODS code", "Provider ODS code (ORG_CODE, cleaned)."),
        Column("year", "Financial year", "FY start", "Financial year start (2012 = 2012/13)."),
        Column(
            "financial_position_gbp_k",
            "Financial position",
            "GBP thousands",
            "FINANCIAL_POSITION: the trust's reported surplus (+) or deficit (-) for the year. "
            "It is not operating income minus operating cost (finance costs, impairments and "
            "technical adjustments differ).",
            bounds=(-10_000_000, 10_000_000),
            typical=(-500_000, 500_000),
        ),
        Column(
            "operating_income_gbp_k",
            "Operating income",
            "GBP thousands",
            "OP_INCOME: total operating income.",
            bounds=(0, 100_000_000),
            typical=(0, 5_000_000),
        ),
        Column(
            "operating_cost_gbp_k",
            "Operating cost",
            "GBP thousands",
            "Total operating expenses as a positive amount (-OP_COST: the file stores costs as "
            "negative numbers).",
            bounds=(0, 100_000_000),
            typical=(0, 5_000_000),
        ),
        Column(
            "rounded_in_source",
            "Rounded in the source",
            "bool",
            "True when a value of the row was published in rounded scientific notation (e.g. "
            "5.00E+03), i.e. to 3 significant figures only.",
        ),
    ),
    year_convention="YEAR is already the financial-year start. " + YEAR_CONVENTION,
    notes=(
        "OP_COST is negative in the published layout; the reader flips the sign and refuses a "
        "file with positive costs instead of guessing. Five values were written in scientific "
        "notation with 3 significant figures (a spreadsheet export artefact): "
        "FINANCIAL_POSITION 5.00E+03 (RW4 2011) and 4.00E+03 (RW4 2012), exact only to +-5 "
        "(+-0.1%); OP_COST -3.67E+05 (RYR 2012) and -4.17E+05 (RH8 2015) and OP_INCOME "
        "9.98E+05 (RTH 2016), exact only to +-500 (+-0.05% to +-0.14%). These rows are flagged "
        "by rounded_in_source. Two rows (RBB 2015, RD7 2015) have income, cost and position all "
        "0: both trusts had been taken over during 2014/15 and filed no accounts, so all three "
        "are missing. "
        "RJD (Mid Staffordshire, dissolved 2014) reports 0 income with small residual costs in "
        "2015-2016; kept as published. Trusts created or dissolved during a year report part-year "
        "figures (e.g. R0A, Manchester University, formed 1 October 2017: 2017 cost is about "
        "half its 2018 cost). From 2016 some values carry decimals (e.g. -272406.991)."
    ),
    key=("trust_code", "year"),
)

_VALUES = ("FINANCIAL_POSITION", "OP_INCOME", "OP_COST")
_SCIENTIFIC = r"^[-+]?\d+(\.\d*)?[eE][-+]?\d+$"


def read_finance(path: str | Path | None = None) -> pd.DataFrame:
    """Financial position, operating income and operating cost by trust and financial year.

    Parameters
    ----------
    path
        A file in the published layout of ``financial_positions.csv``; by default the registry
        copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``trust_code``, ``year``, ``financial_position_gbp_k``,
        ``operating_income_gbp_k``, ``operating_cost_gbp_k`` (positive) and
        ``rounded_in_source``.

    Raises
    ------
    DataFileError
        If columns are missing, numbers do not parse, operating income is negative, or OP_COST
        holds positive values (a different sign convention, which is never flipped silently).
    """
    src = source(SCHEMA.dataset, path)
    raw = read_csv_text(src, required=["ORG_CODE", "YEAR", *_VALUES])
    values = {c: numbers(raw[c], src, c) for c in _VALUES}
    cost, income = values["OP_COST"], values["OP_INCOME"]
    _check_cost_sign(cost, raw["OP_COST"], src)
    negative_income = income < 0
    if negative_income.any():
        i = negative_income[negative_income].index[0]
        raise DataFileError(
            src.path,
            f"column 'OP_INCOME' has {int(negative_income.sum())} negative value(s) "
            f"(row {i + 2}: {raw.at[i, 'OP_INCOME']})",
            "Operating income is positive in the published layout (only OP_COST is negative); "
            "check the columns are not swapped.",
        )
    # All three zero: nothing was reported, which is not a break-even trust.
    no_accounts = (income == 0) & (cost == 0) & (values["FINANCIAL_POSITION"] == 0)
    rounded = pd.concat(
        [raw[c].str.fullmatch(_SCIENTIFIC).fillna(False) for c in _VALUES], axis=1
    ).any(axis=1)
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE", strip_suffix=True),
            "year": integers_in(raw["YEAR"], src, "YEAR", 2000, 2100),
            "financial_position_gbp_k": values["FINANCIAL_POSITION"].mask(no_accounts),
            "operating_income_gbp_k": income.mask(no_accounts),
            "operating_cost_gbp_k": (-cost).mask(no_accounts) + 0.0,  # + 0.0 turns -0.0 into 0.0
            "rounded_in_source": rounded.astype(bool),
        }
    )
    df = df.sort_values(["trust_code", "year"], kind="stable")
    return finish(df, SCHEMA, src)


def _check_cost_sign(cost: pd.Series, text: pd.Series, src) -> None:
    positive = cost > 0
    if not positive.any():
        return
    nonzero = int((cost != 0).sum())
    rows = ", ".join(f"row {i + 2}: {text[i]}" for i in np.flatnonzero(positive.to_numpy())[:3])
    if positive.sum() > nonzero / 2:
        problem = (
            f"column 'OP_COST' is mostly positive ({int(positive.sum())} of {nonzero} non-zero "
            f"values, e.g. {rows}): a different sign convention from the published layout, "
            "where operating costs are negative"
        )
        fix = (
            "If your file gives costs as positive amounts, negate OP_COST before reading "
            "(the reader will not guess which convention a file uses)."
        )
    else:
        problem = (
            f"column 'OP_COST' mixes signs: {int(positive.sum())} of {nonzero} non-zero values "
            f"are positive ({rows}) where the published layout has only negative costs"
        )
        fix = "Check those rows: a positive operating cost is a sign error or a misplaced value."
    raise DataFileError(src.path, problem, fix)
