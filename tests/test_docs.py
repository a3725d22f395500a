"""The docs cannot rot: every rule-language example in them parses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atoconf.parse import parse
from atoconf.source import SourceFile

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"


def _blocks() -> list[tuple[str, str]]:
    found = []
    for path in [README, *sorted(DOCS.glob("*.md"))]:
        if path.name == "errors.md":  # its examples are wrong on purpose
            continue
        text = path.read_text(encoding="utf-8")
        for i, block in enumerate(re.findall(r"```ato\n(.*?)```", text, re.S)):
            found.append((f"{path.name}#{i}", block))
    return found


BLOCKS = _blocks()


def test_the_language_reference_has_examples() -> None:
    assert sum(1 for name, _ in BLOCKS if name.startswith("language.md")) >= 20


@pytest.mark.parametrize(("name", "block"), BLOCKS, ids=[n for n, _ in BLOCKS])
def test_example_parses(name: str, block: str) -> None:
    diagnostics = parse(SourceFile(name, block)).diagnostics
    assert [f"{d.span}: {d.message}" for d in diagnostics] == []
