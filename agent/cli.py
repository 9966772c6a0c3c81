"""``connector``: link this PC's book to the cloud, and keep it in sync."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.errors import ConnectorError
from agent.facade import Connector
from agent.logs import setup_logging
from agent.states import DatasetStatus
from agent.version import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connector", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True)

    link = commands.add_parser("link", help="link a company in the cloud to a GnuCash book")
    link.add_argument("link_url", help="the link URL you were given (…/link/ABCD-EFGH)")
    link.add_argument("--book", required=True, type=Path, help="the .gnucash file to sync")
    link.add_argument(
        "--insecure-file-store",
        action="store_true",
        help="keep the credential in a plain file readable by your user account, for machines "
        "with no OS keyring (not recommended)",
    )

    run = commands.add_parser("run", help="sync: wait for datasets from the cloud and run them")
    run.add_argument("--headless", action="store_true", help="no tray icon; log to the console")
    run.add_argument(
        "--until-idle",
        type=float,
        metavar="SECONDS",
        help="exit once no dataset has arrived for this many seconds",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    connector = Connector()
    setup_logging(connector.paths.log_dir, verbose=args.verbose)
    try:
        if args.command == "link":
            link = connector.link(
                args.link_url, args.book, insecure_file_store=args.insecure_file_store
            )
            print(f"Linked {link.company_name} to {link.book_path}.")
            return 0
        if not args.headless:
            print("The tray app is not part of this build yet; running headless.", file=sys.stderr)
        summary = connector.run(until_idle=args.until_idle)
    except ConnectorError as error:
        print(f"{error.title}: {error.message}", file=sys.stderr)
        return 1
    for result in summary.results.values():
        for outcome in result.outcomes:
            line = f"{outcome.data_type}: {outcome.status}"
            if outcome.status != DatasetStatus.COMPLETE and outcome.error_message:
                line += f" ({outcome.error_message})"
            print(line)
    if summary.needs_reauthorization:
        print(
            "Connector needs to be re-authorized: ask for a new link URL and run "
            "`connector link` again.",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
