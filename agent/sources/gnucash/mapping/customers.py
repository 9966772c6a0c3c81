"""GnuCash customers -> the standard ``Customer`` (data type ``customers``)."""

from __future__ import annotations

from typing import Any

from agent.sources.base import Record
from agent.sources.gnucash.mapping import owners
from agent.sources.gnucash.reading.records import Address, Book, Customer


def map_customers(book: Book) -> list[Record]:
    return [_map_customer(customer) for customer in book.customers]


def _map_customer(customer: Customer) -> Record:
    status = owners.status(customer.active)
    record: Record = {
        "id": customer.guid,
        "customerName": customer.name,
        **owners.contact_fields(customer.billing),
        "defaultCurrency": customer.currency,
        "addresses": owners.addresses(
            ("Billing", customer.billing), ("Delivery", customer.shipping)
        ),
        "contacts": [_contact(customer.billing, status)] if customer.billing.name else [],
        "status": status,
        # The customer number people see in GnuCash, which the standard model has no field for.
        "supplementalData": {"content": {"gnucash": {"customerNumber": customer.number}}},
    }
    return record


def _contact(address: Address, status: str) -> dict[str, Any]:
    # Only customers have this list: the standard Supplier has no contacts field.
    contact: dict[str, Any] = {"name": address.name, "status": status}
    if address.email:
        contact["email"] = address.email
    phones = [{"number": address.phone, "type": "Primary"}] if address.phone else []
    if address.fax:
        phones.append({"number": address.fax, "type": "Fax"})
    if phones:
        contact["phone"] = phones
    return contact
