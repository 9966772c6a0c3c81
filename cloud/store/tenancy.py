"""Companies and their connections: create, read, change, delete."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from cloud.errors import BadRequest, NotFound
from cloud.store import agent_tokens
from cloud.store.db import Database, companies, connections
from cloud.store.link_codes import LinkCodes
from protocol.clock import to_iso

PLATFORMS: Mapping[str, str] = {"gncs": "GnuCash"}
"""Platform keys this cloud accepts, with their display names."""


class Tenancy:
    def __init__(self, db: Database, link_codes: LinkCodes) -> None:
        self._db = db
        self._link_codes = link_codes

    # Companies ---------------------------------------------------------------------------

    def create_company(
        self, name: str, description: str | None, tags: Mapping[str, str] | None = None
    ) -> RowMapping:
        company_id = str(uuid.uuid4())
        with self._db.writing() as conn:
            conn.execute(
                insert(companies).values(
                    id=company_id,
                    name=_company_name(name),
                    description=_description(description),
                    tags=json.dumps(dict(tags)) if tags else None,
                    created=to_iso(self._db.now()),
                )
            )
        return self.get_company(company_id)

    def get_company(self, company_id: str) -> RowMapping:
        with self._db.reading() as conn:
            return company_row(conn, company_id)

    def list_companies(self) -> list[RowMapping]:
        with self._db.reading() as conn:
            query = select(companies).order_by(companies.c.created, companies.c.id)
            return list(conn.execute(query).mappings())

    def update_company(
        self,
        company_id: str,
        *,
        name: str | None,
        description: str | None,
        tags: Mapping[str, str] | None,
        replace: bool,
    ) -> RowMapping:
        """PATCH changes only what is given; PUT (``replace``) sets every field."""
        values: dict[str, object] = {}
        if name is not None or replace:
            values["name"] = _company_name(name or "")
        if description is not None or replace:
            values["description"] = _description(description)
        if tags is not None or replace:
            values["tags"] = json.dumps(dict(tags)) if tags else None
        with self._db.writing() as conn:
            company_row(conn, company_id)
            if values:
                conn.execute(update(companies).where(companies.c.id == company_id).values(values))
        return self.get_company(company_id)

    def delete_company(self, company_id: str) -> None:
        with self._db.writing() as conn:
            company_row(conn, company_id)
            conn.execute(delete(companies).where(companies.c.id == company_id))

    # Connections ---------------------------------------------------------------------------

    def create_connection(self, company_id: str, platform_key: str) -> RowMapping:
        if platform_key not in PLATFORMS:
            known = ", ".join(sorted(PLATFORMS))
            raise BadRequest(f"Unknown platformKey '{platform_key}'. This cloud supports: {known}.")
        now = self._db.now()
        connection_id = str(uuid.uuid4())
        with self._db.writing() as conn:
            company_row(conn, company_id)
            conn.execute(
                insert(connections).values(
                    id=connection_id,
                    company_id=company_id,
                    platform_key=platform_key,
                    status="PendingAuth",
                    created=to_iso(now),
                    status_changed=to_iso(now),
                    **self._link_codes.issue(now),
                )
            )
        return self.get_connection(company_id, connection_id)

    def get_connection(self, company_id: str, connection_id: str) -> RowMapping:
        with self._db.reading() as conn:
            return connection_row(conn, company_id, connection_id)

    def list_connections(self, company_id: str) -> list[RowMapping]:
        with self._db.reading() as conn:
            company_row(conn, company_id)
            query = (
                select(connections)
                .where(connections.c.company_id == company_id)
                .order_by(connections.c.created, connections.c.id)
            )
            return list(conn.execute(query).mappings())

    def delete_connection(self, company_id: str, connection_id: str) -> None:
        with self._db.writing() as conn:
            connection_row(conn, company_id, connection_id)
            conn.execute(delete(connections).where(connections.c.id == connection_id))

    def unlink_connection(self, company_id: str, connection_id: str) -> RowMapping:
        """Sever a Linked connection at the API user's request; its data stays readable."""
        with self._db.writing() as conn:
            found = connection_row(conn, company_id, connection_id)
            if found["status"] != "Linked":
                raise BadRequest(
                    f"Only a Linked connection can be unlinked; this one is {found['status']}."
                )
            now = self._db.now()
            conn.execute(
                update(connections)
                .where(connections.c.id == connection_id)
                .values(status="Unlinked", status_changed=to_iso(now), **LinkCodes.spent())
            )
            # The agent's tokens stop working at once, refresh included, with this reason.
            agent_tokens.end_family(conn, connection_id, "unlinked", now)
        return self.get_connection(company_id, connection_id)


def company_row(conn: Connection, company_id: str) -> RowMapping:
    found = conn.execute(select(companies).where(companies.c.id == company_id)).mappings().first()
    if found is None:
        raise NotFound(f"No company with id {company_id}.")
    return found


def connection_row(conn: Connection, company_id: str, connection_id: str) -> RowMapping:
    company_row(conn, company_id)
    query = select(connections).where(
        connections.c.company_id == company_id, connections.c.id == connection_id
    )
    found = conn.execute(query).mappings().first()
    if found is None:
        raise NotFound(f"No connection {connection_id} in company {company_id}.")
    return found


MAX_NAME_LENGTH = 256  # as the public API's models bound it (cloud/api/request_types.py)
MAX_DESCRIPTION_LENGTH = 4_000


def _company_name(name: str) -> str:
    if not name.strip():
        raise BadRequest("A company needs a name.")
    if len(name.strip()) > MAX_NAME_LENGTH:
        raise BadRequest(f"A company's name has at most {MAX_NAME_LENGTH} characters.")
    return name.strip()


def _description(description: str | None) -> str | None:
    # The portal's form reaches here unchecked by a model: bounded here for both.
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        raise BadRequest(f"A description has at most {MAX_DESCRIPTION_LENGTH:,} characters.")
    return description
