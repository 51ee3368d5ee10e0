"""Benchmark: panel fits clustered by entity from 200 x 10 to 20,000 x 20, icsresearch against
pyfixest and linearmodels: wall time, peak memory, and agreement of the numbers.

Usage (from the repository root)::

    .venv/bin/python bench/bench_panel_scale.py                          # library thread defaults
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_panel_scale.py   # one BLAS thread
    .venv/bin/python bench/bench_panel_scale.py --busy 2 --no-memory     # on a busy machine
    .venv/bin/python bench/bench_panel_scale.py --sizes 200x10 --no-memory --no-write  # quick look

The data are simulated balanced panels (``simulate``): ``y = x1 - 0.5 x2 + a_i + g_t + e`` with
entity effects ``a_i``, period effects ``g_t``, ``x1`` correlated with the entity effect and ``x2``
with the period effect; columns ``entity``, ``period`` (integers), ``x1``, ``x2``, ``y``. Three
specifications, each clustered by entity, in each library:

* ``within two-way``: ``fit(model="within", effects="twoways")``, ``feols("y ~ x1 + x2 | entity
  + period")``, ``PanelOLS(entity_effects=True, time_effects=True)``;
* ``within entity``: ``fit(model="within", effects="entity")``, ``feols("y ~ x1 + x2 |
  entity")``, ``PanelOLS(entity_effects=True)``;
* ``pooled``: ``fit(model="pooled")``, ``feols("y ~ x1 + x2")``, ``PooledOLS`` with a constant;

with ``vcov="CRV1", cluster="entity"``, ``vcov={"CRV1": "entity"}`` and
``fit(cov_type="clustered", cluster_entity=True)`` respectively: each library's default
small-sample convention. Every fit starts from the same flat DataFrame (linearmodels' time
includes the ``set_index`` it needs).

**Time**: the median wall time over rounds; each round fits every library once, in an order that
rotates from round to round, after one warm-up fit each (imports, caches, pyfixest's JIT).

**Memory**: the peak resident memory of one fit above the memory in use just before it, in a
fresh subprocess per library, specification and size. The subprocess imports the library, builds
the data, fits a tiny panel once (lazy imports, JIT), collects garbage and returns freed heap
memory to the system (``malloc_trim``), reads its resident memory (``VmRSS``), resets the kernel's
high-water mark (``/proc/self/clear_refs``), fits, and reads the high-water mark (``VmHWM``). The
resident size counts what ``tracemalloc`` misses (BLAS buffers, numba, Arrow, pandas' C
allocations); resetting the mark keeps the peak of building the data out of it. Without
``clear_refs`` the worker falls back to ``ru_maxrss`` minus the baseline (the JSON says which).

**Busy machine** (``--busy N``): N extra processes spin in a Python loop while the fits are timed,
as other work does on a shared 2-core machine; that is where multithreaded BLAS hurt (its worker
threads compete for the cores). The run is stored under its own key.

**Checks** (each size and specification; relative differences, tolerance 1e-8):

* coefficients: all three libraries;
* standard errors, where the conventions are the same: icsresearch ``convention="stata"`` and
  pyfixest's default CRV1 are both ``G/(G-1) (N-1)/(N-K)`` with fixest's ``K`` (slopes, plus the
  fixed effects not nested in the clusters, plus one per nested dimension); with no small-sample
  factor (icsresearch ``small_sample="none"``, pyfixest ``ssc(k_adj=False, G_adj=False)``) both are
  the CR0 sandwich, and linearmodels' default clustered covariance is that sandwich times
  ``N/(N-k)``, ``k`` the regressors plus, unless every absorbed effect is nested in the
  clusters, all absorbed effects (its ``auto_df`` rule). icsresearch's default
  (``convention="plm"``, R plm ``vcovHC(type = "sss")``) is CR0 times ``G/(G-1) (N-1)/(N-K)``
  with ``K`` the slopes only (see ``docs/inference.md``), so its standard errors are a little
  smaller than pyfixest's for within models.

Results: a table with the ratios ours / pyfixest and ours / linearmodels, and
``bench/results/panel_scale.json``, whose ``runs`` hold one entry per threading setting (``default``
when no ``*_NUM_THREADS`` variable is set), with load averages and versions.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from bench_collapsed_glm import THREAD_VARS  # the thread variables a run records (this folder)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "panel_scale.json"
SIZES = ((200, 10), (2_000, 20), (20_000, 20))
SPECS = ("within two-way", "within entity", "pooled")
LIBRARIES = ("icsresearch", "pyfixest", "linearmodels")
#: Timed rounds per size: fewer for the large panels, where linearmodels takes about a second.
ROUNDS = {200: 41, 2_000: 21, 20_000: 9}
TOLERANCE = 1e-8
SLOPES = ("x1", "x2")

Fit = Callable[[], tuple[pd.Series, pd.Series]]


def simulate(n_entities: int, n_periods: int, seed: int = 20240516) -> pd.DataFrame:
    """A balanced panel with entity and period effects (see the module docstring)."""
    rng = np.random.default_rng(seed)
    entity = np.repeat(np.arange(n_entities), n_periods)
    period = np.tile(np.arange(2000, 2000 + n_periods), n_entities)
    entity_effect = rng.normal(size=n_entities)[entity]
    period_effect = rng.normal(size=n_periods)[period - 2000]
    x1 = 0.5 * entity_effect + rng.normal(size=entity.size)
    x2 = 0.3 * period_effect + rng.normal(size=entity.size)
    y = x1 - 0.5 * x2 + entity_effect + period_effect + rng.normal(size=entity.size)
    return pd.DataFrame({"entity": entity, "period": period, "x1": x1, "x2": x2, "y": y})


def fitter(library: str, spec: str, df: pd.DataFrame, **options) -> Fit:
    """A fit of ``spec`` by ``library`` from ``df``, returning (coefficients, standard errors).

    ``options`` go to icsresearch's ``fit`` (``convention``, ``small_sample``) or, as ``ssc``, to
    pyfixest's ``feols``; the timed fits use none.
    """
    if library == "icsresearch":
        from icsresearch.models import fit

        model = {"pooled": {"model": "pooled"}}.get(spec) or {
            "model": "within",
            "effects": "twoways" if spec == "within two-way" else "entity",
        }

        def run_icsresearch():
            res = fit(
                df,
                "y ~ x1 + x2",
                entity="entity",
                time="period",
                vcov="CRV1",
                cluster="entity",
                **model,
                **options,
            )
            return res.params, res.bse

        return run_icsresearch
    if library == "pyfixest":
        import pyfixest as pf

        absorbed = {"within two-way": " | entity + period", "within entity": " | entity"}
        formula = "y ~ x1 + x2" + absorbed.get(spec, "")

        def run_pyfixest():
            res = pf.feols(formula, data=df, vcov={"CRV1": "entity"}, **options)
            return res.coef(), res.se()

        return run_pyfixest
    from linearmodels.panel import PanelOLS, PooledOLS

    def run_linearmodels():
        indexed = df.set_index(["entity", "period"])
        if spec == "pooled":
            exog = indexed[list(SLOPES)].assign(Intercept=1.0)
            model = PooledOLS(indexed["y"], exog)
        else:
            model = PanelOLS(
                indexed["y"],
                indexed[list(SLOPES)],
                entity_effects=True,
                time_effects=spec == "within two-way",
            )
        res = model.fit(cov_type="clustered", cluster_entity=True)
        return res.params, res.std_errors

    return run_linearmodels


# --- time ------------------------------------------------------------------------------------


def time_size(n_entities: int, n_periods: int) -> tuple[list[dict], list[dict]]:
    """Median fit times of every library and specification at one size, and the checks."""
    df = simulate(n_entities, n_periods)
    rounds = ROUNDS.get(n_entities, 9)
    rows, checks = [], []
    for spec in SPECS:
        fits = {lib: fitter(lib, spec, df) for lib in LIBRARIES}
        results = {lib: fits[lib]() for lib in LIBRARIES}  # warm-up, and the numbers checked
        times: dict[str, list[float]] = {lib: [] for lib in LIBRARIES}
        for r in range(rounds):
            for i in range(len(LIBRARIES)):
                lib = LIBRARIES[(r + i) % len(LIBRARIES)]
                t0 = time.perf_counter()
                fits[lib]()
                times[lib].append(time.perf_counter() - t0)
        medians = {lib: 1000 * statistics.median(times[lib]) for lib in LIBRARIES}
        rows.append(
            {
                "size": f"{n_entities}x{n_periods}",
                "rows": int(len(df)),
                "spec": spec,
                "rounds": rounds,
                "median_ms": {lib: round(medians[lib], 3) for lib in LIBRARIES},
                "time_ratio_vs_pyfixest": round(medians["icsresearch"] / medians["pyfixest"], 3),
                "time_ratio_vs_linearmodels": round(
                    medians["icsresearch"] / medians["linearmodels"], 3
                ),
            }
        )
        checks.append(check_numbers(spec, df, results))
        print(
            f"  {n_entities}x{n_periods} {spec:<15} "
            + "  ".join(f"{lib} {medians[lib]:8.2f} ms" for lib in LIBRARIES),
            flush=True,
        )
    return rows, checks


def _max_rel(a: pd.Series, b: pd.Series) -> float:
    a, b = a.sort_index(), b.reindex(a.sort_index().index)
    return float((np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))).max())


def check_numbers(spec: str, df: pd.DataFrame, results: dict) -> dict:
    """Coefficients of the three libraries, and standard errors where conventions match."""
    import pyfixest as pf

    ours_b, _ = results["icsresearch"]
    _, ours_stata = fitter("icsresearch", spec, df, convention="stata")()
    _, ours_cr0 = fitter("icsresearch", spec, df, small_sample="none")()
    _, pyfixest_cr0 = fitter("pyfixest", spec, df, ssc=pf.ssc(k_adj=False, G_adj=False))()
    n_obs = len(df)
    k_lm = len(ours_b)
    if spec == "within two-way":  # time effects are not nested in the entity clusters
        k_lm += df["entity"].nunique() + df["period"].nunique() - 1
    lm_b, lm_se = results["linearmodels"]
    lm_cr0 = lm_se * np.sqrt((n_obs - k_lm) / n_obs)
    out = {
        "spec": spec,
        "params_vs_pyfixest": _max_rel(ours_b, results["pyfixest"][0]),
        "params_vs_linearmodels": _max_rel(ours_b, lm_b),
        "se_stata_vs_pyfixest_crv1": _max_rel(ours_stata, results["pyfixest"][1]),
        "se_cr0_vs_pyfixest_cr0": _max_rel(ours_cr0, pyfixest_cr0),
        "se_cr0_vs_linearmodels_rescaled": _max_rel(ours_cr0, lm_cr0),
    }
    out["all_within_tolerance"] = all(
        v <= TOLERANCE for k, v in out.items() if isinstance(v, float)
    )
    return out


# --- memory ----------------------------------------------------------------------------------


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def memory_worker(library: str, spec: str, n_entities: int, n_periods: int) -> None:
    """Print the peak memory of one fit above the baseline (run in a fresh subprocess)."""
    warnings.simplefilter("ignore")
    fitter(library, spec, simulate(20, 5))()  # imports, caches and JIT: not the fit's memory
    df = simulate(n_entities, n_periods)
    big_fit = fitter(library, spec, df)
    gc.collect()
    with contextlib.suppress(OSError):  # not glibc: the baseline may then hide reused heap
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    baseline_kib = _status_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")
        method = "VmHWM after resetting it (clear_refs 5) minus VmRSS before the fit"
    except OSError:
        method = "ru_maxrss minus VmRSS before the fit (high-water mark not resettable)"
    big_fit()
    if method.startswith("VmHWM"):
        peak_kib = _status_kib("VmHWM")
    else:
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps({"peak_above_baseline_mb": (peak_kib - baseline_kib) / 1024, "method": method})
    )


def measure_memory(n_entities: int, n_periods: int) -> tuple[dict, str]:
    """Peak memory (MB above baseline) per specification and library, each in a fresh process."""
    out: dict[str, dict[str, float]] = {}
    method = ""
    for spec in SPECS:
        out[spec] = {}
        for lib in LIBRARIES:
            cmd = [sys.executable, __file__, "--memory-worker", lib, spec]
            cmd.append(f"{n_entities}x{n_periods}")
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            record = json.loads(done.stdout.strip().splitlines()[-1])
            out[spec][lib] = round(record["peak_above_baseline_mb"], 2)
            method = record["method"]
        print(
            f"  {n_entities}x{n_periods} {spec:<15} "
            + "  ".join(f"{lib} {out[spec][lib]:7.1f} MB" for lib in LIBRARIES),
            flush=True,
        )
    return out, method


# --- report ----------------------------------------------------------------------------------


def threading_label() -> str:
    """``default``, or the thread variables that are set (``OPENBLAS_NUM_THREADS=1``)."""
    set_vars = [f"{v}={os.environ[v]}" for v in THREAD_VARS if v in os.environ]
    return ", ".join(set_vars) or "default"


def environment() -> dict:
    """Versions, machine and BLAS of this run."""
    versions = {
        name: metadata.version(name)
        for name in ("numpy", "scipy", "pandas", "pyfixest", "linearmodels", "formulaic")
    }
    try:
        revision = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        revision = "unknown"
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "icsresearch_revision": revision,
        "versions": versions,
        "numpy_blas": f"{blas.get('name')} {blas.get('version')}",
        "thread_variables": {v: os.environ.get(v, "default") for v in THREAD_VARS},
    }


def print_table(rows: list[dict], memory: dict) -> None:
    head = (
        f"{'size':<9}{'spec':<16}{'ours ms':>9}{'pyfixest':>10}{'linmod':>9}{'/pf':>7}{'/lm':>7}"
        f"{'ours MB':>9}{'pf MB':>8}{'lm MB':>8}{'/pf':>7}{'/lm':>7}"
    )
    print("\n" + head)
    for row in rows:
        t = row["median_ms"]
        line = (
            f"{row['size']:<9}{row['spec']:<16}{t['icsresearch']:>9.2f}{t['pyfixest']:>10.2f}"
            f"{t['linearmodels']:>9.2f}{row['time_ratio_vs_pyfixest']:>7.2f}"
            f"{row['time_ratio_vs_linearmodels']:>7.2f}"
        )
        mem = memory.get(row["size"], {}).get(row["spec"])
        if mem:
            line += (
                f"{mem['icsresearch']:>9.1f}{mem['pyfixest']:>8.1f}{mem['linearmodels']:>8.1f}"
                f"{mem['icsresearch'] / mem['pyfixest']:>7.2f}"
                f"{mem['icsresearch'] / mem['linearmodels']:>7.2f}"
            )
        print(line)


@contextlib.contextmanager
def busy_processes(n: int):
    """``n`` processes spinning in a Python loop for the duration (other work on the machine)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def parse_size(text: str) -> tuple[int, int]:
    entities, periods = text.lower().split("x")
    return int(entities), int(periods)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=list(SIZES))
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--no-write", action="store_true", help="do not write the JSON")
    parser.add_argument("--busy", type=int, default=0, help="busy processes while timing")
    parser.add_argument("--memory-worker", nargs=3, metavar=("LIBRARY", "SPEC", "SIZE"))
    args = parser.parse_args(argv)
    if args.memory_worker:
        library, spec, size = args.memory_worker
        memory_worker(library, spec, *parse_size(size))
        return 0

    warnings.simplefilter("ignore")  # few-cluster and dropped-row caveats are not at issue here
    label = threading_label() + (f", {args.busy} busy processes" if args.busy else "")
    print(f"threading: {label}; load average {os.getloadavg()}", flush=True)
    load_before = os.getloadavg()
    rows, checks, memory = [], [], {}
    method = None
    for n_entities, n_periods in args.sizes:
        with busy_processes(args.busy):
            size_rows, size_checks = time_size(n_entities, n_periods)
        rows += size_rows
        checks += [{"size": f"{n_entities}x{n_periods}", **c} for c in size_checks]
        if not args.no_memory:
            memory[f"{n_entities}x{n_periods}"], method = measure_memory(n_entities, n_periods)
    load_after = os.getloadavg()
    for row in rows:
        mem = memory.get(row["size"], {}).get(row["spec"])
        if mem:
            row["peak_memory_mb"] = mem
            row["memory_ratio_vs_pyfixest"] = round(mem["icsresearch"] / mem["pyfixest"], 3)
            row["memory_ratio_vs_linearmodels"] = round(mem["icsresearch"] / mem["linearmodels"], 3)
    print_table(rows, memory)
    failed = [c for c in checks if not c["all_within_tolerance"]]
    print(f"\nchecks: {len(checks) - len(failed)} of {len(checks)} within {TOLERANCE:g}")
    for c in failed:
        print("  OUT OF TOLERANCE:", c)
    print(f"load average before {load_before}, after {load_after}")

    run = {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "threading": threading_label(),
        "busy_processes": args.busy,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "environment": environment(),
        "time_statistic": "median wall time per fit from a DataFrame over rounds that alternate "
        "the libraries, after one warm-up fit each",
        "memory_statistic": method,
        "fits": rows,
        "checks": checks,
    }
    if not args.no_write:
        stored = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
        stored["description"] = (
            "bench/bench_panel_scale.py: within two-way, within entity and pooled fits clustered "
            "by entity on simulated balanced panels, icsresearch vs pyfixest vs linearmodels"
        )
        stored.setdefault("runs", {})[label] = run
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(stored, indent=2) + "\n")
        print(f"wrote {RESULTS.relative_to(ROOT)} (run {label!r})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
