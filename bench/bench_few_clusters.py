"""Size simulation: how often each few-cluster method rejects a true null at 42, 12, 6 clusters.

Usage (from the repository root)::

    .venv/bin/python bench/bench_few_clusters.py            # 1,000 replications per design
    .venv/bin/python bench/bench_few_clusters.py --reps 100 # quick look

The data-generating process is calibrated on the synthetic demo ICS-year panel
(``icsresearch.panel.ics_year_panel(source="demo")``, 42 systems; no mirror needed): the outcome
is the A&E four-hour percentage, decomposed by two-way demeaning into system effects, year effects
and residuals. Each replication draws ``G`` of the 42 systems without replacement and simulates
``y_it = a_i + b_t + e_it`` over the demo's 7 years, with ``a_i`` normal with the calibrated
system-effect standard deviation, ``b_t`` the calibrated year effects, and ``e_it`` an AR(1) with
the calibrated autocorrelation and **each system's own residual standard deviation** (the demo's
systems differ in size, so their noise differs: the heterogeneity that makes few treated clusters
hard).
Treatment switches on in year 5 (2016/17) for one, a few (3) or half of the systems, chosen at
random; the true effect is **zero**. Each replication fits the two-way fixed-effects regression
``y ~ d`` with ``icsresearch.models.fit`` clustered by system and records whether each method
rejects at 5%:

* CR1 (Stata convention: ``G/(G-1)(N-1)/(N-K)``, t on ``G-1`` df);
* CR2-BM (Bell-McCaffrey CR2 with its Satterthwaite df);
* CR3 (jackknife, t on ``G-1`` df; undefined with one treated system, reported as such);
* wild cluster restricted bootstrap, Webb weights, 399 replications;
* randomization inference, studentized, all assignments when there are at most 500, else 199
  random permutations.

The rejection rate of a correctly sized test is 5%; the Monte Carlo standard error of a rate p
over R replications is ``sqrt(p(1-p)/R)``. Results go to ``bench/results/few_clusters.json`` and
``bench/results/few_clusters.md`` (the table in ``docs/few-clusters.md``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
OUTCOME = "ae_4hr_pct_compiled"
YEARS = 7  # the demo's A&E years, 2012/13 - 2018/19
ADOPTION = 4  # first treated year (0-based): 4 pre-periods, 3 post
ALPHA = 0.05
METHODS = ("CR1", "CR2-BM", "CR3", "wild bootstrap", "randomization")


def calibrate() -> dict:
    """System-effect sd, year effects, residual sd per system and AR(1) coefficient."""
    from icsresearch import panel

    df = panel.ics_year_panel(source="demo")[["icb_code", "year", OUTCOME]].dropna()
    wide = df.pivot(index="icb_code", columns="year", values=OUTCOME).dropna(axis=1)
    y = wide.to_numpy()
    grand = y.mean()
    a = y.mean(axis=1) - grand
    b = y.mean(axis=0) - grand
    e = y - grand - a[:, None] - b[None, :]
    rho = float(np.sum(e[:, 1:] * e[:, :-1]) / np.sum(e[:, :-1] ** 2))
    return {
        "outcome": OUTCOME,
        "n_systems": int(y.shape[0]),
        "years": [int(c) for c in wide.columns],
        "system_sd": float(a.std(ddof=1)),
        "year_effects": np.resize(b, YEARS).tolist(),  # the demo has exactly YEARS years
        "resid_sd": e.std(axis=1, ddof=1).tolist(),
        "ar1": max(min(rho, 0.9), -0.9),
    }


def simulate(cal: dict, G: int, n_treated: int, rng: np.random.Generator) -> pd.DataFrame:
    """One panel of G systems x YEARS years with a zero treatment effect."""
    systems = rng.choice(cal["n_systems"], size=G, replace=False)
    sd = np.asarray(cal["resid_sd"])[systems]
    rho = cal["ar1"]
    e = np.empty((G, YEARS))
    e[:, 0] = rng.normal(size=G) * sd
    for t in range(1, YEARS):
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=G) * sd
    a = rng.normal(size=G) * cal["system_sd"]
    y = a[:, None] + np.asarray(cal["year_effects"])[None, :] + e
    treated = np.zeros(G, dtype=int)
    treated[rng.choice(G, size=n_treated, replace=False)] = 1
    return pd.DataFrame(
        {
            "system": np.repeat([f"S{s:02d}" for s in systems], YEARS),
            "year": np.tile(np.arange(YEARS), G),
            "y": y.ravel(),
            "d": np.repeat(treated, YEARS) * np.tile((np.arange(YEARS) >= ADOPTION), G),
        }
    )


def p_values(df: pd.DataFrame, seed: int) -> dict[str, float]:
    """The p-value of each method for H0: effect of d = 0."""
    from icsresearch.models import fit
    from icsresearch.models.inference.randomization import randomization_inference

    res = fit(
        df,
        "y ~ d",
        entity="system",
        time="year",
        effects="twoways",
        vcov="CRV1",
        convention="stata",
    )
    out = {"CR1": float(res.pvalues["d"])}
    out["CR2-BM"] = float(res.with_cov("CR2").pvalues["d"])
    out["CR3"] = float(res.with_cov("CRV3").pvalues["d"])
    out["wild bootstrap"] = res.wild_bootstrap("d", reps=399, seed=seed, weights="webb").p_value
    ri = randomization_inference(
        res, data=df, treatment="d", reps=199, max_enumerate=500, seed=seed
    )
    out["randomization"] = ri.p_value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=1000, help="replications per design")
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # the few-clusters warning of every fit
    cal = calibrate()
    designs = []
    for G in (42, 12, 6):
        for n_treated in sorted({1, min(3, G // 2), G // 2}):
            designs.append((G, n_treated))
    rows = []
    started = time.perf_counter()
    for G, n_treated in designs:
        rng = np.random.default_rng([args.seed, G, n_treated])
        rejections = {m: 0 for m in METHODS}
        t0 = time.perf_counter()
        for _ in range(args.reps):
            df = simulate(cal, G, n_treated, rng)
            for m, p in p_values(df, seed=int(rng.integers(2**31))).items():
                rejections[m] += p < ALPHA
        seconds = time.perf_counter() - t0
        for m in METHODS:
            rate = rejections[m] / args.reps
            if m == "CR3" and n_treated == 1:
                # without the only treated system the effect is not identified: the jackknife
                # is undefined (CRV3 returns a meaningless, huge standard error)
                rate = float("nan")
            rows.append(
                {
                    "clusters": G,
                    "treated": n_treated,
                    "method": m,
                    "rejection_rate": rate,
                    "mc_se": float(np.sqrt(rate * (1 - rate) / args.reps)),
                }
            )
        print(
            f"G={G:2d} treated={n_treated:2d}: {args.reps} reps in {seconds:.0f}s  "
            + "  ".join(f"{m} {rejections[m] / args.reps:.3f}" for m in METHODS),
            flush=True,
        )
    total = time.perf_counter() - started
    table = pd.DataFrame(rows)
    wide = table.pivot_table(
        index=["clusters", "treated"], columns="method", values="rejection_rate", sort=False
    )[list(METHODS)]
    se = table.pivot_table(
        index=["clusters", "treated"], columns="method", values="mc_se", sort=False
    )[list(METHODS)]
    lines = [
        "| clusters | treated | " + " | ".join(METHODS) + " |",
        "|---:|---:|" + "---:|" * len(METHODS),
    ]
    for (G, n_treated), rates in wide.iterrows():
        cells = [
            "undefined"
            if np.isnan(rates[m])
            else f"{100 * rates[m]:.1f} ({100 * se.loc[(G, n_treated), m]:.1f})"
            for m in METHODS
        ]
        lines.append(f"| {G} | {n_treated} | " + " | ".join(cells) + " |")
    markdown = "\n".join(lines)
    note = (
        f"\nRejection rates (%) at the 5% level of a true null (effect 0), Monte Carlo standard "
        f"errors in parentheses; {args.reps} replications per row, seed {args.seed}.\n"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "few_clusters.md").write_text(markdown + "\n" + note)
    for row in rows:  # strict JSON has no NaN: an undefined rate is null
        for key in ("rejection_rate", "mc_se"):
            if row[key] != row[key]:
                row[key] = None
    payload = {
        "benchmark": "few_clusters",
        "reps": args.reps,
        "seed": args.seed,
        "alpha": ALPHA,
        "calibration": {k: v for k, v in cal.items() if k != "resid_sd"}
        | {
            "resid_sd_min_median_max": [
                float(np.min(cal["resid_sd"])),
                float(np.median(cal["resid_sd"])),
                float(np.max(cal["resid_sd"])),
            ]
        },
        "rows": rows,
        "seconds": total,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    (RESULTS / "few_clusters.json").write_text(
        json.dumps(payload, indent=2, allow_nan=False) + "\n"
    )
    print(markdown + note)
    print(f"total {total:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
