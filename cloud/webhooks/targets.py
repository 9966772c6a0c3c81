"""Where webhooks may be sent: to public internet addresses, and to the hosts the operator allows.

The API user picks a consumer's URL, and the cloud POSTs to it from inside its own network. A
URL naming 127.0.0.1, 169.254.169.254 (a cloud provider's metadata service), 10.0.0.1 or [::1]
would make webhooks a way into services no API user should reach (server-side request forgery).
So a delivery goes only to an address on the public internet: never a loopback, link-local,
private, unspecified, multicast or reserved one, nor one of those inside an IPv6 address
(``::ffff:127.0.0.1``, 6to4, NAT64).

The address is checked twice:

- when a consumer is made, if its URL's host is an address (in any spelling the system's
  resolver takes for one: ``127.1``, ``0x7f000001``) or a ``localhost`` name;
- before every attempt, after DNS: :class:`PinnedTransport` resolves the host, checks every
  address it gets, and connects to the address it checked, keeping the host's name in the
  ``Host`` header and as the TLS server name (so the certificate is still verified against
  it). Nothing resolves the name again between the check and the connection, so a name that
  answers with a public address for the check and a private one a moment later (DNS rebinding)
  still only reaches the public one.

An operator who runs consumers on an internal network on purpose lists their hosts with
``connector-cloud serve --webhook-allow-host NAME`` (``CloudSettings.webhook_allowed_hosts``):
deliveries to those hosts skip the address check, and nothing else changes.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection, Sequence
from urllib.parse import unquote

import httpx

__all__ = ["ALLOW_OPTION", "PinnedTransport", "Resolver", "TargetRefused", "WebhookTargets"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_OPTION = "--webhook-allow-host"
"""The ``connector-cloud serve`` option that allows a host; messages name it."""

Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) -> the addresses a connection to it may use, as text."""

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are IPv4
_DEFAULT_PORTS = {"http": 80, "https": 443}


class TargetRefused(httpx.TransportError):
    """A delivery's host is, or resolves to, an address webhooks are not sent to.

    An httpx error, so a refused attempt is recorded and retried like one that found no server.
    """


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for ``host``, as a connection would."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def address_refusal(address: IPAddress) -> str | None:
    """What kind of address ``address`` is, if webhooks are not sent to it; ``None`` if they are.

    The kinds are tested most telling first: 169.254.169.254 is link-local before it is private.
    """
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = address_refusal(embedded)
        return f"{inner} (inside the IPv6 address {address})" if inner else None
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:  # not covered by is_global: 224.0.0.0/4 counts as global
        return "a multicast address"
    if address.is_reserved:  # before private: Python counts 240.0.0.0/4 as both
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:  # shared (100.64.0.0/10), documentation and similar ranges
        return "an address that is not on the public internet"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address a connection to ``address`` would end up at, for the IPv6 forms that
    carry one: IPv4-mapped (``::ffff:a.b.c.d``), 6to4 (2002::/16) and NAT64 (64:ff9b::/96)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _numeric_address(host: str) -> IPAddress | None:
    """``host`` as an address if the system's resolver reads it as one without DNS.

    ``ipaddress`` alone takes only the canonical forms; the resolver a connection uses also
    reads ``127.1``, ``0x7f000001`` or ``2130706433`` as 127.0.0.1, so it is asked, with
    ``AI_NUMERICHOST`` (no lookup is made).
    """
    text = unquote(host)  # a zone in a URL is percent-encoded: fe80::1%25eth0
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(text, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(found[0][4][0]) if found else None


def _host_key(host: str) -> str:
    """How a host is compared with the allowed ones: an address in its canonical form, a name
    in lower case without the trailing dot of a fully qualified name."""
    address = _numeric_address(host)
    if address is not None:
        return str(address)
    return host.lower().rstrip(".")


def _is_localhost(host: str) -> bool:
    # RFC 6761: "localhost" and every name below it are the machine itself.
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


class WebhookTargets:
    """Which hosts and addresses deliveries may go to.

    ``allowed_hosts`` are the operator's exceptions (names or addresses). ``resolve`` is the
    system's resolver; tests hand in one that knows their made-up names.
    """

    def __init__(
        self, allowed_hosts: Collection[str] = (), *, resolve: Resolver = system_resolver
    ) -> None:
        self._allowed = frozenset(_host_key(host) for host in allowed_hosts)
        self._resolve = resolve

    def allows(self, host: str) -> bool:
        """Whether the operator allowed ``host`` (spelled as it is in a URL)."""
        return _host_key(host) in self._allowed

    def url_refusal(self, url: str) -> str | None:
        """Why a consumer at ``url`` is refused when it is made, or ``None``.

        Only what needs no DNS is judged here: a host that is an address, or a ``localhost``
        name. A name is judged at every delivery, after it is resolved.
        """
        host = httpx.URL(url).host
        if self.allows(host):
            return None
        address = _numeric_address(host)
        if address is not None:
            kind = address_refusal(address)
        else:
            kind = "a loopback address" if _is_localhost(host) else None
        return None if kind is None else self._refusal(host, kind)

    def checked_address(self, host: str, port: int) -> str:
        """The address to connect to for ``host``: resolved now, and checked unless allowed.

        Raises :class:`TargetRefused` when any address of the host is one webhooks are not
        sent to (a name that mixes public and private addresses is refused whole), and
        :class:`httpx.ConnectError` when the name does not resolve.
        """
        try:
            addresses = [ipaddress.ip_address(a) for a in self._resolve(unquote(host), port)]
        except (OSError, UnicodeError, ValueError) as e:
            raise httpx.ConnectError(f"The host {host} could not be resolved ({e})") from None
        if not addresses:
            raise httpx.ConnectError(f"The host {host} has no address")
        if not self.allows(host):
            for address in addresses:
                kind = address_refusal(address)
                if kind is not None:
                    named = None if str(address) == unquote(host) else address
                    raise TargetRefused(self._refusal(host, kind, resolved=named))
        return str(addresses[0])

    @staticmethod
    def _refusal(host: str, kind: str, *, resolved: IPAddress | None = None) -> str:
        what = f"{host} resolves to {resolved}, {kind}" if resolved else f"{host} is {kind}"
        return (
            f"The webhook consumer's host {what}; webhooks are only sent to public internet "
            "addresses, so that a consumer URL cannot reach services inside the cloud's own "
            "network. To send webhooks to a consumer on an internal network on purpose, the "
            f"cloud's operator starts it with {ALLOW_OPTION} {host}."
        )


class PinnedTransport(httpx.BaseTransport):
    """Sends each request to an address of its host that ``targets`` checked just before.

    The URL handed on names the checked address, so the transport below does no DNS of its
    own; the ``Host`` header (set by httpx from the original URL) and, for https, the TLS
    server name (httpcore's ``sni_hostname`` extension, which is also the name the certificate
    is verified against) stay the host's name.
    """

    def __init__(self, targets: WebhookTargets, inner: httpx.BaseTransport) -> None:
        self._targets = targets
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.host
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 80)
        address = self._targets.checked_address(host, port)
        request.url = url.copy_with(host=address)
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
