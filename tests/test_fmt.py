"""`atoconf fmt`: golden layouts (tests/fmt/NAME.in.ato -> NAME.out.ato), properties on
perturbed random products, on every construct and on the bundled catalogs (formatting
is idempotent, keeps the model and keeps every comment), and the command end to end."""

from __future__ import annotations

import re
import shutil
import stat
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atoconf.language.build import load_file
from atoconf.language.fmt import format_text
from atoconf.language.model import Model
from atoconf.language.parse import DECLARATION_KEYWORDS, parse, parser
from atoconf.language.source import SourceFile
from tests.conftest import CATALOGS, ROOT, Ran, cli, load_model
from tests.strategies import FAST, random_models

GOLDEN = ROOT / "tests" / "fmt"
CONSTRUCTS = ROOT / "tests" / "grammar" / "constructs.ato"
CASES = sorted(p.name.removesuffix(".in.ato") for p in GOLDEN.glob("*.in.ato"))
CATALOG_FILES = sorted(str(p.relative_to(CATALOGS)) for p in CATALOGS.rglob("*.ato"))


# ---- helpers ----------------------------------------------------------------------------


def fmt(text: str) -> str:
    result = format_text(text, "<test>")
    assert result.text is not None, [f"{d.span}: {d.message}" for d in result.diagnostics]
    return result.text


def comments(text: str) -> Counter[str]:
    """The comments of a text, from the lexer (a `#` inside a string is no comment)."""
    return Counter(c.text.strip() for c in parse(SourceFile("<test>", text)).comments)


def tokens(text: str) -> list[str]:
    """The tokens of a text, less the optional `,` before `}` and `;` ending a step
    (the formatter adds or drops those)."""
    words = [str(t.value) for t in parser().lex(text)]
    kept = []
    for i, word in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else None
        if word == "," and after == "}":
            continue
        if word == ";" and (after is None or after in DECLARATION_KEYWORDS):
            continue
        kept.append(word)
    return kept


SPAN_KEYS = frozenset({"file", "line", "col", "end_line", "end_col"})


def _without(data: Any, files: bool) -> Any:
    """Every span (whatever field holds it) as None, and no "files" unless `files`."""
    if isinstance(data, dict):
        if data.keys() == SPAN_KEYS:
            return None
        return {k: _without(v, files) for k, v in data.items() if files or k != "files"}
    if isinstance(data, list | tuple):
        return [_without(v, files) for v in data]
    return data


def meaning(model: Model | None, keep_files: bool = True) -> Any:
    """A model as data, without where things were written (every span, and the
    file names unless `keep_files`)."""
    assert model is not None
    return _without(model.model_dump(), files=keep_files)


def loaded(text: str) -> Model:
    return load_model(text, "<test>")


def assert_formats_well(text: str) -> str:
    """Idempotent, no comment lost, the same tokens; the formatted text."""
    formatted = fmt(text)
    assert fmt(formatted) == formatted
    assert comments(formatted) == comments(text)
    assert tokens(formatted) == tokens(text)
    return formatted


def assert_same_layout(messy: str, text: str) -> None:
    """The layout depends on the tokens, not on the whitespace between them
    (but for the blank lines, which are kept)."""
    assert fmt(messy).replace("\n\n", "\n") == fmt(text).replace("\n\n", "\n")


# ---- golden files -----------------------------------------------------------------------


def test_there_are_golden_cases() -> None:
    assert {"spec", "spacing", "comments", "blank_lines", "long"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    source = (GOLDEN / f"{name}.in.ato").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{name}.out.ato").read_text(encoding="utf-8")
    assert fmt(source) == expected
    assert assert_formats_well(source) == expected
    assert fmt(expected) == expected


def test_the_spec_example_is_canonical_but_for_the_column_of_comments() -> None:
    """SPEC §1's example is laid out as fmt would, except where its trailing comments
    start: fmt puts those of adjacent lines in one column, two spaces after the
    longest code among them."""
    source = (GOLDEN / "spec.in.ato").read_text(encoding="utf-8")
    formatted = fmt(source)
    assert re.sub(r" +#", "  #", formatted) == re.sub(r" +#", "  #", source)
    lines = formatted.splitlines()
    boot = next(i for i, line in enumerate(lines) if line.startswith("component boot"))
    # the comments of the three adjacent components start in one column
    columns = {lines[i].index("#") for i in (boot - 2, boot - 1, boot)}
    assert columns == {len(lines[boot].split("  #")[0]) + 2}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("\n\n  \t\n", ""),
        ("  # a   \n\n\n\t# b", "# a\n\n# b\n"),
        ("\ufeffenum E {A}\r\nenum F {B}\r\n", "enum E { A }\nenum F { B }\n"),
        ('product p "a # not a comment"', 'product p "a # not a comment"\n'),
        ('parts P { "a\tb": }', 'parts P {\n  "a\tb":\n}\n'),
        ("rule r: a - -b - (-c)", "rule r: a - -b - (-c)\n"),
        ("rule r: x in {}  and count() == 0", "rule r: x in {} and count() == 0\n"),
        ("option o: int -2 .. -1 default - 2", "option o: int -2..-1 default -2\n"),
        ("type T { s: set of E default { } }", "type T {\n  s: set of E default {}\n}\n"),
        ('test "t" { given { } }', 'test "t" {\n  given {}\n}\n'),
        ("rule r: ((a)).b.qty", "rule r: ((a)).b.qty\n"),
    ],
)
def test_small_cases(text: str, expected: str) -> None:
    assert fmt(text) == expected


def test_a_syntax_error_gives_the_parsers_diagnostics() -> None:
    result = format_text("enum E { A }\nrule r: (a and b\n", "bad.ato")
    assert result.text is None
    assert [(d.code, d.span.line if d.span else 0) for d in result.diagnostics] == [("E0101", 2)]
    assert result.diagnostics[0].message.startswith("unclosed parenthesis")


# ---- properties -------------------------------------------------------------------------

_COMMENT_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")) | st.sampled_from('\t#" '),
    max_size=12,
)
_SPACES = st.sampled_from(["", " ", "  ", "\t", "\n", " \n\n\n", "\n \t \n  "])
_COMMENT = st.builds(
    lambda shape, body: shape.format(body),
    st.sampled_from([" #{}\n", "#{}\n", "\n#{}\n", "\n\n  #{}\n\n"]),
    _COMMENT_TEXT,
)


@st.composite
def perturbed(draw: st.DrawFn, text: str, with_comments: bool = True) -> str:
    """The text with its tokens all on one line, one per line or as written, then
    up to 40 gaps between them changed: other whitespace, or a comment on a line of
    its own or at a line end."""
    found = list(parser().lex(text))
    ends = [0, *(t.end_pos or 0 for t in found)]
    starts = [*(t.start_pos or 0 for t in found), len(text)]
    written = [text[end:start] for end, start in zip(ends, starts, strict=True)]
    layout = draw(st.sampled_from(["as written", "one line", "one token per line"]))
    gaps = {"as written": written, "one line": [" "] * len(written)}.get(
        layout, ["\n"] * len(written)
    )
    new_gap = (_SPACES | _COMMENT) if with_comments else _SPACES
    for i, gap in draw(st.lists(st.tuples(st.integers(0, len(found)), new_gap), max_size=40)):
        # tokens need some space between them (a comment ends in a new line)
        gaps[i] = gap if gap or i in (0, len(found)) else " "
    return "".join(gap + str(word) for gap, word in zip(gaps, [*found, ""], strict=True))


@FAST
@given(st.data())
def test_random_products_format_to_the_same_model(data: st.DataObject) -> None:
    text, model = data.draw(random_models())
    assert_same_layout(data.draw(perturbed(text, with_comments=False)), text)
    messy = data.draw(perturbed(text))
    formatted = assert_formats_well(messy)
    # random_models names its text random.ato
    assert meaning(loaded(messy), keep_files=False) == meaning(model, keep_files=False)
    assert meaning(loaded(formatted), keep_files=False) == meaning(model, keep_files=False)


@settings(FAST, max_examples=30)
@given(st.data())
def test_every_construct_formats_to_the_same_model(data: st.DataObject) -> None:
    text = CONSTRUCTS.read_text(encoding="utf-8")
    assert_same_layout(data.draw(perturbed(text, with_comments=False)), text)
    messy = data.draw(perturbed(text))
    formatted = assert_formats_well(messy)
    assert meaning(loaded(formatted)) == meaning(loaded(text))


@pytest.fixture(scope="module")
def formatted_catalogs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of catalogs/ with every rule file formatted (the CSVs beside them)."""
    copy = tmp_path_factory.mktemp("fmt") / "catalogs"
    shutil.copytree(CATALOGS, copy)
    for path in copy.rglob("*.ato"):
        path.write_text(fmt(path.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


def test_there_are_catalogs() -> None:
    assert len(CATALOG_FILES) >= 3


@pytest.mark.parametrize("name", CATALOG_FILES)
def test_catalog_files_format_to_the_same_model(name: str, formatted_catalogs: Path) -> None:
    original = (CATALOGS / name).read_text(encoding="utf-8")
    formatted = (formatted_catalogs / name).read_text(encoding="utf-8")
    assert fmt(formatted) == formatted
    assert comments(formatted) == comments(original)
    assert tokens(formatted) == tokens(original)
    before, after = load_file(CATALOGS / name), load_file(formatted_catalogs / name)
    assert before.model is not None, "the catalog itself does not load"
    assert meaning(after.model, keep_files=False) == meaning(before.model, keep_files=False)


# ---- the command ------------------------------------------------------------------------

MESSY = "enum   E{A,B}\nrule r:x>1 # why\n"
CLEAN = "enum E { A, B }\nrule r: x > 1  # why\n"


def run(*args: str, stdin: str | None = None) -> Ran:
    """`atoconf fmt ARGS`, which never ends in a traceback (nor does any `cli` run)."""
    return cli("fmt", *args, stdin=stdin, in_process=True)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def test_files_are_rewritten_in_place_silently(tmp_path: Path) -> None:
    messy = write(tmp_path / "messy.ato", MESSY)
    messy.chmod(0o640)
    clean = write(tmp_path / "clean.ato", CLEAN)
    untouched = clean.stat()
    assert run(str(messy), str(clean)) == (0, "", "")
    assert messy.read_text(encoding="utf-8") == CLEAN
    assert stat.S_IMODE(messy.stat().st_mode) == 0o640
    assert (clean.stat().st_ino, clean.stat().st_mtime_ns) == (
        untouched.st_ino,
        untouched.st_mtime_ns,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.ato", "messy.ato"]


def test_a_symbolic_link_stays_a_link(tmp_path: Path) -> None:
    target = write(tmp_path / "real" / "rules.ato", MESSY)
    link = tmp_path / "link.ato"
    link.symlink_to(target)
    assert run(str(link)) == (0, "", "")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == CLEAN


def test_check_lists_the_files_to_change_and_writes_nothing(tmp_path: Path) -> None:
    messy = write(tmp_path / "messy.ato", MESSY)
    clean = write(tmp_path / "clean.ato", CLEAN)
    crlf = write(tmp_path / "crlf.ato", CLEAN.replace("\n", "\r\n"))
    assert run("--check", str(messy), str(clean), str(crlf)) == (1, f"{messy}\n{crlf}\n", "")
    assert messy.read_text(encoding="utf-8") == MESSY
    assert crlf.read_bytes() == CLEAN.replace("\n", "\r\n").encode()
    assert run("--check", str(clean)) == (0, "", "")


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path: Path) -> None:
    messy = write(tmp_path / "messy.ato", MESSY)
    clean = write(tmp_path / "clean.ato", CLEAN)
    code, out, err = run("--diff", str(messy), str(clean))
    assert (code, err) == (1, "")
    assert out == (
        f"--- a/{messy}\n+++ b/{messy}\n@@ -1,2 +1,2 @@\n"
        "-enum   E{A,B}\n-rule r:x>1 # why\n+enum E { A, B }\n+rule r: x > 1  # why\n"
    )
    assert messy.read_text(encoding="utf-8") == MESSY
    assert run("--diff", "--check", str(messy)) == (code, out, err)
    assert run("--diff", str(clean)) == (0, "", "")


def test_a_folder_stands_for_every_rule_file_below_it(tmp_path: Path) -> None:
    files = [write(tmp_path / n, MESSY) for n in ("b/x.ato", "a.ato", "b/c/y.ato")]
    other = write(tmp_path / "b" / "parts.csv", "sku,name\n")
    expected = "".join(f"{tmp_path / n}\n" for n in ("a.ato", "b/c/y.ato", "b/x.ato"))
    assert run("--check", str(tmp_path)) == (1, expected, "")
    assert run(str(tmp_path)) == (0, "", "")
    assert [f.read_text(encoding="utf-8") for f in files] == [CLEAN] * 3
    assert other.read_text(encoding="utf-8") == "sku,name\n"


def test_a_file_with_syntax_errors_is_reported_and_left_alone(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.ato", "enum   E{A}\nrule r: (a and b\n")
    messy = write(tmp_path / "messy.ato", MESSY)
    code, out, err = run(str(bad), str(messy))
    assert (code, out) == (2, "")
    assert f"{bad}:2:17: error[E0101]: unclosed parenthesis" in err
    assert bad.read_text(encoding="utf-8") == "enum   E{A}\nrule r: (a and b\n"
    assert messy.read_text(encoding="utf-8") == CLEAN  # the other files are still formatted


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.ato"
    messy = write(tmp_path / "messy.ato", MESSY)
    code, out, err = run("--check", str(missing), str(messy))
    assert (code, out) == (2, f"{messy}\n")
    assert err == f"atoconf: error: {missing}: no such file; check the path\n"


def test_stdin_is_formatted_to_stdout() -> None:
    assert run("-", stdin=MESSY) == (0, CLEAN, "")
    assert run("--check", "-", stdin=MESSY) == (1, "<stdin>\n", "")
    assert run("--check", "-", stdin=CLEAN) == (0, "", "")
    code, out, err = run("-", stdin="rule r: (a\n")
    assert (code, out) == (2, "")
    assert "<stdin>:1:11: error[E0101]" in err
