"""The one owner of a connection's tokens on this PC: the lock among processes (private, let go by
a process that dies holding it), the store read again inside it, the renewal shared.

The keeper's ``refresh`` here records its calls and hands out new tokens: these tests are about
who renews and when, which the cloud cannot show (tests/agent/test_credentials_concurrency.py and
tests/e2e/test_credentials_under_concurrency.py run the same races against a real cloud). The
credential store is the real file store, which other processes read too.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.cloud_api.tokens import SharedAccess, TokenGrant, TokenKeeper
from agent.errors import CredentialBusy
from agent.support.credential_lock import CredentialLock
from agent.support.credentials import CredentialStore, open_credential_store
from agent.support.own_files import credential_lock_name
from protocol.clock import utc_now

HOLDER = Path(__file__).with_name("credential_holder.py")
REPOSITORY = Path(__file__).resolve().parents[2]


class Refreshes:
    """Stands in for ``CloudClient.refresh``: a new pair for each call, each call recorded."""

    def __init__(self, clock: Clock | None = None, lifetime: float = 3600.0) -> None:
        self.presented: list[str] = []
        self._clock = clock
        self._lifetime = lifetime

    def __call__(self, refresh_token: str) -> TokenGrant:
        self.presented.append(refresh_token)
        now = self._clock() if self._clock else utc_now()
        return grant(
            f"access-{len(self.presented)}", f"refresh-{len(self.presented)}", now, self._lifetime
        )


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now


def grant(access: str, refresh: str, now: datetime, lifetime: float = 3600.0) -> TokenGrant:
    return TokenGrant(access, now + timedelta(seconds=lifetime), refresh)


class Holder:
    """Another process holding the connection's credential lock (credential_holder.py)."""

    def __init__(self, folder: Path, store_file: Path, connection_id: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HOLDER), str(folder), str(store_file), connection_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    def say(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        assert self.process.wait(timeout=30) == 0


@pytest.fixture
def connection_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "credentials.json"


@pytest.fixture
def store(store_file: Path) -> CredentialStore:
    return open_credential_store("file", store_file)


@pytest.fixture
def locks(tmp_path: Path) -> Path:
    return tmp_path / "data" / "locks"


def test_the_lock_file_is_private_and_named_by_no_id(
    store: CredentialStore, locks: Path, connection_id: str
) -> None:
    TokenKeeper(connection_id, store, lock_folder=locks, first_grant=grant("a", "r", utc_now()))
    (lock,) = locks.iterdir()
    assert lock.name == credential_lock_name(connection_id)
    assert connection_id not in lock.name
    assert lock.stat().st_mode & 0o777 == 0o600
    assert locks.stat().st_mode & 0o777 == 0o700


def test_while_another_process_holds_the_credential_nobody_else_takes_it(
    store_file: Path, locks: Path, connection_id: str
) -> None:
    holder = Holder(locks, store_file, connection_id)
    with pytest.raises(CredentialBusy), CredentialLock(connection_id, locks, wait=0.5).held():
        pass
    holder.say("release")
    with CredentialLock(connection_id, locks, wait=0.5).held():
        pass


def test_a_renewal_another_process_made_meanwhile_is_used_not_repeated(
    store: CredentialStore, store_file: Path, locks: Path, connection_id: str
) -> None:
    # This process's keeper holds a token that is due for renewal...
    clock = Clock()
    keeper = TokenKeeper(connection_id, store, lock_folder=locks, clock=clock)
    keeper.accept(grant("access-old", "refresh-old", clock.now, lifetime=60))
    clock.now += timedelta(seconds=45)
    refreshes = Refreshes(clock)
    # ...while another process holds the credential, renewing it.
    holder = Holder(locks, store_file, connection_id)
    got: list[str] = []
    asking = threading.Thread(target=lambda: got.append(keeper.access_token(refreshes)))
    asking.start()
    holder.say("renew access-theirs refresh-theirs")
    asking.join(timeout=30)

    assert got == ["access-theirs"]
    assert refreshes.presented == []  # the rotated refresh token was not spent a second time
    assert store.load(connection_id) == "refresh-theirs"


def test_a_process_killed_while_holding_the_lock_holds_nobody_up(
    store_file: Path, locks: Path, connection_id: str
) -> None:
    holder = Holder(locks, store_file, connection_id)
    holder.process.kill()
    holder.process.wait(timeout=30)
    # The OS let go of the dead process's lock: taken at once, where a live holder times out.
    with CredentialLock(connection_id, locks, wait=5).held():
        pass


def test_keepers_of_one_connection_share_one_renewal(
    store: CredentialStore, connection_id: str
) -> None:
    clock = Clock()
    first = TokenKeeper(connection_id, store, clock=clock)
    second = TokenKeeper(connection_id, store, clock=clock)
    first.accept(grant("access-0", "refresh-0", clock.now, lifetime=3600))
    assert second.access_token(Refreshes(clock)) == "access-0"  # read from the store
    clock.now += timedelta(minutes=59, seconds=45)  # both are due for renewal now
    refreshes = Refreshes(clock)
    assert first.access_token(refreshes) == "access-1"
    assert second.access_token(refreshes) == "access-1"
    assert refreshes.presented == ["refresh-0"]


def test_a_refused_token_is_renewed_once_whoever_asks(
    store: CredentialStore, connection_id: str
) -> None:
    keeper = TokenKeeper(connection_id, store, first_grant=grant("access-0", "r-0", utc_now()))
    refreshes = Refreshes()
    # Two threads' calls were refused with the same token: the second finds it renewed.
    assert keeper.renew_after_refusal(refreshes, "access-0") == "access-1"
    assert keeper.renew_after_refusal(refreshes, "access-0") == "access-1"
    assert refreshes.presented == ["r-0"]


def test_a_short_lived_token_is_used_for_half_its_life(
    store: CredentialStore, connection_id: str
) -> None:
    clock = Clock()
    keeper = TokenKeeper(connection_id, store, clock=clock)
    keeper.accept(grant("access-0", "refresh-0", clock.now, lifetime=20))
    refreshes = Refreshes(clock, lifetime=20)
    clock.now += timedelta(seconds=9)
    assert keeper.access_token(refreshes) == "access-0"
    clock.now += timedelta(seconds=2)
    assert keeper.access_token(refreshes) == "access-1"


def test_an_access_token_saved_without_its_refresh_token_is_not_used(
    store: CredentialStore, connection_id: str
) -> None:
    # A holder saved a new refresh token and ended before it saved the access token with it.
    now = utc_now()
    store.save(connection_id, "refresh-new")
    store.save_access(
        connection_id, SharedAccess.of(grant("access-old", "refresh-old", now), now).dumps()
    )
    refreshes = Refreshes()
    assert TokenKeeper(connection_id, store).access_token(refreshes) == "access-1"
    assert refreshes.presented == ["refresh-new"]


FILE_STORE_WRITER = """
import sys
from pathlib import Path
from agent.support.credentials import open_credential_store
store = open_credential_store("file", Path(sys.argv[1]))
for n in range(15):
    store.save(f"{sys.argv[2]}-{n}", f"secret-{n}")
"""


def test_processes_writing_the_file_store_at_once_lose_nothing(store_file: Path) -> None:
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", FILE_STORE_WRITER, str(store_file), f"w{n}"], cwd=REPOSITORY
        )
        for n in range(4)
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0] * 4
    store = open_credential_store("file", store_file)
    missing = [f"w{w}-{n}" for w in range(4) for n in range(15) if store.load(f"w{w}-{n}") is None]
    assert missing == []
