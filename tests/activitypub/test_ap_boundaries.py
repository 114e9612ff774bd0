"""The library stays a library: no imports of the application or sibling libraries, no logging, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "activitypub"
MODULES = sorted(PACKAGE.glob("*.py"))


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_never_imports_bridge_feeds_or_consent(path):
    assert not imported_roots(path) & {"bridge", "feeds", "consent", "sqlalchemy", "logging"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_is_small_and_imports_only_at_top(path):
    tree = ast.parse(path.read_text())
    assert len(path.read_text().splitlines()) <= 300
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.end_lineno - node.lineno < 45, f"{path.name}:{node.name} is long"
            assert not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(node)), node.name
