"""What the operations answer, as pydantic models with their JSON shapes, and the
exact numbers they print."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from atoconf.engine.clock import Stopped
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.problem import (
    assembly_of,
    nodes,
)
from atoconf.language.model import (
    AttrRef,
    Expr,
    Literal_,
    Model,
    Total,
    Value,
)

JSON_VERSION = 1


class CountResult(BaseModel):
    """What `count` answers: the number of valid assemblies, exact unless `stopped`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = JSON_VERSION
    count: int
    exact: bool
    stopped: Stopped = None


class DomainsResult(BaseModel):
    """What `domains` answers: per choice, the values some valid assembly allows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = JSON_VERSION
    satisfiable: bool
    domains: dict[str, list[Value]]
    stopped: Stopped = None
    # per variable: "user" (the request fixed it), "rules" (the rules leave one
    # value), "open" (several values remain); not part of the JSON shape
    provenance: dict[str, Literal["user", "rules", "open"]] = {}

    def to_json(self) -> dict[str, Any]:
        """The JSON shape `--format json` prints (docs/json.md)."""
        return self.model_dump(mode="json", exclude={"provenance", "stopped"}) | (
            {"stopped": self.stopped} if self.stopped else {}
        )


class Chosen(BaseModel):
    """A present component in an assembly: its part and quantity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    qty: int


class AssemblyResult(BaseModel):
    """One valid assembly: every component (None when absent), every
    option, and the objective's value as an exact decimal string when there is one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    components: dict[str, Chosen | None]
    options: dict[str, bool | int | str]
    objective: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON shape `--format json` prints (docs/json.md)."""
        return self.model_dump(
            mode="json", exclude={"objective"} if self.objective is None else None
        )


class SolveResult(BaseModel):
    """A finished `solve`: the assemblies listed, and why the listing stopped early."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = JSON_VERSION
    assemblies: list[AssemblyResult]
    stopped: Stopped = None

    def to_json(self) -> dict[str, Any]:
        """The JSON shape `--format json` prints (docs/json.md)."""
        return {
            "version": self.version,
            "assemblies": [a.to_json() for a in self.assemblies],
            "stopped": self.stopped,
        }


def assembly_result(
    model: Model, values: Mapping[str, Value], objective: str | None = None
) -> AssemblyResult:
    """One assembly in its JSON shape."""
    assembly = assembly_of(model, values)
    components: dict[str, Chosen | None] = {}
    for name in model.components:
        sku, qty = assembly.components[name]
        components[name] = None if sku is None else Chosen(sku=sku, qty=qty)
    options = {k: v for k, v in assembly.options.items() if isinstance(v, bool | int | str)}
    return AssemblyResult(components=components, options=options, objective=objective)


def decimal_text(value: Fraction, places: int = 0) -> str:
    """An exact number as text: a decimal with at least `places` decimals when it has
    a finite one (299.00 stays 299.00), else p/q."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    digits = places
    while (value * 10**digits).denominator != 1:
        digits += 1
    scaled = value * 10**digits
    return format(Decimal(scaled.numerator).scaleb(-digits), "f")


def decimal_places(model: Model, objective: Expr | None = None) -> int:
    """The most decimals the values an objective reads are written with (its
    attributes' values and its literals; a total of whole numbers has none), or,
    without an objective, any decimal value of the model's parts."""
    if objective is None:
        return CompiledModel.of(model).get("decimal places", lambda: _decimal_places(model))
    kept = CompiledModel.of(model)
    places = 0
    for node in nodes(objective):
        if isinstance(node, Total | AttrRef):
            attr = node.attr
            found = kept.get(("decimal places", attr), partial(_decimal_places, model, attr))
            places = max(places, found)
        elif isinstance(node, Literal_) and isinstance(node.value, Decimal):
            places = max(places, _places(node.value))
    return places


def _decimal_places(model: Model, attr: str | None = None) -> int:
    places = 0
    for part in model.parts.values():
        for name, value in part.values.items():
            if isinstance(value, Decimal) and attr in (None, name):
                places = max(places, _places(value))
    return places


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def value_key(value: Value) -> tuple[type, Value]:
    """A value as a set member or dict key that keeps True apart from 1."""
    return (type(value), value)
