"""Benchmark: icsresearch.models.fit against linearmodels on the same trust-panel fits.

Usage (from the repository root)::

    ICSRESEARCH_MIRROR=../shared/data .venv/bin/python bench/bench_panel_fit.py

Uses the real trust panel (non-specialist acute trusts 2012-2018, SHMI on managers FTE, about 920
rows) read from the mirror, or the committed simulated panel when no mirror is set. Each fit is
timed end to end from a DataFrame (formula parsing, listwise deletion, estimation, covariance);
the median of several repeats is reported, with the ratio ours / linearmodels. Results are printed
and written to ``bench/results/panel_fit.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

REPEATS = 15


def load_panel() -> tuple[pd.DataFrame, str, str, str, str]:
    """(data, formula, entity column, regressor, description)."""
    mirror = os.environ.get("ICSRESEARCH_MIRROR")
    if mirror and (Path(mirror) / "sources.csv").is_file():
        from test_models_panel_data import real_trust_panel

        df = real_trust_panel(Path(mirror))
        df = df[df["shmi"].notna()].reset_index(drop=True)
        return df, "shmi ~ managers_fte", "trust_code", "managers_fte", "real trust panel (SHMI)"
    from test_models_panel_data import sim_panel

    return sim_panel(), "y ~ x1 + x2", "entity", "x1", "simulated panel"


def timed(fn) -> float:
    fn()  # warm-up: imports and caches
    runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    from linearmodels.panel import (
        BetweenOLS,
        FirstDifferenceOLS,
        PanelOLS,
        PooledOLS,
        RandomEffects,
    )

    from icsresearch.models import fit

    warnings.simplefilter("ignore")
    df, formula, entity, x, label = load_panel()
    kw = {"entity": entity, "time": "year"}
    lhs, rhs = (s.strip() for s in formula.split("~"))
    indexed = df.set_index([entity, "year"])
    complete = indexed.dropna(subset=[lhs, *rhs.split(" + ")])

    cases = {
        "pooled, clustered": (
            lambda: fit(df, formula, model="pooled", vcov="CRV1", **kw),
            lambda: PooledOLS.from_formula(f"{lhs} ~ 1 + {rhs}", indexed).fit(
                cov_type="clustered", cluster_entity=True
            ),
        ),
        "between": (
            lambda: fit(df, formula, model="between", **kw),
            lambda: BetweenOLS.from_formula(f"{lhs} ~ 1 + {rhs}", indexed).fit(),
        ),
        "within entity, clustered": (
            lambda: fit(df, formula, model="within", vcov="CRV1", **kw),
            lambda: PanelOLS.from_formula(f"{formula} + EntityEffects", indexed).fit(
                cov_type="clustered", cluster_entity=True
            ),
        ),
        "within two-way, clustered": (
            lambda: fit(df, formula, model="within", effects="twoways", vcov="CRV1", **kw),
            lambda: PanelOLS.from_formula(f"{formula} + EntityEffects + TimeEffects", indexed).fit(
                cov_type="clustered", cluster_entity=True
            ),
        ),
        "within entity, Driscoll-Kraay": (
            lambda: fit(df, formula, model="within", vcov="DK", **kw),
            lambda: PanelOLS.from_formula(f"{formula} + EntityEffects", indexed).fit(
                cov_type="kernel", kernel="bartlett", bandwidth=1
            ),
        ),
        "random effects (Swamy-Arora)": (
            lambda: fit(df, formula, model="random", **kw),
            lambda: RandomEffects.from_formula(f"{lhs} ~ 1 + {rhs}", complete).fit(),
        ),
        "first differences": (
            lambda: fit(df, f"{formula} - 1", model="fd", **kw),
            lambda: FirstDifferenceOLS.from_formula(formula, complete).fit(),
        ),
    }
    rows = []
    for name, (ours, theirs) in cases.items():
        t_ours, t_lm = timed(ours), timed(theirs)
        rows.append(
            {
                "fit": name,
                "icsresearch_ms": round(1000 * t_ours, 2),
                "linearmodels_ms": round(1000 * t_lm, 2),
                "ratio": round(t_ours / t_lm, 3),
            }
        )
        print(
            f"{name:32s} icsresearch {1000 * t_ours:7.2f} ms   linearmodels {1000 * t_lm:7.2f} ms"
            f"   ratio {t_ours / t_lm:5.2f}"
        )
    boot = timed(
        lambda: fit(df, formula, model="within", vcov="CRV1", **kw).wild_bootstrap(
            x, reps=9999, seed=1
        )
    )
    print(f"{'within + wild bootstrap (9,999)':32s} icsresearch {1000 * boot:7.2f} ms")
    out = {
        "data": label,
        "rows": int(len(df)),
        "repeats": REPEATS,
        "statistic": "median wall time per fit, from a DataFrame",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "fits": rows,
        "within_clustered_plus_wild_bootstrap_9999_ms": round(1000 * boot, 2),
    }
    path = ROOT / "bench/results/panel_fit.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
