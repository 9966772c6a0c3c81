"""Connector's headless core: links to the cloud, polls for datasets, reads the book, uploads.

This package never imports Qt; the tray app in ``ui`` talks to it through its facade.
"""

from protocol.version import __version__

__all__ = ["__version__"]
