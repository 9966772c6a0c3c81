"""Linking this PC's book to a company in the cloud, and the look at the book that comes first.

:func:`preview_book` says what a book holds, so a person can tell it is the right company's
before spending a link code; :func:`link_book` spends it. The facade then serves the new link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from agent.cloud_api.cloud_client import CloudClient, split_link_url
from agent.cloud_api.tokens import TokenKeeper
from agent.sources.gnucash.reading.reader import open_book, read_book
from agent.sources.registry import source_kind
from agent.support import proxy_secret, redaction
from agent.support.config import CredentialStoreKind, Link, Paths, load_config, save_config
from agent.support.credentials import CredentialStore
from agent.support.private_files import make_private_dir
from protocol.clock import Clock, to_iso


@dataclass(frozen=True)
class BookPreview:
    """What a book holds, so a person can tell it is the right company's before linking."""

    book_path: Path
    company_name: str  # File > Properties > Business; the file's name when that is empty
    last_transaction: date | None  # the latest posted date; None for a book without any
    accounts: int
    customers: int
    invoices: int  # customer invoices, credit notes left out


def preview_book(book_path: Path, workdir: Path) -> BookPreview:
    """Read a snapshot of the book (taken in ``workdir``) and say what it holds."""
    book_file = book_path.expanduser().resolve()
    make_private_dir(workdir)
    with open_book(book_file, workdir) as reading:
        book = reading.book
        latest = book.transactions.latest_posted()
    name = book.company.name.strip() if book.company else ""
    return BookPreview(
        book_path=book_file,
        company_name=name or book_file.stem,
        last_transaction=latest.date() if latest else None,
        accounts=len(book.accounts),
        customers=len(book.customers),
        invoices=sum(
            1
            for document in book.documents
            if document.owner_kind == "customer" and not document.credit_note
        ),
    )


def link_book(
    link_url: str,
    book_path: Path,
    *,
    paths: Paths,
    insecure_file_store: bool,
    open_store: Callable[[CredentialStoreKind], CredentialStore],
    clock: Clock,
) -> tuple[Link, CredentialStore]:
    """Spend the link code in ``link_url`` on linking ``book_path``; keep the first tokens in
    the credential store and the link in the config. Returns the link and that store.

    Everything that can fail locally (the credential store, the book) is checked before the
    one-time code is spent, so a failed attempt can simply be repeated.
    """
    cloud_url, code = split_link_url(link_url)
    redaction.register(code)
    config = load_config(paths)
    kind: CredentialStoreKind = "file" if insecure_file_store else config.credential_store
    store = open_store(kind)
    book = book_path.expanduser().resolve()
    workdir = paths.staging_dir / "link-check"
    make_private_dir(workdir)
    read_book(book, workdir)  # reads the book once (its snapshot): refuse a wrong file up front
    proxy = proxy_secret.with_password(config.proxy, store)
    with CloudClient(cloud_url, ca_bundle=config.ca_bundle, proxy=proxy) as client:
        grant = client.link(code, source_kind().data_types())
    # Saved through the connection's lock, like every renewal: a running agent reads it there.
    TokenKeeper(grant.connection_id, store, lock_folder=paths.locks_dir, first_grant=grant.tokens)
    link = Link(
        cloud_url=grant.cloud_url,
        company_id=grant.company_id,
        company_name=grant.company_name,
        connection_id=grant.connection_id,
        book_path=str(book),
        linked_at=to_iso(clock()),
    )
    save_config(paths, replace(config.with_link(link), credential_store=kind))
    return link, store
