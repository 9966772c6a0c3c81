"""Read a snapshot of an XML GnuCash book (gzip-compressed or plain) in constant memory.

The file is stream-parsed: each top-level record of ``<gnc:book>`` (an account, a transaction,
a customer) is read when its end tag arrives and then dropped, so a book of a million splits
needs no more memory than one of ten. Only small per-account sums, the customers and the vendors
are kept.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple
from xml.etree.ElementTree import Element, ParseError, iterparse

from agent.errors import BookUnreadable
from agent.sources.gnucash.book_builder import (
    OWNER_TYPE_CODES,
    BookParts,
    Posting,
    RawAccount,
    RawDocument,
    RawEntry,
    RawTaxTable,
    account_label,
    build_book,
    discount_terms,
)
from agent.sources.gnucash.ledger_spool import LedgerSpool, SpooledSplit
from agent.sources.gnucash.prices import PRICEDB_TAG, xml_prices, xml_trading_accounts
from agent.sources.gnucash.records import (
    EMPTY_LEDGER,
    Address,
    Book,
    Customer,
    DocumentEntry,
    LotSplit,
    Price,
    TaxTable,
    TaxTableEntry,
    Vendor,
)
from agent.sources.gnucash.snapshot import UTF8_BOM, Snapshot
from agent.sources.gnucash.values import (
    garbled,
    parse_flag,
    parse_num_denom,
    parse_timestamp,
    rational,
)

_NS = "http://www.gnucash.org/XML/"


def _q(prefix: str, name: str) -> str:
    """ElementTree's name for ``prefix:name`` in GnuCash's namespaces."""
    return f"{{{_NS}{prefix}}}{name}"


ROOT_TAG = "gnc-v2"
BOOK = _q("gnc", "book")
ACCOUNT = _q("gnc", "account")
TRANSACTION = _q("gnc", "transaction")
CUSTOMER = _q("gnc", "GncCustomer")
VENDOR = _q("gnc", "GncVendor")
TAX_TABLE = _q("gnc", "GncTaxTable")
INVOICE = _q("gnc", "GncInvoice")
ENTRY = _q("gnc", "GncEntry")
JOB = _q("gnc", "GncJob")
BOOK_ID = _q("book", "id")
BOOK_SLOTS = _q("book", "slots")
TS_DATE = _q("ts", "date")
COMMODITY = _q("gnc", "commodity")
CMDTY_SPACE = _q("cmdty", "space")
CMDTY_ID = _q("cmdty", "id")
SLOT = "slot"  # slots carry no namespace
SLOT_KEY = _q("slot", "key")
SLOT_VALUE = _q("slot", "value")

# Records sit in <gnc:book>; the oldest files put them straight into <gnc-v2>. Anything deeper
# (template accounts and transactions of scheduled transactions) is not the user's ledger.
_CONTAINERS = frozenset({BOOK, ROOT_TAG})


def read_xml_snapshot(
    snapshot: Snapshot, *, ledger: Path | None = None, documents: bool = False
) -> Book:
    """Parse an XML book's snapshot into a :class:`Book` (with documents if asked).

    With ``ledger``, a path in Connector's folder, the transactions are spooled there for the
    book's ledger (which then needs the file until the book is no longer used).
    """
    source = snapshot.source
    with ExitStack() as stack:
        stream: io.BufferedIOBase
        if snapshot.format == "xml-gzip":
            stream = stack.enter_context(gzip.open(snapshot.copy, "rb"))
        else:
            stream = stack.enter_context(snapshot.copy.open("rb"))
        try:
            parts = _read_parts(stream, source, ledger=ledger, documents=documents)
        except ParseError as e:
            raise BookUnreadable(
                f"The book {source} is damaged: it is not well-formed XML ({e}). Open it in "
                "GnuCash to check it; if GnuCash cannot open it either, restore the newest "
                f"backup beside it ({source.name}.YYYYMMDDHHMMSS.gnucash)."
            ) from None
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise BookUnreadable(
                f"The book {source} is damaged: its compressed data cannot be read ({e}). "
                "Open it in GnuCash to check it; if GnuCash cannot open it either, restore "
                f"the newest backup beside it ({source.name}.YYYYMMDDHHMMSS.gnucash)."
            ) from None
    return build_book(
        parts,
        source=source,
        book_format=snapshot.format,
        taken_at=snapshot.taken_at,
        open_in_gnucash=snapshot.open_in_gnucash,
    )


class _Collector:
    """What the stream leaves behind: the few things a Book needs."""

    def __init__(self, source: Path, *, spool: LedgerSpool | None, documents: bool) -> None:
        self.source = source
        self.spool = spool
        self.want_documents = documents
        # Business records are few and small: they are kept whole until the book is built.
        self.documents: list[RawDocument] = []
        self.entries: list[RawEntry] = []
        self.jobs: dict[str, tuple[str, str]] = {}
        self.lot_splits: dict[str, list[LotSplit]] = {}
        self.postings: dict[str, Posting] = {}
        self.owner_lots: dict[str, tuple[str, str]] = {}
        # account GUID -> the first transaction with a split there, to name in an error.
        self.first_use: dict[str, str] = {}
        self.book_guid: str | None = None
        self.business: dict[str, str] = {}
        self.tax_tables: list[RawTaxTable] = []
        self.accounts: list[RawAccount] = []
        self.roots: list[str] = []
        # account GUID -> denominator -> sum of numerators: exact, and far cheaper than
        # adding a Fraction per split.
        self.sums: dict[str, dict[int, int]] = {}
        self.customers: list[Customer] = []
        self.vendors: list[Vendor] = []
        self.transaction_currencies: Counter[str] = Counter()
        self.currencies: set[str] = set()
        self.prices: list[Price] = []
        self.trading_accounts = False

    def take(self, record: Element) -> None:
        if record.tag == ACCOUNT:
            account = _account(record, self.source)
            if account.account_type == "ROOT":
                self.roots.append(account.guid)
            self.accounts.append(account)
            if self.want_documents:
                self._owner_lots(record)
        elif record.tag == TRANSACTION:
            self._transaction(record)
        elif record.tag == CUSTOMER:
            self.customers.append(_customer(record, self.source))
        elif record.tag == VENDOR:
            self.vendors.append(_vendor(record, self.source))
        elif record.tag == TAX_TABLE:
            self.tax_tables.append(_tax_table(record, self.source))
        elif self.want_documents and record.tag == INVOICE:
            self.documents.append(_document(record, self.source))
        elif self.want_documents and record.tag == ENTRY:
            self.entries.append(_entry(record, self.source))
        elif self.want_documents and record.tag == JOB:
            guid = _text(record, _q("job", "guid"))
            self.jobs[guid] = _owner_ref(record.find(_q("job", "owner")))
        elif record.tag == BOOK_ID:
            self.book_guid = (record.text or "").strip() or None
        elif record.tag == BOOK_SLOTS:
            self.business = _slots(_frame(record, ("options", "Business")))
            self.trading_accounts = xml_trading_accounts(record)
        elif record.tag == PRICEDB_TAG:
            self.prices.extend(xml_prices(record, self.source))
        elif record.tag == COMMODITY:
            space, mnemonic = _commodity(record)
            if space in {"CURRENCY", "ISO4217"}:
                self.currencies.add(mnemonic)

    def _owner_lots(self, account: Element) -> None:
        """Remember the account's lots that GnuCash tagged with an owner (payment lots)."""
        lots = account.find(_q("act", "lots"))
        for lot in lots.findall(_q("gnc", "lot")) if lots is not None else ():
            owner = _frame_slots(lot.find(_q("lot", "slots")), "gncOwner")
            if owner.get("owner-guid"):
                code = owner.get("owner-type", "")
                kind = OWNER_TYPE_CODES.get(int(code), code) if code.isdigit() else code
                self.owner_lots[_text(lot, _q("lot", "id"))] = (kind, owner["owner-guid"])

    def _transaction(self, record: Element) -> None:
        guid = _text(record, _q("trn", "id"))
        label = f'the transaction "{_text(record, _q("trn", "description"))}" ({guid})'
        currency = record.find(_q("trn", "currency"))
        if currency is None:
            raise garbled(self.source, label, "it has no currency")
        currency_code = _commodity(currency)[1]
        self.transaction_currencies[currency_code] += 1
        splits = record.find(_q("trn", "splits"))
        kept: list[SpooledSplit] = []
        in_lots: list[tuple[str, Element]] = []
        for split in splits if splits is not None else ():
            lot = _optional(split, _q("split", "lot"))
            if lot and self.want_documents:
                in_lots.append((lot, split))
            account = _text(split, _q("split", "account"))
            num, denom = parse_num_denom(
                _optional(split, _q("split", "quantity")), book=self.source, record=label
            )
            by_denom = self.sums.get(account)
            if by_denom is None:
                by_denom = self.sums[account] = {}
                self.first_use[account] = label
            by_denom[denom] = by_denom.get(denom, 0) + num
            if self.spool is not None:
                value_num, value_denom = parse_num_denom(
                    _optional(split, _q("split", "value")), book=self.source, record=label
                )
                split_guid = _text(split, _q("split", "id"))
                memo = _text(split, _q("split", "memo"))
                kept.append((split_guid, account, memo, value_num, value_denom, num, denom))
        if in_lots:
            self._lot_splits(record, guid, label, in_lots)
        if self.spool is not None:
            self.spool.add(
                guid=guid,
                currency=currency_code,
                num=_text(record, _q("trn", "num")),
                description=_text(record, _q("trn", "description")),
                posted=self._stamp(record, "date-posted", label, "posting date"),
                entered=self._stamp(record, "date-entered", label, "entry date"),
                closing=_is_closing(record),
                splits=kept,
            )

    def _lot_splits(
        self, record: Element, guid: str, label: str, in_lots: list[tuple[str, Element]]
    ) -> None:
        """Keep what documents need of a transaction with splits in lots (postings, payments)."""
        slots = _typed_slots(record.find(_q("trn", "slots")))
        posted = self._stamp(record, "date-posted", label, "posting date")
        for lot, split in in_lots:
            value = parse_num_denom(
                _optional(split, _q("split", "value")), book=self.source, record=label
            )
            self.lot_splits.setdefault(lot, []).append(
                LotSplit(
                    value=rational(*value, book=self.source, record=label),
                    txn_guid=guid,
                    posted=posted,
                    txn_type=_slot_text(slots.get("trans-txn-type")),
                )
            )
        due = slots.get("trans-date-due")
        self.postings[guid] = Posting(
            due=parse_timestamp(
                _optional(due, TS_DATE), book=self.source, record=label, field="due date"
            )
            if due is not None
            else None,
            voided="void-reason" in slots,
        )

    def _stamp(self, record: Element, name: str, label: str, field: str) -> datetime:
        element = record.find(_q("trn", name))
        text = _optional(element, TS_DATE) if element is not None else None
        return parse_timestamp(text, book=self.source, record=label, field=field)

    def parts(self) -> BookParts:
        if len(self.roots) > 1:
            raise garbled(self.source, "an account tree", "it has more than one root account")
        known = {account.guid for account in self.accounts}
        for account, label in self.first_use.items():
            if account not in known:
                problem = f"a split is in the account {account}, which does not exist"
                raise garbled(self.source, label, problem)
        return BookParts(
            accounts=self.accounts,
            root_guid=self.roots[0] if self.roots else None,
            template_root_guid=None,  # templates live outside <gnc:book>'s own records
            balances={
                account: sum((Fraction(n, d) for d, n in by_denom.items()), Fraction(0))
                for account, by_denom in self.sums.items()
            },
            customers=self.customers,
            vendors=self.vendors,
            transaction_currencies=self.transaction_currencies,
            currencies=self.currencies,
            book_guid=self.book_guid,
            business=self.business,
            tax_tables=self.tax_tables,
            ledger=self.spool.finish() if self.spool is not None else EMPTY_LEDGER,
            documents=self.documents,
            entries=self.entries,
            jobs=self.jobs,
            lot_splits=self.lot_splits,
            postings=self.postings,
            owner_lots=self.owner_lots,
            prices=self.prices,
            trading_accounts=self.trading_accounts,
        )


def _read_parts(
    stream: io.BufferedIOBase, source: Path, *, ledger: Path | None, documents: bool
) -> BookParts:
    spool = LedgerSpool(ledger) if ledger is not None else None
    collector = _Collector(source, spool=spool, documents=documents)
    try:
        for record in _records(stream, source):
            collector.take(record)
        return collector.parts()
    except BaseException:
        if spool is not None:
            spool.discard()
        raise


def _records(stream: io.BufferedIOBase, source: Path) -> Iterator[Element]:
    """Yield each top-level record of the book once complete, then free it."""
    # The file is the user's own book, read from a private copy; ElementTree's expat parser
    # never fetches external entities and limits entity expansion.
    events = iterparse(_FromFirstTag(stream), events=("start", "end"))  # noqa: S314
    stack: list[Element] = []
    for event, element in events:
        if event == "start":
            if not stack and element.tag != ROOT_TAG:
                raise BookUnreadable(
                    f"The book {source} is an XML file but not a GnuCash book (its root "
                    f"element is <{_plain_tag(element.tag)}>, not <gnc-v2>). Choose the "
                    ".gnucash file you open in GnuCash."
                )
            stack.append(element)
            continue
        stack.pop()
        parent = stack[-1] if stack else None
        if parent is not None and parent.tag in _CONTAINERS and element.tag != BOOK:
            yield element
            # Emptying the finished record and dropping it from its container keeps memory flat.
            element.clear()
            parent.remove(element)


class _FromFirstTag:
    """A stream without the byte-order mark and blank space some tools put before ``<?xml``.

    Such files are what the snapshot sniffs as XML, but expat refuses a declaration that is not
    the very first thing in the document.
    """

    def __init__(self, stream: io.BufferedIOBase) -> None:
        self._stream = stream
        self._started = False

    def read(self, size: int = -1) -> bytes:
        while not self._started:
            raw = self._stream.read(size)
            if not raw:
                return b""
            chunk = raw.removeprefix(UTF8_BOM).lstrip()
            if chunk:  # otherwise the chunk was all blank space: keep skipping
                self._started = True
                return chunk
        return self._stream.read(size)


def _plain_tag(tag: str) -> str:
    if tag.startswith(f"{{{_NS}"):
        prefix, _, name = tag[len(_NS) + 1 :].partition("}")
        return f"{prefix}:{name}"
    return tag


def _optional(element: Element, tag: str) -> str | None:
    child = element.find(tag)
    if child is None:
        return None
    return child.text or ""


def _text(element: Element, tag: str) -> str:
    return _optional(element, tag) or ""


def _commodity(element: Element) -> tuple[str, str]:
    return _text(element, CMDTY_SPACE), _text(element, CMDTY_ID)


def _slots(element: Element | None) -> dict[str, str]:
    """Top-level string slots of a record (``placeholder``, ``hidden``, ...)."""
    found: dict[str, str] = {}
    for slot in element.findall(SLOT) if element is not None else ():
        key = slot.find(SLOT_KEY)
        value = slot.find(SLOT_VALUE)
        if key is not None and value is not None and value.get("type") == "string":
            found[key.text or ""] = value.text or ""
    return found


def _frame(slots: Element, path: tuple[str, ...]) -> Element | None:
    """The frame at ``path`` below a ``<...:slots>`` element, as the element holding its slots."""
    current: Element | None = slots
    for key in path:
        found = None
        for slot in current.findall(SLOT) if current is not None else ():
            value = slot.find(SLOT_VALUE)
            if slot.findtext(SLOT_KEY) == key and value is not None:
                if value.get("type") == "frame":
                    found = value
                break
        current = found
    return current


_TAX_KINDS = frozenset({"PERCENT", "VALUE"})


def _tax_table(record: Element, source: Path) -> RawTaxTable:
    name = _text(record, _q("taxtable", "name"))
    guid = _text(record, _q("taxtable", "guid"))
    label = f'the tax table "{name}" ({guid})'
    if not guid:
        raise garbled(source, f'the tax table "{name}"', "it has no GUID")
    entries: list[TaxTableEntry] = []
    container = record.find(_q("taxtable", "entries"))
    for entry in container if container is not None else ():
        kind = _text(entry, _q("tte", "type")).strip()
        if kind not in _TAX_KINDS:
            raise garbled(source, label, f"an entry's type {kind!r} is neither PERCENT nor VALUE")
        amount = parse_num_denom(_optional(entry, _q("tte", "amount")), book=source, record=label)
        entries.append(
            TaxTableEntry(
                account_guid=_text(entry, _q("tte", "acct")),
                amount=rational(*amount, book=source, record=label),
                kind="PERCENT" if kind == "PERCENT" else "VALUE",
            )
        )
    return RawTaxTable(
        table=TaxTable(
            guid=guid,
            name=name,
            entries=tuple(entries),
            parent_guid=_optional(record, _q("taxtable", "parent")) or None,
        ),
        invisible=parse_flag(
            _optional(record, _q("taxtable", "invisible")),
            default=False,
            book=source,
            record=label,
            field="invisible flag",
        ),
    )


def _account(record: Element, source: Path) -> RawAccount:
    name = _text(record, _q("act", "name"))
    guid = _text(record, _q("act", "id"))
    label = account_label(name, guid)
    if not guid:
        raise garbled(source, f'the account "{name}"', "it has no GUID")
    commodity = record.find(_q("act", "commodity"))
    slots = _slots(record.find(_q("act", "slots")))
    return RawAccount(
        guid=guid,
        name=name,
        account_type=_text(record, _q("act", "type")),
        parent_guid=_optional(record, _q("act", "parent")),
        code=_text(record, _q("act", "code")),
        description=_text(record, _q("act", "description")),
        hidden=parse_flag(
            slots.get("hidden"), default=False, book=source, record=label, field="hidden flag"
        ),
        placeholder=parse_flag(
            slots.get("placeholder"),
            default=False,
            book=source,
            record=label,
            field="placeholder flag",
        ),
        commodity=_commodity(commodity)[1] if commodity is not None else None,
    )


def _customer(record: Element, source: Path) -> Customer:
    owner = _owner(record, "cust", "customer", source)
    return Customer(
        guid=owner.guid,
        number=owner.number,
        name=owner.name,
        notes=owner.notes,
        active=owner.active,
        currency=owner.currency,
        billing=_address(record.find(_q("cust", "addr"))),
        shipping=_address(record.find(_q("cust", "shipaddr"))),
    )


def _vendor(record: Element, source: Path) -> Vendor:
    owner = _owner(record, "vendor", "vendor", source)
    return Vendor(
        guid=owner.guid,
        number=owner.number,
        name=owner.name,
        notes=owner.notes,
        active=owner.active,
        currency=owner.currency,
        address=_address(record.find(_q("vendor", "addr"))),
    )


class _Owner(NamedTuple):
    """The elements GnuCash writes alike for a customer and a vendor, read and checked."""

    guid: str
    number: str
    name: str
    notes: str
    active: bool
    currency: str


def _owner(record: Element, prefix: str, kind: str, source: Path) -> _Owner:
    """Read ``<prefix:guid>``, ``<prefix:name>``, ... of a ``kind`` ("customer", "vendor")."""
    name = _text(record, _q(prefix, "name"))
    number = _text(record, _q(prefix, "id"))
    label = f'the {kind} "{name}" (ID {number})'
    guid = _text(record, _q(prefix, "guid"))
    if not guid:
        raise garbled(source, label, "it has no GUID")
    currency = record.find(_q(prefix, "currency"))
    if currency is None:
        raise garbled(source, label, "it has no currency")
    return _Owner(
        guid=guid,
        number=number,
        name=name,
        notes=_text(record, _q(prefix, "notes")),
        # Active unless the file says otherwise, as in GnuCash.
        active=parse_flag(
            _optional(record, _q(prefix, "active")),
            default=True,
            book=source,
            record=label,
            field="active flag",
        ),
        currency=_commodity(currency)[1],
    )


def _address(element: Element | None) -> Address:
    if element is None:
        return Address()
    lines = (_text(element, _q("addr", f"addr{i}")) for i in range(1, 5))
    return Address(
        name=_text(element, _q("addr", "name")),
        lines=tuple(line for line in lines if line),
        phone=_text(element, _q("addr", "phone")),
        fax=_text(element, _q("addr", "fax")),
        email=_text(element, _q("addr", "email")),
    )


def _is_closing(record: Element) -> bool:
    """A closing entry of Tools > Close Book: slot ``book_closing`` = 1."""
    value = _typed_slots(record.find(_q("trn", "slots"))).get("book_closing")
    return value is not None and _slot_text(value) not in ("", "0")


def _typed_slots(element: Element | None) -> dict[str, Element]:
    """Top-level slots of a record, by key, as their ``<slot:value>`` elements (any type)."""
    found: dict[str, Element] = {}
    for slot in element.findall(SLOT) if element is not None else ():
        key = slot.find(SLOT_KEY)
        value = slot.find(SLOT_VALUE)
        if key is not None and value is not None:
            found[key.text or ""] = value
    return found


def _frame_slots(slots: Element | None, key: str) -> dict[str, str]:
    """The texts of the slots in the frame ``key`` among ``slots`` (a ``<...:slots>``)."""
    frame = _typed_slots(slots).get(key)
    return {k: _slot_text(v) for k, v in _typed_slots(frame).items()} if frame is not None else {}


def _slot_text(value: Element | None) -> str:
    return (value.text or "").strip() if value is not None else ""


# <owner:type> as the XML backend spells GncOwnerType.
_OWNER_TYPES = {
    "gncCustomer": "customer",
    "gncJob": "job",
    "gncVendor": "vendor",
    "gncEmployee": "employee",
}


def _owner_ref(element: Element | None) -> tuple[str, str]:
    """(type, GUID) of an ``<invoice:owner>`` or ``<job:owner>``."""
    if element is None:
        return "", ""
    kind = _text(element, _q("owner", "type")).strip()
    return _OWNER_TYPES.get(kind, kind), _text(element, _q("owner", "id")).strip()


def _document(record: Element, source: Path) -> RawDocument:
    guid = _text(record, _q("invoice", "guid"))
    number = _text(record, _q("invoice", "id"))
    label = f'the document "{number}" ({guid})'
    if not guid:
        raise garbled(source, label, "it has no GUID")
    owner_type, owner = _owner_ref(record.find(_q("invoice", "owner")))
    currency = record.find(_q("invoice", "currency"))
    if currency is None:
        raise garbled(source, label, "it has no currency")
    slots = _typed_slots(record.find(_q("invoice", "slots")))
    return RawDocument(
        guid=guid,
        number=number,
        owner_type=owner_type,
        owner_guid=owner,
        currency=_commodity(currency)[1],
        opened=_date(record, _q("invoice", "opened"), source, label, "opening date"),
        notes=_text(record, _q("invoice", "notes")),
        billing_id=_text(record, _q("invoice", "billing_id")),
        credit_note=_slot_text(slots.get("credit-note")) == "1",
        posted=_date(record, _q("invoice", "posted"), source, label, "posting date")
        if record.find(_q("invoice", "posted")) is not None
        else None,
        post_txn=_optional(record, _q("invoice", "posttxn")) or None,
        post_lot=_optional(record, _q("invoice", "postlot")) or None,
        post_acc=_optional(record, _q("invoice", "postacc")) or None,
    )


def _date(record: Element, tag: str, source: Path, label: str, field: str) -> datetime:
    element = record.find(tag)
    text = _optional(element, TS_DATE) if element is not None else None
    return parse_timestamp(text, book=source, record=label, field=field)


def _entry(record: Element, source: Path) -> RawEntry:
    guid = _text(record, _q("entry", "guid"))
    description = _text(record, _q("entry", "description"))
    label = f'the document line "{description}" ({guid})'

    def amount(name: str) -> Fraction:
        text = _optional(record, _q("entry", name))
        if text is None:
            return Fraction(0)  # GnuCash leaves zero amounts out
        return rational(
            *parse_num_denom(text, book=source, record=label), book=source, record=label
        )

    def flag(name: str, default: bool = False) -> bool:
        return parse_flag(
            _optional(record, _q("entry", name)),
            default=default,
            book=source,
            record=label,
            field=name,
        )

    kind, how = discount_terms(
        _optional(record, _q("entry", "i-disc-type")),
        _optional(record, _q("entry", "i-disc-how")),
        source=source,
        label=label,
    )
    quantity = amount("qty")
    date = _date(record, _q("entry", "date"), source, label, "date")
    entered = (
        _date(record, _q("entry", "entered"), source, label, "entry date")
        if record.find(_q("entry", "entered")) is not None
        else date
    )
    document = _text(record, _q("entry", "invoice")) or _text(record, _q("entry", "bill"))
    return RawEntry(
        document_guid=document,
        date=date,
        entered=entered,
        customer_side=DocumentEntry(
            guid=guid,
            description=description,
            quantity=quantity,
            price=amount("i-price"),
            account_guid=_text(record, _q("entry", "i-acct")),
            # GnuCash writes i-taxable only for an invoice's line and b-taxable only for a
            # bill's; when absent, the engine keeps gncEntryCreate's default: taxable.
            taxable=flag("i-taxable", default=True),
            tax_included=flag("i-taxincluded"),
            tax_table_guid=_optional(record, _q("entry", "i-taxtable")) or None,
            discount=amount("i-discount"),
            discount_type=kind,
            discount_how=how,
        ),
        vendor_side=DocumentEntry(
            guid=guid,
            description=description,
            quantity=quantity,
            price=amount("b-price"),
            account_guid=_text(record, _q("entry", "b-acct")),
            taxable=flag("b-taxable", default=True),
            tax_included=flag("b-taxincluded"),
            tax_table_guid=_optional(record, _q("entry", "b-taxtable")) or None,
        ),
    )
