"""Can this PC reach the cloud, and if not, which hop fails?

"Cannot connect" helps nobody; what a person (or their IT team) can act on is *where* it fails:
the name does not resolve, nothing listens, a firewall swallows the packets, the proxy refuses,
the certificate is not trusted (usually a company firewall inspecting encrypted traffic), or
the server answers but not as a Connector cloud. :func:`probe` asks ``GET {cloud}/health`` (a
call that carries no credential) and :func:`classify` names the hop for any httpx failure, so
errors from the real client can be explained the same way.
"""

from __future__ import annotations

import socket
import ssl
import urllib.request
from dataclasses import dataclass
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import httpx

from agent.cloud_api.network import proxy_options, tls_context
from agent.errors import CloudUnavailable, ConnectorError
from agent.support.config import SYSTEM_PROXY
from agent.support.redaction import redact

Hop = Literal[
    "ok",
    "name-resolution",
    "proxy",
    "proxy-authentication",
    "connection-refused",
    "connection-timeout",
    "tls-certificate",
    "tls",
    "no-answer",
    "http-status",
    "network",
]

PROBE_TIMEOUT_SECONDS = 10.0

_E = TypeVar("_E", bound=BaseException)

CA_BUNDLE_FIX = (
    "If this PC is on a company network, its firewall probably inspects encrypted traffic "
    "with its own certificate. Ask your IT team for that certificate (a .pem file) and set it "
    "as Connector's extra CA bundle (the ca_bundle setting). Otherwise check that this PC's "
    "date and time are right."
)


# What a person sees as the title of an error on each hop (the message says the rest).
HOP_TITLES: dict[Hop, str] = {
    "name-resolution": "The cloud's name cannot be found",
    "proxy": "The proxy did not let Connector through",
    "proxy-authentication": "The proxy wants a user name and password",
    "connection-refused": "The cloud refused the connection",
    "connection-timeout": "No answer from the cloud",
    "tls-certificate": "The cloud's certificate is not trusted",
    "tls": "No secure connection to the cloud",
    "no-answer": "The cloud did not answer in time",
}

# A proxy answers CONNECT with these when it wants credentials, or refuses the ones it got
# (407 is the standard; some, tinyproxy among them, answer 401 to wrong ones).
_PROXY_AUTH_CODES = ("401", "407")


@dataclass(frozen=True)
class Reachability:
    """What happened on the way to the cloud: ``hop`` is "ok" or the hop that failed."""

    hop: Hop
    detail: str
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.hop == "ok"


def probe(
    cloud_url: str,
    *,
    ca_bundle: str | None = None,
    timeout: float = PROBE_TIMEOUT_SECONDS,
    proxy: str | None = SYSTEM_PROXY,
) -> Reachability:
    """``GET {cloud_url}/health``: the cloud answers 204 when it is up."""
    url = cloud_url.rstrip("/") + "/health"
    try:
        # Exactly the certificates the agent's client trusts, so the answer holds for syncs.
        verify = tls_context(ca_bundle)
    except (ConnectorError, OSError, ssl.SSLError) as exc:
        return Reachability(
            "tls-certificate",
            f"The extra CA bundle {ca_bundle} cannot be used: {exc}.",
            "Point the ca_bundle setting at a readable .pem file from your IT team, or remove "
            "the setting.",
        )
    try:
        with (
            httpx.Client(verify=verify, timeout=timeout, **proxy_options(proxy)) as client,
            client.stream("GET", url) as response,
        ):
            pass  # only the status counts: the body, whatever its size, is never read
    except httpx.TransportError as exc:
        return classify(exc, cloud_url, proxy=proxy)
    return _judge_status(response, cloud_url)


def unreachable(
    exc: httpx.TransportError, cloud_url: str, *, proxy: str | None = SYSTEM_PROXY
) -> CloudUnavailable:
    """The error for a call to ``cloud_url`` that failed on the way (``proxy``: the proxy
    setting it was made with): titled by the hop that failed, saying what to do about it."""
    found = classify(exc, cloud_url, proxy=proxy)
    message = found.detail if found.fix is None else f"{found.detail} {found.fix}"
    return CloudUnavailable(message, title=HOP_TITLES.get(found.hop, CloudUnavailable.title))


def _judge_status(response: httpx.Response, cloud_url: str) -> Reachability:
    code = response.status_code
    if code in (200, 204):
        return Reachability("ok", f"{cloud_url} answered.")
    if code == 407:
        return Reachability(
            "proxy",
            f"The proxy between this PC and {cloud_url} wants a user name and password (407).",
            "Put the proxy's user name and password in the proxy setting "
            "(http://user:password@proxy:port), or ask your IT team to let Connector through.",
        )
    if code >= 500:
        return Reachability(
            "http-status",
            f"{cloud_url} answered, but with an error ({code}): the service has a problem.",
            "Wait a few minutes and try again; if it persists, contact the service's support.",
        )
    return Reachability(
        "http-status",
        f"{cloud_url} answered {code} where a Connector cloud answers 204: the address may be "
        "wrong, or something in between (a proxy or captive portal) answered instead.",
        "Check the address in the link URL you were given; on hotel or guest Wi-Fi, open a web "
        "page first to sign in to the network.",
    )


def classify(
    exc: BaseException, cloud_url: str, *, proxy: str | None = SYSTEM_PROXY
) -> Reachability:
    """Name the hop that ``exc`` (an httpx error, or one raised from it) failed at; ``proxy`` is
    the proxy setting the call was made with ("system": the environment's)."""
    parts = urlsplit(cloud_url)
    host = parts.hostname or cloud_url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = f"{host}:{port}"
    proxy = proxy_for(cloud_url) if proxy == SYSTEM_PROXY else proxy
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)

    if isinstance(exc, httpx.ProxyError) and str(exc).split(" ", 1)[0] in _PROXY_AUTH_CODES:
        return _proxy_wants_credentials(proxy, str(exc), where)
    # Before the proxy: through a proxy, a certificate the agent does not trust is most likely
    # the proxy's own (a firewall inspecting encrypted traffic), and the fix is the same.
    cert_error = _first(chain, ssl.SSLCertVerificationError)
    if cert_error is not None or "CERTIFICATE_VERIFY_FAILED" in text:
        via = f" (through the proxy {redact(proxy)})" if proxy else ""
        return _certificate_problem(cert_error, _reason(chain), where + via)
    if _first(chain, ssl.SSLError) is not None or "[SSL" in text:
        return Reachability(
            "tls",
            f"The secure (TLS) handshake with {where} failed: {_reason(chain)}.",
            CA_BUNDLE_FIX,
        )
    if isinstance(exc, httpx.ProxyError) or (
        proxy and isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
    ):
        return Reachability(
            "proxy",
            f"The proxy {redact(proxy or '(from the environment)')} did not pass the "
            f"connection to {where} on: {_reason(chain)}.",
            "Check the proxy setting (HTTPS_PROXY, or Connector's proxy setting) with your IT "
            "team; if the cloud should be reached directly, add its name to NO_PROXY.",
        )
    if _first(chain, socket.gaierror) is not None or _looks_like_dns(text):
        return Reachability(
            "name-resolution",
            f"The name {host} could not be found (DNS): {_reason(chain)}.",
            f"Check that {host} is spelt as in your link URL and that this PC is online "
            "(can it open web pages?). On a company network, ask IT whether the name resolves "
            "there.",
        )
    if _first(chain, ConnectionRefusedError) is not None or "refused" in text.lower():
        return Reachability(
            "connection-refused",
            f"{where} refused the connection: the computer was found, but nothing accepts "
            "connections on that port.",
            "The service may be down or the address wrong: check the link URL, wait a few "
            "minutes, then try again.",
        )
    # A timeout after the connection was made is the server's slowness, not a firewall's.
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return Reachability(
            "no-answer",
            f"Connected to {where}, but it did not answer in time.",
            "The service may be overloaded: wait a few minutes and try again.",
        )
    if isinstance(exc, httpx.ConnectTimeout) or _first(chain, TimeoutError) is not None:
        return Reachability(
            "connection-timeout",
            f"No answer from {where} while connecting: a firewall may be dropping the "
            "connection, or the network is down.",
            f"Ask your IT team to allow outgoing HTTPS to {host}, or set Connector's proxy if "
            "your network requires one.",
        )
    return Reachability(
        "network",
        f"The connection to {where} failed: {_reason(chain)}.",
        "Check this PC's network connection and proxy settings, then try again.",
    )


def _proxy_wants_credentials(proxy: str | None, answer: str, where: str) -> Reachability:
    named = redact(proxy or "(from the environment)")
    if proxy and urlsplit(proxy).username:
        return Reachability(
            "proxy-authentication",
            f"The proxy {named} refused the user name and password in its address, so it did "
            f"not pass the connection to {where} on ({redact(answer)}).",
            "Check the user name and password in the proxy address with your IT team (the "
            "address looks like http://user:password@proxy:port).",
        )
    return Reachability(
        "proxy-authentication",
        f"The proxy {named} wants a user name and password before it passes the connection to "
        f"{where} on ({redact(answer)}).",
        "Put the proxy's user name and password in the proxy address "
        "(http://user:password@proxy:port, in HTTPS_PROXY or Connector's proxy setting), or ask "
        "your IT team to let Connector through.",
    )


def _certificate_problem(
    cert_error: ssl.SSLCertVerificationError | None, fallback: str, where: str
) -> Reachability:
    # verify_message is set only on errors the ssl module raised itself.
    reason = str(getattr(cert_error, "verify_message", None) or fallback)
    lowered = reason.lower()
    if "expired" in lowered or "not yet valid" in lowered:
        return Reachability(
            "tls-certificate",
            f"The certificate of {where} is outside its validity dates ({reason}).",
            "Check that this PC's date and time are right. If they are, the service's "
            "certificate has expired: tell the service's support.",
        )
    if "hostname mismatch" in lowered or "ip address mismatch" in lowered:
        return Reachability(
            "tls-certificate",
            f"The certificate presented at {where} is for a different name ({reason}).",
            "Check the address in your link URL. " + CA_BUNDLE_FIX,
        )
    return Reachability(
        "tls-certificate",
        f"The certificate presented by {where} is not trusted ({reason}).",
        CA_BUNDLE_FIX,
    )


def proxy_for(url: str) -> str | None:
    """The proxy the HTTP client will use for ``url`` (httpx reads the same settings)."""
    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for entry in proxies.get("no", "").split(","):
        entry = entry.strip().lower().lstrip(".")
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return None
    return proxies.get(parts.scheme) or proxies.get("all")


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it: httpx wraps httpcore, which wraps the socket's error."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _first(chain: list[BaseException], kind: type[_E]) -> _E | None:
    return next((e for e in chain if isinstance(e, kind)), None)


def _reason(chain: list[BaseException]) -> str:
    innermost = str(chain[-1]) or type(chain[-1]).__name__
    return redact(innermost)


_DNS_WORDS = (
    "name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "temporary failure in name resolution",
    "no address associated",
    "name resolution",
    "[errno 11001]",
    "[errno -2]",
    "[errno -3]",
    "[errno -5]",
)


def _looks_like_dns(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _DNS_WORDS)
