"""What customers and suppliers have in common in the standard model.

GnuCash calls customers and vendors "owners" and gives both the same address record (a name,
four free-form lines, phone, fax, email) and the same active flag, so both map them alike.
"""

from __future__ import annotations

from typing import Any

from agent.sources.gnucash.reading.records import Address


def status(active: bool) -> str:
    """``Active`` or ``Archived``: GnuCash hides inactive owners but keeps their history."""
    return "Active" if active else "Archived"


def addresses(*typed: tuple[str, Address]) -> list[dict[str, Any]]:
    """The standard ``addresses``: one per ``(type, address)`` pair that has any lines."""
    return [_address(kind, address) for kind, address in typed if address.lines]


def contact_fields(address: Address) -> dict[str, str | None]:
    """``contactName``, ``emailAddress`` and ``phone``, which GnuCash keeps on an address."""
    return {
        "contactName": address.name or None,
        "emailAddress": address.email or None,
        "phone": address.phone or None,
    }


def _address(kind: str, address: Address) -> dict[str, Any]:
    # GnuCash keeps four free-form lines with no city or postcode fields; guessing which line is
    # which would lose data on foreign addresses, so the first line stays line1 and the rest
    # travel together in line2.
    return {
        "type": kind,
        "line1": address.lines[0],
        "line2": ", ".join(address.lines[1:]) or None,
    }
