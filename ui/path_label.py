"""A label for a file's path that fits the width it is given.

A path has no spaces to wrap at, so a plain label asks for its whole length and pushes the
window into a sideways scroll with the path cut off at the edge. This one shortens the folders
in the middle with an ellipsis, keeping the file's name whole when it fits (the start says
where, the name says which book), and shows the whole path as its tooltip.
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
        shown = self._shortened(max(self.width(), _MINIMUM_WIDTH))
        if shown != self.text():
            super().setText(shown)

    def _shortened(self, width: int) -> str:
        """The whole path if it fits; else its folders shortened in the middle and the file's
        name whole (the name is what tells one book from another); else the middle of it all."""
        metrics = self.fontMetrics()
        if metrics.horizontalAdvance(self._path) <= width:
            return self._path
        cut = max(self._path.rfind("/"), self._path.rfind("\\"))  # Windows paths too
        if cut > 0:
            folder, tail = self._path[:cut], self._path[cut:]  # tail: the separator and name
            room = width - metrics.horizontalAdvance(tail)
            if room >= metrics.horizontalAdvance("/…"):
                return metrics.elidedText(folder, Qt.TextElideMode.ElideMiddle, room) + tail
        return metrics.elidedText(self._path, Qt.TextElideMode.ElideMiddle, width)
