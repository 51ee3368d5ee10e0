"""Regenerate tests/reference/honestdid_medicaid.json (Rambachan-Roth reference values).

Input (not committed: it is not this project's to redistribute): the Medicaid-expansion panel of
the HonestDiD README example (share of low-income childless adults with health insurance,
``dins``, by US state and year 2008-2019; ``yexp2`` the year the state expanded Medicaid, empty
if never), ``Exercises/Data/ehec_data.csv`` of github.com/Mixtape-Sessions/Advanced-DID at commit
597021a2d5dbc3bc5eed233bb8c12ab6ca143ca9 (the file the README reads as ``ehec_data.dta``):
download it and pass its path. Only the estimates derived from it (``betahat``, ``sigma``) and
the published intervals are committed, in the JSON.

1. The README's event study: years < 2016, the 2015 cohort dropped, ``D`` = expanded in 2014,
   ``feols(dins ~ i(year, D, ref = 2013) | stfips + year, cluster = "stfips")`` -- pyfixest gives
   the same numbers as fixest (same small-sample rules). Its ``betahat`` and ``sigma`` are saved.
2. ``published``: the intervals printed in the HonestDiD README (github.com/asheshrambachan/
   HonestDiD, README.md, sections "Sensitivity analysis using relative magnitudes restrictions"
   and "Sensitivity Analysis Using Smoothness Restrictions"), copied by hand, and the original
   interval and the relative-magnitudes intervals for the average of the two post-periods
   printed by the Stata port's README (github.com/mcaceresb/stata-honestdid), to 3 decimals.
3. ``honestdid_python``: the same smoothness intervals from the PyPI port ``honestdid`` 0.1.1
   (if installed; it needs torch and cvxpy, so it is not a test dependency). Its relative
   magnitudes function fails on this input (TypeError in _lp_conditional_test_fn), so none.

Run: ``.venv/bin/python tests/reference/make_honestdid_medicaid.py PATH/ehec_data.csv`` from the
repository root.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf

HERE = Path(__file__).parent

PUBLISHED = {
    "source": "HonestDiD README.md (asheshrambachan/HonestDiD), Medicaid expansion example",
    "smoothness_first_post": {
        "M": [0.0, 0.01, 0.02, 0.03, 0.04, 0.05],
        "lb": [0.0259, 0.0132, 0.00286, -0.00714, -0.0171, -0.0271],
        "ub": [0.0607, 0.0787, 0.0907, 0.101, 0.111, 0.121],
    },
    "relative_magnitudes_first_post": {
        "Mbar": [0.5, 1.0, 1.5, 2.0],
        "lb": [0.0240, 0.0170, 0.00824, -0.000916],
        "ub": [0.0672, 0.0720, 0.0797, 0.0881],
    },
    "original_first_post_stata_readme": {"lb": 0.029, "ub": 0.064},
    "relative_magnitudes_average_stata_readme": {
        "source": "stata-honestdid README.md (mcaceresb/stata-honestdid), l_vec = (0.5, 0.5)",
        "Mbar": [0.0, 0.5, 1.0, 1.5, 2.0],
        "lb": [0.041, 0.033, 0.020, 0.006, -0.008],
        "ub": [0.075, 0.080, 0.090, 0.103, 0.117],
    },
}


EHEC_URL = (
    "https://raw.githubusercontent.com/Mixtape-Sessions/Advanced-DID/"
    "597021a2d5dbc3bc5eed233bb8c12ab6ca143ca9/Exercises/Data/ehec_data.csv"
)


def medicaid_event_study(path: Path) -> tuple[np.ndarray, np.ndarray]:
    long = pd.read_csv(path, usecols=["stfips", "year", "dins", "yexp2"])
    long["year"] = long["year"].astype(int)
    keep = (long["year"] < 2016) & (long["yexp2"].isna() | (long["yexp2"] != 2015))
    d = long[keep].copy()
    d["D"] = (d["yexp2"] == 2014).astype(int)
    fit = pf.feols("dins ~ i(year, D, ref=2013) | stfips + year", data=d, vcov={"CRV1": "stfips"})
    return fit.coef().to_numpy(), np.asarray(fit._vcov)


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: make_honestdid_medicaid.py PATH/ehec_data.csv (from {EHEC_URL})")
    beta, sigma = medicaid_event_study(Path(sys.argv[1]))
    out = {
        "about": __doc__.split("\n\n")[0],
        "data": EHEC_URL,
        "num_pre": 5,
        "num_post": 2,
        "betahat": beta.tolist(),
        "sigma": sigma.tolist(),
        "published": PUBLISHED,
    }
    try:
        import honestdid

        sd = honestdid.createSensitivityResults(
            beta, sigma, 5, 2, Mvec=np.array(PUBLISHED["smoothness_first_post"]["M"])
        )
        out["honestdid_python"] = {
            "version": honestdid.__version__,
            "smoothness_first_post": {
                "M": sd["M"].tolist(),
                "lb": sd["lb"].tolist(),
                "ub": sd["ub"].tolist(),
            },
        }
    except ImportError:  # pragma: no cover - optional second reference
        pass
    (HERE / "honestdid_medicaid.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
