"""The expression type checker: resolves the names in an expression (components,
options, attributes, enum members, part numbers), gives every node its type and reports
what does not fit. Takes the declarations it checks against from a Context, so rule
files and a request's expressions (`typed_expression`) are checked alike."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from lark import Token, Tree

from atoconf.language.context import Context, did_you_mean
from atoconf.language.diagnostics import Checked, error, sort_key
from atoconf.language.model import (
    BOOL,
    DECIMAL,
    INT,
    NONE,
    STRING,
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
    PartType,
    QtyRef,
    SetLiteral,
    Total,
    Unary,
    ValueType,
    enum_type,
)
from atoconf.language.nodes import Node, leaves, span_of, tree_depth, trees, unquote
from atoconf.language.parse import parse
from atoconf.language.source import SourceFile, Span
from atoconf.language.values import (
    a_or_an,
    enum_shown,
    expecting,
    member_of,
    number_too_long,
    too_long,
)

MAX_DEPTH = 100  # nesting of an expression; deeper would exhaust Python's stack later


@dataclass(frozen=True)
class Scope:
    """Where an expression is: its file and, inside a `where`, the part type."""

    file: str
    # inside `where`: the part type whose attributes are the bare names
    part_type: PartType | None = None


class _Fail(Exception):
    """An expression had an error (already reported)."""


_COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_ARITH = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_LOGIC = {"and_": "and", "or_": "or", "implies": "implies", "iff": "iff"}
_LOGIC_SHOWN = {"and": "and", "or": "or", "implies": "->", "iff": "<->"}
_FUNCTIONS = ("total", "count", "exactly_one", "at_most_one", "at_least_one", "min", "max", "abs")


def typed_expr(node: Node, ctx: Context, scope: Scope) -> Expr | None:
    """Resolve names in and type an expression; None after reporting its errors."""
    if tree_depth(node) > MAX_DEPTH:
        ctx.report(
            error(
                "E0306",
                f"this expression nests more than {MAX_DEPTH} levels deep",
                span_of(node, scope.file),
                hint="split it into several rules; a long chain of 'and' is several rules",
            )
        )
        return None
    try:
        return _expr(node, ctx, scope, None)
    except _Fail:
        return None


def typed_condition(node: Node, ctx: Context, scope: Scope, what: str) -> Expr | None:
    """`typed_expr` for what must be true or false (`what` it is, for messages)."""
    expr = typed_expr(node, ctx, scope)
    if expr is not None and expr.type.kind != "bool":
        ctx.report(
            error(
                "E0303",
                f"{what} must be a condition (true or false); this is {a_or_an(expr.type)}",
                expr.span,
                hint="compare it with something, such as `x >= 1`",
            )
        )
        return None
    return expr


def _is_open_name(node: Node, ctx: Context, scope: Scope) -> bool:
    """A bare name that is not a component, option or attribute: maybe an enum member."""
    if node.data != "name":
        return False
    name = str(node.children[0])
    if scope.part_type is not None:
        return name not in scope.part_type.attributes
    return name not in ctx.components and name not in ctx.options


def _enum_of(vtype: ValueType) -> str | None:
    return vtype.name if vtype.kind in ("enum", "set") else None


def _expr(node: Node | Token, ctx: Context, scope: Scope, hint: str | None) -> Expr:
    if isinstance(node, Token):  # pragma: no cover - the grammar wraps every token
        raise AssertionError(f"bare token {node!r}")
    span = span_of(node, scope.file)
    data = node.data
    kids = trees(node)
    if data == "number":
        text = str(node.children[0])
        if too_long(text):
            ctx.report(number_too_long(text, span))
            raise _Fail
        if "." in text:
            return Literal_(value=Decimal(text), type=DECIMAL, span=span)
        return Literal_(value=int(text), type=INT, span=span)
    if data == "string":
        return Literal_(value=unquote(cast(Token, node.children[0])), type=STRING, span=span)
    if data in ("true", "false"):
        return Literal_(value=data == "true", type=BOOL, span=span)
    if data == "none":
        return Literal_(value=None, type=NONE, span=span)
    if data == "name":
        return _name(cast(Token, node.children[0]), ctx, scope, hint, span)
    if data == "member":
        return _member_ref(node, ctx, scope, span)
    if data == "qty_of":
        target = kids[0]
        if target.data != "name" or str(target.children[0]) not in ctx.components:
            shown = _source_text(target)
            named = str(target.children[0]) if target.data == "name" else None
            # a component whose declaration failed is reported there, not at each use
            if named in ctx.suppressed or named in ctx.broken_values:
                raise _Fail
            ctx.report(
                error(
                    "E0203",
                    f"'.qty' belongs to a component; '{shown}' is not one",
                    span,
                    hint=did_you_mean(shown, ctx.components),
                )
            )
            raise _Fail
        return QtyRef(component=str(target.children[0]), type=INT, span=span)
    if data == "neg":
        operand = _expr(kids[0], ctx, scope, None)
        _need_number(operand, ctx, "'-'")
        return Unary(op="neg", operand=operand, type=operand.type, span=span)
    if data == "not_":
        operand = _expr(kids[0], ctx, scope, None)
        _need_bool(operand, ctx, "'not'")
        return Unary(op="not", operand=operand, type=BOOL, span=span)
    if data in _LOGIC:
        left, right = _both(kids[0], kids[1], ctx, scope)
        op = _LOGIC[data]
        _need_bool(left, ctx, f"'{_LOGIC_SHOWN[op]}'")
        _need_bool(right, ctx, f"'{_LOGIC_SHOWN[op]}'")
        return Binary(op=op, left=left, right=right, type=BOOL, span=span)  # type: ignore[arg-type]
    if data in _ARITH:
        left, right = _both(kids[0], kids[1], ctx, scope)
        op = _ARITH[data]
        _need_number(left, ctx, f"'{op}'")
        _need_number(right, ctx, f"'{op}'")
        result = INT if left.type == INT and right.type == INT and op != "/" else DECIMAL
        return Binary(op=op, left=left, right=right, type=result, span=span)  # type: ignore[arg-type]
    if data in _COMPARE:
        return _compare(_COMPARE[data], kids[0], kids[1], ctx, scope, span)
    if data == "in_":
        return _in(kids[0], kids[1], ctx, scope, span)
    if data == "if_then_else":
        cond = _expr(kids[0], ctx, scope, None)
        _need_bool(cond, ctx, "'if'")
        then, else_ = _paired(kids[1], kids[2], ctx, scope, hint)
        branch_type = _common_type(then, else_)
        if branch_type is None:
            ctx.report(
                error(
                    "E0301",
                    f"'then' gives {a_or_an(then.type)} but 'else' gives {a_or_an(else_.type)}",
                    span,
                    hint="both branches must give the same kind of value",
                )
            )
            raise _Fail
        return IfThenElse(cond=cond, then=then, else_=else_, type=branch_type, span=span)
    if data == "set_lit":
        items = tuple(_expr(k, ctx, scope, hint) for k in kids)
        name = hint or next((_enum_of(i.type) for i in items if _enum_of(i.type)), None)
        return SetLiteral(items=items, type=ValueType(kind="set", name=name or "value"), span=span)
    if data in ("call", "count_call"):
        return _call(node, ctx, scope, span)
    raise AssertionError(f"unexpected expression node {data}")  # pragma: no cover


def _source_text(node: Node) -> str:
    return ".".join(str(t) for t in leaves(node))


def _both(a: Node, b: Node, ctx: Context, scope: Scope) -> tuple[Expr, Expr]:
    """Type two operands, reporting errors in both before giving up."""
    left: Expr | None = None
    right: Expr | None = None
    with contextlib.suppress(_Fail):
        left = _expr(a, ctx, scope, None)
    with contextlib.suppress(_Fail):
        right = _expr(b, ctx, scope, None)
    if left is None or right is None:
        raise _Fail
    return left, right


def _paired(a: Node, b: Node, ctx: Context, scope: Scope, hint: str | None) -> tuple[Expr, Expr]:
    """Type two operands where a bare enum member on one side takes the other side's enum."""
    if _is_open_name(a, ctx, scope) and not _is_open_name(b, ctx, scope):
        right = _expr(b, ctx, scope, hint)
        return _expr(a, ctx, scope, _enum_of(right.type) or hint), right
    left: Expr | None = None
    try:
        left = _expr(a, ctx, scope, hint)
    except _Fail:
        if not _is_open_name(b, ctx, scope):
            _expr(b, ctx, scope, hint)  # report its errors too
        raise
    return left, _expr(b, ctx, scope, _enum_of(left.type) or hint)


def _need_bool(expr: Expr, ctx: Context, where: str) -> None:
    if expr.type.kind != "bool":
        ctx.report(
            error(
                "E0301",
                f"{where} needs a condition (true or false), not {a_or_an(expr.type)}",
                expr.span,
                hint="compare the value with something, such as `x >= 1` or `gpu != none`",
            )
        )
        raise _Fail


def _need_number(expr: Expr, ctx: Context, where: str) -> None:
    if not expr.type.is_number:
        ctx.report(
            error(
                "E0301",
                f"{where} needs a number, not {a_or_an(expr.type)}",
                expr.span,
                hint="arithmetic works on int and decimal values",
            )
        )
        raise _Fail


def _common_type(a: Expr, b: Expr) -> ValueType | None:
    if a.type.is_number and b.type.is_number:
        return INT if a.type == INT and b.type == INT else DECIMAL
    if a.type == b.type:
        return a.type
    return None


def _name(token: Token, ctx: Context, scope: Scope, hint: str | None, span: Span) -> Expr:
    name = str(token)
    if hint is not None and name in ctx.members.get(hint, ()):
        return Literal_(value=name, type=enum_type(hint), span=span)
    if scope.part_type is not None:
        attr = scope.part_type.attributes.get(name)
        if attr is not None:
            return PartAttr(attr=name, type=attr.type, span=span)
        if name in ctx.options or name in ctx.components:
            kind = "an option" if name in ctx.options else "a component"
            ctx.report(
                error(
                    "E0201",
                    f"'{name}' is not an attribute of type {scope.part_type.name}",
                    span,
                    hint=f"`where` reads the attributes of the part it filters; '{name}' is "
                    f"{kind}: say it in a rule instead (rule r: {name} -> ...)",
                )
            )
            raise _Fail
        _unknown_member_or(
            name,
            hint,
            ctx,
            span,
            f"attribute of type {scope.part_type.name}",
            scope.part_type.attributes,
        )
        raise _Fail
    if name in ctx.components:
        return ComponentRef(
            component=name,
            type=ValueType(kind="component", name=ctx.components[name].type),
            span=span,
        )
    if name in ctx.options:
        return OptionRef(option=name, type=ctx.options[name].type, span=span)
    if name in ctx.broken_values:
        raise _Fail
    _unknown_member_or(
        name, hint, ctx, span, "component or option", [*ctx.components, *ctx.options]
    )
    raise _Fail


# names that other languages spell the language's own values with
_OTHER_SPELLINGS = {
    "none": ("none", "an absent component or attribute is none, in lowercase"),
    "null": ("none", "an absent component or attribute is none"),
    "nil": ("none", "an absent component or attribute is none"),
    "true": ("true", "a bool is true or false, in lowercase"),
    "false": ("false", "a bool is true or false, in lowercase"),
}


def _unknown_member_or(
    name: str, hint: str | None, ctx: Context, span: Span, what: str, candidates: Iterable[str]
) -> None:
    if name in ctx.suppressed:
        return
    spelled = _OTHER_SPELLINGS.get(name.lower())
    if spelled is not None and hint is None:
        word, why = spelled
        fix = f"write '{word}' instead: {why}"
        ctx.report(error("E0201", f"unknown {what} '{name}'", span, hint=fix))
        return
    if hint is not None:
        members = ctx.members.get(hint, ())
        ctx.unknown(
            member_of(hint),
            name,
            span,
            members,
            code="E0207",
            extra=f"the members are: {', '.join(members)}",
        )
        return
    owners = sorted(e for e, members in ctx.members.items() if name in members)
    if owners:
        qualified = " or ".join(f"{e}.{name}" for e in owners if not e.startswith("option "))
        ctx.report(
            error(
                "E0208",
                f"'{name}' is an enum member, but nothing here says which enum",
                span,
                hint=f"write {qualified}"
                if qualified
                else "compare it with the option it belongs to",
            )
        )
        return
    ctx.unknown(what, name, span, candidates)


def _member_ref(node: Node, ctx: Context, scope: Scope, span: Span) -> Expr:
    target, attr_token = node.children
    attr = str(attr_token)
    assert isinstance(target, Tree)
    if target.data != "name":
        ctx.report(
            error(
                "E0203",
                f"'.{attr}' must follow a component or an enum",
                span,
                hint="write `component.attribute` or `Enum.MEMBER`",
            )
        )
        raise _Fail
    owner = str(target.children[0])
    if scope.part_type is None and owner in ctx.components:
        comp = ctx.components[owner]
        ptype = ctx.types[comp.type]
        found = ptype.attributes.get(attr)
        if found is None:
            if attr not in ctx.suppressed:
                ctx.unknown(
                    f"attribute of {owner} (type {ptype.name})",
                    attr,
                    span_of(cast(Token, attr_token), scope.file),
                    ptype.attributes,
                    code="E0204",
                )
            raise _Fail
        return AttrRef(component=owner, attr=attr, type=found.type, span=span)
    if owner in ctx.enums:
        members = ctx.members[owner]
        if attr in members:
            return Literal_(value=attr, type=enum_type(owner), span=span)
        ctx.unknown(
            f"member of {owner}",
            attr,
            span_of(cast(Token, attr_token), scope.file),
            members,
            code="E0207",
            extra=f"the members are: {', '.join(members)}",
        )
        raise _Fail
    if scope.part_type is None and owner in ctx.options:
        ctx.report(
            error(
                "E0203",
                f"option '{owner}' has no attributes",
                span,
                hint=f"use the option's value directly: `{owner} == ...`",
            )
        )
        raise _Fail
    if owner in ctx.suppressed or owner in ctx.broken_values:
        raise _Fail
    if scope.part_type is not None and (owner in ctx.components or owner in ctx.options):
        ctx.report(
            error(
                "E0203",
                f"a `where` reads only the part's own attributes; '{owner}' is a "
                + ("component" if owner in ctx.components else "option"),
                span,
                hint="write a rule to relate this component to others",
            )
        )
        raise _Fail
    candidates = [*ctx.enums] if scope.part_type else [*ctx.components, *ctx.enums]
    what = "enum" if scope.part_type else "component or enum"
    ctx.unknown(what, owner, span_of(cast(Token, target.children[0]), scope.file), candidates)
    raise _Fail


def _compare(op: str, a: Node, b: Node, ctx: Context, scope: Scope, span: Span) -> Expr:
    left, right = _paired(a, b, ctx, scope, None)
    lt, rt = left.type, right.type
    problem: str | None = None
    code = "E0301"
    if lt.kind == "none" or rt.kind == "none":
        other = right if lt.kind == "none" else left
        if op not in ("==", "!="):
            problem = "only '==' and '!=' compare with none"
        elif not isinstance(other, AttrRef | ComponentRef | PartAttr) and other.type.kind != "none":
            problem = f"{a_or_an(other.type)} is never none; only components and attributes can be"
    elif lt.kind == "component" or rt.kind == "component":
        comp, other = (left, right) if lt.kind == "component" else (right, left)
        if op not in ("==", "!="):
            problem = "a component compares with '==' or '!=' only (with a part number or none)"
        elif other.type.kind == "string":
            if isinstance(other, Literal_):
                check_sku(cast(ComponentRef, comp).component, other, ctx)
        elif other.type != comp.type:
            problem = (
                "a component compares with a part number (a string) or none, "
                f"not {a_or_an(other.type)}"
            )
    elif lt.is_number and rt.is_number:
        pass
    elif lt.kind == "enum" and rt.kind == "enum":
        if lt.name != rt.name:
            code = "E0302"
            problem = f"cannot compare {enum_shown(lt.name or '')} with {enum_shown(rt.name or '')}"
        elif op not in ("==", "!="):
            problem = f"enum values compare with '==' or '!=' only, not '{op}'"
    elif lt == rt and lt.kind in ("bool", "string", "set"):
        if op not in ("==", "!="):
            problem = f"{lt} values compare with '==' or '!=' only, not '{op}'"
    else:
        problem = f"cannot compare {a_or_an(lt)} with {a_or_an(rt)}"
    if problem is not None:
        ctx.report(error(code, problem, span, hint=_compare_hint(left, right)))
        raise _Fail
    return Compare(op=op, left=left, right=right, type=BOOL, span=span)  # type: ignore[arg-type]


def _compare_hint(left: Expr, right: Expr) -> str | None:
    for side in (left, right):
        if side.type.kind == "enum":
            return f"compare {side.type.name} values with members of {side.type.name}"
    if {left.type.kind, right.type.kind} == {"bool", "int"}:
        return "a bool is true or false, not 1 or 0: write '== true', or the condition alone"
    return None


def check_sku(component: str, literal: Literal_, ctx: Context) -> None:
    """Report a part number the component cannot take: unknown, another type, or not in its
    `where`."""
    sku = cast(str, literal.value)
    comp = ctx.components[component]
    if sku in comp.parts or sku in ctx.suppressed:
        return
    part = ctx.parts.get(sku)
    if part is None:
        ctx.unknown("part number", sku, literal.span, comp.parts, code="E0205")
    elif part.type != comp.type:
        ctx.report(
            error(
                "E0205",
                f"'{sku}' is a {part.type}, but component '{component}' takes a {comp.type}",
                literal.span,
                hint=did_you_mean(sku, comp.parts),
            )
        )
    else:
        ctx.report(
            error(
                "E0205",
                f"'{sku}' is excluded from component '{component}' by its `where`",
                literal.span,
                hint=f"component '{component}' declared at {comp.span} takes "
                f"{len(comp.parts)} part(s)",
            )
        )


def _in(a: Node, b: Node, ctx: Context, scope: Scope, span: Span) -> Expr:
    if b.data == "set_lit":
        element = _expr(a, ctx, scope, None)
        items: list[Expr] = []
        failed = False
        for item_node in trees(b):
            try:
                item = _expr(item_node, ctx, scope, _enum_of(element.type))
            except _Fail:
                failed = True
                continue
            items.append(item)
        if failed:
            raise _Fail
        for item in items:
            _check_in_item(element, item, ctx)
        container: Expr = SetLiteral(
            items=tuple(items),
            type=ValueType(kind="set", name=_enum_of(element.type) or "value"),
            span=span_of(b, scope.file),
        )
        return In(element=element, container=container, type=BOOL, span=span)
    element, container = _paired(a, b, ctx, scope, None)
    if container.type.kind != "set":
        ctx.report(
            error(
                "E0301",
                f"'in' needs a set on its right, not {a_or_an(container.type)}",
                container.span,
                hint="write `x in {A, B}` or `x in component.set_attribute`",
            )
        )
        raise _Fail
    if element.type != enum_type(container.type.name or ""):
        ctx.report(
            error(
                "E0302" if element.type.kind == "enum" else "E0301",
                f"{a_or_an(element.type)} is never in a set of {container.type.name}",
                span,
                hint=f"test a {container.type.name} value",
            )
        )
        raise _Fail
    return In(element=element, container=container, type=BOOL, span=span)


def _check_in_item(element: Expr, item: Expr, ctx: Context) -> None:
    et, it = element.type, item.type
    if et.kind == "component":
        if it.kind == "none" or (it.kind == "string" and not isinstance(item, Literal_)):
            return
        if it.kind == "string" and isinstance(item, Literal_):
            check_sku(cast(ComponentRef, element).component, item, ctx)
            return
    elif (
        (et.is_number and it.is_number)
        or et == it
        or (it.kind == "none" and isinstance(element, AttrRef | PartAttr))
    ):
        return
    ctx.report(
        error(
            "E0302" if et.kind == it.kind == "enum" else "E0301",
            f"{a_or_an(it)} can never equal {a_or_an(et)}",
            item.span,
            hint=expecting(et) if et.kind != "component" else "write part numbers as strings",
        )
    )
    raise _Fail


def _call(node: Node, ctx: Context, scope: Scope, span: Span) -> Expr:
    if node.data == "count_call":
        func = "count"
        arg_nodes = trees(node)
    else:
        func_token = cast(Token, node.children[0])
        func = str(func_token)
        arg_nodes = trees(node)
        if func not in _FUNCTIONS:
            ctx.report(
                error(
                    "E0209",
                    f"unknown function '{func}'",
                    span_of(func_token, scope.file),
                    hint=did_you_mean(func, _FUNCTIONS)
                    or f"the functions are: {', '.join(_FUNCTIONS)}",
                )
            )
            raise _Fail
    if func == "total":
        return _total(arg_nodes, ctx, scope, span)
    if not arg_nodes:
        ctx.report(error("E0304", f"{func}() needs at least one argument", span))
        raise _Fail
    args: list[Expr] = []
    failed = False
    for arg_node in arg_nodes:
        try:
            args.append(_expr(arg_node, ctx, scope, None))
        except _Fail:
            failed = True
    if failed:
        raise _Fail
    if func in ("count", "exactly_one", "at_most_one", "at_least_one"):
        for arg in args:
            if arg.type.kind not in ("bool", "component"):
                ctx.report(
                    error(
                        "E0304",
                        f"{func}() counts components and conditions, not {a_or_an(arg.type)}",
                        arg.span,
                        hint="pass a component (present or not), a bool option or a condition",
                    )
                )
                raise _Fail
        result = INT if func == "count" else BOOL
        return Call(func=func, args=tuple(args), type=result, span=span)  # type: ignore[arg-type]
    for arg in args:
        _need_number(arg, ctx, f"{func}()")
    if func == "abs" and len(args) != 1:
        ctx.report(error("E0304", "abs() takes one argument", span))
        raise _Fail
    result = INT if all(a.type == INT for a in args) else DECIMAL
    return Call(func=func, args=tuple(args), type=result, span=span)  # type: ignore[arg-type]


def _total(arg_nodes: list[Node], ctx: Context, scope: Scope, span: Span) -> Expr:
    if len(arg_nodes) != 1 or arg_nodes[0].data != "name":
        ctx.report(
            error(
                "E0304",
                "total() takes one attribute name, such as total(price)",
                span,
                hint="total(attr) sums qty * attr over the present components",
            )
        )
        raise _Fail
    attr = str(arg_nodes[0].children[0])
    holders: list[str] = []
    kinds: set[str] = set()
    for comp in ctx.components.values():
        found = ctx.types[comp.type].attributes.get(attr)
        if found is not None:
            holders.append(comp.name)
            kinds.add(found.type.kind)
    if not holders:
        if attr not in ctx.suppressed:
            every = {a for t in ctx.types.values() for a in t.attributes}
            ctx.unknown("attribute (no component's type has it)", attr, span, every)
        raise _Fail
    if not kinds <= {"int", "decimal"}:
        ctx.report(
            error(
                "E0304",
                f"total({attr}) needs '{attr}' to be a number in every type that has it",
                span,
            )
        )
        raise _Fail
    result = INT if kinds == {"int"} else DECIMAL
    return Total(attr=attr, components=tuple(holders), type=result, span=span)


def _ctx_from_model(model: Model) -> Context:
    ctx = Context(
        enums=dict(model.enums),
        types=dict(model.types),
        parts=dict(model.parts),
        components=dict(model.components),
        options=dict(model.options),
    )
    ctx.members = {name: enum.members for name, enum in model.enums.items()}
    for option in model.options.values():
        if option.enum is not None and option.enum not in ctx.members:
            ctx.members[option.enum] = cast(tuple[str, ...], option.values)
    return ctx


def typed_expression(model: Model, text: str, name: str) -> Checked[Expr]:
    """Parse and type one expression against a built model (a request's `require`,
    `minimize`, `maximize`); spans point into `text`, named `name`, the one source."""
    source = SourceFile(name=name, text=text)
    ctx = _ctx_from_model(model)
    parsed = parse(source, start="expression")
    ctx.diagnostics.extend(parsed.diagnostics)
    expr: Expr | None = None
    if not parsed.diagnostics and parsed.tree is not None:
        expr = typed_expr(trees(parsed.tree)[0], ctx, Scope(name))
    return Checked(expr, sorted(ctx.diagnostics, key=sort_key), {name: source})
