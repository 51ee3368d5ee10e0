"""Every public function and class a researcher meets has a numpydoc docstring.

"Public" means what the package exports for use in notebooks and scripts: the names exported by
``icsresearch.panel``, ``icsresearch.geography`` (every function not starting with ``_``),
``icsresearch.models`` (and ``icsresearch.models.panel``: the specification tests and the wild
bootstrap), ``icsresearch.plots``, ``icsresearch.data``, and the readers of ``icsresearch.sources``
(every ``read_*`` function of every reader module, plus ``sources.read`` and ``sources.schema``).

For each one the docstring must have:

* a summary: one line, ending with a full stop, followed by a blank line or nothing;
* where the function (or the class constructor) takes parameters, a numpydoc ``Parameters``
  section that names **every** parameter of the signature (``a, b`` on one line documents both).
  For classes an ``Attributes`` section counts too (result dataclasses document their fields
  there), fields documented by a base class count (``PanelResult`` extends
  ``RegressionResult``), and private fields (``_design``) are left out.

The tests list every offender with what is missing, so a failure says what to write.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable

import pytest

#: A numpydoc section header: a title line underlined with dashes at the same indentation.
_SECTION = re.compile(r"^(?P<title>[A-Z][A-Za-z ]*[a-z])\n-{3,}[ \t]*$", re.MULTILINE)


def _exported(module_name: str, names: list[str] | None = None) -> dict[str, object]:
    """The callables a module exports: ``__all__`` (or ``names``), modules and constants left out."""
    module = importlib.import_module(module_name)
    wanted = names if names is not None else list(getattr(module, "__all__", []))
    out = {}
    for name in wanted:
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            out[f"{module_name}.{name}"] = obj
    return out


def _defined_functions(module_name: str, prefix: str = "") -> dict[str, object]:
    """Functions defined in (not imported into) a module, not starting with ``_``."""
    module = importlib.import_module(module_name)
    return {
        f"{module_name}.{name}": obj
        for name, obj in vars(module).items()
        if inspect.isfunction(obj)
        and obj.__module__ == module_name
        and not name.startswith("_")
        and name.startswith(prefix)
    }


def public_api() -> dict[str, object]:
    """Qualified name -> object for every public function and class checked here."""
    import icsresearch.sources

    api: dict[str, object] = {}
    api.update(_exported("icsresearch.panel"))
    api.update(_defined_functions("icsresearch.geography"))
    api.update(_exported("icsresearch.models"))
    api.update(_exported("icsresearch.models.panel"))
    api.update(_exported("icsresearch.plots"))
    api.update(_exported("icsresearch.data"))
    api.update(_defined_functions("icsresearch.indicators"))
    api.update(_defined_functions("icsresearch.variation"))
    api.update(_exported("icsresearch.sources", ["read", "schema"]))
    for info in pkgutil.iter_modules(icsresearch.sources.__path__):
        if not info.name.startswith("_"):
            api.update(_defined_functions(f"icsresearch.sources.{info.name}", prefix="read_"))
    return api


def _signature_parameters(obj: object) -> list[str]:
    """Parameter names a caller passes (``self``/``cls`` left out; ``*args`` as ``*args``)."""
    try:
        sig = inspect.signature(obj)  # for a class: its constructor
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return []
    names = []
    for p in sig.parameters.values():
        if p.name in ("self", "cls"):
            continue
        if inspect.isclass(obj) and p.name.startswith("_"):
            continue  # private dataclass fields (internal state of result objects)
        if p.kind is p.VAR_POSITIONAL:
            names.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            names.append(f"**{p.name}")
        else:
            names.append(p.name)
    return names


def _sections(doc: str) -> dict[str, str]:
    """numpydoc sections of a cleaned docstring: title -> body text."""
    heads = list(_SECTION.finditer(doc))
    out = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(doc)
        out[m.group("title")] = doc[m.end() : end]
    return out


def _documented_names(section: str) -> set[str]:
    """Names listed in a Parameters/Attributes section: unindented ``name : type`` lines."""
    names: set[str] = set()
    for line in section.splitlines():
        if not line.strip() or line[0].isspace():
            continue
        for part in line.split(" : ")[0].split(","):
            part = part.strip()
            if part:
                names.add(part)
                names.add(part.lstrip("*"))  # "*args" and "args" are both accepted
    return names


def docstring_problems(obj: object) -> list[str]:
    """What is missing from ``obj``'s docstring under the rules in the module docstring."""
    raw = obj.__doc__
    if inspect.isclass(obj) and raw is None:  # a class without its own docstring
        return ["no docstring"]
    doc = inspect.getdoc(obj)
    if not doc or not doc.strip():
        return ["no docstring"]
    problems = []
    lines = doc.splitlines()
    summary = lines[0].strip()
    if not summary:
        problems.append("the docstring does not start with a summary line")
    elif len(lines) > 1 and lines[1].strip():
        problems.append(
            "the summary runs over more than one line (numpydoc: one line, then a blank line)"
        )
    elif not summary.endswith("."):
        problems.append(f"the summary line does not end with a full stop: {summary!r}")
    params = _signature_parameters(obj)
    if params:
        allowed = ("Parameters", "Attributes") if inspect.isclass(obj) else ("Parameters",)
        # A class may rely on its bases' sections (PanelResult documents only what it adds to
        # RegressionResult); object's own docstring has none, so the MRO is safe to walk.
        docs = (
            [doc, *(inspect.getdoc(b) or "" for b in obj.__mro__[1:])]
            if inspect.isclass(obj)
            else [doc]
        )
        found = [_sections(d) for d in docs]
        present = [s for s in allowed if any(s in f for f in found)]
        if not present:
            problems.append(f"no {' or '.join(allowed)} section for {params}")
        else:
            documented = {
                name for f in found for s in allowed for name in _documented_names(f.get(s, ""))
            }
            missing = [p for p in params if p not in documented and p.lstrip("*") not in documented]
            if missing:
                problems.append(f"parameters not in the {present[0]} section: {missing}")
    return problems


# --- the rules themselves ----------------------------------------------------------------------


def _good(x, y=1, *args, **kwargs):
    """Add things.

    Parameters
    ----------
    x, y : int
        The numbers.
    *args, **kwargs
        Ignored.
    """


def _no_params_section(x):
    """Add things."""


def _two_line_summary(x):
    """Add things
    over two lines.

    Parameters
    ----------
    x
        A number.
    """


def _missing_one(x, y):
    """Add things.

    Parameters
    ----------
    x : int
        A number; ``y : int`` inside a description does not count.

    Returns
    -------
    y
        Not the parameter.
    """


class _ResultLike:
    """A result.

    Attributes
    ----------
    value
        The value.
    """

    def __init__(self, value):
        self.value = value


class _Undocumented:
    def __init__(self, value):
        self.value = value


class _SubResult(_ResultLike):
    """A result with one more field, documented here; ``value`` is documented by the base.

    Attributes
    ----------
    extra
        More.
    """

    def __init__(self, value, extra, _internal=None):
        super().__init__(value)
        self.extra = extra


class _SubResultMissing(_ResultLike):
    """A result whose new field is documented nowhere."""

    def __init__(self, value, extra):
        super().__init__(value)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_good, []),
        (_no_params_section, ["no Parameters section for ['x']"]),
        (_two_line_summary, ["the summary runs over more than one line"]),
        (_missing_one, ["parameters not in the Parameters section: ['y']"]),
        (_ResultLike, []),
        (_Undocumented, ["no docstring"]),
        (_SubResult, []),
        (_SubResultMissing, ["parameters not in the Attributes section: ['extra']"]),
    ],
)
def test_the_checker_finds_what_is_missing(obj: Callable, expected: list[str]):
    problems = docstring_problems(obj)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problem


def test_the_api_list_covers_every_area():
    api = public_api()
    # A sample from each area: the list is built by introspection, so check it found them all.
    for name in (
        "icsresearch.panel.trust_year_panel",
        "icsresearch.panel.ics_year_panel",
        "icsresearch.panel.ae_monthly",
        "icsresearch.geography.icbs",
        "icsresearch.geography.trust_ics_weights",
        "icsresearch.geography.validate_ics_code",
        "icsresearch.models.fit",
        "icsresearch.models.fit_hdfe",
        "icsresearch.models.regression_table",
        "icsresearch.models.RegressionResult",
        "icsresearch.models.panel.hausman",
        "icsresearch.plots.funnel_plot",
        "icsresearch.plots.spc_chart",
        "icsresearch.plots.PlotResult",
        "icsresearch.data.fetch",
        "icsresearch.sources.read",
        "icsresearch.sources.rtt.read_rtt",
        "icsresearch.sources.workforce.read_managers_fte",
    ):
        assert name in api, name
    readers = [n for n in api if n.startswith("icsresearch.sources.") and ".read_" in n]
    assert len(readers) >= 40, readers  # one reader per registry file, give or take
    assert len(api) >= 90


def test_every_public_function_has_a_numpydoc_docstring():
    offenders = {name: docstring_problems(obj) for name, obj in sorted(public_api().items())}
    offenders = {k: v for k, v in offenders.items() if v}
    report = "\n".join(f"- {name}: {'; '.join(problems)}" for name, problems in offenders.items())
    assert not offenders, f"{len(offenders)} public names need docstring work:\n{report}"
