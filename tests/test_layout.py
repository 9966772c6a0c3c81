"""The tests' layout (docs/ARCHITECTURE.md, "Tests"): shared helpers live in tests/support/,
conftest files hold fixtures and hooks that pytest finds by itself, and nothing imports one."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

TESTS = ROOT / "tests"


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_nothing_imports_a_conftest() -> None:
    importing = {
        path.relative_to(ROOT).as_posix(): sorted(m for m in modules if "conftest" in m)
        for path in sorted(TESTS.rglob("*.py"))
        if (modules := _imported_modules(path)) and any("conftest" in m for m in modules)
    }
    assert importing == {}


def test_the_top_of_tests_holds_only_tests_and_the_root_conftest() -> None:
    loose = [
        path.name
        for path in sorted(TESTS.glob("*.py"))
        if not path.name.startswith("test_") and path.name not in {"__init__.py", "conftest.py"}
    ]
    assert loose == [], "shared helpers go to tests/support/"
