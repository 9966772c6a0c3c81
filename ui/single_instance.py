"""One tray app per user: the first launch listens on a local socket; a later one asks it to show
its status window and exits (as vorta does, with ``QLocalServer``).

Each line a client writes is also handed on as :attr:`SingleInstance.command_received`. The app
acts on those only when started with ``CONNECTOR_TEST_COMMANDS=1`` (see ``ui/app.py``): it is
how the end-to-end test drives the real windows; a normal launch ignores them."""

from __future__ import annotations

import getpass
import hashlib
import os

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

SHOW = b"show\n"
CONNECT_MS = 1_000


def server_name(home: str | None = None) -> str:
    """Per user, and per ``CONNECTOR_HOME`` so that test runs and a real install never meet."""
    scope = f"{getpass.getuser()}:{home or os.environ.get('CONNECTOR_HOME', '')}"
    return "connector-" + hashlib.sha256(scope.encode()).hexdigest()[:16]


class SingleInstance(QObject):
    show_requested = Signal()
    command_received = Signal(str)  # one line a client wrote, without its newline

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server: QLocalServer | None = None

    def ask_running_instance(self) -> bool:
        """True if another instance answered (and was asked to show itself)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_MS):
            return False
        socket.write(SHOW)
        socket.waitForBytesWritten(CONNECT_MS)
        socket.disconnectFromServer()
        return True

    def listen(self) -> bool:
        """Become the instance others find. A socket file left by a crashed run is removed
        first: nobody answered on it, so nobody owns it."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return False
        server.newConnection.connect(self.on_server_new_connection)
        self._server = server
        return True

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    @Slot()
    def on_server_new_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            # A connection alone means "show yourself": the second launch has nothing else to
            # say, and waiting for its bytes would only add a way to miss the request.
            socket.disconnected.connect(socket.deleteLater)
            socket.readyRead.connect(self.on_socket_ready_read)
            self.show_requested.emit()

    @Slot()
    def on_socket_ready_read(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket):
            return
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).decode("utf-8", "replace").strip()
            if line and line != SHOW.decode().strip():
                self.command_received.emit(line)
