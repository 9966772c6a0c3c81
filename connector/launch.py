"""``connector`` with no command (or ``run`` without ``--headless``) starts the tray app; with a
command, it is the agent's CLI (:mod:`agent.cli`). Qt is imported only on the tray's path."""

from __future__ import annotations

import sys

from agent import cli


def main(argv: list[str] | None = None) -> int:
    args = cli.parse(argv)
    if not cli.wants_tray(args):
        return cli.run_command(args)
    connector = cli.prepared_connector(args)
    # Imported here, on the tray's path alone: the commands never load PySide6.
    from ui.app import main as tray_main

    return tray_main([sys.argv[0]], connector)
