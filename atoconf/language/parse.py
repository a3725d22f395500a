"""Text -> Lark tree, with every syntax error of a file reported in one pass.

The grammar in `grammars/atoconf.lark` is the single source of truth: the
lexer below is built from its terminals, and the LALR parser is Lark's. We
drive the parser token by token (through `lark_compat`, the one module that
touches Lark's internals) so that an error can be recovered from at the
next line (panic mode: drop parser states until the next line parses), which
gives at most one error per line and keeps every well-formed declaration.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import lark
from lark import Lark, Token, Tree

from atoconf.language.diagnostics import Diagnostic, Related, error
from atoconf.language.lark_compat import (
    Expecting,
    State,
    accepted_prefix,
    expecting,
    feed,
    finish,
    ignored_terminals,
    make_token,
    new_state,
    stack_depth,
    terminals,
    truncate,
)
from atoconf.language.source import SourceFile, Span

GRAMMAR_FILE = "atoconf.lark"
_ERROR_TOKEN = "$ERROR"
# operators of other languages, and the words this one writes them with
_OTHER_OPERATORS = {
    "|": "write 'or' instead",
    "&": "write 'and' instead",
    "!": "write 'not' instead ('!=' is 'not equal')",
}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

DECLARATION_KEYWORDS = frozenset(
    {"product", "import", "enum", "type", "parts", "component", "option", "rule", "step", "test"}
)


def grammar_text() -> str:
    """The grammar, from inside the installed package or from the source tree."""
    packaged = resources.files("atoconf").joinpath("grammars", GRAMMAR_FILE)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    in_tree = Path(__file__).resolve().parents[2] / "grammars" / GRAMMAR_FILE
    return in_tree.read_text(encoding="utf-8")


def _cache_file(text: str) -> str | bool:
    """Where Lark keeps the analysed grammar between runs (it costs 0.25 s to build;
    every command starts with it). In the user's own cache folder, not /tmp where
    another user could plant a pickle; no cache at all when that is not writable."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "atoconf"
    digest = hashlib.sha256(f"{text}{lark.__version__}".encode()).hexdigest()[:16]
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(base / f"grammar-{digest}.lark-cache") if os.access(base, os.W_OK) else False


def build_parser(cache: str | bool = False) -> Lark:
    """A new Lark parser of the grammar; `cache`: the file for its analysed grammar, or False."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=False,
        start=["start", "expression"],
        cache=cache,
    )


@lru_cache(maxsize=1)
def parser() -> Lark:
    return build_parser(_cache_file(grammar_text()))


def _new_state(start: str = "start") -> State:
    return new_state(parser(), start)


@dataclass(frozen=True)
class Comment:
    text: str
    line: int
    col: int
    own_line: bool  # nothing but whitespace before it on its line


@dataclass
class ParseResult:
    """A tree (None only when nothing could be recovered) and what went wrong."""

    source: SourceFile
    tree: Tree[Token] | None
    comments: list[Comment] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error_lines: set[int] = field(default_factory=set)
    # names and SKUs written on lines with syntax errors: "unknown name" errors
    # about them would only repeat the syntax error
    broken_names: set[str] = field(default_factory=set)


# ---- the lexer ---------------------------------------------------------------


class _Scanner:
    def __init__(self, lark: Lark) -> None:
        self.keywords: dict[str, str] = {}
        regex_terms = []
        grammar_terminals = terminals(lark)  # in the order Lark's own lexer tries them
        for term in grammar_terminals:
            if term.literal is not None and _WORD.fullmatch(term.literal):
                self.keywords[term.literal] = term.name
            else:
                regex_terms.append(term)
        self.master = re.compile("|".join(f"(?P<{t.name}>{t.regexp})" for t in regex_terms))
        self.ignore = ignored_terminals(lark)
        self.display = {t.name: t.literal for t in grammar_terminals if t.literal is not None}

    def scan(
        self, source: SourceFile
    ) -> tuple[list[Token], list[Comment], list[Diagnostic], set[int]]:
        text = source.text
        tokens: list[Token] = []
        comments: list[Comment] = []
        diagnostics: list[Diagnostic] = []
        bad_lines: set[int] = set()
        keywords = self.keywords
        match = self.master.match
        pos, line, line_start, n = 0, 1, 0, len(text)
        last_token_line = 0
        while pos < n:
            m = match(text, pos)
            col = pos - line_start + 1
            if m is None:
                char = text[pos]
                eol = text.find("\n", pos)
                eol = n if eol == -1 else eol
                span = Span(file=source.name, line=line, col=col, end_line=line, end_col=col + 1)
                if char == '"':
                    span = Span(
                        file=source.name,
                        line=line,
                        col=col,
                        end_line=line,
                        end_col=eol - line_start + 1,
                    )
                    diagnostics.append(
                        error(
                            "E0102",
                            "unterminated string",
                            span,
                            hint='close the string with " on the same line',
                        )
                    )
                elif char in _OTHER_OPERATORS:
                    written = char * 2 if text.startswith(char * 2, pos) else char
                    span = span.model_copy(update={"end_col": col + len(written)})
                    diagnostics.append(
                        error(
                            "E0100",
                            f"unexpected '{written}'",
                            span,
                            hint=_OTHER_OPERATORS[char],
                        )
                    )
                else:
                    printable = char.isprintable() and char != " "
                    shown = repr(char) if printable else f"U+{ord(char):04X}"
                    diagnostics.append(
                        error(
                            "E0100",
                            f"unexpected character {shown}",
                            span,
                            hint="remove it; names use letters, digits and '_', "
                            "part numbers go in double quotes",
                        )
                    )
                bad_lines.add(line)
                tokens.append(Token(_ERROR_TOKEN, char, pos, line, col, line, col + 1, pos + 1))
                pos = eol  # the rest of the line is not read: one error per line
                continue
            kind = m.lastgroup
            assert kind is not None
            value = m.group()
            end = m.end()
            if kind in self.ignore:
                if kind == "COMMENT":
                    comments.append(Comment(value, line, col, own_line=last_token_line != line))
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = pos + value.rfind("\n") + 1
                pos = end
                continue
            if kind == "NAME":
                kind = keywords.get(value, "NAME")
            tokens.append(make_token(kind, value, pos, line, col, end))
            last_token_line = line
            pos = end
        return tokens, comments, diagnostics, bad_lines

    def describe(self, token: Token) -> str:
        if token.type == "$END":
            return "end of file"
        if token.type == "NAME":
            return f"name '{token.value}'"
        if token.type == "STRING":
            return f"string {token.value}"
        if token.type == "NUMBER":
            return f"number {token.value}"
        if token.type in self.keywords.values():
            return f"keyword '{token.value}'"
        return f"'{token.value}'"

    def expected(self, name: str) -> str:
        return {
            "NAME": "a name",
            "STRING": "a string",
            "NUMBER": "a number",
            "$END": "end of file",
        }.get(name, f"'{self.display.get(name, name)}'")


@lru_cache(maxsize=1)
def _scanner() -> _Scanner:
    return _Scanner(parser())


# ---- friendly syntax errors ------------------------------------------------


@dataclass(frozen=True)
class SyntaxExample:
    message: str
    hint: str
    examples: tuple[str, ...]
    # the message fits whatever token was found in that parser state, not
    # only the token the examples show
    any_token: bool = True


# Each message is matched to a real error by the parser state the examples end in
# (Lark's `match_examples` idea); tests/test_parse.py runs every example.
SYNTAX_EXAMPLES: tuple[SyntaxExample, ...] = (
    SyntaxExample(
        "missing ':' after the component's name",
        "write `component cpu: CPU`",
        ("component cpu CPU\n",),
    ),
    SyntaxExample(
        "missing ':' before the rule's expression",
        'write `rule name "description": expression`',
        ("rule r cpu.cores > 2\n", 'rule r "Enough cores" cpu.cores > 2\n'),
    ),
    SyntaxExample(
        "'=' assigns a value; to compare, write '=='",
        "write `a == b`",
        ("rule r: usage = gaming\n", "rule r: cpu.socket = AM5\n", "rule r: (x) = 1\n"),
        any_token=False,
    ),
    SyntaxExample(
        "comparisons cannot be chained",
        "combine them with 'and': `1 <= x and x <= 3`",
        (
            "rule r: 1 < x < 3\n",
            "rule r: a == b == c\n",
            "rule r: a <= b < c\n",
            "rule r: a != b != c\n",
            "rule r: a >= b > c\n",
        ),
        any_token=False,
    ),
    SyntaxExample(
        "the expression is incomplete",
        "finish the expression after the operator",
        ("rule r: a ==\n", "rule r: a and\n", "rule r: a +\n", "rule r:\n"),
    ),
    SyntaxExample(
        "unclosed parenthesis",
        "add the missing ')'",
        ("rule r: (a and b\n", "rule r: max(a, b\n"),
    ),
    SyntaxExample(
        "'if' needs 'then' and 'else'",
        "write `if condition then value else value`",
        ("rule r: if a then b\n",),
        any_token=False,
    ),
    SyntaxExample(
        "an operator is missing between two values",
        "join them with an operator such as 'and', '==' or '+'",
        (
            "rule r: a b\n",
            "rule r: a == b c\n",
            "rule r: a.x 1\n",
            'rule r: a == "x" b\n',
            "rule r: (a) b\n",
            "rule r: a 1\n",
        ),
        any_token=False,
    ),
    SyntaxExample(
        "a part row starts with its part number in double quotes",
        'write `"CPU-R7-7700X" "Ryzen 7 7700X": socket=AM5, cores=8`',
        ("parts CPU {\n  CPU1: cores=8\n}\n",),
    ),
    SyntaxExample(
        "missing ':' after the part number",
        'write `"SKU" "Name": attribute=value, ...` (the colon is required)',
        ('parts CPU {\n  "CPU1" cores=8\n}\n', 'parts CPU {\n  "CPU1" "Name" cores=8\n}\n'),
    ),
    SyntaxExample(
        "missing ',' between attribute values",
        'write `"SKU": a=1, b=2`',
        ('parts CPU {\n  "CPU1": cores=8 tdp=65\n}\n',),
        any_token=False,
    ),
    SyntaxExample(
        "missing value after '='",
        "give a number, a string, true/false, an enum member or a set {A, B}",
        ('parts CPU {\n  "CPU1": cores=\n}\n', 'test "t" {\n  given { usage = }\n}\n'),
    ),
    SyntaxExample(
        "an attribute value is written `name=value`",
        'write `"SKU": cores=8`',
        ('parts CPU {\n  "CPU1": cores 8\n}\n',),
        any_token=False,
    ),
    SyntaxExample(
        "a type field needs a type",
        "write `name: int`, `decimal`, `bool`, `string`, an enum name or `set of EnumName`",
        ("type CPU {\n  cores\n}\n", "type CPU {\n  cores:\n}\n"),
    ),
    SyntaxExample(
        "a quantity is written `qty 2` or `qty 1..4`",
        "use two dots between the bounds",
        ("component m: Memory qty 1-4\n", "component m: Memory qty\n"),
    ),
    SyntaxExample(
        "component modifiers come in the order qty, optional, where",
        "write `component gpu: GPU qty 1..2 optional where vram_gb >= 8`",
        ("component g: GPU optional qty 1..2\n", "component g: GPU optional optional\n"),
        any_token=False,
    ),
    SyntaxExample(
        "an option needs a type",
        "write `option name: enum { a, b }`, `int 1..5`, `bool` or an enum name",
        ("option usage\n", "option usage:\n", "option years: int\n"),
    ),
    SyntaxExample(
        "step clauses are separated by ';'",
        'write `step name "Title": uses cpu, board; after other; minutes 5`',
        (
            "step s: uses cpu minutes 5\n",
            "step s: uses cpu after a\n",
            "step s: uses cpu when a\n",
            "step s: minutes 5 uses cpu\n",
            "step s: minutes 5 after a\n",
            "step s: minutes 5 when a\n",
            "step s: after a minutes 5\n",
            "step s: after a uses b\n",
            "step s: after a when b\n",
        ),
        any_token=False,
    ),
    SyntaxExample(
        "a test's name is a string",
        'write `test "what it checks" { ... }`',
        ("test t {\n}\n",),
    ),
    SyntaxExample(
        "'expect count' takes a whole number",
        "write `expect count 12`",
        ('test "t" {\n  expect count many\n}\n',),
    ),
    SyntaxExample(
        "an import names a file in double quotes",
        'write `import "common/parts.ato"`',
        ("import common\n",),
    ),
    SyntaxExample(
        "enum members are separated by ','",
        "write `enum Socket { AM5, LGA1700 }`",
        ("enum Socket { AM5 LGA1700 }\n",),
        any_token=False,
    ),
    SyntaxExample(
        "a declaration was expected here",
        "each line of a rule file continues a declaration or starts one with "
        "product, import, enum, type, parts, component, option, rule, step or test",
        ("components cpu: CPU\n", '"CPU1": cores=8\n'),
    ),
)


@dataclass(frozen=True)
class _Failure:
    state: int
    token: Token
    expected: frozenset[str]
    # blamed on the end of the line before (a declaration keyword came too early)
    at_line_end: bool = False


@lru_cache(maxsize=1)
def _example_index() -> tuple[dict[tuple[int, str], int], dict[int, int]]:
    """(parser state, token type) -> example entry, and parser state -> entry."""
    exact: dict[tuple[int, str], int] = {}
    by_state: dict[int, int] = {}
    for index, entry in enumerate(SYNTAX_EXAMPLES):
        for text in entry.examples:
            failure = first_failure(text)
            if failure is None:
                continue
            exact.setdefault((failure.state, failure.token.type), index)
            if entry.any_token:
                by_state.setdefault(failure.state, index)
    return exact, by_state


def first_failure(text: str) -> _Failure | None:
    """Where parsing `text` first fails, without recovery (for the example table)."""
    tokens, _, _, _ = _scanner().scan(SourceFile(name="<example>", text=text))
    state = _new_state()
    i = feed(state, tokens, 0)
    if i < len(tokens):
        return _failure(expecting(state), tokens[i])
    finished = _finish(state, _end_token(tokens, text))
    return None if isinstance(finished, Tree) else finished


def _failure(where: Expecting, token: Token) -> _Failure:
    return _Failure(where.state, token, where.expected)


def example_for(failure: _Failure) -> SyntaxExample | None:
    exact, by_state = _example_index()
    index = exact.get((failure.state, failure.token.type), by_state.get(failure.state))
    return None if index is None else SYNTAX_EXAMPLES[index]


def _line(token: Token) -> int:
    return token.line or 1


def token_span(file: str, token: Token) -> Span:
    """Where a token is; the end of the file gets a one-column span."""
    line, col = token.line or 1, token.column or 1
    if token.type == "$END":
        return Span(file=file, line=line, col=col, end_line=line, end_col=col + 1)
    return Span(
        file=file,
        line=line,
        col=col,
        end_line=token.end_line or line,
        end_col=token.end_column or col + 1,
    )


def _syntax_error(source: SourceFile, failure: _Failure) -> Diagnostic:
    scanner = _scanner()
    token = failure.token
    span = token_span(source.name, token)
    keyword = token.type in scanner.keywords.values()
    if "NAME" in failure.expected and keyword and not failure.at_line_end:
        return error(
            "E0103",
            f"'{token.value}' is a reserved keyword and cannot be used as a name",
            span,
            hint=f"choose another name, such as '{token.value}_'",
        )
    found = scanner.describe(token)
    example = example_for(failure)
    if example is not None:
        return error("E0101", f"{example.message} (found {found})", span, hint=example.hint)
    wanted = sorted(scanner.expected(t) for t in failure.expected)
    if 0 < len(wanted) < 5:
        message = f"unexpected {found}; expected {_or_list(wanted)}"
    else:
        message = f"unexpected {found}"
    return error("E0101", message, span, hint=None)


def _or_list(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


# ---- the parser driver -------------------------------------------------------


def _end_token(tokens: list[Token], text: str) -> Token:
    if tokens:
        last = tokens[-1]
        line, col = last.end_line, last.end_column
    else:
        line, col = 1, 1
    return Token("$END", "", len(text), line, col, line, col, len(text))


def _error_span(source: SourceFile, tokens: list[Token], i: int, end_token: Token) -> Token:
    """The token to blame: a declaration keyword (or the end of the file) that
    starts a line is blamed on the end of the line before, where something is missing."""
    token = tokens[i] if i < len(tokens) else end_token
    starts_line = i == 0 or _line(tokens[i - 1]) < _line(token)
    if i > 0 and starts_line and (token.type == "$END" or token.value in DECLARATION_KEYWORDS):
        prev = tokens[i - 1]
        end_line, end_col = prev.end_line or 1, prev.end_column or 1
        return Token(
            token.type,
            token.value,
            prev.end_pos,
            end_line,
            end_col,
            end_line,
            end_col + 1,
            prev.end_pos,
        )
    return token


def parse(source: SourceFile, start: str = "start") -> ParseResult:
    """Parse one file (or, with start="expression", one expression), reporting every
    syntax error (at most one per line)."""
    scanner = _scanner()
    tokens, comments, diagnostics, error_lines = scanner.scan(source)
    result = ParseResult(source=source, tree=None, comments=comments, diagnostics=diagnostics)
    result.error_lines = error_lines
    state = _new_state(start)
    end_token = _end_token(tokens, source.text)

    def report(i: int, stray: bool = False, at_end: _Failure | None = None) -> None:
        unclosed = None if stray else _unclosed_before(source, tokens, i, end_token)
        if unclosed is not None:
            if unclosed.span is not None and unclosed.span.line not in error_lines:
                result.diagnostics.append(unclosed)
                error_lines.add(unclosed.span.line)
            return
        blamed = _error_span(source, tokens, i, end_token)
        if _line(blamed) not in error_lines:
            failure = _failure(expecting(state), blamed) if at_end is None else at_end
            failure = _Failure(failure.state, blamed, failure.expected)
            if blamed is not tokens[i] if i < n else blamed is not end_token:
                failure = _Failure(failure.state, blamed, failure.expected, at_line_end=True)
            if stray:  # nothing could use this line: what the parser expected is beside the point
                failure = _Failure(-1, blamed, frozenset())
            result.diagnostics.append(_syntax_error(source, failure))
            error_lines.add(_line(blamed))

    n = len(tokens)
    i = 0
    while i < n:
        i = feed(state, tokens, i)
        if i == n:
            break
        report(i)
        # Panic mode: resume at this token when it starts its line, else at the
        # next line, dropping the fewest parser states that let the most of
        # that line parse. A line with an error must then parse whole, and
        # another line at least two tokens of it: one token fits too many places.
        token = tokens[i]
        starts_line = i == 0 or _line(tokens[i - 1]) < _line(token)
        j = i if starts_line and token.type != _ERROR_TOKEN else _next_line(tokens, i)
        while j < n:
            line_tokens = tokens[j : _next_line(tokens, j)]
            failed_line = _line(line_tokens[0]) in error_lines
            needed = len(line_tokens) if failed_line else min(2, len(line_tokens))
            best, depth = 0, 0
            for d in range(stack_depth(state), 0, -1):
                accepted = accepted_prefix(state, d, line_tokens)
                if accepted > best:
                    best, depth = accepted, d
                    if accepted == len(line_tokens):
                        break
            if best >= needed:
                truncate(state, depth)
                break
            report(j, stray=True)
            j += len(line_tokens)
        i = j

    finished = _finish(state, end_token)
    if isinstance(finished, Tree):
        result.tree = finished
    else:
        report(n, at_end=finished)
        result.tree = _finish_recovering(state, end_token)
    result.broken_names.update(
        t.value.strip('"') for t in tokens if t.line in error_lines and t.type in ("NAME", "STRING")
    )
    result.diagnostics.sort(key=lambda d: (d.span.line, d.span.col) if d.span else (0, 0))
    return result


def _unclosed_before(
    source: SourceFile, tokens: list[Token], i: int, end_token: Token
) -> Diagnostic | None:
    """When a declaration (or the end of the file) comes while a `{` is still open: the
    error where it comes, with a note at that `{`; None otherwise."""
    token = tokens[i] if i < len(tokens) else end_token
    starts_line = i == 0 or i >= len(tokens) or _line(tokens[i - 1]) < _line(token)
    if not (token.type == "$END" or (starts_line and token.value in DECLARATION_KEYWORDS)):
        return None
    open_braces: list[Token] = []
    for t in tokens[:i]:
        if t.type == "LBRACE":
            open_braces.append(t)
        elif t.type == "RBRACE" and open_braces:
            open_braces.pop()
    if not open_braces:
        return None
    brace = open_braces[-1]
    where = "the end of the file" if token.type == "$END" else f"'{token.value}'"
    return error(
        "E0104",
        f"the '{{' on line {brace.line} is not closed before {where}",
        token_span(source.name, token),
        hint="close it with '}' where its block ends",
        related=[Related(message="this '{' is not closed", span=token_span(source.name, brace))],
    )


def _next_line(tokens: list[Token], i: int) -> int:
    line = tokens[i].line
    j = i + 1
    while j < len(tokens) and tokens[j].line == line:
        j += 1
    return j


def _finish(state: State, end_token: Token) -> Tree[Token] | _Failure:
    """Feed the end of the file to a copy of the parser: the tree, or where it failed."""
    finished = finish(state, end_token)
    return finished if isinstance(finished, Tree) else _failure(finished, end_token)


def _finish_recovering(state: State, end_token: Token) -> Tree[Token] | None:
    """Drop unfinished declarations until the file can end."""
    while stack_depth(state) > 1:
        truncate(state, stack_depth(state) - 1)
        tree = _finish(state, end_token)
        if isinstance(tree, Tree):
            return tree
    return None
