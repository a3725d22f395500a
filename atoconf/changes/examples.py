"""The cheapest assembly a change lost, and the cheapest it gained.

An assembly valid in one version and not in the other breaks some constraint of
the other: it takes a part, quantity or option value the other does not offer
there (or leaves out a component the other requires), or it breaks one of the
other's rules. A rule of the other that is also a rule of the first (the same
parsed form, reading no attribute the change touched) holds on every assembly of
the first, so only the others' rules that differ can be broken. The cheapest such
assembly is the cheapest of a few searches on the first version: one per choice
whose values the other narrows, limited to the values it lacks; one per differing
rule of the other, required false (reading the other's attribute values), within
the values both offer. Each search ranks by the product's `total(price)` when it
has a price, else takes the first assembly in the engine's fixed order; the
example is the cheapest of them (else the first found, searches in declaration
order).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atoconf.changes.impact import (
    Scope,
    changed_attributes,
    common_choices,
    offered_values,
    read_new,
    reading_both,
    same_choices,
    shape,
)
from atoconf.engine.clock import Clock, StopReason
from atoconf.engine.problem import compiled
from atoconf.engine.propagate import qty_var
from atoconf.engine.results import AssemblyResult, value_key
from atoconf.engine.solve import solve
from atoconf.language.model import Expr, Model, Unary, Value, ValueType, shown
from atoconf.language.typecheck import typed_expression


@dataclass(frozen=True)
class Example:
    """An assembly valid in one version and not in the other, and why not: the rule
    it breaks there, or the choice it takes that the other does not offer."""

    assembly: AssemblyResult
    because: str

    def to_json(self) -> dict[str, Any]:
        return self.assembly.to_json() | {"because": self.because}


@dataclass(frozen=True)
class Examples:
    """The cheapest lost and gained assemblies (None: there is none, or they were not
    looked for); `stopped` says why a search ended early."""

    lost: Example | None
    gained: Example | None
    stopped: StopReason | None = None


def examples(
    old: Model, new: Model, clock: Clock | None = None, scope: Scope | None = None
) -> Examples:
    """The cheapest lost and the cheapest gained assembly, when both versions make the
    same choices (else none); within a request's choices and requirements."""
    if not same_choices(old, new):
        return Examples(None, None)
    clock = clock or Clock()
    scope = scope or Scope()
    select, before, after = scope.select, scope.old_require, scope.new_require
    lost, stopped = _cheapest_beyond(old, new, clock, select, before, after)
    if stopped is not None:
        return Examples(lost, None, stopped)
    gained, stopped = _cheapest_beyond(new, old, clock, select, after, before)
    return Examples(lost, gained, stopped)


def _cheapest_beyond(
    base: Model,
    other: Model,
    clock: Clock,
    select: Mapping[str, Value],
    base_require: Sequence[Expr],
    other_require: Sequence[Expr],
) -> tuple[Example | None, StopReason | None]:
    """The cheapest assembly valid in `base` and not in `other`, and why a search
    stopped early (then the example is the best found so far, or None)."""
    found: list[Example] = []
    for allowed, because in _missing_choices(base, other):
        example = _first(base, select, base_require, allowed, clock, because)
        if isinstance(example, str):
            return _cheapest(found), example
        if example is not None:
            found.append(example)
    differ = changed_attributes(base, other)
    both = reading_both(base, other, differ)
    within = common_choices(base, other)
    held = {shape(rule.expr) for rule in base.rules.values()}
    broken: list[tuple[Expr, str]] = []
    for name, rule in other.rules.items():
        read = read_new(rule.expr, differ)
        if shape(read) not in held:
            broken.append((read, f"rule {name}"))
    broken += [(read_new(expr, differ), "the request") for expr in other_require]
    for expr, because in broken:
        negated = Unary(op="not", operand=expr, span=expr.span, type=ValueType(kind="bool"))
        example = _first(both, select, [*base_require, negated], within, clock, because)
        if isinstance(example, str):
            return _cheapest(found), example
        if example is not None:
            found.append(example)
    return _cheapest(found), None


def _missing_choices(base: Model, other: Model) -> list[tuple[dict[str, list[Value]], str]]:
    """Per choice (component, quantity, option) of `base`: the values it offers that
    `other` does not, and how to say so; in declaration order."""
    mine = compiled(base).variables
    out: list[tuple[dict[str, list[Value]], str]] = []
    for name, variable in mine.items():
        offered = offered_values(other, name)
        lacking = [v for v in variable.domain if value_key(v) not in offered]
        if name in base.components:
            # a part of another type there is not the same choice
            lacking = [
                v
                for v in variable.domain
                if value_key(v) not in offered
                or (v is not None and base.parts[str(v)].type != other.parts[str(v)].type)
                or (v is not None and base.components[name].type != other.components[name].type)
            ]
        if lacking:
            out.append(({name: lacking}, _lacking_words(name, lacking)))
    for name, comp in base.components.items():
        counterpart = other.components[name]
        if qty_var(name) not in mine and not (
            counterpart.qty_min <= comp.qty_min <= counterpart.qty_max
        ):
            # a fixed quantity the other does not allow: every assembly takes it
            out.append(({}, f"{name} takes quantity {comp.qty_min}, not offered there"))
    return out


def _lacking_words(name: str, lacking: Sequence[Value]) -> str:
    said = ", ".join(shown(v) for v in lacking[:3])
    more = f" and {len(lacking) - 3} more" if len(lacking) > 3 else ""
    return f"{name} takes {said}{more}, not offered there"


def _first(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr],
    allowed: Mapping[str, Collection[Value]] | None,
    clock: Clock,
    because: str,
) -> Example | StopReason | None:
    """The cheapest (or first) valid assembly of `model` within `allowed`; the stop
    reason when the search was stopped before it could tell."""
    price = typed_expression(model, "total(price)", "minimize")
    stream = solve(
        model,
        select,
        require,
        minimize=price.value if price.ok else None,
        limit=1,
        clock=clock,
        allowed=allowed,
    )
    found = next(iter(stream), None)
    if stream.stopped is not None and found is None:
        return stream.stopped
    if found is None:
        return None
    return Example(found, because)


def _cheapest(found: Sequence[Example]) -> Example | None:
    """The example of least price (the first, when they have none)."""
    if not found:
        return None
    if any(e.assembly.objective is None for e in found):
        return found[0]
    return min(found, key=lambda e: Decimal(e.assembly.objective or 0))
