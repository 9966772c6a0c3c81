"""Linking this PC's book to a company in the cloud, and the look at the book that comes first.

:func:`preview_book` says what a book holds, so a person can tell it is the right company's
before spending a link code; :func:`link_book` spends it. The facade then serves the new link.
Both read the book through its package's source, found in the registry by name (GnuCash's
unless another is named): no accounting package is named here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from agent.cloud_api.cloud_client import CloudClient, split_link_url
from agent.cloud_api.tokens import TokenKeeper
from agent.sources.base import BookPreview as BookPreview  # the value preview_book returns
from agent.sources.registry import DEFAULT_SOURCE, source_kind
from agent.support import proxy_secret, redaction
from agent.support.config import CredentialStoreKind, Link, Paths, load_config, save_config
from agent.support.credentials import CredentialStore
from agent.support.private_files import make_private_dir
from protocol.clock import Clock, to_iso


def preview_book(book_path: Path, workdir: Path, *, source: str = DEFAULT_SOURCE) -> BookPreview:
    """Read a snapshot of the book (taken in ``workdir``) with the ``source`` package's reader
    and say what it holds."""
    return source_kind(source).preview(book_path, workdir)


def link_book(
    link_url: str,
    book_path: Path,
    *,
    paths: Paths,
    insecure_file_store: bool,
    open_store: Callable[[CredentialStoreKind], CredentialStore],
    clock: Clock,
    source: str = DEFAULT_SOURCE,
) -> tuple[Link, CredentialStore]:
    """Spend the link code in ``link_url`` on linking ``book_path``; keep the first tokens in
    the credential store and the link in the config. Returns the link and that store.

    Everything that can fail locally (the credential store, the book) is checked before the
    one-time code is spent, so a failed attempt can simply be repeated. ``source``: the
    package the book is kept in, as the registry names it; the link keeps it.
    """
    cloud_url, code = split_link_url(link_url)
    redaction.register(code)
    config = load_config(paths)
    kind: CredentialStoreKind = "file" if insecure_file_store else config.credential_store
    store = open_store(kind)
    package = source_kind(source)  # an unknown package is refused before anything is spent
    book = book_path.expanduser().resolve()
    workdir = paths.staging_dir / "link-check"
    make_private_dir(workdir)
    package.preview(
        book, workdir
    )  # reads the book once (its snapshot): refuse a wrong file up front
    proxy = proxy_secret.with_password(config.proxy, store)
    with CloudClient(cloud_url, ca_bundle=config.ca_bundle, proxy=proxy) as client:
        grant = client.link(code, package.data_types())
    # Saved through the connection's lock, like every renewal: a running agent reads it there.
    TokenKeeper(grant.connection_id, store, lock_folder=paths.locks_dir, first_grant=grant.tokens)
    link = Link(
        cloud_url=grant.cloud_url,
        company_id=grant.company_id,
        company_name=grant.company_name,
        connection_id=grant.connection_id,
        book_path=str(book),
        linked_at=to_iso(clock()),
        source=source,
    )
    save_config(paths, replace(config.with_link(link), credential_store=kind))
    return link, store
