"""Aggregate trust rows with the panel's rules: merged trusts, and trusts into ICSs.

Each column's rule comes from :mod:`icsresearch.panel.columns` (``sum``, ``mean:<volume>``,
``ratio:<num>/<den>:<scale>``, ``first``). Rows carry a weight (``_w``): 1 when merging trust codes,
the trust's ICS weight when building ICS figures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .columns import PanelColumn


def aggregate(
    rows: pd.DataFrame,
    keys: Sequence[str],
    columns: Sequence[PanelColumn],
    weight: str | None = None,
) -> pd.DataFrame:
    """Aggregate ``rows`` within ``keys`` using each column's rule.

    Missing values are skipped: a sum is over the rows that report the column (missing if none
    do); a weighted mean uses rows reporting both the value and its volume weight (the first of
    the rule's volumes that any row in the group reports), and falls back to the ICS/merge weight
    alone when no row in the group reports a volume; a ratio uses rows reporting both numerator
    and denominator.
    """
    keys = list(keys)
    df = rows.copy()
    w = df[weight].astype(float) if weight else pd.Series(1.0, index=df.index)
    grouped_index = df.groupby(keys, sort=True).size().index
    out = pd.DataFrame(index=grouped_index)
    gkeys = [df[k] for k in keys]

    def gsum(values: pd.Series) -> pd.Series:
        return values.groupby(gkeys, sort=True).sum(min_count=1).reindex(grouped_index)

    for col in columns:
        if col.name in keys or col.name not in df.columns:
            continue
        rule = col.agg
        x = df[col.name]
        if rule == "first":
            out[col.name] = x.groupby(gkeys, sort=True).first().reindex(grouped_index)
        elif rule == "sum":
            out[col.name] = gsum(x.astype(float) * w)
        elif rule.startswith("mean:"):
            xv = x.astype(float)
            ok = xv.notna()
            result = pd.Series(np.nan, index=grouped_index)
            # Volumes in order of preference: a group uses the first one any of its rows report.
            for volume_name in rule.split(":", 1)[1].split("|"):
                if volume_name not in df:
                    continue
                vw = w * df[volume_name].astype(float)
                use = ok & vw.notna() & (vw > 0)
                num, den = gsum((xv * vw).where(use)), gsum(vw.where(use))
                with np.errstate(invalid="ignore", divide="ignore"):
                    result = result.fillna(num / den.where(den > 0))
            num_w, den_w = gsum((xv * w).where(ok)), gsum(w.where(ok))
            with np.errstate(invalid="ignore", divide="ignore"):
                out[col.name] = result.fillna(num_w / den_w.where(den_w > 0))
        elif rule.startswith("ratio:"):
            _, frac, scale = rule.split(":")
            num_col, den_col = frac.split("/")
            if num_col in df and den_col in df:
                num, den = df[num_col].astype(float), df[den_col].astype(float)
                both = num.notna() & den.notna()
                n, d = gsum((num * w).where(both)), gsum((den * w).where(both))
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[col.name] = n / d.where(d > 0) * float(scale)
            else:
                out[col.name] = np.nan
        else:  # pragma: no cover - a typo in columns.py
            raise ValueError(f"unknown aggregation rule {rule!r} for {col.name}")
    return out.reset_index()
