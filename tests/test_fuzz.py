"""Property tests: no rule text, however broken, makes the loader raise.

Every example starts from a real rule file (the bundled catalogs and
tests/fixtures/fuzz_base.ato) and breaks it: tokens deleted, inserted, swapped
or replaced, the text cut short, odd characters and raw bytes put in, the
file saved in another encoding. Whatever comes out, `parse`, `load_text` and
`load_file` must return diagnostics, never raise, and every diagnostic must
point inside the file it names, with at most one syntax error per line.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoconf.language.build import LoadResult, load_file, load_text
from atoconf.language.codes import CODES
from atoconf.language.diagnostics import RENDERERS, Diagnostic
from atoconf.language.parse import parse
from atoconf.language.source import SourceFile, Span
from tests.conftest import CATALOGS, ROOT, SMALL

CATALOG_FILES = sorted(CATALOGS.glob("*/*.ato")) + sorted(CATALOGS.glob("*/*/*.ato"))
SEED_FILES = [SMALL, *CATALOG_FILES]
SEEDS = {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8") for path in SEED_FILES}
SEED_NAMES = sorted(SEEDS)

SYNTAX_CODES = {"E0100", "E0101", "E0102", "E0103", "E0104"}

# Splits text into tokens and the whitespace between them; joining the pieces
# gives the text back, so a mutation changes only what it means to change.
PIECE = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?'
    r"|\.\.|<->|->|[=!<>]=|\s+|.",
    re.DOTALL,
)

# fmt: off
KEYWORDS = [
    "product", "import", "enum", "type", "parts", "from", "component", "qty", "optional",
    "where", "option", "rule", "step", "uses", "after", "minutes", "when", "test", "given",
    "expect", "valid", "invalid", "because", "count", "in", "and", "or", "not", "if", "then",
    "else", "none", "true", "false", "set", "of", "unit", "default", "int", "decimal", "bool",
    "string",
]
PUNCTUATION = [
    "{", "}", "(", ")", ":", ",", ";", ".", "..", "=", "==", "!=", "<", "<=", ">", ">=", "+",
    "-", "*", "/", "->", "<->", "|", "#", "\\", '"', "'", "@", "$", "[", "]",
]
# fmt: on
SAMPLES = [
    "cpu",
    "socket",
    "AM5",
    "Socket.AM5",
    "total",
    "exactly_one",
    "0",
    "1",
    "-1",
    "99999999999999999999999",
    "0.10",
    "1..4",
    '"CPU-X"',
    '""',
    '"a\\"b"',
    '"unclosed',
    "\n",
    "\n\n",
    "\t",
    "\r\n",
]
TOKENS = st.sampled_from(KEYWORDS + PUNCTUATION + SAMPLES) | st.from_regex(
    r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True
)

ODD_CHARACTERS = st.sampled_from(
    [
        "\x00",
        "\x07",
        "\x0b",
        "\x0c",
        "\r",
        "\x1b",
        "\x7f",
        "\x85",
        "\xa0",
        "\u200b",
        "\u200d",
        "\u2028",
        "\u2029",
        "\u202e",
        "\ufeff",
        "\ufffd",
        "\uffff",
        "é",
        "ß",
        "€",
        "日本",
        "\U0001f600",
        "e\u0301",
    ]
)
UNICODE_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=6)


# ---- the properties every load result must have -------------------------------------


def line_length(source: SourceFile, line: int) -> int:
    return len(source.line_text(line))


def check_span(d: Diagnostic, span: Span, sources: dict[str, SourceFile]) -> None:
    assert span.file in sources, f"{d.code} names {span.file!r}, which was not read: {d}"
    source = sources[span.file]
    lines = source.line_count  # the line after a final newline counts: end of file is there
    where = f"{d.code} {d.message!r} at {span.line}:{span.col}-{span.end_line}:{span.end_col}"
    assert 1 <= span.line <= span.end_line <= lines, f"{where}: the file has {lines} lines"
    assert 1 <= span.col <= line_length(source, span.line) + 1, f"{where}: column off the line"
    end_limit = line_length(source, span.end_line) + 1
    # A one-character caret just past the end of a line points at where something is
    # missing (an unfinished expression before the next line or the end of the file).
    missing_here = span.end_line == span.line and span.col == end_limit
    assert 1 <= span.end_col <= end_limit + missing_here, f"{where}: end column off the line"
    if span.end_line == span.line:
        assert span.end_col >= span.col, f"{where}: ends before it starts"


def check_diagnostics(diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
    syntax_lines: Counter[tuple[str, int]] = Counter()
    for d in diagnostics:
        assert d.code in CODES, f"undocumented code {d.code}"
        assert d.message.strip(), f"{d.code} has an empty message"
        if d.span is not None:
            check_span(d, d.span, sources)
            for related in d.related:
                check_span(d, related.span, sources)
            if d.code in SYNTAX_CODES:
                syntax_lines[(d.span.file, d.span.line)] += 1
    repeated = {key: n for key, n in syntax_lines.items() if n > 1}
    assert not repeated, f"more than one syntax error on a line: {repeated}"


def check_result(result: LoadResult) -> None:
    check_diagnostics(result.diagnostics, result.sources)
    has_errors = any(d.is_error for d in result.diagnostics)
    assert (result.model is None) == has_errors, "a model exactly when there are no errors"
    # what `atoconf check` prints must come out in every format
    for name, render in RENDERERS.items():
        shown = render(result.diagnostics, result.sources)
        if name in ("json", "sarif"):
            json.loads(shown)
        elif result.diagnostics:
            assert shown.strip()


def check_text(text: str, name: str = "fuzz.ato") -> None:
    """Parse and load `text`; both must only report."""
    source = SourceFile(name=name, text=text)
    parsed = parse(source)
    check_diagnostics(parsed.diagnostics, {name: source})
    assert {d.code for d in parsed.diagnostics} <= SYNTAX_CODES
    check_result(load_text(text, name))


# ---- mutations ------------------------------------------------------------------------


SEED_PIECES = {name: tuple(PIECE.findall(text)) for name, text in SEEDS.items()}


def mutate(draw: st.DrawFn, name: str, edits: int) -> str:
    """A seed with `edits` token-level edits: deletions, insertions, swaps, replacements."""
    parts = list(SEED_PIECES[name])
    for _ in range(edits):
        words = [i for i, p in enumerate(parts) if not p.isspace()]
        if not words:
            parts.append(draw(TOKENS))
            continue
        i = words[draw(st.integers(0, len(words) - 1))]
        kind = draw(st.sampled_from(["delete", "insert", "swap", "replace"]))
        if kind == "delete":
            del parts[i]
        elif kind == "insert":
            spacing = draw(st.sampled_from(["", " "]))
            parts.insert(i, draw(TOKENS) + spacing)
        elif kind == "swap":
            later = [w for w in words if w > i]
            if later:
                parts[i], parts[later[0]] = parts[later[0]], parts[i]
        else:
            parts[i] = draw(TOKENS)
    return "".join(parts)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A seed file with one to six token-level edits."""
    seed = draw(st.sampled_from(SEED_NAMES))
    return mutate(draw, seed, draw(st.integers(1, 6)))


@st.composite
def with_odd_characters(draw: st.DrawFn) -> str:
    """A seed file with unicode and control characters put in at random places."""
    text = SEEDS[draw(st.sampled_from(SEED_NAMES))]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        inserted = draw(ODD_CHARACTERS | UNICODE_TEXT)
        text = text[:at] + inserted + text[at:]
    return text


# ---- text in memory -------------------------------------------------------------------


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_files_are_valid(name: str) -> None:
    """The starting points load without errors."""
    result = load_file(ROOT / name)
    check_result(result)
    assert [d for d in result.diagnostics if d.is_error] == []
    assert result.model is not None


@settings(max_examples=100, deadline=None)
@given(mutated())
def test_token_mutations_only_report(text: str) -> None:
    check_text(text)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(SEED_NAMES), st.floats(0, 1))
def test_truncated_text_only_reports(name: str, fraction: float) -> None:
    text = SEEDS[name]
    check_text(text[: int(len(text) * fraction)])


@settings(max_examples=40, deadline=None)
@given(with_odd_characters())
def test_unicode_and_control_characters_only_report(text: str) -> None:
    check_text(text)


@settings(max_examples=40, deadline=None)
@given(st.lists(TOKENS | ODD_CHARACTERS, max_size=40).map(" ".join))
def test_token_soup_only_reports(text: str) -> None:
    check_text(text)


def test_deeply_chained_expressions_only_report() -> None:
    """Long generated rules must not exhaust Python's recursion limit."""
    head = "product p\noption a: int 1..3\noption b: bool\n"
    for expr in (
        " + ".join(["a"] * 1000) + " > 1",
        " and ".join(["b"] * 1000),
        "not " * 1000 + "b",
        "-" * 1000 + "a < 0",
        "(" * 1000 + "b" + ")" * 1000,
    ):
        result = load_text(head + f"rule r: {expr}\n", "deep.ato")
        check_result(result)
        for d in result.diagnostics:
            assert d.span is not None and d.span.line == 4, d


HUGE = "9" * 5000  # longer than Python's default limit for int("...") (4300 digits)
SMALL_PRODUCT = """\
product p
type T {
  n: int
  d: decimal default 0
}
parts T {
  "T1": n=1
}
component t: T
option o: int 1..3
"""


@pytest.mark.parametrize(
    "text",
    [
        SMALL_PRODUCT + f"rule r: t.n < {HUGE}\n",
        SMALL_PRODUCT + f"rule r: t.d < {HUGE}.5\n",
        SMALL_PRODUCT.replace("n=1", f"n={HUGE}"),
        SMALL_PRODUCT.replace("n=1", f"n=-{HUGE}"),
        SMALL_PRODUCT.replace("n: int", f"n: int default {HUGE}"),
        SMALL_PRODUCT.replace("component t: T", f"component t: T qty 1..{HUGE}"),
        SMALL_PRODUCT.replace("int 1..3", f"int 1..{HUGE}"),
        SMALL_PRODUCT.replace("int 1..3", f"int 1..3 default {HUGE}"),
        SMALL_PRODUCT + f"step s: uses t; minutes {HUGE}\n",
        SMALL_PRODUCT + f'test "t" {{\n  expect count {HUGE}\n}}\n',
        SMALL_PRODUCT + f'test "t" {{\n  given {{ o = {HUGE} }}\n  expect valid\n}}\n',
        SMALL_PRODUCT + f'test "t" {{\n  expect o in {{ {HUGE} }}\n}}\n',
    ],
    ids=[
        "rule",
        "rule-decimal",
        "part-value",
        "negative-part-value",
        "default",
        "qty",
        "option-range",
        "option-default",
        "minutes",
        "expect-count",
        "given",
        "expect-in",
    ],
)
def test_huge_numbers_only_report(text: str) -> None:
    """A 5000-digit number is accepted exactly or reported, wherever it is written."""
    check_text(text)


# ---- files on disk --------------------------------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the catalogs and the fixture, so imports and CSV paths resolve."""
    root = tmp_path_factory.mktemp("fuzz")
    if CATALOGS.is_dir():
        shutil.copytree(CATALOGS, root / "catalogs")
    shutil.copy(SMALL, root / "fuzz_base.ato")
    return root


def seed_path(workspace: Path, name: str) -> Path:
    return workspace / (name if name.startswith("catalogs/") else Path(name).name)


def write_beside(workspace: Path, name: str, data: bytes) -> Path:
    """Write `data` as a new file next to the seed it came from."""
    path = seed_path(workspace, name).with_name("mutant.ato")
    path.write_bytes(data)
    return path


def on_disk(examples: int) -> settings:
    """Settings for tests that share the module's workspace (each example rewrites its files)."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


@on_disk(30)
@given(st.sampled_from(SEED_NAMES), st.data())
def test_mutated_files_with_imports_only_report(
    workspace: Path, name: str, data: st.DataObject
) -> None:
    text = mutate(data.draw, name, data.draw(st.integers(1, 4)))
    path = write_beside(workspace, name, text.encode("utf-8"))
    check_result(load_file(path))


@on_disk(12)
@given(st.data())
def test_mutated_csv_parts_only_report(workspace: Path, data: st.DataObject) -> None:
    csvs = sorted(workspace.glob("catalogs/*/parts/*.csv"))
    products = sorted(workspace.glob("catalogs/*/*.ato"))
    assert csvs and products, "the bundled catalogs have CSV parts files"
    csv = data.draw(st.sampled_from(csvs))
    original = csv.read_bytes()
    text = original.decode("utf-8")
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 3))
        inserted = data.draw(st.sampled_from([",", '"', '""', "\n", "\r\n", "|", "x", "é", ""]))
        text = text[:at] + inserted + text[at + cut :]
    try:
        csv.write_bytes(text.encode("utf-8"))
        for product in products:
            if product.name != "mutant.ato":
                check_result(load_file(product))
    finally:
        csv.write_bytes(original)


@on_disk(40)
@given(st.binary(max_size=300))
def test_random_bytes_only_report(workspace: Path, data: bytes) -> None:
    path = workspace / "bytes.ato"
    path.write_bytes(data)
    result = load_file(path)
    check_result(result)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        assert_not_utf8(result, path, data[: exc.start].count(b"\n") + 1)


def assert_not_utf8(result: LoadResult, path: Path, line: int) -> None:
    """One E0001 that names the file, says it is not UTF-8 and on which line."""
    assert [d.code for d in result.diagnostics] == ["E0001"]
    message = result.diagnostics[0].message
    assert str(path) in message or path.name in message
    assert "not valid UTF-8" in message
    assert f"on line {line})" in message


NON_ASCII_WORDS = ["Größe", "café", "naïve", "Señor", "Ærø", "½ inch", "80°C"]


@on_disk(30)
@given(
    st.sampled_from(SEED_NAMES),
    st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252"]),
    st.sampled_from(NON_ASCII_WORDS),
    st.data(),
)
def test_other_encodings_are_reported(
    workspace: Path, name: str, encoding: str, word: str, data: st.DataObject
) -> None:
    """A file saved as UTF-16 or Latin-1 is one clear error, not a crash or noise."""
    lines = SEEDS[name].encode("ascii", "replace").decode("ascii").split("\n")
    at = data.draw(st.integers(0, len(lines) - 1))
    lines.insert(at, f'rule note "{word}": true  # {word}')
    path = write_beside(workspace, name, "\n".join(lines).encode(encoding))
    result = load_file(path)
    check_result(result)
    # UTF-16 with a byte order mark fails on its first byte; otherwise ASCII
    # reads the same in every one of these encodings, up to the word
    assert_not_utf8(result, path, 1 if encoding == "utf-16" else at + 1)
