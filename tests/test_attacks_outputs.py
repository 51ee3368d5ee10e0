"""Issue 12, outputs: nothing a user made is lost, nothing the workbench made is silently wrong.

One test per case of the issue (reports, demo, panel build, replicate):

1. a user's files where a report would go are never deleted or overwritten, ``--force`` or not;
2. a failed re-run keeps the last good report;
3. resume redoes a report whose recorded outputs are missing or changed;
4. user-supplied files (``--source-dir``) enter the resume fingerprint;
5. demo and real reports never share an output folder or an index;
6. names from user-supplied files are escaped in the report and the index;
7. kernel connection files live in a private folder, stale ones are removed, ``replicate`` uses
   the same local (IPC) kernels as the report batch;
8. one clear error (option, ``Fix:``, no traceback, exit 1) for bad ``--out``, ``--scheduler``
   and ``--notebook``, before anything is written.

The batch tests run a tiny report-shaped notebook (seconds); one test runs the real report
notebook on real data with a hostile provider file.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from icsresearch import _atomic
from icsresearch._atomic import RECORD_NAME, sha256_file
from icsresearch.cli import main
from icsresearch.errors import (
    InvalidParameterError,
    OutputConflictError,
    OutputPathError,
    ReplicationError,
)
from icsresearch.reports import batch as batch_mod
from icsresearch.reports import executor
from icsresearch.reports.batch import run_batch

HOSTILE = "<img src=x onerror=alert(1)>"


def tiny_notebook(path: Path, *, fail: str = "", short_name: str = "Sys") -> Path:
    """A report-shaped notebook: parameters, one figure, an optional failure, a summary."""
    cells = [
        new_code_cell(
            'ics_code = "ZQ01"\nfootprint = 2022\nsource = "demo"\nyear = 2023\n'
            'method = "headquarters"\nfigures_dir = ""',
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell(
            "import pathlib\n"
            "from matplotlib.figure import Figure\n"
            "pathlib.Path(figures_dir).mkdir(parents=True, exist_ok=True)\n"
            "fig = Figure(figsize=(2, 1)); fig.add_subplot().plot([1, 2])\n"
            "fig.savefig(pathlib.Path(figures_dir) / 'tiny.png')\n"
            + (f"raise RuntimeError({fail!r})\n" if fail else "")
        ),
        new_code_cell(
            "from IPython.display import display\n"
            "display({'application/json': {\n"
            "    'system': {'icb_code': ics_code, 'short_name': "
            f"{short_name!r}, 'region_name': 'Region'}},\n"
            "    'headline': {'ae_4hr_pct': 90.5}, 'synthetic': source == 'demo',\n"
            "    'inputs': [], 'notes': [],\n"
            "}, 'text/plain': 'summary'}, raw=True)",
            metadata={"tags": ["report-summary"]},
        ),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "icsresearch", "display_name": "x", "language": "python"}
    nbformat.write(nb, path)
    return path


def batch(out: Path, nb: Path, codes=("ZQ01",), **kw):
    kw.setdefault("source", "demo")
    return run_batch(list(codes), out=out, notebook=nb, workers=1, progress=False, **kw)


def status(result) -> dict[str, str]:
    return {o["code"]: o["status"] for o in result.outcomes}


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its sha256 (what must not change)."""
    return {
        str(p.relative_to(folder)): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in (RECORD_NAME, _atomic.LOCK_NAME)
    }


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Run the console entry point in this process: (exit code, stdout + stderr)."""
    monkeypatch.setattr(sys, "argv", ["icsresearch", *args])
    monkeypatch.setenv("COLUMNS", "250")
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return exit_.value.code, " ".join((out + err).split())


# --- 1 -------------------------------------------------------------------------------------------


def test_1_user_files_in_the_output_folder_are_never_deleted_even_with_force(tmp_path):
    nb = tiny_notebook(tmp_path / "nb.ipynb")
    out = tmp_path / "out"
    (out / "ZQ01").mkdir(parents=True)
    (out / "ZQ01" / "thesis.txt").write_text("my own work")
    (out / "index.html").write_text("<h1>my own page</h1>")
    (out / ".staging").mkdir()
    (out / ".staging" / "keep.txt").write_text("mine")
    before = snapshot(out)

    with pytest.raises(OutputConflictError) as err:
        batch(out, nb, force=True)
    assert set(err.value.names) == {"ZQ01", "index.html"}
    assert "Fix:" in str(err.value) and "--out" in str(err.value)
    assert snapshot(out) == before, "nothing of the user's changed"
    assert not (out / executor.STAGING).exists(), "nothing was started"

    # once the names are free the batch runs; the user's .staging/ is not a name it takes
    (out / "ZQ01" / "thesis.txt").rename(tmp_path / "thesis.txt")
    (out / "ZQ01").rmdir()
    (out / "index.html").rename(tmp_path / "index.html")
    assert status(batch(out, nb)) == {"ZQ01": "ok"}
    assert (out / ".staging" / "keep.txt").read_text() == "mine"

    # a file the user drops inside a report folder makes it theirs: --force refuses too
    (out / "ZQ01" / "notes.md").write_text("annotations")
    report = sha256_file(out / "ZQ01" / "report.html")
    with pytest.raises(OutputConflictError, match="ZQ01/notes.md"):
        batch(out, nb, force=True)
    assert (out / "ZQ01" / "notes.md").read_text() == "annotations"
    assert sha256_file(out / "ZQ01" / "report.html") == report


def test_1_demo_panel_build_and_replicate_never_overwrite_a_users_file(
    tmp_path, monkeypatch, capsys
):
    mine = tmp_path / "mine"
    (mine / "reports").mkdir(parents=True)
    (mine / "reports" / "draft.txt").write_text("mine")
    (mine / "trust_year_panel.csv").write_text("my,own\n")
    (mine / "estimates.csv").write_text("my,estimates\n")
    before = snapshot(mine)
    for args, names in [
        (["demo", "--out", str(mine)], ("trust_year_panel.csv", "reports")),
        (["panel", "build", "--source", "demo", "--out", str(mine / "trust_year_panel.csv")],
         ("trust_year_panel.csv",)),
        (["replicate", "mchugh2021", "--out", str(mine)], ("estimates.csv",)),
    ]:  # fmt: skip
        code, text = cli(monkeypatch, capsys, *args)
        assert code == 1 and "Fix:" in text and "Traceback" not in text, text
        assert all(n in text for n in names), text
        assert "not written by icsresearch" in text
    assert snapshot(mine) == before


# --- 2 -------------------------------------------------------------------------------------------


def test_2_a_failed_rerun_keeps_the_last_good_report(tmp_path):
    out = tmp_path / "out"
    good_nb = tiny_notebook(tmp_path / "good.ipynb")
    assert status(batch(out, good_nb)) == {"ZQ01": "ok"}
    good = snapshot(out / "ZQ01")

    # a bad --notebook is refused before the batch starts
    with pytest.raises(InvalidParameterError, match="--notebook"):
        batch(out, tmp_path / "missing.ipynb", force=True)
    assert snapshot(out / "ZQ01") == good

    # a notebook that fails while running: the attempt is kept beside the good report
    bad_nb = tiny_notebook(tmp_path / "bad.ipynb", fail="planted failure")
    result = batch(out, bad_nb, force=True)
    assert status(result) == {"ZQ01": "failed"}
    assert result.outcomes[0]["folder"] == "ZQ01/failed"
    assert {k: v for k, v in snapshot(out / "ZQ01").items() if not k.startswith("failed")} == good
    failed = json.loads((out / "ZQ01" / "failed" / "manifest.json").read_text())
    assert failed["status"] == "failed" and "planted failure" in failed["error"]
    assert json.loads((out / "ZQ01" / "manifest.json").read_text())["status"] == "ok"
    assert 'href="ZQ01/report.html"' in (out / "index.html").read_text()

    # the next success replaces the report and drops the failed attempt
    assert status(batch(out, good_nb, force=True)) == {"ZQ01": "ok"}
    assert not (out / "ZQ01" / "failed").exists()


# --- 3 -------------------------------------------------------------------------------------------


def test_3_resume_redoes_a_report_with_missing_or_changed_outputs(tmp_path):
    out = tmp_path / "out"
    nb = tiny_notebook(tmp_path / "nb.ipynb")
    assert status(batch(out, nb, codes=("ZQ01", "ZQ02"))) == {"ZQ01": "ok", "ZQ02": "ok"}
    assert status(batch(out, nb, codes=("ZQ01", "ZQ02"))) == {"ZQ01": "skipped", "ZQ02": "skipped"}

    (out / "ZQ01" / "figures" / "tiny.png").unlink()  # a lost figure
    html = out / "ZQ02" / "report.html"
    html.write_bytes(html.read_bytes()[: html.stat().st_size // 2])  # a truncated page
    assert status(batch(out, nb, codes=("ZQ01", "ZQ02"))) == {"ZQ01": "ok", "ZQ02": "ok"}
    assert (out / "ZQ01" / "figures" / "tiny.png").is_file()
    m = json.loads((out / "ZQ02" / "manifest.json").read_text())
    assert m["outputs"]["report.html"]["sha256"] == sha256_file(html)
    assert html.read_text().rstrip().endswith("</html>")


# --- 4 -------------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_4_user_supplied_files_enter_the_resume_fingerprint(tmp_path, mirror):
    providers = mirror / "hospital_management" / "data" / "csv" / "nhs_provider.csv"
    supplied = tmp_path / "supplied"
    supplied.mkdir()
    (supplied / "nhs_provider.csv").write_bytes(providers.read_bytes())
    out = tmp_path / "out"
    nb = tiny_notebook(tmp_path / "nb.ipynb")

    first = batch(out, nb, codes=("QVV",), source="real", source_dir=supplied)
    assert status(first) == {"QVV": "ok"}
    # the registry's own bytes, supplied: named, and verified
    listed = {i["source"]: i for i in json.loads((out / "QVV" / "manifest.json").read_text())[
        "inputs"]}  # fmt: skip
    assert listed["hm_providers"]["verified"] is True
    assert status(batch(out, nb, codes=("QVV",), source="real", source_dir=supplied)) == {
        "QVV": "skipped"
    }

    # other bytes under the same name: rebuilt, not "unchanged"
    (supplied / "nhs_provider.csv").write_bytes(providers.read_bytes() + b"\n")
    again = batch(out, nb, codes=("QVV",), source="real", source_dir=supplied)
    assert status(again) == {"QVV": "ok"}
    m = json.loads((out / "QVV" / "manifest.json").read_text())
    entry = next(i for i in m["inputs"] if i["source"] == "hm_providers")
    assert entry["verified"] is False
    assert entry["sha256"] == sha256_file(supplied / "nhs_provider.csv")
    assert [u["source"] for u in again.unverified] == ["hm_providers"]
    # and the registry copy again (no source folder): rebuilt once more
    assert status(batch(out, nb, codes=("QVV",), source="real")) == {"QVV": "ok"}


# --- 5 -------------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_5_demo_and_real_reports_never_share_a_folder_or_an_index(tmp_path, mirror):
    assert batch_mod.default_out("demo") != batch_mod.default_out("real")
    out = tmp_path / "out"
    nb = tiny_notebook(tmp_path / "nb.ipynb")
    assert status(batch(out, nb)) == {"ZQ01": "ok"}
    before = snapshot(out)
    with pytest.raises(OutputPathError, match=r"(?s)synthetic demo reports.*must not mix.*Fix:"):
        batch(out, nb, codes=("QVV",), source="real")
    with pytest.raises(OutputPathError, match="must not mix"):
        batch(out, nb, codes=("ZN01",), footprint=2026)
    assert snapshot(out) == before


def test_5_the_command_line_defaults_to_one_folder_per_source(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from icsresearch.cli import app

    seen = []

    def fake(codes, **kw):
        seen.append(kw)
        return batch_mod.BatchResult(tmp_path, tmp_path / "index.html", [], 0.0, 1)

    monkeypatch.setattr("icsresearch.reports.batch.run_batch", fake)
    for source in ("demo", "real"):
        res = CliRunner().invoke(app, ["reports", "--ics", "X", "--source", source, "-q"])
        assert res.exit_code == 0, res.output
    assert [kw["out"] for kw in seen] == [None, None]  # run_batch picks the per-source default
    assert batch_mod.default_out("demo") == Path("outputs/reports-demo")


# --- 6 -------------------------------------------------------------------------------------------


def test_6_index_escapes_names_and_errors(tmp_path):
    out = tmp_path / "out"
    nb = tiny_notebook(tmp_path / "nb.ipynb", short_name=HOSTILE)
    bad = tiny_notebook(tmp_path / "bad.ipynb", fail="<script>alert(2)</script>")
    batch(out, nb)
    batch(out, bad, codes=("ZQ02",))
    index = (out / "index.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in index
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in index
    assert "<img src=x" not in index and "<script>alert" not in index


@pytest.mark.realdata
def test_6_hostile_trust_name_is_escaped_in_the_real_report_and_the_index(tmp_path, mirror):
    """One real report (about 15 s): a provider file whose trust name is HTML."""
    providers = mirror / "hospital_management" / "data" / "csv" / "nhs_provider.csv"
    supplied = tmp_path / f"files {HOSTILE}"  # its path is shown in the index
    supplied.mkdir()
    lines = []
    for line in providers.read_bytes().split(b"\n"):
        if line.startswith(b"RBD "):  # Dorset County Hospital, in QVV (Dorset) in 2018
            parts = line.split(b",")
            parts[1] = HOSTILE.encode() + b" Trust"
            line = b",".join(parts)
        lines.append(line)
    (supplied / "nhs_provider.csv").write_bytes(b"\n".join(lines))
    out = tmp_path / "out"
    result = run_batch(["QVV"], year=2018, out=out, source_dir=supplied, workers=1, progress=False)
    assert status(result) == {"QVV": "ok"}, result.outcomes
    report = (out / "QVV" / "report.html").read_text()
    index = (out / "index.html").read_text()
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    assert report.count(escaped + " Trust") >= 1, "the trust is in the report's tables"
    assert "<img src=x" not in report and "<img src=x" not in index
    assert escaped in index, "the supplied file's path is listed, escaped"
    assert "nhs_provider.csv" in index


# --- 7 -------------------------------------------------------------------------------------------


def test_7_kernel_files_are_private_and_stale_ones_are_removed(tmp_path):
    run = executor.runtime_dir()
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    base = run.parent
    assert stat.S_IMODE(base.stat().st_mode) == 0o700
    # a folder left by a process that died (kill -9), and one of a live process
    dead_pid = 2**22 + 7
    while executor.pid_alive(dead_pid):
        dead_pid += 1
    host = socket.gethostname()
    stale = base / f"run-{host}-{dead_pid}-abcdef"
    (stale / "kernel-x").mkdir(parents=True)
    (stale / "kernel-x" / "connection.json").write_text('{"key": "secret"}')
    live = base / f"run-{host}-{os.getppid()}-abcdef"
    live.mkdir(exist_ok=True)
    try:
        removed = executor.clean_stale_runtime(base)
        assert stale in removed and not stale.exists()
        assert live.exists() and run.exists()
    finally:
        live.rmdir()

    kernel = executor.PooledKernel("icsresearch", tmp_path / "cwd", {}, warm_up=False)
    try:
        conn = Path(kernel.km.connection_file)
        assert conn.is_relative_to(run) and kernel.km.transport == "ipc"
        info = json.loads(conn.read_text())
        assert info["transport"] == "ipc" and info["ip"].startswith(str(run))
    finally:
        kernel.shutdown()
    assert not conn.parent.exists(), "its sockets and connection file go with the kernel"


def _replication_notebook(folder: Path, fail: bool) -> None:
    """A stand-in for mchugh2021.ipynb that reports how its own kernel is connected."""
    cells = [
        new_code_cell('output_dir = ""\nsource_dir = ""', metadata={"tags": ["parameters"]}),
        new_code_cell(
            "import json\nimport pandas as pd\n"
            "from ipykernel.connect import get_connection_file\n"
            "from icsresearch.replications.runner import write_outputs\n"
            "conn = get_connection_file()\n"
            "info = json.load(open(conn))\n"
            + ("raise RuntimeError('planted replication failure')\n" if fail else "")
            + "write_outputs(output_dir, rep_id='mchugh2021', comparison='ok\\n',\n"
            "    estimates=pd.DataFrame({'conn': [conn], 'transport': [info['transport']]}))"
        ),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "icsresearch", "display_name": "x", "language": "python"}
    nbformat.write(nb, folder / "mchugh2021.ipynb")


def test_7_replicate_runs_on_a_private_ipc_kernel_and_a_failure_keeps_the_outputs(
    tmp_path, monkeypatch, recwarn
):
    import pandas as pd

    from icsresearch.replications.runner import NOTEBOOK_DIR_ENV, run_replication

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    monkeypatch.setenv(NOTEBOOK_DIR_ENV, str(notebooks))
    _replication_notebook(notebooks, fail=False)
    out = tmp_path / "out"
    paths = run_replication("mchugh2021", out)
    est = pd.read_csv(paths["estimates.csv"])
    assert est["transport"].tolist() == ["ipc"]
    assert Path(est["conn"][0]).is_relative_to(executor.runtime_dir())
    assert not [w for w in recwarn if "encrypt" in str(w.message).lower()]
    good = snapshot(out)

    _replication_notebook(notebooks, fail=True)
    with pytest.raises(ReplicationError, match=r"(?s)planted replication failure.*kept.*Fix:"):
        run_replication("mchugh2021", out)
    assert {k: v for k, v in snapshot(out).items() if not k.startswith("failed")} == good
    assert (out / "failed" / "mchugh2021.ipynb").is_file()


# --- 8 -------------------------------------------------------------------------------------------


def _read_only(monkeypatch, folder: Path) -> None:
    """Make ``folder`` read-only for the workbench (root ignores modes: the probe is patched)."""
    real = _atomic._can_write
    monkeypatch.setattr(
        _atomic, "_can_write", lambda f: False if Path(f) == folder.resolve() else real(f)
    )


@pytest.mark.parametrize(
    "case",
    [
        "reports-out-file", "reports-out-read-only", "panel-out-read-only", "demo-out-file",
        "demo-out-read-only", "replicate-out-read-only", "scheduler-malformed",
        "scheduler-unreachable", "notebook-missing", "notebook-not-json", "notebook-no-parameters",
    ],
)  # fmt: skip
def test_8_bad_options_are_one_clear_error_before_anything_is_written(
    case, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    locked = tmp_path / "locked"
    locked.mkdir()
    _read_only(monkeypatch, locked)
    out = tmp_path / "new-out"
    reports = ["reports", "--ics", "ZQ01", "--source", "demo", "-q"]
    plain = new_notebook(cells=[new_code_cell("x = 1")])
    nbformat.write(plain, tmp_path / "plain.ipynb")
    (tmp_path / "text.ipynb").write_text("not json")
    args, option, says = {
        "reports-out-file": ([*reports, "--out", str(a_file)], "--out", "is a file"),
        "reports-out-read-only": ([*reports, "--out", str(locked)], "--out", "read-only"),
        "panel-out-read-only": (
            ["panel", "build", "--source", "demo", "--out", str(locked / "p.csv")],
            "--out",
            "read-only",
        ),
        "demo-out-file": (["demo", "--out", str(a_file)], "--out", "is a file"),
        "demo-out-read-only": (["demo", "--out", str(locked)], "--out", "read-only"),
        "replicate-out-read-only": (
            ["replicate", "mchugh2021", "--out", str(locked / "rep")],
            "--out",
            "read-only",
        ),
        "scheduler-malformed": (
            [*reports, "--out", str(out), "--scheduler", "foo:bar"],
            "--scheduler",
            "not a Dask scheduler address",
        ),
        "scheduler-unreachable": (
            [*reports, "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"],
            "--scheduler",
            "cannot connect",
        ),
        "notebook-missing": (
            [*reports, "--out", str(out), "--notebook", "missing.ipynb"],
            "--notebook",
            "no such notebook file",
        ),
        "notebook-not-json": (
            [*reports, "--out", str(out), "--notebook", "text.ipynb"],
            "--notebook",
            "is not a Jupyter notebook",
        ),
        "notebook-no-parameters": (
            [*reports, "--out", str(out), "--notebook", "plain.ipynb"],
            "--notebook",
            "has no code cell tagged 'parameters'",
        ),
    }[case]
    started = time.perf_counter()
    code, text = cli(monkeypatch, capsys, *args)
    assert code == 1, text
    assert f"error: {option}" in text and says in text and "Fix:" in text, text
    assert "Traceback" not in text
    assert time.perf_counter() - started < 20, "no long connection wait"
    assert not out.exists(), "nothing was written"
    assert list(locked.iterdir()) == [] and a_file.read_text() == "mine"


def test_8_a_server_that_is_not_a_dask_scheduler_fails_fast_before_anything_is_written(tmp_path):
    nb = tiny_notebook(tmp_path / "nb.ipynb")
    out = tmp_path / "out"
    with socket.socket() as server:  # accepts connections (the kernel's backlog), never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        started = time.perf_counter()
        with pytest.raises(InvalidParameterError, match=r"(?s)--scheduler.*no answer.*Fix:"):
            batch(out, nb, scheduler=address, connect_timeout=1)
        assert time.perf_counter() - started < 5
    assert not out.exists()
