"""Local accounting packages, each behind the one ``Source`` protocol (``base.py``).

Owns the protocol the runner reads through, the registry that finds the installed sources by
their ``connector.sources`` entry points (a second package is a new folder and one line in
``pyproject.toml``), and one subpackage per accounting package. A source may import
``standard``, ``support``, ``errors`` and ``protocol``, never ``runtime``, ``cloud_api``,
``status`` or the facade: it reads a book and maps records, nothing else.
"""
