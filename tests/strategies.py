"""Hypothesis strategies: small random products and requests, well typed by construction.

`random_models()` draws `(text, model)`: a product of 2-4 components over 1-3
part types, 0-2 options and 1-5 rules drawn from the whole expression language
(SPEC §1), small enough for the brute-force oracle (at most 3,000 assemblies
before the rules). The declarations are drawn and loaded first; the rules are
then drawn against that model, so every name, SKU and enum member they use
exists and every expression has the type its place needs.

`random_requests(model)` draws `(select, require)`: a selection of variables
(the oracle's vocabulary) and zero or one extra condition, as text.
`random_objectives(model)` draws numeric expression text to minimise or maximise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from atoconf.language.evaluate import Assembly, holds
from atoconf.language.model import Component, Model, ValueType
from atoconf.language.typecheck import typed_expression
from tests import oracle
from tests.conftest import load_model

# the settings of the property tests over random products: examples are slow to
# draw (each is a model loaded and walked by brute force), so no deadline
FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

MAX_PRODUCT = 3000

ENUMS = {
    "Color": ("red", "green", "blue"),
    "Shape": ("round", "square", "green"),  # `green` is in both: the other side decides
}
OPTION_MEMBERS = ("eco", "turbo", "green")

# The attribute pool. A name has one type in every part type, so total() is well
# typed. name -> (declared type, defaults to choose from, row values to choose from)
ATTRIBUTES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "price": ("decimal", ("1.5", "0"), ("0", "0.5", "1.25", "2", "3.75", "10.10")),
    "size": ("int", ("1", "0"), ("-2", "0", "1", "2", "3", "5", "8")),
    "watts": ("int", ("10",), ("0", "5", "10", "25")),
    "flag": ("bool", ("false", "true"), ("true", "false")),
    "color": ("Color", ("red", "Color.blue"), ("red", "green", "blue", "Color.green")),
    "shape": ("Shape", ("round",), ("round", "square", "green", "Shape.green")),
    "colors": (
        "set of Color",
        ("{red}", "{}"),
        ("{}", "{red}", "{green, blue}", "{red, green, blue}", "{Color.blue}"),
    ),
    "label": ("string", ('"a"',), ('"a"', '"b"', '"c"')),
}

COMPARE = ["==", "!=", "<", "<=", ">", ">="]
EQUALITY = ["==", "!="]

Draw = st.DrawFn
Form = Callable[[], str]


def _pick(draw: Draw, items: Sequence[str]) -> str:
    return draw(st.sampled_from(items))


# ---- declarations ---------------------------------------------------------------------------


def _option(draw: Draw, name: str) -> tuple[str, int]:
    """An option declaration and its number of values (at most 3)."""
    kind = _pick(draw, ["enum", "named", "int", "bool"])
    defaults: Sequence[str]
    if kind == "enum":
        members = draw(st.lists(st.sampled_from(OPTION_MEMBERS), min_size=2, unique=True))
        text, size, defaults = f"enum {{ {', '.join(members)} }}", len(members), members
    elif kind == "named":
        text, size, defaults = "Color", 3, ["red", "Color.blue"]
    elif kind == "int":
        low = draw(st.integers(-1, 1))
        high = low + draw(st.integers(0, 2))
        text, size, defaults = f"int {low}..{high}", high - low + 1, [str(low), str(high)]
    else:
        text, size, defaults = "bool", 2, ["true", "false"]
    if draw(st.booleans()):
        text += f" default {_pick(draw, defaults)}"
    return f"option {name}: {text}", size


def _part_type(draw: Draw, name: str) -> tuple[list[str], list[str], int]:
    """A type declaration and its parts: (lines, attribute names, number of parts)."""
    names = draw(st.lists(st.sampled_from(sorted(ATTRIBUTES)), min_size=1, max_size=5, unique=True))
    fields, required = [], []
    for attr in names:
        declared, defaults, _ = ATTRIBUTES[attr]
        if draw(st.integers(0, 3)) == 0:
            fields.append(f"  {attr}: {declared} default {_pick(draw, defaults)}")
        else:
            fields.append(f"  {attr}: {declared}")
            required.append(attr)
    rows = []
    n_parts = draw(st.integers(1, 4))
    for p in range(n_parts):
        given = [a for a in names if a in required or draw(st.booleans())]
        values = ", ".join(f"{a}={_pick(draw, ATTRIBUTES[a][2])}" for a in given)
        title = f' "part {p}"' if draw(st.integers(0, 3)) == 0 else ""
        rows.append(f'  "{name}-{p}"{title}: {values}')
    return [f"type {name} {{", *fields, "}", f"parts {name} {{", *rows, "}"], names, n_parts


def _where(draw: Draw, names: list[str]) -> str:
    """A filter on a part's own attributes."""
    attr = _pick(draw, names)
    declared = ATTRIBUTES[attr][0]
    if declared in ("int", "decimal"):
        return f"{attr} >= {_pick(draw, ['0', '1', '2'])}"
    if declared == "bool":
        return _pick(draw, [attr, f"not {attr}"])
    if declared == "Color":
        return f"{attr} != {_pick(draw, ['red', 'Color.blue'])}"
    if declared == "Shape":
        return f"{attr} != green"
    if declared == "set of Color":
        return f"green in {attr}"
    return f'{attr} != "a"'


@st.composite
def _declarations(draw: Draw) -> str:
    """Enums, types, parts, components and options: the product without its rules."""
    lines = ["product random"]
    lines += [f"enum {name} {{ {', '.join(members)} }}" for name, members in ENUMS.items()]
    # options first: their sizes (at most 3 x 3 = 9 values) bound the components'
    options, option_values = [], 1
    for i in range(draw(st.integers(0, 2))):
        text, size = _option(draw, f"o{i}")
        options.append(text)
        option_values *= size
    types: dict[str, tuple[list[str], int]] = {}
    for t in range(draw(st.integers(1, 3))):
        type_lines, names, n_parts = _part_type(draw, f"T{t}")
        lines += type_lines
        types[f"T{t}"] = (names, n_parts)
    budget, product = MAX_PRODUCT // option_values, 1
    n_components = draw(st.integers(2, 4))
    for c in range(n_components):
        type_name = _pick(draw, sorted(types))
        names, n_parts = types[type_name]
        qty = _pick(draw, ["", "", "", " qty 2", " qty 1..2", " qty 1..3", " qty 2..3"])
        optional = draw(st.booleans())
        low, high = (int(b) for b in qty.split()[-1].split("..")) if ".." in qty else (1, 1)
        choices = n_parts * (high - low + 1) + int(optional)
        # room for the components still to come, at 4 parts each: 4 ** 4 * 9 < 3000
        if product * choices * 4 ** (n_components - c - 1) > budget:
            qty, optional, choices = "", False, n_parts
        product *= choices
        where = f" where {_where(draw, names)}" if draw(st.integers(0, 9)) == 9 else ""
        lines.append(f"component c{c}: {type_name}{qty}{' optional' if optional else ''}{where}")
    return "\n".join([*lines, *options]) + "\n"


# ---- expressions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attr:
    component: str
    name: str
    type: ValueType

    @property
    def text(self) -> str:
        return f"{self.component}.{self.name}"


class Expressions:
    """Draws well-typed expression text against a built model.

    Compound expressions are parenthesised, so the text means what it was drawn
    as whatever the precedence; bare enum members appear only where the other
    side of a comparison (or the set of an `in`) fixes their enum."""

    def __init__(self, model: Model, draw: Draw) -> None:
        self.model = model
        self.draw = draw
        self.components = list(model.components)
        self.attrs = [
            _Attr(comp.name, attr.name, attr.type)
            for comp in model.components.values()
            for attr in model.types[comp.type].attributes.values()
        ]
        self.members: dict[str, tuple[str, ...]] = {n: e.members for n, e in model.enums.items()}
        for option in model.options.values():
            if option.enum is not None and option.enum not in self.members:
                self.members[option.enum] = tuple(str(v) for v in option.values)
        self.totals = sorted({a.name for a in self.attrs if a.type.is_number})

    # ---- helpers
    def pick(self, items: Sequence[str]) -> str:
        return _pick(self.draw, items)

    def chance(self, n: int) -> bool:
        """True about one time in n (hypothesis draws 0 more often than the rest)."""
        return self.draw(st.integers(0, n - 1)) == n - 1

    def choose(self, forms: list[tuple[int, Form]]) -> str:
        """Call one of the forms, drawn with the given weights."""
        n = self.draw(st.integers(0, sum(weight for weight, _ in forms) - 1))
        for weight, form in forms:
            if n < weight:
                return form()
            n -= weight
        raise AssertionError("unreachable")

    def attrs_of(self, kind: str, name: str | None = None) -> list[_Attr]:
        return [a for a in self.attrs if a.type.kind == kind and name in (None, a.type.name)]

    def options_of(self, vtype: ValueType) -> list[str]:
        return [o.name for o in self.model.options.values() if o.type == vtype]

    # ---- numbers
    def number(self, depth: int, division: bool = True) -> str:
        leaves: list[tuple[int, Form]] = [
            (3, lambda: self.pick(["0", "1", "2", "3", "5", "0.5", "1.25", "2.5"])),
            (2, lambda: f"{self.pick(self.components)}.qty"),
        ]
        numeric = [a.text for a in self.attrs if a.type.is_number]
        if numeric:
            leaves.append((4, lambda: self.pick(numeric)))
        ints = [o.name for o in self.model.options.values() if o.kind == "int"]
        if ints:
            leaves.append((3, lambda: self.pick(ints)))
        if self.totals:
            leaves.append((3, lambda: f"total({self.pick(self.totals)})"))
        if depth <= 0 or self.chance(3):
            return self.choose(leaves)
        d = depth - 1
        ops = ["+", "-", "*", "/"] if division else ["+", "-", "*"]
        return self.choose(
            [
                (
                    6,
                    lambda: (
                        f"({self.number(d, division)} {self.pick(ops)} {self.number(d, division)})"
                    ),
                ),
                (1, lambda: f"(-{self.number(d, division)})"),
                (2, lambda: f"{self.pick(['min', 'max'])}({self.numbers(d, division)})"),
                (2, lambda: f"abs({self.number(d, division)})"),
                (
                    2,
                    lambda: (
                        f"(if {self.boolean(d)} then {self.number(d, division)} "
                        f"else {self.number(d, division)})"
                    ),
                ),
                (2, lambda: f"count({self.countables(d)})"),
            ]
        )

    def variable_number(self) -> str:
        """A number that depends on the assembly: a quantity, an attribute, an option, a total."""
        sources = [f"{c}.qty" for c in self.components]
        sources += [a.text for a in self.attrs if a.type.is_number]
        sources += [o.name for o in self.model.options.values() if o.kind == "int"]
        sources += [f"total({name})" for name in self.totals]
        return self.pick(sources)

    def compare_numbers(self, depth: int) -> str:
        """A comparison of numbers; at least one side depends on the assembly."""
        left, right = self.variable_number(), self.number(depth)
        if depth > 0 and self.chance(2):
            left = self.number(depth)
        if self.chance(2):
            left, right = right, left
        return f"{left} {self.pick(COMPARE)} {right}"

    def numbers(self, depth: int, division: bool = True) -> str:
        n = self.draw(st.integers(1, 3))
        return ", ".join(self.number(depth, division) for _ in range(n))

    def countables(self, depth: int) -> str:
        """Arguments of count(), exactly_one() & co: components, bool options, conditions."""
        items: list[tuple[int, Form]] = [
            (2, lambda: self.pick(self.components)),
            (2, lambda: self.boolean(depth)),
            (1, lambda: self.pick(["true", "false"])),
        ]
        bools = self.options_of(ValueType(kind="bool"))
        if bools:
            items.append((1, lambda: self.pick(bools)))
        n = self.draw(st.integers(1, 3))
        return ", ".join(self.choose(items) for _ in range(n))

    # ---- enum values
    def member(self, enum: str, bare: bool) -> str:
        """A member of an enum: bare, or qualified when the enum is declared."""
        member = self.pick(self.members[enum])
        if bare or enum not in self.model.enums:
            return member
        return f"{enum}.{member}"

    def fixed_enums(self) -> list[str]:
        """Enums some expression takes its type from (an attribute or an option)."""
        return [
            enum
            for enum in sorted(self.members)
            if self.attrs_of("enum", enum) or self.options_of(ValueType(kind="enum", name=enum))
        ]

    def enum_value(self, enum: str, depth: int) -> str:
        """An expression of an enum that fixes its enum (not a bare member)."""
        sources = [a.text for a in self.attrs_of("enum", enum)]
        sources += self.options_of(ValueType(kind="enum", name=enum))
        forms: list[tuple[int, Form]] = []
        if sources:
            forms.append((4, lambda: self.pick(sources)))
        if enum in self.model.enums:
            forms.append((1, lambda: self.member(enum, bare=False)))
        if depth > 0 and sources:

            def branches() -> str:
                then = self.enum_value(enum, depth - 1)
                else_ = self.member(enum, bare=self.chance(2))
                if self.chance(2):
                    then, else_ = else_, then
                return f"(if {self.boolean(depth - 1)} then {then} else {else_})"

            forms.append((1, branches))
        return self.choose(forms)

    # ---- conditions
    def boolean(self, depth: int) -> str:
        attrs = [a.text for a in self.attrs]
        leaves: list[tuple[int, Form]] = [
            (2, self.none_compare),
            (4, lambda: self.compare_numbers(0)),
        ]
        if attrs:
            leaves.append((1, lambda: f"{self.pick(attrs)} {self.pick(EQUALITY)} none"))
            leaves.append((1, lambda: f"none {self.pick(EQUALITY)} {self.pick(attrs)}"))
        with_parts = [c for c in self.model.components.values() if c.parts]
        if with_parts:
            leaves.append((3, lambda: self.sku_compare(with_parts)))
        flags = [a.text for a in self.attrs_of("bool")] + self.options_of(ValueType(kind="bool"))
        if flags:
            leaves.append((3, lambda: self.pick(flags)))
        if self.fixed_enums():
            leaves.append((4, lambda: self.enum_compare(0)))
        if depth <= 0 or self.chance(5):
            return self.choose(leaves)
        d = depth - 1
        logic = ["and", "or", "->", "<->"]
        forms: list[tuple[int, Form]] = [
            (2, lambda: self.choose(leaves)),
            (5, lambda: f"({self.boolean(d)} {self.pick(logic)} {self.boolean(d)})"),
            (2, lambda: f"(not {self.boolean(d)})"),
            (2, lambda: f"(if {self.boolean(d)} then {self.boolean(d)} else {self.boolean(d)})"),
            (6, lambda: self.compare_numbers(depth)),
            (
                5,
                lambda: (
                    f"{self.pick(['exactly_one', 'at_most_one', 'at_least_one'])}"
                    f"({self.countables(d)})"
                ),
            ),
            (
                3,
                lambda: (
                    f"count({self.countables(d)}) {self.pick(['==', '>=', '<='])} "
                    f"{self.pick(['0', '1', '2'])}"
                ),
            ),
            (3, self.qty_compare),
            (2, lambda: f"{self.number(d)} in {{{self.numbers(0)}}}"),
            (2, self.component_in),
        ]
        if self.fixed_enums():
            forms += [(4, lambda: self.enum_compare(d)), (3, lambda: self.enum_in_literal(d))]
        if self.attrs_of("set"):
            forms += [(3, lambda: self.enum_in_set(d)), (1, self.set_compare)]
        if self.attrs_of("enum"):
            forms.append((1, self.attr_in_none))
        strings = [a.text for a in self.attrs_of("string")]
        if strings:
            forms.append(
                (1, lambda: f'{self.pick(strings)} {self.pick(EQUALITY)} "{self.pick("ab")}"')
            )
        comps = list(self.model.components.values())
        pairs = [(a, b) for a in comps for b in comps if a.name < b.name and a.type == b.type]
        if pairs:
            forms.append((1, lambda: self.component_pair(pairs)))
        return self.choose(forms)

    def none_compare(self) -> str:
        """`c == none` or `c != none`, mostly of components that may be absent."""
        optional = [c.name for c in self.model.components.values() if c.optional]
        if optional and not self.chance(8):
            return f"{self.pick(optional)} {self.pick(EQUALITY)} none"
        return f"{self.pick(self.components)} {self.pick(EQUALITY)} none"

    def qty_compare(self) -> str:
        """`c.qty` compared with a number inside its range, or one off."""
        comp = self.draw(st.sampled_from(list(self.model.components.values())))
        low = 0 if comp.optional else comp.qty_min
        qty = self.draw(st.integers(max(low - 1, 0), comp.qty_max + 1))
        return f"{comp.name}.qty {self.pick(COMPARE)} {qty}"

    def sku_compare(self, with_parts: list[Component]) -> str:
        comp = self.draw(st.sampled_from(with_parts))
        sku, op = self.pick(comp.parts), self.pick(EQUALITY)
        return f'{comp.name} {op} "{sku}"' if self.chance(2) else f'"{sku}" {op} {comp.name}'

    def component_pair(self, pairs: list[tuple[Component, Component]]) -> str:
        a, b = self.draw(st.sampled_from(pairs))
        return f"{a.name} {self.pick(EQUALITY)} {b.name}"

    def enum_compare(self, depth: int) -> str:
        enum = self.pick(self.fixed_enums())
        left = self.enum_value(enum, depth)
        if self.chance(2):
            right = self.member(enum, bare=self.chance(2))
        else:
            right = self.enum_value(enum, depth)
        if self.chance(2):
            left, right = right, left
        return f"{left} {self.pick(EQUALITY)} {right}"

    def enum_in_literal(self, depth: int) -> str:
        enum = self.pick(self.fixed_enums())
        n = self.draw(st.integers(1, 3))
        items = ", ".join(self.member(enum, bare=self.chance(2)) for _ in range(n))
        return f"{self.enum_value(enum, depth)} in {{{items}}}"

    def enum_in_set(self, depth: int) -> str:
        container = self.draw(st.sampled_from(self.attrs_of("set")))
        enum = container.type.name or ""
        if enum in self.fixed_enums() and self.chance(2):
            element = self.enum_value(enum, depth)
        else:
            element = self.member(enum, bare=self.chance(2))
        return f"{element} in {container.text}"

    def set_compare(self) -> str:
        left = self.draw(st.sampled_from(self.attrs_of("set")))
        enum = left.type.name or ""
        n = self.draw(st.integers(0, 2))
        literal = "{" + ", ".join(self.member(enum, bare=self.chance(2)) for _ in range(n)) + "}"
        right = self.pick([*(a.text for a in self.attrs_of("set", enum)), literal])
        return f"{left.text} {self.pick(EQUALITY)} {right}"

    def attr_in_none(self) -> str:
        """`c.attr in {none, ...}`: none in a set literal, for an attribute."""
        attr = self.draw(st.sampled_from(self.attrs_of("enum")))
        member = self.member(attr.type.name or "", bare=self.chance(2))
        return f"{attr.text} in {{none, {member}}}"

    def component_in(self) -> str:
        comp = self.draw(st.sampled_from(list(self.model.components.values())))
        items = [f'"{sku}"' for sku in comp.parts] + ["none"]
        chosen = self.draw(st.lists(st.sampled_from(items), min_size=1, max_size=3, unique=True))
        return f"{comp.name} in {{{', '.join(chosen)}}}"


# ---- models and requests ----------------------------------------------------------------------


@st.composite
def random_models(draw: Draw) -> tuple[str, Model]:
    """(text, model): a small random product that loads without errors."""
    head = draw(_declarations())
    skeleton = load_model(head, "random.ato")
    gen = Expressions(skeleton, draw)
    # Random rules rarely all hold at once. Most models get a witness: an
    # assembly drawn first, on which each rule is made to hold (negated if need be).
    witness: Assembly | None = None
    everything = oracle.valid_assemblies(skeleton)
    if everything and not gen.chance(4):
        witness = oracle.assembly_of(skeleton, draw(st.sampled_from(everything)))
    rules = []
    for i in range(draw(st.integers(1, 5))):
        condition = gen.boolean(draw(st.integers(0, 3)))
        if witness is not None:
            expr = typed_expression(skeleton, condition, "rule").value
            assert expr is not None, condition
            if not holds(skeleton, expr, witness):
                condition = f"not ({condition})"
        description = ' "a rule"' if gen.chance(4) else ""
        rules.append(f"rule r{i}{description}: {condition}")
    text = head + "\n".join(rules) + "\n"
    model = load_model(text, "random.ato")
    assert oracle.product_size(model) <= MAX_PRODUCT
    return text, model


@st.composite
def random_requests(draw: Draw, model: Model) -> tuple[dict[str, object], tuple[str, ...]]:
    """(select, require): up to 3 variables fixed to values of their declared
    domains, and zero or one extra condition as text (type it with
    `typecheck.typed_expression`)."""
    domains = {name: values for name, values in oracle.variables(model).items() if values}
    names = (
        draw(st.lists(st.sampled_from(sorted(domains)), max_size=3, unique=True)) if domains else []
    )
    select: dict[str, object] = {name: draw(st.sampled_from(domains[name])) for name in names}
    require: tuple[str, ...] = ()
    if draw(st.booleans()):
        require = (Expressions(model, draw).boolean(draw(st.integers(0, 2))),)
    return select, require


@st.composite
def random_objectives(draw: Draw, model: Model) -> str:
    """A numeric expression to minimise or maximise (without division)."""
    return Expressions(model, draw).number(draw(st.integers(0, 2)), division=False)
