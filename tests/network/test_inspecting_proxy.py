"""A company firewall that inspects encrypted traffic (mitmproxy): the agent refuses the
certificate it forges for the cloud until the firewall's authority is its ``ca_bundle``, and then
syncs through it."""

from __future__ import annotations

from pathlib import Path

from cloud.local import LocalCloud
from tests.agent.runtime_harness import book_copy, new_company
from tests.network.agent_cli import AgentCli
from tests.network.certificates import cloud_tls
from tests.network.mitm import InspectingProxy


def test_the_agent_refuses_an_inspecting_proxy_until_its_authority_is_trusted(
    tmp_path: Path,
) -> None:
    tls = cloud_tls(tmp_path / "certs", "localhost")
    with (
        LocalCloud(tmp_path / "cloud", tls=tls) as cloud,
        InspectingProxy(tmp_path / "mitmproxy", upstream_ca=tls.ca_file) as firewall,
    ):
        company = new_company(cloud, "Harbor Lane")
        agent = AgentCli(tmp_path / "agent", HTTPS_PROXY=firewall.url)
        # Trusting the cloud's own authority is no help: the firewall shows its forgery.
        agent.trust(tls.ca_file)
        book = book_copy(tmp_path)

        refused = agent.link(company.link_url, book)
        assert refused.returncode == 1
        title, _, message = refused.stderr.strip().splitlines()[-1].partition(": ")
        assert title == "The cloud's certificate is not trusted"
        assert f"localhost:{cloud.port}" in message
        assert "ca_bundle" in message and "company network" in message
        assert "does not trust the proxy's certificate" in firewall.seen()
        assert "/agent/v1/" not in firewall.seen()  # it read nothing
        assert agent.config().links == ()
        assert company.connection()["status"] == "PendingAuth"

        agent.trust(firewall.ca_file)  # what IT hands out
        linked = agent.link(company.link_url, book)
        assert linked.returncode == 0, linked.stderr
        synced = agent.sync_until_idle()
        assert synced.returncode == 0, synced.stderr
        assert "customers: Complete" in synced.stdout
        assert company.datasets("customers")[-1]["status"] == "Complete"
        assert len(company.records("customers")) == 6

        # It read every call: the link, the long poll, and the record pages (PUT; mitmdump
        # shortens long paths, so the page's own path is not in its log).
        seen = firewall.seen()
        base = f"https://localhost:{cloud.port}/agent/v1/"
        for call in (f"POST {base}link", f"POST {base}poll", f"PUT {base}datasets/"):
            assert call in seen, call
