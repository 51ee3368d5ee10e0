"""The release catalogue: where each collection's files are published and how to recognise them.

Like :mod:`icsresearch.data.registry`, the facts are a data file shipped in the package,
``catalogue.toml`` beside this module (its header documents the fields and the templates), read
on first use (:func:`collections`), never at import. A collection (``rtt``, ``ae``, ...) has one or more layouts, each valid for a span of
periods, with the landing page to read, the links to follow, the pattern of the file's link and
the reader that parses it.

Periods are months written ``YYYY-MM``; :func:`parse_month` and :func:`months` check them with
one clear error.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

from ..errors import InvalidParameterError, UnknownDatasetError

#: The data file holding the collections, in the package (``icsresearch/releases/``).
CATALOGUE_FILE = "catalogue.toml"
#: Replaces the scheme and host of every landing page (a loopback server in the tests).
BASE_URL_ENV = "ICSRESEARCH_RELEASES_BASE_URL"

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: Month names as the publishers write them (not the locale's).
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Layout:
    """How one collection's files are found and laid out over a span of periods.

    Attributes
    ----------
    name
        Short name of the layout (``"full-csv-zip"``).
    start, end
        First and last period (``YYYY-MM``) it applies to; ``end`` empty when still current.
    format
        What the file is (``"zip of one CSV"``).
    landing_page
        URL template of the page listing the files.
    also
        Further landing pages, tried in order when the first lacks the file's link (the current
        release on a collection's front page, older ones on an archive page).
    follow
        Link-text patterns of pages to follow from the landing page before the file link.
    link_text, link_href
        Patterns of the file's link text and href (empty: not used).
    confirmed
        True once the layout has been checked on a real published file.
    notes
        What the file holds and its known quirks.
    """

    name: str
    start: str
    end: str
    format: str
    landing_page: str
    also: tuple[str, ...]
    follow: tuple[str, ...]
    link_text: str
    link_href: str
    confirmed: bool
    notes: str

    def covers(self, period: str) -> bool:
        """Whether ``period`` (``YYYY-MM``) falls in this layout's span.

        Parameters
        ----------
        period
            A month, ``YYYY-MM``.
        """
        return self.start <= period and (not self.end or period <= self.end)


@dataclass(frozen=True)
class Collection:
    """One official release series (``rtt``, ``ae`` ...).

    Attributes
    ----------
    name
        The name ``icsresearch data add`` takes.
    title, publisher, licence, home, description
        What it is and who publishes it (``home``: the statistical work area).
    period
        What a period means for it (a month; a rolling 12-month window named by its last month).
    months
        The calendar months that name a period (``(3, 6, 9, 12)``: quarters named by their last
        month); empty when every month does.
    reader
        ``module:function`` in :mod:`icsresearch.releases` that parses one of its files.
    layouts
        Its layouts, oldest first.
    """

    name: str
    title: str
    publisher: str
    licence: str
    home: str
    period: str
    reader: str
    description: str
    layouts: tuple[Layout, ...]
    months: tuple[int, ...] = ()

    def holds(self, period: str) -> bool:
        """Whether ``period`` (``YYYY-MM``) names one of this collection's periods.

        Parameters
        ----------
        period
            A month, ``YYYY-MM``.
        """
        return not self.months or int(period[5:7]) in self.months

    def periods(self, start: str, end: str) -> list[str]:
        """The collection's periods from ``start`` to ``end`` (months it does not name skipped).

        Parameters
        ----------
        start, end
            The ``--from`` and ``--to`` months (see :func:`months`).

        Raises
        ------
        InvalidParameterError
            As :func:`months`, or no period of the collection falls between them (e.g.
            ``--from 2024-04`` alone for a quarterly collection).
        """
        span = months(start, end)
        out = [p for p in span if self.holds(p)]
        if not out:
            named = ", ".join(f"{m:02d}" for m in self.months)
            y, m = parse_month(start, "--from")
            example = next(
                f"{yy:04d}-{mm:02d}"
                for yy, mm in (_shift(y, m, k) for k in range(12))
                if mm in self.months
            )
            raise InvalidParameterError(
                f"{self.name}: no period between {start} and {end} ({self.period}: its periods "
                f"are named by the months {named}).\n  Fix: ask for a range that holds one, "
                f"e.g. --from {example}."
            )
        return out

    def layout_for(self, period: str) -> Layout:
        """The layout that applies to ``period``.

        Parameters
        ----------
        period
            A month, ``YYYY-MM``.

        Raises
        ------
        InvalidParameterError
            No layout covers the period (before the first one).
        """
        for layout in reversed(self.layouts):
            if layout.covers(period):
                return layout
        first = self.layouts[0].start
        raise InvalidParameterError(
            f"{self.name}: no layout of the catalogue covers {period} (the first is from "
            f"{first}).\n  Fix: ask for periods from {first} on (--from {first})."
        )


def _layout(raw: dict) -> Layout:
    return Layout(
        name=raw["name"],
        start=raw["from"],
        end=raw.get("to", ""),
        format=raw["format"],
        landing_page=raw["landing_page"],
        also=tuple(raw.get("also", ())),
        follow=tuple(raw.get("follow", ())),
        link_text=raw.get("link_text", ""),
        link_href=raw.get("link_href", ""),
        confirmed=bool(raw["confirmed"]),
        notes=raw.get("notes", ""),
    )


def load(text: str | None = None) -> dict[str, Collection]:
    """Read the catalogue (the package's ``catalogue.toml`` by default).

    Parameters
    ----------
    text
        TOML text in the catalogue's format; ``None`` reads the shipped file.

    Returns
    -------
    dict
        Collection name -> :class:`Collection`, in file order.
    """
    if text is None:
        text = resources.files(__package__).joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    fields = {f.name for f in dataclasses.fields(Collection)} - {"name", "layouts", "months"}
    out = {}
    for name, entry in raw.get("collections", {}).items():
        missing = sorted(fields - set(entry))
        if missing or not entry.get("layouts"):  # a broken package, not a user error
            raise RuntimeError(
                f"icsresearch/releases/{CATALOGUE_FILE}: collection {name!r} lacks "
                f"{missing or ['layouts']}. Restore it from the source repository."
            )
        layouts = tuple(sorted((_layout(x) for x in entry["layouts"]), key=lambda x: x.start))
        out[name] = Collection(
            name=name,
            layouts=layouts,
            months=tuple(int(m) for m in entry.get("months", ())),
            **{k: str(entry[k]) for k in sorted(fields)},
        )
    return out


@functools.cache
def collections() -> dict[str, Collection]:
    """The shipped catalogue, read on first use (importing the package never reads it).

    Returns
    -------
    dict
        Collection name -> :class:`Collection`, in file order.
    """
    return load()


def collection(name: str) -> Collection:
    """Look up a collection by name, suggesting close names when there is none.

    Parameters
    ----------
    name
        A collection name, e.g. ``"rtt"``.

    Returns
    -------
    Collection
        Its landing pages, layouts and reader.

    Raises
    ------
    UnknownDatasetError
        No such collection; the message says "did you mean" and lists them all.
    """
    try:
        return collections()[name]
    except KeyError:
        close = difflib.get_close_matches(name.lower(), collections(), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownDatasetError(
            f"No release collection named {name!r}.{hint}\n"
            f"  Fix: use one of {', '.join(collections())} (`icsresearch data add --help`)."
        ) from None


# --- periods -----------------------------------------------------------------------------------


def parse_month(text: str, option: str = "period") -> tuple[int, int]:
    """``"2024-04"`` -> ``(2024, 4)``, with one clear error for anything else.

    Parameters
    ----------
    text
        A month written ``YYYY-MM``.
    option
        The option it came from (``"--from"``), named in the error.

    Raises
    ------
    InvalidParameterError
        Not ``YYYY-MM``, a month outside 01-12, or a year outside 2000-2100.
    """
    m = _MONTH.match(str(text).strip())
    if m is None or not 1 <= int(m[2]) <= 12 or not 2000 <= int(m[1]) <= 2100:
        why = "month must be 01-12" if m is not None and 2000 <= int(m[1]) <= 2100 else ""
        why = why or ("year must be 2000-2100" if m is not None else "not YYYY-MM")
        raise InvalidParameterError(
            f"{option} {text!r} is not a month ({why}).\n"
            f"  Fix: write the month as YYYY-MM, e.g. {option} 2024-04 for April 2024."
        )
    return int(m[1]), int(m[2])


def months(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, as ``YYYY-MM``.

    Parameters
    ----------
    start, end
        Months written ``YYYY-MM`` (the ``--from`` and ``--to`` options).

    Raises
    ------
    InvalidParameterError
        A month is malformed, or ``start`` is after ``end``.

    Examples
    --------
    >>> months("2024-11", "2025-02")
    ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    y0, m0 = parse_month(start, "--from")
    y1, m1 = parse_month(end, "--to")
    if (y0, m0) > (y1, m1):
        raise InvalidParameterError(
            f"--from {start} is after --to {end}.\n"
            f"  Fix: give the earlier month first: --from {end} --to {start}."
        )
    out = []
    y, m = y0, m0
    while (y, m) <= (y1, m1):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    n = year * 12 + (month - 1) + by
    return n // 12, n % 12 + 1


def _fields(year: int, month: int, prefix: str = "") -> dict[str, str]:
    fy = year if month >= 4 else year - 1
    name = MONTH_NAMES[month - 1]
    return {
        f"{prefix}fq": str((month - 4) % 12 // 3 + 1),
        f"{prefix}fy": f"{fy}-{(fy + 1) % 100:02d}",
        f"{prefix}fy_start": str(fy),
        f"{prefix}fy_end": str(fy + 1),
        f"{prefix}yyyy": f"{year:04d}",
        f"{prefix}yy": f"{year % 100:02d}",
        f"{prefix}mm": f"{month:02d}",
        f"{prefix}Month": name,
        f"{prefix}month": name.lower(),
        f"{prefix}Mon": name[:3],
    }


def template_fields(period: str) -> dict[str, str]:
    """The values a template is filled with for ``period`` (see ``catalogue.toml``).

    Parameters
    ----------
    period
        A month, ``YYYY-MM``.

    Examples
    --------
    >>> f = template_fields("2024-04")
    >>> f["fy"], f["Mon"], f["yy"], f["start_Mon"], f["start_yy"], f["fq"], f["month"]
    ('2024-25', 'Apr', '24', 'May', '23', '1', 'april')
    """
    year, month = parse_month(period)
    return {**_fields(year, month), **_fields(*_shift(year, month, -11), prefix="start_")}


def fill(template: str, period: str, *, pattern: bool) -> str:
    """Fill a template for ``period``; in a ``pattern`` the values are regex-escaped.

    Parameters
    ----------
    template
        A landing-page URL or a link pattern of the catalogue.
    period
        A month, ``YYYY-MM``.
    pattern
        True for a regular expression (values escaped), False for a URL.
    """
    values = template_fields(period)

    def one(m: re.Match) -> str:
        value = values[m[1]]
        return re.escape(value) if pattern else value

    return re.sub(r"\{(\w+)\}", one, template)


def landing_url(layout: Layout, period: str) -> str:
    """The landing page of ``period``, with ``ICSRESEARCH_RELEASES_BASE_URL`` applied.

    Parameters
    ----------
    layout
        The layout in force for the period.
    period
        A month, ``YYYY-MM``.
    """
    return landing_urls(layout, period)[0]


def landing_urls(layout: Layout, period: str) -> list[str]:
    """The landing page of ``period`` and the layout's further pages (``also``), in order.

    Parameters
    ----------
    layout
        The layout in force for the period.
    period
        A month, ``YYYY-MM``.
    """
    pages = [layout.landing_page, *layout.also]
    return list(dict.fromkeys(rebase(fill(p, period, pattern=False)) for p in pages))


def rebase(url: str) -> str:
    """``url`` with its scheme and host replaced by ``ICSRESEARCH_RELEASES_BASE_URL`` if set.

    Parameters
    ----------
    url
        An absolute URL.
    """
    base = os.environ.get(BASE_URL_ENV, "").strip()
    if not base:
        return url
    b = urlsplit(base.rstrip("/"))
    u = urlsplit(url)
    return urlunsplit((b.scheme, b.netloc, b.path + u.path, u.query, u.fragment))
