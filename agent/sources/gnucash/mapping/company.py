"""The book's business details -> the standard company info (data type ``company``).

GnuCash keeps them as book options (File > Properties > Business): free text, every field
optional. The company is one record, read at ``/data/info``.
"""

from __future__ import annotations

from typing import Any

from agent.sources.base import Record
from agent.sources.gnucash.mapping import owners
from agent.sources.gnucash.reading.records import Address, Book, Company


def map_company(book: Book) -> list[Record]:
    return [_map_company(book.company, book.default_currency)] if book.company else []


def _map_company(company: Company, currency: str) -> Record:
    lines = tuple(line.strip() for line in company.address.splitlines() if line.strip())
    phones = [{"number": company.phone, "type": "Primary"}] if company.phone else []
    if company.fax:
        phones.append({"number": company.fax, "type": "Fax"})
    # Email and contact person have no field in the standard model: they travel as GnuCash's.
    extra: dict[str, Any] = {
        key: value
        for key, value in (("emailAddress", company.email), ("contactPerson", company.contact))
        if value
    }
    record: Record = {
        "id": company.guid,
        "companyName": company.name or None,
        # The address GnuCash prints on the business's own invoices.
        "addresses": owners.addresses(("Billing", Address(lines=lines))),
        "phoneNumbers": phones,
        "webLinks": [{"type": "Website", "url": company.website}] if company.website else [],
        # GnuCash's one "Company ID" field is where users type their tax (VAT, EIN) number.
        "taxNumber": company.company_id or None,
        "baseCurrency": currency or None,
    }
    if extra:
        record["supplementalData"] = {"content": {"gnucash": extra}}
    return record
