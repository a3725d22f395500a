"""Value conversion: literals in rule text and CSV cells become values of the type
expected (int, decimal, bool, string, enum member, set of members), or diagnostics; and
the words messages use for a type ("an int", "write a whole number, such as 8")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import cast

from lark import Token

from atoconf.language.context import Context, did_you_mean
from atoconf.language.diagnostics import Diagnostic, error
from atoconf.language.model import Value, ValueType
from atoconf.language.nodes import Node, has_minus, span_of, tokens, trees, unquote
from atoconf.language.source import Span

MAX_DIGITS = 30  # in a number literal; more is a typo, and Python's int() refuses past 4300
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def too_long(text: str) -> bool:
    """Whether a number has more than MAX_DIGITS digits."""
    return len(text) > MAX_DIGITS and sum(c.isdigit() for c in text) > MAX_DIGITS


def number_too_long(text: str, span: Span) -> Diagnostic:
    return error(
        "E0305",
        f"the number {text[:12]}... has more than {MAX_DIGITS} digits",
        span,
        hint="check the number: no quantity, price or attribute needs that many digits",
    )


def literal_value(
    node: Node, vtype: ValueType, ctx: Context, file: str, attr: str
) -> tuple[bool, Value]:
    """A literal value of the expected type; (False, None) after reporting an error.

    `attr` names what the value is for: an attribute name, or a phrase with a space."""
    kind = node.data
    what = attr if " " in attr or "." in attr else f"attribute '{attr}'"

    def wrong(shown: str) -> tuple[bool, Value]:
        ctx.report(
            error(
                "E0402",
                f"{what} is {a_or_an(vtype)}; {shown} is not",
                span_of(node, file),
                hint=expecting(vtype),
            )
        )
        return False, None

    if kind == "v_number":
        number = cast(Token, node.children[0])
        text = ("-" if has_minus(node, number) else "") + str(number)
        if too_long(text):
            ctx.report(number_too_long(text, span_of(node, file)))
            return False, None
        if vtype.kind == "int":
            if "." in text:
                return wrong(f"'{text}'")
            return True, int(text)
        if vtype.kind == "decimal":
            return True, Decimal(text)
        return wrong(f"the number {text}")
    if kind == "v_string":
        if vtype.kind == "string":
            return True, unquote(tokens(node, "STRING")[0])
        return wrong(f"the string {tokens(node, 'STRING')[0]}")
    if kind in ("v_true", "v_false"):
        if vtype.kind == "bool":
            return True, kind == "v_true"
        return wrong("'true'" if kind == "v_true" else "'false'")
    if kind == "v_none":
        return wrong("'none'")
    if kind in ("v_name", "v_qualified"):
        if vtype.kind == "enum":
            return _member(node, vtype.name or "", ctx, file)
        if vtype.kind == "set":
            ok, member = _member(node, vtype.name or "", ctx, file)
            return (True, frozenset([cast(str, member)])) if ok else (False, None)
        return wrong(f"'{_name_text(node)}'")
    if kind == "v_set":
        if vtype.kind != "set":
            return wrong("a set")
        members: set[str] = set()
        good = True
        for item in trees(node):
            if item.data not in ("v_name", "v_qualified"):
                ctx.report(
                    error(
                        "E0402",
                        f"a set of {vtype.name} holds members of {vtype.name} only",
                        span_of(item, file),
                        hint=expecting(vtype),
                    )
                )
                good = False
                continue
            ok, member = _member(item, vtype.name or "", ctx, file)
            if ok:
                members.add(cast(str, member))
            good = good and ok
        return (True, frozenset(members)) if good else (False, None)
    raise AssertionError(f"unexpected value node {kind}")


def _name_text(node: Node) -> str:
    return ".".join(str(t) for t in tokens(node))


def _member(node: Node, enum: str, ctx: Context, file: str) -> tuple[bool, Value]:
    names = tokens(node, "NAME")
    members = ctx.members.get(enum, ())
    shown = enum_shown(enum)
    if len(names) == 2:
        if str(names[0]) != enum:
            if enum in ctx.members:
                ctx.report(
                    error(
                        "E0302",
                        f"'{_name_text(node)}' is not a member of {shown}",
                        span_of(node, file),
                        hint=f"use a member of {shown}: {', '.join(members)}",
                    )
                )
            return False, None
        names = names[1:]
    member = str(names[0])
    if member in members:
        return True, member
    if enum in ctx.members:
        ctx.unknown(
            member_of(enum),
            member,
            span_of(names[0], file),
            members,
            code="E0207",
            extra=f"the members are: {', '.join(members)}",
        )
    return False, None


def enum_shown(enum: str) -> str:
    return enum if not enum.startswith("option ") else f"the values of {enum}"


def member_of(enum: str) -> str:
    return f"member of {enum}" if not enum.startswith("option ") else f"value of {enum}"


def a_or_an(vtype: ValueType) -> str:
    """A type as messages name it: "an int", "a Color", "set of Color"."""
    text = str(vtype)
    if vtype.kind in ("int", "decimal", "enum"):
        return ("an " if text[0] in "aeiouAEIOU" else "a ") + text
    if vtype.kind == "bool":
        return "a bool"
    if vtype.kind == "string":
        return "a string"
    return text


def expecting(vtype: ValueType) -> str:
    """How to write a value of the type, for a hint."""
    return {
        "int": "write a whole number, such as 8",
        "decimal": "write a number, such as 299.00",
        "bool": "write true or false",
        "string": 'write a string in double quotes, such as "text"',
        "enum": f"write a member of {vtype.name}",
        "set": f"write a set of {vtype.name} members, such as {{A, B}}",
    }.get(vtype.kind, "")


def convert_cell(text: str, vtype: ValueType, ctx: Context) -> tuple[bool, Value, str]:
    """A CSV cell as a value; (False, None, reason) when it does not parse."""
    if too_long(text):
        return False, None, f"'{text[:12]}...' has more than {MAX_DIGITS} digits"
    if vtype.kind == "int":
        if _INTEGER.fullmatch(text):
            return True, int(text), ""
        return False, None, f"'{text}' is not a whole number"
    if vtype.kind == "decimal":
        if _DECIMAL.fullmatch(text):
            try:
                return True, Decimal(text), ""
            except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
                pass
        return False, None, f"'{text}' is not a number (write it like 299.00)"
    if vtype.kind == "bool":
        if text in ("true", "false"):
            return True, text == "true", ""
        return False, None, f"'{text}' is not true or false"
    if vtype.kind == "string":
        return True, text, ""
    members = ctx.members.get(vtype.name or "", ())
    if vtype.kind == "enum":
        member = text.split(".", 1)[1] if text.startswith(f"{vtype.name}.") else text
        if member in members:
            return True, member, ""
        hint = did_you_mean(member, members)
        return (
            False,
            None,
            f"'{text}' is not a member of {vtype.name}"
            + (f"; {hint}" if hint else f" ({', '.join(members)})"),
        )
    found: set[str] = set()
    for item in text.split("|"):
        item = item.strip()
        if item.startswith(f"{vtype.name}."):
            item = item.split(".", 1)[1]
        if item not in members:
            hint = did_you_mean(item, members)
            return (
                False,
                None,
                f"'{item}' is not a member of {vtype.name}"
                + (f"; {hint}" if hint else f" ({', '.join(members)})"),
            )
        found.add(item)
    return True, frozenset(found), ""


def int_token(token: Token, negative: bool, ctx: Context, file: str, what: str) -> int | None:
    """A NUMBER token as a whole number (`what` it is, for messages); None after reporting."""
    text = str(token)
    if too_long(text):
        ctx.report(number_too_long(text, span_of(token, file)))
        return None
    if "." in text:
        ctx.report(
            error("E0505", f"{what} must be a whole number, not {text}", span_of(token, file))
        )
        return None
    return -int(text) if negative else int(text)
