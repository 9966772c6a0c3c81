"""A real network between two namespaces, whose cable a test can pull.

The agent gets a network namespace of its own (iproute2's ``ip netns``), joined to the test's
namespace, where the cloud runs, by a veth pair: a point-to-point link with one address at each
end. Taking the agent's end down removes its route to the cloud, as a pulled cable or a dropped
Wi-Fi does; bringing it up gives the route back.

The addresses come from 198.18.0.0/15, the block set aside for testing network equipment
(RFC 2544): no real host has them. Names and addresses carry this process's id, so two test
runs on one machine (other helpers, CI) never share a link. Only root can make namespaces.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
from types import TracebackType

from tests.support.system import require, require_commands


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


class AgentNamespace:
    """A namespace for the agent, linked to this one; ``cloud_address`` is this side's end."""

    def __init__(self) -> None:
        require_commands("iproute2", "ip", "ss")
        require(os.geteuid() == 0, "iproute2", "root, to make network namespaces")
        tag = os.getpid() % 32768
        self.name = f"connector-agent-{os.getpid()}"
        self.cloud_side = f"cnc{tag}"  # interface names: 15 characters at most
        self.agent_side = f"cna{tag}"
        # One /30 per process (32768 of them in the /15): the cloud's end, then the agent's.
        link = ipaddress.IPv4Network("198.18.0.0/15").network_address + 4 * tag
        self.cloud_address = str(link + 1)
        self.agent_address = str(link + 2)

    @property
    def exec_prefix(self) -> list[str]:
        """Put before a command to run it inside the agent's namespace."""
        return ["ip", "netns", "exec", self.name]

    def cloud_said_goodbye_to_every_connection(self) -> bool:
        """Every TCP connection from the agent's namespace to the cloud holds unread data (``ss``
        Recv-Q): the cloud's TLS goodbye (close_notify) after its keep-alive ran out. The agent's
        HTTP client reuses no connection that has something to read: its next request opens a
        new one."""
        sockets = subprocess.run(
            [*self.exec_prefix, "ss", "-Htn", "state", "established", "dst", self.cloud_address],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return all(int(line.split()[0]) > 0 for line in sockets.stdout.splitlines() if line)

    def cut(self) -> None:
        """The agent loses its route to the cloud (its link goes down)."""
        _ip("-n", self.name, "link", "set", "dev", self.agent_side, "down")

    def restore(self) -> None:
        """The route comes back."""
        _ip("-n", self.name, "link", "set", "dev", self.agent_side, "up")

    def __enter__(self) -> AgentNamespace:
        _ip("netns", "add", self.name)
        try:
            _ip("link", "add", self.cloud_side, "type", "veth", "peer", "name", self.agent_side)
            _ip("link", "set", self.agent_side, "netns", self.name)
            _ip("addr", "add", f"{self.cloud_address}/30", "dev", self.cloud_side)
            _ip("link", "set", "dev", self.cloud_side, "up")
            _ip("-n", self.name, "addr", "add", f"{self.agent_address}/30", "dev", self.agent_side)
            _ip("-n", self.name, "link", "set", "dev", "lo", "up")
            _ip("-n", self.name, "link", "set", "dev", self.agent_side, "up")
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._remove()

    def _remove(self) -> None:
        # Deleting the namespace deletes the veth end inside it, and with it its peer here.
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", self.cloud_side], capture_output=True, timeout=30)
