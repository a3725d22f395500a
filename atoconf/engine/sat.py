"""A conflict-driven clause-learning SAT solver, for groups of two-valued choices.

Models made of yes/no options (feature models: hundreds of options in a tree of
groups with cross-tree `requires`/`excludes`) do not fit a decision graph
ordered by variables: every cross-tree rule keeps its options open across the
levels between them. Their rules are small clauses, though, on which unit
propagation and learned clauses (MiniSat: Eén and Sörensson 2003) decide a
question in milliseconds.

Literals are non-zero ints as in DIMACS: `v + 1` says variable `v` is true,
`-(v + 1)` that it is false. Inside, literal `2v` is "v true" and `2v + 1` "v false".
Assumptions are decided first, one level each, so clauses learned under them
follow from the clauses alone and stay valid for the next call; when the
assumptions cannot hold together, `core` names a subset of them that cannot.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

from atoconf.engine.clock import Clock

UNSET = -1
RESTART_FIRST = 100  # conflicts before the first restart (Luby sequence after)
DECAY = 1 / 0.95  # growth of the activity bump: recent conflicts weigh more


def _code(literal: int) -> int:
    return 2 * (literal - 1) if literal > 0 else 2 * (-literal - 1) + 1


def _luby(i: int) -> int:
    """The i-th term (from 0) of the Luby sequence 1 1 2 1 1 2 4 1 1 2 ..."""
    size, seq = 1, 0
    while size < i + 1:
        seq += 1
        size = 2 * size + 1
    while size - 1 != i:
        size = (size - 1) // 2
        seq -= 1
        i %= size
    return 1 << seq


class Solver:
    """Clauses over `variables` two-valued variables, asked again and again under
    different assumptions."""

    def __init__(self, variables: int, clauses: Iterable[Sequence[int]]) -> None:
        self.variables = variables
        self.value = [UNSET] * (2 * variables)  # per literal: 1 true, 0 false
        self.level = [0] * variables
        self.reason: list[list[int] | None] = [None] * variables
        self.watches: list[list[list[int]]] = [[] for _ in range(2 * variables)]
        self.trail: list[int] = []
        self.limits: list[int] = []  # where each decision level starts on the trail
        self.head = 0
        self.activity = [0.0] * variables
        self.bump = 1.0
        self.heap = [(0.0, v) for v in range(variables)]
        self.phase = [1] * variables  # the value a decision tries first: false
        self.contradiction = False
        self.core: list[int] = []
        for clause in clauses:
            self._add([_code(x) for x in clause])

    def new_variable(self) -> int:
        """One more variable (its positive literal), for a clause switched on by
        assuming it."""
        var = self.variables
        self.variables += 1
        self.value += [UNSET, UNSET]
        self.level.append(0)
        self.reason.append(None)
        self.watches += [[], []]
        self.activity.append(0.0)
        self.phase.append(1)
        heapq.heappush(self.heap, (0.0, var))
        return var + 1

    def add(self, clause: Sequence[int]) -> None:
        """One more clause (between calls of `solve`)."""
        self._add([_code(x) for x in clause])

    def _add(self, clause: list[int]) -> None:
        clause = list(dict.fromkeys(clause))
        members = set(clause)
        if any(c ^ 1 in members for c in clause) or any(self.value[c] == 1 for c in clause):
            return  # always true
        clause = [c for c in clause if self.value[c] == UNSET]  # top-level falses never change
        if not clause:
            self.contradiction = True
        elif len(clause) == 1:
            if self.value[clause[0]] == 0:
                self.contradiction = True
            elif self.value[clause[0]] == UNSET:
                self._assign(clause[0], None)
                if self._propagate() is not None:
                    self.contradiction = True
        else:
            self.watches[clause[0]].append(clause)
            self.watches[clause[1]].append(clause)

    def prefer(self, phases: Mapping[int, bool]) -> None:
        """The value each named variable's decisions try first (kept until changed)."""
        for var, truth in phases.items():
            self.phase[var] = 0 if truth else 1

    def _assign(self, lit: int, reason: list[int] | None) -> None:
        self.value[lit] = 1
        self.value[lit ^ 1] = 0
        var = lit >> 1
        self.level[var] = len(self.limits)
        self.reason[var] = reason
        self.trail.append(lit)

    def _propagate(self) -> list[int] | None:
        """Unit propagation from the trail's head; the clause that fails, if one does."""
        value, watches, trail = self.value, self.watches, self.trail
        while self.head < len(trail):
            false = trail[self.head] ^ 1
            self.head += 1
            watching = watches[false]
            keep: list[list[int]] = []
            for n, clause in enumerate(watching):
                if clause[0] == false:
                    clause[0], clause[1] = clause[1], false
                first = clause[0]
                if value[first] == 1:
                    keep.append(clause)
                    continue
                for k in range(2, len(clause)):
                    if value[clause[k]] != 0:
                        clause[1], clause[k] = clause[k], false
                        watches[clause[1]].append(clause)
                        break
                else:
                    keep.append(clause)
                    if value[first] == 0:
                        keep.extend(watching[n + 1 :])
                        watches[false] = keep
                        return clause
                    self._assign(first, clause)
            watches[false] = keep
        return None

    def _analyze(self, conflict: list[int]) -> tuple[list[int], int]:
        """The learned clause (first unique implication point, asserting literal
        first) and the level to go back to."""
        seen = set()
        learned = [0]
        open_here = 0
        here = len(self.limits)
        index = len(self.trail) - 1
        clause = conflict
        lit = -1
        while True:
            for q in clause if lit == -1 else clause[1:]:
                var = q >> 1
                if var not in seen and self.level[var] > 0:
                    seen.add(var)
                    self._bump(var)
                    if self.level[var] >= here:
                        open_here += 1
                    else:
                        learned.append(q)
            while self.trail[index] >> 1 not in seen:
                index -= 1
            lit = self.trail[index]
            index -= 1
            var = lit >> 1
            seen.discard(var)
            open_here -= 1
            if open_here == 0:
                break
            reason = self.reason[var]
            assert reason is not None
            clause = reason
        learned[0] = lit ^ 1
        if len(learned) == 1:
            return learned, 0
        top = max(range(1, len(learned)), key=lambda i: self.level[learned[i] >> 1])
        learned[1], learned[top] = learned[top], learned[1]
        return learned, self.level[learned[1] >> 1]

    def _failed(self, lit: int) -> list[int]:
        """The assumptions that force `lit` false (an assumption found false)."""
        core = {lit}
        if not self.limits:
            return [lit]
        seen = {lit >> 1}
        for i in range(len(self.trail) - 1, self.limits[0] - 1, -1):
            var = self.trail[i] >> 1
            if var not in seen:
                continue
            reason = self.reason[var]
            if reason is None:
                core.add(self.trail[i])
            else:
                seen.update(q >> 1 for q in reason[1:] if self.level[q >> 1] > 0)
        return sorted(core)

    def _bump(self, var: int) -> None:
        self.activity[var] += self.bump
        if self.activity[var] > 1e100:
            self.activity = [a * 1e-100 for a in self.activity]
            self.bump *= 1e-100
            self.heap = [(-a, v) for v, a in enumerate(self.activity)]
            heapq.heapify(self.heap)
        elif len(self.heap) > 4 * self.variables + 1000:  # mostly stale entries
            self.heap = [(-a, v) for v, a in enumerate(self.activity)]
            heapq.heapify(self.heap)
        else:
            heapq.heappush(self.heap, (-self.activity[var], var))

    def _cancel(self, level: int) -> None:
        if len(self.limits) <= level:
            return
        start = self.limits[level]
        for lit in self.trail[start:]:
            var = lit >> 1
            self.value[lit] = self.value[lit ^ 1] = UNSET
            self.reason[var] = None
            self.phase[var] = lit & 1
            heapq.heappush(self.heap, (-self.activity[var], var))
        del self.trail[start:]
        del self.limits[level:]
        self.head = start

    def _pick(self) -> int | None:
        heap, value = self.heap, self.value
        while heap:
            _, var = heapq.heappop(heap)
            if value[2 * var] == UNSET:
                return 2 * var + self.phase[var]
        return None

    def solve(self, assumptions: Sequence[int], clock: Clock) -> list[bool] | None:
        """A model (each variable's value) in which every assumption holds, or None
        with `core` a subset of the assumptions that cannot hold together."""
        self.core = []
        if self.contradiction:
            return None
        wanted = [_code(a) for a in assumptions]
        conflicts = 0
        restarts = 0
        limit = RESTART_FIRST * _luby(0)
        try:
            while True:
                conflict = self._propagate()
                if conflict is not None:
                    clock.tick()
                    conflicts += 1
                    if not self.limits:
                        self.contradiction = True
                        return None
                    learned, back = self._analyze(conflict)
                    self._cancel(back)
                    if len(learned) == 1:
                        self._assign(learned[0], None)
                    else:
                        self.watches[learned[0]].append(learned)
                        self.watches[learned[1]].append(learned)
                        self._assign(learned[0], learned)
                    self.bump *= DECAY
                    continue
                if conflicts >= limit:
                    restarts += 1
                    limit = conflicts + RESTART_FIRST * _luby(restarts)
                    self._cancel(0)
                    continue
                lit: int | None = None
                while len(self.limits) < len(wanted):
                    assumed = wanted[len(self.limits)]
                    if self.value[assumed] == 0:
                        self.core = [_literal(c) for c in self._failed(assumed)]
                        return None
                    self.limits.append(len(self.trail))
                    if self.value[assumed] == UNSET:
                        lit = assumed
                        break
                if lit is None:
                    lit = self._pick()
                    if lit is None:
                        return [self.value[2 * v] == 1 for v in range(self.variables)]
                    self.limits.append(len(self.trail))
                clock.tick()
                self._assign(lit, None)
        finally:
            self._cancel(0)


def _literal(code: int) -> int:
    return (code >> 1) + 1 if not code & 1 else -((code >> 1) + 1)
