"""Referral to treatment (RTT): patients waiting on incomplete pathways and the share within 18 weeks.

Publisher: NHS England, Consultant-led Referral to Treatment Waiting Times (OGL v3), as compiled by
Asaria, McGuire & Street (2022) from the 31 March snapshot of each year.
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
    fy_label,
    fy_start,
    integers_in,
    numbers,
    read_csv_text,
    show,
    source,
)

SCHEMA = Schema(
    dataset="hm_rtt",
    columns=(
        Column("trust_code", "Trust", "ODS code", "Provider ODS code (ORG_CODE, cleaned)."),
        Column(
            "year",
            "Financial year",
            "FY start",
            "Financial year that ends at the snapshot: 31 March 2019 -> 2018 (2018/19).",
        ),
        Column(
            "snapshot_date",
            "Snapshot date",
            "date",
            "The published DATE: the 31 March month-end snapshot of the waiting list.",
        ),
        Column(
            "incomplete_pathways_count",
            "Patients on incomplete pathways",
            "count",
            "N_TOTAL: patients waiting to start consultant-led treatment at the snapshot.",
            bounds=(0, 10_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "within_18wk_count",
            "Waiting under 18 weeks",
            "count",
            "N_18_WEEKS: incomplete pathways that had waited 18 weeks or less.",
            bounds=(0, 10_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "rtt_18wk_share",
            "Share within 18 weeks",
            "0-1",
            "The published RTT_SCORE (checked against N_18_WEEKS / N_TOTAL); missing when the "
            "trust had no incomplete pathways.",
        ),
        Column(
            "rtt_18wk_pct",
            "Share within 18 weeks (%)",
            "%",
            "100 x RTT_SCORE, rounded to 1 decimal place (the operational standard is 92%).",
        ),
    ),
    year_convention=(
        "The file gives a 31 March snapshot (DATE) and YEAR, the financial year that ends at it: "
        "DATE 31/03/2019 is YEAR 2018. The reader checks that YEAR is that financial year. "
        + YEAR_CONVENTION
    ),
    notes=(
        "RTT_SCORE equals N_18_WEEKS / N_TOTAL to its published precision (9 decimal places; "
        "largest gap 5e-10 in the registry copy). One row (RT2, 31/03/2019) has N_TOTAL = 0 and "
        "RTT_SCORE = 0: a share of nothing, so rtt_18wk_share is left missing rather than 0. "
        "Small specialist providers (e.g. RY7 with 5 pathways) have shares of exactly 1."
    ),
    key=("trust_code", "year"),
)

_REQUIRED = ["DATE", "YEAR", "ORG_CODE", "N_TOTAL", "N_18_WEEKS", "RTT_SCORE"]


def read_rtt(path: str | Path | None = None) -> pd.DataFrame:
    """Patients on incomplete RTT pathways and the share waiting 18 weeks or less, by trust and year.

    Parameters
    ----------
    path
        A file in the published layout of ``RTT.csv`` (read without the registry hash check); by
        default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust and financial year; columns documented in ``df.attrs["columns"]``.

    Raises
    ------
    DataFileError
        If the file is empty, truncated or not the published layout, a DATE is not dd/mm/yyyy,
        YEAR is not the financial year ending at DATE, counts are negative or not whole, or
        RTT_SCORE disagrees with N_18_WEEKS / N_TOTAL.

    Examples
    --------
    >>> from icsresearch.sources.rtt import read_rtt
    >>> rtt = read_rtt()  # doctest: +SKIP
    >>> rtt.query("year == 2018").rtt_18wk_pct.describe()  # doctest: +SKIP
    """
    src = source(SCHEMA.dataset, path)
    raw = read_csv_text(src, required=_REQUIRED)
    snapshot = _dates(raw["DATE"], src)
    year = integers_in(raw["YEAR"], src, "YEAR", 2000, 2100)
    expected = fy_start(snapshot)
    wrong = year != expected
    if wrong.any():
        rows = ", ".join(
            f"row {i + 2}: DATE {raw.at[i, 'DATE']} with YEAR {year[i]} "
            f"(expected {expected[i]}, i.e. {fy_label(int(expected[i]))})"
            for i in wrong[wrong].index[:3]
        )
        raise DataFileError(
            src.path,
            f"has {int(wrong.sum())} row(s) whose YEAR is not the financial year ending at DATE ({rows})",
            "In the published layout YEAR is the financial-year start of the year that ends at the "
            "31 March snapshot (DATE 31/03/2019 is YEAR 2018). Fix YEAR or DATE in those rows.",
        )
    total = _counts(raw["N_TOTAL"], src, "N_TOTAL")
    within = _counts(raw["N_18_WEEKS"], src, "N_18_WEEKS")
    over = within > total
    if over.any():
        i = over[over].index[0]
        raise DataFileError(
            src.path,
            f"has {int(over.sum())} row(s) with more patients within 18 weeks than in total "
            f"(row {i + 2}: N_18_WEEKS {within[i]} > N_TOTAL {total[i]})",
            "N_18_WEEKS counts a subset of N_TOTAL; check the two columns are not swapped.",
        )
    share = numbers(raw["RTT_SCORE"], src, "RTT_SCORE", fraction=True)
    if share.isna().any() or (share < 0).any() or (share > 1).any():
        raise DataFileError(
            src.path,
            f"column 'RTT_SCORE' must be a fraction between 0 and 1 (found {share.min():g} to "
            f"{share.max():g}, {int(share.isna().sum())} missing)",
            "The published layout gives RTT_SCORE as a 0-1 fraction; divide percentages by 100.",
        )
    _check_share(raw["RTT_SCORE"], share, within, total, src)
    share = share.where(total > 0)  # 0/0 is not a 0% performance
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE", strip_suffix=True),
            "year": year,
            "snapshot_date": snapshot,
            "incomplete_pathways_count": total,
            "within_18wk_count": within,
            "rtt_18wk_share": share,
            "rtt_18wk_pct": (share * 100).round(1),
        }
    )
    df = df.sort_values(["trust_code", "year"], kind="stable")
    return finish(df, SCHEMA, src)


def _dates(values: pd.Series, src) -> pd.Series:
    """Parse dd/mm/yyyy dates strictly (never month-first)."""
    parsed = pd.to_datetime(values, format="%d/%m/%Y", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column 'DATE' has {int(bad.sum())} value(s) that are not dd/mm/yyyy dates ({rows})",
            "Write snapshot dates as day/month/year, e.g. 31/03/2019 (Excel may have re-formatted them).",
        )
    return parsed


def _counts(values: pd.Series, src, column: str) -> pd.Series:
    """Whole, non-negative, non-missing counts as int64."""
    num = numbers(values, src, column)
    bad = num.isna() | (num < 0) | (num != np.floor(num))
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not whole non-negative counts ({rows})",
            "Counts of patients are whole numbers >= 0; a blank is not allowed in this file.",
        )
    return num.astype("int64")


def _check_share(text: pd.Series, share: pd.Series, within, total, src) -> None:
    """RTT_SCORE must equal N_18_WEEKS / N_TOTAL to the precision it is published with."""
    decimals = text.str.partition(".")[2].str.len()
    # Half a unit in the last published decimal, but never looser than 3 decimal places.
    tolerance = 0.5 * 10.0 ** -np.maximum(decimals.to_numpy(), 3) + 1e-12
    has_total = total > 0
    computed = within / total.where(has_total)
    gap = (computed - share).abs()
    bad = (has_total & (gap > tolerance)) | (~has_total & (share != 0))
    if bad.any():
        i = bad[bad].index[0]
        raise DataFileError(
            src.path,
            f"has {int(bad.sum())} row(s) where RTT_SCORE disagrees with N_18_WEEKS / N_TOTAL "
            f"(row {i + 2}: RTT_SCORE {text[i]} but {within[i]} / {total[i]})",
            "RTT_SCORE should be the share of incomplete pathways within 18 weeks; check the "
            "columns are the published ones and in the published order.",
        )
