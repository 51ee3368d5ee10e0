"""What a reviewer reads: the README of a replication folder, its verdict summary, and ``--all``.

Issue 15 ("Replications a reviewer can audit"). Three parts, used by
:func:`~icsresearch.replications.runner.run_replication` and the ``replicate`` command:

* **No machine paths.** :func:`machine_paths` lists the folders of the machine a run happened on
  (the output and staging folders, ``--source-dir``, the cache, the mirror, the package, Python,
  the repository, ``$HOME``) with the placeholder each becomes (:data:`PLACEHOLDERS`);
  :func:`scrub_text` and :func:`scrub_json` replace them in every output, so the folder reads
  the same wherever it was made and names no user or host folder. File names, registry names and
  sha256 stay: they are what a reviewer checks.
* **README.md** (:func:`build_readme`), in the shape of the AEA Data Editor's template README
  (https://social-science-data-editors.github.io/template_README/): overview, data availability
  and provenance (one entry per file read, from the manifest and ``data/registry.csv``),
  computational requirements, programs, instructions, the list of claims and display items
  (each replication module's ``DISPLAY_ITEMS``) with their verdicts, references. It is written
  from the final manifest, after it: the manifest hashes every other output and lists
  ``README.md`` without a hash; the README quotes the manifest's sha256, so the chain still
  covers it (and the folder's output record ``.icsresearch-outputs.json`` hashes it).
* **The HTML opens with the verdicts**: :func:`summary_cells` makes two cells (the colour-coded
  verdict table, then published vs reproduced side by side) inserted at the top of the
  exporter's copy of the executed notebook; every value from data is HTML-escaped.

:func:`run_all` (``icsresearch replicate --all --out DIR``) runs every replication into
``DIR/<id>/`` and writes ``DIR/index.html`` and ``DIR/summary.md``; a failed replication is
reported there and does not stop the others.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import html
import importlib
import json
import os
import re
import shlex
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .comparison import NOT_REPRODUCED, NOT_REPRODUCIBLE, REPRODUCED, VERDICTS
from .registry import REPLICATIONS, get_replication

#: Placeholder -> what it stands for, in the manifest's ``placeholders`` and the README.
PLACEHOLDERS: dict[str, str] = {
    ".": "the replication's own output folder (the folder holding this file)",
    "<source-dir>": "the folder given with --source-dir (files read without hash checks)",
    "<cache>": "the icsresearch download cache (ICSRESEARCH_CACHE)",
    "<mirror>": "the offline mirror of the published files (ICSRESEARCH_MIRROR)",
    "<notebook-dir>": "the folder of replication notebooks (ICSRESEARCH_REPLICATION_NOTEBOOKS)",
    "<icsresearch>": "the installed icsresearch package",
    "<python>": "the Python environment",
    "<repo>": "the icsresearch source checkout",
    "~": "the home folder of the user who ran it",
}

#: Verdict (and run status) -> (symbol, background, text colour). Light backgrounds with dark
#: text (contrast above 7:1) and a symbol and the word itself, so colour is never the only cue.
VERDICT_STYLE: dict[str, tuple[str, str, str]] = {
    REPRODUCED: ("\u2714", "#d4edda", "#0b3d1a"),
    NOT_REPRODUCED: ("\u2718", "#f8d7da", "#5c1119"),
    NOT_REPRODUCIBLE: ("\u2298", "#e2e3e5", "#26292c"),
    "failed": ("!", "#fff3cd", "#4d3800"),
}
_UNKNOWN_STYLE = ("?", "#ffffff", "#000000")

#: What each output file holds, for the README's list of files (notebook and HTML by suffix).
OUTPUT_DESCRIPTIONS: dict[str, str] = {
    "README.md": "this file",
    "comparison.md": "published against reproduced: one verdict per claim, the numbers side by "
    "side, notes and the replication's tables",
    "estimates.csv": "the replication's estimates (its columns are described in the paper entry)",
    "manifest.json": "inputs with sha256, parameters, package versions, git revision, verdicts, "
    "the sha256 of every other output",
    "processing_sensitivity.csv": "the named sensitivity analysis of data processing: every "
    "model with the authors' processing and with the package's cleaning, side by side",
    "multiverse.csv": "the robustness multiverse: one row per specification and claim",
    "multiverse_summary.csv": "the robustness multiverse summarised per claim",
}

#: The README every replication folder gets (written by the runner, from the manifest).
README = "README.md"
#: The summary page of ``replicate --all``, and the same in Markdown.
INDEX_HTML, SUMMARY_MD = "index.html", "summary.md"

_CELL = "white-space:normal;overflow-wrap:break-word;word-break:normal;text-align:left;" \
    "vertical-align:top;padding:4px 8px;border:1px solid #999;"  # fmt: skip


# --- machine paths --------------------------------------------------------------------------


def _variants(path: str | Path | None) -> list[str]:
    if path is None or str(path) == "":
        return []
    p = Path(path).expanduser()
    out = {str(p)}
    with contextlib.suppress(OSError):
        out.add(str(p.resolve()))
    # never the file-system root or a one-part path like "/tmp": too broad to replace
    return [s for s in out if len(Path(s).parts) >= 2 and s not in (os.sep, "/")]


def machine_paths(
    *,
    out: str | Path | None = None,
    stage: str | Path | None = None,
    source_dir: str | Path | None = None,
    notebooks: str | Path | None = None,
) -> list[tuple[str, str]]:
    """The folders of this machine that outputs must not name, with their placeholders.

    Parameters
    ----------
    out
        The output folder (becomes ``"."``).
    stage
        The staging folder the kernel ran in (becomes ``"."``: its files move to ``out``).
    source_dir
        The ``--source-dir`` folder (``"<source-dir>"``).
    notebooks
        A notebook folder set through ``ICSRESEARCH_REPLICATION_NOTEBOOKS``
        (``"<notebook-dir>"``).

    Returns
    -------
    list of (str, str)
        Absolute path -> placeholder, longest path first (the most specific one wins).
    """
    from .. import config

    package = Path(__file__).resolve().parents[1]
    pairs: list[tuple[str | Path | None, str]] = [
        (stage, "."),
        (out, "."),
        (source_dir, "<source-dir>"),
        (notebooks, "<notebook-dir>"),
        (package, "<icsresearch>"),
    ]
    # a broken setting has no folder to hide (and its own command reports it)
    with contextlib.suppress(Exception):
        pairs.append((config.cache_dir(), "<cache>"))
    with contextlib.suppress(Exception):
        pairs.append((config.mirror_dir(), "<mirror>"))
    pairs += [(sys.prefix, "<python>"), (sys.exec_prefix, "<python>")]
    pairs.append((sys.base_prefix, "<python>"))
    if package.parent.name == "src":  # a source checkout: the repository folder
        pairs.append((package.parent.parent, "<repo>"))
    pairs.append((Path.home(), "~"))
    found: dict[str, str] = {}
    for path, placeholder in pairs:
        for variant in _variants(path):
            found.setdefault(variant, placeholder)
    return sorted(found.items(), key=lambda kv: len(kv[0]), reverse=True)


def _pattern(roots: Sequence[tuple[str, str]]) -> re.Pattern[str] | None:
    if not roots:
        return None
    # a whole path component only: /work/main must not eat /work/mainline
    alternatives = "|".join(re.escape(path) for path, _ in roots)
    return re.compile(rf"(?:{alternatives})(?![\w-]|\.\w)")


def scrub_text(text: str, roots: Sequence[tuple[str, str]]) -> str:
    """``text`` with every path of :func:`machine_paths` replaced by its placeholder.

    Parameters
    ----------
    text
        Any text (Markdown, CSV, a traceback).
    roots
        :func:`machine_paths`.
    """
    pattern = _pattern(roots)
    if pattern is None or not text:
        return text
    lookup = dict(roots)
    return pattern.sub(lambda m: lookup[m.group(0)], text)


def scrub_json(value: Any, roots: Sequence[tuple[str, str]]) -> Any:
    """A copy of a JSON-like value with :func:`scrub_text` applied to every string.

    Image and PDF outputs of a notebook (base64) are left alone.

    Parameters
    ----------
    value
        A dict, list or scalar (a manifest, a notebook node).
    roots
        :func:`machine_paths`.
    """
    if isinstance(value, str):
        return scrub_text(value, roots)
    if isinstance(value, Mapping):
        return {
            k: v if str(k).startswith("image/") or k == "application/pdf" else scrub_json(v, roots)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_json(v, roots) for v in value]
    return value


def scrub_files(folder: Path, names: Iterable[str], roots: Sequence[tuple[str, str]]) -> list[str]:
    """Scrub the named text files and notebooks of ``folder`` in place (atomically).

    Parameters
    ----------
    folder
        The folder holding them.
    names
        File names; those that do not exist are skipped.
    roots
        :func:`machine_paths`.

    Returns
    -------
    list of str
        The names whose contents changed.
    """
    import nbformat

    from .._atomic import atomic_write_text

    changed = []
    for name in names:
        path = folder / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if name.endswith(".ipynb"):
            nb = nbformat.from_dict(scrub_json(json.loads(text), roots))
            new = nbformat.writes(nb) + "\n"
            if json.loads(new) == json.loads(text):
                continue
        else:
            new = scrub_text(text, roots)
            if new == text:
                continue
        atomic_write_text(path, new)
        changed.append(name)
    return changed


# --- claims, from the manifest and comparison.md ---------------------------------------------


@dataclasses.dataclass(frozen=True)
class ClaimRow:
    """One claim as a reviewer sees it: from ``comparison.md``, checked against the manifest.

    Attributes
    ----------
    id
        The claim's id.
    claim
        The published statement.
    published
        The published number or wording.
    status
        ``verified`` or ``approximate``.
    reproduced
        What the data gave.
    verdict
        The verdict.
    rule
        The verdict rule.
    note
        Why it cannot be tested, or what differs.
    """

    id: str
    claim: str = ""
    published: str = ""
    status: str = ""
    reproduced: str = ""
    verdict: str = ""
    rule: str = ""
    note: str = ""


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def claim_rows(manifest: Mapping[str, Any], comparison: str) -> list[ClaimRow]:
    """Every claim of the manifest, with the details ``comparison.md`` gives for it.

    ``comparison.md`` (:func:`~icsresearch.replications.comparison.render_comparison`) lists the
    claims in order with their ids, then the side-by-side table in the same order. Where it
    cannot be read that way (a notebook that wrote its own text), each claim keeps its id and
    verdict from the manifest.

    Parameters
    ----------
    manifest
        The replication's manifest.
    comparison
        The text of its ``comparison.md``.

    Returns
    -------
    list of ClaimRow
        One per verdict of the manifest, in its order.
    """
    verdicts = [
        (str(v.get("claim", "")), str(v.get("verdict", "")))
        for v in manifest.get("verdicts") or []
        if isinstance(v, Mapping)
    ]
    ids: list[tuple[str, str, str]] = []  # (id, verdict, claim)
    table: list[list[str]] = []
    notes: dict[str, str] = {}
    section = ""
    for line in comparison.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if section == "Verdict per claim":
            m = re.match(r"^- \*\*(.+?)\*\* - (.*) \(`([^`]+)`\)\s*$", line)
            if m:
                ids.append((m.group(3), m.group(1), m.group(2)))
        elif section == "Published and reproduced, side by side" and line.startswith("|"):
            cells = _cells(line)
            if len(cells) == 6 and cells[0] != "claim" and not set(cells[0]) <= {"-", ":"}:
                table.append(cells)
        elif section == "Notes":
            m = re.match(r"^- `([^`]+)`: (.*)$", line)
            if m:
                notes[m.group(1)] = m.group(2).strip()
    parsed = {}
    if len(ids) == len(table):
        for (cid, verdict, _), cells in zip(ids, table, strict=True):
            claim, published, status, reproduced, _, rule = cells
            parsed[cid] = ClaimRow(
                cid, claim, published, status, reproduced, verdict, rule, notes.get(cid, "")
            )
    rows = []
    for cid, verdict in verdicts:
        row = parsed.get(cid)
        if row is None or row.verdict != verdict:  # the manifest's verdict is the record
            row = ClaimRow(cid, verdict=verdict, note=notes.get(cid, ""))
        rows.append(row)
    return rows


def verdict_counts(manifest: Mapping[str, Any]) -> dict[str, int]:
    """Verdict -> number of claims: reproduced, not reproduced, not reproducible, then others.

    Parameters
    ----------
    manifest
        A replication's manifest.
    """
    counts: dict[str, int] = {}
    for v in manifest.get("verdicts") or []:
        if isinstance(v, Mapping):
            counts[str(v.get("verdict"))] = counts.get(str(v.get("verdict")), 0) + 1
    order = {v: i for i, v in enumerate(VERDICTS)}
    return dict(sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order))))


# --- HTML: the verdict summary first ---------------------------------------------------------


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def verdict_badge(verdict: str, count: int | None = None) -> str:
    """An inline HTML badge: symbol, words (and count), colour; never colour alone.

    Parameters
    ----------
    verdict
        A verdict or ``"failed"``.
    count
        A number to put before the words.
    """
    symbol, bg, fg = VERDICT_STYLE.get(verdict, _UNKNOWN_STYLE)
    words = f"{count} {verdict}" if count is not None else verdict
    return (
        f'<span style="display:inline-block;margin:1px 0;background:{bg};color:{fg};'
        f'padding:1px 6px;border:1px solid {fg};border-radius:3px;white-space:normal;">'
        f"{_e(symbol)} {_e(words)}</span>"
    )


def _td(text: Any, verdict: str | None = None) -> str:
    if verdict is None:
        return f'<td style="{_CELL}">{_e(text)}</td>'
    symbol, bg, fg = VERDICT_STYLE.get(verdict, _UNKNOWN_STYLE)
    return (
        f'<td style="{_CELL}background:{bg};color:{fg};font-weight:bold;">'
        f"{_e(symbol)} {_e(text)}</td>"
    )


def _table(headers: Sequence[str], rows: Iterable[str], caption: str = "") -> str:
    head = "".join(f'<th style="{_CELL}background:#f0f0f0;">{_e(h)}</th>' for h in headers)
    cap = f'<caption style="text-align:left;">{_e(caption)}</caption>' if caption else ""
    # auto layout and wrapping cells: long claims and rules are shown whole, never cut
    return (
        '<table style="border-collapse:collapse;table-layout:auto;width:100%;max-width:100%;">'
        f"{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def summary_cells(rep_id: str, manifest: Mapping[str, Any], comparison: str) -> list[Any]:
    """Two Markdown cells for the top of the HTML: the verdicts, then published vs reproduced.

    Each cell holds one HTML block (no blank line, so Markdown leaves it whole); every value from
    the manifest or ``comparison.md`` is HTML-escaped, so text from data never becomes markup.

    Parameters
    ----------
    rep_id
        The replication's id.
    manifest
        Its manifest.
    comparison
        The text of its ``comparison.md``.

    Returns
    -------
    list of nbformat.NotebookNode
        Markdown cells tagged ``icsresearch-verdict-summary``.
    """
    from nbformat.v4 import new_markdown_cell

    rep = get_replication(rep_id)
    rows = claim_rows(manifest, comparison)
    counts = verdict_counts(manifest)
    data = "SIMULATED data" if rep.data != "real" else "published data (registry-pinned files)"
    badges = " ".join(verdict_badge(v, n) for v, n in counts.items()) or _e("no claims recorded")
    first = [
        f'<div class="icsresearch-verdict-summary" id="verdict-summary">'
        f"<h1>{_e(rep.id)}: verdict summary</h1>"
        f"<p><b>{_e(rep.title)}</b>. Data: {_e(data)}. Verdicts: {badges}</p>",
        _table(
            ["claim id", "claim", "verdict"],
            (
                f"<tr>{_td(r.id)}{_td(r.claim or '(see comparison.md)')}"
                f"{_td(r.verdict, r.verdict)}</tr>"
                for r in rows
            ),
            caption="Each published claim and its verdict (symbol and words, and colour).",
        ),
        "<p>Published against reproduced numbers follow; then the notebook: data, models, "
        "and the outputs written. The folder's README.md says how to reproduce it.</p></div>",
    ]
    second = [
        '<div class="icsresearch-side-by-side" id="published-vs-reproduced">'
        "<h2>Published and reproduced, side by side</h2>",
        _table(
            ["claim", "published", "status", "reproduced", "verdict", "rule"],
            (
                f"<tr>{_td(r.claim or r.id)}{_td(r.published)}{_td(r.status)}"
                f"{_td(r.reproduced)}{_td(r.verdict, r.verdict)}{_td(r.rule)}</tr>"
                for r in rows
            ),
        ),
        "</div>",
    ]
    meta = {"tags": ["icsresearch-verdict-summary"]}
    return [
        new_markdown_cell("".join(first), metadata=meta),
        new_markdown_cell("".join(second), metadata=meta),
    ]


# --- README.md ---------------------------------------------------------------------------------


def _md(text: Any) -> str:
    # one table cell: no raw pipes, no line breaks, no raw HTML
    return " ".join(str(text).replace("|", "\\|").replace("<", "&lt;").split())


def _module(rep_id: str):
    return importlib.import_module(f"{__package__}.{get_replication(rep_id).module}")


def _simulator(rep_id: str) -> str:
    try:
        simulate = getattr(_module(rep_id), "simulate", None)
    except Exception:  # noqa: BLE001
        simulate = None
    if simulate is None:
        return f"icsresearch.replications.{get_replication(rep_id).module}"
    return f"{simulate.__module__}.simulate"


def _items_for(claim_id: str, items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [i for i in items if any(fnmatch.fnmatchcase(claim_id, p) for p in i.get("claims", ()))]


def _item_verdicts(item: Mapping[str, Any], rows: Sequence[ClaimRow]) -> str:
    hits = [r for r in rows if any(fnmatch.fnmatchcase(r.id, p) for p in item.get("claims", ()))]
    if not hits:
        return "no claim (shown for completeness)"
    counts: dict[str, int] = {}
    for r in hits:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return "; ".join(f"{n} {v}" for v, n in counts.items()) + (
        f" ({', '.join(r.id for r in hits)})"
    )


def _command(rep_id: str, manifest: Mapping[str, Any]) -> str:
    """The ``icsresearch replicate`` command that makes the same outputs."""
    from .runner import notebook_parameters

    params = dict(manifest.get("parameters") or {})
    try:
        defaults = notebook_parameters(rep_id)
    except Exception:  # noqa: BLE001 - the notebook moved: list every parameter
        defaults = {}
    parts = [f"icsresearch replicate {rep_id} --out DIR"]
    if params.get("source_dir"):
        parts.append("--source-dir FOLDER")
    for name, value in params.items():
        if name in ("output_dir", "source_dir") or (name in defaults and defaults[name] == value):
            continue
        if name not in defaults and defaults:
            continue  # recorded by the notebook, not one of its parameters
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"-p {shlex.quote(f'{name}={text}')}")  # ["died"] survives the shell
    return " ".join(parts)


def _data_section(rep_id: str, manifest: Mapping[str, Any]) -> list[str]:
    from ..data.registry import REGISTRY

    rep = get_replication(rep_id)
    lines = ["## Data availability and provenance statements", ""]
    inputs = [i for i in manifest.get("inputs") or [] if isinstance(i, Mapping)]
    if rep.data != "real":
        design = manifest.get("design") or {}
        params = manifest.get("parameters") or {}
        lines += [
            "**The data are simulated.** No real patient, staff or hospital data were used or are "
            "needed: the notebook draws a study with the published dimensions and *planted* "
            f"effects (`{_simulator(rep_id)}`, documented in its docstrings and in the paper "
            f"entry `{rep.paper}`), with seed "
            f"{params.get('seed', '(as recorded in manifest.json)')}.",
            "",
        ]
        if design:
            lines += ["Simulation design (from `manifest.json`):", ""]
            lines += [f"- `{k}` = {_md(v)}" for k, v in design.items()]
            lines.append("")
        lines += [
            "The study's own data (patient records, nurse surveys, costs) are restricted and are "
            "not part of this package; the claims that need them are judged *not reproducible "
            "from public data*.",
            "",
        ]
    if not inputs:
        if rep.data == "real":
            lines += ["No input file was recorded in the manifest.", ""]
        return lines
    lines += [
        "Every file the replication read, from `manifest.json` (`inputs`) and the package's "
        "registry (`icsresearch/data/registry.csv`). *Verified* means the bytes read had the "
        "registry's sha256; an unverified file was supplied by the user (`--source-dir`) and is "
        "identified only by its own hash.",
        "",
        "**Rights and availability.** Every file is published openly, under the licence named "
        "for it below (the statistics mostly under the Open Government Licence v3); this folder "
        "holds no copy of any of them. To obtain one: `icsresearch data fetch NAME` downloads it "
        "from the pinned URL into the cache and checks its sha256, or point "
        "`ICSRESEARCH_MIRROR` at a folder laid out like the published sources (the registry "
        "path below) and run the same command offline.",
        "",
        "| file (registry name) | publisher | sha256 of the bytes read | verified |",
        "|---|---|---|---|",
    ]
    for i in inputs:
        entry = REGISTRY.get(str(i.get("source")))
        lines.append(
            f"| `{_md(i.get('source') or 'unregistered')}` | "
            f"{_md(entry.publisher if entry else 'unknown')} | `{_md(i.get('sha256'))}` | "
            f"{'yes' if i.get('verified') is True else 'NO' if i.get('verified') is False else '-'} |"
        )
    lines.append("")
    for i in inputs:
        name = i.get("source")
        entry = REGISTRY.get(str(name)) if name else None
        verified = i.get("verified")
        state = (
            "verified (sha256 matches the registry)"
            if verified is True
            else "NOT verified: a user-supplied file read without a hash check"
            if verified is False
            else "not checked"
        )
        lines.append(f"### {name or 'unregistered file'}")
        lines.append("")
        if entry is not None:
            lines += [
                f"- Description: {_md(entry.description)} ({_md(entry.years)})",
                f"- Publisher: {_md(entry.publisher)}",
                f"- Licence: {_md(entry.licence)}",
                f"- Citation: {_md(entry.citation)}",
                f"- Pinned URL: <{entry.url}>",
                f"- Registry path: `{entry.path}`; registry sha256 `{entry.sha256}`",
                f"- Obtain: `icsresearch data fetch {entry.name}`",
            ]
        else:
            lines.append("- Not in the registry: publisher, licence and URL unknown.")
        lines += [
            f"- Read from: `{i.get('path')}`",
            f"- sha256 of the bytes read: `{i.get('sha256')}`",
            f"- Status: {state}",
            "",
        ]
    return lines


def _requirements_section(manifest: Mapping[str, Any]) -> list[str]:
    env = dict(manifest.get("environment") or {})
    runner = dict(manifest.get("runner") or {})
    python = env.pop("python", "unknown")
    platform_text = env.pop("platform", "unknown")
    rev = env.pop("git_revision", manifest.get("git_revision", "unknown"))
    lines = [
        "## Computational requirements",
        "",
        "### Software requirements",
        "",
        f"- Python {python}",
        f"- icsresearch {env.pop('icsresearch', 'unknown')} (git revision `{rev}`; `+dirty` "
        "means uncommitted changes)",
        "- Packages (the versions this run used, from `manifest.json`):",
    ]
    lines += [f"  - {k} {v}" for k, v in env.items()]
    lines += [
        f"- Jupyter kernel: `{runner.get('kernel', 'icsresearch')}` (registered by "
        "`make install`, or `python -m ipykernel install --user --name icsresearch`)",
        "",
        "### Controlled randomness",
        "",
        "Random draws, where a replication makes any (a simulated study, power replicates), "
        "take their seeds from the notebook parameters recorded in `manifest.json` "
        "(`parameters`).",
        "",
        "### Runtime and platform",
        "",
        f"- Platform: {platform_text}; {runner.get('cpu_count', 'unknown')} CPU core(s) visible.",
        f"- Runtime of the notebook in this run: {runner.get('seconds', 'unknown')} s "
        "(the runner's wall-clock time).",
        f"- Run on {manifest.get('created_utc', 'unknown')} (UTC).",
        "",
    ]
    return lines


def _programs_section(rep_id: str, manifest: Mapping[str, Any], items) -> list[str]:
    rep = get_replication(rep_id)
    runner = dict(manifest.get("runner") or {})
    modules = {f"icsresearch.replications.{rep.module}"}
    for item in items:
        for part in re.split(r"[,;]\s*", str(item.get("code", ""))):
            word = part.split(" ")[0].split("(")[0]
            if "." in word and not word.startswith("icsresearch"):
                modules.add("icsresearch.replications." + word.rsplit(".", 1)[0])
            elif word.startswith("icsresearch."):
                modules.add(word.rsplit(".", 1)[0])
    lines = [
        "## Description of programs",
        "",
        f"- `{rep.notebook}`: the executed notebook (papermill). Source: "
        f"`{runner.get('notebook', 'icsresearch/replications/notebooks/' + rep.notebook)}`, "
        f"sha256 `{runner.get('notebook_sha256', 'unknown')}`. `{rep.id}.html` is the same "
        "notebook as a web page, opening with the verdicts.",
        "- Package modules it uses:",
    ]
    lines += [f"  - `{m}`" for m in sorted(modules)]
    from ..data.registry import REGISTRY

    readers = dict.fromkeys(
        REGISTRY[str(i.get("source"))].reader
        for i in manifest.get("inputs") or []
        if str(i.get("source")) in REGISTRY
    )
    if readers:
        lines.append(
            "  - readers of the input files (`icsresearch.sources`): "
            + ", ".join(f"`{r.replace(':', '.')}`" for r in readers)
        )
    lines += [
        "  - `icsresearch.replications.comparison` (claims, verdict rules, `comparison.md`)",
        "  - `icsresearch.replications.runner` (runs the notebook, writes the outputs and "
        "`manifest.json`) and `icsresearch.replications.reviewer` (this README, the HTML's "
        "verdict summary, the path placeholders)",
        f"- Paper entry with the claims and verdict rules, fixed before the results: "
        f"`{rep.paper}` in the icsresearch repository.",
        "",
    ]
    return lines


def _describe(name: str) -> str:
    if name.endswith(".ipynb"):
        return "the executed notebook"
    if name.endswith(".html"):
        return "the executed notebook as a web page, verdict summary first"
    return OUTPUT_DESCRIPTIONS.get(name, "an output of the notebook")


def _outputs_section(manifest: Mapping[str, Any]) -> list[str]:
    outputs = dict(manifest.get("outputs") or {})
    lines = [
        "### Files in this folder",
        "",
        "| file | what it holds | sha256 (from manifest.json) |",
        "|---|---|---|",
    ]
    for name, info in outputs.items():
        digest = (info or {}).get("sha256") if isinstance(info, Mapping) else None
        lines.append(
            f"| `{name}` | {_md(_describe(name))} | "
            f"{'`' + digest + '`' if digest else _md((info or {}).get('note', '-'))} |"
        )
    lines.append(f"| `manifest.json` | {_describe('manifest.json')} | quoted in the overview |")
    lines.append("")
    return lines


def build_readme(
    rep_id: str, manifest: Mapping[str, Any], comparison: str, manifest_sha256: str
) -> str:
    """The README.md of a replication folder, from its final manifest.

    Parameters
    ----------
    rep_id
        The replication's id.
    manifest
        Its final manifest (after the runner finished it).
    comparison
        The text of its ``comparison.md``.
    manifest_sha256
        The sha256 of ``manifest.json`` as written (quoted, so the README and the manifest
        vouch for each other's files).

    Returns
    -------
    str
        Markdown.
    """
    rep = get_replication(rep_id)
    try:
        module = _module(rep_id)
    except Exception:  # noqa: BLE001 - the README still says what the manifest says
        module = None
    citation = getattr(module, "CITATION", rep.title)
    items = list(getattr(module, "DISPLAY_ITEMS", ()))
    rows = claim_rows(manifest, comparison)
    counts = verdict_counts(manifest)
    data_kind = (
        "**simulated** (no real data: the study's data are restricted)"
        if rep.data != "real"
        else "**real**: published NHS files, pinned by URL and sha256 in the package's registry"
    )
    unverified = [i for i in manifest.get("inputs") or [] if i.get("verified") is not True]
    lines = [
        f"# Replication package: {rep.id}",
        "",
        f"{rep.title}.",
        "",
        "This README follows the structure of the AEA Data Editor's template README "
        "(<https://social-science-data-editors.github.io/template_README/>). It was written by "
        "`icsresearch replicate` from `manifest.json` after the run.",
        "",
        "## Overview",
        "",
        f"- **Paper.** {citation}",
        f"- **Data.** {data_kind}."
        + (
            f" {len(unverified)} file(s) were user-supplied and not hash-checked."
            if unverified and rep.data == "real"
            else ""
        ),  # fmt: skip
        "- **Verdicts.** "
        + (", ".join(f"{n} {v}" for v, n in counts.items()) or "no claims recorded")
        + ". Each claim's rule was written down before the results were seen.",
        f"- **Runtime.** {(manifest.get('runner') or {}).get('seconds', 'unknown')} s for the "
        "notebook.",
        f"- **Integrity.** `manifest.json` has sha256 `{manifest_sha256}`. It lists every other "
        "file of this folder with its sha256, except this README, which is written after it, "
        "from it (a file cannot hold the hash of a file that quotes it).",
        "",
        "The folder holds this README, `comparison.md` (published against reproduced, one "
        f"verdict per claim), `estimates.csv`, the executed notebook `{rep.notebook}`, "
        f"`{rep.id}.html` (the same as a web page, verdicts first) and `manifest.json`; every "
        'file is listed under "Files in this folder" below with what it holds.',
        "",
        "Paths: the outputs name no folder of the machine they were made on. Folders appear as "
        "placeholders: "
        + "; ".join(f"`{k}` = {v}" for k, v in (manifest.get("placeholders") or {}).items())
        + ".",
        "",
    ]
    lines += _data_section(rep_id, manifest)
    lines += _requirements_section(manifest)
    lines += _programs_section(rep_id, manifest, items)
    fetch = [i.get("source") for i in manifest.get("inputs") or [] if i.get("source")]
    lines += [
        "## Instructions to replicators",
        "",
        "1. Install icsresearch "
        f"{(manifest.get('environment') or {}).get('icsresearch', '')} as this run had it: "
        f"the repository at git revision `{manifest.get('git_revision', 'unknown')}` "
        "(`+dirty`: with uncommitted changes, so the revision alone does not pin the code) "
        "with `make install`, which also registers the `icsresearch` Jupyter kernel; or a wheel "
        "of that version (`pip install icsresearch-VERSION-py3-none-any.whl`, then "
        "`python -m ipykernel install --user --name icsresearch`).",
    ]
    if fetch:
        lines.append(
            "2. Get the input files (checked against their sha256): "
            f"`icsresearch data fetch {' '.join(dict.fromkeys(fetch))}` "
            "(offline: `export ICSRESEARCH_MIRROR=/path/to/mirror` first)."
        )
    else:
        lines.append("2. No data to obtain: the data are simulated inside the notebook.")
    lines += [
        f"3. Run: `{_command(rep_id, manifest)}` (parameters other than the notebook's "
        "defaults are given with `-p`)."
        + (
            " This run used its own copy of the notebook: set "
            "`ICSRESEARCH_REPLICATION_NOTEBOOKS` to a folder holding a notebook with the sha256 "
            'under "Description of programs".'
            if str((manifest.get("runner") or {}).get("notebook", "")).startswith("<notebook-dir>")
            else ""
        ),
        "4. Compare: the new `DIR/comparison.md` and `DIR/estimates.csv` against this folder's; "
        "`DIR/manifest.json` lists the hashes of the inputs read. "
        f"`icsresearch replicate {rep_id} --help` lists the options.",
        "",
        "## List of tables and programs",
        "",
        "### Published claims",
        "",
        "| claim id | claim | code (module.function; notebook section) | output | verdict |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        hit = _items_for(r.id, items)
        code = (
            "; ".join(f"{i['code']} (notebook: {i['notebook']})" for i in hit[:2])
            or f"{rep.module}.evaluate_claims"
        )
        outputs = ", ".join(dict.fromkeys(o for i in hit[:2] for o in i.get("outputs", ())))
        lines.append(
            f"| `{_md(r.id)}` | {_md(r.claim or '-')} | {_md(code)} | "
            f"comparison.md (verdict){'; ' + _md(outputs) if outputs else ''} | "
            f"**{_md(r.verdict)}** |"
        )
    lines += [
        "",
        "### Display items",
        "",
        "Tables and figures of the publication, as far as the paper entry and the code know them "
        "(the paper's own tables are not available here, so items are named by content).",
        "",
        "| display item | code (module.function) | notebook section | output | verdicts |",
        "|---|---|---|---|---|",
    ]
    for i in items:
        lines.append(
            f"| {_md(i.get('item', ''))} | {_md(i.get('code', ''))} | {_md(i.get('notebook', ''))}"
            f" | {_md(', '.join(i.get('outputs', ())))} | {_md(_item_verdicts(i, rows))} |"
        )
    if not items:
        lines.append("| (none recorded) | | | | |")
    lines.append("")
    lines += _outputs_section(manifest)
    from ..data.registry import REGISTRY

    data_refs = dict.fromkeys(
        REGISTRY[s].citation for s in fetch if s in REGISTRY and REGISTRY[s].citation
    )
    lines += ["## References", "", f"- {citation}"]
    lines += [f"- {_md(c)}" for c in data_refs]
    lines += [
        f"- icsresearch {(manifest.get('environment') or {}).get('icsresearch', '')}, git "
        f"revision {manifest.get('git_revision', 'unknown')}.",
        "- Vilhuber L, Connolly M, Koren M, Llull J, Morrow P. A template README for social "
        "science replication packages. Social Science Data Editors, "
        "<https://social-science-data-editors.github.io/template_README/>.",
        "",
    ]
    return "\n".join(lines)


def write_readme(folder: Path, rep_id: str) -> Path:
    """Write ``folder/README.md`` from the folder's ``manifest.json`` and ``comparison.md``.

    Parameters
    ----------
    folder
        A replication folder holding its final manifest.
    rep_id
        The replication's id.

    Returns
    -------
    Path
        The README.
    """
    from .._atomic import atomic_write_text
    from ..data.store import sha256_of

    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    comparison_path = folder / "comparison.md"
    comparison = comparison_path.read_text(encoding="utf-8") if comparison_path.is_file() else ""
    text = build_readme(rep_id, manifest, comparison, sha256_of(manifest_path))
    return atomic_write_text(folder / README, text)


# --- replicate --all -----------------------------------------------------------------------------


@dataclasses.dataclass
class RunSummary:
    """How one replication of :func:`run_all` went.

    Attributes
    ----------
    id
        The replication's id.
    ok
        Whether it ran and wrote its outputs.
    seconds
        Wall-clock time of the whole run (the notebook's own time is in its manifest).
    verdicts
        Verdict -> number of claims (empty when it failed).
    error
        The error message when it failed (paths replaced by placeholders).
    failed_notebook
        Where its executed notebook is kept after a failure, relative to the ``--all`` folder.
    """

    id: str
    ok: bool
    seconds: float
    verdicts: dict[str, int] = dataclasses.field(default_factory=dict)
    error: str = ""
    failed_notebook: str | None = None


def run_all(
    out: str | Path,
    *,
    ids: Sequence[str] | None = None,
    source_dir: str | Path | None = None,
    kernel_name: str | None = None,
    log_output: bool = False,
    progress=None,
) -> list[RunSummary]:
    """Run every replication into ``out/<id>/`` and write ``out/index.html`` and ``out/summary.md``.

    A replication that fails is reported on the page (with where its executed notebook is) and
    does not stop the others. ``out`` keeps its output record: a name it would take that holds
    a user's own file stops the run before anything runs.

    Parameters
    ----------
    out
        The folder (created).
    ids
        Replications to run (default: all, in registry order).
    source_dir
        Passed to each replication (files in the published layout, not hash-checked).
    kernel_name
        Jupyter kernel (default: the runner's).
    log_output
        Stream each notebook's output to the log.
    progress
        Called with ``(rep_id, "start" | "done" | "failed", RunSummary | None)``.

    Returns
    -------
    list of RunSummary
        One per replication, in order.

    Raises
    ------
    InvalidParameterError
        An unknown id, or ``out`` cannot be written (:class:`~icsresearch.errors.OutputPathError`).
    """
    from .._atomic import RECORD_NAME, OutputRecord, atomic_write_text, check_output_dir
    from .runner import FAILED, KERNEL_NAME, run_replication

    chosen = list(ids) if ids is not None else list(REPLICATIONS)
    for rep_id in chosen:
        get_replication(rep_id)  # an unknown id: one clear error before anything runs
    out = check_output_dir(out)
    record = OutputRecord(out)
    results: list[RunSummary] = []
    with record.lock(busy="another icsresearch command is writing into this folder"):
        record.claim(
            [*chosen, INDEX_HTML, SUMMARY_MD],
            # a replication folder with its own output record is the workbench's (an earlier
            # `replicate ID --out DIR/ID`); that record protects what a user put inside
            adopt=lambda p: p.name in chosen and p.is_dir() and (p / RECORD_NAME).is_file(),
            fix="Move them away, or choose another --out folder; icsresearch never deletes or "
            "overwrites what it did not write.",
        )
        for rep_id in chosen:
            # each replication folder keeps its own record: the --all record lists it whole
            if record.entries.get(rep_id, {}).get("kind") != "scratch":
                record.add(rep_id, kind="scratch")
        record.save()
        roots = machine_paths(out=out, source_dir=source_dir)
        for rep_id in chosen:
            if progress:
                progress(rep_id, "start", None)
            started = time.perf_counter()
            try:
                paths = run_replication(
                    rep_id,
                    out / rep_id,
                    source_dir=source_dir,
                    kernel_name=kernel_name or KERNEL_NAME,
                    log_output=log_output,
                )
            except Exception as exc:  # noqa: BLE001 - one failure must not stop the others
                failed = out / rep_id / FAILED / get_replication(rep_id).notebook
                summary = RunSummary(
                    rep_id,
                    False,
                    round(time.perf_counter() - started, 1),
                    error=scrub_text(str(exc), roots),
                    failed_notebook=failed.relative_to(out).as_posix()
                    if failed.is_file()
                    else None,
                )
            else:
                manifest = json.loads(paths["manifest.json"].read_text(encoding="utf-8"))
                summary = RunSummary(
                    rep_id,
                    True,
                    round(time.perf_counter() - started, 1),
                    verdicts=verdict_counts(manifest),
                )
            results.append(summary)
            if progress:
                progress(rep_id, "done" if summary.ok else "failed", summary)
        atomic_write_text(out / INDEX_HTML, index_html(out, results))
        atomic_write_text(out / SUMMARY_MD, summary_md(out, results))
        record.add(INDEX_HTML, kind="file")
        record.add(SUMMARY_MD, kind="file")
        record.save()
    return results


def _runner_seconds(out: Path, rep_id: str) -> Any:
    try:
        m = json.loads((out / rep_id / "manifest.json").read_text(encoding="utf-8"))
        return (m.get("runner") or {}).get("seconds")
    except (OSError, ValueError):
        return None


def index_html(out: Path, results: Sequence[RunSummary]) -> str:
    """The ``--all`` summary page: one row per replication, colour-coded, with links.

    Parameters
    ----------
    out
        The ``--all`` folder (links are relative to it).
    results
        :func:`run_all`'s summaries.
    """
    failed = [r for r in results if not r.ok]
    rows = []
    for r in results:
        rep = get_replication(r.id)
        if r.ok:
            verdicts = " ".join(verdict_badge(v, n) for v, n in r.verdicts.items())
            links = (
                f'<a href="{_e(r.id)}/{_e(r.id)}.html">{_e(r.id)}.html</a> \u00b7 '
                f'<a href="{_e(r.id)}/README.md">README.md</a> \u00b7 '
                f'<a href="{_e(r.id)}/comparison.md">comparison.md</a>'
            )
            status = f'<td style="{_CELL}">{verdicts or _e("no claims recorded")}</td>'
        else:
            where = (
                f'executed notebook: <a href="{_e(r.failed_notebook)}">{_e(r.failed_notebook)}</a>'
                if r.failed_notebook
                else "no executed notebook was kept"
            )
            links = where
            status = (
                f'<td style="{_CELL}">{verdict_badge("failed")} '
                f'<pre style="white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0;">'
                f"{_e(r.error)}</pre></td>"
            )
        seconds = _runner_seconds(out, r.id) if r.ok else None
        runtime = f"{seconds} s notebook, {r.seconds} s in all" if seconds else f"{r.seconds} s"
        rows.append(
            f"<tr>{_td(r.id)}{_td(rep.title)}{_td(rep.data)}{status}"
            f'<td style="{_CELL}">{links}</td>{_td(runtime)}</tr>'
        )
    headline = (
        f"{len(results) - len(failed)} of {len(results)} replications ran"
        + (f"; FAILED: {', '.join(r.id for r in failed)}" if failed else "")
        + "."
    )
    legend = " ".join(
        verdict_badge(v) for v in (REPRODUCED, NOT_REPRODUCED, NOT_REPRODUCIBLE, "failed")
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>icsresearch replications</title></head>"
        '<body style="font-family:sans-serif;max-width:80em;margin:1em auto;padding:0 1em;">'
        "<h1>icsresearch replications</h1>"
        f"<p><b>{_e(headline)}</b> Legend: {legend}</p>"
        + _table(["id", "finding", "data", "verdicts", "files", "runtime"], rows)
        + "<p>Each folder holds a README.md (data, requirements, instructions, claims and "
        "display items), comparison.md, estimates.csv, the executed notebook, its HTML and "
        "manifest.json.</p></body></html>\n"
    )


def summary_md(out: Path, results: Sequence[RunSummary]) -> str:
    """``summary.md``: the ``--all`` page in Markdown.

    Parameters
    ----------
    out
        The ``--all`` folder.
    results
        :func:`run_all`'s summaries.
    """
    failed = [r for r in results if not r.ok]
    lines = [
        "# icsresearch replications",
        "",
        f"{len(results) - len(failed)} of {len(results)} replications ran"
        + (f"; **FAILED**: {', '.join(r.id for r in failed)}" if failed else "")
        + ".",
        "",
        "| id | data | status | verdicts | files | runtime |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        rep = get_replication(r.id)
        if r.ok:
            verdicts = ", ".join(f"{n} {v}" for v, n in r.verdicts.items()) or "no claims"
            files = f"[{r.id}.html]({r.id}/{r.id}.html), [README.md]({r.id}/README.md)"
            status = "ran"
        else:
            verdicts = _md(r.error.splitlines()[0] if r.error else "failed")
            files = (
                f"executed notebook: [{r.failed_notebook}]({r.failed_notebook})"
                if r.failed_notebook
                else "no executed notebook kept"
            )
            status = "**FAILED**"
        seconds = _runner_seconds(out, r.id) if r.ok else None
        runtime = f"{seconds} s notebook, {r.seconds} s in all" if seconds else f"{r.seconds} s"
        lines.append(f"| {r.id} | {rep.data} | {status} | {verdicts} | {files} | {runtime} |")
    return "\n".join(lines) + "\n"
