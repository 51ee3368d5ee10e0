"""Benchmark: the 42-report demo batch against 42 sequential papermill command-line runs.

Usage (from the repository root)::

    .venv/bin/python bench/bench_reports.py                  # full run (about 15-20 minutes)
    .venv/bin/python bench/bench_reports.py --baseline-runs 8  # baseline on 8 systems, scaled

Measured in one run, on the same notebook and parameters (demo data, 2022 footprint):

* **baseline**: ``papermill src/icsresearch/reports/templates/ics_profile.ipynb out.ipynb
  -k icsresearch -p ics_code ZQxx -p figures_dir ...`` from the command line, one system after another (each run
  pays papermill's import, a kernel start and the notebook's imports and data loading). With
  ``--baseline-runs N < 42`` the N runs are scaled to 42 and the result says so.
* **batch**: ``run_batch(all_systems=True, workers=2)`` - what ``icsresearch reports --all`` and
  ``make demo`` run, including the HTML export, manifests and index the baseline does not do.
* **floor**: 42 x the notebook's own cell time / workers, from the cell durations papermill
  records in the batch's executed notebooks (the kernels cannot finish sooner).

Ratios: ``speedup = baseline / batch`` (target at least 4) and ``batch / floor`` (target at most
1.5). The per-report overhead outside the cells is ``(workers x batch wall - sum of cell time) /
reports``, and the manifests' timing breakdown (kernel start, reset, HTML, writing) is reported
too. The machine's load average is recorded before and after: other processes on a shared
machine slow both sides, so only ratios from the same run are quoted.

Results are printed and written to ``bench/results/reports.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "reports.json"


def cell_seconds(path: Path) -> float:
    """Sum of the cell durations papermill recorded in an executed notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return float(
        sum(
            (c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
            for c in nb["cells"]
            if c["cell_type"] == "code"
        )
    )


def baseline(codes: list[str], notebook: Path, work: Path) -> dict:
    """Sequential papermill command-line runs, one per system."""
    papermill = shutil.which("papermill", path=str(Path(sys.executable).parent)) or "papermill"
    runs = []
    for code in codes:
        out = work / "baseline" / code
        out.mkdir(parents=True, exist_ok=True)
        cmd = [
            papermill, str(notebook), str(out / "report.ipynb"), "-k", "icsresearch",
            "-p", "ics_code", code, "-p", "figures_dir", str(out / "figures"),
            "--no-progress-bar", "--no-log-output",
        ]  # fmt: skip
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"papermill failed for {code}:\n{done.stderr[-2000:]}")
        runs.append({"code": code, "wall": wall, "cells": cell_seconds(out / "report.ipynb")})
        print(f"  baseline {code}: {wall:.1f} s (cells {runs[-1]['cells']:.1f} s)", flush=True)
    return {
        "runs": runs,
        "wall_measured": sum(r["wall"] for r in runs),
        "per_report_wall_mean": statistics.mean(r["wall"] for r in runs),
        "per_report_cells_mean": statistics.mean(r["cells"] for r in runs),
        "per_report_overhead_mean": statistics.mean(r["wall"] - r["cells"] for r in runs),
    }


def batch(workers: int, work: Path, fresh: bool = False) -> dict:
    """The report batch over all 42 demo systems."""
    from icsresearch.reports.batch import run_batch

    out = work / ("batch-fresh" if fresh else "batch")
    t0 = time.perf_counter()
    result = run_batch(
        all_systems=True, source="demo", out=out, workers=workers, fresh_kernels=fresh,
        progress=False, force=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    if result.n_failed:
        raise SystemExit(f"batch failures: {result.failed}")
    manifests = [json.loads((out / c / "manifest.json").read_text()) for c in sorted(
        o["code"] for o in result.outcomes)]  # fmt: skip
    timing = {k: [m["timings_seconds"].get(k, 0.0) for m in manifests] for k in
              ("total", "cells", "overhead", "kernel", "reset", "html", "write")}  # fmt: skip
    n = len(manifests)
    cells = sum(timing["cells"])
    return {
        "reports": n,
        "workers": workers,
        "fresh_kernels": fresh,
        "wall": wall,
        "cells_total": cells,
        "per_report_cells_mean": cells / n,
        "floor": cells / workers,
        "per_report_overhead_outside_cells": (workers * wall - cells) / n,
        "manifest_means": {k: statistics.mean(v) for k, v in timing.items()},
        "kernel_starts": sum(1 for m in manifests if not m["worker"]["kernel_reused"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-runs", type=int, default=42)
    parser.add_argument("--fresh-kernels-too", action="store_true",
                        help="also time the batch with a new kernel per report")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the outputs (printed)")
    args = parser.parse_args()

    from icsresearch.reports.params import default_notebook, valid_codes

    codes = valid_codes(2022, "demo")
    notebook = default_notebook()
    work = Path(tempfile.mkdtemp(prefix="icsr-bench-"))
    load_before = os.getloadavg()
    try:
        print(f"batch: 42 reports, {args.workers} workers", flush=True)
        ours = batch(args.workers, work)
        print(f"  {ours['wall']:.1f} s", flush=True)
        fresh = None
        if args.fresh_kernels_too:
            print("batch with a fresh kernel per report", flush=True)
            fresh = batch(args.workers, work, fresh=True)
            print(f"  {fresh['wall']:.1f} s", flush=True)
        sample = codes[: max(1, min(args.baseline_runs, len(codes)))]
        print(f"baseline: {len(sample)} sequential papermill command-line runs", flush=True)
        base = baseline(sample, notebook, work)
    finally:
        load_after = os.getloadavg()
        if args.keep:
            print(f"outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    scale = len(codes) / len(sample)
    base_42 = base["wall_measured"] * scale
    result = {
        "what": "42-report demo batch vs 42 sequential papermill CLI runs of the same notebook",
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "baseline": {
            **{k: v for k, v in base.items() if k != "runs"},
            "runs_measured": len(sample),
            "wall_for_42": base_42,
            "scaled_from_sample": len(sample) != len(codes),
        },
        "batch": ours,
        "batch_fresh_kernels": fresh,
        "ratios": {
            "speedup_vs_sequential_papermill_cli": base_42 / ours["wall"],
            "batch_over_floor": ours["wall"] / ours["floor"],
            "batch_over_floor_fresh_kernel_cells": ours["wall"]
            / (len(codes) * base["per_report_cells_mean"] / args.workers),
            **({"fresh_kernel_batch_over_reused": fresh["wall"] / ours["wall"]} if fresh else {}),
        },
        "targets": {"speedup_at_least": 4.0, "batch_over_floor_at_most": 1.5},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    r = result["ratios"]
    print(
        f"\nbaseline (42 sequential papermill CLI runs{', scaled' if scale != 1 else ''}): "
        f"{base_42:.0f} s; batch ({args.workers} workers): {ours['wall']:.0f} s; floor "
        f"{ours['floor']:.0f} s\nspeedup {r['speedup_vs_sequential_papermill_cli']:.2f}x "
        f"(target >= 4); batch/floor {r['batch_over_floor']:.2f} (target <= 1.5); overhead "
        f"outside cells {ours['per_report_overhead_outside_cells']:.2f} s per report "
        f"(papermill CLI: {base['per_report_overhead_mean']:.2f} s)\nwritten {RESULTS}"
    )


if __name__ == "__main__":
    main()
