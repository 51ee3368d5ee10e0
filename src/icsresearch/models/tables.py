"""Side-by-side regression tables: one column per model, as HTML, Markdown, LaTeX or a DataFrame.

::

    from icsresearch.models.tables import regression_table
    tab = regression_table({"Pooled": pooled, "Within": within, "Mixed": mixed},
                           stars=True, labels={"management_score": "Management score"})
    tab                      # renders as HTML in a notebook
    tab.to_markdown()        # for a report
    tab.to_latex()           # booktabs: \\usepackage{booktabs}
    tab.to_dataframe()       # the cells, indexed by (row, value)

Every input is a :class:`~icsresearch.models.results.RegressionResult` (from ``fit``, ``fit_glm``,
``fit_hdfe``, ``did_2x2``, ``event_study``, ``fit_mixed``) or a fitted pyfixest model. Under the
coefficients come rows for the absorbed fixed effects, random intercepts, groups of control
variables, the cluster variables, the number of observations, R-squared variants and the
inference of each model, so a reader sees what differs between columns.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from .results import RegressionResult

Stat = Literal["se", "ci", "t", "p"]
Fmt = Literal["html", "markdown", "latex", "dataframe"]

STATS = ("se", "ci", "t", "p")
FORMATS = ("html", "markdown", "latex", "dataframe")
DEFAULT_STARS = (0.1, 0.05, 0.01)
ROWS = (
    "dependent",
    "estimator",
    "fixed_effects",
    "random_effects",
    "controls",
    "clusters",
    "nobs",
    "rsquared",
    "inference",
)
DEFAULT_ROWS = tuple(r for r in ROWS if r != "estimator")
#: R-squared variants shown (in this order) when any model has them.
RSQUARED = {
    "r2": "R\u00b2",
    "within": "Within R\u00b2",
    "pseudo": "Pseudo R\u00b2",
    "marginal": "Marginal R\u00b2",
    "conditional": "Conditional R\u00b2",
}
_INTERCEPTS = ("Intercept", "(Intercept)", "const", "_cons")


# --- inputs ----------------------------------------------------------------------------------


def _as_result(obj: Any, name: str) -> RegressionResult:
    if isinstance(obj, RegressionResult):
        return obj
    from . import _pyfixest

    if _pyfixest.is_fitted_model(obj):
        from .hdfe import from_pyfixest

        return from_pyfixest(obj)
    raise InvalidParameterError(
        f"model {name!r} is a {type(obj).__name__}, not a RegressionResult\n  Fix: pass results "
        "of icsresearch.models (fit, fit_glm, fit_hdfe, did_2x2, event_study, fit_mixed) or "
        "fitted pyfixest models"
    )


def _collect(results: Any) -> dict[str, RegressionResult]:
    from . import _pyfixest

    if isinstance(results, RegressionResult) or _pyfixest.is_fitted_model(results):
        results = [results]
    if isinstance(results, Mapping):
        items = [(str(k), v) for k, v in results.items()]
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = [(f"({i + 1})", v) for i, v in enumerate(results)]
    else:
        raise InvalidParameterError(
            f"results must be a dict {{name: result}}, a list of results or one result, not "
            f"{type(results).__name__}"
        )
    if not items:
        raise InvalidParameterError("results is empty: give at least one model")
    names = [k for k, _ in items]
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"model names must be unique, got {names}")
    return {k: _as_result(v, k) for k, v in items}


def _stars_levels(stars: bool | Sequence[float]) -> tuple[float, ...]:
    if stars is False or stars is None:
        return ()
    if stars is True:
        return DEFAULT_STARS
    try:
        if isinstance(stars, str):
            raise TypeError
        levels = tuple(float(s) for s in stars)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"stars={stars!r} must be True, False or thresholds such as (0.1, 0.05, 0.01)"
        ) from None
    if (
        not levels
        or any(not 0 < s < 1 for s in levels)
        or any(b >= a for a, b in zip(levels, levels[1:], strict=False))
    ):
        raise InvalidParameterError(
            f"stars={stars!r}: thresholds must be decreasing p-values in (0, 1), e.g. "
            "(0.1, 0.05, 0.01)"
        )
    return levels


def _clusters(res: RegressionResult) -> list[str]:
    """Cluster variables of a result, from whichever estimator made it."""
    if res.spec is not None:
        return list(res.spec.inference.cluster)
    names = res.extra.get("cluster")  # a pyfixest model converted with from_pyfixest
    if names:
        return [names] if isinstance(names, str) else list(names)
    return [k.split(": ", 1)[1] for k in res.n_groups if k.startswith("clusters: ")]


def _n_clusters(res: RegressionResult, name: str) -> int | None:
    n = (res.extra.get("n_clusters") or {}).get(name)
    if n is None:
        n = res.n_groups.get(f"clusters: {name}", res.n_groups.get(name))
    return int(n) if n is not None else None


# --- the table -------------------------------------------------------------------------------


@dataclass
class _Row:
    label: str
    cells: list[str]
    kind: str  # "estimate", "stat", "header", "summary"
    key: tuple[str, str]
    first_in_section: bool = False


@dataclass
class RegressionTable:
    """A rendered regression table: models in columns.

    Use :meth:`to_markdown`, :meth:`to_latex`, :meth:`to_html` (also the notebook display) or
    :meth:`to_dataframe`. Made by :func:`regression_table`, not constructed directly.

    Attributes
    ----------
    columns
        Column (model) headings.
    rows
        The table body: estimate, statistic, section-header and summary rows.
    notes
        Lines printed under the table.
    title
        Caption, if any.
    """

    columns: list[str]
    rows: list[_Row]
    notes: list[str] = field(default_factory=list)
    title: str | None = None

    # --- DataFrame ---------------------------------------------------------------------------

    def to_dataframe(self) -> pd.DataFrame:
        """The cells as strings, indexed by ``(row, value)``.

        ``value`` is ``"estimate"`` or the statistic (``"se"``, ``"ci"``, ``"t"``, ``"p"``) for
        coefficient rows and ``""`` for the rows under them; ``attrs["notes"]`` has the notes.
        """
        index = pd.MultiIndex.from_tuples([r.key for r in self.rows], names=["row", "value"])
        df = pd.DataFrame([r.cells for r in self.rows], index=index, columns=self.columns)
        df.attrs = {"notes": list(self.notes), "title": self.title}
        return df

    # --- Markdown ----------------------------------------------------------------------------

    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown table, notes underneath."""

        def esc(s: str) -> str:
            return s.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*")

        lines = []
        if self.title:
            lines += [f"**{esc(self.title)}**", ""]
        lines.append("| | " + " | ".join(esc(c) for c in self.columns) + " |")
        lines.append("|:---|" + "---:|" * len(self.columns))
        for r in self.rows:
            label = f"*{esc(r.label)}*" if r.kind == "header" else esc(r.label)
            lines.append(f"| {label} | " + " | ".join(esc(c) for c in r.cells) + " |")
        if self.notes:
            lines += ["", *(esc(n) + "  " for n in self.notes)]
        return "\n".join(lines).rstrip() + "\n"

    # --- LaTeX -------------------------------------------------------------------------------

    def to_latex(self, *, environment: bool = True, label: str | None = None) -> str:
        """A booktabs table (needs ``\\usepackage{booktabs}``).

        Parameters
        ----------
        environment
            Wrap the ``tabular`` in a ``table`` float with the title as caption.
        label
            ``\\label{...}`` of the float.
        """
        k = len(self.columns)

        def cell(s: str) -> str:
            s = _latex_escape(s)
            # a leading minus sign as a real minus; stars as superscripts
            s = s.replace("-", "$-$", 1) if s.startswith("-") else s
            stripped = s.rstrip("*")
            n_st = len(s) - len(stripped)
            return f"{stripped}$^{{{'*' * n_st}}}$" if n_st else s

        out = []
        if environment:
            out += ["\\begin{table}[htbp]", "\\centering"]
            if self.title:
                out.append(f"\\caption{{{_latex_escape(self.title)}}}")
            if label:
                out.append(f"\\label{{{label}}}")
        out.append(f"\\begin{{tabular}}{{l{'c' * k}}}")
        out.append("\\toprule")
        out.append(" & " + " & ".join(_latex_escape(c) for c in self.columns) + " \\\\")
        out.append("\\midrule")
        for r in self.rows:
            if r.first_in_section:
                out.append("\\midrule")
            lab = _latex_escape(r.label)
            if r.kind == "header":
                lab = f"\\textit{{{lab}}}"
            out.append(f"{lab} & " + " & ".join(cell(c) for c in r.cells) + " \\\\")
        out.append("\\bottomrule")
        for n in self.notes:
            out.append(f"\\multicolumn{{{k + 1}}}{{l}}{{\\footnotesize {_latex_escape(n)}}} \\\\")
        out.append("\\end{tabular}")
        if environment:
            out.append("\\end{table}")
        return "\n".join(out) + "\n"

    # --- HTML --------------------------------------------------------------------------------

    def to_html(self) -> str:
        """An HTML table (self-contained styles, safe for notebooks and reports)."""
        e = html.escape
        css = (
            "border-collapse:collapse;font-variant-numeric:tabular-nums;"
            "border-top:2px solid #231f20;border-bottom:2px solid #231f20"
        )
        parts = [f"<table class='icsresearch-regtable' style='{css}'>"]
        if self.title:
            parts.append(
                f"<caption style='font-weight:bold;text-align:left'>{e(self.title)}</caption>"
            )
        head = "".join(
            f"<th style='text-align:center;padding:2px 10px'>{e(c)}</th>" for c in self.columns
        )
        parts.append(
            f"<thead><tr style='border-bottom:1px solid #231f20'><th></th>{head}</tr></thead><tbody>"
        )
        for r in self.rows:
            style = " style='border-top:1px solid #768692'" if r.first_in_section else ""
            lab = e(r.label)
            if r.kind == "header":
                lab = f"<em>{lab}</em>"
            color = "color:#425563;" if r.kind == "stat" else ""
            cells = "".join(
                f"<td style='text-align:center;padding:1px 10px;{color}'>{e(c)}</td>"
                for c in r.cells
            )
            parts.append(
                f"<tr{style}><td style='text-align:left;padding:1px 10px'>{lab}</td>{cells}</tr>"
            )
        parts.append("</tbody>")
        if self.notes:
            notes = "<br>".join(e(n) for n in self.notes)
            parts.append(
                f"<tfoot><tr><td colspan='{len(self.columns) + 1}' style='text-align:left;"
                f"font-size:85%;padding-top:4px'>{notes}</td></tr></tfoot>"
            )
        parts.append("</table>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        labels = [r.label for r in self.rows]
        w0 = max([len(x) for x in labels] + [0])
        widths = [
            max([len(c)] + [len(r.cells[j]) for r in self.rows]) for j, c in enumerate(self.columns)
        ]
        rule = "-" * (w0 + sum(w + 2 for w in widths))
        lines = [
            rule,
            " " * w0 + "".join(f"  {c:>{w}}" for c, w in zip(self.columns, widths, strict=True)),
            rule,
        ]
        for r in self.rows:
            if r.first_in_section:
                lines.append(rule)
            lines.append(
                f"{r.label:<{w0}}"
                + "".join(f"  {c:>{w}}" for c, w in zip(r.cells, widths, strict=True))
            )
        lines.append(rule)
        lines += self.notes
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.__str__()


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\u00b2": r"$^2$",
    "\u2264": r"$\leq$",
    "\u2265": r"$\geq$",
    "\u00d7": r"$\times$",
}


def _latex_escape(s: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in s)


# --- number formatting ---------------------------------------------------------------------


def _num(x: float, digits: int) -> str:
    """Fixed ``digits`` decimals; scientific for values that would round to zero."""
    if x is None or not np.isfinite(x):
        return ""
    if x != 0 and abs(x) < 0.5 * 10.0**-digits:
        return f"{x:.{max(digits - 1, 1)}e}"
    out = f"{x:,.{digits}f}"
    # no "-0.000" for tiny negative values rounded to zero
    return out[1:] if out.startswith("-") and float(out.replace(",", "")) == 0 else out


def _stars(p: float, levels: tuple[float, ...]) -> str:
    if not levels or not np.isfinite(p):
        return ""
    return "*" * sum(p < lv for lv in levels)


# --- builder ---------------------------------------------------------------------------------


def regression_table(
    results: Mapping[str, Any] | Sequence[Any] | Any,
    *,
    stat: Stat | None = "se",
    stars: bool | Sequence[float] = False,
    terms: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    digits: int = 3,
    controls: Mapping[str, Sequence[str] | str] | None = None,
    rows: Sequence[str] = DEFAULT_ROWS,
    alpha: float | None = None,
    title: str | None = None,
    notes: Sequence[str] | str | None = None,
    fmt: Fmt | None = None,
) -> RegressionTable | str | pd.DataFrame:
    """Models side by side: coefficients with SEs (or CIs, t, p), then the model facts.

    Parameters
    ----------
    results
        ``{"column name": result}``, a list of results (columns ``(1)``, ``(2)``...) or one
        result. Results are :class:`~icsresearch.models.results.RegressionResult` or fitted
        pyfixest models.
    stat
        What goes under each estimate: ``"se"`` (standard error, in parentheses), ``"ci"``
        (confidence interval at ``1 - alpha``, in brackets), ``"t"`` (t or z statistic, in
        parentheses), ``"p"`` (p-value, in parentheses; ``<0.001`` below the last digit) or
        ``None``.
    stars
        ``False`` (default: no stars), ``True`` (``*`` p<0.1, ``**`` p<0.05, ``***`` p<0.01) or
        decreasing thresholds, e.g. ``(0.05, 0.01, 0.001)``.
    terms
        Terms to show, in this order (default: every term, in order of first appearance, with
        the intercept last and the terms of ``controls`` left out).
    labels
        Display names for terms, fixed effects, cluster and dependent variables, e.g.
        ``{"management_score": "Management score", "trust_code": "Trust"}``.
    digits
        Decimals of estimates and statistics (values that would round to 0 are shown in
        scientific notation).
    controls
        Groups of terms reported as one "Yes/No" row each instead of coefficients, e.g.
        ``{"Case-mix controls": ["female_pct", "age_75_89_pct"]}``, or a prefix ending in ``*``
        (``{"Year dummies": "C(year)*"}``).
    rows
        Which summary rows to show, among ``"dependent"``, ``"estimator"``, ``"fixed_effects"``,
        ``"random_effects"``, ``"controls"``, ``"clusters"``, ``"nobs"``, ``"rsquared"``,
        ``"inference"`` (default: all but ``"estimator"``).
    alpha
        CI level for ``stat="ci"`` (default: each result's own ``alpha``).
    title, notes
        Caption and extra notes under the table.
    fmt
        ``None`` (default) returns a :class:`RegressionTable`; ``"html"``, ``"markdown"``,
        ``"latex"`` return the string; ``"dataframe"`` the DataFrame.

    Returns
    -------
    RegressionTable, str or pandas.DataFrame

    Raises
    ------
    InvalidParameterError
        Unknown options, terms not in any model, inputs that are not results.
    """
    models = _collect(results)
    if stat is not None and stat not in STATS:
        raise InvalidParameterError(f"stat={stat!r} is not one of {list(STATS)} or None")
    if fmt is not None and fmt not in FORMATS:
        raise InvalidParameterError(f"fmt={fmt!r} is not one of {list(FORMATS)} or None")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 10:
        raise InvalidParameterError(f"digits={digits!r} must be an integer from 0 to 10")
    if alpha is not None and not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise InvalidParameterError(f"alpha={alpha!r} must be between 0 and 1")
    bad_rows = [r for r in rows if r not in ROWS]
    if bad_rows:
        raise InvalidParameterError(f"rows={list(rows)!r}: unknown {bad_rows}; use {list(ROWS)}")
    levels = _stars_levels(stars)
    labels = dict(labels or {})

    def lab(name: str) -> str:
        return labels.get(name, name)

    # control groups: which terms belong to each
    all_terms = list(dict.fromkeys(t for r in models.values() for t in r.params.index))
    control_terms: dict[str, list[str]] = {}
    for group, spec in (controls or {}).items():
        specs = [spec] if isinstance(spec, str) else list(spec)
        members = []
        for sp in specs:
            if sp.endswith("*"):
                members += [t for t in all_terms if t.startswith(sp[:-1])]
            else:
                members.append(sp)
        control_terms[group] = list(dict.fromkeys(members))
    hidden = {t for ts in control_terms.values() for t in ts}

    if terms is None:
        shown = [t for t in all_terms if t not in hidden]
        shown = [t for t in shown if t not in _INTERCEPTS] + [t for t in shown if t in _INTERCEPTS]
    else:
        if isinstance(terms, str):
            terms = [terms]
        unknown = [t for t in terms if t not in all_terms]
        if unknown:
            raise InvalidParameterError(
                f"terms {unknown} are in none of the models\n  Fix: use terms from "
                f"{all_terms[:20]}{' ...' if len(all_terms) > 20 else ''}"
            )
        shown = list(dict.fromkeys(terms))
    if not shown:
        raise InvalidParameterError("no terms to show (every term is in a controls group)")

    names = list(models)
    body: list[_Row] = []
    tidies = {}
    for n, r in models.items():
        a = r.alpha if alpha is None else float(alpha)
        tidies[n] = (r.tidy(alpha=a).set_index("term"), a)

    if "dependent" in rows:
        body.append(
            _Row("Dependent variable", [lab(r.dependent) for r in models.values()], "header",
                 ("Dependent variable", ""))
        )  # fmt: skip
    if "estimator" in rows:
        body.append(
            _Row("Estimator", [r.model for r in models.values()], "header", ("Estimator", ""))
        )
    first = True
    for t in shown:
        est_cells, stat_cells = [], []
        for n in names:
            tidy, _a = tidies[n]
            if t not in tidy.index:
                est_cells.append("")
                stat_cells.append("")
                continue
            row = tidy.loc[t]
            est_cells.append(_num(row["estimate"], digits) + _stars(row["p_value"], levels))
            if stat == "se":
                stat_cells.append(f"({_num(row['se'], digits)})")
            elif stat == "ci":
                stat_cells.append(
                    f"[{_num(row['ci_low'], digits)}, {_num(row['ci_high'], digits)}]"
                )
            elif stat == "t":
                stat_cells.append(f"({_num(row['statistic'], max(digits - 1, 2))})")
            elif stat == "p":
                pv = float(row["p_value"])
                floor = 10.0**-digits
                text = f"<{floor:.{digits}f}" if pv < floor else _num(pv, digits)
                stat_cells.append(f"({text})")
        body.append(_Row(lab(t), est_cells, "estimate", (lab(t), "estimate"), first))
        first = False
        if stat is not None:
            body.append(_Row("", stat_cells, "stat", (lab(t), stat)))

    section: list[_Row] = []
    if "fixed_effects" in rows:
        fes = list(dict.fromkeys(f for r in models.values() for f in r.fixed_effects))
        for f in fes:
            cells = ["Yes" if f in r.fixed_effects else "No" for r in models.values()]
            section.append(
                _Row(f"Fixed effects: {lab(f)}", cells, "summary", (f"Fixed effects: {lab(f)}", ""))
            )
    groups = {n: _random_intercepts(r) for n, r in models.items()}
    if "random_effects" in rows and any(groups.values()):
        cells = [" / ".join(lab(g) for g in groups[n]) for n in models]
        section.append(_Row("Random intercepts", cells, "summary", ("Random intercepts", "")))
    if "controls" in rows:
        for group, members in control_terms.items():
            cells = [
                "Yes" if any(m in r.params.index for m in members) else "No"
                for r in models.values()
            ]
            section.append(_Row(group, cells, "summary", (group, "")))
    if "clusters" in rows and any(_clusters(r) for r in models.values()):
        cells = []
        for r in models.values():
            cl = _clusters(r)
            parts = []
            for c in cl:
                G = _n_clusters(r, c)
                parts.append(f"{lab(c)} ({G:,})" if G else lab(c))
            cells.append(", ".join(parts))
        section.append(_Row("Clusters", cells, "summary", ("Clusters", "")))
    if "nobs" in rows:
        section.append(
            _Row(
                "Observations",
                [f"{r.nobs:,}" for r in models.values()],
                "summary",
                ("Observations", ""),
            )
        )
    if "rsquared" in rows:
        for key, name in RSQUARED.items():
            vals = [r.rsquared.get(key) for r in models.values()]
            if any(v is not None and np.isfinite(v) for v in vals):
                cells = [_num(v, digits) if v is not None else "" for v in vals]
                section.append(_Row(name, cells, "summary", (name, "")))
    if "inference" in rows:
        section.append(
            _Row("Inference", [r.cov_type for r in models.values()], "summary", ("Inference", ""))
        )
    if section:
        section[0].first_in_section = True
    body += section

    note_lines = []
    if stat == "se":
        note_lines.append("Standard errors in parentheses.")
    elif stat == "ci":
        alphas = {a for _, a in tidies.values()}
        level = f"{(1 - alphas.pop()) * 100:g}%" if len(alphas) == 1 else "Model-specific"
        note_lines.append(f"{level} confidence intervals in brackets.")
    elif stat == "t":
        note_lines.append("t (or z) statistics in parentheses.")
    elif stat == "p":
        note_lines.append("p-values in parentheses.")
    if levels:
        note_lines.append(
            ", ".join(f"{'*' * (i + 1)} p<{lv:g}" for i, lv in enumerate(levels)) + "."
        )
    if notes:
        note_lines += [notes] if isinstance(notes, str) else list(notes)
    if any(r.provenance.synthetic is True for r in models.values()):
        note_lines.append("Synthetic demo data.")
    table = RegressionTable(names, body, note_lines, title)
    if fmt is None:
        return table
    return {
        "html": table.to_html,
        "markdown": table.to_markdown,
        "latex": table.to_latex,
        "dataframe": table.to_dataframe,
    }[fmt]()


def _random_intercepts(r: RegressionResult) -> list[str]:
    """The random-intercept levels of a mixed model (``fit_mixed``'s ``group``), else none."""
    if r.spec is None or r.spec.function != "fit_mixed":
        return []
    return list(r.spec.options.get("group") or [])
