"""The cloud's answers, read within a limit and believed only once parsed.

Every answer is read as a stream and dropped at a limit suited to its call (a poll answer is a
few hundred bytes, a baseline page about 1 MB), so no server can fill the agent's memory; a
compressed answer is refused unread, since a few KB of gzip can inflate to gigabytes (the agent
asks for none). What is read is then parsed with the models of :mod:`protocol.agent_api`.
Anything that does not fit is a :class:`~agent.errors.BadAnswer`: network class, so the link
waits with backoff and tries again, as when the cloud cannot be reached. Its message says what
was wrong and shows how the answer began (redacted; not at all for the answers that carry
credentials), which is what a person needs to spot a captive portal or a proxy in the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from agent.errors import BadAnswer
from agent.support.redaction import redact

KB = 1024
MB = 1024 * KB

# Limits on an answer's body, from the bounds of its model with room to spare.
SMALL_ANSWER = 16 * KB  # link, token, heartbeat, poll, lease, transition: under 1 KB each
QUEUE_ANSWER = 64 * KB  # at most 100 datasets of about 150 bytes
STATUS_ANSWER = 256 * KB  # the connection, and at most 100 data types of about 250 bytes
# 10,000 hashes: about 1 MB with GnuCash's 32-character ids, 3.3 MB with the longest ids.
BASELINE_ANSWER = 4 * MB
ERROR_ANSWER = 16 * KB  # the public error shape: a sentence for people

EXCERPT_CHARACTERS = 100
MAX_PROBLEMS = 3  # of a wrong-shaped answer, named in the message

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Reply:
    """An answer as it was read: whole, and no larger than its limit."""

    status: int
    content_type: str
    body: bytes
    retry_after: str | None


@dataclass(frozen=True)
class AnswerContext:
    """Which call an answer belongs to, for the messages about it."""

    cloud_url: str
    call: str  # "POST /agent/v1/poll"
    secret: bool = False  # the answer may carry credentials: never quote it


def read_reply(response: httpx.Response, limit: int, context: AnswerContext) -> Reply:
    """Read ``response`` (opened as a stream) to its end, refusing it past ``limit`` bytes."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise bad_answer(context, f"it came compressed ({encoding[:40]}) though none was asked")
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise bad_answer(context, _too_large(int(declared), limit))
    body = bytearray()
    for piece in response.iter_raw():
        body += piece
        if len(body) > limit:
            raise bad_answer(context, _too_large(None, limit))
    return Reply(
        status=response.status_code,
        content_type=response.headers.get("Content-Type", ""),
        body=bytes(body),
        retry_after=response.headers.get("Retry-After"),
    )


def refuse_redirect(response: httpx.Response, context: AnswerContext) -> BadAnswer:
    """A redirect is never followed: the credential in the request must go nowhere else."""
    location = redact(response.headers.get("Location", "nowhere")[:200])
    return bad_answer(
        context,
        f"it is a redirect ({response.status_code}) to {location}, which Connector does not "
        "follow so that its credential goes nowhere else; if the cloud has moved, link again "
        "with a link URL at its new address",
    )


def parse(model: type[Model], reply: Reply, context: AnswerContext) -> Model:
    """``reply``'s body as ``model``; a :class:`BadAnswer` saying why when it is not one."""
    try:
        return model.model_validate_json(reply.body)
    except ValidationError as invalid:
        raise bad_answer(context, _problems(invalid, reply), reply.body) from None


def bad_answer(context: AnswerContext, problem: str, body: bytes | None = None) -> BadAnswer:
    began = ""
    if body is not None and not context.secret:
        began = f" It began: {excerpt(body)}."
    message = (
        f"{context.cloud_url} answered {context.call} with something Connector cannot "
        f"understand: {problem}.{began} If this PC reaches the internet through a sign-in page "
        "(hotel or cafe Wi-Fi) or a proxy, sign in there or ask IT; otherwise check the "
        "cloud's address. Connector keeps trying."
    )
    return BadAnswer(redact(message))  # the problem may quote the answer's own keys


def excerpt(body: bytes) -> str:
    """The start of a body, on one line, without anything that looks like a secret."""
    text = " ".join(body[: EXCERPT_CHARACTERS * 4].decode("utf-8", "replace").split())
    if not text:
        return "(nothing)"
    cut = text[:EXCERPT_CHARACTERS] + ("..." if len(text) > EXCERPT_CHARACTERS else "")
    return repr(redact(cut))


def _problems(invalid: ValidationError, reply: Reply) -> str:
    errors = invalid.errors(include_url=False, include_input=False, include_context=False)
    if any(error["type"] == "json_invalid" for error in errors):
        kind = reply.content_type.split(";")[0].strip() or "no content type"
        return f"it is not JSON ({kind}, {len(reply.body)} bytes)"
    named = [
        f"{'.'.join(str(part)[:40] for part in error['loc']) or 'the answer'}: {error['msg']}"
        for error in errors[:MAX_PROBLEMS]
    ]
    more = len(errors) - len(named)
    return "; ".join(named) + (f"; and {more} more" if more > 0 else "")


def _too_large(declared: int | None, limit: int) -> str:
    size = f"{declared:,} bytes" if declared is not None else "more"
    return f"it is too large ({size}, where at most {limit:,} bytes were expected)"
