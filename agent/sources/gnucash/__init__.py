"""GnuCash: a safe snapshot of the book, a reader per format, and GnuCash's mapping.

``reading/`` copies and parses the book (XML or SQLite) into GnuCash's own terms; ``mapping/``
turns those into the standard data model; ``source.py`` is the ``Source`` the runner uses. Only
``source.py`` is for outsiders (the registry, linking and the self-test); the book is never
written.
"""
