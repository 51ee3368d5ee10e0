r"""Cluster diagnostics: how many clusters a coefficient effectively rests on, and which matter.

Following MacKinnon, Nielsen & Webb (2023), "Leverage, influence, and the jackknife in clustered
regression models: reliable inference using summclust" (*Stata Journal* 23:942-982; R and Stata
``summclust``), for one coefficient :math:`\beta_k` of a model clustered by :math:`g = 1..G`:

* **cluster sizes** :math:`N_g` (min / median / max): very unequal sizes are a warning sign.
* **leverage** :math:`L_g = \operatorname{tr}(H_{gg}) = \operatorname{tr}(X_g (X'X)^{-1} X_g')`;
  they sum to :math:`K`, so the average is :math:`K/G`. A cluster with leverage far above the
  average pulls the fit towards itself.
* **partial leverage** for :math:`\beta_k`: with :math:`\tilde x` the residual of regressing
  column :math:`k` on the other columns (Frisch-Waugh-Lovell),
  :math:`L^k_g = \tilde x_g'\tilde x_g / \tilde x'\tilde x`; they sum to 1. When a few clusters
  (e.g. the few treated systems) hold most of it, cluster-robust inference on :math:`\beta_k`
  rests on those few.
* **effective number of clusters** :math:`G^*` (Carter, Schnepel & Steigerwald 2017, *Rev. Econ.
  Stat.* 99:698-709): with :math:`a = X(X'X)^{-1}e_k` and a working within-cluster correlation
  :math:`\rho`, :math:`\gamma_g(\rho) = a_g'[(1-\rho)I + \rho\,\iota\iota']a_g`,
  :math:`\Gamma = \frac{1}{G}\sum_g (\gamma_g - \bar\gamma)^2 / \bar\gamma^2` and
  :math:`G^*(\rho) = G / (1 + \Gamma)`. ``summclust`` reports :math:`\rho = 0` and
  :math:`\rho = 1`; the headline here is the smaller of the two (undefined values skipped:
  with fixed effects nested in the clusters :math:`a_g` sums to zero in every cluster, so
  :math:`\gamma_g(1) = 0` and :math:`G^*(1)` is undefined). Distrust cluster-robust t-tests
  when it is below about 20 (far below :math:`G` means a few clusters carry the coefficient).
* **leave-one-cluster-out estimates** :math:`\hat\beta_{(g)}` (the jackknife behind CR3) and the
  influence :math:`\hat\beta_{(g)} - \hat\beta`; the **most influential cluster** is the one whose
  omission moves the estimate most.

For :func:`~icsresearch.models.fit` results everything is computed on the regression the model
runs: absorbed fixed effects are partialled out (as ``summclust`` with ``absorb()``), so leverage
sums to the number of slopes, and :math:`\hat\beta_{(g)}` are exact refits, computed as the CR3
jackknife of :mod:`icsresearch.models.panel.covariance` computes them (fixed effects not nested
in the clusters are re-estimated). For :func:`~icsresearch.models.fit_hdfe`,
:func:`~icsresearch.models.did_2x2` and :func:`~icsresearch.models.event_study` results
:math:`\hat\beta_{(g)}` come from re-running the estimator without each cluster (``data=``
needed), and leverage, partial leverage and :math:`G^*` from the partialled-out design the result
keeps for its wild bootstrap; where it keeps none (Sun & Abraham event studies, whose
coefficients are combinations of the regression's) they are reported as not available.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InvalidParameterError
from ..core import check_columns, check_dataframe


@dataclass
class ClusterDiagnostics:
    """Leverage, influence and the effective number of clusters for one coefficient.

    Attributes
    ----------
    term, estimate
        The coefficient and its full-sample estimate.
    cluster
        The cluster variable.
    n_clusters
        :math:`G`.
    size_min, size_median, size_max
        Rows per cluster.
    effective_clusters
        The smaller defined value of :math:`G^*(0)` and :math:`G^*(1)` (None when not
        available).
    effective_clusters_rho0, effective_clusters_rho1
        :math:`G^*(0)` and :math:`G^*(1)` (None when not available, NaN when undefined).
    table
        One row per cluster: ``size``, ``leverage``, ``partial_leverage``, ``beta_drop``
        (:math:`\\hat\\beta_{(g)}`), ``influence`` (:math:`\\hat\\beta_{(g)} - \\hat\\beta`).
    most_influential
        The cluster whose omission moves the estimate most, and ``max_influence`` that move.
    notes
        What could not be computed, and why.
    """

    term: str
    estimate: float
    cluster: str
    n_clusters: int
    size_min: int
    size_median: float
    size_max: int
    effective_clusters: float | None
    effective_clusters_rho0: float | None
    effective_clusters_rho1: float | None
    table: pd.DataFrame = field(repr=False)
    most_influential: Any = None
    max_influence: float = float("nan")
    notes: list[str] = field(default_factory=list)

    def summary_frame(self) -> pd.DataFrame:
        """The one-number summaries as a two-column table (``statistic``, ``value``).

        Returns
        -------
        pandas.DataFrame
        """
        lev = self.table["leverage"]
        rows = [
            ("clusters (G)", self.n_clusters),
            (
                "cluster size min / median / max",
                f"{self.size_min} / {self.size_median:g} / {self.size_max}",
            ),
            ("effective clusters G* (the smaller)", _fmt(self.effective_clusters)),
            (
                "G*(0) / G*(1)",
                f"{_fmt(self.effective_clusters_rho0)} / {_fmt(self.effective_clusters_rho1)}",
            ),
            (
                "largest leverage (cluster)",
                "not available"
                if lev.isna().all()
                else f"{lev.max():.4g} ({lev.idxmax()}); average {lev.mean():.4g}",
            ),
            (
                "largest partial leverage (cluster)",
                "not available"
                if self.table["partial_leverage"].isna().all()
                else f"{self.table['partial_leverage'].max():.4g} "
                f"({self.table['partial_leverage'].idxmax()}); average {1 / self.n_clusters:.4g}",
            ),
            (
                "most influential cluster",
                f"{self.most_influential} (estimate without it "
                f"{self.estimate + self.max_influence:.6g}, against {self.estimate:.6g})",
            ),
        ]
        return pd.DataFrame(rows, columns=["statistic", "value"])

    def to_frame(self) -> pd.DataFrame:
        """The per-cluster table (a copy).

        Returns
        -------
        pandas.DataFrame
        """
        return self.table.copy()

    def __repr__(self) -> str:
        lines = [f"Cluster diagnostics for {self.term!r} (clusters: {self.cluster!r})"]
        for stat, value in self.summary_frame().itertuples(index=False):
            lines.append(f"  {stat}: {value}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = html.escape(f"Cluster diagnostics for {self.term!r} (clusters: {self.cluster!r})")
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return (
            f"<p><strong>{head}</strong></p>"
            + self.summary_frame().to_html(index=False)
            + notes
            + self.table.to_html(float_format=lambda v: f"{v:.4g}")
        )


def _fmt(value: float | None) -> str:
    if value is None:
        return "not available"
    return "undefined" if np.isnan(value) else f"{value:.2f}"


def effective_clusters(X: np.ndarray, codes: np.ndarray, k: int, rho: float = 1.0) -> float:
    """Carter, Schnepel & Steigerwald's effective number of clusters :math:`G^*(\\rho)`.

    Parameters
    ----------
    X
        The regression's design (fixed effects partialled out).
    codes
        Cluster code of each row (0..G-1).
    k
        Column of the coefficient.
    rho
        Working within-cluster correlation, in [0, 1].

    Returns
    -------
    float
    """
    if not 0 <= rho <= 1:
        raise InvalidParameterError(f"rho={rho!r} must be in [0, 1]\n  Fix: use 0 or 1")
    a = X @ np.linalg.pinv(X.T @ X)[:, k]
    G = int(codes.max()) + 1
    sum_sq = np.bincount(codes, weights=a * a, minlength=G)
    sq_sum = np.bincount(codes, weights=a, minlength=G) ** 2
    gamma = (1 - rho) * sum_sq + rho * sq_sum
    mean = gamma.mean()
    if mean <= 1e-12 * sum_sq.mean():
        # e.g. rho = 1 with fixed effects nested in the clusters: a_g sums to zero in every
        # cluster, so gamma_g(1) = 0 and G* is undefined
        return float("nan")
    Gamma = np.mean((gamma - mean) ** 2) / mean**2
    return float(G / (1 + Gamma))


def _leverages(X: np.ndarray, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Cluster leverage ``tr(H_gg)`` and partial leverage of column ``k``."""
    G = int(codes.max()) + 1
    Q = np.linalg.pinv(X.T @ X)
    hat_diag = np.einsum("ij,jk,ik->i", X, Q, X)
    leverage = np.bincount(codes, weights=hat_diag, minlength=G)
    others = [j for j in range(X.shape[1]) if j != k]
    x = X[:, k]
    if others:
        Xo = X[:, others]
        x = x - Xo @ np.linalg.lstsq(Xo, x, rcond=None)[0]
    partial = np.bincount(codes, weights=x * x, minlength=G) / float(x @ x)
    return leverage, partial


def _jackknife_fit(result: Any, codes: np.ndarray, k: int) -> np.ndarray:
    """Exact leave-one-cluster-out estimates of coefficient ``k`` of a ``fit`` result."""
    # the same design as the CR3 jackknife (effects not nested in the clusters re-estimated)
    from ..panel.covariance import _cr3_design

    reg = result.regression
    Z, yz = _cr3_design(reg, codes)
    ZtZ, Zty = Z.T @ Z, Z.T @ yz
    G = int(codes.max()) + 1
    out = np.empty(G)
    for g in range(G):
        rows = codes == g
        Zg = Z[rows]
        A, b = ZtZ - Zg.T @ Zg, Zty - Zg.T @ yz[rows]
        # without this cluster the coefficient may not be identified (the only treated system):
        # solve would return noise, not an error
        if np.linalg.matrix_rank(A) < A.shape[0]:
            out[g] = np.nan
            continue
        out[g] = np.linalg.solve(A, b)[k]
    return out


def _fit_codes(result: Any, cluster: str, data: pd.DataFrame | None) -> tuple[np.ndarray, list]:
    """Cluster codes of the regression rows of a ``fit`` result, and the cluster labels."""
    reg, d = result.regression, result.design
    if cluster == d.entity_name:
        codes = reg.entity
        labels = list(d.entity_labels)
    elif cluster == d.time_name and reg.time is not None:
        codes = reg.time
        labels = list(d.time_labels)
    elif cluster in reg.clusters:
        codes = reg.clusters[cluster]
        labels = list(range(int(codes.max()) + 1))
        if data is not None and cluster in data.columns and result.sample is not None:
            values = data.loc[result.sample, cluster]
            uniques = pd.factorize(values, sort=True)[1]
            if len(uniques) == len(labels):
                labels = list(uniques)
    else:
        raise InvalidParameterError(
            f"cluster variable {cluster!r} is not available in this result\n  Fix: refit with "
            f"cluster={cluster!r}, or cluster on {d.entity_name!r}"
        )
    _, pos = np.unique(codes, return_inverse=True)
    used = np.unique(codes)
    return pos, [labels[int(c)] for c in used]


def _kept_design(result: Any, cluster: str, labels: list) -> tuple[np.ndarray, np.ndarray] | None:
    """The partialled-out design a result keeps for its wild bootstrap, with cluster codes.

    ``fit_hdfe``, ``did_2x2`` and TWFE ``event_study`` results keep the regression they ran
    (fixed effects partialled out) for :mod:`icsresearch.models.inference.wild`; None when the
    result has none, or its coefficients are combinations of the regression's (Sun & Abraham).
    """
    wild = getattr(result, "_wild_data", None)
    X = getattr(wild, "X", None)
    rows = getattr(wild, "rows", None)
    if (
        X is None
        or rows is None
        or getattr(wild, "coef_map", None) is not None
        or cluster not in getattr(rows, "columns", ())
        or X.shape[1] != len(result.params)
        or X.shape[0] != len(rows)
    ):
        return None
    codes = pd.Index(labels).get_indexer(rows[cluster].to_numpy())
    if (codes < 0).any():
        return None
    return np.asarray(X, dtype=float), codes


def cluster_diagnostics(
    result: Any,
    term: str,
    *,
    data: pd.DataFrame | None = None,
    cluster: str | None = None,
) -> ClusterDiagnostics:
    """Cluster sizes, leverage, partial leverage, :math:`G^*` and the jackknife for one term.

    See the module docstring for the definitions (MacKinnon, Nielsen & Webb 2023; Carter,
    Schnepel & Steigerwald 2017).

    Parameters
    ----------
    result
        A result of ``fit`` (everything) or ``fit_hdfe`` / ``did_2x2`` / ``event_study``
        (sizes and the jackknife, by refitting).
    term
        The coefficient.
    data
        The DataFrame the result was fitted on (needed except for ``fit`` results clustered on
        the entity or time).
    cluster
        The cluster variable (default: the result's, else its entity).

    Returns
    -------
    ClusterDiagnostics

    Raises
    ------
    InvalidParameterError
        An unknown term or cluster; fewer than 2 clusters; a result without a specification.
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
    if cluster is None:
        if len(spec.inference.cluster) > 1:
            raise InvalidParameterError(
                f"the result is clustered on {list(spec.inference.cluster)}; diagnostics are "
                "per one cluster variable\n  Fix: pass cluster='...'"
            )
        cluster = spec.inference.cluster[0] if spec.inference.cluster else spec.entity
    if cluster is None:
        raise InvalidParameterError(
            "the result has no cluster variable or entity\n  Fix: pass cluster='<column>'"
        )
    if data is not None:
        check_dataframe(data)
    k = names.index(term)
    beta = float(result.params[term])
    notes: list[str] = []
    if getattr(result, "regression", None) is not None and spec.function == "fit":
        codes, labels = _fit_codes(result, cluster, data)
        X = result.regression.X
        G = len(labels)
        if G < 2:
            raise InvalidParameterError(
                f"{cluster!r} has {G} cluster(s)\n  Fix: diagnostics need at least 2"
            )
        sizes = np.bincount(codes, minlength=G)
        leverage, partial = _leverages(X, codes, k)
        g_star1 = effective_clusters(X, codes, k, 1.0)
        g_star0 = effective_clusters(X, codes, k, 0.0)
        drops = _jackknife_fit(result, codes, k)
        if spec.options.get("model") not in ("within", "pooled"):
            notes.append(
                f"model={spec.options.get('model')!r}: diagnostics are on the regression the "
                "model runs (transformed data), with any variance components held fixed"
            )
    else:
        if data is None:
            raise InvalidParameterError(
                f"{spec.function}: cluster diagnostics refit the model without each cluster, "
                "so they need the data\n  Fix: pass data= (the DataFrame you fitted)"
            )
        check_columns(data, {"cluster": [cluster]})
        from .randomization import _sample, refit

        frame = _sample(result, data)
        labels = sorted(frame[cluster].dropna().unique().tolist())
        G = len(labels)
        if G < 2:
            raise InvalidParameterError(
                f"{cluster!r} has {G} cluster(s)\n  Fix: diagnostics need at least 2"
            )
        sizes = frame[cluster].value_counts().reindex(labels).to_numpy()
        leverage = partial = np.full(G, np.nan)
        g_star1 = g_star0 = None
        kept = _kept_design(result, cluster, labels)
        if kept is None:
            notes.append(
                f"leverage, partial leverage and G* need the design matrix, which this "
                f"{spec.function} result does not keep (fit() results have them)"
            )
        else:
            X, codes = kept
            leverage, partial = _leverages(X, codes, k)
            g_star1 = effective_clusters(X, codes, k, 1.0)
            g_star0 = effective_clusters(X, codes, k, 0.0)
        drops = np.empty(G)
        for i, label in enumerate(labels):
            try:
                res = refit(result, data[data[cluster] != label])
                drops[i] = float(res.params[term]) if term in res.params.index else np.nan
            except InvalidParameterError:
                drops[i] = np.nan  # e.g. the only treated cluster: not identified without it
    defined = [g for g in (g_star0, g_star1) if g is not None and np.isfinite(g)]
    headline = min(defined) if defined else None
    table = pd.DataFrame(
        {
            "size": sizes.astype(int),
            "leverage": leverage,
            "partial_leverage": partial,
            "beta_drop": drops,
            "influence": drops - beta,
        },
        index=pd.Index(labels, name=cluster),
    )
    if np.isnan(drops).any():
        notes.append(
            f"{int(np.isnan(drops).sum())} cluster(s) cannot be dropped: {term!r} is not "
            "identified without them"
        )
    influence = table["influence"].abs()
    most = influence.idxmax() if influence.notna().any() else None
    return ClusterDiagnostics(
        term=term,
        estimate=beta,
        cluster=cluster,
        n_clusters=G,
        size_min=int(sizes.min()),
        size_median=float(np.median(sizes)),
        size_max=int(sizes.max()),
        effective_clusters=headline,
        effective_clusters_rho0=g_star0,
        effective_clusters_rho1=g_star1,
        table=table,
        most_influential=most,
        max_influence=float(table["influence"][most]) if most is not None else float("nan"),
        notes=notes,
    )
