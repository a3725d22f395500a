"""What an expression can still be, given some variables fixed and the domains of the rest.

This is the bounds reasoning behind forward checking: `total(price) <= 2000`
fails as soon as the parts chosen so far plus the cheapest choices left pass
2000, without waiting for every variable to be set. Numbers are intervals of
Fractions, conditions the set of truth values still possible, other values
the set of values still possible. The answer is always sound: a value that
some completion of the assignment gives is never left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

from atoconf.language.evaluate import absent_value, part_value
from atoconf.language.model import (
    AttrRef,
    Binary,
    Call,
    Compare,
    Component,
    ComponentRef,
    Expr,
    IfThenElse,
    In,
    Literal_,
    Model,
    OptionRef,
    PartAttr,
    QtyRef,
    Result,
    SetLiteral,
    Total,
    Unary,
    Value,
    exact,
)

BOTH = frozenset({True, False})
TRUE = frozenset({True})
FALSE = frozenset({False})


# a number: an int when whole (int arithmetic is some 50x faster than Fraction's, and
# most attributes, quantities and bounds are whole), else a Fraction
Num = Fraction | int


def num(x: Fraction) -> Num:
    """`x` as an int when it is whole."""
    return x.numerator if x.denominator == 1 else x


@dataclass(frozen=True)
class Interval:
    """The numbers an expression can take: lo <= x <= hi (None: unbounded)."""

    lo: Num | None
    hi: Num | None

    @staticmethod
    def of(values: Iterable[Num]) -> Interval:
        items = list(values)
        return Interval(min(items), max(items)) if items else Interval(None, None)

    @property
    def exact(self) -> bool:
        return self.lo is not None and self.lo == self.hi


Abstract = Interval | frozenset[Result]

ANY = Interval(None, None)


def qty_var(component: str) -> str:
    return f"{component}.qty"


class Scope:
    """The current state of a search: fixed values and the domains of the others."""

    __slots__ = ("assigned", "domains", "learn", "memo", "model", "totals")

    def __init__(
        self,
        model: Model,
        assigned: Mapping[str, Value],
        domains: Mapping[str, Sequence[Value]],
        memo: dict[tuple[str, str, str], Abstract] | None = None,
        learn: bool = True,
        totals: Mapping[tuple[str, tuple[str, ...]], Interval] | None = None,
    ) -> None:
        self.model = model
        self.assigned = assigned
        self.domains = domains
        # when the domains never change (counting), what unset components can
        # contribute is worked out once: (kind, component, attribute) -> value
        self.memo = memo
        # a search whose domains shrink reads a memo made from the full domains
        # (looser, still sound) and must not write what its narrowed domains allow
        self.learn = learn
        # what sums can still be, when the caller knows better than the domains (the
        # completions a decision graph allows): (attribute, components) -> interval
        self.totals = totals

    def remembered(self, key: tuple[str, str, str], component: str) -> Abstract | None:
        if self.memo is None or component in self.assigned or qty_var(component) in self.assigned:
            return None
        return self.memo.get(key)

    def remember(self, key: tuple[str, str, str], component: str, value: Abstract) -> Abstract:
        unset = component not in self.assigned and qty_var(component) not in self.assigned
        if self.memo is not None and unset and self.learn:
            self.memo[key] = value
        return value

    def values(self, var: str) -> Sequence[Value]:
        if var in self.assigned:
            return (self.assigned[var],)
        return self.domains[var]

    def skus(self, component: str) -> Sequence[str | None]:
        return self.values(component)  # type: ignore[return-value]

    def quantities(self, comp: Component) -> Interval:
        """The quantities a present component can still have."""
        name = qty_var(comp.name)
        if comp.qty_min == comp.qty_max:
            return Interval(comp.qty_min, comp.qty_min)
        present = [cast(int, q) for q in self.values(name) if q]
        return Interval.of(present) if present else Interval(None, None)


def _attr_values(scope: Scope, component: str, attr: str) -> list[Result]:
    model = scope.model
    return [
        absent_value(model, component, attr) if sku is None else part_value(model, sku, attr)
        for sku in scope.skus(component)
    ]


def _as_abstract(values: list[Result], numeric: bool) -> Abstract:
    if numeric:
        return Interval.of(num(v) if isinstance(v, Fraction) else 0 for v in values)
    return frozenset(values)


def _truth(value: Abstract) -> frozenset[Result]:
    if isinstance(value, Interval):  # pragma: no cover - typing guarantees conditions
        return BOTH
    return value


def _add(a: Interval, b: Interval) -> Interval:
    lo = None if a.lo is None or b.lo is None else a.lo + b.lo
    hi = None if a.hi is None or b.hi is None else a.hi + b.hi
    return Interval(lo, hi)


def _neg(a: Interval) -> Interval:
    return Interval(None if a.hi is None else -a.hi, None if a.lo is None else -a.lo)


def _mul(a: Interval, b: Interval) -> Interval:
    if a.lo is None or a.hi is None or b.lo is None or b.hi is None:
        return ANY
    if a.lo == a.hi and b.lo == b.hi:
        product = a.lo * b.lo
        return Interval(product, product)
    products = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
    return Interval(min(products), max(products))


def _div(a: Interval, b: Interval) -> Interval:
    if b.lo is None or b.hi is None or (b.lo <= 0 <= b.hi):
        return ANY  # the divisor may be zero (the rule then fails) or unbounded
    return _mul(a, Interval(Fraction(1) / b.hi, Fraction(1) / b.lo))


def _compare(op: str, a: Interval, b: Interval) -> frozenset[Result]:
    if a.lo is None or a.hi is None or b.lo is None or b.hi is None:
        return BOTH
    if op == "<":
        return TRUE if a.hi < b.lo else FALSE if a.lo >= b.hi else BOTH
    if op == "<=":
        return TRUE if a.hi <= b.lo else FALSE if a.lo > b.hi else BOTH
    if op == ">":
        return _compare("<", b, a)
    if op == ">=":
        return _compare("<=", b, a)
    if op == "==":
        if a.exact and b.exact:
            return TRUE if a.lo == b.lo else FALSE
        return FALSE if a.hi < b.lo or b.hi < a.lo else BOTH
    same = _compare("==", a, b)
    return frozenset(not v for v in same)


def _hull(a: Abstract, b: Abstract) -> Abstract:
    if isinstance(a, Interval) and isinstance(b, Interval):
        lo = None if a.lo is None or b.lo is None else min(a.lo, b.lo)
        hi = None if a.hi is None or b.hi is None else max(a.hi, b.hi)
        return Interval(lo, hi)
    if isinstance(a, frozenset) and isinstance(b, frozenset):
        return a | b
    return ANY  # pragma: no cover - branches have one type


def _is_none(scope: Scope, expr: Expr) -> frozenset[Result]:
    model = scope.model
    if isinstance(expr, AttrRef):
        attr = model.types[model.components[expr.component].type].attributes[expr.attr]
        if attr.has_default:
            return FALSE
        return frozenset(sku is None for sku in scope.skus(expr.component))
    if isinstance(expr, ComponentRef):
        return frozenset(sku is None for sku in scope.skus(expr.component))
    value = abstract(scope, expr)
    if isinstance(value, Interval):
        return FALSE
    return frozenset(v is None for v in value)


def _counts(scope: Scope, args: Sequence[Expr]) -> Interval:
    lo = hi = 0
    for arg in args:
        possible: frozenset[Result]
        if isinstance(arg, ComponentRef):
            possible = frozenset(sku is not None for sku in scope.skus(arg.component))
        else:
            possible = _truth(abstract(scope, arg))
        lo += possible == TRUE
        hi += True in possible
    return Interval(lo, hi)


def abstract(scope: Scope, expr: Expr) -> Abstract:
    """The values `expr` can still take in some completion of the scope's assignment."""
    match expr:
        case Literal_():
            value = exact(expr.value)
            if isinstance(value, Fraction):
                return Interval(num(value), num(value))
            return frozenset([value])
        case AttrRef():
            key = ("attr", expr.component, expr.attr)
            known = scope.remembered(key, expr.component)
            if known is not None:
                return known
            values = _attr_values(scope, expr.component, expr.attr)
            return scope.remember(key, expr.component, _as_abstract(values, expr.type.is_number))
        case PartAttr():  # pragma: no cover - `where` is applied before solving
            return ANY if expr.type.is_number else BOTH
        case QtyRef():
            comp = scope.model.components[expr.component]
            skus = scope.skus(comp.name)
            present = scope.quantities(comp)
            options: list[Interval] = []
            if None in skus:
                options.append(Interval(0, 0))
            if any(s is not None for s in skus):
                options.append(present)
            result: Interval | None = None
            for option in options:
                result = option if result is None else _hull(result, option)  # type: ignore[assignment]
            return result or ANY
        case ComponentRef():
            return frozenset(scope.skus(expr.component))
        case OptionRef():
            values = [exact(v) for v in scope.values(expr.option)]
            return _as_abstract(values, expr.type.is_number)
        case SetLiteral():
            items = [abstract(scope, i) for i in expr.items]
            members: list[Any] = []
            for item in items:
                if isinstance(item, frozenset) and len(item) == 1:
                    members.append(next(iter(item)))
                elif isinstance(item, Interval) and item.exact:
                    members.append(item.lo)
                else:
                    return frozenset([None])  # unknown set: callers treat it as "maybe"
            return frozenset([frozenset(members)])
        case Unary(op="not"):
            return frozenset(not v for v in _truth(abstract(scope, expr.operand)))
        case Unary():
            operand = abstract(scope, expr.operand)
            return _neg(operand) if isinstance(operand, Interval) else ANY
        case Binary(op="and" | "or" | "implies" | "iff"):
            left = _truth(abstract(scope, expr.left))
            if expr.op == "and" and left == FALSE:
                return FALSE
            if expr.op == "or" and left == TRUE:
                return TRUE
            if expr.op == "implies" and left == FALSE:
                return TRUE
            right = _truth(abstract(scope, expr.right))
            if expr.op == "and":
                return frozenset(bool(a and b) for a in left for b in right)
            if expr.op == "or":
                return frozenset(bool(a or b) for a in left for b in right)
            if expr.op == "implies":
                return frozenset(bool((not a) or b) for a in left for b in right)
            return frozenset(bool(a) == bool(b) for a in left for b in right)
        case Binary():
            left_n = abstract(scope, expr.left)
            right_n = abstract(scope, expr.right)
            if not isinstance(left_n, Interval) or not isinstance(right_n, Interval):
                return ANY  # pragma: no cover - typing guarantees numbers
            if expr.op == "+":
                return _add(left_n, right_n)
            if expr.op == "-":
                return _add(left_n, _neg(right_n))
            if expr.op == "*":
                return _mul(left_n, right_n)
            return _div(left_n, right_n)
        case Compare():
            if expr.left.type.kind == "none" or expr.right.type.kind == "none":
                other = expr.left if expr.right.type.kind == "none" else expr.right
                is_none = _is_none(scope, other)
                return is_none if expr.op == "==" else frozenset(not v for v in is_none)
            left_c = abstract(scope, expr.left)
            right_c = abstract(scope, expr.right)
            if isinstance(left_c, Interval) and isinstance(right_c, Interval):
                return _compare(expr.op, left_c, right_c)
            if isinstance(left_c, frozenset) and isinstance(right_c, frozenset):
                if len(left_c) == 1 and len(right_c) == 1:
                    same = left_c == right_c
                    return frozenset([same if expr.op == "==" else not same])
                if not (left_c & right_c):
                    return FALSE if expr.op == "==" else TRUE
            return BOTH
        case In() if _lists_none(expr.container):
            is_none = _is_none(scope, expr.element)
            if is_none == TRUE:
                return TRUE
            plain = _truth(
                abstract(scope, expr.model_copy(update={"container": _without_none(expr)}))
            )
            return plain | TRUE if True in is_none else plain
        case In():
            element = abstract(scope, expr.element)
            container = abstract(scope, expr.container)
            if not isinstance(container, frozenset) or None in container:
                return BOTH
            if isinstance(element, Interval):
                if not element.exact:
                    return BOTH
                assert element.lo is not None
                elements: list[Result] = [Fraction(element.lo)]
            else:
                elements = list(element)
            sets = [c for c in container if isinstance(c, frozenset)]
            return frozenset(e in s for e in elements for s in sets) or BOTH
        case IfThenElse():
            cond = _truth(abstract(scope, expr.cond))
            if cond == TRUE:
                return abstract(scope, expr.then)
            if cond == FALSE:
                return abstract(scope, expr.else_)
            return _hull(abstract(scope, expr.then), abstract(scope, expr.else_))
        case Total():
            if scope.totals is not None and (expr.attr, expr.components) in scope.totals:
                return scope.totals[(expr.attr, expr.components)]
            total = Interval(0, 0)
            model = scope.model
            for name in expr.components:
                key = ("total", name, expr.attr)
                known = scope.remembered(key, name)
                if isinstance(known, Interval):
                    total = _add(total, known)
                    continue
                comp = model.components[name]
                quantities = scope.quantities(comp)
                if name not in scope.assigned and scope.memo is not None:
                    # the quantity is set, the part is not: the hull of the parts'
                    # units times the quantities is the hull of each part's product
                    total = _add(total, _times_units(scope, name, expr.attr, quantities))
                    continue
                options_: list[Interval] = []
                for sku in scope.skus(name):
                    if sku is None:
                        options_.append(Interval(0, 0))
                    else:
                        value = part_value(model, sku, expr.attr)
                        unit = num(value) if isinstance(value, Fraction) else 0
                        options_.append(_mul(quantities, Interval(unit, unit)))
                part: Interval | None = None
                for option_ in options_:
                    part = option_ if part is None else _hull(part, option_)  # type: ignore[assignment]
                term = scope.remember(key, name, part or ANY)
                assert isinstance(term, Interval)
                total = _add(total, term)
            return total
        case Call(func="count"):
            return _counts(scope, expr.args)
        case Call(func="exactly_one" | "at_most_one" | "at_least_one"):
            counted = _counts(scope, expr.args)
            lo, hi = counted.lo or 0, counted.hi or 0
            if expr.func == "exactly_one":
                return TRUE if lo == hi == 1 else FALSE if lo > 1 or hi < 1 else BOTH
            if expr.func == "at_most_one":
                return TRUE if hi <= 1 else FALSE if lo > 1 else BOTH
            return TRUE if lo >= 1 else FALSE if hi < 1 else BOTH
        case Call(func="min" | "max"):
            args = [abstract(scope, a) for a in expr.args]
            if not all(isinstance(a, Interval) for a in args):
                return ANY  # pragma: no cover
            intervals = [a for a in args if isinstance(a, Interval)]
            pick = min if expr.func == "min" else max
            los = [i.lo for i in intervals]
            his = [i.hi for i in intervals]
            lo_ = None if any(v is None for v in los) else pick(v for v in los if v is not None)
            hi_ = None if any(v is None for v in his) else pick(v for v in his if v is not None)
            if expr.func == "min" and lo_ is None:
                return Interval(None, hi_)
            if expr.func == "max" and hi_ is None:
                return Interval(lo_, None)
            return Interval(lo_, hi_)
        case Call():
            arg = abstract(scope, expr.args[0])
            if not isinstance(arg, Interval) or arg.lo is None or arg.hi is None:
                return Interval(0, None)
            if arg.lo >= 0:
                return arg
            if arg.hi <= 0:
                return _neg(arg)
            return Interval(0, max(-arg.lo, arg.hi))
    return ANY  # pragma: no cover


def _times_units(scope: Scope, name: str, attr: str, quantities: Interval) -> Interval:
    """What an unset part adds to a total at the given quantities (0 if it may be
    absent), from the hull of its parts' units, remembered while the part is unset."""
    assert scope.memo is not None
    key = ("unit", name, attr)
    units = scope.memo.get(key)
    skus = scope.skus(name)
    if not isinstance(units, Interval):
        model = scope.model
        values = [part_value(model, sku, attr) for sku in skus if sku is not None]
        units = Interval.of(num(v) if isinstance(v, Fraction) else 0 for v in values)
        if scope.learn:
            scope.memo[key] = units
    zero = Interval(0, 0)
    if units.lo is None:  # no part left: only absence
        return zero if None in skus else ANY
    present = _mul(quantities, units)
    return _hull(present, zero) if None in skus else present  # type: ignore[return-value]


def _lists_none(container: Expr) -> bool:
    return isinstance(container, SetLiteral) and any(
        item.type.kind == "none" for item in container.items
    )


def _without_none(expr: In) -> SetLiteral:
    container = expr.container
    assert isinstance(container, SetLiteral)
    kept = tuple(item for item in container.items if item.type.kind != "none")
    return container.model_copy(update={"items": kept})


def may_hold(scope: Scope, expr: Expr) -> bool:
    """False only when no completion of the assignment can make `expr` true."""
    try:
        return True in _truth(abstract(scope, expr))
    except ZeroDivisionError:  # pragma: no cover - intervals never divide by zero
        return True
