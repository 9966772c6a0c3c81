"""Dataset states: the one place that says which states exist and how a dataset may move.

The happy path is the seed's ``Queued -> Fetching -> Mapping -> Validating -> Processing ->
Complete``. The rest of the public ``DatasetStatus`` enum is here too, so that every value the
cloud may serve is one the official SDK accepts. The cloud and the agent both check transitions
through :func:`check_transition`; an illegal move is a bug and raises, never a silent write.
"""

from __future__ import annotations

from enum import StrEnum


class DatasetStatus(StrEnum):
    """The public ``DatasetStatus`` enum, value for value."""

    INITIAL = "Initial"
    QUEUED = "Queued"
    FETCHING = "Fetching"
    MAP_QUEUED = "MapQueued"
    MAPPING = "Mapping"
    VALIDATION_QUEUED = "ValidationQueued"
    VALIDATING = "Validating"
    PROCESSING_QUEUED = "ProcessingQueued"
    PROCESSING = "Processing"
    COMPLETE = "Complete"
    FETCH_ERROR = "FetchError"
    MAP_ERROR = "MapError"
    VALIDATION_ERROR = "ValidationError"
    PROCESSING_ERROR = "ProcessingError"
    INTERNAL_ERROR = "InternalError"
    AUTH_ERROR = "AuthError"
    RATE_LIMIT_ERROR = "RateLimitError"
    PERMISSIONS_ERROR = "PermissionsError"
    PREREQUISITE_NOT_MET = "PrerequisiteNotMet"
    NOT_SUPPORTED = "NotSupported"
    CANCELLED = "Cancelled"


S = DatasetStatus

ERROR_STATES: frozenset[DatasetStatus] = frozenset(
    {
        S.FETCH_ERROR,
        S.MAP_ERROR,
        S.VALIDATION_ERROR,
        S.PROCESSING_ERROR,
        S.INTERNAL_ERROR,
        S.AUTH_ERROR,
        S.RATE_LIMIT_ERROR,
        S.PERMISSIONS_ERROR,
        S.PREREQUISITE_NOT_MET,
    }
)
"""States in which a dataset has failed (``isErrored``)."""

TERMINAL_STATES: frozenset[DatasetStatus] = ERROR_STATES | {
    S.COMPLETE,
    S.NOT_SUPPORTED,
    S.CANCELLED,
}
"""States a dataset never leaves."""

# The seed's pipeline; each phase's own failure state, then what any live state may end in.
HAPPY_PATH: tuple[DatasetStatus, ...] = (
    S.QUEUED,
    S.FETCHING,
    S.MAPPING,
    S.VALIDATING,
    S.PROCESSING,
    S.COMPLETE,
)

# Authorization can be lost, and bugs can strike, at any point of a run.
_ANY_LIVE_STATE_MAY_END_IN = frozenset({S.INTERNAL_ERROR, S.CANCELLED, S.AUTH_ERROR})
_SOURCE_FAILURES = frozenset(
    {S.AUTH_ERROR, S.RATE_LIMIT_ERROR, S.PERMISSIONS_ERROR, S.PREREQUISITE_NOT_MET, S.NOT_SUPPORTED}
)

_NEXT: dict[DatasetStatus, frozenset[DatasetStatus]] = {
    S.INITIAL: frozenset({S.QUEUED}),
    # An agent may refuse a dataset before reading anything: unsupported type, lost authorization.
    S.QUEUED: frozenset({S.INITIAL, S.FETCHING, S.FETCH_ERROR}) | _SOURCE_FAILURES,
    S.FETCHING: frozenset({S.MAP_QUEUED, S.MAPPING, S.FETCH_ERROR}) | _SOURCE_FAILURES,
    S.MAP_QUEUED: frozenset({S.MAPPING}),
    S.MAPPING: frozenset({S.VALIDATION_QUEUED, S.VALIDATING, S.MAP_ERROR}),
    S.VALIDATION_QUEUED: frozenset({S.VALIDATING}),
    S.VALIDATING: frozenset({S.PROCESSING_QUEUED, S.PROCESSING, S.VALIDATION_ERROR}),
    S.PROCESSING_QUEUED: frozenset({S.PROCESSING}),
    S.PROCESSING: frozenset({S.COMPLETE, S.PROCESSING_ERROR}),
}

IN_PROGRESS_STATES: frozenset[DatasetStatus] = frozenset(
    {
        S.FETCHING,
        S.MAP_QUEUED,
        S.MAPPING,
        S.VALIDATION_QUEUED,
        S.VALIDATING,
        S.PROCESSING_QUEUED,
        S.PROCESSING,
    }
)
"""States in which an agent is working on the dataset (it holds a lease on it)."""

# The cloud takes a dataset back when its agent's lease lapses mid-run (see docs/PROTOCOL.md);
# only the cloud makes this move, never an agent's report.
for _state in IN_PROGRESS_STATES:
    _NEXT[_state] = _NEXT[_state] | {S.QUEUED}

LEGAL_TRANSITIONS: dict[DatasetStatus, frozenset[DatasetStatus]] = {
    state: _NEXT.get(state, frozenset())
    | (frozenset() if state in TERMINAL_STATES else _ANY_LIVE_STATE_MAY_END_IN)
    for state in DatasetStatus
}
"""For every state, the states it may move to next. Terminal states map to the empty set."""


class IllegalTransition(ValueError):
    """A dataset was asked to move between two states that are not connected."""

    def __init__(self, current: DatasetStatus, requested: DatasetStatus) -> None:
        super().__init__(f"A dataset cannot move from {current} to {requested}")
        self.current = current
        self.requested = requested


def is_terminal(status: DatasetStatus) -> bool:
    return status in TERMINAL_STATES


def is_error(status: DatasetStatus) -> bool:
    return status in ERROR_STATES


def check_transition(current: DatasetStatus, requested: DatasetStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``current -> requested`` is a legal move."""
    if requested not in LEGAL_TRANSITIONS[current]:
        raise IllegalTransition(current, requested)


def can_transition(current: DatasetStatus, requested: DatasetStatus) -> bool:
    return requested in LEGAL_TRANSITIONS[current]
