"""``connector-cloud``: run the reference cloud."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import uvicorn

from cloud.app import create_app
from cloud.settings import MAKE_AN_API_KEY, CloudSettings, SettingsRefused
from protocol.version import __version__


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


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
        help="the public API's key, at least 32 random characters (default: "
        f"$CONNECTOR_CLOUD_API_KEY); make one with: {MAKE_AN_API_KEY}",
    )
    serve.add_argument(
        "--public-url",
        help="the URL people and agents use to reach this server (default: http://HOST:PORT, "
        "https:// with --tls-cert)",
    )
    serve.add_argument(
        "--refresh-token-ttl",
        type=float,
        default=90 * 24 * 3600,
        metavar="SECONDS",
        help="how long an agent's refresh token lives unused; when it expires the "
        "connection becomes Deauthorized (default: 90 days)",
    )
    serve.add_argument(
        "--access-token-ttl",
        type=float,
        default=3600,
        metavar="SECONDS",
        help="lifetime of an agent's access token (default: 1 hour)",
    )
    serve.add_argument(
        "--lease-seconds",
        type=float,
        default=60,
        metavar="SECONDS",
        help="how long a claimed dataset stays an agent's without word from it (default: 60)",
    )
    serve.add_argument(
        "--sweep-seconds",
        type=float,
        default=5,
        metavar="SECONDS",
        help="how often schedules, leases and expiries are checked (default: 5)",
    )
    serve.add_argument(
        "--tls-cert",
        metavar="PEM",
        help="serve https with this certificate (chain) file; needs --tls-key",
    )
    serve.add_argument(
        "--tls-key", metavar="PEM", help="the private key of --tls-cert (unencrypted PEM)"
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a reverse proxy (IP address or network) whose X-Forwarded-For header names the "
        "client; repeatable. Without it the header is ignored and the peer is the client "
        "(failed API keys and link codes are limited per client)",
    )
    serve.add_argument(
        "--webhook-allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host (name or address) webhooks may be sent to although it is, or resolves "
        "to, a private, loopback or other non-public address: a consumer on an internal "
        "network on purpose (repeatable; by default such hosts are refused)",
    )
    limits = serve.add_argument_group(
        "limits", "what one caller may make the cloud read; refused with 413 beyond"
    )
    limits.add_argument(
        "--max-request-bytes",
        type=_positive,
        default=CloudSettings.max_request_bytes,
        metavar="BYTES",
        help="the body of any request but an upload page: JSON, portal forms "
        f"(default: {CloudSettings.max_request_bytes})",
    )
    limits.add_argument(
        "--max-page-bytes",
        type=_positive,
        default=CloudSettings.max_page_bytes,
        metavar="BYTES",
        help=f"one uploaded page of records (default: {CloudSettings.max_page_bytes})",
    )
    limits.add_argument(
        "--max-page-records",
        type=_positive,
        default=CloudSettings.max_page_records,
        metavar="N",
        help=f"records in one uploaded page (default: {CloudSettings.max_page_records})",
    )
    limits.add_argument(
        "--max-pages",
        type=_positive,
        default=CloudSettings.max_pages,
        metavar="N",
        help=f"pages in one dataset's upload (default: {CloudSettings.max_pages})",
    )
    serve.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    if not args.api_key:
        parser.error(
            "an API key is required: pass --api-key or set CONNECTOR_CLOUD_API_KEY; "
            f"make one with: {MAKE_AN_API_KEY}"
        )
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together: give both to serve https, or neither")
    scheme = "https" if args.tls_cert else "http"
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        settings = CloudSettings(
            database_url=args.database,
            api_key=args.api_key,
            public_url=(args.public_url or f"{scheme}://{args.host}:{args.port}").rstrip("/"),
            refresh_token_ttl_seconds=args.refresh_token_ttl,
            access_token_ttl_seconds=args.access_token_ttl,
            lease_seconds=args.lease_seconds,
            sweep_seconds=args.sweep_seconds,
            trusted_proxies=tuple(args.trusted_proxy),
            webhook_allowed_hosts=tuple(args.webhook_allow_host),
            max_request_bytes=args.max_request_bytes,
            max_page_bytes=args.max_page_bytes,
            max_page_records=args.max_page_records,
            max_pages=args.max_pages,
        )
    except SettingsRefused as refused:
        parser.exit(2, f"{parser.prog}: {refused.title}: {refused.message}\n")
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        # Agents refuse plain http to anything but their own machine: a cloud they reach over
        # a network serves https, here or behind a TLS-terminating proxy.
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        # The app reads forwarded headers itself, from --trusted-proxy alone; uvicorn would
        # otherwise trust them from 127.0.0.1 (or $FORWARDED_ALLOW_IPS) whatever that says.
        proxy_headers=False,
        # Long polls would otherwise hold a restart for their whole wait; agents retry anyway.
        timeout_graceful_shutdown=2,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
