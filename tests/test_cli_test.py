"""`atoconf test` end to end: verdicts, failure details, formats, coverage, bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import CATALOGS, SARIF_SCHEMA, Ran, cli

SCHEMA = json.loads(SARIF_SCHEMA.read_text())

LAMP = """\
product lamp "Desk lamp"
type Shade { diameter_mm: int unit "mm" }
type Bulb { watts: int unit "W" }
parts Shade {
  "SH-20" "Shade 20 cm": diameter_mm=200
  "SH-30" "Shade 30 cm": diameter_mm=300
  "SH-40" "Shade 40 cm": diameter_mm=400
}
parts Bulb {
  "B-5" "LED 5 W": watts=5
  "B-9" "LED 9 W": watts=9
}
component shade: Shade
component bulb: Bulb
option size: enum { small, large } default small
rule small_shade: size == small -> shade.diameter_mm <= 200
rule strong_bulb: shade.diameter_mm >= 400 -> bulb.watts >= 9

test "small lamps get the small shade" {
  given { size = small }
  expect shade in { "SH-20" }
  expect count 2
}
test "a large shade gets a strong bulb" {
  given { shade = "SH-40", bulb = "B-5" }
  expect invalid because strong_bulb
}
"""

FAILING = """
test "large lamps get large shades" {
  given { size = large }
  expect shade.diameter_mm >= 300
  expect shade in { "SH-30", "SH-40" }
  expect count 6
}
test "a small lamp with a large shade" {
  given { size = small, shade = "SH-30" }
  expect valid
}
test "wrong blame" {
  given { shade = "SH-40", bulb = "B-5", size = small }
  expect invalid because strong_bulb, small_shade
  expect shade in { "SH-40" }
}
"""


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def run(tmp_path: Path, text: str, *args: str) -> Ran:
    """`atoconf test lamp.ato ARGS` on the text."""
    (tmp_path / "lamp.ato").write_text(text, encoding="utf-8")
    return cli("test", str(tmp_path / "lamp.ato"), *args, in_process=True)


def test_passing_tests(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, LAMP)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"PASS {tmp_path / 'lamp.ato'}:19 small lamps get the small shade")
    assert lines[1].startswith(f"PASS {tmp_path / 'lamp.ato'}:24 a large shade gets a strong bulb")
    assert lines[-1] == "2 passed, 0 failed"


def test_failures_say_why(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, LAMP + FAILING)
    assert code == 1
    assert out.splitlines()[-1] == "2 passed, 3 failed"
    path = tmp_path / "lamp.ato"
    # a counterexample: a valid assembly where the expectation fails
    line = line_of(LAMP + FAILING, "expect shade.diameter_mm >= 300")
    assert f"{path}:{line}:3: expect shade.diameter_mm >= 300" in out
    assert "counterexample: shade=SH-20, bulb=" in out and "; size=large" in out
    # the domain: what is missing and what is extra
    assert 'valid assemblies also have "SH-20"' in out
    assert 'no valid assembly has "SH-40"' in out
    assert "5 valid assemblies, not 6" in out
    assert "no valid assembly for the given choices; a minimal conflict is small_shade" in out
    assert "not a minimal conflict: still invalid without strong_bulb or without small_shade" in out


def test_run_selects_tests_by_name(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, LAMP + FAILING, "--run", "*shade*")
    assert code == 1
    assert out.splitlines()[-1] == "2 passed, 2 failed"
    code, out, _ = run(tmp_path, LAMP + FAILING, "--run", "^small")
    assert (code, out.splitlines()[-1]) == (0, "1 passed, 0 failed")


def test_json_report(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, LAMP + FAILING, "--format", "json", "--coverage")
    report = json.loads(out)
    assert code == 1
    assert list(report) == ["version", "passed", "failed", "error_count", "tests", "coverage"]
    assert (report["version"], report["passed"], report["failed"]) == (1, 2, 3)
    large = report["tests"][2]
    line = line_of(LAMP + FAILING, 'test "large lamps')
    assert (large["name"], large["line"], large["passed"]) == (large["name"], line, False)
    assert large["name"] == "large lamps get large shades"
    domain = large["expectations"][1]
    assert (domain["missing"], domain["extra"]) == ([], ["SH-20"])
    example = large["expectations"][0]["counterexample"]
    assert example["components"]["shade"] == {"sku": "SH-20", "qty": 1}
    files = report["coverage"]["files"]
    assert [(f["rules"], f["covered"], f["percent"]) for f in files] == [(2, 2, 100.0)]


def test_coverage_and_its_minimum(tmp_path: Path) -> None:
    only_first = LAMP.split('test "a large shade')[0]
    code, out, _ = run(tmp_path, only_first, "--coverage")
    assert code == 0
    assert "1/2 rules (50.0%)" in out
    assert f"not covered: strong_bulb ({tmp_path / 'lamp.ato'}:17:1)" in out
    code, out, _ = run(tmp_path, only_first, "--coverage-min", "60")
    assert code == 1 and "below --coverage-min 60" in out
    code, _, _ = run(tmp_path, only_first, "--coverage-min", "50")
    assert code == 0


def test_junit_report(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, LAMP + FAILING, "--format", "junit", "--coverage-min", "100")
    assert code == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "3", "0")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == str(tmp_path / "lamp.ato")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases][:2] == [
        "small lamps get the small shade",
        "a large shade gets a strong bulb",
    ]
    failure = cases[2].find("failure")
    assert failure is not None
    assert "expect shade.diameter_mm >= 300" in (failure.get("message") or "")
    assert cases[2].get("line") == str(line_of(LAMP + FAILING, 'test "large lamps'))
    coverage = root.findall("testsuite")[-1]
    assert coverage.get("name") == "rule coverage" and coverage.get("failures") == "0"


ONE_FAILURE = LAMP.split('test "a large shade')[0] + (
    'test "large lamps get large shades" {\n  given { size = large }\n'
    "  expect shade.diameter_mm >= 300\n}\n"
)


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_ci_formats(tmp_path: Path, fmt: str) -> None:
    code, out, _ = run(tmp_path, ONE_FAILURE, "--format", fmt, "--coverage")
    assert code == 1
    line = line_of(ONE_FAILURE, "expect shade.diameter_mm")
    if fmt == "github":
        lines = out.splitlines()
        where = f"::error file={tmp_path / 'lamp.ato'},line={line},col=3"
        assert any(x.startswith(where) and "counterexample" in x for x in lines), out
        assert any(x.startswith("::warning") and "strong_bulb" in x for x in lines), out
        return
    log = json.loads(out)
    jsonschema.validate(log, SCHEMA)
    results = log["runs"][0]["results"]
    found = [(r["ruleId"], r["level"]) for r in results]
    assert sorted(found) == [("E0602", "error"), ("W0603", "warning")]
    failure = next(r for r in results if r["ruleId"] == "E0602")
    region = failure["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (line, 3)


def test_a_test_without_expectations_fails(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, LAMP + 'test "nothing" {\n  given { size = small }\n}\n')
    assert code == 1
    assert "the test expects nothing" in out and out.splitlines()[-1] == "2 passed, 1 failed"


BAD = {
    "unknown rule": ('test "t" {\n  expect invalid because smal_shade\n}\n', "did you mean"),
    "count not an integer": ('test "t" {\n  expect count 2.5\n}\n', "whole number"),
    "malformed given": ('test "t" {\n  given { shade = B }\n  expect valid\n}\n', "quotes"),
    "given not parsing": ('test "t" {\n  given { shade = SH-20 }\n  expect valid\n}\n', "'-'"),
    "unknown sku": ('test "t" {\n  given { shade = "SH-99" }\n  expect valid\n}\n', "SH-99"),
    "unknown name": ('test "t" {\n  given { colour = red }\n  expect valid\n}\n', "colour"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_tests_are_input_errors(tmp_path: Path, name: str) -> None:
    text, words = BAD[name]
    code, out, err = run(tmp_path, LAMP + text)
    assert code == 2, (out, err)
    assert f"{tmp_path / 'lamp.ato'}:" in err and words in err
    assert "Traceback" not in err + out


def test_unreadable_file(tmp_path: Path) -> None:
    result = cli("test", str(tmp_path / "missing.ato"), in_process=True)
    assert result.returncode == 2 and "missing.ato" in result.stderr


def test_bundled_catalogs_are_fully_covered() -> None:
    files = [str(p) for p in sorted(CATALOGS.glob("*/*.ato"))]
    result = cli("test", *files, "--coverage", "--coverage-min", "100", in_process=True)
    assert result.returncode == 0, result.stdout
    assert "0 failed" in result.stdout
