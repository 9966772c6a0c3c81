"""Keeps secrets out of every log line, and out of anything else that leaves the process.

Two nets, because either alone leaks. Secrets the agent knows (each access and refresh token
the :class:`~agent.cloud_api.tokens.TokenKeeper` sees) are registered and removed wherever they
appear, whatever surrounds them. Things that merely *look* like credentials (``Bearer ...``, an
``Authorization`` header, JSON or query fields named like a token or password, webhook secrets,
passwords in URLs, link codes) are removed by pattern, so a secret nobody registered, such as
one quoted in a library's exception, is caught too.

``REDACTOR`` is the process-wide instance; :func:`install` attaches it to logging handlers and
:func:`redact` serves everything else (the diagnostics bundle, the self-test report).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

MASK = "[REDACTED]"

# Shorter strings are too likely to occur by chance ("1234" in a timestamp) to be removed
# everywhere; real tokens are 40+ characters.
MIN_SECRET_LENGTH = 8

# Tokens rotate hourly, so a long-running agent would register thousands. Old ones are expired
# and worthless, and the patterns below still catch them in headers, so only recent ones are kept
# to keep the per-line cost small.
MAX_REGISTERED = 256

_KEY = (
    r"[\w-]*?(?:token|secret|password|passwd|pwd|api[_-]?key|apikey|link[_-]?code"
    r"|client[_-]?key|signature)[\w-]*"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Basic dXNlcjpwYXNz / "Authorization": "Bearer abc" / authorization=Digest ...
    (
        re.compile(
            r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:basic|bearer|digest|token)?\s*)"
            r"[^\s\"',;}]+"
        ),
        rf"\1{MASK}",
    ),
    # Bearer tokens anywhere else (an f-string, a repr of headers, a curl line).
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*"), rf"\1{MASK}"),
    # "refreshToken": "abc", 'password': 'abc' (JSON, and Python reprs of dicts).
    (
        re.compile(rf"(?i)([\"']{_KEY}[\"']\s*:\s*)([\"'])(?:\\.|(?!\2).)*\2"),
        rf"\1\2{MASK}\2",
    ),
    # refresh_token=abc&..., apiKey='abc' (query strings, form bodies, keyword arguments).
    (re.compile(rf"(?i)(\b{_KEY}=)([\"']?)[^&\s\"',;)]+"), rf"\1\2{MASK}"),
    # X-Api-Key: abc, password: hunter2 (header lines, YAML-ish text). Not after a dot: the
    # log format's "agent.cloud_api.tokens: message" is a logger's name, not a field.
    (re.compile(rf"(?i)((?<![\w.-]){_KEY}:[ \t]*)[A-Za-z0-9\-._~+/=]{{8,}}"), rf"\1{MASK}"),
    # Svix-style webhook signing secrets.
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]+"), MASK),
    # https://user:password@proxy.example (proxy settings are the usual culprit).
    (re.compile(r"(://[^/\s:@]+:)[^/\s@]+@"), rf"\1{MASK}@"),
    # An unspent link code in a link URL lets anyone link to the company.
    (re.compile(r"(/link/)[A-Za-z0-9-]{4,}"), rf"\1{MASK}"),
)


class Redactor(logging.Filter):
    """A logging filter that rewrites each record with its secrets removed.

    The record's message is formatted (``msg % args``) before redaction, since a secret is as
    likely to sit in an argument as in the format string; the traceback and stack are formatted
    and redacted too, and ``exc_info`` is dropped so no later formatter can print the original.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: OrderedDict[str, None] = OrderedDict()
        self._secret_pattern: re.Pattern[str] | None = None

    def register(self, secret: str | None) -> None:
        """Remove ``secret`` from everything redacted from now on."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            self._secrets[secret] = None
            self._secrets.move_to_end(secret)
            while len(self._secrets) > MAX_REGISTERED:
                self._secrets.popitem(last=False)
            # Longest first, so a secret that contains another is removed whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def forget_all(self) -> None:
        """Drop every registered secret (for tests)."""
        with self._lock:
            self._secrets.clear()
            self._secret_pattern = None

    def redact(self, text: str) -> str:
        """``text`` with registered secrets and credential-like values replaced by a mask."""
        pattern = self._secret_pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for rule, replacement in _PATTERNS:
            text = rule.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_connector_redacted", False):
            return True  # another handler's filter already did it
        try:
            message = record.getMessage()
        except Exception:
            # A bad format string: logging would print msg and args raw in its error report.
            message = f"{record.msg!r} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        record._connector_redacted = True
        return True


_TRACEBACKS = logging.Formatter()

REDACTOR = Redactor()


def register(secret: str | None) -> None:
    """Remove ``secret`` from every log line and diagnostics file from now on."""
    REDACTOR.register(secret)


def redact(text: str) -> str:
    """``text`` with every known secret and anything that looks like a credential removed."""
    return REDACTOR.redact(text)


def install(target: logging.Handler | logging.Logger | None = None) -> None:
    """Redact everything ``target`` writes (the root logger when None).

    A filter on a logger sees only records logged on that very logger, not those propagated
    from its children, so for a logger the filter goes on each of its handlers (and on the
    logger, for direct records). A handler added to it later needs its own ``install``.
    """
    logger_or_handler = logging.getLogger() if target is None else target
    handlers = (
        list(logger_or_handler.handlers)
        if isinstance(logger_or_handler, logging.Logger)
        else [logger_or_handler]
    )
    for item in [logger_or_handler, *handlers]:
        if REDACTOR not in item.filters:
            item.addFilter(REDACTOR)
