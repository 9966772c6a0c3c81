"""The cloud's HTTP APIs: routers with their request and response models, nothing else.

The public API (Codat-compatible: companies and connections, queueing and history, data reads,
sync settings, webhooks) and the agent API (``/agent/v1``, its wire messages in ``protocol``),
the models of their answers, what a request's fields may hold, paging and Codat's query
language, and who is calling (``auth``). A router does its work through the services
(``cloud.services``) and never imports another router; what two of them share lives in a
module of its own here (``history``, ``paging``). Imported by ``cloud.app`` and the Portal.
"""
