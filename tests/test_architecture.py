"""The shape of the package: no import cycles, one-way data flow between sub-packages, thin __init__s.

The import graph is read from the source with `ast` (nothing is imported). An edge A -> B means
module A reads module B's namespace: `import B`, `from B import name`, and for
`from P import sub` both P and the submodule P.sub. Imports inside functions count (they are
cycles too, only deferred); imports under `if TYPE_CHECKING:` count only in the type-level graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "discovery"

#: Cycles allowed in the type-level graph (TYPE_CHECKING imports included), as sets of modules.
KNOWN_TYPE_LEVEL_CYCLES: frozenset[frozenset[str]] = frozenset()

#: Stages of the data flow, lowest first, by sub-package (or top-level module). A module may
#: import its own sub-package and any lower stage, never a higher one nor a sibling of its stage:
#: chem -> features / pool -> model -> acquisition / report / evaluation -> campaign -> run.
#: "" is the root package (`__version__`); the rest of stage 0 is plumbing used everywhere.
#: `objective` (the optimisation direction) is a config enum, so it sits just above `config`.
STAGES: tuple[tuple[str, ...], ...] = (
    ("", "config", "paths", "files", "sqlite", "workers", "worker", "tables"),
    ("objective",),
    ("chem",),
    ("features", "pool", "datasets"),  # datasets builds benchmark tables from parsed molecules
    ("model",),
    ("acquisition", "report", "evaluation"),  # report.demo fits a real model
    ("campaign",),
    ("run", "evaluate"),  # the two command-line apps
)

MAX_INIT_LINES = 50


def _module_files() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, is_package: bool, tree: ast.Module, known: Iterable[str], type_checking: bool) -> set[str]:
    """The package modules `module` reads from."""
    known = set(known)
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if _is_type_checking(node.test) and not type_checking:
                for child in node.orelse:
                    self.visit(child)
            else:
                self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(alias.name for alias in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + is_package]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)

    Visitor().visit(tree)
    return {name for name in found if name in known and name != module}


def import_graph(type_checking: bool = False) -> dict[str, set[str]]:
    """Module -> modules of the package it imports, from the source."""
    files = _module_files()
    return {
        module: _imported(module, path.name == "__init__.py", ast.parse(path.read_text(), str(path)), files, type_checking)
        for module, path in files.items()
    }


def _components(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """Strongly connected components (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _cycle_in(graph: Mapping[str, set[str]], component: set[str]) -> list[str]:
    """One concrete cycle through the component's first module, as a path back to it."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for target in sorted(graph.get(node, ())):
            if target == start:
                return [*paths[node], start]
            if target in component and target not in paths:
                paths[target] = [*paths[node], target]
                frontier.append(target)
    raise AssertionError(f"{sorted(component)} is not a cycle")  # pragma: no cover


def find_cycles(graph: Mapping[str, set[str]], allowed: Iterable[frozenset[str]] = ()) -> list[list[str]]:
    """One cycle per group of mutually importing modules, except the groups in `allowed`.

    A group that grows beyond an allowed set (a third module joins the cycle) is reported.
    """
    allowed = set(allowed)
    cycles = []
    for component in _components(graph):
        cyclic = len(component) > 1 or any(node in graph.get(node, ()) for node in component)
        if cyclic and frozenset(component) not in allowed:
            cycles.append(_cycle_in(graph, component))
    return sorted(cycles)


def _unit(module: str) -> str:
    """The sub-package (or top-level module) a module belongs to: discovery.chem.molecule -> chem."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _stage(unit: str) -> int:
    for number, units in enumerate(STAGES):
        if unit in units:
            return number
    raise AssertionError(f"discovery.{unit} is in no stage of STAGES; add it where its data flow puts it")


def _show(cycle: list[str]) -> str:
    return " -> ".join(cycle)


# --------------------------------------------------------------------------------------------
# the cycle finder itself, on synthetic graphs
# --------------------------------------------------------------------------------------------


def test_find_cycles_on_a_synthetic_graph():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}, "g": {"g"}, "h": set()}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "f", "e"], ["g", "g"]]
    assert find_cycles(graph, allowed=[frozenset({"e", "f"})]) == [["a", "b", "c", "a"], ["g", "g"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_an_allowed_cycle_that_grows_is_reported():
    graph = {"e": {"f"}, "f": {"e", "x"}, "x": {"e"}}
    assert find_cycles(graph, allowed=[frozenset({"e", "f"})]) == [["e", "f", "e"]]


def test_import_reading_covers_functions_relative_imports_and_type_checking():
    source = """
from typing import TYPE_CHECKING
from . import sibling
import pkg.other as other
if TYPE_CHECKING:
    from pkg.typed import Thing
else:
    from pkg.runtime import thing
def later():
    from pkg.lazy import helper
"""
    known = {"pkg", "pkg.mod", "pkg.sibling", "pkg.other", "pkg.typed", "pkg.runtime", "pkg.lazy"}
    tree = ast.parse(source)
    runtime = {"pkg", "pkg.sibling", "pkg.other", "pkg.runtime", "pkg.lazy"}
    assert _imported("pkg.mod", False, tree, known, type_checking=False) == runtime
    assert _imported("pkg.mod", False, tree, known, type_checking=True) == runtime | {"pkg.typed"}


# --------------------------------------------------------------------------------------------
# the package
# --------------------------------------------------------------------------------------------


def test_the_graph_reads_the_package():
    graph = import_graph()
    assert "discovery.chem.molecule" in graph["discovery.chem.polymer"]
    assert "discovery.campaign.loop" in graph["discovery.run"]


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(map(_show, cycles))


def test_no_type_level_import_cycles_beyond_the_known_one():
    graph = import_graph(type_checking=True)
    cycles = find_cycles(graph, allowed=KNOWN_TYPE_LEVEL_CYCLES)
    assert not cycles, "import cycles (TYPE_CHECKING imports included): " + "; ".join(map(_show, cycles))
    present = {frozenset(c) for c in _components(graph)}
    stale = [sorted(known) for known in KNOWN_TYPE_LEVEL_CYCLES if known not in present]
    assert not stale, f"{stale} no longer import each other: remove them from KNOWN_TYPE_LEVEL_CYCLES"


def test_data_flows_one_way_between_sub_packages():
    wrong = []
    for module, imported in import_graph(type_checking=True).items():
        for target in imported:
            here, there = _unit(module), _unit(target)
            if here != there and _stage(there) >= _stage(here):
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the data flow (see STAGES): " + ", ".join(sorted(wrong))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_package_init_only_re_exports(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_INIT_LINES, f"{path} has {lines} lines; move code into a module and re-export it"
