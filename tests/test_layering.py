"""Imports point one way: model ← Keras catalog ← loaders / analyzers ← checks / renderers ← API ← CLI.

Every ``import`` in kinspect/ counts, at module level or inside a function (a lazy import is
fine for start-up time, but only downwards), so a cycle cannot be dodged by hiding an import.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "kinspect"

# Everything below the library API.
LIBRARY = {"render", "checks", "analyzers", "loaders", "catalog", "model", "errors", "findings", "graphviz",
           "output", "progress", "tfio", "training", "runs"}  # fmt: skip

# What each part of kinspect may import, besides itself. Parts are the top-level modules and
# subpackages of kinspect; "kinspect" is the package's own __init__ (its version and lazy API).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "findings": set(),
    "model": set(),
    "training": set(),  # the plain data model of a training run, beside model.py
    "tfio": {"errors"},  # TensorFlow's file encodings: no Keras knowledge, no numpy at import
    "output": {"errors"},
    "catalog": {"model", "errors"},
    "loaders": {"catalog", "model", "errors", "tfio"},
    "runs": {"training", "tfio", "errors"},  # training logs: CSVLogger, History JSON, TensorBoard
    "analyzers": {"catalog", "model", "errors", "findings", "training"},
    "checks": {"loaders", "analyzers", "catalog", "model", "errors", "findings", "runs", "training"},
    "graphviz": {"errors", "output"},
    "progress": {"errors"},
    "render": {"analyzers", "checks", "catalog", "model", "errors", "findings", "graphviz", "training"},
    "doctor": {"graphviz", "errors"},
    "results": {"kinspect", *LIBRARY},
    "api": {"kinspect", "results", *LIBRARY},
    "kinspect": {"api", "results", "errors", "model"},
    "cli": {"kinspect", "api", "results", "render", "doctor", "errors", "graphviz", "output", "progress"},
    "__main__": {"cli"},
}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "kinspect"


def _imports(path: Path, module_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, imported kinspect module) for every import in the file."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "kinspect"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "kinspect":  # from kinspect import api / __version__
                known = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir()}
                found += [
                    (node.lineno, f"kinspect.{a.name}" if a.name in known else "kinspect") for a in node.names
                ]
            elif node.module.split(".")[0] == "kinspect":
                found.append((node.lineno, node.module))
    return found


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_is_placed() -> None:
    parts = {_part(_module(p)) for p in FILES}
    assert parts <= set(ALLOWED), f"place these in the layering: {sorted(parts - set(ALLOWED))}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    part = _part(_module(path))
    upward = [
        f"{path.name}:{line} imports {target}"
        for line, target in _imports(path)
        if _part(target) != part and _part(target) not in ALLOWED[part]
    ]
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    """Module-level imports form no cycle (a cycle is what hidden imports used to dodge)."""
    modules = {_module(p): p for p in FILES}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for _, target in _imports(path, module_level_only=True):
            # ``import kinspect.a.b`` runs kinspect/a/__init__ first: an edge to each parent package.
            while target and target != name:
                if target in modules and not name.startswith(target + "."):
                    graph[name].add(target)
                target = target.rpartition(".")[0]
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(modules):
        if node not in state:
            visit(node)
