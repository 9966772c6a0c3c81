"""Where Connector keeps its files, and the links it serves (never any secret).

Paths come from platformdirs, or all from one folder when ``CONNECTOR_HOME`` is set (tests, the
demo, portable installs). The config file is written atomically (temp file, then
``os.replace``) and carries a schema version: a file an earlier version wrote is brought up to
this one's as it is read (:data:`MIGRATIONS`), and written in the new form at the next save.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, Literal

import platformdirs

from agent.support.own_files import dataset_folder_name, link_folder_name, remove_inside
from agent.support.private_files import make_private_dir

SCHEMA_VERSION = 2
APP_NAME = "Connector"

CredentialStoreKind = Literal["keyring", "file"]


class LogLevel(StrEnum):
    """How much the log files keep; the values are logging's level names."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


LOG_LEVELS = tuple(LogLevel)
SYSTEM_PROXY = "system"  # the proxy the environment names (HTTPS_PROXY, NO_PROXY)
# The source of a link written before config.json named one (schema 1): every such link reads a
# GnuCash book. Which names exist is the registry's to say (agent/sources/registry.py).
GNUCASH_SOURCE = "gnucash"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def own_folders(self) -> tuple[Path, ...]:
        """The folders that are Connector's alone, everything in them included. Not the
        ``CONNECTOR_HOME`` folder itself: a person chose it, and it may hold other things (a
        portable install's program); made for Connector, it is made 0700."""
        return (self.config_dir, self.data_dir, self.log_dir)

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def staging_dir(self) -> Path:
        """Per-dataset working files: book snapshots and mapped records."""
        return self.data_dir / "staging"

    @property
    def locks_dir(self) -> Path:
        """Lock files that every Connector process of this user shares (the credentials')."""
        return self.data_dir / "locks"

    def link_staging_dir(self, connection_id: str) -> Path:
        """A link's datasets' working files, in a folder named here (never by the id)."""
        return self.staging_dir / link_folder_name(connection_id)

    def dataset_staging_dir(self, connection_id: str, dataset_id: str) -> Path:
        """One dataset's working files: its mapped records and its pages."""
        return self.link_staging_dir(connection_id) / dataset_folder_name(dataset_id)

    @classmethod
    def resolve(cls, environ: dict[str, str] | None = None) -> Paths:
        env = os.environ if environ is None else environ
        home = env.get("CONNECTOR_HOME")
        if home:
            root = Path(home)
            return cls(root / "config", root / "data", root / "logs")
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )


@dataclass(frozen=True)
class Link:
    """One company this agent serves: a cloud connection and the book it reads."""

    cloud_url: str
    company_id: str
    company_name: str
    connection_id: str
    book_path: str
    linked_at: str
    # The accounting package the book is kept in: a source's name in the registry
    # (agent/sources/registry.py); one no installed source has is refused when it is served.
    source: str = GNUCASH_SOURCE


@dataclass(frozen=True)
class AgentConfig:
    links: tuple[Link, ...] = ()
    # "file" only when the user opted in explicitly; the tray and status then show a warning.
    credential_store: CredentialStoreKind = "keyring"
    paused_until: str | None = None  # ISO 8601; "9999-12-31T23:59:59.999999Z" = until resumed
    sync_window: str | None = None  # e.g. "19:00-07:00", the PC's local time
    ca_bundle: str | None = None  # extra certificates to trust (corporate TLS inspection)
    log_level: LogLevel = LogLevel.INFO  # how much the log file keeps
    # "system": the environment's proxy settings; a URL: always that proxy; None: no proxy.
    proxy: str | None = SYSTEM_PROXY
    # How many calendar months of profit and loss and balance sheet to send, up to the month of
    # the book's last transaction; None: every month from the first transaction.
    report_months: int | None = None
    schema_version: int = SCHEMA_VERSION

    def without_link(self, connection_id: str) -> AgentConfig:
        return replace(
            self, links=tuple(li for li in self.links if li.connection_id != connection_id)
        )

    def with_link(self, link: Link) -> AgentConfig:
        """This config with ``link`` added, replacing any link to the same connection."""
        others = tuple(li for li in self.links if li.connection_id != link.connection_id)
        return replace(self, links=(*others, link))


class ConfigError(ValueError):
    pass


def _name_link_sources(raw: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 -> 2: each link names the package its book is kept in; every link so far
    reads a GnuCash book."""
    links = [{**link, "source": GNUCASH_SOURCE} for link in raw.get("links", [])]
    return {**raw, "links": links}


# The step that brings a config written with schema n up to n + 1 (0: before it was versioned).
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: _name_link_sources,
    1: _name_link_sources,
}


def migrated(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """``raw`` (config.json as read) brought up to :data:`SCHEMA_VERSION`."""
    version = raw.get("schema_version", 0)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ConfigError(
            f"{path} was written by a newer Connector (schema {version}); "
            "update Connector to use it."
        )
    while version < SCHEMA_VERSION:
        raw = {**MIGRATIONS[version](raw), "schema_version": version + 1}
        version += 1
    return raw


def _link(raw: object, path: Path) -> Link:
    """One link of config.json; its ``source`` must name a package (the registry says which
    are installed, when the link is served)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} holds a link that is not one; link the company again.")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(
            f"{path}: the link to {raw.get('company_name') or raw.get('connection_id')} names no "
            f'accounting package (its "source" is {source!r}); set it to '
            f'"{GNUCASH_SOURCE}" for a GnuCash book, or link the company again.'
        )
    try:
        return Link(**raw)
    except TypeError as exc:
        raise ConfigError(f"{path} holds a link Connector cannot read ({exc}).") from exc


def load_config(paths: Paths) -> AgentConfig:
    try:
        raw = json.loads(paths.config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AgentConfig()
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Cannot read {paths.config_file}: {exc}") from exc
    raw = migrated(raw, paths.config_file)
    return AgentConfig(
        links=tuple(_link(link, paths.config_file) for link in raw.get("links", [])),
        credential_store=raw.get("credential_store", "keyring"),
        paused_until=raw.get("paused_until"),
        sync_window=raw.get("sync_window"),
        ca_bundle=raw.get("ca_bundle"),
        log_level=_log_level(raw.get("log_level")),
        proxy=raw.get("proxy", SYSTEM_PROXY),
        report_months=_report_months(raw.get("report_months")),
    )


def _log_level(value: object) -> LogLevel:
    """The saved level, or INFO for anything that is not one (a hand-edited file)."""
    return LogLevel(value) if isinstance(value, str) and value in LOG_LEVELS else LogLevel.INFO


def _report_months(value: object) -> int | None:
    """A positive whole number of months, or None (all months) for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def save_config(paths: Paths, config: AgentConfig) -> None:
    make_private_dir(paths.config_dir)
    body = json.dumps(asdict(config), indent=2, sort_keys=True)
    write_atomically(paths.config_file, body)


def write_atomically(target: Path, text: str) -> None:
    """Replace ``target`` with ``text`` so that a crash leaves either the old or the new file."""
    with replacing(target) as handle:
        handle.write(text.encode("utf-8"))


@contextmanager
def replacing(target: Path) -> Iterator[BinaryIO]:
    """A file to write that replaces ``target`` only when the block succeeds, whole and synced
    to disk; on failure ``target`` is untouched and the temporary file is gone. The file is
    its owner's alone (``mkstemp`` creates it 0600), and so is ``target`` after."""
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp_name).replace(target)
    except BaseException:
        remove_inside(target.parent, Path(temp_name))
        raise
