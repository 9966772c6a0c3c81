"""A real X display for GUI tests: Xvfb on a free display number, and a real tray host
(trayer) on it, so the tray app embeds its icon as on a Linux desktop."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.processes import stop_process
from tests.support.system import require_commands

# What the tray app logs once its icon is shown (ui/app.py).
TRAY_FOUND = "tray icon is in the notification area"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class XDisplay:
    """Xvfb with a tray host; ``env`` points X clients at it."""

    def __init__(self, workdir: Path, *, screen: str = "1024x768x24") -> None:
        require_commands("xvfb", "Xvfb")
        require_commands("trayer", "trayer")
        require_commands("x11-utils", "xwininfo")
        self.workdir = workdir
        self.screen = screen  # width x height x depth
        self.name = ""
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.name, "QT_QPA_PLATFORM": "xcb"}

    def __enter__(self) -> XDisplay:
        self.workdir.mkdir(parents=True, exist_ok=True)
        read, write = os.pipe()
        try:
            # -displayfd: Xvfb picks a free display itself and writes its number when ready.
            server = subprocess.Popen(
                [
                    "Xvfb",
                    "-displayfd",
                    str(write),
                    "-screen",
                    "0",
                    self.screen,
                    "-nolisten",
                    "tcp",
                ],
                pass_fds=(write,),
                stdout=subprocess.DEVNULL,
                stderr=(self.workdir / "xvfb.log").open("wb"),
            )
            os.close(write)
            self._processes.append(server)
            with os.fdopen(read) as ready:
                number = ready.readline().strip()
        except BaseException:
            self.__exit__()
            raise
        if not number:
            self.__exit__()
            raise RuntimeError(f"Xvfb did not start; see {self.workdir / 'xvfb.log'}")
        self.name = f":{number}"
        self._processes.append(
            subprocess.Popen(
                ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request"],
                env={**os.environ, **self.env},
                stdout=subprocess.DEVNULL,
                stderr=(self.workdir / "trayer.log").open("wb"),
            )
        )
        self.wait_for(lambda: self.panel_tree() is not None, "trayer's panel to appear")
        return self

    def __exit__(self, *_exc: object) -> None:
        for process in reversed(self._processes):
            with contextlib.suppress(ProcessLookupError):
                stop_process(process)
        self._processes.clear()

    def tree(self) -> list[str]:
        out = subprocess.run(
            ["xwininfo", "-root", "-tree"],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.splitlines()

    def panel_tree(self) -> list[str] | None:
        """The line of trayer's panel window and those of every window nested in it."""
        lines = self.tree()
        for index, line in enumerate(lines):
            if '"panel": ("panel" "trayer")' in line:
                block = [line]
                for below in lines[index + 1 :]:
                    if below.strip() and _indent(below) <= _indent(line):
                        break
                    block.append(below)
                return block
        return None

    def embedded_names(self) -> list[str]:
        """The names of the client windows docked in the tray (each icon is one)."""
        panel = self.panel_tree() or []
        return [line.split('"')[1] for line in panel[1:] if line.count('"') >= 2]

    def wait_for_icon(self, log: Path, docked_before: set[str], app: str = "the app") -> None:
        """Wait until the app's log says it found the tray host and a new icon has docked."""
        self.wait_for(
            lambda: log.is_file() and TRAY_FOUND in log.read_text(),
            f"{app} to find the tray host",
        )
        self.wait_for(
            lambda: set(self.embedded_names()) - docked_before, "the icon to dock in the tray"
        )

    def screenshot(self, path: Path) -> None:
        """The whole screen into ``path``, once it has settled (see :meth:`wait_until_settled`)."""
        require_commands("imagemagick", "import")
        self.wait_until_settled()
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["import", "-window", "root", str(path)], env={**os.environ, **self.env}, check=True
        )

    def wait_until_settled(self, timeout: float = 30.0) -> None:
        """Wait until two captures of the screen in a row are the same pixels: what a window
        was asked to show has been painted (the X server here has no compositor to ask)."""
        require_commands("imagemagick", "import")
        previous = b""
        deadline = time.monotonic() + timeout
        while True:
            capture = subprocess.run(
                ["import", "-window", "root", "ppm:-"],  # raw pixels: no dates in the file
                env={**os.environ, **self.env},
                capture_output=True,
                check=True,
            ).stdout
            if capture == previous:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the screen kept changing for {timeout} s")
            previous = capture
            time.sleep(0.2)

    @staticmethod
    def wait_for(
        condition: Callable[[], object],
        what: str,
        timeout: float = 30.0,
        evidence: Callable[[], str] | None = None,
    ) -> None:
        """Poll ``condition`` until it holds; on giving up, say what ``evidence`` shows (the
        app's log, say), so that a failure in CI can be understood from its output alone."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                shown = f"\n{evidence()}" if evidence is not None else ""
                raise TimeoutError(f"Gave up waiting for {what}{shown}")
            time.sleep(0.2)
