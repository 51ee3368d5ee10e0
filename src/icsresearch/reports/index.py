"""``DIR/index.html``: every report in the output folder with its status and headline figures.

Built from the ``manifest.json`` of each report folder, so reports skipped as unchanged, and
reports from earlier runs into the same folder, are listed too (only folders the batch wrote,
when it says which). Every value is HTML-escaped; a failed attempt kept beside the last good
report (``<code>/failed/``) is shown as a failure with a link to both; reports that read files
not matching the registry are named in a warning box.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import uuid
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from .params import check_code_shape

#: Marks a page as written by the batch (an index from before the output record is recognised by
#: it).
GENERATOR = '<meta name="generator" content="icsresearch reports index">'

_CSS = """
body { font-family: Arial, "Helvetica Neue", sans-serif; color: #231f20; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; }
h1 { color: #005eb8; margin-bottom: 0.2em; }
p.meta { color: #425563; margin-top: 0; }
.synthetic { background: #fff4e5; border-left: 6px solid #d55e00; padding: 0.6em 1em; }
.failed-box { background: #fdecee; border-left: 6px solid #8a1538; padding: 0.6em 1em; }
.unverified { background: #fff9c4; border-left: 6px solid #8a6d00; padding: 0.6em 1em; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th { text-align: left; background: #e8edee; padding: 6px 8px; position: sticky; top: 0; }
td { padding: 5px 8px; border-bottom: 1px solid #e8edee; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fdecee; }
.status { font-weight: bold; padding: 1px 6px; border-radius: 3px; }
.status.ok { color: #006747; } .status.failed { color: #8a1538; }
.status.unchanged { color: #425563; }
.error { color: #8a1538; font-size: 0.9em; }
a { color: #005eb8; }
"""

#: Headline figures of the index (each report's ``headline``), one definition each
#: (:mod:`icsresearch.indicators`); a column no report has a value for is left out.
HEADLINE_COLUMNS = (
    ("population", "Population", ",.0f"),
    ("ae_4hr_pct", "A&E within 4 h (%)", ".1f"),
    ("ga_occupancy_pct", "G&A beds occupied (%)", ".1f"),
    ("delayed_per_100_ga_beds", "Delayed discharges per 100 G&A beds", ".1f"),
    ("staff_burnout_pct", "Staff burnt out (%)", ".1f"),
    ("rtt_18wk_pct", "RTT within 18 wk (%)", ".1f"),
    ("shmi", "SHMI", ".3f"),
    ("management_score", "Management score", ".1f"),
)


def read_manifests(out_dir: Path, only: Collection[str] | None = None) -> dict[str, dict[str, Any]]:
    """``code -> manifest`` for every report folder in ``out_dir`` (unreadable ones skipped).

    Parameters
    ----------
    out_dir
        The batch output folder.
    only
        Folder names to consider (those the batch wrote); ``None`` for every code-shaped folder.
    """
    found = {}
    for sub in sorted(Path(out_dir).iterdir()) if Path(out_dir).is_dir() else []:
        if not sub.is_dir() or sub.name.startswith(".") or sub.is_symlink():
            continue
        if only is not None and sub.name not in only:
            continue
        try:
            check_code_shape(sub.name)
            m = json.loads((sub / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(m, dict):
            found[sub.name] = m
    return found


def _failed_attempt(out_dir: Path, code: str) -> dict[str, Any] | None:
    """The manifest of a failed attempt kept beside a good report (``<code>/failed/``)."""
    try:
        m = json.loads((out_dir / code / "failed" / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def _fmt(value: Any, spec: str) -> str:
    try:
        return format(float(value), spec)
    except (TypeError, ValueError):
        return "-"


def write_index(
    out_dir: Path,
    *,
    order: Sequence[str] = (),
    this_run: Mapping[str, str] | None = None,
    title: str = "ICS profiles",
    only: Collection[str] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` (atomically) and return its path.

    Parameters
    ----------
    out_dir
        The batch output folder.
    order
        Codes to list first, in this order (the batch's systems); other report folders follow.
    this_run
        ``code -> "ok" | "failed" | "unchanged"`` for the reports of the run that writes the
        index (others show the status in their manifest).
    title
        Page title.
    only
        Report folders to list (those the batch wrote, from its output record); ``None`` for
        every report folder.
    """
    out_dir = Path(out_dir)
    manifests = read_manifests(out_dir, only)
    this_run = dict(this_run or {})
    codes = [c for c in order if c in manifests] + sorted(c for c in manifests if c not in order)
    heads = [manifests[c].get("headline") or {} for c in codes]
    columns = [
        (key, label, spec)
        for key, label, spec in HEADLINE_COLUMNS
        if any(h.get(key) is not None for h in heads)
    ]
    # the year each figure is for (A&E may fall back to a year with counts): in the header
    years = {
        key: next((h.get(f"{key}_fy") for h in heads if h.get(f"{key}_fy")), None)
        for key, _, _ in columns
    }
    rows = []
    n_failed = 0
    unverified: dict[tuple, dict[str, Any]] = {}
    synthetic = False
    params_seen = set()
    england: dict[str, Any] = {}
    for code in codes:
        m = manifests[code]
        status = this_run.get(code) or m.get("status", "?")
        attempt = _failed_attempt(out_dir, code) if m.get("status") == "ok" else None
        kept = attempt is not None and status != "unchanged"  # a failed rerun kept the good one
        failed = m.get("status") != "ok" or kept
        n_failed += failed
        for i in (m.get("inputs") or []) + ((attempt or {}).get("inputs") or []):
            if isinstance(i, dict) and i.get("verified") is not True and not m.get("synthetic"):
                e = unverified.setdefault((i.get("source"), i.get("sha256")), {**i, "reports": []})
                if code not in e["reports"]:
                    e["reports"].append(code)
        p = m.get("parameters", {})
        params_seen.add((p.get("source"), p.get("footprint"), p.get("year"), p.get("method")))
        synthetic = synthetic or bool(m.get("synthetic")) or p.get("source") == "demo"
        head = m.get("headline") or {}
        if not england and head:
            england = {k: head.get(f"england_{k}") for k, _, _ in columns}
        system = m.get("system") or {}
        name = system.get("short_name") or system.get("icb_name") or ""
        region = system.get("region_name") or ""
        links = []
        href = html.escape(code, quote=True)
        if (out_dir / code / "report.html").is_file():
            links.append(f'<a href="{href}/report.html">report</a>')
        if (out_dir / code / "report.ipynb").is_file():
            links.append(f'<a href="{href}/report.ipynb">notebook</a>')
        links.append(f'<a href="{href}/manifest.json">manifest</a>')
        if kept:
            links.append(f'<a href="{href}/failed/report.ipynb">failed attempt</a>')
        cls = "failed" if failed else ("unchanged" if status == "unchanged" else "ok")
        label = (
            "failed (last good report kept)"
            if kept
            else "failed"
            if failed
            else ("ok (unchanged)" if status == "unchanged" else "ok")
        )
        error = (attempt or {}).get("error") if kept else m.get("error")
        cells = [
            f"<td><b>{html.escape(code)}</b></td>",
            f"<td>{html.escape(str(name))}</td>",
            f"<td>{html.escape(str(region))}</td>",
            f'<td><span class="status {cls}">{label}</span>'
            + (f'<div class="error">{html.escape(str(error or ""))}</div>' if failed else "")
            + "</td>",
        ]
        for key, _, spec in columns:
            cells.append(f'<td class="num">{_fmt(head.get(key), spec)}</td>')
        secs = (m.get("timings_seconds") or {}).get("total")
        cells.append(f'<td class="num">{_fmt(secs, ".1f")}</td>')
        cells.append(f"<td>{' · '.join(links)}</td>")
        rows.append(f'<tr class="{"failed" if failed else ""}">{"".join(cells)}</tr>')

    header = "".join(
        f"<th>{html.escape(str(h))}</th>"
        for h in (
            "Code",
            "System",
            "Region",
            "Status",
            *(f"{h} {years[k]}" if years.get(k) else h for k, h, _ in columns),
            "Seconds",
            "Files",
        )
    )
    eng_row = ""
    if england and any(v is not None for v in england.values()):
        eng_cells = "".join(
            f'<td class="num">{_fmt(england.get(k), spec) if k != "population" else ""}</td>'
            for k, _, spec in columns
        )
        eng_row = f"<tr><td></td><td><i>England</i></td><td></td><td></td>{eng_cells}<td></td><td></td></tr>"
    if len(params_seen) == 1:
        src, fp, year, method = next(iter(params_seen))
        fy = f"{year}/{(int(year) + 1) % 100:02d}" if year else "?"
        meta = (
            f"{len(codes)} systems · {fp} footprint · {src} data · {fy} · trusts attributed "
            f"by {str(method).replace('_', ' ')}"
        )
    else:
        meta = f"{len(codes)} reports with mixed parameters (see each manifest)"
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    banner = (
        '<p class="synthetic"><b>Synthetic demo data.</b> Every organisation and figure in these '
        "reports is fictional; none is a real NHS figure.</p>"
        if synthetic
        else ""
    )
    unverified_box = ""
    if unverified:
        items = "".join(
            f"<li>{html.escape(str(e.get('source') or 'unregistered file'))}: "
            f"{html.escape(str(e.get('path') or ''))} (sha256 "
            f"{html.escape(str(e.get('sha256') or '')[:16])}...), read by "
            f"{html.escape(', '.join(e['reports']))}</li>"
            for e in sorted(unverified.values(), key=lambda e: str(e.get("source")))
        )
        unverified_box = (
            f'<div class="unverified"><b>{len(unverified)} input file(s) not verified.</b> '
            "These reports read files whose bytes are not the registry's (user-supplied through "
            "--source-dir or ICSRESEARCH_SOURCE_DIR, or modified): their figures are those "
            f"files' figures, not necessarily the published ones.<ul>{items}</ul></div>"
        )
    failed_box = (
        f'<p class="failed-box"><b>{n_failed} report(s) failed.</b> Each failed report keeps its '
        "executed notebook with the error shown; fix the cause and re-run (unchanged reports "
        "are skipped).</p>"
        if n_failed
        else ""
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{GENERATOR}
<title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">{html.escape(meta)} · index written {now} by icsresearch</p>
{banner}{unverified_box}{failed_box}
<table>
<thead><tr>{header}</tr></thead>
<tbody>
{eng_row}
{chr(10).join(rows)}
</tbody></table>
<p class="meta">Headline figures are for the year in each column header, one definition each
(icsresearch.indicators). England pools every NHS trust reporting the indicator (the sum of
numerators over the sum of denominators), as each system pools its own trusts. Each report folder holds report.html, the executed notebook, figures/ (PNG and
the data behind each chart) and manifest.json (parameters, input hashes, versions, git revision,
timings).</p>
</body></html>
"""
    target = out_dir / "index.html"
    tmp = out_dir / f".index.html.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
