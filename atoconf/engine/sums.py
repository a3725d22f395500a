"""What a part adds to a sum: the one table every engine path reads a `total(...)` from.

`total(attr)` adds, over its components, the quantity times the chosen part's
`attr` (0 for an absent component, or where the part's type has no such
numeric attribute). The share of each part is worked out once per model and
total, exactly, and kept with the model."""

from __future__ import annotations

from fractions import Fraction

from atoconf.engine.compiled import CompiledModel
from atoconf.language.evaluate import part_value
from atoconf.language.model import Binary, Expr, Model, Total, Value


def shares(model: Model, total: Total) -> dict[str, dict[Value, Fraction]]:
    """Per summed component, what one unit of each of its parts adds to the total
    (None, the component absent, adds 0)."""
    key = ("sum shares", total.attr, total.components)
    return CompiledModel.of(model).get(key, lambda: _shares(model, total))


def _shares(model: Model, total: Total) -> dict[str, dict[Value, Fraction]]:
    out: dict[str, dict[Value, Fraction]] = {}
    for name in total.components:
        per_sku: dict[Value, Fraction] = {None: Fraction(0)}
        for sku in model.components[name].parts:
            value = part_value(model, sku, total.attr)
            per_sku[sku] = value if isinstance(value, Fraction) else Fraction(0)
        out[name] = per_sku
    return out


def sum_terms(expr: Expr) -> list[Expr]:
    """The terms of `a + b + ...` (the expression itself when it is no sum)."""
    if isinstance(expr, Binary) and expr.op == "+":
        return [*sum_terms(expr.left), *sum_terms(expr.right)]
    return [expr]
