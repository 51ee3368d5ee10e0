"""The report batch: outputs, failure isolation, resume, atomic renames, kernel reuse, Dask.

These tests run a small notebook with the report notebook's parameters and summary cell (it
validates the parameters, writes a figure, plants failures or delays for chosen codes and records
state a previous report could have leaked), so the batch machinery is tested in seconds. The full
report notebook is run in ``test_reports_notebook.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from icsresearch.errors import InvalidParameterError, KernelError, UnknownCodeError
from icsresearch.reports import batch as batch_mod
from icsresearch.reports.batch import check_kernel, run_batch
from icsresearch.reports.executor import STAGING

EXE = shutil.which("icsresearch", path=str(Path(sys.executable).parent)) or "icsresearch"
#: np.random.random() right after np.random.seed(123)
SEEDED_123 = 0.6964691855978616


@pytest.fixture(scope="session", autouse=True)
def report_kernel():
    """The batch runs on the "icsresearch" kernel that `make test` registers; never install one."""
    try:
        return check_kernel("icsresearch")
    except KernelError as exc:
        pytest.fail(f"{exc} (`make install` registers it for the test suite)", pytrace=False)


def small_notebook(path: Path, fail=(), sleep_env: str | None = None) -> Path:
    """A report-shaped notebook: parameters, validation, a figure, leak probes, a summary."""
    cells = [
        new_code_cell(
            'ics_code = "ZQ01"\nfootprint = 2022\nsource = "demo"\nyear = 2018\n'
            'method = "headquarters"\nfigures_dir = ""',
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell(
            "from icsresearch.reports.params import validate_report_parameters\n"
            "params = validate_report_parameters(ics_code, footprint=footprint, source=source,"
            " year=year, method=method)"
        ),
        new_code_cell(
            "import os, pathlib, time\n"
            "import numpy as np, pandas as pd, matplotlib\n"
            "probe = {\n"
            "    'global_left': 'LEFT_BY_PREVIOUS' in globals(),\n"
            "    'env_left': os.environ.get('ICSR_TEST_LEAK'),\n"
            "    'max_rows': pd.get_option('display.max_rows'),\n"
            "    'cwd': os.getcwd(),\n"
            "    'random': float(np.random.random()),\n"
            "    'linewidth': matplotlib.rcParams['lines.linewidth'],\n"
            "    'pid': os.getpid(),\n"
            "    'blas_threads': os.environ.get('OPENBLAS_NUM_THREADS'),\n"
            "}\n"
            "LEFT_BY_PREVIOUS = 1\n"
            "os.environ['ICSR_TEST_LEAK'] = params.ics_code\n"
            "pd.set_option('display.max_rows', 3)\n"
            "np.random.seed(123)\n"
            "matplotlib.rcParams['lines.linewidth'] = 9.0\n"
        ),
        new_code_cell(
            "from matplotlib.figure import Figure\n"
            "if figures_dir:\n"
            "    pathlib.Path(figures_dir).mkdir(parents=True, exist_ok=True)\n"
            "    fig = Figure(figsize=(2, 1)); fig.add_subplot().plot([1, 2])\n"
            "    fig.savefig(pathlib.Path(figures_dir) / 'tiny.png')\n"
            "print('report for', params.ics_code)"
        ),
        new_code_cell(
            f"FAIL = {sorted(fail)!r}\n"
            "if params.ics_code in FAIL:\n"
            "    raise RuntimeError(f'planted failure for {params.ics_code}')\n"
            + (
                f"time.sleep(float(os.environ.get({sleep_env!r} + params.ics_code, '0')))\n"
                if sleep_env
                else ""
            )
            + "os.chdir('/')"
        ),
        new_code_cell(
            "from IPython.display import display\n"
            "display({'application/json': {\n"
            "    'parameters': params.as_dict(),\n"
            "    'system': {'icb_code': params.ics_code, 'short_name': 'Sys ' + params.ics_code,\n"
            "               'region_name': 'Region'},\n"
            "    'headline': {'ae_4hr_pct': 90.5, 'england_ae_4hr_pct': 88.0},\n"
            "    'probe': probe, 'synthetic': True, 'inputs': [], 'notes': [],\n"
            "}, 'text/plain': 'summary'}, raw=True)",
            metadata={"tags": ["report-summary"]},
        ),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "icsresearch", "display_name": "x", "language": "python"}
    nbformat.write(nb, path)
    return path


def manifest(out: Path, code: str) -> dict:
    return json.loads((out / code / "manifest.json").read_text())


def probe(out: Path, code: str) -> dict:
    nb = nbformat.read(out / code / "report.ipynb", as_version=4)
    for cell in nb.cells:
        if "report-summary" in cell.metadata.get("tags", []):
            return cell.outputs[0]["data"]["application/json"]["probe"]
    raise AssertionError("no summary")


def test_batch_outputs_are_complete_atomic_and_share_a_clean_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("ICSR_TEST_SLEEP_ZQ01", "2")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    nb = small_notebook(tmp_path / "small.ipynb", sleep_env="ICSR_TEST_SLEEP_")
    out = tmp_path / "out"
    seen_partial, seen_staging = [], []

    def watch():  # while ZQ01 runs, only the staging folder may hold it; its folder appears whole
        while not (out / "index.html").exists():
            final = out / "ZQ01"
            if final.exists():
                names = {p.name for p in final.iterdir()}
                if not {"report.ipynb", "report.html", "manifest.json"} <= names:
                    seen_partial.append(names)
            staging = out / STAGING
            if staging.is_dir() and any(p.name.startswith("ZQ01-") for p in staging.iterdir()):
                seen_staging.append(True)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    result = run_batch(
        ["zq01", "ZQ02", "ZQ01", "ZQ03"],
        source="demo",
        out=out,
        workers=1,
        notebook=nb,
        progress=False,
    )
    watcher.join(timeout=30)
    assert seen_staging and not seen_partial
    codes = ["ZQ01", "ZQ02", "ZQ03"]
    assert [o["code"] for o in result.outcomes] == codes  # deduplicated, in order
    assert result.n_ok == 3 and result.n_failed == 0
    for code in codes:
        folder = out / code
        assert (folder / "figures" / "tiny.png").read_bytes()[:4] == b"\x89PNG"
        html = (folder / "report.html").read_text()
        assert f"report for {code}" in html
        assert "validate_report_parameters" not in html  # code cells are hidden
        assert "probe = {" not in html and "'random'" not in html  # the summary cell too
        executed = nbformat.read(folder / "report.ipynb", as_version=4)
        injected = [
            c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
        ]
        assert len(injected) == 1 and f'ics_code = "{code}"' in injected[0].source
        assert 'figures_dir = "figures"' in injected[0].source  # relative: no staging path
        m = manifest(out, code)
        assert m["status"] == "ok" and m["parameters"]["ics_code"] == code
        assert m["parameters"]["figures_dir"] == "figures"
        assert len(m["fingerprint"]) == 64 and m["fingerprint_parts"]["kernel"] == "icsresearch"
        assert m["git_revision"] and m["environment"]["papermill"] not in ("", "not installed")
        assert m["inputs"][0]["source"] == "icsresearch synthetic demo data"
        assert m["synthetic"] is True  # from the parameters, not from what the notebook printed
        t = m["timings_seconds"]
        assert {"total", "cells", "overhead", "html", "kernel", "reset"} <= set(t)
        assert t["overhead"] == pytest.approx(t["total"] - t["cells"], abs=1e-3)
        assert m["outputs"]["report.html"]["bytes"] == (folder / "report.html").stat().st_size
    index = (out / "index.html").read_text()
    assert all(f'href="{c}/report.html"' in index for c in codes)
    assert "Synthetic demo data" in index and "90.5" in index
    assert not [p for p in (out / STAGING).iterdir() if not p.name.startswith("worker-")]

    # one kernel ran all three reports, and each started clean
    workers = [manifest(out, c)["worker"] for c in codes]
    assert [w["kernel_reused"] for w in workers] == [False, True, True]
    probes = [probe(out, c) for c in codes]
    assert len({p["pid"] for p in probes}) == 1
    for p in probes:
        assert p["global_left"] is False and p["env_left"] is None
        assert p["max_rows"] == 60 and p["linewidth"] != 9.0
        assert p["random"] != pytest.approx(SEEDED_123)
        assert Path(p["cwd"]).name.startswith("worker-")
        assert p["blas_threads"] == "1"  # one report per core: no BLAS pool per kernel
    # the global random state is restored, so every report on the kernel draws the same number
    assert len({p["random"] for p in probes}) == 1

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")  # the user's own setting wins
    fresh = run_batch(
        ["ZQ01", "ZQ02"], source="demo", out=tmp_path / "fresh", workers=1, notebook=nb, fresh_kernels=True,
        progress=False,
    )  # fmt: skip
    assert fresh.n_ok == 2
    assert len({probe(tmp_path / "fresh", c)["pid"] for c in ("ZQ01", "ZQ02")}) == 2
    assert {probe(tmp_path / "fresh", c)["blas_threads"] for c in ("ZQ01", "ZQ02")} == {"3"}


def test_one_failure_never_stops_the_others_and_rerun_skips_unchanged(tmp_path):
    nb = small_notebook(tmp_path / "small.ipynb", fail=("ZQ02",))
    out = tmp_path / "out"
    first = run_batch(
        ["ZQ01", "ZQ02", "ZQ03"], source="demo", out=out, workers=2, notebook=nb, progress=False
    )
    status = {o["code"]: o["status"] for o in first.outcomes}
    assert status == {"ZQ01": "ok", "ZQ02": "failed", "ZQ03": "ok"}
    err = first.outcomes[1]["error"]
    assert "RuntimeError" in err and "planted failure for ZQ02" in err
    # the failed report is complete: notebook with papermill's error banner and the traceback
    executed = nbformat.read(out / "ZQ02" / "report.ipynb", as_version=4)
    assert "papermill-error-cell-tag" in executed.cells[0].metadata.get("tags", [])
    errors = [
        o for c in executed.cells for o in c.get("outputs", []) if o["output_type"] == "error"
    ]
    assert errors and errors[0]["evalue"] == "planted failure for ZQ02"
    html = (out / "ZQ02" / "report.html").read_text()
    assert "planted failure for ZQ02" in html
    assert manifest(out, "ZQ02")["status"] == "failed"
    index = (out / "index.html").read_text()
    assert "1 report(s) failed" in index and "planted failure for ZQ02" in index

    mtime = (out / "ZQ01" / "report.html").stat().st_mtime_ns
    second = run_batch(
        ["ZQ01", "ZQ02", "ZQ03"], source="demo", out=out, workers=2, notebook=nb, progress=False
    )
    status = {o["code"]: o["status"] for o in second.outcomes}
    assert status == {"ZQ01": "skipped", "ZQ02": "failed", "ZQ03": "skipped"}
    assert (out / "ZQ01" / "report.html").stat().st_mtime_ns == mtime
    assert "ok (unchanged)" in (out / "index.html").read_text()

    # a changed parameter, or --force, runs a report again
    third = run_batch(
        ["ZQ01"], year=2017, source="demo", out=out, workers=1, notebook=nb, progress=False
    )
    assert third.outcomes[0]["status"] == "ok"
    assert manifest(out, "ZQ01")["parameters"]["year"] == 2017
    forced = run_batch(
        ["ZQ03"], source="demo", out=out, workers=1, notebook=nb, force=True, progress=False
    )
    assert forced.outcomes[0]["status"] == "ok"
    assert (out / "ZQ03" / "report.html").stat().st_mtime_ns > mtime
    # an edited notebook is a changed input: everything runs again
    small_notebook(nb, fail=())
    edited = run_batch(
        ["ZQ01", "ZQ02"], year=2017, source="demo", out=out, workers=2, notebook=nb, progress=False
    )
    assert [o["status"] for o in edited.outcomes] == ["ok", "ok"]
    assert manifest(out, "ZQ02")["status"] == "ok"
    assert "report(s) failed" not in (out / "index.html").read_text()


def test_a_cell_over_the_timeout_fails_that_report_only(tmp_path, monkeypatch):
    monkeypatch.setenv("ICSR_TEST_SLEEP_ZQ02", "60")
    nb = small_notebook(tmp_path / "small.ipynb", sleep_env="ICSR_TEST_SLEEP_")
    out = tmp_path / "out"
    t0 = time.perf_counter()
    result = run_batch(
        ["ZQ02", "ZQ03"],
        source="demo",
        out=out,
        workers=1,
        notebook=nb,
        cell_timeout=3,
        progress=False,
    )
    assert time.perf_counter() - t0 < 45
    status = {o["code"]: o["status"] for o in result.outcomes}
    assert status == {"ZQ02": "failed", "ZQ03": "ok"}
    assert "ZQ02" in result.failed
    # the interrupted kernel was reused for the next report
    assert manifest(out, "ZQ03")["worker"]["kernel_reused"] is True


def test_interrupted_batch_leaves_no_partial_report_and_resumes(tmp_path):
    nb = small_notebook(tmp_path / "small.ipynb", fail=("ZQ03",), sleep_env="ICSR_TEST_SLEEP_")
    out = tmp_path / "out"
    env = {**os.environ, "ICSR_TEST_SLEEP_ZQ02": "60", "COLUMNS": "200"}
    cmd = [EXE, "reports", "--ics", "ZQ01", "--ics", "ZQ02", "--ics", "ZQ03", "--workers", "1",
           "--source", "demo", "--out", str(out), "--notebook", str(nb), "-q"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        staging = out / STAGING
        running = staging.is_dir() and any(p.name.startswith("ZQ02-") for p in staging.iterdir())
        if (out / "ZQ01" / "manifest.json").is_file() and running:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the batch did not reach the second report")
    time.sleep(1.0)  # ZQ02 is inside its sleeping cell
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert manifest(out, "ZQ01")["status"] == "ok"
    assert not (out / "ZQ02").exists() and not (out / "ZQ03").exists()
    assert "ZQ01/report.html" in (out / "index.html").read_text()

    # resume: ZQ01 is skipped, ZQ02 runs, ZQ03 fails and the exit code says so
    env.pop("ICSR_TEST_SLEEP_ZQ02")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    text = " ".join(done.stdout.split())
    assert "1 report(s) written, 1 unchanged (skipped), 1 failed" in text
    assert "failed ZQ03: RuntimeError: planted failure for ZQ03" in text
    assert manifest(out, "ZQ02")["status"] == "ok"
    assert not [p for p in (out / STAGING).iterdir() if not p.name.startswith("worker-")]


def test_cli_refuses_bad_input_before_running(tmp_path):
    env = {**os.environ, "COLUMNS": "200"}
    bad = subprocess.run(
        [EXE, "reports", "--ics", "ZQ99", "--ics", "QYG", "--source", "demo", "--out",
         str(tmp_path / "x")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "'ZQ99', 'QYG'" in bad.stderr and "ZQ01 (" in bad.stderr
    assert not (tmp_path / "x").exists()  # nothing ran

    both = subprocess.run(
        [EXE, "reports", "--ics", "ZQ01", "--all", "--source", "demo"], env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert both.returncode == 1 and "not both" in both.stderr

    nokernel = subprocess.run(
        [EXE, "reports", "--ics", "ZQ01", "--source", "demo", "--kernel", "no-such-kernel",
         "--out", str(tmp_path / "y")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert nokernel.returncode == 1 and "ipykernel install" in nokernel.stderr

    footprint = subprocess.run(
        [EXE, "reports", "--ics", "ZQ01", "--source", "demo", "--footprint", "2024"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert footprint.returncode == 1 and "Traceback" not in footprint.stderr
    assert "footprint='2024' is not allowed; choose one of 2022, 2026" in footprint.stderr


def test_parameters_are_checked_before_anything_runs(tmp_path):
    with pytest.raises(InvalidParameterError, match="workers=0"):
        run_batch(["ZQ01"], source="demo", out=tmp_path / "o", workers=0)
    with pytest.raises(InvalidParameterError, match="--ics CODE"):
        run_batch(None, source="demo", out=tmp_path / "o")
    with pytest.raises(InvalidParameterError, match="no such notebook"):
        run_batch(["ZQ01"], source="demo", out=tmp_path / "o", notebook=tmp_path / "missing.ipynb")
    with pytest.raises(UnknownCodeError, match="2022 footprint"):  # exists from April 2026 only
        run_batch(["ZN01"], footprint=2022, source="demo", out=tmp_path / "o")
    for flag in ("force", "fresh_kernels", "progress"):  # "no" is not False
        with pytest.raises(InvalidParameterError, match=f"{flag}='no' must be True or False"):
            run_batch(["ZQ01"], source="demo", out=tmp_path / "o", **{flag: "no"})
    with pytest.raises(InvalidParameterError, match="source='Demo' is not allowed"):
        run_batch(["ZQ01"], source="Demo", out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_unknown_codes_are_collected_by_type_and_other_errors_stop_at_once():
    # every unknown code of a request is named in one error, found by its type
    with pytest.raises(UnknownCodeError) as err:
        batch_mod.plan(["ZQ99", "zq01", "QYG", "ZQ98"], source="demo")
    assert err.value.codes == ("ZQ99", "QYG", "ZQ98")
    assert (err.value.footprint, err.value.source) == (2022, "demo")
    assert str(err.value).startswith("'ZQ99', 'QYG', 'ZQ98': not ICS (ICB) codes")
    # a bad year is not an unknown code: it stops the plan with its own message
    with pytest.raises(InvalidParameterError, match="year=2019") as err:
        batch_mod.plan(["ZQ99", "ZQ01"], source="demo", year=2019)
    assert not isinstance(err.value, UnknownCodeError)
    # the error survives the trip to a worker process and back
    import pickle

    again = pickle.loads(pickle.dumps(UnknownCodeError(("X",), 2026, "real", "msg")))
    assert (again.codes, again.footprint, again.source, str(again)) == (("X",), 2026, "real", "msg")


@pytest.mark.realdata
def test_the_batch_reports_on_real_data_unless_told_otherwise(tmp_path):
    with pytest.raises(UnknownCodeError, match=r"\(real data\)") as err:
        run_batch(["ZQ01"], out=tmp_path / "o")
    assert err.value.source == "real"
    assert [p.ics_code for p in batch_mod.plan(["qyg"])] == ["QYG"]


def test_two_batches_cannot_write_into_one_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with (
        batch_mod._batch_lock(out),
        pytest.raises(InvalidParameterError, match="another .*is writing into this folder"),
        batch_mod._batch_lock(out),
    ):
        pass


def test_dask_cluster_runs_the_batch_and_isolates_failures(tmp_path):
    import distributed  # a dependency of the package: never skipped

    nb = small_notebook(tmp_path / "small.ipynb", fail=("ZQ02",))
    out = tmp_path / "out"
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=50,
    ) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        result = run_batch(
            ["ZQ01", "ZQ02", "ZQ03"],
            source="demo",
            out=out,
            scheduler=address,
            notebook=nb,
            progress=False,
        )
        status = {o["code"]: o["status"] for o in result.outcomes}
        assert status == {"ZQ01": "ok", "ZQ02": "failed", "ZQ03": "ok"}
        assert result.scheduler == address and result.workers is None
        workers = [manifest(out, c)["worker"] for c in ("ZQ01", "ZQ03")]
        # the reports ran in the Dask worker process, which reused one kernel
        assert all(w["pid"] != os.getpid() for w in workers)
        assert len({w["pid"] for w in workers}) == 1
        assert sorted(w["kernel_reused"] for w in workers) == [False, True]
        assert manifest(out, "ZQ02")["status"] == "failed"
        assert "ZQ02" in (out / "index.html").read_text()
        again = run_batch(
            ["ZQ01", "ZQ03"], source="demo", out=out, scheduler=address, notebook=nb, progress=False
        )
        assert [o["status"] for o in again.outcomes] == ["skipped", "skipped"]


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    nb = small_notebook(tmp_path / "small.ipynb")
    with pytest.raises(InvalidParameterError, match="cannot connect to a Dask scheduler"):
        run_batch(
            ["ZQ01"], source="demo", out=tmp_path / "o", scheduler="tcp://127.0.0.1:9", notebook=nb,
            progress=False, connect_timeout=2,
        )  # fmt: skip


def test_a_missing_or_broken_kernel_is_a_kernel_error(tmp_path, monkeypatch):
    with pytest.raises(KernelError, match="ipykernel install --sys-prefix --name no-such"):
        check_kernel("no-such")
    spec = tmp_path / "kernels" / "broken"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {"argv": ["/nowhere/bin/python", "-m", "ipykernel", "-f", "{connection_file}"],
             "display_name": "broken", "language": "python"}
        )
    )  # fmt: skip
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    with pytest.raises(KernelError, match="/nowhere/bin/python, which does not exist"):
        check_kernel("broken")


def test_kernel_set_up_code_that_fails_is_a_kernel_error(tmp_path):
    from icsresearch.reports.executor import PooledKernel

    kernel = PooledKernel("icsresearch", tmp_path / "k", {})
    try:
        with pytest.raises(KernelError, match="ZeroDivisionError"):
            kernel.call(kernel.run_code, "1 / 0")
        kernel.call(kernel.run_code, "x = 1")  # the kernel itself is still usable
    finally:
        kernel.shutdown()


def test_a_kernel_whose_reset_fails_is_replaced_not_reused(tmp_path, monkeypatch):
    from icsresearch.reports import executor

    monkeypatch.setattr(executor, "RESET_CODE", "raise RuntimeError('reset broken')")
    nb = small_notebook(tmp_path / "small.ipynb")
    out = tmp_path / "out"
    result = run_batch(
        ["ZQ01", "ZQ02"], source="demo", out=out, workers=1, notebook=nb, progress=False
    )
    assert result.n_ok == 2
    workers = [manifest(out, c)["worker"] for c in ("ZQ01", "ZQ02")]
    assert [w["kernel_reused"] for w in workers] == [False, False]
    assert len({probe(out, c)["pid"] for c in ("ZQ01", "ZQ02")}) == 2


def test_progress_names_each_system_and_stage_and_the_summary_says_where_to_look(tmp_path):
    import io

    from rich.console import Console

    from icsresearch.reports.command import failure_logs, print_summary

    nb = small_notebook(tmp_path / "small.ipynb", fail=("ZQ02",))
    out = tmp_path / "out"
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160, color_system=None)
    result = run_batch(
        ["ZQ01", "ZQ02"], source="demo", out=out, workers=1, notebook=nb, console=console
    )
    shown = screen.getvalue()
    # each report gets a line with its code, its name and its stage while it runs
    assert "ZQ01 Juniperham & Yewmere" in shown and "loading" in shown
    assert "ZQ02 Ivelstow & Umberhithe" in shown
    assert "reports 2/2, 1 failed" in shown

    summary_screen = io.StringIO()
    print_summary(result, Console(file=summary_screen, width=300, color_system=None))
    summary = summary_screen.getvalue()
    logs = failure_logs(result, result.outcomes[1])
    assert logs == [out / "ZQ02" / "report.ipynb", out / "ZQ02" / "manifest.json"]
    assert "1 report(s) written" in summary and "1 failed" in summary
    assert str(logs[0]) in summary and "planted failure for ZQ02" in summary
    assert f"Open the index: {out / 'index.html'}" in summary
    failures = summary.split("Failed reports (1; the others are complete):")[1]
    assert "failed ZQ02: RuntimeError: planted failure for ZQ02" in failures
    assert f"traceback in the failing cell: {logs[0]}" in failures
    assert f"manifest: {logs[1]}" in failures and "ZQ01" not in failures


def test_each_report_announces_loading_executing_exporting_in_order(tmp_path, monkeypatch):
    seen: list[tuple[str, str]] = []
    shown = batch_mod._Progress.stage

    def recording(self, code, stage):
        seen.append((code, stage))
        shown(self, code, stage)

    monkeypatch.setattr(batch_mod._Progress, "stage", recording)
    nb = small_notebook(tmp_path / "small.ipynb")
    run_batch(["ZQ01", "ZQ02"], source="demo", out=tmp_path / "out", workers=1, notebook=nb)
    for code in ("ZQ01", "ZQ02"):
        assert [s for c, s in seen if c == code] == ["loading", "executing", "exporting"]
    from icsresearch.reports import executor

    assert executor._STAGE_LISTENER is None  # nobody listens once the batch is over


def test_progress_records_stages_in_order_even_when_hidden():
    bar = batch_mod._Progress(2, 0, "2 report(s)", False, None, {"ZQ01": "Juniperham"})
    with bar:
        for stage in batch_mod.STAGES:
            bar.stage("ZQ01", stage)
        bar.advance({"code": "ZQ01", "status": "ok"})
    assert bar.history == [
        ("ZQ01", "loading"),
        ("ZQ01", "executing"),
        ("ZQ01", "exporting"),
        ("ZQ01", "ok"),
    ]
    assert (bar.done, bar.failed) == (1, 0)
