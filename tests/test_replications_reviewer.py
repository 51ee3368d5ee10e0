"""What a reviewer gets from `icsresearch replicate`: README.md, verdicts first, no machine paths.

One small mchugh2021 run (20,000 simulated patients, 2 power replicates: about 7 s) is shared by
the module; the ``--all`` test runs a small copy of that notebook and two stand-ins (one broken)
through ``ICSRESEARCH_REPLICATION_NOTEBOOKS`` (about 12 s).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from typer.testing import CliRunner

from icsresearch.cli import app
from icsresearch.errors import OutputConflictError
from icsresearch.replications import mchugh2021 as M
from icsresearch.replications.comparison import (
    NOT_REPRODUCED,
    REPRODUCED,
    Claim,
    render_comparison,
)
from icsresearch.replications.reviewer import (
    PLACEHOLDERS,
    claim_rows,
    machine_paths,
    run_all,
    scrub_json,
    scrub_text,
    summary_cells,
)
from icsresearch.replications.runner import NOTEBOOK_DIR_ENV, notebook_path, run_replication

ROOT = Path(__file__).resolve().parents[1]
PARAMS = {"n_patients": 20_000, "seed": 11, "power_replicates": 2}
SECTIONS = (
    "## Overview",
    "## Data availability and provenance statements",
    "## Computational requirements",
    "## Description of programs",
    "## Instructions to replicators",
    "## List of tables and programs",
    "## References",
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """mchugh2021, small, with a --source-dir (the notebook ignores it; the manifest records it)."""
    base = tmp_path_factory.mktemp("reviewer")
    src = base / "corrected files"
    src.mkdir()
    out = base / "out"
    paths = run_replication("mchugh2021", out, source_dir=src, parameters=PARAMS)
    manifest = json.loads(paths["manifest.json"].read_text(encoding="utf-8"))
    return paths, manifest, out, src


def test_readme_has_the_template_sections_in_order(run):
    paths, manifest, out, _ = run
    readme = paths["README.md"].read_text(encoding="utf-8")
    where = [readme.find(s) for s in SECTIONS]
    assert -1 not in where and where == sorted(where), dict(zip(SECTIONS, where, strict=True))
    assert M.CITATION in readme
    assert "**The data are simulated.**" in readme and "simulate_mchugh.simulate" in readme
    assert "with seed 11" in readme and "- `n_patients` = 20000" in readme
    # requirements come from the manifest: versions, cores, the runner's measured seconds
    env, runner = manifest["environment"], manifest["runner"]
    assert f"- Python {env['python']}" in readme and f"  - pandas {env['pandas']}" in readme
    assert f"{runner['cpu_count']} CPU core(s)" in readme and runner["cpu_count"] >= 1
    assert f"Runtime of the notebook in this run: {runner['seconds']} s" in readme
    # the command reproduces the run: every parameter that is not the notebook's default
    assert (
        "`icsresearch replicate mchugh2021 --out DIR --source-dir FOLDER -p seed=11 "
        "-p n_patients=20000 -p power_replicates=2`" in readme
    )


def test_readme_lists_every_claim_with_its_verdict_and_every_display_item(run):
    paths, manifest, _, _ = run
    readme = paths["README.md"].read_text(encoding="utf-8")
    claims_table = readme.split("### Published claims")[1].split("### Display items")[0]
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| `([^`]+)` \|.*\| \*\*(.+?)\*\* \|$", claims_table, re.M)
    }
    assert rows == {v["claim"]: v["verdict"] for v in manifest["verdicts"]}
    items = readme.split("### Display items")[1].split("### Files in this folder")[0]
    for item in M.DISPLAY_ITEMS:
        assert item["item"].split(" (")[0] in items
    # the power item bears on design:died only: its verdict is that claim's
    power = next(ln for ln in items.splitlines() if ln.startswith("| Power and CI coverage"))
    died = next(v["verdict"] for v in manifest["verdicts"] if v["claim"] == "design:died")
    assert power.endswith(f"| 1 {died} (design:died) |")


def test_manifest_hashes_every_output_but_the_readme_which_quotes_the_manifest(run):
    paths, manifest, out, _ = run
    listed = manifest["outputs"]
    on_disk = {p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert set(listed) | {"manifest.json"} == on_disk
    for name, info in listed.items():
        if name == "README.md":
            assert "sha256" not in info and "after" in info["note"]
        else:
            assert info["sha256"] == _sha(out / name), name
    readme = paths["README.md"].read_text(encoding="utf-8")
    assert f"`manifest.json` has sha256 `{_sha(paths['manifest.json'])}`" in readme
    files = readme.split("### Files in this folder")[1].split("## References")[0]
    for name, info in listed.items():
        assert f"| `{name}` |" in files and (info.get("sha256") or "after") in files
    # the output record (what the workbench wrote) hashes the README itself
    record = json.loads((out / ".icsresearch-outputs.json").read_text(encoding="utf-8"))
    assert record["entries"]["README.md"]["sha256"] == _sha(paths["README.md"])


def test_html_opens_with_the_verdict_summary_then_side_by_side_then_the_models(run):
    paths, manifest, _, _ = run
    html = paths["mchugh2021.html"].read_text(encoding="utf-8")
    summary = html.find("mchugh2021: verdict summary")
    side = html.find("Published and reproduced, side by side</h2>")
    models = html.find("The design&#39;s models")
    if models == -1:
        models = html.find("The design's models")
    first_cell = html.find('class="jp-Cell ')
    assert -1 < first_cell < summary < side < models
    table = html[summary:side]
    for v in manifest["verdicts"]:
        assert v["claim"] in table
    # colour and words together; cells wrap, nothing is cut
    assert "#d4edda" in table and "\u2714 reproduced" in table
    assert "\u2298 not reproducible from public data" in table
    assert "white-space:normal" in table and "ellipsis" not in html[summary:models]
    assert "nowrap" not in html[summary:models]
    # the cells are the HTML's; the executed notebook stays as it ran
    nb = nbformat.read(str(paths["mchugh2021.ipynb"]), as_version=4)
    assert not any("verdict summary" in "".join(c.source) for c in nb.cells)
    # the one figure: numbered, and its alt text says what it shows (not nbconvert's default)
    assert "No description has been provided" not in html
    assert "<figcaption><b>Figure 1.</b> Planted and recovered effects" in html
    assert 'alt="Coefficient plot: Planted and recovered effects.' in html


def _forbidden(tmp: Path, src: Path) -> dict[str, str]:
    from icsresearch import config

    found = {
        "tmp": str(tmp),
        "source-dir": str(src),
        "repo": str(ROOT),
        "cache": str(config.cache_dir()),
    }
    home = Path.home()
    if len(home.parts) >= 2:
        found["home"] = str(home)
    if os.environ.get(config.MIRROR_ENV):
        found["mirror"] = str(Path(os.environ[config.MIRROR_ENV]).resolve())
    variants = {}
    for k, v in found.items():
        variants[k] = v
        variants[k + " (resolved)"] = str(Path(v).resolve())
    return variants


def test_no_output_names_a_folder_of_the_machine(run, tmp_path_factory):
    paths, manifest, out, src = run
    forbidden = _forbidden(tmp_path_factory.getbasetemp(), src)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"README.md", "manifest.json", "mchugh2021.ipynb", "mchugh2021.html"} <= {
        p.name for p in files
    }
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for what, value in forbidden.items():
            assert value not in text, f"{path.name} names the {what} folder {value}"
    # the information stays, as placeholders the manifest explains
    assert manifest["parameters"]["output_dir"] == "."
    assert manifest["parameters"]["source_dir"] == "<source-dir>"
    assert manifest["runner"]["notebook"] == "<icsresearch>/replications/notebooks/mchugh2021.ipynb"
    assert manifest["placeholders"]["<source-dir>"] == PLACEHOLDERS["<source-dir>"]
    nb = paths["mchugh2021.ipynb"].read_text(encoding="utf-8")
    assert 'source_dir = \\"<source-dir>\\"' in nb  # the injected parameters cell


@pytest.mark.realdata
def test_real_data_readme_names_every_input_and_no_machine_folder(tmp_path, mirror):
    """griffiths2016 (cross-section only, about 5 s): each file read, its hash and provenance."""
    from icsresearch.data.registry import REGISTRY

    src = tmp_path / "newer files"
    src.mkdir()
    beds = next(mirror.rglob("hospital_management/data/csv/beds.csv"))
    # one more blank line: the same numbers, other bytes (so a user-supplied, unverified file)
    (src / "beds.csv").write_bytes(beds.read_bytes() + b"\n")
    out = tmp_path / "out"
    paths = run_replication("griffiths2016", out, source_dir=src, parameters={"panel": False})
    manifest = json.loads(paths["manifest.json"].read_text(encoding="utf-8"))
    readme = paths["README.md"].read_text(encoding="utf-8")
    data = readme.split("## Data availability")[1].split("## Computational requirements")[0]
    assert len(manifest["inputs"]) >= 5
    for i in manifest["inputs"]:
        entry = REGISTRY[i["source"]]
        section = data.split(f"### {i['source']}\n")[1].split("\n### ")[0]
        assert f"sha256 of the bytes read: `{i['sha256']}`" in section
        assert entry.url in section and entry.publisher in section and entry.licence in section
        assert f"`icsresearch data fetch {i['source']}`" in section
        verified = "verified (sha256 matches the registry)" if i["verified"] else "NOT verified"
        assert verified in section, i["source"]
    user = next(i for i in manifest["inputs"] if i["source"] == "hm_beds")
    assert user["verified"] is False and user["path"] == "<source-dir>/beds.csv"
    steps = readme.split("## Instructions to replicators")[1]
    fetch = re.search(r"`icsresearch data fetch ([a-z0-9_ ]+)`", steps).group(1).split()
    assert set(fetch) == {i["source"] for i in manifest["inputs"]}
    forbidden = _forbidden(tmp_path, src)
    forbidden["mirror"] = str(mirror.resolve())
    for path in (p for p in out.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        for what, value in forbidden.items():
            assert value not in text, f"{path.name} names the {what} folder {value}"


def test_scrub_replaces_whole_path_components_longest_first(tmp_path):
    out = tmp_path / "out"
    roots = machine_paths(out=out, stage=out / ".stage" / "x", source_dir=tmp_path / "src")
    text = f"{out}/.stage/x/estimates.csv {out}/a.csv {tmp_path}/src/beds.csv {tmp_path}/srcx"
    assert scrub_text(text, roots) == (
        f"./estimates.csv ./a.csv <source-dir>/beds.csv {scrub_text(str(tmp_path), roots)}/srcx"
    )
    assert scrub_text(str(Path.home() / "x"), roots) == "~/x"
    node = {"data": {"image/png": f"{out}", "text/plain": [f"{out}/b"]}, "n": 1}
    assert scrub_json(node, roots) == {
        "data": {"image/png": str(out), "text/plain": ["./b"]},
        "n": 1,
    }


def _claims():
    base = dict(status="verified", rule="a | rule")
    return [
        Claim("a", "First | claim", "1.0", **base).judged(REPRODUCED, "0.9 | 1.1"),
        Claim("b", "<script>alert(1)</script>", "2", **base).judged(NOT_REPRODUCED, "<b>x</b>"),
        Claim("c", "Third", "3", **base).unreproducible("restricted"),
    ]


def test_claim_rows_read_comparison_md_and_fall_back_to_the_manifest():
    claims = _claims()
    md = render_comparison(title="t", citation="c", claims=claims)
    manifest = {"verdicts": [{"claim": c.id, "verdict": c.verdict} for c in claims]}
    rows = claim_rows(manifest, md)
    assert [(r.id, r.claim, r.reproduced, r.rule, r.verdict) for r in rows] == [
        ("a", "First | claim", "0.9 | 1.1", "a | rule", REPRODUCED),
        ("b", "<script>alert(1)</script>", "<b>x</b>", "a | rule", NOT_REPRODUCED),
        ("c", "Third", "-", "a | rule", claims[2].verdict),
    ]
    assert rows[2].note == "restricted"
    bare = claim_rows(manifest, "free text written by a notebook\n")
    assert [(r.id, r.verdict, r.claim) for r in bare] == [(c.id, c.verdict, "") for c in claims]


def test_readme_command_gives_back_the_parameters_through_the_shell():
    import shlex

    from icsresearch.replications.reviewer import build_readme
    from icsresearch.replications.runner import parse_parameters

    params = {"row_outcomes": ["died", "los"], "seed": 2021, "n_patients": 1000}
    manifest = {"parameters": {**params, "output_dir": ".", "source_dir": ""}, "verdicts": []}
    readme = build_readme("mchugh2021", manifest, "", "0" * 64)
    command = re.search(r"Run: `(icsresearch replicate [^`]+)`", readme).group(1)
    words = shlex.split(command)
    given = [w for i, w in enumerate(words) if i and words[i - 1] == "-p"]
    # seed=2021 is the notebook's default: left out; the list survives the shell's quoting
    assert parse_parameters(given) == {"row_outcomes": ["died", "los"], "n_patients": 1000}
    assert "No data to obtain" in readme and "| (none recorded)" not in readme


def test_summary_cells_escape_text_from_data(tmp_path):
    from icsresearch.reports.executor import html_exporter

    claims = _claims()
    md = render_comparison(title="t", citation="c", claims=claims)
    manifest = {"verdicts": [{"claim": c.id, "verdict": c.verdict} for c in claims]}
    cells = summary_cells("mchugh2021", manifest, md)
    nb = new_notebook(cells=cells)
    body, _ = html_exporter(hide_code=False, remove_tags=()).from_notebook_node(nb)
    assert "<script>alert(1)</script>" not in body and "<b>x</b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "\u2718 not reproduced" in body  # symbol and words, not colour alone


# --- replicate --all -------------------------------------------------------------------------


def _stand_in(folder: Path, rep_id: str, fail: bool) -> None:
    """A quick notebook that writes a replication's outputs, or fails."""
    body = (
        "import pandas as pd\n"
        "from icsresearch.replications.comparison import Claim, render_comparison\n"
        "from icsresearch.replications.runner import write_outputs\n"
        + ("raise RuntimeError('planted failure of ' + 'the stand-in')\n" if fail else "")
        + "c = [Claim('x', 'A claim', '1', 'verified', 'rule').judged('not reproduced', '2')]\n"
        f"write_outputs(output_dir, rep_id={rep_id!r}, claims=c,\n"
        "    comparison=render_comparison(title='t', citation='c', claims=c),\n"
        "    estimates=pd.DataFrame({'a': [1]}))\n"
    )
    nb = new_notebook(
        cells=[
            new_code_cell('output_dir = ""\nsource_dir = ""', metadata={"tags": ["parameters"]}),
            new_code_cell(body),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "icsresearch", "display_name": "x", "language": "python"}
    nbformat.write(nb, folder / f"{rep_id}.ipynb")


@pytest.fixture
def notebooks(tmp_path, monkeypatch):
    """mchugh2021 made small, asaria2022 a quick stand-in, griffiths2016 broken."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.read(str(notebook_path("mchugh2021")), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for name, value in PARAMS.items():
        cell.source, n = re.subn(rf"(?m)^{name} = .*$", f"{name} = {value}", cell.source)
        assert n == 1, name
    nbformat.write(nb, folder / "mchugh2021.ipynb")
    _stand_in(folder, "asaria2022", fail=False)
    _stand_in(folder, "griffiths2016", fail=True)
    monkeypatch.setenv(NOTEBOOK_DIR_ENV, str(folder))
    return folder


def test_replicate_all_reports_a_failure_and_runs_the_others(notebooks, tmp_path):
    out = tmp_path / "all"
    # a folder an earlier `replicate asaria2022 --out DIR/asaria2022` wrote is taken over
    run_replication("asaria2022", out / "asaria2022")
    res = CliRunner().invoke(app, ["replicate", "--all", "--out", str(out)])
    assert res.exit_code == 1, res.output
    assert "griffiths2016" in res.output and "FAILED" in res.output
    for rep_id in ("asaria2022", "mchugh2021"):
        assert (out / rep_id / "README.md").is_file() and (
            out / rep_id / f"{rep_id}.html"
        ).is_file()
    failed = out / "griffiths2016" / "failed" / "griffiths2016.ipynb"
    assert failed.is_file() and not (out / "griffiths2016" / "README.md").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(0) for m in re.finditer(r"<tr><td[^>]*>(\w+)</td>.*?</tr>", index, re.S)
    }
    assert set(rows) == {"asaria2022", "griffiths2016", "mchugh2021"}
    assert 'href="mchugh2021/mchugh2021.html"' in rows["mchugh2021"]
    assert 'href="mchugh2021/README.md"' in rows["mchugh2021"]
    assert "simulated" in rows["mchugh2021"] and "real" in rows["asaria2022"]
    assert "\u2718 1 not reproduced" in rows["asaria2022"]
    man = json.loads((out / "mchugh2021" / "manifest.json").read_text(encoding="utf-8"))
    assert f"{man['runner']['seconds']} s notebook" in rows["mchugh2021"]
    assert "! failed" in rows["griffiths2016"] and "planted failure of the stand-in" in index
    assert 'href="griffiths2016/failed/griffiths2016.ipynb"' in rows["griffiths2016"]
    assert "1 ran" not in index and "2 of 3 replications ran; FAILED: griffiths2016" in index
    assert str(tmp_path) not in index, "the error message names no machine folder"
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert "| griffiths2016 | real | **FAILED** |" in md
    assert (
        "[griffiths2016/failed/griffiths2016.ipynb](griffiths2016/failed/griffiths2016.ipynb)" in md
    )
    # again into the same folder: the workbench's own files are replaced
    again = run_all(out, ids=["asaria2022"])
    assert [r.ok for r in again] == [True]
    assert "1 of 1 replications ran" in (out / "index.html").read_text(encoding="utf-8")


def test_replicate_all_never_overwrites_a_users_file(tmp_path):
    out = tmp_path / "all"
    out.mkdir()
    (out / "index.html").write_text("mine")
    with pytest.raises(OutputConflictError, match="index.html"):
        run_all(out)
    assert (out / "index.html").read_text() == "mine"
    assert not (out / "mchugh2021").exists(), "nothing ran"


def test_replicate_all_refuses_an_id_or_parameters(tmp_path):
    for args in (
        ["replicate", "--all", "mchugh2021", "--out", str(tmp_path)],
        ["replicate", "--all"],
        ["replicate", "--all", "--out", str(tmp_path), "-p", "seed=1"],
    ):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2 and "Fix:" in res.output, args
    assert not any(tmp_path.iterdir())
