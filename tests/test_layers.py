"""Imports point down only (DESIGN.md, "Package layout"); this test walks every import."""

from __future__ import annotations

import ast
from pathlib import Path

import openreel

SRC = Path(openreel.__file__).parent

# Higher numbers may import lower numbers (and their own package), never the other way.
RANK: dict[str, float] = {
    "errors": 0,
    "domain": 1,
    "config": 1,
    # Log redaction reads the provider keys from the settings; everything may use it.
    "logs": 1.5,
    "backends": 2,
    "media": 2,
    "storage": 2,
    "queue": 3,
    "services": 4,
    "api": 5,
    "runtime": 6,
    "cli": 7,
    "__main__": 8,
    # The package root only re-exports records and errors (and the version) for users.
    "__init__": 1.5,
}
# Extra rules beyond rank: what a bottom module may import at all.
ONLY = {"errors": set(), "domain": {"errors"}, "config": {"errors"}}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [name for name in found if name == "openreel" or name.startswith("openreel.")]


def _violations() -> list[str]:
    bad: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        module = ".".join(rel.parts)
        if module.endswith(".__init__"):
            module = module[: -len(".__init__")]
        own = _layer(module) if "." in module else "__init__"
        if path.name == "__main__.py" and path.parent == SRC:
            own = "__main__"
        for target in _imports(path):
            other = _layer(target)
            if other == own:
                continue
            if own in ONLY and other not in ONLY[own]:
                bad.append(f"{module} imports {target}: {own} may import only {sorted(ONLY[own])}")
            elif RANK.get(other, 99) >= RANK.get(own, -1):
                bad.append(f"{module} imports {target}: {own} may not import {other}")
    return bad


def test_layers_imports_point_down_only() -> None:
    assert _violations() == []


def test_layers_checker_catches_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from openreel.cli import main\nimport openreel.services.generation\n")
    assert _imports(bad) == ["openreel.cli", "openreel.services.generation"]
    assert RANK[_layer("openreel.cli")] > RANK["backends"]


def test_layers_every_package_has_a_rank() -> None:
    layers = {
        _layer(".".join(p.relative_to(SRC.parent).with_suffix("").parts)) for p in SRC.rglob("*.py")
    }
    assert layers - set(RANK) == set()
