"""JupyterLab on the project's kernel: the server lists ``icsresearch`` and runs the first notebook.

What a new user does after ``make lab``, checked end to end:

* a JupyterLab server started the way ``make lab`` starts it (``jupyter lab`` from the
  environment's ``bin``, ``--notebook-dir=notebooks``; here on loopback with a random token and
  port) answers ``/api/kernelspecs`` with the ``icsresearch`` kernel, serves the Lab page and
  shows the notebooks;
* ``01-getting-started.ipynb``, fetched from the server, runs top to bottom on a kernel the server
  starts (a session over the REST API, cells sent over the kernel's websocket, as Lab does), with
  its report written to a temporary folder (the value is injected after the ``parameters`` cell,
  as papermill does);
* every notebook under ``notebooks/`` is collected by nbval (so ``make test`` runs it) and is
  stored without outputs, on the ``icsresearch`` kernel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GETTING_STARTED = "01-getting-started.ipynb"
KERNEL = "icsresearch"
#: Seconds to wait for the server to answer, and for any one notebook cell.
SERVER_TIMEOUT = 90
CELL_TIMEOUT = 300
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _notebook_files() -> list[Path]:
    return sorted(
        p.relative_to(ROOT)
        for p in NOTEBOOKS.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


# --- the notebooks on disk -------------------------------------------------------------------------


def test_the_user_facing_notebooks_exist():
    names = {p.name for p in _notebook_files()}
    for name in (
        GETTING_STARTED,
        "02-ics-variation.ipynb",
        "03-panel-econometrics.ipynb",
        "04-ics-era.ipynb",
    ):
        assert name in names


@pytest.mark.parametrize("path", _notebook_files(), ids=str)
def test_notebook_is_stored_clean_on_the_project_kernel(path: Path):
    nb = json.loads((ROOT / path).read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == KERNEL, (
        f"{path}: kernelspec {nb['metadata'].get('kernelspec')}; select Python (icsresearch)"
    )
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"{path}: cells {dirty} have outputs; clear them before committing "
        "(`jupyter nbconvert --clear-output --inplace NOTEBOOK`)"
    )


def test_nbval_collects_every_notebook():
    """``make test`` runs pytest over ``notebooks/`` with nbval: no notebook may be left out."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + [str(ROOT / "notebooks")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    collected = {
        Path(line.split("::", 1)[0]) for line in out.stdout.splitlines() if ".ipynb::" in line
    }
    assert collected == set(_notebook_files()), out.stdout[-2000:]


# --- the server ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter() -> list[str]:
    """``jupyter`` from this environment, as ``make lab`` runs ``$(BIN)/jupyter``."""
    exe = Path(sys.executable).with_name("jupyter")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "jupyter"]


class LabServer:
    """A running JupyterLab server: base URL, token, and an authorised requests session."""

    def __init__(self, url: str, token: str, log: Path):
        self.url = url
        self.token = token
        self.log = log
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {token}"

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.url + path, timeout=30, **kw)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on loopback, shut down (and if need be killed) however the tests end."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    port, token = _free_port(), secrets.token_hex(24)
    env = {
        **os.environ,
        # keep Lab's state out of the user's home: runtime files, workspaces, settings
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
    }
    log = tmp / "server.log"
    cmd = _jupyter() + [
        "lab",
        f"--notebook-dir={NOTEBOOKS}",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=",  # no network calls from the test server
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
        cmd.append("--allow-root")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}", token, log)
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{server.log_tail()}")
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                if server.get("/api/kernelspecs").status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"jupyter lab did not answer in {SERVER_TIMEOUT} s:\n{server.log_tail()}"
                )
            time.sleep(0.5)
        yield server
    finally:
        with contextlib.suppress(requests.RequestException):
            server.http.post(server.url + "/api/shutdown", timeout=10)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.mark.slow
def test_lab_lists_the_project_kernel_and_the_notebooks(lab):
    specs = lab.get("/api/kernelspecs").json()
    assert KERNEL in specs["kernelspecs"], sorted(specs["kernelspecs"])
    spec = specs["kernelspecs"][KERNEL]["spec"]
    assert spec["display_name"] == "Python (icsresearch)"
    assert spec["language"] == "python"
    # The kernel runs this environment's interpreter (registered with --sys-prefix).
    # (parent directories resolved, not the interpreter: a venv's python is a symlink)
    assert Path(spec["argv"][0]).parent.parent.resolve() == Path(sys.prefix).resolve()

    page = lab.get("/lab")
    assert page.status_code == 200 and "JupyterLab" in page.text  # the Lab UI, not a bare server

    listing = lab.get("/api/contents/").json()  # the server's root is notebooks/
    names = {item["name"] for item in listing["content"]}
    assert {GETTING_STARTED, "02-ics-variation.ipynb", "03-panel-econometrics.ipynb"} <= names


# --- running a notebook through the server ------------------------------------------------------


class KernelChannel:
    """The websocket Lab uses to talk to a kernel: send requests, gather replies and outputs."""

    def __init__(self, lab: LabServer, kernel_id: str):
        import websocket  # websocket-client, a jupyter_server dependency

        self.session = uuid.uuid4().hex
        url = lab.url.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
        self.ws = websocket.create_connection(
            f"{url}?session_id={self.session}",
            header=[f"Authorization: token {lab.token}"],
            timeout=CELL_TIMEOUT,
        )

    def close(self) -> None:
        self.ws.close()

    def request(self, msg_type: str, content: dict, channel: str = "shell") -> str:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "test",
            "session": self.session,
            "date": dt.datetime.now(dt.UTC).isoformat(),
            "version": "5.3",
        }
        msg = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
        self.ws.send(json.dumps(msg))
        return msg_id

    def wait(self, msg_id: str, reply_type: str) -> tuple[dict, list[dict]]:
        """The shell reply to ``msg_id`` and its iopub outputs, once the kernel is idle again."""
        reply, outputs, idle = None, [], False
        deadline = time.monotonic() + CELL_TIMEOUT
        while reply is None or not idle:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {reply_type} within {CELL_TIMEOUT} s")
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if msg["channel"] == "shell" and kind == reply_type:
                reply = msg["content"]
            elif kind == "status":
                idle = msg["content"]["execution_state"] == "idle"
            elif kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append({"msg_type": kind, **msg["content"]})
        return reply, outputs

    def execute(self, code: str) -> list[dict]:
        msg_id = self.request(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        reply, outputs = self.wait(msg_id, "execute_reply")
        if reply["status"] != "ok":
            trace = _ANSI.sub("", "\n".join(reply.get("traceback", [])))
            raise AssertionError(f"{reply.get('ename')}: {reply.get('evalue')}\n{trace}")
        return outputs


@pytest.mark.slow
def test_getting_started_runs_top_to_bottom_on_the_server_kernel(lab, tmp_path):
    model = lab.get(f"/api/contents/{GETTING_STARTED}", params={"content": 1}).json()
    cells = model["content"]["cells"]
    assert model["content"]["metadata"]["kernelspec"]["name"] == KERNEL

    # A notebook session, as Lab opens one: the kernel starts in notebooks/.
    started = lab.http.post(
        lab.url + "/api/sessions",
        json={
            "path": GETTING_STARTED,
            "name": GETTING_STARTED,
            "type": "notebook",
            "kernel": {"name": KERNEL},
        },
        timeout=60,
    )
    assert started.status_code == 201, started.text
    session = started.json()
    assert session["kernel"]["name"] == KERNEL
    channel = KernelChannel(lab, session["kernel"]["id"])
    report_dir = tmp_path / "reports"
    results: list[tuple[str, list[dict]]] = []
    try:
        info, _ = channel.wait(channel.request("kernel_info_request", {}), "kernel_info_reply")
        assert info["language_info"]["name"] == "python"
        for i, cell in enumerate(cells):
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            try:
                results.append((source, channel.execute(source)))
                if "parameters" in cell.get("metadata", {}).get("tags", []):
                    channel.execute(f"report_dir = {str(report_dir)!r}")  # as papermill injects
            except AssertionError as exc:
                pytest.fail(f"{GETTING_STARTED}, code cell {i} failed:\n{source}\n\n{exc}")
    finally:
        channel.close()
        lab.http.delete(lab.url + f"/api/sessions/{session['id']}", timeout=30)

    def text(outputs):
        return "".join(o.get("text", "") for o in outputs if o["msg_type"] == "stream")

    def data(outputs, mime):
        return [o["data"][mime] for o in outputs if mime in o.get("data", {})]

    # The kernel ran this environment's interpreter, from notebooks/.
    first = text(results[0][1])
    interpreter = re.search(r"interpreter: (\S+)", first).group(1)
    assert Path(interpreter).parent.parent.resolve() == Path(sys.prefix).resolve()
    # The demo panel says it is synthetic.
    assert "synthetic: True" in "".join(text(o) for _, o in results)
    # A regression result renders as an HTML table with its terms.
    fitted = next(o for src, o in results if "fit(acute, formula" in src)
    html = data(fitted, "text/html")
    assert html and "<table" in html[0] and "management_score" in html[0]
    # Figures: the trend, funnel and SPC charts, and a figure from the report.
    pngs = sum(len(data(o, "image/png")) for _, o in results)
    assert pngs >= 4
    # The report ran with papermill into the injected folder and succeeded.
    manifest = json.loads((report_dir / "ZQ01" / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert (report_dir / "ZQ01" / "report.html").stat().st_size > 10_000
    assert (report_dir / "index.html").is_file()
