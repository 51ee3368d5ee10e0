"""Referral to treatment (RTT): NHS England's monthly Full CSV data file, incomplete pathways.

Publisher: NHS England, Consultant-led Referral to Treatment Waiting Times (OGL v3). Each month's
zip holds one CSV with a row per provider, commissioner, RTT part and treatment function, and one
column per week waited: ``Gt 00 To 01 Weeks SUM 1`` ... up to an open band (``Gt 52 Weeks SUM 1``
in older files; ``Gt 104 Weeks SUM 1`` once the bands were extended), then ``Total``, ``Patients
with unknown clock start date`` and ``Total All``.

The reader keeps the incomplete pathways (``RTT Part Type`` Part_2, "Incomplete Pathways"; not
Part_2A, those with a decision to admit), uses the ``C_999`` total treatment function when the
file has it (else sums the functions), and sums to provider x commissioner. Bands are found by
their text, so a file with new bands reads as it is; a count past the open band's start (65+
weeks in a file whose last band is ``Gt 52 Weeks``) cannot be known and is left missing.
Everything here was built from the documented layout and tested on hand-made fixtures only.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ..schemas import YEAR_CONVENTION, Column, Schema, fy_start
from ..sources._base import codes, show
from . import _read
from .lockfile import Lock

_BAND = re.compile(r"^gt (\d+) to (\d+) weeks sum 1$")
_OPEN = re.compile(r"^gt (\d+) weeks sum 1$")
#: Waits reported past these numbers of weeks (``over_52wk`` ...).
LONG_WAITS = (52, 65, 78, 104)
_COUNT = {"bounds": (0, 10_000_000), "typical": (0, 1_000_000)}

SCHEMA = Schema(
    dataset="rtt",
    columns=(
        Column("period", "Month", "date", "First day of the month the waiting list is counted at."),
        Column(
            "year", "Financial year", "FY start", "Financial year start of the month (April-March)."
        ),
        Column("provider_code", "Provider", "ODS code", "Provider Org Code."),
        Column("provider_name", "Provider name", "", "Provider Org Name as published."),
        Column(
            "provider_parent_code",
            "Provider parent",
            "ODS code",
            "Provider Parent Org Code (the ICB's Q-code since 2022; a region before).",
        ),
        Column("commissioner_code", "Commissioner", "ODS code", "Commissioner Org Code."),
        Column("commissioner_name", "Commissioner name", "", "Commissioner Org Name."),
        Column(
            "commissioner_parent_code",
            "Commissioner parent",
            "ODS code",
            "Commissioner Parent Org Code.",
        ),
        Column(
            "incomplete_pathways",
            "Patients waiting (incomplete pathways)",
            "count",
            "'Total': incomplete pathways with a known clock start.",
            **_COUNT,
        ),
        Column(
            "within_18wk",
            "Waiting 18 weeks or less",
            "count",
            "Sum of the bands 'Gt 00 To 01' ... 'Gt 17 To 18 Weeks SUM 1'.",
            **_COUNT,
        ),
        *(
            Column(
                f"over_{w}wk",
                f"Waiting over {w} weeks",
                "count",
                f"Sum of the bands from 'Gt {w} To {w + 1} Weeks' on; missing when the file's "
                f"open band starts before {w} weeks.",
                **_COUNT,
            )
            for w in LONG_WAITS
        ),
        Column(
            "unknown_clock_start",
            "Unknown clock start",
            "count",
            "Patients with unknown clock start date (not in incomplete_pathways).",
            **_COUNT,
        ),
        Column(
            "rtt_18wk_pct",
            "Share within 18 weeks (%)",
            "%",
            "100 x within_18wk / incomplete_pathways (the operational standard is 92%); missing "
            "when nobody was waiting.",
        ),
        Column(
            "open_band_weeks",
            "Open band starts at (weeks)",
            "weeks",
            "Where the file's last band ('Gt N Weeks SUM 1') starts: 52 in older files, 104 later.",
            bounds=(18, 520),
        ),
    ),
    year_convention=(
        "Monthly month-end snapshots of the waiting list; `period` is the first of the month and "
        "`year` its financial year. The trust-year table (rtt_trust_year) takes the March "
        "snapshot, as the 2012-2019 compilation does. " + YEAR_CONVENTION
    ),
    notes=(
        "Incomplete pathways (Part_2) only. Built from the documented layout and tested on "
        "hand-made fixtures: not yet confirmed on a real published file."
    ),
    key=("period", "provider_code", "commissioner_code"),
)


def _bands(headers: list[str]) -> tuple[list[tuple[int, int, int]], int, int]:
    """``[(column, lo, hi)]`` of the closed bands, the open band's column and its start."""
    closed = []
    open_band = None
    for i, h in enumerate(headers):
        m = _BAND.match(h)
        if m:
            closed.append((i, int(m[1]), int(m[2])))
        m = _OPEN.match(h)
        if m:
            open_band = (i, int(m[1]))
    if not closed or open_band is None:
        raise ValueError("no week bands")
    return closed, open_band[0], open_band[1]


def _parse(src, expect: str | None) -> pd.DataFrame:
    name, data = _read.payload(src, lambda n: n.lower().endswith(".csv"))
    raw = _read.csv_table(src, name, data)
    headers = [_read.norm(c) for c in raw.columns]
    try:
        closed, open_col, open_from = _bands(headers)
    except ValueError:
        raise DataFileError(
            src.path,
            f"{name} has no week-band columns ('Gt 00 To 01 Weeks SUM 1' ... 'Gt N Weeks SUM 1')",
            "Is it the Full CSV data file of the RTT statistics? The reader finds the bands by "
            "their text.",
        ) from None
    expected_lo = 0
    for _, lo, hi in sorted(closed, key=lambda b: b[1]):
        if lo != expected_lo or hi != lo + 1:
            raise DataFileError(
                src.path,
                f"{name}: the week bands are not consecutive one-week bands from 0 (found "
                f"'Gt {lo:02d} To {hi:02d}' where 'Gt {expected_lo:02d} To "
                f"{expected_lo + 1:02d}' was expected)",
                "The reader sums the bands by their weeks; a band is missing or renamed.",
            )
        expected_lo = hi
    if open_from != expected_lo:
        raise DataFileError(
            src.path,
            f"{name}: the open band starts at {open_from} weeks but the one-week bands end at "
            f"{expected_lo}",
            "The reader sums the bands by their weeks; a band is missing or renamed.",
        )

    def col(pattern: str, what: str, required: bool = True):
        i = _read.column(src, headers, pattern, what=what, required=required)
        return None if i is None else raw.columns[i]

    c_period = col(r"^period$", "the period")
    c_part = col(r"^rtt part type$", "the RTT part type")
    c_desc = col(r"^rtt part description$", "the RTT part description", False)
    c_tf = col(r"^treatment function code$", "the treatment function code")
    c_total = col(r"^total$", "the total of the bands")
    c_unknown = col(r"unknown clock start", "patients with unknown clock start date", False)
    part = raw[c_part].map(_read.norm)
    incomplete = part.isin({"part 2", "part2"})
    if c_desc is not None:
        incomplete |= raw[c_desc].map(_read.norm) == "incomplete pathways"
    rows = raw[incomplete]
    if rows.empty:
        raise DataFileError(
            src.path,
            f"{name} has no incomplete pathways (RTT Part Type 'Part_2')",
            "The reader keeps Part_2 rows; check the file is the Full CSV data file.",
        )
    tf = rows[c_tf].str.upper()
    if (tf == "C_999").any():
        rows = rows[tf == "C_999"]  # the file's own total over treatment functions
    labels = rows[c_period].map(_read.month_in)
    found = labels.dropna().unique()
    if len(found) > 1:
        raise DataFileError(
            src.path,
            f"{name} holds several months ({', '.join(sorted(found))})",
            "A Full CSV data file holds one month; split the file or read each month's.",
        )
    month = found[0] if len(found) else expect
    if month is None:
        raise DataFileError(
            src.path,
            f"{name}: the Period column names no month ({show(rows[c_period].iloc[0])})",
            "Periods read like 'RTT-April-2024'.",
        )
    if expect is not None and month != expect:
        raise DataFileError(
            src.path,
            f"{name} holds {month}, but it is locked as {expect}",
            "The lockfile's period and the file disagree: re-add the period "
            "(`icsresearch data add rtt --from P --to P --update`).",
        )
    text = {
        "provider_code": col(r"^provider org code$", "the provider code"),
        "provider_name": col(r"^provider org name$", "the provider name"),
        "provider_parent_code": col(r"^provider parent org code$", "the provider parent", False),
        "commissioner_code": col(r"^commissioner org code$", "the commissioner code"),
        "commissioner_name": col(r"^commissioner org name$", "the commissioner name", False),
        "commissioner_parent_code": col(
            r"^commissioner parent org code$", "the commissioner parent", False
        ),
    }
    out = pd.DataFrame(index=rows.index)
    for k, c in text.items():
        if c is None:
            out[k] = pd.NA
        elif k.endswith("_code"):
            out[k] = codes(rows[c].reset_index(drop=True), src, c).set_axis(rows.index)
        else:
            out[k] = rows[c]
    band_values = {
        (lo, hi): _read.counts(rows[raw.columns[i]], src, raw.columns[i]) for i, lo, hi in closed
    }
    open_values = _read.counts(rows[raw.columns[open_col]], src, raw.columns[open_col])
    total = _read.counts(rows[c_total], src, c_total)
    summed = sum(v.fillna(0) for v in band_values.values()) + open_values.fillna(0)
    off = total.notna() & (summed != total)
    if off.any():
        i = off[off].index[0]
        warnings.warn(
            f"{src.path}: {name}: {int(off.sum())} row(s) whose week bands do not add up to "
            f"'Total' (e.g. provider {out.at[i, 'provider_code']}, commissioner "
            f"{out.at[i, 'commissioner_code']}: bands {summed[i]:g}, Total {total[i]:g}); "
            "'Total' is used as the number waiting.",
            UserWarning,
            stacklevel=3,
        )
    out["incomplete_pathways"] = total
    out["within_18wk"] = sum(v.fillna(0) for (lo, hi), v in band_values.items() if hi <= 18)
    for w in LONG_WAITS:
        if w < open_from:
            out[f"over_{w}wk"] = sum(
                v.fillna(0) for (lo, _), v in band_values.items() if lo >= w
            ) + open_values.fillna(0)
        elif w == open_from:
            out[f"over_{w}wk"] = open_values.fillna(0)
        else:
            out[f"over_{w}wk"] = np.nan
    out["unknown_clock_start"] = (
        _read.counts(rows[c_unknown], src, c_unknown) if c_unknown is not None else np.nan
    )
    keys = ["provider_code", "commissioner_code"]
    first = out.groupby(keys, sort=False)[
        ["provider_name", "provider_parent_code", "commissioner_name", "commissioner_parent_code"]
    ].first()
    sums = out.groupby(keys, sort=False)[
        ["incomplete_pathways", "within_18wk", *(f"over_{w}wk" for w in LONG_WAITS)]
        + ["unknown_clock_start"]
    ].sum(min_count=1)
    df = first.join(sums).reset_index()
    df["period"] = pd.Timestamp(f"{month}-01")
    df["year"] = fy_start(df["period"])
    df["open_band_weeks"] = open_from
    return df


def _pct(df: pd.DataFrame) -> pd.Series:
    total = df["incomplete_pathways"].where(df["incomplete_pathways"] > 0)
    return (100 * df["within_18wk"] / total).round(1)


@_read.documented(
    periods='Months to read (``["2024-03", ...]``); default every locked RTT month.',
    path="One Full CSV data file (zip or CSV) to read instead, without a hash check.",
)
def read_rtt(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Incomplete RTT pathways by month, provider and commissioner, from the locked files.

    Returns
    -------
    pandas.DataFrame
        One row per month, provider and commissioner: patients waiting, within 18 weeks, over
        52/65/78/104 weeks, the share within 18 weeks; columns documented in
        ``df.attrs["columns"]``, the files read in ``df.attrs["provenance"]``.

    Raises
    ------
    DataFileError
        No lockfile or no locked RTT month; a file that is not the Full CSV layout (no week bands,
        bands not consecutive, no incomplete pathways, another month than locked).

    Examples
    --------
    >>> from icsresearch.releases import read_rtt
    >>> rtt = read_rtt(periods=["2025-03"])  # doctest: +SKIP
    >>> rtt.groupby("provider_code").over_52wk.sum().nlargest(5)  # doctest: +SKIP
    """
    df, used = _read.parse_all("rtt", lock, periods, path, _parse)
    df["rtt_18wk_pct"] = _pct(df)
    return _read.finish(df, SCHEMA, used, sort=["period", "provider_code", "commissioner_code"])


PROVIDER_COLUMNS = [
    "period",
    "year",
    "provider_code",
    "provider_name",
    "incomplete_pathways",
    "within_18wk",
    *(f"over_{w}wk" for w in LONG_WAITS),
    "unknown_clock_start",
    "rtt_18wk_pct",
]


def rtt_providers(rtt: pd.DataFrame) -> pd.DataFrame:
    """The table of :func:`read_rtt` summed over commissioners: one row per month and provider.

    Parameters
    ----------
    rtt
        :func:`read_rtt`'s table.

    Returns
    -------
    pandas.DataFrame
        :data:`PROVIDER_COLUMNS`, the share within 18 weeks recomputed from the sums; ``attrs``
        kept (the same files).
    """
    keys = ["period", "year", "provider_code"]
    counts = ["incomplete_pathways", "within_18wk", *(f"over_{w}wk" for w in LONG_WAITS)]
    counts.append("unknown_clock_start")
    g = rtt.groupby(keys, sort=True)
    out = g[counts].sum(min_count=1).join(g["provider_name"].first()).reset_index()
    out["rtt_18wk_pct"] = _pct(out)
    out = out[PROVIDER_COLUMNS]
    out.attrs = dict(rtt.attrs)
    return out


#: The trust-year panel's RTT columns, as :func:`rtt_trust_year` names them.
PANEL_COLUMNS = {
    "rtt_18wk_pct": "rtt_18wk_pct",
    "incomplete_pathways": "rtt_incomplete_pathways",
    "within_18wk": "rtt_within_18wk",
}


def rtt_trust_year(
    lock: str | Path | Lock | None = None, *, path: str | Path | None = None
) -> pd.DataFrame:
    """The trust-year panel's RTT columns from the locked March files (one row per trust-year).

    The panel's RTT series is a 31 March snapshot at the end of each financial year (the
    2012-2019 compilation's convention): March 2025's file gives 2024/25 (``year`` 2024).

    Parameters
    ----------
    lock
        The lockfile (default ``icsresearch.lock`` in the current folder, or
        ``ICSRESEARCH_LOCK``).
    path
        One March Full CSV data file to read instead, without a hash check.

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, ``rtt_18wk_pct``, ``rtt_incomplete_pathways``,
        ``rtt_within_18wk`` and ``snapshot_period``; empty (same columns) when the lockfile
        holds no March RTT file. Join it to the panel on ``trust_code`` and ``year``.

    Examples
    --------
    >>> from icsresearch.panel import trust_year_panel
    >>> from icsresearch.releases import rtt_trust_year
    >>> panel = trust_year_panel("real")  # doctest: +SKIP
    >>> later = rtt_trust_year()  # doctest: +SKIP
    >>> panel = panel.set_index(["trust_code", "year"]).combine_first(  # doctest: +SKIP
    ...     later.set_index(["trust_code", "year"])).reset_index()
    """
    cols = ["trust_code", "year", *PANEL_COLUMNS.values(), "snapshot_period"]
    if path is None:
        book, march = _read.locked_periods("rtt", lock, "03")
        if not march:
            return _read.empty(cols)
        rtt = read_rtt(book, periods=march)
    else:
        rtt = read_rtt(path=path)
        if not (rtt["period"].dt.month == 3).all():
            raise DataFileError(
                path,
                "is not a March file: the trust-year RTT series is the 31 March snapshot",
                "Pass the March Full CSV data file of the financial year.",
            )
    prov = rtt_providers(rtt)
    out = prov.rename(columns={"provider_code": "trust_code", **PANEL_COLUMNS})
    out["snapshot_period"] = out["period"].dt.strftime("%Y-%m")
    out = out[cols].reset_index(drop=True)
    out.attrs = dict(rtt.attrs)
    return out
