"""Official NHS releases on demand: found on the publishers' pages, pinned in a lockfile, read.

The registry (:mod:`icsresearch.data`) pins the files the workbench ships with. This package
brings in this month's figures straight from NHS England and NHS Digital, and pins them the same
way, in a lockfile beside the user's work:

>>> from icsresearch.releases import add, read_rtt, rtt_trust_year
>>> add("rtt", "2024-04", "2025-03")  # doctest: +SKIP
>>> rtt = read_rtt()  # only the bytes icsresearch.lock pins  # doctest: +SKIP

* :mod:`.catalogue` (``catalogue.toml``): per collection, its landing pages, how the file link is
  recognised on them, its layouts by period and its reader;
* :mod:`.add`: ``icsresearch data add`` (find, download with retries, lock: trust on first use);
* :mod:`.lockfile`: ``icsresearch.lock`` (TOML: URL, size, sha256 per file);
* :mod:`.files`: the cache, the mirror, the locked URL, and the sha256 check every read makes;
* readers: :func:`read_rtt` (Full CSV data file), :func:`read_ae` (monthly CSV),
  :func:`read_ae_provider` (provider workbook), :func:`read_shmi` (trust level);
  :func:`rtt_trust_year` gives the trust-year panel's RTT columns from the locked March files.

Every layout was built from the documented layouts and tested on hand-made fixtures only; see
``docs/releases.md`` for what to check first on real files.
"""

from __future__ import annotations

from .add import AddReport, add, fetch_lock
from .ae import read_ae, read_ae_provider
from .catalogue import Collection, Layout, collection, collections, months
from .files import LockedHashMismatchError, Status, check, verify
from .lockfile import LOCK_ENV, LOCK_NAME, Lock, LockedFile, default_path, read
from .rtt import read_rtt, rtt_providers, rtt_trust_year
from .shmi import read_shmi

__all__ = [
    "LOCK_ENV",
    "LOCK_NAME",
    "AddReport",
    "Collection",
    "Layout",
    "Lock",
    "LockedFile",
    "LockedHashMismatchError",
    "Status",
    "add",
    "check",
    "collection",
    "collections",
    "default_path",
    "fetch_lock",
    "months",
    "read",
    "read_ae",
    "read_ae_provider",
    "read_rtt",
    "read_shmi",
    "rtt_providers",
    "rtt_trust_year",
    "verify",
]
