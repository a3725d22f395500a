"""The operations on valid assemblies: solve, count, domains (SPEC §2)."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from atoconf.engine.clock import Clock, Stop, StopReason
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.counting import count_solutions
from atoconf.engine.problem import (
    Bound,
    Check,
    Compiled,
    Origin,
    assembly_of,
    check_holds,
    checks_for,
    compiled,
    nodes,
    scope_of,
    solutions,
)
from atoconf.engine.propagate import Interval, Scope, abstract, may_hold, qty_var
from atoconf.engine.sweep import (
    PathCheck,
    PathCost,
    Unsupported,
    build_graphs,
    count_of,
    supported_in,
    whole_space_graphs,
    within_outer,
)
from atoconf.language.evaluate import Assembly, evaluate, holds, part_value
from atoconf.language.model import (
    BOOL,
    Binary,
    Compare,
    Expr,
    IfThenElse,
    Model,
    Total,
    Unary,
    Value,
)

JSON_VERSION = 1
GRAPH_SEARCH_CAP = 200_000  # steps of A* on a decision graph before falling back
QUICK_SEARCH_STEPS = 5_000  # steps of search before `satisfiable` turns to the graph
COMBINED = 1000  # combinations of independent groups' best assemblies ranked together
Stopped = StopReason | None


class CountResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = JSON_VERSION
    count: int
    exact: bool
    stopped: Stopped = None


class DomainsResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = JSON_VERSION
    satisfiable: bool
    domains: dict[str, list[Value]]
    stopped: Stopped = None
    # per variable: "user" (the request fixed it), "rules" (the rules leave one
    # value), "open" (several values remain); not part of the JSON shape
    provenance: dict[str, Literal["user", "rules", "open"]] = {}

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"provenance", "stopped"}) | (
            {"stopped": self.stopped} if self.stopped else {}
        )


# ---- the request as solver input -------------------------------------------------------


class _Setup:
    """A model's compiled problem narrowed by one request."""

    def __init__(
        self,
        model: Model,
        select: Mapping[str, Value],
        require: Sequence[Expr],
        prune: bool = True,
        rules: Collection[str] | None = None,
        allowed: Mapping[str, Collection[Value]] | None = None,
    ) -> None:
        self.model = model
        self.comp: Compiled = compiled(model)
        domains = {name: list(values) for name, values in self.comp.domains.items()}
        for name, values in (allowed or {}).items():  # stock: what the shelves can give
            keys = {value_key(v) for v in values}
            domains[name] = [v for v in domains[name] if value_key(v) in keys]
        for name, value in select.items():
            if name not in domains:  # the quantity of a component with a fixed quantity
                owner = name.removesuffix(".qty")
                comp = model.components[owner]
                wanted = (None,) if value == 0 else () if value != comp.qty_min else None
                if wanted is None:
                    domains[owner] = [s for s in domains[owner] if s is not None]
                else:
                    domains[owner] = [s for s in domains[owner] if s in wanted]
                continue
            domains[name] = [v for v in domains[name] if v == value and type(v) is type(value)]
        # a chosen part or quantity also settles the other half of the component
        for name, var in self.comp.variables.items():
            if var.kind == "qty" and name in select and select[name] != 0:
                domains[var.owner] = [s for s in domains[var.owner] if s is not None]
        self.select = dict(select)
        self.requires = bool(require)
        requires = [(Origin("request", f"require[{i}]"), expr) for i, expr in enumerate(require)]
        own = self.comp.checks
        if rules is not None:  # only these of the model's rules (explanations)
            own = tuple(c for c in own if c.origin.kind != "rule" or c.origin.name in rules)
        checks = [*own, *checks_for(model, requires, domains)]
        # a rule that reads no variable holds or fails for every assembly
        if any(not check_holds(model, c, {}) for c in checks if not c.scope):
            domains = {name: [] for name in domains}
        self.checks: list[Check] = [c for c in checks if c.scope]
        self.domains = domains
        self.pruned = False
        if prune:
            self.prune()

    def prune(self) -> None:
        """Arc consistency: drop values no completion can use (once). Tables are revised a
        class at a time; narrow expressions by their bounds. Wide checks (sums over
        every component) are left to the search's own bounds reasoning: probing each
        of their values here costs more than it saves."""
        if self.pruned:
            return
        self.pruned = True
        narrow = [c for c in self.checks if c.allowed is not None or len(c.scope) <= 3]
        watching: dict[str, list[int]] = {}
        for n, check in enumerate(narrow):
            for var in check.scope:
                watching.setdefault(var, []).append(n)
        # a check is revised again only when a domain it reads has shrunk; a table
        # keeps the rows still alive, which only ever shrink
        alive: dict[int, Sequence[tuple[int, ...]]] = {}
        queue = list(range(len(narrow)))
        queued = set(queue)
        while queue:
            n = queue.pop(0)
            queued.discard(n)
            check = narrow[n]
            uses: list[set[int]] = []
            if check.allowed is not None:
                full = self.comp.domains
                if n not in alive and all(
                    len(self.domains[v]) == len(full[v]) for v in check.scope
                ):
                    # untouched by the request: the same answer for every request
                    rows, uses = self._on_full_domains(check)
                else:
                    present = [
                        {check.classes[j][x] for x in self.domains[v]}
                        for j, v in enumerate(check.scope)
                    ]
                    start = alive.get(n, check.allowed)
                    rows = [r for r in start if all(c in present[j] for j, c in enumerate(r))]
                    uses = [{r[i] for r in rows} for i in range(len(check.scope))]
                alive[n] = rows
            for i, var in enumerate(check.scope):
                if check.allowed is not None:
                    used = uses[i]
                    keep = [v for v in self.domains[var] if check.classes[i][v] in used]
                else:
                    keep = [v for v in self.domains[var] if self._supported(check, var, v)]
                if len(keep) != len(self.domains[var]):
                    self.domains[var] = keep
                    if not keep:
                        return
                    for other in watching[var]:
                        if other != n and other not in queued:
                            queue.append(other)
                            queued.add(other)

    def _on_full_domains(self, check: Check) -> tuple[Sequence[tuple[int, ...]], list[set[int]]]:
        """A table's rows whose classes all occur in the model's full domains, and the
        classes they use per position: the same for every request, so worked out once
        per model for the model's own rules."""
        assert check.allowed is not None
        allowed = check.allowed

        def on_full_domains() -> tuple[list[tuple[int, ...]], list[set[int]]]:
            full = self.comp.domains
            present = [
                {check.classes[j][x] for x in full[v] if x in check.classes[j]}
                for j, v in enumerate(check.scope)
            ]
            rows = [r for r in allowed if all(c in present[j] for j, c in enumerate(r))]
            return rows, [{r[i] for r in rows} for i in range(len(check.scope))]

        if any(check is c for c in self.comp.checks):  # the check lives as long as the model
            return CompiledModel.of(self.model).get(("full rows", id(check)), on_full_domains)
        return on_full_domains()

    def _supported(self, check: Check, var: str, value: Value) -> bool:
        assert check.expr is not None
        return may_hold(Scope(self.model, {var: value}, self.domains), check.expr)

    @property
    def satisfiable_so_far(self) -> bool:
        return all(self.domains[v] for v in self.comp.variables)

    def parts(self) -> list[list[str]]:
        """Independent groups of variables: no check links two groups."""
        parent = {v: v for v in self.comp.variables}

        def find(v: str) -> str:
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        for check in self.checks:
            for other in check.scope[1:]:
                parent[find(other)] = find(check.scope[0])
        groups: dict[str, list[str]] = {}
        for v in self.comp.variables:
            groups.setdefault(find(v), []).append(v)
        return list(groups.values())

    def checks_within(self, names: Sequence[str]) -> list[Check]:
        wanted = set(names)
        return [c for c in self.checks if set(c.scope) <= wanted]

    def iterate(
        self, clock: Clock, bound: Bound | None = None, only: Sequence[str] | None = None
    ) -> Iterator[dict[str, Value]]:
        if not self.satisfiable_so_far:
            return iter(())
        return solutions(self.comp, self.domains, self.checks, clock, bound, only)


class Chosen(BaseModel):
    """A present component in an assembly: its part and quantity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    qty: int


class AssemblyResult(BaseModel):
    """One valid assembly (SPEC §2): every component (None when absent), every
    option, and the objective's value as an exact decimal string when there is one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    components: dict[str, Chosen | None]
    options: dict[str, bool | int | str]
    objective: str | None = None

    def to_json(self) -> dict[str, Any]:
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
        return {
            "version": self.version,
            "assemblies": [a.to_json() for a in self.assemblies],
            "stopped": self.stopped,
        }


def assembly_result(
    model: Model, values: Mapping[str, Value], objective: str | None = None
) -> AssemblyResult:
    """One assembly in the SPEC §2 shape."""
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


def decimal_places(model: Model) -> int:
    """The most decimals any decimal value in the model's parts is written with."""
    return CompiledModel.of(model).get("decimal places", lambda: _decimal_places(model))


def _decimal_places(model: Model) -> int:
    places = 0
    for part in model.parts.values():
        for value in part.values.values():
            if isinstance(value, Decimal):
                exponent = value.as_tuple().exponent
                if isinstance(exponent, int):
                    places = max(places, -exponent)
    return places


def witness(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr],
    rules: Collection[str] | None,
    clock: Clock,
    allowed: Mapping[str, Collection[Value]] | None = None,
) -> dict[str, Value] | None:
    """One valid assignment under the request and (only) the named rules, with
    variables narrowed to `allowed`; None when there is none."""
    setup = _Setup(model, select, require, rules=rules, allowed=allowed)
    if not setup.satisfiable_so_far:
        return None
    return next(setup.iterate(clock), None)


def satisfiable(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr],
    rules: Collection[str] | None,
    clock: Clock,
    allowed: Mapping[str, Collection[Value]] | None = None,
) -> bool:
    """Whether `witness` would find an assignment. Each independent group is decided on
    its decision graph where it fits: a search has to exhaust a group to prove it
    empty (slow when a sum's bound is only seen late), the graph does not. A short
    search goes first, as it usually finds an assembly in a few steps when one exists."""
    setup = _Setup(model, select, require, rules=rules, allowed=allowed)
    if not setup.satisfiable_so_far:
        return False
    for group in sorted(setup.parts(), key=len):
        checks = setup.checks_within(group)
        if not checks:
            continue
        quick = clock.capped(QUICK_SEARCH_STEPS)
        try:
            found = next(setup.iterate(quick, only=group), None)
        except Stop as stop:
            if stop.reason == "deadline":
                raise
        else:
            if found is None:
                return False
            continue
        try:
            built = build_graphs(model, group, setup.domains, checks, clock)
            if count_of(built, clock) == 0:
                return False
            continue
        except Unsupported:
            pass
        if next(setup.iterate(clock, only=group), None) is None:
            return False
    return True


_FLIPPED: dict[str, Literal["==", "!=", "<", "<=", ">", ">="]] = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
}


def negated(expr: Expr) -> Expr:
    """`not expr`, pushed inward through and/or/implies onto the comparisons, where
    the bounds reasoning sees it (`not (total(x) >= 9)` is `total(x) < 9`). Exact
    only where nothing divides: a division by zero makes both an expression and
    its negation fail (see `refutation`)."""
    if isinstance(expr, Compare):
        return expr.model_copy(update={"op": _FLIPPED[expr.op]})
    if isinstance(expr, Unary) and expr.op == "not":
        return expr.operand
    if isinstance(expr, Binary) and expr.op in ("and", "or"):
        op = "or" if expr.op == "and" else "and"
        left, right = negated(expr.left), negated(expr.right)
        return expr.model_copy(update={"op": op, "left": left, "right": right})
    if isinstance(expr, Binary) and expr.op == "implies":
        return expr.model_copy(update={"op": "and", "right": negated(expr.right)})
    return Unary(op="not", operand=expr, span=expr.span, type=BOOL)


def _divides(expr: Expr) -> bool:
    return any(isinstance(n, Binary) and n.op == "/" for n in nodes(expr))


def refutation(
    model: Model,
    select: Mapping[str, Value],
    expr: Expr,
    rules: Collection[str] | None,
    clock: Clock,
) -> dict[str, Value] | None:
    """A valid assignment (under only the named rules) where `expr` does not hold;
    None when it holds in all of them."""
    if not _divides(expr):
        return witness(model, select, [negated(expr)], rules, clock)
    # "does not hold" includes dividing by zero, which no condition can say: walk
    setup = _Setup(model, select, [], rules=rules)
    for values in setup.iterate(clock):
        if not holds(model, expr, assembly_of(model, values)):
            return values
    return None


def refutable(
    model: Model,
    select: Mapping[str, Value],
    expr: Expr,
    rules: Collection[str] | None,
    clock: Clock,
) -> bool:
    """Whether `refutation` would find an assignment (decided on the decision graphs
    where they fit, see `satisfiable`)."""
    if not _divides(expr):
        return satisfiable(model, select, [negated(expr)], rules, clock)
    return refutation(model, select, expr, rules, clock) is not None


# ---- soft defaults ---------------------------------------------------------------------------


def with_defaults(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr] = (),
    clock: Clock | None = None,
) -> dict[str, Value]:
    """The request plus each option default, in declaration order, that some valid
    assembly still agrees with (a default never makes a request unsatisfiable)."""
    clock = clock or Clock()

    def agrees(trial: dict[str, Value]) -> bool:
        return next(_Setup(model, trial, require).iterate(clock), None) is not None

    return each_default(model, select, agrees)


def each_default(
    model: Model, select: Mapping[str, Value], agrees: Callable[[dict[str, Value]], bool]
) -> dict[str, Value]:
    """The request plus each option default, in declaration order, that `agrees` with
    the choices so far; a search stopped by its deadline ends the walk there."""
    chosen = dict(select)
    for option in model.options.values():
        if option.name in chosen or not option.has_default:
            continue
        trial = {**chosen, option.name: option.default}
        try:
            if agrees(trial):
                chosen = trial
        except Stop:
            break
    return chosen


# ---- solve ---------------------------------------------------------------------------------


def solve(
    model: Model,
    select: Mapping[str, Value] | None = None,
    require: Sequence[Expr] = (),
    minimize: Expr | None = None,
    maximize: Expr | None = None,
    limit: int | None = None,
    clock: Clock | None = None,
    defaults: bool = False,
    allowed: Mapping[str, Collection[Value]] | None = None,
) -> Solutions:
    """Valid assemblies, streamed in a deterministic order; best first with an objective.
    `allowed` narrows variables to the given values (a constraint, like a select).
    The defaults and the search share the clock; when it stops them, the stream ends
    and says why in its `stopped`."""
    return Solutions(
        _solve(
            model,
            dict(select or {}),
            require,
            minimize,
            maximize,
            limit,
            clock or Clock(),
            defaults,
            allowed,
        )
    )


class Solutions(Iterator[AssemblyResult]):
    """A stream of assemblies; `stopped` says why it ended early (None: it did not)."""

    def __init__(self, stream: Iterator[AssemblyResult]) -> None:
        self._stream = stream
        self.stopped: Stopped = None

    def __next__(self) -> AssemblyResult:
        try:
            return next(self._stream)
        except Stop as stop:
            self.stopped = stop.reason
            raise StopIteration from None


def _solve(
    model: Model,
    select: dict[str, Value],
    require: Sequence[Expr],
    minimize: Expr | None,
    maximize: Expr | None,
    limit: int | None,
    clock: Clock,
    defaults: bool,
    allowed: Mapping[str, Collection[Value]] | None,
) -> Iterator[AssemblyResult]:
    if limit is not None and limit <= 0:
        return
    if defaults:
        select = with_defaults(model, select, require, clock)
    setup = _Setup(model, select, require, allowed=allowed)
    objective = minimize if minimize is not None else maximize
    produced = 0
    if objective is None:
        for values in setup.iterate(clock):
            yield assembly_result(model, values)
            produced += 1
            if limit is not None and produced >= limit:
                return
        return
    sense_min = minimize is not None
    places = decimal_places(model)
    ranked = _ranked_by_sweep(setup, objective, sense_min, clock)
    if ranked is None:
        ranked = _ranked_by_bounds(setup, objective, sense_min, clock)
    for value, values in ranked:
        yield assembly_result(model, values, decimal_text(value, places))
        produced += 1
        if limit is not None and produced >= limit:
            return


def best_ties(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr],
    objective: Expr,
    sense_min: bool,
    limit: int,
    clock: Clock,
    allowed: Mapping[str, Collection[Value]] | None = None,
) -> Found:
    """The first `limit` assemblies of the best objective value (none when there is
    no valid assembly), and whether the clock stopped the search."""
    setup = _Setup(model, select, require, allowed=allowed)
    places = decimal_places(model)
    found: list[AssemblyResult] = []
    try:
        ranked = _ranked_by_sweep(setup, objective, sense_min, clock)
        if ranked is not None:
            best: Fraction | None = None
            for value, values in ranked:
                if (best is not None and value != best) or len(found) >= limit:
                    break
                best = value
                found.append(assembly_result(model, values, decimal_text(value, places)))
            return Found(found)
        best = _optimum(setup, objective, sense_min, None, clock)
        if best is None:
            return Found([])
        for values in setup.iterate(clock, Bound(objective, best, best)):
            found.append(assembly_result(model, values, decimal_text(best, places)))
            if len(found) >= limit:
                break
    except Stop as stop:
        return Found(found, stop.reason)
    return Found(found)


@dataclass(frozen=True)
class Found:
    """Assemblies a search found, and why it stopped early (None: it did not)."""

    assemblies: list[AssemblyResult]
    stopped: Stopped = None


def cheapest_by_graph(
    model: Model,
    select: Mapping[str, Value],
    objective: Expr | None,
    sense_min: bool,
    limit: int,
    allowed: Mapping[str, Collection[Value]] | None = None,
    checks: Sequence[PathCheck] = (),
    require: Sequence[Expr] = (),
    clock: Clock | None = None,
    costs: dict[Any, Any] | None = None,
    best_only: bool = True,
) -> Found:
    """The first `limit` assemblies of the best objective value (best_ties), or with
    `best_only` False the `limit` best whatever their values, read off
    the whole space's decision graphs (built once per model) by A*: for a request
    that only selects, narrowed further by `allowed` and by `checks` (each within
    one independent group). The objective is totals, plus (when minimising) terms
    `if c then a else b` with constant a, b >= 0 within one group. Unsupported when
    the objective or the model does not fit; the caller falls back. `costs` keeps
    what an objective needs per graph between calls with the same objective.
    Without an objective: the first `limit` valid assemblies, whatever they cost.
    A `require` is checked on partial assignments as soon as it can be decided."""
    terms = _sum_terms(objective) if objective is not None else []
    totals = [t for t in terms if isinstance(t, Total)]
    others = [t for t in terms if not isinstance(t, Total)]
    if (objective is not None and not totals) or (others and not sense_min):
        raise Unsupported("the decision graphs do not take this objective or request")
    branches = [_nonnegative_branches(model, t) for t in others]
    if any(b is None for b in branches):
        raise Unsupported("the decision graphs do not take this objective or request")
    sign = 1 if sense_min else -1
    known = costs.get(("weights", id(objective), sense_min)) if costs is not None else None
    if known is not None and known[0] is objective:
        weights, scale = known[1], known[2]
    else:
        weights, scale = _weights(model, totals, branches, sign)
        if costs is not None:
            costs[("weights", id(objective), sense_min)] = (objective, weights, scale)
    whole = _whole_setup(model)
    setup = _Setup(model, select, [], prune=False, allowed=allowed)
    if not setup.satisfiable_so_far:
        return Found([])
    clock = clock or Clock()
    groups = whole.parts()
    where = {v: n for n, g in enumerate(groups) for v in g}
    for name in weights:  # a part and its quantity must be weighed together
        if qty_var(name) in where and where[qty_var(name)] != where[name]:
            raise Unsupported("the decision graphs do not take this objective or request")
    scoped = list(checks)
    for expr in require:
        scope = scope_of(model, expr)
        if not scope:
            if not holds(model, expr, Assembly({}, {})):
                return Found([])
            continue
        scoped.append((scope, _holds_on(model, expr)))
    ends = [(scope_of(model, t), t, b) for t, b in zip(others, branches, strict=True)]
    scopes = [sc for sc, _ in scoped] + [sc for sc, _, _ in ends]
    if any(len({where[v] for v in scope}) > 1 for scope in scopes):
        raise Unsupported("the decision graphs do not take this objective or request")
    per_group: list[list[tuple[int, dict[str, Value]]]] = []
    try:
        for n, group in enumerate(groups):
            mine = [(sc, e) for sc, e in scoped if sc and where[sc[0]] == n]
            finishing = [(t, b) for sc, t, b in ends if sc and where[sc[0]] == n]
            if len(group) == 1 and not whole.checks_within(group) and not mine and not finishing:
                per_group.append(_loose(model, group[0], setup.domains, weights, limit, best_only))
            else:
                key = (tuple(group), id(objective))
                cost = costs.get(key) if costs is not None else None
                if cost is None or cost[0] is not objective:
                    cost = (objective, _path_cost(model, group, weights, finishing, scale))
                    if costs is not None:
                        costs[key] = cost
                found = _group_cheapest(
                    model, whole, group, cost[1], setup.domains, mine, limit, clock, best_only
                )
                if found is None:
                    raise Unsupported("the decision graphs do not take this objective or request")
                per_group.append(found)
            if not per_group[-1]:
                return Found([])
    except Stop as stop:
        return Found([], stop.reason)
    # the best of independent groups: the best of the products of their best
    combos = sorted(
        itertools.islice(itertools.product(*per_group), limit if best_only else COMBINED),
        key=lambda combo: sum(units for units, _ in combo),
    )[:limit]
    out: list[AssemblyResult] = []
    places = decimal_places(model)
    for combo in combos:
        merged: dict[str, Value] = {}
        for _, values in combo:
            merged.update(values)
        units = sum(u for u, _ in combo)
        text = (
            decimal_text(Fraction(sign * units, scale), places) if objective is not None else None
        )
        out.append(assembly_result(model, merged, text))
    return Found(out)


def _weights(
    model: Model,
    totals: Sequence[Total],
    branches: Sequence[tuple[Fraction, Fraction] | None],
    sign: int,
) -> tuple[dict[str, dict[Value, int]], int]:
    """Each part's share of the totals in integer units (times sign), and the units'
    size: one unit for every total and branch, exact and cheap to add up."""
    fractions: list[Fraction] = []
    shares: dict[str, dict[Value, Fraction]] = {}
    for total in totals:
        for name in total.components:
            per = shares.setdefault(name, {})
            for sku in model.components[name].parts:
                value = part_value(model, sku, total.attr)
                per[sku] = per.get(sku, Fraction(0)) + (
                    value if isinstance(value, Fraction) else Fraction(0)
                )
    fractions += [v for per in shares.values() for v in per.values()]
    fractions += [x for b in branches if b is not None for x in b]
    scale = math.lcm(1, *(f.denominator for f in fractions))
    weights = {n: {s: int(v * scale) * sign for s, v in per.items()} for n, per in shares.items()}
    return weights, scale


def defaults_by_graph(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr] = (),
    clock: Clock | None = None,
    costs: dict[Any, Any] | None = None,
) -> dict[str, Value]:
    """with_defaults, each check read off the decision graphs; Unsupported when they
    do not fit the model or the request (the caller uses with_defaults)."""

    def agrees(trial: dict[str, Value]) -> bool:
        found = cheapest_by_graph(
            model, trial, None, True, 1, require=require, clock=clock, costs=costs
        )
        if found.stopped:
            raise Stop(found.stopped)
        return bool(found.assemblies)

    return each_default(model, select, agrees)


def _holds_on(model: Model, expr: Expr) -> Callable[[Mapping[str, Value]], bool]:
    return lambda values: holds(model, expr, assembly_of(model, values))


def _sum_terms(expr: Expr) -> list[Expr]:
    if isinstance(expr, Binary) and expr.op == "+":
        return [*_sum_terms(expr.left), *_sum_terms(expr.right)]
    return [expr]


def _nonnegative_branches(model: Model, expr: Expr) -> tuple[Fraction, Fraction] | None:
    """(a, b) of `if c then a else b` with constants a, b >= 0."""
    if not isinstance(expr, IfThenElse):
        return None
    if scope_of(model, expr.then) or scope_of(model, expr.else_):
        return None
    empty = Assembly({}, {})
    then, else_ = evaluate(model, expr.then, empty), evaluate(model, expr.else_, empty)
    if isinstance(then, Fraction) and isinstance(else_, Fraction) and min(then, else_) >= 0:
        return then, else_
    return None


def _path_cost(
    model: Model,
    group: Sequence[str],
    weights: Mapping[str, Mapping[Value, int]],
    finishing: Sequence[tuple[Expr, tuple[Fraction, Fraction] | None]],
    scale: int,
) -> PathCost:
    amounts = [
        (t.cond, int(b[0] * scale), int(b[1] * scale))
        for t, b in finishing
        if isinstance(t, IfThenElse) and b is not None
    ]

    def finish(values: Mapping[str, Value]) -> int:
        done = assembly_of(model, values)
        return sum(a if holds(model, c, done) else b for c, a, b in amounts)

    mine = {v: w for v, w in weights.items() if v in group}
    return PathCost(model, mine, finish if amounts else None)


def _loose(
    model: Model,
    var: str,
    domains: Mapping[str, Sequence[Value]],
    weights: Mapping[str, Mapping[Value, int]],
    limit: int,
    best_only: bool = True,
) -> list[tuple[int, dict[str, Value]]]:
    """A variable no rule reads: its cheapest values (a part's weight times its fixed
    quantity; 0 for anything else)."""
    per = weights.get(var)
    comp = model.components.get(var)
    qty = comp.qty_min if comp is not None else 1

    def units(value: Value) -> int:
        return 0 if per is None or value is None else per[value] * qty

    values = list(domains[var])
    if not values:
        return []
    ranked = sorted(((units(v), n, v) for n, v in enumerate(values)), key=lambda t: t[:2])
    least = ranked[0][0]
    return [(u, {var: v}) for u, _, v in ranked if u == least or not best_only][:limit]


def _group_cheapest(
    model: Model,
    whole: _Setup,
    group: Sequence[str],
    cost: PathCost,
    domains: Mapping[str, Sequence[Value]],
    checks: Sequence[PathCheck],
    limit: int,
    clock: Clock,
    best_only: bool = True,
) -> list[tuple[int, dict[str, Value]]] | None:
    try:
        built = whole_space_graphs(model, group, whole.domains, whole.checks_within(group), clock)
    except Unsupported:
        return None
    if not built:
        return []
    graph = built[0][2]
    ws = graph.ws
    outers = {
        tuple(outer[v] for v in ws.outer) if ws is not None else (): segments
        for outer, segments, _ in built
    }

    ties: list[tuple[int, dict[str, Value]]] = []
    # past this many steps, A* is lost among near-equal partial paths (a sum's rules
    # or checks the estimate does not see); branch and bound takes over
    search = clock.capped(GRAPH_SEARCH_CAP)
    try:
        for units, values in graph.cheapest(cost, domains, outers, checks, search):
            if best_only and ties and units != ties[0][0]:
                break
            ties.append((units, values))
            if len(ties) >= limit:
                break
    except Unsupported:
        return None
    except Stop as stop:
        if stop.reason == "cap":
            return None
        raise
    return ties


def _ranked_by_bounds(
    setup: _Setup, objective: Expr, sense_min: bool, clock: Clock
) -> Iterator[tuple[Fraction, dict[str, Value]]]:
    """Assemblies best first for any objective: the best value beyond those listed
    by branch and bound, then every assembly with that value, and so on."""
    floor: Fraction | None = None  # objective values already listed lie beyond this
    while True:
        best = _optimum(setup, objective, sense_min, floor, clock)
        if best is None:
            return
        for values in setup.iterate(clock, Bound(objective, best, best)):
            yield best, values
        floor = best


def _ranked_by_sweep(
    setup: _Setup, objective: Expr, sense_min: bool, clock: Clock
) -> Iterator[tuple[Fraction, dict[str, Value]]] | None:
    """Assemblies best first when the objective is a total the sweep can carry (most
    often `total(price)`): paths of its graphs in order of their sum, merged; the
    other independent groups vary fastest... no: they are listed for each path in
    their own order. None when the sweep does not take the request."""
    if not isinstance(objective, Total) or not setup.satisfiable_so_far:
        return None
    groups = setup.parts()
    summed = set(objective.components)
    main = [g for g in groups if summed & set(g)]
    if len(main) != 1:
        return None
    group = main[0]
    others = [v for g in groups if g is not group for v in g]
    allowed: Mapping[str, Sequence[Value]] | None = None
    try:
        built = None
        if not setup.requires:
            # the whole space's graphs (cached per model) when their sum is the objective
            whole = _whole_setup(setup.model)
            cached = whole_space_graphs(
                setup.model, group, whole.domains, whole.checks_within(group), clock
            )
            ws = cached[0][2].ws if cached else None
            if ws is not None and (ws.total.attr, ws.total.components) == (
                objective.attr,
                objective.components,
            ):
                built, allowed = cached, setup.domains
    except Unsupported:
        pass
    try:
        if built is None:
            built = build_graphs(
                setup.model, group, setup.domains, setup.checks_within(group), clock, objective
            )
    except Unsupported:
        return None
    sign = 1 if sense_min else -1

    def stream(index: int) -> Iterator[tuple[Fraction, int, dict[str, Value]]]:
        outer, segments, graph = built[index]
        ws = graph.ws
        assert ws is not None
        within = within_outer(graph, outer, allowed)
        if outer and within is None:
            return
        holding = [(lo, hi) for lo, hi, ok in segments or [(0, ws.top, True)] if ok]
        if not holding:
            return
        # paths come in order of their sum: past the last sum the rules allow, no
        # later path can be valid
        beyond = max(hi for _, hi in holding) if sign == 1 else min(lo for lo, _ in holding)
        for units, values in graph.best_first(sign, within, clock):
            if (units > beyond) if sign == 1 else (units < beyond):
                return
            if any(lo <= units <= hi for lo, hi in holding):
                yield sign * ws.value(units), index, values

    def ranked() -> Iterator[tuple[Fraction, dict[str, Value]]]:
        assert built is not None
        merged = heapq.merge(*(stream(i) for i in range(len(built))), key=lambda t: (t[0], t[1]))
        for key, _, values in merged:
            if not others:
                yield sign * key, values
                continue
            for rest in setup.iterate(clock, only=others):
                yield sign * key, {**values, **rest}

    return ranked()


def _optimum(
    setup: _Setup, objective: Expr, sense_min: bool, beyond: Fraction | None, clock: Clock
) -> Fraction | None:
    """The best objective value strictly beyond `beyond`, by branch and bound in one
    search: each assembly found tightens the bound the rest of the search prunes with."""
    if sense_min:
        bound = Bound(objective, low=beyond, low_open=True)
    else:
        bound = Bound(objective, high=beyond, high_open=True)
    best: Fraction | None = None
    ordered = _best_values_first(setup, objective, sense_min)
    for found in solutions(setup.comp, ordered, setup.checks, clock, bound):
        value = evaluate(setup.model, objective, assembly_of(setup.model, found))
        assert isinstance(value, Fraction)
        best = value
        if sense_min:
            bound.high, bound.high_open = value, True
        else:
            bound.low, bound.low_open = value, True
    return best


def _best_values_first(setup: _Setup, objective: Expr, sense_min: bool) -> dict[str, list[Value]]:
    """Each variable's values, those that leave the best objective bound first: the
    first assemblies branch and bound finds are then good ones, and prune the most."""
    memo: dict[tuple[str, str, str], Any] = {}
    abstract(Scope(setup.model, {}, setup.domains, memo), objective)
    reads = set(scope_of(setup.model, objective))
    ordered: dict[str, list[Value]] = {}
    for name, values in setup.domains.items():
        if name not in reads or len(values) < 2:
            ordered[name] = list(values)
            continue

        def key(value: Value, name: str = name) -> tuple[bool, Fraction]:
            found = abstract(
                Scope(setup.model, {name: value}, setup.domains, memo, False), objective
            )
            edge = (found.lo if sense_min else found.hi) if isinstance(found, Interval) else None
            if edge is None:
                return (True, Fraction(0))
            return (False, edge if sense_min else -edge)

        ordered[name] = sorted(values, key=key)
    return ordered


# ---- count ---------------------------------------------------------------------------------


def count(
    model: Model,
    select: Mapping[str, Value] | None = None,
    require: Sequence[Expr] = (),
    clock: Clock | None = None,
    cap: int | None = None,
    defaults: bool = False,
    rules: Collection[str] | None = None,
) -> CountResult:
    """The exact number of valid assemblies (under only the named `rules`, when given):
    independent groups of variables are counted apart and multiplied; a variable no
    rule reads multiplies by its domain."""
    select = dict(select or {})
    clock = clock or Clock()
    if defaults:
        select = with_defaults(model, select, require, clock)
    setup = _Setup(model, select, require, rules=rules)
    if not setup.satisfiable_so_far:
        return CountResult(count=0, exact=True)
    total = 1
    for group in sorted(setup.parts(), key=len):
        checks = setup.checks_within(group)
        if len(group) == 1 and not checks:
            total *= len(setup.domains[group[0]])
            continue
        try:
            try:
                built = build_graphs(model, group, setup.domains, checks, clock)
                found = count_of(built, clock)
            except Unsupported:
                found = count_solutions(model, group, setup.domains, checks, clock)
        except Stop as stop:
            return CountResult(count=0, exact=False, stopped=stop.reason)
        if found == 0:
            return CountResult(count=0, exact=True)
        total *= found
        if cap is not None and total > cap:
            return CountResult(count=cap, exact=False, stopped="cap")
    return CountResult(count=total, exact=True)


# ---- domains -------------------------------------------------------------------------------


def domains(
    model: Model,
    select: Mapping[str, Value] | None = None,
    require: Sequence[Expr] = (),
    clock: Clock | None = None,
    defaults: bool = False,
    cap: int | None = None,
    rules: Collection[str] | None = None,
) -> DomainsResult:
    """For every component, varying quantity and option, the values some valid assembly
    allows, per independent group: read off the group's decision graph (sweep.py) when
    it fits; otherwise bounds pruning, then every value seen in a found assembly is
    supported (witness caching), then each value still unknown is probed.
    `cap` bounds the steps of work (graph states and search nodes); hitting it or the
    deadline keeps every value not yet proven invalid, with `stopped` saying which.
    With `rules`, only those of the model's rules hold."""
    select = dict(select or {})
    clock = (clock or Clock()).capped(cap) if cap is not None else clock or Clock()
    if defaults:
        select = with_defaults(model, select, require, clock)
    # a request that only selects is answered on the whole space's graphs, which are
    # exact without arc consistency first; the other paths prune before searching
    own_graphs = bool(require) or rules is not None
    setup = _Setup(model, select, require, prune=own_graphs, rules=rules)
    if not setup.satisfiable_so_far:
        return DomainsResult(satisfiable=False, domains={})
    supported: dict[str, set[Any]] = {v: set() for v in setup.comp.variables}
    stopped: Stopped = None
    try:
        for group in setup.parts():
            if len(group) == 1 and not setup.checks_within(group):
                supported[group[0]] = set(map(value_key, setup.domains[group[0]]))
                continue
            try:
                found = _sweep_domains(model, setup, group, own_graphs, clock)
            except Unsupported:
                pass
            else:
                if not any(found.values()):
                    return DomainsResult(satisfiable=False, domains={})
                supported.update(found)
                continue
            setup.prune()
            if not setup.satisfiable_so_far:
                return DomainsResult(satisfiable=False, domains={})
            first = next(setup.iterate(clock, only=group), None)
            if first is None:
                return DomainsResult(satisfiable=False, domains={})
            _witness(supported, first)
            full = {v: setup.domains[v] for v in group}
            for var in group:
                for value in full[var]:
                    if value_key(value) in supported[var]:
                        continue
                    # the search tries values nobody has seen yet first, so that each
                    # witness it finds supports as many new values as it can
                    for other in group:
                        fresh = [x for x in full[other] if value_key(x) not in supported[other]]
                        seen = [x for x in full[other] if value_key(x) in supported[other]]
                        setup.domains[other] = fresh + seen
                    setup.domains[var] = [value]
                    try:
                        witness = next(setup.iterate(clock, only=group), None)
                    finally:
                        setup.domains.update(full)
                    if witness is not None:
                        _witness(supported, witness)
    except Stop as stop:
        stopped = stop.reason
    result: dict[str, list[Value]] = {}
    provenance: dict[str, Literal["user", "rules", "open"]] = {}
    for name, variable in setup.comp.variables.items():
        if variable.kind == "qty" and len(variable.domain) <= 1:
            continue
        values = [v for v in setup.domains[name] if value_key(v) in supported[name]]
        if stopped is not None:  # unproven values are kept: what is greyed out must be sure
            values = list(setup.domains[name])
        result[name] = values
        provenance[name] = "user" if name in select else "rules" if len(values) == 1 else "open"
    return DomainsResult(satisfiable=True, domains=result, stopped=stopped, provenance=provenance)


def _sweep_domains(
    model: Model, setup: _Setup, group: list[str], own_graphs: bool, clock: Clock
) -> dict[str, set[tuple[type, Value]]]:
    """A group's valid values from the sweep: a request that only selects is answered
    on the graphs of the whole space (built once per model), filtered by the
    request's narrowed domains; one with `require` (or fewer rules) gets graphs of
    its own."""
    if own_graphs:
        built = build_graphs(model, group, setup.domains, setup.checks_within(group), clock)
        return supported_in(built, group, None, clock)
    whole = _whole_setup(model)
    built = whole_space_graphs(model, group, whole.domains, whole.checks_within(group), clock)
    return supported_in(built, group, setup.domains, clock)


def _whole_setup(model: Model) -> _Setup:
    return CompiledModel.of(model).get("whole setup", lambda: _Setup(model, {}, []))


def value_key(value: Value) -> tuple[type, Value]:
    """A value as a set member or dict key that keeps True apart from 1."""
    return (type(value), value)


def _witness(supported: dict[str, set[Any]], values: Mapping[str, Value]) -> None:
    for var, value in values.items():
        supported[var].add(value_key(value))


def space_size(model: Model) -> int:
    """The number of assemblies before any rule: the product of the domains."""
    return math.prod(len(v.domain) for v in compiled(model).variables.values())


__all__ = [
    "AssemblyResult",
    "Chosen",
    "CountResult",
    "DomainsResult",
    "SolveResult",
    "StopReason",
    "assembly_result",
    "best_ties",
    "cheapest_by_graph",
    "count",
    "defaults_by_graph",
    "domains",
    "negated",
    "qty_var",
    "refutable",
    "refutation",
    "satisfiable",
    "solve",
    "space_size",
    "value_key",
    "with_defaults",
]
