"""The one way the tray asks for a link: the whole link URL, or the code and the cloud's
address typed apart (as read out over the phone). Used by the wizard and re-authorization."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

LINK_MARKER = "/link/"


def link_url_from(url_or_code: str, cloud_url: str) -> str | None:
    """The link URL to hand the facade, or None while what was typed cannot be one. The facade
    checks it properly; this only decides whether the button may be pressed."""
    text = url_or_code.strip()
    if text.startswith(("http://", "https://")):
        return text if LINK_MARKER in text and not text.endswith(LINK_MARKER) else None
    cloud = cloud_url.strip().rstrip("/")
    if not text or " " in text or not cloud.startswith(("http://", "https://")):
        return None
    return f"{cloud}{LINK_MARKER}{text}"


class LinkInput(QWidget):
    changed = Signal()

    def __init__(self, cloud_url: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.url = QLineEdit()
        self.url.setObjectName("link_url")
        self.url.setPlaceholderText("https://…/link/ABCD-EFGH, or just the code ABCD-EFGH")
        self.cloud = QLineEdit(cloud_url)
        self.cloud.setObjectName("cloud_url")
        self.cloud.setPlaceholderText("https://cloud.example (only with a code on its own)")
        hint = QLabel(
            "Paste the link you were sent. If you were given only a code, type it and the "
            "cloud's address below it."
        )
        hint.setWordWrap(True)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(hint)
        form.addRow("Link or code:", self.url)
        form.addRow("Cloud address:", self.cloud)
        self.url.textChanged.connect(lambda _text: self.changed.emit())
        self.cloud.textChanged.connect(lambda _text: self.changed.emit())

    def link_url(self) -> str | None:
        return link_url_from(self.url.text(), self.cloud.text())
