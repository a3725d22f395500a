"""Counting by DP over residuals: cases where sharing counts would be wrong."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoconf.engine import problem, sweep
from atoconf.engine.solve import count
from tests import oracle
from tests.conftest import load_model

CASES = {
    # an absent component's int attribute reads 0, like a present part with 0,
    # but only the absent one is `none`
    "absent_vs_zero": """product p
type T { n: int  price: decimal }
parts T {
  "A": n=0, price=1
  "B": n=1, price=2
  "C": n=1, price=3
}
component a: T optional
component b: T
option o: bool
rule r: (a.n == none) <-> b.n == 1
rule s: o -> a.n in {none, 1}
""",
    # a quantity set before its part changes what total() adds
    "quantity_before_part": """product p
type T { price: decimal }
parts T {
  "A": price=0
  "B": price=2
}
component c0: T
component c1: T qty 1..2
option o: enum { x, y }
rule r: total(price) != 2
""",
    # a partly set table: parts with the same partners share one count
    "interchangeable_parts": """product p
enum S { a, b }
type P { s: S }
parts P {
  "P1": s=a
  "P2": s=a
  "P3": s=b
}
component x: P
component y: P
component z: P optional
rule r: x.s == y.s
rule t: z != none -> z.s != x.s
""",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_count_matches_brute_force(name: str) -> None:
    model = load_model(CASES[name], f"{name}.ato")
    got = count(model)
    assert got.exact and got.count == oracle.count(model, {}, ())


@st.composite
def _budgeted(draw: st.DrawFn) -> str:
    """A small product whose price total has a budget (per tier) that cuts through
    the sums: the graph counts the paths under it (`Graph.at_most`), or with a
    second sum, along its paths."""
    lines = ["product p"]
    names = ["a", "b", "c", "d"][: draw(st.integers(2, 4))]
    for i, name in enumerate(names):
        kind = name.upper()
        prices = draw(st.lists(st.integers(0, 60), min_size=2, max_size=4))
        cells = "  ".join(f'"{kind}{k}": size={k % 3}, price={p}' for k, p in enumerate(prices))
        extra = " optional" if i == 1 and draw(st.booleans()) else ""
        extra += " qty 1..3" if i == 2 and draw(st.booleans()) else ""
        lines += [
            f"type {kind} {{ size: int  price: decimal }}",
            f"parts {kind} {{ {cells} }}",
            f"component {name}: {kind}{extra}",
        ]
    lines.append("option tier: enum { basic, pro }")
    low, high = draw(st.integers(0, 150)), draw(st.integers(0, 250))
    lines.append(f"rule cheap: tier == basic -> total(price) <= {low}")
    lines.append(f"rule dear: tier == pro -> total(price) <= {high}")
    if draw(st.booleans()):
        lines.append(f"rule fits: {names[0]}.size <= {names[-1]}.size")
    if draw(st.booleans()):  # a second sum: checked on the graph's paths
        lines.append(f"rule light: total(size) <= {draw(st.integers(0, 6))}")
    return "\n".join(lines) + "\n"


# the patches are the same for every example: the fixture's one scope is right
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=_budgeted())
def test_counts_under_a_budget_agree_with_brute_force(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted on the graph with the price total carried on its edges (never a table,
    never held in the states), every path's sum compared with the budget."""
    _count_on_edges(monkeypatch)
    model = load_model(text, "budget.ato")
    for select in ({}, {"tier": "basic"}):
        got = count(model, select)
        assert got.exact and got.count == oracle.count(model, select, ()), (select, text)


def _count_on_edges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every price total carried on the graph's edges; the budgets counted under."""
    monkeypatch.setattr(problem, "WIDE_SUM", 1)
    monkeypatch.setattr(sweep, "NARROW_SUM", -1)
    budgets: list[int] = []
    original = sweep.Graph.at_most

    def spy(self: sweep.Graph, limit: int, *rest: Any) -> int:
        budgets.append(limit)
        return original(self, limit, *rest)

    monkeypatch.setattr(sweep.Graph, "at_most", spy)
    return budgets


def test_a_budget_is_counted_on_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    """The property above reaches the graph's count under a budget."""
    budgets = _count_on_edges(monkeypatch)
    text = """product p
type A { price: decimal }
parts A { "A0": price=10  "A1": price=25  "A2": price=40 }
type B { price: decimal }
parts B { "B0": price=5  "B1": price=30 }
component a: A
component b: B optional
component c: A qty 1..2
rule budget: total(price) <= 70
"""
    model = load_model(text, "budget.ato")
    got = count(model)
    assert budgets and got.exact and got.count == oracle.count(model, {}, ())
