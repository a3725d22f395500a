"""Groups of two-valued choices as clauses, decided by the SAT solver (sat.py).

A group qualifies when each of its variables has two values in the model (a
yes/no option, a two-member enum, an optional component of one part, a quantity
of 1 or 2). A check over at most `MAX_SCOPE` of them becomes the clauses that
forbid exactly its failing assignments: all its prime implicates, found from its
truth table, so unit propagation draws from one rule everything that rule
implies (an alternative group `if p then exactly_one(a, b, c)` gives `not p or a
or b or c`, `p or not a`, `not a or not b`, ...). A check over more is read on
the assignments the solver finds (`Wide`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from atoconf.engine.clock import Clock
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.problem import Check, Origin, check_holds, checks_for, compiled
from atoconf.engine.propagate import Scope, may_hold
from atoconf.engine.results import value_key
from atoconf.engine.sat import Solver
from atoconf.engine.setup import Setup
from atoconf.language.model import Expr, Model, Value

MAX_SCOPE = 10  # a check over more variables has a truth table too large to read
# groups of at least this many variables go to the SAT solver; smaller ones to the
# decision graphs, which also count and rank
MIN_VARIABLES = 24

Clause = tuple[int, ...]


def qualifies(
    setup: Setup, group: Sequence[str], least: int | None = None, counting: bool = False
) -> bool:
    """Whether `group` can be decided as clauses and has at least `least` variables
    (default MIN_VARIABLES: enough to be worth it). A check over more than MAX_SCOPE
    of them is read on the assignments found instead (see `Wide`), which a count
    cannot do: `counting` asks for clauses only."""
    if len(group) < (MIN_VARIABLES if least is None else least):
        return False
    full = setup.comp.domains
    if any(len(full[v]) != 2 for v in group):
        return False
    wide = [c for c in setup.checks_within(group) if len(c.scope) > MAX_SCOPE]
    return not wide if counting else all(c.expr is not None for c in wide)


@dataclass(frozen=True)
class Wide:
    """A check over more than MAX_SCOPE variables, read on each assignment the solver
    finds. One that fails it adds a clause: the part of that assignment that already
    fails it by bounds alone (`count(a, b, c, d, e) <= 2` fails as soon as any three
    are on, whatever the others are), so one clause rules out many assignments."""

    check: Check
    positions: tuple[int, ...]  # the solver's variable of each variable of the scope
    switch: int | None = None  # the check holds only while this variable is true

    def nogood(
        self, model: Model, found: Sequence[bool], values: Sequence[tuple[Value, Value]]
    ) -> list[int] | None:
        """The clause that rules out the assignment `found` (or a part of it), or None
        when the check holds there."""
        if self.switch is not None and not found[self.switch - 1]:
            return None
        scope = self.check.scope
        assigned = {
            name: values[i][int(found[i])] for name, i in zip(scope, self.positions, strict=True)
        }
        if _holds(model, self.check, assigned):
            return None
        expr = self.check.expr
        assert expr is not None  # (a table over this many variables was made from one)
        domains = compiled(model).domains
        for name in scope:  # drop what the failure does not need
            trial = {k: v for k, v in assigned.items() if k != name}
            if not may_hold(Scope(model, trial, domains), expr):
                assigned = trial
        clause = _differ(
            found, (i for name, i in zip(scope, self.positions, strict=True) if name in assigned)
        )
        return clause if self.switch is None else [-self.switch, *clause]


def solve_checked(
    model: Model,
    solver: Solver,
    assumed: Sequence[int],
    wide: Sequence[Wide],
    values: Sequence[tuple[Value, Value]],
    clock: Clock,
) -> list[bool] | None:
    """An assignment meeting the solver's clauses and every wide check, or None."""
    while True:
        found = solver.solve(assumed, clock)
        if found is None:
            return None
        nogoods = [c for w in wide if (c := w.nogood(model, found, values)) is not None]
        if not nogoods:
            return found
        for clause in nogoods:
            solver.add(clause)


def _holds(model: Model, check: Check, values: Mapping[str, Value]) -> bool:
    """Whether a check holds; a table made for a request's narrowed domains does not
    know the values narrowed away, which the request rules out anyway: False there."""
    if check.allowed is not None and any(
        values[v] not in classes for v, classes in zip(check.scope, check.classes, strict=True)
    ):
        return False
    return check_holds(model, check, values)


def _prime_implicants(minterms: Sequence[int], width: int) -> list[tuple[int, int]]:
    """Quine-McCluskey: the prime implicants of a function given by its true points,
    each as (care mask, bits)."""
    full = (1 << width) - 1
    terms = {(full, m) for m in minterms}
    primes: list[tuple[int, int]] = []
    while terms:
        merged: set[tuple[int, int]] = set()
        used: set[tuple[int, int]] = set()
        by_mask: dict[int, set[int]] = {}
        for mask, bits in terms:
            by_mask.setdefault(mask, set()).add(bits)
        for mask, members in by_mask.items():
            for bits in members:
                for i in range(width):
                    bit = 1 << i
                    if mask & bit and not bits & bit and bits | bit in members:
                        merged.add((mask & ~bit, bits))
                        used.add((mask, bits))
                        used.add((mask, bits | bit))
        primes.extend(t for t in terms if t not in used)
        terms = merged
    return primes


def clauses_of(
    model: Model, check: Check, values: Mapping[str, tuple[Value, Value]]
) -> list[Clause]:
    """The clauses of one check over two-valued variables, as literals of positions in
    its scope (`i + 1`: the scope's i-th variable takes its second value)."""
    scope = check.scope
    failing = []
    for point in range(1 << len(scope)):
        assignment = {v: values[v][point >> i & 1] for i, v in enumerate(scope)}
        if not _holds(model, check, assignment):
            failing.append(point)
    out: list[Clause] = []
    for mask, bits in _prime_implicants(failing, len(scope)):
        # the implicant fixes the cared-for positions to `bits`; the clause forbids it
        out.append(
            tuple(-(i + 1) if bits >> i & 1 else i + 1 for i in range(len(scope)) if mask >> i & 1)
        )
    return out


@dataclass(frozen=True)
class Booleans:
    """One group's variables as the solver's, and its checks as clauses."""

    model: Model
    names: tuple[str, ...]
    values: tuple[tuple[Value, Value], ...]  # each variable's (false, true) values
    clauses: tuple[Clause, ...]
    wide: tuple[Wide, ...]

    def solver(self) -> Solver:
        return Solver(len(self.names), self.clauses)

    def solve(self, solver: Solver, assumed: Sequence[int], clock: Clock) -> list[bool] | None:
        """An assignment of the group under the assumptions, or None."""
        return solve_checked(self.model, solver, assumed, self.wide, self.values, clock)

    def assumptions(self, domains: Mapping[str, Sequence[Value]]) -> list[int] | None:
        """The literals that narrowed domains fix; None when a domain is empty."""
        out = []
        for i, name in enumerate(self.names):
            left = domains[name]
            if not left:
                return None
            if len(left) == 1:
                out.append(self.literal(i, left[0]))
        return out

    def literal(self, index: int, value: Value) -> int:
        return _literal(self.values, index, value)

    def assignment(self, model: Sequence[bool]) -> dict[str, Value]:
        """The group's values in a model of the solver."""
        return {name: self.values[i][int(model[i])] for i, name in enumerate(self.names)}


def booleans(model: Model, setup: Setup, group: Sequence[str]) -> Booleans:
    """The group of a `qualifies` check as clauses (each of the model's own checks
    read once per model)."""
    full = setup.comp.domains
    names = tuple(group)
    index = {n: i for i, n in enumerate(names)}
    values = {n: (full[n][0], full[n][1]) for n in names}
    store = CompiledModel.of(model)
    own = {id(c) for c in setup.comp.checks}
    clauses: list[Clause] = []
    wide: list[Wide] = []
    for check in setup.checks_within(group):
        if len(check.scope) > MAX_SCOPE:
            wide.append(Wide(check, tuple(index[v] for v in check.scope)))
            continue

        def build(check: Check = check) -> list[Clause]:
            return clauses_of(model, check, values)

        local = store.get(("clauses", id(check)), build) if id(check) in own else build()
        clauses += [_placed(clause, check.scope, index) for clause in local]
    return Booleans(model, names, tuple(values[n] for n in names), tuple(clauses), tuple(wide))


def _literal(values: Sequence[tuple[Value, Value]], index: int, value: Value) -> int:
    """The literal saying variable `index` takes `value` (one of its two `values`)."""
    return index + 1 if value_key(value) == value_key(values[index][1]) else -(index + 1)


def _differ(found: Sequence[bool], variables: Iterable[int]) -> list[int]:
    """The clause "some of these variables (indexes) differ from `found`"."""
    return [-(i + 1) if found[i] else i + 1 for i in variables]


def _placed(clause: Clause, scope: Sequence[str], index: Mapping[str, int]) -> Clause:
    """A check's clause (literals of positions in its scope) as the solver's."""
    return tuple(index[scope[x - 1]] + 1 if x > 0 else -index[scope[-x - 1]] - 1 for x in clause)


def _prepared(
    model: Model, setup: Setup, group: Sequence[str]
) -> tuple[Booleans, list[int]] | None:
    """The group as clauses and the literals the request's domains fix; None when a
    domain is empty."""
    found = booleans(model, setup, group)
    assumed = found.assumptions(setup.domains)
    return None if assumed is None else (found, assumed)


def sat_domains(
    model: Model,
    setup: Setup,
    group: Sequence[str],
    clock: Clock,
    wanted: set[str] | None = None,
) -> dict[str, set[tuple[type, Value]]] | None:
    """A group's valid values (exact for `wanted`, or all), or None when the group has
    no valid assignment. The values that every assignment found so far agrees on are
    the candidates to be fixed; one search asks for an assignment that differs from
    them in any one (preferring to differ in all): each one found supports every
    value it takes, and when there is none, every candidate left is fixed."""
    prepared = _prepared(model, setup, group)
    if prepared is None:
        return None
    found, assumed = prepared
    solver = found.solver()
    first = found.solve(solver, assumed, clock)
    if first is None:
        return None
    count = len(found.names)
    seen: list[set[bool]] = [{t} for t in first[:count]]
    fixed = {abs(a) - 1 for a in assumed}
    candidates = [
        i
        for i, name in enumerate(found.names)
        if i not in fixed and (wanted is None or name in wanted)
    ]
    while candidates:
        switch = solver.new_variable()
        solver.add([-switch, *_differ(first, candidates)])
        # the others lean to their first value (a yes/no option: no), which meets
        # most `requires` and leaves the candidates free to change
        solver.prefer({i: False for i in range(count)})
        solver.prefer({i: not first[i] for i in candidates})
        trial = found.solve(solver, [*assumed, switch], clock)
        solver.add([-switch])
        if trial is None:
            break
        for j in range(count):
            seen[j].add(trial[j])
        candidates = [i for i in candidates if len(seen[i]) == 1]
    return {
        name: {value_key(found.values[i][int(t)]) for t in seen[i]}
        for i, name in enumerate(found.names)
    }


def sat_assignment(
    model: Model, setup: Setup, group: Sequence[str], clock: Clock
) -> dict[str, Value] | None:
    """One valid assignment of the group, or None when it has none."""
    prepared = _prepared(model, setup, group)
    if prepared is None:
        return None
    found, assumed = prepared
    model_found = found.solve(found.solver(), assumed, clock)
    return None if model_found is None else found.assignment(model_found)


def sat_assignments(
    model: Model, setup: Setup, group: Sequence[str], clock: Clock
) -> Iterator[dict[str, Value]]:
    """Every assignment of the group, one after another (each found is then ruled out
    by a clause), in the solver's deterministic order."""
    prepared = _prepared(model, setup, group)
    if prepared is None:
        return
    found, assumed = prepared
    solver = found.solver()
    count = len(found.names)
    while (model_found := found.solve(solver, assumed, clock)) is not None:
        yield found.assignment(model_found)
        solver.add(_differ(model_found, range(count)))


def sat_count(model: Model, setup: Setup, group: Sequence[str], clock: Clock) -> int:
    """The number of assignments of the group (every check clauses): branch, propagate
    units, split what is left into independent components and count each once
    (components met again are looked up: sharpSAT's caching)."""
    prepared = _prepared(model, setup, group)
    if prepared is None:
        return 0
    found, assumed = prepared
    return count_models(len(found.names), found.clauses, assumed, clock)


def count_models(
    variables: int, clauses: Sequence[Clause], assumed: Sequence[int], clock: Clock
) -> int:
    """The number of assignments of variables 1..`variables` that meet the clauses
    and the assumed literals."""
    start = _condition(tuple(clauses), assumed)
    if start is None:
        return 0
    residual, settled = start
    counter = _Counter(clock, _elimination_rank(residual))
    total = 1 << (variables - len(settled) - len(_variables(residual)))
    for component in _components(residual):
        total *= counter.count(component)
        if not total:
            return 0
    return total


Clauses = tuple[Clause, ...]


def _occurrences(clauses: Clauses) -> dict[int, list[int]]:
    """Each literal's clauses (by position)."""
    where: dict[int, list[int]] = {}
    for n, clause in enumerate(clauses):
        for x in clause:
            where.setdefault(x, []).append(n)
    return where


def _condition(
    clauses: Clauses, literals: Sequence[int], where: Mapping[int, list[int]] | None = None
) -> tuple[Clauses, set[int]] | None:
    """The clauses left once `literals` hold and unit propagation is done, and the
    variables settled on the way; None when a clause fails. `where`: the clauses'
    `_occurrences`, when at hand."""
    true = set(literals)
    if any(-x in true for x in true):
        return None
    if where is None:
        where = _occurrences(clauses)
    done = [False] * len(clauses)  # satisfied
    left = [len(c) for c in clauses]  # literals not yet false
    queue = list(true)
    while queue:
        lit = queue.pop()
        for n in where.get(lit, ()):
            done[n] = True
        for n in where.get(-lit, ()):
            if done[n]:
                continue
            left[n] -= 1
            if left[n] == 0:
                return None
            if left[n] == 1:
                unit = next((x for x in clauses[n] if -x not in true), None)
                if unit is None:  # its last literal's negation is waiting in the queue
                    return None
                if unit not in true:
                    true.add(unit)
                    queue.append(unit)
    residual = tuple(
        tuple(x for x in clause if -x not in true)
        for n, clause in enumerate(clauses)
        if not done[n] and not any(x in true for x in clause)
    )
    if any(not c for c in residual):
        return None
    return residual, {abs(x) for x in true}


def _variables(clauses: Clauses) -> set[int]:
    return {abs(x) for clause in clauses for x in clause}


def _components(clauses: Clauses) -> list[Clauses]:
    """The clauses split into groups that share no variable."""
    parent: dict[int, int] = {}

    def find(v: int) -> int:
        while parent.setdefault(v, v) != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for clause in clauses:
        root = find(abs(clause[0]))
        for x in clause[1:]:
            parent[find(abs(x))] = root
    out: dict[int, list[Clause]] = {}
    for clause in clauses:
        out.setdefault(find(abs(clause[0])), []).append(clause)
    return [tuple(sorted(c)) for c in out.values()]


def _elimination_rank(clauses: Clauses) -> dict[int, int]:
    """Each variable's place in a min-fill elimination order of the clauses' variable
    graph: those eliminated last separate the graph into parts, so branching on them
    first splits the clauses into independent components soonest."""
    near: dict[int, set[int]] = {}
    for clause in clauses:
        for x in clause:
            near.setdefault(abs(x), set()).update(abs(y) for y in clause if abs(y) != abs(x))

    def fill(var: int) -> tuple[int, int, int]:
        around = list(near[var])
        missing = sum(1 for i, a in enumerate(around) for b in around[i + 1 :] if b not in near[a])
        return missing, len(around), var

    rank: dict[int, int] = {}
    while near:
        var = min(near, key=fill)
        around = near.pop(var)
        for other in around:
            near[other] |= around - {other}
            near[other].discard(var)
        rank[var] = len(rank)
    return rank


class _Counter:
    def __init__(self, clock: Clock, rank: Mapping[int, int]) -> None:
        self.clock = clock
        self.rank = rank
        self.cache: dict[Clauses, int] = {}

    def count(self, clauses: Clauses) -> int:
        """The models of one component over its own variables."""
        known = self.cache.get(clauses)
        if known is not None:
            return known
        self.clock.tick()
        where = _occurrences(clauses)
        variables = {abs(x) for x in where}
        pick = max(variables, key=self.rank.__getitem__)
        total = 0
        for literal in (pick, -pick):
            after = _condition(clauses, [literal], where)
            if after is None:
                continue
            residual, settled = after
            free = len(variables) - len(settled | _variables(residual))
            part = 1 << free
            for component in _components(residual):
                part *= self.count(component)
                if not part:
                    break
            total += part
        self.cache[clauses] = total
        return total


class Switchboard:
    """A model's rules and a request's requires as clauses, each switched on by
    assuming its own extra variable: one solver answers every subset of them an
    explanation asks about, keeping what it learns from one question for the next."""

    def __init__(
        self,
        model: Model,
        variables: Sequence[str],
        checks: Sequence[tuple[str | None, Check]],
    ) -> None:
        comp = compiled(model)
        self.model = model
        self.names = tuple(variables)
        index = {name: i for i, name in enumerate(self.names)}
        self.values = tuple((comp.domains[n][0], comp.domains[n][1]) for n in self.names)
        pairs = dict(zip(self.names, self.values, strict=True))
        self.solver = Solver(len(self.names), ())
        self.switches: dict[str, int] = {}
        self.wide: list[Wide] = []
        store = CompiledModel.of(model)
        own = {id(c) for c in comp.checks}
        for key, check in checks:
            switch: list[int] = []
            if key is not None:
                if key not in self.switches:
                    self.switches[key] = self.solver.new_variable()
                switch = [-self.switches[key]]
            if len(check.scope) > MAX_SCOPE:
                positions = tuple(index[v] for v in check.scope)
                self.wide.append(Wide(check, positions, -switch[0] if switch else None))
                continue

            def build(check: Check = check) -> list[Clause]:
                return clauses_of(model, check, pairs)

            local = store.get(("clauses", id(check)), build) if id(check) in own else build()
            for clause in local:
                self.solver.add([*switch, *_placed(clause, check.scope, index)])

    @staticmethod
    def of(model: Model, requires: Sequence[Expr]) -> Switchboard | None:
        """The switchboard of a model whose rules and `requires` qualify as clauses
        (see `qualifies`), else None."""
        comp = compiled(model)
        origins = [(Origin("request", f"require[{i}]"), e) for i, e in enumerate(requires)]
        checks: list[tuple[str | None, Check]] = [
            (None if c.origin.kind == "structure" else f"rule:{c.origin.name}", c)
            for c in comp.checks
        ]
        checks += [
            (f"require:{i}", c) for i, c in enumerate(checks_for(model, origins, comp.domains))
        ]
        read = {v for _, c in checks for v in c.scope}
        if len(read) < MIN_VARIABLES or any(len(comp.domains[v]) != 2 for v in read):
            return None
        if any(len(c.scope) > MAX_SCOPE and c.expr is None for _, c in checks):
            return None
        return Switchboard(model, sorted(read), checks)

    def witness(
        self,
        select: Mapping[str, Value],
        requires: Collection[int],
        rules: Collection[str],
        clock: Clock,
    ) -> dict[str, Value] | None:
        """An assignment of every variable under the selects, the requires (by index)
        and the rules named, or None when there is none."""
        comp = compiled(self.model)
        assumed = [
            *(self.switches[f"rule:{r}"] for r in rules if f"rule:{r}" in self.switches),
            *(self.switches[f"require:{i}"] for i in requires if f"require:{i}" in self.switches),
        ]
        position = {name: i for i, name in enumerate(self.names)}
        for name, value in select.items():
            if name in position:
                assumed.append(_literal(self.values, position[name], value))
        found = solve_checked(self.model, self.solver, assumed, self.wide, self.values, clock)
        if found is None:
            return None
        out = {name: select.get(name, domain[0]) for name, domain in comp.domains.items()}
        out.update({n: self.values[i][int(found[i])] for i, n in enumerate(self.names)})
        return out


__all__ = [
    "Booleans",
    "Switchboard",
    "booleans",
    "clauses_of",
    "qualifies",
    "sat_assignment",
    "sat_assignments",
    "sat_count",
    "sat_domains",
]
