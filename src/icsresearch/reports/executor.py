"""Execute one report: papermill parameters, a pooled kernel, HTML, figures, manifest, rename.

:func:`execute_report` is the unit of work of the batch, the same function on local worker threads
and on Dask workers. It takes a :class:`ReportTask` (plain, picklable data) and returns a
:class:`ReportOutcome` as a dict.

Kernels. Starting a kernel and importing the scientific stack costs more than a small report's
own cells, so each worker keeps **one kernel alive across reports** (:class:`KernelPool`): the
kernel is started once with the registered kernel spec (``icsresearch`` by default, never an
implicit default kernel), warmed up, and before every report the constant code
``icsresearch.reports._kernel.reset()`` plus IPython's namespace reset (``%reset -f`` without its
forced garbage collection) clears what a report could leave behind.
A kernel that died, timed out or ran ``max_reports`` reports is replaced. ``fresh_kernel=True``
starts a new kernel per report instead (slower; for notebooks that are not ours).

Parameters reach the notebook only through papermill's injected-parameters cell (validated
values written as literals by papermill); paths are built from validated codes.

Atomic outputs. A report is written into ``DIR/.staging/<code>-<random>/`` and renamed to
``DIR/<code>`` only when complete (an old report is first moved aside, then deleted), so an
interrupted batch never leaves a half-written ``DIR/<code>``.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import KernelError

_LOG = logging.getLogger("icsresearch.reports")

#: Tag of the notebook cell whose output is the machine-readable summary (hidden in the HTML).
SUMMARY_TAG = "report-summary"
SUMMARY_MIME = "application/json"
#: Cell tags whose cells are left out of the HTML report (the inputs of every cell are hidden).
HTML_REMOVE_TAGS = (SUMMARY_TAG, "parameters", "injected-parameters")
#: Folder for reports being written, inside the batch output folder.
STAGING = ".staging"

WARM_UP_CODE = "import icsresearch.reports._kernel as _icsr_kernel\n_icsr_kernel.warm_up()\n"
RESET_CODE = (
    "import icsresearch.reports._kernel as _icsr_kernel\n"
    "_icsr_kernel.reset()\n"
    "get_ipython().reset(new_session=False)\n"
)


@dataclass
class ReportTask:
    """One report to execute (plain data, so it can travel to a Dask worker).

    Attributes
    ----------
    code
        Validated ICS code (the output folder's name).
    parameters
        Validated notebook parameters (``ReportParameters.as_dict()``).
    notebook
        Path of the report notebook.
    out_dir
        The batch output folder (absolute; shared by every worker).
    fingerprint
        Hash of everything the report depends on (see :mod:`icsresearch.reports.batch`).
    fingerprint_parts
        The components of the fingerprint, recorded in the manifest.
    kernel_name
        Registered Jupyter kernel to run on.
    fresh_kernel
        Start a new kernel for this report instead of reusing the worker's.
    cell_timeout
        Seconds a cell may run before it is interrupted (the report then fails).
    env
        Environment variables the kernel must see (``ICSRESEARCH_*``), sent with the task so a
        Dask worker's kernel reads the same data as the client.
    """

    code: str
    parameters: dict[str, Any]
    notebook: str
    out_dir: str
    fingerprint: str
    fingerprint_parts: dict[str, Any] = field(default_factory=dict)
    kernel_name: str = "icsresearch"
    fresh_kernel: bool = False
    cell_timeout: int = 600
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ReportOutcome:
    """What happened to one report.

    Attributes
    ----------
    code
        ICS code.
    status
        ``"ok"``, ``"failed"`` or ``"skipped"`` (unchanged since the last run).
    error
        One line for failures (exception name and message, and the cell).
    summary
        The notebook's machine-readable summary (system name, headline figures...), when
        the summary cell ran.
    timings
        Seconds: ``total`` (task start to renamed output), ``cells`` (sum of the notebook's
        cell durations), ``overhead`` (total - cells), ``kernel`` (start and warm-up, 0 when a
        kernel was reused), ``reset``, ``html``, ``write``.
    worker
        ``host:pid`` that ran it, and how many reports its kernel had run before.
    """

    code: str
    status: str
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    worker: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


# --- the kernel pool ---------------------------------------------------------------------------


class PooledKernel:
    """A kernel and its client, driven from one dedicated thread (their event loop lives there).

    Parameters
    ----------
    kernel_name
        Registered Jupyter kernel.
    cwd
        The kernel's working folder (figures are written to ``cwd/figures``).
    env
        Extra environment variables for the kernel.
    timeout
        Seconds to wait for the kernel to start and warm up.
    """

    def __init__(self, kernel_name: str, cwd: Path, env: dict[str, str], timeout: float = 120):
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.key: tuple = ()
        self.km = self.kc = None
        self.pid: int | None = None
        self.reports_run = 0
        self.started_seconds = 0.0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="icsr-kernel")
        self._log_path = cwd / "kernel.log"
        try:
            self.call(self._start, env, timeout)
        except BaseException:
            self._thread.shutdown(wait=False)
            raise

    def call(self, fn, *args, **kwargs):
        """Run ``fn(*args)`` on the kernel's thread and wait for it."""
        return self._thread.submit(fn, *args, **kwargs).result()

    def _start(self, env: dict[str, str], timeout: float) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        t0 = time.perf_counter()
        self.cwd.mkdir(parents=True, exist_ok=True)
        # IPC sockets: local only, no TCP ports (and no "running over TCP" warning). Socket
        # paths must be short (about 100 bytes), so they live in a private temporary folder.
        self._ipc_dir = Path(tempfile.mkdtemp(prefix="icsr-"))
        km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc")
        km.ip = str(self._ipc_dir / "k")
        self._log = open(self._log_path, "ab")  # noqa: SIM115 - closed in shutdown()
        kernel_env = {**os.environ, **env, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        run_sync(km.start_kernel)(
            cwd=str(self.cwd),
            env=kernel_env,
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
            stdout=self._log,
            stderr=self._log,
        )
        kc = km.client()
        kc.start_channels()
        try:
            run_sync(kc.wait_for_ready)(timeout=timeout)
        except RuntimeError:
            kc.stop_channels()
            run_sync(km.shutdown_kernel)(now=True)
            raise
        self.km, self.kc = km, kc
        self.pid = getattr(km.provisioner, "pid", None)
        self.run_code(WARM_UP_CODE, timeout)
        self.started_seconds = time.perf_counter() - t0

    def run_code(self, code: str, timeout: float = 120) -> None:
        """Run constant code silently (on the kernel thread); :class:`KernelError` if it fails."""
        from jupyter_core.utils import run_sync

        errors: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

        reply = run_sync(self.kc.execute_interactive)(
            code, silent=False, store_history=False, timeout=timeout, output_hook=hook
        )
        if reply["content"]["status"] != "ok" or errors:
            raise KernelError(
                f"The set-up code of the {self.kernel_name!r} kernel failed: "
                f"{'; '.join(errors) or reply}. Check that the kernel runs this icsresearch "
                f"(re-register it: `python -m ipykernel install --sys-prefix --name "
                f"{self.kernel_name}`)."
            )

    def is_alive(self) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(self.call(lambda: run_sync(self.km.is_alive)()))
        except Exception:  # a broken manager counts as dead
            return False

    def kill(self) -> None:
        """Kill the kernel process at once, from any thread (an interrupted batch).

        The thread executing a notebook on it then fails fast with a dead-kernel error.
        """
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)

    def shutdown(self) -> None:
        """Stop the kernel, its client and its thread (safe to call twice)."""
        from jupyter_core.utils import run_sync

        def stop():
            with contextlib.suppress(Exception):
                self.kc.stop_channels()
            with contextlib.suppress(Exception):
                run_sync(self.km.shutdown_kernel)(now=True)
            with contextlib.suppress(Exception):
                run_sync(self.km.cleanup_resources)()
            with contextlib.suppress(Exception):
                self._log.close()
            shutil.rmtree(getattr(self, "_ipc_dir", ""), ignore_errors=True)

        if getattr(self, "km", None) is not None:
            with contextlib.suppress(Exception):
                self.call(stop)
            self.km = None
        self._thread.shutdown(wait=False)


class KernelPool:
    """Idle kernels of this process, keyed by (kernel name, working folder, environment).

    Each caller takes a kernel for one report and gives it back; a worker running reports one
    after another therefore reuses one kernel. Kernels are shut down at process exit.

    Parameters
    ----------
    max_reports
        Reports a kernel runs before it is replaced by a new one.
    """

    def __init__(self, max_reports: int = 200):
        self.max_reports = max_reports
        self._idle: dict[tuple, list[PooledKernel]] = {}
        self._all: list[PooledKernel] = []
        self._lock = threading.Lock()
        atexit.register(self.shutdown)

    def acquire(
        self, kernel_name: str, base: Path, env: dict[str, str], *, reuse: bool = True
    ) -> tuple[PooledKernel, bool]:
        """A warm kernel (``(kernel, True)``) or a newly started one (``(kernel, False)``).

        Parameters
        ----------
        kernel_name
            Registered Jupyter kernel.
        base
            Folder under which a new kernel gets its working folder.
        env
            Extra environment variables (part of the key: kernels never mix settings).
        reuse
            Take an idle kernel when one matches; ``False`` always starts a new one.
        """
        key = (kernel_name, str(base), tuple(sorted(env.items())))
        with self._lock:
            idle = self._idle.setdefault(key, [])
            kernel = idle.pop() if (idle and reuse) else None
        if kernel is not None and kernel.is_alive():
            return kernel, True
        if kernel is not None:
            self.discard(kernel)
        cwd = base / f"worker-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        kernel = PooledKernel(kernel_name, cwd, env)
        kernel.key = key
        with self._lock:
            self._all.append(kernel)
        return kernel, False

    def release(self, kernel: PooledKernel) -> None:
        """Give a kernel back for the next report (or retire it after ``max_reports``)."""
        if kernel.reports_run >= self.max_reports:
            self.discard(kernel)
            return
        with self._lock:
            self._idle.setdefault(kernel.key, []).append(kernel)

    def discard(self, kernel: PooledKernel) -> None:
        """Shut a kernel down and forget it."""
        with self._lock:
            if kernel in self._all:
                self._all.remove(kernel)
        kernel.shutdown()
        with contextlib.suppress(OSError):
            shutil.rmtree(kernel.cwd)

    def kill_all(self) -> None:
        """Kill every kernel now (used when a batch is interrupted)."""
        with self._lock:
            kernels = list(self._all)
        for k in kernels:
            k.kill()

    def shutdown(self) -> None:
        """Shut every kernel down (at exit, or at the end of a local batch)."""
        with self._lock:
            kernels, self._all, self._idle = list(self._all), [], {}
        for k in kernels:
            k.shutdown()
            with contextlib.suppress(OSError):
                shutil.rmtree(k.cwd)


POOL = KernelPool()
#: Set when a batch is interrupted: reports still running are dropped, never renamed into place.
CANCELLED = threading.Event()


# --- executing one report ----------------------------------------------------------------------

_EXPORTERS = threading.local()


def _html_exporter():
    """One nbconvert HTML exporter per thread (its templates load once)."""
    exporter = getattr(_EXPORTERS, "html", None)
    if exporter is None:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor

        exporter = HTMLExporter(
            template_name="lab",
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
        exporter.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags=set(HTML_REMOVE_TAGS), enabled=True),
            enabled=True,
        )
        _EXPORTERS.html = exporter
    return exporter


def _parameterise(task: ReportTask, figures_dir: str):
    """Load the notebook and inject the parameters with papermill (values as literals)."""
    from papermill.execute import prepare_notebook_metadata, remove_error_markers
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(task.notebook)
    params = {**task.parameters, "figures_dir": figures_dir}
    nb = parameterize_notebook(nb, params, kernel_name=task.kernel_name, language="python")
    nb = prepare_notebook_metadata(nb, task.notebook, "report.ipynb")
    return remove_error_markers(nb)


def _run_notebook(kernel: PooledKernel, nb, timeout: int) -> None:
    """Execute ``nb`` in place on ``kernel`` with papermill's client (runs on the kernel thread).

    Papermill's client records each cell's duration and status and stops at the first error,
    keeping the traceback in the failing cell, exactly as the papermill command line does.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NotebookExecutionManager

    nb_man = NotebookExecutionManager(
        nb, output_path=None, progress_bar=False, log_output=False, autosave_cell_every=0
    )
    nb_man.notebook_start()
    try:
        client = PapermillNotebookClient(
            nb_man,
            km=kernel.km,
            kernel_name=kernel.kernel_name,
            timeout=timeout,
            interrupt_on_timeout=True,
            startup_timeout=120,
            log=_LOG,
            log_output=False,
        )
        client.kc = kernel.kc  # reuse the pooled client: no new sockets per report
        client.execute()
    finally:
        nb_man.cleanup_pbar()
        nb_man.notebook_complete()


def _summary_from(nb) -> dict[str, Any]:
    for cell in nb.cells:
        if SUMMARY_TAG in cell.get("metadata", {}).get("tags", []):
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if SUMMARY_MIME in data:
                    value = data[SUMMARY_MIME]
                    return json.loads(value) if isinstance(value, str) else dict(value)
    return {}


def _cell_seconds(nb) -> float:
    return float(
        sum(
            (c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
            for c in nb.cells
            if c.get("cell_type") == "code"
        )
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _swap_into_place(staged: Path, final: Path) -> None:
    """Rename a complete report folder to its final name (the old one is moved aside first)."""
    old = None
    if final.exists():
        old = final.parent / STAGING / f"old-{final.name}-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    os.replace(staged, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _error_line(exc: BaseException) -> str:
    name = getattr(exc, "ename", None) or type(exc).__name__
    value = getattr(exc, "evalue", None)
    if value is None:
        value = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    count = getattr(exc, "exec_count", None)
    where = f" (cell In [{count}])" if count is not None else ""
    return f"{name}: {value}{where}"


def execute_report(task: ReportTask | dict[str, Any]) -> dict[str, Any]:
    """Execute one report and write ``<out_dir>/<code>/`` atomically.

    Writes ``report.ipynb`` (the executed notebook; on failure it is kept with papermill's error
    banner and the failing cell's traceback), ``report.html`` (code hidden), ``figures/`` (PNG plus
    each chart's data) and ``manifest.json`` (parameters, input hashes, versions, git revision,
    timings, output hashes).

    Parameters
    ----------
    task
        A :class:`ReportTask` (or its dict).

    Returns
    -------
    dict
        :meth:`ReportOutcome.as_dict`. Never raises for a failing notebook: the failure is in the
        outcome and the files.
    """
    import nbformat

    if isinstance(task, dict):
        task = ReportTask(**task)
    t_start = time.perf_counter()
    out_dir = Path(task.out_dir)
    staging_root = out_dir / STAGING
    staged = staging_root / f"{task.code}-{uuid.uuid4().hex[:10]}"
    staged.mkdir(parents=True)
    timings: dict[str, float] = {}
    error: str | None = None
    nb = None
    kernel = None
    reused = False
    prior_runs = 0
    try:
        kernel, reused = POOL.acquire(
            task.kernel_name, staging_root, task.env, reuse=not task.fresh_kernel
        )
        t0 = time.perf_counter()
        if reused:
            try:
                kernel.call(kernel.run_code, RESET_CODE)
            except Exception:  # a kernel that cannot be reset is replaced, never used dirty
                POOL.discard(kernel)
                kernel, reused = POOL.acquire(task.kernel_name, staging_root, task.env, reuse=False)
        timings["reset"] = time.perf_counter() - t0 if reused else 0.0
        prior_runs = kernel.reports_run
        timings["kernel"] = 0.0 if reused else kernel.started_seconds
        # The kernel's working folder is fixed; figures go to its "figures" subfolder (the
        # notebook gets the relative path, so the executed notebook shows "figures") and move
        # into the report folder afterwards.
        shutil.rmtree(kernel.cwd / "figures", ignore_errors=True)
        nb = _parameterise(task, "figures")
        try:
            kernel.call(_run_notebook, kernel, nb, task.cell_timeout)
        finally:
            kernel.reports_run += 1
        from papermill.exceptions import PapermillExecutionError
        from papermill.execute import raise_for_execution_errors

        try:
            raise_for_execution_errors(nb, str(staged / "report.ipynb"))
        except PapermillExecutionError as exc:
            error = _error_line(exc)
    except BaseException as exc:  # a dead kernel, a timeout that could not interrupt, ...
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        error = _error_line(exc)
        if kernel is not None:
            POOL.discard(kernel)
            kernel = None
    finally:
        if kernel is not None:
            with contextlib.suppress(FileNotFoundError):
                shutil.move(str(kernel.cwd / "figures"), str(staged / "figures"))
            if task.fresh_kernel or not kernel.is_alive():
                POOL.discard(kernel)
            else:
                POOL.release(kernel)

    # --- write the report folder ----------------------------------------------------------
    t0 = time.perf_counter()
    summary = _summary_from(nb) if nb is not None else {}
    cells = _cell_seconds(nb) if nb is not None else 0.0
    if nb is not None:
        nbformat.write(nb, staged / "report.ipynb")
    t_html = time.perf_counter()
    html_error = None
    if nb is not None:
        try:
            title = f"{task.code} {summary.get('system', {}).get('short_name', '')} - ICS profile"
            body, _ = _html_exporter().from_notebook_node(
                nb, resources={"metadata": {"name": title.strip()}}
            )
            (staged / "report.html").write_text(body, encoding="utf-8")
        except Exception as exc:  # the executed notebook is still kept
            html_error = _error_line(exc)
            error = error or f"HTML export failed: {html_error}"
    timings["html"] = time.perf_counter() - t_html
    status = "ok" if error is None else "failed"
    timings["cells"] = cells
    timings["write"] = time.perf_counter() - t0 - timings["html"]
    timings["total"] = time.perf_counter() - t_start
    timings["overhead"] = timings["total"] - cells
    worker = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "kernel_reused": reused,
        "kernel_reports_before": prior_runs,
        "fresh_kernel": task.fresh_kernel,
    }
    if CANCELLED.is_set():  # interrupted: leave nothing behind for this report
        shutil.rmtree(staged, ignore_errors=True)
        return ReportOutcome(task.code, "interrupted", "batch interrupted").as_dict()
    _write_manifest(task, staged, status, error, summary, timings, worker)
    _swap_into_place(staged, out_dir / task.code)
    outcome = ReportOutcome(task.code, status, error, summary, timings, worker)
    return outcome.as_dict()


def _write_manifest(task, staged: Path, status, error, summary, timings, worker) -> None:
    """The report's manifest: its typed provenance record plus the batch's own facts."""
    from ..provenance import InputFile, Provenance

    outputs = {
        str(p.relative_to(staged)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(staged.rglob("*"))
        if p.is_file()
    }
    synthetic = task.parameters.get("source") == "demo"
    if synthetic:  # generated from a fixed seed: its "input" is the seed and calibration
        inputs = [
            InputFile(
                source="icsresearch synthetic demo data",
                sha256=task.fingerprint_parts.get("inputs"),
                verified=True,
            )
        ]
    else:  # the files the notebook read (profile.input_files: registry name, file name, hash)
        inputs = [
            InputFile(
                source=i.get("source"),
                path=i.get("file"),
                sha256=i.get("sha256"),
                verified=i.get("verified"),
            )
            for i in summary.get("inputs") or []
        ]
    record = Provenance.record(
        synthetic=synthetic,
        inputs=inputs,
        parameters={**task.parameters, "figures_dir": "figures"},
        extra={
            "report": task.code,
            "status": status,
            "error": error,
            "notebook": task.notebook,
            "kernel": task.kernel_name,
            "fingerprint": task.fingerprint,
            "fingerprint_parts": task.fingerprint_parts,
            "headline": summary.get("headline", {}),
            "system": summary.get("system", {}),
            "notes": summary.get("notes", []),
            "timings_seconds": {k: round(v, 4) for k, v in timings.items()},
            "worker": worker,
            "outputs": outputs,
        },
    ).to_dict()
    # plain write: the staging folder is private until it is renamed into place
    text = json.dumps(record, indent=2, default=str) + "\n"
    (staged / "manifest.json").write_text(text, encoding="utf-8")
