"""The Lark internals atoconf relies on, all used in atoconf/language/lark_compat.py.

Lark is pinned to the range tested (pyproject.toml); within it, these tests
check each internal still exists with the shape lark_compat uses, so that a
Lark release changing one fails here with a message naming it, rather than
somewhere deep in parsing. The checks that need a parser run on one built
from the grammar and on one loaded from Lark's cache file (as atoconf's is).
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import pickle
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import lark
import pytest
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedToken
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
COMPAT = "atoconf/language/lark_compat.py"

# the attributes of Token that lark_compat.make_token sets
TOKEN_SLOTS = ("type", "value", "start_pos", "line", "column", "end_line", "end_column", "end_pos")

# names only lark_compat may use on Lark's objects
INTERNAL_ATTRIBUTES = frozenset(
    {
        "_meta",
        "state_stack",
        "value_stack",
        "parse_conf",
        "parser_state",
        "parse_table",
        "lexer_conf",
        "ignore_tokens",
        "terminals",
        "node_builder",
        "feed_token",
        "__new__",
    }
)

EXPRESSIONS = (
    "1",
    "cpu.cores >= 8 and not (gpu == none)",
    "if usage == gaming then gpu.vram_gb >= 12 else true",
    "a -> b -> c <-> d or e",
    "memory.qty * memory.size_gb + 2 - -x / 3",
    'cpu.socket in {AM5, LGA1700} and board.chipset != "B650"',
    "count(a, b) <= max(c.qty, 2)",
)


def broken(internal: str, what: str) -> str:
    return (
        f"Lark {lark.__version__} no longer has the {internal} atoconf relies on: {what}. "
        f"Adapt {COMPAT} to this Lark, or keep Lark in the range pyproject.toml pins."
    )


def internal(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        pytest.fail(broken(f"{module}.{name}", f"it is gone ({exc})"))


def params(function: Any) -> list[str]:
    return [p for p in inspect.signature(function).parameters if p != "self"]


@pytest.fixture(scope="module")
def compat() -> ModuleType:
    try:
        return importlib.import_module("atoconf.language.lark_compat")
    except ImportError as exc:
        pytest.fail(broken("an internal imported by lark_compat", f"it does not import ({exc})"))


@pytest.fixture(scope="module", params=["built", "from cache"])
def parser(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Lark:
    from atoconf.language.parse import build_parser

    if request.param == "built":
        return build_parser(cache=False)
    cache = str(tmp_path_factory.mktemp("lark-cache") / "grammar.lark-cache")
    build_parser(cache=cache)  # writes the cache file
    loaded = build_parser(cache=cache)
    assert loaded.source_path == "<deserialized>", "the second Lark was not loaded from the cache"
    return loaded


def rule_files() -> list[Path]:
    return sorted([*ROOT.glob("catalogs/**/*.ato"), *ROOT.glob("tests/grammar/*.ato")])


def shape(node: object) -> object:
    """A tree with every attribute of every token and every node's Meta."""
    if isinstance(node, Token):
        return (type(node), str(node), [getattr(node, name) for name in TOKEN_SLOTS])
    assert isinstance(node, Tree)
    meta = node._meta
    return (node.data, None if meta is None else vars(meta), [shape(c) for c in node.children])


def scanned(text: str) -> list[Token]:
    from atoconf.language.parse import _scanner
    from atoconf.language.source import SourceFile

    tokens, _, problems, _ = _scanner().scan(SourceFile("f.ato", text))
    assert problems == []
    return tokens


def end_of(tokens: list[Token], text: str) -> Token:
    from atoconf.language.parse import _end_token

    return _end_token(tokens, text)


def walk_tables(parser: Lark) -> Iterator[tuple[str, Any]]:
    for start in ("start", "expression"):
        yield start, parser.parse_interactive("", start=start).parser_state.parse_conf


# ---- the pin ---------------------------------------------------------------------


def pinned_lark() -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(d) for d in project["dependencies"] if Requirement(d).name == "lark"]
    assert len(found) == 1, "pyproject.toml must list lark once in [project] dependencies"
    return found[0]


def test_installed_lark_is_in_the_pinned_range() -> None:
    pin = pinned_lark()
    installed = version("lark")
    assert installed == lark.__version__
    assert pin.specifier.contains(installed, prereleases=True), (
        f"Lark {installed} is installed but pyproject.toml pins {pin}: atoconf drives Lark's "
        f"internals ({COMPAT}) and is only tested in that range"
    )


def test_the_pin_is_the_tested_range(compat: ModuleType) -> None:
    pin = pinned_lark().specifier
    assert pin == SpecifierSet(compat.TESTED_LARK), (
        f"pyproject.toml pins lark{pin} but {COMPAT} says it was tested for {compat.TESTED_LARK}"
    )
    for tested in compat.TESTED_VERSIONS:
        assert pin.contains(tested), f"tested Lark {tested} is outside the pin {pin}"
    lower = [s.version for s in pin if s.operator == ">="]
    assert lower and lower[0] in compat.TESTED_VERSIONS, "the lowest Lark admitted is not tested"


# ---- that each internal is still there, with the shape used ---------------------


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("lark.parsers.lalr_analysis", "Shift"),
        ("lark.parsers.lalr_parser_state", "ParseConf"),
        ("lark.parsers.lalr_parser_state", "ParserState"),
        ("lark.parse_tree_builder", "PropagatePositions"),
        ("lark.lexer", "PatternStr"),
    ],
)
def test_internal_exists(module: str, name: str) -> None:
    internal(module, name)


def test_parser_state_signatures() -> None:
    parse_conf = internal("lark.parsers.lalr_parser_state", "ParseConf")
    parser_state = internal("lark.parsers.lalr_parser_state", "ParserState")
    expected = {
        "ParseConf(...)": (parse_conf, ["parse_table", "callbacks", "start"]),
        "ParserState(...)": (
            parser_state,
            ["parse_conf", "lexer", "state_stack", "value_stack"],
        ),
        "ParserState.copy": (parser_state.copy, ["deepcopy_values"]),
        "ParserState.feed_token": (parser_state.feed_token, ["token", "is_end"]),
    }
    for name, (function, names) in expected.items():
        got = params(function)
        assert got[: len(names)] == names, broken(name, f"its parameters are {got}")
    for name in ("parse_conf", "state_stack", "value_stack"):
        assert name in parser_state.__slots__, broken(f"ParserState.{name}", "no such slot")
    for name in ("parse_table", "callbacks", "states", "start_state", "end_state"):
        assert name in parse_conf.__slots__, broken(f"ParseConf.{name}", "no such slot")


def test_parse_table_layout(parser: Lark) -> None:
    """states[state][terminal or rule name] = (Shift, next state) | (Reduce, rule)."""
    shift = internal("lark.parsers.lalr_analysis", "Shift")
    reduce = internal("lark.parsers.lalr_analysis", "Reduce")
    parse_conf = internal("lark.parsers.lalr_parser_state", "ParseConf")
    for start, conf in walk_tables(parser):
        where = f"the parse table (InteractiveParser.parser_state.parse_conf, start={start!r})"
        assert isinstance(conf, parse_conf), broken(where, f"it is a {type(conf)}")
        states = conf.states
        assert states is conf.parse_table.states, broken(where, "ParseConf.states is not its table")
        assert conf.start_state in states and conf.end_state in states, broken(where, "start/end")
        for state, actions in states.items():
            assert isinstance(state, int), broken(where, f"state {state!r} is not an int")
            for symbol, entry in actions.items():
                assert isinstance(symbol, str), broken(where, f"key {symbol!r} is not a name")
                assert isinstance(entry, tuple) and len(entry) == 2, broken(where, repr(entry))
                action, arg = entry
                if action is shift:
                    assert arg in states, broken(where, f"Shift to unknown state {arg!r}")
                    continue
                assert action is reduce, broken(where, f"action {action!r}")
                assert isinstance(arg.expansion, list | tuple), broken("Rule.expansion", repr(arg))
                assert isinstance(arg.origin.name, str), broken("Rule.origin.name", repr(arg))
                assert arg in conf.callbacks, broken("ParseConf.callbacks", f"none for {arg}")
        # the inlined feed loop runs no callback on a shifted token
        token_callbacks = [k for k in conf.callbacks if isinstance(k, str)]
        assert token_callbacks == [], broken("ParseConf.callbacks", f"token ones {token_callbacks}")


def test_propagate_positions_wraps_the_tree_builders(parser: Lark) -> None:
    propagate = internal("lark.parse_tree_builder", "PropagatePositions")
    got = params(propagate)
    assert got[:1] == ["node_builder"], broken(
        "PropagatePositions(...)", f"its parameters are {got}"
    )
    conf = parser.parse_interactive("", start="start").parser_state.parse_conf
    wrapped = [cb for cb in conf.callbacks.values() if isinstance(cb, propagate)]
    assert wrapped, broken("propagate_positions=True", "no callback is a PropagatePositions")
    assert all(callable(cb.node_builder) for cb in wrapped), broken(
        "PropagatePositions.node_builder", "it is not a callable"
    )


def _pickled(token: Token) -> Token:
    clone: Token = pickle.loads(pickle.dumps(token))
    return clone


def test_compat_token_equals_a_lark_token(compat: ModuleType) -> None:
    for name in TOKEN_SLOTS:
        assert name in Token.__slots__, broken(f"Token.{name}", "no such slot")
    ours = compat.make_token("NAME", "cores", 10, 3, 5, 15)
    theirs = Token("NAME", "cores", 10, 3, 5, 3, 10, 15)
    for name in Token.__slots__:
        assert hasattr(ours, name), broken(f"Token.{name}", "a new slot make_token does not set")
        assert getattr(ours, name) == getattr(theirs, name), broken(f"Token.{name}", "differs")
    assert type(ours) is Token and ours == theirs and hash(ours) == hash(theirs)
    for how, clone in (("pickle", _pickled), ("copy", copy.deepcopy)):
        assert shape(clone(ours)) == shape(clone(theirs)), broken(
            f"Token ({how})", "a compat token comes back unlike a Lark one"
        )


def test_tree_meta_attribute() -> None:
    tree: Tree[Token] = Tree("x", [])
    assert getattr(tree, "_meta", "gone") is None, broken("Tree._meta", "not None on a new tree")
    assert tree.meta.empty and tree._meta is tree.meta, broken("Tree.meta", "not kept in _meta")


def test_terminal_definitions(parser: Lark, compat: ModuleType) -> None:
    pattern_str = internal("lark.lexer", "PatternStr")
    names = set()
    for term in parser.terminals:
        for name in ("name", "pattern", "priority"):
            assert hasattr(term, name), broken(f"TerminalDef.{name}", "no such attribute")
        for name in ("value", "max_width", "to_regexp"):
            assert hasattr(term.pattern, name), broken(f"Pattern.{name}", "no such attribute")
        names.add(term.name)
    assert any(isinstance(t.pattern, pattern_str) for t in parser.terminals), broken(
        "lark.lexer.PatternStr", "no terminal of the grammar's keywords is one"
    )
    ignored = compat.ignored_terminals(parser)
    assert {"WS", "COMMENT"} <= ignored <= names, broken("Lark.lexer_conf.ignore", repr(ignored))


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_our_lexer_gives_larks_tokens(path: Path) -> None:
    """The lexer built from compat.terminals/ignored_terminals makes Lark's own tokens."""
    from atoconf.language.parse import parser as atoconf_parser

    text = path.read_text(encoding="utf-8")
    theirs = list(atoconf_parser().lex(text))
    ours = scanned(text)
    assert [shape(t) for t in ours] == [shape(t) for t in theirs], broken(
        "Lark.terminals (order, patterns) or lexer_conf.ignore", "our lexer disagrees with Lark's"
    )


# ---- that the inlined parser loop still is Lark's --------------------------------


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_inlined_feed_gives_larks_tree(parser: Lark, compat: ModuleType, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tokens = scanned(text)
    state = compat.new_state(parser, "start")
    assert compat.feed(state, tokens, 0) == len(tokens), broken("the parse table", "a file fails")
    tree = compat.finish(state, end_of(tokens, text))
    assert shape(tree) == shape(parser.parse(text, start="start")), broken(
        "ParserState.feed_token / PropagatePositions", "the inlined feed builds another tree"
    )


def test_stacks_stay_in_step(parser: Lark, compat: ModuleType) -> None:
    """The value stack holds one entry less than the state stack (truncate relies on it)."""
    text = (ROOT / "catalogs/bike/bicycle.ato").read_text(encoding="utf-8")
    tokens = scanned(text)
    state = compat.new_state(parser, "start")
    done = 0
    for upto in [*range(7, len(tokens), 7), len(tokens)]:
        assert compat.feed(state, tokens[:upto], done) == upto
        done = upto
        depth = compat.stack_depth(state)
        assert depth == len(state.state_stack) == len(state.value_stack) + 1, broken(
            "ParserState.state_stack/value_stack", "they are out of step"
        )
    while compat.stack_depth(state) > 1:
        compat.truncate(state, compat.stack_depth(state) - 1)
        assert len(state.state_stack) == len(state.value_stack) + 1, broken(
            "ParserState.state_stack/value_stack", "truncate leaves them out of step"
        )


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_inlined_feed_gives_larks_expression(parser: Lark, compat: ModuleType, text: str) -> None:
    tokens = scanned(text)
    state = compat.new_state(parser, "expression")
    assert compat.feed(state, tokens, 0) == len(tokens)
    tree = compat.finish(state, end_of(tokens, text))
    assert shape(tree) == shape(parser.parse(text, start="expression")), broken(
        "ParserState.feed_token / PropagatePositions", "the inlined feed builds another tree"
    )


def _syntax_examples() -> list[str]:
    try:
        from atoconf.language.parse import SYNTAX_EXAMPLES
    except ImportError:  # a Lark internal is gone: test_internal_exists names it
        return []
    return [text for entry in SYNTAX_EXAMPLES for text in entry.examples]


@pytest.mark.parametrize("text", _syntax_examples())
def test_inlined_feed_stops_where_lark_does(parser: Lark, compat: ModuleType, text: str) -> None:
    """Same token, LALR state and expected terminals as Lark's own UnexpectedToken."""
    with pytest.raises(UnexpectedToken) as raised:
        parser.parse(text, start="start")
    error = raised.value
    tokens = scanned(text)
    state = compat.new_state(parser, "start")
    i = compat.feed(state, tokens, 0)
    accepted = compat.accepted_prefix(compat.new_state(parser, "start"), 1, tokens)
    assert accepted == i, broken("the parse table", "accepted_prefix and feed disagree")
    if i < len(tokens):
        where, token = compat.expecting(state), tokens[i]
    else:
        where, token = compat.finish(state, end_of(tokens, text)), end_of(tokens, text)
    # (Lark places its end-of-input token on the last token; we place ours after it)
    stops = (error.token.type, None if token.type == "$END" else error.token.start_pos)
    assert (token.type, None if token.type == "$END" else token.start_pos) == stops, broken(
        "ParserState.feed_token", f"Lark stops at {error.token!r}, the inlined feed at {token!r}"
    )
    assert where == (error.state.state_stack[-1], frozenset(error.expected)), broken(
        "UnexpectedToken / the parse table", "another state or other expected terminals"
    )


# ---- that nothing else touches Lark's internals --------------------------------


def _modules_using_lark() -> list[Path]:
    paths = []
    for path in sorted((ROOT / "atoconf").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() != COMPAT and "lark" in path.read_text("utf-8"):
            paths.append(path)
    return paths


@pytest.mark.parametrize("path", _modules_using_lark(), ids=lambda p: p.name)
def test_only_lark_compat_uses_lark_internals(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT).as_posix()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lark"):
            if node.module == "lark":
                private = [a.name for a in node.names if a.name not in lark.__all__]
                assert not private, f"{where} imports {private} from lark (use {COMPAT})"
            else:
                assert node.module == "lark.exceptions", f"{where} imports {node.module}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("lark."), f"{where} imports {alias.name}"
        elif isinstance(node, ast.Attribute) and node.attr in INTERNAL_ATTRIBUTES:
            pytest.fail(f"{where}:{node.lineno} uses .{node.attr}, a Lark internal (use {COMPAT})")
