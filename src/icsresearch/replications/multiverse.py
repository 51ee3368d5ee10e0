"""A robustness multiverse: re-run an analysis over a grid of analytic choices and see which hold.

ICS analyses rest on choices no paper reports together: trust codes as reported or harmonised
through mergers, the sample rule, clustering by trust or by system, the footprint and
trust-to-ICS method that define a system, the small-sample convention, the data processing.
:func:`multiverse` runs an analysis for every combination of such choices (a *specification*)
and returns one row per specification and claim, so the reader sees how often each claim's
verdict survives and which choice moves it most (Steegen et al. 2016; Simonsohn, Simmons &
Nelson 2020).

The grid
--------
A grid is a sequence of :class:`Choice` dimensions: a name, the allowed values, the value the
authors (or the published replication) used, and optionally the package option type the values
must belong to (:mod:`icsresearch.options`). A choice that cannot affect a specification is
*collapsed*: ``Choice("footprint", (2022, 2026), only_if={"cluster": ("ics",)})`` takes the value
:data:`NOT_APPLICABLE` (``"n/a"``) wherever the cluster is the trust, and the duplicate
specifications this would create are dropped, so the grid is the set of distinct analyses.
Choices marked ``data=True`` change the data (the sample), not only the inference: the
specifications that share them run one after another in one task, so an analysis that caches its
sample (and fitted models) per data choice builds each sample once per process and only re-does
the inference for the other choices.

The analysis
------------
``analysis(spec)`` (or ``analysis(data, spec)`` when ``data=`` is given) gets one specification as
a dict ``{choice name: value}`` and returns either a list of evaluated
:class:`~icsresearch.replications.comparison.Claim` objects, or a DataFrame with a ``claim``
column and, per claim, the ``estimate`` that decides it with ``ci_low``/``ci_high``, and a
``verdict`` (or none: then ``rule(estimate, ci_low, ci_high)`` decides it, by default "the 95% CI
excludes 0"; True means ``"reproduced"``). Optional columns: ``detail`` (what the data give, in
words), ``estimate_of`` (what the estimate is) and ``null`` (the estimate's no-effect value, 0 or
1, drawn as the reference line). Claims judged "not reproducible from public data" do not vary
and are left out. A user's own function of a panel::

    import pandas as pd
    from icsresearch.models import fit
    from icsresearch.options import Convention
    from icsresearch.replications.multiverse import Choice, multiverse

    def shmi_on_managers(panel, spec):
        res = fit(panel, "shmi ~ managers_fte", entity="trust_code", time="year",
                  model=spec["model"], vcov="CRV1", cluster="trust_code",
                  convention=spec["convention"])
        row = res.tidy().set_index("term").loc["managers_fte"]
        return pd.DataFrame([{"claim": "managers_shmi", "estimate": row["estimate"],
                              "ci_low": row["ci_low"], "ci_high": row["ci_high"]}])

    grid = [Choice("model", ("within", "pooled"), "within"),
            Choice("convention", ("plm", "stata"), "plm", option=Convention)]
    result = multiverse(shmi_on_managers, grid, data=panel)
    result.summary()

What comes back
---------------
A :class:`MultiverseResult`: ``.table`` has one row per (specification, claim) with the choices,
the estimate, its CI, the verdict, the verdict at the published specification
(``published_verdict``) and ``holds`` (the two are equal). ``.summary()`` gives per claim the share
of specifications where the verdict holds and the choice that moves it most: the choice whose
values give the largest spread in that share; ties (e.g. a verdict that holds everywhere) are
broken by the spread of the median estimate across the choice's values, then by the spread of
the median CI width, both in units of the published specification's CI width.
``.influence()`` has the numbers behind it and ``.plot(claim)`` draws the specification curve
(:func:`icsresearch.plots.speccurve.spec_curve`).

Where it runs
-------------
``scheduler=`` (a Dask scheduler address or a ``distributed.Client``) sends one task per data
batch to the cluster (the analysis and ``data`` must pickle; ``data`` is scattered once).
Otherwise the batches run in this process (``workers=1``, the default) or in a pool of
``workers`` forked processes. Measured on the two-core project machine (both replications' full
grids, 182 specifications): serial 26 s, two processes 44 s - each new process reads the files
again, the fits are short and the machine is shared, so serial is the default.

The replications
----------------
:func:`replication_grid` and :func:`replication_analysis` give the grids and analyses of
``asaria2022`` and ``griffiths2016`` (``size="full"`` or ``"small"``, a reduced grid for tests);
:func:`run_replication_multiverse` runs them. Their choices:

``processing`` (asaria2022 only)
    ``"authors"`` (published) or ``"cleaned"`` (:data:`icsresearch.options.Processing`).
``sample``
    ``"all"`` (published: every trust-year the published rule gives), ``"balanced"`` (asaria2022:
    trusts in the sample in every year) and ``"no_mergers"`` (drop every trust that harmonising
    codes would touch: a code with a later successor, or one into which another code of the data
    merges - mergers up to the ODS extract, so also after the study period).
``harmonise_to``
    ``"as_reported"`` (published) or ``"latest"`` (:data:`icsresearch.options.HarmoniseTo`):
    merged trusts' rows of a year are combined under the latest code; counts (FTE, beds, money,
    episodes) are summed, rates and scores (A&E %, RTT %, SHMI, staff-survey score, casemix
    shares) averaged weighted by inpatient episodes (asaria2022) or occupied beds
    (griffiths2016, whose staffing ratios are recomputed from the summed counts); a merged
    trust-year is missing a value unless every predecessor reports it. Collapsed (``"n/a"``)
    when the sample is ``"no_mergers"``, which leaves nothing to harmonise.
``cluster``
    ``"trust"`` (published: asaria2022 clusters by trust; griffiths2016's cross-section uses
    conventional standard errors and its panel clusters by trust) or ``"ics"``: clustered by the
    trust's main system (:func:`icsresearch.geography.main_ics`). The between model keeps its
    conventional standard errors throughout.
``footprint``, ``method``
    The systems' footprint (2022/2026) and trust-to-ICS method (headquarters, catchment, A&E
    activity), :data:`icsresearch.options.Footprint` and :data:`~icsresearch.options.TrustIcsMethod`;
    collapsed unless the cluster is the ICS.
``convention``
    ``"plm"`` (published) or ``"stata"`` small-sample rules (:data:`icsresearch.options.Convention`).

Asaria's seven inferential claims are judged by the paper's count rules over the ten
specifications of each outcome; the estimate shown for each is the two-way fixed-effects
(within) estimate without controls, except for ``quality_vs_performance`` (random effects,
:data:`ASARIA_HEADLINE`). Griffiths' six published rate ratios and the panel claim
are judged as in the replication; the estimate is the claim's rate ratio (the panel claim: the
within-trust ratio for registered nurses). The descriptive claims (sample size, managers over
500) are left out: the sample choices change them by construction.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import IcsResearchError, InvalidParameterError, ReplicationError
from ..options import Convention, Footprint, HarmoniseTo, Processing, TrustIcsMethod, check
from .comparison import NOT_REPRODUCIBLE, Claim, verdict_from

#: The value a collapsed choice takes where it cannot affect the specification.
NOT_APPLICABLE = "n/a"

#: Grid sizes of the replications' multiverses.
GridSize = Literal["full", "small"]

#: Columns of :attr:`MultiverseResult.table` after the choices.
RESULT_COLUMNS = [
    "claim",
    "estimate",
    "ci_low",
    "ci_high",
    "estimate_of",
    "null",
    "verdict",
    "published_verdict",
    "holds",
    "published",
    "detail",
]


@dataclass(frozen=True)
class Choice:
    """One dimension of a multiverse: an analytic choice and the values it may take.

    Attributes
    ----------
    name
        The choice's name, as the analysis reads it from the spec (``spec["footprint"]``); use
        the package's option names where one exists (``footprint``, ``method``,
        ``harmonise_to``, ``convention``, ``processing``).
    values
        The values to try, in display order.
    published
        The authors' (or the published replication's) value; default the first value.
    label
        How plots and tables name the choice (default ``name``).
    option
        A ``Literal`` option type of :mod:`icsresearch.options` every value must belong to.
    only_if
        ``{other choice: values}``: the choice matters only when every named earlier choice
        takes one of those values; elsewhere it is :data:`NOT_APPLICABLE` and not multiplied.
    data
        True when the choice changes the data the analysis uses (the sample), not only its
        inference: specifications sharing every data choice run together in one task.
    """

    name: str
    values: tuple[Any, ...]
    published: Any = None
    label: str = ""
    option: Any = None
    only_if: Mapping[str, tuple[Any, ...]] | None = field(default=None, hash=False)
    data: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise InvalidParameterError(
                f"multiverse choice name {self.name!r} is not a name\n"
                "  Fix: name each choice with a plain identifier, e.g. 'footprint'"
            )
        values = tuple(self.values) if not isinstance(self.values, str) else (self.values,)
        if not values:
            raise InvalidParameterError(
                f"multiverse choice {self.name!r} has no values\n  Fix: give at least one value"
            )
        if self.option is not None:
            values = tuple(_checked(self.name, v, self.option) for v in values)
        if len(set(map(repr, values))) != len(values):
            raise InvalidParameterError(
                f"multiverse choice {self.name!r} lists a value twice: {list(values)}\n"
                "  Fix: give each value once"
            )
        published = values[0] if self.published is None else self.published
        if self.option is not None:
            published = _checked(self.name, published, self.option)
        if published not in values:
            raise InvalidParameterError(
                f"multiverse choice {self.name!r}: the published value {published!r} is not "
                f"among its values {list(values)}\n  Fix: add it to the values, so the "
                "published specification is part of the grid"
            )
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "published", published)
        object.__setattr__(self, "label", self.label or self.name)
        if self.only_if is not None:
            object.__setattr__(
                self, "only_if", {k: tuple(v) for k, v in dict(self.only_if).items()}
            )


def _checked(name: str, value: Any, option: Any, what: str = "multiverse choice") -> Any:
    try:
        return check(name, value, option)
    except InvalidParameterError as exc:
        raise InvalidParameterError(
            f"{what} {name!r}: {exc}\n  Fix: give {name} only the allowed values"
        ) from None


def _check_grid(grid: Sequence[Choice]) -> tuple[Choice, ...]:
    grid = tuple(grid)
    if not grid or not all(isinstance(c, Choice) for c in grid):
        raise InvalidParameterError(
            "multiverse: the grid must be a non-empty sequence of Choice objects\n"
            "  Fix: e.g. grid=[Choice('convention', ('plm', 'stata'), 'plm')]"
        )
    names = [c.name for c in grid]
    if len(set(names)) != len(names):
        raise InvalidParameterError(
            f"multiverse: choice names repeat in the grid {names}\n  Fix: name each choice once"
        )
    reserved = set(names) & {"spec_id", *RESULT_COLUMNS}
    if reserved:
        raise InvalidParameterError(
            f"multiverse: choice name(s) {sorted(reserved)} clash with the result's columns\n"
            "  Fix: rename those choices"
        )
    for i, c in enumerate(grid):
        for other, vals in (c.only_if or {}).items():
            earlier = {g.name: g for g in grid[:i]}
            if other not in earlier:
                raise InvalidParameterError(
                    f"multiverse choice {c.name!r}: only_if names {other!r}, which is not an "
                    "earlier choice of the grid\n  Fix: list the choice it depends on first"
                )
            unknown = [v for v in vals if v not in earlier[other].values]
            if unknown:
                raise InvalidParameterError(
                    f"multiverse choice {c.name!r}: only_if gives {other}={unknown}, not among "
                    f"its values {list(earlier[other].values)}\n  Fix: use values of {other!r}"
                )
    return grid


def _collapse(grid: Sequence[Choice], combo: Sequence[Any]) -> tuple[Any, ...]:
    spec: dict[str, Any] = {}
    for c, v in zip(grid, combo, strict=True):
        relevant = all(spec[o] in vals for o, vals in (c.only_if or {}).items())
        spec[c.name] = v if relevant else NOT_APPLICABLE
    return tuple(spec.values())


def expand_grid(grid: Sequence[Choice]) -> pd.DataFrame:
    """Every distinct specification of the grid, collapsed choices shown as ``"n/a"``.

    Parameters
    ----------
    grid
        The :class:`Choice` dimensions.

    Returns
    -------
    pandas.DataFrame
        ``spec_id`` (``"s001"``...), one column per choice and ``published`` (True for the
        authors' specification), one row per specification, in grid order.
    """
    grid = _check_grid(grid)
    seen: dict[tuple[Any, ...], None] = {}
    for combo in itertools.product(*(c.values for c in grid)):
        seen.setdefault(_collapse(grid, combo), None)
    rows = [dict(zip((c.name for c in grid), key, strict=True)) for key in seen]
    specs = pd.DataFrame(rows, columns=[c.name for c in grid], dtype=object)
    width = max(3, len(str(len(specs))))
    specs.insert(0, "spec_id", [f"s{i + 1:0{width}d}" for i in range(len(specs))])
    published = _collapse(grid, [c.published for c in grid])
    specs["published"] = [
        tuple(r) == published for r in specs[[c.name for c in grid]].itertuples(index=False)
    ]
    return specs


def published_spec(grid: Sequence[Choice]) -> dict[str, Any]:
    """The authors' specification: every choice at its published value (collapsed ones ``"n/a"``)."""
    grid = _check_grid(grid)
    return dict(
        zip((c.name for c in grid), _collapse(grid, [c.published for c in grid]), strict=True)
    )


# --- running ---------------------------------------------------------------------------------


def excludes_zero(estimate: float, ci_low: float, ci_high: float) -> bool:
    """The default rule for estimates without a verdict: the CI lies wholly on one side of 0."""
    return bool(ci_low > 0 or ci_high < 0)


def _rows_of(out: Any, spec: Mapping[str, Any], rule: Callable[..., Any]) -> list[dict[str, Any]]:
    """The analysis's answer for one spec, as result rows (without the spec's choices)."""
    if isinstance(out, Claim):
        out = [out]
    if isinstance(out, list | tuple) and all(isinstance(c, Claim) for c in out):
        return [
            {"claim": c.id, "verdict": c.verdict, "detail": c.reproduced}
            for c in out
            if c.verdict != NOT_REPRODUCIBLE
        ]
    if not isinstance(out, pd.DataFrame) or "claim" not in out.columns:
        raise InvalidParameterError(
            f"multiverse: the analysis returned {type(out).__name__} for spec {dict(spec)}\n"
            "  Fix: return a list of evaluated Claim objects, or a DataFrame with a 'claim' "
            "column and either 'verdict' or 'estimate', 'ci_low' and 'ci_high'"
        )
    frame = out.copy()
    if "verdict" not in frame.columns:
        missing = [c for c in ("estimate", "ci_low", "ci_high") if c not in frame.columns]
        if missing:
            raise InvalidParameterError(
                f"multiverse: the analysis's table has no 'verdict' and no {missing}\n"
                "  Fix: return the estimate and its CI (a rule then decides the verdict), or a "
                "'verdict' column"
            )
        verdicts = []
        for r in frame.itertuples(index=False):
            v = rule(float(r.estimate), float(r.ci_low), float(r.ci_high))
            verdicts.append(verdict_from(bool(v)) if isinstance(v, bool | np.bool_) else str(v))
        frame["verdict"] = verdicts
    frame = frame[frame["verdict"] != NOT_REPRODUCIBLE]
    if frame["claim"].duplicated().any():
        raise InvalidParameterError(
            f"multiverse: the analysis returned a claim twice for spec {dict(spec)}: "
            f"{sorted(frame.loc[frame['claim'].duplicated(), 'claim'].unique())}\n"
            "  Fix: one row per claim"
        )
    return frame.to_dict("records")


def _run_batch(
    analysis: Callable[..., Any],
    data: Any,
    specs: list[dict[str, Any]],
    rule: Callable[..., Any],
    with_data: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float]:
    """Run the specs of one batch in order; rows, the files read, and the seconds taken."""
    from ..data.store import recording

    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with recording() as log:
        for spec in specs:
            call = {k: v for k, v in spec.items() if k != "spec_id"}
            try:
                out = analysis(data, call) if with_data else analysis(call)
            except IcsResearchError as exc:
                raise ReplicationError(
                    f"multiverse: the analysis failed for {spec['spec_id']} ({_spec_text(call)}): "
                    f"{exc}"
                ) from None
            for row in _rows_of(out, call, rule):
                rows.append({**spec, **row})
        records = log.records()
    return rows, records, time.perf_counter() - started


def _spec_text(spec: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in spec.items())


@dataclass
class MultiverseResult:
    """The outcome of :func:`multiverse`.

    Attributes
    ----------
    table
        One row per (specification, claim): ``spec_id``, the choices, then
        :data:`RESULT_COLUMNS`.
    grid
        The :class:`Choice` dimensions.
    specs
        :func:`expand_grid` of the grid (the specifications run).
    seconds
        Wall time of the run.
    mode
        ``"serial"``, ``"processes"`` or ``"dask"``.
    inputs
        Provenance records of the files the analysis read (each once).
    """

    table: pd.DataFrame
    grid: tuple[Choice, ...]
    specs: pd.DataFrame
    seconds: float
    mode: str
    inputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def choices(self) -> list[str]:
        """The names of the choices."""
        return [c.name for c in self.grid]

    def influence(self) -> pd.DataFrame:
        """Per claim and choice: the share holding and the median estimate for each value.

        Returns
        -------
        pandas.DataFrame
            ``claim``, ``choice``, ``value``, ``specs``, ``share_holds``, ``median_estimate``,
            ``median_ci_width`` (``"n/a"`` specs left out: they differ in the choice that
            collapses this one); plus, repeated on each row of the claim and choice,
            ``share_spread`` (max - min share over the values), ``estimate_spread`` and
            ``ci_width_spread`` (max - min of the medians, in units of the published
            specification's CI width). Choices with a single value are left out.
        """
        rows = []
        t = self.table
        for claim, part in t.groupby("claim", sort=False):
            pub = part[part["published"]]
            width = float((pub["ci_high"] - pub["ci_low"]).iloc[0]) if len(pub) else math.nan
            unit = width if np.isfinite(width) and width > 0 else math.nan
            for c in self.grid:
                # "n/a" specs differ in another choice (the one that collapses this one), so
                # a choice's influence is read among the specs where it applies
                levels = [v for v in dict.fromkeys(part[c.name]) if v != NOT_APPLICABLE]
                if len(levels) < 2:
                    continue
                block = []
                for value in levels:
                    sub = part[part[c.name] == value]
                    block.append(
                        {
                            "claim": claim,
                            "choice": c.name,
                            "value": value,
                            "specs": len(sub),
                            "share_holds": float(sub["holds"].mean()),
                            "median_estimate": float(sub["estimate"].median()),
                            "median_ci_width": float((sub["ci_high"] - sub["ci_low"]).median()),
                        }
                    )
                b = pd.DataFrame(block)
                for col, name in (
                    ("share_holds", "share_spread"),
                    ("median_estimate", "estimate_spread"),
                    ("median_ci_width", "ci_width_spread"),
                ):
                    spread = (
                        float(b[col].max() - b[col].min()) if b[col].notna().any() else math.nan
                    )
                    b[name] = spread if col == "share_holds" else spread / unit
                rows.append(b)
        cols = [
            "claim", "choice", "value", "specs", "share_holds", "median_estimate",
            "median_ci_width", "share_spread", "estimate_spread", "ci_width_spread",
        ]  # fmt: skip
        return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)

    def summary(self) -> pd.DataFrame:
        """Per claim: the published verdict, how often it holds, and the choice moving it most.

        Returns
        -------
        pandas.DataFrame
            ``claim``, ``published_verdict``, ``specs``, ``holds``, ``share_holds``,
            ``estimate_published``, ``estimate_min``, ``estimate_max``, ``moved_most`` (the
            choice), ``moved_how`` (the share holding for each of its values, or the median
            estimates when the share does not move).
        """
        infl = self.influence()
        rows = []
        for claim, part in self.table.groupby("claim", sort=False):
            pub = part[part["published"]]
            moved, how = "-", "-"
            mine = infl[infl["claim"] == claim]
            if len(mine):
                per = mine.drop_duplicates("choice").copy()
                for col in ("share_spread", "estimate_spread", "ci_width_spread"):
                    per[col] = per[col].fillna(0.0)
                per = per.sort_values(
                    ["share_spread", "estimate_spread", "ci_width_spread"],
                    ascending=False,
                    kind="stable",
                )
                top = per.iloc[0]
                if (
                    top["share_spread"] > 0
                    or top["estimate_spread"] > 0
                    or top["ci_width_spread"] > 0
                ):
                    moved = str(top["choice"])
                    vals = mine[mine["choice"] == moved]
                    if top["share_spread"] > 0:
                        how = "; ".join(
                            f"{v.value}: {v.share_holds:.0%}" for v in vals.itertuples()
                        )
                    elif top["estimate_spread"] > 0:
                        how = "median estimate " + "; ".join(
                            f"{v.value}: {v.median_estimate:.3g}" for v in vals.itertuples()
                        )
                    else:
                        how = "median CI width " + "; ".join(
                            f"{v.value}: {v.median_ci_width:.3g}" for v in vals.itertuples()
                        )
            rows.append(
                {
                    "claim": claim,
                    "published_verdict": part["published_verdict"].iloc[0],
                    "specs": len(part),
                    "holds": int(part["holds"].sum()),
                    "share_holds": float(part["holds"].mean()),
                    "estimate_published": float(pub["estimate"].iloc[0]) if len(pub) else math.nan,
                    "estimate_min": float(part["estimate"].min()),
                    "estimate_max": float(part["estimate"].max()),
                    "moved_most": moved,
                    "moved_how": how,
                }
            )
        return pd.DataFrame(rows)

    def plot(self, claim: str, **kwargs):
        """The specification curve of one claim (:func:`icsresearch.plots.speccurve.spec_curve`).

        Parameters
        ----------
        claim
            A claim id of :attr:`table`.
        **kwargs
            Passed on (``title``, ``source_note``, ``choice_labels``...).

        Returns
        -------
        icsresearch.plots.style.PlotResult
        """
        from ..plots.speccurve import spec_curve

        if claim not in set(self.table["claim"]):
            raise InvalidParameterError(
                f"multiverse plot: claim {claim!r} is not in the result\n"
                f"  Fix: use one of {list(dict.fromkeys(self.table['claim']))}"
            )
        part = self.table[self.table["claim"] == claim].copy()
        part.attrs = dict(self.table.attrs)
        kwargs.setdefault("choice_labels", {c.name: c.label for c in self.grid})
        return spec_curve(part, choices=self.choices, **kwargs)


def multiverse(
    analysis: Callable[..., Any],
    grid: Sequence[Choice],
    *,
    data: Any = None,
    rule: Callable[[float, float, float], Any] = excludes_zero,
    scheduler: Any = None,
    workers: int = 1,
) -> MultiverseResult:
    """Run ``analysis`` for every specification of ``grid`` and judge each claim in each.

    Parameters
    ----------
    analysis
        ``analysis(spec)``, or ``analysis(data, spec)`` when ``data`` is given; ``spec`` is a
        dict ``{choice: value}``. Returns evaluated claims or a table of estimates (see the
        module docstring).
    grid
        The :class:`Choice` dimensions; one of each choice's values is the published one.
    data
        Passed to the analysis as its first argument (a panel, say); its provenance record is
        the result's.
    rule
        Decides the verdict of a claim the analysis returns as an estimate without one:
        ``rule(estimate, ci_low, ci_high)`` -> True (``"reproduced"``), False or a verdict text.
    scheduler
        A Dask scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``: one task
        per batch of specifications sharing their data choices.
    workers
        Without a scheduler: 1 runs in this process; more runs the batches in that many forked
        processes (Linux and macOS).

    Returns
    -------
    MultiverseResult

    Raises
    ------
    InvalidParameterError
        A bad grid, a bad ``workers``, or an analysis answer that is not claims or estimates.
    ReplicationError
        The analysis failed for a specification (named with its choices).
    """
    grid = _check_grid(grid)
    if not callable(analysis):
        raise InvalidParameterError(
            f"multiverse: analysis={analysis!r} is not a function\n"
            "  Fix: pass a function analysis(spec) or analysis(data, spec)"
        )
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(
            f"multiverse: workers={workers!r} must be a positive integer\n  Fix: e.g. workers=1"
        )
    specs = expand_grid(grid)
    data_names = [c.name for c in grid if c.data]
    records = specs.drop(columns="published").to_dict("records")
    batches: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for spec in records:
        key = tuple(repr(spec[n]) for n in data_names) if data_names else (spec["spec_id"],)
        batches.setdefault(key, []).append(spec)
    with_data = data is not None
    started = time.perf_counter()
    if scheduler is not None:
        mode = "dask"
        results = _on_dask(scheduler, analysis, data, list(batches.values()), rule, with_data)
    elif workers > 1 and len(batches) > 1:
        mode = "processes"
        results = _on_processes(workers, analysis, data, list(batches.values()), rule, with_data)
    else:
        mode = "serial"
        results = [_run_batch(analysis, data, b, rule, with_data) for b in batches.values()]
    seconds = time.perf_counter() - started
    rows = [r for rs, _, _ in results for r in rs]
    inputs: dict[tuple[Any, Any], dict[str, Any]] = {}
    for _, recs, _ in results:
        for rec in recs:
            inputs.setdefault((rec.get("source"), rec.get("sha256")), rec)
    table = _finish_table(rows, specs, grid)
    table.attrs["provenance"] = _provenance(data, list(inputs.values()))
    return MultiverseResult(table, grid, specs, seconds, mode, list(inputs.values()))


def _finish_table(
    rows: list[dict[str, Any]], specs: pd.DataFrame, grid: tuple[Choice, ...]
) -> pd.DataFrame:
    names = [c.name for c in grid]
    table = pd.DataFrame(rows)
    for col in ("estimate", "ci_low", "ci_high", "null"):
        table[col] = pd.to_numeric(table[col], errors="coerce") if col in table else np.nan
    for col in ("estimate_of", "detail"):
        table[col] = table[col].fillna("") if col in table else ""
    table = table.merge(specs[["spec_id", "published"]], on="spec_id", how="left")
    pub = table[table["published"]].set_index("claim")["verdict"]
    missing = sorted(set(table["claim"]) - set(pub.index))
    if missing:
        raise InvalidParameterError(
            f"multiverse: claims {missing} have no verdict at the published specification\n"
            "  Fix: the analysis must return every claim for the published specification"
        )
    table["published_verdict"] = table["claim"].map(pub)
    table["holds"] = table["verdict"] == table["published_verdict"]
    for n in names:
        table[n] = table[n].astype(object)
    return table[["spec_id", *names, *RESULT_COLUMNS]].reset_index(drop=True)


def _provenance(data: Any, inputs: list[dict[str, Any]]):
    from ..provenance import Provenance, of

    # files read through the registry are published data; a panel passed in keeps its own record
    files = Provenance.record(synthetic=False if inputs else None, inputs=inputs)
    if data is None:
        return files
    base = of(data)
    return base.combine(files) if inputs else base


def _on_processes(workers, analysis, data, batches, rule, with_data):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=ctx) as pool:
        futures = [pool.submit(_run_batch, analysis, data, b, rule, with_data) for b in batches]
        return [f.result() for f in futures]


def _on_dask(scheduler, analysis, data, batches, rule, with_data):
    from ..scheduler import connected

    with connected(scheduler, option="multiverse: scheduler=") as client:
        shared = client.scatter(data, broadcast=True) if data is not None else None
        futures = [
            client.submit(_run_batch, analysis, shared, b, rule, with_data, pure=False)
            for b in batches
        ]
        return client.gather(futures)


# --- the replications' multiverses -----------------------------------------------------------

#: Replications with a multiverse.
REPLICATIONS = ("asaria2022", "griffiths2016")

#: Claims the specification curve is drawn for in each replication's report.
KEY_CLAIMS: dict[str, tuple[str, ...]] = {
    "asaria2022": ("quality_vs_performance", "managers_vs_shmi"),
    "griffiths2016": ("univariate:beds_per_rn", "panel:between_vs_within"),
}

#: Asaria's claims judged in the multiverse (the inferential ones).
ASARIA_CLAIMS = (
    "quantity_vs_quality",
    "managers_vs_net_financial_position",
    "managers_vs_ae_4hr_pct",
    "managers_vs_rtt_18wk_pct",
    "managers_vs_shmi",
    "managers_vs_admissions",
    "quality_vs_performance",
)

#: The estimate shown for each asaria2022 claim (its verdict counts ten specifications):
#: ``(outcome, measure, model)``, without controls. The no-association claims show the within
#: (two-way fixed-effects) estimate; ``quality_vs_performance`` the random-effects estimate of RTT
#: 18-week %, one of its two outcomes with 8 of 10 specifications significantly better at the
#: authors' specification (its within estimates are the two that are not significant).
ASARIA_HEADLINE: dict[str, tuple[str, str, str]] = {
    "quantity_vs_quality": ("management_score", "managers_fte", "within"),
    **{
        f"managers_vs_{o}": (o, "managers_fte", "within")
        for o in ("net_financial_position", "ae_4hr_pct", "rtt_18wk_pct", "shmi", "admissions")
    },  # fmt: skip
    "quality_vs_performance": ("rtt_18wk_pct", "management_score", "random"),
}

_SAMPLE_LABELS = {
    "all": "every trust-year of the published rule",
    "balanced": "trusts present in every year",
    "no_mergers": "trusts untouched by mergers",
}


def _inference_choices(size: str) -> list[Choice]:
    full = size == "full"
    return [
        Choice("cluster", ("trust", "ics"), "trust", label="Cluster"),
        Choice(
            "footprint",
            (2022, 2026) if full else (2022,),
            2022,
            label="ICS footprint",
            option=Footprint,
            only_if={"cluster": ("ics",)},
        ),
        Choice(
            "method",
            ("headquarters", "catchment", "ae_activity") if full else ("headquarters",),
            "headquarters",
            label="Trust-to-ICS method",
            option=TrustIcsMethod,
            only_if={"cluster": ("ics",)},
        ),
        Choice(
            "convention",
            ("plm", "stata") if full else ("plm",),
            "plm",
            label="Small-sample convention",
            option=Convention,
        ),
    ]


def replication_grid(rep_id: str, size: GridSize = "full") -> tuple[Choice, ...]:
    """The multiverse grid of a replication (see the module docstring for each choice).

    Parameters
    ----------
    rep_id
        ``"asaria2022"`` or ``"griffiths2016"``.
    size
        ``"full"``, or ``"small"``: the authors' processing, one footprint, method and
        convention, and (asaria2022) the published sample rule - 4 specifications for
        asaria2022 and 6 for griffiths2016, for tests and quick looks.

    Returns
    -------
    tuple of Choice
    """
    rep_id = _check_rep(rep_id)
    size = _checked("size", size, GridSize, "multiverse grid")
    full = size == "full"
    if rep_id == "asaria2022":
        data = [
            Choice(
                "processing",
                ("authors", "cleaned") if full else ("authors",),
                "authors",
                label="Processing",
                option=Processing,
                data=True,
            ),
            Choice(
                "sample",
                ("all", "balanced", "no_mergers") if full else ("all",),
                "all",
                label="Sample",
                data=True,
            ),
        ]
    else:
        data = [Choice("sample", ("all", "no_mergers"), "all", label="Sample", data=True)]
    harmonise = Choice(
        "harmonise_to",
        ("as_reported", "latest"),
        "as_reported",
        label="Trust codes",
        option=HarmoniseTo,
        only_if={"sample": tuple(v for v in data[-1].values if v != "no_mergers")},
        data=True,
    )
    return (*data, harmonise, *_inference_choices(size))


def replication_analysis(rep_id: str) -> Callable[[dict[str, Any]], pd.DataFrame]:
    """The function of one specification that judges a replication's claims.

    Parameters
    ----------
    rep_id
        ``"asaria2022"`` or ``"griffiths2016"``.

    Returns
    -------
    callable
        ``analysis(spec) -> DataFrame`` for :func:`multiverse`.
    """
    return {"asaria2022": asaria2022_analysis, "griffiths2016": griffiths2016_analysis}[
        _check_rep(rep_id)
    ]


def run_replication_multiverse(
    rep_id: str,
    size: GridSize = "full",
    *,
    scheduler: Any = None,
    workers: int = 1,
) -> MultiverseResult:
    """Run a replication's multiverse (:func:`replication_grid` x :func:`replication_analysis`).

    Parameters
    ----------
    rep_id
        ``"asaria2022"`` or ``"griffiths2016"``.
    size
        ``"full"`` or ``"small"``.
    scheduler, workers
        As :func:`multiverse`.

    Returns
    -------
    MultiverseResult
    """
    return multiverse(
        replication_analysis(rep_id),
        replication_grid(rep_id, size),
        scheduler=scheduler,
        workers=workers,
    )


def _check_rep(rep_id: str) -> str:
    if rep_id not in REPLICATIONS:
        raise InvalidParameterError(
            f"no multiverse for replication {rep_id!r}\n  Fix: use one of {list(REPLICATIONS)}"
        )
    return rep_id


def _source_key() -> str:
    """The source folder in effect: cached samples are kept apart per folder."""
    from ..data.store import SOURCE_DIR_ENV

    return os.environ.get(SOURCE_DIR_ENV, "")


def merged_codes(codes: Iterable[str]) -> set[str]:
    """The codes among ``codes`` that harmonising to the latest code would touch.

    A code with a later successor (it would be recoded), and a code into which another of
    ``codes`` merges (it would absorb rows). Dropping them leaves nothing to harmonise.

    Parameters
    ----------
    codes
        Trust codes of a sample.

    Returns
    -------
    set of str
    """
    from ..geography import latest_codes

    latest = latest_codes()
    codes = set(codes)
    recoded = {c for c in codes if latest.get(c, c) != c}
    absorbing = {latest[c] for c in recoded} & codes
    return recoded | absorbing


def _combine_merged(
    frame: pd.DataFrame, sums: Sequence[str], means: Sequence[str], weight: str
) -> pd.DataFrame:
    """Recode trusts to their latest code and combine the rows of a code and year.

    Sums of ``sums``; means of ``means`` weighted by ``weight``; a combined value is missing
    unless every row of the group reports it (and, for a mean, its weight).
    """
    from ..geography import harmonise_trust_codes

    recoded, _ = harmonise_trust_codes(frame, "latest")
    key = ["trust_code", "year"]
    size = recoded.groupby(key)["trust_code"].transform("size")
    if (size == 1).all():
        return recoded.drop(columns="trust_code_reported").reset_index(drop=True)
    g = recoded.groupby(key, sort=True)
    n = g.size()
    out = g[[c for c in recoded.columns if c not in (*key, *sums, *means)]].first()
    single = n == 1  # trusts that no merger touches in that year keep their values
    for col in sums:
        s = g[col].sum(min_count=1)
        out[col] = s.where(g[col].count() == n)
    w = recoded[weight]
    groups = [recoded[k] for k in key]
    for col in means:
        ok = recoded[col].notna() & w.notna()
        num = (recoded[col] * w).where(ok).groupby(groups).sum()
        den = w.where(ok).groupby(groups).sum()
        complete = ok.groupby(groups).sum() == n
        with np.errstate(invalid="ignore", divide="ignore"):
            combined = (num / den.where(den > 0)).where(complete)
        out[col] = combined.where(~single, g[col].first())
    out = out.reset_index().drop(columns="trust_code_reported")
    return out[list(frame.columns)]


# asaria2022 ---------------------------------------------------------------------------------

_ASARIA_SUMS = (
    "managers_fte",
    "consultants_fte",
    "net_financial_position",
    "operating_cost",
    "admissions",
    "beds",
    "all_staff_fte",
)


@functools.lru_cache(maxsize=4)
def _asaria_sample(processing: str, harmonise_to: str, sample: str, source: str) -> pd.DataFrame:
    base = _asaria_base(processing, source)
    data = base
    if sample == "no_mergers":
        data = base[~base["trust_code"].isin(merged_codes(base["trust_code"]))]
    elif harmonise_to == "latest":
        means = [c for c in base.columns[3:] if c not in _ASARIA_SUMS]
        data = _combine_merged(base, _ASARIA_SUMS, means, "admissions")
    if sample == "balanced":
        years = data.groupby("trust_code")["year"].transform("nunique")
        data = data[years == data["year"].nunique()]
    elif sample not in ("all", "no_mergers"):
        raise InvalidParameterError(
            f"sample={sample!r} is not a sample rule of asaria2022\n"
            "  Fix: use 'all', 'balanced' or 'no_mergers'"
        )
    data = data.sort_values(["trust_code", "year"]).reset_index(drop=True)
    # no attrs: pandas deep-copies them on every column lookup, which took a quarter of the
    # full grid's time; the files read are recorded by the engine instead
    data.attrs = {}
    return data


@functools.lru_cache(maxsize=2)
def _asaria_base(processing: str, source: str) -> pd.DataFrame:
    from . import asaria2022 as A

    return A.build_sample(processing=processing)


@functools.lru_cache(maxsize=2)
def _asaria_fits(processing: str, harmonise_to: str, sample: str, source: str):
    """Every model of the replication (estimates and quality), fitted once per sample."""
    from . import asaria2022 as A

    data = _asaria_sample(processing, harmonise_to, sample, source)
    fits = {}
    for outcome, measure in [
        *((o, m) for o in A.OUTCOMES for m in A.MEASURES),
        ("management_score", "managers_fte"),
    ]:
        for controls in (False, True):
            for model in A.MODELS:
                fits[(outcome, measure, controls, model)] = A.fit_model(
                    data, outcome, measure, controls, model
                )
    return fits


def ics_clusters(codes: pd.Series, method: TrustIcsMethod, footprint: Footprint) -> pd.Series:
    """Each trust's main ICS (:func:`icsresearch.geography.main_ics`), for clustering.

    Parameters
    ----------
    codes
        Trust codes (as reported or harmonised).
    method, footprint
        As :func:`icsresearch.geography.trust_ics_weights`.

    Returns
    -------
    pandas.Series
        ICB codes aligned with ``codes``.

    Raises
    ------
    InvalidParameterError
        A code has no system under that method and footprint.
    """
    from ..geography import main_ics

    systems = codes.map(main_ics(method, footprint))
    if systems.isna().any():
        raise InvalidParameterError(
            f"trusts {sorted(codes[systems.isna()].unique())[:10]} have no ICS under "
            f"method={method!r}, footprint={footprint!r}\n  Fix: cluster by trust for them, "
            "or check the trust codes"
        )
    return systems


def _with_inference(res, spec: Mapping[str, Any], data: pd.DataFrame):
    """The result with the spec's clustering and convention (no re-estimation)."""
    import warnings

    if res.spec.options.get("model") == "between":
        return res  # the between model's conventional standard errors, in every spec
    if spec["cluster"] == "trust":
        # as published: clustered by trust (plm), or conventional in a cross-section
        if res.spec.inference.vcov == "iid" or spec["convention"] == "plm":
            return res
        cov = {"cluster": "trust_code"}
    else:
        cov = {"cluster": "ics", "data": data}  # data: the cluster column alone, no attrs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return res.with_cov("CRV1", convention=spec["convention"], **cov)


def _cluster_frame(data: pd.DataFrame, spec: Mapping[str, Any]) -> pd.DataFrame | None:
    """The ICS cluster column on the data's index (without the data's attrs, which pandas
    would copy on every lookup), or None when the spec clusters by trust."""
    if spec["cluster"] != "ics":
        return None
    systems = ics_clusters(data["trust_code"], spec["method"], spec["footprint"])
    return pd.DataFrame({"ics": systems.to_numpy()}, index=data.index)


def _term_row(res, outcome: str, measure: str, controls: bool, model: str) -> dict[str, Any]:
    """:func:`icsresearch.replications.asaria2022._row` for one term, without building the
    result's whole tidy table (the multiverse reads ~15,000 of them): the same estimate,
    standard error, t, p and CI from the result's own coefficients, covariance and reference
    distribution (t with its residual df, or normal)."""
    from scipy import special

    names = list(res.params.index)
    i = names.index(measure)
    est = float(res.params.iloc[i])
    se = float(np.sqrt(res.cov.to_numpy()[i, i]))
    t = est / se
    if getattr(res, "df_terms", None) is not None:  # CR2's per-term df: not used here
        row = res.tidy().set_index("term").loc[measure]
        p, lo, hi = float(row["p_value"]), float(row["ci_low"]), float(row["ci_high"])
    else:
        df = res.df_resid
        if res.dist == "t" and df is not None and np.isfinite(df):
            p = float(2 * special.stdtr(df, -abs(t)))
            q = float(special.stdtrit(df, 1 - res.alpha / 2))
        else:
            p = float(2 * special.ndtr(-abs(t)))
            q = float(special.ndtri(1 - res.alpha / 2))
        lo, hi = est - q * se, est + q * se
    return {
        "outcome": outcome,
        "measure": measure,
        "controls": controls,
        "model": model,
        "coef": est,
        "se": se,
        "nobs": int(res.nobs),
        "ngroups": int(res.n_groups["trust_code"]),
        "t": t,
        "p_value": p,
        "ci_low": lo,
        "ci_high": hi,
    }


def asaria2022_analysis(spec: Mapping[str, Any]) -> pd.DataFrame:
    """The asaria2022 claims under one specification (choices of :func:`replication_grid`).

    Parameters
    ----------
    spec
        ``processing``, ``sample``, ``harmonise_to``, ``cluster``, ``footprint``, ``method``,
        ``convention``.

    Returns
    -------
    pandas.DataFrame
        One row per claim of :data:`ASARIA_CLAIMS`: ``claim``, ``estimate`` (see
        :data:`ASARIA_HEADLINE`), ``ci_low``, ``ci_high``, ``estimate_of``, ``null``, ``verdict``, ``detail``.
    """
    from . import asaria2022 as A

    source = _source_key()
    harmonise = spec.get("harmonise_to", "as_reported")
    harmonise = "as_reported" if harmonise == NOT_APPLICABLE else harmonise
    key = (spec["processing"], harmonise, spec["sample"], source)
    data = _asaria_sample(*key)
    fits = _asaria_fits(*key)
    clusters = _cluster_frame(data, spec)
    rows = [_term_row(_with_inference(res, spec, clusters), *k) for k, res in fits.items()]
    est = pd.DataFrame(rows)
    quality = est[(est["outcome"] == "management_score")].reset_index(drop=True)
    estimates = est[est["outcome"] != "management_score"].reset_index(drop=True)
    claims = {c.id: c for c in A.evaluate_claims(data, estimates, quality)}
    out = []
    for cid in ASARIA_CLAIMS:
        c = claims[cid]
        outcome, measure, model = ASARIA_HEADLINE[cid]
        r = est[
            (est["outcome"] == outcome)
            & (est["measure"] == measure)
            & (est["model"] == model)
            & ~est["controls"]
        ].iloc[0]
        out.append(
            {
                "claim": cid,
                "estimate": r["coef"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "estimate_of": f"{measure} on {outcome}: {A.MODELS[model]}, no controls",
                "null": 0.0,
                "verdict": c.verdict,
                "detail": c.reproduced,
            }
        )
    return pd.DataFrame(out)


# griffiths2016 ------------------------------------------------------------------------------

_GRIFFITHS_SUMS = ("nurses_fte", "doctors_fte", "support_fte", "beds", "occupied_beds")


@functools.lru_cache(maxsize=1)
def _griffiths_staff(source: str) -> pd.DataFrame:
    from ..sources.workforce import read_hchs_staff_groups

    return read_hchs_staff_groups()


@functools.lru_cache(maxsize=1)
def _griffiths_raw(source: str) -> dict[str, pd.DataFrame]:
    from . import griffiths2016 as G

    staff = _griffiths_staff(source)
    return {
        census: G.build_cross_section(census, with_trust_type=census == "2017-09", staff=staff)
        for census in G.CENSUSES
    }


def _griffiths_recode(cs: pd.DataFrame) -> pd.DataFrame:
    """A cross-section with merged trusts combined under their latest code (module docstring)."""
    from ..geography import latest_codes
    from . import griffiths2016 as G

    latest = latest_codes()
    dropped = {d["trust_code"] for d in cs.attrs.get("dropped", [])}
    # a merged trust is complete only if none of its predecessors was dropped for missing data
    incomplete = {latest.get(c, c) for c in dropped}
    out = _combine_merged(
        cs.drop(columns=[c for c in ("trust_type",) if c in cs.columns]),
        _GRIFFITHS_SUMS,
        ["shmi"],
        "occupied_beds",
    )
    out = out[~out["trust_code"].isin(incomplete)].copy()
    out["occupancy_pct"] = 100 * out["occupied_beds"] / out["beds"]
    for ratio, (_, fte) in G.RATIOS.items():
        out[ratio] = out["occupied_beds"] / out[fte].where(out[fte] > 0)
    out["log_shmi"] = np.log(out["shmi"])
    if "trust_type" in cs.columns:
        out["trust_type"], _ = G.trust_types(out["trust_code"])
    out = out.dropna(subset=[*G.RATIOS, "shmi"]).reset_index(drop=True)
    out.attrs = dict(cs.attrs)
    return out


@functools.lru_cache(maxsize=2)
def _griffiths_data(harmonise_to: str, sample: str, source: str):
    from . import griffiths2016 as G

    raw = _griffiths_raw(source)
    sections = {}
    for census, cs in raw.items():
        if sample == "no_mergers":
            merged = merged_codes(
                set(raw["2017-09"]["trust_code"]) | set(raw["2018-06"]["trust_code"])
            )
            cs = cs[~cs["trust_code"].isin(merged)].reset_index(drop=True)
        elif harmonise_to == "latest":
            cs = _griffiths_recode(cs)
        elif sample != "all":
            raise InvalidParameterError(
                f"sample={sample!r} is not a sample rule of griffiths2016\n"
                "  Fix: use 'all' or 'no_mergers'"
            )
        sections[census] = cs
    cross = sections["2017-09"].copy()
    panel = G.panel_from_cross_sections(
        sections["2017-09"].drop(columns="trust_type"), sections["2018-06"]
    )
    cross.attrs, panel.attrs = {}, {}  # as for asaria2022's samples: files are recorded anyway
    models = [("cross_section", *m) for m in G.cross_section_models(cross)]
    models += [("panel", *m) for m in G.panel_models(panel)]
    return cross, panel, models


def griffiths2016_analysis(spec: Mapping[str, Any]) -> pd.DataFrame:
    """The griffiths2016 claims under one specification (choices of :func:`replication_grid`).

    Parameters
    ----------
    spec
        ``sample``, ``harmonise_to``, ``cluster``, ``footprint``, ``method``, ``convention``.

    Returns
    -------
    pandas.DataFrame
        One row per judged claim: ``claim``, ``estimate`` (the rate ratio), ``ci_low``,
        ``ci_high``, ``estimate_of``, ``null`` (1), ``verdict``, ``detail``.
    """
    from . import griffiths2016 as G

    harmonise = spec.get("harmonise_to", "as_reported")
    harmonise = "as_reported" if harmonise == NOT_APPLICABLE else harmonise
    cross, panel, models = _griffiths_data(harmonise, spec["sample"], _source_key())
    systems = {"cross_section": _cluster_frame(cross, spec), "panel": _cluster_frame(panel, spec)}
    rows = []
    for analysis, model, terms, res in models:
        rows += G._rows(_with_inference(res, spec, systems[analysis]), analysis, model, terms)
    estimates = pd.DataFrame(rows, columns=G.ESTIMATE_COLUMNS)
    claims = G.evaluate_claims(estimates)
    est = estimates.set_index(["analysis", "model", "term"])
    out = []
    for c in claims:
        if c.verdict == NOT_REPRODUCIBLE:
            continue
        if c.id.startswith("panel:"):
            key, what = ("panel", "within_between", "beds_per_rn_within"), "within-trust RR, nurses"
        else:
            model, term = c.id.split(":")
            key, what = ("cross_section", model, term), f"RR, {model}"
        r = est.loc[key]
        out.append(
            {
                "claim": c.id,
                "estimate": r["ratio"],
                "ci_low": r["ratio_ci_low"],
                "ci_high": r["ratio_ci_high"],
                "estimate_of": f"{what} (per extra occupied bed per staff member)",
                "null": 1.0,
                "verdict": c.verdict,
                "detail": c.reproduced,
            }
        )
    return pd.DataFrame(out)


def describe(result: MultiverseResult) -> str:
    """Markdown for a report: the grid (published values in bold), then the summary per claim.

    Parameters
    ----------
    result
        A :class:`MultiverseResult`.

    Returns
    -------
    str
    """
    lines = [
        f"{len(result.specs)} specifications (distinct combinations of the choices below; a "
        "choice that cannot affect a specification is shown as n/a and not multiplied), "
        f"{result.table['claim'].nunique()} claims, {result.seconds:.0f} s ({result.mode}). "
        "Published values in bold.",
        "",
    ]
    for c in result.grid:
        vals = ", ".join(f"**{v}**" if v == c.published else str(v) for v in c.values)
        cond = (
            " (only when "
            + ", ".join(f"{k} is {'/'.join(map(str, v))}" for k, v in c.only_if.items())
            + ")"
            if c.only_if
            else ""
        )
        lines.append(f"- {c.label} (`{c.name}`): {vals}{cond}")
    summary = result.summary()
    shown = summary.assign(share_holds=summary["share_holds"].map(lambda x: f"{x:.0%}"))
    for col in ("estimate_published", "estimate_min", "estimate_max"):
        shown[col] = shown[col].map(lambda x: f"{x:.3g}")
    lines += [
        "",
        "Share of specifications in which each claim's verdict is the published replication's, "
        "and the choice that moves it most (the largest spread in that share across the "
        "choice's values; where the share does not move, the largest spread in the median "
        "estimate, then in the CI width):",
        "",
        shown.to_markdown(index=False),
    ]
    return "\n".join(lines)
