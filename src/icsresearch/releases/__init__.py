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
  :func:`read_ae_provider` (provider workbook), :func:`read_shmi` (trust level),
  :func:`read_workforce` (FTE by staff group and organisation), :func:`read_kh03` (beds by
  sector), :func:`read_dm01` (diagnostic waits), :func:`read_ambsys` and
  :func:`read_ambsys_series` (ambulance response times), :func:`read_cancer` (cancer waiting
  times), :func:`read_staff_survey` (theme scores);
* :mod:`.panel`: what the trust-year panel takes from the lockfile (RTT, workforce, SHMI, KH03
  after the compilations end); :func:`rtt_trust_year`, :func:`workforce_trust_year`,
  :func:`shmi_trust_year` and :func:`kh03_trust_year` give those tables on their own.

Every layout was built from the documented layouts and tested on hand-made fixtures only; see
``docs/releases.md`` for what to check first on real files.
"""

from __future__ import annotations

from ..errors import LockedHashMismatchError
from .add import AddReport, add, fetch_lock
from .ae import read_ae, read_ae_provider
from .ambsys import read_ambsys, read_ambsys_series
from .cancer import read_cancer
from .catalogue import Collection, Layout, collection, collections, months
from .dm01 import read_dm01
from .files import Status, check, verify
from .kh03 import kh03_trust_year, read_kh03
from .lockfile import LOCK_ENV, LOCK_NAME, Lock, LockedFile, default_path, read
from .panel import panel_inputs
from .rtt import read_rtt, rtt_providers, rtt_trust_year
from .shmi import read_shmi, shmi_trust_year
from .staff_survey import read_staff_survey
from .workforce import read_workforce, workforce_trust_year

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
    "kh03_trust_year",
    "months",
    "panel_inputs",
    "read",
    "read_ae",
    "read_ae_provider",
    "read_ambsys",
    "read_ambsys_series",
    "read_cancer",
    "read_dm01",
    "read_kh03",
    "read_rtt",
    "read_shmi",
    "read_staff_survey",
    "read_workforce",
    "rtt_providers",
    "rtt_trust_year",
    "shmi_trust_year",
    "verify",
    "workforce_trust_year",
]
