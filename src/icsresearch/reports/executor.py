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

Atomic outputs. A report is written into ``DIR/.icsresearch-staging/<code>-<random>/`` and
renamed to ``DIR/<code>`` only when complete (an old report is first moved aside, then deleted),
so an interrupted batch never leaves a half-written ``DIR/<code>``. A failed report never
replaces a good one: the failed attempt goes to ``DIR/<code>/failed/`` beside the last good
report. (The batch checks beforehand that ``DIR/<code>`` holds nothing icsresearch did not
write.)

Private kernel files. Kernel connection files (which hold the kernel's signing key) and IPC
sockets live in a folder private to this process (mode 0700,
``$TMPDIR/icsresearch-<uid>/run-<host>-<pid>-<random>``), removed at exit; folders left by a
process that was killed are removed by the next process that starts a kernel (:func:`runtime_dir`).

HTML. Values from data files reach the HTML only escaped: the report's tables and Markdown escape
them where they are formatted (:mod:`icsresearch.reports.display`), and the exporter renders no
raw HTML from any Markdown output (:func:`html_exporter`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
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

from .._atomic import sha256_file
from ..errors import KernelError

_LOG = logging.getLogger("icsresearch.reports")

#: Tag of the notebook cell whose output is the machine-readable summary (hidden in the HTML).
SUMMARY_TAG = "report-summary"
SUMMARY_MIME = "application/json"
#: Cell tags whose cells are left out of the HTML report (the inputs of every cell are hidden).
HTML_REMOVE_TAGS = (SUMMARY_TAG, "parameters", "injected-parameters")
#: Folder for reports being written, inside the batch output folder.
STAGING = ".icsresearch-staging"
#: Where a failed attempt is kept when the report folder holds a good report.
FAILED = "failed"

#: Thread pools of numerical libraries in each report kernel: one thread, unless the user's
#: environment says otherwise. The batch already runs one report per core; a BLAS or OpenMP pool
#: per kernel would oversubscribe the cores (OpenBLAS threads also spin while they wait), which
#: cost about 4% of the demo batch's wall time with 2 workers on 2 cores. Dask's nanny gives its
#: workers the same defaults.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

WARM_UP_CODE = "import icsresearch.reports._kernel as _icsr_kernel\n_icsr_kernel.warm_up()\n"
RESET_CODE = (
    "import icsresearch.reports._kernel as _icsr_kernel\n"
    "_icsr_kernel.reset()\n"
    "get_ipython().reset(new_session=False)\n"
    # the reset emptied the namespace: import again, settle, and leave nothing behind
    "import icsresearch.reports._kernel as _icsr_kernel\n"
    "_icsr_kernel.settle()\n"
    "del _icsr_kernel\n"
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
    supplied
        User-supplied files (``ICSRESEARCH_SOURCE_DIR``) that replace registry files: ``source``,
        ``path``, ``sha256``, ``verified``. The manifest lists them among the inputs even when the
        notebook fails before it reports what it read.
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
    supplied: list[dict[str, Any]] = field(default_factory=list)


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
    folder
        Where this attempt's files are, relative to the output folder: ``"<code>"``, or
        ``"<code>/failed"`` for a failed attempt kept beside the last good report; ``None`` when
        nothing was written.
    """

    code: str
    status: str
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    worker: dict[str, Any] = field(default_factory=dict)
    folder: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


# --- private kernel files ------------------------------------------------------------------------

_RUNTIME_LOCK = threading.Lock()
_RUNTIME: dict[str, Path] = {}
#: ``run-<host>-<pid>-<random>``: a process's private folder for kernel files.
_RUN_NAME = re.compile(r"^run-(?P<host>.+)-(?P<pid>\d+)-[A-Za-z0-9_]{6,}$")


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine with id ``pid`` still runs (another user's counts).

    Parameters
    ----------
    pid
        The process id recorded by a worker or a batch.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _runtime_base() -> Path | None:
    """``$TMPDIR/icsresearch-<uid>``, mode 0700 and ours; None when that cannot be guaranteed."""
    base = Path(tempfile.gettempdir()) / f"icsresearch-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(base)
    except OSError:
        return None
    import stat

    # someone else's folder, or one others can write into, is never used for kernel keys
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return base


def clean_stale_runtime(base: Path | None = None) -> list[Path]:
    """Remove the private kernel folders of processes on this host that no longer run.

    A batch killed hard (``kill -9``, a power cut) cannot remove its kernels' connection files
    and sockets; the next process that starts a kernel removes them here.

    Parameters
    ----------
    base
        The folder holding the per-process folders (default ``$TMPDIR/icsresearch-<uid>``).

    Returns
    -------
    list of Path
        The folders removed.
    """
    base = base if base is not None else _runtime_base()
    removed: list[Path] = []
    if base is None or not base.is_dir():
        return removed
    host = socket.gethostname()
    for entry in base.iterdir():
        m = _RUN_NAME.match(entry.name)
        if not m or m["host"] != host or int(m["pid"]) == os.getpid():
            continue
        if not pid_alive(int(m["pid"])) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def runtime_dir() -> Path:
    """This process's private folder (mode 0700) for kernel connection files and IPC sockets.

    Created on first use, after removing the folders of dead processes
    (:func:`clean_stale_runtime`), and removed at exit. Each kernel gets its own subfolder.
    """
    key = f"{os.getpid()}"
    with _RUNTIME_LOCK:
        path = _RUNTIME.get(key)
        if path is not None and path.is_dir():
            return path
        base = _runtime_base()
        if base is not None:
            clean_stale_runtime(base)
            prefix = f"run-{socket.gethostname()}-{os.getpid()}-"
            path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))  # mkdtemp: mode 0700
        else:  # an unusable shared folder: a private random folder of its own
            path = Path(tempfile.mkdtemp(prefix="icsresearch-run-"))
        _RUNTIME[key] = path
        atexit.register(shutil.rmtree, path, True)
        return path


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
    log_path
        Where the kernel's stdout and stderr go (default ``cwd/kernel.log``).
    warm_up
        Run the report warm-up (imports and the state :mod:`._kernel` restores between reports).
    """

    def __init__(
        self,
        kernel_name: str,
        cwd: Path,
        env: dict[str, str],
        timeout: float = 120,
        *,
        log_path: Path | None = None,
        warm_up: bool = True,
    ):
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.key: tuple = ()
        self.km = self.kc = None
        self.pid: int | None = None
        self.reports_run = 0
        self.started_seconds = 0.0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="icsr-kernel")
        self._log_path = log_path or cwd / "kernel.log"
        self._warm_up = warm_up
        try:
            self.call(self._start, env, timeout)
        except BaseException:
            self._thread.shutdown(wait=False)
            with contextlib.suppress(Exception):
                self._log.close()
            shutil.rmtree(getattr(self, "_ipc_dir", ""), ignore_errors=True)
            raise

    def call(self, fn, *args, **kwargs):
        """Run ``fn(*args)`` on the kernel's thread and wait for it."""
        return self._thread.submit(fn, *args, **kwargs).result()

    def _start(self, env: dict[str, str], timeout: float) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        t0 = time.perf_counter()
        self.cwd.mkdir(parents=True, exist_ok=True)
        # IPC sockets: local only, no TCP ports (and no "running over TCP" warning). The
        # connection file holds the kernel's signing key: it and the sockets (whose paths must be
        # short, about 100 bytes) live in this process's private folder, never loose in /tmp.
        self._ipc_dir = Path(tempfile.mkdtemp(prefix="kernel-", dir=runtime_dir()))
        km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc")
        km.ip = str(self._ipc_dir / "k")
        km.connection_file = str(self._ipc_dir / "connection.json")
        self._log = open(self._log_path, "ab")  # noqa: SIM115 - closed in shutdown()
        kernel_env = {
            **SINGLE_THREAD_ENV,
            **os.environ,
            **env,
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
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
        if self._warm_up:
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

#: Who hears which stage a report is in (the batch's progress display); ``None`` when nobody asks.
#: Module state because the executor runs on the batch's own threads; Dask workers run in other
#: processes, where nobody listens and the batch shows the report as running until it returns.
_STAGE_LISTENER: Any = None


def set_stage_listener(listener) -> None:
    """Call ``listener(code, stage)`` as each report enters a stage (``None`` stops it).

    Parameters
    ----------
    listener
        A callable taking the ICS code and one of ``"loading"``, ``"executing"``,
        ``"exporting"``, or ``None``.
    """
    global _STAGE_LISTENER
    _STAGE_LISTENER = listener


def _stage(code: str, stage: str) -> None:
    listener = _STAGE_LISTENER
    if listener is not None:
        with contextlib.suppress(Exception):  # a display problem never fails a report
            listener(code, stage)


# --- executing one report ----------------------------------------------------------------------

_EXPORTERS = threading.local()


def escape_markdown_html(nb) -> Any:
    """Make every Markdown *output* of a notebook render no raw HTML (in place; returns it).

    Markdown a notebook displays is built from data (trust and system names...); nbconvert
    renders raw HTML inside Markdown as live HTML. Escaping each ``<`` (the only character that
    opens a tag or a comment) makes any tag in such text show as text, whatever the cell that
    displayed it forgot to escape. The notebook's own Markdown cells, authored text, are left
    alone.

    Parameters
    ----------
    nb
        A notebook node.
    """
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            text = data.get("text/markdown")
            if isinstance(text, list):
                text = "".join(text)
            if isinstance(text, str) and "<" in text:
                data["text/markdown"] = text.replace("<", "&lt;")
    return nb


def html_exporter(*, hide_code: bool = True, remove_tags=HTML_REMOVE_TAGS):
    """An nbconvert HTML exporter that renders no raw HTML from Markdown outputs.

    Used for the reports and the replications alike (:func:`escape_markdown_html` runs as a
    preprocessor on the exporter's copy of the notebook).

    Parameters
    ----------
    hide_code
        Leave the cells' code and prompts out (the reports).
    remove_tags
        Cells with these tags are left out of the HTML.
    """
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

    class _EscapeMarkdownOutputs(Preprocessor):
        def preprocess(self, nb, resources):
            return escape_markdown_html(nb), resources

    options = (
        {"exclude_input": True, "exclude_input_prompt": True, "exclude_output_prompt": True}
        if hide_code
        else {}
    )
    exporter = HTMLExporter(template_name="lab", **options)
    if remove_tags:
        exporter.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags=set(remove_tags), enabled=True), enabled=True
        )
    exporter.register_preprocessor(_EscapeMarkdownOutputs(enabled=True), enabled=True)
    return exporter


def _html_exporter():
    """One report HTML exporter per thread (its templates load once)."""
    exporter = getattr(_EXPORTERS, "html", None)
    if exporter is None:
        exporter = _EXPORTERS.html = html_exporter()
    return exporter


def parameterise(notebook: str | Path, parameters: dict[str, Any], kernel_name: str, output: str):
    """Load a notebook and inject parameters with papermill (values written as literals).

    Parameters
    ----------
    notebook
        The notebook file.
    parameters
        Values for its ``parameters`` cell.
    kernel_name
        The kernel it will run on (recorded in its metadata).
    output
        The executed notebook's file name (recorded in its metadata).
    """
    from papermill.execute import prepare_notebook_metadata, remove_error_markers
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(notebook))
    nb = parameterize_notebook(nb, parameters, kernel_name=kernel_name, language="python")
    nb = prepare_notebook_metadata(nb, str(notebook), output)
    return remove_error_markers(nb)


def _parameterise(task: ReportTask, figures_dir: str):
    """The report notebook with the task's parameters injected."""
    params = {**task.parameters, "figures_dir": figures_dir}
    return parameterise(task.notebook, params, task.kernel_name, "report.ipynb")


def run_notebook(kernel: PooledKernel, nb, timeout: int | None, log_output: bool = False) -> None:
    """Execute ``nb`` in place on ``kernel`` (its kernel thread), as papermill would.

    Parameters
    ----------
    kernel
        A started kernel (:class:`PooledKernel`).
    nb
        A parameterised notebook (:func:`parameterise`).
    timeout
        Seconds a cell may run (``None``: no limit).
    log_output
        Stream the cells' output to the log.
    """
    kernel.call(_run_notebook, kernel, nb, timeout, log_output)


def _run_notebook(kernel: PooledKernel, nb, timeout: int | None, log_output: bool = False) -> None:
    """Execute ``nb`` in place on ``kernel`` with papermill's client (runs on the kernel thread).

    Papermill's client records each cell's duration and status and stops at the first error,
    keeping the traceback in the failing cell, exactly as the papermill command line does.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NotebookExecutionManager

    nb_man = NotebookExecutionManager(
        nb, output_path=None, progress_bar=False, log_output=log_output, autosave_cell_every=0
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
            log_output=log_output,
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
    return sha256_file(path)


def _swap_into_place(staged: Path, final: Path, staging_root: Path) -> None:
    """Rename a complete folder to its final name (the old one is moved aside first)."""
    old = None
    if final.exists():
        code = final.parent.name if final.name == FAILED else final.name
        old = staging_root / f"old-{code}-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    os.replace(staged, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _holds_good_report(folder: Path) -> bool:
    try:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and m.get("status") == "ok"


def place_report(staged: Path, out_dir: Path, code: str, status: str) -> str:
    """Move a finished report from staging to ``out_dir/code``, never over a good report.

    A successful report replaces whatever was there. A failed one replaces a failed one, but
    beside a good report it goes to ``out_dir/code/failed/``: the last good report stays until
    a new one succeeds.

    Parameters
    ----------
    staged
        The complete report folder in the staging area.
    out_dir
        The batch output folder.
    code
        The report's code.
    status
        ``"ok"`` or ``"failed"``.

    Returns
    -------
    str
        Where the report went, relative to ``out_dir``.
    """
    final = out_dir / code
    staging_root = out_dir / STAGING
    if status != "ok" and _holds_good_report(final):
        _swap_into_place(staged, final / FAILED, staging_root)
        return f"{code}/{FAILED}"
    _swap_into_place(staged, final, staging_root)
    return code


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
    timings, output hashes). A failed report beside a good one goes to ``<code>/failed/``
    (:func:`place_report`).

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
    _stage(task.code, "loading")
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
        _stage(task.code, "executing")
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
    _stage(task.code, "exporting")
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
    folder = place_report(staged, out_dir, task.code, status)
    outcome = ReportOutcome(task.code, status, error, summary, timings, worker, folder)
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
        # a user-supplied file is named by its full path (the notebook only knows its name)
        where = {(i.get("source"), i.get("sha256")): i.get("path") for i in task.supplied}
        inputs = [
            InputFile(
                source=i.get("source"),
                path=where.get((i.get("source"), i.get("sha256")))
                or i.get("path")
                or i.get("file"),
                sha256=i.get("sha256"),
                verified=i.get("verified"),
            )
            for i in summary.get("inputs") or []
        ]
        # user-supplied files replace registry files for the whole kernel: listed even when
        # the notebook failed before it said what it read
        named = {(i.source, i.sha256) for i in inputs}
        inputs += [
            InputFile(
                source=i.get("source"),
                path=i.get("path"),
                sha256=i.get("sha256"),
                verified=i.get("verified"),
            )
            for i in task.supplied
            if (i.get("source"), i.get("sha256")) not in named
        ]
    unverified = [
        {"source": i.source, "path": i.path, "sha256": i.sha256}
        for i in inputs
        if i.verified is not True
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
            "unverified_inputs": unverified,
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
