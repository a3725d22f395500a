"""Lint: what `atoconf check` finds in a model beyond errors.

Each lint is a function of the model returning warnings. The static ones read
the declarations; the others ask the solver and share one deadline: when it
passes, the lints not yet done are skipped and a W0311 says so. Declarations
in an imported library are judged across every product checked in the same
run: an enum member one product does not use may be another's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from atoconf.engine.clock import Clock, Stop
from atoconf.engine.explain import quickxplain
from atoconf.engine.problem import children, compiled, nodes
from atoconf.engine.results import value_key
from atoconf.engine.solve import domains, refutable, satisfiable
from atoconf.language.build import load_file
from atoconf.language.diagnostics import Diagnostic, Related, Severity, sort_key, warning
from atoconf.language.evaluate import absent_value
from atoconf.language.model import (
    AttrRef,
    Binary,
    ComponentRef,
    Expr,
    IfThenElse,
    Literal_,
    Model,
    OptionRef,
    QtyRef,
    Value,
    shown,
)
from atoconf.language.source import SourceFile, Span

LINT_DEADLINE = 10.0  # seconds the solver lints of one model share
# a lint that asks the solver: its warnings, one tick per unit of work (see lint_work)
SolverLint = Callable[["Model", "Clock", Callable[[], None]], Iterator[Diagnostic]]

_IGNORE = re.compile(r"#\s*atoconf:\s*ignore\[([A-Za-z0-9_,\s]+)\]")


@dataclass
class CheckResult:
    """What `atoconf check` found in a set of files."""

    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile]
    unreadable: bool = False
    models: list[Model] = field(default_factory=list)


def check_files(
    paths: Sequence[Path],
    lint: bool = True,
    deadline: float = LINT_DEADLINE,
    report: Callable[[int, int], None] | None = None,
) -> CheckResult:
    """Load, type-check and lint rule files; each diagnostic once, in file order, with
    the warnings that an `# atoconf: ignore[CODE]` comment silences left out.
    `report(done, total)` hears how far the lints are, in units of `lint_work`."""
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    seen: set[tuple[str, str, object]] = set()
    unreadable = False
    models: list[Model] = []
    seen_files: set[tuple[str, ...]] = set()

    def add(found: Iterable[Diagnostic]) -> None:
        for d in found:
            key = (d.code, d.message, d.span)
            if key not in seen:
                seen.add(key)
                diagnostics.append(d)

    for path in paths:
        result = load_file(path)
        sources.update(result.sources)
        unreadable = unreadable or any(d.code == "E0001" for d in result.diagnostics)
        add(result.diagnostics)
        model = result.model
        # a product given twice (or as itself and through a link) is linted once
        if model is not None and model.product is not None and model.files not in seen_files:
            seen_files.add(model.files)
            models.append(model)
    if lint:
        total = sum(lint_work(m) for m in models)
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if report is not None:
                report(done, total)

        found = []
        finished = 0
        for model in models:
            found.append(lint_model(model, deadline, tick))
            finished += lint_work(model)
            done = finished  # the work of lints that stopped early counts as done
            if report is not None:
                report(done, total)
        add(_across(models, found))
    kept = [d for d in diagnostics if not silenced(d, sources)]
    kept.sort(key=sort_key)
    return CheckResult(kept, sources, unreadable, models)


def _across(models: Sequence[Model], found: Sequence[list[Diagnostic]]) -> list[Diagnostic]:
    """Each model's warnings on its own file; a warning on an imported file only when
    every checked model that imports the file reports it."""
    out: list[Diagnostic] = []
    votes: dict[tuple[str, str, Span | None], int] = {}
    for model, warnings in zip(models, found, strict=True):
        for d in warnings:
            if d.span is None or d.span.file == model.files[-1]:
                out.append(d)
            else:
                key = (d.code, d.message, d.span)
                votes[key] = votes.get(key, 0) + 1
                if votes[key] == sum(d.span.file in m.files for m in models):
                    out.append(d)
    return out


def silenced(d: Diagnostic, sources: Mapping[str, SourceFile]) -> bool:
    """A warning with `# atoconf: ignore[CODE]` on any line of what it points at (the
    condition of a rule `fmt` wrote on two lines, say), or on a comment line right
    above it."""
    if d.severity is not Severity.WARNING or d.span is None or d.span.file not in sources:
        return False
    source = sources[d.span.file]
    lines = [source.line_text(n) for n in range(d.span.line, d.span.end_line + 1)]
    above = source.line_text(d.span.line - 1).strip() if d.span.line > 1 else ""
    if above.startswith("#"):
        lines.append(above)
    for line in lines:
        for match in _IGNORE.finditer(line):
            if d.code in {c.strip() for c in match.group(1).split(",")}:
                return True
    return False


# ---- the lints ---------------------------------------------------------------------------


def lint_work(model: Model) -> int:
    """The units of work of a model's solver lints, as they tick: the domains, then
    each rule twice (does it ever apply, is it redundant)."""
    return 1 + 2 * len(model.rules)


def lint_model(
    model: Model, deadline: float = LINT_DEADLINE, tick: Callable[[], None] = lambda: None
) -> list[Diagnostic]:
    """Every lint of one product model: the static ones, then those that solve (each
    unit of their work ticks once: `lint_work` units when none stops early)."""
    out: list[Diagnostic] = []
    for static in STATIC_LINTS:
        out += static(model)
    clock = Clock(deadline)
    for solving in SOLVER_LINTS:
        try:
            for found in solving(model, clock, tick):  # what comes before a Stop is kept
                out.append(found)
        except Stop:
            out.append(_stopped(model, solving, deadline))
            break
        if any(d.code == "W0301" for d in out):  # void: nothing more to say
            break
    return out


def _stopped(model: Model, lint: SolverLint, deadline: float) -> Diagnostic:
    what = {
        "_void_and_dead": "void model and dead choices",
        "_never_fires": "rules that never apply",
        "_redundant": "redundant rules",
    }.get(getattr(lint, "__name__", ""), "lints")
    return warning(
        "W0311",
        f"lint stopped at its {deadline:g} s deadline: {what} and the lints after "
        "them were not all checked",
        model.product_span,
        hint="raise it with `atoconf check --lint-deadline SECONDS`",
    )


def _unusable_parts(model: Model) -> list[Diagnostic]:
    """W0306: parts no component can choose (their type is used, but every component
    of it excludes them with `where`); W0310 covers types no component has."""
    usable = {sku for comp in model.components.values() for sku in comp.parts}
    used_types = {comp.type for comp in model.components.values()}
    out = []
    for part in model.parts.values():
        if part.sku in usable or part.type not in used_types:
            continue
        wheres = [c.name for c in model.components.values() if c.type == part.type]
        out.append(
            warning(
                "W0306",
                f"no component can use part '{part.sku}': the `where` of "
                f"{_names(wheres)} excludes it",
                part.span,
                hint="widen a component's `where`, or remove the part",
            )
        )
    return out


def _steps_using_nothing(model: Model) -> list[Diagnostic]:
    """W0307: a step that names an optional component (`fit_gpu`, "Fit the GPU") but
    uses none: it happens in every assembly, with the component or without it. A step
    that names none (packing, burn-in), or only components every assembly has,
    happens in every assembly on purpose or to the same effect."""
    out = []
    for step in model.steps.values():
        if step.uses:
            continue
        words = set(re.split(r"[^a-z0-9]+", f"{step.name} {step.title or ''}".lower()))
        named = [
            c.name for c in model.components.values() if c.optional and c.name.lower() in words
        ]
        if not named:
            continue
        out.append(
            warning(
                "W0307",
                f"step '{step.name}' names {_names(named)} but uses no component, so it "
                "happens in every assembly, with or without it",
                step.span,
                hint=f"add `uses {named[0]}` (a step is skipped when the components it "
                "uses are absent)",
            )
        )
    return out


def _expressions(model: Model) -> Iterable[Expr]:
    """Every expression the product's meaning depends on (tests excluded)."""
    yield from (rule.expr for rule in model.rules.values())
    yield from (c.where for c in model.components.values() if c.where is not None)
    yield from (s.when for s in model.steps.values() if s.when is not None)


def _unused_options(model: Model) -> list[Diagnostic]:
    read = {
        node.option
        for expr in _expressions(model)
        for node in nodes(expr)
        if isinstance(node, OptionRef)
    }
    return [
        warning(
            "W0308",
            f"option '{option.name}' is not read by any rule, `where` or step",
            option.span,
            hint="refer to it in a rule, or remove it if the choice changes nothing",
        )
        for option in model.options.values()
        if option.name not in read
    ]


def _unused_declarations(model: Model) -> list[Diagnostic]:
    """W0310: part types no component has and enums nothing uses; W0309: members of a
    used enum that no part, default, option or expression mentions."""
    used_types = {comp.type for comp in model.components.values()}
    used_enums = {o.enum or o.name for o in model.options.values() if o.kind == "enum"}
    for part_type in model.types.values():
        for attr in part_type.attributes.values():
            if attr.type.kind in ("enum", "set") and attr.type.name is not None:
                used_enums.add(attr.type.name)
    members: dict[str, set[str]] = {name: set() for name in model.enums}
    # an enum an option is declared with: every member is a value a customer can pick
    for option in model.options.values():
        if option.kind == "enum" and option.enum in members:
            members[option.enum].update(str(v) for v in option.values)
    for part_type in model.types.values():
        for attr in part_type.attributes.values():
            if attr.type.name in members and attr.has_default:
                members[attr.type.name].update(_strings(attr.default))
    for part in model.parts.values():
        attributes = model.types[part.type].attributes
        for name, value in part.values.items():
            enum_name = attributes[name].type.name
            if enum_name in members:
                members[enum_name].update(_strings(value))
    for expr in _expressions(model):
        for node in nodes(expr):
            if isinstance(node, Literal_) and node.type.name in members:
                members[node.type.name].update(_strings(node.value))
    out = []
    for part_type in model.types.values():
        if part_type.name not in used_types:
            out.append(
                warning(
                    "W0310",
                    f"no component has type '{part_type.name}', so none of its "
                    f"{len([p for p in model.parts.values() if p.type == part_type.name])} "
                    "parts can be used",
                    part_type.span,
                    hint=f"add `component <name>: {part_type.name}`, or remove the type",
                )
            )
    for enum in model.enums.values():
        if enum.name not in used_enums:
            out.append(
                warning(
                    "W0310",
                    f"enum '{enum.name}' is not the type of any attribute or option",
                    enum.span,
                    hint="remove it, or use it in a type or an option",
                )
            )
            continue
        spans = dict(zip(enum.members, enum.member_spans, strict=False))
        for member in enum.members:
            if member not in members[enum.name]:
                out.append(
                    warning(
                        "W0309",
                        f"member '{member}' of enum '{enum.name}' is used by no part, "
                        "option or rule",
                        spans.get(member, enum.span),
                        hint="remove it, or give a part that value",
                    )
                )
    return out


def _strings(value: Value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, frozenset | tuple | set):
        return {v for v in value if isinstance(v, str)}
    return set()


def _divisions_by_zero(model: Model) -> list[Diagnostic]:
    """W0312: a rule dividing by an attribute or a quantity that is 0 for some parts
    (or when its component is absent): with them the rule, and its negation, is false,
    so those assemblies are invalid without a word. Other divisors are not judged."""
    out = []
    for rule in model.rules.values():
        for node, guards in _divisions(rule.expr, frozenset()):
            zero = _zero_for(model, node.right, guards)
            if zero is None:
                continue
            out.append(
                warning(
                    "W0312",
                    f"rule '{rule.name}' divides by {zero[0]}, which is 0 {zero[1]}: "
                    "a division by zero makes the rule false, so those assemblies are "
                    "invalid",
                    node.span,
                    hint=f"guard the division (`{zero[0]} > 0 -> ...`), or give those "
                    "parts a value other than 0",
                )
            )
    return out


def _divisions(expr: Expr, guards: frozenset[str]) -> Iterator[tuple[Binary, frozenset[str]]]:
    """Each division with what is tested before it is reached: the right side of
    `and`, `or` and `->` is read only after the left, an `if`'s branches after its
    condition, so what those read (`cpu.threads > 0 -> ...`) guards the division."""
    if isinstance(expr, Binary) and expr.op in ("and", "or", "implies"):
        yield from _divisions(expr.left, guards)
        yield from _divisions(expr.right, guards | _read(expr.left))
        return
    if isinstance(expr, IfThenElse):
        yield from _divisions(expr.cond, guards)
        for branch in (expr.then, expr.else_):
            yield from _divisions(branch, guards | _read(expr.cond))
        return
    if isinstance(expr, Binary) and expr.op == "/":
        yield expr, guards
    for child in children(expr):
        yield from _divisions(child, guards)


def _read(expr: Expr) -> frozenset[str]:
    """What an expression reads: `cpu.threads`, `cpu.qty`, and `cpu` for `cpu != none`."""
    found = set()
    for node in nodes(expr):
        if isinstance(node, AttrRef):
            found.add(f"{node.component}.{node.attr}")
        elif isinstance(node, QtyRef):
            found.add(f"{node.component}.qty")
        elif isinstance(node, ComponentRef):
            found.add(node.component)
    return frozenset(found)


def _zero_for(model: Model, divisor: Expr, guards: frozenset[str]) -> tuple[str, str] | None:
    """The divisor as written and when it is 0 (`for parts A, B`, `when cpu is
    absent`) unless a test before the division reads it; None when it never is,
    or when this lint cannot tell."""
    if isinstance(divisor, Literal_):
        return (shown(divisor.value), "always") if divisor.value == 0 else None
    if isinstance(divisor, AttrRef | QtyRef) and _read(divisor) <= guards:
        return None
    # a test of the component itself (`gpu != none -> ...`) guards its absence only
    if isinstance(divisor, AttrRef):
        comp = model.components[divisor.component]
        zeros = [sku for sku in comp.parts if model.part_value(sku, divisor.attr) == 0]
        absent = (
            comp.optional
            and comp.name not in guards
            and absent_value(model, comp.name, divisor.attr) == 0
        )
        when = []
        if zeros:
            when.append(f"for {'part' if len(zeros) == 1 else 'parts'} {_listed(zeros)}")
        if absent:
            when.append(f"when {comp.name} is absent")
        return (f"{divisor.component}.{divisor.attr}", " and ".join(when)) if when else None
    if isinstance(divisor, QtyRef):
        comp = model.components[divisor.component]
        if (comp.qty_min == 0 or comp.optional) and comp.name not in guards:
            return (f"{comp.name}.qty", f"when {comp.name} is absent")
    return None


def _listed(skus: Sequence[str], most: int = 5) -> str:
    more = f" and {len(skus) - most} more" if len(skus) > most else ""
    return ", ".join(skus[:most]) + more


STATIC_LINTS: tuple[Callable[[Model], list[Diagnostic]], ...] = (
    _unusable_parts,
    _divisions_by_zero,
    _steps_using_nothing,
    _unused_options,
    _unused_declarations,
)


# ---- lints that solve --------------------------------------------------------------------


def _void_and_dead(model: Model, clock: Clock, tick: Callable[[], None]) -> Iterator[Diagnostic]:
    """W0301 when no assembly is valid; else W0302/W0303 for each choice of a component
    or an option that no valid assembly makes."""
    found = domains(model, clock=clock)
    tick()
    if found.stopped is not None:
        raise Stop(found.stopped)
    if not found.satisfiable:
        conflict = _conflict(model, {}, clock)
        related = [
            Related(message=f"rule '{name}' is part of the conflict", span=model.rules[name].span)
            for name in conflict
        ]
        span = model.product_span
        message = "no assembly satisfies every rule: the model is void"
        hint = (
            f"these rules cannot all hold: {', '.join(conflict)}" if conflict else "check the rules"
        )
        yield Diagnostic(
            code="W0301",
            severity=Severity.WARNING,
            message=message,
            span=span,
            hint=hint,
            related=tuple(related),
        )
        return
    variables = compiled(model).variables
    dead_in: dict[str, list[str]] = {}
    live: set[str] = set()
    for comp in model.components.values():
        valid = found.domains.get(comp.name, [])
        for sku in comp.parts:
            if sku in valid:
                live.add(sku)
            else:
                dead_in.setdefault(sku, []).append(comp.name)
        if comp.optional and None not in valid:
            yield (
                warning(
                    "W0302",
                    f"component '{comp.name}' is optional, but every valid assembly has one",
                    comp.span,
                    hint="drop `optional`, or find the rule that forces it",
                )
            )
        qty = f"{comp.name}.qty"
        if qty in found.domains:
            unused = [q for q in variables[qty].domain if q and q not in found.domains[qty]]
            if unused:
                yield (
                    warning(
                        "W0302",
                        f"no valid assembly has {_names([str(q) for q in unused])} of "
                        f"'{comp.name}' (qty {comp.qty_min}..{comp.qty_max})",
                        comp.span,
                        hint="narrow the quantity range to what the rules allow",
                    )
                )
    for sku, components in dead_in.items():
        if sku in live:
            continue
        part = model.parts[sku]
        yield (
            warning(
                "W0302",
                f"part '{sku}' is dead: {_names(components)} may choose it, but no valid "
                "assembly does",
                part.span,
                hint=_why_dead(model, components[0], sku, clock),
            )
        )
    for option in model.options.values():
        valid_keys = {value_key(v) for v in found.domains.get(option.name, [])}
        never = [v for v in option.values if value_key(v) not in valid_keys]
        if never:
            yield (
                warning(
                    "W0303",
                    f"option '{option.name}' can never be {_names([shown(v) for v in never])}",
                    option.span,
                    hint="remove the value, or relax the rules that exclude it"
                    + _because(_conflict(model, {option.name: never[0]}, clock)),
                )
            )


def _why_dead(model: Model, component: str, sku: str, clock: Clock) -> str:
    conflict = _conflict(model, {component: sku}, clock)
    return "remove the part, or relax the rules that exclude it" + _because(conflict)


def _because(conflict: list[str]) -> str:
    return f": {', '.join(conflict)}" if conflict else ""


def _never_fires(model: Model, clock: Clock, tick: Callable[[], None]) -> Iterator[Diagnostic]:
    """W0305: implications whose premise no assembly satisfies under the other rules."""
    for rule in model.rules.values():
        tick()
        if not isinstance(rule.expr, Binary) or rule.expr.op != "implies":
            continue
        others = [name for name in model.rules if name != rule.name]
        if not satisfiable(model, {}, [rule.expr.left], others, clock):
            yield (
                warning(
                    "W0305",
                    f"rule '{rule.name}' never applies: no valid assembly meets its premise",
                    rule.span,
                    hint="check the condition before `->`; as written the rule does nothing",
                )
            )


def _redundant(model: Model, clock: Clock, tick: Callable[[], None]) -> Iterator[Diagnostic]:
    """W0304: rules the other rules imply. Checked last to first, each redundant rule
    left out of the later checks, so that of two copies only the second is reported
    and every reported rule can be removed together."""
    kept = list(model.rules)
    for rule in reversed(list(model.rules.values())):
        tick()
        if isinstance(rule.expr, Binary) and rule.expr.op == "implies":
            others = [n for n in kept if n != rule.name]
            if not satisfiable(model, {}, [rule.expr.left], others, clock):
                continue  # W0305 already says it
        others = [n for n in kept if n != rule.name]
        if refutable(model, {}, rule.expr, others, clock):
            continue
        kept.remove(rule.name)
        implied_by = _implying(model, rule.expr, others, clock)
        yield (
            Diagnostic(
                code="W0304",
                severity=Severity.WARNING,
                message=f"rule '{rule.name}' is redundant: "
                + (
                    f"it follows from {_names(implied_by)}"
                    if implied_by
                    else "it holds in every assembly"
                ),
                span=rule.span,
                hint="remove it, or keep it on purpose with `# atoconf: ignore[W0304]` "
                "on any line of the rule",
                related=tuple(
                    Related(message=f"'{name}' is declared here", span=model.rules[name].span)
                    for name in implied_by
                ),
            )
        )


def _implying(model: Model, expr: Expr, rules: list[str], clock: Clock) -> list[str]:
    """A minimal set of `rules` that imply `expr`."""
    return _minimal(rules, lambda subset: refutable(model, {}, expr, subset, clock))


def _conflict(model: Model, select: dict[str, Value], clock: Clock) -> list[str]:
    """A minimal set of the model's rules that rejects `select` (all of them: none)."""
    rules = list(model.rules)
    return _minimal(rules, lambda subset: satisfiable(model, select, [], subset, clock))


def _minimal(rules: list[str], consistent: Callable[[list[str]], bool]) -> list[str]:
    """A minimal subset of `rules` that is not `consistent` (QuickXplain), in their order."""
    found = quickxplain(lambda subset: consistent(list(subset)), frozenset(), rules)
    return [] if found is None else [name for name in rules if name in found]


SOLVER_LINTS: tuple[SolverLint, ...] = (
    _void_and_dead,
    _never_fires,
    _redundant,
)


# ---- helpers -----------------------------------------------------------------------------


def _names(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


__all__ = ["LINT_DEADLINE", "CheckResult", "check_files", "lint_model", "silenced"]
