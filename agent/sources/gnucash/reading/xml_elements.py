"""How GnuCash's XML spells things, for the parsers of an XML book's records.

Names in GnuCash's namespaces, a child's text, a commodity reference, timestamps, and the slots
(key-value frames) that records carry. Nothing here knows which record it is reading.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from xml.etree.ElementTree import Element

from agent.sources.gnucash.reading.values import parse_timestamp

_NS = "http://www.gnucash.org/XML/"


@cache  # the parsers ask for the same few dozen names millions of times
def q(prefix: str, name: str) -> str:
    """ElementTree's name for ``prefix:name`` in GnuCash's namespaces."""
    return f"{{{_NS}{prefix}}}{name}"


def plain_tag(tag: str) -> str:
    """``prefix:name`` again for ElementTree's name of a tag, to show a person."""
    if tag.startswith(f"{{{_NS}"):
        prefix, _, name = tag[len(_NS) + 1 :].partition("}")
        return f"{prefix}:{name}"
    return tag


TS_DATE = q("ts", "date")
_CMDTY_SPACE = q("cmdty", "space")
_CMDTY_ID = q("cmdty", "id")
_SLOT = "slot"  # slots carry no namespace
_SLOT_KEY = q("slot", "key")
_SLOT_VALUE = q("slot", "value")


def optional_text(element: Element, tag: str) -> str | None:
    """The text of ``element``'s child ``tag``: None without the child, "" if it is empty."""
    child = element.find(tag)
    if child is None:
        return None
    return child.text or ""


def child_text(element: Element, tag: str) -> str:
    """The text of ``element``'s child ``tag``, "" without it."""
    return optional_text(element, tag) or ""


def commodity(element: Element) -> tuple[str, str]:
    """(namespace, mnemonic) of a commodity reference, such as ("CURRENCY", "EUR")."""
    return child_text(element, _CMDTY_SPACE), child_text(element, _CMDTY_ID)


def timestamp(record: Element, tag: str, source: Path, label: str, field: str) -> datetime:
    """The ``<ts:date>`` in ``record``'s child ``tag``; a missing one is garbled."""
    element = record.find(tag)
    text = optional_text(element, TS_DATE) if element is not None else None
    return parse_timestamp(text, book=source, record=label, field=field)


def string_slots(element: Element | None) -> dict[str, str]:
    """Top-level string slots of a record (``placeholder``, ``hidden``, ...)."""
    found: dict[str, str] = {}
    for slot in element.findall(_SLOT) if element is not None else ():
        key = slot.find(_SLOT_KEY)
        value = slot.find(_SLOT_VALUE)
        if key is not None and value is not None and value.get("type") == "string":
            found[key.text or ""] = value.text or ""
    return found


def frame(slots: Element, path: tuple[str, ...]) -> Element | None:
    """The frame at ``path`` below a ``<...:slots>`` element, as the element holding its slots."""
    current: Element | None = slots
    for key in path:
        found = None
        for slot in current.findall(_SLOT) if current is not None else ():
            value = slot.find(_SLOT_VALUE)
            if slot.findtext(_SLOT_KEY) == key and value is not None:
                if value.get("type") == "frame":
                    found = value
                break
        current = found
    return current


def typed_slots(element: Element | None) -> dict[str, Element]:
    """Top-level slots of a record, by key, as their ``<slot:value>`` elements (any type)."""
    found: dict[str, Element] = {}
    for slot in element.findall(_SLOT) if element is not None else ():
        key = slot.find(_SLOT_KEY)
        value = slot.find(_SLOT_VALUE)
        if key is not None and value is not None:
            found[key.text or ""] = value
    return found


def frame_slots(slots: Element | None, key: str) -> dict[str, str]:
    """The texts of the slots in the frame ``key`` among ``slots`` (a ``<...:slots>``)."""
    found = typed_slots(slots).get(key)
    return {k: slot_text(v) for k, v in typed_slots(found).items()} if found is not None else {}


def slot_text(value: Element | None) -> str:
    """A slot value's text, stripped; "" for a missing one."""
    return (value.text or "").strip() if value is not None else ""
