"""The meaning of an expression for one assembly: the reference semantics.

Every number is a `Fraction`, so arithmetic and comparisons are exact. The
solver compiles expressions its own way; this module is what it must agree
with, and what the brute-force oracle in the tests uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

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
    Part,
    PartAttr,
    QtyRef,
    Result,
    SetLiteral,
    Total,
    Unary,
    Value,
    exact,
)

# A component's choice: (SKU or None when absent, quantity).
Choice = tuple[str | None, int]


class Assembly:
    """A complete choice: every component's part and quantity, every option's value."""

    __slots__ = ("components", "options")

    def __init__(self, components: Mapping[str, Choice], options: Mapping[str, Value]) -> None:
        self.components = components
        self.options = options


def part_value(model: Model, sku: str, attr: str) -> Result:
    """A part's attribute as an evaluation result."""
    return model.part_value(sku, attr)


def absent_value(model: Model, component: str, attr: str) -> Result:
    """What an attribute of an absent component reads."""
    attribute = model.types[model.components[component].type].attributes[attr]
    if attribute.has_default:
        return exact(attribute.default)
    kind = attribute.type.kind
    if kind in ("int", "decimal"):
        return Fraction(0)
    if kind == "bool":
        return False
    if kind == "set":
        return frozenset()
    return None


def attribute(model: Model, assembly: Assembly, component: str, attr: str) -> Result:
    sku = assembly.components[component][0]
    if sku is None:
        return absent_value(model, component, attr)
    return part_value(model, sku, attr)


def _is_none(model: Model, expr: Expr, assembly: Assembly, part: Part | None) -> bool:
    if isinstance(expr, AttrRef):
        if assembly.components[expr.component][0] is not None:
            return False
        attr = model.types[model.components[expr.component].type].attributes[expr.attr]
        return not attr.has_default
    if isinstance(expr, ComponentRef):
        return assembly.components[expr.component][0] is None
    return evaluate(model, expr, assembly, part) is None


def _number(value: Result) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if value is None:
        return Fraction(0)
    raise TypeError(f"not a number: {value!r}")


def _present(model: Model, expr: Expr, assembly: Assembly, part: Part | None) -> bool:
    if isinstance(expr, ComponentRef):
        return assembly.components[expr.component][0] is not None
    return evaluate(model, expr, assembly, part) is True


def evaluate(model: Model, expr: Expr, assembly: Assembly, part: Part | None = None) -> Result:
    """Evaluate an expression; `part` is the part a `where` is filtering."""
    ev = evaluate
    match expr:
        case Literal_():
            return exact(expr.value)
        case AttrRef():
            return attribute(model, assembly, expr.component, expr.attr)
        case PartAttr():
            assert part is not None
            return exact(part.values[expr.attr])
        case QtyRef():
            sku, qty = assembly.components[expr.component]
            return Fraction(0 if sku is None else qty)
        case ComponentRef():
            return assembly.components[expr.component][0]
        case OptionRef():
            return exact(assembly.options[expr.option])
        case SetLiteral():
            return frozenset(ev(model, item, assembly, part) for item in expr.items)  # type: ignore[misc]
        case Unary(op="not"):
            return not ev(model, expr.operand, assembly, part)
        case Unary():
            return -_number(ev(model, expr.operand, assembly, part))
        case Binary(op="and"):
            return bool(ev(model, expr.left, assembly, part)) and bool(
                ev(model, expr.right, assembly, part)
            )
        case Binary(op="or"):
            return bool(ev(model, expr.left, assembly, part)) or bool(
                ev(model, expr.right, assembly, part)
            )
        case Binary(op="implies"):
            return (not ev(model, expr.left, assembly, part)) or bool(
                ev(model, expr.right, assembly, part)
            )
        case Binary(op="iff"):
            return bool(ev(model, expr.left, assembly, part)) == bool(
                ev(model, expr.right, assembly, part)
            )
        case Binary():
            a = _number(ev(model, expr.left, assembly, part))
            b = _number(ev(model, expr.right, assembly, part))
            if expr.op == "+":
                return a + b
            if expr.op == "-":
                return a - b
            if expr.op == "*":
                return a * b
            return a / b  # ZeroDivisionError: the caller decides what it means
        case Compare():
            if expr.right.type.kind == "none" or expr.left.type.kind == "none":
                other = expr.left if expr.right.type.kind == "none" else expr.right
                is_none = _is_none(model, other, assembly, part)
                return is_none if expr.op == "==" else not is_none
            left = ev(model, expr.left, assembly, part)
            right = ev(model, expr.right, assembly, part)
            if expr.op == "==":
                return left == right
            if expr.op == "!=":
                return left != right
            a, b = _number(left), _number(right)
            if expr.op == "<":
                return a < b
            if expr.op == "<=":
                return a <= b
            if expr.op == ">":
                return a > b
            return a >= b
        case In():
            container_expr = expr.container
            if (
                isinstance(container_expr, SetLiteral)
                and any(item.type.kind == "none" for item in container_expr.items)
                and _is_none(model, expr.element, assembly, part)
            ):
                return True  # `x in {…, none}` agrees with `x == none`
            element = ev(model, expr.element, assembly, part)
            container = ev(model, expr.container, assembly, part)
            assert isinstance(container, frozenset)
            return element in container
        case IfThenElse():
            if ev(model, expr.cond, assembly, part):
                return ev(model, expr.then, assembly, part)
            return ev(model, expr.else_, assembly, part)
        case Total():
            total = Fraction(0)
            for name in expr.components:
                sku, qty = assembly.components[name]
                if sku is not None:
                    total += qty * _number(part_value(model, sku, expr.attr))
            return total
        case Call(func="count"):
            return Fraction(sum(_present(model, a, assembly, part) for a in expr.args))
        case Call(func="exactly_one"):
            return sum(_present(model, a, assembly, part) for a in expr.args) == 1
        case Call(func="at_most_one"):
            return sum(_present(model, a, assembly, part) for a in expr.args) <= 1
        case Call(func="at_least_one"):
            return any(_present(model, a, assembly, part) for a in expr.args)
        case Call(func="min"):
            return min(_number(ev(model, a, assembly, part)) for a in expr.args)
        case Call(func="max"):
            return max(_number(ev(model, a, assembly, part)) for a in expr.args)
        case Call():
            return abs(_number(ev(model, expr.args[0], assembly, part)))
    raise TypeError(f"cannot evaluate {type(expr).__name__}")


def holds(model: Model, expr: Expr, assembly: Assembly, part: Part | None = None) -> bool:
    """Whether a boolean expression is true; dividing by zero makes it false."""
    try:
        return evaluate(model, expr, assembly, part) is True
    except ZeroDivisionError:
        return False
