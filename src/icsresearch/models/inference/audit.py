"""The inference audit: every applicable few-cluster method for one coefficient, side by side.

With 42 systems, 7 regions or a handful of treated ICSs, the cluster-robust t-test (CR1) can
reject far too often, and the remedies -- CR2 with Bell-McCaffrey/Satterthwaite degrees of
freedom, the CR3 jackknife, the wild cluster restricted bootstrap and randomization inference --
are each valid under different conditions. :func:`inference_audit` runs them all on one
coefficient and says in one line whether they agree:

=================  ========================================================================
row                how
=================  ========================================================================
CR1                the result's estimator with ``vcov="CRV1"`` on the cluster variable
CR2-BM             ``vcov="CR2"`` (``fit`` only: per-coefficient Satterthwaite df); "not
                   available" with the reason where the estimator (or this version) lacks it
CR3                ``vcov="CRV3"`` (the leave-one-cluster-out jackknife); "not available"
                   when dropping a cluster leaves the term unidentified (one treated system)
wild bootstrap     ``result.wild_bootstrap(term, weights="webb")`` (WCR, test-inversion CI),
                   where the result has it
randomization      :func:`~.randomization.randomization_inference` (studentized), when the
                   treatment is known (``did_2x2``, ``event_study``, or ``treatment=``)
=================  ========================================================================

plus :func:`~.diagnostics.cluster_diagnostics`: the effective number of clusters :math:`G^*` and
the most influential cluster. A method that does not apply appears with the reason, never
silently dropped.

The verdict: if every method with a p-value rejects at ``alpha`` (or none does) they agree;
otherwise the line names who rejects and who does not, and, when :math:`G^*` (or :math:`G`) is
below 20, says to trust the few-cluster-robust methods (CR2-BM, CR3, wild bootstrap,
randomization) when they agree with each other, as simulations recommend (MacKinnon & Webb
2017; MacKinnon, Nielsen & Webb 2023; ``docs/few-clusters.md``).
"""

from __future__ import annotations

import dataclasses
import html
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ...errors import InvalidParameterError
from ...options import Vcov, allowed, check_alpha
from .diagnostics import ClusterDiagnostics, cluster_diagnostics
from .randomization import randomization_inference, refit

#: Below this many effective clusters the verdict prefers the few-cluster-robust methods.
FEW_EFFECTIVE_CLUSTERS = 20

#: The methods that are designed for few clusters (CR1 is not).
ROBUST_METHODS = ("CR2-BM", "CR3", "wild bootstrap", "randomization")

COLUMNS = ["method", "se", "p_value", "ci_low", "ci_high", "df", "note"]


@dataclass
class InferenceAudit:
    """Few-cluster inference methods side by side for one coefficient, with a verdict.

    Attributes
    ----------
    term, estimate, alpha
        The coefficient, its estimate, and the level of the tests and intervals.
    cluster, n_clusters
        The cluster variable and :math:`G`.
    table
        One row per method: ``method``, ``se``, ``p_value``, ``ci_low``, ``ci_high``, ``df``,
        ``note`` (NaN and the reason where the method is not available).
    diagnostics
        The :class:`~.diagnostics.ClusterDiagnostics` (None if they could not be computed).
    verdict
        One line: do the methods agree at ``alpha``, and which to trust if not.
    details
        The underlying results (``"wild bootstrap"``, ``"randomization"``), for inspection.
    provenance
        The audited result's :class:`~icsresearch.provenance.Provenance` (its data and the
        synthetic flag, said in the printed audit).
    """

    term: str
    estimate: float
    alpha: float
    cluster: str
    n_clusters: int
    table: pd.DataFrame
    diagnostics: ClusterDiagnostics | None
    verdict: str
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    provenance: Any = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The methods table (a copy), one row per method.

        Returns
        -------
        pandas.DataFrame
        """
        return self.table.copy()

    def _lines(self) -> list[str]:
        d = self.diagnostics
        out = [
            f"Inference audit for {self.term!r}: estimate {self.estimate:.6g}, "
            f"{self.n_clusters} clusters in {self.cluster!r}"
        ]
        if self.provenance is not None:
            out.append(f"  data: {self.provenance.source_note}")
        if d is not None:
            g_star = "not available"
            if d.effective_clusters is not None:
                g_star = f"{d.effective_clusters:.1f}"
            out.append(
                f"  effective clusters G*: {g_star}; most influential cluster: "
                f"{d.most_influential} (estimate without it {d.estimate + d.max_influence:.6g})"
            )
        return out

    def __repr__(self) -> str:
        level = f"{100 * (1 - self.alpha):g}%"
        shown = self.table.copy()
        for c in ("se", "ci_low", "ci_high"):
            shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else f"{v:.5g}")
        shown["p_value"] = shown["p_value"].map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
        shown["df"] = shown["df"].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
        # the full notes are in to_frame(); printed, they are cut to keep the table narrow
        shown["note"] = shown["note"].map(lambda s: s if len(s) <= 80 else s[:77] + "...")
        shown["note"] = shown["note"].str.ljust(int(shown["note"].str.len().max()))
        shown = shown.rename(columns={"ci_low": f"{level} low", "ci_high": f"{level} high"})
        body = "\n".join(line.rstrip() for line in shown.to_string(index=False).splitlines())
        return "\n".join([*self._lines(), body, f"Verdict: {self.verdict}"])

    def _repr_html_(self) -> str:
        head = "".join(f"<p>{html.escape(line.strip())}</p>" for line in self._lines())
        table = self.table.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.5g}")
        return f"{head}{table}<p><strong>Verdict:</strong> {html.escape(self.verdict)}</p>"


def _row(method: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS, np.nan)
    row.update({"method": method, "note": ""})
    row.update(values)
    return row


def _unavailable(method: str, reason: str) -> dict[str, Any]:
    return _row(method, note=f"not available: {reason}")


def _first_line(err: Exception) -> str:
    return str(err).split("\n")[0]


def _with_vcov(result: Any, vcov: str, cluster: str, data: pd.DataFrame | None) -> Any:
    """The result re-done with another clustered covariance on ``cluster``."""
    spec = result.spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec.function == "fit" and hasattr(result, "with_cov"):
            return result.with_cov(vcov, cluster=cluster, data=data)
        if data is None:
            raise InvalidParameterError(
                f"{spec.function}: another covariance means re-running the estimator\n  Fix: "
                "pass data="
            )
        inference = dataclasses.replace(spec.inference, vcov=vcov, cluster=(cluster,))
        return refit(dataclasses.replace(result, spec=spec.with_inference(inference)), data)


def _analytic_row(method: str, res: Any, term: str, alpha: float) -> dict[str, Any]:
    ci = res.conf_int(alpha).loc[term]
    df_terms = getattr(res, "df_terms", None)
    df = df_terms[term] if df_terms is not None else res.df_resid
    return _row(
        method,
        se=float(res.bse[term]),
        p_value=float(res.pvalues[term]),
        ci_low=float(ci.iloc[0]),
        ci_high=float(ci.iloc[1]),
        df=np.nan if df is None else float(df),
        note=res.cov_type,
    )


def _verdict(table: pd.DataFrame, alpha: float, g_star: float | None, G: int) -> str:
    level = f"{100 * alpha:g}%"
    have = table[table["p_value"].notna()]
    if have.empty:
        return "No method could be run."
    rejects = have[have["p_value"] < alpha]
    keeps = have[have["p_value"] >= alpha]
    n = len(have)
    if keeps.empty:
        return f"Agree: all {n} methods reject at {level}."
    if rejects.empty:
        return f"Agree: none of the {n} methods rejects at {level}."

    def names(rows: pd.DataFrame) -> str:
        parts = [f"{m} (p={p:.3g})" for m, p in zip(rows["method"], rows["p_value"], strict=True)]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    verb_r = "rejects" if len(rejects) == 1 else "reject"
    verb_k = "does not" if len(keeps) == 1 else "do not"
    line = f"Disagree at {level}: {names(rejects)} {verb_r} but {names(keeps)} {verb_k}"
    few = g_star if g_star is not None else float(G)
    what = f"G*={g_star:.1f} effective clusters" if g_star is not None else f"{G} clusters"
    if few < FEW_EFFECTIVE_CLUSTERS:
        robust = have[have["method"].isin(ROBUST_METHODS)]
        robust_reject = robust["p_value"] < alpha
        if len(robust) and robust_reject.all():
            return f"{line}; with {what} trust the few-cluster methods, which reject."
        if len(robust) and not robust_reject.any():
            return f"{line}; with {what} trust the few-cluster methods, which do not reject."
        return f"{line}; with {what} even the few-cluster methods disagree: treat it as fragile."
    return f"{line}; with {what} CR1 is usually adequate, but the result is borderline."


def inference_audit(
    result: Any,
    term: str,
    *,
    data: pd.DataFrame | None = None,
    cluster: str | None = None,
    treatment: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    alpha: float | None = None,
    bootstrap_reps: int = 9999,
    bootstrap_weights: Literal["webb", "rademacher"] = "webb",
    ri_reps: int = 999,
    seed: int | None = None,
) -> InferenceAudit:
    """Run CR1, CR2-BM, CR3, the wild cluster bootstrap and randomization inference on ``term``.

    See the module docstring for what each row is and how the verdict is reached.

    Parameters
    ----------
    result
        A result of ``fit``, ``fit_hdfe``, ``did_2x2`` or ``event_study``.
    term
        The coefficient to audit.
    data
        The DataFrame the result was fitted on (needed to refit, for randomization inference,
        and to cluster ``fit`` results on a column not used in the fit).
    cluster
        The cluster variable (default: the result's one cluster variable, else its entity).
    treatment, unit, time
        For randomization inference, as
        :func:`~.randomization.randomization_inference` (``did_2x2`` and ``event_study``
        know their treatment).
    alpha
        Level of the tests and intervals (default: the result's).
    bootstrap_reps, bootstrap_weights
        Wild bootstrap replications and weights (Webb's six-point by default).
    ri_reps
        Random permutations when the assignments are too many to enumerate.
    seed
        Seed of the bootstrap and the permutations.

    Returns
    -------
    InferenceAudit

    Raises
    ------
    InvalidParameterError
        A result without a specification, an unknown term, two cluster variables without
        ``cluster=``.
    """
    spec = getattr(result, "spec", None)
    if spec is None:
        raise InvalidParameterError(
            "this result has no specification (spec)\n  Fix: use a result of fit, fit_hdfe, "
            "did_2x2 or event_study"
        )
    names = list(result.params.index)
    if term not in names:
        raise InvalidParameterError(
            f"term {term!r} is not a coefficient\n  Fix: choose one of {names[:12]}"
        )
    alpha = result.alpha if alpha is None else check_alpha(alpha)
    if cluster is None:
        if len(spec.inference.cluster) > 1:
            raise InvalidParameterError(
                f"the result is clustered on {list(spec.inference.cluster)}; the audit uses one "
                "cluster variable\n  Fix: pass cluster='...'"
            )
        cluster = spec.inference.cluster[0] if spec.inference.cluster else spec.entity
    if cluster is None:
        raise InvalidParameterError(
            "the result has no cluster variable or entity\n  Fix: pass cluster='<column>'"
        )
    rows: list[dict[str, Any]] = []
    details: dict[str, Any] = {}
    G = 0
    for method, vcov in (("CR1", "CRV1"), ("CR2-BM", "CR2"), ("CR3", "CRV3")):
        if vcov not in allowed(Vcov):
            rows.append(_unavailable(method, f"vcov={vcov!r} is not in this version"))
            continue
        try:
            res = _with_vcov(result, vcov, cluster, data)
        except InvalidParameterError as err:
            rows.append(_unavailable(method, _first_line(err)))
            continue
        rows.append(_analytic_row(method, res, term, alpha))
        if method == "CR1":
            G = int(res.extra.get("n_clusters", {}).get(cluster, 0) or 0)
    wild = getattr(result, "wild_bootstrap", None)
    if callable(wild):
        try:
            wb = wild(
                term,
                reps=bootstrap_reps,
                seed=seed,
                weights=bootstrap_weights,
                cluster=cluster,
                alpha=alpha,
            )
            details["wild bootstrap"] = wb
            rows.append(
                _row(
                    "wild bootstrap",
                    p_value=wb.p_value,
                    ci_low=wb.ci_low,
                    ci_high=wb.ci_high,
                    note=f"WCR, {wb.weights} weights, "
                    + ("all sign vectors" if wb.enumerated else f"{wb.reps} replications")
                    + "; CI by test inversion",
                )
            )
            G = G or wb.n_clusters
        except InvalidParameterError as err:
            rows.append(_unavailable("wild bootstrap", _first_line(err)))
    else:
        rows.append(
            _unavailable("wild bootstrap", f"{spec.function} results have no wild_bootstrap()")
        )
    if data is None:
        rows.append(_unavailable("randomization", "needs data="))
    elif treatment is None and spec.function in ("fit", "fit_hdfe"):
        rows.append(_unavailable("randomization", "pass treatment= (the 0/1 column to permute)"))
    else:
        try:
            ri = randomization_inference(
                result,
                term,
                data=data,
                treatment=treatment,
                unit=unit,
                time=time,
                reps=ri_reps,
                seed=seed,
            )
            details["randomization"] = ri
            how = "exact, all" if ri.enumerated else "random"
            rows.append(
                _row(
                    "randomization",
                    p_value=ri.p_value,
                    note=f"studentized; {how} {ri.draws} assignments of {ri.n_treated_units} "
                    f"treated among {ri.n_units} {ri.unit!r}",
                )
            )
        except InvalidParameterError as err:
            rows.append(_unavailable("randomization", _first_line(err)))
    try:
        diagnostics = cluster_diagnostics(result, term, data=data, cluster=cluster)
        G = diagnostics.n_clusters
    except InvalidParameterError as err:
        diagnostics = None
        details["diagnostics_error"] = _first_line(err)
    if diagnostics is not None and diagnostics.table["beta_drop"].isna().any():
        # the jackknife needs the term without every cluster; with a single treated system it is
        # not identified, and CRV3's number would be noise
        lost = [str(c) for c in diagnostics.table.index[diagnostics.table["beta_drop"].isna()]]
        for i, row in enumerate(rows):
            if row["method"] == "CR3":
                rows[i] = _unavailable(
                    "CR3",
                    f"the jackknife is undefined: without cluster(s) {', '.join(lost[:3])} "
                    f"{term!r} is not identified",
                )
    table = pd.DataFrame(rows, columns=COLUMNS)
    g_star = diagnostics.effective_clusters if diagnostics is not None else None
    return InferenceAudit(
        term=term,
        estimate=float(result.params[term]),
        alpha=float(alpha),
        cluster=cluster,
        n_clusters=int(G),
        table=table,
        diagnostics=diagnostics,
        verdict=_verdict(table, alpha, g_star, int(G)),
        details=details,
        provenance=getattr(result, "provenance", None),
    )
