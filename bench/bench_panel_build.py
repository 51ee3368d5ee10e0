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

BUILD = "from icsresearch.panel import trust_year_panel; trust_year_panel('real', cache={cache})"
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


def timed(code: str, env: dict[str, str]) -> float:
    runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    if not os.environ.get("ICSRESEARCH_MIRROR"):
        sys.exit("Set ICSRESEARCH_MIRROR (e.g. ../shared/data): this benchmark reads the real files.")
    cache = Path(tempfile.mkdtemp(prefix="icsresearch-bench-"))
    env = {**os.environ, "ICSRESEARCH_CACHE": str(cache), "ICSRESEARCH_OFFLINE": "1"}
    try:
        subprocess.run([sys.executable, "-m", "icsresearch.cli", "data", "fetch", "--all", "-q"], check=True, env=env)
        startup = timed("import icsresearch", env)
        build = timed(BUILD.format(cache=False), env)
        openpyxl = timed(OPENPYXL + BUILD.format(cache=False), env)
        subprocess.run([sys.executable, "-c", BUILD.format(cache=True)], check=True, env=env)
        cached = timed(BUILD.format(cache=True), env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    result = {
        "python": platform.python_version(),
        "repeats": REPEATS,
        "statistic": "median wall time of a fresh process (includes ~%.2f s interpreter + import)" % startup,
        "build_s": round(build, 2),
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
