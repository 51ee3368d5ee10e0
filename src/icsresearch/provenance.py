"""Provenance: what every output records about how it was made.

:class:`Provenance` is the one record: the input files (:class:`InputFile`: registry name, path,
sha256, whether it matched the registry), the parameters, package versions, the git revision of
the workbench, a timestamp and a required three-valued ``synthetic`` flag. It travels with the
data:

* readers attach it to their tables (``attrs["provenance"]``: published data, one file);
* panels combine their inputs' records and add their options (the demo's are synthetic);
* model results carry the record of the data they were fitted on;
* figures and reports read it with :func:`of` for their footer and the "synthetic demo data"
  stamp.

:func:`of` finds the record of anything the package makes; what has none is *unknown*, never
published NHS data. A manifest (:func:`manifest`, written as JSON by :func:`write_manifest`) is
the record as a dict (:meth:`Provenance.to_dict`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import hashlib
import json
import platform
import subprocess
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

#: Libraries whose versions change numbers or figures.
TRACKED_PACKAGES = (
    "icsresearch",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "pyfixest",
    "matplotlib",
    "papermill",
    "pyreadr",
    "openpyxl",
)


def package_versions(packages: Iterable[str] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions (``"not installed"`` when absent); looked up once per process."""
    return dict(_versions(tuple(packages)))


@functools.cache
def _versions(packages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return tuple(out.items())


@functools.cache
def git_revision() -> str:
    """The git commit of the workbench source (``+dirty`` if it has uncommitted changes), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def describe_environment() -> dict[str, str]:
    """Python, platform, git revision and tracked package versions, for display and manifests."""
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_revision": git_revision(),
    }
    env.update(package_versions())
    return env


def input_record(df_or_attrs: Any) -> dict[str, Any]:
    """The input file of one reader's table, as a dict (``source, path, sha256, verified``).

    Parameters
    ----------
    df_or_attrs
        A reader's table, or its ``attrs``.
    """
    attrs = getattr(df_or_attrs, "attrs", df_or_attrs)
    stored = attrs.get("provenance")
    if isinstance(stored, Provenance) and len(stored.inputs) == 1:
        return stored.inputs[0].as_dict()
    return InputFile.from_mapping(attrs).as_dict()


def manifest(
    *,
    inputs: Iterable[InputFile | Mapping[str, Any]] = (),
    parameters: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    synthetic: bool | None = None,
) -> dict[str, Any]:
    """A manifest dict: a :class:`Provenance` record made now, as :meth:`Provenance.to_dict`.

    The inputs are written as given (a report's records carry keys the record does not model,
    such as the file name); :meth:`Provenance.from_dict` reads the manifest back.

    Parameters
    ----------
    inputs
        Files read (:class:`InputFile` or dicts with ``source, path, sha256, verified``).
    parameters
        Options the output was made with.
    extra
        Further keys of the manifest (a ``"synthetic"`` key here sets the flag when
        ``synthetic`` is not given).
    synthetic
        True (demo data), False (published data) or None (unknown).
    """
    more = dict(extra or {})
    flag = more.pop("synthetic", None) if synthetic is None else synthetic
    more.pop("synthetic", None)
    given = [i.as_dict() if isinstance(i, InputFile) else dict(i) for i in inputs]
    record = Provenance.record(
        synthetic=None if flag is None else bool(flag),
        inputs=given,
        parameters=parameters,
        extra=more,
    )
    return {**record.to_dict(), "inputs": given}


def write_manifest(path: str | Path, record: Mapping[str, Any]) -> Path:
    """Write a manifest as JSON atomically."""
    from ._atomic import atomic_write_text

    return atomic_write_text(
        path, json.dumps(record, indent=2, sort_keys=False, default=str) + "\n"
    )


# --- the typed record -------------------------------------------------------------------------


@dataclass(frozen=True)
class InputFile:
    """One file an output was made from.

    Attributes
    ----------
    source
        Registry name (``"hm_rtt"``), or None for a file the registry does not know.
    path
        Where it was read from.
    sha256
        Hash of the bytes read.
    verified
        True when the bytes are the registry's, False for a user-supplied or modified file, None
        when nobody checked.
    """

    source: str | None
    path: str | None = None
    sha256: str | None = None
    verified: bool | None = None

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> InputFile:
        """Build from a dict such as :func:`input_record` returns."""
        verified = m.get("verified")
        return cls(
            source=m.get("source"),
            path=None if m.get("path") is None else str(m.get("path")),
            sha256=m.get("sha256"),
            verified=None if verified is None else bool(verified),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready ``{source, path, sha256, verified}``."""
        return {
            "source": self.source,
            "path": self.path,
            "sha256": self.sha256,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class Provenance:
    """What an output was made from, carried from readers to panels, results, figures and reports.

    ``synthetic`` is required and three-valued: True for anything made from the demo data
    (directly or through a model), False for published data, None when nobody knows. Unknown
    provenance prints as unknown, never as an NHS source.

    Attributes
    ----------
    synthetic
        True (synthetic demo data), False (published data) or None (unknown).
    inputs
        The files read, each with its hash and whether it was verified.
    parameters
        The options the output was made with.
    environment
        Python, platform and tracked package versions.
    git_revision
        The workbench's git commit (``+dirty`` for uncommitted changes), or ``"unknown"``.
    created_utc
        When the record was made (ISO 8601, UTC).
    extra
        Anything else worth keeping (e.g. the demo's planted effects).
    """

    synthetic: bool | None
    inputs: tuple[InputFile, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    git_revision: str = "unknown"
    created_utc: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict) -> Provenance:
        # pandas deep-copies DataFrame.attrs on nearly every operation; a record is never changed
        # after it is made (treat its mappings as read-only), so copies share it.
        return self

    def __getitem__(self, key: str) -> Any:
        """Read a field as from the manifest dict this record replaced (deprecated)."""
        warnings.warn(
            f"provenance[{key!r}] reads the old manifest dict; the record is typed now: read "
            f"its attribute (provenance.of(df).{key}) or Provenance.to_dict()[{key!r}]. The dict "
            "reading will be removed in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Read a field as ``dict.get`` on the manifest dict this record replaced (deprecated).

        Parameters
        ----------
        key
            A manifest key (``"inputs"``, ``"parameters"``...).
        default
            Returned for a key the manifest does not have.
        """
        warnings.warn(
            f"provenance.get({key!r}) reads the old manifest dict; the record is typed now: read "
            f"its attribute (provenance.of(df).{key}) or Provenance.to_dict(). The dict reading "
            "will be removed in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.to_dict().get(key, default)

    @classmethod
    def record(
        cls,
        *,
        synthetic: bool | None,
        inputs: Iterable[InputFile | Mapping[str, Any]] = (),
        parameters: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Provenance:
        """A record made now: stamps the environment, git revision and time.

        Parameters
        ----------
        synthetic
            True, False or None (unknown); required, so no output is ever silently "real".
        inputs
            Files read (:class:`InputFile` or dicts with ``source, path, sha256, verified``).
        parameters
            Options the output was made with.
        extra
            Anything else to keep.
        """
        env = describe_environment()
        return cls(
            synthetic=synthetic,
            inputs=tuple(
                i if isinstance(i, InputFile) else InputFile.from_mapping(i) for i in inputs
            ),
            parameters=dict(parameters or {}),
            environment=env,
            git_revision=env["git_revision"],
            created_utc=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            extra=dict(extra or {}),
        )

    @classmethod
    def unknown(cls) -> Provenance:
        """The record of something nobody documented: synthetic unknown, no inputs."""
        return cls(synthetic=None)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Provenance:
        """Rebuild from :meth:`to_dict` output (or an older manifest dict without ``synthetic``).

        An older manifest has no ``synthetic`` key: it is synthetic when one of its inputs is
        named as the demo data (``"synthetic demo data"``, as earlier model results recorded
        it), otherwise unknown.

        Parameters
        ----------
        d
            The dict.
        """
        known = {"synthetic", "inputs", "parameters", "environment", "git_revision", "created_utc"}
        extra = {k: v for k, v in d.items() if k not in known}
        inputs = tuple(InputFile.from_mapping(i) for i in d.get("inputs") or ())
        synthetic = d.get("synthetic")
        if "synthetic" not in d and any("synthetic demo data" in str(i.source) for i in inputs):
            synthetic = True
        return cls(
            synthetic=None if synthetic is None else bool(synthetic),
            inputs=inputs,
            parameters=dict(d.get("parameters") or {}),
            environment=dict(d.get("environment") or {}),
            git_revision=str(d.get("git_revision") or "unknown"),
            created_utc=str(d.get("created_utc") or ""),
            extra=extra,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready manifest: the keys of :func:`manifest` plus ``synthetic``."""
        return {
            "created_utc": self.created_utc,
            "git_revision": self.git_revision,
            "environment": dict(self.environment),
            "parameters": dict(self.parameters),
            "inputs": [i.as_dict() for i in self.inputs],
            "synthetic": self.synthetic,
            **dict(self.extra),
        }

    def combine(
        self, *others: Provenance, parameters: Mapping[str, Any] | None = None
    ) -> Provenance:
        """One record for an output made from several: inputs pooled, synthetic if any part is.

        ``synthetic`` is True if any part is synthetic, False only if every part is known to be
        published data, otherwise None. Each input file is kept once; ``extra`` keys are pooled
        (the first part's value wins).

        Parameters
        ----------
        others
            The other records.
        parameters
            The combined output's own parameters (default: this record's).
        """
        parts = (self, *others)
        flags = [p.synthetic for p in parts]
        synthetic = True if True in flags else (False if all(f is False for f in flags) else None)
        seen: dict[tuple, InputFile] = {}
        extra: dict[str, Any] = {}
        for p in parts:
            for i in p.inputs:
                seen.setdefault((i.source, i.path, i.sha256), i)
            for k, v in p.extra.items():
                extra.setdefault(k, v)
        return Provenance.record(
            synthetic=synthetic,
            inputs=seen.values(),
            parameters=self.parameters if parameters is None else parameters,
            extra=extra,
        )

    def with_inputs(self, inputs: Iterable[InputFile | Mapping[str, Any]]) -> Provenance:
        """This record with ``inputs`` added, each file kept once (same source, path, sha256).

        Parameters
        ----------
        inputs
            Further files the output was made from.
        """
        known = {(i.source, i.path, i.sha256) for i in self.inputs}
        more = []
        for i in inputs:
            i = i if isinstance(i, InputFile) else InputFile.from_mapping(i)
            if (i.source, i.path, i.sha256) not in known:
                known.add((i.source, i.path, i.sha256))
                more.append(i)
        return dataclasses.replace(self, inputs=self.inputs + tuple(more)) if more else self

    @property
    def unverified(self) -> list[InputFile]:
        """Inputs whose bytes were not the registry's (user-supplied or modified files).

        Reports and the command line name these files (see :func:`warn_unverified` and
        :func:`unverified_message`); each is also in :attr:`inputs` with ``verified`` False
        (or None when nobody checked).
        """
        return [i for i in self.inputs if i.verified is not True]

    @property
    def source_note(self) -> str:
        """One line for figure footers and captions: what the output was made from."""
        if self.synthetic is True:
            return "synthetic demo data (icsresearch.demo): not real NHS organisations"
        if self.synthetic is None:
            return "source unknown (no provenance recorded)"
        named = sorted({i.source for i in self.inputs if i.source})
        # a panel reads some 40 files: a footer names a few, and counts the rest
        files = (
            f": {', '.join(named)}"
            if len(named) <= 3
            else f": {len(named)} registry files ({', '.join(named[:2])}...)"
        )
        flag = "; includes files not matching the registry" if self.unverified else ""
        rev = self.git_revision[:12]
        return (
            f"published NHS data via icsresearch (git {rev}){files if named else ''}; OGL v3{flag}"
        )


def unverified_message(inputs: Iterable[InputFile], what: str = "this output") -> str:
    """One line per file, saying that ``what`` was made from files the registry does not vouch for.

    Parameters
    ----------
    inputs
        The unverified inputs (:attr:`Provenance.unverified`).
    what
        What was made from them (``"the trust-year panel"``).
    """
    files = list(inputs)
    lines = [
        f"{what} was made from {len(files)} file(s) whose bytes are not the registry's "
        "(user-supplied or modified; not hash-checked):"
    ]
    for i in files:
        digest = f", sha256 {i.sha256[:12]}..." if i.sha256 else ""
        lines.append(f"  - {i.source or 'unregistered file'}: {i.path}{digest}")
    lines.append(
        "Its numbers are those files' numbers, and its provenance marks them verified=False. "
        "To use the published release instead, unset ICSRESEARCH_SOURCE_DIR (or drop "
        "--source-dir / path=)."
    )
    return "\n".join(lines)


#: Unverified files already named in this process: (source, path, sha256).
_named_unverified: set[tuple[str | None, str | None, str | None]] = set()


def warn_unverified(record: Provenance, what: str = "this output") -> list[InputFile]:
    """Warn (``UserWarning``) about each unverified input file, once per process per file.

    A file is named the first time an output made from it is built or loaded in the process;
    later outputs from the same bytes say nothing more (their provenance still marks the file).

    Parameters
    ----------
    record
        The output's provenance.
    what
        What was made (``"the trust-year panel"``), for the message.

    Returns
    -------
    list of InputFile
        The files named by this call (empty when all were named before, or none is unverified).
    """
    new = []
    for i in record.unverified:
        key = (i.source, i.path, i.sha256)
        if i.path is None or key in _named_unverified:
            continue  # a record with no file behind it (the demo) has nothing to name
        _named_unverified.add(key)
        new.append(i)
    for i in new:
        warnings.warn(unverified_message([i], what), UserWarning, stacklevel=3)
    return new


def user_supplied_files(obj: Any) -> list[dict[str, str | None]]:
    """The user-supplied (unverified) files an output was made from: names and sha256.

    Read from the output's provenance record (:func:`of`), so it holds for a panel, a model
    result, a record or a manifest dict alike. Only the registry name, the file's own name and
    its sha256 are given, not the folder: the same bytes moved elsewhere are the same input.

    Parameters
    ----------
    obj
        Anything :func:`of` understands.

    Returns
    -------
    list of dict
        ``{"source", "name", "sha256"}`` per distinct file, sorted; empty when every input was
        the registry's (or the output has no file behind it, as the demo).
    """
    seen = set()
    for i in of(obj).unverified:
        if i.path is None and i.sha256 is None:
            continue  # no file behind it (the demo): nothing a user supplied
        name = Path(i.path).name if i.path else None
        seen.add((i.source or "", name or "", i.sha256 or ""))
    return [
        {"source": s or None, "name": n or None, "sha256": h or None} for s, n, h in sorted(seen)
    ]


def user_supplied_fingerprint(obj: Any) -> str:
    """sha256 over the names and sha256 of the user-supplied files an output was made from.

    For a fingerprint that decides whether a saved output is still current (a report's resume
    check): it changes when a user-supplied file is added, removed, renamed or edited, and is the
    same for every output made from registry files only.

    Parameters
    ----------
    obj
        Anything :func:`of` understands (a panel, a result, a record, a manifest dict).

    Returns
    -------
    str
        Hex digest of the canonical JSON of :func:`user_supplied_files`.
    """
    payload = json.dumps(user_supplied_files(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def of(obj: Any) -> Provenance:
    """The provenance record of a table, a result, a record or a manifest dict.

    Understands every shape the package produces: a :class:`Provenance` itself; an object with a
    ``.provenance`` (a model result); a DataFrame whose ``attrs`` hold a record or a manifest dict
    under ``"provenance"`` (panels), a reader's table (``attrs`` with ``source``/``sha256``: a
    published file), or ``attrs["synthetic"]`` (the demo); a manifest dict. Anything else is
    :meth:`Provenance.unknown`: nothing undocumented is ever taken for published NHS data.

    Parameters
    ----------
    obj
        What to look at.
    """
    if isinstance(obj, Provenance):
        return obj
    attached = getattr(obj, "provenance", None)
    if isinstance(attached, Provenance):
        return attached
    attrs = getattr(obj, "attrs", None)
    if isinstance(attrs, Mapping):
        flag = attrs.get("synthetic")
        stored = attrs.get("provenance")
        if isinstance(stored, Provenance):
            record = stored
        elif isinstance(stored, Mapping):
            record = Provenance.from_dict(stored)
        elif attrs.get("sha256"):  # a reader's table: one published file, checked or not
            return Provenance(synthetic=False, inputs=(InputFile.from_mapping(attrs),))
        else:
            record = Provenance.unknown()
        if record.synthetic is None and flag is not None:
            record = dataclasses.replace(record, synthetic=bool(flag))
        return record
    if isinstance(attached, Mapping):
        return Provenance.from_dict(attached)
    if isinstance(obj, Mapping):
        return Provenance.from_dict(obj)
    return Provenance.unknown()
