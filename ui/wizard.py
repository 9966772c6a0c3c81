"""The first-run wizard: the link, the book, a look at the company's data to confirm it is the
right book, then linking (off the GUI thread). Also how a company is added later."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from agent.commands.linking import BookPreview
from agent.support.config import Link
from ui.link_input import LinkInput
from ui.path_label import PathLabel
from ui.ports import ConnectorFacade
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

BOOK_FILTER = "GnuCash books (*.gnucash)"
ChooseBook = Callable[[QWidget | None], Path | None]


def _choose_book(parent: QWidget | None) -> Path | None:
    chosen, _ = QFileDialog.getOpenFileName(
        parent, "Choose your book", str(Path.home()), BOOK_FILTER
    )
    return Path(chosen) if chosen else None


def _label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class LinkPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Link this PC to your company")
        self.setSubTitle("Your accountant or the cloud portal gave you a link for this PC.")
        self.input = LinkInput()
        layout = QVBoxLayout(self)
        layout.addWidget(self.input)
        self.input.changed.connect(self.completeChanged.emit)

    def isComplete(self) -> bool:
        return self.input.link_url() is not None


class BookPage(QWizardPage):
    def __init__(self, choose: ChooseBook) -> None:
        super().__init__()
        self._choose = choose
        self.setTitle("Choose your book")
        self.setSubTitle("The GnuCash file you keep this company's books in.")
        self.path = QLineEdit()
        self.path.setObjectName("book_path")
        self.path.setPlaceholderText("/home/you/Documents/company.gnucash")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self.on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(
            _label("Connector only reads this file; it never changes anything in your books.")
        )
        self.path.textChanged.connect(lambda _text: self.completeChanged.emit())

    def on_browse_clicked(self) -> None:
        chosen = self._choose(self)
        if chosen is not None:
            self.path.setText(str(chosen))

    def book(self) -> Path:
        return Path(self.path.text().strip()).expanduser()

    def isComplete(self) -> bool:
        return bool(self.path.text().strip()) and self.book().is_file()


class VerifyPage(QWizardPage):
    """What the book holds (read off the GUI thread, no link code spent), so the user can tell it
    is the right company's before anything is sent; Next waits for their confirmation."""

    def __init__(self, book_page: BookPage, connector: ConnectorFacade, tasks: TaskRunner) -> None:
        super().__init__()
        self._book_page = book_page
        self._connector = connector
        self._tasks = tasks
        self._reading: Path | None = None  # the book whose preview is on its way
        self.preview: BookPreview | None = None
        self.setTitle("Is this the right company's data?")
        self.setSubTitle("Check the book before Connector starts sending it to the cloud.")
        self.reading = _label()
        self.reading.setObjectName("verify_reading")
        self.company_label = _label()
        self.company_label.setObjectName("verify_company")
        self.book_label = PathLabel()
        self.book_label.setObjectName("verify_book")
        self.last_label = _label()
        self.last_label.setObjectName("verify_last_transaction")
        self.accounts_label = _label()
        self.accounts_label.setObjectName("verify_accounts")
        self.customers_label = _label()
        self.customers_label.setObjectName("verify_customers")
        self.invoices_label = _label()
        self.invoices_label.setObjectName("verify_invoices")
        self.confirm = QCheckBox("Yes, this is the book to sync")
        self.confirm.setObjectName("confirm")
        self.confirm.toggled.connect(self.on_confirm_toggled)
        form = QFormLayout(self)
        form.addRow(self.reading)
        form.addRow("Company:", self.company_label)
        form.addRow("Book:", self.book_label)
        form.addRow("Last transaction:", self.last_label)
        form.addRow("Accounts:", self.accounts_label)
        form.addRow("Customers:", self.customers_label)
        form.addRow("Invoices:", self.invoices_label)
        form.addRow(self.confirm)

    @Slot(bool)
    def on_confirm_toggled(self, _on: bool) -> None:
        self.completeChanged.emit()

    def initializePage(self) -> None:
        book = self._book_page.book()
        self.preview = None
        self._reading = book
        self.book_label.set_path(str(book))
        for label in self._figures():
            label.setText("…")
        self.reading.setText("Reading the book…")
        self.reading.setStyleSheet("")
        self.confirm.setChecked(False)
        self.confirm.setEnabled(False)
        self._tasks.run(
            lambda: self._connector.preview_book(book),
            lambda preview: self.on_preview_done(book, preview),
            lambda title, message: self.on_preview_failed(book, title, message),
            owner=self,
        )

    def _figures(self) -> tuple[QLabel, ...]:
        return (
            self.company_label,
            self.last_label,
            self.accounts_label,
            self.customers_label,
            self.invoices_label,
        )

    def on_preview_done(self, book: Path, preview: BookPreview) -> None:
        if book != self._reading:
            return  # the user went back and chose another book meanwhile
        self.preview = preview
        self.reading.setText("This is what Connector found in the book:")
        self.company_label.setText(preview.company_name)
        self.book_label.set_path(str(preview.book_path))
        self.last_label.setText(
            preview.last_transaction.strftime("%d %B %Y")
            if preview.last_transaction
            else "No transactions yet"
        )
        self.accounts_label.setText(str(preview.accounts))
        self.customers_label.setText(str(preview.customers))
        self.invoices_label.setText(str(preview.invoices))
        self.confirm.setEnabled(True)
        self.completeChanged.emit()
        log.info("book preview shown")  # what the tray's end-to-end test waits for

    def on_preview_failed(self, book: Path, title: str, message: str) -> None:
        if book != self._reading:
            return
        self.reading.setText(f"{title}: {message}\n\nGo Back and choose another file.")
        self.reading.setStyleSheet("color: #c62828;")
        for label in self._figures():
            label.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.preview is not None and self.confirm.isChecked()


class LinkingPage(QWizardPage):
    """Links on arrival; Finish is offered once the cloud said yes."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Linking")
        self.message = _label()
        self.message.setObjectName("linking_message")
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        self._done = False

    def initializePage(self) -> None:
        self._done = False
        self.message.setText("Linking this PC to your company…")
        self._wizard.start_linking()

    def finish(self, link: Link) -> None:
        self._done = True
        self.message.setText(
            f"Linked to {link.company_name}. Connector now syncs this book in the background; "
            "its icon in the notification area shows how it is doing."
        )
        self.completeChanged.emit()

    def fail(self, title: str, message: str) -> None:
        self.message.setText(f"{title}: {message}\n\nGo Back to correct it and try again.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._done


class FirstRunWizard(QWizard):
    linked = Signal(object)  # the agent's Link

    def __init__(
        self,
        connector: ConnectorFacade,
        tasks: TaskRunner,
        *,
        choose_book: ChooseBook = _choose_book,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._connector = connector
        self._tasks = tasks
        self.setWindowTitle("Set up Connector")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)  # the same on every platform
        self.link_page = LinkPage()
        self.book_page = BookPage(choose_book)
        self.verify_page = VerifyPage(self.book_page, connector, tasks)
        self.linking_page = LinkingPage(self)
        for page in (self.link_page, self.book_page, self.verify_page, self.linking_page):
            self.addPage(page)

    def start_linking(self) -> None:
        url = self.link_page.input.link_url()
        book = self.book_page.book()
        if url is None:  # the first page does not let it happen; kept for safety
            self.linking_page.fail("No link", "Paste the link URL first.")
            return
        self._tasks.run(
            lambda: self._connector.link(url, book),
            self.on_link_done,
            self.linking_page.fail,
            owner=self,
        )

    def on_link_done(self, link: Link) -> None:
        self.linking_page.finish(link)
        self.linked.emit(link)
