"""Each test is a unit, an integration or an end-to-end test, told from where it lives and what
it uses, so that ``make check`` can run the fast ones alone (``-m unit``) and a new test is
sorted without anyone remembering to mark it.

- ``e2e``: the folders that run the whole product as a user's machine would (the CLI and the
  tray app as processes, a real keyring, an X display, TLS through proxies, the chaos suite, the
  installed package).
- ``integration``: anything else that starts a process or a server, opens a socket, or needs the
  GnuCash engine, an X display, a keyring or PostgreSQL; seen in the fixtures a test asks for,
  its markers, and the helpers and modules its test module holds (a module that imports
  ``subprocess`` or ``LocalCloud`` is taken to use them).
- ``unit``: the rest, in this process alone: the agent's and the cloud's code on real files and
  real SQLite, the in-process cloud (FastAPI's TestClient: no socket), the tray app offscreen.
"""

from __future__ import annotations

import platform
import socket
import subprocess
import types
from collections.abc import Callable
from pathlib import Path

import pytest

KINDS = ("unit", "integration", "e2e")
TESTS = Path(__file__).resolve().parents[1]
E2E_FOLDERS = frozenset({"e2e", "network", "chaos", "installer"})
# Markers of tests that need something outside this process (pyproject.toml lists them).
INTEGRATION_MARKERS = frozenset({"gnucash", "fuzz", "chaos", "installer"})
# Fixtures that build books with the GnuCash engine or read them with it.
INTEGRATION_FIXTURES = frozenset({"cases_books", "cases_truth", "cases_synced"})
# Modules whose presence in a test module means processes, servers, sockets or system parts.
INTEGRATION_MODULES = frozenset(
    {
        "subprocess",
        "multiprocessing",
        "socket",
        "socketserver",
        "http.server",
        "uvicorn",
        "playwright.sync_api",
        "cloud.local",  # LocalCloud: the cloud served on a loopback port
        "tests.agent.runtime_harness",  # a LocalCloud and an agent home
        "tests.cloud.served_cloud",
        "tests.support.served_cloud",
        "tests.support.hostile_cloud",
        "tests.support.fault_proxy",
        "tests.support.tls_server",
        "tests.support.keyring_session",
        "tests.support.xdisplay",
        "tests.support.gnucash_engine",
        "tests.support.gnucash_reports",
        "tests.support.postgres",
        "tests.support.installed_package",
    }
)


def _uses_an_integration_module(module: types.ModuleType) -> bool:
    for value in vars(module).values():
        if isinstance(value, types.ModuleType):
            name = value.__name__
        else:
            name = getattr(value, "__module__", None) or ""
        if name in INTEGRATION_MODULES:
            return True
    return False


def kind_of(item: pytest.Item) -> str:
    """``unit``, ``integration`` or ``e2e`` for one collected test."""
    path = Path(str(item.path)).resolve()
    folder = path.relative_to(TESTS).parts[0] if path.is_relative_to(TESTS) else ""
    if folder in E2E_FOLDERS:
        return "e2e"
    if any(item.get_closest_marker(name) for name in INTEGRATION_MARKERS):
        return "integration"
    if INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return "integration"
    module = getattr(item, "module", None)
    if module is not None and _uses_an_integration_module(module):
        return "integration"
    return "unit"


def mark_kinds(items: list[pytest.Item]) -> None:
    """Give each test the marker of its kind, unless it already carries one."""
    for item in items:
        if not any(item.get_closest_marker(kind) for kind in KINDS):
            item.add_marker(kind_of(item))


class OutsideTheUnit(AssertionError):
    """A unit test started a process or opened a network socket: it is an integration test."""


def keep_within_the_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a unit test fail if it starts a process or connects or binds a network socket, so
    that the sorting above cannot quietly let a slow or outward-reaching test into ``make check``
    (Unix socket pairs stay allowed: asyncio's event loops wake themselves with one)."""

    def no_process(*args: object, **kwargs: object) -> None:
        raise OutsideTheUnit(f"a unit test started a process: {args[:1]}")

    def guarded(original: Callable[..., object]) -> Callable[..., object]:
        def network_only_refused(sock: socket.socket, *args: object) -> object:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                raise OutsideTheUnit(f"a unit test opened a network socket: {args[:1]}")
            return original(sock, *args)

        return network_only_refused

    # The standard library asks `uname -p` once a process for platform.processor() (which the
    # diagnostics bundle records); asked here first, it is cached, and no unit test starts it.
    platform.processor()
    monkeypatch.setattr(subprocess, "Popen", no_process)
    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, guarded(getattr(socket.socket, name)))
