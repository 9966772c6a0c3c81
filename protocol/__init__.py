"""The wire messages both sides of the agent API share (see ``docs/PROTOCOL.md``).

The cloud answers with these models and declares them in its OpenAPI document; the agent parses
every answer with the same models before it believes a word of it, so a field's type, its bounds
and its id format are written down once for both. This package imports nothing from ``agent``,
``ui`` or ``cloud`` except :mod:`agent.states` (the dataset states both sides obey), for now.
"""
