"""How units differ, stated with its uncertainty: variance shares, extreme ratios, concentration, ranks.

Headlines about integrated care systems take forms such as "threefold variation between ICSs"
(a ratio of the highest to the lowest value), "three systems hold a quarter of the longest waits"
(a concentration share) and league tables (ranks). Each function here computes such a statement
together with what it needs to be read honestly:

* :func:`variance_shares`: how much of the variation of a value lies between groups (systems)
  and how much within them (over time, or between the trusts of a system), descriptively (sums
  of squares) and as a variance-component share (intraclass correlation) that is net of the
  share group means would take by chance.
* :func:`ratio_of_extremes`, :func:`top_share` and :func:`rank_intervals`: the statement for
  shares ``numerator / denominator`` (e.g. patients waiting 13+ weeks / patients waiting) with a
  bootstrap interval.

The bootstrap (:func:`share_replicates`) redraws each unit's numerator as
``Binomial(denominator, numerator / denominator)`` with its denominator fixed: chance alone, as if
every patient were an independent trial, which gives the narrowest interval there can be. Other
sources of uncertainty (month-to-month movement, the clustering of patients within trusts'
services) are not in it.

Percentile intervals are used throughout. Extremes (maxima, minima, top-k selections) are
re-selected in every replicate, so the intervals include the uncertainty of *which* units are
the extremes; where units are close, that makes an interval lopsided around its estimate.

Methods: Henderson CR (1953) *Biometrics* 9:226-252 (method III variance components);
Goldstein H, Spiegelhalter DJ (1996) *JRSS A* 159:385-443 (rank intervals); Davison AC, Hinkley
DV (1997) *Bootstrap Methods and their Application*, Cambridge University Press (percentile
intervals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InvalidParameterError

__all__ = [
    "ShareReplicates",
    "rank_intervals",
    "ratio_of_extremes",
    "share_replicates",
    "top_share",
    "variance_shares",
]


# --- variance shares ------------------------------------------------------------------------------


def _dummies(codes: pd.Series) -> np.ndarray:
    values, index = np.unique(codes.astype(str).to_numpy(), return_inverse=True)
    out = np.zeros((len(codes), len(values)))
    out[np.arange(len(codes)), index] = 1.0
    return out


def _rss(y: np.ndarray, x: np.ndarray) -> float:
    """Residual sum of squares of the least-squares fit of ``y`` on the columns of ``x``."""
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    r = y - x @ beta
    return float(r @ r)


def variance_shares(
    data: pd.DataFrame, value: str, group: str, *, time: str | None = None
) -> pd.Series:
    """How much of the variation of ``value`` lies between groups and how much within them.

    With ``time`` (e.g. ``"year"``) the common change over time is removed first (period fixed
    effects), so the shares describe persistent differences between groups against each
    group's own movement relative to the national trend. Rows with a missing value are left
    out; unbalanced data are handled exactly (sequential sums of squares).

    Parameters
    ----------
    data
        One row per observation (e.g. ICS-year, or trust within ICS).
    value
        Column to decompose.
    group
        Column naming the group (e.g. ``"icb_code"``).
    time
        Optional period column whose fixed effects are removed first.

    Returns
    -------
    pandas.Series
        ``observations``, ``groups``, ``periods`` (1 without ``time``); ``ss_total`` (around the
        grand mean), ``ss_time`` (explained by the periods), ``ss_between`` (explained by the
        groups after the periods), ``ss_within`` (residual); ``between_share`` = ss_between /
        (ss_between + ss_within), the R-squared of group means after removing periods;
        ``expected_share_if_no_groups`` = about the between_share expected if groups did not matter
        at all ((k - 1) / (N - T) for k groups, N observations, T periods; (k - 1) / (N - 1)
        without time); ``var_between`` and ``var_within``, the variance components of the
        random-intercept model estimated by Henderson's method III (the ANOVA estimator;
        ``var_between`` truncated at 0); ``icc`` = var_between / (var_between + var_within),
        the share of the variance that lies between groups net of chance.

    Raises
    ------
    InvalidParameterError
        A column is missing, or fewer than two groups or no within-group replication remain.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ics": list("AABBCC"), "year": [1, 2] * 3, "y": [1, 2, 3, 4, 8, 9.0]})
    >>> s = variance_shares(df, "y", "ics", time="year")
    >>> float(round(s["between_share"], 3)), float(round(s["icc"], 3))
    (1.0, 1.0)
    """
    needed = [value, group] + ([time] if time else [])
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise InvalidParameterError(
            f"variance_shares: column(s) {missing} are not in the data; it has {list(data.columns)}."
        )
    d = data[needed].copy()
    d[value] = pd.to_numeric(d[value], errors="coerce")
    d = d.dropna()
    y = d[value].to_numpy(float)
    n = len(y)
    z = _dummies(d[group])
    k = z.shape[1]
    x = _dummies(d[time]) if time else np.ones((n, 1))
    periods = x.shape[1]
    xz = np.hstack([x, z])
    rank_x, rank_xz = np.linalg.matrix_rank(x), np.linalg.matrix_rank(xz)
    df_between, df_within = rank_xz - rank_x, n - rank_xz
    if k < 2 or df_within < 1:
        raise InvalidParameterError(
            f"variance_shares: {value!r} has {n} non-missing rows in {k} group(s)"
            + (f" and {periods} period(s)" if time else "")
            + ": need at least two groups and more rows than groups and periods together."
        )
    ss_total = float(((y - y.mean()) ** 2).sum())
    rss_time = _rss(y, x)
    rss_both = _rss(y, xz)
    ss_between = rss_time - rss_both
    ss_within = rss_both
    # Henderson III: E[ss_between] = df_between var_w + tr(Z' M Z) var_b, M = I - P_X.
    mz = z - x @ np.linalg.lstsq(x, z, rcond=None)[0]
    trace = float((mz**2).sum())
    ms_within = ss_within / df_within
    var_between = max(0.0, (ss_between - df_between * ms_within) / trace)
    resid_total = ss_between + ss_within
    return pd.Series(
        {
            "observations": n,
            "groups": k,
            "periods": periods,
            "ss_total": ss_total,
            "ss_time": ss_total - rss_time,
            "ss_between": ss_between,
            "ss_within": ss_within,
            "between_share": ss_between / resid_total if resid_total > 0 else np.nan,
            "expected_share_if_no_groups": df_between / (df_between + df_within),
            "var_between": var_between,
            "var_within": ms_within,
            "icc": var_between / (var_between + ms_within)
            if var_between + ms_within > 0
            else np.nan,
        },
        name=value,
    )


# --- bootstrap of shares -----------------------------------------------------------------------


@dataclass
class ShareReplicates:
    """Bootstrap replicates of unit numerators and denominators (see :func:`share_replicates`).

    Attributes
    ----------
    units
        Unit codes, in the column order of the arrays.
    numerator, denominator
        Observed totals per unit.
    numerator_reps, denominator_reps
        Arrays of shape ``(reps, units)``: the totals in each bootstrap replicate.
    resample
        ``"patients"`` (binomial resampling).
    seed
        The random seed used.
    """

    units: pd.Index
    numerator: np.ndarray
    denominator: np.ndarray
    numerator_reps: np.ndarray
    denominator_reps: np.ndarray
    resample: str
    seed: int | None

    @property
    def shares(self) -> np.ndarray:
        """Observed shares (numerator / denominator; NaN where the denominator is 0)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.denominator > 0, self.numerator / self.denominator, np.nan)

    @property
    def share_reps(self) -> np.ndarray:
        """Replicate shares, shape ``(reps, units)``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                self.denominator_reps > 0,
                self.numerator_reps / self.denominator_reps,
                np.nan,
            )


def _check_counts(data: pd.DataFrame, numerator: str, denominator: str, unit: str):
    cols = [unit, numerator, denominator]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise InvalidParameterError(
            f"column(s) {missing} are not in the data; it has {list(data.columns)}."
        )
    num = pd.to_numeric(data[numerator], errors="coerce").to_numpy(float)
    den = pd.to_numeric(data[denominator], errors="coerce").to_numpy(float)
    bad = np.isnan(num) | np.isnan(den)
    if bad.any():
        rows = data.loc[bad, unit].astype(str).tolist()[:5]
        raise InvalidParameterError(
            f"{numerator!r} or {denominator!r} is missing for {int(bad.sum())} row(s) "
            f"(units {rows}): drop or complete them first."
        )
    if (num < 0).any() or (den < 0).any() or (num > den).any():
        raise InvalidParameterError(
            f"counts must satisfy 0 <= {numerator!r} <= {denominator!r}; "
            f"{int(((num < 0) | (den < 0) | (num > den)).sum())} row(s) do not."
        )
    if data[unit].isna().any():
        raise InvalidParameterError(f"column {unit!r} has missing unit codes.")
    if data[unit].duplicated().any():
        raise InvalidParameterError(
            f"units appear more than once in {unit!r}: aggregate to one row per unit first."
        )
    return num, den


def share_replicates(
    data: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    unit: str,
    reps: int = 2000,
    seed: int | None = None,
) -> ShareReplicates:
    """Bootstrap replicates of each unit's numerator, redrawn as binomial (chance alone).

    Parameters
    ----------
    data
        One row per unit.
    numerator, denominator
        Whole-number count columns (e.g. patients waiting 13+ weeks, patients waiting); each
        unit's numerator is redrawn as ``Binomial(denominator, numerator / denominator)`` and
        its denominator is kept.
    unit
        The unit compared (e.g. ``"icb_code"``).
    reps
        Number of replicates.
    seed
        Random seed, for reproducible intervals.

    Returns
    -------
    ShareReplicates

    Raises
    ------
    InvalidParameterError
        Missing columns or counts, a unit listed twice, a numerator above its denominator,
        fractional counts, or ``reps`` < 1.
    """
    if int(reps) < 1:
        raise InvalidParameterError(f"reps must be a positive number of replicates, got {reps!r}")
    reps = int(reps)
    num, den = _check_counts(data, numerator, denominator, unit)
    if not (np.allclose(num, np.round(num)) and np.allclose(den, np.round(den))):
        raise InvalidParameterError(
            f"binomial resampling needs whole-number counts; {numerator!r} or {denominator!r} "
            "has fractions."
        )
    rng = np.random.default_rng(seed)
    codes = data[unit].astype(str).to_numpy()
    units = pd.Index(sorted(codes), name=unit)
    order = pd.Series(np.arange(len(codes)), index=codes).reindex(units).to_numpy()
    n_obs, d_obs = num[order], den[order]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(d_obs > 0, n_obs / d_obs, 0.0)
    n_reps = rng.binomial(np.round(d_obs).astype(np.int64), p, size=(reps, len(units)))
    d_reps = np.tile(d_obs, (reps, 1))
    return ShareReplicates(units, n_obs, d_obs, n_reps.astype(float), d_reps, "patients", seed)


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval; ``inverted_cdf`` so that infinite replicates give an infinite end."""
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan, np.nan
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    lo, hi = np.quantile(values, q, method="inverted_cdf")
    return float(lo), float(hi)


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise InvalidParameterError(f"level must be a coverage between 0 and 1, got {level!r}")
    return float(level)


def _ratio(shares: np.ndarray) -> np.ndarray:
    """max / min over units with a share, per row (inf when the smallest share is 0)."""
    hi = np.nanmax(shares, axis=-1)
    lo = np.nanmin(shares, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lo > 0, hi / np.where(lo > 0, lo, 1.0), np.inf)


def ratio_of_extremes(
    data: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    unit: str,
    reps: int = 2000,
    level: float = 0.95,
    seed: int | None = None,
) -> pd.Series:
    """The highest unit share divided by the lowest ("N-fold variation"), with a bootstrap interval.

    Parameters
    ----------
    data, numerator, denominator, unit, reps, seed
        As :func:`share_replicates`.
    level
        Coverage of the percentile interval.

    Returns
    -------
    pandas.Series
        ``estimate`` (max share / min share; inf if the lowest share is 0), ``ci_low``,
        ``ci_high``, ``highest`` and ``lowest`` (unit codes), ``highest_share`` and
        ``lowest_share``, ``p_same_highest`` and ``p_same_lowest`` (the fraction of replicates
        in which the observed highest, or lowest, unit is still the highest, or lowest),
        ``share_infinite`` (the fraction of replicates whose lowest share is 0: the ratio is
        then infinite, and so is ``ci_high`` when that fraction exceeds the upper tail),
        ``units``, ``reps``, ``resample``, ``level``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ics": ["A", "B", "C"], "long": [10, 20, 30], "all": [100] * 3})
    >>> r = ratio_of_extremes(df, numerator="long", denominator="all", unit="ics", seed=1)
    >>> round(r["estimate"], 6), r["highest"], r["lowest"]
    (3.0, 'C', 'A')
    """
    level = _check_level(level)
    b = share_replicates(
        data,
        numerator=numerator,
        denominator=denominator,
        unit=unit,
        reps=reps,
        seed=seed,
    )
    shares = b.shares
    ok = ~np.isnan(shares)
    if ok.sum() < 2:
        raise InvalidParameterError("ratio_of_extremes needs at least two units with a share.")
    estimate = float(_ratio(shares))
    reps_shares = b.share_reps
    boot = _ratio(reps_shares)
    lo, hi = _interval(boot, level)
    top, bottom = int(np.nanargmax(shares)), int(np.nanargmin(shares))
    filled = np.where(np.isnan(reps_shares), np.nanmean(reps_shares), reps_shares)
    return pd.Series(
        {
            "estimate": estimate,
            "ci_low": lo,
            "ci_high": hi,
            "highest": str(b.units[top]),
            "lowest": str(b.units[bottom]),
            "highest_share": float(shares[top]),
            "lowest_share": float(shares[bottom]),
            "p_same_highest": float(np.mean(np.argmax(filled, axis=1) == top)),
            "p_same_lowest": float(np.mean(np.argmin(filled, axis=1) == bottom)),
            "share_infinite": float(np.mean(np.isinf(boot))),
            "units": int(ok.sum()),
            "reps": len(boot),
            "resample": b.resample,
            "level": level,
        }
    )


def _top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the k largest values in each row (ties broken by position)."""
    order = np.argsort(-values, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(values.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask


def top_share(
    data: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    unit: str,
    k: int = 3,
    reps: int = 2000,
    level: float = 0.95,
    seed: int | None = None,
) -> pd.DataFrame:
    """The share of all numerator counts held by the k units with the most, against their size.

    "Three systems hold a quarter of the longest waits" is the share of the numerator (patients
    waiting 13+ weeks) held by the three units with the most. Large units hold more of
    everything, so the same units' share of the denominator (everyone waiting) and the share
    the ``k`` largest units would hold if every unit had the same rate are reported beside it.

    Parameters
    ----------
    data, numerator, denominator, unit, reps, seed
        As :func:`share_replicates`.
    k
        Number of top units.
    level
        Coverage of the percentile intervals.

    Returns
    -------
    pandas.DataFrame
        Index ``top_k_share_of_numerator`` (the k units with the largest numerators, re-selected
        in each replicate: their share of the numerator total), ``their_share_of_denominator``,
        ``relative_concentration`` (the ratio of the two: 1 = no more concentrated than their
        size), ``k_largest_at_equal_rates`` (the denominator share of the k largest units by
        denominator: what the top k would hold if all units had the pooled rate); columns
        ``estimate``, ``ci_low``, ``ci_high``. ``attrs`` holds ``top_units`` (the observed top k,
        largest first), ``membership`` (unit -> fraction of replicates in which it is among
        the top k, for units that ever are), ``largest_units``, ``k``, ``reps``, ``resample``
        and ``level``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ics": list("ABCD"), "long": [1, 2, 3, 14], "all": [20] * 4})
    >>> t = top_share(df, numerator="long", denominator="all", unit="ics", k=1, seed=1)
    >>> float(round(t.loc["top_k_share_of_numerator", "estimate"], 2)), t.attrs["top_units"]
    (0.7, ['D'])
    """
    level = _check_level(level)
    b = share_replicates(
        data,
        numerator=numerator,
        denominator=denominator,
        unit=unit,
        reps=reps,
        seed=seed,
    )
    if not 1 <= int(k) < len(b.units):
        raise InvalidParameterError(f"k must be between 1 and {len(b.units) - 1}, got {k!r}")
    k = int(k)

    def stats(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        top = _top_k(num, k)
        big = _top_k(den, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            share_num = (num * top).sum(axis=-1) / num.sum(axis=-1)
            share_den = (den * top).sum(axis=-1) / den.sum(axis=-1)
            equal = (den * big).sum(axis=-1) / den.sum(axis=-1)
            return np.stack([share_num, share_den, share_num / share_den, equal], axis=-1)

    est = stats(b.numerator, b.denominator)
    boot = stats(b.numerator_reps, b.denominator_reps)
    names = [
        "top_k_share_of_numerator",
        "their_share_of_denominator",
        "relative_concentration",
        "k_largest_at_equal_rates",
    ]
    rows = []
    for i, name in enumerate(names):
        lo, hi = _interval(boot[:, i], level)
        rows.append({"statistic": name, "estimate": float(est[i]), "ci_low": lo, "ci_high": hi})
    out = pd.DataFrame(rows).set_index("statistic")
    order = np.argsort(-b.numerator, kind="stable")
    member = _top_k(b.numerator_reps, k).mean(axis=0)
    out.attrs = {
        "top_units": [str(u) for u in b.units[order[:k]]],
        "membership": {
            str(u): float(p)
            for u, p in sorted(zip(b.units, member, strict=True), key=lambda t: -t[1])
            if p > 0
        },
        "largest_units": [str(u) for u in b.units[np.argsort(-b.denominator, kind="stable")[:k]]],
        "k": k,
        "reps": len(boot),
        "resample": b.resample,
        "level": level,
    }
    return out


def _ranks(shares: np.ndarray, highest_first: bool) -> np.ndarray:
    """Rank 1 = highest (or lowest) share in each row; ties share the best rank."""
    from scipy.stats import rankdata

    x = -shares if highest_first else shares
    x = np.where(np.isnan(x), np.inf, x)
    return rankdata(x, method="min", axis=-1)


def rank_intervals(
    data: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    unit: str,
    highest_first: bool = True,
    reps: int = 2000,
    level: float = 0.95,
    seed: int | None = None,
) -> pd.DataFrame:
    """Each unit's rank with a bootstrap interval: a league table with its uncertainty.

    Parameters
    ----------
    data, numerator, denominator, unit, reps, seed
        As :func:`share_replicates`.
    highest_first
        Rank 1 is the highest share (default) or the lowest.
    level
        Coverage of the percentile intervals of the ranks.

    Returns
    -------
    pandas.DataFrame
        One row per unit, ordered by rank: ``unit``, ``numerator``, ``denominator``, ``share``,
        ``share_low``, ``share_high`` (percentile interval of the share), ``rank``, ``rank_low``,
        ``rank_high`` (best and worst rank of the interval) and ``p_top`` (share of replicates
        in which the unit ranks 1). ``attrs``: ``reps``, ``resample``, ``level``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ics": list("ABC"), "long": [10, 50, 90], "all": [100] * 3})
    >>> rank_intervals(df, numerator="long", denominator="all", unit="ics", seed=1)["unit"].tolist()
    ['C', 'B', 'A']
    """
    level = _check_level(level)
    b = share_replicates(
        data,
        numerator=numerator,
        denominator=denominator,
        unit=unit,
        reps=reps,
        seed=seed,
    )
    shares = b.shares
    reps_shares = b.share_reps
    rank = _ranks(shares, highest_first)
    boot = _ranks(reps_shares, highest_first).astype(float)
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    rank_lo, rank_hi = np.quantile(boot, q, axis=0, method="inverted_cdf")
    with np.errstate(invalid="ignore"):
        share_lo, share_hi = np.nanquantile(reps_shares, q, axis=0)
    out = pd.DataFrame(
        {
            "unit": b.units.astype(str),
            "numerator": b.numerator,
            "denominator": b.denominator,
            "share": shares,
            "share_low": share_lo,
            "share_high": share_hi,
            "rank": rank.astype(int),
            "rank_low": rank_lo.astype(int),
            "rank_high": rank_hi.astype(int),
            "p_top": (boot == 1).mean(axis=0),
        }
    )
    out = out.sort_values(["rank", "unit"]).reset_index(drop=True)
    out.attrs = {"reps": int(len(boot)), "resample": b.resample, "level": level}
    return out
