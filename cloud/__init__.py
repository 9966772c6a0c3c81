"""The reference cloud: a sync service that speaks the public (Codat-compatible) API.

Integrators queue datasets and read data through the public API; agents link, long-poll and
report through the agent API. ``connector-cloud serve`` runs it.
"""
