"""Read a snapshot of an XML GnuCash book (gzip-compressed or plain) in constant memory.

The file is stream-parsed: each top-level record of ``<gnc:book>`` (an account, a transaction,
a customer) is read when its end tag arrives and then dropped, so a book of a million splits
needs no more memory than one of ten; so is each part of the records that hold thousands of
them (an account's lots, the price database's prices). Only small per-account sums, the
customers and the vendors are kept. The bytes reach the parser through ``xml_stream``, which
refuses a DTD and bounds each record and the whole.

Here: the stream, and what is kept of each record (accounts and transactions are read here);
the business records are parsed in ``xml_business``, GnuCash's XML idioms in ``xml_elements``.
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
from xml.etree.ElementTree import Element, ParseError, iterparse

from agent.errors import BookUnreadable
from agent.sources.gnucash.reading.book_builder import (
    OWNER_TYPE_CODES,
    BookParts,
    Posting,
    RawAccount,
    RawDocument,
    RawEntry,
    RawTaxTable,
    account_label,
    build_book,
)
from agent.sources.gnucash.reading.book_limits import (
    MAX_RECORD_ELEMENTS,
    MAX_SPLITS_PER_TRANSACTION,
    too_many_splits,
    xml_size_bound,
)
from agent.sources.gnucash.reading.ledger_spool import LedgerSpool, SpooledSplit
from agent.sources.gnucash.reading.prices import (
    PRICE_TAG,
    PRICEDB_TAG,
    xml_price,
    xml_trading_accounts,
)
from agent.sources.gnucash.reading.records import (
    EMPTY_LEDGER,
    Book,
    Customer,
    LotSplit,
    Price,
    Vendor,
)
from agent.sources.gnucash.reading.snapshot import Snapshot
from agent.sources.gnucash.reading.values import (
    garbled,
    parse_flag,
    parse_num_denom,
    parse_timestamp,
    rational,
)
from agent.sources.gnucash.reading.xml_business import (
    owner_ref,
    parse_customer,
    parse_document,
    parse_entry,
    parse_tax_table,
    parse_vendor,
)
from agent.sources.gnucash.reading.xml_elements import (
    TS_DATE,
    child_text,
    commodity,
    frame,
    frame_slots,
    optional_text,
    plain_tag,
    q,
    slot_text,
    string_slots,
    timestamp,
    typed_slots,
)
from agent.sources.gnucash.reading.xml_stream import (
    BookStream,
    malformed_refusal,
    too_many_elements,
)

ROOT_TAG = "gnc-v2"
BOOK = q("gnc", "book")
ACCOUNT = q("gnc", "account")
TRANSACTION = q("gnc", "transaction")
CUSTOMER = q("gnc", "GncCustomer")
VENDOR = q("gnc", "GncVendor")
TAX_TABLE = q("gnc", "GncTaxTable")
INVOICE = q("gnc", "GncInvoice")
ENTRY = q("gnc", "GncEntry")
JOB = q("gnc", "GncJob")
BOOK_ID = q("book", "id")
BOOK_SLOTS = q("book", "slots")
COMMODITY = q("gnc", "commodity")
LOTS = q("act", "lots")
LOT = q("gnc", "lot")
_PART_TAGS = frozenset({LOT, PRICE_TAG})

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
        raw: io.BufferedIOBase
        if snapshot.format == "xml-gzip":
            raw = stack.enter_context(gzip.open(snapshot.copy, "rb"))
            bound = xml_size_bound(snapshot.copy.stat().st_size)
        else:
            raw = stack.enter_context(snapshot.copy.open("rb"))
            bound = xml_size_bound(None)
        stream = BookStream(raw, source, bound=bound)
        try:
            parts = _read_parts(stream, source, ledger=ledger, documents=documents)
        except ParseError as e:
            raise malformed_refusal(source, str(e)) from None
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
        elif record.tag == LOT:
            if self.want_documents:
                self._owner_lot(record)
        elif record.tag == TRANSACTION:
            self._transaction(record)
        elif record.tag == CUSTOMER:
            self.customers.append(parse_customer(record, self.source))
        elif record.tag == VENDOR:
            self.vendors.append(parse_vendor(record, self.source))
        elif record.tag == TAX_TABLE:
            self.tax_tables.append(parse_tax_table(record, self.source))
        elif self.want_documents and record.tag == INVOICE:
            self.documents.append(parse_document(record, self.source))
        elif self.want_documents and record.tag == ENTRY:
            self.entries.append(parse_entry(record, self.source))
        elif self.want_documents and record.tag == JOB:
            guid = child_text(record, q("job", "guid"))
            self.jobs[guid] = owner_ref(record.find(q("job", "owner")))
        elif record.tag == BOOK_ID:
            self.book_guid = (record.text or "").strip() or None
        elif record.tag == BOOK_SLOTS:
            self.business = string_slots(frame(record, ("options", "Business")))
            self.trading_accounts = xml_trading_accounts(record)
        elif record.tag == PRICE_TAG:
            self.prices.append(xml_price(record, self.source))
        elif record.tag == COMMODITY:
            space, mnemonic = commodity(record)
            if space in {"CURRENCY", "ISO4217"}:
                self.currencies.add(mnemonic)

    def _owner_lot(self, lot: Element) -> None:
        """Remember an account's lot if GnuCash tagged it with an owner (a payment lot)."""
        owner = frame_slots(lot.find(q("lot", "slots")), "gncOwner")
        if owner.get("owner-guid"):
            code = owner.get("owner-type", "")
            kind = OWNER_TYPE_CODES.get(int(code), code) if code.isdigit() else code
            self.owner_lots[child_text(lot, q("lot", "id"))] = (kind, owner["owner-guid"])

    def _transaction(self, record: Element) -> None:
        guid = child_text(record, q("trn", "id"))
        label = f'the transaction "{child_text(record, q("trn", "description"))}" ({guid})'
        currency = record.find(q("trn", "currency"))
        if currency is None:
            raise garbled(self.source, label, "it has no currency")
        currency_code = commodity(currency)[1]
        self.transaction_currencies[currency_code] += 1
        splits = record.find(q("trn", "splits"))
        if splits is not None and len(splits) > MAX_SPLITS_PER_TRANSACTION:
            raise too_many_splits(self.source, label, len(splits))
        kept: list[SpooledSplit] = []
        in_lots: list[tuple[str, Element]] = []
        for split in splits if splits is not None else ():
            lot = optional_text(split, q("split", "lot"))
            if lot and self.want_documents:
                in_lots.append((lot, split))
            account = child_text(split, q("split", "account"))
            num, denom = parse_num_denom(
                optional_text(split, q("split", "quantity")), book=self.source, record=label
            )
            by_denom = self.sums.get(account)
            if by_denom is None:
                by_denom = self.sums[account] = {}
                self.first_use[account] = label
            by_denom[denom] = by_denom.get(denom, 0) + num
            if self.spool is not None:
                value_num, value_denom = parse_num_denom(
                    optional_text(split, q("split", "value")), book=self.source, record=label
                )
                split_guid = child_text(split, q("split", "id"))
                memo = child_text(split, q("split", "memo"))
                kept.append((split_guid, account, memo, value_num, value_denom, num, denom))
        if in_lots:
            self._lot_splits(record, guid, label, in_lots)
        if self.spool is not None:
            self.spool.add(
                guid=guid,
                currency=currency_code,
                num=child_text(record, q("trn", "num")),
                description=child_text(record, q("trn", "description")),
                posted=self._stamp(record, "date-posted", label, "posting date"),
                entered=self._stamp(record, "date-entered", label, "entry date"),
                closing=_is_closing(record),
                splits=kept,
            )

    def _lot_splits(
        self, record: Element, guid: str, label: str, in_lots: list[tuple[str, Element]]
    ) -> None:
        """Keep what documents need of a transaction with splits in lots (postings, payments)."""
        slots = typed_slots(record.find(q("trn", "slots")))
        posted = self._stamp(record, "date-posted", label, "posting date")
        for lot, split in in_lots:
            value = parse_num_denom(
                optional_text(split, q("split", "value")), book=self.source, record=label
            )
            self.lot_splits.setdefault(lot, []).append(
                LotSplit(
                    value=rational(*value, book=self.source, record=label),
                    txn_guid=guid,
                    posted=posted,
                    txn_type=slot_text(slots.get("trans-txn-type")),
                )
            )
        due = slots.get("trans-date-due")
        self.postings[guid] = Posting(
            due=parse_timestamp(
                optional_text(due, TS_DATE), book=self.source, record=label, field="due date"
            )
            if due is not None
            else None,
            voided="void-reason" in slots,
        )

    def _stamp(self, record: Element, name: str, label: str, field: str) -> datetime:
        return timestamp(record, q("trn", name), self.source, label, field)

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
    stream: BookStream, source: Path, *, ledger: Path | None, documents: bool
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


def _records(stream: BookStream, source: Path) -> Iterator[Element]:
    """Yield each top-level record of the book once complete, then free it; so too each part
    of a record that can hold thousands (``_is_part``), before the record itself."""
    # ElementTree's expat parser gets the book through BookStream, which refuses a DTD before
    # the parser sees it: no entity is ever declared, so none can expand or fetch anything.
    events = iterparse(stream, events=("start", "end"))  # noqa: S314
    stack: list[Element] = []
    elements = 0  # started since the last record was taken: what the next one holds
    for event, element in events:
        if event == "start":
            if not stack and element.tag != ROOT_TAG:
                raise BookUnreadable(
                    f"The book {source} is an XML file but not a GnuCash book (its root "
                    f"element is <{plain_tag(element.tag)}>, not <gnc-v2>). Choose the "
                    ".gnucash file you open in GnuCash."
                )
            stack.append(element)
            elements += 1
            if elements > MAX_RECORD_ELEMENTS:
                raise too_many_elements(source)
            continue
        stack.pop()
        if stack and (
            (stack[-1].tag in _CONTAINERS and element.tag != BOOK)
            or (element.tag in _PART_TAGS and _is_part(element, stack))
        ):
            yield element
            # Emptying the finished record and dropping it from its container keeps memory flat.
            element.clear()
            stack[-1].remove(element)
            stream.record_done()
            elements = 0


def _is_part(element: Element, ancestors: list[Element]) -> bool:
    """Whether ``element`` is a lot of an account record, or a price of the price database:
    taken one by one, since a record may hold thousands of them."""
    path: tuple[str, ...]
    if element.tag == LOT:
        path = (LOTS, ACCOUNT)
    elif element.tag == PRICE_TAG:
        path = (PRICEDB_TAG,)
    else:
        return False
    depth = len(path)
    if len(ancestors) <= depth or ancestors[-depth - 1].tag not in _CONTAINERS:
        return False
    return all(ancestors[-1 - i].tag == tag for i, tag in enumerate(path))


def _account(record: Element, source: Path) -> RawAccount:
    name = child_text(record, q("act", "name"))
    guid = child_text(record, q("act", "id"))
    label = account_label(name, guid)
    if not guid:
        raise garbled(source, f'the account "{name}"', "it has no GUID")
    cmdty = record.find(q("act", "commodity"))
    slots = string_slots(record.find(q("act", "slots")))
    return RawAccount(
        guid=guid,
        name=name,
        account_type=child_text(record, q("act", "type")),
        parent_guid=optional_text(record, q("act", "parent")),
        code=child_text(record, q("act", "code")),
        description=child_text(record, q("act", "description")),
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
        commodity=commodity(cmdty)[1] if cmdty is not None else None,
    )


def _is_closing(record: Element) -> bool:
    """A closing entry of Tools > Close Book: slot ``book_closing`` = 1."""
    value = typed_slots(record.find(q("trn", "slots"))).get("book_closing")
    return value is not None and slot_text(value) not in ("", "0")
