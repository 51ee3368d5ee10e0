"""One result type for every estimator: tidy, printable, and aware of its provenance."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..provenance import Provenance
from .core import ModelSpec

_R2_LABELS = {
    "r2": "R-squared",
    "adj_r2": "Adjusted R-squared",
    "within": "R-squared (within)",
    "between": "R-squared (between)",
    "overall": "R-squared (overall)",
    "pseudo": "Pseudo R-squared (McFadden)",
    "within_adj": "Adjusted R-squared (within)",
}

#: What each R-squared variant measures, said under a result's table.
R2_EXPLAINED = {
    "r2": "squared correlation of the outcome with the fitted values, on the data as the "
    "estimator transformed them (demeaned for within models; the usual R-squared for OLS)",
    "adj_r2": "that R-squared penalised for the number of regressors",
    "within": "Stata's: squared correlation of x'b with the outcome, both demeaned by unit "
    "(variation over time within units)",
    "between": "Stata's: squared correlation of the unit averages of x'b and of the outcome",
    "overall": "Stata's: squared correlation of x'b with the raw outcome",
    "pseudo": "McFadden's 1 - log-likelihood / null log-likelihood; not a share of variance, "
    "and smaller than an OLS R-squared for a similar fit",
    "within_adj": "within R-squared penalised for the number of regressors",
    "marginal": "variance explained by the fixed part of the mixed model (Nakagawa)",
    "conditional": "variance explained by the fixed and random parts together (Nakagawa)",
}
#: Star thresholds of a single result's display: * p<0.1, ** p<0.05, *** p<0.01.
STARS = (0.1, 0.05, 0.01)


def format_p(p: float) -> str:
    """A p-value for display: three decimals, ``<0.001`` below that (never ``0.000``).

    Parameters
    ----------
    p
        The p-value.

    Examples
    --------
    >>> format_p(1e-12), format_p(0.0456)
    ('<0.001', '0.046')
    """
    if p is None or not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.0005 else f"{p:.3f}"


@dataclass
class RegressionResult:
    """Estimates, their covariance and everything needed to report them.

    Attributes
    ----------
    params
        Point estimates, indexed by term name.
    cov
        Covariance matrix of ``params`` under the chosen inference (``spec.inference``).
    nobs
        Observations used.
    df_resid
        Residual degrees of freedom for t-based inference (``None`` for z/normal inference).
    model
        Human label of the estimator, e.g. ``"within (two-way: trust_code + year)"``.
    cov_type
        Human label of the inference, e.g. ``"clustered by trust_code (plm 'sss')"`` (the
        options themselves are in ``spec.inference``).
    dependent
        Name of the outcome.
    formula
        The formula as given.
    n_groups
        Number of groups per panel/cluster dimension, e.g. ``{"trust_code": 129, "year": 7}``.
    rsquared
        R-squared variants that apply: ``r2``, ``adj_r2``, ``within``, ``between``, ``overall``,
        ``pseudo`` ...
    dist
        ``"t"`` (with ``df_resid``) or ``"normal"``: the reference distribution of p-values and CIs.
    sample
        Index labels of the rows used (rows with missing values, or lost to lags/differences,
        are excluded).
    fixed_effects
        Names of absorbed fixed effects (shown in tables).
    extra
        Estimator-specific values (variance components, theta, bootstrap output, link...).
    warnings
        Messages a reader of the result should see (few clusters, near-zero variance component...).
    provenance
        The typed :class:`~icsresearch.provenance.Provenance`: the data's inputs and synthetic
        flag (True for demo data), the specification's parameters, versions and git revision.
        Unknown (``synthetic=None``) for a result built by hand.
    alpha
        Default significance level of the confidence intervals (``1 - alpha`` coverage) in
        :meth:`conf_int`, :meth:`tidy` and the printed summary.
    spec
        The :class:`~icsresearch.models.core.ModelSpec` the estimator was called with
        (estimator, formula, panel identifiers, inference options); None for a result built by
        hand or converted with ``from_pyfixest``.
    """

    params: pd.Series
    cov: pd.DataFrame
    nobs: int
    df_resid: float | None
    model: str
    cov_type: str
    dependent: str
    formula: str = ""
    n_groups: dict[str, int] = field(default_factory=dict)
    rsquared: dict[str, float] = field(default_factory=dict)
    dist: Literal["t", "normal"] = "t"
    sample: pd.Index | None = None
    fixed_effects: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    provenance: Provenance = field(default_factory=Provenance.unknown)
    alpha: float = 0.05
    spec: ModelSpec | None = None
    # what the wild cluster bootstrap re-runs (an inference.wild.WildData), kept by the
    # estimators that support it; not part of the result's value
    _wild_data: Any = field(default=None, repr=False, compare=False)
    # what the score bootstrap needs (an inference.score.ScoreData), kept by fit_glm
    _score_data: Any = field(default=None, repr=False, compare=False)

    # --- derived statistics -----------------------------------------------------------------

    @property
    def bse(self) -> pd.Series:
        """Standard errors."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index, name="se")

    @property
    def tvalues(self) -> pd.Series:
        """t (or z) statistics."""
        return (self.params / self.bse).rename("t" if self.dist == "t" else "z")

    def _ref_dist(self):
        from scipy import stats

        if self.dist == "t" and self.df_resid is not None and np.isfinite(self.df_resid):
            return stats.t(self.df_resid)
        return stats.norm()

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values."""
        return pd.Series(
            2 * self._ref_dist().sf(np.abs(self.tvalues)), index=self.params.index, name="p"
        )

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald confidence intervals at level ``1 - alpha`` (default: the result's ``alpha``)."""
        alpha = self.alpha if alpha is None else alpha
        q = self._ref_dist().ppf(1 - alpha / 2)
        lo, hi = self.params - q * self.bse, self.params + q * self.bse
        return pd.DataFrame({"ci_low": lo, "ci_high": hi})

    def tidy(self, alpha: float | None = None, exponentiate: bool = False) -> pd.DataFrame:
        """One row per term: estimate, se, statistic, p-value and CI (exponentiated if asked).

        With ``exponentiate=True`` (odds ratios, rate ratios, ratios of a log outcome) the
        estimate and CI are ``exp()`` of the linear-scale values; ``se`` stays on the linear scale.
        ``alpha`` defaults to the result's ``alpha``. ``attrs`` carry the model, inference,
        ``synthetic`` flag and ``provenance``, so a chart drawn from the table is stamped as
        demo data when the model was fitted on demo data.
        """
        alpha = self.alpha if alpha is None else alpha
        ci = self.conf_int(alpha)
        out = pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.to_numpy(),
                "se": self.bse.to_numpy(),
                "statistic": self.tvalues.to_numpy(),
                "p_value": self.pvalues.to_numpy(),
                "ci_low": ci["ci_low"].to_numpy(),
                "ci_high": ci["ci_high"].to_numpy(),
            }
        )
        if exponentiate:
            for c in ("estimate", "ci_low", "ci_high"):
                out[c] = np.exp(out[c])
        out.attrs = {
            "model": self.model,
            "cov_type": self.cov_type,
            "nobs": self.nobs,
            "alpha": alpha,
            "exponentiated": exponentiate,
            "synthetic": self.provenance.synthetic,
            "provenance": self.provenance,
        }
        return out

    def wild_bootstrap(
        self,
        term: str | list[str],
        *,
        reps: int = 9999,
        seed: int | np.random.Generator | None = None,
        weights: Literal["webb", "rademacher"] = "webb",
        cluster: str | list[str] | None = None,
        alpha: float | None = None,
        null: float | list[float] = 0.0,
        restricted: bool = True,
        pvalue: Literal["symmetric", "equal-tailed", "lower", "upper"] = "symmetric",
        bootcluster: str | None = None,
    ):
        """Wild cluster bootstrap p-value (and test-inversion CI) for one or several terms.

        Results of ``fit``, ``fit_hdfe`` (OLS), ``did_2x2`` and ``event_study`` support it; see
        :func:`icsresearch.models.inference.wild.wild_bootstrap` for the options.

        Parameters
        ----------
        term
            A coefficient name, or a list for a joint Wald test.
        reps, seed, weights, cluster, alpha, null, restricted, pvalue, bootcluster
            As :func:`icsresearch.models.inference.wild.wild_bootstrap`.

        Returns
        -------
        WildBootstrapResult
        """
        from .inference.wild import wild_bootstrap

        return wild_bootstrap(
            self, term, reps=reps, seed=seed, weights=weights, cluster=cluster,
            alpha=self.alpha if alpha is None else alpha, null=null, restricted=restricted,
            pvalue=pvalue, bootcluster=bootcluster,
        )  # fmt: skip

    def score_bootstrap(
        self,
        term: str | list[str],
        *,
        reps: int = 9999,
        seed: int | np.random.Generator | None = None,
        weights: Literal["webb", "rademacher"] = "webb",
        cluster: str | None = None,
        alpha: float | None = None,
        null: float | list[float] = 0.0,
        restricted: bool = True,
        pvalue: Literal["symmetric", "equal-tailed", "lower", "upper"] = "symmetric",
        ci: bool = True,
    ):
        """Score bootstrap (Kline & Santos) p-value and CI, for ``fit_glm`` logit/Poisson results.

        Parameters
        ----------
        term
            A coefficient name, or a list for a joint Wald test.
        reps, seed, weights, cluster, alpha, null, restricted, pvalue, ci
            As :func:`icsresearch.models.inference.score.score_bootstrap`.

        Returns
        -------
        WildBootstrapResult
        """
        from .inference.score import score_bootstrap

        return score_bootstrap(
            self, term, reps=reps, seed=seed, weights=weights, cluster=cluster,
            alpha=self.alpha if alpha is None else alpha, null=null, restricted=restricted,
            pvalue=pvalue, ci=ci,
        )  # fmt: skip

    # --- display ----------------------------------------------------------------------------

    def _header(self) -> list[tuple[str, str]]:
        rows = [
            ("Dependent variable", self.dependent),
            ("Estimator", self.model),
            ("Inference", self.cov_type),
            ("Observations", f"{self.nobs:,}"),
        ]
        for k, v in self.n_groups.items():
            rows.append((f"Groups ({k})", f"{v:,}"))
        for k, v in self.rsquared.items():
            if v is not None and np.isfinite(v):
                rows.append((_R2_LABELS.get(k, f"R-squared ({k})"), f"{v:.4f}"))
        if self.fixed_effects:
            rows.append(("Fixed effects", ", ".join(self.fixed_effects)))
        return rows

    def _journal(self, alpha: float | None = None) -> tuple[list[list[str]], list[str]]:
        """The estimates as a journal prints them, and the notes under them.

        Rows: term, estimate with stars, (SE), p-value (``<0.001``, never ``0.000``) and the
        confidence interval. Notes: what the parentheses and stars mean, the inference in one
        line, what each R-squared shown measures, then the result's warnings.
        """
        from .tables import _num  # tables imports this module: imported when first displayed

        a = self.alpha if alpha is None else alpha
        rows = []
        for r in self.tidy(a).itertuples(index=False):
            stars = "*" * sum(r.p_value < lv for lv in STARS) if np.isfinite(r.p_value) else ""
            rows.append(
                [
                    str(r.term),
                    _num(r.estimate, 3) + stars,
                    f"({_num(r.se, 3)})",
                    format_p(r.p_value),
                    f"[{_num(r.ci_low, 3)}, {_num(r.ci_high, 3)}]",
                ]
            )
        notes = [
            "Standard errors in parentheses; "
            + ", ".join(f"{'*' * (i + 1)} p<{lv:g}" for i, lv in reversed(list(enumerate(STARS))))
            + ".",
            self.inference_line(a),
        ]
        for key, value in self.rsquared.items():
            if value is not None and np.isfinite(value) and key in R2_EXPLAINED:
                notes.append(f"{_R2_LABELS.get(key, key)}: {R2_EXPLAINED[key]}.")
        notes += [f"Note: {w}" for w in self.warnings]
        return rows, notes

    def inference_line(self, alpha: float | None = None) -> str:
        """The inference convention in one short line, e.g. ``Inference: clustered by trust_code
        (plm 'sss'); t(128) p-values, 95% CIs.``

        Parameters
        ----------
        alpha
            Significance level of the intervals (default: the result's ``alpha``).
        """
        a = self.alpha if alpha is None else alpha
        if self.dist == "t" and self.df_resid is not None and np.isfinite(self.df_resid):
            reference = f"t({self.df_resid:g})"
        elif self.dist == "t":
            reference = "t (degrees of freedom per coefficient)"
        else:
            reference = "normal (z)"
        return f"Inference: {self.cov_type}; {reference} p-values, {(1 - a) * 100:g}% CIs."

    def summary(self, alpha: float | None = None) -> str:
        """A plain-text summary: the model's facts, then the estimates as a journal table.

        Parameters
        ----------
        alpha
            Significance level of the intervals (default: the result's ``alpha``).
        """
        head = "\n".join(f"{k:<22} {v}" for k, v in self._header())
        rows, notes = self._journal(alpha)
        a = self.alpha if alpha is None else alpha
        titles = ["", "Estimate", "(SE)", "p", f"{(1 - a) * 100:g}% CI"]
        widths = [max(len(row[j]) for row in [titles, *rows]) for j in range(len(titles))]
        lines = [
            f"{cells[0]:<{widths[0]}}"
            + "".join(f"  {c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True))
            for cells in [titles, *rows]
        ]
        rule = "-" * max(72, len(lines[0]))
        return "\n".join([head, rule, lines[0], rule, *lines[1:], rule, *notes])

    def __repr__(self) -> str:
        return self.summary()

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        e = html.escape
        rows, notes = self._journal()
        facts = "".join(
            f"<tr><th style='text-align:left;padding:0 10px 0 0'>{e(k)}</th>"
            f"<td style='text-align:left'>{e(str(v))}</td></tr>"
            for k, v in self._header()
        )
        cell = "text-align:right;padding:1px 10px"
        head = "".join(
            f"<th style='{cell}'>{e(t)}</th>"
            for t in ("Estimate", "(SE)", "p", f"{(1 - self.alpha) * 100:g}% CI")
        )
        body = "".join(
            f"<tr><td style='text-align:left;padding:1px 10px'>{e(r[0])}</td>"
            + "".join(f"<td style='{cell}'>{e(c)}</td>" for c in r[1:])
            + "</tr>"
            for r in rows
        )
        rule = "border-top:2px solid #231f20;border-bottom:2px solid #231f20"
        return (
            f"<div><table>{facts}</table>"
            f"<table class='icsresearch-result' style='border-collapse:collapse;{rule};"
            "font-variant-numeric:tabular-nums;margin-top:6px'>"
            f"<caption style='text-align:left;font-weight:bold'>Dependent variable: "
            f"{e(self.dependent)}</caption>"
            f"<thead><tr style='border-bottom:1px solid #231f20'><th></th>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
            f"<p style='font-size:85%;margin-top:4px'>{'<br>'.join(e(n) for n in notes)}</p></div>"
        )

    def to_markdown(self, alpha: float | None = None) -> str:
        """A Markdown table of the estimates with the header facts above it."""
        head = "\n".join(f"- **{k}**: {v}" for k, v in self._header())
        t = self.tidy(alpha)
        lines = [
            "| term | estimate | se | statistic | p | CI low | CI high |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in t.itertuples(index=False):
            lines.append(
                f"| {r.term} | {r.estimate:.4g} | {r.se:.4g} | {r.statistic:.3f} | {r.p_value:.3g} | {r.ci_low:.4g} | {r.ci_high:.4g} |"
            )
        return head + "\n\n" + "\n".join(lines) + "\n"
