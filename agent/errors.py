"""The agent's error tree. Every error carries a title and a message a person can act on.

::

    ConnectorError                    title + message, shown to people as they are
    ├── DatasetFailed                 ends one dataset in an error state (``status``)
    │   ├── BookUnreadable            FetchError: missing, unreadable, corrupt, keeps changing
    │   ├── RecordUnmappable          MapError: names the record
    │   ├── RecordsInvalid            ValidationError: names what and where
    │   ├── UploadRefused             ProcessingError: the cloud would not store the records
    │   ├── BookAccessDenied          AuthError: the PC refuses access to the book
    │   └── DataTypeNotSupported      NotSupported: with the reason
    ├── CloudUnavailable              the cloud cannot be reached right now: retry later
    │   ├── BadAnswer                 an answer that is not the agent API's: retry later
    │   └── CredentialBusy            another process held the credential too long: retry later
    ├── AuthorizationLost             the cloud says the authorization is gone (``reason``):
    │                                 confirmed, then the user is asked to re-link
    ├── LinkRefused                   a link code was refused (used, expired, unknown)
    ├── CredentialStoreUnavailable    no usable OS keyring, and no explicit opt-in to a file
    └── NotLinked                     a command needs a link that does not exist

Anything else raised while a dataset runs is a bug and ends the dataset in ``InternalError``
(see :mod:`agent.runtime.runner`).
"""

from __future__ import annotations

from protocol.states import DatasetStatus


class ConnectorError(Exception):
    """Base of every error the agent raises on purpose."""

    title = "Connector error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class UnknownSource(ConnectorError):
    """No installed source is registered under the name asked for (agent/sources/registry.py)."""

    title = "Connector cannot read this accounting package"


class DatasetFailed(ConnectorError):
    """Ends the dataset being run in :attr:`status`; the message is shown to the cloud side."""

    status: DatasetStatus = DatasetStatus.INTERNAL_ERROR


class BookUnreadable(DatasetFailed):
    title = "The book could not be read"
    status = DatasetStatus.FETCH_ERROR


class RecordUnmappable(DatasetFailed):
    title = "A record could not be converted"
    status = DatasetStatus.MAP_ERROR


class RecordsInvalid(DatasetFailed):
    title = "The data did not pass its checks"
    status = DatasetStatus.VALIDATION_ERROR


class UploadRefused(DatasetFailed):
    title = "The cloud refused the data"
    status = DatasetStatus.PROCESSING_ERROR


class BookAccessDenied(DatasetFailed):
    """The PC refuses Connector access to the book: a credential or permission to fix."""

    title = "Connector may not open the book"
    status = DatasetStatus.AUTH_ERROR


class DataTypeNotSupported(DatasetFailed):
    title = "Data type not supported"
    status = DatasetStatus.NOT_SUPPORTED


class CloudUnavailable(ConnectorError):
    title = "Cannot reach the cloud"
    retry_after: float | None = None  # seconds, when the server said how long to wait

    def with_retry_after(self, header: str | None) -> CloudUnavailable:
        """Remember a ``Retry-After`` given in seconds (the HTTP-date form is ignored)."""
        if header is not None and header.strip().isdigit():
            self.retry_after = float(header.strip())
        return self


class BadAnswer(CloudUnavailable):
    """An answer that is not the agent API's: a page from a captive portal or a proxy, a
    redirect, a wrong shape, an answer too large. Nothing in it is believed; like a cloud that
    cannot be reached, it is tried again later."""

    title = "The cloud's answer could not be understood"


class CredentialBusy(CloudUnavailable):
    """Another thread or process on this PC held the connection's credential (renewing it, or
    waiting for a keyring to unlock) for longer than Connector waits: try again later."""

    title = "The connection's credential is busy"


class AuthorizationLost(ConnectorError):
    """The cloud refused a token with a reason that says the authorization is gone (revoked,
    unlinked, expired, reused, unknown: ``reason``); never a 401 without one, never a proxy's
    page. Before a person is told, the link worker confirms it
    (:mod:`agent.runtime.link_worker`)."""

    title = "Connector needs to be re-authorized"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class LinkRefused(ConnectorError):
    title = "The link code was not accepted"


class CredentialStoreUnavailable(ConnectorError):
    title = "No safe place to keep the connection's credential"


class NotLinked(ConnectorError):
    title = "Connector is not linked"
