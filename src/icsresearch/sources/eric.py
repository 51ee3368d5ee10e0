"""ERIC 2019/20: the Estates Returns Information Collection, site level.

Publisher: NHS Digital, Estates Returns Information Collection (ERIC) 2019/20 (OGL v3); the
registry copy is the site-data CSV carried by BenSCooper/nosocomial_COVID_England.

The file has 165 columns whose headers carry their units ("Rates (£)", "Pathology (m²)",
"Cleaning staff (WTE)"...). The reader renames every column to snake_case with the unit in the name
(``_gbp``, ``_m2``, ``_m3``, ``_pct``, ``_hectares``, ``_count``, ``_kwh``, ``_tonnes``, ``_fte``,
``_watts``), keeps the original header as each column's label, parses quoted thousands ("1,234"),
and turns "Not Applicable" and blanks into missing values.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ._base import (
    MISSING_TOKENS,
    Column,
    Schema,
    check_kind,
    codes,
    finish,
    numbers,
    show,
    source,
)

#: ERIC 2019/20 site data, in file order: (section, ((published header, output name), ...)).
#: Nine sections end with the same two headers ("PFI Contractor (SPV) costs (£)", "PFI Management
#: (Trust) costs (£)"); the section prefix in the output name tells them apart.
_LAYOUT: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Organisation",
        (
            ("Trust Code", "trust_code"),
            ("Trust Name", "trust_name"),
            ("Commissioning Region", "commissioning_region"),
            ("Trust Type", "trust_type"),
        ),
    ),
    (
        "Site",
        (
            ("Site Code", "site_code"),
            ("Site Name", "site_name"),
            ("Site Type", "site_type"),
            ("Tenure", "tenure"),
            ("Leased", "leased"),
            ("Post Code", "postcode"),
        ),
    ),
    (
        "Estates finance",
        (
            ("Depreciation (£)", "depreciation_gbp"),
            ("PDC (£)", "pdc_dividend_gbp"),
            ("Leases and rent (£)", "leases_and_rent_gbp"),
            ("Rates (£)", "rates_gbp"),
            ("Interest on Capital (£)", "interest_on_capital_gbp"),
            ("Other Estates and Facilities finance costs (£)", "other_estates_finance_costs_gbp"),
            ("Indirect accommodation subsidies (£)", "indirect_accommodation_subsidies_gbp"),
        ),
    ),
    (
        "Hard and soft FM costs",
        (
            ("Estates and property maintenance (£)", "estates_maintenance_gbp"),
            ("Grounds and gardens maintenance (£)", "grounds_maintenance_gbp"),
            ("Electro Bio Medical Equipment maintenance (£)", "ebme_maintenance_gbp"),
            ("Other Hard FM (Estates) costs (£)", "other_hard_fm_costs_gbp"),
            ("Other Soft FM (Hotel Services) costs (£)", "other_soft_fm_costs_gbp"),
            ("Management (Hard and Soft FM) costs (£)", "fm_management_costs_gbp"),
            ("PFI Contractor (SPV) costs (£)", "fm_pfi_contractor_costs_gbp"),
            ("PFI Management (Trust) costs (£)", "fm_pfi_management_costs_gbp"),
        ),
    ),
    (
        "Floor area and land",
        (
            ("Gross internal floor area (m²)", "gross_internal_floor_area_m2"),
            ("NHS estate occupied floor area (%)", "occupied_floor_area_pct"),
            ("Site heated volume (m³)", "heated_volume_m3"),
            ("Land area owned (Hectares)", "land_area_hectares"),
            (
                "Land area not delivering services (Hectares)",
                "land_not_delivering_services_hectares",
            ),
        ),
    ),
    (
        "Space use (non-ambulance sites)",
        (
            ("Private patient (m²)", "private_patient_area_m2"),
            ("Pathology (m²)", "pathology_area_m2"),
            ("Clinical Sterile Services Dept. (CSSD) (m²)", "cssd_area_m2"),
            ("Clinical space - other (m²)", "clinical_space_other_m2"),
            ("Medical records (m²)", "medical_records_area_m2"),
            ("Human Resources (m²)", "human_resources_area_m2"),
            ("Information Technology (m²)", "it_area_m2"),
            ("General Administration (m²)", "general_admin_area_m2"),
            ("Restaurants (m²)", "restaurants_area_m2"),
            ("Staff Accommodation (m²)", "staff_accommodation_area_m2"),
            ("Non-clinical space - other (m²)", "non_clinical_space_other_m2"),
            ("Retail sales area (m²)", "retail_area_m2"),
        ),
    ),
    (
        "Space use (ambulance sites)",
        (
            ("111 Contact Centre (m²)", "contact_centre_111_area_m2"),
            (
                "999 Contact Centre (to include empty & fall back desks) (m²)",
                "contact_centre_999_area_m2",
            ),
            ("PTS Contact Centre (m²)", "contact_centre_pts_area_m2"),
            ("Hub (make ready station) (m²)", "ambulance_hub_area_m2"),
            ("Spoke (m²)", "ambulance_spoke_area_m2"),
            (
                "Ambulance Station (excludes deployment points with no premises costs) (m²)",
                "ambulance_station_area_m2",
            ),
            ("Ambulance Station (PTS) (m²)", "ambulance_station_pts_area_m2"),
            ("Training (m²)", "training_area_m2"),
            ("Corporate (m²)", "corporate_area_m2"),
            ("Fleet Workshop (m²)", "fleet_workshop_area_m2"),
            ("HART (Hazardous Area Response Team) (m²)", "hart_area_m2"),
            ("Masts (m²)", "masts_area_m2"),
            ("Logistics Store (m²)", "logistics_store_area_m2"),
            ("Other (m²)", "ambulance_other_area_m2"),
        ),
    ),
    (
        "Functional suitability and utilisation",
        (
            (
                "Not functionally suitable - occupied floor area (%)",
                "not_functionally_suitable_floor_area_pct",
            ),
            (
                "Not functionally suitable - clinical space (%)",
                "not_functionally_suitable_clinical_space_pct",
            ),
            ("Floor area - empty (%)", "empty_floor_area_pct"),
            ("Floor area - under used (%)", "underused_floor_area_pct"),
        ),
    ),
    (
        "Patient accommodation",
        (
            (
                "Single bedrooms for patients with en-suite facilities (No.)",
                "single_rooms_ensuite_count",
            ),
            (
                "Single bedrooms for patients without en-suite facilities (No.)",
                "single_rooms_no_ensuite_count",
            ),
            ("Isolation rooms (No.)", "isolation_rooms_count"),
        ),
    ),
    (
        "Backlog maintenance",
        (
            ("Cost to eradicate high risk backlog (£)", "backlog_high_risk_gbp"),
            ("Cost to eradicate significant risk backlog (£)", "backlog_significant_risk_gbp"),
            ("Cost to eradicate moderate risk backlog (£)", "backlog_moderate_risk_gbp"),
            ("Cost to eradicate low risk backlog (£)", "backlog_low_risk_gbp"),
        ),
    ),
    (
        "Age profile of the estate",
        (
            ("Age profile - 2015 to 2024 (%)", "age_2015_2024_pct"),
            ("Age profile - 2005 to 2014 (%)", "age_2005_2014_pct"),
            ("Age profile - 1995 to 2004 (%)", "age_1995_2004_pct"),
            ("Age profile - 1985 to 1994 (%)", "age_1985_1994_pct"),
            ("Age profile - 1975 to 1984 (%)", "age_1975_1984_pct"),
            ("Age profile - 1965 to 1974 (%)", "age_1965_1974_pct"),
            ("Age profile - 1955 to 1964 (%)", "age_1955_1964_pct"),
            ("Age profile - 1948 to 1954 (%)", "age_1948_1954_pct"),
            ("Age profile - pre 1948 (%)", "age_pre_1948_pct"),
        ),
    ),
    (
        "Combined heat and power",
        (
            ("CHP units operated on the site (No.)", "chp_units_count"),
            ("CHP unit/s size - electrical (watts)", "chp_electrical_size_watts"),
            ("CHP unit/s size - thermal (watts)", "chp_thermal_size_watts"),
            ("CHP unit/s efficiency (%)", "chp_efficiency_pct"),
            ("Fossil energy input to CHP system/s (kWh)", "chp_fossil_input_kwh"),
            ("Thermal energy output of CHP system/s (kWh)", "chp_thermal_output_kwh"),
            ("Electrical energy output of CHP system/s (kWh)", "chp_electrical_output_kwh"),
            ("Exported electricity (kWh)", "exported_electricity_kwh"),
            ("Exported thermal energy (kWh)", "exported_thermal_kwh"),
            ("Have you dumped/discharged energy in the last year (Yes/No)", "energy_discharged"),
            ("How many kWh were discharged to waste (kWh)", "energy_discharged_kwh"),
        ),
    ),
    (
        "Energy",
        (
            ("Electricity costs (£)", "electricity_cost_gbp"),
            ("Electricity consumed (kWh)", "electricity_kwh"),
            ("Gas costs (£)", "gas_cost_gbp"),
            ("Gas consumed (kWh)", "gas_kwh"),
            ("Oil costs (£)", "oil_cost_gbp"),
            ("Oil consumed (kWh)", "oil_kwh"),
            ("Coal costs (£)", "coal_cost_gbp"),
            ("Coal consumed (kWh)", "coal_kwh"),
            ("Electricity costs - green energy tariff (£)", "green_tariff_electricity_cost_gbp"),
            ("Electricity consumed - green energy tariff (kWh)", "green_tariff_electricity_kwh"),
            (
                "Electricity costs - third party owned renewable (£)",
                "third_party_renewable_electricity_cost_gbp",
            ),
            (
                "Electricity consumed - third party owned renewable (kWh)",
                "third_party_renewable_electricity_kwh",
            ),
            ("Non-fossil fuel costs - renewable (£)", "renewable_non_fossil_cost_gbp"),
            ("Non-fossil fuel consumed - renewable (kWh)", "renewable_non_fossil_kwh"),
            ("Other energy costs (£)", "other_energy_cost_gbp"),
            ("Steam consumed (kWh)", "steam_kwh"),
            ("Hot water consumed (kWh)", "hot_water_kwh"),
            (
                "Electrical energy output of owned onsite renewables (kWh)",
                "onsite_renewable_output_kwh",
            ),
            ("PFI Contractor (SPV) costs (£)", "energy_pfi_contractor_costs_gbp"),
            ("PFI Management (Trust) costs (£)", "energy_pfi_management_costs_gbp"),
        ),
    ),
    (
        "Water",
        (
            ("Water and sewerage cost (£)", "water_sewerage_cost_gbp"),
            ("Water volume (including borehole) (m³)", "water_volume_m3"),
            ("PFI Contractor (SPV) costs (£)", "water_pfi_contractor_costs_gbp"),
            ("PFI Management (Trust) costs (£)", "water_pfi_management_costs_gbp"),
        ),
    ),
    (
        "Waste",
        (
            ("Incineration (clinical waste) cost (£)", "clinical_waste_incineration_cost_gbp"),
            ("Incineration (clinical waste) volume (Tonnes)", "clinical_waste_incineration_tonnes"),
            (
                "Alternative Treatment (clinical waste) cost (£)",
                "clinical_waste_alternative_treatment_cost_gbp",
            ),
            (
                "Alternative Treatment (clinical waste) volume (Tonnes)",
                "clinical_waste_alternative_treatment_tonnes",
            ),
            ("Offensive waste cost (£)", "offensive_waste_cost_gbp"),
            ("Offensive waste volume (Tonnes)", "offensive_waste_tonnes"),
            ("Clinical waste processed on site cost (£)", "clinical_waste_onsite_cost_gbp"),
            ("Clinical waste processed on site volume (Tonnes)", "clinical_waste_onsite_tonnes"),
            ("Domestic waste (landfill) cost (£)", "domestic_waste_landfill_cost_gbp"),
            ("Domestic waste (landfill) volume (Tonnes)", "domestic_waste_landfill_tonnes"),
            ("Domestic waste (recycling) cost (£)", "domestic_waste_recycling_cost_gbp"),
            ("Domestic waste (recycling) volume (Tonnes)", "domestic_waste_recycling_tonnes"),
            ("Domestic waste (food) cost (£)", "domestic_waste_food_cost_gbp"),
            ("Domestic waste (food) volume (Tonnes)", "domestic_waste_food_tonnes"),
            ("Domestic waste (textiles) cost (£)", "domestic_waste_textiles_cost_gbp"),
            ("Domestic waste (textiles) volume (Tonnes)", "domestic_waste_textiles_tonnes"),
            ("Domestic waste (incineration) cost (£)", "domestic_waste_incineration_cost_gbp"),
            ("Domestic waste (incineration) volume (Tonnes)", "domestic_waste_incineration_tonnes"),
            ("Domestic waste processed on site cost (£)", "domestic_waste_onsite_cost_gbp"),
            ("Domestic waste processed on site volume (Tonnes)", "domestic_waste_onsite_tonnes"),
            ("Confidential waste cost (£)", "confidential_waste_cost_gbp"),
            ("Confidential waste volume (Tonnes)", "confidential_waste_tonnes"),
            ("Other waste costs (£)", "other_waste_cost_gbp"),
            ("PFI Contractor (SPV) costs (£)", "waste_pfi_contractor_costs_gbp"),
            ("PFI Management (Trust) costs (£)", "waste_pfi_management_costs_gbp"),
        ),
    ),
    (
        "Car parking",
        (
            ("Car parking services cost (£)", "car_parking_cost_gbp"),
            ("Parking spaces available (No.)", "parking_spaces_count"),
            ("Designated disabled parking spaces (No.)", "disabled_parking_spaces_count"),
            ("Electric vehicle charging points (No.)", "ev_charging_points_count"),
            (
                "Average fee charged per hour for patient/visitor parking (£)",
                "parking_fee_patient_visitor_gbp_per_hour",
            ),
            (
                "Average fee charged per hour for staff parking (£)",
                "parking_fee_staff_gbp_per_hour",
            ),
            ("Is there a charge for disabled parking (Yes/No/None)", "disabled_parking_charge"),
            ("PFI Contractor (SPV) costs (£)", "parking_pfi_contractor_costs_gbp"),
            ("PFI Management (Trust) costs (£)", "parking_pfi_management_costs_gbp"),
        ),
    ),
    (
        "Cleaning",
        (
            ("Cleaning service cost (£)", "cleaning_cost_gbp"),
            ("Cleaning staff (WTE)", "cleaning_staff_fte"),
            ("PFI Contractor (SPV) costs (£)", "cleaning_pfi_contractor_costs_gbp"),
            ("PFI Management (Trust) costs (£)", "cleaning_pfi_management_costs_gbp"),
        ),
    ),
    (
        "Food",
        (
            ("Inpatient food service cost (£)", "inpatient_food_cost_gbp"),
            ("Inpatient main meals requested (No.)", "inpatient_main_meals_count"),
            ("Hostess meal service (Select)", "hostess_meal_service"),
            ("PFI Contractor (SPV) costs (£)", "food_pfi_contractor_costs_gbp"),
            ("PFI Management (Trust) costs (£)", "food_pfi_management_costs_gbp"),
        ),
    ),
    (
        "Laundry and linen",
        (
            ("Laundry and linen service used (Select)", "laundry_linen_service"),
            ("Laundry service cost (£)", "laundry_cost_gbp"),
            ("Linen service cost (£)", "linen_cost_gbp"),
            ("Laundered pieces per annum (No.)", "laundered_pieces_count"),
            ("Onsite laundry (Select)", "onsite_laundry"),
            ("PFI Contractor (SPV) costs (£)", "laundry_pfi_contractor_costs_gbp"),
            ("PFI Management (Trust) costs (£)", "laundry_pfi_management_costs_gbp"),
        ),
    ),
    (
        "Portering",
        (
            ("Portering service cost (£)", "portering_cost_gbp"),
            ("Portering staff (WTE)", "porters_fte"),
            ("PFI Contractor (SPV) costs (£)", "portering_pfi_contractor_costs_gbp"),
            ("PFI Management (Trust) costs (£)", "portering_pfi_management_costs_gbp"),
        ),
    ),
)

#: Unit of each header suffix: (header suffix, unit, name suffix the output column must end with).
_UNITS = (
    ("(£)", "GBP", "_gbp"),
    ("(m²)", "m2", "_m2"),
    ("(m³)", "m3", "_m3"),
    ("(%)", "%", "_pct"),
    ("(Hectares)", "hectares", "_hectares"),
    ("(No.)", "count", "_count"),
    ("(kWh)", "kWh", "_kwh"),
    ("(Tonnes)", "tonnes", "_tonnes"),
    ("(WTE)", "FTE", "_fte"),
    ("(watts)", "W", "_watts"),
)

#: Columns that hold text (codes, names, categories and Yes/No answers); all others are numbers.
_TEXT = frozenset(
    {
        "trust_code",
        "trust_name",
        "commissioning_region",
        "trust_type",
        "site_code",
        "site_name",
        "site_type",
        "tenure",
        "leased",
        "postcode",
        "energy_discharged",
        "disabled_parking_charge",
        "hostess_meal_service",
        "laundry_linen_service",
        "onsite_laundry",
    }
)

_NOT_APPLICABLE = "Not Applicable"
_MISSING = MISSING_TOKENS | {_NOT_APPLICABLE}

_SPECIAL = {
    "trust_code": "NHS trust ODS code (cleaned).",
    "trust_name": "Trust name as returned (upper case; surrounding spaces removed).",
    "commissioning_region": "NHS England commissioning region of the trust (7 regions, 2019).",
    "trust_type": "ERIC trust type, e.g. 'ACUTE - TEACHING', 'MENTAL HEALTH AND LEARNING "
    "DISABILITY', 'AMBULANCE'.",
    "site_code": "ODS site code, cleaned: spaces removed, and the one known corruption in the "
    "registry copy corrected ('RWF<no-break space>3', Maidstone General Hospital, is ODS RWF03).",
    "site_type": "ERIC site type, e.g. '1. General acute hospital', 'Other Reportable Site'.",
    "tenure": "How the site is held (freehold, PFI, leased...); missing for 168 sites.",
    "leased": "For leased sites, who services the lease; missing otherwise.",
    "parking_fee_patient_visitor_gbp_per_hour": "Average fee charged per hour for patient and "
    "visitor parking, GBP per hour.",
    "parking_fee_staff_gbp_per_hour": "Average fee charged per hour for staff parking, GBP per "
    "hour.",
}


def _unit(header: str, name: str) -> str:
    if name.endswith("_gbp_per_hour"):
        return "GBP per hour"
    for suffix, unit, _ in _UNITS:
        if header.endswith(suffix):
            return unit
    return ""


#: The service a section's PFI cost columns belong to.
_PFI_SERVICE = {
    "Hard and soft FM costs": "hard and soft facilities management (FM)",
    "Energy": "energy",
    "Water": "water and sewerage",
    "Waste": "waste",
    "Car parking": "car parking",
    "Cleaning": "cleaning",
    "Food": "food",
    "Laundry and linen": "laundry and linen",
    "Portering": "portering",
}


def _describe(section: str, header: str, name: str, unit: str) -> str:
    if name in _SPECIAL:
        return _SPECIAL[name]
    what = header
    for suffix, _, _ in _UNITS:
        what = what.removesuffix(suffix).strip()
    if name.endswith(("_pfi_contractor_costs_gbp", "_pfi_management_costs_gbp")):
        service = _PFI_SERVICE[section]
        what = (
            f"costs of the PFI contractor (special purpose vehicle) for {service} services"
            if "contractor" in name
            else f"the trust's own costs of managing the PFI contract for {service} services"
        )
        return f"{section}: {what}, GBP, 2019/20; missing ('Not Applicable') for non-PFI sites."
    if name.startswith("age_"):
        period = what.removeprefix("Age profile - ").replace("pre ", "before ")
        return f"Share of the site's floor area built {period}, %."
    if unit == "FTE":
        return f"{section}: {what}, whole-time equivalents (= FTE), 2019/20."
    if name in _TEXT:
        return f"{section}: {what} (text; 'Not Applicable' and blanks are missing)."
    return f"{section}: {what}, in {unit}, 2019/20 ('Not Applicable' is missing)."


_COLUMNS = [(header, name, section) for section, columns in _LAYOUT for header, name in columns]
#: (published header, output column) for the 165 columns, in the published order.
PUBLISHED_LAYOUT: tuple[tuple[str, str], ...] = tuple((h, n) for h, n, _ in _COLUMNS)

_FIRST = ("trust_code", "site_code")

#: Site codes that are corrupted in the published file -> ODS code (spaces shown as " ").
_SITE_CODE_FIXES = {
    # Maidstone General Hospital, Maidstone and Tunbridge Wells NHS Trust: "RWF" + no-break
    # space + "3" in the file, where ODS has RWF03 (the trust's other sites are RWFTW, RWFORS).
    "RWF 3": "RWF03",
}


#: (hard bounds, typical range) of one site's value for 2019/20, by unit. Hard bounds are what
#: no hospital site can reach (10 billion GBP, 10 km2 of floor); the typical range holds every
#: site of the 2019/20 collection with room to spare (largest: 544m GBP backlog, 6.8m laundered
#: pieces, 170m kWh of gas, 292,119 m2 of floor, 528 cleaning FTE, 4.50 GBP an hour parking).
_UNIT_BOUNDS = {
    "GBP": ((0.0, 1e10), (0.0, 2e9)),
    "m2": ((0.0, 1e7), (0.0, 1e6)),
    "m3": ((0.0, 1e9), (0.0, 1e7)),
    "%": ((0.0, 100.0), None),
    "hectares": ((0.0, 1e5), (0.0, 1000.0)),
    "count": ((0.0, 1e10), (0.0, 5e7)),
    "kWh": ((0.0, 1e11), (0.0, 1e9)),
    "tonnes": ((0.0, 1e7), (0.0, 2e5)),
    "FTE": ((0.0, 1e5), (0.0, 5000.0)),
    "W": ((0.0, 1e10), (0.0, 1e8)),
    "GBP per hour": ((0.0, 1000.0), (0.0, 20.0)),
}


def _column(header: str, name: str, section: str) -> Column:
    unit = _unit(header, name)
    bounds, typical = _UNIT_BOUNDS.get(unit, (None, None))
    return Column(
        name, header, unit, _describe(section, header, name, unit), bounds=bounds, typical=typical
    )


SCHEMA = Schema(
    dataset="eric_sites_2019",
    columns=(
        *(_column(*c) for c in _COLUMNS if c[1] in _FIRST),
        Column(
            "site_code_published",
            "Site Code as published",
            "",
            "Site Code as in the file, surrounding spaces removed (differs from site_code for "
            "one site).",
        ),
        Column("year", "Financial year", "FY start", "2019 for the 2019/20 collection."),
        *(_column(*c) for c in _COLUMNS if c[1] not in _FIRST),
    ),
    year_convention=(
        "ERIC is an annual return for the financial year: the 2019/20 collection covers 1 April "
        "2019 - 31 March 2020, so year = 2019 (financial-year start) for every row."
    ),
    notes=(
        "One row per site (1,261 sites of 224 trusts). The registry copy is valid UTF-8 (e.g. '£' "
        "is C2 A3), not latin-1 as described; the reader accepts UTF-8 and latin-1 "
        "(Windows-1252), and "
        "repairs a file whose UTF-8 was decoded as latin-1 and saved again (headers like "
        "'Rates (Â£)'). 'Not Applicable' marks questions that do not apply to the site (e.g. "
        "the PFI columns for the 1,120 non-PFI sites, the ambulance space columns for the 1,122 "
        "non-ambulance sites) and becomes missing, as do blanks. Money is in whole pounds with "
        "thousands separators ('Other waste costs' has 2 decimals); percentages are 0-100. Nine "
        "services end with identically named PFI cost columns, prefixed here by the service "
        "(fm_, energy_, water_, waste_, parking_, cleaning_, food_, laundry_, portering_). One "
        "site code is corrupted ('RWF' + no-break space + '3' for Maidstone General Hospital, ODS "
        "RWF03): corrected in site_code, kept in site_code_published."
    ),
    key=("site_code",),
)


def read_eric_sites(path: str | Path | None = None) -> pd.DataFrame:
    """ERIC 2019/20 site-level estates and facilities data, one row per site.

    Parameters
    ----------
    path
        A CSV in the published layout of ``ERIC_201920_SiteData_for_R.csv`` (165 columns), in
        UTF-8 or latin-1 (Windows-1252); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``site_code``, ``site_code_published``, ``year`` and the 163 other
        columns renamed to snake_case
        with explicit units; ``df.attrs["columns"][name]["label"]`` is the original header.

    Raises
    ------
    DataFileError
        If the file is empty, in another encoding (e.g. UTF-16), not the 165-column layout, has a
        line with the wrong number of fields (e.g. truncated), a number that does not parse, a
        percentage outside 0-100, a code that is not an ODS code, or a repeated site code.

    Examples
    --------
    >>> from icsresearch.sources.eric import read_eric_sites
    >>> eric = read_eric_sites()  # doctest: +SKIP
    >>> eric.groupby("trust_type").backlog_high_risk_gbp.sum()  # doctest: +SKIP
    """
    src = source(SCHEMA.dataset, path)
    rows = _rows(src)
    cells = np.array(rows[1:], dtype=object)
    out: dict[str, pd.Series] = {}
    for i, (header, name, _) in enumerate(_COLUMNS):
        if name not in _TEXT:
            continue
        values = pd.Series(cells[:, i], dtype="str").str.strip()
        if name == "trust_code":
            out[name] = codes(values, src, header)
        elif name == "site_code":
            spaced = values.str.replace(r"\s+", " ", regex=True)  # \s includes no-break space
            fixed = spaced.replace(_SITE_CODE_FIXES).str.replace(" ", "", regex=False)
            out[name] = codes(fixed, src, header)
            out["site_code_published"] = values
        else:
            out[name] = values.where(~values.isin(["", _NOT_APPLICABLE]))
    out.update(_numeric_columns(cells, src))
    df = pd.DataFrame(out)
    df["year"] = 2019
    return finish(df, SCHEMA, src)


def _numeric_columns(cells: np.ndarray, src) -> dict[str, pd.Series]:
    """Parse the 150 numeric columns in one pass (per column only to name an error precisely)."""
    numeric = [
        (i, header, name) for i, (header, name, _) in enumerate(_COLUMNS) if name not in _TEXT
    ]
    block = cells[:, [i for i, _, _ in numeric]]
    flat = pd.Series(block.ravel(order="F"), dtype="str").str.strip()
    try:
        parsed = numbers(flat, src, "numeric columns", missing=_MISSING).to_numpy()
    except DataFileError:
        for i, header, _ in numeric:  # re-run column by column for a message with rows
            numbers(pd.Series(cells[:, i], dtype="str").str.strip(), src, header, missing=_MISSING)
        raise  # pragma: no cover - the loop above raises first
    values = parsed.reshape(len(numeric), len(cells))
    out = {}
    for k, (i, header, name) in enumerate(numeric):
        out[name] = pd.Series(values[k])
        if name.endswith("_pct"):
            _check_pct(out[name], pd.Series(cells[:, i], dtype="str"), src, header)
    return out


def _check_pct(num: pd.Series, text: pd.Series, src, header: str) -> None:
    bad = (num < 0) | (num > 100)
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in text[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {header!r} has {int(bad.sum())} percentage(s) outside 0-100 ({rows})",
            "ERIC percentages are 0-100; check the value or that columns have not shifted.",
        )


def _hint(src) -> str:
    if src.verified:
        return f"Run `icsresearch data fetch {src.name}` to restore the registry copy."
    return (
        "Re-download or re-export the ERIC 2019/20 site data CSV, or omit the path to use the "
        "registry copy."
    )


def _text(src) -> str:
    """The file as text: UTF-8 (with or without BOM) or latin-1/Windows-1252, nothing else."""
    data = src.path.read_bytes()
    if not data.strip():
        raise DataFileError(src.path, "is empty", _hint(src))
    check_kind(src, data, "text")  # a gzip or workbook is named as such, not as "UTF-16"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise DataFileError(
            src.path,
            "is UTF-16 (or binary), not UTF-8 or latin-1 text",
            "Save it from Excel as 'CSV UTF-8 (Comma delimited)' or 'CSV (Comma delimited)'.",
        )
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            # latin-1 as Windows writes it: cp1252 agrees with latin-1 on every printable byte
            # and also knows 0x80-0x9f (e.g. 0x96 en dash); its 5 undefined bytes are errors.
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise DataFileError(
                src.path,
                f"is neither UTF-8 nor latin-1 (Windows-1252) text: byte 0x{data[exc.start]:02x} "
                f"at line {line} cannot be decoded in either",
                "Save the file as 'CSV UTF-8' (or convert it with `iconv -t utf-8`); ERIC files "
                "come as latin-1 or UTF-8.",
            ) from None
    if "Â£" in text[:20000]:
        # UTF-8 bytes once decoded as latin-1 and saved again ("£" -> "Â£"): undo it. If the
        # text cannot be undone cleanly it is left alone and the header check reports it.
        for wrong_codec in ("cp1252", "latin-1"):
            try:
                text = text.encode(wrong_codec).decode("utf-8")
                break
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
    return text


def _rows(src) -> list[list[str]]:
    text = _text(src)
    expected = len(_COLUMNS)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if not rows:
                _check_header(row, src)  # before the rows, so a wrong layout is named as such
            elif len(row) != expected:
                at_end = reader.line_num >= text.rstrip("\r\n").count("\n") + 1
                problem = (
                    f"line {reader.line_num} has {len(row)} fields; the ERIC 2019/20 site layout "
                    f"has {expected}"
                )
                if at_end and len(row) < expected:
                    problem = f"looks truncated: its last {problem}"
                raise DataFileError(src.path, problem, _hint(src))
            rows.append(row)
    except csv.Error as exc:
        raise DataFileError(
            src.path, f"is not a well-formed CSV (line {reader.line_num}: {exc})", _hint(src)
        ) from None
    if len(rows) < 2:
        raise DataFileError(src.path, "has a header but no rows", _hint(src))
    return rows


def _normal(header: str) -> str:
    return " ".join(header.split()).casefold()


def _check_header(header: list[str], src) -> None:
    header = [h.lstrip("\ufeff") for h in header]
    expected = [h for h, _, _ in _COLUMNS]
    if len(header) != len(expected):
        raise DataFileError(
            src.path,
            f"has {len(header)} columns; the ERIC 2019/20 site layout has {len(expected)} "
            f"(first columns found: {header[:4]})",
            "Is this the ERIC 2019/20 site data CSV? Other years and the trust-level file have "
            "other layouts.",
        )
    wrong = [
        (i, h, e)
        for i, (h, e) in enumerate(zip(header, expected, strict=True), 1)
        if _normal(h) != _normal(e)
    ]
    if wrong:
        shown = "; ".join(f"column {i} is {h!r}, expected {e!r}" for i, h, e in wrong[:3])
        raise DataFileError(
            src.path,
            f"has {len(wrong)} header(s) that differ from the ERIC 2019/20 site layout: {shown}",
            "Columns are read by position, so they must be the published ones in the published "
            "order (capitalisation and spacing may differ).",
        )
