"""The tests written inside rule files: run them, and measure which rules they cover.

A test's `given` is a partial choice; each `expect` is checked against the valid
assemblies of the whole space under that choice (no option defaults).
A rule is covered when removing it from the model changes the verdict of some
expectation (pass becomes fail or fail becomes pass).
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from atoconf.engine.clock import Clock, Stop, StopReason
from atoconf.engine.explain import explain
from atoconf.engine.problem import compiled, scope_of
from atoconf.engine.request import Request, ResolvedRequest
from atoconf.engine.results import AssemblyResult, assembly_result, value_key
from atoconf.engine.solve import count, domains, refutable, refutation, satisfiable, witness
from atoconf.language.model import Expectation, Expr, Model, RuleTest, Value, shown
from atoconf.language.source import SourceFile, Span

TEST_DEADLINE = 10.0  # seconds per test: its expectations share them
COVERAGE_DEADLINE = 120.0  # seconds for the whole coverage pass of one model


class Outcome(BaseModel):
    """One expectation's verdict, and what to show when it failed."""

    model_config = ConfigDict(frozen=True)

    text: str
    span: Span
    passed: bool
    message: str | None = None
    counterexample: AssemblyResult | None = None
    missing: tuple[Value, ...] = ()
    extra: tuple[Value, ...] = ()
    stopped: StopReason | None = None


class TestResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    __test__ = False  # not a pytest test class

    name: str
    span: Span
    outcomes: tuple[Outcome, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)


class RuleCoverage(BaseModel):
    """A rule, and the first test found whose verdict changes without it."""

    model_config = ConfigDict(frozen=True)

    rule: str
    span: Span
    covered_by: str | None = None
    stopped: StopReason | None = None


class FileCoverage(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    rules: tuple[RuleCoverage, ...]

    @property
    def covered(self) -> int:
        return sum(r.covered_by is not None for r in self.rules)

    @property
    def percent(self) -> float:
        return 100.0 if not self.rules else 100.0 * self.covered / len(self.rules)


# ---- running -----------------------------------------------------------------------------


def selected(tests: Sequence[RuleTest], pattern: str | None) -> list[RuleTest]:
    """The tests whose name matches `pattern`: a glob (`*socket*`) or, failing that, a
    regular expression searched in the name; all of them without a pattern."""
    if pattern is None:
        return list(tests)
    if any(c in pattern for c in "*?["):
        return [t for t in tests if fnmatch.fnmatchcase(t.name, pattern)]
    try:
        found = re.compile(pattern)
    except re.error:
        return [t for t in tests if pattern in t.name]
    return [t for t in tests if found.search(t.name)]


def run_tests(
    model: Model,
    sources: Mapping[str, SourceFile],
    tests: Sequence[RuleTest] | None = None,
    deadline: float = TEST_DEADLINE,
) -> list[TestResult]:
    """Run the model's tests (or the given ones), each with its own deadline."""
    return [
        run_test(model, test, sources, deadline)
        for test in (model.tests if tests is None else tests)
    ]


def run_test(
    model: Model, test: RuleTest, sources: Mapping[str, SourceFile], deadline: float
) -> TestResult:
    start = time.monotonic()
    clock = Clock(deadline)
    select = given_of(test)
    outcomes = []
    if not test.expectations:  # a test that cannot fail tells nothing
        outcomes.append(
            Outcome(
                text=f'test "{test.name}"',
                span=test.span,
                passed=False,
                message="the test expects nothing: add `expect valid` or another expectation",
            )
        )
    for expectation in test.expectations:
        text = source_text(sources, expectation.span)
        try:
            outcomes.append(_outcome(model, select, expectation, text, clock))
        except Stop as stop:
            outcomes.append(
                Outcome(
                    text=text,
                    span=expectation.span,
                    passed=False,
                    message=f"not decided: the test's {deadline:g} s deadline passed",
                    stopped=stop.reason,
                )
            )
    return TestResult(
        name=test.name,
        span=test.span,
        outcomes=tuple(outcomes),
        seconds=time.monotonic() - start,
    )


def given_of(test: RuleTest) -> dict[str, Value]:
    return {item.key: item.value for item in test.given}


def source_text(sources: Mapping[str, SourceFile], span: Span) -> str:
    """The text a span covers, on one line, spaces collapsed."""
    source = sources.get(span.file)
    if source is None:
        return ""
    lines = [source.line_text(n) for n in range(span.line, span.end_line + 1)]
    if len(lines) == 1:
        lines[0] = lines[0][span.col - 1 : span.end_col - 1]
    else:
        lines[0] = lines[0][span.col - 1 :]
        lines[-1] = lines[-1][: span.end_col - 1]
    return " ".join(" ".join(lines).split())


def _outcome(
    model: Model, select: dict[str, Value], exp: Expectation, text: str, clock: Clock
) -> Outcome:
    def result(passed: bool, message: str | None = None, **more: Any) -> Outcome:
        return Outcome(text=text, span=exp.span, passed=passed, message=message, **more)

    if exp.kind == "valid":
        if satisfiable(model, select, [], None, clock):
            return result(True)
        return result(False, "no valid assembly for the given choices" + _conflict(model, select))
    if exp.kind == "invalid":
        if not exp.because:
            if not satisfiable(model, select, [], None, clock):
                return result(True)
            example = _example(model, select, None, None, clock)
            return result(False, "a valid assembly exists", counterexample=example)
        return _invalid_because(model, select, exp, clock, result)
    if exp.kind == "holds":
        assert exp.expr is not None
        if not refutable(model, select, exp.expr, None, clock):
            return result(True)
        example = _example(model, select, exp.expr, None, clock)
        return result(False, "does not hold in every valid assembly", counterexample=example)
    if exp.kind == "count":
        counted = _count(model, select, None, clock)
        if counted == exp.count:
            return result(True)
        return result(False, f"{counted} valid assemblies, not {exp.count}")
    assert exp.target is not None
    found_values = _domain(model, select, exp.target, None, clock)
    wanted = list(exp.values)
    missing = tuple(v for v in wanted if not _member(v, found_values))
    extra = tuple(v for v in found_values if not _member(v, wanted))
    if not missing and not extra:
        return result(True)
    parts = []
    if missing:
        parts.append(f"no valid assembly has {_values(missing)}")
    if extra:
        parts.append(f"valid assemblies also have {_values(extra)}")
    return result(False, "; ".join(parts), missing=missing, extra=extra)


def _invalid_because(
    model: Model,
    select: dict[str, Value],
    exp: Expectation,
    clock: Clock,
    result: Callable[..., Outcome],
) -> Outcome:
    because = exp.because
    if satisfiable(model, select, [], because, clock):
        rules = ", ".join(because)
        message = f"the given choices with only {_plural('rule', because)} {rules} "
        message += "have a valid assembly"
        if not satisfiable(model, select, [], None, clock):
            message += " (the model as a whole rejects them" + _conflict(model, select) + ")"
        example = _example(model, select, None, because, clock)
        return result(False, message, counterexample=example)
    needless = [
        name
        for name in because
        if not satisfiable(model, select, [], [r for r in because if r != name], clock)
    ]
    if needless:
        return result(
            False,
            f"not a minimal conflict: still invalid without {' or without '.join(needless)}"
            + _conflict(model, select, because),
        )
    return result(True)


def _example(
    model: Model,
    select: Mapping[str, Value],
    refuted: Expr | None,
    rules: Collection[str] | None,
    clock: Clock,
) -> AssemblyResult | None:
    """An assembly to show with a failure: a valid one, or one where `refuted` does not
    hold (the search is given a few seconds at most)."""
    briefly = Clock(min(clock.left() or 5.0, 5.0))
    try:
        if refuted is None:
            found = witness(model, select, [], rules, briefly)
        else:
            found = refutation(model, select, refuted, rules, briefly)
    except Stop:
        return None
    return None if found is None else assembly_result(model, found)


def _conflict(model: Model, select: dict[str, Value], within: Collection[str] = ()) -> str:
    """`: a minimal conflict is r1, r2`, for a failure message; empty when unknown."""
    request = ResolvedRequest(select, (), None, None, None, Request())
    try:
        found = explain(model, request, blame="rules", max_repairs=0, clock=Clock(2.0))
    except Stop:
        return ""
    names = [m.name for m in found.conflict if m.kind == "rule" and m.name is not None]
    if within:
        names = [n for n in names if n in within] or names
    return f"; a minimal conflict is {', '.join(names)}" if names else ""


def _count(
    model: Model, select: Mapping[str, Value], rules: Collection[str] | None, clock: Clock
) -> int:
    """The number of valid assemblies under only `rules`; Stop at the clock's deadline."""
    counted = count(model, select, clock=clock, rules=rules)
    if counted.stopped is not None:
        raise Stop(counted.stopped)
    return counted.count


def _domain(
    model: Model,
    select: Mapping[str, Value],
    target: str,
    rules: Collection[str] | None,
    clock: Clock,
) -> list[Value]:
    answer = domains(model, select, clock=clock, rules=rules)
    if answer.stopped is not None:
        raise Stop(answer.stopped)
    if not answer.satisfiable:
        return []
    if target in answer.domains:
        return list(answer.domains[target])
    # a quantity with a single value is not listed: it is that value when present
    return list(compiled(model).variables[target].domain)


def _member(value: Value, values: Sequence[Value]) -> bool:
    return value_key(value) in {value_key(v) for v in values}


def _values(values: Sequence[Value]) -> str:
    return ", ".join(_shown(v) for v in values)


def _shown(value: Value) -> str:
    """Part numbers quoted, as a test writes them."""
    return f'"{value}"' if isinstance(value, str) else shown(value)


def _plural(word: str, items: Sequence[object]) -> str:
    return word if len(items) == 1 else word + "s"


# ---- coverage ----------------------------------------------------------------------------


def rule_coverage(
    model: Model,
    results: Sequence[TestResult],
    deadline: float = COVERAGE_DEADLINE,
    tests: Sequence[RuleTest] | None = None,
    tick: Callable[[], None] = lambda: None,
) -> list[RuleCoverage]:
    """For each rule, the first test found whose verdict changes when the rule is
    removed. Removing a rule only adds valid assemblies, so each passing verdict
    changes exactly when one new assembly breaks it: one search per (rule, test)
    until a test covers the rule, the tests that read the rule's variables first.
    `tick()` once per rule done."""
    clock = Clock(deadline)
    ran = {t.name: t for t in (model.tests if tests is None else tests)}
    pairs = [
        (ran[r.name], exp, outcome)
        for r in results
        if r.name in ran and ran[r.name].expectations
        for exp, outcome in zip(ran[r.name].expectations, r.outcomes, strict=True)
    ]
    # an expectation no rule can change: skip it for every rule
    live = [p for p in pairs if not _beyond_rules(model, p[0], p[1], p[2], clock)]
    reads = {id(exp): _reads(model, test, exp) for test, exp, _ in live}
    out = []
    for rule in model.rules.values():
        scope = set(scope_of(model, rule.expr))
        others = [name for name in model.rules if name != rule.name]
        ordered = sorted(live, key=lambda p: -len(scope & reads[id(p[1])]))
        found: str | None = None
        stopped: StopReason | None = None
        try:
            for test, exp, outcome in ordered:
                if _changes(model, test, exp, outcome, rule.name, others, clock):
                    found = test.name
                    break
        except Stop as stop:
            stopped = stop.reason
        out.append(RuleCoverage(rule=rule.name, span=rule.span, covered_by=found, stopped=stopped))
        tick()
    return out


def _beyond_rules(
    model: Model, test: RuleTest, exp: Expectation, outcome: Outcome, clock: Clock
) -> bool:
    """True when no rule can change this verdict: what it expects already follows
    from the given choices and the components' structure alone."""
    if not outcome.passed or exp.kind not in ("holds", "invalid") or exp.because:
        return False
    select = given_of(test)
    try:
        if exp.kind == "holds" and exp.expr is not None:
            return not refutable(model, select, exp.expr, [], clock)
        return not satisfiable(model, select, [], [], clock)
    except Stop:
        return False


def _reads(model: Model, test: RuleTest, exp: Expectation) -> set[str]:
    names = set(given_of(test))
    if exp.expr is not None:
        names |= set(scope_of(model, exp.expr))
    if exp.target is not None:
        names.add(exp.target)
    return names


def _changes(
    model: Model,
    test: RuleTest,
    exp: Expectation,
    outcome: Outcome,
    removed: str,
    others: list[str],
    clock: Clock,
) -> bool:
    """Whether the verdict of `exp` changes when the rule `removed` is dropped."""
    select = given_of(test)
    if outcome.stopped is not None:
        return False
    if exp.kind == "invalid" and exp.because:
        # the test names its rules: without one of them it cannot pass
        return outcome.passed and removed in exp.because
    if outcome.passed:
        if exp.kind == "valid":
            return False  # fewer rules keep every valid assembly valid
        if exp.kind == "invalid":
            return satisfiable(model, select, [], others, clock)
        if exp.kind == "holds":
            assert exp.expr is not None
            return refutable(model, select, exp.expr, others, clock)
        if exp.kind == "count":
            rule = model.rules[removed]
            return refutable(model, select, rule.expr, others, clock)
        assert exp.target is not None
        domain = compiled(model).variables[exp.target].domain
        outside = [v for v in domain if not _member(v, exp.values)]
        if not outside:
            return False
        allowed = {exp.target: outside}
        return satisfiable(model, select, [], others, clock, allowed=allowed)
    return _passes_with(model, select, exp, others, clock)


def _passes_with(
    model: Model, select: dict[str, Value], exp: Expectation, rules: list[str], clock: Clock
) -> bool:
    """The verdict of `exp` under only `rules` (for expectations that failed)."""
    if exp.kind == "valid":
        return satisfiable(model, select, [], rules, clock)
    if exp.kind == "invalid":
        return not satisfiable(model, select, [], rules, clock)
    if exp.kind == "holds":
        assert exp.expr is not None
        return not refutable(model, select, exp.expr, rules, clock)
    if exp.kind == "count":
        return _count(model, select, rules, clock) == exp.count
    assert exp.target is not None
    found = _domain(model, select, exp.target, rules, clock)
    return {value_key(v) for v in found} == {value_key(v) for v in exp.values}


def coverage_by_file(model: Model, rules: Sequence[RuleCoverage]) -> list[FileCoverage]:
    """Rule coverage grouped by the file each rule is declared in, in the model's order."""
    by_file: dict[str, list[RuleCoverage]] = {f: [] for f in model.files}
    for r in rules:
        by_file.setdefault(r.span.file, []).append(r)
    return [FileCoverage(file=f, rules=tuple(rs)) for f, rs in by_file.items() if rs]


__all__ = [
    "FileCoverage",
    "Outcome",
    "RuleCoverage",
    "TestResult",
    "coverage_by_file",
    "given_of",
    "rule_coverage",
    "run_test",
    "run_tests",
    "selected",
    "source_text",
]
