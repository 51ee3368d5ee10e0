"""Generate ``sim_panel.csv``: a seeded, unbalanced trust-year panel with gaps, for plm parity.

Run once from the repository root (the CSV is committed beside this script)::

    .venv/bin/python tests/reference/make_sim_panel.py

Design (planted values, used by the recovery tests in ``tests/test_models_panel_sim.py``):

- 150 entities ("trusts") nested in 42 clusters ("ICSs"), years 2012-2018;
- late entry, early exit and random internal gaps (so first differences and lags meet gaps);
- ``y = 2 + 0.5 x1 - 0.3 x2 + a_i + l_t + e``: entity effects ``a_i`` correlated with ``x1``
  (within and random effects disagree), year effects ``l_t``, heteroskedastic errors with an
  ICS-level shock (so clustering matters);
- ``x2`` has 2% missing values (listwise deletion); ``w`` are positive analytic weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240601
N_ENTITIES = 150
N_CLUSTERS = 42
YEARS = np.arange(2012, 2019)


def make_panel(seed: int = SEED) -> pd.DataFrame:
    """The simulated panel as a DataFrame (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    entities = [f"E{i:03d}" for i in range(1, N_ENTITIES + 1)]
    # every cluster gets at least one entity, the rest at random: entities are nested in clusters
    cluster_of = np.concatenate(
        [np.arange(N_CLUSTERS), rng.integers(0, N_CLUSTERS, N_ENTITIES - N_CLUSTERS)]
    )
    rng.shuffle(cluster_of)
    alpha = rng.normal(0.0, 1.0, N_ENTITIES)
    year_effect = dict(zip(YEARS, rng.normal(0.0, 0.5, YEARS.size), strict=True))
    cluster_shock = rng.normal(0.0, 0.7, (N_CLUSTERS, YEARS.size))

    rows = []
    for i, code in enumerate(entities):
        first = YEARS[0] if rng.random() < 0.7 else rng.integers(2013, 2016)
        last = YEARS[-1] if rng.random() < 0.8 else rng.integers(2016, 2018)
        for t, year in enumerate(YEARS):
            if year < first or year > last:
                continue
            if first < year < last and rng.random() < 0.08:  # an internal gap
                continue
            x1 = 0.8 * alpha[i] + rng.normal() + 0.1 * t
            x2 = rng.normal()
            e = rng.normal() * (0.6 + 0.4 * abs(x2)) + cluster_shock[cluster_of[i], t]
            y = 2.0 + 0.5 * x1 - 0.3 * x2 + alpha[i] + year_effect[year] + e
            rows.append(
                {
                    "entity": code,
                    "year": int(year),
                    "ics": f"Q{cluster_of[i] + 1:02d}",
                    "y": y,
                    "x1": x1,
                    "x2": x2,
                    "w": rng.uniform(0.5, 2.0),
                }
            )
    df = pd.DataFrame(rows)
    missing = rng.random(len(df)) < 0.02
    df.loc[missing, "x2"] = np.nan
    return df


def main() -> None:
    out = Path(__file__).with_name("sim_panel.csv")
    make_panel().to_csv(out, index=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
