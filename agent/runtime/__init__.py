"""The agent at work: one worker per link, the dataset state machine, and what keeps it going.

Owns the link worker (a thread per link: poll, run, drain), the runner (one phase per dataset
state), the outbox of transition reports, the lease keeper, the scheduler's jobs, the sync gate
(pause, sync window), the backoff of a failing streak, the local state (``state.db``) and the
spool of a dataset's mapped records. May import ``sources`` (through their protocol),
``cloud_api``, ``standard``, ``support``, ``errors``, ``events`` and ``protocol``; imported by
``status``, ``commands``, the facade and its wiring, never by the packages below it.
"""
