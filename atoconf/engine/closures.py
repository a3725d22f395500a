"""Rule expressions compiled once to Python closures.

The same meaning as `language.evaluate` (the reference the tests hold this to),
without its per-node dispatch on every call, with each part's attributes looked up
in a table made once, and with whole numbers as ints: exact like Fractions (a
division still gives a Fraction), several times faster to add and compare. The
engine evaluates a rule on every class combination of its table; this is that
inner loop.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from atoconf.language.evaluate import Assembly, absent_value, evaluate
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
    Result,
    SetLiteral,
    Total,
    Unary,
    exact,
)

# what a compiled expression computes: a Result, its numbers ints when whole
Compiled = Callable[[Assembly], object]


class _NotCompiled(Exception):
    """A node only the evaluator carries what it needs for (a `where` filter's part)."""


def compile_holds(model: Model, expr: Expr) -> Callable[[Assembly], bool]:
    """Whether a boolean expression is true of an assembly; dividing by zero makes it
    false (as `language.evaluate.holds`)."""
    try:
        run = _compile(model, expr)
    except _NotCompiled:
        return lambda assembly: _reference_holds(model, expr, assembly)

    def check(assembly: Assembly) -> bool:
        try:
            return run(assembly) is True
        except ZeroDivisionError:
            return False

    return check


def _reference_holds(model: Model, expr: Expr, assembly: Assembly) -> bool:
    try:
        return evaluate(model, expr, assembly) is True
    except ZeroDivisionError:
        return False


def _whole(value: Result) -> object:
    """A Fraction that is whole as an int; anything else as it is."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def _number(value: object) -> int | Fraction:
    # a typed model's numbers are numbers; an absent attribute without a default
    # reads none, which counts as 0 (as the evaluator has it)
    return 0 if value is None else value  # type: ignore[return-value]


def _divide(a: int | Fraction, b: int | Fraction) -> int | Fraction:
    quotient = Fraction(a) / b  # ZeroDivisionError: the caller decides what it means
    return quotient.numerator if quotient.denominator == 1 else quotient


def _attribute_table(model: Model, component: str, attr: str) -> dict[str | None, object]:
    """Per SKU of a component (None: absent), what `component.attr` reads."""
    table: dict[str | None, object] = {None: _whole(absent_value(model, component, attr))}
    for sku in model.components[component].parts:
        if attr in model.parts[sku].values:
            table[sku] = _whole(model.part_value(sku, attr))
    return table


def _is_none(model: Model, expr: Expr) -> Callable[[Assembly], bool]:
    """Whether an expression reads `none` (an absent component's attribute without a
    default does; with one, it reads the default)."""
    if isinstance(expr, AttrRef):
        attr = model.types[model.components[expr.component].type].attributes[expr.attr]
        name = expr.component
        if attr.has_default:
            return lambda a: False
        return lambda a: a.components[name][0] is None
    if isinstance(expr, ComponentRef):
        name = expr.component
        return lambda a: a.components[name][0] is None
    run = _compile(model, expr)
    return lambda a: run(a) is None


def _present(model: Model, expr: Expr) -> Callable[[Assembly], bool]:
    if isinstance(expr, ComponentRef):
        name = expr.component
        return lambda a: a.components[name][0] is not None
    run = _compile(model, expr)
    return lambda a: run(a) is True


def _compile(model: Model, expr: Expr) -> Compiled:
    match expr:
        case Literal_():
            constant = _whole(exact(expr.value))
            return lambda a: constant
        case AttrRef():
            name, attr = expr.component, expr.attr
            table = _attribute_table(model, name, attr)

            def attribute(a: Assembly) -> object:
                sku = a.components[name][0]
                try:
                    return table[sku]
                except KeyError:  # a part the component's list did not name
                    return _whole(model.part_value(str(sku), attr))

            return attribute
        case QtyRef():
            name = expr.component

            def qty(a: Assembly) -> int:
                sku, count = a.components[name]
                return 0 if sku is None else count

            return qty
        case ComponentRef():
            name = expr.component
            return lambda a: a.components[name][0]
        case OptionRef():
            option = expr.option
            return lambda a: _whole(exact(a.options[option]))
        case SetLiteral():
            if all(isinstance(item, Literal_) for item in expr.items):
                members = frozenset(
                    _whole(exact(item.value)) for item in expr.items if isinstance(item, Literal_)
                )
                return lambda a: members
            items = [_compile(model, item) for item in expr.items]
            return lambda a: frozenset(item(a) for item in items)
        case Unary(op="not"):
            operand = _compile(model, expr.operand)
            return lambda a: not operand(a)
        case Unary():
            operand = _compile(model, expr.operand)
            return lambda a: -_number(operand(a))
        case Binary(op="and"):
            left, right = _compile(model, expr.left), _compile(model, expr.right)
            return lambda a: bool(left(a)) and bool(right(a))
        case Binary(op="or"):
            left, right = _compile(model, expr.left), _compile(model, expr.right)
            return lambda a: bool(left(a)) or bool(right(a))
        case Binary(op="implies"):
            left, right = _compile(model, expr.left), _compile(model, expr.right)
            return lambda a: (not left(a)) or bool(right(a))
        case Binary(op="iff"):
            left, right = _compile(model, expr.left), _compile(model, expr.right)
            return lambda a: bool(left(a)) == bool(right(a))
        case Binary():
            return _arithmetic(model, expr)
        case Compare():
            return _compare(model, expr)
        case In():
            return _membership(model, expr)
        case IfThenElse():
            cond = _compile(model, expr.cond)
            then, else_ = _compile(model, expr.then), _compile(model, expr.else_)
            return lambda a: then(a) if cond(a) else else_(a)
        case Total():
            tables = [(name, _attribute_table(model, name, expr.attr)) for name in expr.components]

            def total(a: Assembly) -> int | Fraction:
                out: int | Fraction = 0
                for name, table in tables:
                    sku, count = a.components[name]
                    if sku is not None:
                        out += count * _number(table[sku])
                return out

            return total
        case Call(func="count"):
            present = [_present(model, arg) for arg in expr.args]
            return lambda a: sum(p(a) for p in present)
        case Call(func="exactly_one"):
            present = [_present(model, arg) for arg in expr.args]
            return lambda a: sum(p(a) for p in present) == 1
        case Call(func="at_most_one"):
            present = [_present(model, arg) for arg in expr.args]
            return lambda a: sum(p(a) for p in present) <= 1
        case Call(func="at_least_one"):
            present = [_present(model, arg) for arg in expr.args]
            return lambda a: any(p(a) for p in present)
        case Call(func="min"):
            args = [_compile(model, arg) for arg in expr.args]
            return lambda a: min(_number(arg(a)) for arg in args)
        case Call(func="max"):
            args = [_compile(model, arg) for arg in expr.args]
            return lambda a: max(_number(arg(a)) for arg in args)
        case Call():
            arg = _compile(model, expr.args[0])
            return lambda a: abs(_number(arg(a)))
    raise _NotCompiled(type(expr).__name__)


def _arithmetic(model: Model, expr: Binary) -> Compiled:
    left, right = _compile(model, expr.left), _compile(model, expr.right)
    if expr.op == "+":
        return lambda a: _number(left(a)) + _number(right(a))
    if expr.op == "-":
        return lambda a: _number(left(a)) - _number(right(a))
    if expr.op == "*":
        return lambda a: _number(left(a)) * _number(right(a))
    return lambda a: _divide(_number(left(a)), _number(right(a)))


def _compare(model: Model, expr: Compare) -> Compiled:
    if expr.right.type.kind == "none" or expr.left.type.kind == "none":
        other = expr.left if expr.right.type.kind == "none" else expr.right
        is_none = _is_none(model, other)
        if expr.op == "==":
            return is_none
        return lambda a: not is_none(a)
    left, right = _compile(model, expr.left), _compile(model, expr.right)
    match expr.op:
        case "==":
            return lambda a: left(a) == right(a)
        case "!=":
            return lambda a: left(a) != right(a)
        case "<":
            return lambda a: _number(left(a)) < _number(right(a))
        case "<=":
            return lambda a: _number(left(a)) <= _number(right(a))
        case ">":
            return lambda a: _number(left(a)) > _number(right(a))
    return lambda a: _number(left(a)) >= _number(right(a))


def _membership(model: Model, expr: In) -> Compiled:
    element, container = _compile(model, expr.element), _compile(model, expr.container)
    items = expr.container.items if isinstance(expr.container, SetLiteral) else []
    if any(item.type.kind == "none" for item in items):
        is_none = _is_none(model, expr.element)
        # `x in {..., none}` agrees with `x == none`
        return lambda a: is_none(a) or element(a) in container(a)  # type: ignore[operator]
    return lambda a: element(a) in container(a)  # type: ignore[operator]


__all__ = ["compile_holds"]
