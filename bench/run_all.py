"""Run every benchmark in bench/ in turn (``make bench``); each writes bench/results/<name>.json.

The real-data benchmarks need ``ICSRESEARCH_MIRROR``. Expect about 20-30 minutes on 2 cores: the
collapsed-GLM benchmark fits 5,000,000 rows three ways and the report benchmark runs 42
papermill command lines as its baseline. Pass benchmark names to run a subset, e.g.
``python bench/run_all.py import panel_build``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = (
    "import",
    "panel_build",
    "panel_fit",
    "panel_scale",
    "collapsed_glm",
    "glm_parquet",
    "reports",
    "shared_layers",
    "few_clusters",
)


def main(argv: list[str]) -> int:
    chosen = argv or list(ORDER)
    failed = []
    for name in chosen:
        script = HERE / f"bench_{name}.py"
        if not script.is_file():
            print(f"no benchmark {name!r}; choose from {', '.join(ORDER)}")
            return 2
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(script)]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
