"""What the planner adds to a model: unit costs as a part attribute, the cost objective,
and availability as expressions and as checks on partial paths."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Any, Literal, cast

from atoconf.engine.compiled import CompiledModel
from atoconf.engine.propagate import qty_var
from atoconf.engine.request import (
    ResolvedRequest,
)
from atoconf.engine.results import AssemblyResult
from atoconf.engine.sweep import PathCheck
from atoconf.language.model import (
    BOOL,
    DECIMAL,
    INT,
    NONE,
    STRING,
    Attribute,
    Binary,
    Compare,
    ComponentRef,
    Expr,
    IfThenElse,
    Literal_,
    Model,
    Part,
    PartType,
    QtyRef,
    Total,
    Value,
    ValueType,
)
from atoconf.language.source import Span
from atoconf.planning.stock import Stock

COST_ATTR = "__atoconf_unit_cost"  # not a name rule files can write: no clash


# ---- building blocks -----------------------------------------------------------------------------


def ordered_steps(model: Model) -> list[Any]:
    """Every step, after the steps it follows; declaration order breaks ties."""
    index = {name: i for i, name in enumerate(model.steps)}
    waiting = {name: len(step.after) for name, step in model.steps.items()}
    followers: dict[str, list[str]] = {name: [] for name in model.steps}
    for name, step in model.steps.items():
        for before in step.after:
            followers[before].append(name)
    ready = [index[n] for n, w in waiting.items() if w == 0]
    heapq.heapify(ready)
    names = list(model.steps)
    out = []
    while ready:
        name = names[heapq.heappop(ready)]
        out.append(model.steps[name])
        for follower in followers[name]:
            waiting[follower] -= 1
            if waiting[follower] == 0:
                heapq.heappush(ready, index[follower])
    return out


def values_of(model: Model, assembly: AssemblyResult) -> dict[str, Value]:
    """The solver's variables for an assembly in the shape `solve` prints."""
    values: dict[str, Value] = {}
    for name, chosen in assembly.components.items():
        comp = model.components[name]
        values[name] = chosen.sku if chosen else None
        if comp.qty_min != comp.qty_max:
            values[qty_var(name)] = chosen.qty if chosen else comp.qty_min
    values.update(assembly.options)
    return values


def request_key(request: ResolvedRequest) -> str:
    select = sorted((k, repr(v)) for k, v in request.selects.items())
    objective = (request.objective.sense, request.objective.text) if request.objective else None
    return repr((select, [t for t, _ in request.requires], objective))


def shared_skus(model: Model) -> dict[str, list[str]]:
    """SKUs two or more components can take, with those components."""
    users: dict[str, list[str]] = {}
    for comp in model.components.values():
        for sku in comp.parts:
            users.setdefault(sku, []).append(comp.name)
    return {sku: names for sku, names in users.items() if len(names) >= 2}


def with_costs(model: Model, stock: Stock, labour_rate: Decimal = Decimal(0)) -> Model:
    """The model with each part's unit cost from the supply data as an attribute the
    cost objective totals. A part without supply data (unpriced) costs more than any
    assembly's known cost, parts and labour at `labour_rate` (see _unpriced_cost), so
    assemblies with fewer unpriced units come first and known costs decide among
    them. Made once per model, costs and rate, and kept with the model, so its
    compiled caches serve every later plan with the same supply data."""
    costs = tuple((sku, stock.unit_cost(sku) if stock.priced(sku) else None) for sku in model.parts)
    return CompiledModel.of(model).get(
        ("costed", costs, labour_rate), lambda: _costed(model, dict(costs), labour_rate)
    )


def _costed(model: Model, costs: Mapping[str, Decimal | None], labour_rate: Decimal) -> Model:
    types = {
        name: t.model_copy(
            update={
                "attributes": {
                    **t.attributes,
                    COST_ATTR: Attribute(name=COST_ATTR, type=DECIMAL, span=t.span),
                }
            }
        )
        for name, t in model.types.items()
    }
    unpriced = _unpriced_cost(model, costs, labour_rate)
    parts: dict[str, Part] = {
        sku: p.model_copy(update={"values": {**p.values, COST_ATTR: _or(costs[sku], unpriced)}})
        for sku, p in model.parts.items()
    }
    _types: dict[str, PartType] = types
    return model.model_copy(update={"types": _types, "parts": parts})


def _or(cost: Decimal | None, unpriced: Decimal) -> Decimal:
    return unpriced if cost is None else cost  # a known cost of 0 stays 0


def _unpriced_cost(
    model: Model, costs: Mapping[str, Decimal | None], labour_rate: Decimal
) -> Decimal:
    """More than the known cost of any assembly: each component's dearest priced part
    at its largest quantity, and every step's minutes, plus one. (One number added
    to the unit cost keeps the cost a total, which the decision graphs rank exactly.)"""
    most = Decimal(1)
    for component in model.components.values():
        known = [c for c in (costs[sku] for sku in component.parts) if c is not None]
        most += max(known, default=Decimal(0)) * component.qty_max
    most += labour_rate * sum(step.minutes for step in model.steps.values()) / 60
    return most.to_integral_value(rounding=ROUND_CEILING)


_SPAN = Span(file="<plan>", line=1, col=1, end_line=1, end_col=2)


def _lit(value: Value, kind: ValueType) -> Literal_:
    return Literal_(span=_SPAN, type=kind, value=value)


def _is(model: Model, component: str, sku: str | None) -> Compare:
    ref = ComponentRef(
        span=_SPAN,
        type=ValueType(kind="component", name=model.components[component].type),
        component=component,
    )
    value = _lit(sku, STRING if sku is not None else NONE)
    return Compare(span=_SPAN, type=BOOL, op="==", left=ref, right=value)


def qty_bound(model: Model, component: str, bounds: Sequence[tuple[str, int]]) -> Expr:
    """For each (sku, n): component == sku -> component.qty <= n."""
    qty = QtyRef(span=_SPAN, type=INT, component=component)
    terms: list[Expr] = [
        Binary(
            span=_SPAN,
            type=BOOL,
            op="implies",
            left=_is(model, component, sku),
            right=Compare(span=_SPAN, type=BOOL, op="<=", left=qty, right=_lit(n, INT)),
        )
        for sku, n in bounds
    ]
    return _join(terms, "and", BOOL)


def qty_check(component: str, bounds: Mapping[str, int]) -> PathCheck:
    qty = qty_var(component)

    def check(values: Mapping[str, Value]) -> bool:
        most = bounds.get(values[component])  # type: ignore[arg-type]
        return most is None or cast(int, values[qty]) <= most

    return (component, qty), check


def joint_check(model: Model, components: Sequence[str], have: Mapping[str, int]) -> PathCheck:
    """Components that share SKUs take together no more units of each than there are
    (`have`: per shared SKU): one check for every SKU they share, not one per SKU."""
    counted = [
        (
            c,
            qty_var(c) if model.components[c].qty_min != model.components[c].qty_max else None,
            model.components[c].qty_min,
        )
        for c in components
    ]

    def check(values: Mapping[str, Value]) -> bool:
        taken: dict[Value, int] = {}
        for c, q, fixed in counted:
            sku = values[c]
            if sku in have:
                taken[sku] = taken.get(sku, 0) + (cast(int, values[q]) if q else fixed)
        return all(n <= have[cast(str, sku)] for sku, n in taken.items())

    scope = tuple(v for c, q, _ in counted for v in (c, q) if v)
    return scope, check


def joint_bound(model: Model, sku: str, components: Sequence[str], have: int) -> Expr:
    """Σ (if c == sku then c.qty else 0) <= have."""
    terms: list[Expr] = [
        IfThenElse(
            span=_SPAN,
            type=INT,
            cond=_is(model, c, sku),
            then=QtyRef(span=_SPAN, type=INT, component=c),
            else_=_lit(0, INT),
        )
        for c in components
    ]
    total = _join(terms, "+", INT)
    return Compare(span=_SPAN, type=BOOL, op="<=", left=total, right=_lit(have, INT))


def _join(terms: Sequence[Expr], op: Literal["and", "or", "+"], kind: ValueType) -> Expr:
    out = terms[0]
    for term in terms[1:]:
        out = Binary(span=_SPAN, type=kind, op=op, left=out, right=term)
    return out


def cost_objective(model: Model, labour_rate: Decimal) -> Expr:
    """What ranks assemblies by cost (`model` is `with_costs`'s): parts' unit cost x
    quantity, plus the minutes at the rate of each step that some assemblies skip."""
    parts: Expr = Total(
        span=_SPAN, type=DECIMAL, attr=COST_ATTR, components=tuple(model.components)
    )
    if not labour_rate:
        return parts
    terms: list[Expr] = [parts]
    for step in model.steps.values():
        always = step.when is None and (
            not step.uses or any(not model.components[c].optional for c in step.uses)
        )
        if not step.minutes or always:  # the same for every assembly: ranks nothing
            continue
        conditions: list[Expr] = []
        if step.uses:
            conditions.append(_join([_not_none(model, c) for c in step.uses], "or", BOOL))
        if step.when is not None:
            conditions.append(step.when)
        # minutes x rate / 60, divided exactly by the evaluator
        amount = Binary(
            span=_SPAN,
            type=DECIMAL,
            op="/",
            left=_lit(step.minutes * labour_rate, DECIMAL),
            right=_lit(60, INT),
        )
        terms.append(
            IfThenElse(
                span=_SPAN,
                type=DECIMAL,
                cond=_join(conditions, "and", BOOL),
                then=amount,
                else_=_lit(Decimal(0), DECIMAL),
            )
            if conditions
            else amount
        )
    return _join(terms, "+", DECIMAL)


def _not_none(model: Model, component: str) -> Expr:
    eq = _is(model, component, None)
    return Compare(span=_SPAN, type=BOOL, op="!=", left=eq.left, right=eq.right)
