"""Imports point down only, and no module reaches itself through its imports.

Every import in the package is read, absolute or relative, at module level, inside a function
or under ``TYPE_CHECKING``: a layer may import only lower layers (docs/architecture.md,
"Layers"), and inside a layer the modules' imports form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import openreel

SRC = Path(openreel.__file__).parent

# Higher numbers may import lower numbers (and their own package), never the other way.
RANK: dict[str, float] = {
    "errors": 0,
    "domain": 1,
    "config": 1,
    # Log redaction reads the provider keys from the settings; everything may use it.
    "logs": 1.5,
    # The package root only re-exports records and errors (and the version) for users.
    "__init__": 1.5,
    "media": 2,
    "backends": 3,
    "storage": 3,
    "queue": 4,
    "trust": 4,
    "services": 5,
    "api": 6,
    "runtime": 7,
    "cli": 8,
    "__main__": 9,
}
# Extra rules beyond rank: what a bottom module may import at all.
ONLY = {"errors": set(), "domain": {"errors"}, "config": {"errors"}}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import names, relative ones included."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(path: Path, known: set[str] | None = None) -> list[str]:
    """Every openreel module ``path`` imports (a ``from pkg import sub`` names ``pkg.sub``
    when that is a module of its own)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    importer = _module_name(path) if path.is_relative_to(SRC) else "openreel.x"
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(importer, path.name == "__init__.py", node)
            subs = [f"{target}.{a.name}" for a in node.names]
            named = [s for s in subs if known is not None and s in known]
            found.extend(named or [target])
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [name for name in found if name == "openreel" or name.startswith("openreel.")]


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        targets = set()
        for name in _imports(path, known):
            # ``import openreel.a.b`` needs the module itself; an attribute path names its module.
            target = name
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != module:
                targets.add(target)
        graph[module] = targets
    return graph


def _violations(graph: dict[str, set[str]]) -> list[str]:
    bad: list[str] = []
    for module, targets in sorted(graph.items()):
        own = "__main__" if module == "openreel.__main__" else _layer(module)
        for target in sorted(targets):
            other = _layer(target)
            if other == own:
                continue
            if own in ONLY and other not in ONLY[own]:
                bad.append(f"{module} imports {target}: {own} may import only {sorted(ONLY[own])}")
            elif RANK.get(other, 99) >= RANK.get(own, -1):
                bad.append(f"{module} imports {target}: {own} may not import {other}")
    return bad


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles, one per strongly connected group (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_layers_imports_point_down_only() -> None:
    assert _violations(_graph()) == []


def test_layers_no_module_imports_itself_through_others() -> None:
    assert _cycles(_graph()) == []


def test_layers_every_package_has_a_rank() -> None:
    assert {_layer(m) for m in _graph()} - set(RANK) == set()


def test_layers_checker_reads_relative_and_inner_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from openreel.cli import main\n"
        "import openreel.services.videos\n"
        "def f():\n"
        "    from openreel.api import app\n"
    )
    assert _imports(bad) == ["openreel.cli", "openreel.services.videos", "openreel.api"]
    relative = ast.parse("from ..api import deps\nfrom . import base\n").body
    first, second = relative
    assert isinstance(first, ast.ImportFrom)
    assert isinstance(second, ast.ImportFrom)
    assert _resolve("openreel.storage.jobs.lease", False, first) == "openreel.storage.api"
    assert _resolve("openreel.storage.jobs", True, second) == "openreel.storage.jobs"


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"openreel.cli.a": {"openreel.api.b"}, "openreel.api.b": set()}, []),
        (
            {"openreel.api.b": {"openreel.cli.a"}, "openreel.cli.a": set()},
            ["openreel.api.b imports openreel.cli.a: api may not import cli"],
        ),
        (
            {"openreel.media.x": {"openreel.storage.y"}, "openreel.storage.y": set()},
            ["openreel.media.x imports openreel.storage.y: media may not import storage"],
        ),
    ],
)
def test_layers_checker_catches_an_upward_import(
    graph: dict[str, set[str]], expected: list[str]
) -> None:
    assert _violations(graph) == expected


def test_layers_checker_catches_a_cycle_inside_a_layer() -> None:
    graph = {
        "openreel.queue.a": {"openreel.queue.b"},
        "openreel.queue.b": {"openreel.queue.c"},
        "openreel.queue.c": {"openreel.queue.a"},
        "openreel.queue.d": {"openreel.queue.a"},
    }
    assert _cycles(graph) == [["openreel.queue.a", "openreel.queue.b", "openreel.queue.c"]]
