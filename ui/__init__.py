"""The tray app: a thin PySide6 view of the agent, which it reaches only through the facade."""

from ui.pyside_compat import install as _install_pyside_compat

_install_pyside_compat()  # before any signal is emitted: see ui/pyside_compat.py
