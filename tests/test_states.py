from __future__ import annotations

import itertools

import pytest

from protocol.states import (
    ERROR_STATES,
    HAPPY_PATH,
    LEGAL_TRANSITIONS,
    TERMINAL_STATES,
    DatasetStatus,
    IllegalTransition,
    check_transition,
    is_error,
    is_terminal,
)

S = DatasetStatus

PUBLIC_ENUM = (
    "Initial, Queued, Fetching, MapQueued, Mapping, Complete, FetchError, MapError, InternalError, "
    "ProcessingQueued, Processing, ProcessingError, ValidationQueued, Validating, ValidationError, "
    "AuthError, Cancelled, NotSupported, RateLimitError, PermissionsError, PrerequisiteNotMet"
)


def test_the_enum_is_exactly_the_public_one() -> None:
    assert {s.value for s in DatasetStatus} == set(PUBLIC_ENUM.split(", "))


def test_the_happy_path_is_legal_step_by_step() -> None:
    assert [s.value for s in HAPPY_PATH] == [
        "Queued",
        "Fetching",
        "Mapping",
        "Validating",
        "Processing",
        "Complete",
    ]
    for current, following in itertools.pairwise(HAPPY_PATH):
        check_transition(current, following)


@pytest.mark.parametrize(
    ("current", "failure"),
    [
        (S.FETCHING, S.FETCH_ERROR),
        (S.MAPPING, S.MAP_ERROR),
        (S.VALIDATING, S.VALIDATION_ERROR),
        (S.PROCESSING, S.PROCESSING_ERROR),
        (S.QUEUED, S.NOT_SUPPORTED),
        (S.QUEUED, S.AUTH_ERROR),
        (S.FETCHING, S.AUTH_ERROR),
        (S.PROCESSING, S.INTERNAL_ERROR),
    ],
)
def test_each_phase_may_fail_in_its_own_error(current: S, failure: S) -> None:
    check_transition(current, failure)


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        (S.QUEUED, S.COMPLETE),  # skipping every phase
        (S.FETCHING, S.VALIDATING),  # skipping Mapping
        (S.MAPPING, S.FETCHING),  # going back
        (S.MAPPING, S.FETCH_ERROR),  # another phase's error
        (S.PROCESSING, S.MAP_ERROR),
        (S.COMPLETE, S.QUEUED),  # leaving a terminal state
        (S.FETCH_ERROR, S.FETCHING),
        (S.NOT_SUPPORTED, S.INTERNAL_ERROR),
    ],
)
def test_illegal_transitions_raise(current: S, requested: S) -> None:
    with pytest.raises(IllegalTransition, match=f"from {current} to {requested}"):
        check_transition(current, requested)


def test_terminal_states_lead_nowhere_and_live_ones_somewhere() -> None:
    for state in DatasetStatus:
        assert (not LEGAL_TRANSITIONS[state]) == is_terminal(state), state


def test_errors_are_terminal_and_success_is_not_an_error() -> None:
    assert ERROR_STATES <= TERMINAL_STATES
    assert is_error(S.AUTH_ERROR)
    assert not is_error(S.COMPLETE)
    assert not is_error(S.NOT_SUPPORTED)
    assert {s.value for s in ERROR_STATES} >= {
        "FetchError",
        "MapError",
        "ValidationError",
        "ProcessingError",
        "InternalError",
        "AuthError",
    }
