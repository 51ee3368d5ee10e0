"""Report parameters: validated against the reference geography before anything runs.

The same checks serve the notebook's first cell and the batch, so a bad code fails in the same
words everywhere: an unknown ICS code lists every valid code of the footprint and source.
Validated values are plain data (strings and ints); the batch hands them to papermill, which
writes them into the notebook's injected-parameters cell as literals. Output paths are built from
validated codes only.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InvalidParameterError
from ..options import Footprint, Source, TrustIcsMethod, check

#: Financial years (start) a report can describe: 2012/13-2018/19 (the compilations) and
#: 2021/22-2024/25 (the ICS-era files). No registry file has trust A&E, RTT, workforce or beds for
#: 2019/20 and 2020/21, so a report on them would be empty.
REPORT_YEARS = (*range(2012, 2019), *range(2021, 2025))
#: The latest financial year every ICS-era file covers in full: 2023/24. The A&E compilation runs
#: to July 2025, but its February and March 2025 repeat 2024's months and are set missing, so
#: 2024/25 has 10 months of A&E (a report on it says so).
DEFAULT_YEAR = 2023
#: ICB ODS codes: three-character Q-codes (2022) and the five-character codes of the boards
#: created in April 2026 (e.g. ``D7T5G``); the demo's ZQ01/ZN01. Nothing else reaches a path.
_CODE_PATTERN = re.compile(r"^[A-Z0-9]{3,5}$")
#: The parameters the notebook declares, in order.
PARAMETER_NAMES = ("ics_code", "footprint", "source", "year", "method")


@dataclass(frozen=True)
class ReportParameters:
    """Validated parameters of one ICS report.

    Attributes
    ----------
    ics_code
        ODS code of the system (upper case, e.g. ``"QYG"``; demo ``"ZQ01"``).
    footprint
        2022 (42 ICBs) or 2026 (36 ICBs).
    source
        ``"demo"`` (synthetic, offline) or ``"real"`` (published files through the registry).
    year
        Financial-year start of the cross-sectional comparisons (2018 = 2018/19).
    method
        Trust-to-ICS method: ``"headquarters"``, ``"catchment"`` or ``"ae_activity"``.
    """

    ics_code: str
    footprint: int
    source: str
    year: int
    method: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, in the notebook's parameter order."""
        return asdict(self)

    @property
    def fy(self) -> str:
        """The financial-year label of ``year``, e.g. ``"2018/19"``."""
        return f"{self.year}/{(self.year + 1) % 100:02d}"


def check_year(year: Any) -> int:
    """Return ``year`` as an int if it is a financial-year start the panels cover.

    Parameters
    ----------
    year
        A financial-year start (``2018`` or ``"2018"`` for 2018/19).
    """
    value: int | None = None
    if isinstance(year, float) and year.is_integer():
        value = int(year)
    elif not isinstance(year, bool | float):
        try:
            value = int(str(year).strip())
        except (TypeError, ValueError):
            value = None
    if value not in REPORT_YEARS:
        gap = (
            " (2019/20 and 2020/21 are a gap in the published trust files)"
            if value
            in (
                2019,
                2020,
            )
            else ""
        )
        raise InvalidParameterError(
            f"year={year!r} is not a report year{gap}; use a financial-year start from 2012 to "
            f"2018 or 2021 to {REPORT_YEARS[-1]} ({REPORT_YEARS[-1]} = "
            f"{REPORT_YEARS[-1]}/{(REPORT_YEARS[-1] + 1) % 100:02d}), the years the panels cover."
        )
    return value


def shorten(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters with its length said (errors never echo 100 KB).

    Parameters
    ----------
    value
        What the user gave.
    limit
        Characters of the repr kept.

    Examples
    --------
    >>> shorten("x" * 1000, 10)
    "'xxxxxxxx... (1000 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str | bytes) else len(text)
    return f"{text[: limit - 1]}... ({size} characters)"


def check_code_shape(code: Any) -> str:
    """Upper-case an ICS code and check it is a plain ODS-style code (no path or code characters).

    This is a cheap guard used before the reference geography is loaded; the real check is
    :func:`validate_report_parameters`.

    Parameters
    ----------
    code
        The code asked for.
    """
    clean = str(code).strip().upper()
    if not _CODE_PATTERN.fullmatch(clean):
        raise InvalidParameterError(
            f"ICS code {shorten(code)} is not an ODS code (3-5 letters and digits, e.g. 'QYG'). "
            "Run `icsresearch reports --help`, or see geography.icbs(), for the valid codes."
        )
    return clean


def validate_report_parameters(
    ics_code: str,
    footprint: Footprint = 2022,
    source: Source = "real",
    year: int = DEFAULT_YEAR,
    method: TrustIcsMethod = "headquarters",
) -> ReportParameters:
    """Check every report parameter, the ICS code against the footprint's reference geography.

    ``footprint``, ``source`` and ``method`` are checked by :func:`icsresearch.options.check`
    (one error shape for every option of the package).

    Parameters
    ----------
    ics_code
        ICB ODS code; case and surrounding spaces are ignored.
    footprint
        2022 or 2026 (``"2026"`` from a command line is accepted and returned as the int).
    source
        ``"real"`` (published files through the registry, the default) or ``"demo"``.
    year
        Financial-year start: 2012-2018 or 2021-2024 (default 2023 = 2023/24).
    method
        Trust-to-ICS method.

    Returns
    -------
    ReportParameters

    Raises
    ------
    UnknownCodeError
        A code that is not a system of the footprint and source; the message lists every valid
        code with its name.
    InvalidParameterError
        Any other bad value, naming it and the valid choices.

    Examples
    --------
    >>> validate_report_parameters("zq01", 2022, "demo").ics_code
    'ZQ01'
    """
    from .. import geography  # the reference tables: loaded only once parameters look sane

    src = check("source", source, Source)
    fp = check("footprint", footprint, Footprint)
    meth = check("method", method, TrustIcsMethod)
    yr = check_year(year)
    code = geography.validate_ics_code(ics_code, fp, src)
    check_code_shape(code)  # the reference tables only hold plain codes; keep paths safe anyway
    return ReportParameters(ics_code=code, footprint=fp, source=src, year=yr, method=meth)


def valid_codes(footprint: Footprint = 2022, source: Source = "real") -> list[str]:
    """Every ICS code of a footprint and source, sorted (the ``--all`` set of the batch).

    Parameters
    ----------
    footprint
        2022 or 2026.
    source
        ``"real"`` (the default) or ``"demo"``.
    """
    from .. import geography

    fp = check("footprint", footprint, Footprint)
    codes = geography.icbs(fp, check("source", source, Source))["icb_code"]
    return sorted(check_code_shape(c) for c in codes)


#: Where the report notebook lives inside the package (shipped in the wheel as package data).
TEMPLATE = ("templates", "ics_profile.ipynb")


def default_notebook() -> Path:
    """The report notebook shipped with the package (``icsresearch/reports/templates/``).

    Found through :mod:`importlib.resources`, so it is the same file in a source checkout and in
    an installed wheel.

    Raises
    ------
    InvalidParameterError
        The package is not installed as files (e.g. imported from a zip archive), so the notebook
        has no path papermill could read; pass ``--notebook PATH``.
    """
    ref = resources.files(__package__).joinpath(*TEMPLATE)
    path = Path(str(ref))
    if not isinstance(ref, Path) or not path.is_file():
        raise InvalidParameterError(
            f"The report notebook {'/'.join(TEMPLATE)} is not a file inside the installed "
            f"icsresearch package ({ref}); reinstall the package, or pass --notebook PATH."
        )
    return path
