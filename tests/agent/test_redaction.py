"""Secrets never reach a log file: registered ones, ones inside exceptions, and look-alikes."""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.support import redaction
from agent.support.logs import setup_logging
from agent.support.redaction import (
    MASK,
    MAX_REGISTERED,
    REDACTOR,
    Redactor,
    install,
    redact,
    register,
)


def _token() -> str:
    # Shaped like the cloud's tokens (secrets.token_urlsafe), different in every test.
    return secrets.token_urlsafe(32)


@pytest.fixture
def file_logger(tmp_path: Path) -> Iterator[tuple[logging.Logger, Path]]:
    """A logger writing through a real FileHandler, redacted with ``install``."""
    path = tmp_path / "connector.log"
    logger = logging.getLogger(f"test-redaction-{secrets.token_hex(4)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    install(logger)
    try:
        yield logger, path
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_registered_tokens_are_removed_from_messages_arguments_and_tracebacks(
    file_logger: tuple[logging.Logger, Path],
) -> None:
    logger, path = file_logger
    access, refresh = _token(), _token()
    register(access)
    register(refresh)

    logger.info("Using access token %s", access)
    logger.info(f"Saved refresh token {refresh} to the keyring")
    logger.debug("Grant: %r", {"access": access, "refresh": refresh})
    try:
        try:
            raise KeyError(refresh)
        except KeyError as inner:
            raise RuntimeError(f"the cloud refused {access}") from inner
    except RuntimeError:
        logger.exception("Refresh failed for %s", refresh[:4] + refresh[4:])
    logger.warning("Stack for %s", access, stack_info=True)

    text = path.read_text(encoding="utf-8")
    assert access not in text and refresh not in text
    assert "Using access token " + MASK in text
    assert "Traceback (most recent call last)" in text  # the traceback is kept, redacted
    assert f"RuntimeError: the cloud refused {MASK}" in text
    assert "Stack (most recent call last)" in text


def test_unregistered_credentials_are_removed_by_their_shape(
    file_logger: tuple[logging.Logger, Path],
) -> None:
    logger, path = file_logger
    values = [_token() for _ in range(9)]
    bearer, refresh, access, password, api_key, basic, query, webhook, proxy = values
    logger.info("GET /poll headers=%s", {"Authorization": f"Bearer {bearer}"})
    logger.info('POST /token body={"refreshToken": "%s"}', refresh)
    logger.info("answer %s", {"accessToken": access, "accessTokenExpiresIn": 3600})
    logger.info('settings {"password":"%s", "apiKey": "%s"}', password, api_key)
    logger.info("Authorization: Basic %s", basic)
    logger.info("GET https://cloud.example/token?refresh_token=%s&x=1", query)
    logger.info("consumer secret whsec_%s", webhook)
    logger.info("proxy http://alice:%s@proxy.example:3128", proxy)
    try:
        raise ConnectionError(f"401 for Bearer {bearer} at /agent/v1/heartbeat")
    except ConnectionError:
        logger.exception("Heartbeat failed")

    text = path.read_text(encoding="utf-8")
    for value in values:
        assert value not in text
    assert "accessTokenExpiresIn" in text  # the shape is kept; only values go
    assert "http://alice:" + MASK + "@proxy.example:3128" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abcdefgh12345678", f"Authorization: Bearer {MASK}"),
        ("'Authorization': 'Basic dXNlcjpwYXNzd29yZA=='", f"'Authorization': 'Basic {MASK}'"),
        ("curl -H 'Bearer abc.def-ghi_jkl~mno'", f"curl -H 'Bearer {MASK}'"),
        ('{"refreshToken": "r\\"x1"}', f'{{"refreshToken": "{MASK}"}}'),
        ('{"token":"t1","id":"c1"}', f'{{"token":"{MASK}","id":"c1"}}'),
        ("{'client_secret': 'abc'}", f"{{'client_secret': '{MASK}'}}"),
        ("access_token=abc&state=1", f"access_token={MASK}&state=1"),
        ("X-Api-Key: 0123456789abcdef", f"X-Api-Key: {MASK}"),
        ("signing with whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", f"signing with {MASK}"),
        ("https://cloud.example/link/K7QM-3TXA", f"https://cloud.example/link/{MASK}"),
        ("https://bob:hunter2@proxy:8080", f"https://bob:{MASK}@proxy:8080"),
    ],
)
def test_credential_shapes(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Linked Acme Ltd (c0ffee) to /home/ann/Books/Harbor Lane.gnucash",
        "customers: Complete (12 records)",
        '{"accessTokenExpiresIn": 3600, "pollWaitSeconds": 25}',
        "Connector needs to be re-authorized: ask for a new link URL",
        "The bearer of bad news",
        "2026-01-31 09:00:00 INFO connector-poll-0 agent.cloud_api.tokens: accepted a new grant",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor().redact(text) == text


def test_short_strings_are_never_registered_and_old_tokens_age_out() -> None:
    redactor = Redactor()
    redactor.register("1234")
    assert redactor.redact("at 12:34, 1234 rows") == "at 12:34, 1234 rows"
    first = _token()
    redactor.register(first)
    assert redactor.redact(first) == MASK
    for _ in range(MAX_REGISTERED):
        redactor.register(_token())
    assert redactor.redact(first) == first  # expired long ago; the patterns still catch headers


def test_a_secret_containing_another_is_removed_whole() -> None:
    redactor = Redactor()
    inner = _token()
    outer = inner + "-and-more"
    redactor.register(inner)
    redactor.register(outer)
    assert redactor.redact(f"x {outer} y") == f"x {MASK} y"


def test_records_from_child_loggers_and_every_handler_are_redacted(tmp_path: Path) -> None:
    # A filter on a logger misses records propagated from its children; install() must not.
    parent = logging.getLogger(f"test-redaction-parent-{secrets.token_hex(4)}")
    parent.propagate = False
    child = parent.getChild("cloud_client")
    path = tmp_path / "connector.log"
    file_handler = logging.FileHandler(path, encoding="utf-8")
    stream = io.StringIO()
    stream_handler = logging.StreamHandler(stream)
    parent.addHandler(stream_handler)
    parent.addHandler(file_handler)
    install(parent)
    token = _token()
    register(token)
    try:
        child.warning("refresh with %s failed", token)
        try:
            raise ValueError(token)
        except ValueError:
            child.error("boom", exc_info=True)
    finally:
        parent.removeHandler(stream_handler)
        parent.removeHandler(file_handler)
        file_handler.close()
    for text in (stream.getvalue(), path.read_text(encoding="utf-8")):
        assert token not in text
        assert f"refresh with {MASK} failed" in text
        assert f"ValueError: {MASK}" in text


def test_setup_logging_redacts_the_log_file_and_the_console(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    token = _token()
    register(token)
    try:
        log_file = setup_logging(tmp_path / "logs")
        logging.getLogger("agent.cloud_api.tokens").warning("new refresh token %s", token)
        logging.getLogger("agent.cloud_api.cloud_client").warning(
            "sent Authorization: Bearer %s", _token()
        )
    finally:
        for handler in root.handlers[:]:
            if handler not in before[0]:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(before[1])
    written = log_file.read_text(encoding="utf-8")
    assert token not in written and f"new refresh token {MASK}" in written
    assert f"Bearer {MASK}" in written
    assert token not in capsys.readouterr().err


def test_module_functions_use_the_process_wide_redactor() -> None:
    token = _token()
    register(token)
    assert redact(f"t={token}") == f"t={MASK}"
    assert REDACTOR.redact(token) == MASK
    assert redaction.REDACTOR is REDACTOR
