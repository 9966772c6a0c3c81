"""What `connector --help` tells a person: plain words, no markup from the source's docstrings."""

from __future__ import annotations

import contextlib
import io

import pytest

from agent import cli


def _help(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.parse([*argv, "--help"])
    return out.getvalue()


def test_the_help_says_what_connector_does_and_its_exit_codes_in_plain_words() -> None:
    text = _help()
    assert "Link this PC's books to the cloud" in text
    assert "3 a link needs\nre-authorization" in text or "3 a link needs re-authorization" in text
    assert "``" not in text  # reStructuredText from a docstring is not for people


@pytest.mark.parametrize("command", ["link", "run", "status", "proxy", "doctor"])
def test_no_command_help_shows_docstring_markup(command: str) -> None:
    assert "``" not in _help(command)
