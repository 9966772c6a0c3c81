"""The chaos suite (issue #13): the whole agent under faults, in seeded, reproducible episodes.

``tests/support/fault_proxy.py`` (network faults between agent and cloud), ``processes.py``
(the agent and cloud as real processes, killed, stopped and restarted; the CLI run from other
processes),
``books.py`` (book versions made by the GnuCash engine, swapped under the agent),
``schedule.py`` (an episode's plan, drawn from its seed), ``episode.py`` (one episode, run),
``evidence.py`` (what it leaves), ``invariants.py`` (what must hold), ``suite.py`` (episodes
and the report). ``scripts/chaos.py`` (``make chaos``) runs it; docs/CHAOS.md explains it.
"""
