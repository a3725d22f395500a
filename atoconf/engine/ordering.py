"""A variable order for the sweep's layered graph, chosen by an estimate of its size.

Between two levels, a state is the rests of the tables that are open there (some
of their variables placed, some not). How many distinct rests a table can have
depends only on which of its positions are placed: group its rows by their classes
at those positions and count the distinct remainders. The product of that over the
open tables bounds the states at a cut, and a level costs about its states times
the groups of values its variable splits into. The order is the one that keeps the
sum of those costs smallest that a greedy start and a local search find; no graph
is built to find it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from atoconf.engine.clock import Clock
from atoconf.engine.problem import Check
from atoconf.engine.propagate import qty_var
from atoconf.language.model import Value

Unit = tuple[str, ...]  # a variable, or a part's quantity and the part, placed together
CAP = 1e30  # estimates are capped: past this every order is hopeless alike
SEARCH_STEPS = 300_000  # table positions the local search may weigh


class _Estimate:
    """Cut sizes and level costs of orders, from the tables alone."""

    def __init__(
        self,
        units: Sequence[Unit],
        tables: Sequence[Check],
        domains: Mapping[str, Sequence[Value]],
    ) -> None:
        self.tables = tables
        self.rows: list[list[tuple[int, ...]]] = []
        for check in tables:
            assert check.allowed is not None
            present = [{check.classes[i][x] for x in domains[v]} for i, v in enumerate(check.scope)]
            self.rows.append(
                [r for r in check.allowed if all(c in present[i] for i, c in enumerate(r))]
            )
        self.touching: dict[str, list[tuple[int, int]]] = {}
        for n, check in enumerate(tables):
            for pos, v in enumerate(check.scope):
                self.touching.setdefault(v, []).append((n, pos))
        # per unit: the tables it touches, and how many groups of values it splits into
        self.unit_tables: dict[Unit, set[int]] = {}
        self.groups: dict[Unit, int] = {}
        for unit in units:
            self.unit_tables[unit] = {n for v in unit for n, _ in self.touching.get(v, ())}
            split = 1
            for v in unit:
                touching = self.touching.get(v, [])
                sigs = {tuple(tables[n].classes[pos][x] for n, pos in touching) for x in domains[v]}
                split *= max(1, len(sigs))
            self.groups[unit] = split
        self._rests: dict[tuple[int, frozenset[int]], int] = {}
        self._signatures: dict[tuple[str, frozenset[int]], int] = {}
        self.domains = domains

    def rests(self, n: int, placed: frozenset[int]) -> int:
        """The distinct rests table `n` can have once `placed` positions are set."""
        key = (n, placed)
        found = self._rests.get(key)
        if found is None:
            at = sorted(placed)
            others = [i for i in range(len(self.tables[n].scope)) if i not in placed]
            by_prefix: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
            for r in self.rows[n]:
                by_prefix.setdefault(tuple(r[i] for i in at), set()).add(
                    tuple(r[i] for i in others)
                )
            found = self._rests[key] = max(1, len({frozenset(s) for s in by_prefix.values()}))
        return found

    def signatures(self, var: str, tables: frozenset[int]) -> int:
        """The groups a placed variable's values fall into for some of its tables."""
        key = (var, tables)
        found = self._signatures.get(key)
        if found is None:
            touching = [(n, pos) for n, pos in self.touching[var] if n in tables]
            found = self._signatures[key] = max(
                1,
                len(
                    {
                        tuple(self.tables[n].classes[pos][x] for n, pos in touching)
                        for x in self.domains[var]
                    }
                ),
            )
        return found

    def cut(self, placed: Mapping[int, frozenset[int]]) -> float:
        """The states where some positions of the tables are placed: at most the
        product of the open tables' rests, and at most the product of the groups
        of the placed variables those tables read (one variable often decides the
        rests of several tables)."""
        by_rests = 1.0
        frontier: dict[str, set[int]] = {}
        for n, positions in placed.items():
            scope = self.tables[n].scope
            if len(positions) == len(scope):
                continue
            by_rests = min(CAP, by_rests * self.rests(n, positions))
            for pos in positions:
                frontier.setdefault(scope[pos], set()).add(n)
        by_vars = 1.0
        for var, tables in frontier.items():
            by_vars = min(CAP, by_vars * self.signatures(var, frozenset(tables)))
        return min(by_rests, by_vars)

    def placing(
        self, placed: Mapping[int, frozenset[int]], unit: Unit
    ) -> dict[int, frozenset[int]]:
        """The placed positions after `unit`."""
        after = dict(placed)
        for v in unit:
            for n, pos in self.touching.get(v, ()):
                after[n] = after.get(n, frozenset()) | {pos}
        return after

    def cost(self, order: Sequence[Unit]) -> float:
        """The estimated edges of a graph in this order (`cut` kept up to date one
        unit at a time)."""
        placed: dict[int, frozenset[int]] = {}
        rests: dict[int, int] = {}  # per open table
        frontier: dict[str, set[int]] = {}  # per placed variable: its open tables
        states = 1.0
        total = 0.0
        for unit in order:
            total += min(CAP, states * self.groups[unit])
            for n in self.unit_tables[unit]:
                positions = placed.get(n, frozenset()) | {
                    pos for v in unit for m, pos in self.touching[v] if m == n
                }
                placed[n] = positions
                scope = self.tables[n].scope
                if len(positions) == len(scope):
                    rests.pop(n, None)
                    for pos in positions:
                        tables = frontier.get(scope[pos])
                        if tables is not None:
                            tables.discard(n)
                            if not tables:
                                del frontier[scope[pos]]
                else:
                    rests[n] = self.rests(n, positions)
                    for pos in positions:
                        frontier.setdefault(scope[pos], set()).add(n)
            by_rests = by_vars = 1.0
            for r in rests.values():
                by_rests = min(CAP, by_rests * r)
            for var, tables in frontier.items():
                by_vars = min(CAP, by_vars * self.signatures(var, frozenset(tables)))
            states = min(by_rests, by_vars)
        return total


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
) -> list[str]:
    """The variables in the order whose graph is estimated smallest; `first` come
    first, in their order."""
    units = units_of(variables)
    ahead = [u for name in first for u in units if name in u]
    ahead = list(dict.fromkeys(ahead))
    rest = [u for u in units if u not in ahead]
    estimate = _Estimate(units, tables, domains)
    order = _greedy(estimate, ahead, rest, clock)
    order = _improve(estimate, order, len(ahead), clock)
    return [v for unit in order for v in unit]


def _greedy(estimate: _Estimate, ahead: list[Unit], rest: list[Unit], clock: Clock) -> list[Unit]:
    """Each next unit the one whose level and the cut after it cost least."""
    order = list(ahead)
    placed: dict[int, frozenset[int]] = {}
    for unit in ahead:
        placed = estimate.placing(placed, unit)
    states = estimate.cut(placed)
    left = list(rest)
    while left:
        clock.check()
        scored = []
        for unit in left:
            after = estimate.placing(placed, unit)
            cut = estimate.cut(after)
            scored.append((min(CAP, states * estimate.groups[unit]) + cut, unit, after, cut))
        _, best, placed, states = min(scored, key=lambda s: (s[0], s[1]))
        order.append(best)
        left.remove(best)
    return order


def _improve(estimate: _Estimate, order: list[Unit], fixed: int, clock: Clock) -> list[Unit]:
    """Local search: move one unit to another place while that lowers the cost, within
    a budget of work (orders of many units get a window of places around each)."""
    best = estimate.cost(order)
    spent = 0
    size = len(order) - fixed
    window = size if size <= 40 else 8
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
                cost = estimate.cost(trial)
                if cost < best * (1 - 1e-9):
                    best, order, improved = cost, trial, True
                    break
            if spent >= SEARCH_STEPS:
                break
    return order


__all__ = ["units_of", "variable_order"]
