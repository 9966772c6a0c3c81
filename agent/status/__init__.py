"""What the agent says about itself: the one status snapshot every view shows.

Owns the link status snapshot (kept from the events, the workers, the sync gate and
``state.db``), the rules that turn it into a verdict and words, ``connector status``'s text, the
asking of the cloud for its view, and the run marker that tells another process the agent runs.
May import ``runtime``, ``cloud_api``, ``support``, ``errors``, ``events`` and ``protocol``;
imported by the facade, the CLI and the tray app (its plain values), never by ``runtime``.
"""
