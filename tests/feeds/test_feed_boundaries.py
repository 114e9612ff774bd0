"""feeds/ is a library: it never imports the application or its sibling libraries, and importing it
has no side effects beyond defining names."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import feeds

FORBIDDEN = {"bridge", "activitypub", "consent", "sqlalchemy", "aiohttp"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_feeds_never_imports_the_application_or_sibling_libraries():
    package = Path(feeds.__file__).parent
    for path in sorted(package.rglob("*.py")):
        assert not (_imported_roots(path) & FORBIDDEN), path.name


def test_every_module_imports_cleanly():
    for module in pkgutil.iter_modules(feeds.__path__):
        importlib.import_module(f"feeds.{module.name}")
