"""The ``connector`` command as a user runs it, in its own process, with its own home folder and
exactly the proxy environment a test gives it (none of the test machine's)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from agent.support.config import AgentConfig, Paths, load_config, save_config

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


def without_proxies(environment: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in environment.items() if key.upper() not in PROXY_VARIABLES}


class AgentCli:
    """``prefix`` goes before each command (``ip netns exec NAME`` runs it in a namespace)."""

    def __init__(self, home: Path, *, prefix: Sequence[str] = (), **environment: str) -> None:
        self.home = home
        self.prefix = list(prefix)
        self.paths = Paths.resolve({"CONNECTOR_HOME": str(home)})
        self.env = {**without_proxies(os.environ), "CONNECTOR_HOME": str(home), **environment}

    def __call__(
        self, *args: str, timeout: float = 60, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.prefix, sys.executable, "-m", "agent.cli", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def link(self, link_url: str, book: Path) -> subprocess.CompletedProcess[str]:
        # No OS keyring in these tests: the credential goes to the opt-in file store.
        return self("link", link_url, "--book", str(book), "--insecure-file-store")

    def sync_until_idle(self) -> subprocess.CompletedProcess[str]:
        return self("run", "--headless", "--until-idle", "2")

    def config(self) -> AgentConfig:
        return load_config(self.paths)

    def trust(self, ca_file: Path) -> None:
        """Set the ``ca_bundle`` setting, as IT would for a company's own authority."""
        save_config(self.paths, replace(self.config(), ca_bundle=str(ca_file)))

    def use_proxy(self, proxy: str | None) -> None:
        save_config(self.paths, replace(self.config(), proxy=proxy))

    def log_text(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")
            for path in sorted(self.paths.log_dir.rglob("*"))
            if path.is_file()
        )

    def files_holding(self, secret: str) -> list[Path]:
        """Every file in the agent's home (config, state, logs, staging) that holds ``secret``."""
        needle = secret.encode()
        return [
            path for path in self.home.rglob("*") if path.is_file() and needle in path.read_bytes()
        ]
