"""The machine-readable reports of `atoconf check`: SARIF, GitHub annotations, JSON, text.

The SARIF log is validated against the official SARIF 2.1.0 schema, vendored in
tests/fixtures so that no test touches the network.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from atoconf import __version__
from atoconf.language.diagnostics import (
    Diagnostic,
    Related,
    Severity,
    check_json,
    render_github,
    sarif_log,
)
from atoconf.language.source import Span
from tests.conftest import SARIF_SCHEMA, Ran, cli

# The OASIS schema (errata01), byte for byte; a changed hash means the copy was edited.
SCHEMA_SHA256 = "ddddcccbf95c7c50c037b5b07eff4140556278ca574ff374db46786b5fce7949"

# ---- the models ---------------------------------------------------------------

MAIN = """\
product lamp "Desk lamp"
import "lib_a.ato"

component shade: Shade
option color: Finish default black

rule color_match: shade.finsh == color
rule chained: 1 < shade.diameter_mm < 400
rule pick "100% sure": shade == "SH-50%"
"""

LIB_A = """\
import "lib_b.ato"
enum Finish { black, white, brass }
"""

LIB_B = """\
import "lib_a.ato"
type Shade {
  finish: Finish
  diameter_mm: int unit "mm"
}
parts Shade {
  "SH-20": finish=black, diameter_mm=200
}
"""

CLEAN = """\
product lamp "Desk lamp"
enum Finish { black, white, brass }
type Shade {
  finish: Finish
  diameter_mm: int unit "mm"
}
parts Shade {
  "SH-20" "Shade 20 cm": finish=black, diameter_mm=200
  "SH-30" "Shade 30 cm": finish=brass, diameter_mm=300
  "SH-40" "Shade 40 cm": finish=white, diameter_mm=400
}
component shade: Shade
option color: Finish default black
rule color_match "The shade has the colour the customer chose": shade.finish == color
"""

TYPO = """\
product lamp
enum Finish { black, white }
type Shade {
  finish: Finish
}
parts Shade {
  "SH-1": finish=black
}
component shade: Shade
rule r: shade.finsh == black
"""

CYCLE_HINT = "move the shared declarations into a library that both import"

# (ruleId, file, startLine, startColumn, endLine, endColumn, message, hint) in report order
EXPECTED_BAD = [
    (
        "E0501",
        "lib_b.ato",
        1,
        1,
        1,
        19,
        "import cycle: lib_a.ato -> lib_b.ato -> lib_a.ato",
        CYCLE_HINT,
    ),
    (
        "E0204",
        "main.ato",
        7,
        25,
        7,
        30,
        "'finsh' is not an attribute of shade (type Shade)",
        "did you mean 'finish'?",
    ),
    (
        "E0101",
        "main.ato",
        8,
        37,
        8,
        38,
        "comparisons cannot be chained (found '<')",
        "combine them with 'and': `1 <= x and x <= 3`",
    ),
    (
        "E0205",
        "main.ato",
        9,
        33,
        9,
        41,
        "unknown part number 'SH-50%'",
        "did you mean 'SH-20'?",
    ),
]


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    """A product with four kinds of error, one of them an import cycle of two libraries."""
    (tmp_path / "main.ato").write_text(MAIN, encoding="utf-8")
    (tmp_path / "lib_a.ato").write_text(LIB_A, encoding="utf-8")
    (tmp_path / "lib_b.ato").write_text(LIB_B, encoding="utf-8")
    return tmp_path


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    (tmp_path / "clean.ato").write_text(CLEAN, encoding="utf-8")
    return tmp_path


def atoconf(cwd: Path, *args: str) -> Ran:
    """`python -m atoconf ARGS` in `cwd`, without colour, 200 columns wide (the JSON
    and text reports run in this process instead: faster)."""
    return cli(*args, cwd=cwd, env={"NO_COLOR": "1", "COLUMNS": "200"}, timeout=120)


# ---- SARIF ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    data = SARIF_SCHEMA.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256
    schema = json.loads(data)
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_vendored_schema_rejects_a_bad_log(sarif_validator: Any) -> None:
    """The validation below is not vacuous: the schema catches what SARIF forbids."""
    log = sarif_log([], __version__)
    assert sarif_validator.is_valid(log)
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"] = [{"ruleId": "E0101", "level": "fatal", "message": {}}]
    messages = sorted(e.message for e in sarif_validator.iter_errors(broken))
    assert any("'fatal' is not one of" in m for m in messages), messages
    assert any("is not valid under any of the given schemas" in m for m in messages), messages
    no_version = {k: v for k, v in log.items() if k != "version"}
    assert not sarif_validator.is_valid(no_version)


def test_sarif_for_a_model_with_errors(bad: Path, sarif_validator: Any) -> None:
    proc = atoconf(bad, "check", "main.ato", "--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    log = json.loads(proc.stdout)
    sarif_validator.validate(log)

    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "atoconf"
    assert driver["version"] == __version__
    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["E0101", "E0204", "E0205", "E0501"]
    assert {r["id"]: r["name"] for r in rules} == {
        "E0101": "syntax-error",
        "E0204": "unknown-attribute",
        "E0205": "unknown-sku",
        "E0501": "import-cycle",
    }

    results = run["results"]
    got = []
    for result in results:
        assert result["level"] == "error"
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        region = physical["region"]
        got.append(
            (
                result["ruleId"],
                physical["artifactLocation"]["uri"],
                region["startLine"],
                region["startColumn"],
                region["endLine"],
                region["endColumn"],
                result["message"]["text"],
            )
        )
    assert got == [
        (code, uri, line, col, end_line, end_col, f"{message} (hint: {hint})")
        for code, uri, line, col, end_line, end_col, message, hint in EXPECTED_BAD
    ]

    cycle = results[0]
    assert cycle["relatedLocations"] == [
        {
            "id": 0,
            "message": {"text": "lib_a.ato imports lib_b.ato"},
            "physicalLocation": {
                "artifactLocation": {"uri": "lib_a.ato"},
                "region": {"startLine": 1, "startColumn": 1},
            },
        },
        {
            "id": 1,
            "message": {"text": "lib_b.ato imports lib_a.ato"},
            "physicalLocation": {
                "artifactLocation": {"uri": "lib_b.ato"},
                "region": {"startLine": 1, "startColumn": 1},
            },
        },
    ]
    assert all("relatedLocations" not in r for r in results[1:])


def test_sarif_for_a_clean_model(clean: Path, sarif_validator: Any) -> None:
    proc = atoconf(clean, "check", "clean.ato", "--format", "sarif")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = json.loads(proc.stdout)
    sarif_validator.validate(log)
    run = log["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []


def test_sarif_for_an_unreadable_file(tmp_path: Path, sarif_validator: Any) -> None:
    """A diagnostic without a location is still a valid result, just without `locations`."""
    proc = atoconf(tmp_path, "check", "missing.ato", "--format", "sarif")
    assert proc.returncode == 2
    log = json.loads(proc.stdout)
    sarif_validator.validate(log)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "E0001"
    assert result["level"] == "error"
    assert "locations" not in result
    assert result["message"]["text"] == "missing.ato: no such file; check the path"


def test_sarif_levels_and_empty_spans(sarif_validator: Any) -> None:
    """Warnings map to level `warning`; an empty span still has endColumn >= 1."""
    diagnostics = [
        Diagnostic(
            code="E0201",
            severity=Severity.ERROR,
            message="unknown component or option 'zz'",
            span=Span(file="sub\\dir\\a.ato", line=2, col=9, end_line=2, end_col=11),
        ),
        Diagnostic(
            code="W9999",
            severity=Severity.WARNING,
            message="a code that is not in the table",
            span=Span(file="a.ato", line=1, col=1, end_line=1, end_col=0),
            hint="none needed",
        ),
    ]
    log = sarif_log(diagnostics, "9.9.9")
    sarif_validator.validate(log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [(r["id"], r["name"], r["shortDescription"]["text"]) for r in rules] == [
        ("E0201", "unknown-name", "A name that is not declared"),
        ("W9999", "W9999", "W9999"),
    ]
    error, warn = log["runs"][0]["results"]
    assert (error["level"], warn["level"]) == ("error", "warning")
    assert error["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sub/dir/a.ato"
    assert warn["locations"][0]["physicalLocation"]["region"]["endColumn"] == 1
    assert warn["message"]["text"] == "a code that is not in the table (hint: none needed)"


# ---- GitHub workflow commands -------------------------------------------------------


def test_github_annotations(bad: Path) -> None:
    proc = atoconf(bad, "check", "main.ato", "--format", "github")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [
        f"::error file={uri},line={line},col={col},endLine={end_line},endColumn={end_col},"
        f"title={code}::{message.replace('%', '%25')} [{code}] (hint: {hint})"
        for code, uri, line, col, end_line, end_col, message, hint in EXPECTED_BAD
    ]
    assert proc.stdout.endswith("\n")
    # The known error, spelled out in full: `%` in the message becomes `%25`.
    assert proc.stdout.splitlines()[3] == (
        "::error file=main.ato,line=9,col=33,endLine=9,endColumn=41,title=E0205::"
        "unknown part number 'SH-50%25' [E0205] (hint: did you mean 'SH-20'?)"
    )


def test_github_escapes_properties_in_file_names(tmp_path: Path) -> None:
    """`,` `:` and `%` in a file name are escaped in the `file=` property."""
    name = "odd,name:50%.ato"
    (tmp_path / name).write_text("product p\nrule r: zz == 1\n", encoding="utf-8")
    proc = atoconf(tmp_path, "check", name, "--format", "github")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == (
        "::error file=odd%2Cname%3A50%25.ato,line=2,col=9,endLine=2,endColumn=11,"
        "title=E0201::unknown component or option 'zz' [E0201]\n"
    )


def test_github_escapes_data_and_properties() -> None:
    """Message data escapes `%`, CR and LF; properties also escape `:` and `,`."""
    diagnostics = [
        Diagnostic(
            code="E0101",
            severity=Severity.ERROR,
            message="50% done\r\nnext: a, b",
            span=Span(file="a:b,c%.ato", line=3, col=4, end_line=3, end_col=9),
            hint="100%\nsure",
        ),
        Diagnostic(code="E0001", severity=Severity.WARNING, message="x: y, z"),
    ]
    assert render_github(diagnostics, {}) == (
        "::error file=a%3Ab%2Cc%25.ato,line=3,col=4,endLine=3,endColumn=9,title=E0101::"
        "50%25 done%0D%0Anext: a, b [E0101] (hint: 100%25%0Asure)\n"
        "::warning title=E0001::x: y, z [E0001]\n"
    )


def test_github_is_silent_for_a_clean_model(clean: Path) -> None:
    proc = cli("check", "clean.ato", "--format", "github", cwd=clean, in_process=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


# ---- JSON ---------------------------------------------------------------------------

CHECK_KEYS = ["version", "valid", "error_count", "warning_count", "diagnostics"]
DIAGNOSTIC_KEYS = [
    "code",
    "severity",
    "message",
    "file",
    "line",
    "col",
    "end_line",
    "end_col",
    "hint",
]


def test_json_for_a_model_with_errors(bad: Path) -> None:
    proc = cli("check", "main.ato", "--format", "json", cwd=bad, in_process=True)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert list(report) == CHECK_KEYS
    assert report["version"] == 1
    assert report["valid"] is False
    assert report["error_count"] == 4
    assert report["warning_count"] == 0
    diagnostics = report["diagnostics"]
    for d in diagnostics:
        extra = set(d) - set(DIAGNOSTIC_KEYS)
        assert list(d)[: len(DIAGNOSTIC_KEYS)] == DIAGNOSTIC_KEYS
        assert extra <= {"related"}
    assert [
        (
            d["code"],
            d["file"],
            d["line"],
            d["col"],
            d["end_line"],
            d["end_col"],
            d["message"],
            d["hint"],
        )
        for d in diagnostics
    ] == EXPECTED_BAD
    assert all(d["severity"] == "error" for d in diagnostics)
    assert diagnostics[0]["related"] == [
        {"message": "lib_a.ato imports lib_b.ato", "file": "lib_a.ato", "line": 1, "col": 1},
        {"message": "lib_b.ato imports lib_a.ato", "file": "lib_b.ato", "line": 1, "col": 1},
    ]
    assert all("related" not in d for d in diagnostics[1:])


def test_json_for_a_clean_model(clean: Path) -> None:
    proc = cli("check", "clean.ato", "--format", "json", cwd=clean, in_process=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "version": 1,
        "valid": True,
        "error_count": 0,
        "warning_count": 0,
        "diagnostics": [],
    }


def test_json_counts_warnings_and_locationless_diagnostics() -> None:
    report = check_json(
        [
            Diagnostic(code="E0001", severity=Severity.ERROR, message="gone"),
            Diagnostic(
                code="W0001",
                severity=Severity.WARNING,
                message="odd",
                span=Span(file="a.ato", line=1, col=2, end_line=1, end_col=3),
                related=(
                    Related(
                        message="here",
                        span=Span(file="b.ato", line=4, col=5, end_line=4, end_col=6),
                    ),
                ),
            ),
        ]
    )
    assert report == {
        "version": 1,
        "valid": False,
        "error_count": 1,
        "warning_count": 1,
        "diagnostics": [
            {
                "code": "E0001",
                "severity": "error",
                "message": "gone",
                "file": None,
                "line": None,
                "col": None,
                "end_line": None,
                "end_col": None,
                "hint": None,
            },
            {
                "code": "W0001",
                "severity": "warning",
                "message": "odd",
                "file": "a.ato",
                "line": 1,
                "col": 2,
                "end_line": 1,
                "end_col": 3,
                "hint": None,
                "related": [{"message": "here", "file": "b.ato", "line": 4, "col": 5}],
            },
        ],
    }


# ---- text ---------------------------------------------------------------------------


def test_text_for_a_known_error(tmp_path: Path) -> None:
    (tmp_path / "typo.ato").write_text(TYPO, encoding="utf-8")
    proc = cli("check", "typo.ato", cwd=tmp_path, in_process=True)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == (
        "typo.ato:10:15: error[E0204]: 'finsh' is not an attribute of shade (type Shade)\n"
        "   |\n"
        "10 | rule r: shade.finsh == black\n"
        "   |               ^^^^^\n"
        "  = hint: did you mean 'finish'?\n"
        "\n"
        "1 error, 0 warnings\n"
    )


def test_text_for_a_model_with_errors(bad: Path) -> None:
    proc = cli("check", "main.ato", cwd=bad, in_process=True)
    assert proc.returncode == 1, proc.stderr
    blocks = proc.stdout.split("\n\n")
    assert len(blocks) == 5
    assert blocks[0] == (
        "lib_b.ato:1:1: error[E0501]: import cycle: lib_a.ato -> lib_b.ato -> lib_a.ato\n"
        "  |\n"
        '1 | import "lib_a.ato"\n'
        "  | ^^^^^^^^^^^^^^^^^^\n"
        "  note: lib_a.ato:1:1: lib_a.ato imports lib_b.ato\n"
        "  note: lib_b.ato:1:1: lib_b.ato imports lib_a.ato\n"
        f"  = hint: {CYCLE_HINT}"
    )
    assert blocks[2] == (
        "main.ato:8:37: error[E0101]: comparisons cannot be chained (found '<')\n"
        "  |\n"
        "8 | rule chained: 1 < shade.diameter_mm < 400\n"
        "  |                                     ^\n"
        "  = hint: combine them with 'and': `1 <= x and x <= 3`"
    )
    assert [b.split("\n", 1)[0] for b in blocks[:4]] == [
        f"{uri}:{line}:{col}: error[{code}]: {message}"
        for code, uri, line, col, _, _, message, _ in EXPECTED_BAD
    ]
    assert blocks[4] == "4 errors, 0 warnings\n"


def test_text_is_silent_for_a_clean_model(clean: Path) -> None:
    proc = cli("check", "clean.ato", cwd=clean, in_process=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_sarif_uris_and_column_kind() -> None:
    """Artifact locations are RFC 3986 URI references; columns count code points."""
    spans = ["my dir/a%.ato", "/abs/x y.ato", "C:\\work\\a.ato"]
    diagnostics = [
        Diagnostic(
            code="E0201",
            severity=Severity.ERROR,
            message="m",
            span=Span(file=f, line=1, col=1, end_line=1, end_col=2),
        )
        for f in spans
    ]
    log = sarif_log(diagnostics, "0")
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    ]
    assert uris == ["my%20dir/a%25.ato", "file:///abs/x%20y.ato", "file:///C:/work/a.ato"]
    assert log["runs"][0]["columnKind"] == "unicodeCodePoints"
