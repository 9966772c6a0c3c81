"""GnuCash books read safely: the snapshot, the fingerprint, the XML and SQLite readers.

Owns the snapshot (a copy, format sniffing, lock detection, refusal of hostile files), the sync
fingerprint, the bounds of what is read, the readers of both formats and GnuCash's own records
(``records.py``). Imports ``support``, ``errors`` and ``protocol`` only; imported by
``mapping/`` and ``source.py`` of this package, and by linking and the self-test.
"""
