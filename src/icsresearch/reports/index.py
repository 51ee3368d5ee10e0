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
.table-box { overflow-x: auto; max-width: 100%; }
th button { font: inherit; font-weight: bold; background: none; border: 0; padding: 0;
            cursor: pointer; text-align: left; color: inherit; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
th .unit, dt .unit { display: block; font-weight: normal; color: #425563; font-size: 0.9em; }
tr.england td { background: #f0f4f5; border-bottom: 2px solid #425563; }
dl.definitions dt { font-weight: bold; margin-top: 0.6em; }
dl.definitions dt .unit { display: inline; }
dl.definitions dd { margin-left: 1.2em; }
"""

#: Sorts the systems' rows when a column heading is clicked (no library, works offline): numbers
#: by their ``data-sort`` value, text by locale; missing values last; the England row stays put.
_SORT_JS = """
(function () {
  var table = document.getElementById('systems');
  if (!table) return;
  var body = table.querySelector('tbody.sortable');
  var heads = table.querySelectorAll('thead th[data-type]');
  heads.forEach(function (th, col) {
    th.querySelector('button').addEventListener('click', function () {
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      heads.forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      var num = th.getAttribute('data-type') === 'num';
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col], y = b.cells[col];
        if (num) {
          var p = parseFloat(x.getAttribute('data-sort')), q = parseFloat(y.getAttribute('data-sort'));
          if (isNaN(p)) return isNaN(q) ? 0 : 1;
          if (isNaN(q)) return -1;
          return dir * (p - q);
        }
        return dir * x.textContent.localeCompare(y.textContent);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
"""

#: Columns not in :mod:`icsresearch.indicators` (the pre-ICS compilations and the population):
#: ``key -> (unit, definition)``.
OTHER_DEFINITIONS = {
    "population": ("people", "ONS mid-2019 population estimate for the system's area."),
    "rtt_18wk_pct": (
        "%",
        "Referral to treatment: incomplete pathways waiting under 18 weeks at 31 March, as a "
        "share of all incomplete pathways (the standard is 92%), the system's trusts pooled.",
    ),
    "shmi": (
        "ratio",
        "Summary Hospital-level Mortality Indicator: observed / expected deaths in hospital or "
        "within 30 days of discharge, non-specialist acute trusts (1 = as expected).",
    ),
    "management_score": (
        "score 0-100",
        "NHS Staff Survey 2012-2018 management items (higher is better), respondents of the "
        "system's trusts pooled.",
    ),
}

#: Headline figures of the index (each report's ``headline``), one definition each
#: (:mod:`icsresearch.indicators`); a column no report has a value for is left out.
HEADLINE_COLUMNS = (
    ("population", "Population", ",.0f"),
    ("ae_4hr_pct", "A&E within 4 hours", ".1f"),
    ("ga_occupancy_pct", "G&A beds occupied", ".1f"),
    ("delayed_per_100_ga_beds", "Delayed discharges per 100 occupied G&A beds", ".1f"),
    ("staff_burnout_pct", "Staff burnt out", ".1f"),
    ("rtt_18wk_pct", "RTT within 18 weeks", ".1f"),
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


def column_definition(key: str) -> tuple[str, str]:
    """``(unit, definition)`` of an index column, from :mod:`icsresearch.indicators` or
    :data:`OTHER_DEFINITIONS`.

    Parameters
    ----------
    key
        A key of :data:`HEADLINE_COLUMNS`.
    """
    if key in OTHER_DEFINITIONS:
        return OTHER_DEFINITIONS[key]
    from .. import indicators

    ind = indicators.get(key)
    return ind.unit, f"{ind.definition} England: {ind.england}"


def footprint_changes(footprint: Any, source: Any) -> dict[str, str]:
    """``code -> "new: from A, B"`` for the systems of the 2026 footprint formed from others.

    Systems that are the same board in both footprints are left out; an empty dict for the
    2022 footprint, or when the reference geography cannot be read.

    Parameters
    ----------
    footprint
        ``2022`` or ``2026``.
    source
        ``"real"`` or ``"demo"``.
    """
    if str(footprint) != "2026" or str(source) not in ("real", "demo"):
        return {}
    from .. import geography

    try:
        new = geography.icbs(2026, str(source))
        old = geography.icbs(2022, str(source)).set_index("icb_code")["short_name"]
    except Exception:  # the index is written even if the geography tables are unreadable
        return {}
    out = {}
    for row in new.itertuples(index=False):
        parts = [c for c in str(row.predecessors or "").split(";") if c]
        if not parts or parts == [row.icb_code]:
            continue
        others = ", ".join(f"{old.get(c, c)} ({c})" for c in parts if c != row.icb_code)
        if row.icb_code in parts:
            out[row.icb_code] = f"boundary changed 1 April 2026: now also part of {others}"
        else:
            out[row.icb_code] = f"new 1 April 2026, formed from all or part of {others}"
    return out


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
    kinds = {
        (str((manifests[c].get("parameters") or {}).get("footprint")),
         str((manifests[c].get("parameters") or {}).get("source")))
        for c in codes
    }  # fmt: skip
    # which systems the 2026 mergers made (a column only for an index of 2026 reports)
    changes = (
        footprint_changes(2026, next(iter(kinds))[1])
        if len(kinds) == 1 and next(iter(kinds))[0] == "2026"
        else None
    )
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
        if head:  # the first report with a value for a column gives England's
            for k, _, _ in columns:
                if england.get(k) is None:
                    england[k] = head.get(f"england_{k}")
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
            value = head.get(key)
            sort_key = "" if _fmt(value, "") == "-" else f"{float(value):.6g}"
            cells.append(f'<td class="num" data-sort="{sort_key}">{_fmt(value, spec)}</td>')
        if changes is not None:
            cells.append(f"<td>{html.escape(changes.get(code, 'unchanged'))}</td>")
        cells.append(f"<td>{' · '.join(links)}</td>")
        rows.append(f'<tr class="{"failed" if failed else ""}">{"".join(cells)}</tr>')

    definitions = {k: column_definition(k) for k, _, _ in columns}
    sortable = [("Code", "text"), ("System", "text"), ("Region", "text"), ("Status", "text")]
    sortable += [
        (f"{h} {years[k]}" if years.get(k) else h, "num", definitions[k]) for k, h, _ in columns
    ]
    if changes is not None:
        sortable.append(("2026 footprint", "text"))
    header = (
        "".join(
            f'<th aria-sort="none" data-type="{spec[1]}"'
            + (f' title="{html.escape(spec[2][1], quote=True)}"' if len(spec) > 2 else "")
            + f'><button type="button">{html.escape(spec[0])}</button>'
            + (f'<span class="unit">{html.escape(spec[2][0])}</span>' if len(spec) > 2 else "")
            + "</th>"
            for spec in sortable
        )
        + "<th>Files</th>"
    )
    eng_row = ""
    if england and any(v is not None for v in england.values()):
        eng_cells = "".join(
            f'<td class="num">{_fmt(england.get(k), spec)}</td>' for k, _, spec in columns
        )
        eng_row = (
            '<tr class="england"><td></td><td><b>England</b></td><td>all regions</td>'
            f"<td>pooled, every NHS trust</td>{eng_cells}"
            + ("<td></td>" if changes is not None else "")
            + "<td></td></tr>"
        )
    column_notes = "".join(
        f'<dt>{html.escape(h)} <span class="unit">({html.escape(definitions[k][0])})</span>'
        f"</dt><dd>{html.escape(definitions[k][1])}"
        + (f" Year: {html.escape(str(years[k]))}." if years.get(k) else "")
        + "</dd>"
        for k, h, _ in columns
    )
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
<p class="meta">Click a column heading to sort (again to reverse); England stays on top.
Hover a heading for its definition; all definitions are under the table.</p>
<div class="table-box">
<table id="systems">
<thead><tr>{header}</tr></thead>
<tbody class="fixed">{eng_row}</tbody>
<tbody class="sortable">
{chr(10).join(rows)}
</tbody></table>
</div>
<h2>Columns</h2>
<dl class="definitions">{column_notes}</dl>
<p class="meta">Headline figures are for the year in each column header, one definition each
(icsresearch.indicators). England pools every NHS trust reporting the indicator (the sum of
numerators over the sum of denominators), as each system pools its own trusts; England's
population is the sum of the systems'. Each report folder holds report.html, the executed
notebook, figures/ (PNG and the data behind each chart) and manifest.json (parameters, input
hashes, versions, git revision, timings).</p>
<script>{_SORT_JS}</script>
</body></html>
"""
    target = out_dir / "index.html"
    tmp = out_dir / f".index.html.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
