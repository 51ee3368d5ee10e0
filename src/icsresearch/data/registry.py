"""The registry: every published file the workbench reads, pinned by URL and sha256.

Like pooch's registry, the entries are a data file, ``registry.csv`` beside this module (one row
per file: the fields of :class:`RegistryFile`), read once at import; a file is only ever accepted
if its sha256 matches the value there. URLs point at public GitHub repositories at fixed commits,
so the bytes can never change under the same URL. Facts only live there (where a file is, its
hash, licence and publisher); the data themselves are fetched into the cache or read from a mirror
(see :mod:`icsresearch.data.store`). ``tests/test_data_registry.py`` checks the file's schema.

The underlying statistics are Crown copyright public sector information under the Open Government
Licence v3.0; the carrier repositories' licences are given per file.
"""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass
from importlib import resources

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


#: The data file holding the entries, in the package (``icsresearch/data/registry.csv``).
REGISTRY_FILE = "registry.csv"


def _load() -> dict[str, RegistryFile]:
    """Read ``registry.csv``: one :class:`RegistryFile` per row, keyed by name, in file order."""
    fields = [f.name for f in dataclasses.fields(RegistryFile)]
    text = resources.files(__package__).joinpath(REGISTRY_FILE).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    header = list(rows[0]) if rows else []
    if header != fields:  # a broken package, not a user error: say what the file must hold
        raise RuntimeError(
            f"icsresearch/data/{REGISTRY_FILE} has columns {header}; it must have {fields}. "
            "Restore it from the source repository (git checkout src/icsresearch/data)."
        )
    return {row["name"]: RegistryFile(**{**row, "size": int(row["size"])}) for row in rows}


REGISTRY: dict[str, RegistryFile] = _load()


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
