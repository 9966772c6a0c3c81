"""What both sides of the agent API share (see ``docs/PROTOCOL.md``); imports neither side.

The wire messages (``agent_api``), the dataset states both obey (``states``), the data type keys
(``datatypes``), the one clock format (``clock``), a record's canonical hash (``record_hash``),
the sizes both ends keep to (``limits``) and the version. The cloud answers with these models and
declares them in its OpenAPI document; the agent parses every answer with the same models before
it believes a word of it, so a field's type, its bounds and its id format are written down once
for both. The agent, the cloud and the tray may import this package; it imports nothing from
``agent``, ``cloud`` or ``ui``.
"""
