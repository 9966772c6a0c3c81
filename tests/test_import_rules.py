"""The allowed imports between packages hold (the import-linter contracts in pyproject.toml).

``make lint`` runs the same contracts; this test makes ``make test`` fail on a wrong import too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "cloud", "connector", "protocol", "ui")
# import-linter's own command, from this environment (make lint runs the same).
LINT_IMPORTS = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # Run from ``root`` with it first on the path, so the packages there are the ones checked.
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(LINT_IMPORTS, cwd=root, env=env, capture_output=True, text=True)


def test_every_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add_import(module: Path, line: str) -> None:
    text = module.read_text()
    head, marker, rest = text.partition("from __future__ import annotations\n")
    module.write_text(head + marker + line + "\n" + rest)


def test_the_agent_reaching_into_the_tray_app_is_refused(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    _add_import(tree / "agent" / "runtime" / "runner.py", "import ui.app  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "agent.runtime.runner -> ui.app" in result.stdout


def test_a_router_importing_another_is_refused(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    _add_import(
        tree / "cloud" / "portal" / "routes.py", "from cloud.api import datasets_api  # noqa"
    )
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "a router never imports another router BROKEN" in result.stdout


def test_a_source_reaching_into_the_runtime_is_refused(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    _add_import(
        tree / "agent" / "sources" / "gnucash" / "source.py", "import agent.runtime.runner  # noqa"
    )
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "the agent's layers: each imports only those below it BROKEN" in result.stdout


def test_the_cloud_importing_the_agent_is_refused(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    _add_import(tree / "cloud" / "store" / "datasets.py", "import agent.errors  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "the cloud imports neither the agent nor the tray app BROKEN" in result.stdout


def test_a_command_naming_a_source_package_is_refused(tmp_path: Path) -> None:
    """A command reads books through the registry (``Source`` and ``SourceKind``), so a
    second package is a folder of its own, not an edit of the commands."""
    tree = _copy(tmp_path)
    _add_import(
        tree / "agent" / "commands" / "doctor.py",
        "from agent.sources.gnucash.reading.reader import read_book  # noqa",
    )
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "sources are found through the registry, not by name BROKEN" in result.stdout
