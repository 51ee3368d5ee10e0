"""Benchmark: the 42-report demo batch at a baseline git revision against the working tree.

Usage (from the repository root)::

    .venv/bin/python bench/bench_shared_layers.py                    # baseline BASELINE_REV
    .venv/bin/python bench/bench_shared_layers.py --repeats 2        # b, c, c, b (medians)
    .venv/bin/python bench/bench_shared_layers.py --baseline-rev HEAD  # self-check, ratio ~1

Measured in one run, with the same number of workers, on the same machine and venv:

* **baseline**: ``run_batch(all_systems=True, source="demo", workers=N, force=True)`` with the
  package of ``--baseline-rev`` (default :data:`BASELINE_REV`, main before the issue-14 work:
  every chart drawn in full, "today's time" of the issue). The revision is checked out with
  ``git worktree add --detach`` into a temporary folder (removed at the end, also on failure)
  and the batch runs in a subprocess with ``PYTHONPATH=<worktree>/src`` prepended. The kernels
  inherit it: the executor starts each kernel with ``{**os.environ, **task.env}``
  (``executor.PooledKernel._start``; ``batch._kernel_env`` only adds the ``ICSRESEARCH_*``
  settings), and ``PYTHONPATH`` comes before the venv's editable ``.pth`` entry
  (``/work/main/src``) on ``sys.path``.
* **current**: the same batch in a subprocess with the working tree's package.

Sides alternate (``--repeats 1``: baseline, current; ``2``: baseline, current, current,
baseline; ...) and the median batch wall of each side is quoted; ``wall`` is the time of
``run_batch`` in the subprocess (the subprocess's own start and imports are recorded apart as
``process_wall``). Per-report means of the manifests' ``timings_seconds`` (``cells``: the
notebook's own cell time, where the figures are drawn) are given per side too.

Which package ran is checked, not assumed, and the run stops if any check fails:

1. the batch subprocess prints ``icsresearch.__file__``;
2. a probe ``sitecustomize.py`` (on ``PYTHONPATH`` for both sides) records, in every Python
   process the batch starts, including each Jupyter kernel, where ``import icsresearch`` will
   load from (``importlib.util.find_spec``; the kernels' ``sys.path`` is fixed at start-up);
3. the ``git`` revision each executed report notebook prints (``describe_environment`` in the
   kernel) is collected: the baseline's must be the resolved baseline commit, clean.

Figures: every PNG present in both outputs (same system, same file name) is decoded to RGBA and
compared; per figure name (``funnel_ae``, ``map_ae``...): how many are pixel-identical, the largest
share of differing pixels and the largest absolute channel difference. The footer of each figure
holds the date produced, the same for both sides within one run (unless it crosses midnight). The
pair with the largest difference is saved side by side (baseline | current | difference) in
``bench/results/shared_layers_worst_diff.png`` (removed when every pair is identical).

Target: ``current / baseline`` median wall at most 0.6. Load averages before and after are
recorded: other processes slow both sides, so only ratios from the same run are quoted. Results
are printed and written to ``bench/results/shared_layers.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "shared_layers.json"
WORST_DIFF = ROOT / "bench" / "results" / "shared_layers_worst_diff.png"
#: "Today's" batch when issue 14 was taken up: main before the issue-14 commits (8193d6d^). Its
#: charts also differ in content (SPC baseline of 12 points and no icons, funnels without FDR
#: rings), so its SPC, funnel and scatter figures differ from the current ones by design; the
#: shared-layer drawing itself is checked pixel for pixel in tests/test_plots_layers.py.
#: ``--baseline-rev HEAD`` is a self-check (ratio about 1, every figure identical).
BASELINE_REV = "907fafa"
TARGET = 0.6
#: A pair whose share of differing pixels is at most this counts as visually equal.
VISUAL_SHARE = 0.001
CHILD_MARK = "BENCH_SHARED_LAYERS_CHILD "
PROBE_ENV = "ICSR_BENCH_PROBE_LOG"
PROBE = f'''"""Benchmark probe: where this process will import icsresearch from (one JSON line)."""
import os

if os.environ.get("{PROBE_ENV}"):
    try:
        import importlib.util
        import json
        import sys

        _spec = importlib.util.find_spec("icsresearch")
        with open(os.environ["{PROBE_ENV}"], "a", encoding="utf-8") as _f:
            _f.write(json.dumps({{
                "pid": os.getpid(),
                "kernel": any("ipykernel" in a for a in sys.orig_argv),
                "argv": sys.orig_argv[:4],
                "origin": _spec.origin if _spec else None,
            }}) + "\\n")
    except Exception:
        pass
'''
GIT_REV = re.compile(r"\(git ([0-9a-f]{40}(?:\+dirty)?|unknown)\)")


# --- the batch subprocess --------------------------------------------------------------------------


def child(out: Path, workers: int) -> None:
    """Run the batch in this process (the subprocess side) and print one JSON line for the parent."""
    t0 = time.perf_counter()
    import icsresearch
    from icsresearch.reports.batch import run_batch

    t1 = time.perf_counter()
    result = run_batch(
        all_systems=True, source="demo", out=out, workers=workers, progress=False, force=True
    )
    wall = time.perf_counter() - t1
    report = {
        "icsresearch_file": str(Path(icsresearch.__file__).resolve()),
        "import_seconds": t1 - t0,
        "wall": wall,
        "n_ok": result.n_ok,
        "n_failed": result.n_failed,
        "failed": result.failed,
        "codes": [o["code"] for o in result.outcomes],
    }
    print(CHILD_MARK + json.dumps(report), flush=True)


def git(*args: str) -> str:
    """Run a git command on the main checkout and return its stdout (raises on failure)."""
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def notebook_revisions(out: Path, codes: list[str]) -> dict[str, int]:
    """Count the ``(git <rev>)`` strings the executed report notebooks print, by revision."""
    seen: dict[str, int] = {}
    for code in codes:
        text = (out / code / "report.ipynb").read_text(encoding="utf-8")
        for rev in set(GIT_REV.findall(text)):
            seen[rev] = seen.get(rev, 0) + 1
    return seen


def manifest_means(out: Path, codes: list[str]) -> dict[str, float]:
    """Per-report means of the manifests' ``timings_seconds`` (cells, total, kernel...)."""
    manifests = [json.loads((out / c / "manifest.json").read_text()) for c in codes]
    keys = sorted({k for m in manifests for k in m.get("timings_seconds", {})})
    return {
        k: statistics.mean(float(m["timings_seconds"].get(k, 0.0)) for m in manifests) for k in keys
    }


def run_side(side: str, index: int, workers: int, work: Path, src: Path, probe: Path) -> dict:
    """One batch in a subprocess importing the package from ``src``; checks which package ran."""
    out = work / "runs" / f"{side}-{index}"
    log = work / "runs" / f"{side}-{index}.probe.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    prepend = [str(src)] if side == "baseline" else []
    env["PYTHONPATH"] = os.pathsep.join(
        [*prepend, str(probe), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env[PROBE_ENV] = str(log)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(out)]
    cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(work))
    process_wall = time.perf_counter() - t0
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(CHILD_MARK)]
    if done.returncode != 0 or not lines:
        raise SystemExit(
            f"{side} batch failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n"
            f"{done.stderr[-4000:]}"
        )
    rep = json.loads(lines[-1][len(CHILD_MARK) :])
    if rep["n_failed"] or not rep["n_ok"]:
        raise SystemExit(f"{side} batch: {rep['n_failed']} failed reports: {rep['failed']}")

    # which package ran: the batch process, every kernel, and what the notebooks printed
    pkg = (src / "icsresearch").resolve()
    probes = [json.loads(ln) for ln in log.read_text().splitlines() if ln.strip()]
    kernels = [p for p in probes if p["kernel"]]
    wrong = [p for p in probes if not str(p["origin"] or "").startswith(str(pkg) + os.sep)]
    problems = []
    if not rep["icsresearch_file"].startswith(str(pkg) + os.sep):
        problems.append(f"batch process imported {rep['icsresearch_file']}")
    if not kernels:
        problems.append("no kernel process reported where it imports icsresearch from")
    if wrong:
        problems.append(f"processes importing another package: {wrong[:3]}")
    revisions = notebook_revisions(out, rep["codes"])
    if side == "baseline" and set(revisions) != {run_side.baseline_sha}:
        problems.append(f"notebooks printed git revisions {revisions}")
    if problems:
        raise SystemExit(f"{side} did not run the intended package ({pkg}): {'; '.join(problems)}")
    return {
        "side": side,
        "wall": rep["wall"],
        "process_wall": process_wall,
        "import_seconds": rep["import_seconds"],
        "reports": rep["n_ok"],
        "out": str(out),
        "codes": rep["codes"],
        "manifest_means": manifest_means(out, rep["codes"]),
        "package_checks": {
            "batch_process_icsresearch": rep["icsresearch_file"],
            "kernel_processes": len(kernels),
            "kernel_import_origins": sorted({p["origin"] for p in kernels}),
            "python_processes_probed": len(probes),
            "notebook_git_revisions": revisions,
        },
    }


run_side.baseline_sha = ""


# --- figures ----------------------------------------------------------------------------------------


def compare_figures(base: Path, cur: Path, codes: list[str]) -> tuple[dict, dict | None]:
    """Pixel comparison of every PNG in both outputs; the summary and the worst pair."""
    import numpy as np
    from PIL import Image

    per_name: dict[str, dict] = {}
    only_one_side: list[str] = []
    worst = None
    for code in codes:
        b_dir, c_dir = base / code / "figures", cur / code / "figures"
        b_files = {p.relative_to(b_dir).as_posix() for p in b_dir.rglob("*.png")}
        c_files = {p.relative_to(c_dir).as_posix() for p in c_dir.rglob("*.png")}
        only_one_side += [f"{code}/{f}" for f in sorted(b_files ^ c_files)]
        for rel in sorted(b_files & c_files):
            name = Path(rel).with_suffix("").as_posix()
            s = per_name.setdefault(
                name,
                {"pairs": 0, "identical": 0, "visually_equal": 0, "shape_differs": 0,
                 "max_share_differing": 0.0, "max_abs_diff": 0},
            )  # fmt: skip
            a = np.asarray(Image.open(b_dir / rel).convert("RGBA"))
            b = np.asarray(Image.open(c_dir / rel).convert("RGBA"))
            s["pairs"] += 1
            if a.shape != b.shape:
                s["shape_differs"] += 1
                s.setdefault("shapes", []).append([code, list(a.shape), list(b.shape)])
                score = (1, 1.0, 255)
            else:
                d = np.abs(a.astype(np.int16) - b.astype(np.int16))
                share = float((d.max(axis=2) > 0).mean())
                mad = int(d.max())
                s["identical"] += mad == 0
                s["visually_equal"] += share <= VISUAL_SHARE
                s["max_share_differing"] = max(s["max_share_differing"], share)
                s["max_abs_diff"] = max(s["max_abs_diff"], mad)
                score = (0, share, mad)
            if score > (0, 0.0, 0) and (worst is None or score > worst["score"]):
                worst = {"score": score, "code": code, "figure": rel, "a": a, "b": b}
    pairs = sum(s["pairs"] for s in per_name.values())
    summary = {
        "pairs": pairs,
        "identical": sum(s["identical"] for s in per_name.values()),
        "visually_equal": sum(s["visually_equal"] for s in per_name.values()),
        "shape_differs": sum(s["shape_differs"] for s in per_name.values()),
        "visually_equal_means_share_differing_at_most": VISUAL_SHARE,
        "only_in_one_output": only_one_side,
        "by_figure": per_name,
    }
    return summary, worst


def save_worst(worst: dict, path: Path, width: int = 1200) -> dict:
    """Save baseline | current | difference (red where pixels differ), scaled to ``width``."""
    import numpy as np
    from PIL import Image

    a, b = worst["a"], worst["b"]
    h, w = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])

    def pad(x):
        """``x`` on a white canvas of the larger shape."""
        out = np.full((h, w, 4), 255, dtype=np.uint8)
        out[: x.shape[0], : x.shape[1]] = x
        return out

    a, b = pad(a), pad(b)
    differs = (a != b).any(axis=2)
    diff = (0.25 * a + 191).astype(np.uint8)  # the baseline, faded
    diff[differs] = (220, 0, 0, 255)
    gap = np.full((h, 8, 4), (128, 128, 128, 255), dtype=np.uint8)
    img = Image.fromarray(np.concatenate([a, gap, b, gap, diff], axis=1)).convert("RGB")
    img = img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.quantize(colors=64).save(path, optimize=True)  # small enough to commit
    return {
        "code": worst["code"],
        "figure": worst["figure"],
        "shape_differs": bool(worst["score"][0]),
        "shapes": [list(worst["a"].shape), list(worst["b"].shape)],
        "share_differing": None if worst["score"][0] else worst["score"][1],
        "max_abs_diff": None if worst["score"][0] else worst["score"][2],
        "image": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "panels": "baseline | current | difference (red)",
    }


# --- main ------------------------------------------------------------------------------------------


def main() -> None:
    """Run both sides alternately, compare the figures and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1,
                        help="pairs of runs: 1 = baseline, current; 2 = b, c, c, b")  # fmt: skip
    parser.add_argument("--baseline-rev", default=BASELINE_REV,
                        help=f"git revision of the baseline (default {BASELINE_REV})")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the outputs (printed)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.workers)
        return
    if args.repeats < 1 or args.workers < 1:
        parser.error("--repeats and --workers must be at least 1")

    sha = git("rev-parse", "--verify", f"{args.baseline_rev}^{{commit}}")
    run_side.baseline_sha = sha
    head = git("rev-parse", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    work = Path(tempfile.mkdtemp(prefix="icsr-bench-shared-"))
    tree = work / "baseline-src"
    probe = work / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(PROBE, encoding="utf-8")
    order = [
        side
        for i in range(args.repeats)
        for side in (("baseline", "current") if i % 2 == 0 else ("current", "baseline"))
    ]
    load_before = os.getloadavg()
    runs: list[dict] = []
    try:
        git("worktree", "add", "--detach", str(tree), sha)
        srcs = {"baseline": tree / "src", "current": ROOT / "src"}
        print(f"baseline {args.baseline_rev} = {sha[:12]}; current = working tree "
              f"({head[:12]}{'+dirty' if dirty else ''}); {args.workers} workers; "
              f"order {', '.join(order)}", flush=True)  # fmt: skip
        for side in order:
            n = sum(r["side"] == side for r in runs)
            run = run_side(side, n, args.workers, work, srcs[side], probe)
            runs.append(run)
            cells = run["manifest_means"].get("cells", float("nan"))
            print(
                f"  {side} #{n + 1}: {run['wall']:.1f} s (cells {cells:.2f} s/report)", flush=True
            )
        first = {side: next(r for r in runs if r["side"] == side) for side in srcs}
        print("comparing figures", flush=True)
        figures, worst = compare_figures(
            Path(first["baseline"]["out"]),
            Path(first["current"]["out"]),
            first["baseline"]["codes"],
        )
        figures["compared_runs"] = "the first run of each side"
        if worst is not None:
            figures["worst"] = save_worst(worst, WORST_DIFF)
        else:
            figures["worst"] = None
            WORST_DIFF.unlink(missing_ok=True)
    finally:
        load_after = os.getloadavg()
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       capture_output=True)  # fmt: skip
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], capture_output=True)
        if args.keep:
            print(f"outputs kept in {work / 'runs'}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    sides = {}
    for side in ("baseline", "current"):
        mine = [r for r in runs if r["side"] == side]
        sides[side] = {
            "walls": [r["wall"] for r in mine],
            "median_wall": statistics.median(r["wall"] for r in mine),
            "process_walls": [r["process_wall"] for r in mine],
            "per_report_cells_mean": statistics.median(
                r["manifest_means"].get("cells", 0.0) for r in mine
            ),
            "manifest_means_per_run": [r["manifest_means"] for r in mine],
            "package_checks": [r["package_checks"] for r in mine],
        }
    ratio = sides["current"]["median_wall"] / sides["baseline"]["median_wall"]
    cells_ratio = sides["current"]["per_report_cells_mean"] / (
        sides["baseline"]["per_report_cells_mean"] or float("nan")
    )
    result = {
        "what": "42-report demo batch (run_batch, same workers): the working tree against a "
        "baseline git revision checked out in a worktree, in one run, figures compared pixel by "
        "pixel",
        "baseline_rev": sha,
        "baseline_rev_asked": args.baseline_rev,
        "current": {"head": head, "dirty": dirty},
        "workers": args.workers,
        "repeats": args.repeats,
        "order": order,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "runs": [
            {k: r[k] for k in ("side", "wall", "process_wall", "import_seconds", "reports")}
            for r in runs
        ],
        "baseline": sides["baseline"],
        "current_tree": sides["current"],
        "ratios": {"current_over_baseline_wall": ratio, "current_over_baseline_cells": cells_ratio},
        "target": {"current_over_baseline_wall_at_most": TARGET},
        "met": ratio <= TARGET,
        "figures": figures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    b, c = sides["baseline"], sides["current"]
    print(
        f"\nbaseline ({sha[:12]}): median {b['median_wall']:.1f} s, cells "
        f"{b['per_report_cells_mean']:.2f} s/report; current: median {c['median_wall']:.1f} s, "
        f"cells {c['per_report_cells_mean']:.2f} s/report\ncurrent/baseline {ratio:.3f} (target "
        f"<= {TARGET}: {'met' if ratio <= TARGET else 'NOT met'}); cells {cells_ratio:.3f}\n"
        f"figures: {figures['pairs']} pairs, {figures['identical']} identical, "
        f"{figures['visually_equal']} visually equal, {figures['shape_differs']} of other size, "
        f"{len(figures['only_in_one_output'])} in one output only"
    )
    for name, s in sorted(figures["by_figure"].items()):
        print(
            f"  {name:<28} {s['identical']:>3}/{s['pairs']} identical, max share differing "
            f"{s['max_share_differing']:.5f}, max abs diff {s['max_abs_diff']}"
        )
    if figures["worst"]:
        w = figures["worst"]
        print(f"worst pair {w['code']}/{w['figure']} saved in {w['image']}")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
