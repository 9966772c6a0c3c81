"""``connector-cloud``: run the reference cloud."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import uvicorn

from agent.version import __version__
from cloud.app import create_app
from cloud.settings import CloudSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="connector-cloud", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the public API and the agent API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--database", required=True, help="database URL, e.g. sqlite:///ABS/PATH.db")
    serve.add_argument(
        "--api-key",
        default=os.environ.get("CONNECTOR_CLOUD_API_KEY"),
        help="the public API's key (default: $CONNECTOR_CLOUD_API_KEY)",
    )
    serve.add_argument(
        "--public-url",
        help="the URL people and agents use to reach this server (default: http://HOST:PORT)",
    )
    serve.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    if not args.api_key:
        parser.error("an API key is required: pass --api-key or set CONNECTOR_CLOUD_API_KEY")
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    settings = CloudSettings(
        database_url=args.database,
        api_key=args.api_key,
        public_url=(args.public_url or f"http://{args.host}:{args.port}").rstrip("/"),
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
