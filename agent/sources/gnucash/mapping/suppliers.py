"""GnuCash vendors -> the standard ``Supplier`` (data type ``suppliers``)."""

from __future__ import annotations

from agent.sources.base import Record
from agent.sources.gnucash.mapping import owners
from agent.sources.gnucash.reading.records import Book, Vendor


def map_suppliers(book: Book) -> list[Record]:
    return [_map_supplier(vendor) for vendor in book.vendors]


def _map_supplier(vendor: Vendor) -> Record:
    record: Record = {
        "id": vendor.guid,
        "supplierName": vendor.name,
        **owners.contact_fields(vendor.address),
        "defaultCurrency": vendor.currency,
        # A vendor's one address is where its bills come from.
        "addresses": owners.addresses(("Billing", vendor.address)),
        "status": owners.status(vendor.active),
        # The vendor number people see in GnuCash, which the standard model has no field for.
        "supplementalData": {"content": {"gnucash": {"vendorNumber": vendor.number}}},
    }
    return record
