"""What a change does to the valid assemblies, exactly: how many there are before and
after, and how many were lost (valid before, not after) and gained.

Both versions must have the same components and options (by name): an assembly is
then one choice for each, and the assemblies valid in both are counted on one model
made of the two (`common_model`): every component and option narrowed to the values
both versions have, the old version's rules beside the new version's, whose part
attributes it reads under other names. Lost is the old count less the common one;
gained, the new count less it. Soft defaults do not apply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from atoconf.changes.declarations import parsed_form
from atoconf.engine.clock import Clock, StopReason
from atoconf.engine.problem import compiled
from atoconf.engine.request import ResolvedRequest
from atoconf.engine.results import value_key
from atoconf.engine.ruletests import TEST_DEADLINE, run_test
from atoconf.engine.solve import count, domains
from atoconf.language.model import AttrRef, Expr, Model, PartAttr, PartType, Total, Value
from atoconf.language.source import SourceFile, Span

# the new version's part attributes in the common model: not a name a rule file can write
NEW = "__atoconf_new__"
_VALUE: TypeAdapter[Value] = TypeAdapter(Value)


@dataclass(frozen=True)
class Scope:
    """What a diff looks at: every assembly, or those a request allows: its choices
    (the same in both versions) and its requirements, each read by a version (so each
    reads that version's attribute values)."""

    select: Mapping[str, Value] = field(default_factory=dict)
    old_require: Sequence[Expr] = ()
    new_require: Sequence[Expr] = ()

    @staticmethod
    def of(old: ResolvedRequest, new: ResolvedRequest) -> Scope:
        """A request as each version resolved it (their choices are the same)."""
        return Scope(old.selects, [e for _, e in old.requires], [e for _, e in new.requires])


@dataclass(frozen=True)
class AssemblyCounts:
    """Valid assemblies before and after; lost and gained are None when the versions'
    components or options differ (then only the counts compare). `exact` is False
    when a count was stopped (by the deadline or the cap), and `stopped` says why."""

    old: int
    new: int
    lost: int | None
    gained: int | None
    exact: bool
    stopped: StopReason | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "lost": self.lost,
            "gained": self.gained,
            "exact": self.exact,
        } | ({"stopped": self.stopped} if self.stopped else {})


@dataclass(frozen=True)
class ValueChanges:
    """Values both versions declare for a component, quantity or option that no
    valid assembly of the new version takes any more (dead) or that one now takes
    while none of the old did (alive). `stopped` says why the lists may be short."""

    dead: list[tuple[str, Value]]
    alive: list[tuple[str, Value]]
    stopped: StopReason | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "dead": [{"choice": c, "value": _json_value(v)} for c, v in self.dead],
            "alive": [{"choice": c, "value": _json_value(v)} for c, v in self.alive],
        } | ({"stopped": self.stopped} if self.stopped else {})


def _json_value(value: Value) -> Any:
    return _VALUE.dump_python(value, mode="json")


def value_changes(
    old: Model, new: Model, clock: Clock | None = None, scope: Scope | None = None
) -> ValueChanges:
    """The values that became dead or came alive, per variable both versions have, in
    the new version's order (within a request's choices and requirements)."""
    clock = clock or Clock()
    scope = scope or Scope()
    before = domains(old, scope.select, scope.old_require, clock=clock)
    after = domains(new, scope.select, scope.new_require, clock=clock)
    stopped = before.stopped or after.stopped
    if stopped is not None:
        return ValueChanges([], [], stopped)
    declared_old = compiled(old).variables
    dead: list[tuple[str, Value]] = []
    alive: list[tuple[str, Value]] = []
    for name, variable in compiled(new).variables.items():
        was = declared_old.get(name)
        if was is None:
            continue
        both = {value_key(v) for v in was.domain}
        took = {value_key(v) for v in before.domains.get(name, [])}
        takes = {value_key(v) for v in after.domains.get(name, [])}
        for value in variable.domain:
            key = value_key(value)
            if key in both and key in took and key not in takes:
                dead.append((name, value))
            elif key in both and key not in took and key in takes:
                alive.append((name, value))
    return ValueChanges(dead, alive)


@dataclass(frozen=True)
class VerdictChange:
    """A test both versions have whose verdict differs: "pass" or "fail" in each."""

    name: str
    span: Span  # the test in the new version
    old: str
    new: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.span.file,
            "line": self.span.line,
            "old": self.old,
            "new": self.new,
        }


def verdict_changes(
    old: Model,
    new: Model,
    old_sources: Mapping[str, SourceFile],
    new_sources: Mapping[str, SourceFile],
    deadline: float = TEST_DEADLINE,
) -> list[VerdictChange]:
    """The tests (by name, in both versions) that pass in one version and fail in the
    other, in the new version's order; each test run as `atoconf test` runs it."""
    before = {t.name: t for t in old.tests}
    found = []
    for test in new.tests:
        was = before.get(test.name)
        if was is None:
            continue
        passed = run_test(old, was, old_sources, deadline).passed
        passes = run_test(new, test, new_sources, deadline).passed
        if passed != passes:
            found.append(VerdictChange(test.name, test.span, _verdict(passed), _verdict(passes)))
    return found


def _verdict(passed: bool) -> str:
    return "pass" if passed else "fail"


def same_choices(old: Model, new: Model) -> bool:
    """Whether an assembly of one version is a choice of the same things in the other."""
    return list(old.components) == list(new.components) and list(old.options) == list(new.options)


def assembly_counts(
    old: Model, new: Model, clock: Clock | None = None, scope: Scope | None = None
) -> AssemblyCounts:
    """Valid assemblies of each version and, with the same choices, lost and gained
    (within a request's choices and requirements)."""
    clock = clock or Clock()
    scope = scope or Scope()
    before = count(old, scope.select, scope.old_require, clock=clock)
    after = count(new, scope.select, scope.new_require, clock=clock)
    stopped = before.stopped or after.stopped
    if not same_choices(old, new):
        return AssemblyCounts(before.count, after.count, None, None, stopped is None, stopped)
    differ = changed_attributes(old, new)
    require = [*scope.old_require, *(read_new(e, differ) for e in scope.new_require)]
    both = count(common_model(old, new), scope.select, require, clock=clock)
    stopped = stopped or both.stopped
    if stopped is not None:
        return AssemblyCounts(before.count, after.count, None, None, False, stopped)
    return AssemblyCounts(
        before.count,
        after.count,
        before.count - both.count,
        after.count - both.count,
        True,
    )


def common_model(old: Model, new: Model) -> Model:
    """One model whose valid assemblies are those valid in both versions (which have
    the same choices): each choice narrowed to the values both offer
    (`common_choices`); the old rules hold and so do the new, reading the new
    version's attribute values (named NEW + name)."""
    differ = changed_attributes(old, new)
    both = reading_both(old, new, differ)
    within = common_choices(old, new)
    components = {}
    for name, was in both.components.items():
        now = new.components[name]
        low, high = max(was.qty_min, now.qty_min), min(was.qty_max, now.qty_max)
        kept = tuple(s for s in within[name] if s is not None) if low <= high else ()
        components[name] = was.model_copy(
            update={
                "parts": kept,
                "qty_min": low if low <= high else was.qty_min,
                "qty_max": high if low <= high else was.qty_min,
                "optional": None in within[name],
                "where": None,  # the parts both take, already chosen
            }
        )
    options = {
        name: option.model_copy(update={"values": tuple(within[name])})
        for name, option in both.options.items()
    }
    rules = dict(old.rules)
    held = {shape(rule.expr) for rule in old.rules.values()}
    for name, rule in new.rules.items():
        read = rule.model_copy(update={"expr": read_new(rule.expr, differ)})
        if shape(read.expr) not in held:  # a rule both versions hold once is enough
            rules[NEW + name] = read
    return both.model_copy(update={"components": components, "options": options, "rules": rules})


def reading_both(base: Model, other: Model, differ: set[str]) -> Model:
    """`base` with the parts both versions have carrying the other's values of the
    attributes in `differ` as well, under NEW + name; no steps or tests."""
    types: dict[str, PartType] = {}
    for name, declared in base.types.items():
        there = other.types.get(name)
        renamed = {
            NEW + a: attr.model_copy(update={"name": NEW + a})
            for a, attr in (there.attributes.items() if there is not None else ())
            if a in differ
        }
        types[name] = declared.model_copy(update={"attributes": {**declared.attributes, **renamed}})
    parts = {}
    for sku, part in base.parts.items():
        there_part = other.parts.get(sku)
        extra = {}
        if there_part is not None and there_part.type == part.type:
            extra = {NEW + k: v for k, v in there_part.values.items() if k in differ}
        parts[sku] = part.model_copy(update={"values": {**part.values, **extra}})
    return base.model_copy(
        update={
            "types": types,
            "parts": parts,
            "enums": dict(other.enums) | dict(base.enums),
            "steps": {},
            "tests": (),
        }
    )


def common_choices(old: Model, new: Model) -> dict[str, list[Value]]:
    """Per choice (component, its quantity, option), the values both versions offer,
    in the old version's order: the parts both let the component take (the same SKU
    and type), absent only where both make it optional; the quantities in both
    ranges; the option values both have."""
    out: dict[str, list[Value]] = {}
    for name, variable in compiled(old).variables.items():
        offered = offered_values(new, name)
        values = [v for v in variable.domain if value_key(v) in offered]
        comp, other = old.components.get(name), new.components.get(name)
        if comp is not None and other is not None:
            values = [
                v
                for v in values
                if v is None
                or (comp.type == other.type and old.parts[str(v)].type == new.parts[str(v)].type)
            ]
        out[name] = values
    return out


def offered_values(model: Model, name: str) -> set[Any]:
    """The values (as value keys) a version offers for a choice: its variable's domain;
    for a quantity that is no variable (a component of one fixed quantity), that
    quantity, and 0 when the component is optional; nothing for a choice it does
    not have."""
    variable = compiled(model).variables.get(name)
    if variable is not None:
        return {value_key(v) for v in variable.domain}
    owner = model.components.get(name.removesuffix(".qty"))
    if name.endswith(".qty") and owner is not None:
        absent = {value_key(0)} if owner.optional else set()  # an absent part's quantity
        return {value_key(owner.qty_min)} | absent
    return set()


def changed_attributes(old: Model, new: Model) -> set[str]:
    """The attributes the new version gives another value (or type) for some part both
    versions have, or declares anew: only those are read under NEW + name, so that a
    rule neither the change nor its attributes touch is the same rule in both."""
    changed: set[str] = set()
    for name, now in new.types.items():
        was = old.types.get(name)
        for attr, declared in now.attributes.items():
            if (
                was is None
                or attr not in was.attributes
                or was.attributes[attr].type != declared.type
            ):
                changed.add(attr)
    for sku, part in new.parts.items():
        before = old.parts.get(sku)
        if before is None:
            continue
        for attr, value in part.values.items():
            if attr not in before.values or value_key(before.values[attr]) != value_key(value):
                changed.add(attr)
    return changed


def read_new(node: Any, differ: set[str]) -> Any:
    """A node of the new version reading the attributes in `differ` under NEW + name."""
    if isinstance(node, tuple):
        return tuple(read_new(item, differ) for item in node)
    if not isinstance(node, BaseModel):
        return node
    updates: dict[str, Any] = {}
    for name in type(node).model_fields:
        value = getattr(node, name)
        if name == "attr" and isinstance(node, AttrRef | PartAttr | Total):
            if value in differ:
                updates[name] = NEW + value
        elif isinstance(value, BaseModel | tuple):
            updates[name] = read_new(value, differ)
    return node.model_copy(update=updates)


def shape(node: BaseModel) -> str:
    """An expression as text, without where it is written."""
    return json.dumps(parsed_form(node), sort_keys=True)
