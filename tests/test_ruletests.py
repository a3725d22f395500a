"""The tests inside rule files (atoconf.engine.ruletests) against the brute-force oracle.

Random small products get random `test` blocks (a random `given` and a mix of
every kind of expectation, whose claims are as often wrong as right); each
verdict must be what walking every assembly says, and rule coverage must be
exactly the rules whose removal changes some verdict under brute force.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from hypothesis import given
from hypothesis import strategies as st

from atoconf.engine.ruletests import given_of, rule_coverage, run_tests
from atoconf.language.evaluate import holds
from atoconf.language.model import Expectation, Model, Value
from tests import oracle
from tests.conftest import load_model
from tests.strategies import FAST, Expressions, random_models

Draw = st.DrawFn


def value_text(model: Model, var: str, value: Value) -> str:
    """A value as a test's `given` or a domain set writes it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if var in model.components:
        return f'"{value}"'
    return str(value)


@st.composite
def rule_test_blocks(draw: Draw, model: Model, name: str) -> str:
    """A `test` block: a given of up to 2 choices, then 1-4 expectations of any kind."""
    variables = {n: vs for n, vs in oracle.variables(model).items() if vs}
    chosen = draw(st.lists(st.sampled_from(sorted(variables)), max_size=2, unique=True))
    items = []
    for var in chosen:
        values = [v for v in variables[var] if not (var.endswith(".qty") and v == 0)]
        if values:
            items.append(f"{var} = {value_text(model, var, draw(st.sampled_from(values)))}")
    keys = oracle.valid_assemblies(model, _select(model, items))
    lines = [f'test "{name}" {{', f"  given {{ {', '.join(items)} }}"]
    gen = Expressions(model, draw)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["valid", "invalid", "because", "holds", "count", "domain"]))
        if kind == "valid":
            lines.append("  expect valid")
        elif kind == "invalid":
            lines.append("  expect invalid")
        elif kind == "because":
            rules = draw(st.lists(st.sampled_from(sorted(model.rules)), min_size=1, unique=True))
            lines.append(f"  expect invalid because {', '.join(rules)}")
        elif kind == "holds":
            lines.append(f"  expect {gen.boolean(draw(st.integers(0, 2)))}")
        elif kind == "count":
            claimed = max(0, len(keys) + draw(st.sampled_from([0, 0, 1, -1])))
            lines.append(f"  expect count {claimed}")
        else:
            var = draw(st.sampled_from(sorted(variables)))
            true = {v for k in keys for n, v in k if n == var}
            claimed = [v for v in variables[var] if v in true]
            if draw(st.booleans()):  # a wrong claim: one value in or out
                flip = draw(st.sampled_from(variables[var]))
                claimed = [v for v in variables[var] if (v in claimed) != (v == flip)]
            values = ", ".join(value_text(model, var, v) for v in claimed)
            lines.append(f"  expect {var} in {{ {values} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _select(model: Model, items: list[str]) -> dict[str, object]:
    """The oracle's select for given items (parsed back from the text drawn above)."""
    out: dict[str, object] = {}
    variables = oracle.variables(model)
    for item in items:
        var, text = item.split(" = ")
        out[var] = next(v for v in variables[var] if value_text(model, var, v) == text)
    return out


@st.composite
def models_with_tests(draw: Draw) -> tuple[str, Model]:
    text, model = draw(random_models())
    blocks = [draw(rule_test_blocks(model, f"t{i}")) for i in range(draw(st.integers(1, 3)))]
    full = text + "".join(blocks)
    return full, load_model(full, "random.ato")


def oracle_verdict(
    model: Model,
    select: Mapping[str, Value],
    exp: Expectation,
    rules: Collection[str] | None = None,
) -> bool:
    """Whether `exp` holds by brute force, under only `rules` when given."""
    keys = oracle.valid_assemblies(model, select, (), rules)
    if exp.kind == "valid":
        return bool(keys)
    if exp.kind == "invalid" and exp.because:
        if rules is not None and not set(exp.because) <= set(rules):
            return False  # a rule the test names is gone: the test cannot pass
        because = list(exp.because)
        if oracle.valid_assemblies(model, select, (), because):
            return False
        return all(
            oracle.valid_assemblies(model, select, (), [r for r in because if r != b])
            for b in because
        )
    if exp.kind == "invalid":
        return not keys
    if exp.kind == "holds":
        assert exp.expr is not None
        return all(holds(model, exp.expr, oracle.assembly_of(model, k)) for k in keys)
    if exp.kind == "count":
        return len(keys) == exp.count
    found = {(type(v), v) for k in keys for n, v in k if n == exp.target}
    return found == {(type(v), v) for v in exp.values}


@FAST
@given(models_with_tests())
def test_verdicts_match_brute_force(case: tuple[str, Model]) -> None:
    text, model = case
    results = run_tests(model, {})
    for test, result in zip(model.tests, results, strict=True):
        select = given_of(test)
        for exp, outcome in zip(test.expectations, result.outcomes, strict=True):
            assert outcome.stopped is None
            assert outcome.passed == oracle_verdict(model, select, exp), (exp, outcome, text)
            if not outcome.passed and exp.kind == "holds":
                # the counterexample is a valid assembly where the expectation fails
                example = outcome.counterexample
                assert example is not None
                key = oracle.key_from_json(model, example.to_json())
                assert key in oracle.valid_assemblies(model, select)
                assert exp.expr is not None
                assert not holds(model, exp.expr, oracle.assembly_of(model, key))


@FAST
@given(models_with_tests())
def test_coverage_matches_brute_force(case: tuple[str, Model]) -> None:
    text, model = case
    results = run_tests(model, {})
    coverage = {c.rule: c for c in rule_coverage(model, results)}
    assert list(coverage) == list(model.rules)
    for name in model.rules:
        others = [r for r in model.rules if r != name]
        changes = [
            test.name
            for test in model.tests
            for exp in test.expectations
            if oracle_verdict(model, given_of(test), exp)
            != oracle_verdict(model, given_of(test), exp, others)
        ]
        found = coverage[name]
        assert found.stopped is None
        assert (found.covered_by is not None) == bool(changes), (name, changes, text)
        if found.covered_by is not None:
            assert found.covered_by in changes
