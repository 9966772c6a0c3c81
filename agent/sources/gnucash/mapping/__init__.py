"""GnuCash's records -> the standard data model, one module per data type.

Owns how GnuCash's terms (``reading/records.py``) become the public model's records: accounts,
customers, suppliers, company, tax rates, journal entries, bank accounts, invoices and bills,
payments, and the monthly reports valued as GnuCash's own reports value them. Imports
``reading/``, ``standard``, ``errors`` and ``protocol``; imported by ``source.py``.
"""
