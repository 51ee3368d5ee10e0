"""Report parameters: validated against the reference geography before anything runs.

The same checks serve the notebook's first cell and the batch, so a bad code fails in the same
words everywhere: an unknown ICS code lists every valid code of the footprint and source.
Validated values are plain data (strings and ints); the batch hands them to papermill, which
writes them into the notebook's injected-parameters cell as literals. Output paths are built from
validated codes only.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InvalidParameterError, UnknownCodeError, shorten
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
    try:
        code = geography.validate_ics_code(ics_code, fp, src)
    except UnknownCodeError as exc:  # the same error, with what the code probably meant
        raise UnknownCodeError(
            exc.codes, fp, src, unknown_codes_message(exc.codes, fp, src, single=True)
        ) from None
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


# --- unknown codes: what the user probably meant ------------------------------------------------

#: How many "did you mean" candidates an unknown code gets.
_MAX_SUGGESTIONS = 3


def _systems(footprint: int, source: str):
    """The ICB table of a footprint and source, or ``None`` when it cannot be read (offline)."""
    from .. import geography
    from ..errors import IcsResearchError

    try:
        return geography.icbs(footprint, source)
    except (IcsResearchError, OSError):  # no real files here: hints from the other tables only
        return None


def _label(table, code: str) -> str:
    """``"QE1 (Lancashire & South Cumbria)"`` for a code of ``table``."""
    row = table.loc[table["icb_code"] == code]
    return f"{code} ({row['short_name'].iloc[0]})" if len(row) else code


def _close_matches(text: str, table) -> list[str]:
    """Codes of ``table`` whose code looks like ``text`` or whose name contains or resembles it."""
    clean = text.strip().upper()
    codes = list(table["icb_code"])
    words = text.strip().lower()
    if len(words) >= 3:  # a name (or part of one): "Cheshire", "south yorks"
        in_name = [
            c for c, n in zip(codes, table["icb_name"], strict=True) if words in str(n).lower()
        ]
        if in_name:  # the name itself was typed: no fuzzy noise beside it
            return in_name[:_MAX_SUGGESTIONS]

    def likeness(candidate: str, target: str) -> tuple[float, int]:
        # difflib's ratio, ties broken by the shared first characters ("QE2" is nearer QE1 than QWE)
        shared = len(os.path.commonprefix([candidate, target]))
        return difflib.SequenceMatcher(None, target, candidate).ratio(), shared

    def unpadded(value: str) -> str:  # "ZQ7" and "ZQ07" are the same typing
        return re.sub(r"(?<![0-9])0+(?=[0-9])", "", value)

    found = [c for c in codes if unpadded(c) == unpadded(clean)]
    scored = [(likeness(c, clean), c) for c in codes]
    found += [c for score, c in sorted(scored, reverse=True) if score[0] >= 0.6]
    if len(words) >= 3:
        shorts = {str(s).lower(): c for c, s in zip(codes, table["short_name"], strict=True)}
        found += [
            shorts[s] for s in difflib.get_close_matches(words, list(shorts), n=3, cutoff=0.6)
        ]
    return list(dict.fromkeys(found))[:_MAX_SUGGESTIONS]


def _looks_real(code: str) -> bool:
    """A real ICB code by its shape (Q and two characters) or in the project's 2026 table."""
    from .. import geography

    changes = geography.icb_changes_2026()
    known = set(changes["icb2022_code"]) | set(changes["icb2026_code"])
    return code in known or re.fullmatch(r"Q[A-Z0-9]{2}", code) is not None


def code_hint(code: str, footprint: int, source: str) -> tuple[str, str]:
    """Why ``code`` is not a system of this footprint and source, and what to do instead.

    Checked in turn: a code of the other data source (a real code with demo data, or a demo code
    with real data), a code of the other footprint (a 2022 system merged or split in April 2026,
    or a board that exists from April 2026 only), then codes and names that look alike (difflib).

    Parameters
    ----------
    code
        The code (or name) the user gave.
    footprint
        2022 or 2026.
    source
        ``"real"`` or ``"demo"``.

    Returns
    -------
    tuple of str
        The explanation (``""`` when nothing is known) and the fix (``""`` when none).

    Examples
    --------
    >>> code_hint("ZQ01", 2022, "real")[1]
    'add --source demo (Python: source="demo")'
    """
    clean = str(code).strip().upper()
    other_source = "demo" if source == "real" else "real"
    other_fp = 2026 if footprint == 2022 else 2022
    table = _systems(footprint, source)
    elsewhere = _systems(footprint, other_source)
    if elsewhere is not None and clean in set(elsewhere["icb_code"]):
        what = "a real NHS ICB" if other_source == "real" else "a fictional system of the demo data"
        return (
            f"{_label(elsewhere, clean)} is {what}, but these are {source} data",
            f'add --source {other_source} (Python: source="{other_source}")',
        )
    if elsewhere is None and source == "demo" and _looks_real(clean):
        # the real tables need the published files; the code's shape is enough to say so
        return (
            f"{clean} looks like a real NHS ICB code, but these are demo data (fictional systems)",
            'add --source real (Python: source="real")',
        )
    if footprint == 2026:
        later = _systems(2026, source)
        earlier = _systems(2022, source)
        if later is not None and earlier is not None and clean in set(earlier["icb_code"]):
            successors = [
                c for c, p in zip(later["icb_code"], later["predecessors"], strict=True)
                if clean in str(p).split(";")
            ]  # fmt: skip
            named = ", ".join(_label(later, c) for c in successors)
            if len(successors) == 1:
                what = f"became part of {named} on 1 April 2026"
                fix = f"use --ics {successors[0]}, or --footprint 2022 for the system as it was"
            else:
                what = f"was split on 1 April 2026 among {named}"
                fix = (
                    f"use --ics {' --ics '.join(successors)}, or --footprint 2022 for the "
                    "system as it was"
                )
            return f"{_label(earlier, clean)} (2022 footprint) {what}", fix
    else:
        later = _systems(other_fp, source)
        if later is not None and clean in set(later["icb_code"]):
            preds = later.loc[later["icb_code"] == clean, "predecessors"].iloc[0]
            return (
                f"{_label(later, clean)} is a board of the 2026 footprint (from 1 April 2026; "
                f"it covers the 2022 systems {preds.replace(';', ', ')})",
                "add --footprint 2026 (Python: footprint=2026)",
            )
    if table is not None:
        alike = _close_matches(str(code), table)
        if alike:
            return (
                f"{shorten(code)}: did you mean {' or '.join(_label(table, c) for c in alike)}?",
                f"use --ics {alike[0]}" if len(alike) == 1 else "use one of the codes suggested",
            )
    return "", ""


def unknown_codes_message(
    codes: tuple[str, ...] | list[str], footprint: int, source: str, *, single: bool = False
) -> str:
    """The message of an :class:`~icsresearch.errors.UnknownCodeError`: hints, codes, one fix.

    Each unknown code gets its hint (:func:`code_hint`); then every valid code with its name; the
    message ends with one ``Fix:`` line.

    Parameters
    ----------
    codes
        The unknown codes, as given.
    footprint
        2022 or 2026.
    source
        ``"real"`` or ``"demo"``.
    single
        Word the first line for one code (``'X' is not an ICS (ICB) code ...``).
    """
    where = f"in the {footprint} footprint ({source} data)"
    named = ", ".join(shorten(c) for c in codes[:10]) + (
        f" and {len(codes) - 10} more" if len(codes) > 10 else ""
    )
    lines = [
        f"{named} is not an ICS (ICB) code {where}."
        if single
        else f"{named}: not ICS (ICB) codes {where}."
    ]
    fixes = []
    for code in list(codes)[:10]:
        hint, fix = code_hint(code, footprint, source)
        if hint:
            lines.append(f"  - {hint}")
        if fix:
            fixes.append(fix if single or len(codes) == 1 else f"for {shorten(code)}, {fix}")
    table = _systems(footprint, source)
    if table is not None:
        lines.append(
            "Valid codes: "
            + ", ".join(
                f"{c} ({n})" for c, n in zip(table["icb_code"], table["short_name"], strict=True)
            )
        )
    listing = f"icsresearch codes --footprint {footprint} --source {source}"
    fixes.append(f"`{listing}` lists every code with its name and region")
    lines.append("  Fix: " + "; ".join(dict.fromkeys(fixes)) + ".")
    return "\n".join(lines)
