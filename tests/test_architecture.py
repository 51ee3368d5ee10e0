"""docs/architecture.md's layers match the imports: no module imports from a layer above its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import icsresearch

PACKAGE = Path(icsresearch.__file__).parent
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _layers() -> dict[str, int]:
    """``unit -> layer`` from the diagram of docs/architecture.md (e.g. `` 5  panels  panel ...``)."""
    out: dict[str, int] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*(\d)\s{2,}\w[\w ]*?\s{2,}(.+)$", line)
        if not m:
            continue
        names = re.sub(r"\(.*?\)", "", m.group(2))
        for name in re.split(r"[·\s]+", names):
            if re.fullmatch(r"_?[a-z][a-z_]*", name):
                out[name] = int(m.group(1))
    return out


def _unit(path: Path) -> str:
    """The top-level module or subpackage a file belongs to."""
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def _imports(path: Path) -> set[str]:
    """Top-level units of the package that a file imports (relative or absolute)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    package = list(parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [])
            if target:
                found.add(target[0])
            else:  # "from . import x" at the package root
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("icsresearch."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("icsresearch.")
            )
    return found


def test_every_unit_of_the_package_is_on_the_diagram():
    layers = _layers()
    units = {_unit(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert units - set(layers) == set(), "add these to docs/architecture.md's diagram"
    assert set(layers) - units == set(), "the diagram names units that do not exist"


def test_no_module_imports_from_a_layer_above_its_own():
    layers = _layers()
    upward = []
    for path in PACKAGE.rglob("*.py"):
        unit = _unit(path)
        if unit == "__init__":
            continue
        for target in _imports(path) - {unit}:
            if target in layers and layers[target] > layers[unit]:
                upward.append(
                    f"{path.relative_to(PACKAGE)} ({unit}, layer {layers[unit]}) "
                    f"imports {target} (layer {layers[target]})"
                )
    assert not upward, "\n".join(upward)


def test_the_import_scanner_sees_relative_absolute_and_lazy_imports():
    # guards the test above against passing because it saw nothing
    assert {"geography", "options", "provenance"} <= _imports(PACKAGE / "panel" / "__init__.py")
    assert "plots" in _imports(PACKAGE / "models" / "did.py")  # a lazy import inside a method
    assert "demo" in _imports(PACKAGE / "geography.py")
