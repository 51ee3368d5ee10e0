"""Trust-year and ICS-year panels, and monthly A&E, from real or synthetic demo data.

>>> from icsresearch.panel import trust_year_panel, ics_year_panel
>>> trusts = trust_year_panel(source="demo")            # no network, no files needed
>>> trusts.ics.docs.head()                               # doctest: +SKIP
>>> real = trust_year_panel(source="real", trust_types=["acute non-specialist"])  # doctest: +SKIP

Every panel carries its documentation and provenance in ``DataFrame.attrs`` and through the
``.ics`` accessor: ``df.ics.docs`` (label, unit, source, year convention, aggregation rule per
column), ``df.ics.provenance`` (the typed :class:`~icsresearch.provenance.Provenance` record:
inputs with sha256, parameters, versions, git revision, and whether the data are synthetic) and
``df.ics.label("shmi")``.

The rows come from one of two providers behind one interface (:mod:`.providers`): the published
files (``source="real"``) or the synthetic demo world (``source="demo"``). Everything else (the
trust-type filter, ICS aggregation, monthly ICS series, column types and documentation) is done
here, once, for both. Options are checked against their types in :mod:`icsresearch.options`.

Real panels are cached as Parquet under ``<cache>/panels/``, keyed by the sha256 of every input
file, the options and the package version: a changed input or option rebuilds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .. import geography
from .._meta import share
from ..errors import InvalidParameterError
from ..options import (
    Department,
    Footprint,
    HarmoniseTo,
    Level,
    Source,
    TrustIcsMethod,
    check,
    check_bool,
)
from ..provenance import Provenance, of
from . import providers
from .accessor import IcsAccessor  # noqa: F401  (registers the .ics accessor)
from .columns import ICS_YEAR_COLUMNS, TRUST_YEAR_COLUMNS, attrs_for, conform, docs
from .ics import build_ics_year
from .monthly import monthly

__all__ = [
    "ICS_YEAR_COLUMNS",
    "TRUST_YEAR_COLUMNS",
    "ae_monthly",
    "beds_monthly",
    "discharge_monthly",
    "docs",
    "ics_year_panel",
    "trust_year_panel",
]

_COLUMNS = {"trust_year": TRUST_YEAR_COLUMNS, "ics_year": ICS_YEAR_COLUMNS}


def _check_types(trust_types: Sequence[str] | None) -> list[str] | None:
    if trust_types is None:
        return None
    if isinstance(trust_types, str):
        trust_types = [trust_types]
    bad = [t for t in trust_types if t not in geography.TRUST_TYPES]
    if bad:
        raise InvalidParameterError(
            f"trust_types {bad} not known; choose from {list(geography.TRUST_TYPES)}."
        )
    return list(trust_types)


def _documented(panel: pd.DataFrame, kind: str, record: Provenance, **extra: Any) -> pd.DataFrame:
    """``panel`` with its column documentation and provenance record in ``attrs``."""
    panel.attrs = {
        "kind": kind,
        "columns": attrs_for(_COLUMNS[kind]),
        "provenance": record,
        # the record's flag, copied for code that reads attrs["synthetic"] (reports, the CLI)
        "synthetic": record.synthetic,
        **extra,
    }
    return panel


def _with_parameters(panel: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Record the options a panel was made with, in its provenance and ``attrs["parameters"]``."""
    record = of(panel)
    attrs = dict(panel.attrs)
    attrs["provenance"] = dataclasses.replace(record, parameters={**record.parameters, **params})
    attrs["parameters"] = params  # the same options, where `icsresearch panel build` reads them
    panel.attrs = share(attrs)
    return panel


def trust_year_panel(
    source: Source = "real",
    *,
    footprint: Footprint = 2022,
    method: TrustIcsMethod = "headquarters",
    harmonise_to: HarmoniseTo = "as_reported",
    trust_types: Sequence[str] | None = None,
    cache: bool = True,
) -> pd.DataFrame:
    """One row per trust and financial year (2012/13 onward), with every indicator.

    Parameters
    ----------
    source
        ``"real"`` (published files through the registry) or ``"demo"`` (the seeded synthetic
        dataset: fictional trusts and systems).
    footprint
        ICS footprint for ``icb_code``: 2022 (42 ICBs) or 2026 (36 ICBs); ``"2026"`` is read as
        2026.
    method
        Trust-to-ICS method for the main ICS: ``"headquarters"``, ``"catchment"`` or
        ``"ae_activity"`` (see :mod:`icsresearch.geography`).
    harmonise_to
        ``"as_reported"`` keeps each year's codes; ``"latest"`` recodes merged trusts to their
        latest code and combines their rows (sums for counts, volume-weighted means for rates);
        the mapping applied is in ``attrs["code_mapping"]`` (empty for the demo, whose fictional
        trusts never merge).
    trust_types
        Keep only these types (e.g. ``["acute non-specialist"]``).
    cache
        Reuse a cached build when inputs and options are unchanged (real data; the demo is
        generated in memory).

    Returns
    -------
    pandas.DataFrame
        Columns documented in ``attrs["columns"]`` / ``df.ics.docs``; the provenance record in
        ``df.ics.provenance``.
    """
    src = check("source", source, Source)
    fp = check("footprint", footprint, Footprint)
    meth = check("method", method, TrustIcsMethod)
    harmonise = check("harmonise_to", harmonise_to, HarmoniseTo)
    types = _check_types(trust_types)
    use_cache = check_bool("cache", cache)
    provider = providers.get(src)
    params = {"source": src, "footprint": fp, "method": meth, "harmonise_to": harmonise}

    def build() -> pd.DataFrame:
        panel, mapping, record = provider.trust_year(fp, meth, harmonise)
        return _documented(panel, "trust_year", record, code_mapping=mapping)

    panel = provider.cached("trust_year", params, build, use_cache)
    if types is not None:
        attrs = panel.attrs
        panel = panel[panel["trust_type"].isin(types)]
        panel.attrs = attrs
    panel = conform(panel, TRUST_YEAR_COLUMNS)
    return _with_parameters(panel, {**params, "trust_types": types})


def ics_year_panel(
    source: Source = "real",
    *,
    footprint: Footprint = 2022,
    method: TrustIcsMethod = "headquarters",
    trust_types: Sequence[str] | None = None,
    cache: bool = True,
) -> pd.DataFrame:
    """One row per ICS and financial year: trust indicators aggregated with the method's weights.

    Counts are summed (each trust multiplied by its ICS weight), rates are weighted means
    (ICS weight x the volume named in the column's rule), shares are recomputed from summed
    numerators and denominators; population and deprivation come from LSOA data. The rule for
    each column is in ``df.ics.docs["aggregation"]``.

    Parameters
    ----------
    source
        ``"real"`` (published files through the registry) or ``"demo"`` (the seeded synthetic
        dataset: fictional systems).
    footprint
        2022 (42 ICBs) or 2026 (36 ICBs).
    method
        How trusts are shared among ICSs: ``"headquarters"``, ``"catchment"`` or
        ``"ae_activity"`` (see :mod:`icsresearch.geography`).
    trust_types
        Aggregate only these trust types (e.g. ``["acute non-specialist"]``).
    cache
        Reuse a cached build when inputs and options are unchanged.

    Returns
    -------
    pandas.DataFrame
        Every ICS in every year (``n_trusts`` is 0 where no trust reports); columns documented
        in ``df.ics.docs``.

    Examples
    --------
    >>> from icsresearch.panel import ics_year_panel
    >>> ics = ics_year_panel("demo")
    >>> ics["icb_code"].nunique(), ics.ics.synthetic
    (42, True)
    """
    src = check("source", source, Source)
    fp = check("footprint", footprint, Footprint)
    meth = check("method", method, TrustIcsMethod)
    types = _check_types(trust_types)
    use_cache = check_bool("cache", cache)
    provider = providers.get(src)
    params = {"source": src, "footprint": fp, "method": meth, "trust_types": types}

    def build() -> pd.DataFrame:
        trusts = trust_year_panel(
            src, footprint=fp, method=meth, trust_types=types, cache=use_cache
        )
        covariates, covariates_record = provider.covariates(fp)
        panel = build_ics_year(
            trusts,
            provider.weights(fp, meth),
            provider.icbs(fp),
            covariates,
            provider.data_source,
        )
        return _documented(panel, "ics_year", of(trusts).combine(covariates_record))

    panel = conform(provider.cached("ics_year", params, build, use_cache), ICS_YEAR_COLUMNS)
    return _with_parameters(panel, params)


def _check_monthly(source, level, footprint, method) -> tuple[providers.Provider, str, int, str]:
    return (
        providers.get(source),
        check("level", level, Level),
        check("footprint", footprint, Footprint),
        check("method", method, TrustIcsMethod),
    )


def ae_monthly(
    source: Source = "real",
    *,
    level: Level = "trust",
    footprint: Footprint = 2022,
    method: TrustIcsMethod = "headquarters",
    department: Department = "all",
) -> pd.DataFrame:
    """Monthly A&E by trust or ICS: April 2016 - March 2019 and April 2021 - July 2025.

    No trust-level file covers April 2019 - March 2021: those months are absent (a gap, not
    zeros), and charts drawn from this table show it as a gap.

    Parameters
    ----------
    source
        ``"real"`` (NHS England monthly A&E) or ``"demo"`` (synthetic, with planted special
        causes for SPC charts to find).
    level
        ``"trust"`` or ``"ics"`` (trust counts shared among ICSs by the method's weights).
    footprint
        2022 or 2026 (for ``level="ics"``).
    method
        Trust-to-ICS method for ``level="ics"``.
    department
        ``"all"`` department types, or ``"type1"`` (major emergency departments) only; the
        2021-2025 file gives all types together, so ``"type1"`` ends in March 2019.

    Returns
    -------
    pandas.DataFrame
        trust_code (or icb_code), period (first day of the month), year, attendances,
        over_4hr (attendances over 4 hours), admissions, within_4hr_pct (100 x (1 - over_4hr/attendances)
        over the trusts reporting over-4-hour counts that month).

    Examples
    --------
    >>> from icsresearch.panel import ae_monthly
    >>> ae = ae_monthly("demo", level="ics")
    >>> ae["period"].min().strftime("%Y-%m"), ae["period"].max().strftime("%Y-%m")
    ('2016-04', '2025-07')
    """
    provider, lvl, fp, meth = _check_monthly(source, level, footprint, method)
    dept = check("department", department, Department)
    return monthly("ae", provider, lvl, fp, meth, dept)


def beds_monthly(
    source: Source = "real",
    *,
    level: Level = "trust",
    footprint: Footprint = 2022,
    method: TrustIcsMethod = "headquarters",
    bed_type: str = "general_acute",
) -> pd.DataFrame:
    """Monthly beds available and occupied by trust or ICS, April 2022 - August 2025.

    Parameters
    ----------
    source
        ``"real"`` (NHS England bed SitRep via healthyr) or ``"demo"``.
    level
        ``"trust"`` or ``"ics"``.
    footprint
        2022 or 2026 (for ``level="ics"``).
    method
        Trust-to-ICS method for ``level="ics"``.
    bed_type
        ``"general_acute"`` (default), ``"adult_general_acute"``, ``"paediatric_general_acute"``,
        ``"adult_critical_care"``, ``"paediatric_intensive_care"`` or
        ``"neonatal_intensive_care"``.

    Returns
    -------
    pandas.DataFrame
        trust_code (or icb_code), period, year, beds_available, beds_occupied (monthly averages
        of daily counts), occupancy_pct.
    """
    provider, lvl, fp, meth = _check_monthly(source, level, footprint, method)
    return monthly("beds", provider, lvl, fp, meth, bed_type)


def discharge_monthly(
    source: Source = "real",
    *,
    level: Level = "trust",
    footprint: Footprint = 2022,
    method: TrustIcsMethod = "headquarters",
) -> pd.DataFrame:
    """Monthly discharge delays by trust or ICS, April 2022 - August 2025.

    Parameters
    ----------
    source
        ``"real"`` (NHS England discharge SitRep via healthyr) or ``"demo"``.
    level
        ``"trust"`` or ``"ics"``.
    footprint
        2022 or 2026 (for ``level="ics"``).
    method
        Trust-to-ICS method for ``level="ics"``.

    Returns
    -------
    pandas.DataFrame
        trust_code (or icb_code), period, year, days_reported, patients_per_day (no longer
        meeting the criteria to reside), discharged_per_day, remaining_per_day (delayed),
        discharged_pct.
    """
    provider, lvl, fp, meth = _check_monthly(source, level, footprint, method)
    return monthly("discharge", provider, lvl, fp, meth, "")
