"""Dependency direction: bridge imports the libraries; the libraries never import bridge or each other."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
LIBRARIES = ("activitypub", "feeds", "consent")


def imported_top_levels(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_libraries_import_neither_bridge_nor_each_other():
    for library in LIBRARIES:
        imports = imported_top_levels(library)
        forbidden = {"bridge", *LIBRARIES} - {library}
        offenders = {name: files for name, files in imports.items() if name in forbidden}
        assert not offenders, f"{library} imports {offenders}"


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


def test_no_imports_inside_functions_in_bridge():
    """An import inside a function is a cycle in disguise (DESIGN.md)."""
    offenders = []
    for path in (ROOT / "bridge").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        offenders.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert not offenders, offenders


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports, `TYPE_CHECKING` imports included (a cycle through an
    annotation is still a cycle a reader has to untangle)."""
    modules = {_module_name(p): p for package in ("bridge", *LIBRARIES) for p in (ROOT / package).rglob("*.py")
               if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_between_modules():
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    # The guard above is only worth something if it can fail.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_migrations_import_no_application_code():
    """A migration must give the same result whatever the application becomes: it freezes what it needs."""
    offenders = []
    for path in (ROOT / "bridge" / "store" / "migrations").rglob("*.py"):
        if path.name == "env.py":  # Alembic's environment loads the live tables to compare; not a revision
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bridge":
                offenders.append(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "bridge" for a in node.names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders


def test_bridge_root_holds_only_the_wiring():
    modules = sorted(p.name for p in (ROOT / "bridge").glob("*.py"))
    assert len(modules) <= 8, modules


def test_web_handlers_take_the_form_from_the_request_key_not_from_aiohttp_again():
    """The CSRF check reads a form once (multipart part by part) into `request[FORM]`; a handler asking aiohttp
    again (`request.post()`) would find the body gone, and `_post` is aiohttp's private cache."""
    offenders = []
    for path in sorted((ROOT / "bridge" / "web").rglob("*.py")):
        code = path.read_text()
        asks_again = "request.post()" in code and path.name != "form_reader.py"  # which reads it, once
        if asks_again or re.search(r"\._post\b(?!\()", code):
            offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []
