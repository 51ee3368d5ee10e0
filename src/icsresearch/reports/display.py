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


def funnel_notes(result) -> str:
    """The lines under a funnel plot: why the limits look as they do, and the FDR flags.

    Parameters
    ----------
    result
        A funnel :class:`~icsresearch.plots.style.PlotResult`.

    Returns
    -------
    str
        Markdown: the over-dispersion note (additive over-dispersion) and the false discovery
        rate note (``fdr=``) as an italic paragraph each, or ``""`` when there are neither.
    """
    sm = result.summary
    lines = [sm.get("overdispersion_note"), (sm.get("fdr") or {}).get("note")]
    clipped = sm.get("clipped_limits")
    if clipped:
        lines.append(
            "Where a limit would pass an impossible value (below 0% or above 100%) it is cut "
            "there; elsewhere it is drawn as computed."
        )
    return "\n\n".join(f"*{md(line.rstrip('.'))}.*" for line in lines if line)


def spc_notes(result) -> str:
    """The lines under an SPC chart: which chart it is, its baseline and any sustained shift.

    Parameters
    ----------
    result
        An SPC :class:`~icsresearch.plots.style.PlotResult`.

    Returns
    -------
    str
        Markdown: a run chart says why it has no limits; an XmR chart names its baseline; each
        sustained shift is named as a point to consider rebasing at (never done silently).
    """
    sm = result.summary
    data = result.data
    n = len(data)
    if sm.get("chart") == "run":
        text = (
            f"Run chart: {n} points are too few for stable process limits, so the median and the "
            "run-chart rules are shown instead (no assurance without limits)."
        )
    else:
        n_base = int(data["baseline"].sum()) if "baseline" in data else n
        text = f"XmR chart of {n} points; the limits come from the first {n_base} (the baseline)."
    shifts = sm.get("rebase_suggestions") or []
    if shifts:
        when = ", ".join(
            pd.Timestamp(x).strftime("%B %Y") if _is_time(x) else str(x) for x in shifts
        )
        text += (
            f" A sustained shift starts in {when}: the limits were not recalculated; consider "
            "rebasing there (spc_chart(..., rebase=...)) if the process has changed for good."
        )
    return f"*{md(text)}*"


def _is_time(x) -> bool:
    return isinstance(x, (pd.Timestamp, np.datetime64)) or hasattr(x, "strftime")


# --- the HTML page: style, banner, contents, numbering ------------------------------------------

#: The report page's own style (added to nbconvert's lab template by :func:`page_head`): body
#: text at 14 px (the size charts are shown at, :func:`icsresearch.reports.figures.display_width`),
#: images no wider than the column, tables scrolling inside their own box, so nothing makes the
#: page scroll sideways on a 400 px phone.
REPORT_CSS = """
body { font-size: 14px; }
.jp-Notebook { max-width: 1000px; margin: 0 auto; }
.jp-Notebook img, .icsr-figure img { max-width: 100%; height: auto; }
.jp-OutputArea-output { max-width: 100%; overflow-x: auto; }
.jp-RenderedHTMLCommon table { font-size: 13px; }
.jp-RenderedHTMLCommon table caption { min-width: min(32em, 85vw); text-align: left; }
.jp-RenderedHTMLCommon pre, .jp-RenderedHTMLCommon code { white-space: pre-wrap;
  overflow-wrap: anywhere; }
.jp-RenderedHTMLCommon p, .jp-RenderedHTMLCommon li { overflow-wrap: break-word; }
.icsr-figure { margin: 1em 0 1.5em 0; }
.icsr-figure figcaption { font-size: 14px; color: #231f20; margin-top: 0.3em; }
.icsr-synthetic { background: #fff4e5; border-left: 6px solid #d55e00; padding: 0.6em 1em;
  font-size: 15px; }
.icsr-nav { font-size: 14px; }
.icsr-toc { font-size: 14px; margin: 0.5em 0 1em 0; }
.icsr-toc ul { margin: 0.2em 0; padding-left: 0; list-style: none; }
@media (max-width: 600px) {
  .jp-Notebook { padding: 4px; }
  .jp-Cell { padding: 2px 0; }
  .jp-Notebook .jp-Cell-inputWrapper, .jp-Notebook .jp-Cell-outputWrapper { padding: 0; }
}
"""

#: The report's sections: (anchor id, heading), the anchors placed in the notebook's headings.
SECTIONS = (
    ("key-points", "Key points and caveats"),
    ("section-1", "1. Who the system is"),
    ("section-2", "2. The ICS era"),
    ("section-spc", "Monthly: statistical process control"),
    ("section-3", "3. Trends since 2012/13"),
    ("section-4", "4. Before the ICS era"),
    ("section-5", "5. The system on the map"),
    ("section-methods", "Data and methods"),
)

SYNTHETIC_BANNER = (
    '<p class="icsr-synthetic synthetic"><b>Synthetic demo data.</b> Every organisation, code '
    "and number in this report is fictional (the icsresearch demo dataset); none is a real NHS "
    "figure.</p>"
)


def page_head(*, synthetic: bool, index_href: str | None = "../index.html") -> str:
    """HTML for the top of the report: its style, the link back to the index, the banner.

    Parameters
    ----------
    synthetic
        Demo data: add the "Synthetic demo data" banner (styled as on the index).
    index_href
        Link to the batch's index (the report is ``<out>/<code>/report.html``); ``None`` for none.
    """
    nav = (
        f'<p class="icsr-nav"><a href="{html.escape(index_href, quote=True)}">'
        "&larr; All systems (index)</a></p>"
        if index_href
        else ""
    )
    return f"<style>{REPORT_CSS}</style>{nav}{SYNTHETIC_BANNER if synthetic else ''}"


def contents(sections=SECTIONS) -> str:
    """HTML table of contents linking to the report's section anchors.

    Parameters
    ----------
    sections
        ``(anchor id, heading)`` pairs.
    """
    items = "".join(
        f'<li><a href="#{html.escape(a, quote=True)}">{html.escape(t)}</a></li>'
        for a, t in sections
    )
    return f'<nav class="icsr-toc" aria-label="Contents"><b>Contents</b><ul>{items}</ul></nav>'


def anchor(anchor_id: str) -> str:
    """An empty HTML anchor a table of contents can link to.

    Parameters
    ----------
    anchor_id
        The element id.
    """
    return f'<a id="{html.escape(anchor_id, quote=True)}"></a>'


class Numbering:
    """Figure and table numbers of one report, in the order they are shown.

    One instance per report (made in the notebook, so a reused kernel starts again at 1).

    Examples
    --------
    >>> n = Numbering()
    >>> n.figure(), n.figure(), n.table("The system's trusts")
    (1, 2, "Table 1. The system's trusts")
    """

    def __init__(self) -> None:
        self.figures = 0
        self.tables = 0

    def figure(self) -> int:
        """The next figure's number."""
        self.figures += 1
        return self.figures

    def table(self, caption: str) -> str:
        """The next table's caption, ``"Table N. caption"``.

        Parameters
        ----------
        caption
            What the table shows.
        """
        self.tables += 1
        return f"Table {self.tables}. {caption}"


def parameters_table(params: Mapping[str, Any], checks: Mapping[str, str]) -> pd.DataFrame:
    """The report's parameters and verification as rows a reader can scan.

    Parameters
    ----------
    params
        The validated parameters (``ReportParameters.as_dict()``).
    checks
        Further ``what -> result`` rows (input verification, versions).

    Returns
    -------
    DataFrame
        ``item, value`` rows.
    """
    labels = {
        "ics_code": "System (ICB code)",
        "footprint": "Footprint",
        "source": "Data source",
        "year": "Report year (financial year start)",
        "method": "Trust-to-system method",
    }
    rows = [(labels.get(k, k), str(v).replace("_", " ")) for k, v in params.items()]
    rows += [(k, str(v)) for k, v in checks.items()]
    return pd.DataFrame(rows, columns=["item", "value"])
