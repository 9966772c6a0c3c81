"""``connector``: link this PC's books to the cloud, and keep them in sync.

Exit codes: 0 success; 1 an error the message explains; 2 wrong usage; 3 a link needs
re-authorization; 4 ``doctor`` found a problem.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agent.commands import doctor
from agent.errors import ConnectorError
from agent.facade import Connector
from agent.status.status_text import describe
from agent.support import proxy_secret
from agent.support.config import SYSTEM_PROXY, ConfigError, LogLevel
from agent.support.logs import setup_logging
from protocol.clock import utc_now
from protocol.states import DatasetStatus
from protocol.version import __version__

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REAUTHORIZE, EXIT_DOCTOR = 0, 1, 2, 3, 4


# What `connector --help` says first: plain words, the exit codes a script can rely on.
DESCRIPTION = """\
Link this PC's books to the cloud, and keep them in sync. With no command, Connector starts in
the system tray.

Exit codes: 0 success; 1 an error the message explains; 2 wrong usage; 3 a link needs
re-authorization; 4 doctor found a problem.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connector",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    # No command: the tray app (on a desktop), as double-clicking Connector does.
    commands = parser.add_subparsers(dest="command", required=False)

    link = commands.add_parser("link", help="link a company in the cloud to a GnuCash book")
    link.add_argument("link_url", help="the link URL you were given (…/link/ABCD-EFGH)")
    link.add_argument("--book", required=True, type=Path, help="the .gnucash file to sync")
    link.add_argument(
        "--insecure-file-store",
        action="store_true",
        help="keep the credential in a plain file readable by your user account, for machines "
        "with no OS keyring (not recommended)",
    )

    unlink = commands.add_parser("unlink", help="forget a link on this PC")
    unlink.add_argument("connection", help="the connection (or company) id; see `status`")

    run = commands.add_parser("run", help="sync: wait for datasets from the cloud and run them")
    run.add_argument("--headless", action="store_true", help="no tray icon; log to the console")
    run.add_argument(
        "--until-idle",
        type=float,
        metavar="SECONDS",
        help="exit once no dataset has arrived for this many seconds",
    )

    status = commands.add_parser("status", help="links, their state, and each data type's status")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    sync = commands.add_parser("sync", help="ask the cloud to sync now")
    sync.add_argument("data_types", nargs="*", metavar="DATA_TYPE", help="default: the usual set")
    sync.add_argument("--connection", help="only this link")

    pause = commands.add_parser("pause", help="stop syncing for a while")
    pause.add_argument(
        "duration", nargs="?", default="forever", help="e.g. 1h, 24h, 30m; default: until resumed"
    )
    commands.add_parser("resume", help="sync again after a pause")

    window = commands.add_parser("window", help="sync only between two times of day")
    window.add_argument("hours", help='e.g. "19:00-07:00", or "always"')

    proxy = commands.add_parser(
        "proxy", help="how Connector reaches the cloud: through a proxy, the system's, or directly"
    )
    proxy.add_argument(
        "address",
        help="a proxy URL (http://proxy.example:3128, or http://user@proxy.example:3128 when it "
        "wants a user name and password), 'system' (the environment's HTTPS_PROXY) or 'none'",
    )
    proxy.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the proxy's password from standard input instead of asking for it",
    )

    commands.add_parser("doctor", help="check everything Connector needs, and say what to fix")
    commands.add_parser("logs", help="where the log files are")
    diagnostics = commands.add_parser(
        "diagnostics", help="save a zip for support (no credentials, no ledger data)"
    )
    diagnostics.add_argument("--output", type=Path, help="where to save it")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(parse(argv))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, parsed (``--help``, ``--version`` and wrong usage exit here)."""
    return _parser().parse_args(argv)


def wants_tray(args: argparse.Namespace) -> bool:
    """No command, or ``run`` without ``--headless``: the tray app's to start, not this CLI's
    (``connector/launch.py`` starts it; the headless core never imports Qt)."""
    return args.command is None or (args.command == "run" and not args.headless)


def prepared_connector(args: argparse.Namespace) -> Connector:
    """The facade, with logging set up at the configured level."""
    connector = Connector()
    try:
        level = connector.config().log_level
    except ConfigError:
        level = LogLevel.INFO  # the command itself reports the broken config
    setup_logging(connector.paths.log_dir, verbose=args.verbose, level=level)
    return connector


def run_command(args: argparse.Namespace) -> int:
    """Run one command; the tray app is not one of them."""
    if wants_tray(args):
        print(
            "The tray app starts from the connector command (python -m connector); "
            "`connector run --headless` syncs without it.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    connector = prepared_connector(args)
    try:
        return COMMANDS[args.command](connector, args)
    except ConnectorError as error:
        print(f"{error.title}: {error.message}", file=sys.stderr)
        return EXIT_ERROR
    except ValueError as error:  # e.g. a sync window or duration that does not parse
        print(str(error), file=sys.stderr)
        return EXIT_USAGE


def _link(connector: Connector, args: argparse.Namespace) -> int:
    link = connector.link(args.link_url, args.book, insecure_file_store=args.insecure_file_store)
    print(f"Linked {link.company_name} to {link.book_path}.")
    return EXIT_OK


def _unlink(connector: Connector, args: argparse.Namespace) -> int:
    link = connector.unlink(args.connection)
    print(f"Unlinked {link.company_name}. The data already synced stays in the cloud.")
    return EXIT_OK


def _run(connector: Connector, args: argparse.Namespace) -> int:
    summary = connector.run(until_idle=args.until_idle)
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
        return EXIT_REAUTHORIZE
    if summary.errors:  # the run did not do its work: never exit as if it had
        for connection_id, error in summary.errors.items():
            print(f"{connection_id}: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _status(connector: Connector, args: argparse.Namespace) -> int:
    # The same snapshot the tray shows, with the cloud asked afresh from this process.
    status = connector.status(ask_cloud=True)
    if args.json:
        print(json.dumps(_jsonable(asdict(status)), indent=2))
    else:
        print(describe(status, utc_now()))
    return EXIT_OK


def _sync(connector: Connector, args: argparse.Namespace) -> int:
    answers = connector.sync_now(args.data_types, args.connection)
    for connection_id, answer in answers.items():
        queued = ", ".join(dataset.data_type for dataset in answer.queued) or "nothing new"
        print(f"{connection_id}: queued {queued}")
        if answer.already_in_progress:
            print(f"  already in progress: {', '.join(answer.already_in_progress)}")
    return EXIT_OK


def _pause(connector: Connector, args: argparse.Namespace) -> int:
    if args.duration == "forever":
        connector.pause(None)
        print("Paused until you run `connector resume`.")
    else:
        until = datetime.now(UTC) + _duration(args.duration)
        connector.pause(until)
        print(f"Paused until {until.astimezone():%Y-%m-%d %H:%M}.")
    return EXIT_OK


def _resume(connector: Connector, _args: argparse.Namespace) -> int:
    connector.resume()
    print("Syncing again.")
    return EXIT_OK


def _window(connector: Connector, args: argparse.Namespace) -> int:
    connector.set_sync_window(None if args.hours == "always" else args.hours)
    print("Syncs at any time." if args.hours == "always" else f"Syncs only {args.hours}.")
    return EXIT_OK


def _proxy(connector: Connector, args: argparse.Namespace) -> int:
    address: str | None = {"system": SYSTEM_PROXY, "none": None}.get(args.address, args.address)
    if address not in (None, SYSTEM_PROXY):
        address = _with_asked_password(address, from_stdin=args.password_stdin)
    connector.set_proxy(address)
    shown = connector.config().proxy  # as kept: without its password, which is in the keyring
    if shown is None:
        print("Connector connects to the cloud directly, without a proxy.")
    elif shown == SYSTEM_PROXY:
        print("Connector uses the system's proxy settings (HTTPS_PROXY, NO_PROXY).")
    else:
        print(f"Connector connects through {shown}.")
    return EXIT_OK


def _with_asked_password(address: str, *, from_stdin: bool) -> str:
    """The proxy URL with its password: from standard input, or asked for at the terminal when
    the URL names a user but no password (a password typed into the command line would stay in
    the shell's history)."""
    parts = urlsplit(address)
    if parts.password is not None or (parts.username is None and not from_stdin):
        return address
    if parts.username is None:
        raise ValueError("--password-stdin needs a user name in the proxy URL (http://user@...).")
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"Password of {parts.username} at the proxy: ")
    else:
        return address  # nobody to ask: the proxy keeps the password it had, if any
    return proxy_secret.add_password(address, password) if password else address


def _logs(connector: Connector, _args: argparse.Namespace) -> int:
    print(connector.paths.log_dir)
    return EXIT_OK


def _doctor(connector: Connector, _args: argparse.Namespace) -> int:
    checks = connector.doctor()
    print(doctor.format_report(checks))
    return EXIT_OK if doctor.exit_code(checks) == 0 else EXIT_DOCTOR


def _diagnostics(connector: Connector, args: argparse.Namespace) -> int:
    path = connector.diagnostics(args.output)
    print(f"Saved {path}. It holds logs, settings and versions; no credentials, no ledger data.")
    return EXIT_OK


COMMANDS = {
    "link": _link,
    "unlink": _unlink,
    "run": _run,
    "status": _status,
    "sync": _sync,
    "pause": _pause,
    "resume": _resume,
    "window": _window,
    "proxy": _proxy,
    "doctor": _doctor,
    "logs": _logs,
    "diagnostics": _diagnostics,
}


def _duration(text: str) -> timedelta:
    units = {"m": 60, "h": 3600, "d": 86400}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise ValueError(f"'{text}' is not a duration: use e.g. 30m, 1h or 24h.")
    return timedelta(seconds=int(number) * units[unit])


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


if __name__ == "__main__":
    sys.exit(main())
