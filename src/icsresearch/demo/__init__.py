"""The embedded synthetic demo dataset: the default for ``make demo`` and the report batch.

Generated from a fixed seed (:data:`SEED`) and summary figures of the real panels
(``calibration.json``: means, spreads, between/within-trust variance shares, year trends and the
years each indicator is published, numbers of trusts per system and region, system populations and
deprivation), so it has the same columns, types and years as the real panels and similar
variation, but **fictional organisations**: 7 regions (codes ZR1-ZR7), 42 systems (ZQ01-ZQ42;
36 in the 2026 footprint after six fictional mergers, ZN01-ZN06) and about 240 trusts
(ZZ101...). Every table carries ``data_source = "synthetic demo data"`` and every figure says so.

Planted effects (acute non-specialist trusts; see :data:`PLANTED`), so notebooks show the
estimators recovering them:

* **Managers FTE has no effect** on any outcome within a trust. Managers grow with trust size,
  and outcomes are correlated with size as in the real data, so pooled and between estimates
  can show associations that the within (fixed-effects) estimate does not.
* **Management quality helps**: +0.30 percentage points of A&E 4-hour share and +0.20 points of
  RTT 18-week share per point of the 0-100 staff-survey management score, and -0.4% SHMI per
  point, both between and within trusts.
* **Staffing and mortality** (in the spirit of Griffiths et al. 2016): SHMI is multiplied by 1.20
  per extra occupied bed per registered nurse, 1.08 per extra bed per doctor and 0.95 per extra
  bed per support worker (trust-level staffing traits).
* **Monthly A&E**: two trusts step up by 6 points from October 2017 and one declines by 0.8
  points a month through 2018: special causes an SPC chart should flag.
"""

from __future__ import annotations

import pandas as pd

from .generate import PLANTED, SEED, SYNTHETIC, world

__all__ = [
    "PLANTED",
    "SEED",
    "SYNTHETIC",
    "demo_ae_monthly_trust",
    "demo_icbs",
    "demo_ics_year",
    "demo_trust_year",
    "demo_trusts",
    "demo_weights",
]


def _mark(df: pd.DataFrame, columns) -> pd.DataFrame:
    from .._meta import share
    from ..panel.columns import attrs_for
    from ..provenance import manifest

    df.attrs = share(
        {
            "synthetic": True,
            "columns": attrs_for(columns),
            "provenance": manifest(
                parameters={"seed": SEED}, extra={"data": SYNTHETIC, "planted_effects": PLANTED}
            ),
        }
    )
    return df


def demo_icbs(footprint: int = 2022) -> pd.DataFrame:
    """The fictional systems: icb_code, icb_ons_code, icb_name, short_name, region, predecessors."""
    w = world()
    return (w.icbs_2022 if int(footprint) == 2022 else w.icbs_2026).copy()


def demo_trusts() -> pd.DataFrame:
    """The fictional trusts with type, region and headquarters system (2022 footprint)."""
    return world().trusts.copy()


def demo_weights(footprint: int = 2022, method: str = "headquarters") -> pd.DataFrame:
    """Trust -> system weights of the demo world (sum to 1 per trust)."""
    return world().weights[(int(footprint), method)].copy()


def demo_trust_year(footprint: int = 2022, method: str = "headquarters") -> pd.DataFrame:
    """The demo trust-year panel (same columns as the real one)."""
    from ..panel.columns import TRUST_YEAR_COLUMNS
    from .generate import trust_year

    return _mark(trust_year(int(footprint), method), TRUST_YEAR_COLUMNS)


def demo_ics_year(
    footprint: int = 2022, method: str = "headquarters", trust_types=None
) -> pd.DataFrame:
    """The demo ICS-year panel, aggregated from the demo trusts with the real panel's rules."""
    from ..panel.columns import ICS_YEAR_COLUMNS
    from ..panel.ics import build_ics_year

    trusts = demo_trust_year(footprint, method)
    if trust_types is not None:
        trusts = trusts[trusts["trust_type"].isin(trust_types)]
    w = world()
    panel = build_ics_year(
        trusts,
        demo_weights(footprint, method),
        demo_icbs(footprint),
        w.covariates[int(footprint)],
        SYNTHETIC,
    )
    return _mark(panel, ICS_YEAR_COLUMNS)


def demo_ae_monthly_trust(department: str = "all") -> pd.DataFrame:
    """Monthly A&E by demo trust (department types '1' and 'other'), April 2016 - March 2019."""
    ae = world().ae_monthly
    if department == "type1":
        ae = ae[ae["department_type"] == "1"]
    return ae.groupby(["trust_code", "period", "year"], as_index=False)[
        ["attendances", "breaches", "admissions"]
    ].sum()
