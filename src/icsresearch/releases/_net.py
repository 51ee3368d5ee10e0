"""HTTP for the releases: landing pages and files, with retries and backoff.

Files are downloaded with the registry's downloader (:func:`icsresearch.data.store.download_url`:
pooch over requests, a rich progress bar); pages with requests directly. A failure that may pass
(a timeout, a refused connection, HTTP 429 or 5xx) is tried again after 1, 2, 4 ... seconds
(:data:`RETRIES` attempts in all, :data:`BACKOFF_SECONDS` the first wait); a 404 or another client
error is not. Nothing here runs in strict offline mode: callers check
:func:`icsresearch.config.offline` first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..data.store import download_url

#: Attempts in all for one page or file.
RETRIES = 3
#: Wait before the second attempt; doubled before each later one.
BACKOFF_SECONDS = 1.0
#: Seconds to wait for a server to answer.
TIMEOUT = 60

_T = TypeVar("_T")


class FetchFailed(Exception):
    """A page or file could not be had; ``reason`` says why (``HTTP 404``, a connection error)."""

    def __init__(self, url: str, reason: str, status: int | None = None):
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(f"{url}: {reason}")


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _transient(exc: BaseException) -> bool:
    status = _status(exc)
    if status is None:
        return True  # timeouts, refused or reset connections
    return status == 429 or status >= 500


def with_retries(url: str, attempt: Callable[[], _T]) -> _T:
    """``attempt()``, tried again with backoff while it fails in a way that may pass.

    Parameters
    ----------
    url
        What is being fetched (for the error).
    attempt
        One try; it raises the HTTP client's error on failure.

    Raises
    ------
    FetchFailed
        The last failure, or the first one that will not pass (HTTP 404 ...).
    """
    wait = BACKOFF_SECONDS
    for n in range(1, RETRIES + 1):
        try:
            return attempt()
        except Exception as exc:  # requests raises many types; all mean "could not fetch"
            status = _status(exc)
            reason = f"HTTP {status}" if status is not None else f"{type(exc).__name__}: {exc}"
            if n == RETRIES or not _transient(exc):
                tries = f" (after {n} attempts)" if n > 1 else ""
                raise FetchFailed(url, reason + tries, status) from None
            time.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def get_page(url: str) -> str:
    """The text of a web page (retried; see the module docstring).

    Parameters
    ----------
    url
        The page.

    Raises
    ------
    FetchFailed
        The page could not be had.
    """
    import requests

    def attempt() -> str:
        response = requests.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        return response.text

    return with_retries(url, attempt)


def download(url: str, dest: Path, *, label: str, progress: bool) -> None:
    """Download a file to ``dest`` with a progress bar (retried; see the module docstring).

    Parameters
    ----------
    url
        The file.
    dest
        Where to write it (a temporary name; the caller checks the hash).
    label
        Shown beside the progress bar.
    progress
        Show the progress bar.

    Raises
    ------
    FetchFailed
        The file could not be had.
    """
    with_retries(url, lambda: download_url(url, dest, label=label, progress=progress))
