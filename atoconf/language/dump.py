"""A canonical, readable dump of a built model (`atoconf dump`, grammar golden files).

Expressions are printed fully parenthesised, so the dump shows exactly how
precedence grouped them and what every name resolved to.
"""

from __future__ import annotations

import json
from decimal import Decimal

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
    PartAttr,
    QtyRef,
    SetLiteral,
    Total,
    Unary,
    Value,
    ValueType,
)
from atoconf.language.source import Span

_BINARY = {"and": "and", "or": "or", "implies": "->", "iff": "<->"}


def value_text(value: Value, vtype: ValueType | None = None) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}"
    if vtype is not None and vtype.kind == "enum":
        return value
    return json.dumps(value)


def expr_text(expr: Expr) -> str:
    match expr:
        case Literal_():
            if expr.type.kind == "enum" and not (expr.type.name or "").startswith("option "):
                return f"{expr.type.name}.{expr.value}"
            return value_text(expr.value, expr.type)
        case AttrRef():
            return f"{expr.component}.{expr.attr}"
        case PartAttr():
            return f"part.{expr.attr}"
        case QtyRef():
            return f"{expr.component}.qty"
        case ComponentRef():
            return expr.component
        case OptionRef():
            return expr.option
        case SetLiteral():
            return "{" + ", ".join(expr_text(i) for i in expr.items) + "}"
        case Unary(op="not"):
            return f"(not {expr_text(expr.operand)})"
        case Unary():
            return f"(-{expr_text(expr.operand)})"
        case Binary():
            op = _BINARY.get(expr.op, expr.op)
            return f"({expr_text(expr.left)} {op} {expr_text(expr.right)})"
        case Compare():
            return f"({expr_text(expr.left)} {expr.op} {expr_text(expr.right)})"
        case In():
            return f"({expr_text(expr.element)} in {expr_text(expr.container)})"
        case IfThenElse():
            return (
                f"(if {expr_text(expr.cond)} then {expr_text(expr.then)} "
                f"else {expr_text(expr.else_)})"
            )
        case Total():
            return f"total({expr.attr} over {', '.join(expr.components)})"
        case Call():
            return f"{expr.func}({', '.join(expr_text(a) for a in expr.args)})"
    raise TypeError(type(expr).__name__)  # pragma: no cover


def _at(span: Span) -> str:
    return f"@{span.file}:{span.line}:{span.col}"


def dump_model(model: Model) -> str:
    out: list[str] = []
    if model.product is not None:
        title = f" {json.dumps(model.title)}" if model.title else ""
        out.append(f"product {model.product}{title}")
    else:
        out.append("library")
    out.append("files " + ", ".join(model.files))
    for enum in model.enums.values():
        out.append(f"enum {enum.name} {{{', '.join(enum.members)}}} {_at(enum.span)}")
    for ptype in model.types.values():
        out.append(f"type {ptype.name} {_at(ptype.span)}")
        for attr in ptype.attributes.values():
            line = f"  {attr.name}: {attr.type}"
            if attr.unit is not None:
                line += f" unit {json.dumps(attr.unit)}"
            if attr.has_default:
                line += f" default {value_text(attr.default, attr.type)}"
            out.append(line)
    for part in model.parts.values():
        attrs = model.types[part.type].attributes
        values = ", ".join(f"{k}={value_text(v, attrs[k].type)}" for k, v in part.values.items())
        out.append(
            f"part {json.dumps(part.sku)} {json.dumps(part.name)} {part.type}: {values} "
            f"{_at(part.span)}"
        )
    for comp in model.components.values():
        line = f"component {comp.name}: {comp.type} qty {comp.qty_min}..{comp.qty_max}"
        if comp.optional:
            line += " optional"
        if comp.where is not None:
            line += f" where {expr_text(comp.where)}"
        out.append(f"{line} {_at(comp.span)}")
        out.append(f"  parts {', '.join(comp.parts) or '(none)'}")
    for option in model.options.values():
        values = ", ".join(value_text(v, option.type) for v in option.values)
        if option.kind == "int" and len(option.values) > 1:
            values = f"{option.values[0]}..{option.values[-1]}"
        line = f"option {option.name}: {option.kind} {{{values}}}"
        if option.has_default:
            line += f" default {value_text(option.default, option.type)}"
        out.append(f"{line} {_at(option.span)}")
    for rule in model.rules.values():
        desc = f" {json.dumps(rule.description)}" if rule.description else ""
        out.append(f"rule {rule.name}{desc} {_at(rule.span)}")
        out.append(f"  {expr_text(rule.expr)}")
    for step in model.steps.values():
        title = f" {json.dumps(step.title)}" if step.title else ""
        line = f"step {step.name}{title}: uses {', '.join(step.uses) or '-'}"
        line += f"; after {', '.join(step.after) or '-'}; minutes {step.minutes}"
        if step.when is not None:
            line += f"; when {expr_text(step.when)}"
        out.append(f"{line} {_at(step.span)}")
    for test in model.tests:
        out.append(f"test {json.dumps(test.name)} {_at(test.span)}")
        for item in test.given:
            out.append(f"  given {item.key} = {value_text(item.value)}")
        for exp in test.expectations:
            if exp.kind == "invalid":
                detail = " because " + ", ".join(exp.because) if exp.because else ""
            elif exp.kind == "holds" and exp.expr is not None:
                detail = " " + expr_text(exp.expr)
            elif exp.kind == "count":
                detail = f" {exp.count}"
            elif exp.kind == "domain":
                detail = f" {exp.target} = {{{', '.join(value_text(v) for v in exp.values)}}}"
            else:
                detail = ""
            out.append(f"  expect {exp.kind}{detail}")
    return "\n".join(out) + "\n"
