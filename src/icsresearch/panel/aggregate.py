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
    do); a weighted mean uses rows reporting both the value and its volume weight, and falls back
    to the ICS/merge weight alone when no row in the group reports the volume; a ratio uses rows
    reporting both numerator and denominator.
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
            volume = (
                df[rule.split(":", 1)[1]].astype(float) if rule.split(":", 1)[1] in df else None
            )
            xv = x.astype(float)
            ok = xv.notna()
            if volume is not None:
                vw = w * volume
                use_v = ok & vw.notna() & (vw > 0)
                num_v, den_v = gsum((xv * vw).where(use_v)), gsum(vw.where(use_v))
            else:
                num_v = den_v = pd.Series(np.nan, index=grouped_index)
            num_w, den_w = gsum((xv * w).where(ok)), gsum(w.where(ok))
            with np.errstate(invalid="ignore", divide="ignore"):
                by_volume = num_v / den_v.where(den_v > 0)
                by_weight = num_w / den_w.where(den_w > 0)
            out[col.name] = by_volume.fillna(by_weight)
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
