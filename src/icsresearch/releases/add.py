"""``icsresearch data add``: find a collection's files for a range of periods, download, lock.

For each period not yet in the lockfile: the layout in force (:mod:`.catalogue`), its landing
page (fetched once per page and run), the links followed from it, and the file link matching the
layout's patterns; then the file is downloaded into the cache and its URL, size and sha256 are
written to the lockfile (trust on first use). A period already locked is not looked up again:
its file is taken from the cache, the mirror or its locked URL and must have the locked sha256,
so a second run over the same range fetches nothing. ``update=True`` looks every period up again
and re-pins the ones whose file changed, saying so.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..data.store import sha256_of
from ..errors import DataUnavailableError
from . import _net, files
from ._html import Link, links, matching
from .catalogue import Collection, Layout, collection, fill, landing_urls
from .lockfile import Lock, LockedFile, now, read


@dataclass(frozen=True)
class Found:
    """The file link found for one period.

    Attributes
    ----------
    period
        ``YYYY-MM``.
    layout
        The layout it was found by.
    link
        The link (absolute URL and text).
    landing_page
        The page the link was on.
    """

    period: str
    layout: Layout
    link: Link
    landing_page: str


@dataclass
class AddReport:
    """What :func:`add` did.

    Attributes
    ----------
    collection
        The collection.
    lock_path
        The lockfile written.
    added
        Entries locked for the first time.
    updated
        ``(old, new)`` entries re-pinned because the published file changed (``update=True``).
    present
        Entries already locked, whose files were found with the locked hash.
    downloaded
        Entries whose file was downloaded in this run.
    missing
        ``(period, reason)`` for the periods whose file could not be found or fetched.
    """

    collection: str
    lock_path: Path
    added: list[LockedFile] = field(default_factory=list)
    updated: list[tuple[LockedFile, LockedFile]] = field(default_factory=list)
    present: list[LockedFile] = field(default_factory=list)
    downloaded: list[LockedFile] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)


class _Pages:
    """Landing pages fetched in one run, each once (a failure is remembered too)."""

    def __init__(self) -> None:
        self._seen: dict[str, list[Link] | _net.FetchFailed] = {}

    def links(self, url: str) -> list[Link]:
        if url not in self._seen:
            try:
                self._seen[url] = links(_net.get_page(url), url)
            except _net.FetchFailed as exc:
                self._seen[url] = exc
        got = self._seen[url]
        if isinstance(got, _net.FetchFailed):
            raise got
        return got


def find(coll: Collection, period: str, pages: _Pages) -> Found:
    """The file link of one period: landing page(s), links followed, file pattern.

    The layout's landing page is read first; when it lacks the link (or cannot be had), its
    further pages (``also``) are tried in order, and the first page's failure is the one raised
    when none has it.

    Parameters
    ----------
    coll
        The collection.
    period
        ``YYYY-MM``.
    pages
        The pages fetched so far in this run.

    Raises
    ------
    LookupError
        No link matches (the message names the page and the pattern).
    FetchFailed
        A page could not be fetched.
    """
    layout = coll.layout_for(period)
    first: Exception | None = None
    for url in landing_urls(layout, period):
        try:
            return _find_on(coll, layout, period, url, pages)
        except (LookupError, _net.FetchFailed) as exc:
            first = first or exc
    assert first is not None  # a layout has at least one landing page
    raise first


def _find_on(coll: Collection, layout: Layout, period: str, url: str, pages: _Pages) -> Found:
    page_links = pages.links(url)
    for step in layout.follow:
        pattern = fill(step, period, pattern=True)
        hits = matching(page_links, text=pattern)
        if not hits:
            raise LookupError(f"no link whose text matches /{pattern}/ on {url}")
        url = hits[0].url
        page_links = pages.links(url)
    text = fill(layout.link_text, period, pattern=True) if layout.link_text else ""
    href = fill(layout.link_href, period, pattern=True) if layout.link_href else ""
    hits = matching(page_links, text=text, href=href)
    if not hits:
        shown = " and ".join(f"{what} /{p}/" for what, p in (("text", text), ("href", href)) if p)
        raise LookupError(f"no link with {shown} on {url}")
    if len(hits) > 1:
        others = ", ".join(h.filename for h in hits[1:4])
        warnings.warn(
            f"{coll.name} {period}: {len(hits)} links on {url} match; the first in the page "
            f"({hits[0].filename}) is locked, not {others}. Check which one you want.",
            UserWarning,
            stacklevel=3,
        )
    return Found(period, layout, hits[0], url)


def _looks_like_html(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _pin(coll: Collection, found: Found, progress: bool) -> tuple[LockedFile, Path]:
    """Download a found file into a temporary file in the cache and describe it."""
    draft = LockedFile(
        collection=coll.name,
        period=found.period,
        layout=found.layout.name,
        url=found.link.url,
        filename=found.link.filename,
        size=0,
        sha256="0" * 64,
        landing_page=found.landing_page,
        added=now(),
    )
    dest = files.cached_path(draft)
    tmp = files.download_to_cache(found.link.url, dest, label=draft.filename, progress=progress)
    if _looks_like_html(tmp):
        os.unlink(tmp)
        raise LookupError(
            f"{found.link.url} returned a web page, not the file (a moved or withdrawn link?)"
        )
    entry = LockedFile(**{**draft.__dict__, "size": tmp.stat().st_size, "sha256": sha256_of(tmp)})
    return entry, tmp


def add(
    name: str,
    start: str,
    end: str,
    *,
    lock: str | Path | None = None,
    update: bool = False,
    progress: bool = True,
) -> AddReport:
    """Lock a collection's files for every period from ``start`` to ``end``, downloading them.

    Parameters
    ----------
    name
        Catalogue collection, e.g. ``"rtt"``.
    start, end
        First and last month, ``YYYY-MM`` (the ``--from`` and ``--to`` options); a collection
        whose periods are not every month (quarters, survey years) takes the ones between them.
    lock
        The lockfile (created if absent); default :func:`~icsresearch.releases.lockfile.default_path`.
    update
        Look locked periods up again and re-pin those whose published file changed.
    progress
        Show progress bars while downloading.

    Returns
    -------
    AddReport
        What was added, re-pinned, already present, downloaded, and which periods are missing.

    Raises
    ------
    UnknownDatasetError
        No such collection ("did you mean").
    InvalidParameterError
        A malformed month, ``start`` after ``end``, no period of the collection between them,
        or periods before the collection's first layout.
    DataFileError
        ``lock`` exists but is not a lockfile (it is never overwritten).
    DataUnavailableError
        Offline, with periods still to look up or locked files not here.
    LockedHashMismatchError
        A locked period's file (cached, in the mirror, or downloaded again) has changed.

    Examples
    --------
    >>> from icsresearch.releases import add
    >>> report = add("rtt", "2024-04", "2025-03")  # doctest: +SKIP
    >>> [e.filename for e in report.added][:1]  # doctest: +SKIP
    ['Full-CSV-data-file-Apr24-ZIP-3795K-6d1f2.zip']
    """
    coll = collection(name)
    periods = coll.periods(start, end)
    for p in periods:
        coll.layout_for(p)  # periods before the first layout: one error, before any fetch
    book: Lock = read(lock)
    report = AddReport(coll.name, book.path)
    locked = [book.get(coll.name, p) for p in periods]
    todo = [p for p, e in zip(periods, locked, strict=True) if e is None or update]
    if todo and config.offline():
        raise DataUnavailableError(
            f"{coll.name}: {len(todo)} period(s) are not in {book.path} and must be looked up "
            f"on the publisher's pages ({', '.join(todo[:6])}{' ...' if len(todo) > 6 else ''}), "
            f"but {config.OFFLINE_ENV} is set.\n"
            f"  Fix: unset {config.OFFLINE_ENV} and run the command again with network access."
        )
    # Periods already locked (and not being updated): their files, hash-checked, no page fetch.
    keep = [e for e in locked if e is not None and not update]
    for entry, _path, downloaded in files.obtain(keep, book.path, progress=progress):
        report.present.append(entry)
        if downloaded:
            report.downloaded.append(entry)
    pages = _Pages()
    changed = False
    try:
        for period in todo:
            try:
                found = find(coll, period, pages)
                entry, tmp = _pin(coll, found, progress)
            except (LookupError, _net.FetchFailed) as exc:
                report.missing.append((period, str(exc)))
                continue
            old = book.get(coll.name, period)
            unchanged = old is not None and old.sha256 == entry.sha256
            try:
                # an unchanged file keeps the entry it was first locked with (date, URL)
                files.install(tmp, files.cached_path(old if unchanged else entry))
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            if unchanged:
                report.present.append(old)
                report.downloaded.append(old)
                continue
            book.put(entry)
            changed = True
            report.downloaded.append(entry)
            if old is None:
                report.added.append(entry)
            else:
                report.updated.append((old, entry))
    finally:
        if changed:
            book.save()
    return report


def fetch_lock(lock: str | Path | None = None, *, progress: bool = True) -> list[LockedFile]:
    """Bring every file of a lockfile into the cache (mirror or locked URL), hash-checked.

    Parameters
    ----------
    lock
        The lockfile; default :func:`~icsresearch.releases.lockfile.default_path`.
    progress
        Show progress bars while downloading.

    Returns
    -------
    list of LockedFile
        The entries downloaded in this call (the others were already here).

    Raises
    ------
    DataFileError
        No lockfile there, or not a lockfile.
    DataUnavailableError
        Files that cannot be had (one message naming them all).
    LockedHashMismatchError
        A file's bytes differ from the locked sha256.
    """
    book = read(lock, must_exist=True)
    got = files.obtain(book.files, book.path, progress=progress)
    return [e for e, _, downloaded in got if downloaded]
