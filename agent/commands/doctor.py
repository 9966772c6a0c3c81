"""The self-test (``connector doctor``): everything a sync needs, checked one by one.

Each check says what it found and, when something is wrong, what the person should do, in
plain words. A check that fails for a reason another check already reported is left out (an
unreachable cloud is not also reported as refusing the credential), so each failure line is
one thing to fix.
"""

from __future__ import annotations

import logging
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from agent.cloud_api.cloud_client import CloudClient
from agent.cloud_api.connectivity import classify, probe
from agent.cloud_api.network import InsecureCloudUrl, is_loopback, require_secure
from agent.errors import (
    AuthorizationLost,
    BookUnreadable,
    CloudUnavailable,
    ConnectorError,
    CredentialStoreUnavailable,
    NotLinked,
    UnknownSource,
)
from agent.runtime.sync_gate import gate_for
from agent.sources.registry import SourceKind, source_kind
from agent.support import proxy_secret
from agent.support.config import AgentConfig, Link, Paths
from agent.support.credentials import CredentialStore
from agent.support.private_files import make_private_dir
from agent.support.redaction import redact
from protocol.agent_api import HeartbeatAnswer
from protocol.clock import Clock, from_iso, to_iso, utc_now

log = logging.getLogger(__name__)

MAX_CLOCK_SKEW = timedelta(minutes=5)

_T = TypeVar("_T")

RELINK_FIX = (
    "Ask for a new link URL (the company's connection in the cloud shows one), then run "
    "`connector link <new link URL> --book <your .gnucash file>` again."
)
BUG_FIX = "This is a fault in Connector: save a diagnostics bundle and send it to support."


@dataclass(frozen=True)
class Check:
    """One finding of the self-test. ``fix`` says what to do; an ok check with a fix is a
    warning (it works, but something deserves attention)."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None

    @property
    def warning(self) -> bool:
        return self.ok and self.fix is not None


def run_checks(
    paths: Paths,
    config: AgentConfig,
    *,
    open_store: Callable[[], CredentialStore],
    client_for: Callable[[Link], CloudClient],
    clock: Clock = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Check]:
    """Run every check and return them in order. Never raises for what it finds.

    ``client_for`` builds the client a link syncs with (its TokenKeeper reading the same
    store); the self-test closes it. ``sleep`` is the wait between attempts to copy a book that
    is being saved; tests pass one that returns at once.
    """
    checks: list[Check] = []
    store_check, store = _guarded("Credential store", lambda: _check_store(paths, open_store))
    checks.append(store_check)
    if store is not None:  # connect as the agent does: with the proxy's password from the keyring
        config = replace(config, proxy=proxy_secret.with_password(config.proxy, store))
    if not config.links:
        checks.append(
            Check(
                "Links",
                False,
                "Connector is not linked to any company yet, so there is nothing to sync.",
                "Ask for a link URL, then run `connector link <link URL> --book <your .gnucash "
                "file>`.",
            )
        )
    for link in config.links:
        checks.extend(_link_checks(paths, config, link, store, client_for, clock, sleep))
    return checks


# The credential store ------------------------------------------------------------------------


def _check_store(
    paths: Paths, open_store: Callable[[], CredentialStore]
) -> tuple[Check, CredentialStore | None]:
    name = "Credential store"
    try:
        store = open_store()
    except CredentialStoreUnavailable as exc:
        detail = "There is no safe place to keep the connection's credential, so no link can work."
        return Check(name, False, detail, exc.message), None
    if store.insecure:
        return (
            Check(
                name,
                True,
                "Credentials are kept in a plain file in Connector's settings folder "
                f"({paths.config_dir}), as you chose; anyone who can read your files can "
                "read them.",
                "When this PC has a working keyring, link again without --insecure-file-store.",
            ),
            store,
        )
    return Check(name, True, f"Credentials are kept in the keyring ({store.backend_name})."), store


# One link -------------------------------------------------------------------------------------


def _link_checks(
    paths: Paths,
    config: AgentConfig,
    link: Link,
    store: CredentialStore | None,
    client_for: Callable[[Link], CloudClient],
    clock: Clock,
    sleep: Callable[[float], None],
) -> list[Check]:
    label = link.company_name or link.connection_id
    checks: list[Check] = []

    has_credential = False
    if store is not None:
        check, found = _guarded(f"{label}: credential", lambda: _credential(link, store))
        checks.append(check)
        has_credential = bool(found)

    name = f"{label}: secure connection"
    secure_check, _ = _guarded(name, lambda: (_secure(name, link.cloud_url), None))
    checks.append(secure_check)

    reach_name = f"{label}: cloud reachable"
    reach, _ = _guarded(
        reach_name, lambda: (_reachable(reach_name, config, link, has_credential), None)
    )
    checks.append(reach)

    package = _package(link)
    # The credential goes over the wire only where the first three say it safely can; the
    # heartbeat announces what the link's package reads (none installed: the book check says so).
    if has_credential and secure_check.ok and reach.ok and not isinstance(package, UnknownSource):
        reason = _wait_reason(config, clock)
        data_types = package.data_types()
        auth, answer = _guarded(
            f"{label}: authorization",
            lambda: _authorization(link, client_for, data_types, reason),
        )
        checks.append(auth)
        if answer is not None:
            checks.append(_clock(f"{label}: clock", answer, clock))

    book_check, _ = _guarded(f"{label}: book", lambda: (_book(paths, link, package, sleep), None))
    checks.append(book_check)
    return checks


def _reachable(name: str, config: AgentConfig, link: Link, has_credential: bool) -> Check:
    # The same certificates and proxy the agent's own calls use, so the answer holds for syncs.
    found = probe(link.cloud_url, ca_bundle=config.ca_bundle, proxy=config.proxy)
    if found.ok:
        return Check(name, True, found.detail)
    skipped = " Authorization and the clock were not checked." if has_credential else ""
    return Check(name, False, found.detail + skipped, found.fix)


def _credential(link: Link, store: CredentialStore) -> tuple[Check, bool]:
    name = f"{link.company_name or link.connection_id}: credential"
    try:
        secret = store.load(link.connection_id)
    except CredentialStoreUnavailable as exc:
        return Check(name, False, "The credential store could not be read.", exc.message), False
    if secret is None:
        return (
            Check(
                name,
                False,
                "The connection's credential is missing from the credential store, so "
                "Connector cannot sign in to the cloud.",
                RELINK_FIX,
            ),
            False,
        )
    return Check(name, True, "The connection's credential is in the credential store."), True


def _secure(name: str, cloud_url: str) -> Check:
    try:
        require_secure(cloud_url)  # what the agent's client enforces
    except InsecureCloudUrl as exc:
        return Check(
            name,
            False,
            exc.message + " Authorization was not tested, so the credential was not sent.",
            "Use the cloud's https:// address: ask for a link URL that starts with https:// "
            "and link again.",
        )
    parts = urlsplit(cloud_url)
    if parts.scheme == "http" and is_loopback(parts.hostname or ""):
        return Check(name, True, "Plain http, but only to this computer.")
    return Check(name, True, "The connection is encrypted (https).")


def _wait_reason(config: AgentConfig, clock: Clock) -> str | None:
    """Why the agent takes no work now: the test's heartbeat must not clear a pause."""
    return gate_for(config, clock()).reason


def _package(link: Link) -> SourceKind | UnknownSource:
    """The installed source of the link's package, or why there is none (:func:`_book` says)."""
    try:
        return source_kind(link.source)
    except UnknownSource as missing:
        return missing


def _authorization(
    link: Link,
    client_for: Callable[[Link], CloudClient],
    data_types: list[str],
    reason: str | None,
) -> tuple[Check, HeartbeatAnswer | None]:
    name = f"{link.company_name or link.connection_id}: authorization"
    try:
        with client_for(link) as client:
            answer = client.heartbeat(data_types, wait_reason=reason)
    except (AuthorizationLost, NotLinked) as exc:
        detail = f"The cloud no longer accepts Connector's credential ({exc.message})."
        return Check(name, False, detail, RELINK_FIX), None
    except CloudUnavailable as exc:
        cause = exc.__cause__
        if isinstance(cause, httpx.TransportError):
            found = classify(cause, link.cloud_url)
            return Check(name, False, found.detail, found.fix), None
        return Check(name, False, exc.message, "Wait a few minutes and try again."), None
    except CredentialStoreUnavailable as exc:
        return Check(name, False, "The credential store could not be read.", exc.message), None
    except ConnectorError as exc:
        return Check(name, False, f"{exc.title}: {exc.message}", BUG_FIX), None
    return Check(name, True, "The cloud accepted Connector's credential."), answer


def _clock(name: str, answer: HeartbeatAnswer, clock: Clock) -> Check:
    try:
        server = from_iso(answer.serverTime)
    except ValueError:
        return Check(name, True, "The cloud's time could not be read, so it was not compared.")
    here = clock()
    skew = here - server
    if abs(skew) <= MAX_CLOCK_SKEW:
        return Check(name, True, f"This PC's clock agrees with the cloud's ({_minutes(skew)}).")
    direction = "ahead of" if skew > timedelta(0) else "behind"
    return Check(
        name,
        False,
        f"This PC's clock is {_minutes(abs(skew))} {direction} the cloud's "
        f"(PC {to_iso(here)}, cloud {to_iso(server)}).",
        "Set this PC's clock to the right time and time zone (on Windows: Settings > Time & "
        "language > Set time automatically). A clock that is off makes the times of every "
        "sync wrong and can make sign-in and secure connections fail.",
    )


def _minutes(skew: timedelta) -> str:
    seconds = abs(skew.total_seconds())
    if seconds < 60:
        return f"{seconds:.0f} seconds apart"
    return f"{seconds / 60:.0f} minutes"


def _book(
    paths: Paths, link: Link, package: SourceKind | UnknownSource, sleep: Callable[[float], None]
) -> Check:
    name = f"{link.company_name or link.connection_id}: book"
    book_path = Path(link.book_path)
    if isinstance(package, UnknownSource):
        return Check(name, False, f"{package.title} ({link.source!r}).", package.message)
    # The copy is taken into Connector's own folder, as a sync does, and deleted right after.
    make_private_dir(paths.staging_dir)
    try:
        with tempfile.TemporaryDirectory(prefix="self-test-", dir=paths.staging_dir) as work:
            book = package.preview(book_path, Path(work), sleep=sleep)
    except BookUnreadable as exc:
        return Check(name, False, f"{exc.title}: {book_path}.", exc.message)
    detail = (
        f"{book_path} can be read ({book.accounts} accounts, {book.customers} "
        f"customers, {book.suppliers} suppliers)."
    )
    if book.open_in is not None:
        detail += f" It is open in {book.open_in} right now, which is fine: Connector reads a copy."
    return Check(name, True, detail)


# Shared -------------------------------------------------------------------------------------


def _guarded(name: str, check: Callable[[], tuple[Check, _T]]) -> tuple[Check, _T | None]:
    """Run ``check``; a fault in the self-test itself becomes a failed check, not a crash."""
    try:
        return check()
    except Exception as exc:
        log.exception("Self-test check %r failed unexpectedly", name)
        detail = f"The check itself failed ({type(exc).__name__}: {redact(str(exc))})."
        return Check(name, False, detail, BUG_FIX), None


# The report ---------------------------------------------------------------------------------

_WIDTH = 100
_INDENT = " " * 6


def format_report(checks: list[Check]) -> str:
    """The checks as text for a console: one entry per check, what to do indented below it.

    Marks are plain ASCII: a Windows console or a redirected output may not encode check marks.
    """
    failed = sum(not check.ok for check in checks)
    if failed:
        headline = f"Connector self-test: {failed} of {len(checks)} checks failed."
    else:
        headline = f"Connector self-test: all {len(checks)} checks passed."
    lines = [headline, ""]
    for check in checks:
        mark = "WARN" if check.warning else "OK" if check.ok else "FAIL"
        lines.append(
            textwrap.fill(
                f"{check.name} - {check.detail}",
                _WIDTH,
                initial_indent=f"{mark:<6}",
                subsequent_indent=_INDENT,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
        if check.fix:
            lines.append(
                textwrap.fill(
                    f"What to do: {check.fix}",
                    _WIDTH,
                    initial_indent=_INDENT,
                    subsequent_indent=_INDENT + "  ",
                    break_on_hyphens=False,
                )
            )
    return "\n".join(lines)


def exit_code(checks: list[Check]) -> int:
    """0 when every check passed (warnings included), 1 otherwise."""
    return 0 if all(check.ok for check in checks) else 1
