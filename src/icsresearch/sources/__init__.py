"""Readers for the published NHS files, one module per source.

Each reader takes an optional ``path`` (a user-supplied file in the published layout, read without
the hash check) and returns a tidy DataFrame whose ``attrs`` document every column and record where
the data came from (``attrs["provenance"]``, a :class:`~icsresearch.provenance.Provenance` of the
one file read). :func:`read` dispatches by registry name; :func:`schema` returns a reader's
column documentation without reading anything.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from ..data.registry import get

if TYPE_CHECKING:
    import pandas as pd

    from ..schemas import Schema


def _reader_parts(name: str) -> tuple[str, str]:
    module, func = get(name).reader.split(":")
    return f"{__name__}.{module}", func


def read(name: str, path: str | Path | None = None) -> pd.DataFrame:
    """Read registry file ``name`` into its tidy table (``path`` overrides the registry copy).

    Parameters
    ----------
    name
        Registry name (see ``icsresearch data list``).
    path
        A user-supplied file in the published layout, read without the hash check.

    Returns
    -------
    pandas.DataFrame
        The reader's tidy table; ``attrs`` document the columns and record the file's origin.

    Examples
    --------
    >>> from icsresearch.sources import read
    >>> rtt = read("hm_rtt")  # doctest: +SKIP
    >>> rtt.attrs["columns"]["rtt_18wk_pct"]["unit"]  # doctest: +SKIP
    '%'
    """
    import inspect

    module, func = _reader_parts(name)
    reader = getattr(importlib.import_module(module), func)
    # One reader may serve a family of files (one SitRep workbook per month): it says which.
    if "dataset" in inspect.signature(reader).parameters:
        return reader(path, dataset=name)
    return reader(path)


def schema(name: str) -> Schema:
    """The column documentation of registry file ``name``'s reader.

    Parameters
    ----------
    name
        Registry name (see ``icsresearch data list``).

    Returns
    -------
    Schema
        The columns the reader returns, with label, unit, description and year convention;
        nothing is read.
    """
    from ..schemas import Schema

    module, _ = _reader_parts(name)
    mod = importlib.import_module(module)
    for value in vars(mod).values():
        if isinstance(value, Schema) and value.covers(name):
            return value
    raise LookupError(f"{module} declares no Schema for {name!r}")  # a bug in the reader module
