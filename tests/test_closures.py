"""Rules compiled to closures mean what the reference evaluator says they mean.

The engine builds its tables and checks paths with `engine.closures`; the oracle
and the language's reference semantics are `language.evaluate`. On random models
and on every assembly of their product (valid or not), both must give the same
verdict for every rule, including rules that divide by zero.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from atoconf.engine.closures import compile_holds
from atoconf.language.build import load_text
from atoconf.language.evaluate import Assembly, holds
from atoconf.language.model import Model
from tests import oracle
from tests.strategies import random_models


def _assemblies(model: Model, limit: int) -> list[Assembly]:
    """The first `limit` assemblies of the model's product, valid or not."""
    per_component = [oracle.component_choices(c) for c in model.components.values()]
    per_option = [list(o.values) for o in model.options.values()]
    names, option_names = list(model.components), list(model.options)
    out = []
    for combo in itertools.islice(itertools.product(*per_component, *per_option), limit):
        components = dict(zip(names, combo[: len(names)], strict=True))
        options = dict(zip(option_names, combo[len(names) :], strict=True))
        out.append(Assembly(components, options))  # type: ignore[arg-type]
    return out


def _agree(model: Model, assemblies: list[Assembly]) -> int:
    """Asserts the verdicts agree; returns how many rules held somewhere."""
    held = 0
    for rule in model.rules.values():
        compiled = compile_holds(model, rule.expr)
        verdicts = [compiled(a) for a in assemblies]
        assert verdicts == [holds(model, rule.expr, a) for a in assemblies], rule.name
        held += any(verdicts)
    return held


@settings(max_examples=150, deadline=None)
@given(random_models())
def test_compiled_rules_agree_with_the_evaluator(case: tuple[str, Model]) -> None:
    _, model = case
    _agree(model, _assemblies(model, 2_000))


RULES = """
product nodes
enum Socket { AM5, LGA1700 }
enum Kind { DDR4, DDR5 }
enum Tag { quiet, rgb }
type Board { socket: Socket  slots: int  price: decimal }
type Memory { size_gb: int  price: decimal  kind: Kind }
type Card { watts: int  price: decimal  tags: set of Tag }
parts Board {
  "B1": socket=AM5, slots=2, price=120.50
  "B2": socket=LGA1700, slots=4, price=99
  "B0": socket=AM5, slots=0, price=80
}
parts Memory {
  "M1": size_gb=16, price=40.25, kind=DDR4
  "M2": size_gb=32, price=75, kind=DDR5
}
parts Card {
  "C1": watts=200, price=300, tags={quiet}
  "C2": watts=320, price=450.99, tags={rgb, quiet}
}
component board: Board
component memory: Memory qty 1..4
component card: Card optional
option budget: int 400..402 default 402
option style: enum { plain, flashy } default plain
rule r_div: memory.qty * memory.size_gb / board.slots >= 16
rule r_frac: 1.5 * (card.watts + 10) / 3 + 0.25 <= 170.25
rule r_total: total(price) <= budget
rule r_none: card == none or card.watts in {200, 320}
rule r_set: style == flashy -> rgb in card.tags
rule r_if: (if card != none then card.watts else 0) + memory.qty * 10 < 360
rule r_calls: count(card, board) >= 1 and min(memory.qty, 3) <= max(board.slots, 1)
rule r_abs: abs(0 - memory.qty) >= 2 or memory.kind != DDR5
rule r_iff: memory.kind == DDR5 <-> memory.qty >= 2
"""


def test_compiled_rules_agree_on_every_kind_of_node() -> None:
    """Fractions, division by zero, none, sets, options, totals and calls: a fixed
    model whose rules use every kind of node, on every assembly."""
    loaded = load_text(RULES, "nodes.ato")
    assert loaded.model is not None, [d.message for d in loaded.diagnostics]
    model = loaded.model
    assemblies = _assemblies(model, 10_000)
    assert len(assemblies) == 3 * (2 * 4) * 3 * 3 * 2
    assert _agree(model, assemblies) == len(model.rules)  # every rule holds somewhere


@given(st.fractions(min_value=-100, max_value=100), st.integers(-5, 5))
def test_whole_numbers_compare_as_fractions(a: Fraction, b: int) -> None:
    """The compiled code's ints are exact: they compare and hash as Fractions do."""
    whole = Fraction(b)
    assert (a < b) == (a < whole)
    assert (b == a) == (whole == a)
    assert hash(whole) == hash(b)
