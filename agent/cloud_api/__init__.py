"""The agent's side of the agent API: every call to the cloud goes through here.

Owns the HTTP client (httpx; requests and answers in ``protocol``), the reading of answers within
their limits, a link's token keeper, the network rules (https, TLS, proxies), the connectivity
probe that names a failing hop, the confirmation of a refused credential, and the cloud's view of
a link as typed values. Imports ``support``, ``errors`` and ``protocol`` only; imported by
``runtime``, ``status``, ``commands`` and the facade. Knows nothing of books or sources.
"""
