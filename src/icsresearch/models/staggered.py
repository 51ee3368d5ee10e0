r"""Staggered difference-in-differences: Callaway & Sant'Anna (2021) and Borusyak, Jaravel & Spiess (2024).

Both estimators compare each treated observation only with observations that are *not yet*
treated, so neither needs a never-treated group -- the situation of ICS research, where every
system was established in July 2022 and any later policy is adopted by systems at different
times, with no system left out. Both return an :class:`EventTimeResult`: effects by event time
(periods since adoption), an overall effect, standard errors and confidence intervals.

**Callaway & Sant'Anna** (:func:`callaway_santanna`, unconditional, balanced panel). For each
adoption cohort ``g`` and period ``t`` the group-time effect ``ATT(g, t)`` is the 2x2
difference in mean outcome changes between cohort ``g`` and the control units, from a base
period ``b`` to ``t``:

* ``base_period="varying"`` (R ``did`` default): ``b = t - 1`` before adoption (short, "placebo"
  differences), ``b = g - 1`` from adoption on;
* ``base_period="universal"``: ``b = g - 1`` always (``ATT(g, g - 1) = 0`` by construction) --
  the choice that makes pre-period estimates comparable to an event study, and the one
  :func:`icsresearch.models.sensitivity.honest_did` requires;
* controls (``control_group="notyettreated"``): units not yet treated at ``max(t, b)``, never
  treated units included; ``"nevertreated"``: never-treated units only.

**Without never-treated units** the last cohort to adopt is used only as a control: from its
adoption period on no unit is untreated, so no ``ATT(g, t)`` with ``t`` at or after the last
adoption is identified. As R's ``did``, those periods are dropped and the last cohort is recoded
as never treated (``result.extra["dropped_periods"]`` and ``["control_only_cohort"]`` say which).

Aggregations follow R ``did::aggte``: by event time ``e = t - g`` (``"dynamic"``: cohort-size
weighted means of ``ATT(g, g + e)``), overall (``"simple"``: the cohort-size weighted mean of all
post-adoption ``ATT(g, t)``; ``"dynamic"``: the mean of the event-time effects ``e >= 0``;
``"group"``: cohort-size weighted mean of each cohort's average effect). Standard errors are
analytic, from the influence functions (one per unit, so clustered on the unit), including the
estimation effect of the cohort-size weights (R's ``wif``); intervals are normal. Periods are
counted in observed time steps (R's recoding), so ``e`` is in periods of the panel.

**Borusyak, Jaravel & Spiess imputation** (:func:`imputation_did`):

1. fit ``y_it = alpha_i + lambda_t + e_it`` by OLS on the untreated observations (never treated,
   and treated units before adoption);
2. impute ``y_it(0)`` for every treated observation and take ``tau_it = y_it - y_it(0)``;
3. average ``tau_it`` with equal weights within each event time (and over all treated
   observations for the overall effect).

Each estimate is linear in the outcomes, ``sum_it v_it y_it``, with ``v_it = w_it`` on treated
and ``v_0 = -Z_0 (Z_0'Z_0)^{-1} Z_1' w_1`` on untreated observations. The standard error is BJS's
conservative, unit-clustered formula (their Theorem 3; R ``didimputation``):
``sigma^2 = sum_i (sum_t v_it e~_it)^2`` with ``e~`` the first-stage residual on untreated
observations and ``tau_it - tau_bar`` on treated ones, ``tau_bar`` the ``v^2``-weighted mean of
``tau`` in the observation's cohort x event-time cell. The leave-out refinement is not
implemented. Treated observations in periods where no unit is untreated (with no never-treated
group: from the last adoption on) cannot be imputed; they are dropped, with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InvalidParameterError
from ..options import check_alpha as _check_alpha
from . import core
from .core import Inference, ModelSpec, check_columns, check_dataframe


def _alpha_or_error(alpha: object) -> float:
    """``options.check_alpha`` with the package's "Fix:" line."""
    try:
        return _check_alpha(alpha)
    except InvalidParameterError as err:
        raise InvalidParameterError(f"{err}\n  Fix: e.g. alpha=0.05 for 95% intervals") from None


ControlGroup = Literal["notyettreated", "nevertreated"]
BasePeriod = Literal["varying", "universal"]
Aggregation = Literal["dynamic", "simple", "group"]

# R did reports an aggregated SE as NA when it is numerically zero (the universal base period)
_ZERO_SE = np.sqrt(np.finfo(float).eps) * 10


@dataclass
class EventTimeResult:
    """Effects by event time from a staggered-adoption estimator, with an overall effect.

    Attributes
    ----------
    estimator
        ``"callaway-santanna"`` or ``"imputation"`` (Borusyak, Jaravel & Spiess).
    estimates
        One row per event time: ``rel_time, estimate, se, n_obs, reference`` (``n_obs``: treated
        units (CS) or observations (BJS) behind the estimate; ``reference``: the base period of
        a universal-base CS result, estimate 0 and no SE).
    cov
        Covariance of the estimated (non-reference) event-time effects, indexed by ``rel_time``.
    overall
        One row per overall aggregation: ``aggregation, estimate, se``.
    group_time
        Callaway & Sant'Anna: ``group, time, rel_time, att, se`` (one row per ``ATT(g, t)``);
        imputation: ``cohort, rel_time, estimate, n_obs`` (unit-weighted cohort x event time
        means of ``tau``).
    alpha
        Default level of intervals (``1 - alpha``).
    spec
        How the result was made.
    provenance
        What it was made from (synthetic if the data were).
    extra
        ``n_units``, ``periods``, ``cohorts``, ``dropped_periods``, ``control_only_cohort``,
        ``dropped_units`` (treated before the first period), ``influence`` (CS: the units x
        event-times influence functions), and estimator-specific details.
    """

    estimator: str
    estimates: pd.DataFrame
    cov: pd.DataFrame
    overall: pd.DataFrame
    group_time: pd.DataFrame
    alpha: float
    spec: ModelSpec
    provenance: Any
    extra: dict[str, Any] = field(default_factory=dict)

    def event_table(self, alpha: float | None = None) -> pd.DataFrame:
        """Event-time effects with normal confidence intervals.

        Parameters
        ----------
        alpha
            Interval level ``1 - alpha``; default the result's.

        Returns
        -------
        pandas.DataFrame
            ``rel_time, estimate, se, statistic, p_value, ci_low, ci_high, n_obs, reference``,
            sorted by ``rel_time``.
        """
        out = _with_intervals(self.estimates, self.alpha if alpha is None else alpha)
        cols = ["rel_time", "estimate", "se", "statistic", "p_value", "ci_low", "ci_high"]
        return out[cols + ["n_obs", "reference"]]

    def att(self, aggregation: str | None = None, alpha: float | None = None) -> pd.DataFrame:
        """The overall effect, with its normal confidence interval.

        Parameters
        ----------
        aggregation
            ``"simple"``, ``"dynamic"`` or ``"group"`` (CS) / ``"overall"`` (imputation);
            default all that were computed.
        alpha
            Interval level ``1 - alpha``; default the result's.

        Returns
        -------
        pandas.DataFrame
            ``aggregation, estimate, se, statistic, p_value, ci_low, ci_high``.
        """
        out = self.overall
        if aggregation is not None:
            known = list(out["aggregation"])
            if aggregation not in known:
                raise InvalidParameterError(
                    f"aggregation={aggregation!r} was not computed for this result"
                    f"\n  Fix: choose one of {known}"
                )
            out = out[out["aggregation"] == aggregation]
        out = _with_intervals(out.reset_index(drop=True), self.alpha if alpha is None else alpha)
        return out[["aggregation", "estimate", "se", "statistic", "p_value", "ci_low", "ci_high"]]

    def event_vector(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Estimated event-time effects, their covariance, and their event times.

        The reference period (if any) is left out, as Rambachan & Roth's inputs expect.

        Returns
        -------
        tuple
            ``(beta, sigma, rel_times)``, in event-time order.
        """
        est = self.estimates[~self.estimates["reference"]].sort_values("rel_time")
        times = est["rel_time"].to_numpy()
        sigma = self.cov.loc[times, times].to_numpy()
        return est["estimate"].to_numpy(dtype=float), sigma, times

    def plot(self, **kwargs: Any):
        """Event-time chart (see :func:`icsresearch.plots.event_time.event_time_plot`).

        Parameters
        ----------
        **kwargs
            Passed to :func:`~icsresearch.plots.event_time.event_time_plot`.

        Returns
        -------
        icsresearch.plots.style.PlotResult
        """
        from ..plots.event_time import event_time_plot  # plots sits beside models

        return event_time_plot(self, **kwargs)

    def __repr__(self) -> str:
        name = {
            "callaway-santanna": "Callaway & Sant'Anna",
            "imputation": "Borusyak-Jaravel-Spiess imputation",
        }.get(self.estimator, self.estimator)
        lines = [
            f"{name}: {self.extra.get('n_units')} units, periods "
            f"{self.extra.get('periods')}, cohorts {self.extra.get('cohorts')}"
        ]
        for _, r in self.att().iterrows():
            lines.append(
                f"  ATT ({r['aggregation']}): {r['estimate']:.6g} (se {r['se']:.4g}), "
                f"{100 * (1 - self.alpha):g}% CI [{r['ci_low']:.6g}, {r['ci_high']:.6g}]"
            )
        return "\n".join(lines)


def _with_intervals(frame: pd.DataFrame, alpha: float) -> pd.DataFrame:
    alpha = _alpha_or_error(alpha)
    out = frame.copy()
    z = stats.norm.ppf(1 - alpha / 2)
    se = out["se"].to_numpy(dtype=float)
    est = out["estimate"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, est / se, np.nan)
    out["statistic"] = stat
    out["p_value"] = 2 * stats.norm.sf(np.abs(stat))
    out["ci_low"] = est - z * se
    out["ci_high"] = est + z * se
    out.attrs = {"alpha": alpha}
    return out


# --- the panel both estimators read --------------------------------------------------------


@dataclass
class _Panel:
    units: np.ndarray  # unit labels, one per row of Y
    periods: np.ndarray  # sorted period values, one per column of Y
    Y: np.ndarray  # units x periods outcomes
    adopt: np.ndarray  # adoption period per unit (0: never treated within the panel)
    dropped_units: list[Any]


def _never(values: pd.Series) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.isnan(v) | (v == 0) | np.isinf(v)


def _read_panel(
    data: Any, outcome: str, entity: str, time: str, cohort: str, function: str
) -> tuple[pd.DataFrame, _Panel]:
    frame = check_dataframe(data)
    for name, role in (
        (outcome, "outcome"),
        (entity, "entity"),
        (time, "time"),
        (cohort, "cohort"),
    ):
        if not isinstance(name, str):
            raise InvalidParameterError(
                f"{role}={name!r} must be a column name\n  Fix: pass {role}='column'"
            )
    check_columns(
        frame, {"outcome": [outcome], "entity": [entity], "time": [time], "cohort": [cohort]}
    )
    core.check_numeric(frame, [outcome, time], role=function)
    if frame[outcome].isna().any() or frame[time].isna().any() or frame[entity].isna().any():
        raise InvalidParameterError(
            f"{function} needs a balanced panel without missing values; "
            f"{outcome!r}, {time!r} or {entity!r} has missing values"
            "\n  Fix: drop the incomplete units (or impute) before estimating"
        )
    t = frame[time].to_numpy(dtype=float)
    if not np.all(t == np.round(t)):
        raise InvalidParameterError(
            f"{time!r} must hold whole-number periods (years, or months counted as integers)"
            "\n  Fix: convert the period to an integer index first"
        )
    g_raw = frame[cohort]
    if not pd.api.types.is_numeric_dtype(g_raw) and not g_raw.isna().all():
        raise InvalidParameterError(
            f"cohort column {cohort!r} must be numeric: the first treated period, 0 or missing "
            "for never treated\n  Fix: convert it with pd.to_numeric"
        )
    if frame.duplicated([entity, time]).any():
        raise InvalidParameterError(
            f"{entity!r} x {time!r} is not unique: the data are not a panel"
            "\n  Fix: aggregate to one row per unit and period"
        )
    per_unit = frame.groupby(entity, sort=True)[cohort].nunique(dropna=False)
    if (per_unit > 1).any():
        bad = list(per_unit.index[per_unit > 1][:3])
        raise InvalidParameterError(
            f"cohort column {cohort!r} varies within units (e.g. {bad}): it must be each unit's "
            "first treated period\n  Fix: compute it per unit, e.g. "
            "df.groupby(unit)['period'].transform(lambda s: s[treated].min())"
        )
    wide = frame.pivot(index=entity, columns=time, values=outcome).sort_index(axis=1)
    if wide.isna().any().any():
        raise InvalidParameterError(
            f"{function} needs a balanced panel: some units miss some periods"
            "\n  Fix: keep units observed in every period (unbalanced panels are not supported)"
        )
    first = frame.groupby(entity, sort=True)[cohort].first()
    adopt = np.where(
        _never(first), 0.0, pd.to_numeric(first, errors="coerce").to_numpy(dtype=float)
    )
    periods = wide.columns.to_numpy(dtype=float)
    # adopting after the last period is never treated within the panel (R did)
    adopt[adopt > periods.max()] = 0.0
    if np.any((adopt > 0) & (adopt != np.round(adopt))):
        raise InvalidParameterError(
            f"cohort column {cohort!r} must hold whole-number periods\n  Fix: use the period "
            "of first treatment on the same scale as the time column"
        )
    early = (adopt > 0) & (adopt <= periods.min())
    dropped = list(wide.index[early])
    if early.any():
        core.warn(
            f"{int(early.sum())} unit(s) treated in or before the first period {periods.min():g} "
            f"have no untreated period and are dropped (e.g. {dropped[:3]})"
        )
    keep = ~early
    panel = _Panel(
        units=wide.index.to_numpy()[keep],
        periods=periods,
        Y=wide.to_numpy(dtype=float)[keep],
        adopt=adopt[keep],
        dropped_units=dropped,
    )
    if not np.any(panel.adopt > 0):
        raise InvalidParameterError(
            f"no unit adopts treatment within the panel ({cohort!r})"
            "\n  Fix: check the cohort column (first treated period; 0 or missing for never)"
        )
    return frame, panel


def _spec(
    function: str, outcome: str, entity: str, time: str, cohort: str, alpha: float, **options: Any
) -> ModelSpec:
    return ModelSpec(
        function=function,
        formula=f"{outcome} ~ staggered adoption by {cohort}",
        inference=Inference(vcov="CRV1", cluster=(entity,), convention=None, alpha=alpha),
        entity=entity,
        time=time,
        options={"cohort": cohort, **options},
    )


def _check_choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidParameterError(
            f"{name}={value!r} is not one of {list(allowed)}\n  Fix: choose one of those"
        )


def _check_cluster(cluster: Any, entity: str, function: str) -> None:
    if cluster is not None and cluster != entity:
        raise InvalidParameterError(
            f"{function} clusters on the unit ({entity!r}) only: its analytic standard errors "
            f"come from per-unit influence functions; cluster={cluster!r} is not supported"
            f"\n  Fix: leave cluster=None, or aggregate the panel to {cluster!r} first"
        )


# --- Callaway & Sant'Anna ---------------------------------------------------------------------


def callaway_santanna(
    data: pd.DataFrame,
    outcome: str,
    *,
    entity: str,
    time: str,
    cohort: str,
    control_group: ControlGroup = "notyettreated",
    base_period: BasePeriod = "varying",
    covariates: Sequence[str] | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> EventTimeResult:
    """Callaway & Sant'Anna (2021) group-time effects, by event time and overall.

    Parameters
    ----------
    data
        A balanced panel, one row per unit and period.
    outcome
        Outcome column.
    entity, time
        Unit and (whole-number) period columns.
    cohort
        Each unit's first treated period (constant within the unit); 0 or missing for units
        never treated. Units treated in the first period have no pre-period and are dropped.
    control_group
        ``"notyettreated"`` (default; needs no never-treated units) or ``"nevertreated"``.
    base_period
        ``"varying"`` (default, as R ``did``) or ``"universal"`` (for sensitivity analysis).
    covariates
        Not supported yet (unconditional parallel trends only); anything but None is an error.
    cluster
        None or the entity: standard errors are clustered on the unit.
    alpha
        Default interval level ``1 - alpha``.

    Returns
    -------
    EventTimeResult
        ``overall`` has the ``"simple"``, ``"dynamic"`` and ``"group"`` aggregations.
    """
    fn = "callaway_santanna"
    if covariates:
        raise InvalidParameterError(
            "callaway_santanna does not take covariates yet (only unconditional parallel "
            "trends; the outcome-regression/IPW/doubly-robust versions are not implemented)"
            "\n  Fix: leave covariates=None, or use imputation_did, which takes none either, "
            "on residualised outcomes"
        )
    _check_choice("control_group", control_group, ("notyettreated", "nevertreated"))
    _check_choice("base_period", base_period, ("varying", "universal"))
    alpha = _alpha_or_error(alpha)
    _check_cluster(cluster, entity, fn)
    frame, panel = _read_panel(data, outcome, entity, time, cohort, fn)
    Y, adopt, periods = panel.Y, panel.adopt.copy(), panel.periods
    dropped_periods: list[float] = []
    control_only: float | None = None
    if not np.any(adopt == 0):
        if control_group == "nevertreated":
            raise InvalidParameterError(
                "there are no never-treated units, so control_group='nevertreated' has no "
                "controls\n  Fix: use control_group='notyettreated'"
            )
        # the last cohort only ever serves as control: drop its adoption period and after
        control_only = float(adopt.max())
        keep = periods < control_only
        dropped_periods = [int(p) for p in periods[~keep]]
        Y, periods = Y[:, keep], periods[keep]
        adopt[adopt == control_only] = 0.0
        core.warn(
            f"no never-treated units: the last cohort ({control_only:g}) serves only as the "
            f"control, and periods {dropped_periods} (when every unit is treated) are dropped"
        )
    glist = np.unique(adopt[adopt > 0])
    n, T = Y.shape
    if T < 2:
        raise InvalidParameterError("fewer than two periods remain\n  Fix: use a longer panel")

    cells: list[tuple[float, float, float, int, int]] = []  # g, t, att, index of t, pre?
    influence: list[np.ndarray] = []
    current_index = range(1, T) if base_period == "varying" else range(T)
    for g in glist:
        pre_idx = np.flatnonzero(periods < g)
        if pre_idx.size == 0:  # cannot happen after dropping early adopters; kept for safety
            continue
        base_g = int(pre_idx[-1])
        treated = adopt == g
        for ti in current_index:
            post = periods[ti] >= g
            base = base_g if (post or base_period == "universal") else ti - 1
            if base_period == "universal" and base == ti:
                cells.append((g, periods[ti], 0.0, ti, 1))
                influence.append(np.zeros(n))
                continue
            if control_group == "nevertreated":
                control = adopt == 0
            else:
                horizon = periods[max(ti, base)]
                control = (adopt == 0) | ((adopt > horizon) & ~treated)
            if not control.any():
                raise InvalidParameterError(
                    f"no control units for cohort {g:g} in period {periods[ti]:g}"
                    "\n  Fix: use control_group='notyettreated' or a panel with later adopters"
                )
            dy = Y[:, ti] - Y[:, base]
            used = treated | control
            n1 = int(used.sum())
            p1 = treated.sum() / n1
            p0 = control.sum() / n1
            mean_t = dy[treated].mean()
            mean_c = dy[control].mean()
            # influence function of the difference in means on the units used, rescaled to
            # all n units as R did (n / n1); zero for units in neither group
            psi = np.zeros(n)
            psi[treated] = (dy[treated] - mean_t) / p1
            psi[control] = -(dy[control] - mean_c) / p0
            influence.append(psi * n / n1)
            cells.append((g, periods[ti], mean_t - mean_c, ti, 0))
    IF = np.column_stack(influence)
    group = np.array([c[0] for c in cells])
    tval = np.array([c[1] for c in cells])
    att = np.array([c[2] for c in cells])
    se_gt = np.sqrt(np.sum(IF**2, axis=0)) / n
    se_gt[se_gt <= _ZERO_SE] = np.nan

    # R's aggte works on period indices: every period and cohort value gets its rank
    steps = np.unique(np.concatenate([periods, glist]))
    rank = {v: i + 1 for i, v in enumerate(steps)}
    t_i = np.array([rank[v] for v in tval])
    g_i = np.array([rank[v] for v in group])
    adopt_rank = np.array([rank.get(v, 0) if v > 0 else 0 for v in adopt])
    pg_of = {g: float(np.mean(adopt == g)) for g in glist}
    pg = np.array([pg_of[g] for g in group])

    def wif(keep: np.ndarray, pgk: np.ndarray, grp: np.ndarray) -> np.ndarray:
        # estimation effect of the cohort-share weights (R did's wif)
        ind = np.column_stack([(adopt_rank == grp[k]).astype(float) - pgk[k] for k in keep])
        s = pgk[keep].sum()
        return ind / s - ind.sum(axis=1, keepdims=True) @ (pgk[keep] / s**2)[None, :]

    def agg_if(keep: np.ndarray, est: np.ndarray, IFm: np.ndarray, w: np.ndarray, wf) -> np.ndarray:
        out = IFm[:, keep] @ w
        if wf is not None:
            out = out + wf @ est[keep]
        return out

    def se_of(psi: np.ndarray) -> float:
        s = float(np.sqrt(np.mean(psi**2) / n))
        return np.nan if s <= _ZERO_SE else s

    # simple
    post = np.flatnonzero(g_i <= t_i)
    w_simple = pg[post] / pg[post].sum()
    simple_att = float(att[post] @ w_simple)
    simple_if = agg_if(post, att, IF, w_simple, wif(post, pg, g_i))

    # dynamic (event time)
    e_all = t_i - g_i
    eseq = np.unique(e_all)
    dyn_att, dyn_if, dyn_n = [], [], []
    for e in eseq:
        which = np.flatnonzero(e_all == e)
        w = pg[which] / pg[which].sum()
        dyn_att.append(float(att[which] @ w))
        dyn_if.append(agg_if(which, att, IF, w, wif(which, pg, g_i)))
        dyn_n.append(int(sum(np.sum(adopt == group[k]) for k in which)))
    dyn_att_a = np.array(dyn_att)
    dyn_IF = np.column_stack(dyn_if)
    epos = eseq >= 0
    dynamic_att = float(dyn_att_a[epos].mean())
    dynamic_if = dyn_IF[:, epos].mean(axis=1)

    # group
    grp_att, grp_if = [], []
    rank_glist = np.array([rank[g] for g in glist])
    for g, gr in zip(glist, rank_glist, strict=True):
        which = np.flatnonzero((group == g) & (t_i >= gr))
        w = pg[which] / pg[which].sum()
        grp_att.append(float(att[which].mean()))
        grp_if.append(IF[:, which] @ w)
    grp_att_a = np.array(grp_att)
    pgg = np.array([pg_of[g] for g in glist])
    keep_g = np.arange(len(glist))
    group_att = float(grp_att_a @ (pgg / pgg.sum()))
    group_if = agg_if(
        keep_g, grp_att_a, np.column_stack(grp_if), pgg / pgg.sum(), wif(keep_g, pgg, rank_glist)
    )

    dyn_se = np.array([se_of(dyn_IF[:, j]) for j in range(len(eseq))])
    reference = np.zeros(len(eseq), dtype=bool)
    if base_period == "universal":
        reference = (eseq == -1) & np.isnan(dyn_se)
    estimates = pd.DataFrame(
        {
            "rel_time": eseq.astype(int),
            "estimate": dyn_att_a,
            "se": dyn_se,
            "n_obs": dyn_n,
            "reference": reference,
        }
    )
    est_cols = eseq[~reference].astype(int)
    IFe = dyn_IF[:, ~reference]
    cov = pd.DataFrame(IFe.T @ IFe / n**2, index=est_cols, columns=est_cols)
    overall = pd.DataFrame(
        {
            "aggregation": ["simple", "dynamic", "group"],
            "estimate": [simple_att, dynamic_att, group_att],
            "se": [se_of(simple_if), se_of(dynamic_if), se_of(group_if)],
        }
    )
    group_time = pd.DataFrame(
        {"group": group, "time": tval, "rel_time": e_all.astype(int), "att": att, "se": se_gt}
    )
    spec = _spec(
        fn,
        outcome,
        entity,
        time,
        cohort,
        alpha,
        control_group=control_group,
        base_period=base_period,
    )
    return EventTimeResult(
        estimator="callaway-santanna",
        estimates=estimates,
        cov=cov,
        overall=overall,
        group_time=group_time,
        alpha=alpha,
        spec=spec,
        provenance=core.result_provenance(frame, spec),
        extra={
            "n_units": int(n),
            "periods": [int(p) for p in periods],
            "cohorts": [int(g) for g in glist],
            "dropped_periods": dropped_periods,
            "control_only_cohort": control_only,
            "dropped_units": panel.dropped_units,
            "influence": pd.DataFrame(IFe, index=panel.units, columns=est_cols),
            "group_influence": IF,
            "base_period": base_period,
            "control_group": control_group,
        },
    )


# --- Borusyak, Jaravel & Spiess imputation ---------------------------------------------------


def imputation_did(
    data: pd.DataFrame,
    outcome: str,
    *,
    entity: str,
    time: str,
    cohort: str,
    horizons: Sequence[int] | None = None,
    covariates: Sequence[str] | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> EventTimeResult:
    """Borusyak, Jaravel & Spiess (2024) imputation estimator, by event time and overall.

    Parameters
    ----------
    data
        A balanced panel, one row per unit and period.
    outcome
        Outcome column.
    entity, time
        Unit and (whole-number) period columns.
    cohort
        Each unit's first treated period; 0 or missing for never treated.
    horizons
        Event times ``>= 0`` to estimate (default every identified one). The overall effect
        averages the treated observations at these horizons.
    covariates
        Not supported yet; anything but None is an error.
    cluster
        None or the entity: the conservative variance is clustered on the unit.
    alpha
        Default interval level ``1 - alpha``.

    Returns
    -------
    EventTimeResult
        ``overall`` has one row, ``"overall"``: the mean effect on the treated observations.
    """
    fn = "imputation_did"
    if covariates:
        raise InvalidParameterError(
            "imputation_did does not take covariates yet (unit and period effects only)"
            "\n  Fix: leave covariates=None"
        )
    alpha = _alpha_or_error(alpha)
    _check_cluster(cluster, entity, fn)
    frame, panel = _read_panel(data, outcome, entity, time, cohort, fn)
    Y, adopt, periods = panel.Y, panel.adopt, panel.periods
    n, T = Y.shape
    steps = np.unique(np.concatenate([periods, np.unique(adopt[adopt > 0])]))
    rank = {v: i for i, v in enumerate(steps)}
    unit_idx = np.repeat(np.arange(n), T)
    time_idx = np.tile(np.arange(T), n)
    y = Y.ravel()
    g_obs = adopt[unit_idx]
    t_obs = periods[time_idx]
    treated = (g_obs > 0) & (t_obs >= g_obs)
    rel = np.array(
        [rank[t] - rank[g] if g > 0 else -(10**9) for t, g in zip(t_obs, g_obs, strict=True)]
    )
    untreated_periods = np.unique(time_idx[~treated])
    imputable = treated & np.isin(time_idx, untreated_periods)
    lost = treated & ~imputable
    dropped_periods = sorted({int(p) for p in t_obs[lost]})
    if lost.any():
        core.warn(
            f"{int(lost.sum())} treated observation(s) in periods {dropped_periods} cannot be "
            "imputed: no unit is untreated then (with no never-treated units, every period from "
            "the last adoption on); they are left out of every estimate"
        )
    if horizons is None:
        hs = np.unique(rel[imputable])
    else:
        hs = np.asarray(list(horizons), dtype=int)
        if hs.size == 0 or np.any(hs < 0) or len(set(hs.tolist())) != hs.size:
            raise InvalidParameterError(
                f"horizons={list(horizons)!r} must be distinct event times >= 0"
                "\n  Fix: e.g. horizons=range(0, 4)"
            )
        missing = sorted(set(hs.tolist()) - set(rel[imputable].tolist()))
        if missing:
            raise InvalidParameterError(
                f"horizons {missing} have no imputable treated observations"
                f"\n  Fix: choose among {sorted(set(rel[imputable].tolist()))}"
            )
    # first stage: unit and period dummies on the untreated observations (one period dropped)
    Z = np.zeros((n * T, n + T - 1))
    Z[np.arange(n * T), unit_idx] = 1.0
    later = time_idx > 0
    Z[np.flatnonzero(later), n + time_idx[later] - 1] = 1.0
    Z0, y0 = Z[~treated], y[~treated]
    units_untreated = np.unique(unit_idx[~treated])
    if units_untreated.size < n:
        raise InvalidParameterError(  # unreachable: early adopters were dropped
            "some units have no untreated period\n  Fix: drop units treated from the start"
        )
    ZtZ_inv = np.linalg.pinv(Z0.T @ Z0)
    theta = ZtZ_inv @ (Z0.T @ y0)
    resid = y - Z @ theta  # first-stage residual (untreated), tau (treated)

    def estimate(w1: np.ndarray) -> tuple[float, float, np.ndarray]:
        # w1: weights on all observations, zero off the target treated rows
        v = w1.copy()
        v[~treated] = -Z0 @ (ZtZ_inv @ (Z[treated].T @ w1[treated]))
        est = float(w1[treated] @ resid[treated])
        eps = _adjusted_residuals(v, resid, treated, lost, g_obs, rel, imputable)
        by_unit = np.bincount(unit_idx, weights=v * eps, minlength=n)
        return est, float(np.sqrt(np.sum(by_unit**2))), v

    rows, V_cols = [], []
    for h in hs:
        target = imputable & (rel == h)
        w1 = np.where(target, 1.0 / target.sum(), 0.0)
        est, se, v = estimate(w1)
        rows.append({"rel_time": int(h), "estimate": est, "se": se, "n_obs": int(target.sum())})
        V_cols.append(v)
    in_h = imputable & np.isin(rel, hs)
    w_all = np.where(in_h, 1.0 / in_h.sum(), 0.0)
    est_all, se_all, _ = estimate(w_all)
    estimates = pd.DataFrame(rows)
    estimates["reference"] = False
    # covariance across horizons from the same conservative construction (unit-clustered)
    E = np.column_stack(
        [
            np.bincount(
                unit_idx,
                weights=v * _adjusted_residuals(v, resid, treated, lost, g_obs, rel, imputable),
                minlength=n,
            )
            for v in V_cols
        ]
    )
    cov = pd.DataFrame(E.T @ E, index=hs.astype(int), columns=hs.astype(int))
    cells = (
        pd.DataFrame(
            {"cohort": g_obs[imputable], "rel_time": rel[imputable], "tau": resid[imputable]}
        )
        .groupby(["cohort", "rel_time"], as_index=False)
        .agg(estimate=("tau", "mean"), n_obs=("tau", "size"))
    )
    spec = _spec(fn, outcome, entity, time, cohort, alpha, horizons=[int(h) for h in hs])
    return EventTimeResult(
        estimator="imputation",
        estimates=estimates,
        cov=cov,
        overall=pd.DataFrame({"aggregation": ["overall"], "estimate": [est_all], "se": [se_all]}),
        group_time=cells,
        alpha=alpha,
        spec=spec,
        provenance=core.result_provenance(frame, spec),
        extra={
            "n_units": int(n),
            "periods": [int(p) for p in periods],
            "cohorts": [int(g) for g in np.unique(adopt[adopt > 0])],
            "dropped_periods": dropped_periods,
            "control_only_cohort": None,
            "dropped_units": panel.dropped_units,
            "tau": pd.DataFrame(
                {
                    entity: panel.units[unit_idx[imputable]],
                    time: t_obs[imputable],
                    "rel_time": rel[imputable],
                    "tau": resid[imputable],
                }
            ),
        },
    )


def _adjusted_residuals(v, resid, treated, lost, g_obs, rel, imputable) -> np.ndarray:
    """The adjusted residuals of BJS's variance for one estimand's weights ``v``."""
    cell = pd.Series(list(zip(g_obs, rel, strict=True)))
    v2 = np.where(imputable & (v != 0), v**2, 0.0)
    num = pd.Series(v2 * resid).groupby(cell).transform("sum").to_numpy()
    den = pd.Series(v2).groupby(cell).transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        tau_bar = np.where(den > 0, num / den, 0.0)
    eps = resid.copy()
    eps[treated] = resid[treated] - tau_bar[treated]
    eps[lost] = 0.0
    return eps


__all__ = ["EventTimeResult", "callaway_santanna", "imputation_did"]
