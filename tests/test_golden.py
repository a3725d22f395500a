"""Golden files: every error code's example and the grammar dumps."""

from __future__ import annotations

from pathlib import Path

import pytest

from atoconf.language.codes import CODES
from tests.golden import (
    ERRORS,
    ERRORS_DOC,
    GRAMMAR,
    MESSAGES,
    errors_doc,
    render_error_example,
    render_grammar_example,
    render_message_example,
)


@pytest.mark.parametrize("code", sorted(CODES))
def test_error_example(code: str) -> None:
    expected = (ERRORS / code / "expected.txt").read_text(encoding="utf-8")
    rendered = render_error_example(code)
    assert rendered == expected
    # the example shows the error it documents, and that error first (after the HTTP
    # status, for what the server answers)
    severity = "warning" if code.startswith("W") else "error"
    first = next(line for line in rendered.splitlines() if not line.startswith("HTTP "))
    assert f"{severity}[{code}]" in first


def test_every_example_folder_is_a_known_code() -> None:
    assert sorted(p.name for p in ERRORS.iterdir() if p.is_dir()) == sorted(CODES)


def test_errors_doc_is_current() -> None:
    assert ERRORS_DOC.read_text(encoding="utf-8") == errors_doc()


@pytest.mark.parametrize(
    "folder", sorted(p for p in MESSAGES.iterdir() if p.is_dir()), ids=lambda p: p.name
)
def test_message_names_the_fix(folder: Path) -> None:
    expected = (folder / "expected.txt").read_text(encoding="utf-8")
    assert render_message_example(folder) == expected
    assert "= hint: " in expected  # each says what to do instead


GRAMMAR_CASES = sorted(GRAMMAR.glob("*.ato"))


@pytest.mark.parametrize("source", GRAMMAR_CASES, ids=[p.stem for p in GRAMMAR_CASES])
def test_grammar_dump(source: Path) -> None:
    expected = source.with_suffix(".dump").read_text(encoding="utf-8")
    assert render_grammar_example(source) == expected
