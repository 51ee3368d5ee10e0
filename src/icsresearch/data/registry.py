"""The registry: every published file the workbench reads, pinned by URL and sha256.

Like pooch's registry, a file is only ever accepted if its sha256 matches the value here. URLs point at
public GitHub repositories at fixed commits, so the bytes can never change under the same URL. Facts
only live here (where a file is, its hash, licence and publisher); the data themselves are fetched
into the cache or read from a mirror (see :mod:`icsresearch.data.store`).

The underlying statistics are Crown copyright public sector information under the Open Government
Licence v3.0; the carrier repositories' licences are given per file.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnknownDatasetError


@dataclass(frozen=True)
class RegistryFile:
    """One published file.

    Attributes
    ----------
    name
        Short identifier used by the CLI and the readers.
    path
        Relative path inside a mirror/cache (the layout of ``../shared/data``).
    url
        Raw download URL at a pinned commit.
    sha256
        Expected hash of the bytes.
    size
        Size in bytes.
    licence
        Licence of the carrier repository and of the underlying statistics.
    publisher
        Original publisher of the statistics (attribute them under OGL v3).
    citation
        How to cite the source.
    description
        One line on what the file holds.
    years
        Period covered.
    year_convention
        What the file's year/date means, before normalisation to financial-year start.
    reader
        ``module:function`` in :mod:`icsresearch.sources` that turns the file into a tidy table.
    """

    name: str
    path: str
    url: str
    sha256: str
    size: int
    licence: str
    publisher: str
    citation: str
    description: str
    years: str
    year_convention: str
    reader: str

    @property
    def filename(self) -> str:
        """The published file name (the last part of :attr:`path`)."""
        return self.path.rsplit("/", 1)[-1]


_HM = (
    "Asaria M, McGuire A, Street A (2022). Data compiled for 'The impact of management on hospital "
    "performance', Fiscal Studies; github.com/miqdadasaria/hospital_management."
)
_GEO = (
    "Humaniverse geographr R package (github.com/humaniverse/geographr), from ONS Open Geography, "
    "NHS ODS and OHID."
)
_HM_LICENCE = (
    "GPL-3 repository; data compiled from NHS Digital, NHS England, NHS Improvement and CQC "
    "statistics (OGL v3)"
)

REGISTRY: dict[str, RegistryFile] = {
    f.name: f
    for f in [
        RegistryFile(
            name="imd2019_lsoa",
            path="IMD/data/imd2019_england_lsoa11.rda",
            url="https://raw.githubusercontent.com/humaniverse/IMD/2f6c9050afee99a40041eb63b02b6b0c58850704/data/imd2019_england_lsoa11.rda",
            sha256="6eb52614c9a6b7c96c6b0276d472d61558bd607e1d4c6833edf43dcc0faaa4a6",
            size=703401,
            licence="MIT package; MHCLG English Indices of Deprivation (OGL v3)",
            publisher="MHCLG",
            citation="Ministry of Housing, Communities & Local Government (2019). English Indices of Deprivation 2019; via humaniverse/IMD.",
            description="Index of Multiple Deprivation 2019 ranks and deciles by LSOA (2011 boundaries)",
            years="2019",
            year_convention="release year (indicators mostly 2015/16)",
            reader="deprivation:read_imd2019_lsoa",
        ),
        RegistryFile(
            name="imd2025_icb",
            path="IMD/data/imd2025_england_icb24.rda",
            url="https://raw.githubusercontent.com/humaniverse/IMD/2f6c9050afee99a40041eb63b02b6b0c58850704/data/imd2025_england_icb24.rda",
            sha256="3e592633ef64405dba16c7e0a0fe8f6d0bd0e826d0aa032c7e8bbb1fe7921f5e",
            size=8434,
            licence="MIT package; MHCLG English Indices of Deprivation (OGL v3)",
            publisher="MHCLG",
            citation="Ministry of Housing, Communities & Local Government (2025). English Indices of Deprivation 2025, ICB summaries; via humaniverse/IMD.",
            description="IMD 2025 summary measures for the 42 ICBs (2024 ONS codes)",
            years="2025",
            year_convention="release year",
            reader="deprivation:read_imd2025_icb",
        ),
        RegistryFile(
            name="nhs_wellbeing",
            path="NHS-wellbeing/files/data (csv and rda)/data.NHS.2012_2019.csv",
            url="https://raw.githubusercontent.com/ebmgt/NHS-wellbeing/a164806e0be85275387b10fbcce5f5de7064d118/files/data%20(csv%20and%20rda)/data.NHS.2012_2019.csv",
            sha256="75f8e47f6125d8eb9e8afa29c3505458ac9b83cbd557a1176e01cdfb27c4d5ff",
            size=212405,
            licence="AGPL-3 repository; NHS Staff Survey and SHMI data (OGL v3)",
            publisher="NHS England (Staff Survey) / NHS Digital (SHMI), compiled by ebmgt/NHS-wellbeing",
            citation="ebmgt/NHS-wellbeing compilation of NHS Staff Survey indices and SHMI for acute trusts, 2012-2019.",
            description="Second compilation: SHMI and Staff Survey engagement indices for acute trusts",
            years="2012-2019",
            year_convention="Year.Index label, aligned to financial-year start (matches the first SHMI compilation best at the same label)",
            reader="shmi:read_shmi_wellbeing",
        ),
        RegistryFile(
            name="ae_monthly",
            path="NHSRdatasets/data/ae_attendances.rda",
            url="https://raw.githubusercontent.com/nhs-r-community/NHSRdatasets/7fe35a54a3aa380ad6008d872ae465d092aa11b0/data/ae_attendances.rda",
            sha256="6ce6bc34c538d681b0b75fec3c6fee9586e56c611ad263978bffa2f350d0ce4d",
            size=90144,
            licence="CC0 package; NHS England A&E statistics (OGL v3)",
            publisher="NHS England",
            citation="NHS England A&E Attendances and Emergency Admissions statistics; via NHS-R Community NHSRdatasets (ae_attendances).",
            description="Monthly A&E attendances, 4-hour breaches and admissions by provider and department type",
            years="Apr 2016 - Mar 2019",
            year_convention="calendar month (period = first day of month)",
            reader="ae:read_ae_monthly",
        ),
        RegistryFile(
            name="ics_ae_weights",
            path="QW-ICS-analysis-2023/Trust_to_ICS_mapping.xlsx",
            url="https://raw.githubusercontent.com/NuffieldTrust/QW-ICS-analysis-2023/55f45f640b28e24368dfd54128bcc14a9e880956/Trust_to_ICS_mapping.xlsx",
            sha256="4c9749cba579562369c74f28b4eecbbdae3c63e532623e771adf85642ca4008c",
            size=36474,
            licence="MIT; derived from ECDS (NHS Digital)",
            publisher="Nuffield Trust (from NHS Digital ECDS)",
            citation="Nuffield Trust (2023). QW-ICS-analysis-2023: trust to ICS mapping from type 1 A&E activity.",
            description="Trust to ICS weights from type-1 A&E activity, winter 2022-23 (suppressed, rounded to 10)",
            years="2022/23",
            year_convention="winter 2022-23 activity",
            reader="trust_ics:read_ae_activity_weights",
        ),
        RegistryFile(
            name="population_lsoa",
            path="demographr/data/population19_lsoa11.rda",
            url="https://raw.githubusercontent.com/humaniverse/demographr/d0417101e5cad5fe1eca059ac60859e9157a29d2/data/population19_lsoa11.rda",
            sha256="714ab652b3549b86faee73dc965accc63d5fef2032d7a4679decf7b6353660ab",
            size=2331028,
            licence="MIT package; ONS mid-year population estimates (OGL v3)",
            publisher="ONS",
            citation="Office for National Statistics. Lower layer Super Output Area population estimates, mid-2019; via humaniverse/demographr.",
            description="Mid-2019 population by LSOA (2011) and single year of age",
            years="mid-2019",
            year_convention="mid-year (30 June) estimate",
            reader="population:read_population_lsoa",
        ),
        RegistryFile(
            name="icb_boundaries",
            path="geographr/data/boundaries_icb22.rda",
            url="https://raw.githubusercontent.com/humaniverse/geographr/c026be5cc76cb576358082b53f1f13d69ab577ae/data/boundaries_icb22.rda",
            sha256="ee9385d5492c1b05df4dcfb473fb4d9f7ea98fabba10ae1481b32b2b8cb31263",
            size=9433,
            licence="MIT package; ONS Open Geography, NHS ODS, OHID catchments (OGL v3; boundaries also OS Crown copyright)",
            publisher="ONS Open Geography",
            citation=_GEO,
            description="ICB boundaries, July 2022 (simplified polygons, WGS84)",
            years="2022",
            year_convention="boundaries as at July 2022",
            reader="boundaries:read_icb_boundaries",
        ),
        RegistryFile(
            name="lsoa_icb_lookup",
            path="geographr/data/lookup_lsoa11_sicbl22_icb22_ltla22.rda",
            url="https://raw.githubusercontent.com/humaniverse/geographr/c026be5cc76cb576358082b53f1f13d69ab577ae/data/lookup_lsoa11_sicbl22_icb22_ltla22.rda",
            sha256="5aa7c63afb0f5a929bcadd17355fe8add201cee508ba0fb544e35efe984968b2",
            size=175340,
            licence="MIT package; ONS Open Geography, NHS ODS, OHID catchments (OGL v3; boundaries also OS Crown copyright)",
            publisher="ONS Open Geography",
            citation=_GEO,
            description="LSOA (2011) to sub-ICB location, ICB (2022) and local authority lookup",
            years="2022",
            year_convention="geography as at July 2022",
            reader="lsoa:read_lsoa_icb_lookup",
        ),
        RegistryFile(
            name="trust_icb_catchment",
            path="geographr/data/lookup_nhs_trusts22_icb22.rda",
            url="https://raw.githubusercontent.com/humaniverse/geographr/c026be5cc76cb576358082b53f1f13d69ab577ae/data/lookup_nhs_trusts22_icb22.rda",
            sha256="387f0d5317d15455dafab79e10895fdaec24f3f8c774efbc99ce792c38ed8b8e",
            size=12625,
            licence="MIT package; ONS Open Geography, NHS ODS, OHID catchments (OGL v3; boundaries also OS Crown copyright)",
            publisher="OHID",
            citation=_GEO,
            description="OHID 2022 acute trust catchments: share of each trust's patients from each ICB",
            years="2022",
            year_convention="catchment year 2022",
            reader="trust_ics:read_catchment_shares",
        ),
        RegistryFile(
            name="trust_stp_lookup",
            path="geographr/data/lookup_nhs_trusts22_stp21.rda",
            url="https://raw.githubusercontent.com/humaniverse/geographr/c026be5cc76cb576358082b53f1f13d69ab577ae/data/lookup_nhs_trusts22_stp21.rda",
            sha256="6256c2e386c4d0b549ee2d7841e38990ab4f4bcfb782effa31fb82a0b8e06aa3",
            size=3717,
            licence="MIT package; ONS Open Geography, NHS ODS, OHID catchments (OGL v3; boundaries also OS Crown copyright)",
            publisher="NHS ODS",
            citation=_GEO,
            description="NHS trusts (2022) to STP (2021) lookup",
            years="2021-2022",
            year_convention="as at 2021",
            reader="trust_ics:read_trust_stp_lookup",
        ),
        RegistryFile(
            name="trust_successions",
            path="geographr/data/lookup_trust_trust.rda",
            url="https://raw.githubusercontent.com/humaniverse/geographr/c026be5cc76cb576358082b53f1f13d69ab577ae/data/lookup_trust_trust.rda",
            sha256="7cf922fcd82565c0d1203fa8a4030e11a8a42d9aeccb9c19adc55c3de6962de3",
            size=125087,
            licence="MIT package; ONS Open Geography, NHS ODS, OHID catchments (OGL v3; boundaries also OS Crown copyright)",
            publisher="NHS ODS",
            citation=_GEO,
            description="ODS organisation succession chain: old code -> new code with date",
            years="to 2022",
            year_convention="succession date",
            reader="ods:read_trust_successions",
        ),
        RegistryFile(
            name="trust_points",
            path="geographr/data/points_nhs_trusts22.rda",
            url="https://raw.githubusercontent.com/humaniverse/geographr/c026be5cc76cb576358082b53f1f13d69ab577ae/data/points_nhs_trusts22.rda",
            sha256="185532498d130592d90f629cb9af348b9d4c9bfcc838f7bf41433197d9225a74",
            size=7660,
            licence="MIT package; ONS Open Geography, NHS ODS, OHID catchments (OGL v3; boundaries also OS Crown copyright)",
            publisher="NHS ODS",
            citation=_GEO,
            description="NHS trust headquarters locations, 2022 (points, WGS84)",
            years="2022",
            year_convention="as at 2022",
            reader="boundaries:read_trust_points",
        ),
        RegistryFile(
            name="hm_ae",
            path="hospital_management/data/csv/AE.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/AE.csv",
            sha256="f180728e89fdb7eaee25277307be003364ee963c0fd449471c847b258a5d57b7",
            size=21386,
            licence=_HM_LICENCE,
            publisher="NHS England",
            citation=_HM,
            description="Annual A&E 4-hour share by trust",
            years="2012/13-2018/19",
            year_convention="financial-year start (YEAR 2012 = 2012/13)",
            reader="ae:read_ae_annual",
        ),
        RegistryFile(
            name="hm_cqc_ratings",
            path="hospital_management/data/csv/CQC_ratings.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/CQC_ratings.csv",
            sha256="e1320674ccb7a5331958dc06bf71c0d32f1f2f28546d15cf62206d1bb2fcc816",
            size=561123,
            licence=_HM_LICENCE,
            publisher="CQC",
            citation=_HM,
            description="CQC ratings by provider, population group and key question (scored 0-3)",
            years="2014-2019",
            year_convention="publication date",
            reader="cqc:read_cqc_ratings",
        ),
        RegistryFile(
            name="hm_cqc_rating_scores",
            path="hospital_management/data/csv/CQC_ratings_lookup.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/CQC_ratings_lookup.csv",
            sha256="71e89c50d09b1158dec8befcd8f3cb507fbc046ef57d65a8bc3aac0cb3bf396d",
            size=78,
            licence=_HM_LICENCE,
            publisher="CQC",
            citation=_HM,
            description="CQC rating labels and their 0-3 scores",
            years="-",
            year_convention="-",
            reader="reference:read_cqc_rating_scores",
        ),
        RegistryFile(
            name="hm_staff_survey",
            path="hospital_management/data/csv/NHS_SS_management.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/NHS_SS_management.csv",
            sha256="0248c8505993c8f58bf9576315d4ba2ef8f4e763e5c5e098ce967cdcd975755d",
            size=632640,
            licence=_HM_LICENCE,
            publisher="NHS England (NHS Staff Survey)",
            citation=_HM,
            description="NHS Staff Survey management items 7a-7g and 8a-8d, % response by category",
            years="2012-2018",
            year_convention="survey year (autumn), aligned to financial-year start",
            reader="staff_survey:read_staff_survey_items",
        ),
        RegistryFile(
            name="hm_staff_survey_questions",
            path="hospital_management/data/csv/NHS_SS_questions.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/NHS_SS_questions.csv",
            sha256="54f7c73ff1990faf73d2fac9a2672b2bae73320987bbcdc89bc1ec2b8c226bf1",
            size=740,
            licence=_HM_LICENCE,
            publisher="NHS England (NHS Staff Survey)",
            citation=_HM,
            description="Wording of the Staff Survey management questions",
            years="-",
            year_convention="-",
            reader="staff_survey:read_staff_survey_questions",
        ),
        RegistryFile(
            name="hm_rtt",
            path="hospital_management/data/csv/RTT.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/RTT.csv",
            sha256="e89c257a4eb9d0d2afc54649740e6487520c2e70d07895e4292bd146e0c11806",
            size=57531,
            licence=_HM_LICENCE,
            publisher="NHS England",
            citation=_HM,
            description="Referral to treatment: patients on incomplete pathways and share within 18 weeks, 31 March snapshots",
            years="2012/13-2018/19",
            year_convention="31 March snapshot; DATE 31/03/2019 is YEAR 2018",
            reader="rtt:read_rtt",
        ),
        RegistryFile(
            name="hm_afc_pay_scales",
            path="hospital_management/data/csv/agenda for change pay scales.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/agenda%20for%20change%20pay%20scales.csv",
            sha256="bbdb264f84d4d05fdc3c50898c61d0e0420bbb163524671103161fe3c4beade0",
            size=412,
            licence=_HM_LICENCE,
            publisher="NHS Employers",
            citation=_HM,
            description="Agenda for Change pay scales (bottom, average, top of band)",
            years="2017",
            year_convention="pay year",
            reader="reference:read_afc_pay_scales",
        ),
        RegistryFile(
            name="hm_all_staff",
            path="hospital_management/data/csv/all_staff_simple_def.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/all_staff_simple_def.csv",
            sha256="f1ad5f5813babf650a57f72905da4d9693ec8fcb5daecd96ee54f5070038651a",
            size=32913,
            licence=_HM_LICENCE,
            publisher="NHS Digital",
            citation=_HM,
            description="All-staff FTE by trust (HCHS workforce statistics)",
            years="2009-2015",
            year_convention="September census, aligned to financial-year start",
            reader="workforce:read_all_staff_fte",
        ),
        RegistryFile(
            name="hm_beds",
            path="hospital_management/data/csv/beds.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/beds.csv",
            sha256="8d4f7eaafca9cbb1fdfbe0eb082755e2f59e45ba3139968d9cc850e1eafa8b26",
            size=40343,
            licence=_HM_LICENCE,
            publisher="NHS England (KH03)",
            citation=_HM,
            description="Available and occupied beds (KH03) by trust",
            years="2010/11-2018/19",
            year_convention="financial-year start",
            reader="beds:read_beds",
        ),
        RegistryFile(
            name="hm_consultants",
            path="hospital_management/data/csv/consultants_simple_def.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/consultants_simple_def.csv",
            sha256="57d1c519eb64361b579676bf3449b2fd4f66c677e0b55b4da0dce82a3a49ef7e",
            size=54615,
            licence=_HM_LICENCE,
            publisher="NHS Digital",
            citation=_HM,
            description="Consultants FTE by trust",
            years="2009-2018",
            year_convention="September census, aligned to financial-year start",
            reader="workforce:read_consultants_fte",
        ),
        RegistryFile(
            name="hm_finance",
            path="hospital_management/data/csv/financial_positions.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/financial_positions.csv",
            sha256="2b95e392946b0b817b9423972bd1a41fa6c537d0af9eb323519cdbc8622790e9",
            size=70139,
            licence=_HM_LICENCE,
            publisher="NHS Improvement",
            citation=_HM,
            description="Financial position, operating income and operating cost by trust, GBP thousands (cost negative)",
            years="2010/11-2018/19",
            year_convention="financial-year start",
            reader="finance:read_finance",
        ),
        RegistryFile(
            name="hm_hee_regions",
            path="hospital_management/data/csv/hee_region.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/hee_region.csv",
            sha256="30c8224183cd0f8a9cef9146e4fbf029c81d539a1691ce704ab0c37648e900a0",
            size=556,
            licence=_HM_LICENCE,
            publisher="Health Education England",
            citation=_HM,
            description="Health Education England region codes and names",
            years="-",
            year_convention="-",
            reader="reference:read_hee_regions",
        ),
        RegistryFile(
            name="hm_admissions",
            path="hospital_management/data/csv/inpatient_data.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/inpatient_data.csv",
            sha256="91de02e50c7620001ae0c5c07ae16534d2a7a7989d3d4a0d47779d3a2c4045e1",
            size=196786,
            licence=_HM_LICENCE,
            publisher="NHS Digital (HES)",
            citation=_HM,
            description="HES admitted patient care: episodes and admissions by sex and age band, by provider",
            years="2012/13-2018/19",
            year_convention="financial-year start",
            reader="admissions:read_admissions",
        ),
        RegistryFile(
            name="hm_main_staff_groups",
            path="hospital_management/data/csv/main_staff_group.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/main_staff_group.csv",
            sha256="56e32453663983f1ec152f73c42191a07152409e940417581eb535824f5535ca",
            size=205,
            licence=_HM_LICENCE,
            publisher="NHS Digital",
            citation=_HM,
            description="Main staff group codes",
            years="-",
            year_convention="-",
            reader="reference:read_main_staff_groups",
        ),
        RegistryFile(
            name="hm_managers",
            path="hospital_management/data/csv/managers_simple_def.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/managers_simple_def.csv",
            sha256="389fa6b4f774387e5ddc816a74f4c938f0ab49318f68a7102e28defb78642345",
            size=80048,
            licence=_HM_LICENCE,
            publisher="NHS Digital",
            citation=_HM,
            description="Managers FTE by trust (staff groups Manager + Senior manager)",
            years="2009-2018",
            year_convention="September census, aligned to financial-year start",
            reader="workforce:read_managers_fte",
        ),
        RegistryFile(
            name="hm_providers",
            path="hospital_management/data/csv/nhs_provider.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/nhs_provider.csv",
            sha256="838c160ab542f027d840aebd05a4d6e619a41758a55a01f1d6e73d8c01480524",
            size=31170,
            licence=_HM_LICENCE,
            publisher="NHS Digital / NHS ODS",
            citation=_HM,
            description="NHS providers and CCGs with organisation type, HEE region and specialist flag",
            years="2018",
            year_convention="as at 2018",
            reader="ods:read_providers",
        ),
        RegistryFile(
            name="hm_shmi",
            path="hospital_management/data/csv/shmi.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/shmi.csv",
            sha256="d8b9ebf32fff3d2cae1dfc8f91c8999300da19abb1bb52df6e2025706eb1a5c4",
            size=15958,
            licence=_HM_LICENCE,
            publisher="NHS Digital",
            citation=_HM,
            description="First compilation: Summary Hospital-level Mortality Indicator by trust",
            years="2012/13-2018/19",
            year_convention="financial-year start",
            reader="shmi:read_shmi",
        ),
        RegistryFile(
            name="hm_stability",
            path="hospital_management/data/csv/stability.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/stability.csv",
            sha256="315e4252b6618fa2c2a8989cf92ed3c0befcc1c2dba6e3a323fb7d9fc37bc348",
            size=6871,
            licence=_HM_LICENCE,
            publisher="NHS Digital",
            citation=_HM,
            description="Staff stability index by organisation",
            years="2017",
            year_convention="year as given",
            reader="workforce:read_stability",
        ),
        RegistryFile(
            name="hm_staff_group_1",
            path="hospital_management/data/csv/staff_group_1.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/staff_group_1.csv",
            sha256="5d6f341e779612ccc72e75cbfbdd03c035509405b8615106bbda72e608dfe71e",
            size=349,
            licence=_HM_LICENCE,
            publisher="NHS Digital",
            citation=_HM,
            description="Staff group 1 codes",
            years="-",
            year_convention="-",
            reader="reference:read_staff_group_1",
        ),
        RegistryFile(
            name="hm_staff_group_2",
            path="hospital_management/data/csv/staff_group_2.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/csv/staff_group_2.csv",
            sha256="5b3a6735122a846745efa45dbc6eff7b2306174e8f92bd8897a2e9ce0acabc0b",
            size=1011,
            licence=_HM_LICENCE,
            publisher="NHS Digital",
            citation=_HM,
            description="Staff group 2 codes",
            years="-",
            year_convention="-",
            reader="reference:read_staff_group_2",
        ),
        RegistryFile(
            name="hm_variable_definitions",
            path="hospital_management/data/variable_definitions.csv",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/c527a7c5b3e1aef0bec38a66050a87b955d863dc/data/variable_definitions.csv",
            sha256="942e9fedb2810fbb59dd41eed6d8d40e26db12adae12547b697dd1d4605e9d24",
            size=7929,
            licence=_HM_LICENCE,
            publisher="Asaria et al.",
            citation=_HM,
            description="Variable definitions used by the hospital_management compilation",
            years="-",
            year_convention="-",
            reader="reference:read_variable_definitions",
        ),
        RegistryFile(
            name="cqc_latest_ratings_2018",
            path="hospital_management@29a376f/data/csv/CQC score 3 September 2018 Latest ratings.xlsx",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/29a376fae72fc999c75b6a1ec5d549e727b4872d/data/csv/CQC%20score%203%20September%202018%20Latest%20ratings.xlsx",
            sha256="1bcb7bc785745961619c28a60894d8b96aa3888589ba31a3406e6270b0a32927",
            size=229193,
            licence=_HM_LICENCE,
            publisher="CQC",
            citation=_HM + " File deleted at commit 29a376f.",
            description="CQC 'Latest ratings' export, 3 September 2018 (sheet Providers)",
            years="to Sep 2018",
            year_convention="publication date",
            reader="cqc:read_cqc_latest_ratings",
        ),
        RegistryFile(
            name="non_medical_staff_2017",
            path="hospital_management@29a376f/data/csv/non_medical_staff.xlsx",
            url="https://raw.githubusercontent.com/miqdadasaria/hospital_management/29a376fae72fc999c75b6a1ec5d549e727b4872d/data/csv/non_medical_staff.xlsx",
            sha256="f7a0c827103a2dc03aa56e1e03d69f17f785c2ece5d10544f34633613f629986",
            size=2732281,
            licence=_HM_LICENCE,
            publisher="NHS Digital",
            citation=_HM + " File deleted at commit 29a376f.",
            description="Non-medical HCHS staff FTE by organisation, staff group, area, level and AfC band, 30 Sep 2017",
            years="Sep 2017",
            year_convention="September census, aligned to financial-year start (Sep 2017 = 2017/18)",
            reader="workforce:read_non_medical_staff",
        ),
        RegistryFile(
            name="hchs_staff_groups",
            path="my_eu/data/nhs/input/hchs-staff-by-staff-group-nationality-and-organisation-september-2017-and-june-2018_ah2324.xlsx",
            url="https://raw.githubusercontent.com/TechForUK/my_eu/109d3662be34a5357b658fca76213e68cf034177/data/nhs/input/hchs-staff-by-staff-group-nationality-and-organisation-september-2017-and-june-2018_ah2324.xlsx",
            sha256="f3b3327ef7e7ea76e52b805342106ef94318831fb167f2a3c033a45c50c27706",
            size=2469277,
            licence="NHS Digital workforce statistics (OGL v3)",
            publisher="NHS Digital",
            citation="NHS Digital (2018). HCHS staff by staff group, nationality and organisation, September 2017 and June 2018; via TechForUK/my_eu.",
            description="HCHS staff FTE by staff group, nationality and organisation (sheet Data)",
            years="Sep 2017, Jun 2018",
            year_convention="census month: Sep 2017 is in 2017/18, Jun 2018 in 2018/19",
            reader="workforce:read_hchs_staff_groups",
        ),
        RegistryFile(
            name="eric_sites_2019",
            path="nosocomial_COVID_England/ERIC_201920_SiteData_for_R.csv",
            url="https://raw.githubusercontent.com/BenSCooper/nosocomial_COVID_England/cbc10896a0a6fe5eaf717b86800a9bdeba310b16/ERIC_201920_SiteData_for_R.csv",
            sha256="9a058011b4067413f5eef6715d515bdab5c2bfc35059fe27c524545583c82275",
            size=1859009,
            licence="MIT; NHS Digital ERIC (OGL v3)",
            publisher="NHS Digital (ERIC)",
            citation="NHS Digital. Estates Returns Information Collection 2019/20, site data; via BenSCooper/nosocomial_COVID_England.",
            description="ERIC 2019/20 site-level estates data (165 columns; this copy is UTF-8, other ERIC releases are cp1252)",
            years="2019/20",
            year_convention="financial-year start",
            reader="eric:read_eric_sites",
        ),
        RegistryFile(
            name="ccg_stp_reference",
            path="open-nhs-hospital-use-data/data/CCG_STP_RefFile_Apr20.xlsx",
            url="https://raw.githubusercontent.com/ebmdatalab/open-nhs-hospital-use-data/e1d63fb99b190766df426b8d37b49a900b202fe2/data/CCG_STP_RefFile_Apr20.xlsx",
            sha256="d0195b8f98e71e33849f499092d8391b91f9972128828881f0422234bd9415dd",
            size=57147,
            licence="NHS ODS data (OGL v3)",
            publisher="NHS England",
            citation="NHS England CCG, STP and region reference file, April 2020; via ebmdatalab/open-nhs-hospital-use-data.",
            description="CCG to STP to NHS region reference, April 2020",
            years="2020",
            year_convention="as at 1 April 2020",
            reader="ods:read_ccg_stp_reference",
        ),
        RegistryFile(
            name="ods_etr",
            path="open-nhs-hospital-use-data/data/etr.csv",
            url="https://raw.githubusercontent.com/ebmdatalab/open-nhs-hospital-use-data/e1d63fb99b190766df426b8d37b49a900b202fe2/data/etr.csv",
            sha256="8a365fa92c0e698d77e73bb7ff2230c6a62f84c5c52159b032d61689c13801a9",
            size=31411,
            licence="NHS ODS data (OGL v3)",
            publisher="NHS Digital (ODS)",
            citation="NHS Digital Organisation Data Service, etr (NHS trusts) file, October 2020; via ebmdatalab/open-nhs-hospital-use-data.",
            description="ODS NHS trusts file (headerless, 27 columns)",
            years="Oct 2020",
            year_convention="open/close dates",
            reader="ods:read_ods_trusts",
        ),
        RegistryFile(
            name="ods_etr_tidy",
            path="open-nhs-hospital-use-data/data/etr_tidy.csv",
            url="https://raw.githubusercontent.com/ebmdatalab/open-nhs-hospital-use-data/e1d63fb99b190766df426b8d37b49a900b202fe2/data/etr_tidy.csv",
            sha256="e136fd90d2bcfdbc4a41e26b7fb697925e03cd7fade358c3bb2bae6857e6f22a",
            size=29901,
            licence="NHS ODS data (OGL v3)",
            publisher="NHS Digital (ODS)",
            citation="NHS Digital Organisation Data Service, NHS trusts, December 2021 extract; via ebmdatalab/open-nhs-hospital-use-data.",
            description="ODS NHS trusts, tidy extract with headers (Dec 2021)",
            years="Dec 2021",
            year_convention="open/close dates",
            reader="ods:read_ods_trusts_tidy",
        ),
    ]
}


def get(name: str) -> RegistryFile:
    """Look up a registry file by name, with a helpful error listing the valid names.

    Parameters
    ----------
    name
        Registry name, e.g. ``"hm_rtt"`` (see ``icsresearch data list``).

    Returns
    -------
    RegistryFile
        URL, sha256, path in the mirror layout, publisher, licence, years and reader.

    Raises
    ------
    UnknownDatasetError
        No such name; the message suggests close matches.

    Examples
    --------
    >>> from icsresearch.data import get
    >>> get("hm_rtt").publisher
    'NHS England'
    """
    try:
        return REGISTRY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, REGISTRY, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownDatasetError(
            f"No dataset named {name!r} in the registry.{hint} "
            "Run `icsresearch data list` to see all names."
        ) from None


def by_path(path: str) -> RegistryFile:
    """Look up a registry file by its relative path (the mirror layout)."""
    for f in REGISTRY.values():
        if f.path == path:
            return f
    raise UnknownDatasetError(f"No registry file has path {path!r}.")
