"""A fresh PostgreSQL database per test, on the server `.ci/run` installs and starts.

The server is found at ``CONNECTOR_TEST_POSTGRES`` (an admin URL), by default the role
``connector`` that `.ci/run` creates on the local cluster.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.system import require

ADMIN_URL = os.environ.get(
    "CONNECTOR_TEST_POSTGRES", "postgresql://connector:connector@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    try:
        import psycopg

        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except Exception:
        require(False, "postgresql", f"a PostgreSQL server at {ADMIN_URL}")
        raise
    name = f"connector_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
