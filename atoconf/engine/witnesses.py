"""Exact valid values on a graph that leaves some rules out of its levels.

A rule over a second sum (a weight budget beside the price budget the graph
carries) would put that sum's partial values into the graph's states, which
multiplies them past any use. Such rules are left out of the levels instead
(sweep.Graph.unchecked): the graph then holds every valid assembly and some
invalid ones, so a value it rules out is surely invalid, and a value it allows
is valid once a witness is found: a complete path through it that keeps the
carried sum in bounds and satisfies the unchecked rules.

A value is first tried in place of its own in one of the last few witnesses
(most values are valid in someone else's assembly). Otherwise the witness
search walks the graph depth first, through the value. Each unchecked rule
moves along the path like a lazy check, and is also bounded with every sum it
reads taken as the sum so far plus the least and most the graph's completions
can add; the carried sum is bounded by the cheapest completion through the
value; a failed (state, rests) is remembered with the slack it had, so no part
of the graph is searched twice for nothing. At each step, values that settle a
rule (a guard that switches it off) go first, then values no witness has yet
(one path then witnesses new values on many levels), then the most room.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from itertools import product
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from atoconf.engine.clock import Clock
from atoconf.engine.flows import Bools, Floats, Ints, keep_mask, least_completions
from atoconf.engine.problem import direct_scope, nodes
from atoconf.engine.propagate import FALSE, Interval, Scope, abstract
from atoconf.engine.sidesums import SumBounds, level_quantities
from atoconf.language.model import Total, Value

if TYPE_CHECKING:
    from atoconf.engine.sweep import Graph

# an outer assignment's start: its values, sign, minus its bound, state, unchecked rests
Start = tuple[Mapping[str, Value], int, float, int, tuple[int, ...]]


class _Through:
    """Per value of each level past the outer ones, the least and most each sum can be
    on a path through it within the filters (a forward pass from the starts, the value,
    and the graph's completions after it), so the unchecked rules can rule a value out
    by bounds alone, for all values at once: most values the levels allow but the
    rules do not fail this way, without a search each."""

    def __init__(
        self, search: _Search, starts: Sequence[Start], top: int, depths: Collection[int]
    ) -> None:
        graph = search.graph
        arrays = search.arrays
        self.search = search
        self.top = top
        self.memo: dict[tuple[str, str, str], Any] = {}  # bounds over the request's domains
        self.cases: dict[int, list[dict[str, Value]]] = {}  # per unchecked rule (_cases)
        # per sum and level: (least, most) per place of the level's variable
        self.places: list[dict[int, tuple[list[float], list[float]]]] = []
        # per level: the values the filters keep, as (source, child, place) columns
        columns: dict[int, tuple[Ints, Ints, Ints]] = {}
        for depth in range(top, len(arrays)):
            level, keep = arrays[depth], search.keeps[depth]
            ok = keep[level.place] if keep is not None else slice(None)
            entries = level.src[level.edge_of], level.dst[level.edge_of]
            columns[depth] = (entries[0][ok], entries[1][ok], level.place[ok])
        for side in search.base_sums:
            size = arrays[top].states if top < len(arrays) else graph.final
            low, high = np.full(size, np.inf), np.full(size, -np.inf)
            for outer, _, _, state, _ in starts:
                so_far = sum(side.adds(d, outer[var], outer) for d, var in enumerate(outer))
                low[state] = min(low[state], so_far)
                high[state] = max(high[state], so_far)
            per_level: dict[int, tuple[list[float], list[float]]] = {}
            for depth in range(top, max(depths, default=top - 1) + 1):
                level = arrays[depth]
                src, dst, places = columns[depth]
                unit_lo, unit_hi = self._units(side, depth, src, places, search.narrowed)
                if depth in depths:
                    per_level[depth] = self._through(
                        side, depth, (low, high), (unit_lo, unit_hi), columns[depth]
                    )
                low_next = np.full(level.children, np.inf)
                high_next = np.full(level.children, -np.inf)
                np.minimum.at(low_next, dst, low[src] + unit_lo)
                np.maximum.at(high_next, dst, high[src] + unit_hi)
                low, high = low_next, high_next
            self.places.append(per_level)

    def _through(
        self,
        side: SumBounds,
        depth: int,
        before: tuple[Floats, Floats],
        units: tuple[Floats, Floats],
        column: tuple[Ints, Ints, Ints],
    ) -> tuple[list[float], list[float]]:
        """Per place of a level, the least and most the sum is on a path through it."""
        src, dst, places = column
        after_lo, after_hi = self._after(side, depth, dst, places)
        with np.errstate(invalid="ignore"):  # inf - inf: unreached, dropped below
            through_lo = before[0][src] + units[0] + after_lo
            through_hi = before[1][src] + units[1] + after_hi
        size = self.search.arrays[depth].places
        place_lo, place_hi = np.full(size, np.inf), np.full(size, -np.inf)
        reached = np.isfinite(through_lo) & np.isfinite(through_hi)
        np.minimum.at(place_lo, places[reached], through_lo[reached])
        np.maximum.at(place_hi, places[reached], through_hi[reached])
        return place_lo.tolist(), place_hi.tolist()

    @staticmethod
    def _units(
        side: SumBounds,
        depth: int,
        src: Ints,
        places: Ints,
        narrowed: Mapping[str, Sequence[Value]],
    ) -> tuple[Floats, Floats]:
        """The least and most each kept value of a level adds to the sum, with a
        quantity the request's domains still allow."""
        graph = side.graph
        var = graph.order[depth]
        units = side._units(var, len(graph.domains[var]))[places]
        qv = side.qty_of.get(depth)
        if qv is None:
            fixed = units * side.fixed.get(var, 0)
            return fixed, fixed
        quantity = side.held[depth]
        if quantity is not None:
            exact = units * quantity[src]
            return exact, exact
        # a part is present: its quantity is not 0 (an absent part adds nothing)
        q = [float(cast(int, x)) for x in narrowed.get(qv, graph.domains[qv]) if x] or [0.0]
        ends = (units * min(q), units * max(q))
        return np.minimum(*ends), np.maximum(*ends)

    @staticmethod
    def _after(side: SumBounds, depth: int, dst: Ints, places: Ints) -> tuple[Floats, Floats]:
        """The least and most a completion after each kept value of a level adds."""
        if side.hi[depth + 1].size or depth + 1 not in side.per_qty:
            return side.lo[depth + 1][dst], side.hi[depth + 1][dst]
        # a quantity whose part's level is bounded per quantity: each value its own
        taken = level_quantities(side.graph, depth)[places]
        low, high = np.full(len(dst), np.inf), np.full(len(dst), -np.inf)
        for q, (part_lo, part_hi) in side.per_qty[depth + 1].items():
            mine = taken == q
            low[mine], high[mine] = part_lo[dst[mine]], part_hi[dst[mine]]
        return low, high

    def rules_out(self, depth: int, value: Value) -> bool:
        """Whether some unchecked rule fails on every path through the value, by bounds:
        in every case of the options and quantities it reads that the graph's tables
        allow (`redundant_psu` with one supply or two), since bounds over both at once
        are as loose as the looser case."""
        search = self.search
        place = search.graph.places[depth][value]
        totals: dict[tuple[str, tuple[str, ...]], Interval] = {}
        for side, per_level in zip(search.base_sums, self.places, strict=True):
            lows, highs = per_level[depth]
            lo, hi = lows[place], highs[place]
            if not (math.isfinite(lo) and math.isfinite(hi)):
                return False  # not reached within the filters: the search will say
            totals[side.key] = side.interval(int(lo), int(hi))
        var = search.graph.order[depth]
        model = search.graph.model
        for n, rule in enumerate(search.rules):
            cases = [c for c in self._cases(n) if c.get(var, value) == value]
            if all(
                abstract(
                    Scope(model, {**case, var: value}, search.narrowed, self.memo, totals=totals),
                    rule.expr,  # type: ignore[arg-type]
                )
                == FALSE
                for case in cases
            ):
                return True
        return False

    def _cases(self, n: int) -> list[dict[str, Value]]:
        """The assignments of the options and quantities the unchecked rule `n` reads
        that every table of the graph over them allows ([{}]: no such variable, or too
        many cases)."""
        found = self.cases.get(n)
        if found is not None:
            return found
        graph, narrowed = self.search.graph, self.search.narrowed
        scope = [
            v
            for v in direct_scope(graph.model, self.search.rules[n].expr, None)
            if v not in graph.model.components and len(narrowed.get(v, ())) > 1
        ]
        found = [{}]
        if scope and math.prod(len(narrowed[v]) for v in scope) <= MAX_CASES:
            found = [
                dict(zip(scope, values, strict=True))
                for values in product(*(narrowed[v] for v in scope))
            ]
            for table in graph.tables:
                if table.allowed is None or len(set(table.scope) & set(scope)) < 2:
                    continue
                # the rows the request's domains leave, on the case's positions
                mine = [i for i, v in enumerate(table.scope) if v in scope]
                present = [
                    {c[x] for x in narrowed[v]} if v in narrowed else None
                    for c, v in zip(table.classes, table.scope, strict=True)
                ]
                kept = {
                    tuple(row[i] for i in mine)
                    for row in table.allowed
                    if all(p is None or r in p for r, p in zip(row, present, strict=True))
                }
                found = [
                    case
                    for case in found
                    if tuple(table.classes[i][case[table.scope[i]]] for i in mine) in kept
                ]
        self.cases[n] = found
        return found


MAX_CASES = 16  # assignments of a rule's options and quantities tried apart, at most

_ANY = object()  # no target at this level: any value


class _Tighten(Exception):
    """A search through a target ran long on loose bounds."""


LOOSE_NODES = 64  # steps a search takes before the other sums are bounded through the target


class _Search:
    def __init__(
        self,
        graph: Graph,
        filters: Sequence[set[Value] | None],
        least: Mapping[int, Sequence[Floats]],
        fresh: list[set[Value]],
        keeps: Sequence[Bools | None],
        clock: Clock,
    ) -> None:
        self.graph = graph
        self.filters = filters
        self.least_rows = least
        self.base_least: Mapping[int, Sequence[Sequence[float]]] = {
            sign: [row.tolist() for row in rows] for sign, rows in least.items()
        }
        self.least: Mapping[int, Sequence[Sequence[float]]] = self.base_least
        self.keeps = keeps
        self.arrays = graph.arrays()
        self.fresh = fresh
        self.clock = clock
        # (sign, depth, state, rests, target still ahead, unchecked sums so far) -> the
        # most slack that failed
        self.failed: dict[tuple[Any, ...], float] = {}
        self.rules = [graph.tables[n] for n in graph.unchecked]
        totals = {
            (t.attr, t.components): t
            for rule in self.rules
            for t in nodes(rule.expr)  # type: ignore[arg-type]
            if isinstance(t, Total)
        }
        self.totals = list(totals.values())
        self.sums = self.base_sums = [SumBounds(graph, total, keeps) for total in self.totals]
        # per rule, the sums it reads (their indexes in self.sums)
        index = {side.key: k for k, side in enumerate(self.sums)}
        self.reads = [
            sorted(
                {index[(t.attr, t.components)] for t in nodes(rule.expr) if isinstance(t, Total)}  # type: ignore[arg-type]
            )
            for rule in self.rules
        ]
        self.decided: dict[tuple[Any, ...], bool] = {}
        # what the rules read outside their sums (a guard option): its values are
        # ordered by whether they settle a rule
        self.scoped = {
            var for rule in self.rules for var in direct_scope(graph.model, rule.expr, None)
        }
        self.partial = [0] * len(self.sums)
        self.path_values: dict[str, Value] = {}
        # the domains bounds reasoning reads: the values on some path of the graph
        # within the request (a valid path takes no other), and the target's value
        self.narrowed = {
            var: [x for x in graph.domains[var] if x in values]
            for var, values in zip(graph.order, fresh, strict=True)
        }
        self.domains = self.narrowed
        self.memo: dict[tuple[str, str, str], Any] = {}  # bounds over these domains
        self.target: tuple[int, Value] | None = None
        self.through = list(keeps)  # the filters of paths through the target
        self.tight = True  # whether the other sums are bounded through the target
        self.nodes = 0
        self.dives = dict.fromkeys(DIVES, (0, 0))  # per direction: dives tried, found

    def find(self, start: Start, target: tuple[int, Value] | None) -> list[Value] | None:
        """The values of a valid path from the start through `target` (depth, value),
        last level first, after the outer values (None: there is none)."""
        outer, sign, y, state, rests = start
        top = len(outer)
        self.start(outer, target)
        for direction in DIVES:
            tried, won = self.dives[direction]
            if won == 0 and tried >= DIVES_UNTIL_ONE_WINS:
                continue  # this direction does not suit these rules: no more of it
            dived = self._dive(sign, top, state, y, rests, target, direction)
            self.dives[direction] = (tried + 1, won + (dived is not None))
            if dived is not None:
                return dived
        if DIVES and target is not None and not self.tight:
            # a value no dive reaches is most often invalid, which only tight bounds
            # show soon: no loose search first
            self._tighten()
            self.start(outer, target)
        try:
            return self.path(sign, top, state, y, rests, target)
        except _Tighten:
            self._tighten()
            self.start(outer, target)
            return self.path(sign, top, state, y, rests, target)

    def start(self, outer: Mapping[str, Value], target: tuple[int, Value] | None) -> None:
        """A fresh path that has taken the outer values (the graph's first levels), to
        go through `target` (depth, value)."""
        if target != self.target or target is None:
            self._restrict(target)
        self.nodes = 0
        self.path_values = dict(outer)
        self.partial = [
            sum(side.adds(d, outer[var], outer) for d, var in enumerate(outer))
            for side in self.sums
        ]

    def _restrict(self, target: tuple[int, Value] | None) -> None:
        """The domains and bounds of paths through the target (they do not depend on
        the outer values: one target, tried from several starts, is bounded once)."""
        self.target = target
        self.domains = dict(self.narrowed)
        self.memo = {}
        self.least = self.base_least
        if target is not None:
            depth, value = target
            var = self.graph.order[depth]
            self.domains[var] = [value]
            # the cheapest completions that pass through the target: a path that cannot
            # reach it is cut at once, not found out at the target's level
            keeps = list(self.keeps)
            keeps[depth] = keep_mask(self.arrays[depth], [self.graph.places[depth][value]])
            # (the rows below the target's level are the request's: only those above
            # it change)
            through: dict[int, Sequence[Sequence[float]]] = {}
            for sign, rows in self.least_rows.items():
                above = least_completions(
                    self.arrays, self.graph.final, sign, keeps, rows[depth + 1 :]
                )
                through[sign] = [row.tolist() for row in above[: depth + 1]] + list(
                    self.base_least[sign][depth + 1 :]
                )
            self.least = through
            self.through = keeps
        self.sums = self.base_sums
        self.tight = target is None

    def _tighten(self) -> None:
        """The other sums' bounds through the target too: a value that weighs (four
        accelerators) then shows in every state's lightest completion, not only at its
        level. Worth its cost (a pass per sum) only when a search runs long."""
        assert self.target is not None
        self.sums = [
            SumBounds(self.graph, total, self.through, base, self.target[0])
            for total, base in zip(self.totals, self.base_sums, strict=True)
        ]
        self.tight = True

    def path(
        self,
        sign: int,
        depth: int,
        state: int,
        y: float,
        rests: tuple[int, ...],
        target: tuple[int, Value] | None,
    ) -> list[Value] | None:
        """The values of a valid completion from `state`, last level first; `y` is the
        signed sum so far minus the bound (a path is valid when it ends at most 0);
        `target` (depth, value) a value the path must take."""
        graph = self.graph
        if depth == len(graph.levels):
            return []
        ahead = self._ahead(target, depth)
        # the unchecked rules' sums so far are part of where the path is: two paths to one
        # state with the same rests can still differ in them
        key = (sign, depth, state, rests, ahead, tuple(self.partial))
        failed = self.failed.get(key)
        if failed is not None and y >= failed:
            return None
        self.clock.tick()
        self.nodes += 1
        if self.nodes > LOOSE_NODES and not self.tight:
            raise _Tighten
        var = graph.order[depth]
        fresh = self.fresh[depth]
        options: list[tuple[int, bool, float, float, Value, int, tuple[int, ...]]] = []
        reads = var in self.scoped
        for value, after, rest, child, moved in self._steps(sign, depth, state, y, rests, ahead):
            # values that settle an unchecked rule first (a guard that switches it off),
            # then values no witness has, then the most room for the sum
            open_ = sum(r != -2 for r in moved) if reads else 0
            fresh_ = value not in fresh
            options.append((open_, fresh_, after + rest, after, value, child, moved))
        options.sort(key=lambda o: o[:3])
        before = list(self.partial)
        for _, _, _, after, value, child, moved in options:
            self.path_values[var] = value
            if not self._may_hold(depth, child, moved, before):
                continue
            found = self.path(sign, depth + 1, child, after, moved, target)
            if found is not None:
                found.append(value)
                return found
        self.partial[:] = before
        self.path_values.pop(var, None)
        self.failed[key] = min(y, self.failed.get(key, math.inf))
        return None

    def _dive(
        self,
        sign: int,
        top: int,
        state: int,
        y: float,
        rests: tuple[int, ...],
        target: tuple[int, Value] | None,
        direction: int,
    ) -> list[Value] | None:
        """One path straight down, no backtracking: at each level the value that
        settles the most unchecked rules, then keeps the other sums least (direction
        1) or most (-1) on the graph's completions, then one no witness has yet; the
        carried sum and the target are kept reachable on the way, the unchecked rules
        are checked once on the complete path. Most valid values have such a path,
        found for the cost of a swap instead of a search that bounds the rules at
        every step (the search still decides the others)."""
        graph = self.graph
        values = dict(self.path_values)
        taken: list[Value] = []
        for depth in range(top, len(graph.levels)):
            self.clock.tick()
            var = graph.order[depth]
            ahead = self._ahead(target, depth)
            fresh = self.fresh[depth]
            reads = var in self.scoped
            still_open = sum(r != -2 for r in rests)
            # per sum: what each value adds (its share times the quantity on the path),
            # and the least or most a completion adds from each child
            weighing = [self._weighing(side, depth, values, direction) for side in self.sums]
            best: tuple[tuple[int, float, bool], Value, float, int, tuple[int, ...]] | None = None
            for value, after, _, child, moved in self._steps(sign, depth, state, y, rests, ahead):
                weight = 0.0  # the other sums on the path's best end, times direction
                for share, times, rows, by_value in weighing:
                    if share is not None:
                        weight += times * share[value]
                    if by_value is not None:
                        rows = by_value[cast(int, value)]
                    weight += rows[child]
                weight *= direction
                open_ = sum(r != -2 for r in moved) if reads else still_open
                key = (open_, weight, value not in fresh)
                if best is None or key < best[0]:
                    best = (key, value, after, child, moved)
            if best is None:
                return None
            _, value, y, state, rests = best
            values[var] = value
            taken.append(value)
        if not graph.holds_unchecked(values):
            return None
        return taken[::-1]

    def _steps(
        self,
        sign: int,
        depth: int,
        state: int,
        y: float,
        rests: tuple[int, ...],
        ahead: tuple[int, Value] | None,
    ) -> Iterator[tuple[Value, float, float, int, tuple[int, ...]]]:
        """The moves from a state that stay within the filters, take the target at its
        level, keep a completion within the carried sum's bound and break no unchecked
        rule yet: (value, signed sum after it, least completion, child, rules' rests)."""
        graph = self.graph
        var = graph.order[depth]
        keep = self.filters[depth]
        below = self.least[sign][depth + 1]
        only = ahead[1] if ahead is not None and ahead[0] == depth else _ANY
        reads = var in self.scoped
        for edge in graph.levels[depth][state]:
            rest = below[edge.child]
            if rest == math.inf:
                continue
            for value, units in zip(edge.values, edge.units, strict=True):
                if (keep is not None and value not in keep) or (only is not _ANY and value != only):
                    continue
                after = y + sign * units
                if after + rest > 0:
                    continue
                moved = graph.unchecked_step(rests, var, value) if reads else rests
                if moved is not None:
                    yield value, after, rest, edge.child, moved

    @staticmethod
    def _weighing(
        side: SumBounds, depth: int, path: Mapping[str, Value], direction: int
    ) -> tuple[dict[Value, int] | None, int, list[float], dict[int, list[float]] | None]:
        """For a dive's step at `depth`: the sum's shares of the level's values and
        the quantity they count; the least (or most) completion per child; per
        quantity instead when this level is that quantity."""
        var = side.graph.order[depth]
        share = side.share.get(var)
        times = 0
        if share is not None:
            qv = side.qty_of.get(depth)
            times = cast(int, path[qv]) if qv is not None else side.fixed[var]
        nxt = depth + 1
        quantity = side.qty_of.get(nxt)
        if quantity == var:
            per = {q: side.ends(nxt, q, direction) for q in side.per_qty_lists[nxt]}
            return share, times, [], per
        held = cast(int, path[quantity]) if quantity is not None else None
        return share, times, side.ends(nxt, held, direction), None

    @staticmethod
    def _ahead(target: tuple[int, Value] | None, depth: int) -> tuple[int, Value] | None:
        """The target while the path has still to take it."""
        return target if target is not None and target[0] >= depth else None

    def _may_hold(self, depth: int, child: int, rests: tuple[int, ...], before: list[int]) -> bool:
        """Whether the unchecked rules still open may hold on some completion from
        `child`, with each sum they read bounded by what the graph's completions add."""
        path = self.path_values
        value = path[self.graph.order[depth]]
        spans: list[tuple[int, int]] = []
        for k, side in enumerate(self.sums):
            so_far = self.partial[k] = before[k] + side.adds(depth, value, path)
            lo, hi = side.ahead(depth + 1, child, path)
            if lo == math.inf:
                return False
            spans.append((so_far + int(lo), so_far + int(hi)))
        for n, rest in enumerate(rests):
            if rest == -2:
                continue
            # the rest says what the rule's future depends on (the classes it reads
            # and its sums so far): with the same bounds on the sums, the same answer
            decision = (n, rest, tuple(spans[k] for k in self.reads[n]), self.target)
            known = self.decided.get(decision)
            if known is None:
                totals = {
                    side.key: side.interval(lo, hi)
                    for side, (lo, hi) in zip(self.sums, spans, strict=True)
                }
                # what unset components add, remembered while the domains stay these
                scope = Scope(self.graph.model, path, self.domains, self.memo, totals=totals)
                known = abstract(scope, self.rules[n].expr) != FALSE  # type: ignore[arg-type]
                self.decided[decision] = known
            if not known:
                return False
        return True


def witnessed(
    graph: Graph,
    candidates: Mapping[str, set[tuple[type, Value]]],
    starts: Sequence[Start],
    filters: Sequence[set[Value] | None],
    least: Mapping[int, Sequence[Floats]],
    keeps: Sequence[Bools | None],
    clock: Clock,
    one: bool = False,
    wanted: Collection[str] | None = None,
    settled: Mapping[str, set[tuple[type, Value]]] | None = None,
) -> dict[str, set[tuple[type, Value]]]:
    """Of the values the graph allows (`candidates`), those on a valid path: per value
    not yet seen on one (nor `settled`: known valid), a search for a path through it
    from each outer start. With `one`, the values of the first valid path found
    (none: there is no valid path); with `wanted`, only those variables' values are
    searched for."""
    n_outer = len(graph.ws.outer) if graph.ws is not None else 0
    out: dict[str, set[tuple[type, Value]]] = {var: set() for var in graph.order}
    fresh = [{value for _, value in candidates[var]} for var in graph.order]
    search = _Search(graph, filters, least, fresh, keeps, clock)
    for depth, var in enumerate(graph.order):
        known = (settled or {}).get(var, set())
        out[var] |= known
        fresh[depth] -= {value for _, value in known}
    # the outer assignment with the most room for the sum first: a value that is valid
    # at all is most often valid there
    starts = sorted(starts, key=lambda start: start[2])
    found_paths: list[_Witness] = []
    through: _Through | None = None  # made when a first value needs a search
    if one:
        # any valid path will do: one search per start, through no value in particular
        # (per value, a request without one would search once for every value)
        for start in starts:
            path = search.find(start, None)
            if path is not None:
                outer = start[0]
                values = [outer[v] for v in graph.order[:n_outer]] + path[::-1]
                for name, v in zip(graph.order, values, strict=True):
                    out[name].add((type(v), v))
                break
        return out

    def take(witness: _Witness) -> None:
        found_paths.insert(0, witness)
        del found_paths[SWAPS:]
        for d, (name, v) in enumerate(zip(graph.order, witness.values, strict=True)):
            out[name].add((type(v), v))
            fresh[d].discard(v)

    for depth, var in enumerate(graph.order):
        if wanted is not None and var not in wanted:
            continue
        for key in sorted(candidates[var] - out[var], key=repr):
            if key in out[var]:
                continue
            value = key[1]
            swapped = next(
                (w for w in (w.swap(depth, value, filters) for w in found_paths) if w), None
            )
            if swapped is not None:
                take(swapped)
                continue
            if depth >= n_outer:
                if through is None:
                    depths = {
                        d
                        for d, name in enumerate(graph.order)
                        if d >= n_outer and (wanted is None or name in wanted)
                    }
                    through = _Through(search, starts, n_outer, depths)
                if through.rules_out(depth, value):
                    continue
            for start in starts:
                outer = start[0]
                if depth < n_outer and outer[var] != value:
                    continue
                path = search.find(start, (depth, value) if depth >= n_outer else None)
                if path is not None:
                    values = [outer[v] for v in graph.order[:n_outer]] + path[::-1]
                    take(_Witness(graph, start, values))
                    break
    return out


SWAPS = 8  # witnesses kept to try a value in, in place of the one they have
DIVES = (1, -1)  # before a search: a dive keeping the other sums least, then one most
DIVES_UNTIL_ONE_WINS = 16  # dives of a direction tried before it is dropped if none found


class _Witness:
    """A valid path found, with the state it reaches and the sum it has so far at
    each level: trying a value in place of its own re-walks only from where the
    path's states change (most often nowhere: the value leads to the same child)."""

    def __init__(
        self,
        graph: Graph,
        start: Start,
        values: list[Value],
        states: list[int] | None = None,
        units: list[int] | None = None,
    ) -> None:
        self.graph = graph
        self.start = start
        self.values = values
        if states is None or units is None:
            states, units = [0], [0]
            for d, v in enumerate(values):
                step = graph.step(d, states[-1], v)
                assert step is not None, "a witness is a path of the graph"
                states.append(step[0])
                units.append(units[-1] + step[1])
        self.states = states
        self.units = units

    def swap(
        self, depth: int, value: Value, filters: Sequence[set[Value] | None]
    ) -> _Witness | None:
        """The path with `value` in place of its own at `depth`, if it is valid."""
        values = self.values
        if values[depth] == value:
            return self
        keep = filters[depth]
        if keep is not None and value not in keep:
            return None
        graph = self.graph
        step = graph.step(depth, self.states[depth], value)
        if step is None:
            return None
        states, units = self.states, self.units
        if step[0] == states[depth + 1]:  # the same states: the sums shift by a constant
            shift = self.units[depth] + step[1] - units[depth + 1]
            units = units[: depth + 1] + [u + shift for u in units[depth + 1 :]]
        else:
            states, units = states[: depth + 1], units[: depth + 1]
            state, total = step[0], units[depth] + step[1]
            states.append(state)
            units.append(total)
            for d in range(depth + 1, len(values)):
                after = graph.step(d, state, values[d])
                if after is None:
                    return None
                state, total = after[0], total + after[1]
                states.append(state)
                units.append(total)
        _, sign, y, _, _ = self.start
        if y + sign * units[-1] > 0:
            return None
        swapped = list(values)
        swapped[depth] = value
        if not graph.holds_unchecked(
            dict(zip(graph.order, swapped, strict=True)), graph.order[depth]
        ):
            return None
        return _Witness(graph, self.start, swapped, states, units)


__all__ = ["Start", "witnessed"]
