"""A stand-in accounting package for runner tests: it reads customers only, from no book, and
maps one customer; a test overrides the step it wants to go wrong."""

from __future__ import annotations

from collections.abc import Iterable

from agent.sources.base import Record

ADA: Record = {"id": "c1", "customerName": "Ada", "status": "Active"}


class CustomersOnlySource:
    def readable_data_types(self) -> list[str]:
        return ["customers"]

    def fingerprint(self) -> str | None:
        return None  # no fingerprint: every dataset is read and sent afresh

    def unsupported_reason(self, data_type: str) -> str | None:
        return None

    def fetch(self, data_type: str) -> object:
        return object()

    def map(self, data_type: str, fetched: object) -> Iterable[Record]:
        yield dict(ADA)

    def release(self) -> None:
        pass
