"""SPC charts in the NHS England "Making Data Count" (MDC) style: XmR charts with MDC rules.

Limits
------
An XmR (individuals) chart. From a baseline (by default the first ``DEFAULT_BASELINE`` = 20
points, or all of them when there are fewer, as Making Data Count advises 15-20; ``baseline=``
names another), the centre line is the baseline mean and the process limits are
``mean +/- 2.66 x mean moving range`` (2.66 = 3 / d2, d2 = 1.128 for ranges of two points), the
moving ranges being ``|x_t - x_(t-1)|`` inside the baseline. Limits are never recalculated
automatically: a new phase starts only at a ``rebase`` (alias ``recalculate_at``) point the user
names, and its limits come from the first ``recalc_baseline`` points of that phase. When a
sustained shift (a run of ``shift_run`` points on one side of the mean, all after the baseline)
is found, the summary says "a sustained shift detected at X: consider rebasing" and names X in
``summary["rebase_suggestions"]``; the limits are left alone.

Run charts
----------
With fewer than ``MIN_POINTS_FOR_LIMITS`` (12) points and no explicit baseline, process limits
would be unstable, so (as Making Data Count advises) a run chart is drawn instead: the median
and the NHS run-chart rules. **Shift**: ``RUN_CHART_SHIFT`` (6) or more consecutive points on one
side of the median; points on the median neither count nor break the run. **Trend**:
``RUN_CHART_TREND`` (5) or more consecutive points each higher (or lower) than the one before;
repeated values neither count nor break it. ``chart="xmr"`` or an explicit ``baseline`` forces
limits; ``chart="run"`` forces a run chart. A run chart gives no assurance (there are no limits).

Special-cause rules (each applied within a phase)
-------------------------------------------------
1. **Astronomical point**: a point above the upper or below the lower process limit.
2. **Shift**: a run of ``shift_run`` (MDC: 7) or more consecutive points all above, or all below,
   the mean. A point exactly on the mean ends a run. Every point of the run is flagged.
3. **Trend**: ``trend_run`` (MDC: 6) or more consecutive points each strictly higher (or lower)
   than the one before. A repeated value ends a trend. Every point of the run is flagged.
4. **Two out of three**: two of three consecutive points beyond two sigma on the same side of the
   mean (the outer third between mean and limit, or beyond the limit); the points beyond two
   sigma are flagged. (Western Electric rule 2; the third point may lie anywhere.)

A flagged point's direction is "high" when all its signals point up (above the limit or mean, an
increasing trend), "low" when all point down; when signals disagree (say a falling trend above the
mean) the side of the mean decides. With ``improvement="up"`` high is improvement (blue) and low
concern (orange); ``"down"`` the reverse; with no direction, special causes are "neither"
(purple). Common-cause points are grey.

Assurance (needs a target and a direction), from the latest phase's limits, as MDC's icons:
target beyond the limits on the bad side -> "consistently fail"; beyond them on the good side ->
"consistently pass"; between the limits -> "hit and miss".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from . import style

#: MDC's constant for the XmR process limits (3 / 1.128, rounded as MDC does).
MDC_LIMIT = 2.66
#: Two sigma in units of the mean moving range.
TWO_SIGMA = MDC_LIMIT * 2 / 3
#: Baselines shorter than this get a warning (NHSRplotthedots warns below 12 points).
MIN_BASELINE_WARN = 12
#: Default baseline: the first 20 points (MDC: 15-20), or all points when there are fewer.
DEFAULT_BASELINE = 20
#: Fewer points than this (and no explicit baseline) give a run chart instead of limits.
MIN_POINTS_FOR_LIMITS = 12
#: Run-chart rules (NHS England / IHI): a shift of 6 around the median, a trend of 5.
RUN_CHART_SHIFT = 6
RUN_CHART_TREND = 5

VARIATION_LABELS = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation: improvement (significantly higher values)",
    "improvement_low": "Special cause variation: improvement (significantly lower values)",
    "concern_high": "Special cause variation: concern (significantly higher values)",
    "concern_low": "Special cause variation: concern (significantly lower values)",
    "neither_high": "Special cause variation: neither improvement nor concern (higher values)",
    "neither_low": "Special cause variation: neither improvement nor concern (lower values)",
}
ASSURANCE_LABELS = {
    "pass": "Consistently passes the target: the target lies beyond the process limits on the "
    "good side",
    "fail": "Consistently fails the target: the target lies beyond the process limits on the "
    "bad side",
    "hit_and_miss": "Hit and miss: the target lies within the process limits, so the process "
    "will sometimes meet it and sometimes not",
}


@dataclass
class SPCAnalysis:
    """The numbers behind an SPC chart.

    Attributes
    ----------
    data
        One row per point: ``x``, ``value``, ``phase``, ``baseline``, ``mean``, ``lpl``,
        ``upl``, ``lower_two_sigma``, ``upper_two_sigma``, ``moving_range``, rule flags
        ``outside_limits``, ``shift``, ``trend``, ``two_of_three``, ``special_cause``,
        ``direction`` (``"high"``/``"low"``/``""``), ``variation`` (``"common_cause"``,
        ``"special_cause_improvement"``, ``"special_cause_concern"``,
        ``"special_cause_neither"``) and ``colour``.
    summary
        ``variation`` / ``variation_label`` (the MDC variation icon for the latest point),
        ``assurance`` / ``assurance_label`` (the MDC assurance icon), ``phases``, rule settings,
        signal counts and ``warnings``.
    """

    data: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _as_series(data, value: str | None, x: str | None) -> tuple[np.ndarray, pd.Index]:
    what = "SPC data"
    if isinstance(data, pd.DataFrame):
        if value is None:
            raise InvalidParameterError(f"{what}: pass value= (the column to chart)")
        style.require_columns(data, [value] + ([x] if x else []), what)
        values = style.numeric_column(data, value, what)
        xs = pd.Index(data[x]) if x else data.index
    elif isinstance(data, pd.Series):
        values = style.numeric_column(data.to_frame("v"), "v", what)
        xs = data.index
    else:
        arr = pd.Series(list(data) if not isinstance(data, np.ndarray) else data)
        values = style.numeric_column(arr.to_frame("v"), "v", what)
        xs = pd.RangeIndex(1, len(values) + 1)
    if len(values) < 2:
        raise InvalidParameterError(f"{what}: need at least 2 points, got {len(values)}")
    missing = np.flatnonzero(np.isnan(values))
    if len(missing):
        raise InvalidParameterError(
            f"{what}: {len(missing)} missing value(s), at {xs[missing[:5]].tolist()}. An XmR chart "
            "needs consecutive values: drop or fill the gap explicitly (and say so in the report)."
        )
    if xs.has_duplicates:
        raise InvalidParameterError(
            f"{what}: repeated x values {xs[xs.duplicated()].unique()[:3].tolist()}; one value per period"
        )
    if (
        pd.api.types.is_numeric_dtype(xs) or pd.api.types.is_datetime64_any_dtype(xs)
    ) and not xs.is_monotonic_increasing:
        raise InvalidParameterError(
            f"{what}: x must be in time order (increasing); sort the data by its date first"
        )
    return values, xs


def _position(xs: pd.Index, label, what: str) -> int:
    try:
        loc = xs.get_loc(label)
    except KeyError:
        if pd.api.types.is_datetime64_any_dtype(xs):
            try:
                loc = xs.get_loc(pd.Timestamp(label))
            except (KeyError, ValueError):
                loc = None
        else:
            loc = None
        if loc is None:
            raise InvalidParameterError(
                f"{what} {label!r} is not one of the x values ({xs[0]!r} ... {xs[-1]!r})"
            ) from None
    if not isinstance(loc, (int, np.integer)):
        raise InvalidParameterError(f"{what} {label!r} matches more than one point")
    return int(loc)


def _phases(
    xs: pd.Index, baseline, recalculate_at, recalc_baseline
) -> list[tuple[int, int, int, int]]:
    """[(start, stop, baseline_start, baseline_stop)] as positions, stop exclusive."""
    n = len(xs)
    if recalculate_at is None:
        recalc = []
    elif isinstance(recalculate_at, (list, tuple, pd.Index, np.ndarray)):
        recalc = list(recalculate_at)
    else:
        recalc = [recalculate_at]
    starts = [_position(xs, r, "recalculate_at") for r in recalc]
    if starts != sorted(set(starts)) or (starts and starts[0] == 0):
        raise InvalidParameterError(
            "recalculate_at points must be distinct, in time order, and after the first point"
        )
    bounds = [0, *starts, n]
    out = []
    for i in range(len(bounds) - 1):
        start, stop = bounds[i], bounds[i + 1]
        spec = baseline if i == 0 else recalc_baseline
        what = "baseline" if i == 0 else f"recalc_baseline (phase {i + 1})"
        if spec is None and i == 0:
            # MDC: limits from the first 15-20 points; all of them when there are fewer
            b0, b1 = start, start + min(DEFAULT_BASELINE, stop - start)
        elif isinstance(spec, str):
            if spec != "all":
                raise InvalidParameterError(
                    f"{what}: use 'all', a number of points, or a (first, last) pair of x values; got {spec!r}"
                )
            b0, b1 = start, stop
        elif isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            if not 2 <= spec <= stop - start:
                raise InvalidParameterError(
                    f"{what}: {spec} points asked for, but the phase has {stop - start}; "
                    "a baseline needs at least 2 points"
                )
            b0, b1 = start, start + int(spec)
        elif isinstance(spec, tuple) and len(spec) == 2 and i == 0:
            b0 = _position(xs, spec[0], "baseline start")
            b1 = _position(xs, spec[1], "baseline end") + 1
            if not (start <= b0 < b1 <= stop):
                raise InvalidParameterError(
                    f"baseline {spec!r} must run forwards and lie before the first recalculation point"
                )
        else:
            raise InvalidParameterError(
                f"{what}: use 'all', a number of points, or (for the first phase) a "
                f"(first, last) pair of x values; got {spec!r}"
            )
        if b1 - b0 < 2:
            raise InvalidParameterError(f"{what}: a baseline needs at least 2 points")
        out.append((start, stop, b0, b1))
    return out


def _run_members(labels: np.ndarray, min_len: int) -> np.ndarray:
    """Points in runs of ``min_len`` or more equal, non-zero labels."""
    out = np.zeros(len(labels), dtype=bool)
    i = 0
    while i < len(labels):
        j = i
        while j + 1 < len(labels) and labels[j + 1] == labels[i]:
            j += 1
        if labels[i] != 0 and j - i + 1 >= min_len:
            out[i : j + 1] = True
        i = j + 1
    return out


def _trend_members(values: np.ndarray, min_len: int, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(increasing, decreasing) membership of runs of ``min_len`` strictly monotone points."""
    n = len(values)
    up = np.zeros(n, dtype=bool)
    down = np.zeros(n, dtype=bool)
    if n < 2:
        return up, down
    step = np.diff(values)
    sign = np.where(step > tol, 1, np.where(step < -tol, -1, 0))
    # a run of k equal signs in the steps covers k + 1 points
    i = 0
    while i < len(sign):
        j = i
        while j + 1 < len(sign) and sign[j + 1] == sign[i]:
            j += 1
        if sign[i] != 0 and (j - i + 1) + 1 >= min_len:
            (up if sign[i] > 0 else down)[i : j + 2] = True
        i = j + 1
    return up, down


def _run_chart_shift(side: np.ndarray, min_len: int) -> np.ndarray:
    """Points in runs of ``min_len`` on one side of the median; points on it are skipped."""
    out = np.zeros(len(side), dtype=bool)
    off = np.flatnonzero(side != 0)
    members = _run_members(side[off], min_len)
    out[off[members]] = True
    return out


def _run_chart_trend(values: np.ndarray, min_len: int, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(increasing, decreasing) trends of ``min_len`` points; repeated values are skipped.

    The repeats inside a trend are flagged with it (they sit on the drawn trend).
    """
    n = len(values)
    up = np.zeros(n, dtype=bool)
    down = np.zeros(n, dtype=bool)
    kept = [0] if n else []
    for i in range(1, n):
        if abs(values[i] - values[kept[-1]]) > tol:
            kept.append(i)
    kept_arr = np.asarray(kept, dtype=int)
    k_up, k_down = _trend_members(values[kept_arr], min_len, tol)
    for flags, k_flags in ((up, k_up), (down, k_down)):
        idx = kept_arr[k_flags]
        # fill the spans between consecutive flagged kept points (the skipped repeats)
        for a, b in zip(kept_arr[:-1], kept_arr[1:], strict=False):
            if k_flags[np.searchsorted(kept_arr, a)] and k_flags[np.searchsorted(kept_arr, b)]:
                flags[a : b + 1] = True
        flags[idx] = True
    return up, down


def _two_of_three(beyond: np.ndarray) -> np.ndarray:
    """Points beyond two sigma that sit in a window of 3 with at least 2 such points."""
    out = np.zeros(len(beyond), dtype=bool)
    for i in range(len(beyond) - 2):
        window = beyond[i : i + 3]
        if window.sum() >= 2:
            out[i : i + 3] |= window
    return out


def spc_analysis(
    data,
    *,
    value: str | None = None,
    x: str | None = None,
    baseline: int | str | tuple | None = None,
    recalculate_at=None,
    recalc_baseline: int | str = "all",
    improvement: Literal["up", "down"] | None = None,
    target: float | None = None,
    shift_run: int = 7,
    trend_run: int = 6,
    rebase=None,
    chart: Literal["auto", "xmr", "run"] = "auto",
) -> SPCAnalysis:
    """XmR limits, Making Data Count rules, variation and assurance for one series.

    Parameters
    ----------
    data
        A DataFrame (with ``value`` and optionally ``x`` columns), a Series (index = x) or a
        sequence of numbers, in time order.
    value, x
        Column names for a DataFrame (``x`` defaults to the index).
    baseline
        Which points set the first phase's limits: ``"all"`` (every point up to the first
        recalculation), a number ``N`` (the first N points) or ``(first_x, last_x)`` inclusive.
        Default ``None``: the first 20 points, or all when there are fewer (Making Data Count's
        15-20); the choice is stated in ``summary["baseline_rule"]``.
    recalculate_at
        x value(s) where a new phase starts, with its own limits (e.g. after a service change).
    recalc_baseline
        Points setting each later phase's limits: ``"all"`` of the phase or its first N.
    improvement
        ``"up"`` if higher is better, ``"down"`` if lower is better, ``None`` if neither.
    target
        A target for the assurance label (needs ``improvement``).
    shift_run, trend_run
        Run lengths for the shift (MDC: 7) and trend (MDC: 6) rules of the XmR chart.
    rebase
        The NHSRplotthedots name of ``recalculate_at`` (give one or the other).
    chart
        ``"auto"`` (default): process limits, or a run chart (median and run rules) when there
        are fewer than 12 points and no explicit ``baseline``; ``"xmr"`` or ``"run"`` force one.

    Returns
    -------
    SPCAnalysis
        ``summary["chart"]`` says which (``"xmr"`` or ``"run"``).

    Examples
    --------
    >>> sa = spc_analysis([10, 11, 9, 10, 30, 10, 11], baseline=4)
    >>> sa.data["outside_limits"].tolist()
    [False, False, False, False, True, False, False]
    """
    if improvement not in (None, "up", "down"):
        raise InvalidParameterError(
            f"improvement must be 'up', 'down' or None, got {improvement!r}"
        )
    for name, v in (("shift_run", shift_run), ("trend_run", trend_run)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 2:
            raise InvalidParameterError(f"{name} must be a whole number >= 2, got {v!r}")
    if target is not None and not np.isfinite(float(target)):
        raise InvalidParameterError(f"target must be a finite number, got {target!r}")
    if rebase is not None and recalculate_at is not None:
        raise InvalidParameterError(
            "rebase= and recalculate_at= name the same thing; give one of them. "
            "Fix: pass rebase=[dates] only."
        )
    if rebase is not None:
        recalculate_at = rebase
    if chart not in ("auto", "xmr", "run"):
        raise InvalidParameterError(
            f"chart must be 'auto', 'xmr' or 'run', got {chart!r}. Fix: pass chart='auto'."
        )
    values, xs = _as_series(data, value, x)
    n = len(values)
    if chart == "run" or (chart == "auto" and baseline is None and n < MIN_POINTS_FOR_LIMITS):
        if recalculate_at is not None:
            raise InvalidParameterError(
                f"rebase/recalculate_at needs process limits, but a run chart is drawn "
                f"({n} points, fewer than {MIN_POINTS_FOR_LIMITS}, or chart='run'). "
                "Fix: drop rebase=, or pass chart='xmr' with a baseline."
            )
        return _run_chart(values, xs, improvement, target, forced=chart == "run")
    phases = _phases(xs, baseline, recalculate_at, recalc_baseline)

    cols = {
        k: np.full(n, np.nan)
        for k in ("mean", "lpl", "upl", "lower_two_sigma", "upper_two_sigma", "moving_range")
    }
    flags = {
        k: np.zeros(n, dtype=bool)
        for k in ("baseline", "outside_limits", "shift", "trend", "two_of_three")
    }
    high = np.zeros(n, dtype=bool)
    low = np.zeros(n, dtype=bool)
    side_all = np.zeros(n, dtype=int)
    phase_no = np.zeros(n, dtype=int)
    phase_info = []
    warnings: list[str] = []
    rebase_suggestions: list = []

    for k, (start, stop, b0, b1) in enumerate(phases, start=1):
        seg = values[start:stop]
        base = values[b0:b1]
        mean = float(base.mean())
        mr_bar = float(np.abs(np.diff(base)).mean())
        # comparisons tolerate rounding so that shifting a series cannot flip a flag
        tol = 1e-9 * max(1.0, abs(mean), mr_bar, float(np.abs(seg).max()))
        upl, lpl = mean + MDC_LIMIT * mr_bar, mean - MDC_LIMIT * mr_bar
        u2, l2 = mean + TWO_SIGMA * mr_bar, mean - TWO_SIGMA * mr_bar
        sl = slice(start, stop)
        phase_no[sl] = k
        flags["baseline"][b0:b1] = True
        cols["mean"][sl], cols["upl"][sl], cols["lpl"][sl] = mean, upl, lpl
        cols["upper_two_sigma"][sl], cols["lower_two_sigma"][sl] = u2, l2
        mr = np.full(len(seg), np.nan)
        mr[1:] = np.abs(np.diff(seg))
        cols["moving_range"][sl] = mr

        above_l, below_l = seg > upl + tol, seg < lpl - tol
        side = np.where(seg > mean + tol, 1, np.where(seg < mean - tol, -1, 0))
        shift = _run_members(side, shift_run)
        t_up, t_down = _trend_members(seg, trend_run, tol)
        hi3 = _two_of_three(seg > u2 + tol)
        lo3 = _two_of_three(seg < l2 - tol)

        flags["outside_limits"][sl] = above_l | below_l
        flags["shift"][sl] = shift
        flags["trend"][sl] = t_up | t_down
        flags["two_of_three"][sl] = hi3 | lo3
        high[sl] = above_l | (shift & (side > 0)) | t_up | hi3
        low[sl] = below_l | (shift & (side < 0)) | t_down | lo3
        side_all[sl] = side

        # a sustained shift (shift_run points after the baseline): say so, never rebase silently
        after = np.arange(len(seg)) + start >= b1
        run_start = _first_run_start(side, shift, after, shift_run)
        if run_start is not None:
            rebase_suggestions.append(xs[start + run_start])
            warnings.append(
                f"a sustained shift detected at {_fmt_x(xs[start + run_start])}: "
                f"{shift_run} or more points on one side of the mean after the baseline; "
                f"consider rebasing (rebase=[{_fmt_x(xs[start + run_start])!r}]) if the "
                "process has changed"
            )
        if b1 - b0 < MIN_BASELINE_WARN:
            warnings.append(
                f"phase {k}: baseline of {b1 - b0} points; limits from fewer than "
                f"{MIN_BASELINE_WARN} points are unstable (MDC suggests 15-20)"
            )
        phase_info.append(
            {
                "phase": k,
                "start": xs[start],
                "end": xs[stop - 1],
                "baseline_start": xs[b0],
                "baseline_end": xs[b1 - 1],
                "n_points": stop - start,
                "n_baseline": b1 - b0,
                "mean": mean,
                "mean_moving_range": mr_bar,
                "lpl": lpl,
                "upl": upl,
            }
        )

    special = flags["outside_limits"] | flags["shift"] | flags["trend"] | flags["two_of_three"]
    direction, variation, colour = _classify(special, high, low, side_all, improvement)

    table = pd.DataFrame(
        {
            "x": xs.to_numpy(),
            "value": values,
            "phase": phase_no,
            "baseline": flags["baseline"],
            "mean": cols["mean"],
            "lpl": cols["lpl"],
            "upl": cols["upl"],
            "lower_two_sigma": cols["lower_two_sigma"],
            "upper_two_sigma": cols["upper_two_sigma"],
            "moving_range": cols["moving_range"],
            "outside_limits": flags["outside_limits"],
            "shift": flags["shift"],
            "trend": flags["trend"],
            "two_of_three": flags["two_of_three"],
            "special_cause": special,
            "direction": direction,
            "variation": variation,
            "colour": colour,
        }
    )
    if target is not None:
        table["target"] = float(target)

    last = table.iloc[-1]
    var_code = _variation_code(last)

    assurance = None
    if target is not None and improvement is None:
        warnings.append("assurance needs an improvement direction ('up' or 'down'); not assessed")
    elif target is not None:
        t, upl, lpl = float(target), float(last["upl"]), float(last["lpl"])
        if t > upl:
            assurance = "fail" if improvement == "up" else "pass"
        elif t < lpl:
            assurance = "pass" if improvement == "up" else "fail"
        else:
            assurance = "hit_and_miss"

    n_base = phases[0][3] - phases[0][2]
    if baseline is None:
        baseline_rule = (
            f"default: the first {DEFAULT_BASELINE} points"
            if n_base == DEFAULT_BASELINE
            else f"default: all {n_base} points (fewer than {DEFAULT_BASELINE})"
        )
    else:
        baseline_rule = f"given: {baseline!r} ({n_base} points)"
    summary = {
        "chart": "xmr",
        "baseline_rule": baseline_rule,
        "rebase_suggestions": rebase_suggestions,
        "variation": var_code,
        "variation_label": VARIATION_LABELS[var_code],
        "assurance": assurance,
        "assurance_label": ASSURANCE_LABELS.get(assurance) if assurance else None,
        "improvement": improvement,
        "target": None if target is None else float(target),
        "n_points": n,
        "phases": phase_info,
        "rules": {
            "limits": f"mean +/- {MDC_LIMIT} x mean moving range",
            "shift_run": int(shift_run),
            "trend_run": int(trend_run),
            "two_of_three": "2 of 3 consecutive points beyond 2 sigma on the same side",
        },
        "signals": {
            "outside_limits": int(flags["outside_limits"].sum()),
            "shift": int(flags["shift"].sum()),
            "trend": int(flags["trend"].sum()),
            "two_of_three": int(flags["two_of_three"].sum()),
            "special_cause": int(special.sum()),
        },
        "warnings": warnings,
    }
    return SPCAnalysis(table, summary)


def _fmt_x(label) -> str:
    """An x value as a reader would write it (dates without a midnight time)."""
    if isinstance(label, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(label).strftime("%Y-%m-%d")
    if isinstance(label, np.generic):
        return str(label.item())
    return str(label)


def _first_run_start(
    side: np.ndarray, shift: np.ndarray, after: np.ndarray, min_len: int
) -> int | None:
    """First point after the baseline of the first shift run with ``min_len`` points there."""
    i, n = 0, len(side)
    while i < n:
        if not shift[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and shift[j + 1] and side[j + 1] == side[i]:
            j += 1
        run_after = np.flatnonzero(after[i : j + 1]) + i
        if len(run_after) >= min_len:
            return int(run_after[0])
        i = j + 1
    return None


def _classify(special, high, low, side, improvement):
    """(direction, variation, colour) arrays from rule flags, as for the XmR chart."""
    direction = np.where(
        ~special,
        "",
        np.where(
            high & ~low, "high", np.where(low & ~high, "low", np.where(side < 0, "low", "high"))
        ),
    )
    if improvement is None:
        variation = np.where(special, "special_cause_neither", "common_cause")
    else:
        good = "high" if improvement == "up" else "low"
        variation = np.where(
            ~special,
            "common_cause",
            np.where(direction == good, "special_cause_improvement", "special_cause_concern"),
        )
    colour = np.array([style.SPC_COLOURS[v] for v in variation])
    return direction, variation, colour


def _variation_code(last) -> str:
    if not last["special_cause"]:
        return "common_cause"
    kind = {"special_cause_improvement": "improvement", "special_cause_concern": "concern"}.get(
        last["variation"], "neither"
    )
    return f"{kind}_{last['direction']}"


def _run_chart(values, xs, improvement, target, *, forced: bool) -> SPCAnalysis:
    """A run chart: the median and the NHS run-chart rules (no process limits)."""
    n = len(values)
    median = float(np.median(values))
    tol = 1e-9 * max(1.0, abs(median), float(np.abs(values).max()))
    side = np.where(values > median + tol, 1, np.where(values < median - tol, -1, 0))
    shift = _run_chart_shift(side, RUN_CHART_SHIFT)
    t_up, t_down = _run_chart_trend(values, RUN_CHART_TREND, tol)
    special = shift | t_up | t_down
    high = (shift & (side > 0)) | t_up
    low = (shift & (side < 0)) | t_down
    direction, variation, colour = _classify(special, high, low, side, improvement)
    mr = np.full(n, np.nan)
    mr[1:] = np.abs(np.diff(values))
    nan = np.full(n, np.nan)
    no = np.zeros(n, dtype=bool)
    table = pd.DataFrame(
        {
            "x": xs.to_numpy(),
            "value": values,
            "phase": np.ones(n, dtype=int),
            "baseline": np.ones(n, dtype=bool),
            "median": median,
            "mean": nan,
            "lpl": nan,
            "upl": nan,
            "lower_two_sigma": nan,
            "upper_two_sigma": nan,
            "moving_range": mr,
            "outside_limits": no,
            "shift": shift,
            "trend": t_up | t_down,
            "two_of_three": no.copy(),
            "special_cause": special,
            "direction": direction,
            "variation": variation,
            "colour": colour,
        }
    )
    if target is not None:
        table["target"] = float(target)
    why = (
        "chart='run' was asked for"
        if forced
        else (
            f"only {n} points (process limits need at least {MIN_POINTS_FOR_LIMITS}; MDC advises 15-20)"
        )
    )
    warnings = [f"run chart, not XmR: {why}; the median and run rules only, no process limits"]
    if target is not None:
        warnings.append("assurance needs process limits; not assessed on a run chart")
    var_code = _variation_code(table.iloc[-1])
    summary = {
        "chart": "run",
        "baseline_rule": "run chart: no baseline (median of all points)",
        "rebase_suggestions": [],
        "median": median,
        "variation": var_code,
        "variation_label": VARIATION_LABELS[var_code],
        "assurance": None,
        "assurance_label": None,
        "improvement": improvement,
        "target": None if target is None else float(target),
        "n_points": n,
        "phases": [],
        "rules": {
            "centre": "median",
            "shift_run": RUN_CHART_SHIFT,
            "trend_run": RUN_CHART_TREND,
            "note": "points on the median and repeated values neither count nor break a run",
        },
        "signals": {
            "outside_limits": 0,
            "shift": int(shift.sum()),
            "trend": int((t_up | t_down).sum()),
            "two_of_three": 0,
            "special_cause": int(special.sum()),
        },
        "warnings": warnings,
    }
    return SPCAnalysis(table, summary)


def spc_chart(
    data,
    *,
    value: str | None = None,
    x: str | None = None,
    baseline: int | str | tuple | None = None,
    recalculate_at=None,
    recalc_baseline: int | str = "all",
    improvement: Literal["up", "down"] | None = None,
    target: float | None = None,
    shift_run: int = 7,
    trend_run: int = 6,
    rebase=None,
    chart: Literal["auto", "xmr", "run"] = "auto",
    icons: bool = True,
    units: str | None = None,
    ylabel: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
    ax=None,
    source: str | None = None,
) -> style.PlotResult:
    """Draw an XmR chart with Making Data Count colouring and icon labels.

    Parameters
    ----------
    data, value, x, baseline, recalculate_at, recalc_baseline, improvement, target, shift_run, trend_run, rebase, chart
        As :func:`spc_analysis`.
    icons
        Draw the Making Data Count variation and assurance icons at the top right of the chart
        (default ``True``); their meaning is also written out under the legend.
    units
        Units of the value axis (e.g. ``"%"``, ``"days"``); default from ``data.attrs``.
    ylabel, xlabel, title
        Axis labels and title.
    source_note, note, synthetic
        Footer text and the demo-data stamp (defaults from ``data``'s provenance; ``False`` for
        demo data is an error).
    ax
        Draw into this axes.
    source
        Deprecated name of ``source_note``.

    Returns
    -------
    PlotResult
        ``.data``: the per-point table of :class:`SPCAnalysis`; ``.summary``: variation and
        assurance labels, phases, warnings and ``alt_text`` (the chart in words).
    """
    source_note = style.source_note_renamed(source_note, source)
    sa = spc_analysis(
        data,
        value=value,
        x=x,
        baseline=baseline,
        recalculate_at=recalculate_at,
        recalc_baseline=recalc_baseline,
        improvement=improvement,
        target=target,
        shift_run=shift_run,
        trend_run=trend_run,
        rebase=rebase,
        chart=chart,
    )
    if isinstance(data, pd.DataFrame) and value:
        doc_label, doc_unit = style.column_doc(data, value)
        ylabel = ylabel or doc_label or value
        units = units or doc_unit
    with style.house_style():
        fig, ax = style.new_figure(ax, figsize=(9.0, 5.0))
        if sa.summary["chart"] == "run":
            _draw_run_chart(ax, sa, icons=icons)
        else:
            _draw_spc(ax, sa, icons=icons)
        ax.set_ylabel(style.axis_label(ylabel or "Value", units))
        if xlabel:
            ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title)
        method = (
            f"XmR chart, limits mean +/- {MDC_LIMIT} x mean moving range "
            f"(NHS England Making Data Count)"
            if sa.summary["chart"] == "xmr"
            else f"run chart: median, shift of {RUN_CHART_SHIFT} and trend of {RUN_CHART_TREND} "
            "(too few points for process limits; NHS England Making Data Count)"
        )
        note = f"{note}; {method}" if note else method
        prov = style.provenance_note(data)
        if prov:
            note = f"{prov}; {note}"
        style.finish_figure(fig, source_note=source_note, note=note, synthetic=synthetic, data=data)
    stamped = style.is_stamped(fig)
    summary = dict(sa.summary)
    summary["alt_text"] = _alt_text(
        sa, style.axis_label(ylabel or "Value", units), title, icons=icons, synthetic=stamped
    )
    return style.PlotResult(fig, sa.data, summary, kind="spc")


def _alt_text(
    sa: SPCAnalysis, ylabel: str, title: str | None, *, icons: bool, synthetic: bool
) -> str:
    """The chart in words, for the report's image alt text."""
    d, sm = sa.data, sa.summary
    first, last = _fmt_x(d["x"].iloc[0]), _fmt_x(d["x"].iloc[-1])
    head = f"{title}. " if title else ""
    if sm["chart"] == "run":
        parts = [
            f"{head}Run chart of {ylabel}, {len(d)} points from {first} to {last}, with the "
            f"median {sm['median']:.4g} (too few points for process limits)."
        ]
    else:
        ph = sm["phases"]
        limits = "; ".join(
            f"from {_fmt_x(p['start'])}: mean {p['mean']:.4g}, process limits {p['lpl']:.4g} to "
            f"{p['upl']:.4g} (baseline of {p['n_baseline']} points)"
            for p in ph
        )
        rebased = f" Limits recalculated at {len(ph) - 1} point(s)." if len(ph) > 1 else ""
        parts = [
            f"{head}XmR (SPC) chart of {ylabel}, {len(d)} points from {first} to {last}; "
            f"{limits}.{rebased}"
        ]
    if sm["target"] is not None:
        parts.append(f"Target line at {sm['target']:g}.")
    n_special = int(d["special_cause"].sum())
    parts.append(
        f"{n_special} of {len(d)} points show special-cause variation"
        + (
            ": "
            + ", ".join(
                f"{k.replace('_', ' ')} {v}"
                for k, v in sm["signals"].items()
                if k != "special_cause" and v
            )
            if n_special
            else ""
        )
        + "."
    )
    icon = "icon" if icons else "label"
    parts.append(f"Variation {icon} (latest point): {sm['variation_label']}.")
    if sm["assurance_label"]:
        parts.append(f"Assurance {icon}: {sm['assurance_label']}.")
    for x in sm.get("rebase_suggestions") or []:
        parts.append(f"A sustained shift detected at {_fmt_x(x)}: consider rebasing.")
    if synthetic:
        parts.append("Made from synthetic demo data.")
    return " ".join(parts)


def _draw_spc(ax, sa: SPCAnalysis, *, icons: bool = True) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    d = sa.data
    pos, categorical = _positions(d["x"])
    ax.plot(pos, d["value"], color="#8C8C8C", lw=1.4, zorder=3)
    ax.scatter(pos, d["value"], c=d["colour"], s=34, zorder=4, edgecolor="white", linewidth=0.6)
    for ph in sa.summary["phases"]:
        idx = np.flatnonzero(d["phase"].to_numpy() == ph["phase"])
        lo_x, hi_x = pos[idx[0]], pos[idx[-1]]
        ax.hlines(ph["mean"], lo_x, hi_x, color=style.SPC_COLOURS["mean"], lw=1.4, zorder=2)
        for lim in ("lpl", "upl"):
            ax.hlines(
                ph[lim], lo_x, hi_x, color=style.SPC_COLOURS["limits"], lw=1.2, ls="--", zorder=2
            )
        bidx = idx[d["baseline"].to_numpy()[idx]]
        ax.axvspan(pos[bidx[0]], pos[bidx[-1]], color="#EEF2F4", zorder=0, lw=0)
        if ph["phase"] > 1:
            ax.axvline(lo_x, color="#5F6B73", lw=1, ls=":", zorder=1)
    _draw_target(ax, sa)
    _x_ticks(ax, d["x"], pos, categorical)
    handles = [
        Line2D([], [], color=style.SPC_COLOURS["mean"], lw=1.4, label="Mean"),
        Line2D([], [], color=style.SPC_COLOURS["limits"], lw=1.2, ls="--", label="Process limits"),
    ]
    handles += _target_and_point_handles(sa)
    handles.append(Patch(color="#EEF2F4", label="Baseline period"))
    _legend_and_labels(ax, sa, handles, icons=icons)


_POINT_NAMES = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_concern": "Special cause: concern",
    "special_cause_neither": "Special cause: neither",
}


def _draw_run_chart(ax, sa: SPCAnalysis, *, icons: bool = True) -> None:
    from matplotlib.lines import Line2D

    d = sa.data
    pos, categorical = _positions(d["x"])
    ax.plot(pos, d["value"], color="#8C8C8C", lw=1.4, zorder=3)
    ax.scatter(pos, d["value"], c=d["colour"], s=34, zorder=4, edgecolor="white", linewidth=0.6)
    ax.axhline(sa.summary["median"], color=style.SPC_COLOURS["mean"], lw=1.4, zorder=2)
    _draw_target(ax, sa)
    _x_ticks(ax, d["x"], pos, categorical)
    handles = [Line2D([], [], color=style.SPC_COLOURS["mean"], lw=1.4, label="Median")]
    handles += _target_and_point_handles(sa)
    _legend_and_labels(ax, sa, handles, icons=icons)


def _positions(xs: pd.Series) -> tuple[np.ndarray, bool]:
    categorical = not (
        pd.api.types.is_numeric_dtype(xs) or pd.api.types.is_datetime64_any_dtype(xs)
    )
    return (np.arange(len(xs)) if categorical else xs.to_numpy()), categorical


def _draw_target(ax, sa: SPCAnalysis) -> None:
    if sa.summary["target"] is not None:
        ax.axhline(
            sa.summary["target"],
            color=style.SPC_COLOURS["target"],
            lw=1.3,
            ls=(0, (6, 3)),
            zorder=2,
        )


def _x_ticks(ax, xs: pd.Series, pos: np.ndarray, categorical: bool) -> None:
    if categorical:
        step = max(1, int(np.ceil(len(xs) / 14)))
        ax.set_xticks(pos[::step])
        ax.set_xticklabels(
            [str(v) for v in xs.iloc[::step]], rotation=45 if len(xs) > 8 else 0, ha="right"
        )
    elif pd.api.types.is_datetime64_any_dtype(xs):
        import matplotlib.dates as mdates

        loc = mdates.AutoDateLocator(minticks=3, maxticks=10)  # never warns on long spans
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _target_and_point_handles(sa: SPCAnalysis) -> list:
    from matplotlib.lines import Line2D

    handles = []
    if sa.summary["target"] is not None:
        handles.append(
            Line2D(
                [],
                [],
                color=style.SPC_COLOURS["target"],
                lw=1.3,
                ls=(0, (6, 3)),
                label=f"Target ({sa.summary['target']:g})",
            )
        )
    for v, name in _POINT_NAMES.items():
        if (sa.data["variation"] == v).any():
            handles.append(
                Line2D(
                    [], [], marker="o", ls="", color=style.SPC_COLOURS[v], markersize=7, label=name
                )
            )
    return handles


def _legend_and_labels(ax, sa: SPCAnalysis, handles: list, *, icons: bool) -> None:
    """Legend, MDC icons and their words in the right margin (never over data or title)."""
    from matplotlib.transforms import offset_copy

    if icons:
        _draw_icons(ax, sa)
        # the legend starts below the icons
        below = offset_copy(ax.transAxes, fig=ax.figure, y=-(_ICON_PT + 10), units="points")
        style.outside_legend(ax, handles=handles, bbox_transform=below)
    else:
        style.outside_legend(ax, handles=handles)
    # The MDC icons as words, under the legend.
    run = sa.summary["chart"] == "run"
    lines = [
        "Variation (run chart rules):" if run else "Variation:",
        *_wrap(sa.summary["variation_label"]),
    ]
    if sa.summary["assurance_label"]:
        lines += ["", "Assurance:", *_wrap(sa.summary["assurance_label"])]
    for x in sa.summary.get("rebase_suggestions") or []:
        lines += ["", *_wrap(f"A sustained shift detected at {_fmt_x(x)}: consider rebasing")]
    ax.text(
        1.01,
        0.0,
        "\n".join(lines),
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=8,
        color=style.NHS_COLOURS["black"],
        linespacing=1.2,
    )


#: MDC variation icons: (colour, letter, where the last dots sit: 0 flat, +1 up, -1 down).
_VARIATION_ICONS = {
    "common_cause": ("common_cause", "", 0),
    "improvement_high": ("special_cause_improvement", "H", 1),
    "improvement_low": ("special_cause_improvement", "L", -1),
    "concern_high": ("special_cause_concern", "H", 1),
    "concern_low": ("special_cause_concern", "L", -1),
    "neither_high": ("special_cause_neither", "H", 1),
    "neither_low": ("special_cause_neither", "L", -1),
}
#: MDC assurance icons: (colour, letter).
_ASSURANCE_ICONS = {
    "pass": ("special_cause_improvement", "P"),
    "fail": ("special_cause_concern", "F"),
    "hit_and_miss": ("common_cause", "?"),
}
_ICON_PT = 34.0


def _icon(kind: str, code: str):
    """One MDC icon (a ring, a letter, and for variation a run of dots) in a DrawingArea."""
    from matplotlib.lines import Line2D
    from matplotlib.offsetbox import DrawingArea
    from matplotlib.patches import Circle
    from matplotlib.text import Text

    size = _ICON_PT
    c = size / 2
    area = DrawingArea(size, size, 0, 0)
    if kind == "variation":
        colour_key, letter, lift = _VARIATION_ICONS[code]
    else:
        (colour_key, letter), lift = _ASSURANCE_ICONS[code], 0
    colour = style.SPC_COLOURS[colour_key]
    ring = Circle((c, c), c - 2, facecolor="white", edgecolor=colour, linewidth=2.6)
    ring.set_gid(f"mdc-icon-{kind}-{code}")
    area.add_artist(ring)
    if kind == "variation":
        # seven dots: grey common-cause dots, the last three lifted and coloured on a signal
        grey = style.SPC_COLOURS["common_cause"]
        base_y = c - 4 if lift >= 0 else c + 4
        xs = np.linspace(c - 10, c + 10, 7)
        ys = [base_y + (1 if i % 2 else -1) for i in range(7)]
        cols = [grey] * 7
        if lift:
            for i in (4, 5, 6):
                ys[i] = base_y + lift * 3 * (i - 3)
                cols[i] = colour
        area.add_artist(Line2D(xs, ys, color=grey, lw=0.8))
        for xi, yi, ci in zip(xs, ys, cols, strict=True):
            area.add_artist(Line2D([xi], [yi], marker="o", ms=2.6, color=ci, ls=""))
        # the letter to the left, clear of the lifted (or dropped) dots on the right
        letter_x, letter_y = (c - 5, c + 7) if lift >= 0 else (c - 5, c - 8)
        if not lift:
            letter_x = c
    else:
        # the target as a dashed line through the ring, the verdict letter above it
        area.add_artist(Line2D([c - 11, c + 11], [c - 7, c - 7], color=colour, lw=1.2, ls="--"))
        letter_x, letter_y = c, c + 3
    if letter:
        area.add_artist(
            Text(letter_x, letter_y, letter, ha="center", va="center", fontsize=10,
                 fontweight="bold", color=colour)
        )  # fmt: skip
    return area


def _draw_icons(ax, sa: SPCAnalysis) -> None:
    """The MDC variation (and, with a target, assurance) icons at the top of the right margin."""
    from matplotlib.offsetbox import AnnotationBbox, HPacker

    boxes = [_icon("variation", sa.summary["variation"])]
    if sa.summary["assurance"]:
        boxes.append(_icon("assurance", sa.summary["assurance"]))
    pack = HPacker(children=boxes, pad=0, sep=6, align="center")
    box = AnnotationBbox(
        pack,
        (1.01, 1.0),
        xycoords="axes fraction",
        box_alignment=(0.0, 1.0),
        frameon=False,
        pad=0.0,
        annotation_clip=False,
    )
    box.set_gid("mdc-icons")
    ax.add_artist(box)


def _wrap(text: str, width: int = 30) -> Sequence[str]:
    import textwrap

    return textwrap.wrap(text, width)
