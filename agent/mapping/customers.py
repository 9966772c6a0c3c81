"""GnuCash customers -> the standard ``Customer`` (data type ``customers``)."""

from __future__ import annotations

from typing import Any

from agent.sources.base import Record
from agent.sources.gnucash.records import Address, Book, Customer


def map_customers(book: Book) -> list[Record]:
    return [_map_customer(customer) for customer in book.customers]


def _map_customer(customer: Customer) -> Record:
    status = "Active" if customer.active else "Archived"
    addresses = [
        _address(kind, address)
        for kind, address in (("Billing", customer.billing), ("Delivery", customer.shipping))
        if address.lines
    ]
    record: Record = {
        "id": customer.guid,
        "customerName": customer.name,
        "contactName": customer.billing.name or None,
        "emailAddress": customer.billing.email or None,
        "phone": customer.billing.phone or None,
        "defaultCurrency": customer.currency,
        "addresses": addresses,
        "contacts": [_contact(customer.billing, status)] if customer.billing.name else [],
        "status": status,
        # The customer number people see in GnuCash, which the standard model has no field for.
        "supplementalData": {"content": {"gnucash": {"customerNumber": customer.number}}},
    }
    return record


def _address(kind: str, address: Address) -> dict[str, Any]:
    # GnuCash keeps four free-form lines with no city or postcode fields; guessing which line is
    # which would lose data on foreign addresses, so the first line stays line1 and the rest
    # travel together in line2.
    return {
        "type": kind,
        "line1": address.lines[0],
        "line2": ", ".join(address.lines[1:]) or None,
    }


def _contact(address: Address, status: str) -> dict[str, Any]:
    contact: dict[str, Any] = {"name": address.name, "status": status}
    if address.email:
        contact["email"] = address.email
    phones = [{"number": address.phone, "type": "Primary"}] if address.phone else []
    if address.fax:
        phones.append({"number": address.fax, "type": "Fax"})
    if phones:
        contact["phone"] = phones
    return contact
