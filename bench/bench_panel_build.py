"""Benchmark: building the real trust-year panel from a warm file cache.

Usage (the mirror must be set; files are copied into a fresh cache first)::

    ICSRESEARCH_MIRROR=../shared/data .venv/bin/python bench/bench_panel_build.py

Three timings, each in a fresh subprocess so no in-process cache helps:

* **build**: files already fetched (warm file cache), no panel cache: every reader parses its file
  and the panel is assembled. Target: under 5 s.
* **build with openpyxl**: the same, but workbooks parsed with openpyxl (pandas' default engine,
  the obvious alternative to calamine).
* **cached**: the Parquet panel cache hit that every later call gets.

Results go to ``bench/results/panel_build.json`` with the ratios.
"""

from __future__ import annotations

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

RESULTS = Path(__file__).resolve().parent / "results" / "panel_build.json"
REPEATS = 3

BUILD = (
    "import time, pandas, numpy\n"
    "from icsresearch.panel import trust_year_panel\n"
    "t0 = time.perf_counter(); trust_year_panel('real', cache={cache})\n"
    "print(time.perf_counter() - t0)"
)
OPENPYXL = (
    "import icsresearch.sources._base as b, openpyxl, pandas as pd\n"
    "def read_xlsx(src, sheet, *, required, header_row=0):\n"
    "    wb = openpyxl.load_workbook(src.path, read_only=True, data_only=True)\n"
    "    rows = list(wb[sheet].iter_rows(values_only=True)); wb.close()\n"
    "    head = [str(h).strip() if h is not None else f'unnamed_{i}' for i, h in enumerate(rows[header_row])]\n"
    "    return pd.DataFrame(rows[header_row + 1:], columns=head).dropna(how='all')\n"
    "b.read_xlsx = read_xlsx\n"
    "import icsresearch.sources.workforce as w, icsresearch.sources.cqc as c, icsresearch.sources.trust_ics as t\n"
    "w.read_xlsx = c.read_xlsx = t.read_xlsx = read_xlsx\n"
)


def timed(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Median (process wall time, time printed by the process for the build itself)."""
    walls, inner = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True
        )
        walls.append(time.perf_counter() - t0)
        lines = out.stdout.strip().splitlines()
        inner.append(float(lines[-1]) if lines else float("nan"))
    return statistics.median(walls), statistics.median(inner)


def main() -> None:
    if not os.environ.get("ICSRESEARCH_MIRROR"):
        sys.exit(
            "Set ICSRESEARCH_MIRROR (e.g. ../shared/data): this benchmark reads the real files."
        )
    cache = Path(tempfile.mkdtemp(prefix="icsresearch-bench-"))
    env = {**os.environ, "ICSRESEARCH_CACHE": str(cache), "ICSRESEARCH_OFFLINE": "1"}
    try:
        subprocess.run(
            [sys.executable, "-m", "icsresearch.cli", "data", "fetch", "--all", "-q"],
            check=True,
            env=env,
        )
        build_wall, build = timed(BUILD.format(cache=False), env)
        _, openpyxl = timed(OPENPYXL + BUILD.format(cache=False), env)
        subprocess.run(
            [sys.executable, "-c", BUILD.format(cache=True)],
            check=True,
            env=env,
            capture_output=True,
        )
        _, cached = timed(BUILD.format(cache=True), env)
        load = os.getloadavg()[0]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    result = {
        "python": platform.python_version(),
        "repeats": REPEATS,
        "statistic": "median time of the build call in a fresh process (pandas/numpy already imported)",
        "load_average_1min": round(load, 2),
        "build_s": round(build, 2),
        "build_process_wall_s": round(build_wall, 2),
        "build_with_openpyxl_s": round(openpyxl, 2),
        "cached_s": round(cached, 2),
        "ratio_openpyxl_over_calamine": round(openpyxl / build, 1),
        "ratio_build_over_cached": round(build / cached, 1),
        "target_build_s": 5.0,
        "meets_target": build < 5.0,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
