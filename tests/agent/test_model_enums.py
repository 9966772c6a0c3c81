"""The closed enums the agent checks records against (agent/standard/model.py) are Codat's own."""

from __future__ import annotations

from agent.standard.model import ENUMS


def test_credit_note_statuses_are_codats() -> None:
    """Codat's CreditNoteStatus and BillCreditNoteStatus (its published SDK models): the same
    six values, which the reference field listings beside the project do not list."""
    codat = {"Unknown", "Draft", "Submitted", "Paid", "Void", "PartiallyPaid"}

    assert ENUMS["creditNotes"]["status"] == codat
    assert ENUMS["billCreditNotes"]["status"] == codat
