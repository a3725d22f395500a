"""Best assemblies first: an objective read off the decision graphs (A* over the whole
space's graphs, per-quantity cheapest completions) or found by branch and bound."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from atoconf.engine.clock import Clock, Stop, Stopped
from atoconf.engine.closures import compile_holds
from atoconf.engine.problem import (
    Bound,
    assembly_of,
    scope_of,
    solutions,
)
from atoconf.engine.propagate import Interval, Scope, abstract, qty_var
from atoconf.engine.results import (
    AssemblyResult,
    assembly_result,
    decimal_places,
    decimal_text,
)
from atoconf.engine.setup import Setup, each_default, whole_setup
from atoconf.engine.sums import shares, sum_terms
from atoconf.engine.sweep import (
    PathCheck,
    PathCost,
    Unsupported,
    build_graphs,
    whole_space_graphs,
    within_outer,
)
from atoconf.language.evaluate import Assembly, evaluate, holds
from atoconf.language.model import (
    Expr,
    IfThenElse,
    Model,
    Total,
    Value,
)

GRAPH_SEARCH_CAP = 200_000  # steps of A* on a decision graph before falling back


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
    setup = Setup(model, select, require, allowed=allowed)
    places = decimal_places(model, objective)
    found: list[AssemblyResult] = []
    try:
        try:
            ranked = ranked_by_sweep(setup, objective, sense_min, clock)
        except Unsupported:
            ranked = None
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


class ObjectiveCosts:
    """What one objective, ranked one way, needs on the decision graphs: each part's
    weight in integer units with the units' size, and each group's path cost. Worked
    out on first use and kept by the caller for every later search with the same
    objective (the planner keeps its cost objective's with the model)."""

    def __init__(self) -> None:
        self.weights: tuple[dict[str, dict[Value, int]], int] | None = None
        self.paths: dict[tuple[str, ...], PathCost] = {}


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
    costs: ObjectiveCosts | None = None,
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
    terms = sum_terms(objective) if objective is not None else []
    totals = [t for t in terms if isinstance(t, Total)]
    others = [t for t in terms if not isinstance(t, Total)]
    if (objective is not None and not totals) or (others and not sense_min):
        raise Unsupported("the decision graphs do not take this objective or request")
    branches = [_nonnegative_branches(model, t) for t in others]
    if any(b is None for b in branches):
        raise Unsupported("the decision graphs do not take this objective or request")
    sign = 1 if sense_min else -1
    costs = costs or ObjectiveCosts()
    if costs.weights is None:
        costs.weights = _weights(model, totals, branches, sign)
    weights, scale = costs.weights
    whole = whole_setup(model)
    allowed, require = _narrowed(model, whole.domains, allowed, require)
    setup = Setup(model, select, [], prune=False, allowed=allowed)
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
                path = costs.paths.get(tuple(group))
                if path is None:
                    path = _path_cost(model, group, weights, finishing, scale)
                    path = costs.paths.setdefault(tuple(group), path)
                found = _group_cheapest(
                    model, whole, group, path, setup.domains, mine, limit, clock, best_only
                )
                per_group.append(found)
            if not per_group[-1]:
                return Found([])
    except Stop as stop:
        return Found([], stop.reason)
    out: list[AssemblyResult] = []
    places = decimal_places(model, objective)
    for units, merged in _best_combined(per_group, limit):
        text = (
            decimal_text(Fraction(sign * units, scale), places) if objective is not None else None
        )
        out.append(assembly_result(model, merged, text))
    return Found(out)


def _best_combined(
    per_group: Sequence[Sequence[tuple[int, dict[str, Value]]]], limit: int
) -> list[tuple[int, dict[str, Value]]]:
    """The `limit` best assemblies made of one from each independent group (each
    group's list best first): two lists at a time, the best sums first off a heap,
    so that no combination among the best is cut off."""
    best: list[tuple[int, dict[str, Value]]] = [(0, {})]
    for ranked in per_group:
        merged: list[tuple[int, dict[str, Value]]] = []
        heap = [(best[0][0] + ranked[0][0], 0, 0)]
        seen = {(0, 0)}
        while heap and len(merged) < limit:
            units, i, j = heapq.heappop(heap)
            merged.append((units, {**best[i][1], **ranked[j][1]}))
            for a, b in ((i + 1, j), (i, j + 1)):
                if a < len(best) and b < len(ranked) and (a, b) not in seen:
                    seen.add((a, b))
                    heapq.heappush(heap, (best[a][0] + ranked[b][0], a, b))
        best = merged
    return best


def _weights(
    model: Model,
    totals: Sequence[Total],
    branches: Sequence[tuple[Fraction, Fraction] | None],
    sign: int,
) -> tuple[dict[str, dict[Value, int]], int]:
    """Each part's share of the totals in integer units (times sign), and the units'
    size: one unit for every total and branch, exact and cheap to add up."""
    fractions: list[Fraction] = []
    summed: dict[str, dict[Value, Fraction]] = {}
    for total in totals:
        for name, per_sku in shares(model, total).items():
            per = summed.setdefault(name, {})
            for sku, value in per_sku.items():
                if sku is not None:
                    per[sku] = per.get(sku, Fraction(0)) + value
    fractions += [v for per in summed.values() for v in per.values()]
    fractions += [x for b in branches if b is not None for x in b]
    scale = math.lcm(1, *(f.denominator for f in fractions))
    weights = {n: {s: int(v * scale) * sign for s, v in per.items()} for n, per in summed.items()}
    return weights, scale


def defaults_by_graph(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr] = (),
    clock: Clock | None = None,
    costs: ObjectiveCosts | None = None,
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


def _narrowed(
    model: Model,
    domains: Mapping[str, Sequence[Value]],
    allowed: Mapping[str, Collection[Value]] | None,
    require: Sequence[Expr],
) -> tuple[Mapping[str, Collection[Value]] | None, list[Expr]]:
    """A requirement on one part or option narrows its values instead of being
    checked on paths, so that the search's estimates see it (a required GPU memory
    rules out GPUs, not the paths that reach them); the others are kept."""
    narrowed = dict(allowed) if allowed is not None else {}
    kept: list[Expr] = []
    for expr in require:
        scope = scope_of(model, expr)
        name = scope[0] if len(scope) == 1 else None
        if name is None or (name not in model.components and name not in model.options):
            kept.append(expr)
            continue
        values = narrowed.get(name, domains[name])
        narrowed[name] = [v for v in values if holds(model, expr, assembly_of(model, {name: v}))]
    return (narrowed if narrowed else allowed), kept


def _holds_on(model: Model, expr: Expr) -> Callable[[Mapping[str, Value]], bool]:
    check = compile_holds(model, expr)
    return lambda values: check(assembly_of(model, values))


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
    whole: Setup,
    group: Sequence[str],
    cost: PathCost,
    domains: Mapping[str, Sequence[Value]],
    checks: Sequence[PathCheck],
    limit: int,
    clock: Clock,
    best_only: bool = True,
) -> list[tuple[int, dict[str, Value]]]:
    built = whole_space_graphs(model, group, whole.domains, whole.checks_within(group), clock)
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
    except Stop as stop:
        if stop.reason == "cap":
            raise Unsupported("A* passed its cap of steps") from None
        raise
    return ties


def ranked_by_bounds(
    setup: Setup, objective: Expr, sense_min: bool, clock: Clock
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


def ranked_by_sweep(
    setup: Setup, objective: Expr, sense_min: bool, clock: Clock
) -> Iterator[tuple[Fraction, dict[str, Value]]]:
    """Assemblies best first when the objective is a total the sweep can carry (most
    often `total(price)`): paths of its graphs in order of their sum, merged; for each
    path, the other independent groups are listed in their own order. Unsupported
    when the sweep does not take the request."""
    if not isinstance(objective, Total) or not setup.satisfiable_so_far:
        raise Unsupported("the objective is not a total, or the request has no assembly")
    groups = setup.parts()
    summed = set(objective.components)
    main = [g for g in groups if summed & set(g)]
    if len(main) != 1:
        raise Unsupported("the total spans several independent groups")
    group = main[0]
    others = [v for g in groups if g is not group for v in g]
    allowed: Mapping[str, Sequence[Value]] | None = None
    try:
        built = None
        if not setup.requires:
            # the whole space's graphs (cached per model) when their sum is the objective
            whole = whole_setup(setup.model)
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
    if built is None:
        built = build_graphs(
            setup.model, group, setup.domains, setup.checks_within(group), clock, objective
        )
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
    setup: Setup, objective: Expr, sense_min: bool, beyond: Fraction | None, clock: Clock
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


def _best_values_first(setup: Setup, objective: Expr, sense_min: bool) -> dict[str, list[Value]]:
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
            return (False, Fraction(edge if sense_min else -edge))

        ordered[name] = sorted(values, key=key)
    return ordered
