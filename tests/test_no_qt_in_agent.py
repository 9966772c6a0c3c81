"""The agent is headless: importing it (and everything it imports) never loads Qt."""

from __future__ import annotations

import subprocess
import sys

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
