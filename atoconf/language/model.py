"""The built model: frozen pydantic nodes, each with the Span it came from."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from atoconf.language.source import Span

# A value in a part row, a default, an option or a test's `given`: int and
# Decimal are exact numbers, str is a string, an enum member or a SKU, a
# frozenset is a set of enum members, None is `none`.
Value = bool | int | Decimal | str | frozenset[str] | None

ValueKind = Literal["int", "decimal", "bool", "string", "enum", "set"]

# A value as expressions compute with it: numbers are exact Fractions.
Result = bool | Fraction | str | frozenset[str] | None


def exact(value: Value) -> Result:
    """A model value as an evaluation result (numbers become Fractions)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | frozenset):
        return value
    if isinstance(value, int | Decimal):
        return Fraction(value)
    raise TypeError(f"not a value: {value!r}")


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ValueType(Node):
    """The type of an attribute, an option or an expression."""

    kind: Literal["int", "decimal", "bool", "string", "enum", "set", "component", "none"]
    # the enum of an enum or set type; the part type of a component
    name: str | None = None

    def __str__(self) -> str:
        if self.kind == "enum":
            return f"{self.name}"
        if self.kind == "set":
            return f"set of {self.name}"
        if self.kind == "component":
            return f"component of type {self.name}"
        return self.kind

    @property
    def is_number(self) -> bool:
        return self.kind in ("int", "decimal")


INT = ValueType(kind="int")
DECIMAL = ValueType(kind="decimal")
BOOL = ValueType(kind="bool")
STRING = ValueType(kind="string")
NONE = ValueType(kind="none")


def shown(value: object) -> str:
    """A value as the rule language writes it: none, true, false, 12, AM5."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def enum_type(name: str) -> ValueType:
    return ValueType(kind="enum", name=name)


# ---- expressions -------------------------------------------------------------


class ExprNode(Node):
    span: Span
    type: ValueType


class Literal_(ExprNode):
    kind: Literal["literal"] = "literal"
    value: Value


class SetLiteral(ExprNode):
    kind: Literal["set"] = "set"
    items: tuple[Expr, ...]


class AttrRef(ExprNode):
    """`cpu.socket`: an attribute of the part a component chose."""

    kind: Literal["attr"] = "attr"
    component: str
    attr: str


class PartAttr(ExprNode):
    """A bare attribute inside `where`: the attribute of the part being filtered."""

    kind: Literal["part_attr"] = "part_attr"
    attr: str


class QtyRef(ExprNode):
    kind: Literal["qty"] = "qty"
    component: str


class ComponentRef(ExprNode):
    """A component itself: compared with a SKU or `none`, or counted as present."""

    kind: Literal["component"] = "component"
    component: str


class OptionRef(ExprNode):
    kind: Literal["option"] = "option"
    option: str


class Unary(ExprNode):
    kind: Literal["unary"] = "unary"
    op: Literal["not", "neg"]
    operand: Expr


class Binary(ExprNode):
    kind: Literal["binary"] = "binary"
    op: Literal["and", "or", "implies", "iff", "+", "-", "*", "/"]
    left: Expr
    right: Expr


class Compare(ExprNode):
    kind: Literal["compare"] = "compare"
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr


class In(ExprNode):
    kind: Literal["in"] = "in"
    element: Expr
    container: Expr


class IfThenElse(ExprNode):
    kind: Literal["if"] = "if"
    cond: Expr
    then: Expr
    else_: Expr


class Total(ExprNode):
    """`total(attr)`: the sum of qty * attr over the present components whose type has attr."""

    kind: Literal["total"] = "total"
    attr: str
    components: tuple[str, ...]


class Call(ExprNode):
    kind: Literal["call"] = "call"
    func: Literal["count", "exactly_one", "at_most_one", "at_least_one", "min", "max", "abs"]
    args: tuple[Expr, ...]


Expr = Annotated[
    Literal_
    | SetLiteral
    | AttrRef
    | PartAttr
    | QtyRef
    | ComponentRef
    | OptionRef
    | Unary
    | Binary
    | Compare
    | In
    | IfThenElse
    | Total
    | Call,
    Field(discriminator="kind"),
]


# ---- declarations ------------------------------------------------------------


class EnumDecl(Node):
    name: str
    members: tuple[str, ...]
    # where each member is written (empty for enums made by atoconf)
    member_spans: tuple[Span, ...] = ()
    span: Span


class Attribute(Node):
    name: str
    type: ValueType
    unit: str | None = None
    has_default: bool = False
    default: Value = None
    span: Span


class PartType(Node):
    name: str
    attributes: dict[str, Attribute]
    span: Span


class Part(Node):
    sku: str
    name: str
    type: str
    # every attribute of the type, defaults filled in
    values: dict[str, Value]
    span: Span


class Component(Node):
    name: str
    type: str
    qty_min: int = 1
    qty_max: int = 1
    optional: bool = False
    where: Expr | None = None
    # the SKUs of the type that pass `where`, in declaration order
    parts: tuple[str, ...]
    span: Span


class Option(Node):
    name: str
    kind: Literal["enum", "int", "bool"]
    # for enum options: the enum's name (inline enums are named after the option)
    enum: str | None = None
    values: tuple[Value, ...]
    default: Value = None
    has_default: bool = False
    span: Span

    @property
    def type(self) -> ValueType:
        if self.kind == "enum":
            return enum_type(self.enum or self.name)
        return INT if self.kind == "int" else BOOL


class Rule(Node):
    name: str
    description: str | None = None
    expr: Expr
    span: Span


class Step(Node):
    name: str
    title: str | None = None
    uses: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    minutes: int = 0
    when: Expr | None = None
    span: Span


class GivenItem(Node):
    """One choice in a test's `given`: `cpu = "SKU"`, `usage = gaming`, `memory.qty = 2`."""

    key: str
    value: Value
    span: Span


class Expectation(Node):
    kind: Literal["valid", "invalid", "holds", "count", "domain"]
    because: tuple[str, ...] = ()
    expr: Expr | None = None
    count: int | None = None
    # for `x in {...}`: the component, `name.qty` or option, and the exact domain
    target: str | None = None
    values: tuple[Value, ...] = ()
    span: Span


class RuleTest(Node):
    name: str
    given: tuple[GivenItem, ...] = ()
    expectations: tuple[Expectation, ...] = ()
    span: Span


class Model(Node):
    """A product with everything it imports, resolved and type-checked."""

    product: str | None
    title: str | None = None
    product_span: Span | None = None
    files: tuple[str, ...]
    enums: dict[str, EnumDecl]
    types: dict[str, PartType]
    parts: dict[str, Part]
    components: dict[str, Component]
    options: dict[str, Option]
    rules: dict[str, Rule]
    steps: dict[str, Step]
    tests: tuple[RuleTest, ...]
    # (sku, attribute) -> the value as a Result, converted on first use (converting
    # a Decimal is slow, and the engine reads the same values millions of times)
    _exact: dict[tuple[str, str], Result] = PrivateAttr(default_factory=dict)
    # what later stages compile from this model, kept with it (the engine's
    # CompiledModel); the language layer never reads it
    _engine: object = PrivateAttr(default=None)

    def part_value(self, sku: str, attr: str) -> Result:
        """A part's attribute as expressions compute with it."""
        # straight from pydantic's store of private attributes: `self._exact` goes
        # through BaseModel.__getattr__, ten times slower on this hot path
        exact_values: dict[tuple[str, str], Result] = self.__pydantic_private__["_exact"]  # type: ignore[index]
        try:
            return exact_values[(sku, attr)]
        except KeyError:
            value = exact_values[(sku, attr)] = exact(self.parts[sku].values[attr])
            return value

    def engine_slot(self) -> object:
        """What the engine keeps of this model (None until it compiles it)."""
        return self.__pydantic_private__["_engine"]  # type: ignore[index]

    def keep_for_engine(self, value: object) -> None:
        """Keep the engine's compiled form of this model with it."""
        self._engine = value

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy (with `update` applied) that compiles afresh: caches are not copied."""
        copied = super().model_copy(update=update, deep=deep)
        copied._engine = None
        copied._exact = {}
        return copied


for _node in (SetLiteral, Unary, Binary, Compare, In, IfThenElse, Call, Component, Rule, Step):
    _node.model_rebuild()
for _late in (Expectation, RuleTest, Model):
    _late.model_rebuild()
