"""Declarations -> Model: enums, types, parts, components, options, rules, steps and
tests built from the units a file and its imports were read into; `load_file` and
`load_text` read, build and return every diagnostic (`LoadResult`).

Every problem becomes a Diagnostic; building goes on after an error so that
all errors of all files are reported in one run. Declarations that overlap a
line with a syntax error are left out (their names are remembered, so nothing
else reports them as unknown).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from atoconf.language.context import Context, did_you_mean
from atoconf.language.diagnostics import Checked, Diagnostic, Related, error, sort_key
from atoconf.language.evaluate import Assembly, holds
from atoconf.language.loader import Decl, Unit, declarations, read_text, read_units
from atoconf.language.model import (
    BOOL,
    DECIMAL,
    INT,
    STRING,
    Attribute,
    Component,
    ComponentRef,
    EnumDecl,
    Expectation,
    Expr,
    GivenItem,
    In,
    Literal_,
    Model,
    Option,
    OptionRef,
    PartType,
    QtyRef,
    Rule,
    RuleTest,
    SetLiteral,
    Step,
    Value,
    ValueType,
)
from atoconf.language.nodes import Node, first_tree, has_minus, span_of, tokens, trees, unquote
from atoconf.language.parts import build_parts
from atoconf.language.source import Span
from atoconf.language.typecheck import Scope, check_sku, typed_condition
from atoconf.language.values import int_token, literal_value

MAX_OPTION_VALUES = 100_000


@dataclass(frozen=True)
class LoadResult(Checked[Model]):
    """What loading produced: a model when there were no errors, every diagnostic, and
    the files read."""

    @property
    def model(self) -> Model | None:
        """The model (`value`); None when there are errors."""
        return self.value


# ---- names, enums, types ---------------------------------------------------------------


def _unique(decls: list[Decl], what: str, ctx: Context, seen: dict[str, Decl]) -> list[Decl]:
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


def _build_enums(decls: list[Decl], ctx: Context) -> None:
    for decl in decls:
        members: list[str] = []
        member_spans: list[Span] = []
        for token in tokens(decl.node, "NAME")[1:]:
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


def _build_types(decls: list[Decl], ctx: Context, type_names: set[str]) -> None:
    for decl in decls:
        attributes: dict[str, Attribute] = {}
        for fnode in trees(decl.node, "field"):
            name_token = tokens(fnode, "NAME")[0]
            name = str(name_token)
            ref = trees(fnode)[0]
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
            unit_node = first_tree(fnode, "unit")
            default_node = first_tree(fnode, "default")
            has_default, default = False, None
            if default_node is not None:
                ok, default = literal_value(trees(default_node)[0], vtype, ctx, decl.file, name)
                has_default = ok
            attributes[name] = Attribute(
                name=name,
                type=vtype,
                unit=unquote(tokens(unit_node, "STRING")[0]) if unit_node else None,
                has_default=has_default,
                default=default,
                span=decl.span(fnode),
            )
        ctx.types[decl.name] = PartType(name=decl.name, attributes=attributes, span=decl.span())


def _type_ref(ref: Node, ctx: Context, decl: Decl, type_names: set[str]) -> ValueType | None:
    if ref.data in _BASIC_TYPES:
        return _BASIC_TYPES[ref.data]
    token = tokens(ref, "NAME")[0]
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


# ---- components, options, rules, steps, tests ---------------------------------------------


def _build_components(decls: list[Decl], ctx: Context) -> None:
    for decl in decls:
        qmin, qmax = 1, 1
        qty_node = next((t for t in trees(decl.node) if t.data.startswith("qty_")), None)
        if qty_node is not None:
            bounds = [
                int_token(t, False, ctx, decl.file, "a quantity")
                for t in tokens(qty_node, "NUMBER")
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
        type_token = tokens(decl.node, "NAME")[1]
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
                found = _declared_nearby(ctx, decl.file, "type", str(type_token))
                if found is not None and did_you_mean(str(type_token), ctx.types) is None:
                    ctx.report(
                        error(
                            "E0201",
                            f"unknown part type '{type_token}'",
                            decl.span(type_token),
                            hint=f'{found} declares it: add `import "{found}"`',
                        )
                    )
                else:
                    ctx.unknown("part type", str(type_token), decl.span(type_token), ctx.types)
            continue
        optional = first_tree(decl.node, "optional") is not None
        where_node = first_tree(decl.node, "where")
        where: Expr | None = None
        skus = tuple(sku for sku, part in ctx.parts.items() if part.type == ptype.name)
        if where_node is not None:
            where = typed_condition(
                trees(where_node)[0], ctx, Scope(decl.file, ptype), "a `where` filter"
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


def _model_stub(ctx: Context) -> Model:
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


def _build_options(decls: list[Decl], ctx: Context) -> None:
    for decl in decls:
        otype = trees(decl.node)[0]
        values: tuple[Value, ...]
        enum: str | None = None
        kind: Literal["enum", "int", "bool"]
        if otype.data == "o_enum":
            enum = f"option {decl.name}"
            members: list[str] = []
            for token in tokens(otype, "NAME"):
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
            token = tokens(otype, "NAME")[0]
            if str(token) not in ctx.enums:
                ctx.broken_values.add(decl.name)
                ctx.unknown("enum", str(token), decl.span(token), ctx.enums)
                continue
            enum = str(token)
            values = ctx.members[enum]
            kind = "enum"
        elif otype.data == "o_int":
            bounds = []
            for signed in trees(otype, "signed_int"):
                number = tokens(signed, "NUMBER")[0]
                bounds.append(
                    int_token(number, has_minus(signed, number), ctx, decl.file, "a bound")
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
        default_node = first_tree(decl.node, "default")
        if default_node is not None:
            value_node = trees(default_node)[0]
            ok, default = literal_value(
                value_node, option.type, ctx, decl.file, f"option '{decl.name}'"
            )
            if ok and default not in values:
                ctx.report(
                    error(
                        "E0507",
                        f"default {default} is outside option '{decl.name}' "
                        f"({values[0]}..{values[-1]})",
                        span_of(value_node, decl.file),
                        hint="choose a default inside the range",
                    )
                )
                ok = False
            if ok:
                option = option.model_copy(update={"default": default, "has_default": True})
        ctx.options[decl.name] = option


def _build_rules(decls: list[Decl], ctx: Context) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for decl in decls:
        strings = tokens(decl.node, "STRING")
        expr = typed_condition(trees(decl.node)[-1], ctx, Scope(decl.file), f"rule '{decl.name}'")
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


def _build_steps(decls: list[Decl], ctx: Context) -> dict[str, Step]:
    steps: dict[str, Step] = {}
    names = {d.name for d in decls}
    after_spans: dict[str, dict[str, Span]] = {}
    for decl in decls:
        strings = tokens(decl.node, "STRING")
        fields: dict[str, Any] = {}
        good = True
        for clause in trees(decl.node):
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
                for token in tokens(clause, "NAME"):
                    if str(token) in ctx.components:
                        used.append(str(token))
                    elif str(token) not in ctx.broken_values:
                        good = False
                        ctx.unknown("component", str(token), decl.span(token), ctx.components)
                fields["uses"] = tuple(used)
            elif clause.data == "after":
                after = []
                for token in tokens(clause, "NAME"):
                    if str(token) in names:
                        after.append(str(token))
                        after_spans.setdefault(decl.name, {})[str(token)] = decl.span(token)
                    else:
                        good = False
                        ctx.unknown("step", str(token), decl.span(token), names)
                fields["after"] = tuple(after)
            elif clause.data == "minutes":
                minutes = int_token(tokens(clause, "NUMBER")[0], False, ctx, decl.file, "minutes")
                good = good and minutes is not None
                fields["minutes"] = minutes or 0
            else:
                when = typed_condition(trees(clause)[0], ctx, Scope(decl.file), "a step's `when`")
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
    steps: dict[str, Step], after_spans: dict[str, dict[str, Span]], ctx: Context
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


def _build_tests(decls: list[Decl], ctx: Context, rules: dict[str, Rule]) -> tuple[RuleTest, ...]:
    tests: list[RuleTest] = []
    seen: dict[str, Span] = {}
    for decl in decls:
        name_token = tokens(decl.node, "STRING")[0]
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
        scope = Scope(decl.file)
        given: list[GivenItem] = []
        good = True
        given_node = first_tree(decl.node, "given")
        keys: set[str] = set()
        for item in trees(given_node) if given_node is not None else []:
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
        for node in trees(decl.node):
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


def _given_item(item: Node, ctx: Context, scope: Scope) -> GivenItem | None:
    name_token = tokens(item, "NAME")[0]
    name = str(name_token)
    value_node = trees(item)[0]
    span = span_of(item, scope.file)
    if item.data == "given_qty":
        comp = ctx.components.get(name)
        if comp is None:
            if name not in ctx.broken_values:
                ctx.unknown("component", name, span_of(name_token, scope.file), ctx.components)
            return None
        ok, qty = literal_value(value_node, INT, ctx, scope.file, f"{name}.qty")
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
                    span_of(value_node, scope.file),
                    hint=f'write {name} = "<SKU>"' + (" or none" if comp.optional else ""),
                )
            )
            return None
        sku_token = tokens(value_node, "STRING")[0]
        literal = Literal_(
            value=unquote(sku_token), type=STRING, span=span_of(sku_token, scope.file)
        )
        before = len(ctx.diagnostics)
        check_sku(name, literal, ctx)
        if len(ctx.diagnostics) != before or literal.value in ctx.suppressed:
            return None
        return GivenItem(key=name, value=literal.value, span=span)
    if name in ctx.options:
        option = ctx.options[name]
        ok, value = literal_value(value_node, option.type, ctx, scope.file, f"option '{name}'")
        if not ok:
            return None
        if value not in option.values:
            ctx.report(
                error(
                    "E0601",
                    f"{value} is outside option '{name}' ({option.values[0]}..{option.values[-1]})",
                    span_of(value_node, scope.file),
                )
            )
            return None
        return GivenItem(key=name, value=value, span=span)
    if name not in ctx.broken_values:
        ctx.unknown(
            "component or option",
            name,
            span_of(name_token, scope.file),
            [*ctx.components, *ctx.options],
        )
    return None


def _expectation(
    node: Node, ctx: Context, scope: Scope, rules: dict[str, Rule]
) -> Expectation | None:
    span = span_of(node, scope.file)
    if node.data == "expect_valid":
        return Expectation(kind="valid", span=span)
    if node.data == "expect_invalid":
        because: list[str] = []
        good = True
        for token in tokens(node, "NAME"):
            if str(token) in rules:
                because.append(str(token))
            elif str(token) not in ctx.suppressed and str(token) not in ctx.broken_rules:
                good = False
                ctx.unknown("rule", str(token), span_of(token, scope.file), rules)
            else:
                good = False
        return Expectation(kind="invalid", because=tuple(because), span=span) if good else None
    if node.data == "expect_count":
        count = int_token(tokens(node, "NUMBER")[0], False, ctx, scope.file, "a count")
        return None if count is None else Expectation(kind="count", count=count, span=span)
    expr = typed_condition(trees(node)[0], ctx, scope, "an expectation")
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


def _assemble(units: list[Unit], ctx: Context) -> Model | None:
    decls = declarations(units, ctx)

    def of(kind: str) -> list[Decl]:
        return decls.get(kind, [])

    type_names: dict[str, Decl] = {}
    enums = _unique(of("enum_decl"), "enums and types", ctx, type_names)
    types = _unique(of("type_decl"), "enums and types", ctx, type_names)
    value_names: dict[str, Decl] = {}
    components = _unique(of("component"), "components and options", ctx, value_names)
    options = _unique(of("option"), "components and options", ctx, value_names)
    rule_decls = _unique(of("rule"), "rules", ctx, {})
    step_decls = _unique(of("step"), "steps", ctx, {})

    _build_enums(enums, ctx)
    _build_types(types, ctx, {d.name for d in types})
    build_parts(of("parts_inline"), of("parts_csv"), ctx)
    _build_options(options, ctx)
    _build_components(components, ctx)
    rules = _build_rules(rule_decls, ctx)
    steps = _build_steps(step_decls, ctx)
    tests = _build_tests(of("test"), ctx, rules)

    root = units[-1]
    product = root.product
    if any(d.is_error for d in ctx.diagnostics):
        return None
    strings = tokens(product, "STRING") if product is not None else []
    return Model(
        product=str(tokens(product, "NAME")[0]) if product is not None else None,
        title=unquote(strings[0]) if strings else None,
        product_span=span_of(product, root.source.name) if product is not None else None,
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


def _finish(ctx: Context, model: Model | None) -> LoadResult:
    unique: dict[tuple[str, str, Span | None, str], Diagnostic] = {}
    for d in ctx.diagnostics:
        unique.setdefault((d.code, d.message, d.span, d.severity), d)
    diagnostics = sorted(unique.values(), key=sort_key)
    return LoadResult(model, diagnostics, ctx.sources)


def load_file(path: str | Path) -> LoadResult:
    """Load a rule file and its imports; the model is None when there are errors."""
    return _load_file(Path(path))


def load_text(text: str, name: str = "<text>") -> LoadResult:
    """Load rule text that imports nothing (for tests, docs and the API)."""
    return _load_text(text, name)


NEARBY_FILES = 200  # rule files looked through for a declaration a file lacks


def _declared_nearby(ctx: Context, file: str, keyword: str, name: str) -> str | None:
    """A rule file beside `file` (or up to two folders below), not yet read, that declares
    `keyword name`: its path as an import of `file` would name it; None when there is
    none."""
    source = ctx.sources.get(file)
    if source is None or source.path is None:
        return None
    base = source.path.parent
    read = {s.path.resolve() for s in ctx.sources.values() if s.path is not None}
    declares = re.compile(rf"^\s*{keyword}\s+{re.escape(name)}\b", re.M)
    # beside it and two folders down at most (lib/, common/parts/): a rule file in a big
    # tree (a home folder) must not walk all of it
    nearby = itertools.chain.from_iterable(base.glob(p) for p in ("*.ato", "*/*.ato", "*/*/*.ato"))
    for candidate in sorted(itertools.islice(nearby, NEARBY_FILES)):
        if candidate.resolve() in read:
            continue
        try:
            text = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if declares.search(text):
            return candidate.relative_to(base).as_posix()
    return None


def _load_file(path: Path) -> LoadResult:
    ctx = Context()
    units = read_units(path, ctx)
    if not units:
        return _finish(ctx, None)
    return _finish(ctx, _assemble(units, ctx))


def _load_text(text: str, name: str) -> LoadResult:
    ctx = Context()
    unit = read_text(text, name, ctx)
    if unit is None:
        return _finish(ctx, None)
    return _finish(ctx, _assemble([unit], ctx))
