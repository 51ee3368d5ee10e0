"""ICS-year aggregation shared by the real and demo panels."""

from __future__ import annotations

import pandas as pd

from ..indicators import withhold_partial_systems
from ..schemas import fy_label
from .aggregate import aggregate
from .columns import ICS_YEAR_COLUMNS, INDICATOR_COLUMNS


def build_ics_year(
    trusts: pd.DataFrame,
    weights: pd.DataFrame,
    icbs: pd.DataFrame,
    covariates: pd.DataFrame,
    data_source: str,
) -> pd.DataFrame:
    """Aggregate a trust-year panel to ICS-years with the trust -> ICS weights.

    ``weights``: trust_code, icb_code, weight (summing to 1 per trust). ``icbs``: the footprint's
    ICB table. ``covariates``: icb_code plus the ICS covariate columns.
    """
    rows = trusts.drop(columns=["icb_code", "icb_name", "icb_weight"], errors="ignore").merge(
        weights[["trust_code", "icb_code", "weight"]], on="trust_code", how="inner"
    )
    rows = rows[rows["weight"] > 0]
    agg = aggregate(rows, ["icb_code", "year"], INDICATOR_COLUMNS, weight="weight")
    n = rows.groupby(["icb_code", "year"])["trust_code"].nunique().rename("n_trusts").reset_index()
    # Every ICS appears in every year from the first to the last, even with no reporting trust:
    # a year no file covers (2020/21) is a row of missing values, so charts show the gap.
    years = list(range(int(trusts["year"].min()), int(trusts["year"].max()) + 1))
    grid = pd.MultiIndex.from_product(
        [icbs["icb_code"], years], names=["icb_code", "year"]
    ).to_frame(index=False)
    out = grid.merge(agg, on=["icb_code", "year"], how="left").merge(
        n, on=["icb_code", "year"], how="left"
    )
    out["n_trusts"] = out["n_trusts"].fillna(0).astype(int)
    out = out.merge(
        icbs[["icb_code", "icb_name", "short_name", "region_code", "region_name"]],
        on="icb_code",
        how="left",
    )
    out = out.merge(covariates, on="icb_code", how="left")
    out["fy"] = out["year"].map(fy_label)
    out["data_source"] = data_source
    out = withhold_partial_systems(out)
    for col in ICS_YEAR_COLUMNS:
        if col.name not in out:
            out[col.name] = float("nan")
    return (
        out[[c.name for c in ICS_YEAR_COLUMNS]]
        .sort_values(["icb_code", "year"])
        .reset_index(drop=True)
    )
