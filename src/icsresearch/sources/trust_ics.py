"""Which ICS each NHS trust serves: catchment shares, A&E activity weights and an STP lookup.

Three published ways to link trusts to integrated care systems:

- OHID 2022 acute trust catchments: the share of each trust's patients who live in each ICB;
- Nuffield Trust weights from type-1 A&E activity in winter 2022-23 (ECDS);
- geographr's trust (2022) -> STP (2021) lookup, one STP per trust.

Publishers: OHID, Nuffield Trust (from NHS Digital ECDS), NHS ODS via geographr (OGL v3 / MIT).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from ._base import Column, Schema, _refetch_hint, finish, numbers, read_rda, read_xlsx, source
from .ods import ICB_ONS_CODE, Q_CODE, TRUST_CODE, checked_codes, published_names

_TRUST_KIND = "ODS codes of NHS trusts (R or T and two letters/digits, e.g. RA2, R0A)"
_ICB_ONS_KIND = "ONS codes of ICBs/STPs (E54 and six digits, e.g. E54000008)"
#: Shares of one trust may add up to 1 within this tolerance (rounding in the published file).
_SUM_TOLERANCE = 0.005


def _check_shares(
    df: pd.DataFrame, src, share: str, published: str, *, label: str = "trust"
) -> None:
    """Shares are 0-1 fractions (not percentages) and add up to 1 for each trust."""
    values = df[share]
    if values.isna().any():
        raise DataFileError(
            src.path,
            f"column {published!r} has {int(values.isna().sum())} missing value(s)",
            "Every row should give the share as a number between 0 and 1.",
        )
    if (values > 1 + 1e-9).any():
        raise DataFileError(
            src.path,
            f"column {published!r} has values above 1 (max {values.max():g}); the published "
            "layout gives fractions 0-1",
            "If your file gives percentages, divide the column by 100 before reading.",
        )
    if (values < 0).any():
        raise DataFileError(
            src.path,
            f"column {published!r} has negative values (min {values.min():g})",
            "Shares are fractions between 0 and 1.",
        )
    totals = df.groupby("trust_code")[share].sum()
    off = totals[(totals - 1).abs() > _SUM_TOLERANCE]
    if len(off):
        shown = ", ".join(f"{code}: {total:.4f}" for code, total in off.head(5).items())
        raise DataFileError(
            src.path,
            f"the shares of {len(off)} {label}(s) do not add up to 1 ({shown})",
            "Each trust's shares over all ICBs should add up to 1; check no rows are missing "
            "(a truncated or filtered file).",
        )


# --- OHID catchments ---------------------------------------------------------------------------

CATCHMENT = Schema(
    dataset="trust_icb_catchment",
    columns=(
        Column("trust_code", "Trust", "ODS code", "Acute trust (2022 code)."),
        Column(
            "icb_ons_code",
            "ICB",
            "ONS E54 code",
            "ICB (July 2022 ONS code: Surrey Heartlands E54000052 and Sussex E54000053, before "
            "their 2023 recoding to E54000063/64).",
        ),
        Column(
            "catchment_share",
            "Share of the trust's patients",
            "0-1",
            "proportion_trust_came_from_icb: the share of the trust's catchment population "
            "that lives in the ICB.",
        ),
    ),
    year_convention="No year column: catchments for 2022 (OHID), on July 2022 ICB boundaries.",
    notes="138 acute trusts x 42 ICBs (1,321 pairs). Shares add up to 1 for every trust (the "
    "largest deviation is below 1e-15) and run from about 1.3e-6 to 1; tiny shares are real "
    "and kept. Codes are 2022 ONS codes (E54000052/53, not the 2023 E54000063/64).",
    key=("trust_code", "icb_ons_code"),
)


def read_catchment_shares(path: str | Path | None = None) -> pd.DataFrame:
    """OHID 2022 acute trust catchments: the share of each trust's patients from each ICB.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``lookup_nhs_trusts22_icb22`` table in the geographr layout; by
        default the registry copy.

    Returns
    -------
    pandas.DataFrame
        trust_code, icb_ons_code, catchment_share (0-1; each trust's shares add up to 1).

    Examples
    --------
    >>> from icsresearch.sources.trust_ics import read_catchment_shares
    >>> shares = read_catchment_shares()  # doctest: +SKIP
    >>> shares.groupby("trust_code").catchment_share.sum().describe()  # doctest: +SKIP
    """
    src = source(CATCHMENT.dataset, path)
    raw = read_rda(
        src,
        "lookup_nhs_trusts22_icb22",
        required=["nhs_trust22_code", "icb22_code", "proportion_trust_came_from_icb"],
    )
    _require_rows(raw, src, "lookup_nhs_trusts22_icb22")
    df = pd.DataFrame(
        {
            "trust_code": checked_codes(
                raw["nhs_trust22_code"],
                src,
                "nhs_trust22_code",
                TRUST_CODE,
                _TRUST_KIND,
                first_row=1,
            ),
            "icb_ons_code": checked_codes(
                raw["icb22_code"], src, "icb22_code", ICB_ONS_CODE, _ICB_ONS_KIND, first_row=1
            ),
            "catchment_share": numbers(
                raw["proportion_trust_came_from_icb"], src, "proportion_trust_came_from_icb"
            ),
        }
    )
    _check_shares(df, src, "catchment_share", "proportion_trust_came_from_icb")
    return finish(df, CATCHMENT, src)


def _require_rows(raw: pd.DataFrame, src, table: str) -> None:
    if raw.empty:
        raise DataFileError(src.path, f"has no rows in {table}", _refetch_hint(src))


# --- Nuffield Trust A&E activity weights --------------------------------------------------------

AE_WEIGHTS = Schema(
    dataset="ics_ae_weights",
    columns=(
        Column("trust_code", "Trust", "ODS code", "Trust with a type-1 emergency department."),
        Column("trust_name", "Trust name", "", "Trust_name as published."),
        Column(
            "rank",
            "Rank of the ICS for the trust",
            "1..N",
            "Trust_ICS_N: 1 is the ICS with most of the trust's type-1 A&E attendances.",
            bounds=(1, 42),
        ),
        Column("icb_ons_code", "ICB", "ONS E54 code", "ICS_code1 (2022 ONS codes)."),
        Column("icb_code", "ICB", "ODS Q-code", "ICS_code2."),
        Column(
            "icb_name",
            "ICB name",
            "",
            "ICS_name as published, cut at 49 characters in the file (e.g. 'NHS Hampshire and "
            "Isle of Wight Integrated Care B').",
        ),
        Column(
            "type1_ed_attendances",
            "Type-1 A&E attendances",
            "count",
            "Type1_ED_activity: attendances of the ICS's residents at the trust's type-1 "
            "departments, winter 2022-23, rounded to the nearest 10.",
            bounds=(0, 5_000_000),
            typical=(0, 1_000_000),
        ),
        Column(
            "ae_weight",
            "A&E activity weight",
            "0-1",
            "Weighting: the ICS's share of the trust's (unsuppressed) type-1 attendances; the "
            "weights of a trust add up to 1.",
        ),
    ),
    year_convention="No year column: type-1 A&E activity in winter 2022-23 (financial year "
    "2022/23).",
    notes="Sheet Trust_ICS_weights_suppressed: 212 rows for 124 trusts and 42 ICBs; a trust has 1 "
    "to 6 ICSs (124 with rank 1, 68 with rank 2, 15 with rank 3). Small flows were suppressed "
    "(sub-national disclosure control) and counts rounded to 10 (smallest kept: 260), so the "
    "weights are shares of the published counts (Weighting = Type1_ED_activity / trust total, "
    "to 1e-15). Although the analysis is from 2023, the ONS codes are the 2022 ones: E54000052 "
    "(Surrey Heartlands, QXU) and E54000053 (Sussex, QNX) appear, their 2023 recodes "
    "E54000063/64 do not. ICS names are cut at 49 characters (18 of the 42 are incomplete).",
    key=("trust_code", "icb_ons_code"),
)


def read_ae_activity_weights(path: str | Path | None = None) -> pd.DataFrame:
    """Trust -> ICS weights from type-1 A&E activity, winter 2022-23 (Nuffield Trust, ECDS).

    Parameters
    ----------
    path
        An ``.xlsx`` workbook in the published layout (sheet ``Trust_ICS_weights_suppressed``);
        by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        trust_code, trust_name, rank, icb_ons_code, icb_code, icb_name, type1_ed_attendances,
        ae_weight (0-1; each trust's weights add up to 1).
    """
    src = source(AE_WEIGHTS.dataset, path)
    required = [
        "Trust_code",
        "Trust_name",
        "Trust_ICS_N",
        "ICS_code1",
        "ICS_code2",
        "ICS_name",
        "Type1_ED_activity",
        "Weighting",
    ]
    raw = read_xlsx(src, "Trust_ICS_weights_suppressed", required=required)
    df = pd.DataFrame(
        {
            "trust_code": checked_codes(
                raw["Trust_code"], src, "Trust_code", TRUST_CODE, _TRUST_KIND
            ),
            "trust_name": published_names(raw["Trust_name"]),
            "rank": numbers(raw["Trust_ICS_N"], src, "Trust_ICS_N"),
            "icb_ons_code": checked_codes(
                raw["ICS_code1"], src, "ICS_code1", ICB_ONS_CODE, _ICB_ONS_KIND
            ),
            "icb_code": checked_codes(
                raw["ICS_code2"], src, "ICS_code2", Q_CODE, "ODS Q-codes of ICBs (e.g. QYG)"
            ),
            "icb_name": published_names(raw["ICS_name"]),
            "type1_ed_attendances": numbers(raw["Type1_ED_activity"], src, "Type1_ED_activity"),
            "ae_weight": numbers(raw["Weighting"], src, "Weighting"),
        }
    )
    if df["type1_ed_attendances"].isna().any() or (df["type1_ed_attendances"] < 0).any():
        raise DataFileError(
            src.path,
            "column 'Type1_ED_activity' has missing or negative counts",
            "Suppressed flows are left out of the published sheet; every remaining row has a count.",
        )
    _check_ranks(df, src)
    _check_shares(df, src, "ae_weight", "Weighting")
    df["rank"] = df["rank"].astype(int)
    df = df.sort_values(["trust_code", "rank"], kind="stable")
    return finish(df, AE_WEIGHTS, src)


def _check_ranks(df: pd.DataFrame, src) -> None:
    """Trust_ICS_N runs 1..N within each trust."""
    bad = [
        trust
        for trust, ranks in df.groupby("trust_code")["rank"]
        if sorted(ranks.tolist()) != list(range(1, len(ranks) + 1))
    ]
    if bad:
        raise DataFileError(
            src.path,
            f"column 'Trust_ICS_N' does not run 1..N within {len(bad)} trust(s), e.g. {bad[:5]}",
            "Trust_ICS_N counts a trust's ICSs from 1 (most activity) to N; check no rows were "
            "dropped or duplicated.",
        )


# --- trust -> STP lookup -----------------------------------------------------------------------

TRUST_STP = Schema(
    dataset="trust_stp_lookup",
    columns=(
        Column("trust_code", "Trust", "ODS code", "NHS trust (2022 code)."),
        Column("trust_name", "Trust name", "", "nhs_trust22_name as published."),
        Column(
            "stp_ons_code",
            "STP",
            "ONS E54 code",
            "STP of the trust, 2021 ONS codes (E54000007 ... E54000054), one per trust.",
        ),
        Column("stp_name", "STP name", "", "stp21_name as published."),
    ),
    year_convention="No year column: trusts as in 2022, STPs as at April 2021.",
    notes="209 trusts in 42 STPs. STP codes are the April 2021 ONS codes: several changed when "
    "the ICBs were set up in July 2022 (e.g. Greater Manchester E54000007 -> E54000057), so join "
    "to ICB data through the Q-code or the LSOA lookup, not on the E54 code.",
    key=("trust_code",),
)


def read_trust_stp_lookup(path: str | Path | None = None) -> pd.DataFrame:
    """NHS trusts (2022) and the STP (2021) each belongs to.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``lookup_nhs_trusts22_stp21`` table in the geographr layout; by
        default the registry copy.

    Returns
    -------
    pandas.DataFrame
        trust_code, trust_name, stp_ons_code, stp_name; one row per trust.
    """
    src = source(TRUST_STP.dataset, path)
    raw = read_rda(
        src,
        "lookup_nhs_trusts22_stp21",
        required=["nhs_trust22_name", "nhs_trust22_code", "stp21_name", "stp21_code"],
    )
    _require_rows(raw, src, "lookup_nhs_trusts22_stp21")
    df = pd.DataFrame(
        {
            "trust_code": checked_codes(
                raw["nhs_trust22_code"],
                src,
                "nhs_trust22_code",
                TRUST_CODE,
                _TRUST_KIND,
                first_row=1,
            ),
            "trust_name": published_names(raw["nhs_trust22_name"]),
            "stp_ons_code": checked_codes(
                raw["stp21_code"], src, "stp21_code", ICB_ONS_CODE, _ICB_ONS_KIND, first_row=1
            ),
            "stp_name": published_names(raw["stp21_name"]),
        }
    )
    return finish(df, TRUST_STP, src)
