"""Logit and Poisson regressions with fixed effects, fitted on collapsed cells when exact.

``fit_glm(data, "died ~ band + age_group + sex", family="logit", fixed_effects=["hospital",
"period"], cluster="hospital")`` collapses patient rows to cells of identical covariates when every
regressor is discrete, which gives the row-level estimates and standard errors (model-based,
robust and clustered) from a few thousand cells instead of millions of rows. ``data`` may also be
a Parquet file, a folder of Parquet files or a ``pyarrow`` dataset, collapsed chunk by chunk
(``scheduler=`` spreads the files over Dask workers): see :mod:`.stream`.
"""

from __future__ import annotations

from .collapse import DEFAULT_MAX_LEVELS, is_discrete
from .model import fit_glm

__all__ = ["DEFAULT_MAX_LEVELS", "fit_glm", "is_discrete"]
