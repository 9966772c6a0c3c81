"""The pre-commit hooks run exactly the checks ``make lint`` runs, so the two cannot drift.

``.pre-commit-config.yaml`` holds local hooks only (the project's own tools from .venv, nothing
fetched); this reads the Makefile's lint recipe, expands its variables, and compares it with
the hooks' entries, in order. pre-commit itself validates the file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
MAKE_VARIABLE = re.compile(r"^(\w+)\s*[:?]?=\s*(.*)$")
MAKE_REFERENCE = re.compile(r"\$\((\w+)\)")


def _makefile_variables(lines: list[str]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for line in lines:
        match = MAKE_VARIABLE.match(line)
        if match:
            variables[match.group(1)] = match.group(2).strip()
    return variables


def _expand(text: str, variables: dict[str, str]) -> str:
    while MAKE_REFERENCE.search(text):
        text = MAKE_REFERENCE.sub(lambda m: variables[m.group(1)], text)
    return text


def make_lint_commands() -> list[str]:
    """The lint target's recipe lines, variables expanded."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    variables = _makefile_variables(lines)
    start = next(i for i, line in enumerate(lines) if line.startswith("lint:"))
    recipe: list[str] = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(_expand(line.strip(), variables))
    return recipe


def pre_commit_hooks() -> list[dict[str, Any]]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_pre_commit_accepts_the_config() -> None:
    result = subprocess.run(
        [PRE_COMMIT, "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_hooks_are_local_and_run_on_the_whole_tree() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    for hook in pre_commit_hooks():
        # make lint checks every file; a hook given only the staged ones would check less.
        assert hook["pass_filenames"] is False, hook["id"]
        assert hook["always_run"] is True, hook["id"]
        # The tools come from .venv; `system`, the old name of this language, is deprecated.
        assert hook["language"] == "unsupported", hook["id"]


def test_the_hooks_run_the_commands_make_lint_runs() -> None:
    commands = make_lint_commands()
    assert len(commands) == 4  # ruff check, ruff format --check, mypy, lint-imports
    hooks = [" ".join([hook["entry"], *hook.get("args", [])]) for hook in pre_commit_hooks()]
    assert hooks == commands


def test_make_lint_type_checks_the_tests() -> None:
    """mypy (make lint, the pre-commit hook) reads its folders from pyproject.toml: tests/ too."""
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["strict"] is True
    assert "tests" in mypy["files"]
    lighter = [o for o in mypy["overrides"] if "tests.ui.*" in o["module"]]
    # The one lighter setting, for the tray app's tests (pyproject.toml says why); nothing
    # else under tests/ is exempt from the strict flags.
    assert all(str(m).startswith("tests.ui") for o in lighter for m in o["module"])
    assert not [o for o in mypy["overrides"] if any(str(m) == "tests.*" for m in o["module"])]
