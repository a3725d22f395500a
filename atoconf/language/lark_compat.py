"""Every use of Lark's non-public internals, in one module.

atoconf parses with the LALR table Lark builds from `grammars/atoconf.lark`
but drives that table itself, which Lark's public API does not allow:

- speed: the parser loop is Lark's `ParserState.feed_token` inlined, tokens
  are made without `Token.__new__`, and positions are computed by one wrapper
  in place of Lark's `PropagatePositions`;
- error recovery: after a syntax error the parser's stacks are cut back and
  the next line is tried against them, to report every error of a file;
- positions and the lexer: our lexer is built from Lark's own terminal
  definitions, and node positions follow Lark's own rule.

Nothing outside this module touches a Lark internal; tests/test_lark_compat.py
checks that each one used here still exists with the shape used here, so a
Lark release that changes one fails that test with the internal's name.

Tested with Lark 1.2.1, 1.2.2, 1.3.0 and 1.3.1 (1.1.9 fails: its
`ParserState.copy` has no `deepcopy_values`); pyproject.toml pins
`lark>=1.2.1,<1.4` to match, `TESTED_LARK` below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedToken
from lark.lexer import PatternStr
from lark.parse_tree_builder import PropagatePositions
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_parser_state import ParseConf, ParserState

# the `lark` requirement in pyproject.toml (tests/test_lark_compat.py checks they agree)
TESTED_LARK = ">=1.2.1,<1.4"
TESTED_VERSIONS = ("1.2.1", "1.2.2", "1.3.0", "1.3.1")

# One parse in progress: Lark's ParserState (its state and value stacks) over
# our parse table. Outside this module it is only passed back to the functions below.
State = ParserState[int]


# ---- tokens --------------------------------------------------------------------


def make_token(kind: str, value: str, start: int, line: int, col: int, end: int) -> Token:
    """A one-line Lark Token, equal to `Token(kind, value, start, line, col, line,
    col + end - start, end)` but made without Token.__new__'s keyword handling,
    which costs twice as much (the lexer makes one per word). Sets Token's slots."""
    token = str.__new__(Token, value)
    token.type = kind
    token.value = value
    token.start_pos = start
    token.line = token.end_line = line
    token.column = col
    token.end_column = col + end - start
    token.end_pos = end
    return token


# ---- terminals -----------------------------------------------------------------


@dataclass(frozen=True)
class Terminal:
    """One terminal of the grammar, as our lexer needs it."""

    name: str
    literal: str | None  # the text of a "string" terminal; None for a /regexp/
    regexp: str  # a Python regular expression matching it


def terminals(lark: Lark) -> list[Terminal]:
    """The grammar's terminals in the order Lark's basic lexer tries them: higher
    priority, then longer, then fixed strings first (Lark's `TerminalDef`s)."""
    defs = sorted(
        lark.terminals,
        key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
    )
    return [
        Terminal(
            t.name,
            t.pattern.value if isinstance(t.pattern, PatternStr) else None,
            t.pattern.to_regexp(),
        )
        for t in defs
    ]


def ignored_terminals(lark: Lark) -> frozenset[str]:
    """The terminals the grammar `%ignore`s. From `lexer_conf`, not `ignore_tokens`:
    a Lark loaded from its cache file does not restore the latter."""
    return frozenset(lark.lexer_conf.ignore)


# ---- positions -----------------------------------------------------------------


def _positioned(children: Iterable[Any]) -> Any:
    """The first child that has a position: a Token, or the Meta of a placed Tree
    (read from Tree._meta: the `meta` property would create an empty one)."""
    for child in children:
        if child.__class__ is Token:
            return child
        child_meta = child._meta
        if child_meta is not None and not child_meta.empty:
            return child_meta
    return None


def _with_positions(build: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    """Lark's `propagate_positions` rule, computed in one pass.

    A node starts where its first positioned child's container starts and ends
    where its last one's ends; containers include the tokens the tree leaves
    out (keywords, parentheses), exactly as Lark's PropagatePositions does,
    with the same `container_*` attributes on Meta.
    """

    def callback(children: list[Any]) -> Any:
        node = build(children)
        if node.__class__ is not Tree:
            return node
        first = _positioned(children)
        if first is None:
            return node
        last = _positioned(reversed(children))
        meta: Any = node.meta  # Lark's Meta takes any attribute; its stub lists only some
        if first.__class__ is Token:
            line, column, start = first.line, first.column, first.start_pos
        else:
            line, column, start = (
                first.container_line,
                first.container_column,
                (first.container_start_pos),
            )
        if last.__class__ is Token:
            end_line, end_column, end = last.end_line, last.end_column, last.end_pos
        else:
            end_line, end_column, end = (
                last.container_end_line,
                last.container_end_column,
                last.container_end_pos,
            )
        if meta.empty:
            meta.line, meta.column, meta.start_pos = line, column, start
            meta.end_line, meta.end_column, meta.end_pos = end_line, end_column, end
            meta.empty = False
        meta.container_line, meta.container_column, meta.container_start_pos = (
            line,
            column,
            start,
        )
        meta.container_end_line, meta.container_end_column, meta.container_end_pos = (
            end_line,
            end_column,
            end,
        )
        return node

    return callback


# ---- the parser ----------------------------------------------------------------


class Expecting(NamedTuple):
    """Where the parser stands: its LALR state and the terminals it accepts there."""

    state: int
    expected: frozenset[str]


@lru_cache(maxsize=4)
def _parse_conf(lark: Lark, start: str) -> ParseConf[int]:
    """Lark's parse table and tree builders, with our position wrapper in place of
    each PropagatePositions (same result, 30% cheaper). Both come from the
    ParseConf of an interactive parser: Lark has no public way to reach them."""
    base = lark.parse_interactive("", start=start).parser_state.parse_conf
    callbacks = {
        rule: _with_positions(callback.node_builder)
        if isinstance(callback, PropagatePositions)
        else callback
        for rule, callback in base.callbacks.items()
    }
    return ParseConf(base.parse_table, callbacks, start)


def new_state(lark: Lark, start: str) -> State:
    """A parse of `start` (a start symbol of the grammar) at its beginning."""
    return ParserState(_parse_conf(lark, start), None)  # type: ignore[arg-type]


def feed(state: State, tokens: list[Token], i: int) -> int:
    """Feed tokens from `i` on until one is not accepted; its index (or len(tokens)).

    Lark's own ParserState.feed_token, inlined: the loop runs once per token, and
    calling feed_token for each adds 15% to parsing a 10,000-line file.
    (feed_token also runs callbacks on shifted tokens; our parser has none.)"""
    states = state.parse_conf.states
    callbacks = state.parse_conf.callbacks
    state_stack = state.state_stack
    value_stack = state.value_stack
    n = len(tokens)
    while i < n:
        token = tokens[i]
        kind = token.type
        while True:
            action = states[state_stack[-1]].get(kind)
            if action is None:
                return i
            what, arg = action
            if what is Shift:
                state_stack.append(arg)
                value_stack.append(token)
                break
            size = len(arg.expansion)
            if size:
                children = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                children = []
            value_stack.append(callbacks[arg](children))
            state_stack.append(states[state_stack[-1]][arg.origin.name][1])
        i += 1
    return n


def accepted_prefix(state: State, depth: int, tokens: list[Token]) -> int:
    """How many of these tokens the parser would accept with its stack cut to
    `depth` states (nothing is built and the state is not changed)."""
    states = state.parse_conf.states
    stack = state.state_stack[:depth]
    for count, token in enumerate(tokens):
        while True:
            action = states[stack[-1]].get(token.type)
            if action is None:
                return count
            kind, arg = action
            if kind is Shift:
                stack.append(arg)
                break
            size = len(arg.expansion)
            if size:
                del stack[-size:]
            stack.append(states[stack[-1]][arg.origin.name][1])
    return len(tokens)


def stack_depth(state: State) -> int:
    """How many LALR states are on the parser's stack (1 at the beginning)."""
    return len(state.state_stack)


def truncate(state: State, depth: int) -> None:
    """Cut the parser's stack to `depth` states (and the values they hold)."""
    del state.state_stack[depth:]
    del state.value_stack[depth - 1 :]


def expecting(state: State) -> Expecting:
    """The parser's current LALR state and the terminals it accepts there."""
    top = state.state_stack[-1]
    return Expecting(top, frozenset(t for t in state.parse_conf.states[top] if t.isupper()))


def finish(state: State, end_token: Token) -> Tree[Token] | Expecting:
    """Feed the end of the input (a `$END` token) to a copy of the parser, by Lark's
    own feed_token: the tree, or where it stopped (`state` itself is unchanged)."""
    trial = state.copy(deepcopy_values=False)
    try:
        tree = trial.feed_token(end_token, True)
    except UnexpectedToken:
        return expecting(trial)
    assert isinstance(tree, Tree)
    return tree
