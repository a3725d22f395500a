"""The operations on valid assemblies: solve, count, domains, and the satisfiability
questions lint and rule tests ask."""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, Literal

from atoconf.engine.clauses import (
    qualifies,
    sat_assignment,
    sat_assignments,
    sat_count,
    sat_domains,
)
from atoconf.engine.clock import Clock, Stop, Stopped
from atoconf.engine.counting import count_solutions
from atoconf.engine.optimise import cheapest_by_graph, ranked_by_bounds, ranked_by_sweep
from atoconf.engine.paths import CLAUSES, GRAPH, answered
from atoconf.engine.problem import (
    assembly_of,
    compiled,
    nodes,
)
from atoconf.engine.results import (
    AssemblyResult,
    CountResult,
    DomainsResult,
    assembly_result,
    decimal_places,
    decimal_text,
    value_key,
)
from atoconf.engine.setup import Setup, whole_setup, with_defaults
from atoconf.engine.sweep import (
    Built,
    Unsupported,
    build_graphs,
    count_of,
    counted_by_sums,
    left_to_paths,
    supported_in,
    whole_space_compiled,
    whole_space_graphs,
)
from atoconf.language.evaluate import holds
from atoconf.language.model import (
    BOOL,
    Binary,
    Compare,
    Expr,
    Model,
    Unary,
    Value,
)

QUICK_SEARCH_STEPS = 5_000  # steps of search before `satisfiable` turns to the graph
LISTED_BY_GRAPH = 1_000  # at most this many assemblies without an objective: graph listed
# ---- the request as solver input -------------------------------------------------------


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
    setup = Setup(model, select, require, rules=rules, allowed=allowed)
    if not setup.satisfiable_so_far or setup.bounds_refute():
        return None
    groups = [g for g in setup.parts() if setup.checks_within(g)]
    if not _on_clauses_all(setup, groups):
        return next(setup.iterate(clock), None)
    found = {name: values[0] for name, values in setup.domains.items()}
    for group in groups:
        assignment = sat_assignment(model, setup, group, clock)
        if assignment is None:
            return None
        found.update(assignment)
    answered("witness", CLAUSES)
    return found


def satisfiable(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr],
    rules: Collection[str] | None,
    clock: Clock,
    allowed: Mapping[str, Collection[Value]] | None = None,
    graph_first: bool = False,
) -> bool:
    """Whether `witness` would find an assignment. Each independent group is decided on
    its decision graph where it fits: a search has to exhaust a group to prove it
    empty (slow when a sum's bound is only seen late), the graph does not. A short
    search goes first, as it usually finds an assembly in a few steps when one exists;
    with `graph_first` (a caller that asks many questions, most without an assembly,
    of a model whose graphs are worth building) the graph alone."""
    setup = Setup(model, select, require, rules=rules, allowed=allowed)
    if not setup.satisfiable_so_far or setup.bounds_refute():
        return False
    for group in sorted(setup.parts(), key=len):
        checks = setup.checks_within(group)
        if not checks:
            continue
        if qualifies(setup, group):
            if sat_assignment(model, setup, group, clock) is None:
                return False
            continue
        if not graph_first:
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
            if not graphs_fit(model, clock):
                raise Unsupported("the model's graphs do not fit")
            own = bool(require) or rules is not None or allowed is not None
            built, narrowed = _group_graphs(model, setup, group, own, clock)
            if not any(supported_in(built, group, narrowed, clock, one=True).values()):
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


def graphs_fit(model: Model, clock: Clock) -> bool:
    """Whether the whole space's graphs of the model could be built (trying once per
    model). A request's own graph (with conditions, or fewer rules) is tried only
    when they could: a model too large or too slow to compile whole is answered by
    the fallbacks instead of paying for a failed build on every call."""
    whole = whole_setup(model)
    for group in whole.parts():
        if len(group) == 1 and not whole.checks_within(group):
            continue
        try:
            whole_space_graphs(model, group, whole.domains, whole.checks_within(group), clock)
        except Unsupported:
            return False
    return True


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
    setup = Setup(model, select, [], rules=rules)
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
    and says why in its `stopped`; its `defaults` holds the option defaults filled in
    (once the stream has started)."""
    applied: dict[str, Value] = {}
    stream = _solve(
        model,
        dict(select or {}),
        require,
        minimize,
        maximize,
        limit,
        clock or Clock(),
        defaults,
        allowed,
        applied,
    )
    return Solutions(stream, applied)


class Solutions(Iterator[AssemblyResult]):
    """A stream of assemblies; `stopped` says why it ended early (None: it did not)."""

    def __init__(
        self, stream: Iterator[AssemblyResult], defaults: dict[str, Value] | None = None
    ) -> None:
        self._stream = stream
        self.stopped: Stopped = None
        # the option defaults the request was given (filled in as the stream starts)
        self.defaults: dict[str, Value] = {} if defaults is None else defaults

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
    applied: dict[str, Value],
) -> Iterator[AssemblyResult]:
    if limit is not None and limit <= 0:
        return
    if defaults:
        filled = with_defaults(model, select, require, clock)
        applied.update((k, v) for k, v in filled.items() if k not in select)
        select = filled
    # arc consistency only for the other paths: the SAT solver propagates for itself
    setup = Setup(model, select, require, prune=False, allowed=allowed)
    objective = minimize if minimize is not None else maximize
    produced = 0
    if objective is None and (on_clauses := _on_clauses(model, setup, clock)) is not None:
        answered("solve", CLAUSES)
        yield from itertools.islice(on_clauses, limit)
        return
    setup.prune()
    if objective is None:
        # the graphs of the whole space list the first assemblies at once once an
        # earlier request has built them; before that, the search, in domain order,
        # usually finds them in a few steps; when it has not within its quick steps
        # (a demanding part that only late choices rule out), the graphs list them
        listable = limit is not None and limit <= LISTED_BY_GRAPH
        if listable and whole_space_compiled(model):
            assert limit is not None
            listed = _listed_by_graph(model, select, require, limit, clock, allowed)
            if listed is not None:
                yield from listed
                return
        quick = clock.capped(QUICK_SEARCH_STEPS if listable else None)
        stream = setup.iterate(quick)
        try:
            if listable and QUICK_SEARCH_STEPS <= 0:
                raise Stop("cap")
            first = next(stream, None)
        except Stop as stop:
            if stop.reason != "cap":
                raise
            assert limit is not None
            listed = _listed_by_graph(model, select, require, limit, clock, allowed)
            if listed is not None:
                yield from listed
                return
            quick.cap = None
            stream = setup.iterate(quick)
            first = next(stream, None)
        quick.cap = None  # found in time: the same search goes on, to its deadline
        if first is None:
            return
        for values in itertools.chain([first], stream):
            yield assembly_result(model, values)
            produced += 1
            if limit is not None and produced >= limit:
                return
        return
    sense_min = minimize is not None
    places = decimal_places(model, objective)
    try:
        ranked = ranked_by_sweep(setup, objective, sense_min, clock)
        answered("solve", GRAPH)
    except Unsupported as why:
        answered("solve", "branch and bound", str(why))
        ranked = ranked_by_bounds(setup, objective, sense_min, clock)
    for value, values in ranked:
        yield assembly_result(model, values, decimal_text(value, places))
        produced += 1
        if limit is not None and produced >= limit:
            return


def _on_clauses_all(setup: Setup, groups: Sequence[Sequence[str]]) -> bool:
    """Whether every group with rules is two-valued and one is large enough to be worth
    the SAT solver: then all of them go to it."""
    return any(qualifies(setup, g) for g in groups) and all(
        qualifies(setup, g, least=1) for g in groups
    )


def _on_clauses(model: Model, setup: Setup, clock: Clock) -> Iterator[AssemblyResult] | None:
    """Every valid assembly, each group of variables with rules read off the SAT
    solver (the last group varying fastest), when they all go to it
    (`_on_clauses_all`); else None."""
    if not setup.satisfiable_so_far:
        return None
    groups = [g for g in setup.parts() if setup.checks_within(g)]
    if not _on_clauses_all(setup, groups):
        return None
    ruled = {v for g in groups for v in g}
    free = [v for v in setup.comp.variables if v not in ruled]

    def stream(k: int) -> Iterator[dict[str, Value]]:
        if k < len(groups):
            return sat_assignments(model, setup, groups[k], clock)
        name = free[k - len(groups)]
        return ({name: x} for x in setup.domains[name])

    def product(k: int, chosen: dict[str, Value]) -> Iterator[AssemblyResult]:
        if k == len(groups) + len(free):
            yield assembly_result(model, chosen)
            return
        for part in stream(k):
            yield from product(k + 1, {**chosen, **part})

    return product(0, {})


def _listed_by_graph(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr],
    limit: int,
    clock: Clock,
    allowed: Mapping[str, Collection[Value]] | None,
) -> list[AssemblyResult] | None:
    """The first `limit` valid assemblies read off the compiled graphs (None: they do
    not fit the model or the request)."""
    try:
        found = cheapest_by_graph(
            model, select, None, True, limit, allowed, (), require, clock, best_only=False
        )
    except Unsupported as why:
        answered("solve", "search", str(why))
        return None
    if found.stopped:
        raise Stop(found.stopped)
    answered("solve", GRAPH)
    return found.assemblies


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
    setup = Setup(model, select, require, rules=rules)
    if not setup.satisfiable_so_far:
        return CountResult(count=0, exact=True)
    total = 1
    for group in sorted(setup.parts(), key=len):
        checks = setup.checks_within(group)
        if len(group) == 1 and not checks:
            total *= len(setup.domains[group[0]])
            continue
        try:
            # a group of two-valued choices is counted by splitting it into components
            # as it goes, however small (no graph of the whole model is tried for it)
            if qualifies(setup, group, least=1, counting=True):
                found = sat_count(model, setup, group, clock)
                answered("count", CLAUSES)
                if found == 0:
                    return CountResult(count=0, exact=True)
                total *= found
                if cap is not None and total > cap:
                    return CountResult(count=cap, exact=False, stopped="cap")
                continue
            try:
                if not graphs_fit(model, clock):
                    raise Unsupported("the model's graphs do not fit")
                own = bool(require) or rules is not None
                built, narrowed = _group_graphs(model, setup, group, own, clock)
                # said first: a count stopped by its deadline still tells how it was taken
                how = "; ".join(n for n in (left_to_paths(built), counted_by_sums(built)) if n)
                answered("count", GRAPH, how)
                found = count_of(built, clock, narrowed)
            except Unsupported as why:
                answered("count", "counter", str(why))
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
    variables: Collection[str] | None = None,
) -> DomainsResult:
    """For every component, varying quantity and option, the values some valid assembly
    allows, per independent group: read off the group's decision graph (sweep.py) when
    it fits; otherwise bounds pruning, then every value seen in a found assembly is
    supported (witness caching), then each value still unknown is probed.
    `cap` bounds the steps of work (graph states and search nodes); hitting it or the
    deadline keeps every value not yet proven invalid, with `stopped` saying which.
    With `rules`, only those of the model's rules hold; with `variables`, only those
    are answered (groups without them are not looked at)."""
    select = dict(select or {})
    clock = (clock or Clock()).capped(cap) if cap is not None else clock or Clock()
    if defaults:
        select = with_defaults(model, select, require, clock)
    # a request that only selects is answered on the whole space's graphs, which are
    # exact without arc consistency first; the other paths prune before searching
    own_graphs = bool(require) or rules is not None
    setup = Setup(model, select, require, prune=own_graphs, rules=rules)
    if not setup.satisfiable_so_far:
        return DomainsResult(satisfiable=False, domains={})
    supported: dict[str, set[Any]] = {v: set() for v in setup.comp.variables}
    wanted = None if variables is None else set(variables)
    stopped: Stopped = None
    try:
        for group in setup.parts():
            if variables is not None and not set(group) & set(variables):
                continue
            if len(group) == 1 and not setup.checks_within(group):
                supported[group[0]] = set(map(value_key, setup.domains[group[0]]))
                continue
            try:
                if qualifies(setup, group):
                    on_clauses = sat_domains(model, setup, group, clock, wanted)
                    answered("domains", CLAUSES)
                    if on_clauses is None:
                        return DomainsResult(satisfiable=False, domains={})
                    supported.update(on_clauses)
                    continue
                found, left = _sweep_domains(model, setup, group, own_graphs, clock, variables)
            except Unsupported as why:
                answered("domains", "search", str(why))
            else:
                answered("domains", GRAPH, left)
                exact = group if variables is None else [v for v in group if v in variables]
                if not any(found[v] for v in exact):
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
                if variables is not None and var not in variables:
                    continue
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
        if variables is not None and name not in variables:
            continue
        values = [v for v in setup.domains[name] if value_key(v) in supported[name]]
        if stopped is not None:  # unproven values are kept: what is greyed out must be sure
            values = list(setup.domains[name])
        result[name] = values
        provenance[name] = "user" if name in select else "rules" if len(values) == 1 else "open"
    return DomainsResult(satisfiable=True, domains=result, stopped=stopped, provenance=provenance)


def _sweep_domains(
    model: Model,
    setup: Setup,
    group: list[str],
    own_graphs: bool,
    clock: Clock,
    variables: Collection[str] | None = None,
) -> tuple[dict[str, set[tuple[type, Value]]], str]:
    """A group's valid values from the sweep (see _group_graphs), with `variables`
    exact only for those; and what the graphs left to be checked on paths."""
    built, narrowed = _group_graphs(model, setup, group, own_graphs, clock)
    return supported_in(built, group, narrowed, clock, wanted=variables), left_to_paths(built)


def _group_graphs(
    model: Model, setup: Setup, group: list[str], own: bool, clock: Clock
) -> tuple[Built, Mapping[str, Sequence[Value]] | None]:
    """A group's graphs and the filter to read them through: a request that only
    selects is answered on the graphs of the whole space (built once per model),
    filtered by the request's narrowed domains; one with `require` (or fewer rules,
    or narrowed values; `own`) gets graphs of its own, read whole."""
    if own:
        if not graphs_fit(model, clock):
            raise Unsupported("the model's graphs do not fit")
        checks = setup.checks_within(group)
        return build_graphs(model, group, setup.domains, checks, clock), None
    whole = whole_setup(model)
    built = whole_space_graphs(model, group, whole.domains, whole.checks_within(group), clock)
    return built, setup.domains


def _witness(supported: dict[str, set[Any]], values: Mapping[str, Value]) -> None:
    for var, value in values.items():
        supported[var].add(value_key(value))


def space_size(model: Model) -> int:
    """The number of assemblies before any rule: the product of the domains."""
    return math.prod(len(v.domain) for v in compiled(model).variables.values())


__all__ = [
    "Solutions",
    "count",
    "domains",
    "negated",
    "refutable",
    "refutation",
    "satisfiable",
    "solve",
    "space_size",
    "witness",
]
