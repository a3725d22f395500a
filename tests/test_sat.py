"""The SAT solver and the clauses of two-valued groups, against brute force."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atoconf
from atoconf.engine import clauses
from atoconf.engine.clauses import _prime_implicants, count_models
from atoconf.engine.clock import Clock
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.sat import Solver
from tests.conftest import shapes_module

shapes = shapes_module()

Clause = Sequence[int]


def _holds(clause: Clause, point: Sequence[bool]) -> bool:
    return any(point[abs(x) - 1] == (x > 0) for x in clause)


def _models(variables: int, cnf: Sequence[Clause]) -> list[tuple[bool, ...]]:
    return [
        point
        for point in itertools.product((False, True), repeat=variables)
        if all(_holds(c, point) for c in cnf)
    ]


VARIABLES = 7
literal = st.integers(1, VARIABLES).flatmap(lambda v: st.sampled_from((v, -v)))
cnfs = st.lists(st.lists(literal, min_size=1, max_size=4), max_size=30)
assumption_sets = st.lists(st.lists(literal, max_size=4), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(cnfs, assumption_sets)
def test_answers_agree_with_brute_force_call_after_call(
    cnf: list[list[int]], asked: list[list[int]]
) -> None:
    """One solver asked under several assumption sets in turn (keeping what it
    learned): each answer is right, each model a model, each core a subset of the
    assumptions that no model meets."""
    solver = Solver(VARIABLES, cnf)
    every = _models(VARIABLES, cnf)
    for assumptions in asked:
        found = solver.solve(assumptions, Clock())
        meeting = [m for m in every if _holds_all(assumptions, m)]
        assert (found is not None) == bool(meeting), (cnf, assumptions)
        if found is not None:
            assert all(_holds(c, found) for c in cnf)
            assert _holds_all(assumptions, found)
        elif every:  # the clauses alone have models: the assumptions are to blame
            assert set(solver.core) <= set(assumptions)
            assert not [m for m in every if _holds_all(solver.core, m)], solver.core


def _holds_all(literals: Sequence[int], point: Sequence[bool]) -> bool:
    return all(point[abs(x) - 1] == (x > 0) for x in literals)


@settings(max_examples=100, deadline=None)
@given(cnfs, st.lists(st.lists(literal, min_size=1, max_size=4), max_size=5))
def test_clauses_added_between_calls_and_switched_off(
    cnf: list[list[int]], extra: list[list[int]]
) -> None:
    """A clause added under a switch holds only while the switch is assumed."""
    solver = Solver(VARIABLES, cnf)
    for clause in extra:
        switch = solver.new_variable()
        solver.add([-switch, *clause])
        found = solver.solve([switch], Clock())
        assert (found is not None) == bool(_models(VARIABLES, [*cnf, clause]))
        solver.add([-switch])
        assert (solver.solve([], Clock()) is not None) == bool(_models(VARIABLES, cnf))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5).flatmap(lambda w: st.tuples(st.just(w), st.sets(st.integers(0, 2**w - 1))))
)
def test_prime_implicants_cover_exactly_the_true_points(case: tuple[int, set[int]]) -> None:
    width, true_points = case
    primes = _prime_implicants(sorted(true_points), width)
    covered = {p for p in range(2**width) for mask, bits in primes if p & mask == bits}
    assert covered == true_points
    for mask, bits in primes:  # prime: no care bit can be dropped
        for i in range(width):
            if mask >> i & 1:
                wider = mask & ~(1 << i)
                assert any(
                    p & wider == bits & wider and p not in true_points for p in range(2**width)
                )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_feature_models_clicks_on_clauses_agree_with_its_decision_graphs(
    seed: int, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 features in a tree with cross-tree rules: large enough to go to the SAT solver,
    small enough for the decision graphs to answer too."""
    shape = shapes.generate("feature", seed, 240)
    model = atoconf.loads(shape.text)
    rng = Random(seed)
    requests = [{}] + [
        {name: rng.choice((True, False)) for name in rng.sample(sorted(shape.options), 3)}
        for _ in range(6)
    ]
    with caplog.at_level(logging.DEBUG, logger="atoconf.engine"):
        on_clauses = [model.configure({"select": r}).domains() for r in requests]
    paths = {r.path for r in caplog.records if r.name == "atoconf.engine"}  # type: ignore[attr-defined]
    assert paths == {"clauses"}
    monkeypatch.setattr(clauses, "MIN_VARIABLES", 10**9)
    CompiledModel.of(model.model).clear()
    for request, found in zip(requests, on_clauses, strict=True):
        expected = model.configure({"select": request}).domains()
        assert found.satisfiable == expected.satisfiable, request
        assert found.domains == expected.domains, request


@settings(max_examples=200, deadline=None)
@given(cnfs, st.lists(literal, max_size=3))
def test_the_component_counter_agrees_with_brute_force(
    cnf: list[list[int]], assumed: list[int]
) -> None:
    expected = len([m for m in _models(VARIABLES, cnf) if _holds_all(assumed, m)])
    assert count_models(VARIABLES, [tuple(c) for c in cnf], assumed, Clock()) == expected
