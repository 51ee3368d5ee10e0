"""Links on a landing page, read with the standard library's :mod:`html.parser`.

A link is its ``href`` resolved against the page URL and its text with whitespace collapsed
(nested tags such as ``<span>`` are read through). Matching follows ``catalogue.toml``: every
pattern given must be found in the text, or in the href as written or percent-decoded, ignoring
case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin


@dataclass(frozen=True)
class Link:
    """One ``<a href>`` of a page: the absolute URL and the visible text."""

    url: str
    text: str

    @property
    def filename(self) -> str:
        """The last part of the URL's path, percent-decoded."""
        return unquote(self.url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1])


class _Links(HTMLParser):
    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[Link] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                self.base = urljoin(self.base, href)
        if tag != "a":
            return
        href = dict(attrs).get("href")
        if href:
            self._open.append((href.strip(), []))

    def handle_data(self, data):
        for _, parts in self._open:
            parts.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, parts = self._open.pop()
            text = " ".join("".join(parts).split())
            self.links.append(Link(urljoin(self.base, href), text))

    def close(self):
        super().close()
        while self._open:  # an <a> never closed: keep what it had
            self.handle_endtag("a")


def links(html: str, page_url: str) -> list[Link]:
    """Every link of a page, in document order.

    Parameters
    ----------
    html
        The page's HTML.
    page_url
        Its URL (relative hrefs are resolved against it, or against a ``<base href>``).

    Returns
    -------
    list of Link
        Absolute URL and collapsed text of each ``<a href>``.

    Examples
    --------
    >>> [l.url for l in links('<a href="f/x.zip">X <b>1</b></a>', "http://h/p/")]
    ['http://h/p/f/x.zip']
    """
    parser = _Links(page_url)
    parser.feed(html)
    parser.close()
    return parser.links


def matching(found: list[Link], *, text: str = "", href: str = "") -> list[Link]:
    """The links whose text matches ``text`` and whose href matches ``href`` (regexes).

    Parameters
    ----------
    found
        Links of a page.
    text, href
        Regular expressions (already filled for the period); empty ones are not checked.

    Returns
    -------
    list of Link
        Distinct matching links (by URL), in document order.
    """
    text_re = re.compile(text, re.IGNORECASE) if text else None
    href_re = re.compile(href, re.IGNORECASE) if href else None
    out: dict[str, Link] = {}
    for link in found:
        if text_re is not None and not text_re.search(link.text):
            continue
        if href_re is not None and not (
            href_re.search(link.url) or href_re.search(unquote(link.url))
        ):
            continue
        out.setdefault(link.url, link)
    return list(out.values())
