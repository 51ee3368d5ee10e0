"""The embedded synthetic demo dataset: the default for ``make demo`` and the report batch.

The demo is one of the two providers behind :mod:`icsresearch.panel` (the published files are
the other; see :mod:`icsresearch.panel.providers`): this package generates the world (fictional
organisations, their yearly values and monthly tables) and imports nothing from the panel; the
panel builds the demo's trust-year, ICS-year and monthly tables from it with the functions it
applies to the published files, and marks them synthetic in their provenance.

Generated from a fixed seed (:data:`SEED`) and summary figures of the real panels
(``calibration.json``: means, spreads, between/within-trust variance shares, year trends and the
years each indicator is published, monthly seasonality of A&E, G&A occupancy and delayed
discharges, numbers of trusts per system and region, system populations, deprivation and health),
so it has the same columns, types and years as the real panels and similar variation, but
**fictional organisations**: 7 regions (codes ZR1-ZR7), 42 systems (ZQ01-ZQ42; 36 in the 2026
footprint after six fictional mergers, ZN01-ZN06) and about 240 trusts (ZZ101...). Every table
carries ``data_source = "synthetic demo data"`` and every figure says so. The fictional trusts
never merge, so ``harmonise_to="latest"`` keeps every code (the mapping applied is empty).

Like the real data, the trust-year panel covers 2012/13-2018/19, 2019/20 (the indicators the real
data have then) and 2021/22-2024/25. The ICS-era columns are built from the demo's own monthly
tables with the real panel's functions (:func:`icsresearch.panel.real.ae_annual`,
``beds_annual``, ``discharge_annual``, ``wellbeing_annual``), so the annual panel is the sum of
the monthly series: A&E by trust and month (April 2016 - March 2019 by department type, April
2021 - July 2025 all types together; no months in between, as in the published files), beds by
trust, month and bed type and the discharge SitRep (April 2022 - August 2025).

Planted effects (acute non-specialist trusts; see :data:`PLANTED`), so notebooks show the
estimators recovering them:

* **Managers FTE has no effect** on any outcome within a trust. Managers grow with trust size,
  and outcomes are correlated with size as in the real data, so pooled and between estimates
  can show associations that the within (fixed-effects) estimate does not.
* **Management quality helps**: +0.30 percentage points of A&E 4-hour share and +0.20 points of
  RTT 18-week share per point of the 0-100 staff-survey management score, and -0.4% SHMI per
  point, both between and within trusts. The A&E effect acts on the trusts' latent A&E
  performance, so it is in both ``ae_4hr_pct_compiled`` (2012/13-2018/19, the longer series and
  the one to estimate it from) and the count-based ``ae_4hr_pct`` (2016/17-2018/19 overlap the
  management score).
* **Staffing and mortality** (in the spirit of Griffiths et al. 2016): SHMI is multiplied by 1.20
  per extra occupied bed per registered nurse, 1.08 per extra bed per doctor and 0.95 per extra
  bed per support worker (trust-level staffing traits).
* **Monthly A&E, 2016-2019**: two trusts (ZZ101, ZZ102) step up by 6 points of type-1 4-hour
  share from October 2017 and one (ZZ103) declines by 0.8 points a month through 2018: special
  causes an SPC chart should flag.
* **ICS era** (for SPC charts of 2024/25): every acute trust of system ZQ09 drops 8 points of
  4-hour share (all department types) from November 2023; trust ZZ129, the only acute trust of
  ZQ10, runs its general & acute beds at 97.5% occupancy from November 2022 (88% before);
  every acute trust of ZQ14 has 35% fewer patients delayed in hospital (no longer meeting the
  criteria to reside) from April 2024. The trusts of these systems keep their yearly levels
  from 2021/22 on (no within-trust year-to-year noise), so the planted change is what their
  charts show.

As in the real data, about one acute trust in nine reports no attendances over 4 hours from
April 2021 to May 2023 (the field-test sites of the new A&E standards): their ``over_4hr`` is
missing and their ``ae_4hr_completeness_pct`` below 100. The months the real files publish as
copies of other months, which the readers blank for every trust (A&E February and March 2025,
beds July and August 2022; ``calibration.json``), are rows with missing counts here too.
"""

from __future__ import annotations

import pandas as pd

from ..errors import InvalidParameterError
from ..provenance import Provenance
from .generate import BED_TYPES, PLANTED, SEED, SYNTHETIC, DemoWorld, ae_all_types, world

__all__ = [
    "PLANTED",
    "SEED",
    "SYNTHETIC",
    "DemoWorld",
    "demo_ae_monthly_trust",
    "demo_beds_monthly_trust",
    "demo_discharge_monthly_trust",
    "demo_icbs",
    "demo_trusts",
    "demo_weights",
    "record",
    "world",
]


def record() -> Provenance:
    """The provenance of everything the demo makes: synthetic, its seed and planted effects.

    Returns
    -------
    Provenance
        ``synthetic=True``, no input files (nothing published is read), ``parameters`` the seed,
        ``extra`` the data label and :data:`PLANTED`.
    """
    return Provenance.record(
        synthetic=True,
        parameters={"seed": SEED},
        extra={"data": SYNTHETIC, "planted_effects": PLANTED},
    )


def _marked(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the demo's provenance in ``attrs``: every table the demo hands out says so."""
    df.attrs = {"synthetic": True, "provenance": record()}
    return df


def demo_icbs(footprint: int = 2022) -> pd.DataFrame:
    """The fictional systems: icb_code, icb_ons_code, icb_name, short_name, region, predecessors."""
    w = world()
    return _marked((w.icbs_2022 if int(footprint) == 2022 else w.icbs_2026).copy())


def demo_trusts() -> pd.DataFrame:
    """The fictional trusts with type, region and headquarters system (2022 footprint)."""
    return _marked(world().trusts.copy())


def demo_weights(footprint: int = 2022, method: str = "headquarters") -> pd.DataFrame:
    """Trust -> system weights of the demo world (sum to 1 per trust)."""
    return _marked(world().weights[(int(footprint), method)].copy())


def demo_ae_monthly_trust(department: str = "all") -> pd.DataFrame:
    """Monthly A&E by demo trust: April 2016 - March 2019 and April 2021 - July 2025.

    Parameters
    ----------
    department
        ``"all"`` department types, or ``"type1"`` (major emergency departments), which ends in
        March 2019 as the real 2021-2025 file has all types together only.

    Returns
    -------
    pandas.DataFrame
        ``trust_code, period, year, attendances, over_4hr, admissions`` (``over_4hr`` missing
        where a trust did not report it).
    """
    ae = world().ae_monthly
    if department == "type1":
        ae = ae[ae["department_type"] == "1"]
    elif department != "all":
        raise InvalidParameterError(f"department={department!r}: use 'all' or 'type1'.")
    return _marked(ae_all_types(ae))


def demo_beds_monthly_trust(bed_type: str = "general_acute") -> pd.DataFrame:
    """Monthly beds available and occupied by demo acute trust, April 2022 - August 2025.

    Parameters
    ----------
    bed_type
        One of :data:`icsresearch.demo.generate.BED_TYPES`; ``"general_acute"`` is
        ``"adult_general_acute"`` + ``"paediatric_general_acute"``.

    Returns
    -------
    pandas.DataFrame
        ``trust_code, period, year, beds_available, beds_occupied`` (monthly averages of daily
        counts; 0 where the trust has no unit of that type).
    """
    if bed_type not in BED_TYPES:
        raise InvalidParameterError(
            f"bed_type={bed_type!r} is not in the bed file; choose from {sorted(BED_TYPES)}."
        )
    beds = world().beds_monthly
    rows = beds[beds["bed_type"] == bed_type].drop(columns="bed_type")
    return _marked(rows.sort_values(["trust_code", "period"]).reset_index(drop=True))


def demo_discharge_monthly_trust() -> pd.DataFrame:
    """Monthly discharge delays by demo acute trust, April 2022 - August 2025.

    Returns
    -------
    pandas.DataFrame
        ``trust_code, period, year, days_reported, patients_per_day`` (no longer meeting the
        criteria to reside) and ``discharged_per_day`` (of those, discharged that day): means
        over the days reported.
    """
    return _marked(world().discharge_monthly.copy())
