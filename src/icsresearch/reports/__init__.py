"""Per-ICS reports: the report notebook's numbers and a papermill batch that scales out.

* :mod:`.params` - parameters validated against the reference geography
  (:func:`validate_report_parameters`).
* :mod:`.profile` - the numbers behind a report (who the system is, funnel tables, England and
  region comparators, management and staffing).
* :mod:`.figures`, :mod:`.display` - report figures and tables in the house style.
* :mod:`.batch` - :func:`run_batch`: execute the report notebook (``templates/ics_profile.ipynb``,
  shipped in the package) per system with papermill on local workers or a Dask cluster, write
  HTML, figures, manifests and an index.
* :mod:`.command` - the ``icsresearch reports`` command.

Everything loads on first use (``import icsresearch.reports`` imports nothing heavy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "ReportParameters": ".params",
    "validate_report_parameters": ".params",
    "valid_codes": ".params",
    "run_batch": ".batch",
    "BatchResult": ".batch",
    "ReportOutcome": ".executor",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from .batch import BatchResult, run_batch  # noqa: F401
    from .executor import ReportOutcome  # noqa: F401
    from .params import ReportParameters, valid_codes, validate_report_parameters  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'icsresearch.reports' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
