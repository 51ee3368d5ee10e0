"""Generate ``cr2_panel.csv``: a small seeded panel with few clusters, for clubSandwich CR2 parity.

Run once from the repository root (the CSV is committed beside this script; the R script
``make_cr2_reference.R`` reads it)::

    .venv/bin/python tests/reference/make_cr2_panel.py

Design: 40 entities nested in 12 clusters ("ics", unequal sizes: 1 to 7 entities), years
2015-2022; late entry, early exit and internal gaps (unbalanced, so first differences lose rows
after a gap); ``y = 1 + 0.4 x1 - 0.2 x2 + a_i + l_t + u_gt + e`` with entity effects ``a_i``
correlated with ``x1``, year effects, a cluster-year shock ``u_gt`` and heteroskedastic errors.
Few clusters of unequal size are the case CR2 and Satterthwaite degrees of freedom are for
(Bell & McCaffrey 2002; Pustejovsky & Tipton 2018). No missing values: every row is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261205
N_ENTITIES = 40
N_CLUSTERS = 12
YEARS = np.arange(2015, 2023)


def make_panel(seed: int = SEED) -> pd.DataFrame:
    """The simulated panel as a DataFrame (deterministic for a given seed).

    Parameters
    ----------
    seed
        Seed of the numpy random generator.
    """
    rng = np.random.default_rng(seed)
    # every cluster gets at least one entity; the rest go preferentially to the first clusters,
    # so cluster sizes are unequal (the leverage CR2 corrects for differs between clusters)
    extra = rng.choice(
        N_CLUSTERS, N_ENTITIES - N_CLUSTERS, p=np.linspace(2, 0.2, N_CLUSTERS) / 13.2
    )
    cluster_of = np.concatenate([np.arange(N_CLUSTERS), extra])
    rng.shuffle(cluster_of)
    alpha = rng.normal(0.0, 1.0, N_ENTITIES)
    year_effect = rng.normal(0.0, 0.5, YEARS.size)
    shock = rng.normal(0.0, 0.6, (N_CLUSTERS, YEARS.size))
    rows = []
    for i in range(N_ENTITIES):
        first = YEARS[0] if rng.random() < 0.7 else rng.integers(2016, 2019)
        last = YEARS[-1] if rng.random() < 0.8 else rng.integers(2019, 2022)
        for t, year in enumerate(YEARS):
            if year < first or year > last:
                continue
            if first < year < last and rng.random() < 0.1:  # an internal gap
                continue
            x1 = 0.7 * alpha[i] + rng.normal() + 0.15 * t
            x2 = rng.normal() + 0.5 * shock[cluster_of[i], t]
            e = rng.normal() * (0.5 + 0.5 * abs(x1 - alpha[i]))
            y = 1.0 + 0.4 * x1 - 0.2 * x2 + alpha[i] + year_effect[t] + shock[cluster_of[i], t] + e
            rows.append(
                {
                    "entity": f"E{i + 1:02d}",
                    "year": int(year),
                    "ics": f"G{cluster_of[i] + 1:02d}",
                    "y": y,
                    "x1": x1,
                    "x2": x2,
                }
            )
    return pd.DataFrame(rows).sort_values(["entity", "year"]).reset_index(drop=True)


def main() -> None:
    """Write the CSV beside this script."""
    out = Path(__file__).with_name("cr2_panel.csv")
    make_panel().to_csv(out, index=False, float_format="%.17g")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
