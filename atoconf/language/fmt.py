"""Rule text -> its canonical layout: the engine of `atoconf fmt` (docs/fmt.md).

The text is parsed a second time into a concrete syntax tree, in which every
keyword, comma and parenthesis is kept. The tree is laid out as words and line
breaks, and a line writer merges the comments back in by their source offset.
Only whitespace, comment placement and optional trailing `,` and `;` change,
so the text builds the same model before and after.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from lark import Lark, Token, Tree

from atoconf.language.diagnostics import Diagnostic, has_errors
from atoconf.language.parse import grammar_text, parse
from atoconf.language.source import SourceFile

WIDTH = 88
INDENT = 2
CONTINUATION = 4

Node = Tree[Token] | Token

# no space before these / after these
_GLUE_LEFT = frozenset({",", ";", ":", ")", ".", ".."})
_GLUE_RIGHT = frozenset({"(", ".", ".."})
# A comment just before one of these is written after it, so that it trails
# `a,` rather than pushing the `,` onto a line of its own. Never `)` or `}`:
# moving a comment past the last token of a construct would take it out of the
# construct and change its layout on the next run.
_DEFER = frozenset({",", ";", ":"})
# operators a long rule is broken before, when its expression is one chain of them
_CHAINS = frozenset({"and_", "or_", "iff", "implies"})


@dataclass(frozen=True)
class FormatResult:
    """The canonical text, or (text None) the syntax errors that stopped formatting."""

    source: SourceFile
    text: str | None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def changed(self) -> bool:
        """The canonical text differs from the text as read (after CRLF and BOM clean-up)."""
        return self.text is not None and self.text != self.source.text


def format_text(text: str, name: str = "<text>") -> FormatResult:
    """Format rule text; a UTF-8 BOM is dropped and line ends become LF."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return format_source(SourceFile(name=name, text=text))


def format_source(source: SourceFile) -> FormatResult:
    """Format a read source file; its syntax errors when it does not parse."""
    parsed = parse(source)
    if has_errors(parsed.diagnostics):
        return FormatResult(source, None, tuple(parsed.diagnostics))
    tree, comments = concrete_tree(source.text)
    layout = _Layout([_start(c) for c in comments])
    layout.file(tree)
    return FormatResult(source, _Writer(comments).write(layout.items))


# ---- the concrete syntax tree --------------------------------------------------------

_found = threading.local()


def _on_comment(token: Token) -> None:
    _found.comments.append(token)


@lru_cache(maxsize=1)
def _cst_parser() -> Lark:
    # One Lark parser per process (building it is the slow part); comments go to
    # a per-thread list, since the callback is fixed when the parser is built.
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        keep_all_tokens=True,
        propagate_positions=True,
        maybe_placeholders=False,
        start="start",
        lexer_callbacks={"COMMENT": _on_comment},
    )


def concrete_tree(text: str) -> tuple[Tree[Token], list[Token]]:
    """The tree with every token kept, and the comments in source order.
    The text must parse (atoconf.language.parse.parse says whether it does)."""
    _found.comments = []
    try:
        tree = _cst_parser().parse(text)
        comments: list[Token] = _found.comments
    finally:
        _found.comments = []
    return tree, comments


def _start(token: Token) -> int:
    return token.start_pos or 0


def _first_token(node: Node) -> Token:
    while isinstance(node, Tree):
        node = node.children[0]
    return node


def _last_token(node: Node) -> Token:
    while isinstance(node, Tree):
        node = node.children[-1]
    return node


def _is(node: Node, text: str) -> bool:
    # a STRING token keeps its quotes, so it never equals punctuation
    return isinstance(node, Token) and node.value == text


def _kind(node: Node) -> str:
    return str(node.data) if isinstance(node, Tree) else ""


def _split(children: Sequence[Node]) -> list[tuple[Node, Token | None]]:
    """The members of a comma-separated list, each with the comma after it (if any)."""
    members: list[tuple[Node, Token | None]] = []
    for child in children:
        if _is(child, ",") and members and isinstance(child, Token):
            members[-1] = (members[-1][0], child)
        else:
            members.append((child, None))
    return members


def _chain(node: Tree[Token]) -> tuple[list[Node], list[Token]]:
    """`a and b and c` as its operands and operators, left to right."""
    kind = node.data
    operands: list[Node] = []
    operators: list[Token] = []
    current: Node = node
    if kind == "implies":  # right associative: a -> (b -> c)
        while isinstance(current, Tree) and current.data == kind:
            left, op, current = current.children
            operands.append(left)
            operators.append(_token(op))
        operands.append(current)
        return operands, operators
    while isinstance(current, Tree) and current.data == kind:
        current, op, right = current.children
        operands.insert(0, right)
        operators.insert(0, _token(op))
    operands.insert(0, current)
    return operands, operators


def _token(node: Node) -> Token:
    assert isinstance(node, Token)
    return node


# ---- layout: words and line breaks ----------------------------------------------------


@dataclass(frozen=True)
class _Word:
    text: str
    pos: int  # source offset: the comments before it are written first
    line: int  # source line
    space: bool  # a space before it, when it is not the first word of a line
    defer: bool  # comments just before it are written after it


@dataclass(frozen=True)
class _Break:
    """A new line at `indent`, applied only when the next word comes."""

    indent: int
    # a declaration, part row, field or expectation starts: one blank line is
    # kept when the source had any
    item: bool = False
    # the first thing in a file or block: never a blank line before it
    first: bool = False
    # where own-line comments just before it go (before a `}`: inside the block)
    comments_at: int | None = None


@dataclass(frozen=True)
class _Dropped:
    """A token the canonical text leaves out (a trailing `,` or `;`): it writes
    nothing, but a comment on its line still trails the line before."""

    line: int


_Item = _Word | _Break | _Dropped


def _flat(items: Sequence[_Item]) -> str:
    """The words on one line, breaks ignored: to measure a construct."""
    parts: list[str] = []
    for item in items:
        if isinstance(item, _Word):
            if parts and item.space:
                parts.append(" ")
            parts.append(item.text)
    return "".join(parts)


class _Layout:
    """Walks the concrete tree into words and breaks, construct by construct."""

    def __init__(self, comment_starts: list[int]) -> None:
        self.items: list[_Item] = []
        self._comment_starts = comment_starts  # sorted
        self._glue = True  # no space before the next word

    # ---- primitives
    def _put(self, text: str, pos: int, line: int, glue_left: bool, glue_right: bool) -> None:
        glued = glue_left or self._glue or text in _GLUE_LEFT
        self.items.append(_Word(text, pos, line, not glued, text in _DEFER))
        self._glue = glue_right or text in _GLUE_RIGHT

    def word(self, token: Token, glue_left: bool = False, glue_right: bool = False) -> None:
        self._put(token.value, _start(token), token.line or 1, glue_left, glue_right)

    def synthetic(self, text: str, after: Node) -> None:
        """A word the source left out (a trailing comma), placed right after `after`."""
        last = _last_token(after)
        self._put(text, last.end_pos or 0, last.end_line or 1, False, False)

    def drop(self, token: Token) -> None:
        self.items.append(_Dropped(token.line or 1))

    def brk(self, brk: _Break) -> None:
        self.items.append(brk)
        self._glue = True

    def has_comment(self, first: Node, last: Node) -> bool:
        """A comment lies between the start of `first` and the end of `last`."""
        start = _start(_first_token(first))
        end = _last_token(last).end_pos or 0
        i = bisect.bisect_left(self._comment_starts, start)
        return i < len(self._comment_starts) and self._comment_starts[i] < end

    def fits(self, build: Callable[[_Layout], None], indent: int) -> bool:
        """What `build` lays out, on one line at `indent`, is at most WIDTH wide."""
        sub = _Layout(self._comment_starts)
        build(sub)
        return indent + len(_flat(sub.items)) <= WIDTH

    # ---- tokens and expressions, on one line
    def walk(self, node: Node, tight: bool = False) -> None:
        """Every token of `node` in order, spaced by the rules of docs/fmt.md;
        `tight`: in part rows and attribute defaults (`a=1`, `{A, B}`)."""
        if isinstance(node, Token):
            self.word(node)
            return
        kids = node.children
        kind = node.data
        if kind in ("neg", "v_number", "signed_int") and _is(kids[0], "-"):
            self.word(_token(kids[0]), glue_right=True)  # unary minus
            for kid in kids[1:]:
                self.walk(kid, tight)
        elif kind in ("call", "count_call"):
            self.word(_token(kids[0]))
            self.word(_token(kids[1]), glue_left=True)
            for kid in kids[2:]:
                self.walk(kid, tight)
        elif kind in ("set_lit", "v_set"):
            self.word(_token(kids[0]), glue_right=tight)
            members = _split(kids[1:-1])
            for i, (member, comma) in enumerate(members):
                self.walk(member, tight)
                self._comma(comma, last=i == len(members) - 1)
            self.word(_token(kids[-1]), glue_left=tight or not members)
        elif kind == "assignment":  # only in part rows: socket=AM5
            self.word(_token(kids[0]))
            self.word(_token(kids[1]), glue_left=True, glue_right=True)
            self.walk(kids[2], tight)
        else:
            for kid in kids:
                self.walk(kid, tight)

    def _comma(self, comma: Token | None, last: bool) -> None:
        """The comma after a member on one line: none after the last."""
        if comma is not None:
            if last:
                self.drop(comma)
            else:
                self.word(comma)

    def members(
        self, kids: Sequence[Node], one_line: bool, indent: int, tight: bool = False
    ) -> None:
        """`{ a, b }` on one line, or one member per line with a trailing comma."""
        open_, close = _token(kids[0]), _token(kids[-1])
        members = _split(kids[1:-1])
        self.word(open_)
        if one_line:
            for i, (member, comma) in enumerate(members):
                self.walk(member, tight)
                self._comma(comma, last=i == len(members) - 1)
            self.word(close, glue_left=not members)
            return
        for member, comma in members:
            self.brk(_Break(indent + INDENT))
            self.walk(member, tight)
            if comma is not None:
                self.word(comma)
            else:
                self.synthetic(",", member)
        self.brk(_Break(indent, comments_at=indent + INDENT))
        self.word(close)

    def block(self, node: Tree[Token], indent: int, each: Callable[[Node], None]) -> None:
        """`head {` one item per line `}`; an empty block is `head {}`."""
        kids = node.children
        open_at = next(i for i, kid in enumerate(kids) if _is(kid, "{"))
        for kid in kids[:open_at]:
            self.walk(kid)
        open_, close, items = kids[open_at], _token(kids[-1]), kids[open_at + 1 : -1]
        self.walk(open_)
        if not items:
            commented = self.has_comment(open_, close)
            if commented:  # the comment needs the block's lines to live on
                self.brk(_Break(indent, comments_at=indent + INDENT))
            self.word(close, glue_left=not commented)
            return
        for i, item in enumerate(items):
            self.brk(_Break(indent + INDENT, item=True, first=i == 0))
            each(item)
        self.brk(_Break(indent, comments_at=indent + INDENT))
        self.word(close)

    # ---- declarations
    def file(self, tree: Tree[Token]) -> None:
        decls = tree.children
        for i, decl in enumerate(decls):
            self.brk(_Break(0, item=True, first=i == 0))
            self.declaration(decl)
        # comments after the last declaration
        self.brk(_Break(0, item=True, first=not decls))

    def declaration(self, node: Node) -> None:
        kind = _kind(node)
        if not isinstance(node, Tree):
            self.walk(node)
        elif kind == "enum_decl":
            self.enum(node)
        elif kind == "type_decl" or kind == "parts_inline":
            self.block(node, 0, lambda item: self.walk(item, tight=True))
        elif kind == "option":
            self.option(node)
        elif kind == "rule":
            self.rule(node)
        elif kind == "step":
            self.step(node)
        elif kind == "test":
            self.block(node, 0, self.test_item)
        else:  # product, import, parts from CSV, component: tokens on one line
            self.walk(node)

    def enum(self, node: Tree[Token]) -> None:
        kids = node.children

        def build(layout: _Layout, one_line: bool) -> None:
            layout.walk(kids[0])
            layout.walk(kids[1])
            layout.members(kids[2:], one_line, 0)

        one_line = not self.has_comment(kids[2], kids[-1]) and self.fits(
            lambda sub: build(sub, True), 0
        )
        build(self, one_line)

    def option(self, node: Tree[Token]) -> None:
        kids = node.children
        kind = kids[3]
        if not (isinstance(kind, Tree) and kind.data == "o_enum"):
            self.walk(node)
            return
        enum_kids = kind.children

        def build(layout: _Layout, one_line: bool) -> None:
            for kid in kids[:3]:
                layout.walk(kid)
            layout.walk(enum_kids[0])
            layout.members(enum_kids[1:], one_line, 0)
            for kid in kids[4:]:
                layout.walk(kid)

        one_line = not self.has_comment(enum_kids[1], enum_kids[-1]) and self.fits(
            lambda sub: build(sub, True), 0
        )
        build(self, one_line)

    def rule(self, node: Tree[Token]) -> None:
        kids = node.children
        head, expr = kids[:-1], kids[-1]

        def whole(layout: _Layout) -> None:
            for kid in kids:
                layout.walk(kid)

        described = len(head) == 4  # rule NAME STRING ":"
        if not described and not self.has_comment(kids[0], expr) and self.fits(whole, 0):
            whole(self)
            return
        for kid in head:
            self.walk(kid)
        self.brk(_Break(INDENT))
        self.expression(expr, INDENT, 0)

    def expression(self, node: Node, indent: int, lead: int) -> None:
        """An expression starting `lead` columns into a line at `indent`: on that line
        when it fits; else a chain of and/or/->/<-> breaks before each operator and an
        `if ... else if ... else` chain before each `else` (and before `then` when
        `if c then x` alone is too wide), the parts laid out the same way one level
        deeper. Parenthesised expressions are never broken."""
        if self.fits(lambda sub: sub.walk(node), indent + lead) or not isinstance(node, Tree):
            self.walk(node)
            return
        if node.data in _CHAINS:
            operands, operators = _chain(node)
            self.expression(operands[0], indent, lead)
            for operator, operand in zip(operators, operands[1:], strict=True):
                self.brk(_Break(indent))
                self.word(operator)
                self.expression(operand, indent + INDENT, len(operator.value) + 1 - INDENT)
            return
        if node.data != "if_then_else":
            self.walk(node)
            return
        current: Node = node
        else_: Token | None = None  # the `else` before the current `if`
        while isinstance(current, Tree) and current.data == "if_then_else":
            if_, cond, then, value, next_else, rest = current.children
            start = lead
            if else_ is not None:
                self.brk(_Break(indent))
                self.word(else_)
                start = len("else ")
            segment = [if_, cond, then, value]

            def on_one_line(layout: _Layout, parts: list[Node] = segment) -> None:
                for part in parts:
                    layout.walk(part)

            if self.fits(on_one_line, indent + start):
                on_one_line(self)
            else:
                self.walk(if_)
                self.expression(cond, indent + INDENT, start + len("if ") - INDENT)
                self.brk(_Break(indent))
                self.walk(then)
                self.expression(value, indent + INDENT, len("then ") - INDENT)
            else_, current = _token(next_else), rest
        assert else_ is not None
        self.brk(_Break(indent))
        self.word(else_)
        self.expression(current, indent + INDENT, len("else ") - INDENT)

    def step(self, node: Tree[Token]) -> None:
        """One line when it fits; else the clauses on the next line; else one clause
        per line, each but the last ending in `;`."""
        kids = node.children
        colon = next(i for i, kid in enumerate(kids) if _is(kid, ":"))
        clauses = [kid for kid in kids[colon + 1 :] if not _is(kid, ";")]
        separators = [_token(kid) for kid in kids[colon + 1 :] if _is(kid, ";")]

        def head(layout: _Layout) -> None:
            for kid in kids[: colon + 1]:
                layout.walk(kid)

        def body(layout: _Layout) -> None:
            for i, clause in enumerate(clauses):
                layout.walk(clause)
                if i < len(separators):
                    if i + 1 < len(clauses):
                        layout.word(separators[i])
                    else:  # no trailing `;`
                        layout.drop(separators[i])

        def whole(layout: _Layout) -> None:
            head(layout)
            body(layout)

        if self.fits(whole, 0):
            whole(self)
            return
        head(self)
        if self.fits(body, INDENT):
            self.brk(_Break(INDENT))
            body(self)
            return
        for i, clause in enumerate(clauses):
            self.brk(_Break(INDENT))
            self.walk(clause)
            if i < len(separators):
                if i + 1 < len(clauses):
                    self.word(separators[i])
                else:
                    self.drop(separators[i])

    def test_item(self, node: Node) -> None:
        if not (isinstance(node, Tree) and node.data == "given"):
            self.walk(node)
            return
        kids = node.children

        def build(layout: _Layout, one_line: bool) -> None:
            layout.walk(kids[0])
            layout.members(kids[1:], one_line, INDENT)

        one_line = not self.has_comment(kids[1], kids[-1]) and self.fits(
            lambda sub: build(sub, True), INDENT
        )
        build(self, one_line)


# ---- the line writer -----------------------------------------------------------------


class _Writer:
    """Words and breaks -> lines, with each comment written where it was:
    trailing the word before it on that word's line, or on a line of its own."""

    def __init__(self, comments: list[Token]) -> None:
        self.comments = comments
        self.next_comment = 0
        self.lines: list[str] = []
        # line index -> where the code before its trailing comment ends
        self.trailing: dict[int, int] = {}
        self.line = ""  # the line being written, with its indent
        self.open = False  # `line` holds words that a trailing comment may follow
        self.pending: _Break | None = None
        self.broken = False  # the next word must start a line (a comment ended this one)
        self.statement_indent = 0
        self.last_line = 0  # source line of the last word or comment written
        # source lines a comment must be on to trail the current line: the last
        # word's, and those of the deferred `,` `;` `:` and dropped tokens after it
        self.trail_lines: tuple[int, ...] = ()

    def write(self, items: Sequence[_Item]) -> str:
        for item in items:
            if isinstance(item, _Break):
                if self.pending is not None:  # two breaks in a row: the later one wins
                    item = replace(item, first=item.first or self.pending.first)
                self.pending = item
            elif isinstance(item, _Dropped):
                # comments before it wait for the next word: a dropped `;` ends its
                # step, so they belong with whatever comes next, as on the next run
                self.trail_lines = (*self.trail_lines, item.line)
                self.last_line = max(self.last_line, item.line)
            else:
                self._word(item)
        self._comments_before(None)
        self._end_line()
        self._align_trailing()
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def _align_trailing(self) -> None:
        """Trailing comments on adjacent lines of one indentation start in one column,
        two spaces after the longest code among them (as gofmt does)."""

        def indent(i: int) -> int:
            return len(self.lines[i]) - len(self.lines[i].lstrip()) if i >= 0 else -1

        run: list[int] = []
        # a line that opens a block is not aligned with the block's first item
        lines = [
            i for i in sorted(self.trailing) if not self.lines[i][: self.trailing[i]].endswith("{")
        ]
        for index in [*lines, -2]:
            if run and (index != run[-1] + 1 or indent(index) != indent(run[-1])):
                column = max(self.trailing[i] for i in run) + 2
                for i in run:
                    line, end = self.lines[i], self.trailing[i]
                    self.lines[i] = line[:end].ljust(column) + line[end:].lstrip()
                run = []
            run.append(index)

    def _word(self, word: _Word) -> None:
        if not word.defer:
            self._comments_before(word.pos)
        if self.pending is not None:
            brk = self.pending
            self.pending = None
            blank = brk.item and not brk.first and word.line > self.last_line + 1
            self._new_line(brk.indent, blank)
            if brk.item:
                self.statement_indent = brk.indent
        elif self.broken:
            self._new_line(self.statement_indent + CONTINUATION, blank=False)
        elif word.space and self.open:
            self.line += " "
        self.line += word.text
        self.open = True
        self.broken = False
        self.trail_lines = (*self.trail_lines, word.line) if word.defer else (word.line,)
        self.last_line = max(self.last_line, word.line)

    def _comments_before(self, pos: int | None) -> None:
        while self.next_comment < len(self.comments):
            comment = self.comments[self.next_comment]
            if pos is not None and _start(comment) >= pos:
                return
            self.next_comment += 1
            self._comment(comment)

    def _comment(self, comment: Token) -> None:
        text = comment.value.rstrip()
        line = comment.line or 1
        if self.open and line in self.trail_lines:
            self.trailing[len(self.lines)] = len(self.line)
            self.line += "  " + text
        else:
            brk = self.pending
            if brk is None:  # inside a statement
                indent, blank = self.statement_indent + CONTINUATION, False
            else:
                indent = brk.indent if brk.comments_at is None else brk.comments_at
                blank = brk.item and not brk.first and line > self.last_line + 1
                # after a comment the next item no longer starts its block
                self.pending = replace(brk, first=False)
            self._new_line(indent, blank)
            self.line += text
        self._end_line()
        self.broken = True
        self.last_line = max(self.last_line, line)

    def _new_line(self, indent: int, blank: bool) -> None:
        self._end_line()
        if blank and self.lines and self.lines[-1]:
            self.lines.append("")
        self.line = " " * indent

    def _end_line(self) -> None:
        if self.line.strip():
            self.lines.append(self.line.rstrip())
        self.line = ""
        self.open = False
