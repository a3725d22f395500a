"""The command line of the tests inside rule files: `atoconf test`."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from atoconf.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, Command, app, fail_usage, progress
from atoconf.engine.results import AssemblyResult
from atoconf.engine.ruletests import (
    TEST_DEADLINE,
    FileCoverage,
    Outcome,
    RuleCoverage,
    TestResult,
    coverage_by_file,
    rule_coverage,
    run_test,
    selected,
)
from atoconf.language.build import load_file
from atoconf.language.diagnostics import (
    JSON_VERSION,
    RENDERERS,
    Diagnostic,
    error,
    render_text,
    sort_key,
    warning,
)
from atoconf.language.model import Model, RuleTest, shown
from atoconf.language.source import SourceFile


class TestFormat(StrEnum):
    __test__ = False  # not a pytest test class

    text = "text"
    json = "json"
    junit = "junit"
    github = "github"
    sarif = "sarif"


@dataclass
class FileRun:
    """The tests of one rule file given on the command line."""

    path: str
    results: list[TestResult] = field(default_factory=list)


@dataclass
class Run:
    files: list[FileRun]
    problems: list[Diagnostic]
    sources: dict[str, SourceFile]
    coverage: list[FileCoverage] | None
    coverage_min: float | None

    @property
    def results(self) -> list[TestResult]:
        return [r for f in self.files for r in f.results]

    @property
    def below_min(self) -> list[FileCoverage]:
        if self.coverage is None or self.coverage_min is None:
            return []
        return [c for c in self.coverage if c.percent < self.coverage_min]


@app.command(cls=Command)
def test(
    files: Annotated[list[Path], typer.Argument(help="Rule files.", show_default=False)],
    output_format: Annotated[
        TestFormat, typer.Option("--format", "-f", help="Output format.")
    ] = TestFormat.text,
    coverage: Annotated[
        bool, typer.Option("--coverage", help="Report which rules the tests cover.", metavar="")
    ] = False,
    coverage_min: Annotated[
        float | None,
        typer.Option(
            "--coverage-min",
            help="Fail when a file's rule coverage is below this percentage (implies --coverage).",
        ),
    ] = None,
    run_pattern: Annotated[
        str | None,
        typer.Option("--run", help="Only tests whose name matches (a glob or a regex)."),
    ] = None,
    deadline: Annotated[
        float, typer.Option("--deadline", help="Seconds each test may take.")
    ] = TEST_DEADLINE,
) -> None:
    """Run the tests written in rule files.

    Exit 0 when every test passes (and coverage meets --coverage-min), 1 when a test
    fails or coverage is short, 2 when a file has errors or cannot be read.
    """
    if coverage_min is not None and not 0 <= coverage_min <= 100:
        fail_usage("--coverage-min must be a percentage from 0 to 100")
    if deadline <= 0:
        fail_usage("--deadline must be a number of seconds > 0")
    run = run_files(files, coverage or coverage_min is not None, run_pattern, deadline)
    run.coverage_min = coverage_min
    if output_format in (TestFormat.github, TestFormat.sarif):
        diagnostics = sorted([*run.problems, *test_diagnostics(run)], key=sort_key)
        sys.stdout.write(RENDERERS[output_format.value](diagnostics, run.sources))
    else:
        if run.problems:
            sys.stderr.write(render_text(run.problems, run.sources))
        render = {TestFormat.text: render_text_report, TestFormat.json: render_json_report}
        sys.stdout.write(render.get(output_format, render_junit)(run))
    if any(d.is_error for d in run.problems):
        raise typer.Exit(EXIT_BAD_INPUT)
    if any(not r.passed for r in run.results) or run.below_min:
        raise typer.Exit(EXIT_FAILED)


def run_files(
    paths: Sequence[Path], with_coverage: bool, pattern: str | None, deadline: float
) -> Run:
    """Load each file and run its model's tests (those matching `pattern`); with
    coverage, each rule once, by the file it is declared in."""
    files: list[FileRun] = []
    problems: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    rules: dict[tuple[str, int, int], RuleCoverage] = {}
    models: list[Model] = []
    # each file once, loaded before any test runs: the progress bar knows its total
    loaded: list[tuple[Path, Model, list[RuleTest]]] = []
    seen: set[Path] = set()
    for path in paths:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        result = load_file(path)
        sources.update(result.sources)
        problems += [d for d in result.diagnostics if d.is_error]
        if result.model is not None:
            loaded.append((path, result.model, selected(result.model.tests, pattern)))
    work = sum(
        len(tests) + (len(model.rules) if with_coverage else 0) for _, model, tests in loaded
    )
    with progress("testing", total=work) as tick:
        for path, model, tests in loaded:
            run = FileRun(str(path))
            for t in tests:
                run.results.append(run_test(model, t, sources, deadline))
                tick()
            files.append(run)
            if with_coverage:
                models.append(model)
                for found in rule_coverage(model, run.results, tests=tests, tick=tick):
                    key = (found.span.file, found.span.line, found.span.col)
                    if key not in rules or rules[key].covered_by is None:
                        rules[key] = found
    coverage = None
    if with_coverage:
        coverage = []
        done: set[str] = set()
        for model in models:
            for c in coverage_by_file(model, list(rules.values())):
                if c.file not in done:
                    done.add(c.file)
                    coverage.append(c)
    return Run(files, problems, sources, coverage, None)


# ---- reports -----------------------------------------------------------------------------


def test_diagnostics(run: Run) -> list[Diagnostic]:
    """Failures as errors at their expectation, uncovered rules as warnings at the rule:
    what the github and sarif formats show."""
    out = []
    for result in run.results:
        for o in result.outcomes:
            if not o.passed:
                out.append(
                    error(
                        "E0602",
                        f'test "{result.name}" failed: {o.text}: {o.message}',
                        o.span,
                        hint=_example_text(o.counterexample),
                    )
                )
    for c in run.coverage or []:
        for r in c.rules:
            if r.covered_by is None:
                out.append(_uncovered(r))
    return out


def _uncovered(r: RuleCoverage) -> Diagnostic:
    why = " (coverage stopped at its deadline)" if r.stopped else ""
    return warning(
        "W0603",
        f"rule '{r.rule}' is not covered: no test's outcome changes without it{why}",
        r.span,
        hint="add a test that the rule decides, such as `expect invalid because "
        f"{r.rule}` for choices it rejects",
    )


def _example_text(example: AssemblyResult | None) -> str | None:
    if example is None:
        return None
    return "counterexample: " + assembly_line(example)


def assembly_line(example: AssemblyResult) -> str:
    """An assembly on one line: `cpu=CPU-A, memory=RAM-B x2, gpu=none; usage=office`."""
    parts = []
    for name, chosen in example.components.items():
        if chosen is None:
            parts.append(f"{name}=none")
        else:
            parts.append(f"{name}={chosen.sku}" + (f" x{chosen.qty}" if chosen.qty != 1 else ""))
    options = [f"{k}={shown(v)}" for k, v in example.options.items()]
    return ", ".join(parts) + ("; " + ", ".join(options) if options else "")


def _where(result: TestResult) -> str:
    return f"{result.span.file}:{result.span.line}"


def render_text_report(run: Run) -> str:
    lines = []
    for result in run.results:
        status = "PASS" if result.passed else "FAIL"
        lines.append(f"{status} {_where(result)} {result.name} ({result.seconds:.2f} s)")
        for o in result.outcomes:
            if o.passed:
                continue
            lines.append(f"  {o.span}: {o.text}")
            lines.append(f"    {o.message}")
            if o.counterexample is not None:
                lines.append(f"    counterexample: {assembly_line(o.counterexample)}")
    passed = sum(r.passed for r in run.results)
    failed = len(run.results) - passed
    lines.append(f"{passed} passed, {failed} failed")
    broken = sorted({d.span.file for d in run.problems if d.span is not None})
    if broken:
        lines.append(f"not run: the tests of {', '.join(broken)} (errors above)")
    if run.coverage is not None:
        lines.append("rule coverage:")
        for c in run.coverage:
            lines.append(f"  {c.file}: {c.covered}/{len(c.rules)} rules ({c.percent:.1f}%)")
            for r in c.rules:
                if r.covered_by is None:
                    why = " (stopped at the deadline)" if r.stopped else ""
                    lines.append(f"    not covered: {r.rule} ({r.span}){why}")
        for c in run.below_min:
            lines.append(
                f"coverage of {c.file} is {c.percent:.1f}%, below --coverage-min "
                f"{run.coverage_min:g}"
            )
    return "\n".join(lines) + "\n"


def _outcome_json(o: Outcome) -> dict[str, Any]:
    return {
        "text": o.text,
        "line": o.span.line,
        "col": o.span.col,
        "passed": o.passed,
        "message": o.message,
        "counterexample": o.counterexample.to_json() if o.counterexample else None,
        "missing": list(o.missing),
        "extra": list(o.extra),
        "stopped": o.stopped,
    }


def render_json_report(run: Run) -> str:
    passed = sum(r.passed for r in run.results)
    data: dict[str, Any] = {
        "version": JSON_VERSION,
        "passed": passed,
        "failed": len(run.results) - passed,
        "error_count": sum(d.is_error for d in run.problems),
        "tests": [
            {
                "name": r.name,
                "file": r.span.file,
                "line": r.span.line,
                "passed": r.passed,
                "seconds": round(r.seconds, 3),
                "expectations": [_outcome_json(o) for o in r.outcomes],
            }
            for r in run.results
        ],
        "coverage": None,
    }
    if run.coverage is not None:
        data["coverage"] = {
            "min": run.coverage_min,
            "files": [
                {
                    "file": c.file,
                    "rules": len(c.rules),
                    "covered": c.covered,
                    "percent": round(c.percent, 1),
                    "uncovered": [
                        {"rule": r.rule, "line": r.span.line, "col": r.span.col}
                        for r in c.rules
                        if r.covered_by is None
                    ],
                }
                for c in run.coverage
            ],
        }
    return json.dumps(data, indent=2) + "\n"


def render_junit(run: Run) -> str:
    """JUnit XML (the shape Jenkins, GitLab and GitHub's test reporters read): one suite
    per rule file; coverage below --coverage-min and load errors as failing cases."""
    root = ET.Element("testsuites", name="atoconf")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    total_time = 0.0

    def suite(name: str, cases: list[tuple[str, str, float, Callable[[ET.Element], None]]]) -> None:
        nonlocal total_time
        element = ET.SubElement(root, "testsuite", name=name)
        failures = errors = 0
        seconds = 0.0
        for case_name, classname, case_time, fill in cases:
            case = ET.SubElement(
                element, "testcase", name=case_name, classname=classname, time=f"{case_time:.3f}"
            )
            fill(case)
            failures += case.find("failure") is not None
            errors += case.find("error") is not None
            seconds += case_time
        element.set("tests", str(len(cases)))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
        element.set("time", f"{seconds:.3f}")
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["errors"] += errors
        total_time += seconds

    for file_run in run.files:
        cases = []
        for result in file_run.results:
            cases.append(
                (result.name, file_run.path, result.seconds, _junit_case(result, file_run.path))
            )
        suite(file_run.path, cases)
    if run.problems:
        by_file: dict[str, list[Diagnostic]] = {}
        for d in run.problems:
            by_file.setdefault(d.span.file if d.span else "", []).append(d)
        cases = []
        for name, found in by_file.items():
            text = render_text(found, run.sources)

            def fill(case: ET.Element, text: str = text, n: int = len(found)) -> None:
                ET.SubElement(case, "error", message=f"{n} error(s) in the rule file").text = text

            cases.append((f"load {name}", "atoconf.load", 0.0, fill))
        suite("errors", cases)
    if run.coverage is not None:
        cases = []
        for c in run.coverage:
            below = run.coverage_min is not None and c.percent < run.coverage_min

            def fill_coverage(case: ET.Element, c: FileCoverage = c, below: bool = below) -> None:
                missing = [f"{r.rule} ({r.span})" for r in c.rules if r.covered_by is None]
                ET.SubElement(case, "system-out").text = (
                    f"{c.covered}/{len(c.rules)} rules covered ({c.percent:.1f}%)"
                    + "".join(f"\nnot covered: {m}" for m in missing)
                )
                if below:
                    ET.SubElement(
                        case,
                        "failure",
                        message=f"rule coverage {c.percent:.1f}% is below {run.coverage_min:g}%",
                        type="coverage",
                    ).text = "\n".join(missing)

            cases.append((f"rule coverage of {c.file}", "atoconf.coverage", 0.0, fill_coverage))
        suite("rule coverage", cases)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _junit_case(result: TestResult, path: str) -> Callable[[ET.Element], None]:
    def fill(case: ET.Element) -> None:
        case.set("file", path)
        case.set("line", str(result.span.line))
        for o in result.outcomes:
            if o.passed:
                continue
            detail = f"{o.span}: {o.text}\n{o.message}"
            if o.counterexample is not None:
                detail += f"\ncounterexample: {assembly_line(o.counterexample)}"
            ET.SubElement(
                case, "failure", message=f"{o.text}: {o.message}", type="expectation"
            ).text = detail

    return fill
