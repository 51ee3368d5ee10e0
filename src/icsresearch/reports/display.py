"""Small display helpers for the report notebook: readable tables, text and number formats.

Names and labels come from data files a user may supply (``--source-dir``), so nothing from them
reaches the HTML report as markup: :func:`table` escapes every cell, header and caption, and
:func:`md` escapes a value for Markdown (the report's text). The batch's HTML exporter also
renders no raw HTML from Markdown outputs (:func:`icsresearch.reports.executor.html_exporter`).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def fmt(value: Any, spec: str = ",.1f", missing: str = "not published") -> str:
    """Format a number, or say it is missing (never print ``nan``).

    Parameters
    ----------
    value
        A number (or anything: non-numbers count as missing).
    spec
        Format spec, e.g. ``",.0f"``.
    missing
        Text for a missing value.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return missing
    if not np.isfinite(v):
        return missing
    return format(v, spec)


#: Characters with a meaning in Markdown (or in the math the notebook renders) inside a line.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~$#!])")


def md(value: Any) -> str:
    """A value as literal Markdown text: HTML escaped, Markdown punctuation backslash-escaped.

    Use it for every value from data that goes into a Markdown string (names, regions, labels),
    so ``<img onerror=...>`` or ``[link](javascript:...)`` in a file shows as text.

    Parameters
    ----------
    value
        Any value (converted with ``str``).

    Examples
    --------
    >>> md("<img src=x onerror=alert(1)> & *co*")
    '&lt;img src=x onerror=alert(1)&gt; &amp; \\\\*co\\\\*'
    """
    text = html.escape(str(value), quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.splitlines())  # a value never starts a new Markdown block


def ordinal(n: int | None) -> str:
    """``1`` -> ``"1st"``, ``22`` -> ``"22nd"``.

    Parameters
    ----------
    n
        A rank (``None`` gives ``"not ranked"``).
    """
    if n is None:
        return "not ranked"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def table(
    df: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    *,
    caption: str | None = None,
    rename: Mapping[str, str] | None = None,
):
    """A pandas Styler without the index, numbers formatted, missing values as "-".

    Parameters
    ----------
    df
        The table.
    formats
        Column -> format spec (e.g. ``{"share": "{:.0%}"}``); applied before ``rename``.
    caption
        Shown above the table.
    rename
        Column headers for the reader.

    Every cell, column header and the caption are HTML-escaped: a name in a data file is shown
    as text, never as markup.
    """
    out = df.copy()
    formats = dict(formats or {})
    for col, spec in formats.items():
        if col in out:
            out[col] = [("-" if _missing(v) else spec.format(v)) for v in out[col]]
    out = out.astype(object).where(out.notna(), "-")
    if rename:
        out = out.rename(columns=dict(rename))
    # a content-based id instead of a random one, so re-running a report gives identical HTML
    digest = hashlib.sha1(out.to_csv().encode() + str(caption).encode()).hexdigest()[:8]
    styler = out.style.hide(axis="index").set_uuid(f"icsr{digest}")
    # names and labels come from data files: shown as text, never as markup
    styler = styler.format(escape="html").format_index(escape="html", axis=1)
    styler = styler.set_table_styles(
        [
            {"selector": "th", "props": "text-align: left; padding: 2px 10px 2px 0;"},
            {"selector": "td", "props": "text-align: left; padding: 2px 10px 2px 0;"},
            {"selector": "caption", "props": "text-align: left; font-weight: bold;"},
        ]
    )
    if caption:
        styler = styler.set_caption(html.escape(str(caption)))
    return styler


def _missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def funnel_flags(result, names: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The system's trusts on a funnel plot: value, limits and flag, in the given order.

    Parameters
    ----------
    result
        A funnel :class:`~icsresearch.plots.style.PlotResult`.
    names
        ``trust_code, trust_name`` for labels.
    codes
        The system's trust codes (trusts absent from the funnel are left out).
    """
    d = result.data
    d = d[d["unit"].isin(codes)]
    names = names.drop_duplicates("trust_code").set_index("trust_code")["trust_name"]
    out = pd.DataFrame(
        {
            "trust_code": d["unit"],
            "trust_name": d["unit"].map(names),
            "value": d["value"],
            "lower_95": d.get("lower_95"),
            "upper_95": d.get("upper_95"),
            "flag": d["flag"],
        }
    )
    order = {c: i for i, c in enumerate(codes)}
    return out.sort_values("trust_code", key=lambda s: s.map(order)).reset_index(drop=True)
