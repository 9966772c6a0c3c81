"""The one-off things a person asks for through the facade, beside the running agent.

Owns linking a book (preview what a book holds, spend the link code, keep the first tokens), the
self-test (``connector doctor``) and the support bundle (``connector diagnostics``). May import
``runtime``, ``sources``, ``cloud_api``, ``support``, ``errors`` and ``protocol``; imported by
the facade, the CLI and the tray app (the values they return), never by a package below.
"""
