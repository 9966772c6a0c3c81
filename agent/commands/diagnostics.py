"""The diagnostics bundle: one zip a person can send to support, with no secrets and no books.

What goes in is chosen file by file, never by copying folders: the agent's own log files, the
settings, the versions of what it runs on, and the self-test report. Everything is passed
through :func:`agent.support.redaction.redact` on the way in, even what should hold no secret,
since a token that once slipped into a log must not leave the PC in a bundle.

Nothing from the data folder goes in: it holds copies of the user's books and records waiting
to be uploaded, which are the business's ledger, not diagnostics.
"""

from __future__ import annotations

import io
import json
import os
import platform
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from importlib import metadata
from pathlib import Path

from agent.commands.doctor import Check, format_report
from agent.support.config import AgentConfig, Paths, replacing
from agent.support.logs import log_files
from agent.support.redaction import MASK, Redactor, redact
from protocol.clock import Clock, to_iso, utc_now
from protocol.version import __version__

# Distributions whose versions support asks for first.
PACKAGES = (
    "httpx",
    "httpcore",
    "keyring",
    "PySide6-essentials",
    "SQLAlchemy",
    "platformdirs",
    "APScheduler",
    "certifi",
    "pydantic",
)

# Settings from the environment that change how Connector connects or stores credentials.
ENVIRONMENT = (
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "PYTHON_KEYRING_BACKEND",
    "CONNECTOR_HOME",
)

README = """\
Connector diagnostics bundle, made {made} by Connector {version}.

  logs/          Connector's log files
  config.json    Connector's settings: the links (company, cloud address, book path)
  versions.txt   Connector, Python, the operating system, libraries, network settings
  self-test.txt  the self-test's findings{self_test_note}

Secrets were removed from every file (shown as {mask}). No book, no copy of a book and no
accounting records are included.
"""


def build_bundle(
    paths: Paths,
    config: AgentConfig,
    destination: Path,
    *,
    checks: list[Check] | None = None,
    secrets: Iterable[str] = (),
    clock: Clock = utc_now,
) -> Path:
    """Write the bundle and return its path.

    ``destination`` is the zip file to write, or an existing folder to write it into under a
    dated name. ``secrets`` are extra values to remove besides those registered process-wide:
    the command that builds a bundle runs apart from the agent that wrote the logs, so it
    passes the stored refresh tokens here. The file is written to a temporary name and moved
    into place, so a half-written bundle never appears under the final name.
    """
    made = clock()
    target = _target(destination, made)
    scrub = _Scrubber(secrets)
    target.parent.mkdir(parents=True, exist_ok=True)
    with replacing(target) as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as bundle:
        _write(bundle, made, "README.txt", _readme(made, checks))
        for log_file in log_files(paths.log_dir):
            _write_log(bundle, made, log_file, scrub)
        _write(bundle, made, "config.json", scrub(_config_text(paths, config)))
        _write(bundle, made, "versions.txt", scrub(versions_text(config)))
        if checks is not None:
            _write(bundle, made, "self-test.txt", scrub(format_report(checks) + "\n"))
    return target


def versions_text(config: AgentConfig) -> str:
    """What Connector runs on: its version, Python, the OS, libraries, and network settings."""
    lines = [
        f"Connector {__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()}, "
        f"{sys.executable})",
        f"Platform {platform.platform()} ({platform.machine()})",
        f"Frozen build {'yes' if getattr(sys, 'frozen', False) else 'no'}",
        f"Credential store {config.credential_store}",
        f"Extra CA bundle {config.ca_bundle or 'none'}",
        "",
        "Libraries:",
    ]
    for package in PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "not installed"
        lines.append(f"  {package} {version}")
    lines += ["", "Environment:"]
    for name in ENVIRONMENT:
        value = os.environ.get(name) or os.environ.get(name.lower())
        lines.append(f"  {name} {'(not set)' if value is None else value}")
    return "\n".join(lines) + "\n"


def _target(destination: Path, made: datetime) -> Path:
    if destination.is_dir():
        stamp = made.strftime("%Y%m%d-%H%M%S")
        return destination / f"connector-diagnostics-{stamp}.zip"
    return destination


class _Scrubber:
    """The bundle's own secrets first, then the process-wide ones and the patterns."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # A private Redactor, so these secrets are not kept in the process-wide one.
        self._extra = Redactor()
        for secret in secrets:
            self._extra.register(secret)

    def __call__(self, text: str) -> str:
        return redact(self._extra.redact(text))


def _readme(made: datetime, checks: list[Check] | None) -> str:
    note = "" if checks is not None else " (not run for this bundle)"
    return README.format(made=to_iso(made), version=__version__, self_test_note=note, mask=MASK)


def _config_text(paths: Paths, config: AgentConfig) -> str:
    # The file as it is on disk tells support more (a hand edit, a newer schema) than the
    # parsed settings; the parsed ones stand in when there is no file yet.
    try:
        return paths.config_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return json.dumps(asdict(config), indent=2, sort_keys=True)
    except (OSError, UnicodeDecodeError) as exc:
        return f"(config.json could not be read: {exc})\n" + json.dumps(
            asdict(config), indent=2, sort_keys=True
        )


def _info(name: str, made: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=made.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _write(bundle: zipfile.ZipFile, made: datetime, name: str, text: str) -> None:
    bundle.writestr(_info(name, made), text.encode("utf-8"))


def _write_log(bundle: zipfile.ZipFile, made: datetime, log_file: Path, scrub: _Scrubber) -> None:
    # Line by line, so a 5 MB log is never held whole; a line is the unit every pattern needs.
    with (
        log_file.open("r", encoding="utf-8", errors="replace") as source,
        bundle.open(_info(f"logs/{log_file.name}", made), "w") as member,
        io.TextIOWrapper(member, encoding="utf-8", newline="") as out,
    ):
        for line in source:
            out.write(scrub(line))
