"""Connector's headless core: links to the cloud, polls for datasets, reads the book, uploads.

This package never imports Qt; the tray app in ``ui`` talks to it through its facade. At the
top: ``facade`` (the one face) and ``wiring`` (what it is built from), ``cli``, ``errors`` and
``events``; below, in layers (each imports only those under it; the import-linter contracts in
``pyproject.toml`` hold them): ``commands`` and ``status``, ``runtime``, ``sources`` and
``cloud_api``, ``standard``, ``support``. What the cloud shares with it is in ``protocol``.
docs/ARCHITECTURE.md has the map.
"""

from protocol.version import __version__

__all__ = ["__version__"]
