from __future__ import annotations

from PySide6.QtSvg import QSvgRenderer

from agent.status.status_rules import Condition
from ui.icons import icon_for, icon_path


def test_every_state_has_a_valid_svg(qapp) -> None:
    for state in Condition:
        assert QSvgRenderer(str(icon_path(state))).isValid(), state
        assert not icon_for(state).isNull()
