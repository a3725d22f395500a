"""Every engine path against the brute-force oracle on products of every shape family.

The shape generator (benchmarks/shapes.py) writes products the way product
engineers do: compatibility tables, rules between optional components, arithmetic
over attributes and quantities, several sums at once, feature trees. Its small
products are counted and their valid domains taken by the engine on each path in
turn (the compiled graph as it chooses; every rule a lazy check; every rule over a
sum held in the graph's states, or checked on paths; the search and counter
fallbacks; the SAT solver for every group of two-valued choices, with the rules as
clauses or read on the assignments found) and compared with the oracle, with no
request and with requests that select values: the count, the valid domains, whether
there is an assembly, the assemblies listed without an objective, and the prices of
the five cheapest. Explanations of a conflicting pair of values are checked the same
way: each conflict has no assembly and is minimal, each repair repairs, is minimal
and comes with a valid assembly, and the values it offers instead are those the
oracle allows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from functools import cache
from random import Random
from typing import Any

import pytest

from atoconf.engine import clauses, problem, sweep, witnesses
from atoconf.engine.clock import Clock
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.explain import Member, explain, item_text
from atoconf.engine.problem import compiled, nodes
from atoconf.engine.request import Request, ResolvedRequest
from atoconf.engine.results import DomainsResult
from atoconf.engine.solve import count, domains, satisfiable, solve
from atoconf.language.build import load_text
from atoconf.language.model import Model, Total, Value
from tests import oracle
from tests.conftest import ROOT, shapes_module

PER_FAMILY = 3  # products per family
SEEDS = 40  # seeds tried per family
MAX_ASSEMBLIES = 60_000  # the oracle walks every assembly: keep each product small
CHEAPEST = 5  # assemblies listed by price
LISTED = 200  # assemblies listed without an objective


shapes = shapes_module()


def _products() -> list[tuple[str, int]]:
    """Per family, the seeds (of the first SEEDS) whose small products the oracle walks
    fastest."""
    out: list[tuple[str, int]] = []
    for family in shapes.FAMILIES:
        sizes = sorted((oracle.product_size(_model(family, s)), s) for s in range(1, SEEDS + 1))
        out += [(family, seed) for size, seed in sizes[:PER_FAMILY] if size <= MAX_ASSEMBLIES]
    return out


@cache
def _model(family: str, seed: int) -> Model:
    shape = shapes.small(family, seed)
    loaded = load_text(shape.text, f"{shape.name}.ato")
    assert loaded.ok and loaded.model is not None, loaded.diagnostics
    return loaded.model


def _requests(family: str, seed: int) -> list[dict[str, Value]]:
    """No request; two values of the product's valid assembly; one value drawn at
    random (which may leave nothing valid)."""
    shape = shapes.small(family, seed)
    model = _model(family, seed)
    witness = [(k, v) for k, v in shape.witness.items() if v is not None]
    variables = oracle.variables(model)
    rng = Random(f"{family}:{seed}")
    name = rng.choice(sorted(variables))
    drawn = {name: rng.choice(list(variables[name]))}
    return [{}, dict(witness[:2]), drawn]


@cache
def _expected(family: str, seed: int, index: int) -> tuple[int, dict[str, set[Any]]]:
    model = _model(family, seed)
    select = _requests(family, seed)[index]
    keys = oracle.valid_assemblies(model, select)
    found = oracle.domains_of(model, keys)
    return len(keys), {k: {(type(v), v) for v in vs} for k, vs in found.items()}


@contextmanager
def _path(path: str, model: Model) -> Iterator[None]:
    """One engine path forced for the duration (the model compiled again under it)."""
    settings = {
        "graph": [],
        "lazy": [(problem, "TABLE_LIMIT", 0)],  # every rule a lazy check, no table
        # no sum carried on the edges: every rule over one holds its sum in the states
        "sums in states": [(sweep, "MAX_OUTER", 0), (sweep, "NARROW_SUM", 10**9)],
        # ... or is checked on paths of a graph that leaves it out
        "checked on paths": [(sweep, "MAX_OUTER", 0), (sweep, "NARROW_SUM", -1)],
        # ... and every witness searched for (no swap into a witness found, no dive)
        "searched on paths": [
            (sweep, "MAX_OUTER", 0),
            (sweep, "NARROW_SUM", -1),
            (witnesses, "SWAPS", 0),
            (witnesses, "DIVES", ()),
        ],
        "fallback": [(sweep, "MAX_STATES", -1)],  # no graph: search and counter
        # every group of two-valued choices, however small, to the SAT solver
        "clauses": [(clauses, "MIN_VARIABLES", 0)],
        # ... with every rule over two or more of them read on the assignments found
        "wide checks": [(clauses, "MIN_VARIABLES", 0), (clauses, "MAX_SCOPE", 1)],
    }[path]
    saved = [(module, name, getattr(module, name)) for module, name, _ in settings]
    for module, name, value in settings:
        setattr(module, name, value)
    CompiledModel.of(model).clear()
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)
        CompiledModel.of(model).clear()


PATHS = (
    "graph",
    "lazy",
    "sums in states",
    "checked on paths",
    "searched on paths",
    "fallback",
    "clauses",
    "wide checks",
)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("family", "seed"), _products())
def test_count_and_domains_agree_with_the_oracle(family: str, seed: int, path: str) -> None:
    model = _model(family, seed)
    for index, select in enumerate(_requests(family, seed)):
        expected_count, expected_domains = _expected(family, seed, index)
        with _path(path, model):
            counted = count(model, select)
            found = domains(model, select)
            cheapest = _cheapest(model, select)
            possible = satisfiable(model, select, [], None, Clock())
            stream = solve(model, select, limit=LISTED)
            listed = [oracle.key_from_json(model, a.to_json()) for a in stream]
            assert stream.stopped is None
        assert cheapest == _expected_cheapest(family, seed, index), (path, select)
        assert possible == (expected_count > 0), (path, select)
        assert counted.exact and counted.stopped is None
        assert counted.count == expected_count, (path, select)
        # distinct valid assemblies, all of them when there are at most LISTED
        assert len(set(listed)) == len(listed) == min(LISTED, expected_count), (path, select)
        assert set(listed) <= _valid_keys(family, seed, index), (path, select)
        if not expected_count:
            assert not found.satisfiable, (path, select)
            continue
        assert found.satisfiable and found.stopped is None, (path, select)
        for name, values in found.domains.items():
            assert {(type(v), v) for v in values} == expected_domains[name], (path, select, name)


@pytest.mark.parametrize("path", ["graph", "checked on paths", "searched on paths"])
@pytest.mark.parametrize(("family", "seed"), _products())
def test_clicks_in_a_row_agree_with_the_oracle(family: str, seed: int, path: str) -> None:
    """Requests asked in a row of one compiled model, as a configurator's clicks are:
    one choice added at a time, one taken back (a wider request after a narrower
    one), a request beside the others, one asked again. What a request's answer
    keeps for the next must not leak into the answer of one it does not cover."""
    model = _model(family, seed)
    witness = [(k, v) for k, v in shapes.small(family, seed).witness.items() if v is not None]
    drawn = _requests(family, seed)[2]
    one, two, three = (dict(witness[:n]) for n in (1, 2, 3))
    row = [{}, one, two, one, drawn, two, three, {}, drawn]
    with _path(path, model):
        for select in row:
            _assert_domains(domains(model, select), oracle.domains(model, select), path, select)


@cache
def _valid_keys(family: str, seed: int, index: int) -> set[oracle.Key]:
    return set(oracle.valid_assemblies(_model(family, seed), _requests(family, seed)[index]))


def _price(model: Model) -> Total | None:
    """The model's `total(price)`, taken from a rule that reads it."""
    for check in compiled(model).checks:
        for node in nodes(check.expr) if check.expr is not None else ():
            if isinstance(node, Total) and node.attr == "price":
                return node
    return None


def _cheapest(model: Model, select: dict[str, Value]) -> list[Fraction]:
    """The prices of the five cheapest assemblies the engine lists."""
    price = _price(model)
    if price is None:
        return []
    found = solve(model, select, minimize=price, limit=CHEAPEST)
    listed = [Fraction(a.objective) for a in found if a.objective is not None]
    assert found.stopped is None
    return listed


@cache
def _expected_cheapest(family: str, seed: int, index: int) -> list[Fraction]:
    model = _model(family, seed)
    price = _price(model)
    if price is None:
        return []
    keys = oracle.valid_assemblies(model, _requests(family, seed)[index])
    return sorted(oracle.objective_values(model, price, keys).values())[:CHEAPEST]


@cache
def _conflicting_pair(family: str, seed: int) -> dict[str, Value] | None:
    """A valid value of one variable and a value of another that it rules out (drawn
    from the seed), or None when no value rules any other out (none of the products
    measured: the test asserts it)."""
    model = _model(family, seed)
    rng = Random(f"conflict:{family}:{seed}")
    variables = oracle.variables(model)
    keys = oracle.valid_assemblies(model)
    firsts = sorted({pair for key in keys for pair in key}, key=repr)
    rng.shuffle(firsts)
    for name, value in firsts:
        left = oracle.domains_of(
            model, [key for key in keys if oracle.same_value(dict(key)[name], value)]
        )
        ruled_out = [
            (other, v)
            for other in sorted(variables)
            if other != name
            for v in variables[other]
            if not any(oracle.same_value(v, w) for w in left[other])
        ]
        if ruled_out:
            other, v = rng.choice(ruled_out)
            return {name: value, other: v}
    return None


@cache
def _possible(
    family: str, seed: int, select: tuple[tuple[str, Value], ...], rules: frozenset[str] | None
) -> bool:
    return bool(oracle.valid_assemblies(_model(family, seed), dict(select), (), rules))


@cache
def _allowed(
    family: str, seed: int, select: tuple[tuple[str, Value], ...], name: str
) -> set[Value]:
    return oracle.domains(_model(family, seed), dict(select))[name]


EXPLAIN_PATHS = ("graph", "checked on paths", "fallback", "clauses", "wide checks")


@pytest.mark.parametrize("path", EXPLAIN_PATHS)
@pytest.mark.parametrize(("family", "seed"), _products())
def test_explanations_agree_with_the_oracle(family: str, seed: int, path: str) -> None:
    model = _model(family, seed)
    pair = _conflicting_pair(family, seed)
    assert pair is not None, "every product measured has a value that rules another out"
    texts = {item_text(k, v): (k, v) for k, v in pair.items()}

    def possible(items: set[str], rules: set[str] | None) -> bool:
        select = tuple(sorted(texts[i] for i in items))
        return _possible(family, seed, select, None if rules is None else frozenset(rules))

    request = ResolvedRequest(dict(pair), (), None, None, None, Request())
    with _path(path, model):
        found = explain(model, request, max_conflicts=2)
    assert not found.satisfiable and found.stopped is None, (path, pair)
    for conflict in found.conflicts or [found.conflict]:

        def holds(members: list[Member]) -> bool:
            items = {m.item for m in members if m.kind == "request" and m.item}
            return possible(items, {m.name for m in members if m.kind == "rule" and m.name})

        assert not holds(conflict), (path, pair, conflict)
        for i in range(len(conflict)):
            assert holds(conflict[:i] + conflict[i + 1 :]), ("not minimal", path, pair, i)
    valid = set(oracle.valid_assemblies(model))
    assert found.repairs, (path, pair)
    for repair in found.repairs:
        kept = set(texts) - set(repair.remove)
        assert possible(kept, None) and repair.remove, (path, pair, repair.remove)
        assert oracle.key_from_json(model, repair.assembly.to_json()) in valid
        for item in repair.remove:
            name, value = texts[item]
            others = {texts[i][0]: texts[i][1] for i in kept}
            expected = _allowed(family, seed, tuple(sorted(others.items())), name)
            instead = repair.instead.get(name, [])
            assert {(type(v), v) for v in instead} == {
                (type(v), v) for v in expected if not oracle.same_value(v, value)
            }, (path, pair, name)


REDUNDANT_POWER = ROOT / "tests" / "fixtures" / "redundant_power.ato"
POWER_REQUESTS: list[dict[str, Value]] = [
    {},
    {"psu": "PSU-1"},
    {"psu": "PSU-2", "gpu.qty": 2},
    {"psu": "PSU-3", "redundant": True, "cpu.qty": 2},
    {"budget": "low", "psu": "PSU-2"},
]


@cache
def _power_domains(select: tuple[tuple[str, Value], ...]) -> dict[str, set[Value]]:
    loaded = load_text(REDUNDANT_POWER.read_text(), REDUNDANT_POWER.name)
    assert loaded.model is not None
    return oracle.domains(loaded.model, dict(select))


@pytest.mark.parametrize("path", ["checked on paths", "searched on paths"])
def test_witness_searches_on_paths_agree_with_the_oracle(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power rule over a sum the graph leaves to be checked on paths, whose limit
    depends on small variables of the graph (`if redundant then psu.capacity else
    psu.qty * psu.capacity`, with redundancy a table): the values found by searching
    for a valid path through each are exactly those the oracle finds valid (two paths
    to one state can differ in that sum: a search must not take one's failure for the
    other's)."""
    loaded = load_text(REDUNDANT_POWER.read_text(), REDUNDANT_POWER.name)
    assert loaded.ok and loaded.model is not None, loaded.diagnostics
    model = loaded.model
    searched: list[bool] = []
    find = witnesses._Search.find

    def counted(
        search: witnesses._Search, start: witnesses.Start, target: tuple[int, Value] | None
    ) -> list[Value] | None:
        found = find(search, start, target)
        searched.append(found is not None)
        return found

    monkeypatch.setattr(witnesses._Search, "find", counted)
    for select in POWER_REQUESTS:
        expected = _power_domains(tuple(select.items()))
        with _path(path, model):
            found = domains(model, select)
        _assert_domains(found, expected, path, select)
    assert searched, "no value needed a search on paths: the test misses them"
    # every value no valid path takes is ruled out by bounds before a search: in each
    # case of `redundant` and `psu.qty` the redundancy table allows, with the least a
    # present accelerator adds (at least one, as many as the request allows)
    assert all(searched), f"{searched.count(False)} searches found no valid path"


@pytest.mark.parametrize("path", ["checked on paths", "searched on paths"])
def test_power_clicks_in_a_row_agree_with_the_oracle(path: str) -> None:
    """The power requests asked in a row of one compiled model, forth and back: each
    answer is the oracle's whatever was asked before it."""
    loaded = load_text(REDUNDANT_POWER.read_text(), REDUNDANT_POWER.name)
    assert loaded.ok and loaded.model is not None, loaded.diagnostics
    model = loaded.model
    row = [*POWER_REQUESTS, *reversed(POWER_REQUESTS), {"psu": "PSU-1"}, {"psu": "PSU-3"}]
    with _path(path, model):
        for select in row:
            expected = _power_domains(tuple(select.items()))
            _assert_domains(domains(model, select), expected, path, select)


def _assert_domains(
    found: DomainsResult, expected: dict[str, set[Value]], path: str, select: dict[str, Value]
) -> None:
    """The engine's domains are the oracle's, value for value (1 and True apart)."""
    assert found.satisfiable == any(expected.values()), (path, select)
    if not found.satisfiable:
        return
    for name, values in found.domains.items():
        want = {(type(v), v) for v in expected[name]}
        assert {(type(v), v) for v in values} == want, (path, select, name)


def test_every_family_is_measured() -> None:
    families = {family for family, _ in _products()}
    assert families == set(shapes.FAMILIES)
