"""Few-cluster inference for every estimator.

ICS research has few clusters by construction (42 systems, 36 from April 2026, 7 regions, a
handful of treated systems). This subpackage holds what a referee asks for beyond the
cluster-robust covariances of each estimator:

- :mod:`.wild` -- the wild cluster bootstrap (restricted and unrestricted, Rademacher and Webb,
  one- and two-way, joint tests, test-inversion intervals) for ``fit``, ``fit_hdfe``,
  ``did_2x2`` and ``event_study``;
- :mod:`.score` -- the score bootstrap for ``fit_glm`` logit and Poisson;
- :mod:`.randomization` -- randomization inference permuting treatment across systems,
  respecting adoption timing;
- :mod:`.diagnostics` -- effective number of clusters, leverage, partial leverage and
  leave-one-cluster-out estimates;
- :mod:`.audit` -- :func:`inference_audit`: the applicable methods side by side, with a one-line
  verdict.

See docs/inference.md and docs/few-clusters.md.
"""

from .audit import InferenceAudit, inference_audit
from .diagnostics import ClusterDiagnostics, cluster_diagnostics, effective_clusters
from .randomization import (
    RandomizationResult,
    count_assignments,
    enumerate_assignments,
    randomization_inference,
    refit,
)
from .score import ScoreData, score_bootstrap
from .wild import WildBootstrapResult, WildData, wild_bootstrap, wild_bootstrap_arrays

__all__ = [
    "ClusterDiagnostics",
    "InferenceAudit",
    "RandomizationResult",
    "ScoreData",
    "WildBootstrapResult",
    "WildData",
    "cluster_diagnostics",
    "count_assignments",
    "effective_clusters",
    "enumerate_assignments",
    "inference_audit",
    "randomization_inference",
    "refit",
    "score_bootstrap",
    "wild_bootstrap",
    "wild_bootstrap_arrays",
]
