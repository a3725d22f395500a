"""Sums a decision graph does not carry, bounded along its paths.

A graph carries one wide sum; a rule over another (`race -> total(weight_g) <=
8000` beside a price budget) is left out of its levels and checked on complete
paths (sweep.Graph.unchecked). Along a path the other sum so far is known, and
what the levels below can still add lies between the least and the most of the
completions the graph allows from the path's state (`SumBounds`). Searches use
this to drop a path once such a rule is false for every sum in that range: the
witness search (witnesses.py) and the best-first search for the cheapest
assemblies (sweep.Graph.cheapest, through `PathSums`), which also raises its
estimate with the sum's rule folded into the cost (`relaxed_weights`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from atoconf.engine.flows import Bools, Floats, Ints, LevelArrays
from atoconf.engine.problem import Check, direct_scope, nodes
from atoconf.engine.propagate import FALSE, Interval, Scope, abstract, qty_var
from atoconf.engine.sums import shares
from atoconf.language.model import Expr, Total, Value

if TYPE_CHECKING:
    from atoconf.engine.sweep import Graph

INF = math.inf


class SumBounds:
    """A sum an unchecked rule reads, along the graph: what each step adds, and the
    least and most a completion of each state can add within the request's filters
    (so a rule like `total(weight) <= 9000` fails as soon as the path so far plus the
    lightest completion the graph still allows passes it, far sooner than with the
    lightest part of each component). Integer units of 1/scale. A part's quantity is
    on the path one level before it, so a part's level is bounded per quantity."""

    scale: int
    share: dict[str, dict[Value, int]]  # per summed component: each part's units
    qty_of: dict[int, str]  # a part's level -> its quantity variable
    fixed: dict[str, int]  # a summed component without a quantity level: its quantity
    lists: list[tuple[list[float], list[float]]]
    per_qty_lists: dict[int, dict[int, tuple[list[float], list[float]]]]
    # a part's level after its quantity: the quantity each state holds (None: several)
    held: dict[int, Floats | None]

    def __init__(
        self,
        graph: Graph,
        total: Total,
        keeps: Sequence[Bools | None],
        base: SumBounds | None = None,
        top: int = 0,
    ) -> None:
        """Bounds under `keeps`; with `base` (made under the same filters below level
        `top`), its rows below `top` are reused."""
        self.key = (total.attr, total.components)
        self.graph = graph
        order = graph.order
        if base is not None:
            self.scale, self.share = base.scale, base.share
            self.qty_of, self.fixed, self.held = base.qty_of, base.fixed, base.held
        else:
            exact = shares(graph.model, total)
            self.scale = math.lcm(*(x.denominator for per in exact.values() for x in per.values()))
            index = {var: d for d, var in enumerate(order)}
            self.share, self.qty_of, self.fixed = {}, {}, {}
            for name in total.components:
                if name not in index:
                    continue
                self.share[name] = {sku: int(x * self.scale) for sku, x in exact[name].items()}
                qv = qty_var(name)
                if index.get(qv, -2) + 1 == index[name]:
                    self.qty_of[index[name]] = qv
                else:
                    self.fixed[name] = graph.model.components[name].qty_min
            self.held = {
                depth: _state_quantities(graph, graph.arrays()[depth - 1], depth - 1)
                for depth in self.qty_of
            }
        arrays = graph.arrays()
        last = len(arrays)
        self.lo: list[Floats] = [np.zeros(0)] * last + [np.zeros(graph.final)]
        self.hi: list[Floats] = [np.zeros(0)] * last + [np.zeros(graph.final)]
        # a part's level after its quantity: per quantity, the bounds of each state
        self.per_qty: dict[int, dict[int, tuple[Floats, Floats]]] = {}
        # per level: the edges with a value the filters keep (source, child), and the
        # least and most share of those values
        self.edges: dict[int, tuple[Ints, Ints, Floats, Floats]] = {}
        if base is not None:
            for depth in range(top + 1, last):
                self.lo[depth], self.hi[depth] = base.lo[depth], base.hi[depth]
                if depth in base.per_qty:
                    self.per_qty[depth] = base.per_qty[depth]
        for depth in range(last - 1 if base is None else top, -1, -1):
            level, keep = arrays[depth], keeps[depth]
            var = order[depth]
            if depth + 1 in self.qty_of and not self.hi[depth + 1].size:
                # a quantity whose part's level is bounded per quantity
                ok = keep[level.place] if keep is not None else slice(None)
                src, dst = level.src[level.edge_of][ok], level.dst[level.edge_of][ok]
                taken = level_quantities(graph, depth)[level.place[ok]]
                lows, highs = np.full(level.states, np.inf), np.full(level.states, -np.inf)
                for q, (part_lo, part_hi) in self.per_qty[depth + 1].items():
                    mine = taken == q
                    np.minimum.at(lows, src[mine], part_lo[dst[mine]])
                    np.maximum.at(highs, src[mine], part_hi[dst[mine]])
                self.lo[depth], self.hi[depth] = lows, highs
                continue
            edges = base.edges.get(depth) if base is not None and depth != top else None
            if edges is None:
                edges = self._edge_units(level, keep, var)
            self.edges[depth] = edges
            src, dst, least, most = edges
            if depth in self.qty_of:
                quantity = self.held[depth]
                if quantity is not None:  # each state holds its quantity: one pass
                    held = quantity[src]
                    bounds = self._relax(level.states, src, dst, held * least, held * most, depth)
                    self.lo[depth], self.hi[depth] = bounds
                    self.per_qty[depth] = {
                        int(cast(int, q)): bounds for q in graph.domains[self.qty_of[depth]]
                    }
                    continue
                quantities = {int(cast(int, q)) for q in graph.domains[self.qty_of[depth]]}
                self.per_qty[depth] = {
                    q: self._relax(level.states, src, dst, q * least, q * most, depth)
                    for q in quantities
                }
                continue
            times = self.fixed.get(var, 0)
            bounds = self._relax(level.states, src, dst, least * times, most * times, depth)
            self.lo[depth], self.hi[depth] = bounds
        # the search reads single states: lists are faster to index than arrays
        self.lists = [
            base.lists[depth]
            if base is not None and depth > top
            else (self.lo[depth].tolist(), self.hi[depth].tolist())
            for depth in range(last + 1)
        ]
        self.per_qty_lists = {
            depth: base.per_qty_lists[depth]
            if base is not None and depth > top
            else {q: (lo.tolist(), hi.tolist()) for q, (lo, hi) in per.items()}
            for depth, per in self.per_qty.items()
        }

    def _units(self, var: str, size: int) -> Floats:
        per = self.share.get(var)
        if per is None:
            return np.zeros(size)
        return np.array([per[v] for v in self.graph.domains[var]], dtype=np.float64)

    def _edge_units(
        self, level: LevelArrays, keep: Bools | None, var: str
    ) -> tuple[Ints, Ints, Floats, Floats]:
        """A level's edges with a value the filter keeps (source, child), and the least
        and most share of those values: per group of values, then per edge."""
        units = self._units(var, level.places)[level.group_place]
        lows, highs = units, units
        if keep is not None:
            kept = keep[level.group_place]
            lows, highs = np.where(kept, units, np.inf), np.where(kept, units, -np.inf)
        least = np.full(level.group_count, np.inf)
        most = np.full(level.group_count, -np.inf)
        np.minimum.at(least, level.group_of, lows)
        np.maximum.at(most, level.group_of, highs)
        edge_least, edge_most = least[level.edge_group], most[level.edge_group]
        live = edge_least < np.inf
        return level.src[live], level.dst[live], edge_least[live], edge_most[live]

    def _relax(
        self, states: int, src: Ints, dst: Ints, least: Floats, most: Floats, depth: int
    ) -> tuple[Floats, Floats]:
        """Per state at `depth`, the least and most a completion adds, from the edges'
        own least and most (quantities are never negative, so a quantity times the
        least share is the least)."""
        lows, highs = np.full(states, np.inf), np.full(states, -np.inf)
        np.minimum.at(lows, src, least + self.lo[depth + 1][dst])
        np.maximum.at(highs, src, most + self.hi[depth + 1][dst])
        return lows, highs

    def ends(self, depth: int, quantity: int | None, direction: int) -> list[float]:
        """Per state at `depth`, the least completion (direction 1) or the most (-1);
        at a part's level bounded per quantity, at that quantity."""
        lows, highs = (
            self.per_qty_lists[depth][quantity] if quantity is not None else self.lists[depth]
        )
        return lows if direction == 1 else highs

    def interval(self, lo: int, hi: int) -> Interval:
        """The sum between two totals in integer units, for bounds reasoning."""
        return Interval(Fraction(lo, self.scale), Fraction(hi, self.scale))

    def adds(self, depth: int, value: Value, path: Mapping[str, Value]) -> int:
        """What a step adds to the sum."""
        var = self.graph.order[depth]
        per = self.share.get(var)
        if per is None:
            return 0
        qv = self.qty_of.get(depth)
        qty = cast(int, path[qv]) if qv is not None else self.fixed[var]
        return qty * per[value]

    def ahead(self, depth: int, state: int, path: Mapping[str, Value]) -> tuple[float, float]:
        """The least and most a completion from a state at `depth` adds (inf: none)."""
        qv = self.qty_of.get(depth)
        if qv is not None:
            lows, highs = self.per_qty_lists[depth][cast(int, path[qv])]
        else:
            lows, highs = self.lists[depth]
        return lows[state], highs[state]


def level_quantities(graph: Graph, depth: int) -> Floats:
    """A quantity's level: per place of its domain, the quantity."""
    return np.array([float(cast(int, q)) for q in graph.domains[graph.order[depth]]])


def _state_quantities(graph: Graph, level: LevelArrays, depth: int) -> Floats | None:
    """Per state after a quantity's level, the one quantity every path to it took
    (None: some state is reached with several, the graph not holding it)."""
    quantity = level_quantities(graph, depth)[level.place]
    child = level.dst[level.edge_of]
    lows, highs = np.full(level.children, np.inf), np.full(level.children, -np.inf)
    np.minimum.at(lows, child, quantity)
    np.maximum.at(highs, child, quantity)
    return lows if np.array_equal(lows, highs) else None


@dataclass
class SideRule:
    """An unchecked rule over one sum, and where on the graph's paths the variables
    it reads besides the sum lie."""

    expr: Expr
    total: Total
    outside: list[int]  # places on the path of the variables read besides, in order
    reads: list[str]  # those variables
    domains: Mapping[str, Sequence[Value]]  # the graph's
    # the least and the most the sum is on any path of the graph, in units of the
    # sum's SumBounds, and that unit's size
    least: int
    most: int
    scale: int
    # per values of the outside variables set so far: the least and the most sum the
    # rule may hold at (INF, -INF: none); shared by every search on the graph
    room: dict[tuple[Any, ...], tuple[float, float]] = field(default_factory=dict)


def side_rules(graph: Graph) -> list[SideRule]:
    """The graph's unchecked rules that read exactly one sum."""
    found: list[SideRule] = []
    place = {v: i for i, v in enumerate(graph.order)}
    everything: list[Bools | None] = [None] * len(graph.order)
    for n in graph.unchecked:
        check: Check = graph.tables[n]
        if check.expr is None:
            continue
        totals = {(t.attr, t.components): t for t in nodes(check.expr) if isinstance(t, Total)}
        if len(totals) != 1:
            continue
        (total,) = totals.values()
        outside = direct_scope(graph.model, check.expr, total)
        if any(v not in place for v in outside):
            continue
        whole = SumBounds(graph, total, everything)
        least, most = whole.lists[0][0][0], whole.lists[0][1][0]
        if not (math.isfinite(least) and math.isfinite(most)):
            continue
        places = sorted(place[v] for v in outside)
        reads = [graph.order[p] for p in places]
        found.append(
            SideRule(
                check.expr, total, places, reads, graph.domains, int(least), int(most), whole.scale
            )
        )
    return found


class PathSums:
    """The side rules of one search, bounded along its paths within its filters."""

    def __init__(self, graph: Graph, rules: Sequence[SideRule], keeps: Sequence[Bools | None]):
        self.model = graph.model
        self.rules = list(rules)
        self.bounds = [SumBounds(graph, rule.total, keeps) for rule in self.rules]
        levels = len(graph.order)
        # per rule and level: the places of the outside variables set once it is set
        self.known = [
            [tuple(p for p in rule.outside if p <= d) for d in range(levels)] for rule in rules
        ]

    def start(self) -> tuple[int, ...]:
        return (0,) * len(self.rules)

    def step(
        self, depth: int, walked: Sequence[Value], child: int, so_far: tuple[int, ...]
    ) -> tuple[int, ...] | None:
        """The sums once the level at `depth` takes `walked[depth]` into state `child`
        of the next level; None when a rule cannot hold whatever the levels below
        take."""
        sums = list(so_far)
        value = walked[depth]
        for i, bounds in enumerate(self.bounds):
            per = bounds.share.get(bounds.graph.order[depth])
            if per is not None and value is not None:
                qv = bounds.qty_of.get(depth)
                qty = (
                    walked[depth - 1] if qv is not None else bounds.fixed[bounds.graph.order[depth]]
                )
                sums[i] += cast(int, qty) * per[value]
            if depth + 1 in bounds.qty_of:  # the quantity just set bounds its part's level
                lows, highs = bounds.per_qty_lists[depth + 1][cast(int, value)]
            else:
                lows, highs = bounds.lists[depth + 1]
            room = self.room_at(i, depth, walked)
            if sums[i] + highs[child] < room[0] or sums[i] + lows[child] > room[1]:
                return None
        return tuple(sums)

    def room_given(self, i: int, assigned: Mapping[str, Value]) -> tuple[float, float]:
        """The least and the most sum `i` may hold with some of the variables its rule
        reads besides the sum set (those a request fixes, say)."""
        rule = self.rules[i]
        known = {v: assigned[v] for v in rule.reads if v in assigned}
        key = ("given", tuple(sorted(known.items(), key=lambda kv: kv[0])))
        room = rule.room.get(key)
        if room is None:
            room = rule.room[key] = self._room(rule, (), known)
        return room

    def room_at(self, i: int, depth: int, walked: Sequence[Value]) -> tuple[float, float]:
        """The least and the most sum `i` may hold at once the level at `depth` is set."""
        rule = self.rules[i]
        key = tuple(walked[p] for p in self.known[i][depth])
        room = rule.room.get(key)
        if room is None:
            room = rule.room[key] = self._room(rule, key)
        return room

    def _room(
        self, rule: SideRule, key: tuple[Value, ...], given: Mapping[str, Value] | None = None
    ) -> tuple[float, float]:
        """The least and the most sum at which the rule is not found false, given the
        outside variables set in `key` (or those `given`): the sums below and above are false all
        together (found by halving; interval reasoning is only less sure on a wider
        range, so "false on [least, x]" is monotone in x)."""
        assigned = dict(given) if given is not None else dict(zip(rule.reads, key, strict=False))

        def false(lo: int, hi: int) -> bool:
            interval = Interval(Fraction(lo, rule.scale), Fraction(hi, rule.scale))
            totals = {(rule.total.attr, rule.total.components): interval}
            scope = Scope(self.model, assigned, rule.domains, None, False, totals)
            return abstract(scope, rule.expr) == FALSE

        if false(rule.least, rule.most):
            return INF, -INF
        lo, hi = rule.least - 1, rule.most
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if false(rule.least, mid):
                lo = mid
            else:
                hi = mid - 1
        first = lo + 1
        lo, hi = first, rule.most + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if false(mid, rule.most):
                hi = mid
            else:
                lo = mid + 1
        return first, lo - 1


def relaxed_weights(
    graph: Graph,
    weights: Mapping[str, Mapping[Value, int]],
    bounds: SumBounds,
    direction: int,
    multiplier: float,
) -> dict[str, dict[Value, float]]:
    """A cost's weights with a side sum folded in: each part's weight plus (direction
    1) or minus (-1) the multiplier times its share of the sum. The cheapest
    completion under these, less the multiplier times the room the sum has left, is
    a lower bound on the cost of a completion that keeps the sum within its room
    (Lagrangian relaxation), and often far above the cost's own estimate."""
    out: dict[str, dict[Value, float]] = {}
    for var in graph.order:
        own, share = weights.get(var), bounds.share.get(var)
        if own is None and share is None:
            continue
        per: dict[Value, float] = dict(own or {})
        for sku, units in (share or {}).items():
            if sku is not None:
                per[sku] = per.get(sku, 0) + direction * multiplier * units
        out[var] = per
    return out


def start_exponent(weights: Mapping[str, Mapping[Value, int]], bounds: SumBounds) -> int:
    """Where to start looking for the best multiplier for relaxed_weights: the power
    of two nearest the typical exchange rate of cost for sum between a component's
    parts."""
    rates: list[float] = []
    for name, share in bounds.share.items():
        own = weights.get(name)
        if not own:
            continue
        skus = [sku for sku in share if sku is not None and sku in own]
        if len(skus) < 2:
            continue
        spread_sum = max(share[s] for s in skus) - min(share[s] for s in skus)
        spread_cost = max(own[s] for s in skus) - min(own[s] for s in skus)
        if spread_sum > 0 and spread_cost > 0:
            rates.append(spread_cost / spread_sum)
    return round(math.log2(sorted(rates)[len(rates) // 2])) if rates else 0
