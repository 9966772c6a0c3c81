"""The agent is headless: importing it (and everything it imports) never loads Qt, and the
``connector`` command loads Qt only to start the tray app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
import agent, agent.cli, agent.facade, agent.runtime.runner, agent.runtime.link_worker
import agent.support.credentials
import agent.commands.doctor, agent.commands.diagnostics, agent.runtime.scheduler
import agent.sources.gnucash.source
loaded = sorted(name for name in sys.modules if name.split('.')[0] in {'PySide6', 'shiboken6'})
print(','.join(loaded))
"""


def test_importing_the_agent_never_loads_pyside6() -> None:
    import PySide6  # noqa: F401 - the check means something only where PySide6 is installed

    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


COMMAND_PROBE = """
import json, sys
from connector import launch
code = launch.main(sys.argv[1:])
loaded = sorted(n for n in sys.modules if n.split('.')[0] in {'PySide6', 'shiboken6', 'ui'})
print(json.dumps([code, loaded]))
"""


def _command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONNECTOR_HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", COMMAND_PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_a_command_of_the_connector_command_never_loads_qt(tmp_path: Path) -> None:
    result = _command(tmp_path, "logs")
    code, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert (code, loaded) == (0, []), result.stderr


def test_the_agents_own_cli_never_starts_the_tray(tmp_path: Path) -> None:
    env = {**os.environ, "CONNECTOR_HOME": str(tmp_path)}
    probe = (
        "import sys\nfrom agent import cli\ncode = cli.main([])\n"
        "print(code, any(n.split('.')[0] in {'PySide6', 'ui'} for n in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert result.stdout.split() == ["2", "False"], result.stderr
    assert "python -m connector" in result.stderr
