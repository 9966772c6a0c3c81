"""Another Connector process holding one connection's credential, for the token keeper's tests.

    python credential_holder.py LOCK_FOLDER STORE_FILE CONNECTION_ID

Takes the connection's credential lock as a renewing process does and prints ``held``. Then, on
the line ``renew ACCESS REFRESH``, saves that pair to the file store as a renewal saves it and
lets go; on ``release`` lets go without saving; killed, it lets go as its process ends.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.cloud_api.tokens import SharedAccess, TokenGrant
from agent.support.credential_lock import CredentialLock
from agent.support.credentials import open_credential_store
from protocol.clock import utc_now


def main(argv: list[str]) -> int:
    folder, store_file, connection_id = Path(argv[1]), Path(argv[2]), argv[3]
    store = open_credential_store("file", store_file)
    with CredentialLock(connection_id, folder).held():
        print("held", flush=True)
        command = sys.stdin.readline().split()
        if command and command[0] == "renew":
            now = utc_now()
            grant = TokenGrant(command[1], now + timedelta(hours=1), command[2])
            store.save(connection_id, grant.refresh_token)
            store.save_access(connection_id, SharedAccess.of(grant, now).dumps())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
