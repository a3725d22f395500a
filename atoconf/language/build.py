"""Parse trees -> Model: imports, names, types, parts (inline and CSV), checks.

Every problem becomes a Diagnostic; building goes on after an error so that
all errors of all files are reported in one run. Declarations that overlap a
line with a syntax error are left out (their names are remembered, so nothing
else reports them as unknown).
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, cast

from lark import Token, Tree

from atoconf.language import csvparts
from atoconf.language.diagnostics import Diagnostic, Related, error, plural, sort_key
from atoconf.language.evaluate import Assembly, holds
from atoconf.language.model import (
    BOOL,
    DECIMAL,
    INT,
    NONE,
    STRING,
    Attribute,
    AttrRef,
    Binary,
    Call,
    Compare,
    Component,
    ComponentRef,
    EnumDecl,
    Expectation,
    Expr,
    GivenItem,
    IfThenElse,
    In,
    Literal_,
    Model,
    Option,
    OptionRef,
    Part,
    PartAttr,
    PartType,
    QtyRef,
    Rule,
    RuleTest,
    SetLiteral,
    Step,
    Total,
    Unary,
    Value,
    ValueType,
    enum_type,
)
from atoconf.language.parse import ParseResult, parse
from atoconf.language.source import SourceFile, Span, decode, read_source

MAX_OPTION_VALUES = 100_000
MAX_DIGITS = 30  # in a number literal; more is a typo, and Python's int() refuses past 4300
MAX_DEPTH = 100  # nesting of an expression; deeper would exhaust Python's stack later
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

Node = Tree[Token]


@dataclass
class LoadResult:
    """What loading produced: a model when there were no errors, and every diagnostic."""

    model: Model | None
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile]


@dataclass
class _Unit:
    path: Path | None
    source: SourceFile
    parsed: ParseResult
    product: Node | None = None


@dataclass
class _Ctx:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    suppressed: set[str] = field(default_factory=set)
    enums: dict[str, EnumDecl] = field(default_factory=dict)
    types: dict[str, PartType] = field(default_factory=dict)
    parts: dict[str, Part] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)
    options: dict[str, Option] = field(default_factory=dict)
    # enum name -> members, for declared enums and the inline enums of options
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # names declared but left out (syntax or earlier errors): never "unknown"
    broken_values: set[str] = field(default_factory=set)
    broken_rules: set[str] = field(default_factory=set)

    def report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def unknown(
        self,
        what: str,
        name: str,
        span: Span,
        candidates: Iterable[str],
        code: str = "E0201",
        extra: str | None = None,
    ) -> None:
        if name in self.suppressed:
            return
        hint = did_you_mean(name, candidates) or extra
        if what.startswith(("member of", "attribute of", "value of")):
            message = f"'{name}' is not {'an' if what[0] == 'a' else 'a'} {what}"
        else:
            message = f"unknown {what} '{name}'"
        self.report(error(code, message, span, hint=hint))


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f"did you mean '{close[0]}'?" if close else None


# ---- spans and tokens ---------------------------------------------------------


def _span(node: Node | Token, file: str) -> Span:
    if isinstance(node, Token):
        return Span(
            file=file,
            line=node.line or 1,
            col=node.column or 1,
            end_line=node.end_line or node.line or 1,
            end_col=node.end_column or node.column or 1,
        )
    meta = node.meta
    if getattr(meta, "empty", True):
        return Span(file=file, line=1, col=1, end_line=1, end_col=1)
    return Span(
        file=file, line=meta.line, col=meta.column, end_line=meta.end_line, end_col=meta.end_column
    )


def _tokens(node: Node, kind: str | None = None) -> list[Token]:
    return [c for c in node.children if isinstance(c, Token) and (kind is None or c.type == kind)]


def _trees(node: Node, data: str | None = None) -> list[Node]:
    return [c for c in node.children if isinstance(c, Tree) and (data is None or c.data == data)]


def _first_tree(node: Node, data: str) -> Node | None:
    found = _trees(node, data)
    return found[0] if found else None


def unquote(token: Token) -> str:
    """The text of a STRING token: quotes removed, `\\"` and `\\\\` unescaped."""
    body = str(token)[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", r"\1", body)


def _too_long(text: str) -> bool:
    return len(text) > MAX_DIGITS and sum(c.isdigit() for c in text) > MAX_DIGITS


def _number_too_long(text: str, span: Span) -> Diagnostic:
    return error(
        "E0305",
        f"the number {text[:12]}... has more than {MAX_DIGITS} digits",
        span,
        hint="check the number: no quantity, price or attribute needs that many digits",
    )


def _leaves(node: Node) -> list[Token]:
    """Every token under a node, in order, without recursion (trees can be deep)."""
    out: list[Token] = []
    stack: list[Node | Token] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Token):
            out.append(item)
        else:
            stack.extend(reversed(item.children))
    return out


def _depth(node: Node) -> int:
    deepest = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in item.children if isinstance(c, Tree))
    return deepest


def _negative(node: Node, number: Token) -> bool:
    """Whether a `"-"? NUMBER` rule had its (filtered-out) minus sign."""
    meta = node.meta
    return not getattr(meta, "empty", True) and meta.start_pos < (number.start_pos or 0)


# ---- files and imports --------------------------------------------------------


def _read_units(root: Path, ctx: _Ctx) -> list[_Unit]:
    """The root file and everything it imports, dependencies first."""
    done: dict[Path, _Unit] = {}
    order: list[_Unit] = []

    def visit(path: Path, shown: str | None, chain: list[tuple[Path, str, Span]]) -> _Unit | None:
        key = path.resolve()
        if key in done:
            return done[key]
        in_chain = [i for i, link in enumerate(chain) if link[0] == key]
        if in_chain:
            cycle = chain[in_chain[0] :]
            names = [link[1] for link in cycle] + [cycle[0][1]]
            ctx.report(
                error(
                    "E0501",
                    "import cycle: " + " -> ".join(names),
                    chain[-1][2],
                    hint="move the shared declarations into a library that both import",
                    related=[
                        Related(message=f"{link[1]} imports {nxt}", span=link[2])
                        for link, nxt in zip(cycle, names[1:], strict=False)
                    ],
                )
            )
            return None
        source = read_source(path, shown)
        if isinstance(source, str):
            if chain:
                ctx.report(
                    error(
                        "E0502",
                        f"cannot import '{path.name}': {source}",
                        chain[-1][2],
                        hint="import paths are relative to the importing file",
                    )
                )
            else:
                ctx.report(error("E0001", f"{shown or path}: {source}", None))
            return None
        ctx.sources[source.name] = source
        if not source.text.strip() and not chain:
            ctx.report(
                error(
                    "E0002",
                    "the file is empty",
                    Span(file=source.name, line=1, col=1, end_line=1, end_col=1),
                    hint="a rule file declares a product (`product name`) or shared declarations",
                )
            )
        parsed = parse(source)
        ctx.diagnostics.extend(parsed.diagnostics)
        ctx.suppressed |= parsed.broken_names
        unit = _Unit(path=path, source=source, parsed=parsed)
        if parsed.tree is not None:
            products = _trees(parsed.tree, "product")
            unit.product = products[0] if products else None
            for extra in products[1:]:
                ctx.report(
                    error(
                        "E0506",
                        "a file declares one product; this is a second product line",
                        _span(extra, source.name),
                        hint="put each product in its own file",
                    )
                )
            for stmt in _trees(parsed.tree, "import_stmt"):
                if _overlaps_error(stmt, unit):
                    continue
                target_token = _tokens(stmt, "STRING")[0]
                target = path.parent / unquote(target_token)
                target_name = _display_relative(source.name, unquote(target_token))
                span = _span(stmt, source.name)
                child = visit(target, target_name, [*chain, (key, source.name, span)])
                if child is not None and child.product is not None:
                    product_name = str(_tokens(child.product, "NAME")[0])
                    ctx.report(
                        error(
                            "E0503",
                            f"cannot import '{child.source.name}': it declares product "
                            f"'{product_name}'",
                            span,
                            hint="import a library (a file without a product line); move "
                            "the shared declarations there",
                        )
                    )
        done[key] = unit
        order.append(unit)
        return unit

    visit(root, None, [])
    return order


def _display_relative(importer: str, target: str) -> str:
    base = Path(importer).parent
    joined = base / target
    parts: list[str] = []
    for part in joined.parts:
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return str(Path(*parts)) if parts else target


def _overlaps_error(node: Node, unit: _Unit) -> bool:
    lines = unit.parsed.error_lines
    if not lines:
        return False
    meta = node.meta
    if getattr(meta, "empty", True):
        return True
    return any(meta.line <= line <= meta.end_line for line in lines)


# ---- declarations -------------------------------------------------------------


@dataclass
class _Decl:
    node: Node
    unit: _Unit

    @property
    def file(self) -> str:
        return self.unit.source.name

    @property
    def name_token(self) -> Token:
        return _tokens(self.node)[0]

    @property
    def name(self) -> str:
        return str(self.name_token)

    def span(self, node: Node | Token | None = None) -> Span:
        return _span(self.node if node is None else node, self.file)


def _declarations(units: list[_Unit], ctx: _Ctx) -> dict[str, list[_Decl]]:
    by_kind: dict[str, list[_Decl]] = {}
    for unit in units:
        tree = unit.parsed.tree
        if tree is None:
            continue
        for node in _trees(tree):
            if _overlaps_error(node, unit):
                ctx.suppressed.update(str(t).strip('"') for t in _leaves(node))
                continue
            by_kind.setdefault(node.data, []).append(_Decl(node, unit))
    return by_kind


def _unique(decls: list[_Decl], what: str, ctx: _Ctx, seen: dict[str, _Decl]) -> list[_Decl]:
    kept = []
    for decl in decls:
        first = seen.get(decl.name)
        if first is not None:
            ctx.report(
                error(
                    "E0202",
                    f"'{decl.name}' is declared twice",
                    decl.span(decl.name_token),
                    hint=f"rename one of them; names of {what} must be unique",
                    related=[
                        Related(message="first declared here", span=first.span(first.name_token))
                    ],
                )
            )
            continue
        seen[decl.name] = decl
        kept.append(decl)
    return kept


# ---- values -------------------------------------------------------------------


def _value(node: Node, vtype: ValueType, ctx: _Ctx, file: str, attr: str) -> tuple[bool, Value]:
    """A literal value of the expected type; (False, None) after reporting an error.

    `attr` names what the value is for: an attribute name, or a phrase with a space."""
    kind = node.data
    what = attr if " " in attr or "." in attr else f"attribute '{attr}'"

    def wrong(shown: str) -> tuple[bool, Value]:
        ctx.report(
            error(
                "E0402",
                f"{what} is {_a(vtype)}; {shown} is not",
                _span(node, file),
                hint=_expecting(vtype),
            )
        )
        return False, None

    if kind == "v_number":
        number = cast(Token, node.children[0])
        text = ("-" if _negative(node, number) else "") + str(number)
        if _too_long(text):
            ctx.report(_number_too_long(text, _span(node, file)))
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
            return True, unquote(_tokens(node, "STRING")[0])
        return wrong(f"the string {_tokens(node, 'STRING')[0]}")
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
        for item in _trees(node):
            if item.data not in ("v_name", "v_qualified"):
                ctx.report(
                    error(
                        "E0402",
                        f"a set of {vtype.name} holds members of {vtype.name} only",
                        _span(item, file),
                        hint=_expecting(vtype),
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
    return ".".join(str(t) for t in _tokens(node))


def _member(node: Node, enum: str, ctx: _Ctx, file: str) -> tuple[bool, Value]:
    names = _tokens(node, "NAME")
    members = ctx.members.get(enum, ())
    shown = _enum_shown(enum)
    if len(names) == 2:
        if str(names[0]) != enum:
            if enum in ctx.members:
                ctx.report(
                    error(
                        "E0302",
                        f"'{_name_text(node)}' is not a member of {shown}",
                        _span(node, file),
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
            _member_of(enum),
            member,
            _span(names[0], file),
            members,
            code="E0207",
            extra=f"the members are: {', '.join(members)}",
        )
    return False, None


def _enum_shown(enum: str) -> str:
    return enum if not enum.startswith("option ") else f"the values of {enum}"


def _member_of(enum: str) -> str:
    return f"member of {enum}" if not enum.startswith("option ") else f"value of {enum}"


def _a(vtype: ValueType) -> str:
    text = str(vtype)
    if vtype.kind in ("int", "decimal", "enum"):
        return ("an " if text[0] in "aeiouAEIOU" else "a ") + text
    if vtype.kind == "bool":
        return "a bool"
    if vtype.kind == "string":
        return "a string"
    return text


def _expecting(vtype: ValueType) -> str:
    return {
        "int": "write a whole number, such as 8",
        "decimal": "write a number, such as 299.00",
        "bool": "write true or false",
        "string": 'write a string in double quotes, such as "text"',
        "enum": f"write a member of {vtype.name}",
        "set": f"write a set of {vtype.name} members, such as {{A, B}}",
    }.get(vtype.kind, "")


def _convert_cell(text: str, vtype: ValueType, ctx: _Ctx) -> tuple[bool, Value, str]:
    """A CSV cell as a value; (False, None, reason) when it does not parse."""
    if _too_long(text):
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


# ---- enums, types, parts ---------------------------------------------------------


def _build_enums(decls: list[_Decl], ctx: _Ctx) -> None:
    for decl in decls:
        members: list[str] = []
        member_spans: list[Span] = []
        for token in _tokens(decl.node, "NAME")[1:]:
            if str(token) in members:
                ctx.report(
                    error(
                        "E0202",
                        f"'{token}' is listed twice in enum {decl.name}",
                        decl.span(token),
                        hint="remove the repeated member",
                    )
                )
                continue
            members.append(str(token))
            member_spans.append(decl.span(token))
        ctx.enums[decl.name] = EnumDecl(
            name=decl.name,
            members=tuple(members),
            member_spans=tuple(member_spans),
            span=decl.span(),
        )
        ctx.members[decl.name] = tuple(members)


_BASIC_TYPES = {"t_int": INT, "t_decimal": DECIMAL, "t_bool": BOOL, "t_string": STRING}


def _build_types(decls: list[_Decl], ctx: _Ctx, type_names: set[str]) -> None:
    for decl in decls:
        attributes: dict[str, Attribute] = {}
        for fnode in _trees(decl.node, "field"):
            name_token = _tokens(fnode, "NAME")[0]
            name = str(name_token)
            ref = _trees(fnode)[0]
            vtype = _type_ref(ref, ctx, decl, type_names)
            if name in attributes:
                ctx.report(
                    error(
                        "E0202",
                        f"type {decl.name} declares attribute '{name}' twice",
                        decl.span(name_token),
                        hint="remove or rename one of them",
                    )
                )
                continue
            if vtype is None:
                ctx.suppressed.add(name)
                continue
            unit_node = _first_tree(fnode, "unit")
            default_node = _first_tree(fnode, "default")
            has_default, default = False, None
            if default_node is not None:
                ok, default = _value(_trees(default_node)[0], vtype, ctx, decl.file, name)
                has_default = ok
            attributes[name] = Attribute(
                name=name,
                type=vtype,
                unit=unquote(_tokens(unit_node, "STRING")[0]) if unit_node else None,
                has_default=has_default,
                default=default,
                span=decl.span(fnode),
            )
        ctx.types[decl.name] = PartType(name=decl.name, attributes=attributes, span=decl.span())


def _type_ref(ref: Node, ctx: _Ctx, decl: _Decl, type_names: set[str]) -> ValueType | None:
    if ref.data in _BASIC_TYPES:
        return _BASIC_TYPES[ref.data]
    token = _tokens(ref, "NAME")[0]
    name = str(token)
    if name in ctx.enums:
        return ValueType(kind="enum" if ref.data == "t_enum" else "set", name=name)
    if name in type_names:
        ctx.report(
            error(
                "E0203",
                f"'{name}' is a part type; an attribute's type is int, decimal, bool, "
                "string, an enum or a set of an enum",
                decl.span(token),
                hint="declare an enum for the values this attribute can take",
            )
        )
        return None
    ctx.unknown("enum", name, decl.span(token), ctx.enums)
    return None


def _build_parts(inline: list[_Decl], from_csv: list[_Decl], ctx: _Ctx) -> None:
    first_row: dict[str, Span] = {}
    blocks = sorted(
        inline + from_csv, key=lambda d: (d.unit.source.name, d.node.meta.line, d.node.meta.column)
    )
    # keep file order: units were read dependencies first
    unit_order = {id(d.unit): i for i, d in enumerate(inline + from_csv)}
    blocks.sort(key=lambda d: unit_order[id(d.unit)])
    for decl in blocks:
        type_token = _tokens(decl.node, "NAME")[0]
        ptype = ctx.types.get(str(type_token))
        if ptype is None:
            if str(type_token) in ctx.enums:
                ctx.report(
                    error(
                        "E0203",
                        f"'{type_token}' is an enum, not a part type",
                        decl.span(type_token),
                        hint="parts belong to a `type` with attributes",
                    )
                )
            else:
                ctx.unknown("part type", str(type_token), decl.span(type_token), ctx.types)
            continue
        rows = (
            _inline_rows(decl, ptype, ctx)
            if decl.node.data == "parts_inline"
            else _csv_rows(decl, ptype, ctx)
        )
        for part in rows:
            seen = first_row.get(part.sku)
            if seen is not None:
                ctx.report(
                    error(
                        "E0206",
                        f"part number '{part.sku}' is declared twice",
                        part.span,
                        hint="each part number (SKU) names one part; remove or rename one",
                        related=[Related(message="first declared here", span=seen)],
                    )
                )
                continue
            first_row[part.sku] = part.span
            ctx.parts[part.sku] = part


def _complete(
    ptype: PartType,
    values: dict[str, Value],
    span: Span,
    sku: str,
    ctx: _Ctx,
) -> dict[str, Value] | None:
    missing = [a for a in ptype.attributes.values() if a.name not in values and not a.has_default]
    if missing:
        names = ", ".join(a.name for a in missing)
        ctx.report(
            error(
                "E0401",
                f"part '{sku}' gives no value for {names}",
                span,
                hint=f"add {', '.join(a.name + '=…' for a in missing)} or declare a default "
                f"in type {ptype.name}",
            )
        )
        return None
    return {name: values.get(name, attr.default) for name, attr in ptype.attributes.items()}


def _inline_rows(decl: _Decl, ptype: PartType, ctx: _Ctx) -> Iterator[Part]:
    for row in _trees(decl.node, "part_row"):
        if _overlaps_error(row, decl.unit):
            continue
        kids = row.children
        strings = [k for k in kids if isinstance(k, Token)]
        sku = unquote(strings[0])
        name = unquote(strings[1]) if len(strings) > 1 else sku
        values: dict[str, Value] = {}
        good = True
        for assignment in cast(list[Node], kids[len(strings) :]):
            attr_token, value_node = cast(tuple[Token, Node], assignment.children)
            attr = ptype.attributes.get(str(attr_token))
            if attr is None:
                ctx.unknown(
                    f"attribute of type {ptype.name}",
                    str(attr_token),
                    decl.span(attr_token),
                    ptype.attributes,
                    code="E0403",
                )
                good = False
                continue
            if attr.name in values:
                ctx.report(
                    error(
                        "E0406",
                        f"'{attr.name}' is given twice for part '{sku}'",
                        decl.span(attr_token),
                        hint="keep one value",
                    )
                )
                good = False
                continue
            ok, value = _value(value_node, attr.type, ctx, decl.file, attr.name)
            values[attr.name] = value
            good = good and ok
        span = decl.span(strings[0])
        complete = _complete(ptype, values, span, sku, ctx)
        if good and complete is not None:
            yield _part(sku, name, ptype.name, complete, span)
        else:
            ctx.suppressed.add(sku)


def _csv_rows(decl: _Decl, ptype: PartType, ctx: _Ctx) -> Iterator[Part]:
    path_token = _tokens(decl.node, "STRING")[0]
    relative = unquote(path_token)
    shown = _display_relative(decl.file, relative)
    base = decl.unit.path.parent if decl.unit.path else Path.cwd()
    source = read_source(base / relative, shown)
    if isinstance(source, str):
        ctx.report(
            error(
                "E0502",
                f"cannot read parts file '{relative}': {source}",
                decl.span(path_token),
                hint="CSV paths are relative to the file that names them",
            )
        )
        return
    ctx.sources[source.name] = source
    rows, problem, offset = csvparts.read_rows(source.text)
    if problem is not None:
        ctx.report(error("E0404", problem, source.span(offset, offset + 1)))
        return
    if not rows:
        ctx.report(
            error(
                "E0405",
                "the parts file is empty",
                Span(file=source.name, line=1, col=1, end_line=1, end_col=1),
                hint=f"the first line is the header: sku,name,{','.join(ptype.attributes)}",
            )
        )
        return
    header, *body = rows
    names = [c.text for c in header.cells]
    header_hint = f"the header is: sku,name,{','.join(ptype.attributes)}"
    if names[:2] != ["sku", "name"]:
        ctx.report(
            error(
                "E0405",
                "the header must start with the columns sku,name",
                source.span(header.start, header.end - 1 if header.end > header.start else 1),
                hint=header_hint,
            )
        )
        return
    columns: list[Attribute | None] = [None, None]
    good_header = True
    for cell in header.cells[2:]:
        attr = ptype.attributes.get(cell.text)
        if attr is None:
            ctx.unknown(
                f"attribute of type {ptype.name}",
                cell.text,
                csvparts.cell_span(source, cell),
                ptype.attributes,
                code="E0403",
            )
            good_header = False
        elif attr in columns:
            ctx.report(
                error(
                    "E0405",
                    f"column '{cell.text}' appears twice",
                    csvparts.cell_span(source, cell),
                    hint="remove one of the columns",
                )
            )
            good_header = False
        columns.append(attr)
    missing = [a.name for a in ptype.attributes.values() if a not in columns and not a.has_default]
    if missing:
        ctx.report(
            error(
                "E0401",
                f"no column for {', '.join(missing)}, which type {ptype.name} requires",
                source.span(header.start, max(header.end - 1, header.start + 1)),
                hint=f"add the column(s) {', '.join(missing)} or declare defaults",
            )
        )
        good_header = False
    if not good_header:
        return
    for row in body:
        cells = row.cells
        row_span = source.span(row.start, max(row.end - 1, row.start + 1))
        if len(cells) != len(columns):
            ctx.report(
                error(
                    "E0404",
                    f"this row has {plural(len(cells), 'cell')}; the header has {len(columns)}",
                    row_span,
                    hint='quote cells that contain commas: "a, b"',
                )
            )
            if cells and cells[0].text:
                ctx.suppressed.add(cells[0].text)
            continue
        sku = cells[0].text
        if not sku:
            ctx.report(
                error("E0404", "the sku cell is empty", row_span, hint="every row needs a SKU")
            )
            continue
        values: dict[str, Value] = {}
        good = True
        for cell, attr in zip(cells[2:], columns[2:], strict=True):
            assert attr is not None
            if cell.text == "":
                if attr.has_default:
                    values[attr.name] = attr.default
                    continue
                ctx.report(
                    error(
                        "E0401",
                        f"part '{sku}' has no value for '{attr.name}'",
                        csvparts.cell_span(source, cell),
                        hint=f"fill in the cell or declare a default for '{attr.name}'",
                    )
                )
                good = False
                continue
            ok, value, reason = _convert_cell(cell.text, attr.type, ctx)
            if not ok:
                ctx.report(
                    error(
                        "E0402",
                        f"'{attr.name}' of part '{sku}': {reason}",
                        csvparts.cell_span(source, cell),
                        hint=_expecting(attr.type).replace("{A, B}", "A|B"),
                    )
                )
                good = False
                continue
            values[attr.name] = value
        complete = (
            _complete(ptype, values, csvparts.cell_span(source, cells[0]), sku, ctx)
            if good
            else None
        )
        if complete is not None:
            yield _part(
                sku,
                cells[1].text or sku,
                ptype.name,
                complete,
                csvparts.cell_span(source, cells[0]),
            )
        else:
            ctx.suppressed.add(sku)


# ---- expressions -------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
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


def typed_expr(node: Node, ctx: _Ctx, scope: _Scope) -> Expr | None:
    """Resolve names in and type an expression; None after reporting its errors."""
    if _depth(node) > MAX_DEPTH:
        ctx.report(
            error(
                "E0306",
                f"this expression nests more than {MAX_DEPTH} levels deep",
                _span(node, scope.file),
                hint="split it into several rules; a long chain of 'and' is several rules",
            )
        )
        return None
    try:
        return _expr(node, ctx, scope, None)
    except _Fail:
        return None


def _condition(node: Node, ctx: _Ctx, scope: _Scope, what: str) -> Expr | None:
    expr = typed_expr(node, ctx, scope)
    if expr is not None and expr.type.kind != "bool":
        ctx.report(
            error(
                "E0303",
                f"{what} must be a condition (true or false); this is {_a(expr.type)}",
                expr.span,
                hint="compare it with something, such as `x >= 1`",
            )
        )
        return None
    return expr


def _is_open_name(node: Node, ctx: _Ctx, scope: _Scope) -> bool:
    """A bare name that is not a component, option or attribute: maybe an enum member."""
    if node.data != "name":
        return False
    name = str(node.children[0])
    if scope.part_type is not None:
        return name not in scope.part_type.attributes
    return name not in ctx.components and name not in ctx.options


def _enum_of(vtype: ValueType) -> str | None:
    return vtype.name if vtype.kind in ("enum", "set") else None


def _expr(node: Node | Token, ctx: _Ctx, scope: _Scope, hint: str | None) -> Expr:
    if isinstance(node, Token):  # pragma: no cover - the grammar wraps every token
        raise AssertionError(f"bare token {node!r}")
    span = _span(node, scope.file)
    data = node.data
    kids = _trees(node)
    if data == "number":
        text = str(node.children[0])
        if _too_long(text):
            ctx.report(_number_too_long(text, span))
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
            if target.data == "name" and str(target.children[0]) in ctx.suppressed:
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
                    f"'then' gives {_a(then.type)} but 'else' gives {_a(else_.type)}",
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
    return ".".join(str(t) for t in _leaves(node))


def _both(a: Node, b: Node, ctx: _Ctx, scope: _Scope) -> tuple[Expr, Expr]:
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


def _paired(a: Node, b: Node, ctx: _Ctx, scope: _Scope, hint: str | None) -> tuple[Expr, Expr]:
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


def _need_bool(expr: Expr, ctx: _Ctx, where: str) -> None:
    if expr.type.kind != "bool":
        ctx.report(
            error(
                "E0301",
                f"{where} needs a condition (true or false), not {_a(expr.type)}",
                expr.span,
                hint="compare the value with something, such as `x >= 1` or `gpu != none`",
            )
        )
        raise _Fail


def _need_number(expr: Expr, ctx: _Ctx, where: str) -> None:
    if not expr.type.is_number:
        ctx.report(
            error(
                "E0301",
                f"{where} needs a number, not {_a(expr.type)}",
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


def _name(token: Token, ctx: _Ctx, scope: _Scope, hint: str | None, span: Span) -> Expr:
    name = str(token)
    if hint is not None and name in ctx.members.get(hint, ()):
        return Literal_(value=name, type=enum_type(hint), span=span)
    if scope.part_type is not None:
        attr = scope.part_type.attributes.get(name)
        if attr is not None:
            return PartAttr(attr=name, type=attr.type, span=span)
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


def _unknown_member_or(
    name: str, hint: str | None, ctx: _Ctx, span: Span, what: str, candidates: Iterable[str]
) -> None:
    if name in ctx.suppressed:
        return
    if hint is not None:
        members = ctx.members.get(hint, ())
        ctx.unknown(
            _member_of(hint),
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


def _member_ref(node: Node, ctx: _Ctx, scope: _Scope, span: Span) -> Expr:
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
                    _span(cast(Token, attr_token), scope.file),
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
            _span(cast(Token, attr_token), scope.file),
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
    ctx.unknown(what, owner, _span(cast(Token, target.children[0]), scope.file), candidates)
    raise _Fail


def _compare(op: str, a: Node, b: Node, ctx: _Ctx, scope: _Scope, span: Span) -> Expr:
    left, right = _paired(a, b, ctx, scope, None)
    lt, rt = left.type, right.type
    problem: str | None = None
    code = "E0301"
    if lt.kind == "none" or rt.kind == "none":
        other = right if lt.kind == "none" else left
        if op not in ("==", "!="):
            problem = "only '==' and '!=' compare with none"
        elif not isinstance(other, AttrRef | ComponentRef | PartAttr) and other.type.kind != "none":
            problem = f"{_a(other.type)} is never none; only components and attributes can be"
    elif lt.kind == "component" or rt.kind == "component":
        comp, other = (left, right) if lt.kind == "component" else (right, left)
        if op not in ("==", "!="):
            problem = "a component compares with '==' or '!=' only (with a part number or none)"
        elif other.type.kind == "string":
            if isinstance(other, Literal_):
                _check_sku(cast(ComponentRef, comp).component, other, ctx)
        elif other.type != comp.type:
            problem = (
                f"a component compares with a part number (a string) or none, not {_a(other.type)}"
            )
    elif lt.is_number and rt.is_number:
        pass
    elif lt.kind == "enum" and rt.kind == "enum":
        if lt.name != rt.name:
            code = "E0302"
            problem = (
                f"cannot compare {_enum_shown(lt.name or '')} with {_enum_shown(rt.name or '')}"
            )
        elif op not in ("==", "!="):
            problem = f"enum values compare with '==' or '!=' only, not '{op}'"
    elif lt == rt and lt.kind in ("bool", "string", "set"):
        if op not in ("==", "!="):
            problem = f"{lt} values compare with '==' or '!=' only, not '{op}'"
    else:
        problem = f"cannot compare {_a(lt)} with {_a(rt)}"
    if problem is not None:
        ctx.report(error(code, problem, span, hint=_compare_hint(left, right)))
        raise _Fail
    return Compare(op=op, left=left, right=right, type=BOOL, span=span)  # type: ignore[arg-type]


def _compare_hint(left: Expr, right: Expr) -> str | None:
    for side in (left, right):
        if side.type.kind == "enum":
            return f"compare {side.type.name} values with members of {side.type.name}"
    return None


def _check_sku(component: str, literal: Literal_, ctx: _Ctx) -> None:
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


def _in(a: Node, b: Node, ctx: _Ctx, scope: _Scope, span: Span) -> Expr:
    if b.data == "set_lit":
        element = _expr(a, ctx, scope, None)
        items: list[Expr] = []
        failed = False
        for item_node in _trees(b):
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
            span=_span(b, scope.file),
        )
        return In(element=element, container=container, type=BOOL, span=span)
    element, container = _paired(a, b, ctx, scope, None)
    if container.type.kind != "set":
        ctx.report(
            error(
                "E0301",
                f"'in' needs a set on its right, not {_a(container.type)}",
                container.span,
                hint="write `x in {A, B}` or `x in component.set_attribute`",
            )
        )
        raise _Fail
    if element.type != enum_type(container.type.name or ""):
        ctx.report(
            error(
                "E0302" if element.type.kind == "enum" else "E0301",
                f"{_a(element.type)} is never in a set of {container.type.name}",
                span,
                hint=f"test a {container.type.name} value",
            )
        )
        raise _Fail
    return In(element=element, container=container, type=BOOL, span=span)


def _check_in_item(element: Expr, item: Expr, ctx: _Ctx) -> None:
    et, it = element.type, item.type
    if et.kind == "component":
        if it.kind == "none" or (it.kind == "string" and not isinstance(item, Literal_)):
            return
        if it.kind == "string" and isinstance(item, Literal_):
            _check_sku(cast(ComponentRef, element).component, item, ctx)
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
            f"{_a(it)} can never equal {_a(et)}",
            item.span,
            hint=_expecting(et) if et.kind != "component" else "write part numbers as strings",
        )
    )
    raise _Fail


def _call(node: Node, ctx: _Ctx, scope: _Scope, span: Span) -> Expr:
    if node.data == "count_call":
        func = "count"
        arg_nodes = _trees(node)
    else:
        func_token = cast(Token, node.children[0])
        func = str(func_token)
        arg_nodes = _trees(node)
        if func not in _FUNCTIONS:
            ctx.report(
                error(
                    "E0209",
                    f"unknown function '{func}'",
                    _span(func_token, scope.file),
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
                        f"{func}() counts components and conditions, not {_a(arg.type)}",
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


def _total(arg_nodes: list[Node], ctx: _Ctx, scope: _Scope, span: Span) -> Expr:
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


# ---- components, options, rules, steps, tests ---------------------------------------------


def _int_token(token: Token, negative: bool, ctx: _Ctx, file: str, what: str) -> int | None:
    text = str(token)
    if _too_long(text):
        ctx.report(_number_too_long(text, _span(token, file)))
        return None
    if "." in text:
        ctx.report(error("E0505", f"{what} must be a whole number, not {text}", _span(token, file)))
        return None
    return -int(text) if negative else int(text)


def _build_components(decls: list[_Decl], ctx: _Ctx) -> None:
    for decl in decls:
        qmin, qmax = 1, 1
        qty_node = next((t for t in _trees(decl.node) if t.data.startswith("qty_")), None)
        if qty_node is not None:
            bounds = [
                _int_token(t, False, ctx, decl.file, "a quantity")
                for t in _tokens(qty_node, "NUMBER")
            ]
            if any(b is None for b in bounds):
                ctx.broken_values.add(decl.name)
                continue
            numbers = cast(list[int], bounds)
            qmin, qmax = numbers[0], numbers[-1]
            if qmin < 1 or qmax < qmin:
                ctx.report(
                    error(
                        "E0505",
                        f"quantity range {qmin}..{qmax} is empty or starts below 1"
                        if qmin != qmax
                        else f"quantity {qmin} is below 1",
                        decl.span(qty_node),
                        hint="a quantity starts at 1 or more; use `optional` for a "
                        "component that may be absent",
                    )
                )
                ctx.broken_values.add(decl.name)
                continue
        type_token = _tokens(decl.node, "NAME")[1]
        ptype = ctx.types.get(str(type_token))
        if ptype is None:
            ctx.broken_values.add(decl.name)
            if str(type_token) in ctx.enums:
                ctx.report(
                    error(
                        "E0203",
                        f"'{type_token}' is an enum; a component takes a part type",
                        decl.span(type_token),
                        hint="use an option for a choice among enum values",
                    )
                )
            else:
                ctx.unknown("part type", str(type_token), decl.span(type_token), ctx.types)
            continue
        optional = _first_tree(decl.node, "optional") is not None
        where_node = _first_tree(decl.node, "where")
        where: Expr | None = None
        skus = tuple(sku for sku, part in ctx.parts.items() if part.type == ptype.name)
        if where_node is not None:
            where = _condition(
                _trees(where_node)[0], ctx, _Scope(decl.file, ptype), "a `where` filter"
            )
            if where is None:
                ctx.broken_values.add(decl.name)
                continue
            empty, stub = Assembly({}, {}), _model_stub(ctx)
            skus = tuple(sku for sku in skus if holds(stub, where, empty, ctx.parts[sku]))
        ctx.components[decl.name] = Component(
            name=decl.name,
            type=ptype.name,
            qty_min=qmin,
            qty_max=qmax,
            optional=optional,
            where=where,
            parts=skus,
            span=decl.span(),
        )


def _model_stub(ctx: _Ctx) -> Model:
    """Enough of a model to evaluate a `where` (which reads only the part)."""
    return Model.model_construct(
        product=None,
        files=(),
        enums=ctx.enums,
        types=ctx.types,
        parts=ctx.parts,
        components={},
        options={},
        rules={},
        steps={},
        tests=(),
    )


def _build_options(decls: list[_Decl], ctx: _Ctx) -> None:
    for decl in decls:
        otype = _trees(decl.node)[0]
        values: tuple[Value, ...]
        enum: str | None = None
        kind: Literal["enum", "int", "bool"]
        if otype.data == "o_enum":
            enum = f"option {decl.name}"
            members: list[str] = []
            for token in _tokens(otype, "NAME"):
                if str(token) in members:
                    ctx.report(
                        error(
                            "E0202",
                            f"'{token}' is listed twice in option {decl.name}",
                            decl.span(token),
                            hint="remove the repeated value",
                        )
                    )
                    continue
                members.append(str(token))
            ctx.members[enum] = tuple(members)
            values = tuple(members)
            kind = "enum"
        elif otype.data == "o_named":
            token = _tokens(otype, "NAME")[0]
            if str(token) not in ctx.enums:
                ctx.broken_values.add(decl.name)
                ctx.unknown("enum", str(token), decl.span(token), ctx.enums)
                continue
            enum = str(token)
            values = ctx.members[enum]
            kind = "enum"
        elif otype.data == "o_int":
            bounds = []
            for signed in _trees(otype, "signed_int"):
                number = _tokens(signed, "NUMBER")[0]
                bounds.append(
                    _int_token(number, _negative(signed, number), ctx, decl.file, "a bound")
                )
            if None in bounds:
                ctx.broken_values.add(decl.name)
                continue
            low, high = cast(list[int], bounds)
            if high < low or high - low >= MAX_OPTION_VALUES:
                ctx.report(
                    error(
                        "E0507",
                        f"option range {low}..{high} is empty"
                        if high < low
                        else f"option range {low}..{high} has over {MAX_OPTION_VALUES} values",
                        decl.span(otype),
                        hint="write the smaller bound first"
                        if high < low
                        else "use a smaller range",
                    )
                )
                ctx.broken_values.add(decl.name)
                continue
            values = tuple(range(low, high + 1))
            kind = "int"
        else:
            values = (False, True)
            kind = "bool"
        option = Option(
            name=decl.name,
            kind=kind,
            enum=enum,
            values=values,
            span=decl.span(),
        )
        default_node = _first_tree(decl.node, "default")
        if default_node is not None:
            value_node = _trees(default_node)[0]
            ok, default = _value(value_node, option.type, ctx, decl.file, f"option '{decl.name}'")
            if ok and default not in values:
                ctx.report(
                    error(
                        "E0507",
                        f"default {default} is outside option '{decl.name}' "
                        f"({values[0]}..{values[-1]})",
                        _span(value_node, decl.file),
                        hint="choose a default inside the range",
                    )
                )
                ok = False
            if ok:
                option = option.model_copy(update={"default": default, "has_default": True})
        ctx.options[decl.name] = option


def _build_rules(decls: list[_Decl], ctx: _Ctx) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for decl in decls:
        strings = _tokens(decl.node, "STRING")
        expr = _condition(_trees(decl.node)[-1], ctx, _Scope(decl.file), f"rule '{decl.name}'")
        if expr is None:
            ctx.broken_rules.add(decl.name)
            continue
        rules[decl.name] = Rule(
            name=decl.name,
            description=unquote(strings[0]) if strings else None,
            expr=expr,
            span=decl.span(),
        )
    return rules


def _build_steps(decls: list[_Decl], ctx: _Ctx) -> dict[str, Step]:
    steps: dict[str, Step] = {}
    names = {d.name for d in decls}
    after_spans: dict[str, dict[str, Span]] = {}
    for decl in decls:
        strings = _tokens(decl.node, "STRING")
        fields: dict[str, Any] = {}
        good = True
        for clause in _trees(decl.node):
            if clause.data in fields:
                ctx.report(
                    error(
                        "E0508",
                        f"step '{decl.name}' has two '{clause.data}' clauses",
                        decl.span(clause),
                        hint=f"merge them into one: `{clause.data} a, b`",
                    )
                )
                good = False
                continue
            if clause.data == "uses":
                used = []
                for token in _tokens(clause, "NAME"):
                    if str(token) in ctx.components:
                        used.append(str(token))
                    elif str(token) not in ctx.broken_values:
                        good = False
                        ctx.unknown("component", str(token), decl.span(token), ctx.components)
                fields["uses"] = tuple(used)
            elif clause.data == "after":
                after = []
                for token in _tokens(clause, "NAME"):
                    if str(token) in names:
                        after.append(str(token))
                        after_spans.setdefault(decl.name, {})[str(token)] = decl.span(token)
                    else:
                        good = False
                        ctx.unknown("step", str(token), decl.span(token), names)
                fields["after"] = tuple(after)
            elif clause.data == "minutes":
                minutes = _int_token(_tokens(clause, "NUMBER")[0], False, ctx, decl.file, "minutes")
                good = good and minutes is not None
                fields["minutes"] = minutes or 0
            else:
                when = _condition(_trees(clause)[0], ctx, _Scope(decl.file), "a step's `when`")
                good = good and when is not None
                fields["when"] = when
        if good:
            steps[decl.name] = Step(
                name=decl.name,
                title=unquote(strings[0]) if strings else None,
                span=decl.span(),
                **fields,
            )
    _check_step_cycles(steps, after_spans, ctx)
    return steps


def _check_step_cycles(
    steps: dict[str, Step], after_spans: dict[str, dict[str, Span]], ctx: _Ctx
) -> None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    reported: set[frozenset[str]] = set()

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for before in steps[name].after:
            if before not in steps:
                continue
            if state.get(before) == 1:
                cycle = path[path.index(before) :]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    chain = [*cycle, before]
                    ctx.report(
                        error(
                            "E0504",
                            "steps wait for each other in a cycle: "
                            + " -> ".join(f"{a} after {b}" for a, b in itertools.pairwise(chain)),
                            after_spans[name][before],
                            hint="remove one `after` so the steps can be ordered",
                            related=[
                                Related(message=f"{a} is after {b}", span=after_spans[a][b])
                                for a, b in itertools.pairwise(chain)
                            ],
                        )
                    )
            elif before not in state:
                visit(before, path)
        path.pop()
        state[name] = 2

    for name in steps:
        if name not in state:
            visit(name, [])


def _build_tests(decls: list[_Decl], ctx: _Ctx, rules: dict[str, Rule]) -> tuple[RuleTest, ...]:
    tests: list[RuleTest] = []
    seen: dict[str, Span] = {}
    for decl in decls:
        name_token = _tokens(decl.node, "STRING")[0]
        name = unquote(name_token)
        if name in seen:
            ctx.report(
                error(
                    "E0202",
                    f'two tests are named "{name}"',
                    decl.span(name_token),
                    hint="give each test its own name",
                    related=[Related(message="first declared here", span=seen[name])],
                )
            )
            continue
        seen[name] = decl.span(name_token)
        scope = _Scope(decl.file)
        given: list[GivenItem] = []
        good = True
        given_node = _first_tree(decl.node, "given")
        keys: set[str] = set()
        for item in _trees(given_node) if given_node is not None else []:
            parsed = _given_item(item, ctx, scope)
            if parsed is None:
                good = False
                continue
            if parsed.key in keys:
                ctx.report(
                    error(
                        "E0601",
                        f"'{parsed.key}' is given twice",
                        parsed.span,
                        hint="keep one choice",
                    )
                )
                good = False
                continue
            keys.add(parsed.key)
            given.append(parsed)
        expectations: list[Expectation] = []
        for node in _trees(decl.node):
            if not node.data.startswith("expect_"):
                continue
            expectation = _expectation(node, ctx, scope, rules)
            if expectation is None:
                good = False
            else:
                expectations.append(expectation)
        if good:
            tests.append(
                RuleTest(
                    name=name,
                    given=tuple(given),
                    expectations=tuple(expectations),
                    span=decl.span(),
                )
            )
    return tuple(tests)


def _given_item(item: Node, ctx: _Ctx, scope: _Scope) -> GivenItem | None:
    name_token = _tokens(item, "NAME")[0]
    name = str(name_token)
    value_node = _trees(item)[0]
    span = _span(item, scope.file)
    if item.data == "given_qty":
        comp = ctx.components.get(name)
        if comp is None:
            if name not in ctx.broken_values:
                ctx.unknown("component", name, _span(name_token, scope.file), ctx.components)
            return None
        ok, qty = _value(value_node, INT, ctx, scope.file, f"{name}.qty")
        if not ok:
            return None
        assert isinstance(qty, int)
        if not comp.qty_min <= qty <= comp.qty_max:
            ctx.report(
                error(
                    "E0601",
                    f"{name}.qty = {qty} is outside its range {comp.qty_min}..{comp.qty_max}",
                    span,
                    hint=f"component '{name}' is declared at {comp.span}",
                )
            )
            return None
        return GivenItem(key=f"{name}.qty", value=qty, span=span)
    if name in ctx.components:
        comp = ctx.components[name]
        if value_node.data == "v_none":
            if not comp.optional:
                ctx.report(
                    error(
                        "E0601",
                        f"component '{name}' is not optional; it cannot be none",
                        span,
                        hint=f"declare it `optional` or choose one of its {len(comp.parts)} parts",
                    )
                )
                return None
            return GivenItem(key=name, value=None, span=span)
        if value_node.data != "v_string":
            ctx.report(
                error(
                    "E0601",
                    f"component '{name}' is chosen by part number, in double quotes",
                    _span(value_node, scope.file),
                    hint=f'write {name} = "<SKU>"' + (" or none" if comp.optional else ""),
                )
            )
            return None
        sku_token = _tokens(value_node, "STRING")[0]
        literal = Literal_(value=unquote(sku_token), type=STRING, span=_span(sku_token, scope.file))
        before = len(ctx.diagnostics)
        _check_sku(name, literal, ctx)
        if len(ctx.diagnostics) != before or literal.value in ctx.suppressed:
            return None
        return GivenItem(key=name, value=literal.value, span=span)
    if name in ctx.options:
        option = ctx.options[name]
        ok, value = _value(value_node, option.type, ctx, scope.file, f"option '{name}'")
        if not ok:
            return None
        if value not in option.values:
            ctx.report(
                error(
                    "E0601",
                    f"{value} is outside option '{name}' ({option.values[0]}..{option.values[-1]})",
                    _span(value_node, scope.file),
                )
            )
            return None
        return GivenItem(key=name, value=value, span=span)
    if name not in ctx.broken_values:
        ctx.unknown(
            "component or option",
            name,
            _span(name_token, scope.file),
            [*ctx.components, *ctx.options],
        )
    return None


def _expectation(
    node: Node, ctx: _Ctx, scope: _Scope, rules: dict[str, Rule]
) -> Expectation | None:
    span = _span(node, scope.file)
    if node.data == "expect_valid":
        return Expectation(kind="valid", span=span)
    if node.data == "expect_invalid":
        because: list[str] = []
        good = True
        for token in _tokens(node, "NAME"):
            if str(token) in rules:
                because.append(str(token))
            elif str(token) not in ctx.suppressed and str(token) not in ctx.broken_rules:
                good = False
                ctx.unknown("rule", str(token), _span(token, scope.file), rules)
            else:
                good = False
        return Expectation(kind="invalid", because=tuple(because), span=span) if good else None
    if node.data == "expect_count":
        count = _int_token(_tokens(node, "NUMBER")[0], False, ctx, scope.file, "a count")
        return None if count is None else Expectation(kind="count", count=count, span=span)
    expr = _condition(_trees(node)[0], ctx, scope, "an expectation")
    if expr is None:
        return None
    domain = _domain_expectation(expr)
    if domain is not None:
        target, values = domain
        return Expectation(kind="domain", target=target, values=values, span=span)
    return Expectation(kind="holds", expr=expr, span=span)


def _domain_expectation(expr: Expr) -> tuple[str, tuple[Value, ...]] | None:
    """`expect x in {…}` on a component, quantity or option: the valid domain, exactly."""
    if not isinstance(expr, In) or not isinstance(expr.container, SetLiteral):
        return None
    if not all(isinstance(i, Literal_) for i in expr.container.items):
        return None
    values = tuple(cast(Literal_, i).value for i in expr.container.items)
    element = expr.element
    if isinstance(element, ComponentRef):
        return element.component, values
    if isinstance(element, QtyRef):
        return f"{element.component}.qty", values
    if isinstance(element, OptionRef):
        return element.option, values
    return None


# ---- the whole -------------------------------------------------------------------------


def _assemble(units: list[_Unit], ctx: _Ctx) -> Model | None:
    decls = _declarations(units, ctx)

    def of(kind: str) -> list[_Decl]:
        return decls.get(kind, [])

    type_names: dict[str, _Decl] = {}
    enums = _unique(of("enum_decl"), "enums and types", ctx, type_names)
    types = _unique(of("type_decl"), "enums and types", ctx, type_names)
    value_names: dict[str, _Decl] = {}
    components = _unique(of("component"), "components and options", ctx, value_names)
    options = _unique(of("option"), "components and options", ctx, value_names)
    rule_decls = _unique(of("rule"), "rules", ctx, {})
    step_decls = _unique(of("step"), "steps", ctx, {})

    _build_enums(enums, ctx)
    _build_types(types, ctx, {d.name for d in types})
    _build_parts(of("parts_inline"), of("parts_csv"), ctx)
    _build_options(options, ctx)
    _build_components(components, ctx)
    rules = _build_rules(rule_decls, ctx)
    steps = _build_steps(step_decls, ctx)
    tests = _build_tests(of("test"), ctx, rules)

    root = units[-1]
    product = root.product
    if any(d.is_error for d in ctx.diagnostics):
        return None
    strings = _tokens(product, "STRING") if product is not None else []
    return Model(
        product=str(_tokens(product, "NAME")[0]) if product is not None else None,
        title=unquote(strings[0]) if strings else None,
        product_span=_span(product, root.source.name) if product is not None else None,
        files=tuple(u.source.name for u in units),
        enums=ctx.enums,
        types=ctx.types,
        parts=ctx.parts,
        components={c.name: ctx.components[c.name] for c in components if c.name in ctx.components},
        options={o.name: ctx.options[o.name] for o in options if o.name in ctx.options},
        rules=rules,
        steps=steps,
        tests=tests,
    )


def _finish(ctx: _Ctx, model: Model | None) -> LoadResult:
    unique: dict[tuple[str, str, Span | None, str], Diagnostic] = {}
    for d in ctx.diagnostics:
        unique.setdefault((d.code, d.message, d.span, d.severity), d)
    diagnostics = sorted(unique.values(), key=sort_key)
    return LoadResult(model=model, diagnostics=diagnostics, sources=ctx.sources)


def load_file(path: str | Path) -> LoadResult:
    """Load a rule file and its imports; the model is None when there are errors."""
    return _load_file(Path(path))


def load_text(text: str, name: str = "<text>") -> LoadResult:
    """Load rule text that imports nothing (for tests, docs and the API)."""
    return _load_text(text, name)


def _part(sku: str, name: str, type_name: str, values: dict[str, Value], span: Span) -> Part:
    """A part row whose values the builder has checked against its type: made without
    validating them again (a large catalog has thousands of rows, and validation was
    most of the time a load took)."""
    return Part.model_construct(sku=sku, name=name, type=type_name, values=values, span=span)


def _load_file(path: Path) -> LoadResult:
    ctx = _Ctx()
    units = _read_units(path, ctx)
    if not units:
        return _finish(ctx, None)
    return _finish(ctx, _assemble(units, ctx))


def _load_text(text: str, name: str) -> LoadResult:
    ctx = _Ctx()
    decoded = decode(text.encode("utf-8", "surrogatepass"), name)
    if isinstance(decoded, str):
        ctx.report(error("E0001", f"{name}: {decoded}", None))
        return _finish(ctx, None)
    source = decoded
    ctx.sources[name] = source
    parsed = parse(source)
    ctx.diagnostics.extend(parsed.diagnostics)
    ctx.suppressed |= parsed.broken_names
    unit = _Unit(path=None, source=source, parsed=parsed)
    if parsed.tree is not None:
        products = _trees(parsed.tree, "product")
        unit.product = products[0] if products else None
        for stmt in _trees(parsed.tree, "import_stmt"):
            ctx.report(
                error(
                    "E0502",
                    "rule text loaded from memory cannot import files",
                    _span(stmt, name),
                    hint="load it from a file with atoconf.load(path)",
                )
            )
    return _finish(ctx, _assemble([unit], ctx))


def _ctx_from_model(model: Model) -> _Ctx:
    ctx = _Ctx(
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


def typed_expression(
    model: Model, text: str, name: str
) -> tuple[Expr | None, list[Diagnostic], SourceFile]:
    """Parse and type one expression against a built model (a request's `require`,
    `minimize`, `maximize`); spans point into `text`, named `name`."""
    source = SourceFile(name=name, text=text)
    ctx = _ctx_from_model(model)
    parsed = parse(source, start="expression")
    ctx.diagnostics.extend(parsed.diagnostics)
    expr: Expr | None = None
    if not parsed.diagnostics and parsed.tree is not None:
        expr = typed_expr(_trees(parsed.tree)[0], ctx, _Scope(name))
    return expr, sorted(ctx.diagnostics, key=sort_key), source
