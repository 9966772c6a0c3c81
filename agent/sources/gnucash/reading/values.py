"""How GnuCash writes single values, and the error for a record whose values make no sense.

Both readers use these, so a book says the same thing, and fails the same way, in either format.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from agent.errors import BookUnreadable

_RATIONAL = re.compile(r"\s*(-?\d+)(?:/(\d+))?\s*")
# SQLite books write "2026-01-01 10:59:00" (UTC); books from GnuCash 2.x wrote "20260101105900";
# XML writes "2026-01-01 10:59:00 +0000". The digits alone tell them all apart.
_TIMESTAMP = re.compile(
    r"\s*(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})\s*(?:([+-])(\d{2}):?(\d{2}))?\s*"
)


def garbled(book: Path, record: str, problem: str) -> BookUnreadable:
    """The error for one record that cannot be read: names the book, the record and the fault.

    ``record`` reads as a noun phrase, e.g. ``'the account "Rent" (5c1f...)'``.
    """
    return BookUnreadable(
        f"The book {book} has {record} that Connector cannot read: {problem}. Open the book in "
        "GnuCash and check that record; if it looks right there, please send this message to "
        "Connector's support."
    )


def rational(num: int, denom: int, *, book: Path, record: str) -> Fraction:
    """An exact amount from GnuCash's ``num/denom`` pair."""
    if denom <= 0:
        raise garbled(book, record, f"the amount {num}/{denom} has no valid denominator")
    return Fraction(num, denom)


def parse_num_denom(text: str | None, *, book: Path, record: str) -> tuple[int, int]:
    """The ``(num, denom)`` pair of XML text such as ``"-2062/100"`` (or a bare integer).

    Pairs rather than fractions, so that a reader can add up many amounts of one denominator
    as plain integers and normalise once; :func:`rational` turns a pair into a ``Fraction``.
    """
    if text is not None and text.isascii():
        # The plain "-2062/100" of nearly every amount, without the regular expression.
        num_text, slash, denom_text = text.partition("/")
        digits = num_text[1:] if num_text.startswith("-") else num_text
        if digits.isdigit() and (denom_text.isdigit() if slash else True):
            num, denom = int(num_text), int(denom_text) if slash else 1
            if denom > 0:
                return num, denom
    match = _RATIONAL.fullmatch(text or "")
    if match is None:
        raise garbled(book, record, f"the amount {text!r} is not a number")
    num, denom = int(match.group(1)), int(match.group(2) or 1)
    if denom <= 0:
        raise garbled(book, record, f"the amount {num}/{denom} has no valid denominator")
    return num, denom


def parse_flag(text: str | None, *, default: bool, book: Path, record: str, field: str) -> bool:
    """GnuCash's XML booleans: ``1``/``0`` in business records, ``true`` in account slots.

    ``default`` is GnuCash's own value for a field the file leaves out.
    """
    if text is None:
        return default
    value = text.strip().lower()
    if value in {"1", "true"}:
        return True
    if value in {"0", "false"}:
        return False
    raise garbled(book, record, f"its {field} is {text!r}, which is neither yes nor no")


def parse_timestamp(text: object, *, book: Path, record: str, field: str) -> datetime:
    """An aware UTC datetime from any timestamp GnuCash writes (see ``_TIMESTAMP``)."""
    if (
        isinstance(text, str)
        and text[10:11] == " "
        and (len(text) == 19 or (len(text) == 25 and text.endswith(" +0000")))
    ):
        # What SQLite books ("2026-01-01 10:59:00") and XML books ("... +0000") hold, millions
        # of times over: the C parser first.
        try:
            naive = datetime.fromisoformat(text[:19])
        except ValueError:
            naive = None  # the careful path below says what is wrong with it
        if naive is not None and naive.tzinfo is None:
            return naive.replace(tzinfo=UTC)
    match = _TIMESTAMP.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise garbled(book, record, f"its {field} {text!r} is not a date and time")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    sign, offset_h, offset_m = match.groups()[6:]
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise garbled(book, record, f"its {field} {text!r} is not a real date") from None
    if sign:
        offset = (int(offset_h) * 60 + int(offset_m)) * (1 if sign == "+" else -1)
        # The written time is local to that offset: step back to UTC.
        moment -= timedelta(minutes=offset)
    return moment
