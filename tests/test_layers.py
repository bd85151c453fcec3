"""The import layering of docs/architecture.md: a package imports only from the layers below it (or its own), and
no two packages import each other, not even through an import inside a function."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bench"
# Bottom to top. A module belongs to the longest prefix listed.
LAYERS = (
    ("bench", "bench.errors", "bench.atomic", "bench.seeding", "bench.runtime", "bench.hypotheses", "bench.ledger",
     "bench.plugins"),
    ("bench.data",),
    ("bench.models",),
    ("bench.metrics",),
    ("bench.train",),
    ("bench.manipulation",),
    ("bench.variants",),
    ("bench.suites", "bench.overrides"),
    ("bench.runs", "bench.context"),
    ("bench.plan", "bench.launch"),
    ("bench.runner", "bench.datasets"),
    ("bench.report", "bench.check", "bench.trained"),
    ("bench.experiments", "bench.benchmarks"),
    ("bench.__main__",),
)
UNITS = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}


def unit(module: str) -> str:
    """The layer entry a module belongs to: its longest listed prefix."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in UNITS:
            return ".".join(parts[:n])
    raise AssertionError(f"{module} is in no layer of tests/test_layers.py (and docs/architecture.md): place it")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path) -> set[str]:
    """Every bench module `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from bench import models` imports the module bench.models; `from bench.x import name` may too.
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules()}
    return {m for m in found if m == "bench" or m.startswith("bench.")}


EDGES = sorted({(unit(importer), unit(imported)) for importer, path in modules().items()
                for imported in imports(path) if unit(importer) != unit(imported)})


def test_each_import_goes_down_or_sideways():
    assert [f"{a} imports {b}, which sits above it" for a, b in EDGES if UNITS[b] > UNITS[a]] == []


def test_no_package_cycle():
    graph = {}
    for importer, imported in EDGES:
        graph.setdefault(importer, set()).add(imported)

    def reaches(start, goal, seen=()):
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, (*seen, nxt))) for nxt in graph.get(start, ()))
    assert [u for u in graph if reaches(u, u)] == []


# What importing a package may bring with it, checked in a fresh interpreter: nothing from a layer above.
@pytest.mark.parametrize("package", ["bench.data", "bench.models", "bench.metrics", "bench.train", "bench.manipulation",
                                     "bench.variants", "bench.suites", "bench.runs", "bench.report"])
def test_importing_a_package_brings_nothing_from_above(package):
    code = f"import sys, {package}; print(' '.join(m for m in sys.modules if m.startswith('bench')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    above = sorted(m for m in loaded if UNITS[unit(m)] > UNITS[unit(package)])
    assert above == [], f"importing {package} imports {above}"
    if package == "bench.report":  # the report reads runs; it never runs them
        assert not {"bench.runner", "bench.launch", "bench.plan"} & set(loaded)
