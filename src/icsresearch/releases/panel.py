"""What the trust-year panel takes from the lockfile: opt in by presence.

With no lockfile (or none of these collections locked) nothing here reads anything and the
panels are as they were. With locked files, each series below continues after the last year its
2012-2019 compilation covers (a column at a time: the compilation's years keep its values):

================  =====================================================  =======================
collection        panel columns                                          locked periods read
================  =====================================================  =======================
``rtt``           rtt_18wk_pct, rtt_incomplete_pathways, rtt_within_18wk  March (31 March snapshot)
``workforce``     managers_fte, consultants_fte, all_staff_fte,           September (the census
                  nurses_fte, doctors_fte, support_fte                    month)
``shmi``          shmi                                                    windows ending in March
``kh03``          beds_available, occupied_beds, occupancy_pct            the four quarters of a
                                                                          financial year
================  =====================================================  =======================

:func:`panel_inputs` names those files with their sha256: they are part of the panel cache's
key, and the readers note them as read, so they are in the panel's provenance (verified).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import _read, kh03, rtt, shmi, workforce
from .lockfile import Lock, read


def _in_month(collection: str, month: str) -> Callable[[Lock], list[str]]:
    return lambda book: _read.locked_periods(collection, book, month)[1]


#: collection -> (the locked periods the panel reads, the trust-year table, its panel columns).
FEEDS: dict[str, tuple[Callable[[Lock], list[str]], Callable[[Lock], pd.DataFrame], tuple]] = {
    "rtt": (_in_month("rtt", "03"), rtt.rtt_trust_year, tuple(rtt.PANEL_COLUMNS.values())),
    "workforce": (
        _in_month("workforce", "09"),
        workforce.workforce_trust_year,
        workforce.PANEL_COLUMNS,
    ),
    "shmi": (_in_month("shmi", "03"), shmi.shmi_trust_year, shmi.PANEL_COLUMNS),
    "kh03": (kh03.panel_periods, kh03.kh03_trust_year, kh03.PANEL_COLUMNS),
}


def panel_inputs(lock: str | Path | Lock | None = None) -> dict[str, str]:
    """The locked files the trust-year panel reads, by name (``"release rtt 2025-03"``): sha256.

    Empty when there is no lockfile: the panels' cache keys then stay as they were.

    Parameters
    ----------
    lock
        The lockfile (default ``icsresearch.lock`` in the current folder, or
        ``ICSRESEARCH_LOCK``).
    """
    book = lock if isinstance(lock, Lock) else read(lock)
    out = {}
    for name, (periods, _, _) in FEEDS.items():
        for p in periods(book):
            entry = book.get(name, p)
            out[f"release {entry.label}"] = entry.sha256
    return out


def last_locked_year(lock: str | Path | Lock | None = None) -> int | None:
    """The last financial year (its start) any locked file of :data:`FEEDS` holds, or None.

    The panels run to this year when it is later than their own last year, so a release locked
    for 2025/26 reaches them instead of being read and dropped.

    Parameters
    ----------
    lock
        The lockfile (default ``icsresearch.lock`` in the current folder, or
        ``ICSRESEARCH_LOCK``).
    """
    book = lock if isinstance(lock, Lock) else read(lock)
    # a period is named by its last month: March 2026 ends 2025/26, September 2025 is in it
    years = [
        int(p[:4]) - (int(p[5:7]) < 4) for periods, _, _ in FEEDS.values() for p in periods(book)
    ]
    return max(years) if years else None


def extend_panel(merged: pd.DataFrame, lock: str | Path | Lock | None = None) -> pd.DataFrame:
    """``merged`` (trust-years of every indicator) with the locked series after each column's end.

    For each column of :data:`FEEDS`, a locked value fills the trust-years after the last year
    ``merged`` has a value of that column; trust-years it lacks are added. Without locked files
    ``merged`` is returned as it is.

    Parameters
    ----------
    merged
        ``trust_code``, ``year`` and the indicator columns, one row per trust-year.
    lock
        The lockfile (default ``icsresearch.lock`` in the current folder, or
        ``ICSRESEARCH_LOCK``).
    """
    book = lock if isinstance(lock, Lock) else read(lock)
    keys = ["trust_code", "year"]
    for _name, (periods, table, columns) in FEEDS.items():
        if not periods(book):
            continue
        later = table(book)
        cols = [c for c in columns if c in merged]
        if later.empty or not cols:
            continue
        later = later[keys + cols].astype({"year": int})
        ends = {c: merged.loc[merged[c].notna(), "year"].max() for c in cols}
        for c in cols:
            if pd.notna(ends[c]):
                later.loc[later["year"] <= ends[c], c] = float("nan")
        later = later.dropna(subset=cols, how="all")
        merged = merged.merge(later, on=keys, how="outer", suffixes=("", "_locked"))
        for c in cols:
            merged[c] = merged[c].fillna(merged.pop(f"{c}_locked"))
    return merged
