"""config.json names each link's accounting package (``"source"``): a config written before it
did reads as GnuCash, and a package no installed source has is refused with words, when the
link is served and in the self-test, never with a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.errors import UnknownSource
from agent.facade import Connector
from agent.support.config import SCHEMA_VERSION, ConfigError, Paths, load_config, save_config
from agent.support.credentials import open_credential_store

LINK = {
    "cloud_url": "http://127.0.0.1:9",
    "company_id": "co-1",
    "company_name": "Harbor Lane",
    "connection_id": "conn-1",
    "book_path": "/home/bob/harbor.gnucash",
    "linked_at": "2026-03-01T09:00:00Z",
}


def _paths(tmp_path: Path) -> Paths:
    return Paths.resolve({"CONNECTOR_HOME": str(tmp_path / "home")})


def _write(paths: Paths, raw: dict[str, object]) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(json.dumps(raw), encoding="utf-8")


def test_a_config_from_before_sources_were_named_reads_as_gnucash(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    _write(paths, {"schema_version": 1, "links": [LINK], "log_level": "DEBUG"})
    config = load_config(paths)
    assert [link.source for link in config.links] == ["gnucash"]
    assert config.log_level == "DEBUG"  # the rest kept as it was

    save_config(paths, config)  # written again in this version's form
    written = json.loads(paths.config_file.read_text(encoding="utf-8"))
    assert written["schema_version"] == SCHEMA_VERSION == 2
    assert written["links"][0]["source"] == "gnucash"


def test_a_link_that_names_no_package_is_refused_with_words(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    _write(paths, {"schema_version": 2, "links": [{**LINK, "source": ""}]})
    with pytest.raises(ConfigError, match="names no accounting package"):
        load_config(paths)


def test_a_package_no_source_reads_is_refused_when_the_link_is_served(tmp_path: Path) -> None:
    paths = _linked_to_a_package_not_installed(tmp_path)
    open_credential_store("file", paths.config_dir / "credentials.json").save("conn-1", "r-1")
    connector = Connector(paths)
    with pytest.raises(UnknownSource) as refused:
        connector.start()
    connector.stop(now=True)
    assert refused.value.title == "Connector cannot read this accounting package"
    assert "'quickbooks'" in refused.value.message and "gnucash" in refused.value.message


def test_the_self_test_names_a_package_no_source_reads(tmp_path: Path) -> None:
    paths = _linked_to_a_package_not_installed(tmp_path)
    checks = Connector(paths).doctor()
    (book,) = [check for check in checks if check.name == "Harbor Lane: book"]
    assert not book.ok
    assert book.detail == "Connector cannot read this accounting package ('quickbooks')."
    assert "No reader for 'quickbooks' is installed" in (book.fix or "")


def _linked_to_a_package_not_installed(tmp_path: Path) -> Paths:
    paths = _paths(tmp_path)
    config = {"schema_version": 2, "links": [{**LINK, "source": "quickbooks"}]}
    _write(paths, {**config, "credential_store": "file"})
    return paths
