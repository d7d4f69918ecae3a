"""The module layout of docs/api.md: no import cycle, one meaning per module name.

Read from the source with :mod:`ast` (nothing is imported), so every import
counts: top-level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gridmap"

# Adapters are named after the command or route they serve (cli/export.py is
# `gridmap export`); these pairs of library modules share one meaning.
SAME_MEANING = {
    "audit": {"gridmap.accounts.audit", "gridmap.query.audit"},
    # docs/api.md: ``X/stored.py`` is concern X's store-bound part
    "stored": {"gridmap.grid.stored", "gridmap.siting.stored"},
}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def _targets(node: ast.AST, package: str, modules: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    if not isinstance(node, ast.ImportFrom):
        return set()
    base = _imported(node, package)
    found = set()
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:
            found.add(f"{base}.{alias.name}")
        elif base in modules:
            found.add(base)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the gridmap modules it imports anywhere in its source."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            edges |= _targets(node, package, modules)
        graph[name] = edges - {name}
    # the root's imports are lazy (a name -> module table) or for type checkers only
    graph["gridmap"] = set()
    return graph


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph[node]):
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done and (cycle := visit(nxt)):
                return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    return visit(start)


def test_no_import_cycle_among_gridmap_modules() -> None:
    graph = import_graph()
    cycles = {" -> ".join(c) for name in graph if (c := _cycle_from(name, graph))}
    assert not cycles, "import cycles (move the shared name into its own module):\n" + "\n".join(
        sorted(cycles)
    )


@pytest.mark.parametrize(
    ("module", "must_not_import"),
    [
        ("gridmap.coverage.runs", "gridmap.coverage.run"),
        ("gridmap.network.graph", "gridmap.coverage"),
        ("gridmap.grid.generate", "gridmap.store"),
    ],
)
def test_lower_layers_do_not_import_upper_ones(module: str, must_not_import: str) -> None:
    imported = import_graph()[module]
    assert not {m for m in imported if m.startswith(must_not_import)}, imported


def test_one_meaning_per_module_name() -> None:
    by_name: dict[str, set[str]] = defaultdict(set)
    for name in _modules():
        if name.startswith(("gridmap.cli", "gridmap.web")) or name.count(".") < 1:
            continue
        leaf = name.rpartition(".")[2]
        if not leaf.startswith("_"):
            by_name[leaf].add(name)
    shared = {
        leaf: sorted(names)
        for leaf, names in by_name.items()
        if len(names) > 1 and SAME_MEANING.get(leaf) != names
    }
    assert not shared, f"one module name, several meanings (rename, see docs/api.md): {shared}"


def test_store_bound_modules_live_with_their_concern() -> None:
    top_level = {p.stem for p in PACKAGE.glob("*.py")}
    assert not top_level & {"cells", "cells_check", "export", "report", "demo", "admin"}
