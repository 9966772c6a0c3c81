"""The engine guard: a skip on a developer's machine, a failure on CI."""

from __future__ import annotations

import pytest

from tests.support import gnucash_engine


def test_a_missing_engine_skips_the_test_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gnucash_engine, "engine_available", lambda: False)
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="python3-gnucash"):
        gnucash_engine.require_gnucash()


def test_a_missing_engine_fails_the_test_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gnucash_engine, "engine_available", lambda: False)
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="python3-gnucash"):
        gnucash_engine.require_gnucash()


def test_the_decorator_guards_the_test_and_keeps_its_fixtures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gnucash_engine, "engine_available", lambda: False)
    monkeypatch.delenv("CI", raising=False)
    ran: list[int] = []

    @gnucash_engine.requires_gnucash
    def needs_engine(tmp_path: object) -> None:
        ran.append(1)

    assert "tmp_path" in needs_engine.__wrapped__.__code__.co_varnames  # type: ignore[attr-defined]
    assert any(mark.name == "gnucash" for mark in needs_engine.pytestmark)  # type: ignore[attr-defined]
    with pytest.raises(pytest.skip.Exception):
        needs_engine(None)
    assert ran == []
