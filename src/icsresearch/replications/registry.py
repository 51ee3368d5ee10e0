"""The replications the workbench ships: id, title, data, notebook and paper entry.

Kept free of heavy imports: ``icsresearch replicate --list`` reads only this.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidParameterError


@dataclass(frozen=True)
class Replication:
    """One replication.

    Attributes
    ----------
    id
        Identifier used on the command line (``icsresearch replicate <id>``).
    title
        One line: the finding and the publication.
    data
        ``"real"`` (published NHS files through the registry) or ``"simulated"``.
    module
        The ``icsresearch.replications`` submodule holding its analysis code.
    inputs
        Registry names of the files it reads (empty for simulated data).
    """

    id: str
    title: str
    data: str
    module: str
    inputs: tuple[str, ...] = ()

    @property
    def notebook(self) -> str:
        """File name of its notebook in the package folder ``icsresearch/replications/notebooks``."""
        return f"{self.id}.ipynb"

    @property
    def paper(self) -> str:
        """Path of its paper entry, relative to the repository root."""
        return f"papers/{self.id}.md"


REPLICATIONS: dict[str, Replication] = {
    r.id: r
    for r in (
        Replication(
            "asaria2022",
            "Management and hospital performance: Asaria, McGuire & Street, Fiscal Studies 2022",
            "real",
            "asaria2022",
            (
                "hm_providers",
                "hm_managers",
                "hm_consultants",
                "hm_all_staff",
                "hm_staff_survey",
                "hm_finance",
                "hm_ae",
                "hm_rtt",
                "hm_shmi",
                "hm_admissions",
                "hm_beds",
                "non_medical_staff_2017",
                "hm_afc_pay_scales",
            ),
        ),
        Replication(
            "griffiths2016",
            "Nurse staffing and mortality in English trusts: Griffiths et al., BMJ Open 2016 "
            "(and Rubbo et al. 2023)",
            "real",
            "griffiths2016",
            (
                "hm_providers",
                "hchs_staff_groups",
                "hm_beds",
                "hm_shmi",
                "eric_sites_2019",
                "trust_successions",
            ),
        ),
        Replication(
            "mchugh2021",
            "Nurse-to-patient ratio legislation in Queensland: McHugh et al., Lancet 2021 "
            "(design replication)",
            "simulated",
            "mchugh2021",
        ),
    )
}


def get_replication(rep_id: str) -> Replication:
    """The replication called ``rep_id``; a clear error listing the known ones otherwise."""
    try:
        return REPLICATIONS[rep_id]
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"unknown replication {rep_id!r}; known: {', '.join(REPLICATIONS)}\n"
            "  Fix: run `icsresearch replicate --list` and use one of those ids"
        ) from None
