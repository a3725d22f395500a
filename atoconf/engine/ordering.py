"""A variable order for the sweep's layered graph, chosen by an estimate of its size.

Between two levels, a state is the rests of the tables that are open there (some
of their variables placed, some not). How many distinct rests a table can have
depends only on which of its positions are placed: group its rows by their classes
at those positions and count the distinct remainders. The states at a cut are at
most the product of that over the open tables, and at most the product of the
groups the placed variables those tables read split into (one part often decides
the rests of several tables); the estimate is the smaller. A level costs about its
states times the groups of values its variable splits into. The order is the one
with the smallest estimated sum that a greedy start and a local search find; no
graph is built to find it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from atoconf.engine.clock import Clock
from atoconf.engine.flows import Ints
from atoconf.engine.problem import Check
from atoconf.engine.propagate import qty_var
from atoconf.language.model import Value

# the log of the rests a lazy check (no rows) has once some of its positions are placed
LazyRests = Callable[[int, frozenset[int]], float]
Unit = tuple[str, ...]  # a variable, or a part's quantity and the part, placed together
LOG_CAP = 69.0  # e^69 ~ 10^30: past this every order is hopeless alike
# an order whose graph is estimated at most this many edges is taken without a search
GOOD_ENOUGH = 1e7
SEARCH_STEPS = 60_000  # units placed while the local search weighs orders


class _Tables:
    """What the estimate reads of the tables: rows within the domains, who touches
    what, and the two counts above, each worked out once."""

    def __init__(
        self,
        units: Sequence[Unit],
        tables: Sequence[Check],
        domains: Mapping[str, Sequence[Value]],
        lazy_rests: LazyRests | None = None,
    ) -> None:
        self.tables = tables
        self.lazy_rests = lazy_rests
        self.domains = domains
        # per table: its rows within the domains, one per line (None: a lazy check's)
        self.rows: list[Ints | None] = []
        self.present: list[list[set[int]]] = []  # per table and position: its classes
        for check in tables:
            present = [{check.classes[i][x] for x in domains[v]} for i, v in enumerate(check.scope)]
            self.present.append(present)
            if check.allowed is None:
                self.rows.append(None)
                continue
            kept = [r for r in check.allowed if all(c in present[i] for i, c in enumerate(r))]
            self.rows.append(np.array(kept, dtype=np.int64).reshape(len(kept), len(check.scope)))
        self._rests: dict[tuple[int, frozenset[int]], float] = {}
        self._signatures: dict[tuple[str, frozenset[int]], float] = {}
        self._columns: dict[tuple[int, int], Ints] = {}
        self.touching: dict[str, list[tuple[int, int]]] = {}
        for n, check in enumerate(tables):
            for pos, v in enumerate(check.scope):
                self.touching.setdefault(v, []).append((n, pos))
        # per unit: its positions per table, and the log of the groups its values form
        self.positions: dict[Unit, dict[int, frozenset[int]]] = {}  # per unit and table
        self.groups: dict[Unit, float] = {}
        for unit in units:
            at: dict[int, set[int]] = {}
            split = 0.0
            for v in unit:
                for n, pos in self.touching.get(v, ()):
                    at.setdefault(n, set()).add(pos)
                split += self.signatures(v, frozenset(n for n, _ in self.touching.get(v, ())))
            self.positions[unit] = {n: frozenset(p) for n, p in at.items()}
            self.groups[unit] = split

    def unit_tables(self, unit: Unit) -> list[int]:
        """The tables a unit touches."""
        return list(self.positions[unit])

    def rests(self, n: int, placed: frozenset[int]) -> float:
        """The log of the distinct rests table `n` can have once `placed` positions are set."""
        key = (n, placed)
        found = self._rests.get(key)
        rows = self.rows[n]
        if found is None and rows is None and self.lazy_rests is not None:
            found = self._rests[key] = self.lazy_rests(n, placed)
        if found is None and rows is None:  # lazy: every combination of placed classes
            found = sum(math.log(len(self.present[n][i])) for i in placed)
            self._rests[key] = found
        if found is None:
            assert rows is not None
            at = sorted(placed)
            others = [i for i in range(rows.shape[1]) if i not in placed]
            # rows sorted by their placed classes, then the others: a run of equal
            # placed classes lists one rest
            prefix, remainder = _keys(rows[:, at]), _keys(rows[:, others])
            order = np.lexsort((remainder, prefix))
            ends = np.flatnonzero(np.diff(prefix[order])) + 1
            cuts = [0, *ends.tolist(), len(order)]
            listed = remainder[order].tolist()
            distinct = len({tuple(listed[a:b]) for a, b in itertools.pairwise(cuts)})
            found = self._rests[key] = math.log(max(1, distinct))
        return found

    def signatures(self, var: str, tables: frozenset[int]) -> float:
        """The log of the groups a variable's values form for some of its tables."""
        key = (var, tables)
        found = self._signatures.get(key)
        if found is None:
            columns = [
                self._classes(var, n, pos) for n, pos in self.touching.get(var, ()) if n in tables
            ]
            distinct = len(np.unique(np.stack(columns, axis=1), axis=0)) if columns else 1
            found = self._signatures[key] = math.log(max(1, distinct))
        return found

    def _classes(self, var: str, n: int, pos: int) -> Ints:
        """Per value of a variable, its class at a position of a table."""
        found = self._columns.get((n, pos))
        if found is None:
            classes = self.tables[n].classes[pos]
            found = self._columns[(n, pos)] = np.array(
                [classes[x] for x in self.domains[var]], dtype=np.int64
            )
        return found


def _keys(rows: Ints) -> Ints:
    """One number per row, equal for equal rows (classes in mixed radix)."""
    key = np.zeros(len(rows), dtype=np.int64)
    for column in rows.T:
        key = key * (int(column.max(initial=0)) + 1) + column
    return key


class _Cut:
    """The placed positions of every table, and the two log-bounds on the states there,
    kept up to date one unit at a time."""

    def __init__(self, tables: _Tables) -> None:
        self.t = tables
        self.placed: dict[int, frozenset[int]] = {}
        self.open_rests: dict[int, float] = {}
        self.frontier: dict[str, set[int]] = {}  # placed variable -> its open tables
        self.frontier_log: dict[str, float] = {}
        self.by_rests = 0.0
        self.by_vars = 0.0

    @property
    def states(self) -> float:
        return min(self.by_rests, self.by_vars, LOG_CAP)

    def copy(self) -> _Cut:
        other = _Cut(self.t)
        other.placed = dict(self.placed)
        other.open_rests = dict(self.open_rests)
        other.frontier = {var: set(tables) for var, tables in self.frontier.items()}
        other.frontier_log = dict(self.frontier_log)
        other.by_rests, other.by_vars = self.by_rests, self.by_vars
        return other

    def after(self, unit: Unit) -> float:
        """The log of the states once `unit` is placed next (nothing changes)."""
        by_rests = self.by_rests
        touched: dict[str, set[int]] = {}
        for n, positions in self.t.positions[unit].items():
            now = self.placed.get(n, frozenset()) | positions
            by_rests -= self.open_rests.get(n, 0.0)
            scope = self.t.tables[n].scope
            is_open = len(now) < len(scope)
            if is_open:
                by_rests += self.t.rests(n, now)
            for pos in now:
                var = scope[pos]
                tables = touched.get(var)
                if tables is None:
                    tables = touched[var] = set(self.frontier.get(var, ()))
                if is_open:
                    tables.add(n)
                else:
                    tables.discard(n)
        by_vars = self.by_vars
        for var, tables in touched.items():
            by_vars -= self.frontier_log.get(var, 0.0)
            if tables:
                by_vars += self.t.signatures(var, frozenset(tables))
        return min(by_rests, by_vars, LOG_CAP)

    def place(self, unit: Unit) -> None:
        changed: set[str] = set()  # the variables whose open tables changed
        for n, positions in self.t.positions[unit].items():
            now = self.placed.get(n, frozenset()) | positions
            self.placed[n] = now
            self.by_rests -= self.open_rests.pop(n, 0.0)
            scope = self.t.tables[n].scope
            if len(now) < len(scope):
                self.open_rests[n] = self.t.rests(n, now)
                self.by_rests += self.open_rests[n]
                for pos in positions:
                    self.frontier.setdefault(scope[pos], set()).add(n)
                    changed.add(scope[pos])
            else:  # closed: its variables no longer wait on it
                for pos in now:
                    self.frontier.get(scope[pos], set()).discard(n)
                    changed.add(scope[pos])
        for var in changed:
            self.by_vars -= self.frontier_log.pop(var, 0.0)
            tables = self.frontier.get(var)
            if tables:
                self.frontier_log[var] = self.t.signatures(var, frozenset(tables))
                self.by_vars += self.frontier_log[var]
            else:
                self.frontier.pop(var, None)


def _level_cost(states: float, groups: float) -> float:
    return math.exp(min(states + groups, LOG_CAP))


def _cost(tables: _Tables, order: Sequence[Unit], cut: _Cut | None = None) -> float:
    """The estimated edges of a graph in this order (after `cut`: of these levels)."""
    cut = _Cut(tables) if cut is None else cut.copy()
    total = 0.0
    for unit in order:
        total += _level_cost(cut.states, tables.groups[unit])
        cut.place(unit)
    return total


def _prefixes(tables: _Tables, order: Sequence[Unit]) -> tuple[list[_Cut], list[float]]:
    """Per place of an order: the cut before it, and the estimated edges before it."""
    cut = _Cut(tables)
    cuts: list[_Cut] = []
    costs = [0.0]
    for unit in order:
        cuts.append(cut.copy())
        costs.append(costs[-1] + _level_cost(cut.states, tables.groups[unit]))
        cut.place(unit)
    return cuts, costs


def units_of(variables: Sequence[str]) -> list[Unit]:
    """The variables as units: a part's quantity comes right before the part, so the
    state holds the quantity for one level when the part is chosen."""
    present = set(variables)
    units: list[Unit] = []
    for var in variables:
        if var.endswith(".qty") and var.removesuffix(".qty") in present:
            continue
        units.append((qty_var(var), var) if qty_var(var) in present else (var,))
    return units


def variable_order(
    variables: Sequence[str],
    tables: Sequence[Check],
    domains: Mapping[str, Sequence[Value]],
    clock: Clock,
    first: Sequence[str] = (),
    lazy_rests: LazyRests | None = None,
) -> tuple[list[str], float]:
    """The variables in the order whose graph is estimated smallest (`first` first, in
    their order), and that estimate of its edges. `lazy_rests` estimates the rests
    of checks without rows (else: every combination of their placed classes)."""
    units = units_of(variables)
    ahead = list(dict.fromkeys(u for name in first for u in units if name in u))
    rest = [u for u in units if u not in ahead]
    known = _Tables(units, tables, domains, lazy_rests)
    order = _closing_first(known, ahead, rest)
    cost = _cost(known, order)
    if cost > GOOD_ENOUGH:
        searched = _improve(known, _greedy(known, ahead, rest, clock), len(ahead), clock)
        found = _cost(known, searched)
        if found < cost:
            order, cost = searched, found
    return [v for unit in order for v in unit], cost


def _closing_first(tables: _Tables, ahead: list[Unit], rest: list[Unit]) -> list[Unit]:
    """The quick order: each next unit the one that closes the most tables, then
    touches the most open ones, then opens the fewest, then has the fewest values.
    Good on catalogs of the shapes it was tuned on, and cheap: the estimate decides
    whether a search for a better one is worth its time."""
    placed = {v for unit in ahead for v in unit}
    order = list(ahead)
    left = list(rest)
    size = {u: math.prod(len(tables.domains[v]) for v in u) for u in rest}
    position = {u: i for i, u in enumerate(rest)}
    while left:

        def score(unit: Unit) -> tuple[int, int, int, int, int]:
            closes = opened = touches = 0
            for n in tables.unit_tables(unit):
                scope = tables.tables[n].scope
                if all(v in unit for v in scope):
                    continue  # inside the unit (a part and its quantity)
                rest_of = [v for v in scope if v not in placed]
                if all(v in unit for v in rest_of):
                    closes += 1
                elif len(rest_of) == len(scope):
                    opened += 1
                else:
                    touches += 1
            return (-closes, -touches, opened, size[unit], position[unit])

        pick = min(left, key=score)
        order.append(pick)
        placed.update(pick)
        left.remove(pick)
    return order


def _greedy(tables: _Tables, ahead: list[Unit], rest: list[Unit], clock: Clock) -> list[Unit]:
    """Each next unit the one whose level and the cut after it cost least."""
    cut = _Cut(tables)
    for unit in ahead:
        cut.place(unit)
    order = list(ahead)
    left = list(rest)
    while left:
        clock.check()
        here = cut.states
        best = min(
            left,
            key=lambda u: (
                _level_cost(here, tables.groups[u]) + math.exp(cut.after(u)),
                u,
            ),
        )
        cut.place(best)
        order.append(best)
        left.remove(best)
    return order


def _improve(tables: _Tables, order: list[Unit], fixed: int, clock: Clock) -> list[Unit]:
    """Local search: move one unit to another place while that lowers the cost, within
    a budget of work (orders of many units get a window of places around each). A
    move changes only the levels between its two places: a cut depends on what is
    placed, not in which order, so the levels before and after cost as they did."""
    cuts, costs = _prefixes(tables, order)
    best = costs[-1]
    spent = 0
    size = len(order) - fixed
    window = size if size <= 40 else 6
    improved = True
    while improved and spent < SEARCH_STEPS:
        improved = False
        for i in range(fixed, len(order)):
            clock.check()
            unit = order[i]
            without = order[:i] + order[i + 1 :]
            for j in range(max(fixed, i - window), min(len(order), i + window + 1)):
                if j == i:
                    continue
                trial = [*without[:j], unit, *without[j:]]
                spent += len(trial)
                lo, hi = min(i, j), max(i, j) + 1
                cost = costs[lo] + _cost(tables, trial[lo:hi], cuts[lo]) + (costs[-1] - costs[hi])
                if cost < best * (1 - 1e-9):
                    best, order, improved = cost, trial, True
                    cuts, costs = _prefixes(tables, order)
                    break
            if spent >= SEARCH_STEPS:
                break
    return order


__all__ = ["units_of", "variable_order"]
