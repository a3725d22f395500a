"""Why a request has no valid assembly, and what to change (`explain`).

The model's structure (component types, `where`, quantity ranges, option
domains) is the hard background. The candidates are the request's items (each
select and each require) and the model's rules. A conflict is found with
QuickXplain (Junker 2004): a set of candidates that is unsatisfiable and
minimal, removing any one member makes the rest satisfiable. Repairs are the
smallest sets of request items whose removal makes the request satisfiable
(minimal diagnoses, smallest first, FastDiag for long requests), each with a
concrete valid assembly; a repair that drops a select also says which values of
that choice would do instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from atoconf.engine.clauses import Switchboard
from atoconf.engine.clock import Clock, Stop, Stopped
from atoconf.engine.optimise import cheapest_by_graph
from atoconf.engine.paths import CLAUSES, answered
from atoconf.engine.problem import assembly_of, check_holds, compiled
from atoconf.engine.request import ResolvedRequest
from atoconf.engine.results import JSON_VERSION, AssemblyResult, assembly_result
from atoconf.engine.setup import Setup
from atoconf.engine.solve import domains, satisfiable, solve, witness
from atoconf.engine.sweep import Unsupported
from atoconf.language.evaluate import holds
from atoconf.language.model import Expr, Model, Value

MAX_REPAIRS = 5
EXHAUSTIVE_ITEMS = 10  # up to this many request items, repairs are found smallest first
# steps of search on a question before its own graphs decide it (least, first, most):
# half of the questions have no assembly, which a search is slow to prove
QUICK_STEPS = (250, 2_000, 8_000)
KEPT_ASSEMBLIES = 8  # assemblies found kept to answer later questions
GRAPH_STEPS = 2_000  # steps of a graph's best-first search for a repair's assembly


@dataclass(frozen=True)
class Candidate:
    """A request item or a rule: what a conflict is made of."""

    kind: Literal["select", "require", "rule"]
    key: str  # the variable, the require's index, or the rule's name
    text: str  # `cpu=CPU-R7-7700X`, the require's text, or the rule's name


class Member(BaseModel):
    """One member of a conflict, in the user's terms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["rule", "request"]
    name: str | None = None  # a rule's name
    item: str | None = None  # a request item as written
    description: str | None = None
    file: str | None = None
    line: int | None = None
    col: int | None = None

    def to_json(self) -> dict[str, Any]:
        if self.kind == "request":
            return {"kind": "request", "item": self.item}
        return {
            "kind": "rule",
            "name": self.name,
            "description": self.description,
            "file": self.file,
            "line": self.line,
            "col": self.col,
        }


class Repair(BaseModel):
    """Request items to drop, and an assembly that is valid without them; for a
    dropped select, the values of that choice that would also do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    remove: list[str]
    assembly: AssemblyResult
    instead: dict[str, list[Value]] = {}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"remove": self.remove, "assembly": self.assembly.to_json()}
        if self.instead:
            out["instead"] = self.instead
        return out


class Explanation(BaseModel):
    """What `explain` answers; `conflicts` lists more than one only when
    several were asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = JSON_VERSION
    satisfiable: bool
    conflict: list[Member] = []
    conflicts: list[list[Member]] = []
    repairs: list[Repair] = []
    solver_calls: int = 0
    stopped: Stopped = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version,
            "satisfiable": self.satisfiable,
            "conflict": [m.to_json() for m in self.conflict],
            "repairs": [r.to_json() for r in self.repairs],
        }
        if len(self.conflicts) > 1:
            out["conflicts"] = [[m.to_json() for m in c] for c in self.conflicts]
        if self.stopped:
            out["stopped"] = self.stopped
        return out


def item_text(var: str, value: Value) -> str:
    """A select item as the request writes it: `cpu=CPU-R7-7700X`, `gpu=none`."""
    shown = "none" if value is None else str(value).lower() if isinstance(value, bool) else value
    return f"{var}={shown}"


class _Oracle:
    """Satisfiability of subsets of candidates, counted and cached."""

    def __init__(self, model: Model, request: ResolvedRequest, clock: Clock) -> None:
        self.model = model
        self.request = request
        self.clock = clock
        self.calls = 0
        self.cache: dict[frozenset[Candidate], dict[str, Value] | None] = {}
        self.truth: dict[frozenset[Candidate], bool] = {}
        self.found: list[dict[str, Value]] = []  # the last assemblies searches found
        self.quick_steps = QUICK_STEPS[1]
        self.rules = frozenset(Candidate("rule", name, name) for name in model.rules)
        # a model of two-valued choices: every question one call of a SAT solver
        variables = compiled(model).variables
        self.board = (
            Switchboard.of(model, [expr for _, expr in request.requires])
            if all(name in variables for name in request.selects)
            else None
        )

    def _on_board(self, members: frozenset[Candidate]) -> dict[str, Value] | None:
        assert self.board is not None
        answered("explain", CLAUSES)
        select = {c.key: self.request.selects[c.key] for c in members if c.kind == "select"}
        requires = [int(c.key) for c in members if c.kind == "require"]
        rules = [c.key for c in members if c.kind == "rule"]
        return self.board.witness(select, requires, rules, self.clock)

    def _question(
        self, members: frozenset[Candidate]
    ) -> tuple[dict[str, Value], list[Expr], set[str]]:
        select = {c.key: self.request.selects[c.key] for c in members if c.kind == "select"}
        require: list[Expr] = [
            self.request.requires[int(c.key)][1] for c in members if c.kind == "require"
        ]
        return select, require, {c.key for c in members if c.kind == "rule"}

    def witness(self, members: frozenset[Candidate]) -> dict[str, Value] | None:
        found = self.cache.get(members, _UNKNOWN)
        if found is not _UNKNOWN:
            return found  # type: ignore[return-value]
        self.calls += 1
        self.clock.check()
        if self.board is not None:
            self.cache[members] = result = self._on_board(members)
            return result
        select, require, rules = self._question(members)
        answered("explain", "search", self._why_search(members))
        result = witness(self.model, select, require, rules, self.clock)
        self.cache[members] = result
        return result

    def _fits(
        self,
        values: Mapping[str, Value],
        select: Mapping[str, Value],
        require: Sequence[Expr],
        rules: Collection[str],
    ) -> bool:
        """Whether an assembly found before answers a question: its selects, its
        requires and its rules hold there."""
        if any(values[k] != v or type(values[k]) is not type(v) for k, v in select.items()):
            return False
        comp = compiled(self.model)
        if not all(
            check_holds(self.model, c, values)
            for c in comp.checks
            if c.origin.kind == "rule" and c.origin.name in rules
        ):
            return False
        assembly = assembly_of(self.model, values)
        return all(holds(self.model, expr, assembly) for expr in require)

    def _search(
        self, select: Mapping[str, Value], require: Sequence[Expr], rules: Collection[str]
    ) -> bool:
        """A short search (its assembly kept for later questions), then graphs of the
        question's own rules: a search alone can take long to prove none is left."""
        setup = Setup(self.model, select, require, rules=rules)
        if not setup.satisfiable_so_far or setup.bounds_refute():
            return False
        try:
            values = next(setup.iterate(self.clock.capped(self.quick_steps)), None)
        except Stop as stop:
            if stop.reason != "cap":
                raise
        else:
            if values is None:
                return False
            self.found.insert(0, values)
            del self.found[KEPT_ASSEMBLIES:]
            return True
        found = satisfiable(self.model, select, require, rules, self.clock, graph_first=True)
        # one model's questions tend to be alike: a search that ran out on a question
        # with an assembly should have gone on; on one without, stopped sooner
        steps = self.quick_steps * 2 if found else self.quick_steps // 2
        self.quick_steps = min(max(steps, QUICK_STEPS[0]), QUICK_STEPS[2])
        return found

    def _why_search(self, members: frozenset[Candidate]) -> str:
        if self.rules - members:
            return "a question without every rule: the graphs hold them all"
        return "a requirement: the graphs hold rules, not requirements"

    def consistent(self, members: frozenset[Candidate]) -> bool:
        if members in self.cache:
            return self.cache[members] is not None
        found = self.truth.get(members)
        if found is None and self.board is not None:
            return self.witness(members) is not None
        if found is None:
            self.calls += 1
            self.clock.check()
            select, require, rules = self._question(members)
            if any(self._fits(values, select, require, rules) for values in self.found):
                found = True  # an assembly found for an earlier question does
            elif require or self.rules - members:
                # a short search, then graphs of the question's own rules: a search
                # alone can take long to prove that no assembly is left
                answered("explain", "search", self._why_search(members))
                found = self._search(select, require, rules)
            else:
                # every rule and only selects: most of an explanation's questions have
                # no assembly, which the model's compiled graphs prove at once, where a
                # search would first run out its quick steps
                found = satisfiable(self.model, select, [], None, self.clock, graph_first=True)
            self.truth[members] = found
        return found


_UNKNOWN = object()
Item = TypeVar("Item", bound=Hashable)


def quickxplain(
    consistent: Callable[[frozenset[Item]], bool],
    background: frozenset[Item],
    candidates: Sequence[Item],
) -> list[Item] | None:
    """A minimal conflict among `candidates` given the hard `background`, or None
    when background and candidates are satisfiable together. Items earlier in
    the list are kept out of the conflict when a choice exists (Junker's preference
    order: the conflict is the lexicographically latest one)."""
    if consistent(background | frozenset(candidates)):
        return None
    if not candidates or not consistent(background):
        return []  # the background alone fails: no candidate is to blame

    def qx(base: frozenset[Item], delta: bool, rest: Sequence[Item]) -> list[Item]:
        if delta and not consistent(base):
            return []
        if len(rest) == 1:
            return list(rest)
        half = len(rest) // 2
        first, second = rest[:half], rest[half:]
        found2 = qx(base | frozenset(first), bool(first), second)
        found1 = qx(base | frozenset(found2), bool(found2), first)
        return found1 + found2

    return qx(background, False, list(candidates))


def fastdiag(
    consistent: Callable[[frozenset[Candidate]], bool],
    candidates: Sequence[Candidate],
    hard: frozenset[Candidate],
) -> list[Candidate] | None:
    """One minimal diagnosis (Felfernig et al. 2012): candidates whose removal makes
    the rest satisfiable with `hard`; None when even dropping all of them fails."""
    if not consistent(hard):
        return None
    if consistent(hard | frozenset(candidates)):
        return []

    def fd(
        delta: bool, diag_of: Sequence[Candidate], all_: frozenset[Candidate]
    ) -> list[Candidate]:
        if delta and consistent(all_):
            return []
        if len(diag_of) == 1:
            return list(diag_of)
        half = len(diag_of) // 2
        first, second = diag_of[:half], diag_of[half:]
        d1 = fd(bool(second), first, all_ - frozenset(second))
        d2 = fd(bool(d1), second, all_ - frozenset(d1))
        return d1 + d2

    return fd(False, list(candidates), hard | frozenset(candidates))


def _diagnoses(
    consistent: Callable[[frozenset[Candidate]], bool],
    items: Sequence[Candidate],
    hard: frozenset[Candidate],
    most: int,
) -> Iterator[list[Candidate]]:
    """Minimal sets of request items to drop, fewest first: every subset by size,
    skipping supersets of one already found; FastDiag alone for long requests."""
    if len(items) > EXHAUSTIVE_ITEMS:
        found = fastdiag(consistent, items, hard)
        if found:
            yield found
        return
    found_sets: list[frozenset[Candidate]] = []
    for size in range(1, len(items) + 1):
        for combo in itertools.combinations(items, size):
            drop = frozenset(combo)
            if any(f <= drop for f in found_sets):
                continue
            if consistent(hard | (frozenset(items) - drop)):
                found_sets.append(drop)
                yield list(combo)
                if len(found_sets) >= most:
                    return


def explain(
    model: Model,
    request: ResolvedRequest,
    why: tuple[str, Value] | None = None,
    max_conflicts: int = 1,
    blame: Literal["request", "rules"] = "request",
    clock: Clock | None = None,
    max_repairs: int = MAX_REPAIRS,
) -> Explanation:
    """Why the request (with `why`: the request plus var=value) has no valid
    assembly: minimal conflicts and repairs. `satisfiable` is True when it has one."""
    clock = clock or Clock()
    oracle = _Oracle(model, request, clock)
    items = [Candidate("select", k, item_text(k, v)) for k, v in request.selects.items()]
    items += [Candidate("require", str(i), text) for i, (text, _) in enumerate(request.requires)]
    rules = [Candidate("rule", name, name) for name in model.rules]
    hard: frozenset[Candidate] = frozenset()
    if why is not None:
        var, value = why
        extra = ResolvedRequest(
            {**request.selects, var: value},
            request.requires,
            request.objective,
            request.limit,
            request.deadline,
            request.request,
        )
        oracle = _Oracle(model, extra, clock)
        items = [c for c in items if not (c.kind == "select" and c.key == var)]
        hard = frozenset({Candidate("select", var, item_text(var, value))})
    # QuickXplain keeps the earlier candidates out of the conflict when it can:
    # blaming request items first means listing the rules first
    ordered = rules + items if blame == "request" else items + rules
    conflicts: list[list[Candidate]] = []
    repairs: list[Repair] = []
    stopped: Stopped = None
    try:
        first = quickxplain(oracle.consistent, hard, ordered)
        if first is None:
            return Explanation(satisfiable=True, solver_calls=oracle.calls)
        conflicts.append(first)
        conflicts += _more_conflicts(oracle.consistent, hard, ordered, first, max_conflicts)
        if why is None:
            repairs = _repairs(model, request, oracle, items, rules, max_repairs, clock)
    except Stop as stop:
        stopped = stop.reason
    members = [[_member(model, c) for c in conflict] for conflict in conflicts]
    return Explanation(
        satisfiable=False,
        conflict=members[0] if members else [],
        conflicts=members if len(members) > 1 else [],
        repairs=repairs,
        solver_calls=oracle.calls,
        stopped=stopped,
    )


def _more_conflicts(
    consistent: Callable[[frozenset[Candidate]], bool],
    hard: frozenset[Candidate],
    ordered: Sequence[Candidate],
    first: list[Candidate],
    most: int,
) -> list[list[Candidate]]:
    """Further minimal conflicts, breadth first over a hitting-set tree: each node
    removes one member of a conflict found above it (Reiter's HS-tree)."""
    found = [frozenset(first)]
    out: list[list[Candidate]] = []
    frontier: list[frozenset[Candidate]] = [frozenset()]
    seen_paths: set[frozenset[Candidate]] = set()
    while frontier and len(found) < most:
        path = frontier.pop(0)
        # a conflict this path has not hit yet
        target = next((c for c in found if not (c & path)), None)
        if target is None:
            continue
        for member in sorted(target, key=ordered.index):
            child = path | {member}
            if child in seen_paths:
                continue
            seen_paths.add(child)
            rest = [c for c in ordered if c not in child]
            conflict = quickxplain(consistent, hard, rest)
            if conflict is None:
                continue  # removing these resolves every conflict: a leaf
            key = frozenset(conflict)
            if key not in found:
                found.append(key)
                out.append(conflict)
                if len(found) >= most:
                    break
            frontier.append(child)
    return out


def _repairs(
    model: Model,
    request: ResolvedRequest,
    oracle: _Oracle,
    items: Sequence[Candidate],
    rules: Sequence[Candidate],
    most: int,
    clock: Clock,
) -> list[Repair]:
    """Repairs, fewest changes first, then (with the request's objective) the best
    assembly first; each with its best assembly, or any valid one without an
    objective."""
    hard = frozenset(rules)
    ranked: list[tuple[int, Fraction, int, Repair]] = []
    objective = request.objective
    for n, diagnosis in enumerate(_diagnoses(oracle.consistent, items, hard, most)):
        kept = hard | (frozenset(items) - frozenset(diagnosis))
        selects = {k: v for k, v in request.selects.items() if item_in(k, kept)}
        requires = [e for i, (_, e) in enumerate(request.requires) if item_in(str(i), kept)]
        assembly: AssemblyResult | None = None
        score = Fraction(0)
        if objective is not None:
            best = next(
                solve(
                    model,
                    selects,
                    requires,
                    minimize=objective.minimize,
                    maximize=objective.maximize,
                    limit=1,
                    clock=clock,
                ),
                None,
            )
            if best is not None and best.objective is not None:
                assembly = best
                score = Fraction(best.objective) * (1 if objective.sense == "min" else -1)
        elif oracle.board is None:  # (a switchboard's witness is at hand)
            assembly = _any_assembly(model, selects, requires, clock)
        if assembly is None:
            values = oracle.witness(kept)
            assert values is not None
            assembly = assembly_result(model, values)
        instead: dict[str, list[Value]] = {}
        for c in diagnosis:
            if c.kind != "select":
                continue
            others = {k: v for k, v in selects.items() if k != c.key}
            left = domains(model, others, requires, clock=clock, variables={c.key})
            options = left.domains.get(c.key, [])
            instead[c.key] = [v for v in options if v != request.selects[c.key]]
        repair = Repair(remove=[c.text for c in diagnosis], assembly=assembly, instead=instead)
        ranked.append((len(diagnosis), score, n, repair))
    return [repair for *_, repair in sorted(ranked, key=lambda r: r[:3])]


def _any_assembly(
    model: Model, selects: Mapping[str, Value], requires: Sequence[Expr], clock: Clock
) -> AssemblyResult | None:
    """A valid assembly of a satisfiable request: a path of the compiled graphs, found
    in a few steps where they hold every rule; else (rules checked only on complete
    paths can fail on most of them) the short search and graph listing of `solve`."""
    try:
        found = cheapest_by_graph(
            model, selects, None, True, 1, require=requires, clock=clock.capped(GRAPH_STEPS)
        )
    except Unsupported:
        found = None
    if found is not None and found.stopped:  # cheapest_by_graph says why it stopped
        if found.stopped != "cap":
            raise Stop(found.stopped)
        found = None
    if found is not None and found.assemblies:
        return found.assemblies[0]
    stream = solve(model, selects, requires, limit=1, clock=clock)
    assembly = next(stream, None)
    if stream.stopped:
        raise Stop(stream.stopped)
    return assembly


def item_in(key: str, members: frozenset[Candidate]) -> bool:
    return any(c.key == key and c.kind != "rule" for c in members)


def _member(model: Model, candidate: Candidate) -> Member:
    if candidate.kind != "rule":
        return Member(kind="request", item=candidate.text)
    rule = model.rules[candidate.key]
    span = rule.span
    return Member(
        kind="rule",
        name=rule.name,
        description=rule.description,
        file=span.file if span else None,
        line=span.line if span else None,
        col=span.col if span else None,
    )
