"""A label for a file's path that fits the width it is given.

A path has no spaces to wrap at, so a plain label asks for its whole length and pushes the
window into a sideways scroll with the path cut off at the edge. This one shortens the middle
with an ellipsis (the start says where, the end says which file) and shows the whole path as
its tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

# Wide enough for the file's name and a little of its folder; never the reason for a scroll.
_MINIMUM_WIDTH = 120


class PathLabel(QLabel):
    def __init__(self, path: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path = ""
        self.set_path(path)

    def path(self) -> str:
        return self._path

    def set_path(self, path: str) -> None:
        self._path = path
        self.setToolTip(path)
        self._fit()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), _MINIMUM_WIDTH), hint.height())

    def sizeHint(self) -> QSize:
        whole = self.fontMetrics().horizontalAdvance(self._path)
        return QSize(whole, super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._path, Qt.TextElideMode.ElideMiddle, max(self.width(), _MINIMUM_WIDTH)
        )
        if shown != self.text():
            super().setText(shown)
