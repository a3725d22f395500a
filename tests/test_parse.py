"""The parser: friendly syntax errors, recovery, the lexer, comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from atoconf.language.parse import SYNTAX_EXAMPLES, example_for, first_failure, parse, parser
from atoconf.language.source import SourceFile
from tests.conftest import CATALOGS, ROOT

EXAMPLES = [(entry, text) for entry in SYNTAX_EXAMPLES for text in entry.examples]


@pytest.mark.parametrize(("entry", "text"), EXAMPLES, ids=[repr(t) for _, t in EXAMPLES])
def test_every_syntax_example_gets_its_own_message(entry: object, text: str) -> None:
    failure = first_failure(text)
    assert failure is not None, "the bad example parses"
    assert example_for(failure) is entry
    diagnostics = parse(SourceFile("example.ato", text)).diagnostics
    # a later line may add an error of its own (a '}' whose '{' was lost), never this one
    first = diagnostics[0]
    assert first.message.startswith(entry.message)  # type: ignore[attr-defined]
    assert first.hint == entry.hint  # type: ignore[attr-defined]
    assert first.span is not None and first.span.line == failure.token.line
    assert all(d.span and d.span.line > first.span.line for d in diagnostics[1:])


def test_all_syntax_errors_of_a_file_one_per_line() -> None:
    text = (
        "product p\n"  # 1
        "component cpu CPU\n"  # 2: missing ':'
        "parts CPU {\n"  # 3
        '  "A": socket=AM5, cores=8\n'  # 4
        '  "B": socket=@, cores=8\n'  # 5: bad character
        '  "C": socket=AM5 cores=8\n'  # 6: missing ','
        '  "D": socket=AM5, cores=8\n'  # 7
        "}\n"  # 8
        "rule r: a = b = c\n"  # 9: '=' (once, although twice)
        "rule t: (a and b\n"  # 10: unclosed, blamed at the end of this line
        "rule u: a < b < c\n"  # 11: chained
        ")\n"  # 12: stray
        'test "t" { expect count many }\n'  # 13
        "rule v: a =="  # 14: incomplete at end of file
    )
    result = parse(SourceFile("f.ato", text))
    got = [(d.span.line, d.span.col, d.code) for d in result.diagnostics if d.span]
    assert got == [
        (2, 15, "E0101"),
        (5, 15, "E0100"),
        (6, 19, "E0101"),
        (9, 11, "E0101"),
        (10, 17, "E0101"),
        (11, 15, "E0101"),
        (12, 1, "E0101"),
        (13, 25, "E0101"),
        (14, 13, "E0101"),
    ]
    messages = [d.message for d in result.diagnostics]
    assert messages[4].startswith("unclosed parenthesis")
    assert messages[6] == "unexpected ')'"
    # the well-formed part rows survive recovery
    assert result.tree is not None
    rows = [str(r.children[0]) for r in result.tree.find_data("part_row")]
    assert '"A"' in rows and '"D"' in rows


def test_keyword_as_name_is_its_own_error() -> None:
    result = parse(SourceFile("f.ato", "product p\ncomponent count: CPU\n"))
    [d] = result.diagnostics
    assert (d.code, d.span and d.span.col) == ("E0103", 11)
    assert "'count' is a reserved keyword" in d.message


def test_unterminated_string() -> None:
    result = parse(SourceFile("f.ato", 'product p "Demo\nrule r: true\n'))
    [d] = result.diagnostics
    assert (d.code, d.span and (d.span.line, d.span.col, d.span.end_col)) == (
        "E0102",
        (1, 11, 16),
    )


def test_comments_are_kept_with_their_positions() -> None:
    text = "# head\nproduct p # trailing\n  # indented\nrule r: true\n"
    comments = parse(SourceFile("f.ato", text)).comments
    assert [(c.text, c.line, c.col, c.own_line) for c in comments] == [
        ("# head", 1, 1, True),
        ("# trailing", 2, 11, False),
        ("# indented", 3, 3, True),
    ]


def test_string_with_hash_is_not_a_comment() -> None:
    result = parse(SourceFile("f.ato", 'product p "Model #1"\n'))
    assert result.comments == [] and result.diagnostics == []


def _rule_files() -> list[Path]:
    return sorted(
        [*CATALOGS.glob("**/*.ato"), *ROOT.glob("tests/grammar/*.ato")],
    )


@pytest.mark.parametrize("path", _rule_files(), ids=lambda p: p.name)
def test_our_lexer_agrees_with_larks_own(path: Path) -> None:
    """The lexer is built from the grammar's terminals; Lark's must see the same tokens."""
    from atoconf.language.parse import _scanner

    text = path.read_text(encoding="utf-8")
    ours, _, problems, _ = _scanner().scan(SourceFile(path.name, text))
    assert problems == []
    theirs = list(parser().lex(text))
    assert [(t.type, str(t), t.line, t.column) for t in ours] == [
        (t.type, str(t), t.line, t.column) for t in theirs
    ]
    assert parse(SourceFile(path.name, text)).diagnostics == []


def _shape(node: object) -> object:
    """A tree with every node's positions, for comparing two parsers' trees."""
    from lark import Token, Tree

    if isinstance(node, Token):
        return (node.type, str(node), node.line, node.column, node.end_line, node.end_column)
    assert isinstance(node, Tree)
    m = node.meta
    where = None if m.empty else (m.line, m.column, m.end_line, m.end_column, m.start_pos)
    return (node.data, where, [_shape(c) for c in node.children])


@pytest.mark.parametrize("path", _rule_files(), ids=lambda p: p.name)
def test_positions_match_larks_propagate_positions(path: Path) -> None:
    """Our one-pass position wrapper must give exactly Lark's own positions."""
    text = path.read_text(encoding="utf-8")
    ours = parse(SourceFile(path.name, text)).tree
    assert _shape(ours) == _shape(parser().parse(text, start="start"))
