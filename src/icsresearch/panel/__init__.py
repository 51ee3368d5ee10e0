"""Trust-year and ICS-year panels, and monthly A&E, from real or synthetic demo data.

>>> from icsresearch.panel import trust_year_panel, ics_year_panel
>>> trusts = trust_year_panel(source="demo")            # no network, no files needed
>>> trusts.ics.docs.head()                               # doctest: +SKIP
>>> real = trust_year_panel(source="real", trust_types=["acute non-specialist"])  # doctest: +SKIP

Every panel carries its documentation and provenance in ``DataFrame.attrs`` and through the
``.ics`` accessor: ``df.ics.docs`` (label, unit, source, year convention, aggregation rule per
column), ``df.ics.provenance`` (inputs with sha256, parameters, versions, git revision) and
``df.ics.label("shmi")``.

Real panels are cached as Parquet under ``<cache>/panels/``, keyed by the sha256 of every input
file, the options and the package version: a changed input or option rebuilds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from .. import geography
from ..errors import InvalidParameterError
from .accessor import IcsAccessor  # noqa: F401  (registers the .ics accessor)
from .columns import ICS_YEAR_COLUMNS, TRUST_YEAR_COLUMNS, conform, docs

Source = Literal["demo", "real"]
SOURCES = ("demo", "real")
SYNTHETIC_NOTE = "synthetic demo data"

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


def _check_source(source: str) -> str:
    if source not in SOURCES:
        raise InvalidParameterError(
            f"source={source!r} is not known; use 'demo' (synthetic, offline) or 'real' (published files)."
        )
    return source


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


def trust_year_panel(
    source: Source = "real",
    *,
    footprint: geography.Footprint | str = 2022,
    method: geography.TrustIcsMethod = "headquarters",
    harmonise_to: geography.HarmoniseTo = "as_reported",
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
        ICS footprint for ``icb_code``: 2022 (42 ICBs) or 2026 (36 ICBs).
    method
        Trust-to-ICS method for the main ICS: ``"headquarters"``, ``"catchment"`` or
        ``"ae_activity"`` (see :mod:`icsresearch.geography`).
    harmonise_to
        ``"as_reported"`` keeps each year's codes; ``"latest"`` recodes merged trusts to their
        latest code and combines their rows (sums for counts, volume-weighted means for rates);
        the mapping applied is in ``attrs["code_mapping"]``.
    trust_types
        Keep only these types (e.g. ``["acute non-specialist"]``).
    cache
        Reuse a cached build when inputs and options are unchanged.

    Returns
    -------
    pandas.DataFrame
        Columns documented in ``attrs["columns"]`` / ``df.ics.docs``.
    """
    _check_source(source)
    fp = geography.check_footprint(footprint)
    geography.check_method(method)
    if harmonise_to not in ("as_reported", "latest"):
        raise InvalidParameterError(
            f"harmonise_to={harmonise_to!r}: use 'as_reported' or 'latest'."
        )
    types = _check_types(trust_types)
    params = {"source": source, "footprint": fp, "method": method, "harmonise_to": harmonise_to}
    if source == "demo":
        from ..demo import demo_trust_year

        panel = demo_trust_year(footprint=fp, method=method)
    else:
        from ._cache import cached_build
        from .real import trust_year

        def build():
            panel, mapping, inputs = trust_year(fp, method, harmonise_to)
            return panel, {"inputs": inputs, "code_mapping": mapping.to_dict("records")}

        panel = cached_build("trust_year", params, build, use_cache=cache)
    if types is not None:
        attrs = panel.attrs
        panel = panel[panel["trust_type"].isin(types)]
        panel.attrs = attrs
    panel = conform(panel, TRUST_YEAR_COLUMNS)
    panel.attrs["parameters"] = {**params, "trust_types": types}
    return panel


def ics_year_panel(
    source: Source = "real",
    *,
    footprint: geography.Footprint | str = 2022,
    method: geography.TrustIcsMethod = "headquarters",
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
    _check_source(source)
    fp = geography.check_footprint(footprint)
    geography.check_method(method)
    types = _check_types(trust_types)
    params = {"source": source, "footprint": fp, "method": method, "trust_types": types}
    if source == "demo":
        from ..demo import demo_ics_year

        panel = conform(
            demo_ics_year(footprint=fp, method=method, trust_types=types), ICS_YEAR_COLUMNS
        )
        panel.attrs["parameters"] = params
        return panel
    from ._cache import cached_build
    from .ics import build_ics_year
    from .real import REAL_DATA, ics_covariates

    def build():
        trusts = trust_year_panel(
            "real", footprint=fp, method=method, trust_types=types, cache=cache
        )
        weights = geography.trust_ics_weights(method, fp)
        covariates, cov_inputs = ics_covariates(fp)
        panel = build_ics_year(trusts, weights, geography.icbs(fp), covariates, REAL_DATA)
        trust_inputs = trusts.attrs.get("provenance", {}).get("inputs", [])
        return panel, {"inputs": list(trust_inputs) + cov_inputs}

    panel = conform(cached_build("ics_year", params, build, use_cache=cache), ICS_YEAR_COLUMNS)
    panel.attrs["parameters"] = params
    return panel


def _check_monthly(source: str, level: str, footprint, method: str) -> int:
    _check_source(source)
    fp = geography.check_footprint(footprint)
    geography.check_method(method)
    if level not in ("trust", "ics"):
        raise InvalidParameterError(f"level={level!r}: use 'trust' or 'ics'.")
    return fp


def ae_monthly(
    source: Source = "real",
    *,
    level: Literal["trust", "ics"] = "trust",
    footprint: geography.Footprint | str = 2022,
    method: geography.TrustIcsMethod = "headquarters",
    department: Literal["all", "type1"] = "all",
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
    fp = _check_monthly(source, level, footprint, method)
    if department not in ("all", "type1"):
        raise InvalidParameterError(f"department={department!r}: use 'all' or 'type1'.")
    from .monthly import monthly

    return monthly("ae", source, level, fp, method, department)


def beds_monthly(
    source: Source = "real",
    *,
    level: Literal["trust", "ics"] = "trust",
    footprint: geography.Footprint | str = 2022,
    method: geography.TrustIcsMethod = "headquarters",
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
    fp = _check_monthly(source, level, footprint, method)
    from .monthly import monthly

    return monthly("beds", source, level, fp, method, bed_type)


def discharge_monthly(
    source: Source = "real",
    *,
    level: Literal["trust", "ics"] = "trust",
    footprint: geography.Footprint | str = 2022,
    method: geography.TrustIcsMethod = "headquarters",
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
    fp = _check_monthly(source, level, footprint, method)
    from .monthly import monthly

    return monthly("discharge", source, level, fp, method, "")
