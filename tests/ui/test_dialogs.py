"""The re-authorization dialog, the first-run wizard and the settings dialog, offscreen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QWizard

from tests.ui.fake_connector import agent_status, link
from ui.reauth_dialog import ReauthorizeDialog
from ui.settings import UiSettings, load_ui_settings
from ui.settings_dialog import SettingsDialog
from ui.wizard import FirstRunWizard


class Refused(Exception):
    title, message = "Link refused", "That link was already used."


def test_reauthorization_relinks_the_same_book_off_the_gui_thread(qtbot, connector, tasks) -> None:
    needing = link("Bolt Co", "b", state="needs_reauthorization")
    dialog = ReauthorizeDialog(connector, tasks, needing)
    qtbot.addWidget(dialog)
    text = dialog.explanation.text()
    assert "no longer accepts this PC's connection for Bolt Co" in text
    assert "/home/bob/bolt.gnucash" in text
    assert not dialog.relink_button.isEnabled()
    dialog.input.url.setText("NEW-CODE")  # a code alone, with the link's cloud filled in
    assert dialog.input.cloud.text() == "https://cloud.example"
    connector.link_error = Refused()
    dialog.relink_button.click()
    qtbot.waitUntil(lambda: not dialog.error.isHidden(), timeout=2000)
    assert dialog.error.text() == "Link refused: That link was already used."
    assert dialog.relink_button.isEnabled()
    connector.link_error = None
    with qtbot.waitSignal(dialog.relinked, timeout=2000) as relinked:
        dialog.relink_button.click()
    assert relinked.args == ["b"]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert connector.called("link")[-1] == (
        "https://cloud.example/link/NEW-CODE",
        Path("/home/bob/bolt.gnucash"),
    )
    assert connector.command_threads[-1] != "MainThread"


def test_reauthorization_offers_to_try_again_first(qtbot, connector, tasks) -> None:
    connector.current = agent_status(link("Bolt Co", "b", state="needs_reauthorization"))
    dialog = ReauthorizeDialog(connector, tasks, connector.current.links[0])
    qtbot.addWidget(dialog)
    layout = dialog.layout()
    # Above the link and its Re-authorize button, and what Enter does until a link is pasted.
    assert layout.indexOf(dialog.try_again_button) < layout.indexOf(dialog.input)
    assert dialog.try_again_button.isDefault()
    dialog.input.url.setText("NEW-CODE")
    assert dialog.relink_button.isDefault() and not dialog.try_again_button.isDefault()
    dialog.input.url.setText("")
    assert "press Try again first" in dialog.explanation.text()
    with qtbot.waitSignal(dialog.retried, timeout=2000) as retried:
        dialog.try_again_button.click()
    assert retried.args == ["b"]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert connector.called("retry_link") == ["b"]
    assert connector.called("link") == []  # no link code was asked for, nor spent
    assert connector.command_threads[-1] != "MainThread"


def test_the_wizard_links_a_chosen_book(qtbot, connector, tasks, tmp_path: Path) -> None:
    book = tmp_path / "acme.gnucash"
    book.write_bytes(b"x" * 2048)
    wizard = FirstRunWizard(connector, tasks, choose_book=lambda _parent: book)
    qtbot.addWidget(wizard)
    wizard.show()
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert not next_button.isEnabled()
    wizard.link_page.input.url.setText("https://cloud.example/link/K7QM-3TXA")
    assert next_button.isEnabled()
    wizard.next()
    assert not next_button.isEnabled()
    wizard.book_page.browse.click()
    assert wizard.book_page.path.text() == str(book)
    wizard.next()
    verify = wizard.verify_page
    assert verify.reading.text() == "Reading the book…"
    qtbot.waitUntil(lambda: verify.preview is not None, timeout=2000)
    assert connector.called("preview_book") == [book]
    assert connector.command_threads[-1] != "MainThread"
    assert verify.company_label.text() == "Acme Ltd"
    assert verify.book_label.path() == str(book)
    assert verify.last_label.text() == "31 March 2026"
    assert [verify.accounts_label.text(), verify.customers_label.text()] == ["27", "6"]
    assert verify.invoices_label.text() == "4"
    assert not connector.called("link")  # the preview spends no link code
    assert not next_button.isEnabled()  # nothing is linked before the user confirms
    verify.confirm.setChecked(True)
    with qtbot.waitSignal(wizard.linked, timeout=2000) as linked:
        wizard.next()
    assert linked.args[0].company_name == "Acme Ltd"
    assert connector.called("link") == [("https://cloud.example/link/K7QM-3TXA", book)]
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    assert "Linked to Acme Ltd" in wizard.linking_page.message.text()


def test_the_wizard_says_why_linking_failed(qtbot, connector, tasks, tmp_path: Path) -> None:
    book = tmp_path / "acme.gnucash"
    book.write_bytes(b"x")
    connector.link_error = Refused()
    wizard = FirstRunWizard(connector, tasks)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.link_page.input.url.setText("https://cloud.example/link/OLD")
    wizard.next()
    wizard.book_page.path.setText(str(book))
    wizard.next()
    qtbot.waitUntil(lambda: wizard.verify_page.confirm.isEnabled(), timeout=2000)
    wizard.verify_page.confirm.setChecked(True)
    wizard.next()
    qtbot.waitUntil(lambda: "already used" in wizard.linking_page.message.text(), timeout=2000)
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()


class Unreadable(Exception):
    title, message = "Cannot read the book", "It is not a GnuCash file."


def test_the_wizard_will_not_confirm_a_book_it_cannot_read(
    qtbot, connector, tasks, tmp_path: Path
) -> None:
    book = tmp_path / "letter.gnucash"
    book.write_bytes(b"Dear Sir")
    connector.preview_error = Unreadable()
    wizard = FirstRunWizard(connector, tasks)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.link_page.input.url.setText("https://cloud.example/link/K7QM-3TXA")
    wizard.next()
    wizard.book_page.path.setText(str(book))
    wizard.next()
    verify = wizard.verify_page
    qtbot.waitUntil(lambda: "not a GnuCash file" in verify.reading.text(), timeout=2000)
    assert verify.reading.text().startswith("Cannot read the book: It is not a GnuCash file.")
    assert not verify.confirm.isEnabled()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    # Back, another book, and the page reads again.
    connector.preview_error = None
    wizard.back()
    wizard.next()
    qtbot.waitUntil(lambda: verify.preview is not None, timeout=2000)
    assert verify.confirm.isEnabled()


def test_settings_are_saved_and_applied(qtbot, connector, tasks) -> None:
    connector.current = agent_status(link())
    logins: list[bool] = []
    dialog = SettingsDialog(connector, tasks, start_at_login=logins.append)
    qtbot.addWidget(dialog)
    assert not dialog.window_on.isChecked() and not dialog.window_from.isEnabled()
    dialog.login.setChecked(True)
    dialog.window_on.setChecked(True)
    dialog.notifications.setCurrentIndex(dialog.notifications.findData("errors"))
    dialog.log_level.setCurrentText("DEBUG")
    assert dialog.proxy_mode.currentData() == "system" and not dialog.proxy_url.isEnabled()
    dialog.proxy_mode.setCurrentIndex(dialog.proxy_mode.findData("url"))
    assert dialog.proxy_url.isEnabled()
    dialog.proxy_url.setText(" http://proxy.example:3128 ")
    with qtbot.waitSignal(dialog.finished, timeout=2000):
        dialog.on_buttons_accepted()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert logins == [True]
    assert connector.called("set_sync_window") == ["19:00-07:00"]
    assert connector.called("set_log_level") == ["DEBUG"]
    assert connector.called("set_proxy") == ["http://proxy.example:3128"]
    assert connector.command_threads[-1] != "MainThread"
    assert load_ui_settings(connector.paths.config_dir) == UiSettings(
        notifications="errors", start_at_login=True
    )


class BadProxy(Exception):
    title, message = "That proxy address cannot be used", "Write it as http://proxy:3128."


def test_a_refused_proxy_keeps_the_dialog_open_with_the_reason(qtbot, connector, tasks) -> None:
    connector.current = agent_status(link())
    dialog = SettingsDialog(connector, tasks, start_at_login=lambda _on: None)
    qtbot.addWidget(dialog)
    dialog.proxy_mode.setCurrentIndex(dialog.proxy_mode.findData("none"))
    assert dialog.chosen_proxy() is None

    def refuse(proxy: str | None) -> None:
        connector._record("set_proxy", proxy)
        raise BadProxy()

    connector.set_proxy = refuse  # type: ignore[method-assign]
    dialog.on_buttons_accepted()
    qtbot.waitUntil(lambda: not dialog.error.isHidden(), timeout=2000)
    assert dialog.error.text().startswith("That proxy address cannot be used")
    assert connector.called("set_proxy") == [None]
    assert not connector.called("set_log_level")  # nothing else changed half-way


def test_settings_reopen_with_what_was_saved(qtbot, connector, tasks) -> None:
    connector.current = agent_status(link())
    connector.set_sync_window("22:30-06:15")
    dialog = SettingsDialog(connector, tasks, start_at_login=lambda _on: None)
    qtbot.addWidget(dialog)
    assert dialog.chosen_window() == "22:30-06:15"
    dialog.on_buttons_accepted()  # nothing changed: the agent is not asked again
    assert connector.called("set_sync_window") == ["22:30-06:15"]
    assert not connector.called("set_proxy") and not connector.called("set_log_level")
