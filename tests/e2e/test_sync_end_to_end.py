"""The whole path over real HTTP on loopback: official SDK -> cloud -> agent -> book -> cloud.

The cloud runs as its own process; the agent runs as the ``connector`` CLI in processes of its
own, keeping its credential in a real GNOME Keyring on a private D-Bus session; the book is a
copy of a sample made by the real GnuCash engine, which is also the oracle for what the book
holds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from codat_platform import CodatPlatform
from codat_platform.models import shared
from codat_platform.utils import RetryConfig

from cloud.local import LocalCloud
from protocol.clock import from_iso
from tests.support.gnucash_engine import run_oracle
from tests.support.keyring_session import KeyringSession
from tests.support.paths import SAMPLE_BOOKS

HAPPY_PATH = ["Queued", "Fetching", "Mapping", "Validating", "Processing", "Complete"]


@pytest.fixture
def keyring_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with KeyringSession(tmp_path / "user") as session:
        yield session.env


def connector(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def sdk(cloud: LocalCloud) -> CodatPlatform:
    return CodatPlatform(
        server_url=cloud.url,
        security=shared.Security(auth_header=cloud.auth_header),
        retry_config=RetryConfig("none", None, False),
    )


@pytest.mark.parametrize("book_format", ["sqlite", "xml-gzip"])
def test_a_linked_book_syncs_to_complete(
    book_format: str, tmp_path: Path, keyring_env: dict[str, str]
) -> None:
    book = tmp_path / "books" / "Harbor Lane.gnucash"
    book.parent.mkdir()
    shutil.copyfile(SAMPLE_BOOKS[book_format], book)
    truth = run_oracle(book)

    with LocalCloud(tmp_path / "cloud") as cloud, cloud.client() as api:
        platform = sdk(cloud)
        company = platform.companies.create(request={"name": "Harbor Lane Design Studio"})
        connection = platform.connections.create(
            request={"company_id": company.id, "request_body": {"platform_key": "gncs"}}
        )
        assert connection.status == "PendingAuth"

        env = {**keyring_env, "CONNECTOR_HOME": str(tmp_path / "agent-home")}
        linked = connector(env, "link", connection.link_url, "--book", str(book))
        assert linked.returncode == 0, linked.stderr
        # A data type this agent cannot read, queued beside the first-link defaults.
        queued = api.post(f"/companies/{company.id}/data/queue/items")
        assert queued.status_code < 300, queued.text
        ran = connector(env, "run", "--headless", "--until-idle", "2")
        assert ran.returncode == 0, ran.stderr

        history = {
            op["dataType"]: op
            for op in api.get(f"/companies/{company.id}/data/history").json()["results"]
        }
        for data_type in (
            "company",
            "chartOfAccounts",
            "customers",
            "suppliers",
            "invoices",
            "bills",
        ):
            steps = history[data_type]["statusHistory"]
            assert [s["status"] for s in steps] == HAPPY_PATH, data_type
            stamps = [from_iso(s["timestamp"]) for s in steps]
            assert stamps == sorted(stamps), data_type
        # Whatever this agent cannot read yet ends NotSupported, with the reason.
        assert history["items"]["status"] == "NotSupported"
        assert "cannot read" in history["items"]["errorMessage"]

        customers = _read_all(api, f"/companies/{company.id}/data/customers")
        suppliers = _read_all(api, f"/companies/{company.id}/data/suppliers")
        accounts = _read_all(api, f"/companies/{company.id}/data/accounts")
        info = api.get(f"/companies/{company.id}/data/info")
        assert info.status_code == 200, info.text

    assert _customers_as_in_book(customers) == _customers_from_engine(truth)
    assert _suppliers_as_in_book(suppliers) == _suppliers_from_engine(truth)
    assert len(suppliers) == 3  # not a vacuous comparison
    assert {a["id"]: (a["name"], a["currentBalance"]) for a in accounts} == {
        a["guid"]: (a["name"], float(Fraction(a["balance"]))) for a in truth["accounts"]
    }
    assert info.json()["id"] == truth["book"]["guid"]
    assert info.json()["companyName"] == truth["book"]["business"]["Company Name"]
    _assert_the_credential_is_only_in_the_keyring(env, tmp_path / "agent-home")


def _read_all(api: Any, path: str) -> list[dict[str, Any]]:
    response = api.get(path, params={"pageSize": 5000})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _customers_as_in_book(customers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The cloud's customers, reduced to what the engine can say about each."""
    return {c["id"]: _owner_as_in_book(c, c["customerName"]) for c in customers}


def _suppliers_as_in_book(suppliers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The cloud's suppliers, reduced to what the engine can say about each vendor."""
    return {s["id"]: _owner_as_in_book(s, s["supplierName"]) for s in suppliers}


def _owner_as_in_book(record: dict[str, Any], name: str) -> dict[str, Any]:
    billing = next((a for a in record["addresses"] if a["type"] == "Billing"), None)
    return {
        "name": name,
        "active": record["status"] == "Active",
        "currency": record["defaultCurrency"],
        "contact": record["contactName"] or "",
        "email": record["emailAddress"] or "",
        "phone": record["phone"] or "",
        "address": [billing["line1"], billing["line2"] or ""] if billing else ["", ""],
        "deleted": record["metadata"]["isDeleted"],
    }


def _customers_from_engine(truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["guid"]: _owner_from_engine(c) for c in truth["customers"]}


def _suppliers_from_engine(truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["guid"]: _owner_from_engine(v) for v in truth["vendors"]}


def _owner_from_engine(owner: dict[str, Any]) -> dict[str, Any]:
    """What the engine says of a customer or vendor, in the terms compared above."""
    addr = owner["addr"]
    lines = [addr[key] for key in ("addr1", "addr2", "addr3", "addr4") if addr[key]]
    return {
        "name": owner["name"],
        "active": owner["active"],
        "currency": owner["currency"],
        "contact": addr["name"],
        "email": addr["email"],
        "phone": addr["phone"],
        "address": [lines[0], ", ".join(lines[1:])] if lines else ["", ""],
        "deleted": False,
    }


def _assert_the_credential_is_only_in_the_keyring(env: dict[str, str], home: Path) -> None:
    probe = (
        "import json, keyring, sys; "
        "config = json.load(open(sys.argv[1])); "
        "print(keyring.get_password('Connector', config['links'][0]['connection_id']))"
    )
    config_file = home / "config" / "config.json"
    token = subprocess.run(
        [sys.executable, "-c", probe, str(config_file)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert len(token) > 20
    for path in home.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), f"the token leaked into {path}"
    assert not (home / "config" / "credentials.json").exists()
