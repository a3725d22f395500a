"""The brute-force oracle (tests/oracle.py), checked on small models whose answers
are worked out by hand in the comments, and on the hand-counted tests of the
bundled catalogs. The solver is trusted only as far as the oracle is."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoconf import load
from atoconf.language.build import load_text
from atoconf.language.evaluate import holds
from atoconf.language.model import Model
from tests import oracle
from tests.conftest import ROOT, load_model, typed
from tests.strategies import random_models, random_requests


def model_of(text: str) -> Model:
    return load_model(text, "oracle.ato", strict=True)


def with_rules(text: str, *rules: str) -> Model:
    lines = [f"rule r{i}: {rule}" for i, rule in enumerate(rules)]
    return model_of(text + "\n".join(lines) + "\n")


def count_with(text: str, *rules: str) -> int:
    return oracle.count(with_rules(text, *rules))


# ---- two components, three parts each -------------------------------------------------------

SOCKETS = """product sockets
enum Socket { AM5, LGA1700, LGA1851 }
type CPU { socket: Socket  tdp: int }
type Board { socket: Socket }
type Cooler { sockets: set of Socket  max_tdp: int }
parts CPU {
  "C1": socket=AM5, tdp=105
  "C2": socket=LGA1700, tdp=125
  "C3": socket=LGA1851, tdp=65
}
parts Board {
  "B1": socket=AM5
  "B2": socket=AM5
  "B3": socket=LGA1851
}
parts Cooler {
  "K1": sockets={AM5, LGA1700}, max_tdp=120
  "K2": sockets={LGA1700, LGA1851}, max_tdp=250
  "K3": sockets={}, max_tdp=300
}
component cpu: CPU
component board: Board
"""


def test_socket_match_keeps_exactly_the_matching_pairs() -> None:
    # AM5: C1 with B1 or B2; LGA1700: C2 with no board; LGA1851: C3 with B3.
    model = with_rules(SOCKETS, "cpu.socket == board.socket")
    assert oracle.valid_assemblies(model) == [
        (("board", "B1"), ("cpu", "C1")),
        (("board", "B2"), ("cpu", "C1")),
        (("board", "B3"), ("cpu", "C3")),
    ]
    assert oracle.domains(model) == {"cpu": {"C1", "C3"}, "board": {"B1", "B2", "B3"}}


def test_without_rules_every_pair_is_valid() -> None:
    model = model_of(SOCKETS)
    assert oracle.variables(model) == {"cpu": ("C1", "C2", "C3"), "board": ("B1", "B2", "B3")}
    assert oracle.count(model) == 9
    assert len(set(oracle.valid_assemblies(model))) == 9


def test_qualified_and_bare_members() -> None:
    # cpu C1 (AM5) with any of 3 boards, or C2/C3 with board B3 (LGA1851): 3 + 2.
    assert count_with(SOCKETS, "cpu.socket == Socket.AM5 or board.socket == LGA1851") == 5
    # A bare member on the left takes the enum of the right side: C2, C3 x 3 boards.
    assert count_with(SOCKETS, "AM5 != cpu.socket") == 6


def test_component_compared_with_a_sku() -> None:
    # cpu C1 or C3 (2) x board B1 (1)
    assert count_with(SOCKETS, 'cpu != "C2" and board == "B1"') == 2
    assert count_with(SOCKETS, 'cpu in {"C1", "C2"}') == 6


def test_in_a_set_attribute() -> None:
    text = SOCKETS.replace("component board: Board\n", "component cooler: Cooler\n")
    # C1 (AM5): K1; C2 (LGA1700): K1, K2; C3 (LGA1851): K2; K3 fits nothing.
    fits = "cpu.socket in cooler.sockets"
    assert count_with(text, fits) == 4
    # C2 draws 125 W but K1 handles 120 W.
    assert count_with(text, fits, "cpu.tdp <= cooler.max_tdp") == 3
    # A bare member takes the set's enum: K1 with any of 3 CPUs.
    assert count_with(text, "AM5 in cooler.sockets") == 3


def test_select_and_require() -> None:
    model = with_rules(SOCKETS, "cpu.socket == board.socket")
    assert oracle.valid_assemblies(model, {"cpu": "C1"}) == [
        (("board", "B1"), ("cpu", "C1")),
        (("board", "B2"), ("cpu", "C1")),
    ]
    # LGA1700 has no board: nothing, and every domain is empty.
    assert oracle.valid_assemblies(model, {"cpu": "C2"}) == []
    assert oracle.domains(model, {"cpu": "C2"}) == {"cpu": set(), "board": set()}
    require = [typed(model, 'board != "B2"')]
    assert oracle.count(model, require=require) == 2
    assert oracle.count(model, {"board": "B3"}, require) == 1
    with pytest.raises(ValueError, match="no variable"):
        oracle.valid_assemblies(model, {"gpu": None})


# ---- quantities and optional components ---------------------------------------------------

QUANTITIES = """product quantities
type Mem { gb: int  price: decimal }
type GPU { vram: int  price: decimal }
parts Mem {
  "M8": gb=8, price=20.50
  "M16": gb=16, price=40.25
}
parts GPU {
  "G1": vram=8, price=300
  "G2": vram=12, price=450
}
component memory: Mem qty 1..4
component gpu: GPU optional
component spare: GPU qty 1..2 optional
option rgb: bool
"""


def test_quantity_variables() -> None:
    model = model_of(QUANTITIES)
    # gpu has a fixed quantity: no gpu.qty; spare may be absent: spare.qty starts at 0.
    assert oracle.variables(model) == {
        "memory": ("M8", "M16"),
        "memory.qty": (1, 2, 3, 4),
        "gpu": ("G1", "G2", None),
        "spare": ("G1", "G2", None),
        "spare.qty": (0, 1, 2),
        "rgb": (False, True),
    }
    # memory 2 x 4, gpu 2 + 1, spare 2 x 2 + 1, rgb 2
    keys = oracle.valid_assemblies(model)
    assert len(keys) == len(set(keys)) == 8 * 3 * 5 * 2 == 240
    for key in keys:
        values = dict(key)
        assert (values["spare"] is None) == (values["spare.qty"] == 0)
    assert oracle.domains(model) == {name: set(d) for name, d in oracle.variables(model).items()}


def test_quantity_rules() -> None:
    # 32 GB or more: M8 x 4, M16 x 2, 3, 4 -> 4 memory choices of 8
    assert count_with(QUANTITIES, "memory.qty * memory.gb >= 32") == 4 * 3 * 5 * 2
    # spare twice: 2 choices of 5
    assert count_with(QUANTITIES, "spare.qty >= 2") == 8 * 3 * 2 * 2
    # true of every assembly
    assert count_with(QUANTITIES, "spare.qty == 0 <-> spare == none") == 240
    assert count_with(QUANTITIES, "gpu.qty == 0 <-> gpu == none") == 240
    model = with_rules(QUANTITIES, "memory.qty * memory.gb >= 32")
    assert oracle.domains(model)["memory.qty"] == {2, 3, 4}


def test_total_price_cuts_assemblies() -> None:
    # Any GPU costs 300 or more, so both GPUs are absent under 100. Memory:
    # M8 x1..4 = 20.50, 41.00, 61.50, 82.00; M16 x1..4 = 40.25, 80.50, 120.75, 161.00.
    assert count_with(QUANTITIES, "total(price) <= 100") == 6 * 2
    assert count_with(QUANTITIES, "total(price) <= 82") == 6 * 2
    assert count_with(QUANTITIES, "total(price) <= 81.99") == 5 * 2
    assert count_with(QUANTITIES, "total(price) == 82") == 1 * 2
    # total(gb): only Mem has gb, so the GPUs add nothing: M8 x 4 or M16 x 2.
    assert count_with(QUANTITIES, "total(gb) == 32") == 2 * 3 * 5 * 2


def test_decimals_are_exact() -> None:
    text = """product dimes
type Coin { price: decimal }
parts Coin { "DIME": price=0.10 }
component coins: Coin qty 1..5
"""
    # 3 x 0.10 is exactly 0.3 (as floats, 0.1 * 3 != 0.3)
    model = with_rules(text, "total(price) == 0.3")
    assert oracle.valid_assemblies(model) == [(("coins", "DIME"), ("coins.qty", 3))]
    assert count_with(text, "coins.price + 0.2 == 0.3") == 5
    assert count_with(text, "total(price) / 3 == 0.1") == 1


def test_select_quantities_and_none() -> None:
    model = model_of(QUANTITIES)
    assert oracle.count(model, {"memory.qty": 2, "gpu": None, "spare": "G1"}) == 2 * 1 * 2 * 2
    assert oracle.count(model, {"spare.qty": 0}) == 8 * 3 * 1 * 2
    # gpu has a fixed quantity: selecting it is allowed and means present
    assert oracle.count(model, {"gpu.qty": 1}) == 8 * 2 * 5 * 2
    assert oracle.count(model, {"gpu.qty": 2}) == 0
    # True is not 1: an option's values are told apart by kind
    assert oracle.count(model, {"rgb": 1}) == 0
    assert oracle.count(model, {"rgb": True}) == 120


# ---- absent components ------------------------------------------------------------------------

ABSENT = """product absent
enum Brand { acme, zenith }
type GPU {
  tdp: int default 75
  vram: int
  brand: Brand
  maker: Brand default acme
  tags: set of Brand
  fast: bool
  price: decimal
}
parts GPU {
  "G-HOT": tdp=200, vram=8, brand=acme, tags={acme}, fast=true, price=10
  "G-COOL": tdp=75, vram=0, brand=zenith, maker=zenith, tags={}, fast=false, price=5
  "G-DEF": vram=4, brand=zenith, tags={acme, zenith}, fast=false, price=7.5
}
component gpu: GPU optional
"""


@pytest.mark.parametrize(
    ("rule", "valid"),
    [
        # absent reads the declared default (tdp 75), else 0 / false / empty / none
        ("gpu.tdp == 75", {"G-COOL", "G-DEF", None}),
        ("gpu.vram == 0", {"G-COOL", None}),
        ("not gpu.fast", {"G-COOL", "G-DEF", None}),
        ("gpu.maker == acme", {"G-HOT", "G-DEF", None}),
        ("gpu.brand != zenith", {"G-HOT", None}),
        ("zenith in gpu.tags", {"G-DEF"}),
        ("not (acme in gpu.tags)", {"G-COOL", None}),
        # `== none` only when absent and the attribute has no default
        ("gpu.vram == none", {None}),
        ("gpu.brand == none", {None}),
        ("gpu.tdp == none", set()),
        ("gpu.maker != none", {"G-HOT", "G-COOL", "G-DEF", None}),
        ("gpu == none", {None}),
        ("gpu.brand in {zenith, none}", {"G-COOL", "G-DEF", None}),
        # quantity 0, counted as absent, adds nothing to totals
        ("gpu.qty == 0", {None}),
        ("count(gpu) == 0", {None}),
        ("total(price) < 8", {"G-COOL", "G-DEF", None}),
        ("total(tdp) == 0", {None}),
        ('gpu != "G-HOT"', {"G-COOL", "G-DEF", None}),
        ('gpu in {"G-HOT", none}', {"G-HOT", None}),
    ],
)
def test_absent_component_reads(rule: str, valid: set[str | None]) -> None:
    assert oracle.domains(with_rules(ABSENT, rule))["gpu"] == valid


def test_in_none_agrees_with_equals_none() -> None:
    assert oracle.domains(with_rules(ABSENT, "gpu.vram in {none}"))["gpu"] == {None}


# ---- options only: counting and logic ----------------------------------------------------------

FEATURES = """product features
option a: bool
option b: bool
option c: bool
option level: enum { low, mid, high }
option n: int -2..2
"""
# 2 x 2 x 2 x 3 x 5 = 120 assemblies; below, "x 15" is level and n left free.


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ((), 120),
        (("count(a, b, c) >= 2",), 4 * 15),  # ab, ac, bc, abc
        # of those, a is true in ab, ac, abc (level high only); bc takes any level
        (("count(a, b, c) >= 2", "a -> level == high"), (3 * 1 + 1 * 3) * 5),
        (("exactly_one(a, b, c)",), 3 * 15),
        (("at_most_one(a, b, c)",), 4 * 15),
        (("at_least_one(a, b, c)",), 7 * 15),
        (("a <-> b",), 4 * 15),
        (("level in {low, mid}",), 8 * 2 * 5),
        # level high (8 x 1) or c (4 x 2)
        (("level in {low, mid} -> c",), (8 + 4 * 2) * 5),
        # a (4) with level low, not a (4) with mid or high
        (("if a then level == low else level != low",), (4 * 1 + 4 * 2) * 5),
        (("count(a, level == high, c and b) == 3",), 1 * 5),
        # precedence: a or (b and c): 4 + 1 combinations
        (("a or b and c",), 5 * 15),
        # right-associative: a -> (b -> c) fails only for a, b, not c
        (("a -> b -> c",), 7 * 15),
        (("not a and b",), 2 * 15),
        (("abs(n) == 2",), 8 * 3 * 2),
        (("max(n, 0) == 0",), 8 * 3 * 3),
        (("min(n, 1) == 1",), 8 * 3 * 2),
        (("min(n, 0.5) == 0.5",), 8 * 3 * 2),
        (("(if n > 0 then n else -n) == 1",), 8 * 3 * 2),
        (("-n > 0",), 8 * 3 * 2),
        (("n * n - n == 2",), 8 * 3 * 2),  # n = -1 or 2
        # 6 / n >= 3 holds for n = 1, 2; n = 0 divides by zero and is false
        (("6 / n >= 3",), 8 * 3 * 2),
        (("n / 4 == 0.5",), 8 * 3 * 1),
    ],
)
def test_feature_model_counts(rules: tuple[str, ...], expected: int) -> None:
    assert count_with(FEATURES, *rules) == expected


def test_division_by_zero_makes_the_whole_rule_false() -> None:
    # The reference (evaluate.holds) makes a rule false when evaluating it divides
    # by zero, not just the comparison; `and`, `or`, `->` and `if` evaluate left
    # to right and skip what they do not need.
    every = 8 * 3
    assert count_with(FEATURES, "not (6 / n > 100)") == 4 * every  # n = 0 is out
    assert count_with(FEATURES, "n == 0 or 6 / n > 100") == 1 * every  # n = 0 is in
    assert count_with(FEATURES, "6 / n > 100 or n == 0") == 0
    assert count_with(FEATURES, "n != 0 -> 6 / n != 0") == 5 * every
    assert count_with(FEATURES, "(if n == 0 then 0 else 6 / n) <= 6") == 5 * every


def test_enum_members_shared_by_two_enums() -> None:
    text = """product shared
enum Color { red, green }
enum Light { green, amber }
type Lamp { color: Color  light: Light }
parts Lamp {
  "L1": color=red, light=green
  "L2": color=green, light=amber
  "L3": color=green, light=green
}
component lamp: Lamp
option want: Light
"""
    # `green` is Color.green or Light.green, whichever the other side is
    assert count_with(text, "lamp.color == green") == 2 * 2  # L2, L3
    assert count_with(text, "lamp.light == green") == 2 * 2  # L1, L3
    assert count_with(text, "green == lamp.light") == 2 * 2
    assert count_with(text, "lamp.light == want") == 3  # L1, L3 green; L2 amber
    assert count_with(text, "want == Light.amber") == 3
    assert count_with(text, "lamp.color == Color.green and lamp.light == Light.green") == 2


# ---- limits, keys, objectives ------------------------------------------------------------------


def test_too_many_assemblies_is_refused() -> None:
    model = model_of("product big\noption x: int 0..999\noption y: int 0..999\n")
    with pytest.raises(ValueError, match="too many"):
        oracle.valid_assemblies(model)
    assert oracle.count(model, {"x": 5}) == 1000


def test_key_from_json_matches_assembly_key() -> None:
    model = model_of(QUANTITIES)
    components = {"memory": ("M16", 3), "gpu": (None, 0), "spare": ("G2", 1)}
    key = oracle.assembly_key(model, components, {"rgb": True})
    assert key == (
        ("gpu", None),
        ("memory", "M16"),
        ("memory.qty", 3),
        ("rgb", True),
        ("spare", "G2"),
        ("spare.qty", 1),
    )
    shown = {
        "components": {
            "memory": {"sku": "M16", "qty": 3},
            "gpu": None,
            "spare": {"sku": "G2", "qty": 1},
        },
        "options": {"rgb": True},
        "objective": "12.50",
    }
    assert oracle.key_from_json(model, shown) == key
    assert key in oracle.valid_assemblies(model)


@pytest.mark.parametrize(
    "change",
    [
        {"options": {}},  # an option is missing
        {"options": {"rgb": 1}},  # 1 is not a bool
        {"options": {"rgb": True, "extra": 1}},
        {"components": {"memory": {"sku": "M16", "qty": 5}, "gpu": None, "spare": None}},
        {"components": {"memory": {"sku": "M16", "qty": 1}, "gpu": {"sku": "G1", "qty": 2}}},
        {"components": {"memory": None, "gpu": None, "spare": None}},  # not optional
        {"components": {"memory": {"sku": "G1", "qty": 1}, "gpu": None, "spare": None}},
        {"components": {"memory": {"sku": "M8", "qty": 1}, "gpu": None}},  # spare missing
        {"components": {"memory": {"sku": "M8"}, "gpu": None, "spare": None}},
    ],
)
def test_key_from_json_refuses_what_is_not_an_assembly(change: dict[str, object]) -> None:
    model = model_of(QUANTITIES)
    shown: dict[str, object] = {
        "components": {"memory": {"sku": "M8", "qty": 1}, "gpu": None, "spare": None},
        "options": {"rgb": False},
    }
    oracle.key_from_json(model, shown)
    with pytest.raises(ValueError):
        oracle.key_from_json(model, {**shown, **change})


def test_objective_values() -> None:
    model = model_of(QUANTITIES)
    keys = oracle.valid_assemblies(
        model, {"memory": "M8", "gpu": None, "spare": None, "rgb": False}
    )
    price = typed(model, "total(price)")
    assert [oracle.objective_values(model, price, keys)[k] for k in keys] == [
        Fraction("20.50"),
        Fraction("41.00"),
        Fraction("61.50"),
        Fraction("82.00"),
    ]
    # an objective that divides by zero has no value there
    features = model_of(FEATURES)
    keys = oracle.valid_assemblies(features, {"a": True, "b": True, "c": True, "level": "low"})
    values = oracle.objective_values(features, typed(features, "6 / n"), keys)
    assert sorted(values.values()) == [-6, -3, 3, 6]


# ---- the hand-counted tests of the bundled catalogs ---------------------------------------------


def _catalog_cases() -> list[tuple[str, str]]:
    cases = []
    for path in sorted(ROOT.glob("catalogs/*/*.ato")):
        model = load(path)
        for test in model.tests:
            select = {item.key: item.value for item in test.given}
            if oracle.product_size(model, select) <= 100_000:
                cases.append((str(path.relative_to(ROOT)), test.name))
    return cases


@pytest.mark.parametrize(("file", "name"), _catalog_cases())
def test_catalog_tests_agree_with_the_oracle(file: str, name: str) -> None:
    model = load(ROOT / file)
    test = next(t for t in model.tests if t.name == name)
    select = {item.key: item.value for item in test.given}
    keys = oracle.valid_assemblies(model, select)
    assemblies = [oracle.assembly_of(model, key) for key in keys]
    for expectation in test.expectations:
        if expectation.kind == "valid":
            assert keys
        elif expectation.kind == "invalid":
            assert not keys
        elif expectation.kind == "count":
            assert len(keys) == expectation.count
        elif expectation.kind == "holds":
            assert expectation.expr is not None
            assert all(holds(model, expectation.expr, a) for a in assemblies)
        else:
            assert expectation.target is not None
            found = oracle.domains_of(model, keys).get(expectation.target)
            if found is None:  # the quantity of a component with a fixed quantity
                component = expectation.target.removesuffix(".qty")
                found = {a.components[component][1] for a in assemblies}
            assert found == set(expectation.values)


# ---- the random models of tests/strategies.py ---------------------------------------------------


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_models())
def test_random_models_load_cleanly(pair: tuple[str, Model]) -> None:
    text, model = pair
    result = load_text(text, "random.ato")
    assert [f"{d.span}: {d.message}" for d in result.diagnostics if d.is_error] == []
    assert result.model == model
    assert 2 <= len(model.components) <= 4
    assert 1 <= len(model.rules) <= 5
    assert len(model.options) <= 2
    assert oracle.product_size(model) <= 3000


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_models(), st.data())
def test_random_requests_fit_their_model(pair: tuple[str, Model], data: st.DataObject) -> None:
    model = pair[1]
    select, require = data.draw(random_requests(model))
    domains = oracle.variables(model)
    for name, value in select.items():
        assert any(oracle.same_value(value, allowed) for allowed in domains[name])
    for text in require:
        expr = typed(model, text)
        assert expr.type.kind == "bool"
    assert oracle.product_size(model, select) <= oracle.product_size(model)
