"""SHMI at trust level: NHS England's (formerly NHS Digital's) monthly rolling 12-month release.

Publisher: NHS England, Summary Hospital-level Mortality Indicator (OGL v3). Each release is a
zip ("SHMI data files, Jul20-Jun21.zip") holding "SHMI data at trust level" as CSV
(``PROVIDER_CODE, PROVIDER_NAME, SHMI_VALUE, SHMI_BANDING, ..., OBSERVED, EXPECTED``) and as a
workbook (sheet "Data", a title block, then ``Provider code, Provider name, SHMI value, SHMI
banding, Number of spells, Observed deaths, Expected deaths`` and control limits, footnotes
below). The reader takes the trust-level CSV when the zip has one, else the workbook, and finds
every column by its text. A period is the window's last month: ``2024-03`` is April 2023 - March
2024, the financial year 2023/24 (``year`` 2023); other windows have no ``year``.

Non-specialist acute trusts only (about 120). Built from the documented layouts and tested on
hand-made fixtures only.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ..schemas import YEAR_CONVENTION, Column, Schema
from ..sources._base import codes, numbers
from . import _read
from .lockfile import Lock

_BANDS = {1: "higher than expected", 2: "as expected", 3: "lower than expected"}
_WINDOW = re.compile(r"([A-Za-z]{3})(\d{2})\s*-\s*([A-Za-z]{3})(\d{2})")

SCHEMA = Schema(
    dataset="shmi",
    columns=(
        Column("window_end", "Last month of the window", "date", "First day of its last month."),
        Column("window_start", "First month of the window", "date", "11 months before."),
        Column(
            "year",
            "Financial year",
            "FY start",
            "Financial year start when the window is April-March; missing for other windows.",
        ),
        Column("trust_code", "Trust", "ODS code", "PROVIDER_CODE."),
        Column("trust_name", "Trust name", "", "PROVIDER_NAME."),
        Column(
            "shmi",
            "SHMI",
            "ratio",
            "Observed / expected deaths in hospital or within 30 days of discharge.",
            bounds=(0.2, 3.0),
            typical=(0.4, 1.6),
        ),
        Column(
            "banding",
            "SHMI banding",
            "",
            "'higher than expected' (1), 'as expected' (2) or 'lower than expected' (3).",
        ),
        Column(
            "spells",
            "Spells",
            "count",
            "Finished provider spells in the window.",
            bounds=(0, 5_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "observed_deaths",
            "Observed deaths",
            "count",
            "Deaths in hospital or within 30 days of discharge.",
            bounds=(0, 500_000),
            typical=(0, 20_000),
        ),
        Column(
            "expected_deaths",
            "Expected deaths",
            "count",
            "Expected from the trust's case mix (not a whole number).",
            bounds=(0, 500_000),
            typical=(0, 20_000),
        ),
    ),
    year_convention=(
        "Rolling 12-month windows named by their last month; `year` only for April-March "
        "windows. " + YEAR_CONVENTION
    ),
    notes="Built from the documented layouts and tested on hand-made fixtures only.",
    key=("window_end", "trust_code"),
)


def _member(name: str) -> bool:
    return name.lower().endswith((".csv", ".xls", ".xlsx"))


def _choose(src, data: bytes, name: str) -> tuple[str, bytes]:
    """The trust-level table of a release zip: its CSV if it has one, else its workbook."""
    import io
    import zipfile

    if not data.startswith(b"PK\x03\x04"):
        return name, data
    zf = zipfile.ZipFile(io.BytesIO(data))
    if any(n.startswith("xl/") for n in zf.namelist()):
        return name, data
    names = [n for n in zf.namelist() if _member(n)]
    trust = [n for n in names if "trust level" in _read.norm(n)] or names
    trust.sort(key=lambda n: (not n.lower().endswith(".csv"), n))
    if not trust:
        raise DataFileError(
            src.path, "holds no trust-level table", "Is it the SHMI data files zip?"
        )
    return trust[0], zf.read(trust[0])


def _banding(values: pd.Series, src) -> pd.Series:
    out = []
    for v in values:
        text = _read.norm(v)
        if text in ("", "-", "nan", "none"):
            out.append(np.nan)
            continue
        try:
            out.append(_BANDS[int(float(text))])
            continue
        except (ValueError, KeyError):
            pass
        hit = next((b for b in _BANDS.values() if text.startswith(b)), None)
        if hit is None:
            raise DataFileError(
                src.path,
                f"has a SHMI banding {_read.show(v)} that is not 1, 2, 3 or its wording",
                "Bandings are 1 (higher than expected), 2 (as expected), 3 (lower).",
            )
        out.append(hit)
    return pd.Series(out, index=values.index, dtype=object)


def _parse(src, expect: str | None) -> pd.DataFrame:
    zip_name = src.path.name
    name, body = _choose(src, src.path.read_bytes(), zip_name)
    if name.lower().endswith((".xls", ".xlsx")) or body.startswith((b"PK\x03\x04", b"\xd0\xcf")):
        grid = _read.excel_grid(src, name, body, "Data")
        h = _read.header_row(src, grid, ["Provider code", "SHMI value"])
        headers = [_read.norm(v) for v in grid[h]]
        width = len(headers)
        raw = pd.DataFrame([list(r)[:width] + [None] * (width - len(r)) for r in grid[h + 1 :]])
    else:
        table = _read.csv_table(src, name, body)
        headers = [_read.norm(c) for c in table.columns]
        raw = table.set_axis(range(table.shape[1]), axis=1)

    def col(pattern: str, what: str, required: bool = True):
        i = _read.column(src, headers, pattern, what=what, required=required)
        return None if i is None else raw[i]

    code = col(r"^provider code$", "the provider code")
    text = code.astype("string").str.strip().str.upper().fillna("")
    keep = text.str.fullmatch(r"[A-Z0-9]{3,5}").fillna(False).astype(bool)  # footnotes dropped
    rows = raw[keep]
    window = expect
    m = _WINDOW.search(name) or _WINDOW.search(zip_name)
    if m is not None:
        found = _read.month_in(f"{m[3]}{m[4]}")
        if expect is not None and found is not None and found != expect:
            raise DataFileError(
                src.path,
                f"{name} is the window ending {found}, but it is locked as {expect}",
                "The lockfile's period and the file disagree: re-add it with --update.",
            )
        window = window or found
    if window is None:
        raise DataFileError(
            src.path, f"{name}: its window cannot be told", "Pass the lockfile's copy."
        )
    end = pd.Timestamp(f"{window}-01")
    start = end - pd.DateOffset(months=11)
    observed = _read.counts(col(r"^observed( deaths)?$", "observed deaths")[keep], src, "observed")
    expected = numbers(
        col(r"^expected( deaths)?$", "expected deaths")[keep].reset_index(drop=True),
        src,
        "expected",
    ).set_axis(rows.index)
    shmi = numbers(col(r"^shmi value$", "the SHMI value")[keep].reset_index(drop=True), src, "SHMI")
    shmi = shmi.set_axis(rows.index)
    spells = col(r"^(number of )?(provider )?spells$", "spells", required=False)
    df = pd.DataFrame(
        {
            "trust_code": codes(text[keep].reset_index(drop=True), src, "PROVIDER_CODE"),
            "trust_name": col(r"^provider name$", "the provider name")[keep]
            .astype("string")
            .str.strip()
            .reset_index(drop=True),
            "shmi": shmi.reset_index(drop=True),
            "banding": _banding(col(r"^shmi banding$", "the banding")[keep], src).reset_index(
                drop=True
            ),
            "spells": (
                _read.counts(spells[keep], src, "spells").reset_index(drop=True)
                if spells is not None
                else np.nan
            ),
            "observed_deaths": observed.reset_index(drop=True),
            "expected_deaths": expected.reset_index(drop=True),
        }
    )
    ratio = df["observed_deaths"] / df["expected_deaths"].where(df["expected_deaths"] > 0)
    off = (ratio - df["shmi"]).abs() > 0.005
    if off.any():
        i = off[off].index[0]
        warnings.warn(
            f"{src.path}: {name}: {int(off.sum())} trust(s) whose SHMI is not observed/expected "
            f"(e.g. {df.at[i, 'trust_code']}: {df.at[i, 'shmi']} against "
            f"{df.at[i, 'observed_deaths']:g}/{df.at[i, 'expected_deaths']:g}); the published "
            "SHMI is kept.",
            UserWarning,
            stacklevel=3,
        )
    df["window_end"] = end
    df["window_start"] = start
    df["year"] = start.year if start.month == 4 else np.nan
    return df


@_read.documented(
    periods='Windows to read, each named by its last month (``"2024-03"``: April 2023 - March 2024); default every locked one.',
    path="One release (the zip, or its trust-level CSV or workbook) to read instead, without a hash check.",
)
def read_shmi(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """SHMI, its banding, spells, observed and expected deaths by trust, from the locked releases.

    Returns
    -------
    pandas.DataFrame
        One row per window and trust (:data:`SCHEMA`); provenance in ``attrs``.

    Raises
    ------
    DataFileError
        No trust-level table, a documented column missing, an unknown banding.
    """
    df, used = _read.parse_all("shmi", lock, periods, path, _parse)
    df["year"] = df["year"].astype("Int64")
    return _read.finish(df, SCHEMA, used, sort=["window_end", "trust_code"])


#: The trust-year panel's SHMI column.
PANEL_COLUMNS = ("shmi",)
#: The columns of :func:`shmi_trust_year`.
TRUST_YEAR_COLUMNS = (
    "trust_code",
    "trust_name",
    "year",
    "shmi",
    "observed_deaths",
    "expected_deaths",
    "spells",
    "banding",
    "snapshot_period",
)


@_read.documented()
def shmi_trust_year(lock: str | Path | Lock | None = None) -> pd.DataFrame:
    """SHMI with its published observed and expected deaths per trust and financial year.

    The windows ending in March are the financial years: ``2024-03`` (April 2023 - March 2024)
    gives 2023/24 (``year`` 2023). Other windows are left out.

    Returns
    -------
    pandas.DataFrame
        :data:`TRUST_YEAR_COLUMNS`: ``trust_code``, ``trust_name``, ``year``, ``shmi``,
        ``observed_deaths``, ``expected_deaths``, ``spells``, ``banding`` and
        ``snapshot_period`` (the window's last month); empty (same columns) when no April-March
        window is locked.
    """
    book, march = _read.locked_periods("shmi", lock, "03")
    if not march:
        return _read.empty(TRUST_YEAR_COLUMNS)
    df = read_shmi(book, periods=march)
    df["snapshot_period"] = df["window_end"].dt.strftime("%Y-%m")
    out = df[list(TRUST_YEAR_COLUMNS)].reset_index(drop=True)
    out["year"] = out["year"].astype(int)
    out.attrs = dict(df.attrs)
    return out
