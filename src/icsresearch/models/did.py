"""Difference-in-differences: the 2x2 design, TWFE event studies and Sun & Abraham (2021).

* :func:`did_2x2` -- two groups, two periods: ``y ~ treated + post + treated:post`` (or with unit
  fixed effects), with the 2x2 table of means whose difference-in-differences it equals.
* :func:`event_study` with ``estimator="twfe"`` -- the usual two-way fixed-effects event study:
  one dummy per period relative to adoption ("leads and lags"), the reference period omitted,
  endpoints optionally binned (Schmidheiny & Siegloch 2023: ``t<=lo`` and ``t>=hi`` pool every
  earlier/later relative period, which identifies the model without never-treated units).
* :func:`event_study` with ``estimator="sun-abraham"`` -- the interaction-weighted estimator of
  Sun & Abraham (2021, *J. Econometrics* 225:175-199), heterogeneity-robust under staggered
  adoption. **Our own implementation** on top of :func:`~icsresearch.models.hdfe.fit_hdfe`:
  pyfixest 0.60's ``SaturatedEventStudy`` is marked beta, supports neither binning nor a
  last-treated control cohort, and aggregates with normal rather than t inference.

Sun & Abraham in three steps:

1. Regress the outcome on cohort x relative-period dummies ``D[e, k]`` for every treated cohort
   ``e`` (adoption period) and relative period ``k`` other than the reference, with unit and
   period fixed effects. The control cohort is the never-treated units (``control="never"``) or,
   when there are none, the last-treated cohort with the periods from its adoption on dropped
   (``control="last"``). Each ``D[e, k]`` estimates the cohort's average effect ``k`` periods
   after adoption relative to the reference period, against the control cohort: with a balanced
   panel and no covariates it is exactly the 2x2 DiD of the cohort and the controls between
   periods ``e + k`` and ``e + reference``.
2. Average the cohort effects of each relative period with weights equal to each cohort's
   share of the observations in that relative period (the estimand of the TWFE coefficient
   when effects are homogeneous).
3. Standard errors of the averages by the delta method, ``A V A'``, treating the shares as
   fixed (as fixest's ``aggregate()``; Sun & Abraham's extra term for estimated shares is
   omitted).

Why not TWFE with staggered adoption: when effects differ across cohorts or grow with time
since adoption, the TWFE coefficient of relative period ``k`` mixes in effects of other
periods with weights that can be negative (Sun & Abraham 2021, Prop. 3; Goodman-Bacon 2021);
leads can look like pre-trends when there are none. ``tests/test_models_did.py`` plants such
effects and shows TWFE missing them while Sun & Abraham recovers them exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from ..options import Convention, SmallSample, Vcov, check
from . import core, hdfe
from .core import check_columns, data_label
from .hdfe import fit_hdfe
from .results import RegressionResult

Estimator = Literal["twfe", "sun-abraham"]
Endpoints = Literal["bin", "drop"]
Control = Literal["never", "last"]


def _inference(
    estimator: str,
    entity: str | None,
    *,
    vcov: Any,
    cluster: Any,
    convention: Any,
    small_sample: Any,
    alpha: Any,
) -> core.Inference:
    """The inference of a DiD estimator: fit_hdfe's options, clustered by the entity by default."""
    return core.resolve_inference(
        dataclasses.replace(hdfe.CAPABILITIES, estimator=estimator),
        vcov=vcov,
        cluster=cluster,
        convention=convention,
        small_sample=core.legacy_small_sample(small_sample, hdfe.SMALL_SAMPLE_WORDS, stacklevel=5),
        alpha=alpha,
        default_cluster=entity,
        default_vcov="CRV1" if entity else "hetero",
    )


# --- helpers -------------------------------------------------------------------------------


def _binary(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    """A 0/1 float column from a 0/1 or boolean column (missing stays missing)."""
    s = data[name]
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    if not pd.api.types.is_numeric_dtype(s):
        raise InvalidParameterError(
            f"{role} column {name!r} of {data_label(data)} must be 0/1 or True/False, not "
            f"dtype {s.dtype}\n  Fix: e.g. df[{name!r}] = (df[{name!r}] == 'yes').astype(int)"
        )
    v = s.astype("float64")
    bad = v.notna() & ~v.isin([0.0, 1.0])
    if bad.any():
        raise InvalidParameterError(
            f"{role} column {name!r} of {data_label(data)} must be 0/1; it has "
            f"{sorted(v[bad].unique().tolist())[:5]}\n  Fix: recode it as 0/1"
        )
    return v


def _covariate_list(covariates: str | Sequence[str] | None) -> list[str]:
    if covariates is None:
        return []
    if isinstance(covariates, str):
        return [c.strip() for c in covariates.split("+") if c.strip()]
    return list(covariates)


def _rhs(terms: Sequence[str]) -> str:
    return " + ".join(terms) if terms else "1"


def _q(name: str) -> str:
    """A column name usable in a formula (back-quoted when not an identifier)."""
    return name if name.isidentifier() else f"`{name}`"


# --- 2x2 -----------------------------------------------------------------------------------


def did_2x2(
    data: pd.DataFrame,
    outcome: str,
    *,
    treated: str,
    post: str,
    entity: str | None = None,
    covariates: str | Sequence[str] | None = None,
    vcov: Vcov | None = None,
    cluster: str | Sequence[str] | None = None,
    convention: Convention | None = None,
    small_sample: SmallSample = "default",
    weights: str | None = None,
    alpha: float = 0.05,
    unit: str | None = None,
) -> RegressionResult:
    """Two-group, two-period difference-in-differences.

    Fits ``outcome ~ treated + post + treated:post`` by OLS, or, with ``entity``, ``outcome ~
    treated:post | entity + post`` (entity fixed effects; with a balanced panel and no covariates
    the estimate is the same).

    Parameters
    ----------
    data
        One row per entity and period (or repeated cross-sections).
    outcome
        Outcome column.
    treated, post
        0/1 (or boolean) columns: the entity is in the treated group; the period is after the
        change.
    entity
        The panel unit (trust, ICS...), as in :func:`~icsresearch.models.fit`: adds entity fixed
        effects and is the default cluster.
    covariates
        Extra regressors (column names, or ``"x1 + x2"``).
    vcov, cluster, convention, small_sample
        Inference as :func:`~icsresearch.models.hdfe.fit_hdfe` (the words of
        ``docs/inference.md``); default ``CRV1`` by ``entity`` when given, else ``hetero``.
    weights
        Analytic weights column.
    alpha
        Confidence level ``1 - alpha``.
    unit
        Deprecated old name of ``entity``.

    Returns
    -------
    RegressionResult
        The interaction term is named ``"<treated>:<post>"`` (also ``extra["att_term"]``).
        ``extra["means"]`` is the 2x2 table of outcome means (rows: treated 0/1, columns: post
        0/1) with ``extra["counts"]``, and ``extra["did_of_means"]`` is
        ``(treated post - treated pre) - (control post - control pre)`` on the estimation sample.

    Raises
    ------
    InvalidParameterError
        Non-binary indicators, an empty cell of the 2x2 table, treatment status that varies
        within an entity.
    """
    core.check_dataframe(data)
    entity = core.renamed_argument("unit", unit, "entity", entity)
    inference = _inference(
        "did_2x2",
        entity,
        vcov=vcov,
        cluster=cluster,
        convention=convention,
        small_sample=small_sample,
        alpha=alpha,
    )
    clusters = list(inference.cluster)
    covs = _covariate_list(covariates)
    roles = {"outcome": [outcome], "treated": [treated], "post": [post], "covariate": covs}
    if entity:
        roles["entity"] = [entity]
    check_columns(data, roles)
    core.check_types(data, estimator="did_2x2", outcome=[outcome], regressors=covs)
    tr = _binary(data, treated, "treated")
    po = _binary(data, post, "post")
    work = pd.DataFrame(index=data.index)
    for c in dict.fromkeys([outcome, *covs, *([entity] if entity else [])]):
        work[c] = data[c]
    for c in clusters:
        if c not in work.columns:
            check_columns(data, {"cluster": [c]})
            work[c] = data[c]
    if weights:
        check_columns(data, {"weights": [weights]})
        work[weights] = data[weights]
    work["_did_treated"] = tr
    work["_did_post"] = po
    work["_did_att"] = tr * po
    work.attrs = dict(data.attrs)  # messages name the data's source file

    if entity:
        varies = (
            work[[entity, "_did_treated"]]
            .dropna()
            .groupby(entity, observed=True)["_did_treated"]
            .nunique()
        )
        if (varies > 1).any():
            bad = list(varies[varies > 1].index[:5])
            raise InvalidParameterError(
                f"treated column {treated!r} varies within entity(ies) {bad}: the treated group "
                "must be fixed per entity in a 2x2 design\n  Fix: use event_study() for "
                "staggered adoption, or define treated as the group indicator (1 for every "
                "period of a treated entity)"
            )
    complete = work[[outcome, "_did_treated", "_did_post", *covs]].notna().all(axis=1)
    cells = work[complete].groupby(["_did_treated", "_did_post"])[outcome]
    counts = cells.size()
    for g in (0.0, 1.0):
        for t in (0.0, 1.0):
            if counts.get((g, t), 0) == 0:
                raise InvalidParameterError(
                    f"the 2x2 table has no observations for {treated}={int(g)}, {post}={int(t)} "
                    "(after dropping rows with missing values)\n  Fix: check the indicator columns"
                )
    means = cells.mean().unstack()
    means.index = pd.Index([0, 1], name=treated)
    means.columns = pd.Index([0, 1], name=post)
    cnt = counts.unstack()
    cnt.index, cnt.columns = means.index, means.columns
    did_means = float((means.loc[1, 1] - means.loc[1, 0]) - (means.loc[0, 1] - means.loc[0, 0]))

    rhs = ["_did_att", *map(_q, covs)]
    if entity:
        fml = f"{_q(outcome)} ~ {_rhs(rhs)} | {_q(entity)} + _did_post"
    else:
        fml = f"{_q(outcome)} ~ _did_treated + _did_post + {_rhs(rhs)}"
    res = fit_hdfe(
        work,
        fml,
        vcov=inference.vcov,
        cluster=clusters or None,
        small_sample=inference.small_sample,
        weights=weights,
        alpha=inference.alpha,
    )
    term = f"{treated}:{post}"
    rename = {"_did_att": term, "_did_treated": treated, "_did_post": post}
    res.params = res.params.rename(index=rename)
    res.cov = res.cov.rename(index=rename, columns=rename)
    res.fixed_effects = tuple(rename.get(f, f) for f in res.fixed_effects)
    res.n_groups = {rename.get(k, k): v for k, v in res.n_groups.items()}
    res.model = "difference-in-differences (2x2" + (f", {entity} fixed effects)" if entity else ")")
    res.formula = f"{outcome} ~ {treated} * {post}" + (f" | {entity}" if entity else "")
    res.extra.update(
        {
            "att_term": term,
            "means": means,
            "counts": cnt,
            "did_of_means": did_means,
        }
    )
    spec = core.ModelSpec(
        function="did_2x2",
        formula=res.formula,
        inference=inference,
        entity=entity,
        weights=weights,
        options={"outcome": outcome, "treated": treated, "post": post, "covariates": covs},
    )
    return dataclasses.replace(res, **core.result_fields(data, spec))


# --- event studies -------------------------------------------------------------------------


def _term(k: int, lo_bin: bool = False, hi_bin: bool = False) -> str:
    if lo_bin:
        return f"t<={k}"
    if hi_bin:
        return f"t>={k}"
    return f"t{k:+d}"


def _integer_time(data: pd.DataFrame, time: str) -> pd.Series:
    s = data[time]
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        raise InvalidParameterError(
            f"time column {time!r} of {data_label(data)} must hold integer periods (e.g. years), "
            f"not dtype {s.dtype}\n  Fix: map periods to integers, e.g. months as "
            "12 * year + month, or financial years '2015/16' -> 2015"
        )
    v = s.astype("float64")
    if v.isna().any():
        raise InvalidParameterError(f"time column {time!r} has missing values")
    if not np.allclose(v, np.round(v)):
        raise InvalidParameterError(
            f"time column {time!r} must hold whole numbers (periods); it has e.g. "
            f"{v[v != np.round(v)].iloc[0]}\n  Fix: map periods to consecutive integers"
        )
    return v.round()


def _cohorts(
    data: pd.DataFrame,
    unit: str,
    tvals: pd.Series,
    cohort: str | None,
    treatment: str | None,
) -> pd.Series:
    """Adoption period per row (NaN for units never treated in the sample)."""
    if (cohort is None) == (treatment is None):
        raise InvalidParameterError(
            "give exactly one of cohort= (column of adoption periods; NaN, 0 or inf for never "
            "treated) or treatment= (0/1 column, 1 from adoption on)"
        )
    units = data[unit]
    if cohort is not None:
        s = data[cohort]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise InvalidParameterError(
                f"cohort column {cohort!r} must hold adoption periods as numbers (NaN, 0 or inf "
                f"for never treated), not dtype {s.dtype}"
            )
        c = s.astype("float64").replace([np.inf, -np.inf, 0.0], np.nan)
        nun = c.groupby(units, observed=True).nunique(dropna=False)
        if (nun > 1).any():
            bad = list(nun[nun > 1].index[:5])
            raise InvalidParameterError(
                f"cohort column {cohort!r} differs between rows of unit(s) {bad}: the adoption "
                "period must be constant within a unit\n  Fix: set it to the first treated period"
            )
        return c
    d = _binary(data, treatment, "treatment")
    if d.isna().any():
        raise InvalidParameterError(
            f"treatment column {treatment!r} has {int(d.isna().sum())} missing values\n  Fix: "
            "fill or drop them: adoption dates cannot be read from a gappy indicator"
        )
    frame = pd.DataFrame({"u": units.to_numpy(), "t": tvals.to_numpy(), "d": d.to_numpy()})
    frame = frame.sort_values(["u", "t"])
    first = frame[frame["d"] == 1].groupby("u", observed=True)["t"].min()
    frame["first"] = frame["u"].map(first)
    switched_off = frame[(frame["t"] >= frame["first"]) & (frame["d"] == 0)]
    if len(switched_off):
        bad = list(dict.fromkeys(switched_off["u"]))[:5]
        raise InvalidParameterError(
            f"treatment column {treatment!r} switches off again for unit(s) {bad}: the event "
            "study assumes adoption is absorbing (once treated, always treated)\n  Fix: define "
            "adoption as the first treated period (cohort=), or analyse exits separately"
        )
    return units.map(first).astype("float64").set_axis(data.index)


@dataclass(repr=False)
class EventStudyResult(RegressionResult):
    """An event study: a :class:`RegressionResult` whose terms are relative periods.

    Terms are ``"t-3"``, ``"t+0"``, ``"t+2"`` (periods relative to adoption; ``"t<=-5"`` and
    ``"t>=4"`` for binned endpoints), then any covariates. ``extra`` holds ``event_times``
    (term -> relative period), ``reference``, ``window``, ``estimator``, ``control``,
    ``cohorts``, ``n_by_event_time`` and, for Sun & Abraham, ``cohort_effects`` (one row per
    cohort and relative period), ``weights`` and the underlying ``regression``.
    """

    def event_terms(self) -> list[str]:
        """The relative-period terms, in time order."""
        return list(self.extra.get("event_times", {}))

    def event_table(self, alpha: float | None = None) -> pd.DataFrame:
        """One row per relative period, the reference included (estimate 0, no SE).

        Returns
        -------
        pandas.DataFrame
            ``rel_time, term, estimate, se, statistic, p_value, ci_low, ci_high, n_obs,
            binned, reference``.
        """
        tidy = self.tidy(alpha).set_index("term")
        ev = self.extra["event_times"]
        counts = self.extra.get("n_by_event_time", {})
        rows = []
        for term, k in ev.items():
            r = tidy.loc[term]
            rows.append(
                {
                    "rel_time": k,
                    "term": term,
                    **{c: float(r[c]) for c in tidy.columns},
                    "n_obs": counts.get(term, np.nan),
                    "binned": "<=" in term or ">=" in term,
                    "reference": False,
                }
            )
        ref = self.extra["reference"]
        rows.append(
            {
                "rel_time": ref,
                "term": self.extra.get("reference_term", _term(ref)),
                "estimate": 0.0,
                "se": np.nan,
                "statistic": np.nan,
                "p_value": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "n_obs": counts.get("reference", np.nan),
                "binned": False,
                "reference": True,
            }
        )
        out = pd.DataFrame(rows).sort_values("rel_time", kind="stable").reset_index(drop=True)
        out.attrs = {"estimator": self.extra.get("estimator"), "alpha": tidy.attrs.get("alpha")}
        return out

    def _linear_combination(self, weights: pd.Series, name: str, alpha: float | None):
        from scipy import stats

        alpha = self.alpha if alpha is None else alpha
        w = weights.reindex(self.params.index).fillna(0.0).to_numpy()
        est = float(w @ self.params.to_numpy())
        se = float(np.sqrt(w @ self.cov.to_numpy() @ w))
        dist = (
            stats.t(self.df_resid)
            if self.dist == "t" and self.df_resid is not None and np.isfinite(self.df_resid)
            else stats.norm()
        )
        t = est / se if se > 0 else np.nan
        q = dist.ppf(1 - alpha / 2)
        return pd.DataFrame(
            {
                "term": [name],
                "estimate": [est],
                "se": [se],
                "statistic": [t],
                "p_value": [2 * dist.sf(abs(t))],
                "ci_low": [est - q * se],
                "ci_high": [est + q * se],
            }
        )

    def att(self, alpha: float | None = None) -> pd.DataFrame:
        """Average effect over the post-adoption periods (``t >= 0``).

        Relative periods are weighted by their number of treated observations, so this is the
        average effect on the treated observations in the window (fixest's ``aggregate(att =
        TRUE)`` for Sun & Abraham).

        Returns
        -------
        pandas.DataFrame
            One row: ``term ("ATT"), estimate, se, statistic, p_value, ci_low, ci_high``.
        """
        counts = self.extra["n_by_event_time"]
        post = {t: counts[t] for t, k in self.extra["event_times"].items() if k >= 0}
        if not post:
            raise InvalidParameterError("no post-adoption relative periods were estimated")
        w = pd.Series(post, dtype=float)
        return self._linear_combination(w / w.sum(), "ATT", alpha)

    def pretrend_test(self) -> dict[str, float]:
        """Joint Wald test that every lead (``t < 0`` other than the reference) is zero.

        Returns
        -------
        dict
            ``statistic`` (F), ``df_num``, ``df_denom`` (``inf`` for normal inference) and
            ``p_value``.
        """
        from scipy import stats

        leads = [t for t, k in self.extra["event_times"].items() if k < 0]
        if not leads:
            raise InvalidParameterError(
                "no leads to test: widen the window before adoption (e.g. window=(-4, 4))"
            )
        b = self.params[leads].to_numpy()
        V = self.cov.loc[leads, leads].to_numpy()
        q = len(leads)
        F = float(b @ np.linalg.solve(V, b)) / q
        df2 = self.df_resid if self.dist == "t" and self.df_resid else np.inf
        p = float(stats.f.sf(F, q, df2)) if np.isfinite(df2) else float(stats.chi2.sf(F * q, q))
        return {"statistic": F, "df_num": q, "df_denom": float(df2), "p_value": p}

    def plot(
        self,
        *,
        alpha: float | None = None,
        title: str | None = None,
        ylabel: str | None = None,
        xlabel: str = "Periods relative to adoption",
        source_note: str | None = None,
        note: str | None = None,
        ax=None,
        source: str | None = None,
    ):
        """Event-study chart: estimates and confidence intervals by relative period.

        The reference period is drawn as a hollow point at zero; a dashed line separates leads
        from lags. The footer's ``Source:`` defaults to the result's provenance, and a model
        fitted on demo data is stamped "synthetic demo data" (as every chart,
        :func:`icsresearch.plots.style.finish_figure`); ``source=`` is the deprecated name of
        ``source_note=``. Returns a :class:`~icsresearch.plots.style.PlotResult` (``.data`` is
        :meth:`event_table`).
        """
        from ..plots import style

        table = self.event_table(alpha)
        level = 1 - (self.alpha if alpha is None else alpha)
        with style.house_style():
            fig, ax = style.new_figure(ax, figsize=(8.0, 4.8))
            ax.axhline(0, color=style.REFERENCE_COLOUR, lw=1.0, zorder=1)
            ref = float(self.extra["reference"])
            ax.axvline(ref + 0.5, color=style.CONTEXT_COLOUR, lw=1.0, ls="--", zorder=1)
            est = table[~table["reference"]]
            colour = style.HIGHLIGHT_COLOUR
            ax.errorbar(
                est["rel_time"],
                est["estimate"],
                yerr=[est["estimate"] - est["ci_low"], est["ci_high"] - est["estimate"]],
                fmt="o",
                color=colour,
                ecolor=colour,
                elinewidth=1.6,
                capsize=0,
                ms=6,
                zorder=3,
            )
            ax.plot([ref], [0.0], "o", mfc="white", mec=colour, ms=6, zorder=4)
            ticks = table["rel_time"].tolist()
            labels = [
                t.replace("t<=", "\u2264").replace("t>=", "\u2265") if b else f"{int(k)}"
                for t, k, b in zip(table["term"], table["rel_time"], table["binned"], strict=True)
            ]
            ax.set_xticks(ticks)
            ax.set_xticklabels(labels)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel or f"Effect on {self.dependent} ({level:.0%} CI)")
            est_label = {"twfe": "two-way FE", "sun-abraham": "Sun & Abraham"}
            ax.set_title(title or f"Event study ({est_label.get(self.extra['estimator'], '')})")
            # the footer and the synthetic stamp come from the result's provenance
            style.finish_figure(
                fig,
                source_note=style.source_note_renamed(source_note, source),
                note=note or f"Reference period {int(ref)}; {self.cov_type}.",
                data=self,
            )
        summary = {
            "estimator": self.extra["estimator"],
            "reference": self.extra["reference"],
            "window": self.extra.get("window"),
            "cov_type": self.cov_type,
        }
        return style.PlotResult(fig, table, summary, kind="event_study")


def _rel_bins(
    rel: np.ndarray,
    window: tuple[int, int] | None,
    reference: int,
) -> tuple[list[int], int, int, bool, bool]:
    """Relative periods to estimate, window bounds, and whether each endpoint is a bin."""
    treated = rel[~np.isnan(rel)]
    lo_data, hi_data = int(treated.min()), int(treated.max())
    if window is None:
        lo, hi = lo_data, hi_data
    else:
        lo, hi = int(window[0]), int(window[1])
    lo_bin = window is not None and lo_data < lo
    hi_bin = window is not None and hi_data > hi
    present = set(np.unique(np.clip(treated, lo, hi)).astype(int).tolist())
    ks = [k for k in range(lo, hi + 1) if k in present]
    return ks, lo, hi, lo_bin, hi_bin


def event_study(
    data: pd.DataFrame,
    outcome: str,
    *,
    entity: str | None = None,
    time: str | None = None,
    cohort: str | None = None,
    treatment: str | None = None,
    estimator: Estimator = "twfe",
    window: tuple[int, int] | None = None,
    reference: int = -1,
    endpoints: Endpoints = "bin",
    control: Control | None = None,
    covariates: str | Sequence[str] | None = None,
    vcov: Vcov | None = None,
    cluster: str | Sequence[str] | None = None,
    convention: Convention | None = None,
    small_sample: SmallSample = "default",
    weights: str | None = None,
    alpha: float = 0.05,
    unit: str | None = None,
) -> EventStudyResult:
    """Event study with leads and lags: two-way fixed effects or Sun & Abraham (2021).

    Parameters
    ----------
    data
        A panel: one row per entity and period.
    outcome
        Outcome column.
    entity, time
        The panel unit (trust, ICS...) and the integer period (year, or a running month
        number), as in :func:`~icsresearch.models.fit`. Both required.
    cohort, treatment
        Exactly one: ``cohort`` is the adoption period of each unit (NaN, 0 or ``inf`` for
        never treated; constant within a unit); ``treatment`` is a 0/1 indicator that switches
        on at adoption and stays on. Units adopting after the last period are never treated in
        the sample; units treated in every observed period (no pre-period) are dropped.
    estimator
        ``"twfe"`` (one coefficient per relative period) or ``"sun-abraham"`` (cohort-specific
        effects averaged with cohort shares; see the module docstring).
    window
        ``(lo, hi)``: relative periods to report. Default: every relative period in the data
        (no binning).
    reference
        The omitted relative period (default ``-1``, the period before adoption).
    endpoints
        What happens to treated observations outside ``window``: ``"bin"`` (default) pools them
        into the endpoint terms ``t<=lo`` and ``t>=hi``; ``"drop"`` removes them from the
        sample.
    control
        Sun & Abraham's control cohort: ``"never"`` (never-treated units; default when there
        are any) or ``"last"`` (the last-treated cohort, with the periods from its adoption on
        dropped; default when every unit is treated).
    covariates
        Time-varying controls (column names or ``"x1 + x2"``).
    vcov, cluster, convention, small_sample, weights
        As :func:`~icsresearch.models.hdfe.fit_hdfe` (the words of ``docs/inference.md``);
        default: ``CRV1`` clustered by ``entity``.
    alpha
        Confidence level ``1 - alpha``.
    unit
        Deprecated old name of ``entity``.

    Returns
    -------
    EventStudyResult
        A :class:`RegressionResult` with the relative-period terms (see
        :class:`EventStudyResult`), plus :meth:`~EventStudyResult.event_table`,
        :meth:`~EventStudyResult.att`, :meth:`~EventStudyResult.pretrend_test` and
        :meth:`~EventStudyResult.plot`.

    Raises
    ------
    InvalidParameterError
        Bad options; a non-integer time; cohorts that vary within a unit or a treatment that
        switches off; no treated units; a reference outside the window; relative periods that
        are not identified (e.g. a fully dynamic TWFE without never-treated units: bin the
        endpoints with ``window=``).
    """
    core.check_dataframe(data)
    entity = core.renamed_argument("unit", unit, "entity", entity)
    if entity is None or time is None:
        raise InvalidParameterError(
            "event_study needs entity= (the panel unit) and time= (the integer period)\n"
            "  Fix: e.g. event_study(df, 'y', entity='trust_code', time='year', cohort=...)"
        )
    estimator = check("estimator", estimator, Estimator)
    endpoints = check("endpoints", endpoints, Endpoints)
    if control is not None:
        control = check("control", control, Control)
    if isinstance(reference, bool) or not isinstance(reference, int | np.integer):
        raise InvalidParameterError(
            f"reference={reference!r} must be a whole number of periods relative to adoption "
            "(usually -1)"
        )
    inference = _inference(
        "event_study",
        entity,
        vcov=vcov,
        cluster=cluster,
        convention=convention,
        small_sample=small_sample,
        alpha=alpha,
    )
    alpha = inference.alpha
    covs = _covariate_list(covariates)
    clusters = list(inference.cluster)
    roles = {
        "outcome": [outcome],
        "entity": [entity],
        "time": [time],
        "cohort": [cohort] if cohort else [],
        "treatment": [treatment] if treatment else [],
        "covariate": covs,
        "cluster": clusters,
        "weights": [weights] if weights else [],
    }
    check_columns(data, roles)
    core.check_types(data, estimator="event_study", outcome=[outcome], regressors=covs)
    if window is not None:
        if (
            not isinstance(window, tuple | list)
            or len(window) != 2
            or not all(isinstance(w, int | np.integer) for w in window)
            or window[0] >= window[1]
        ):
            raise InvalidParameterError(
                f"window={window!r} must be two integers (lo, hi) with lo < hi, e.g. (-4, 5)"
            )
        if not window[0] <= reference <= window[1]:
            raise InvalidParameterError(
                f"reference={reference} is outside window={tuple(window)}\n  Fix: widen the "
                "window or choose a reference inside it (usually -1)"
            )
    tvals = _integer_time(data, time)
    dup = pd.DataFrame({"u": data[entity].to_numpy(), "t": tvals.to_numpy()}).duplicated()
    if dup.any():
        ex = data.loc[data.index[dup.to_numpy()][:3], [entity, time]].to_dict("records")
        raise InvalidParameterError(
            f"{int(dup.sum())} duplicated ({entity}, {time}) rows, e.g. {ex}\n  Fix: one row per "
            "unit and period (aggregate first)"
        )
    coh = _cohorts(data, entity, tvals, cohort, treatment)
    notes: list[str] = []

    # units never treated within the sample window count as never treated
    tmax = float(tvals.max())
    late = coh > tmax
    if late.any():
        notes.append(
            f"{data.loc[late, entity].nunique()} units adopting after the last period ({int(tmax)}) "
            "are treated as never treated."
        )
        coh = coh.mask(late)
    first_seen = tvals.groupby(data[entity], observed=True).transform("min")
    always = coh.notna() & (coh <= first_seen)
    if always.any():
        notes.append(
            f"{data.loc[always, entity].nunique()} units treated in every observed period (no "
            "pre-adoption period) were dropped."
        )
    keep = ~always
    work = pd.DataFrame(
        {
            "_y": data[outcome],
            "_unit": data[entity],
            "_time": tvals,
            "_cohort": coh,
        },
        index=data.index,
    )
    for c in dict.fromkeys([*covs, *clusters, *([weights] if weights else [])]):
        if c not in ("_unit",):
            work[c] = data[c]
    work = work[keep]
    # the estimation sample first: event-time cells are counted (and dummies built) on it
    need = ["_y", *covs, *clusters, *([weights] if weights else [])]
    complete = work[need].notna().all(axis=1)
    n_missing = int((~complete).sum())
    if n_missing:
        notes.append(f"{n_missing:,} rows with missing values were dropped.")
        work = work[complete]
    if work["_cohort"].notna().sum() == 0:
        raise InvalidParameterError(
            "no treated units (with a pre-adoption period) in the data\n  Fix: check the "
            "cohort/treatment column"
        )
    never = work["_cohort"].isna()
    if estimator == "sun-abraham":
        if control is None:
            control = "never" if never.any() else "last"
        if control == "never" and not never.any():
            raise InvalidParameterError(
                "control='never' but every unit is treated in the sample\n  Fix: use "
                "control='last' (the last-treated cohort as control)"
            )
        if control == "last":
            last = float(work["_cohort"].max())
            n_before = len(work)
            ctrl = work["_cohort"] == last
            work = work[work["_time"] < last]
            work.loc[ctrl[work.index], "_cohort"] = np.nan
            notes.append(
                f"Control cohort: units adopting in {int(last)} (the last cohort); "
                f"{n_before - len(work)} observations from {int(last)} on were dropped."
            )
            if work["_cohort"].notna().sum() == 0:
                raise InvalidParameterError(
                    "only one adoption cohort and no never-treated units: there is no control "
                    "group\n  Fix: add never-treated (or later-treated) units"
                )
        else:
            notes.append(
                f"Control cohort: {work.loc[never, '_unit'].nunique()} never-treated units."
            )
    rel = (work["_time"] - work["_cohort"]).to_numpy()
    ks, lo, hi, lo_bin, hi_bin = _rel_bins(rel, window, reference)
    if window is not None and endpoints == "drop":
        outside = ~np.isnan(rel) & ((rel < lo) | (rel > hi))
        if outside.any():
            notes.append(
                f"{int(outside.sum())} treated observations outside the window {lo}..{hi} were "
                "dropped (endpoints='drop')."
            )
            work = work[~outside]
            rel = rel[~outside]
        lo_bin = hi_bin = False
    if reference not in ks:
        raise InvalidParameterError(
            f"no treated observation is at the reference period {reference} (relative periods "
            f"in the data: {int(np.nanmin(rel))}..{int(np.nanmax(rel))})\n  Fix: choose a "
            "reference that occurs in the data"
        )
    clipped = np.clip(rel, lo, hi)
    terms = {}
    for k in ks:
        terms[k] = _term(k, lo_bin and k == lo, hi_bin and k == hi)
    ref_term = terms.pop(reference)
    est_ks = [k for k in ks if k != reference]
    safe = {k: f"_ev_{'m' if k < 0 else 'p'}{abs(k)}" for k in est_ks}
    counts = {terms[k]: int(np.sum(clipped == k)) for k in est_ks}
    counts["reference"] = int(np.sum(clipped == reference))
    cohorts_list = sorted(work.loc[work["_cohort"].notna(), "_cohort"].unique().tolist())

    fit_kw = dict(
        vcov=inference.vcov,
        cluster=clusters or None,
        weights=weights,
        small_sample=inference.small_sample,
        collinear="drop",
        alpha=alpha,
    )
    cov_terms = [_q(c) for c in covs]
    work.attrs = dict(data.attrs)  # messages name the data's source file
    extra: dict[str, Any] = {
        "estimator": estimator,
        "reference": reference,
        "reference_term": ref_term,
        "window": (lo, hi),
        "binned": {"lower": lo_bin, "upper": hi_bin},
        "endpoints": endpoints,
        "cohorts": [int(c) for c in cohorts_list],
        "n_by_event_time": counts,
        "event_times": {terms[k]: k for k in est_ks},
    }
    if estimator == "twfe":
        for k in est_ks:
            work[safe[k]] = (clipped == k).astype(float)
        fml = f"_y ~ {_rhs([*safe.values(), *cov_terms])} | _unit + _time"
        reg = _fit_checked(work, fml, fit_kw, {safe[k]: terms[k] for k in est_ks})
        rename = {safe[k]: terms[k] for k in est_ks}
        params = reg.params.rename(index=rename)
        cov = reg.cov.rename(index=rename, columns=rename)
        label = "event study, two-way fixed effects"
    else:
        # saturated in cohort x relative period (binning only pools cells in the averages)
        raw = np.where(np.isnan(rel), np.nan, rel)
        cell_names: dict[tuple[int, int], str] = {}
        cell_bin: dict[tuple[int, int], int] = {}
        cohort_arr = work["_cohort"].to_numpy()
        for e in cohorts_list:
            in_e = cohort_arr == e
            for k in sorted(np.unique(raw[in_e]).astype(int).tolist()):
                b = int(np.clip(k, lo, hi))
                if k == reference or b not in est_ks:
                    continue
                mask = in_e & (raw == k)
                name = f"_ev_{'m' if k < 0 else 'p'}{abs(k)}_c{int(e)}"
                work[name] = mask.astype(float)
                cell_names[(int(e), k)] = name
                cell_bin[(int(e), k)] = b
        fml = f"_y ~ {_rhs([*cell_names.values(), *cov_terms])} | _unit + _time"
        readable = {v: f"{_term(k)} x cohort {e}" for (e, k), v in cell_names.items()}
        reg = _fit_checked(work, fml, fit_kw, readable)
        # aggregation weights: each cell's share of the observations in its (binned) period
        cell_n = {key: float(work[name].sum()) for key, name in cell_names.items()}
        names = list(reg.params.index)
        out_names = [terms[k] for k in est_ks] + [c for c in names if c not in readable]
        A = np.zeros((len(out_names), len(names)))
        weights_rows = []
        for i, b in enumerate(est_ks):
            total = sum(n for key, n in cell_n.items() if cell_bin[key] == b)
            for key, name in cell_names.items():
                if cell_bin[key] == b:
                    w = cell_n[key] / total
                    A[i, names.index(name)] = w
                    weights_rows.append(
                        {"cohort": key[0], "rel_time": key[1], "term": terms[b], "weight": w}
                    )
        for j, c in enumerate(out_names[len(est_ks) :]):
            A[len(est_ks) + j, names.index(c)] = 1.0
        b_hat, V = reg.params.to_numpy(), reg.cov.to_numpy()
        params = pd.Series(A @ b_hat, index=out_names, name="estimate")
        cov = pd.DataFrame(A @ V @ A.T, index=out_names, columns=out_names)
        tidy = reg.tidy().set_index("term")
        ce = []
        for (e, k), name in cell_names.items():
            r = tidy.loc[name]
            ce.append(
                {
                    "cohort": e,
                    "rel_time": k,
                    "term": terms[cell_bin[(e, k)]],
                    "estimate": r["estimate"],
                    "se": r["se"],
                    "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"],
                    "n_obs": int(cell_n[(e, k)]),
                }
            )
        extra["cohort_effects"] = (
            pd.DataFrame(ce).sort_values(["cohort", "rel_time"]).reset_index(drop=True)
        )
        extra["weights"] = (
            pd.DataFrame(weights_rows).sort_values(["rel_time", "cohort"]).reset_index(drop=True)
        )
        extra["control"] = control
        extra["regression"] = reg
        label = f"event study, Sun & Abraham (control: {control}-treated cohort)"
    extra.update({k: reg.extra.get(k) for k in ("vcov", "cluster", "n_clusters", "ssc")})
    extra["n_missing"] = n_missing
    extra["n_singletons"] = reg.extra.get("n_singletons")
    window_txt = f", window {lo}..{hi}" + (" binned" if (lo_bin or hi_bin) else "")
    n_groups = {entity: reg.n_groups.get("_unit", 0), time: reg.n_groups.get("_time", 0)}
    n_groups.update({k: v for k, v in reg.n_groups.items() if k.startswith("clusters:")})
    warnings = [*notes, *reg.warnings]
    spec = core.ModelSpec(
        function="event_study",
        formula=f"{outcome} ~ event time | {entity} + {time}",
        inference=inference,
        entity=entity,
        time=time,
        weights=weights,
        options={
            "outcome": outcome,
            "cohort": cohort,
            "treatment": treatment,
            "estimator": estimator,
            "window": list(window) if window is not None else None,
            "reference": reference,
            "endpoints": endpoints,
            "control": control,
            "covariates": covs,
        },
    )
    wild = reg._wild_data
    if wild is not None and estimator != "twfe":
        # Sun & Abraham's terms are weighted sums of the cohort cells: bootstrap those sums
        wild = dataclasses.replace(wild, coef_map=A)
    return EventStudyResult(
        params=params.rename("estimate"),
        cov=cov,
        nobs=reg.nobs,
        df_resid=reg.df_resid,
        model=f"{label}{window_txt}, reference {reference}",
        cov_type=reg.cov_type,
        dependent=outcome,
        formula=spec.formula,
        n_groups=n_groups,
        rsquared=dict(reg.rsquared),
        dist=reg.dist,
        sample=reg.sample,
        fixed_effects=(entity, time),
        extra=extra,
        warnings=warnings,
        _wild_data=wild,
        **core.result_fields(data, spec),
    )


def _fit_checked(
    work: pd.DataFrame, fml: str, fit_kw: dict[str, Any], readable: dict[str, str]
) -> RegressionResult:
    """Fit and turn a dropped event-time dummy into an error that says what to do."""
    import warnings as _w

    with _w.catch_warnings():
        _w.simplefilter("ignore", UserWarning)  # re-emitted below after renaming
        reg = fit_hdfe(work, fml, **fit_kw)
    dropped = reg.extra.get("dropped_collinear") or []
    bad = [readable.get(d, d) for d in dropped]
    if bad:
        event = [b for b, d in zip(bad, dropped, strict=True) if d in readable]
        if event:
            raise InvalidParameterError(
                f"relative-period term(s) {event} are not identified (collinear with the unit "
                "and period fixed effects)\n  Fix: a fully dynamic event study needs "
                "never-treated units; otherwise bin the endpoints with window=(lo, hi), e.g. "
                "window=(-4, 4)"
            )
        raise InvalidParameterError(
            f"covariate(s) {bad} are collinear with the unit and period fixed effects\n  Fix: "
            "remove them (time-invariant controls are absorbed by the unit effects)"
        )
    for msg in reg.warnings:
        if "rows with missing values" not in msg and "singleton" not in msg:
            core.warn(msg, stacklevel=4)
    return reg
