"""Counting by DP over residuals: cases where sharing counts would be wrong."""

from __future__ import annotations

import pytest

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
