"""The solver (atoconf.engine.solve) against the brute-force oracle (tests/oracle.py).

Every example is a random small product with a random request
(tests/strategies.py). The oracle walks every assembly and checks each rule with
the reference semantics; the solver must find exactly the same valid
assemblies, count them exactly, report the same valid domains, and put the best
assemblies first when there is an objective.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from types import ModuleType
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from atoconf.engine import problem, sweep
from atoconf.engine import solve as solve_module
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.results import AssemblyResult
from atoconf.engine.solve import count, domains, solve
from atoconf.language.model import Expr, Model, Value
from tests import oracle
from tests.conftest import load_model, typed
from tests.strategies import FAST, random_models, random_objectives, random_requests


class Case:
    """A random model and request; printed as rule text when an example fails."""

    def __init__(
        self,
        text: str,
        model: Model,
        select: dict[str, Value],
        require_text: tuple[str, ...],
        require: tuple[Expr, ...],
    ) -> None:
        self.text = text
        self.model = model
        self.select = select
        self.require_text = require_text
        self.require = require

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return (
            f"\n{self.text}\nselect={self.select!r}\nrequire={list(self.require_text)!r}\n"
            f"oracle count={len(oracle.valid_assemblies(self.model, self.select, self.require))}"
        )


@contextmanager
def patched(module: ModuleType, name: str, value: Any, model: Model) -> Iterator[None]:
    """A module constant set for the duration; the model's compiled caches are
    dropped before and after, so it is compiled again under the setting."""
    saved = getattr(module, name)
    setattr(module, name, value)
    CompiledModel.of(model).clear()
    try:
        yield
    finally:
        setattr(module, name, saved)
        CompiledModel.of(model).clear()


@st.composite
def cases(draw: st.DrawFn) -> Case:
    text, model = draw(random_models())
    select, require_text = draw(random_requests(model))
    require = tuple(typed(model, t) for t in require_text)
    return Case(text, model, select, require_text, require)  # type: ignore[arg-type]


@st.composite
def cases_with_objective(draw: st.DrawFn) -> tuple[Case, str]:
    case = draw(cases())
    return case, draw(random_objectives(case.model))


def keys_of(model: Model, assemblies: list[AssemblyResult]) -> list[oracle.Key]:
    return [oracle.key_from_json(model, assembly.to_json()) for assembly in assemblies]


def tagged(values: list[Value] | set[Value]) -> set[tuple[type, Value]]:
    """Values with their kinds, so that True and 1 stay apart."""
    return {(type(v), v) for v in values}


# ---- solve ----------------------------------------------------------------------------------


@FAST
@given(cases())
def test_solve_yields_exactly_the_valid_assemblies_once_each(case: Case) -> None:
    expected = oracle.valid_assemblies(case.model, case.select, case.require)
    assemblies = list(solve(case.model, case.select, case.require))
    json.dumps([a.to_json() for a in assemblies])  # JSON-ready: no Fraction, Decimal or set
    keys = keys_of(case.model, assemblies)
    assert len(keys) == len(set(keys)), "an assembly came twice"
    assert set(keys) == set(expected)
    assert all(a.objective is None and "objective" not in a.to_json() for a in assemblies)


@FAST
@given(cases())
def test_solve_is_deterministic(case: Case) -> None:
    first = list(solve(case.model, case.select, case.require))
    assert list(solve(case.model, case.select, case.require)) == first


@FAST
@given(cases(), st.integers(1, 6))
def test_solve_limit_caps_the_number_of_assemblies(case: Case, limit: int) -> None:
    expected = set(oracle.valid_assemblies(case.model, case.select, case.require))
    keys = keys_of(case.model, list(solve(case.model, case.select, case.require, limit=limit)))
    assert len(keys) == min(limit, len(expected))
    assert len(set(keys)) == len(keys)
    assert set(keys) <= expected


@FAST
@given(cases(), st.integers(1, 6))
def test_solve_limit_read_off_the_graphs_gives_valid_assemblies(case: Case, limit: int) -> None:
    """A search that does not settle in its quick steps hands over to the compiled
    graphs: what they list is valid, distinct and as many as asked for."""
    expected = set(oracle.valid_assemblies(case.model, case.select, case.require))
    with patch.object(solve_module, "QUICK_SEARCH_STEPS", 0):
        found = list(solve(case.model, case.select, case.require, limit=limit))
    keys = keys_of(case.model, found)
    assert len(keys) == min(limit, len(expected))
    assert len(set(keys)) == len(keys)
    assert set(keys) <= expected


# ---- count and domains ------------------------------------------------------------------------


@FAST
@given(cases())
def test_count_is_exact_and_equals_the_oracle_count(case: Case) -> None:
    check_count(case)


def check_count(case: Case) -> None:
    result = count(case.model, case.select, case.require)
    assert result.count == oracle.count(case.model, case.select, case.require)
    assert result.exact
    assert result.stopped is None


@FAST
@given(cases())
def test_domains_equal_the_values_of_valid_assemblies(case: Case) -> None:
    check_domains(case)


def check_domains(case: Case) -> None:
    expected = oracle.domains(case.model, case.select, case.require)
    result = domains(case.model, case.select, case.require)
    if not any(expected.values()):
        assert not result.satisfiable
        assert result.domains == {}
        return
    assert result.satisfiable
    assert result.stopped is None
    assert set(result.domains) == set(oracle.variables(case.model))
    for name, values in result.domains.items():
        assert len(values) == len(tagged(values)), f"{name}: a value came twice"
        assert tagged(values) == tagged(expected[name]), name


# ---- objectives -----------------------------------------------------------------------------


def _check_objective(case: Case, objective_text: str, maximize: bool, limit: int | None) -> None:
    objective = typed(case.model, objective_text)
    expected = oracle.valid_assemblies(case.model, case.select, case.require)
    values = oracle.objective_values(case.model, objective, expected)
    assert len(values) == len(expected)  # no division in random objectives
    assemblies = list(
        solve(
            case.model,
            case.select,
            case.require,
            minimize=None if maximize else objective,
            maximize=objective if maximize else None,
            limit=limit,
        )
    )
    keys = keys_of(case.model, assemblies)
    assert len(keys) == len(set(keys))
    assert len(keys) == (len(expected) if limit is None else min(limit, len(expected)))
    assert set(keys) <= set(expected)
    found = [values[key] for key in keys]
    for assembly, value in zip(assemblies, found, strict=True):
        assert assembly.objective is not None
        assert Fraction(assembly.objective) == value
    best = sorted(values.values(), reverse=maximize)
    # best first, then never better: the first n are the n best
    assert found == best[: len(found)]


@FAST
@given(cases_with_objective())
def test_minimize_lists_every_assembly_cheapest_first(pair: tuple[Case, str]) -> None:
    _check_objective(*pair, maximize=False, limit=None)


@FAST
@given(cases_with_objective())
def test_maximize_lists_every_assembly_best_first(pair: tuple[Case, str]) -> None:
    _check_objective(*pair, maximize=True, limit=None)


@FAST
@given(cases_with_objective(), st.integers(1, 4), st.booleans())
def test_objective_with_limit_gives_the_best_few(
    pair: tuple[Case, str], limit: int, maximize: bool
) -> None:
    _check_objective(*pair, maximize=maximize, limit=limit)


# ---- soft defaults ----------------------------------------------------------------------------


def oracle_defaults(case: Case) -> dict[str, Value]:
    """SPEC §1: in declaration order, an option the request leaves unset takes its
    default while some valid assembly still agrees with it."""
    chosen = dict(case.select)
    for option in case.model.options.values():
        if option.name in chosen or not option.has_default:
            continue
        trial = {**chosen, option.name: option.default}
        if oracle.valid_assemblies(case.model, trial, case.require):
            chosen = trial
    return chosen


@FAST
@given(cases())
def test_defaults_are_soft_and_applied_in_declaration_order(case: Case) -> None:
    select = oracle_defaults(case)
    expected = oracle.valid_assemblies(case.model, select, case.require)
    assemblies = list(solve(case.model, case.select, case.require, defaults=True))
    assert sorted(keys_of(case.model, assemblies), key=repr) == sorted(expected, key=repr)
    result = count(case.model, case.select, case.require, defaults=True)
    assert result.count == len(expected)
    # a default never makes a satisfiable request unsatisfiable
    if oracle.valid_assemblies(case.model, case.select, case.require):
        assert expected


# ---- exactness of objectives ------------------------------------------------------------------

TINY = """product tiny
option n: int -2..2
"""


def test_objective_values_a_trillionth_apart_are_told_apart() -> None:
    # n * 10^-13 takes five values, each 10^-13 from the next; exact arithmetic
    # must list all five assemblies, in order.
    model = load_model(TINY, "tiny.ato")
    objective = typed(model, "n * 0.0000000000001")
    keys = oracle.valid_assemblies(model)
    values = oracle.objective_values(model, objective, keys)
    for maximize in (False, True):
        assemblies = list(
            solve(
                model,
                minimize=None if maximize else objective,
                maximize=objective if maximize else None,
            )
        )
        found = [values[k] for k in keys_of(model, assemblies)]
        assert found == sorted(values.values(), reverse=maximize)


# ---- each engine, forced ----------------------------------------------------------------------
# Random models are small, so their sums become tables. These run the same
# comparisons with every sum kept a sum (the sweep carries it as a polynomial or
# a cheapest completion), and with the sweep switched off (the fallbacks: the
# residual counter and domains by search with witnesses and probes).


@FAST
@given(cases())
def test_count_and_domains_with_every_sum_kept_a_sum(case: Case) -> None:
    with patched(problem, "WIDE_SUM", 1, case.model):
        check_count(case)
        check_domains(case)


@FAST
@given(cases())
def test_count_and_domains_without_the_sweep(case: Case) -> None:
    with patched(sweep, "MAX_STATES", -1, case.model):
        check_count(case)
        check_domains(case)


@st.composite
def priced_products(draw: st.DrawFn) -> Case:
    """Five to six components with prices (decimals, some optional, some with
    quantities), a few compatibility rules, and price rules over the whole
    assembly that depend on an option: at most, at least, or anything but."""
    n = draw(st.integers(5, 6))
    lines = [
        "product priced",
        "enum Size { s, m, l }",
        "type P {\n  slot: int\n  size: Size\n  price: decimal\n}",
        "parts P {",
    ]
    for c in range(n):
        for k in range(draw(st.integers(1, 3))):
            size = draw(st.sampled_from(["s", "m", "l"]))
            cents = draw(st.integers(0, 400)) * 5
            price = f"{cents // 100}.{cents % 100:02d}"
            lines.append(f'  "C{c}-{k}" "part": slot={c}, size={size}, price={price}')
    lines.append("}")
    for c in range(n):
        optional = " optional" if draw(st.booleans()) else ""
        qty = " qty 1..2" if draw(st.integers(0, 3)) == 0 else ""
        lines.append(f"component c{c}: P{qty}{optional} where slot == {c}")
    lines.append("option tier: enum { low, high, any }")
    for r in range(draw(st.integers(0, 3))):
        a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        op = draw(st.sampled_from(["==", "!="]))
        lines.append(f"rule fit{r}: c{a}.size {op} c{b}.size or c{a} == none")
    limit = draw(st.integers(0, 60)) * 5
    shape = draw(st.sampled_from(["<=", ">=", "!=", "<"]))
    lines.append(f"rule budget: tier == low -> total(price) {shape} {limit}")
    lines.append(f"rule floor: tier == high -> total(price) >= {limit // 2}")
    text = "\n".join(lines) + "\n"
    return Case(text, load_model(text, "priced.ato"), {}, (), ())


@settings(FAST, max_examples=150)
@given(priced_products())
def test_sums_over_the_whole_assembly_count_and_narrow_domains_exactly(case: Case) -> None:
    check_count(case)
    check_domains(case)


@settings(FAST, max_examples=100)
@given(priced_products(), st.booleans(), st.sampled_from([None, 1, 3]))
def test_cheapest_and_dearest_by_total_come_in_order(
    case: Case, maximize: bool, limit: int | None
) -> None:
    # `total(price)` as the objective: the sweep lists the graph's paths by their sum
    _check_objective(case, "total(price)", maximize, limit)
