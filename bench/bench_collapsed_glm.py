"""Benchmark: a patient-level logit with hospital and quarter fixed effects, four ways.

The case (from the staffing studies the GLM module serves): ``rows`` simulated in-patient stays
(default 5,000,000) in 55 hospitals over 20 quarters, outcome ``died`` (about 3%), regressors a
5-level nurse-staffing band, a 6-level age group and sex, all discrete.

Paths, each timed in its own subprocess so that the peak RSS (``resource.getrusage``) is per path:

* ``collapsed``: ``icsresearch.models.glm.fit_glm(method="collapsed")`` (the timing includes the
  collapsing), clustered by hospital (the worker also records what ``method="auto"`` picks);
* ``pyfixest``: ``pyfixest.feglm(family="logit")`` on the rows, fixed effects absorbed, CRV1 by
  hospital;
* ``statsmodels``: ``statsmodels Logit`` on the rows with the fixed effects as dummies
  (``pd.get_dummies``), model-based SEs (what a user gets by default);
* ``groupby_glm``: the hand-made collapse: ``DataFrame.groupby`` counts, then a statsmodels binomial
  ``GLM`` on the cells with dummies (estimates only: its SEs are not the row-level robust ones).

Each worker simulates the same data from the seed (not timed), records the RSS after simulating,
times the fit, and writes estimates and SEs to a temporary JSON file. The parent checks that every
path's estimates agree with the collapsed path's, and that the SEs agree where the conventions are
the same (clustered: collapsed with ``small_sample="none"`` vs pyfixest with
``ssc(k_adj=False, G_adj=False)``; model-based: collapsed vs statsmodels), then writes
``bench/results/collapsed_glm.json`` and prints a table of times, peak memory and ratios.

Usage::

    .venv/bin/python bench/bench_collapsed_glm.py              # 5,000,000 rows (about 3 minutes,
                                                               # 8+ GB for the statsmodels path)
    .venv/bin/python bench/bench_collapsed_glm.py --rows 200000 --no-write   # quick check
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "collapsed_glm.json"
PATHS = ("collapsed", "pyfixest", "statsmodels", "groupby_glm")
REGRESSORS = ["staffing_band", "age_group", "sex"]
THREAD_VARS = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "RAYON_NUM_THREADS",
)
FORMULA = "died ~ staffing_band + age_group + sex"

N_HOSPITALS = 55
QUARTERS = [f"{y}Q{q}" for y in range(2018, 2023) for q in range(1, 5)]  # 20 quarters
BANDS = ["<=6", "7", "8", "9", ">=10"]  # patients per registered nurse, day shift
AGES = ["18-44", "45-64", "65-74", "75-84", "85-89", "90+"]
# Planted log odds ratios (reference levels first): worse staffing, higher mortality.
BAND_EFFECT = np.log([1.0, 1.07, 1.145, 1.225, 1.31])
AGE_EFFECT = np.array([0.0, 0.9, 1.6, 2.2, 2.6, 3.0])
MALE_EFFECT = 0.15


def draw_world(seed: int) -> dict[str, np.ndarray]:
    """Hospital and quarter effects and the hospitals' staffing shifts, drawn once.

    For data simulated in chunks (``bench_glm_parquet.py``): every chunk, simulated with its own
    seed, then describes the same hospitals.
    """
    rng = np.random.default_rng(seed)
    return {
        "hospital_effect": rng.normal(0.0, 0.3, N_HOSPITALS),
        "quarter_effect": np.linspace(0.0, -0.2, len(QUARTERS))
        + rng.normal(0, 0.05, len(QUARTERS)),
        "band_shift": rng.integers(-1, 2, N_HOSPITALS),
    }


def simulate(rows: int, seed: int, world: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Simulated patient rows (memory-lean: small integer codes, then categoricals/strings).

    ``world`` (from :func:`draw_world`) fixes the hospitals and quarters; without it they are
    drawn from ``seed``, in the order every earlier run of this benchmark drew them.
    """
    rng = np.random.default_rng(seed)
    if world is None:
        hospital_effect = rng.normal(0.0, 0.3, N_HOSPITALS)
        quarter_effect = np.linspace(0.0, -0.2, len(QUARTERS))
        quarter_effect = quarter_effect + rng.normal(0, 0.05, len(QUARTERS))
    else:
        hospital_effect, quarter_effect = world["hospital_effect"], world["quarter_effect"]
    h = rng.integers(0, N_HOSPITALS, rows, dtype=np.int16)
    q = rng.integers(0, len(QUARTERS), rows, dtype=np.int16)
    # Staffing depends on the hospital (some are short-staffed) so the fixed effects matter.
    band_shift = rng.integers(-1, 2, N_HOSPITALS) if world is None else world["band_shift"]
    b = np.clip(rng.integers(0, len(BANDS), rows, dtype=np.int16) + band_shift[h], 0, 4)
    a = rng.choice(len(AGES), rows, p=[0.15, 0.25, 0.2, 0.2, 0.1, 0.1]).astype(np.int16)
    male = rng.random(rows) < 0.48
    eta = -6.0 + hospital_effect[h] + quarter_effect[q] + BAND_EFFECT[b] + AGE_EFFECT[a]
    eta += MALE_EFFECT * male
    died = (rng.random(rows) < 1.0 / (1.0 + np.exp(-eta))).astype(np.int8)
    del eta
    hospitals = np.array([f"R{i:02d}" for i in range(N_HOSPITALS)])
    return pd.DataFrame(
        {
            "died": died,
            "hospital": pd.Categorical.from_codes(h, hospitals).astype("str"),
            "quarter": pd.Categorical.from_codes(q, QUARTERS).astype("str"),
            "staffing_band": pd.Categorical.from_codes(b, BANDS),
            "age_group": pd.Categorical.from_codes(a, AGES),
            "sex": np.where(male, "M", "F"),
        }
    )


def _rss_now_gb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _hwm_gb() -> float:
    """VmHWM: the peak RSS since the last reset (see _reset_peak)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0) so the fit's own peak can be read."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _normalise(name: str) -> str:
    """One spelling per term across libraries (statsmodels/get_dummies vs formulaic)."""
    for var in REGRESSORS:
        if name.startswith(var + "_"):
            return f"{var}[T.{name[len(var) + 1 :]}]"
    return name


def worker(path: str, rows: int, seed: int, out: Path) -> None:
    """Simulate, time one path, write its results."""
    data = simulate(rows, seed)
    gc.collect()
    rss_after_data = _rss_now_gb()
    peak_after_data = _peak_gb()
    # getrusage's peak includes simulating the data; the reset mark isolates the fit (data
    # resident included).
    reset = _reset_peak()
    record: dict = {"path": path}
    # Imports are not timed (each path pays its library's import once per session).
    if path == "collapsed":
        import formulaic  # noqa: F401  (fit_glm imports these lazily)
        import scipy.linalg  # noqa: F401

        from icsresearch.models.glm import fit_glm
    elif path == "pyfixest":
        import pyfixest as pf
    else:
        import statsmodels.api as sm
    t0 = time.perf_counter()
    if path == "collapsed":
        res = fit_glm(
            data,
            FORMULA,
            family="logit",
            fixed_effects=["hospital", "quarter"],
            cluster="hospital",
            # "auto" collapses at 5M rows; at a small --rows the cells outnumber half the rows
            # and it would fit the rows instead, so the collapsed path is asked for by name.
            method="collapsed",
            small_sample="none",
        )
        seconds = time.perf_counter() - t0
        record["method_chosen"] = res.extra["method"]
        record["n_cells"] = res.extra["n_cells"]
        record["params"] = res.params.to_dict()
        record["se_clustered"] = res.bse.to_dict()
        # Untimed: what method="auto" picks here, and the model-based SEs (vs statsmodels).
        auto = fit_glm(data, FORMULA, fixed_effects=["hospital", "quarter"], cluster="hospital")
        record["auto_method"] = auto.extra["method"]
        record["auto_reason"] = auto.extra["method_reason"]
        iid = fit_glm(data, FORMULA, fixed_effects=["hospital", "quarter"], method="collapsed")
        record["se_iid"] = iid.bse.to_dict()
    elif path == "pyfixest":
        fit = pf.feglm(
            "died ~ staffing_band + age_group + sex | hospital + quarter",
            data,
            family="logit",
            vcov={"CRV1": "hospital"},
            ssc=pf.ssc(k_adj=False, G_adj=False),
            iwls_tol=1e-10,
        )
        seconds = time.perf_counter() - t0
        record["params"] = fit.coef().to_dict()
        record["se_clustered"] = fit.se().to_dict()
    elif path == "statsmodels":
        X = pd.get_dummies(
            data[REGRESSORS + ["hospital", "quarter"]], drop_first=True, dtype=np.float64
        )
        X.insert(0, "const", 1.0)
        fit = sm.Logit(data["died"].to_numpy(np.float64), X).fit(disp=0, method="newton")
        seconds = time.perf_counter() - t0
        keep = [c for c in X.columns if c.split("_")[0] in ("staffing", "age", "sex")]
        record["params"] = {_normalise(c): float(fit.params[c]) for c in keep}
        record["se_iid"] = {_normalise(c): float(fit.bse[c]) for c in keep}
    elif path == "groupby_glm":
        keys = REGRESSORS + ["hospital", "quarter"]
        cells = data.groupby(keys, observed=True)["died"].agg(["sum", "count"]).reset_index()
        X = pd.get_dummies(cells[keys], drop_first=True, dtype=np.float64)
        X.insert(0, "const", 1.0)
        endog = np.column_stack([cells["sum"], cells["count"] - cells["sum"]]).astype(float)
        fit = sm.GLM(endog, X, family=sm.families.Binomial()).fit()
        seconds = time.perf_counter() - t0
        keep = [c for c in X.columns if c.split("_")[0] in ("staffing", "age", "sex")]
        record["params"] = {_normalise(c): float(fit.params[c]) for c in keep}
        record["n_cells"] = len(cells)
    else:
        raise SystemExit(f"unknown path {path!r}")
    record.update(
        seconds=seconds,
        peak_rss_fit_gb=_hwm_gb() if reset else None,
        peak_rss_gb=_peak_gb(),
        rss_after_data_gb=rss_after_data,
        peak_rss_after_data_gb=peak_after_data,
    )
    out.write_text(json.dumps(record))


def _max_rel(a: dict, b: dict) -> float:
    common = sorted(set(a) & set(b))
    if len(common) != len(a):
        raise SystemExit(f"term names differ: {sorted(a)} vs {sorted(b)}")
    return max(abs(a[k] / b[k] - 1.0) for k in common)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    ap.add_argument("--no-write", action="store_true", help="print only, keep the results file")
    ap.add_argument(
        "--threads",
        type=int,
        help="limit BLAS/OpenMP/numba/rayon threads in every path (default: libraries' own)",
    )
    ap.add_argument("--worker", choices=PATHS, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.rows, args.seed, args.out)
        return 0

    env = dict(os.environ)
    if args.threads:
        for var in THREAD_VARS:
            env[var] = str(args.threads)
    results: dict[str, dict] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.paths:
            out = Path(tmp) / f"{path}.json"
            cmd = [sys.executable, __file__, "--worker", path, "--rows", str(args.rows)]
            cmd += ["--seed", str(args.seed), "--out", str(out)]
            print(f"running {path} on {args.rows:,} rows ...", flush=True)
            load = os.getloadavg()[0]
            subprocess.run(cmd, check=True, env=env)
            results[path] = json.loads(out.read_text())
            # 1-minute load average before and after this path (2 cores, shared)
            results[path]["load_average"] = [load, os.getloadavg()[0]]
    load_after = os.getloadavg()

    ref = results.get("collapsed")
    checks: dict[str, float] = {}
    if ref:
        for path, rec in results.items():
            if path != "collapsed":
                checks[f"params_max_rel_diff_{path}"] = _max_rel(rec["params"], ref["params"])
        if "pyfixest" in results:
            checks["se_clustered_max_rel_diff_pyfixest"] = _max_rel(
                results["pyfixest"]["se_clustered"], ref["se_clustered"]
            )
        if "statsmodels" in results:
            checks["se_iid_max_rel_diff_statsmodels"] = _max_rel(
                results["statsmodels"]["se_iid"], ref["se_iid"]
            )

    print(
        f"\n{args.rows:,} rows; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}"
    )
    print(f"threads: {args.threads or 'library defaults'}")
    print(
        f"{'path':<13}{'seconds':>9}{'peak GB':>9}{'fit peak':>9}{'data GB':>9}"
        f"{'load':>11}{'time / collapsed':>18}"
    )
    for path, rec in results.items():
        ratio = rec["seconds"] / ref["seconds"] if ref else float("nan")
        fit_peak = rec["peak_rss_fit_gb"] if rec["peak_rss_fit_gb"] is not None else float("nan")
        load = "{:.1f}-{:.1f}".format(*rec["load_average"])
        print(
            f"{path:<13}{rec['seconds']:>9.2f}{rec['peak_rss_gb']:>9.2f}{fit_peak:>9.2f}"
            f"{rec['rss_after_data_gb']:>9.2f}{load:>11}{ratio:>17.1f}x"
        )
    print("peak GB: getrusage (includes simulating the data); fit peak: VmHWM reset after it")
    for k, v in checks.items():
        print(f"{k}: {v:.2e}")

    if ref and {"pyfixest", "statsmodels"} <= set(results):
        speedup_pf = results["pyfixest"]["seconds"] / ref["seconds"]
        speedup_sm = results["statsmodels"]["seconds"] / ref["seconds"]
        targets = {
            "collapsed_5x_faster_than_pyfixest": speedup_pf >= 5,
            "collapsed_20x_faster_than_statsmodels": speedup_sm >= 20,
            "collapsed_peak_under_1GB": max(ref["peak_rss_gb"], ref["peak_rss_fit_gb"] or 0) < 1.0,
            "estimates_agree_1e-6": all(
                v < 1e-6 for k, v in checks.items() if k.startswith("params")
            ),
        }
        print("targets:", targets)
    else:
        targets = {}

    if not args.no_write:
        from icsresearch.provenance import describe_environment

        record = {
            "benchmark": "collapsed_glm",
            "description": __doc__.split("\n\n")[1].replace("\n", " "),
            "rows": args.rows,
            "seed": args.seed,
            "formula": FORMULA + " | hospital + quarter",
            "threads": args.threads or "library defaults",
            "machine": {
                "cpu_count": os.cpu_count(),
                "load_average_before": load_before,
                "load_average_after": load_after,
                "note": "2 cores shared with other engineers; each path run once, sequentially",
            },
            "environment": describe_environment(),
            "paths": results,
            "agreement": checks,
            "ratios": {
                f"{p}_time_over_collapsed": results[p]["seconds"] / ref["seconds"]
                for p in results
                if ref and p != "collapsed"
            },
            "targets_met": targets,
        }
        # Keep a summary of earlier runs: on a shared machine one run is one draw of the load.
        earlier = []
        if RESULTS.exists():
            old = json.loads(RESULTS.read_text())
            earlier = old.get("earlier_runs", [])
            earlier.append(
                {
                    "rows": old.get("rows"),
                    "threads": old.get("threads", "library defaults"),
                    "git_revision": old.get("environment", {}).get("git_revision"),
                    "paths": {
                        p: {k: r.get(k) for k in ("seconds", "peak_rss_gb", "load_average")}
                        for p, r in old.get("paths", {}).items()
                    },
                }
            )
        record["earlier_runs"] = earlier[-5:]
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(record, indent=2, default=str) + "\n")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
