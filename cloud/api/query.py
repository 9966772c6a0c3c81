"""Codat's ``query`` and ``orderBy`` list parameters, evaluated over plain JSON records.

Grammar (``&&`` binds tighter than ``||``; Codat groups with curly braces)::

    query      := all ( "||" all )*
    all        := term ( "&&" term )*
    term       := "{" query "}" | condition
    condition  := path operator value
    path       := name ( "." name )*            matched case-insensitively
    operator   := "=" | "!=" | "~" | ">" | "<" | ">=" | "<="
    value      := '"' text '"' | text up to the next "&&", "||", "}" or the end

``!=`` is exactly the negation of ``=``, so it matches missing properties and, on a path
through a list, records where no element is equal.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

__all__ = ["QueryError", "compile_order_by", "compile_query", "select"]

Predicate = Callable[[Mapping[str, Any]], bool]
Sorter = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]

# Codat documents 2048 characters as its limit; the depth cap keeps recursion far from
# Python's own limit, so a hostile query gets a 400 rather than a 500.
MAX_QUERY_LENGTH = 2048
MAX_NESTING = 32

_PROPERTY = re.compile(r"\s*([^\s=!~<>{}&|\"]*)")
_PATH = re.compile(r"\w+(?:\.\w+)*")
_OPERATOR = re.compile(r"\s*(!=|>=|<=|=|~|>|<)")
_VALUE_END = re.compile(r"&&|\|\||\}")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WHEN = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?"
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


class QueryError(ValueError):
    """A ``query`` or ``orderBy`` the API user must fix; the message says what and where.

    ``position`` is the 0-based offset into the text (``None`` when it concerns the whole).
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class _Literal:
    """A query value with every typed reading worked out once, at compile time."""

    text: str
    folded: str
    is_null: bool
    number: int | float | None
    boolean: bool | None
    when: datetime | None


def _literal(text: str, quoted: bool) -> _Literal:
    number: int | float | None = None
    if _INTEGER.fullmatch(text):
        number = int(text)  # ints stay exact; Python compares int and float exactly
    elif _NUMBER.fullmatch(text):
        number = float(text)
    folded = text.casefold()
    boolean = {"true": True, "false": False}.get(folded)
    # Quotes make a value literal text, so '"null"' can still find the word null.
    return _Literal(text, folded, not quoted and folded == "null", number, boolean, _when(text))


@lru_cache(maxsize=8192)
def _when(text: str) -> datetime | None:
    """ISO 8601 date or date-time as an aware datetime (naive is UTC), else None."""
    # A strict pattern rather than fromisoformat alone: 3.11 also reads "20260131", which
    # in a record is far more likely an invoice number than a date.
    found = _WHEN.fullmatch(text.strip())
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = found.groups()
    y, mo, d, h, mi, s = (int(part or 0) for part in (year, month, day, hour, minute, second))
    micro = int((fraction or "0").ljust(6, "0")[:6])  # .NET writes 7 digits; keep 6
    try:
        zone = UTC
        if offset and offset != "Z":
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        return datetime(y, mo, d, h, mi, s, micro, tzinfo=zone)
    except ValueError:  # e.g. month 13, or an offset of +99:99: not a date, compared as text
        return None


def _lookup(record: Mapping[str, Any], name: str) -> Any:
    if name in record:
        return record[name]
    folded = name.casefold()
    return next((v for k, v in record.items() if k.casefold() == folded), None)


def _leaves(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """Every value the path reaches, fanning out over lists; None where nothing is there."""
    if isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    elif not path:
        yield value
    elif isinstance(value, Mapping):
        yield from _leaves(_lookup(value, path[0]), path[1:])
    else:
        yield None


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _typed(leaf: Any, lit: _Literal) -> tuple[Any, Any] | None:
    """The pair to compare: typed when both sides agree on a type, else folded text."""
    if isinstance(leaf, bool) and lit.boolean is not None:
        return leaf, lit.boolean
    if isinstance(leaf, int | float) and not isinstance(leaf, bool) and lit.number is not None:
        return leaf, lit.number
    if isinstance(leaf, str) and lit.when is not None and (when := _when(leaf)) is not None:
        return when, lit.when
    text = _text(leaf)
    return None if text is None else (text.casefold(), lit.folded)


def _matches(leaf: Any, op: str, lit: _Literal) -> bool:
    if lit.is_null:
        return leaf is None
    if leaf is None:
        return False
    if op == "~":
        text = _text(leaf)
        return text is not None and lit.folded in text.casefold()
    pair = _typed(leaf, lit)
    return pair is not None and _COMPARE[op](*pair)


def _condition(path: tuple[str, ...], op: str, lit: _Literal) -> Predicate:
    if op == "!=":
        equal = _condition(path, "=", lit)
        return lambda record: not equal(record)
    return lambda record: any(_matches(leaf, op, lit) for leaf in _leaves(record, path))


class _Parser:
    """Recursive descent straight over the text: values are unquoted, so lexing needs context."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def fail(self, problem: str, at: int | None = None) -> QueryError:
        at = self.pos if at is None else at
        rest = self.text[at : at + 20].strip()
        near = f"near {rest!r}" if rest else "at the end of the query"
        return QueryError(f"Invalid query: {problem} (position {at + 1}, {near})", at)

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def take(self, token: str) -> bool:
        self.skip_spaces()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.any_of()
        self.skip_spaces()
        if self.pos < len(self.text):
            if self.text[self.pos] == "}":
                raise self.fail("'}' has no matching '{'")
            raise self.fail("expected '&&' or '||' between conditions")
        return predicate

    def any_of(self) -> Predicate:
        parts = [self.all_of()]
        while self.take("||"):
            parts.append(self.all_of())
        if len(parts) == 1:
            return parts[0]
        return lambda record: any(part(record) for part in parts)

    def all_of(self) -> Predicate:
        parts = [self.term()]
        while self.take("&&"):
            parts.append(self.term())
        if len(parts) == 1:
            return parts[0]
        return lambda record: all(part(record) for part in parts)

    def term(self) -> Predicate:
        self.skip_spaces()
        opened = self.pos
        if not self.take("{"):
            return self.condition()
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"braces nest deeper than {MAX_NESTING} levels", opened)
        inner = self.any_of()
        if not self.take("}"):
            raise self.fail("'{' is never closed", opened)
        self.depth -= 1
        return inner

    def condition(self) -> Predicate:
        found = _PROPERTY.match(self.text, self.pos)
        assert found is not None  # the pattern can match the empty string
        name, start = found.group(1), found.start(1)
        if not name:
            raise self.fail("expected a condition such as 'status=Active'", start)
        if not _PATH.fullmatch(name):
            raise self.fail(f"{name!r} is not a property path", start)
        self.pos = found.end()
        op_found = _OPERATOR.match(self.text, self.pos)
        if op_found is None:
            raise self.fail(f"expected an operator (=, !=, ~, >, <, >=, <=) after {name!r}")
        op = op_found.group(1)
        self.pos = op_found.end()
        lit = self.value(name, op)
        if lit.is_null and op not in ("=", "!="):
            raise self.fail(f"null can only be compared with = or !=, not {op!r}", start)
        return _condition(tuple(name.split(".")), op, lit)

    def value(self, name: str, op: str) -> _Literal:
        self.skip_spaces()
        start = self.pos
        if self.text.startswith('"', start):
            quoted = _QUOTED.match(self.text, start)
            if quoted is None:
                raise self.fail("the quoted value is never closed", start)
            self.pos = quoted.end()
            self.skip_spaces()
            if self.pos < len(self.text) and not _VALUE_END.match(self.text, self.pos):
                raise self.fail("expected '&&', '||' or '}' after the quoted value")
            return _literal(re.sub(r"\\(.)", r"\1", quoted.group(1)), quoted=True)
        end = _VALUE_END.search(self.text, start)
        self.pos = len(self.text) if end is None else end.start()
        text = self.text[start : self.pos].strip()
        if not text:
            raise self.fail(f'missing value after {name + op!r} (write "" for empty text)', start)
        literal = _literal(text, quoted=False)
        if literal.when is None and _WHEN.fullmatch(text):
            # Written as a date but none (2026-02-30, an offset of +99:99): surely a slip, so
            # say so rather than quietly compare text. Quotes ask for the text on purpose.
            raise self.fail(f"{text!r} is not a valid date or date-time", start)
        return literal


def compile_query(text: str) -> Predicate:
    """Compile a Codat ``query`` into a predicate over one record; raise QueryError if bad."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"Invalid query: longer than {MAX_QUERY_LENGTH} characters")
    return _Parser(text).parse()


def _sort_key(record: Mapping[str, Any], path: tuple[str, ...]) -> tuple[int, Any] | None:
    """A key every value type can share: booleans, numbers, dates, text, then the rest."""
    leaf = next((v for v in _leaves(record, path) if v is not None), None)
    if leaf is None:
        return None
    if isinstance(leaf, bool):
        return 0, leaf
    if isinstance(leaf, int | float):
        return 1, leaf
    if isinstance(leaf, str):
        when = _when(leaf)
        return (2, when) if when is not None else (3, leaf.casefold())
    return 4, str(leaf)


def compile_order_by(text: str) -> Sorter:
    """Compile ``orderBy`` (``[-|+]path``) into a stable sorter; missing values go last."""
    spec = text.strip()
    descending = spec.startswith("-")
    # A "+" usually arrives as a space after URL decoding, which the strip has handled.
    name = spec[1:].strip() if spec.startswith(("-", "+")) else spec
    if not _PATH.fullmatch(name):
        problem = "needs a property name" if not name else f"{name!r} is not a property path"
        raise QueryError(f"Invalid orderBy: {problem} (write e.g. 'issueDate' or '-issueDate')")
    path = tuple(name.split("."))

    def sort(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keyed = [(_sort_key(record, path), record) for record in records]
        present = [(key, record) for key, record in keyed if key is not None]
        # sort(reverse=True) keeps equal keys in their original order, so both stay stable.
        present.sort(key=lambda pair: pair[0], reverse=descending)
        return [record for _, record in present] + [r for key, r in keyed if key is None]

    return sort


def select(
    records: Iterable[dict[str, Any]], *, query: str | None, order_by: str | None
) -> list[dict[str, Any]]:
    """Filter ``records`` by ``query``, then sort by ``order_by``; None or blank skips either."""
    # Compile both before touching records so a bad parameter fails even on an empty list.
    keep = compile_query(query) if query and query.strip() else None
    sort = compile_order_by(order_by) if order_by and order_by.strip() else None
    rows = [record for record in records if keep is None or keep(record)]
    return sort(rows) if sort is not None else rows
