"""Re-authorization: says in plain words what happened, offers to try again first (the cloud
may accept this PC after all: the facade's ``retry_link``), else takes a new link and links the
same book again off the GUI thread. Either way the facade serves the link again at once, so the
icon returns to normal and the waiting datasets resume."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent.status.link_status import LinkStatus
from ui.link_input import LinkInput
from ui.ports import ConnectorFacade
from ui.tasks import TaskRunner


def explanation(link: LinkStatus) -> str:
    return (
        f"The cloud no longer accepts this PC's connection for {link.company_name}, so "
        "Connector has stopped syncing it. This happens when someone disconnected this PC in "
        "the cloud portal, or when its access expired or was replaced.\n\n"
        "Nothing in your book has changed, and nothing is lost: once you link it again, "
        "Connector carries on where it stopped.\n\n"
        "If the cloud still shows the connection as linked, press Try again first: if the "
        "cloud accepts this PC, syncing simply carries on. If it does not, "
        f"ask for a new link for {link.company_name} (in the portal: the company's "
        "connections, New link) and paste it below. Connector keeps using the same book:\n"
        f"{link.book_path}"
    )


class ReauthorizeDialog(QDialog):
    relinked = Signal(str)  # connection id
    retried = Signal(str)  # connection id: its link is served again with the same credential

    def __init__(
        self,
        connector: ConnectorFacade,
        tasks: TaskRunner,
        link: LinkStatus,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        self._tasks = tasks
        self.link_status = link
        self.setWindowTitle(f"Re-authorize {link.company_name}")
        self.setMinimumWidth(520)
        self.explanation = QLabel(explanation(link))
        self.explanation.setWordWrap(True)
        self.input = LinkInput(link.cloud_url)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        # First, above the link: trying again costs nothing and needs no new link.
        self.try_again_button = QPushButton("Try again")
        self.try_again_button.setObjectName("try_again")
        self.try_again_button.clicked.connect(self.on_try_again_button_clicked)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.relink_button = self.buttons.addButton(
            "Re-authorize", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.try_again_button)
        layout.addWidget(self.input)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.input.changed.connect(self.on_input_changed)
        self.on_input_changed()

    @Slot()
    def on_input_changed(self) -> None:
        has_link = self.input.link_url() is not None
        self.relink_button.setEnabled(has_link)
        # Enter tries again, until a new link is pasted: then it links with it.
        self.try_again_button.setDefault(not has_link)
        self.relink_button.setDefault(has_link)

    @Slot()
    def on_try_again_button_clicked(self) -> None:
        self.try_again_button.setEnabled(False)
        self.error.hide()
        connection_id = self.link_status.connection_id
        self._tasks.run(
            lambda: self._connector.retry_link(connection_id), self.on_retry_done, self.on_failed
        )

    def on_retry_done(self, _result: object) -> None:
        self.retried.emit(self.link_status.connection_id)
        self.accept()

    @Slot()
    def on_buttons_accepted(self) -> None:
        url = self.input.link_url()
        if url is None:
            return
        self.relink_button.setEnabled(False)
        self.relink_button.setText("Linking…")
        self.error.hide()
        book = Path(self.link_status.book_path)
        self._tasks.run(
            lambda: self._connector.link(url, book), self.on_link_done, self.on_failed, owner=self
        )

    def on_link_done(self, _link: object) -> None:
        self.relinked.emit(self.link_status.connection_id)
        self.accept()

    def on_failed(self, title: str, message: str) -> None:
        self.error.setText(f"{title}: {message}")
        self.error.show()
        self.relink_button.setText("Re-authorize")
        self.try_again_button.setEnabled(True)
        self.on_input_changed()
