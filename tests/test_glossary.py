"""The glossary in docs/ARCHITECTURE.md and the code agree: every name a glossary entry points at
(`path.py` `Name`) is defined there, and "record" keeps meaning a standard data-model record (no
other class of the agent is called one)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
# "`agent/runtime/local_state.py` `Run`": a module's path, then a name it defines.
POINTER = re.compile(r"`((?:agent|cloud|protocol|ui)/[\w/]+)\.py` `(\w+)`")


def _glossary() -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    start = text.index("## Glossary")
    return text[start : text.index("\n## ", start + 1)]


def test_every_name_the_glossary_points_at_is_defined_there() -> None:
    pointers = POINTER.findall(_glossary())
    assert len(pointers) >= 10  # the pattern still finds the glossary's pointers
    missing = [
        f"{path}.py {name}"
        for path, name in pointers
        if not hasattr(importlib.import_module(path.replace("/", ".")), name)
    ]
    assert missing == []


def test_the_dataset_words_are_in_the_glossary() -> None:
    words = {row.split("|")[1].strip() for row in _glossary().splitlines() if row.startswith("| ")}
    assert {"dataset", "assignment", "run", "outcome", "record", "event"} <= words


def test_only_the_standard_model_calls_a_class_a_record() -> None:
    named_record = []
    for module in sorted((ROOT / "agent").rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Record"):
                named_record.append(f"{module.relative_to(ROOT)}: {node.name}")
    assert named_record == []  # agent/standard/model.py's Record is a type alias, not a class
