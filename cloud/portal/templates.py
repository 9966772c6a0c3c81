"""The portal's Jinja2 environment: autoescaped templates shipped inside the package."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from protocol.clock import from_iso

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"

templates = Jinja2Templates(directory=HERE / "templates")


def _when(text: str | None) -> Markup:
    """An API timestamp as people read it, to the second (the API keeps microseconds).

    In UTC inside a ``<time>`` element, which portal.js turns into the viewer's local time.
    """
    if not text:
        return Markup("—")
    shown = from_iso(text).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}">{}</time>').format(text, shown)


templates.env.filters["when"] = _when
