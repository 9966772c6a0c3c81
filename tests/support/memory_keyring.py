"""A keyring that lives in memory, for tests of code that needs a credential store but not the
OS keyring itself (the OS keyring has tests of its own, on a real GNOME Keyring)."""

from __future__ import annotations

import keyring.backend

from agent.support.credentials import CredentialStore


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1.0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def memory_store() -> CredentialStore:
    return CredentialStore(MemoryKeyring(), insecure=False)
