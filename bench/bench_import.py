"""Benchmark: how long ``import icsresearch`` costs a fresh interpreter (every report kernel pays it).

Usage::

    .venv/bin/python bench/bench_import.py

Each import runs in a new subprocess (median of 15); the interpreter's own start-up (``python -c
pass``) is subtracted. The obvious alternative is a package that imports its dependencies eagerly:
we time ``import pandas`` (the least any eager data package pays) and ``import icsresearch.panel``
(the whole data stack) in the same run. Target: under 0.3 s. Results go to
``bench/results/import.json``.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPEATS = 15
RESULTS = Path(__file__).resolve().parent / "results" / "import.json"


def wall(code: str) -> float:
    runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    base = wall("pass")
    rows = {
        name: wall(code) - base
        for name, code in {
            "import icsresearch": "import icsresearch",
            "import pandas (eager alternative)": "import pandas",
            "import icsresearch.panel (full data stack)": "import icsresearch.panel",
        }.items()
    }
    ours = rows["import icsresearch"]
    result = {
        "python": platform.python_version(),
        "cpus": 2,
        "repeats": REPEATS,
        "statistic": "median wall time, interpreter start-up subtracted",
        "interpreter_startup_s": round(base, 4),
        "imports_s": {k: round(v, 4) for k, v in rows.items()},
        "ratio_eager_over_lazy": round(rows["import pandas (eager alternative)"] / ours, 1),
        "target_s": 0.3,
        "meets_target": ours < 0.3,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for k, v in rows.items():
        print(f"{k:45s} {v * 1000:8.1f} ms")
    print(f"eager/lazy ratio: {result['ratio_eager_over_lazy']}x  -> {RESULTS}")


if __name__ == "__main__":
    main()
