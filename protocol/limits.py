"""Sizes both ends of the agent API keep to, so that the cloud's bounds never refuse an agent.

The cloud refuses anything larger (``cloud/api/agent_api.py``, ``cloud/store/ingest.py``); the agent
stays under them (``agent/runtime/runner.py``, ``agent/cloud_api/cloud_client.py``).
"""

from __future__ import annotations

MAX_RECORD_ID_LENGTH = 256
"""Characters in a record id. The agent's ids are GnuCash GUIDs (32) or months (``YYYY-MM``)."""

MAX_DELETED_IDS = 10_000
"""Ids in a delta Complete's ``deletedIds``. With more gone, the agent sends a full upload,
whose publication flags whatever it lacks as deleted, instead."""

MAX_ERROR_MESSAGE_LENGTH = 4_000
"""Characters in a transition's ``errorMessage``; the agent cuts a longer one short."""

MAX_PAGE_BYTES = 4 * 1024 * 1024
"""Bytes of records in one uploaded page: the agent starts a new page (of fewer than its 500
records) before one would pass this. The cloud takes 16 MiB by default (``--max-page-bytes``)."""
