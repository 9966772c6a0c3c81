"""The reference cloud over real TLS (``connector-cloud serve --tls-cert --tls-key``), with a
certificate from an authority the test made, for a name that resolves to this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud.cli import main as cloud_main
from cloud.local import LocalCloud
from tests.agent.runtime_harness import book_copy, new_company
from tests.network.agent_cli import AgentCli
from tests.network.certificates import cloud_tls


def test_an_agent_refuses_a_cloud_it_does_not_trust_and_syncs_once_given_the_ca(
    tmp_path: Path,
) -> None:
    tls = cloud_tls(tmp_path / "certs", "localhost")
    with LocalCloud(tmp_path / "cloud", tls=tls) as cloud:
        assert cloud.url.startswith("https://localhost:")
        company = new_company(cloud, "Harbor Lane")
        assert company.link_url.startswith(cloud.url + "/link/")
        agent = AgentCli(tmp_path / "agent")
        book = book_copy(tmp_path)

        refused = agent.link(company.link_url, book)
        assert refused.returncode == 1
        title, _, message = refused.stderr.strip().splitlines()[-1].partition(": ")
        assert title == "The cloud's certificate is not trusted"
        assert f"localhost:{cloud.port}" in message
        assert "unable to get local issuer certificate" in message  # what OpenSSL found
        assert "ca_bundle" in message  # what to do about it
        # Nothing crossed: no link here, and the cloud never saw the code (still unspent).
        assert agent.config().links == ()
        assert not (agent.paths.config_dir / "credentials.json").exists()
        assert company.connection()["status"] == "PendingAuth"

        agent.trust(tls.ca_file)
        linked = agent.link(company.link_url, book)  # the same, still unspent, code
        assert linked.returncode == 0, linked.stderr
        synced = agent.sync_until_idle()
        assert synced.returncode == 0, synced.stderr
        assert "customers: Complete" in synced.stdout
        assert company.datasets("customers")[-1]["status"] == "Complete"
        assert len(company.records("customers")) == 6

        doctor = agent("doctor")
        assert doctor.returncode == 0, doctor.stdout
        assert "secure connection - The connection is encrypted (https)." in doctor.stdout


def test_serving_https_needs_both_the_certificate_and_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tls = cloud_tls(tmp_path / "certs", "localhost")
    database = f"sqlite:///{tmp_path / 'cloud.db'}"
    with pytest.raises(SystemExit) as usage:
        cloud_main(
            ["serve", "--database", database, "--api-key", "k", "--tls-cert", str(tls.cert_file)]
        )
    assert usage.value.code == 2
    assert "--tls-cert and --tls-key go together" in capsys.readouterr().err
