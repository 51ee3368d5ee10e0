"""Benchmark: a fixed-effects logit on 100 million Parquet rows, streamed, in memory and on Dask.

The data: ``rows`` (default 100,000,000) simulated in-patient stays in the layout of
``bench_collapsed_glm.py`` (55 hospitals x 20 quarters, a 5-level staffing band, a 6-level age
group, sex, ``died`` about 3%), simulated and written in chunks of 5,000,000 rows, one Parquet file
per chunk (row groups of 1,000,000), so the writer never holds more than one chunk. The files go
to a temporary folder that is deleted at the end, also when something fails.

The model: ``died ~ staffing_band + age_group + sex | hospital + quarter``, clustered by hospital,
``method="collapsed"``. Each path runs in its own subprocess, so its peak RSS
(``resource.getrusage``) is its own:

* ``stream``: ``fit_glm(folder)`` over every row, read chunk by chunk; then (not timed) the same on
  the first 10,000,000 rows (the first files, as a ``pyarrow`` dataset) for the agreement check;
* ``in_memory``: the first 10,000,000 rows read into pandas (``pd.read_parquet``, timed apart),
  then ``fit_glm(df)``: the in-memory path of this working tree;
* ``in_memory_head``: the same with the package as committed at ``git HEAD`` (exported with
  ``git archive`` into the temporary folder and put first on ``PYTHONPATH``): the in-memory path
  before this change, the one the targets are measured against;
* ``dask``: a ``distributed.LocalCluster`` on loopback with 2 worker processes (1 thread each),
  started and stopped in the subprocess (its start-up timed apart), then ``fit_glm(folder,
  scheduler=client)``: each file collapsed on a worker, only cell tables sent back.

Checks: the streamed estimates and standard errors on the first 10,000,000 rows equal both
in-memory fits to 1e-10 (relative), and the Dask fit equals the streamed one to 1e-10. Targets:
the streamed path's peak RSS under 2 GB, and its time per 10,000,000 rows at most half the
in-memory fit time per 10,000,000 rows at ``HEAD`` (the fit alone, reading not included; the
ratios with reading and against this working tree's in-memory path are reported too).

Usage::

    .venv/bin/python bench/bench_glm_parquet.py                 # 100,000,000 rows (~10 minutes)
    .venv/bin/python bench/bench_glm_parquet.py --rows 12000000 --no-write   # quick check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_collapsed_glm import FORMULA, draw_world, simulate  # noqa: E402

RESULTS = HERE / "results" / "glm_parquet.json"
PATHS = ("in_memory_head", "in_memory", "stream", "dask")
FIXED_EFFECTS = ["hospital", "quarter"]
CHUNK_ROWS = 5_000_000
ROW_GROUP_ROWS = 1_000_000
SUBSAMPLE_ROWS = 10_000_000
PER_ROWS = 10_000_000  # times are quoted per this many rows
TOLERANCE = 1e-10
MAX_PEAK_GB = 2.0
MIN_SPEEDUP = 2.0


def _peak_bytes() -> int:
    """Peak RSS of this process (``getrusage``; on Linux it counts the parent's RSS at fork too,
    which is why the parent stays lean and the data are written by a subprocess)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _hwm_bytes() -> int | None:
    """VmHWM: the peak RSS of this process's own memory since it started (Linux)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def write_dataset(folder: Path, rows: int, seed: int) -> dict:
    """Simulate and write ``rows`` in chunks, one file per chunk; return what was written."""
    folder.mkdir(parents=True)
    world = draw_world(seed)
    start, written, k = time.perf_counter(), 0, 0
    while written < rows:
        n = min(CHUNK_ROWS, rows - written)
        chunk = simulate(n, seed + 1 + k, world=world)
        chunk.to_parquet(folder / f"part-{k:04d}.parquet", row_group_size=ROW_GROUP_ROWS)
        del chunk
        written += n
        k += 1
    size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
    return {"files": k, "bytes": size, "seconds": time.perf_counter() - start}


def _subsample_files(folder: Path) -> list[str]:
    files = sorted(str(p) for p in folder.glob("part-*.parquet"))
    return files[: -(-SUBSAMPLE_ROWS // CHUNK_ROWS)]


def _fit_kwargs() -> dict:
    return {"family": "logit", "fixed_effects": FIXED_EFFECTS, "cluster": "hospital",
            "method": "collapsed"}  # fmt: skip


def _estimates(res) -> dict:
    return {"params": res.params.to_dict(), "se": res.bse.to_dict(), "nobs": int(res.nobs)}


def worker(path: str, folder: Path, out: Path) -> None:
    """Run one path, write its record."""
    import formulaic  # noqa: F401  (imports are not timed: fit_glm loads these lazily)
    import pandas as pd
    import pyarrow.dataset as ds
    import scipy.linalg  # noqa: F401

    import icsresearch
    from icsresearch.models.glm import fit_glm

    record: dict = {"path": path, "package": str(Path(icsresearch.__file__).parent)}
    files = _subsample_files(folder)
    if path == "write":
        record.update(
            write_dataset(folder, int(os.environ["BENCH_ROWS"]), int(os.environ["BENCH_SEED"]))
        )
    elif path in ("in_memory", "in_memory_head"):
        t0 = time.perf_counter()
        data = pd.read_parquet(files)
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = fit_glm(data, FORMULA, **_fit_kwargs())
        fit_s = time.perf_counter() - t0
        record.update(rows=len(data), read_seconds=read_s, fit_seconds=fit_s,
                      dtypes={c: str(t) for c, t in data.dtypes.items()}, **_estimates(res))  # fmt: skip
    elif path == "stream":
        t0 = time.perf_counter()
        res = fit_glm(folder, FORMULA, progress=False, **_fit_kwargs())
        record.update(seconds=time.perf_counter() - t0, peak_rss_bytes_full=_peak_bytes())
        record.update(rows=int(res.extra["stream"]["rows_read"]), stream=res.extra["stream"])
        record["full"] = _estimates(res)
        sub = fit_glm(ds.dataset(files, format="parquet"), FORMULA, **_fit_kwargs())
        record["subsample"] = _estimates(sub)
    elif path == "dask":
        import warnings

        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None)  # fmt: skip
        client = Client(cluster)
        record["cluster_start_seconds"] = time.perf_counter() - t0
        try:
            # twice: the first fit also pays the workers' imports of the package
            for key in ("seconds_first_fit", "seconds"):
                t0 = time.perf_counter()
                res = fit_glm(folder, FORMULA, scheduler=client, progress=False, **_fit_kwargs())
                record[key] = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
        record.update(rows=int(res.extra["stream"]["rows_read"]), stream=res.extra["stream"])
        record["full"] = _estimates(res)
    else:
        raise SystemExit(f"unknown path {path!r}")
    record["peak_rss_bytes"] = _peak_bytes()
    record["peak_rss_hwm_bytes"] = _hwm_bytes()
    out.write_text(json.dumps(record, default=str))


def _max_rel(a: dict, b: dict) -> float:
    if sorted(a) != sorted(b):
        raise SystemExit(f"term names differ: {sorted(a)} vs {sorted(b)}")
    return max(abs(a[k] / b[k] - 1.0) for k in a)


def _head_package(tmp: Path) -> tuple[Path, str]:
    """The package as committed at HEAD, exported into ``tmp``: its ``src`` and the revision."""
    revision = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "src/icsresearch"],
                             check=True, capture_output=True).stdout  # fmt: skip
    target = tmp / "head"
    target.mkdir()
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src", revision


def _run(path: str, folder: Path, tmp: Path, env: dict) -> dict:
    out = tmp / f"{path}.json"
    cmd = [sys.executable, __file__, "--worker", path, "--folder", str(folder), "--out", str(out)]
    if path != "write":
        print(f"running {path} ...", flush=True)
    load = os.getloadavg()
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    record = json.loads(out.read_text())
    record["subprocess_seconds"] = time.perf_counter() - t0
    record["load_average_before_after"] = [load[0], os.getloadavg()[0]]
    return record


def _machine(load_before, load_after) -> dict:
    mem = {}
    with open("/proc/meminfo") as fh:
        for line in fh:
            key, value = line.split(":")
            if key in ("MemTotal", "MemAvailable"):
                mem[key] = int(value.split()[0]) * 1024
    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "memory_total_bytes": mem.get("MemTotal"),
        "memory_available_bytes_at_start": mem.get("MemAvailable"),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "note": "2 cores shared with other engineers; each path run once, sequentially",
    }


def _summarise(rows: int, results: dict) -> tuple[dict, dict, dict]:
    """Per-10M-row times, ratios, agreement checks and targets."""
    per = {}
    if "stream" in results:
        per["stream_seconds"] = results["stream"]["seconds"] * PER_ROWS / rows
    if "dask" in results:
        per["dask_seconds"] = results["dask"]["seconds"] * PER_ROWS / rows
    for name in ("in_memory", "in_memory_head"):
        if name in results:
            r = results[name]
            per[f"{name}_fit_seconds"] = r["fit_seconds"] * PER_ROWS / r["rows"]
            per[f"{name}_read_and_fit_seconds"] = (
                (r["read_seconds"] + r["fit_seconds"]) * PER_ROWS / r["rows"]
            )
    ratios = {}
    if "stream_seconds" in per:
        for name in ("in_memory", "in_memory_head"):
            for what in ("fit", "read_and_fit"):
                key = f"{name}_{what}_seconds"
                if key in per:
                    ratios[f"{name}_{what}_over_stream"] = per[key] / per["stream_seconds"]
        if "dask_seconds" in per:
            ratios["dask_over_stream"] = per["dask_seconds"] / per["stream_seconds"]
    checks = {}
    stream = results.get("stream")
    for name in ("in_memory", "in_memory_head"):
        if stream and name in results:
            for what in ("params", "se"):
                checks[f"{what}_max_rel_diff_stream_vs_{name}"] = _max_rel(
                    stream["subsample"][what], results[name][what]
                )
    if stream and "dask" in results:
        for what in ("params", "se"):
            checks[f"{what}_max_rel_diff_dask_vs_stream"] = _max_rel(
                results["dask"]["full"][what], stream["full"][what]
            )
    targets = {}
    if stream:
        targets["stream_peak_rss_under_2GB"] = stream["peak_rss_bytes"] < MAX_PEAK_GB * 2**30
    if "in_memory_head_fit_over_stream" in ratios:
        targets["stream_2x_faster_per_10M_rows_than_in_memory_fit_at_head"] = (
            ratios["in_memory_head_fit_over_stream"] >= MIN_SPEEDUP
        )
    if checks:
        targets["estimates_and_ses_agree_1e-10"] = all(v <= TOLERANCE for v in checks.values())
    return {"per_10M_rows": per, "ratios": ratios}, checks, targets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    ap.add_argument("--tmp", type=Path, help="folder for the temporary data (default: system)")
    ap.add_argument("--no-write", action="store_true", help="print only, keep the results file")
    ap.add_argument("--worker", choices=(*PATHS, "write"), help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.folder, args.out)
        return 0

    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench_glm_parquet_", dir=args.tmp))
    try:
        free = shutil.disk_usage(tmp).free
        if free < args.rows * 10:  # about 2.5 bytes per row are written; keep a wide margin
            raise SystemExit(
                f"{tmp}: {free / 2**30:.1f} GB free, too little for {args.rows:,} rows"
            )
        folder = tmp / "stays"
        print(f"writing {args.rows:,} rows in chunks of {CHUNK_ROWS:,} to {folder} ...", flush=True)
        written = _run("write", folder, tmp, {**os.environ, "BENCH_ROWS": str(args.rows),
                                              "BENCH_SEED": str(args.seed)})  # fmt: skip
        print(f"  {written['files']} files, {written['bytes'] / 2**20:.0f} MB, "
              f"{written['seconds']:.0f} s", flush=True)  # fmt: skip
        head_src, head_revision = _head_package(tmp)
        for path in args.paths:
            env = dict(os.environ)
            if path == "in_memory_head":
                env["PYTHONPATH"] = os.pathsep.join([str(head_src), env.get("PYTHONPATH", "")])
            results[path] = _run(path, folder, tmp, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()

    summary, checks, targets = _summarise(args.rows, results)
    print(f"\n{args.rows:,} rows in {written['files']} files ({written['bytes'] / 2**20:.0f} MB); "
          f"load average {load_before[0]:.2f} -> {load_after[0]:.2f}")  # fmt: skip
    for path, rec in results.items():
        if "fit_seconds" in rec:
            what = f"read {rec['read_seconds']:.2f} s + fit {rec['fit_seconds']:.2f} s"
        elif "seconds_first_fit" in rec:
            what = f"{rec['seconds']:.2f} s (first fit {rec['seconds_first_fit']:.2f} s)"
        else:
            what = f"{rec['seconds']:.2f} s"
        peaks = (
            f"{rec['peak_rss_bytes'] / 2**30:.2f} GB (own {rec['peak_rss_hwm_bytes'] / 2**30:.2f})"
        )
        print(f"{path:<15}{rec['rows']:>13,} rows  {what:<36} peak RSS {peaks}")
    for key, value in {**summary["per_10M_rows"], **summary["ratios"]}.items():
        print(f"  {key}: {value:.3f}")
    for key, value in checks.items():
        print(f"  {key}: {value:.2e}")
    print("targets:", targets)

    if not args.no_write:
        from icsresearch.provenance import describe_environment, write_manifest

        record = {
            "benchmark": "glm_parquet",
            "description": __doc__.split("\n\n")[1].replace("\n", " "),
            "data": {
                "rows": args.rows,
                "seed": args.seed,
                "chunk_rows": CHUNK_ROWS,
                "row_group_rows": ROW_GROUP_ROWS,
                "subsample_rows": SUBSAMPLE_ROWS,
                "files": written["files"],
                "bytes": written["bytes"],
                "write_seconds": written["seconds"],
            },
            "model": {
                "formula": FORMULA + " | " + " + ".join(FIXED_EFFECTS),
                "inference": "CRV1 by hospital",
                "call": _fit_kwargs(),
            },
            "head_revision": head_revision,
            "machine": _machine(load_before, load_after),
            "environment": describe_environment(),
            "paths": results,
            **summary,
            "agreement": checks,
            "targets_met": targets,
        }
        print(f"wrote {write_manifest(RESULTS, record)}")  # JSON, atomically
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
