"""Where a panel's rows come from: the published files, or the synthetic demo world.

The builders of :mod:`icsresearch.panel` ask a :class:`Provider` the same questions whatever the
``source``: the trust-year rows, the systems and trust -> system weights of a footprint, the ICS
covariates, and the trust-month tables of the monthly series, each with its
:class:`~icsresearch.provenance.Provenance` record. Everything after that (trust-type filters,
ICS aggregation, monthly ICS series, column types, documentation, provenance parameters) is done
once, by the panel, for both providers, so code written on the demo runs on the real data.

:class:`RealData` reads the published files through the registry (:mod:`icsresearch.sources`,
:mod:`icsresearch.panel.real`) and caches built panels as Parquet (:mod:`._cache`). Its records
list every file read while a table was made (:func:`icsresearch.data.store.recording`: geography
lookups included), and a table made from a file that is not the registry's says so once per
process per file (:func:`icsresearch.provenance.warn_unverified`).
:class:`DemoData` builds the same tables from :func:`icsresearch.demo.world`, which imports nothing
from the panel: the demo is a source of synthetic rows, and the panel applies the functions of
:mod:`icsresearch.panel.annual` to its monthly tables exactly as to the published ones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

import pandas as pd

from .. import demo, geography
from ..data.store import recording
from ..options import Source, check
from ..provenance import Provenance, of, warn_unverified
from ..schemas import fy_label
from . import real
from ._cache import cached_build
from .annual import ae_annual, beds_annual, discharge_annual, wellbeing_annual
from .columns import INDICATOR_COLUMNS, TRUST_YEAR_COLUMNS
from .monthly import real_ae_months, real_beds_months, real_discharge_months

_WHAT = {"trust_year": "the trust-year panel", "ics_year": "the ICS-year panel"}

#: The monthly series a provider supplies as trust-month tables.
SERIES = ("ae", "beds", "discharge")


class Provider(Protocol):
    """The interface :mod:`icsresearch.panel` builds every table through.

    Attributes
    ----------
    source
        The ``source`` option this provider answers (``"real"`` or ``"demo"``).
    synthetic
        True for the demo world, False for published data: the flag of every record it makes.
    data_source
        The value of the panels' ``data_source`` column.
    """

    source: Source
    synthetic: bool
    data_source: str

    def trust_year(
        self, footprint: int, method: str, harmonise_to: str
    ) -> tuple[pd.DataFrame, list[dict[str, Any]], Provenance]:
        """Trust-year rows in ``TRUST_YEAR_COLUMNS`` order, the code mapping applied, the record."""
        ...

    def icbs(self, footprint: int) -> pd.DataFrame:
        """The systems of a footprint (:func:`icsresearch.geography.icbs`)."""
        ...

    def weights(self, footprint: int, method: str) -> pd.DataFrame:
        """Trust -> system weights (:func:`icsresearch.geography.trust_ics_weights`)."""
        ...

    def covariates(self, footprint: int) -> tuple[pd.DataFrame, Provenance]:
        """Population, deprivation and health per system of the footprint, and the record."""
        ...

    def trust_months(self, series: str, option: str) -> tuple[pd.DataFrame, Provenance]:
        """The trust-month table of one monthly series (``SERIES``), and the record."""
        ...

    def cached(
        self,
        kind: str,
        params: dict[str, Any],
        build: Callable[[], pd.DataFrame],
        use_cache: bool,
    ) -> pd.DataFrame:
        """``build()``, or the table a previous build with the same inputs and options stored."""
        ...


class RealData:
    """The published files, read through the registry; built panels are cached as Parquet."""

    source: Source = "real"
    synthetic = False
    data_source = "published NHS data"

    def trust_year(
        self, footprint: int, method: str, harmonise_to: str
    ) -> tuple[pd.DataFrame, list[dict[str, Any]], Provenance]:
        panel, mapping, inputs = real.trust_year(footprint, method, harmonise_to)
        return panel, mapping.to_dict("records"), self._record(inputs)

    def icbs(self, footprint: int) -> pd.DataFrame:
        return geography.icbs(footprint)

    def weights(self, footprint: int, method: str) -> pd.DataFrame:
        return geography.trust_ics_weights(method, footprint)

    def covariates(self, footprint: int) -> tuple[pd.DataFrame, Provenance]:
        table, inputs = real.ics_covariates(footprint)
        return table, self._record(inputs)

    def trust_months(self, series: str, option: str) -> tuple[pd.DataFrame, Provenance]:
        with recording() as log:  # the files behind the trust-month table, from memory or not
            table, _ = {
                "ae": lambda: real_ae_months(option),
                "beds": lambda: real_beds_months(option),
                "discharge": real_discharge_months,
            }[series]()
        return table.copy(), self._record(log.inputs())

    def cached(
        self,
        kind: str,
        params: dict[str, Any],
        build: Callable[[], pd.DataFrame],
        use_cache: bool,
    ) -> pd.DataFrame:
        def complete() -> pd.DataFrame:
            # Whatever the build read (the systems and weights of the ICS panel too) is in the
            # record that is cached with the panel.
            with recording() as log:
                panel = build()
            panel.attrs["provenance"] = of(panel).with_inputs(log.inputs())
            return panel

        panel = cached_build(kind, params, complete, use_cache=use_cache)
        warn_unverified(of(panel), _WHAT.get(kind, f"the {kind} panel"))
        return panel

    def _record(self, inputs) -> Provenance:
        return Provenance.record(synthetic=False, inputs=inputs)


class DemoData:
    """The synthetic demo world (:mod:`icsresearch.demo`): fictional organisations, no files."""

    source: Source = "demo"
    synthetic = True

    data_source = demo.SYNTHETIC

    def trust_year(
        self, footprint: int, method: str, harmonise_to: str
    ) -> tuple[pd.DataFrame, list[dict[str, Any]], Provenance]:
        # harmonise_to="latest" is honoured, not ignored: the demo's trusts never merge, so no
        # code has a successor and the mapping applied is empty.
        panel = _demo_trust_years(demo.world()).copy()
        weights = demo.demo_weights(footprint, method).drop_duplicates("trust_code")
        weights = weights.set_index("trust_code")
        panel["icb_code"] = panel["trust_code"].map(weights["icb_code"])
        panel["icb_weight"] = panel["trust_code"].map(weights["weight"])
        names = demo.demo_icbs(footprint).set_index("icb_code")["icb_name"]
        panel["icb_name"] = panel["icb_code"].map(names)
        panel = (
            panel[[c.name for c in TRUST_YEAR_COLUMNS]]
            .sort_values(["trust_code", "year"])
            .reset_index(drop=True)
        )
        return panel, [], self._record()

    def icbs(self, footprint: int) -> pd.DataFrame:
        return demo.demo_icbs(footprint)

    def weights(self, footprint: int, method: str) -> pd.DataFrame:
        return demo.demo_weights(footprint, method)

    def covariates(self, footprint: int) -> tuple[pd.DataFrame, Provenance]:
        return demo.world().covariates[footprint].copy(), self._record()

    def trust_months(self, series: str, option: str) -> tuple[pd.DataFrame, Provenance]:
        table = {
            "ae": lambda: demo.demo_ae_monthly_trust(option),
            "beds": lambda: demo.demo_beds_monthly_trust(option),
            "discharge": demo.demo_discharge_monthly_trust,
        }[series]()
        return table, self._record()

    def cached(
        self,
        kind: str,
        params: dict[str, Any],
        build: Callable[[], pd.DataFrame],
        use_cache: bool,
    ) -> pd.DataFrame:
        # The demo is generated in about a second and held in memory: nothing to cache on disk.
        return build()

    def _record(self) -> Provenance:
        return demo.record()


_PROVIDERS: dict[str, Provider] = {"real": RealData(), "demo": DemoData()}


def get(source: Source) -> Provider:
    """The provider of a ``source`` option.

    Parameters
    ----------
    source
        ``"real"`` (published files) or ``"demo"`` (synthetic demo world).

    Returns
    -------
    Provider
        :class:`RealData` or :class:`DemoData`.
    """
    return _PROVIDERS[check("source", source, Source)]


@functools.lru_cache(maxsize=1)
def _demo_trust_years(world: demo.DemoWorld) -> pd.DataFrame:
    """The demo's trust-years with the panel's annual columns, before any footprint is chosen.

    Keyed by the world object (one per seed), so a regenerated world is never served stale rows.
    """
    keys = ["trust_code", "year"]
    panel = world.values.drop(columns=[c for c in world.values if c.startswith("_")])
    general_acute = world.beds_monthly[world.beds_monthly["bed_type"] == "general_acute"]
    for part in (
        ae_annual(demo.ae_all_types(world.ae_monthly)),
        beds_annual(general_acute.drop(columns="bed_type")),
        discharge_annual(world.discharge_monthly),
        wellbeing_annual(world.wellbeing),
    ):
        replaced = [c for c in part if c in panel and c not in keys]
        panel = panel.drop(columns=replaced).merge(part, on=keys, how="left")
    # Delayed discharges per 100 occupied G&A beds: its documented ratio of two panel columns.
    occupied = panel["ga_beds_occupied"].where(panel["ga_beds_occupied"] > 0)
    panel["delayed_per_100_ga_beds"] = 100 * panel["ctr_remaining_per_day"] / occupied
    panel = panel.merge(world.trusts, on="trust_code", how="left")
    panel["fy"] = panel["year"].map(fy_label)
    panel["data_source"] = demo.SYNTHETIC
    indicators = [c.name for c in INDICATOR_COLUMNS if c.name in panel]
    return panel.dropna(subset=indicators, how="all").reset_index(drop=True)
