"""Replications of published findings: the paper's claims, the analysis and a verdict per claim.

Each replication has a paper entry (``papers/<id>.md``), a notebook
(``icsresearch/replications/notebooks/<id>.ipynb``, shipped in the package) and its analysis
code here:

- :mod:`.asaria2022` - management and hospital performance (real data);
- :mod:`.griffiths2016` - nurse staffing and mortality (real data);
- :mod:`.mchugh2021` with :mod:`.simulate_mchugh` - ratio legislation (simulated design).

``icsresearch replicate <id> --out DIR`` runs one (:func:`.runner.run_replication`);
:mod:`.comparison` holds the claims and verdicts. Submodules load on use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .registry import REPLICATIONS, Replication, get_replication

_LAZY = {
    "run_replication": (".runner", "run_replication"),
    "write_outputs": (".runner", "write_outputs"),
    "Claim": (".comparison", "Claim"),
    "VERDICTS": (".comparison", "VERDICTS"),
    "render_comparison": (".comparison", "render_comparison"),
}

__all__ = ["REPLICATIONS", "Replication", "get_replication", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module, __name__), attr)
    raise AttributeError(f"module 'icsresearch.replications' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
