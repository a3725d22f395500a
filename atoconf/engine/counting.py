"""Exact counting of valid assemblies by search with caching (dynamic programming).

Variables are assigned in an order found by maximum cardinality search (which
keeps the rules that are "open" at each step few, as a tree decomposition
would). After each assignment every rule is in one of three states: decided
(all its variables set), entailed or violated whatever the rest will be
(bounds reasoning, propagate.py), or open. An open rule's future depends only
on its *residual*: the expression with the set variables folded to their
values, and a `total(...)` folded to its partial sum. Two partial assignments
with the same position in the order and the same residuals of their open
rules have the same number of completions, so that number is computed once.
Sums thus become DP over partial sums; independent groups of variables are
counted apart by the caller and multiplied.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from atoconf.engine.clock import Clock
from atoconf.engine.problem import Check, check_holds
from atoconf.engine.propagate import FALSE, TRUE, Scope, abstract, qty_var
from atoconf.language.evaluate import absent_value, part_value
from atoconf.language.model import (
    AttrRef,
    Binary,
    Call,
    Compare,
    ComponentRef,
    Expr,
    IfThenElse,
    In,
    Literal_,
    Model,
    OptionRef,
    QtyRef,
    SetLiteral,
    Total,
    Unary,
    Value,
    exact,
)

MAX_CACHE = 2_000_000


def elimination_order(
    variables: Sequence[str], checks: Sequence[Check], sizes: Mapping[str, int]
) -> list[str]:
    """The order to assign variables in: the reverse of a min-fill elimination order
    of the graph of narrow rules (a sum over every component would make that graph
    complete; its residual is folded to a partial sum instead). Hubs such as
    options come first, leaves last, so few rules are open at any depth."""
    neighbours: dict[str, set[str]] = {v: set() for v in variables}
    for check in checks:
        if check.allowed is None and len(check.scope) > 4:
            continue
        for a in check.scope:
            for b in check.scope:
                if a != b and a in neighbours and b in neighbours:
                    neighbours[a].add(b)
    position = {v: i for i, v in enumerate(variables)}
    eliminated: list[str] = []
    remaining = set(variables)

    def fill(v: str) -> int:
        near = [u for u in neighbours[v] if u in remaining]
        return sum(1 for i, a in enumerate(near) for b in near[i + 1 :] if b not in neighbours[a])

    while remaining:
        pick = min(
            remaining,
            key=lambda v: (fill(v), -sizes.get(v, 1), len(neighbours[v] & remaining), position[v]),
        )
        near = [u for u in neighbours[pick] if u in remaining and u != pick]
        for a in near:
            neighbours[a].update(u for u in near if u != a)
        eliminated.append(pick)
        remaining.discard(pick)
    return eliminated[::-1]


class _Residual:
    """Residual keys of expressions under a partial assignment."""

    def __init__(self, model: Model, assigned: Mapping[str, Value]) -> None:
        self.model = model
        self.assigned = assigned

    def component(self, name: str) -> tuple[str | None, int] | None:
        """(sku, qty) of a component when its part and quantity are both set."""
        if name not in self.assigned:
            return None
        sku = self.assigned[name]
        comp = self.model.components[name]
        if sku is None:
            return (None, 0)
        if comp.qty_min == comp.qty_max:
            return (str(sku), comp.qty_min)
        qv = qty_var(name)
        if qv not in self.assigned:
            return None
        return (str(sku), int(self.assigned[qv]))  # type: ignore[arg-type]

    def partly(self, name: str) -> tuple[str, Value, Value]:
        """A component whose part or quantity is still open, with what is already set:
        a quantity set before its part changes what the part will contribute."""
        qv = qty_var(name)
        return (
            name,
            self.assigned.get(name, _OPEN),  # type: ignore[arg-type]
            self.assigned.get(qv, _OPEN),  # type: ignore[arg-type]
        )

    def key(self, expr: Expr) -> Hashable:
        match expr:
            case Literal_():
                return ("v", exact(expr.value))
            case AttrRef():
                name = expr.component
                if name not in self.assigned:
                    return ("a", name, expr.attr)
                sku = self.assigned[name]
                value = (
                    absent_value(self.model, name, expr.attr)
                    if sku is None
                    else part_value(self.model, str(sku), expr.attr)
                )
                # absence matters beside the value: `x == none` tells 0 from absent
                return ("v", value, sku is None)
            case QtyRef():
                got = self.component(expr.component)
                return ("v", got[1]) if got is not None else ("q", self.partly(expr.component))
            case ComponentRef():
                name = expr.component
                return ("v", self.assigned[name]) if name in self.assigned else ("c", name)
            case OptionRef():
                name = expr.option
                return ("v", self.assigned[name]) if name in self.assigned else ("o", name)
            case SetLiteral():
                return ("set", tuple(self.key(i) for i in expr.items))
            case Unary():
                return (expr.op, self.key(expr.operand))
            case Binary() | Compare():
                return (expr.op, self.key(expr.left), self.key(expr.right))
            case In():
                return ("in", self.key(expr.element), self.key(expr.container))
            case IfThenElse():
                return ("if", self.key(expr.cond), self.key(expr.then), self.key(expr.else_))
            case Total():
                partial = Fraction(0)
                open_: list[Hashable] = []
                for name in expr.components:
                    got = self.component(name)
                    if got is None:
                        open_.append(self.partly(name))
                    elif got[0] is not None:
                        unit = part_value(self.model, got[0], expr.attr)
                        partial += got[1] * (unit if isinstance(unit, Fraction) else 0)
                return ("total", expr.attr, partial, tuple(open_))
            case Call():
                return (expr.func, tuple(self.key(a) for a in expr.args))
        raise TypeError(type(expr).__name__)  # pragma: no cover


def count_solutions(
    model: Model,
    variables: Sequence[str],
    domains: Mapping[str, Sequence[Value]],
    checks: Sequence[Check],
    clock: Clock,
) -> int:
    """The number of assignments of `variables` (from `domains`) satisfying `checks`,
    each of which reads only these variables."""
    constant = [c for c in checks if not c.scope]
    if any(not check_holds(model, c, {}) for c in constant):
        return 0
    checks = [c for c in checks if c.scope]
    order = elimination_order(variables, checks, {v: len(domains[v]) for v in variables})
    index = {v: i for i, v in enumerate(order)}
    # each check is decided once its last variable in the order is set
    by_last: dict[int, list[int]] = {}
    for n, check in enumerate(checks):
        by_last.setdefault(max(index[v] for v in check.scope), []).append(n)
    first_of = [min(index[v] for v in c.scope) for c in checks]
    last_of = [max(index[v] for v in c.scope) for c in checks]
    assigned: dict[str, Value] = {}
    cache: dict[Hashable, int] = {}
    doms = {v: list(domains[v]) for v in order}
    rests: dict[tuple[int, tuple[Any, ...]], frozenset[tuple[int, ...]]] = {}

    def table_rest(n: int, check: Check) -> frozenset[tuple[int, ...]]:
        """What a partly set table still allows for its unset variables: assignments
        that leave the same rest (CPUs of one socket, say) share their count."""
        assert check.allowed is not None
        fixed = tuple(
            classes[assigned[v]] if v in assigned else _OPEN
            for v, classes in zip(check.scope, check.classes, strict=True)
        )
        key = (n, fixed)
        rest = rests.get(key)
        if rest is None:
            rest = frozenset(
                tuple(x for x, f in zip(row, fixed, strict=True) if f is _OPEN)
                for row in check.allowed
                if all(f is _OPEN or f == x for x, f in zip(row, fixed, strict=True))
            )
            rests[key] = rest
        return rest

    memo: dict[tuple[str, str, str], Any] = {}
    truths: dict[tuple[int, Hashable], frozenset[Any]] = {}
    touching: dict[str, list[int]] = {}
    for n, check in enumerate(checks):
        for v in check.scope:
            touching.setdefault(v, []).append(n)

    def open_state(depth: int, var: str, parent: dict[int, Any]) -> dict[int, Any] | None:
        """Residual keys of the rules open after `depth` variables (the rules `var`
        touches are looked at again; the others keep their keys); None if one fails."""
        residual = _Residual(model, assigned)
        scope = Scope(model, assigned, doms, memo)
        state = dict(parent)
        for n in touching.get(var, ()):
            check = checks[n]
            state.pop(n, None)
            if not first_of[n] < depth <= last_of[n]:
                continue
            if check.allowed is not None:
                rest = table_rest(n, check)
                if not rest:
                    return None
                state[n] = rest
                continue
            assert check.expr is not None
            key = residual.key(check.expr)
            # the residual and the (fixed) domains of the open variables decide what
            # the rule can still be: the bounds reasoning runs once per residual
            truth = truths.get((n, key))
            if truth is None:
                truth = truths[(n, key)] = _truth_of(abstract(scope, check.expr))
            if truth == FALSE:
                return None
            if truth != TRUE:
                state[n] = key
        return state

    def ways(depth: int, parent: dict[int, Any]) -> int:
        clock.tick()
        if depth == len(order):
            return 1
        var = order[depth]
        total = 0
        for value in doms[var]:
            assigned[var] = value
            if all(check_holds(model, checks[n], assigned) for n in by_last.get(depth, ())):
                state = open_state(depth + 1, var, parent)
                if state is not None:
                    key = (depth + 1, tuple(sorted(state.items(), key=lambda item: item[0])))
                    found = cache.get(key)
                    if found is None:
                        found = ways(depth + 1, state)
                        if len(cache) < MAX_CACHE:
                            cache[key] = found
                    total += found
            del assigned[var]
        return total

    return ways(0, {})


def _truth_of(value: Any) -> frozenset[Any]:
    return value if isinstance(value, frozenset) else frozenset({True, False})


class _Open:
    def __repr__(self) -> str:
        return "<open>"


_OPEN = _Open()
