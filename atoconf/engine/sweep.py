"""Counting and valid domains by dynamic programming over a variable order.

Every narrow rule is a table over value classes (problem.py), so after some
variables are set, a rule's future is its *rest*: the rows it still allows for
its unset variables. A state is the rests of the rules that are open at one
depth of the order; values of a variable that lead to the same state are
handled together. The states form a layered graph (a decision diagram of the
valid assemblies), built forward one level at a time; counts (or the cheapest
completions) flow backward through it, and a value is valid exactly when it
labels an edge that lies on some complete path.

A sum over many components (`total(price) <= 2500`) is not a table. The rules
that read it become a predicate on the sum once the few variables they read
directly (options, typically) are fixed; those are enumerated, and the sum is
carried through the graph: as a polynomial when counting (the coefficient of
x^s counts completions adding s, packed into one integer), as the smallest or
largest completion when looking for valid values. A rule over another sum is a
lazy check holding that sum so far in the states when it takes few values;
otherwise it is left out of the levels and checked on paths (witnesses.py).
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import numpy as np

from atoconf.engine.clock import Clock, Stop
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.flows import (
    Bools,
    Floats,
    Ints,
    LevelArrays,
    completion_row,
    group_least,
    keep_mask,
    least_completions,
    level_arrays,
    valid_places,
)
from atoconf.engine.ordering import variable_order
from atoconf.engine.problem import (
    Check,
    assembly_of,
    check_holds,
    direct_scope,
    lazy_check,
    nodes,
)
from atoconf.engine.propagate import ANY, FALSE, TRUE, Interval, Num, Scope, abstract, num, qty_var
from atoconf.engine.sidesums import (
    PathSums,
    SideRule,
    relaxed_weights,
    side_rules,
    start_exponent,
)
from atoconf.engine.sums import shares
from atoconf.engine.witnesses import Start, witnessed
from atoconf.language.model import Binary, Compare, Model, Total, Unary, Value

MAX_OUTER = 256  # assignments of the variables a sum's rules read directly
MAX_SUM_STEPS = 400_000  # distinct sums a counting polynomial may track
MAX_STATES = 400_000  # states of one level before the sweep gives up
# edges the variable order's estimate may foresee (an overestimate: tens of millions
# have been graphs of 100,000 edges; past this, orders have been hopeless)
MAX_ESTIMATE = 1e9
BUILD_SECONDS = 30.0  # a whole space's graph not built in this long is not tried again
LAZY_SUMS = 20_000  # sums an estimate of a lazy check's rests lists, at most
NARROW_SUM = 64  # distinct values of a sum (about) that a side rule's states may hold
# states whose cheapest completions are kept per cost (some 280 bytes each: a row and
# its bounds as arrays and as lists; more for a part's level after its quantity).
# A batch of 10,000 orders on the large PC peaks at 398 MB with 500,000, at 539 MB
# with a million (and plans 10% faster).
ESTIMATES_KEPT = 500_000
# relaxed costs (sidesums.relaxed_weights) kept per cost, each with a share of its
# estimates: a climb tries several multipliers, and each holds rows for every state
RELAXED_KEPT = 6
CLIMB = 12  # steps (each a factor of 2) the search for a Lagrangian multiplier takes, at most


class Unsupported(Exception):
    """The model has a shape the sweep does not take; the caller falls back."""


# ---- the sum over many components ----------------------------------------------------------


@dataclass
class WideSum:
    """One `total(attr)` over many components, as integer steps: the real sum is
    `base + step * i` where i adds up each component's `units`."""

    total: Total
    checks: list[Check]  # the rules that read it
    outer: list[str]  # variables those rules read besides the sum
    base: Fraction
    step: Fraction
    # per component: (sku, qty) -> units above that component's cheapest choice
    units: dict[str, dict[tuple[Value, int], int]]
    top: int  # the largest i
    fixed: dict[str, int]  # components without a quantity variable: their quantity

    def value(self, i: int) -> Fraction:
        return self.base + self.step * i


def _contributions(
    model: Model, total: Total, domains: Mapping[str, Sequence[Value]]
) -> tuple[dict[str, dict[tuple[Value, int], int]], int]:
    """Per summed component, what each (part, quantity) adds to the sum, in whole
    multiples of 1/scale; and that scale (sums over thousands of choices stay ints)."""
    unit = shares(model, total)
    scale = math.lcm(*(x.denominator for name in total.components for x in unit[name].values()))
    out: dict[str, dict[tuple[Value, int], int]] = {}
    for name in total.components:
        comp = model.components[name]
        qv = qty_var(name)
        quantities = [int(q) for q in domains[qv]] if qv in domains else [comp.qty_min]  # type: ignore[arg-type]
        table: dict[tuple[Value, int], int] = {}
        per = {sku: x.numerator * (scale // x.denominator) for sku, x in unit[name].items()}
        for sku in domains[name]:
            for q in quantities:
                if sku is None:
                    if q == 0 or qv not in domains:
                        table[(None, q)] = 0
                    continue
                if q == 0:
                    continue
                table[(sku, q)] = q * per[sku]
        out[name] = table
    return out, scale


def wide_sum(
    model: Model,
    domains: Mapping[str, Sequence[Value]],
    checks: Sequence[Check],
    objective: Total | None = None,
) -> tuple[WideSum | None, list[Check]]:
    """The wide sum carried on the graph's edges, and the rules over wide sums it does
    not take, as lazy checks (the graph carries their partial sums in its states).

    The carried sum is the objective's, when given, else the one with the most
    distinct values (a price, typically: too many to hold in states). It takes the
    rules that read only it and read its summed components nowhere else, as long as
    the other variables they read have few assignments. None when no rule is left
    for it and there is no objective."""
    wide = [c for c in checks if c.allowed is None and not c.lazy]
    if not wide and objective is None:
        return None, []
    totals: dict[tuple[str, tuple[str, ...]], Total] = {}
    for check in wide:
        assert check.expr is not None
        for node in nodes(check.expr):
            if isinstance(node, Total):
                totals.setdefault((node.attr, node.components), node)
    if objective is not None:
        total = objective
    elif totals:
        total = max(totals.values(), key=lambda t: _spread(model, t, domains))
    else:
        return None, [lazy_check(model, c, domains) for c in wide]
    key = (total.attr, total.components)
    summed = {v for name in total.components for v in (name, qty_var(name))}
    taken: list[Check] = []
    side: list[Check] = []
    outer: dict[str, None] = {}
    for check in wide:
        assert check.expr is not None
        reads = {(n.attr, n.components) for n in nodes(check.expr) if isinstance(n, Total)}
        direct = direct_scope(model, check.expr, total)
        if reads == {key} and not set(direct) & summed:
            taken.append(check)
            for var in direct:
                # a part's quantity comes right before it in every order
                if qty_var(var) in domains:
                    outer[qty_var(var)] = None
                outer[var] = None
        else:
            side.append(lazy_check(model, check, domains))
    if math.prod(len(domains[v]) for v in outer) > MAX_OUTER:
        if objective is not None:
            raise Unsupported("too many assignments of the sum's other variables")
        side += [lazy_check(model, c, domains) for c in taken]
        taken, outer = [], {}
    if not taken and objective is None:
        return None, side
    ws = _carried(model, total, domains, taken, list(outer))
    return ws, side


def _spread(model: Model, total: Total, domains: Mapping[str, Sequence[Value]]) -> int:
    """How many distinct values a sum can take, about: its range in its own steps."""
    try:
        return _carried(model, total, domains, [], []).top
    except Unsupported:
        return 0


def _carried(
    model: Model,
    total: Total,
    domains: Mapping[str, Sequence[Value]],
    checks: list[Check],
    outer: list[str],
) -> WideSum:
    """A sum as integer steps over the graph's edges (see WideSum)."""
    contributions, scale = _contributions(model, total, domains)
    if any(not table for table in contributions.values()):
        raise Unsupported("a summed component has no choice")
    lows = {name: min(table.values()) for name, table in contributions.items()}
    # the step: the largest that divides every choice's excess over its component's least
    divisor = math.gcd(*(x - lows[n] for n, table in contributions.items() for x in table.values()))
    step = Fraction(divisor, scale) if divisor else Fraction(1)
    units = {
        name: {key: (x - lows[name]) // (divisor or 1) for key, x in table.items()}
        for name, table in contributions.items()
    }
    top = sum(max(table.values()) for table in units.values())
    fixed = {
        name: model.components[name].qty_min
        for name in total.components
        if qty_var(name) not in domains
    }
    base = Fraction(sum(lows.values()), scale)
    return WideSum(total, checks, outer, base, step, units, top, fixed)


def linear_terms(
    model: Model, expr: Any, domains: Mapping[str, Sequence[Value]]
) -> dict[str, dict[Value, int]]:
    """For a comparison of sums of terms, the variables that each appear in exactly one
    term and in nothing else, with each value's term (signed: minus on the right
    side), all scaled by one positive factor to whole numbers (a sum of them is
    compared with sums of the same terms, never read). Empty for any other
    expression, or one over a `total`."""
    if not isinstance(expr, Compare) or any(isinstance(t, Total) for t in nodes(expr)):
        return {}
    terms = _signed_terms(expr.left, 1) + _signed_terms(expr.right, -1)
    reads = [direct_scope(model, term, None) for term, _ in terms]
    seen: dict[str, int] = {}
    for scope in reads:
        for var in scope:
            seen[var] = seen.get(var, 0) + 1
    out: dict[str, dict[Value, Fraction]] = {}
    for (term, sign), scope in zip(terms, reads, strict=True):
        if len(scope) != 1 or seen[scope[0]] != 1:
            continue
        var = scope[0]
        values: dict[Value, Fraction] = {}
        for value in domains[var]:
            found = abstract(Scope(model, {var: value}, domains), term)
            if not isinstance(found, Interval) or not found.exact:
                break  # an absent part's attribute, say: the classes decide
            assert found.lo is not None
            values[value] = sign * Fraction(found.lo)
        else:
            out[var] = values
    scale = math.lcm(*(t.denominator for terms in out.values() for t in terms.values()))
    return {
        var: {value: int(t * scale) for value, t in terms.items()} for var, terms in out.items()
    }


def _whole(exact: Mapping[str, Mapping[Value, Fraction]]) -> SumShares:
    """Shares with whole numbers as ints (sums so far are keys: int sums are fast)."""
    return {name: {v: num(x) for v, x in per.items()} for name, per in exact.items()}


def _signed_terms(expr: Any, sign: int) -> list[tuple[Any, int]]:
    if isinstance(expr, Binary) and expr.op in ("+", "-"):
        right = sign if expr.op == "+" else -sign
        return _signed_terms(expr.left, sign) + _signed_terms(expr.right, right)
    if isinstance(expr, Unary) and expr.op == "neg":
        return _signed_terms(expr.operand, -sign)
    return [(expr, sign)]


def truth_segments(
    model: Model, ws: WideSum, outer: Mapping[str, Value]
) -> list[tuple[int, int, bool]]:
    """Where the sum's rules hold, for one assignment of their other variables: sorted
    runs (first i, last i, holds) covering 0..top, found by bounds reasoning on
    ranges of the sum, halving a range until the rules are decided on it."""
    first = ws.total.components[0]
    out: list[tuple[int, int, bool]] = []

    def decide(lo: int, hi: int) -> frozenset[Any]:
        memo: dict[tuple[str, str, str], Any] = {
            ("total", name, ws.total.attr): Interval(Fraction(0), Fraction(0))
            for name in ws.total.components
        }
        memo[("total", first, ws.total.attr)] = Interval(ws.value(lo), ws.value(hi))
        scope = Scope(model, outer, {}, memo, learn=False)
        verdict = TRUE
        for check in ws.checks:
            assert check.expr is not None
            truth = abstract(scope, check.expr)
            if truth == FALSE:
                return FALSE
            if truth != TRUE:
                verdict = frozenset({True, False})
        return verdict

    stack = [(0, ws.top)]
    while stack:
        lo, hi = stack.pop()
        truth = decide(lo, hi)
        if truth in (TRUE, FALSE):
            out.append((lo, hi, truth == TRUE))
        elif lo == hi:
            raise Unsupported("a sum's rule is not decided at a single value")
        else:
            mid = (lo + hi) // 2
            stack += [(mid + 1, hi), (lo, mid)]
    merged: list[tuple[int, int, bool]] = []
    for seg in sorted(out):
        if merged and merged[-1][2] == seg[2] and merged[-1][1] + 1 == seg[0]:
            merged[-1] = (merged[-1][0], seg[1], seg[2])
        else:
            merged.append(seg)
    return merged


# ---- the layered graph ---------------------------------------------------------------------


@dataclass
class Edge:
    values: list[Value]  # the values of the level's variable that lead to `child`
    child: int  # index of a state of the next level
    units: list[int]  # per value: what it adds to the sum (all 0 without one)


# per level and state the cheapest completion; for a part whose quantity is set just
# before it, per state a row over the quantities with each quantity's column (see
# PathCost._completions)
# a level's part weights (None: not a part), whether the path holds its quantity,
# and its fixed quantity
LevelWeights = tuple[Mapping[Value, int] | None, bool, int]
Completions = tuple[list[list[float]], dict[int, tuple[list[list[float]], dict[Value, int]]]]

# a check on a partial path: the variables it reads, and whether it holds for them
PathCheck = tuple[tuple[str, ...], Callable[[Mapping[str, Value]], bool]]

SumShares = dict[str, dict[Value, Num]]  # per summed component: each part's share


# the values one or more edges carry: (values, units, least unit, most unit)
EdgeGroup = tuple[list[Value], list[int], int, int]


@dataclass
class _Leaves:
    """A variable's values in groups that move every touching table alike and leave
    the same pending quantity: per group its classes (a row per group, a column per
    touching table), pending quantity, values and units."""

    classes: Ints
    pending: list[Any]
    values: list[list[Value]]
    units: list[list[int]]


class Level:
    """A level's edges as columns, sorted by source state: the children and the value
    groups they carry (many edges share a group). Building the graph never makes an
    object per edge; a state's `Edge`s are made when it is first read."""

    def __init__(self, offsets: Ints, dst: Ints, group: Ints, groups: list[EdgeGroup]) -> None:
        self.offsets = offsets  # state s has the edges offsets[s] .. offsets[s + 1] - 1
        self.dst = dst
        self.group = group
        self.groups = groups
        self._starts: list[int] = offsets.tolist()  # a state's read is on the hot path
        self._edges: dict[int, list[Edge]] = {}

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, state: int) -> list[Edge]:
        found = self._edges.get(state)
        if found is None:
            start, stop = self._starts[state], self._starts[state + 1]
            found = []
            for child, g in zip(
                self.dst[start:stop].tolist(), self.group[start:stop].tolist(), strict=True
            ):
                values, units, _, _ = self.groups[g]
                found.append(Edge(values, child, units))
            # threads share a model's graphs: two may make a state's edges at once,
            # and setdefault keeps one list for both
            found = self._edges.setdefault(state, found)
        return found

    def __iter__(self) -> Iterator[list[Edge]]:
        return (self[state] for state in range(len(self)))

    def sources(self) -> Ints:
        """Each edge's source state."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets))


# a layer of states: (rests, pending quantity) each
Layer = tuple[list[tuple[tuple[int, int], ...]], list[Any]]


class PathCost:
    """An additive cost over paths, in integer units: each part's weight times its
    quantity (a part's quantity variable comes right before it in every graph's
    order, so the path holds it), plus `finish` (never negative) on a complete
    path. What it needs per graph is worked out once and kept; one PathCost may serve
    searches in several threads (its caches change under a lock)."""

    def __init__(
        self,
        model: Model,
        weights: Mapping[str, Mapping[Value, int]],
        finish: Callable[[Mapping[str, Value]], int] | None = None,
        kept: int = ESTIMATES_KEPT,
    ) -> None:
        self.model = model
        self.weights = weights
        self.finish = finish
        self.kept = kept  # states whose estimates are kept, at most
        # per graph: per level (weights, quantity from the path?, fixed quantity)
        self._per_graph: dict[int, tuple[Graph, list[LevelWeights]]] = {}
        self._rows: dict[Any, Any] = {}  # per filter suffix: a level's rows (_level_rows)
        self._kept_states = 0  # the states of the rows kept
        self._filter_ids: dict[frozenset[Value], int] = {}
        self._lock = threading.Lock()
        self._relaxed: dict[Any, PathCost] = {}
        self.exponents: dict[Any, int] = {}  # per graph, side rule, direction: see _relaxed

    def relaxed(
        self, graph: Graph, sides: PathSums, i: int, direction: int, multiplier: float
    ) -> PathCost:
        """This cost with side sum `i` folded in (sidesums.relaxed_weights), kept per
        graph, sum, direction and multiplier like this cost's own estimates."""
        key = (id(graph), sides.rules[i].expr, direction, multiplier)
        with self._lock:
            found = self._relaxed.pop(key, None)
            if found is None:
                weights = relaxed_weights(
                    graph, self.weights, sides.bounds[i], direction, multiplier
                )
                found = PathCost(self.model, weights, kept=ESTIMATES_KEPT // RELAXED_KEPT)  # type: ignore[arg-type]
                while len(self._relaxed) >= RELAXED_KEPT:  # the least recently used goes
                    self._relaxed.pop(next(iter(self._relaxed)))
            self._relaxed[key] = found
        return found

    def levels(self, graph: Graph) -> list[LevelWeights]:
        with self._lock:
            return self._for(graph)

    def estimates(
        self, graph: Graph, filters: Sequence[set[Value] | None]
    ) -> tuple[Completions, list[list[float]], list[list[float]]]:
        """The cheapest completion of each state within the filters (checks and the
        sum's rules aside), and the least and most the sum can still add within them
        (0 without a sum)."""
        with self._lock:
            return self._completions(graph, self._for(graph), filters)

    def _for(self, graph: Graph) -> list[LevelWeights]:
        known = self._per_graph.get(id(graph))
        if known is not None and known[0] is graph:
            return known[1]
        levels: list[LevelWeights] = []
        for depth, var in enumerate(graph.order):
            comp = self.model.components.get(var)
            from_path = depth > 0 and graph.order[depth - 1] == qty_var(var)
            levels.append((self.weights.get(var), from_path, comp.qty_min if comp else 1))
        self._per_graph[id(graph)] = (graph, levels)
        return levels

    def _completions(
        self,
        graph: Graph,
        levels: Sequence[LevelWeights],
        filters: Sequence[set[Value] | None],
    ) -> tuple[Completions, list[list[float]], list[list[float]]]:
        """Per level and state, the cheapest completion within the filters, and the
        least and most the sum adds on one. A part whose quantity the level before it
        sets is weighed per quantity: its states keep the cheapest completion for each
        quantity, and the quantity's level reads them, so the estimate never takes a
        part at a quantity it is not in.

        A level's rows depend only on the filters from that level down, so they are
        kept per such suffix: requests that differ in their options (the first
        levels) share the rest, and a batch recomputes only what the stock it took
        changed."""
        arrays = graph.arrays()
        rows: list[list[float]] = [[0.0] * graph.final]
        lows: list[list[float]] = [[0.0] * graph.final]
        highs: list[list[float]] = [[0.0] * graph.final]
        below = np.zeros(graph.final)
        sums = (np.zeros(graph.final), np.zeros(graph.final))
        by_qty: dict[int, tuple[list[list[float]], dict[Value, int]]] = {}
        # the next level's per-quantity rows as an array (states x quantities), and
        # the place of each quantity in its columns
        after: tuple[Floats, dict[Value, int]] | None = None
        suffix: Any = (id(graph),)
        for depth in range(len(graph.levels) - 1, -1, -1):
            from_path = levels[depth][1]
            # a part's rows also depend on the filter of its quantity, the level above
            above = self._interned(filters[depth - 1]) if from_path else None
            suffix = (self._interned(filters[depth]), above, suffix)
            kept = self._rows.pop(suffix, None)
            if kept is None:
                kept = self._level_rows(
                    graph, arrays[depth], depth, levels, filters, below, after, sums
                )
                self._kept_states += len(kept[0])
                while self._rows and self._kept_states > self.kept:
                    self._kept_states -= len(self._rows.pop(next(iter(self._rows)))[0])
            self._rows[suffix] = kept  # the most recently used is kept longest
            row, per_state, below, after, sums, (low, high) = kept
            rows.insert(0, row)
            lows.insert(0, low)
            highs.insert(0, high)
            if per_state is not None:
                by_qty[depth] = per_state
        return (rows, by_qty), lows, highs

    @staticmethod
    def _level_rows(
        graph: Graph,
        level: LevelArrays,
        depth: int,
        levels: Sequence[LevelWeights],
        filters: Sequence[set[Value] | None],
        below: Floats,
        after: tuple[Floats, dict[Value, int]] | None,
        sums: tuple[Floats, Floats],
    ) -> Any:
        """One level of `_completions`, over the graph's arrays: the row (as a list and
        an array), for a part after its quantity the rows per quantity (as lists per
        state, and as an array, each with its quantities' columns), and the least and most
        sum of a completion (as arrays, and as lists)."""
        weights, from_path, fixed = levels[depth]
        keep = filters[depth]
        domain = graph.domains[graph.order[depth]]
        mask = None if keep is None else np.array([v in keep for v in domain], dtype=np.bool_)
        # the sum's bounds see the filters: a request that rules out the parts that
        # keep a sum low must not be searched as if they could
        least = completion_row(level, sums[0], 1, mask)
        most = -completion_row(level, -sums[1], -1, mask)
        bounds = (least, most), (least.tolist(), most.tolist())
        if after is not None:  # a quantity: its part's cheapest completion at it
            src, dst, place = level.src[level.edge_of], level.dst[level.edge_of], level.place
            ok = below[dst] < math.inf
            if mask is not None:
                ok &= mask[place]
            table, column = after
            at = np.array([column.get(v, -1) for v in domain], dtype=np.int64)[place[ok]]
            found = at >= 0
            row = np.full(level.states, math.inf)
            np.minimum.at(row, src[ok][found], table[dst[ok][found], at[found]])
            return row.tolist(), None, row, None, *bounds
        # an edge's cheapest value is its group's (quantities are never negative)
        weight = np.array(
            [0 if weights is None or v is None else weights[v] for v in domain], dtype=np.float64
        )
        if mask is not None:
            weight[~mask] = math.inf
        own = group_least(level, weight[level.group_place])[level.edge_group]
        cost = below[level.dst]
        live = (own < math.inf) & (cost < math.inf)
        src, cost, own = level.src[live], cost[live], own[live]
        if not from_path:
            row = np.full(level.states, math.inf)
            np.minimum.at(row, src, cost + own * fixed)
            return row.tolist(), None, row, None, *bounds
        before = filters[depth - 1]
        quantities = [
            q for q in graph.domains[graph.order[depth - 1]] if before is None or q in before
        ]
        table = np.full((level.states, len(quantities)), math.inf)
        for i, q in enumerate(quantities):
            cheapest = np.full(level.states, math.inf)
            np.minimum.at(cheapest, src, cost + own * cast(int, q))
            table[:, i] = cheapest
        row = table.min(axis=1) if quantities else np.full(level.states, math.inf)
        column = {q: i for i, q in enumerate(quantities)}
        return row.tolist(), (table.tolist(), column), row, (table, column), *bounds

    def _interned(self, keep: set[Value] | None) -> int:
        if keep is None:
            return -1
        frozen = frozenset(keep)
        found = self._filter_ids.get(frozen)
        if found is None:
            found = self._filter_ids[frozen] = len(self._filter_ids)
        return found


class Graph:
    """The layered graph of partial assignments (see the module docstring)."""

    def __init__(
        self,
        model: Model,
        variables: Sequence[str],
        domains: Mapping[str, Sequence[Value]],
        checks: Sequence[Check],
        ws: WideSum | None,
        clock: Clock,
        first: Sequence[str] = (),
        unchecked: Sequence[Check] = (),
    ) -> None:
        tables = [c for c in checks if (c.allowed is not None or c.lazy) and c.scope]
        self.model = model
        self.domains = domains
        self.tables = tables
        self._levels_tables = len(tables)  # the unchecked rules' tables come after
        self.ws = ws
        self.summed = set(ws.units) if ws is not None else set()
        self.touching: dict[str, list[tuple[int, int]]] = {v: [] for v in variables}
        for n, check in enumerate(tables):
            for pos, v in enumerate(check.scope):
                self.touching[v].append((n, pos))
        # rests are interned: (check, open positions, rows) -> id; a lazy check's
        # "rows" are the classes its placed positions took, ((position, class), ...)
        self._rest_ids: dict[tuple[int, tuple[int, ...], Any], int] = {}
        self._rests: list[tuple[int, tuple[int, ...], Any]] = []
        # per lazy check and position: one value of each class
        self._representative: dict[tuple[int, int], dict[int, Value]] = {}
        # per lazy check's rest: one assignment that leads to it; per lazy check: the
        # variables it reads outside sums, and its sums
        self._lazy_values: dict[int, dict[str, Value]] = {}
        # what unset components can add, over the graph's domains (propagate.Scope.memo)
        self.bounds_memo: dict[tuple[str, str, str], Any] = {}
        self._lazy_decided: dict[tuple[int, tuple[int, ...], Any], int] = {}
        self._lazy_info: dict[int, tuple[set[str], list[tuple[Total, SumShares]]]] = {}
        self._unknown_totals: dict[int, dict[tuple[str, tuple[str, ...]], Interval]] = {}
        self._linear: dict[int, dict[str, dict[Value, int]]] = {}
        self._moves: dict[tuple[int, int, int], int] = {}
        self._move_maps: dict[tuple[int, int], Ints] = {}
        self._start: dict[int, int] = {}
        self.order: list[str] = []
        self.levels: list[Level] = []
        self._arrays: list[LevelArrays] | None = None
        self._arrays_lock = threading.Lock()
        self._steps: dict[tuple[int, int], dict[Value, tuple[int, int]]] = {}
        self._settling: list[dict[int, frozenset[Value]]] | None = None  # _settlers
        # the valid values of the latest requests answered with a witness search, by
        # their filters, newest last (see `_earlier`)
        self._answers: list[
            tuple[tuple[frozenset[Value] | None, ...], dict[str, frozenset[tuple[type, Value]]]]
        ] = []
        self._answers_lock = threading.Lock()
        self._side_rules: list[SideRule] | None = None  # _path_sums
        self._build(variables, first, clock)
        # rules left out of the levels, checked on paths (witnesses.py): their rests
        # move like a lazy check's, so they are tables past the levels' own
        self.unchecked = list(range(len(tables), len(tables) + len(unchecked)))
        tables.extend(unchecked)

    def unchecked_start(self) -> tuple[int, ...]:
        """The rests of the unchecked rules before any variable is set."""
        return tuple(self._initial(n) for n in self.unchecked)

    def unchecked_step(
        self, rests: tuple[int, ...], var: str, value: Value
    ) -> tuple[int, ...] | None:
        """The unchecked rules' rests once `var` takes `value`: -2 for a rule that holds
        whatever comes next; None when one fails."""
        out = list(rests)
        for i, n in enumerate(self.unchecked):
            check = self.tables[n]
            if out[i] == -2 or var not in check.scope:
                continue
            pos = check.scope.index(var)
            out[i] = self._move(out[i], pos, check.classes[pos][value])
            if out[i] == -1:
                return None
        return tuple(out)

    def step(self, depth: int, state: int, value: Value) -> tuple[int, int] | None:
        """Where a value leads from a state, and what it adds to the sum (None: nowhere)."""
        moves = self._steps.get((depth, state))
        if moves is None:
            moves = self._steps[(depth, state)] = {
                v: (e.child, u)
                for e in self.levels[depth][state]
                for v, u in zip(e.values, e.units, strict=True)
            }
        return moves.get(value)

    def holds_unchecked(self, values: Mapping[str, Value], changed: str | None = None) -> bool:
        """Whether a complete path satisfies the rules left out of the levels (those
        that read `changed`: the others hold already)."""
        assembly = assembly_of(self.model, values)  # one for every rule
        for n in self.unchecked:
            check = self.tables[n]
            if changed is not None and changed not in check.scope:
                continue
            if check.allowed is not None:
                if check.row(values) not in check.allowed:
                    return False
            elif not check.compiled(self.model)(assembly):
                return False
        return True

    def _holds(self, n: int) -> Callable[[Mapping[str, Value]], bool]:
        check = self.tables[n]
        return lambda values: check_holds(self.model, check, values)

    # rests: what a table still allows for its open positions

    def _intern(self, n: int, open_: tuple[int, ...], rows: Any) -> int:
        key = (n, open_, rows)
        found = self._rest_ids.get(key)
        if found is None:
            found = self._rest_ids[key] = len(self._rests)
            self._rests.append(key)
        return found

    def _initial(self, n: int) -> int:
        found = self._start.get(n)
        if found is None and self.tables[n].lazy:
            everything = tuple(range(len(self.tables[n].scope)))
            found = self._start[n] = self._intern(n, everything, self._lazy_key(n, {}))
            self._lazy_values[found] = {}
        if found is None:
            check = self.tables[n]
            assert check.allowed is not None
            present = [
                {check.classes[i][x] for x in self.domains[v]} for i, v in enumerate(check.scope)
            ]
            rows = frozenset(
                r for r in check.allowed if all(c in present[i] for i, c in enumerate(r))
            )
            found = self._start[n] = self._intern(n, tuple(range(len(check.scope))), rows)
        return found

    def _move(self, rest: int, pos: int, cls: int) -> int:
        """The rest once position `pos` takes class `cls`: -1 when nothing is left,
        -2 when the check is decided (satisfied)."""
        key = (rest, pos, cls)
        found = self._moves.get(key)
        if found is None and self.tables[self._rests[rest][0]].lazy:
            found = self._moves[key] = self._lazy_move(rest, pos, cls)
        if found is None:
            n, open_, rows = self._rests[rest]
            at = open_.index(pos)
            left = frozenset(r[:at] + r[at + 1 :] for r in rows if r[at] == cls)
            if not left:
                found = -1
            elif len(open_) == 1:
                found = -2
            else:
                found = self._intern(n, open_[:at] + open_[at + 1 :], left)
            self._moves[key] = found
        return found

    def _lazy_move(self, rest: int, pos: int, cls: int) -> int:
        """A lazy check's move: decided once every position is placed, or earlier when
        bounds reasoning over the graph's domains finds it true or false whatever
        the open positions take. Its rest is keyed by what its future depends on
        (see _lazy_key), and keeps one assignment that led to it."""
        n, open_, _ = self._rests[rest]
        check = self.tables[n]
        assert check.expr is not None
        values = {**self._lazy_values[rest], check.scope[pos]: self._of_class(n, pos, cls)}
        left = tuple(p for p in open_ if p != pos)
        if not left:
            return -2 if check_holds(self.model, check, values) else -1
        key = (n, left, self._lazy_key(n, values))
        found = self._lazy_decided.get(key)
        if found is not None:  # another assignment with the same future
            return found
        # the graph's domains never change: what unset components can add is kept. A
        # rule checked on paths has its sums bounded by the search, far tighter: here
        # only what settles it whatever they are (a guard that switches it off)
        scope = Scope(self.model, values, self.domains, self.bounds_memo)
        if n >= self._levels_tables:
            scope.totals = self._any_totals(n)
        truth = abstract(scope, check.expr)
        if truth == FALSE:
            found = -1
        elif truth == TRUE:
            found = -2
        else:
            found = self._intern(*key)
            self._lazy_values[found] = values
        self._lazy_decided[key] = found
        return found

    def _any_totals(self, n: int) -> dict[tuple[str, tuple[str, ...]], Interval]:
        """Every sum a check reads, as unknown (made once per check: lazy moves are
        many)."""
        found = self._unknown_totals.get(n)
        if found is None:
            _, totals = self._lazy_reads(n)
            found = {(total.attr, total.components): ANY for total, _ in totals}
            self._unknown_totals[n] = found
        return found

    def _lazy_key(self, n: int, values: Mapping[str, Value]) -> tuple[Any, ...]:
        """What a lazy check's future depends on, given the values of some of its
        variables: the classes of those it reads outside sums (and of a summed
        part or quantity whose partner is still open), and each sum so far."""
        check = self.tables[n]
        outside, totals = self._lazy_reads(n)
        linear = self._lazy_linear(n)
        kept: list[tuple[int, int]] = []
        for p, var in enumerate(check.scope):
            if var not in values or var in linear:
                continue
            owner = var.removesuffix(".qty")
            partner = qty_var(var) if owner == var else owner
            waiting = partner in check.scope and partner not in values
            if var in outside or waiting:
                kept.append((p, check.classes[p][values[var]]))
        sums: list[Num] = []
        for total, unit in totals:
            partial: Num = 0
            for name in total.components:
                qv = qty_var(name)
                if name not in values or (qv in check.scope and qv not in values):
                    continue
                sku = values[name]
                if sku is not None:
                    qty = values.get(qv, self.model.components[name].qty_min)
                    partial += cast(int, qty) * unit[name][sku]
            sums.append(partial)
        terms = sum(linear[var][values[var]] for var in linear if var in values)
        return tuple(kept), tuple(sums), terms

    def _lazy_linear(self, n: int) -> dict[str, dict[Value, int]]:
        """The variables a lazy check reads each in a term of its own of a comparison
        of sums (`base.length >= pump.length + motor.length + 40`), with each value's
        signed term: the check's future depends on their terms' sum so far, which
        takes far fewer values than their classes together."""
        found = self._linear.get(n)
        if found is None:
            expr = self.tables[n].expr
            assert expr is not None
            found = self._linear[n] = linear_terms(self.model, expr, self.domains)
        return found

    def _lazy_reads(self, n: int) -> tuple[set[str], list[tuple[Total, SumShares]]]:
        """A lazy check's variables read outside sums, and its sums with their shares."""
        info = self._lazy_info.get(n)
        if info is None:
            expr = self.tables[n].expr
            assert expr is not None
            totals = {(t.attr, t.components): t for t in nodes(expr) if isinstance(t, Total)}
            info = self._lazy_info[n] = (
                set(direct_scope(self.model, expr, None)),
                [(t, _whole(shares(self.model, t))) for t in totals.values()],
            )
        return info

    def _lazy_rests(self, n: int, placed: frozenset[int]) -> float:
        """About how many rests (log) a lazy check has once `placed` positions are set:
        the classes of what it keeps, times the distinct values of each sum so far."""
        check = self.tables[n]
        outside, totals = self._lazy_reads(n)
        log = 0.0
        for p in placed:
            var = check.scope[p]
            owner = var.removesuffix(".qty")
            partner = qty_var(var) if owner == var else owner
            waiting = partner in check.scope and check.scope.index(partner) not in placed
            if var in outside or waiting:
                log += math.log(max(len({check.classes[p][x] for x in self.domains[var]}), 1))
        for total, unit in totals:
            sums = {Fraction(0)}
            for name in total.components:
                if name not in check.scope or check.scope.index(name) not in placed:
                    continue
                qv = qty_var(name)
                quantities = self.domains.get(qv, [self.model.components[name].qty_min])
                adds = {
                    cast(int, q) * unit[name][sku]
                    for sku in self.domains[name]
                    for q in quantities
                    if sku is not None or q == 0 or qv not in self.domains
                }
                if len(sums) * len(adds) > LAZY_SUMS:
                    log += math.log(len(adds))  # too many to list: at most this many more
                    continue
                sums = {a + b for a in sums for b in adds}
            log += math.log(max(len(sums), 1))  # no sums: a component without a choice
        return log

    def _of_class(self, n: int, pos: int, cls: int) -> Value:
        """A value of the given class at a lazy check's position (they all read alike)."""
        found = self._representative.get((n, pos))
        if found is None:
            found = {}
            check = self.tables[n]
            for value in self.domains[check.scope[pos]]:
                found.setdefault(check.classes[pos][value], value)
            self._representative[(n, pos)] = found
        return found[cls]

    def _leaves(self, var: str, touching: Sequence[tuple[int, int]]) -> _Leaves:
        """The values of one variable grouped by their classes in the touching tables
        (which decide the next state) and by what they leave pending for the sum, in
        the order of their first values. A summed part after its quantity gets its
        units per state (see _level)."""
        ws = self.ws
        owner = var.removesuffix(".qty")
        holds_qty = ws is not None and var.endswith(".qty") and owner in self.summed
        index: dict[tuple[tuple[int, ...], Any], int] = {}
        leaves = _Leaves(np.empty(0, dtype=np.int64), [], [], [])
        signatures: list[tuple[int, ...]] = []
        for value in self.domains[var]:
            sig = tuple(self.tables[n].classes[pos][value] for n, pos in touching)
            pending: Any = value if holds_qty else None
            share = 0
            if ws is not None and var in self.summed and var in ws.fixed:
                share = ws.units[var][(value, ws.fixed[var])]
            at = index.get((sig, pending))
            if at is None:
                at = index[(sig, pending)] = len(signatures)
                signatures.append(sig)
                leaves.pending.append(pending)
                leaves.values.append([])
                leaves.units.append([])
            leaves.values[at].append(value)
            leaves.units[at].append(share)
        leaves.classes = np.array(signatures, dtype=np.int64).reshape(
            len(signatures), len(touching)
        )
        return leaves

    def _walk(
        self, leaves: _Leaves, touching: Sequence[tuple[int, int]], rests: Mapping[int, int]
    ) -> tuple[list[int], list[list[int]]]:
        """The leaves the rests allow, each with the rest every touching table moves to
        (-2: decided), as arrays: one lookup per table over all the leaves."""
        allowed = np.ones(len(leaves.values), dtype=np.bool_)
        after = np.empty(leaves.classes.shape, dtype=np.int64)
        for i, (n, pos) in enumerate(touching):
            moves = self._moves_from(rests[n] if n in rests else self._initial(n), pos)
            after[:, i] = moves[leaves.classes[:, i]]
            allowed &= after[:, i] != -1
        kept = np.flatnonzero(allowed)
        return kept.tolist(), after[kept].tolist()

    @staticmethod
    def _edge_groups(
        walked: tuple[list[int], list[list[int]]],
        leaves: _Leaves,
        touching: Sequence[tuple[int, int]],
        moved_ids: dict[tuple[int, ...], int],
        moved_of: list[tuple[tuple[int, int], ...]],
        after_qty: bool,
        shares: Mapping[tuple[Value, Any], int],
        pending: Any,
        numbered: list[EdgeGroup],
    ) -> list[tuple[int, Any, int]]:
        """A walk's leaves as edges to be: per (moved rests id, child's pending
        quantity) the values and their units (after a quantity: the parts that take it),
        appended to `numbered` with their least and most units; each as its number."""
        # the leaves per (rests moved to, child's pending), in the order of their first leaf
        kept, rows = walked
        pending_of = leaves.pending
        grouped: dict[tuple[tuple[int, ...], Any], list[int]] = {}
        for leaf, moved in zip(kept, map(tuple, rows), strict=True):
            grouped.setdefault((moved, pending_of[leaf]), []).append(leaf)
        out: list[tuple[int, Any, int]] = []
        for (moved, child_pending), members in grouped.items():
            if len(members) == 1:  # the leaf's own lists: nothing changes them
                values, units = leaves.values[members[0]], leaves.units[members[0]]
            else:
                values = [v for leaf in members for v in leaves.values[leaf]]
                units = [u for leaf in members for u in leaves.units[leaf]]
            if after_qty:
                taken = [(v, shares[(v, pending)]) for v in values if (v, pending) in shares]
                if not taken:
                    continue
                values, units = [v for v, _ in taken], [u for _, u in taken]
            mid = moved_ids.get(moved)
            if mid is None:
                mid = moved_ids[moved] = len(moved_of)
                moved_of.append(
                    tuple((n, a) for (n, _), a in zip(touching, moved, strict=True) if a != -2)
                )
            out.append((mid, child_pending, len(numbered)))
            numbered.append((values, units, min(units), max(units)))
        return out

    def _moves_from(self, rest: int, pos: int) -> Ints:
        """Every class's move from one rest at one position, indexed by class (-1: the
        rest does not allow it)."""
        key = (rest, pos)
        found = self._move_maps.get(key)
        if found is None:
            n, open_, rows = self._rests[rest]
            check = self.tables[n]
            found = np.full(max(check.classes[pos].values(), default=-1) + 1, -1, dtype=np.int64)
            if check.lazy:
                for cls in {check.classes[pos][x] for x in self.domains[check.scope[pos]]}:
                    found[cls] = self._move(rest, pos, cls)
            else:
                # every class's rows in one pass (a class at a time reads all the rows)
                at = open_.index(pos)
                left: dict[int, list[tuple[int, ...]]] = {}
                for r in rows:
                    left.setdefault(r[at], []).append(r[:at] + r[at + 1 :])
                for cls, remainder in left.items():
                    after = self._moves.get((rest, pos, cls))
                    if after is None:
                        after = -2
                        if len(open_) > 1:
                            after = self._intern(
                                n, open_[:at] + open_[at + 1 :], frozenset(remainder)
                            )
                        self._moves[(rest, pos, cls)] = after
                    found[cls] = after
            self._move_maps[key] = found
        return found

    def _build(self, variables: Sequence[str], first: Sequence[str], clock: Clock) -> None:
        """The levels, in the order estimated smallest (ordering.py)."""
        order, estimate = variable_order(
            variables, self.tables, self.domains, clock, first, self._lazy_rests
        )
        if estimate > MAX_ESTIMATE:
            raise Unsupported("the graph would be too large")
        layer: Layer = ([()], [None])
        for var in order:
            level, layer = self._level(var, layer, clock)
            self.order.append(var)
            self.levels.append(level)
            if len(layer[0]) > MAX_STATES:
                raise Unsupported("too many states")
        self.final = len(layer[0])
        self.states = sum(len(level) for level in self.levels)
        self.places = [
            {value: i for i, value in enumerate(self.domains[var])} for var in self.order
        ]

    def _level(self, var: str, layer: Layer, clock: Clock) -> tuple[Level, Layer]:
        """One level for `var` after `layer`: its edges and the states of the next
        layer."""
        states, pending_of = layer
        touching = self.touching[var]
        touched = {n for n, _ in touching}
        # a summed part whose quantity the state holds: its units per quantity
        after_qty = self.ws is not None and var in self.summed and var not in self.ws.fixed
        shares = self.ws.units[var] if self.ws is not None and after_qty else {}
        leaves = self._leaves(var, touching)
        # per touched rests (and pending quantity): the edges they allow, each as (the
        # rests they move to as an id, the child's pending quantity, its value group).
        # Many states share their touched rests; ids keep keys short (a tuple's hash is
        # recomputed on every lookup)
        lists_of: dict[tuple[Any, ...], int] = {}
        lists: list[list[tuple[int, Any, int]]] = []
        groups: list[EdgeGroup] = []
        moved_ids: dict[tuple[int, ...], int] = {}  # per row of rests moved to
        moved_of: list[tuple[tuple[int, int], ...]] = []
        untouched_ids: dict[tuple[tuple[int, int], ...], int] = {}
        list_of_state = np.empty(len(states), dtype=np.int64)
        untouched_of_state = np.empty(len(states), dtype=np.int64)
        for i, (state, pending) in enumerate(zip(states, pending_of, strict=True)):
            clock.tick()
            rests = dict(state)
            untouched = tuple(item for item in state if item[0] not in touched)
            untouched_of_state[i] = untouched_ids.setdefault(untouched, len(untouched_ids))
            key = (tuple(rests.get(n, -1) for n, _ in touching), pending if after_qty else None)
            found = lists_of.get(key)
            if found is None:
                found = lists_of[key] = len(lists)
                walked = self._walk(leaves, touching, rests)
                lists.append(
                    self._edge_groups(
                        walked,
                        leaves,
                        touching,
                        moved_ids,
                        moved_of,
                        after_qty,
                        shares,
                        pending,
                        groups,
                    )
                )
            list_of_state[i] = found
        return self._columns(
            list_of_state, untouched_of_state, lists, groups, list(untouched_ids), moved_of
        )

    @staticmethod
    def _columns(
        list_of_state: Ints,
        untouched_of_state: Ints,
        lists: list[list[tuple[int, Any, int]]],
        groups: list[EdgeGroup],
        untouched_of: list[tuple[tuple[int, int], ...]],
        moved_of: list[tuple[tuple[int, int], ...]],
    ) -> tuple[Level, Layer]:
        """Every state's edges at once, by index arithmetic: a state's edges are its
        list's, each to the child keyed by the state's untouched rests, the rests the
        edge moves to and the child's pending quantity; children numbered in the order
        a walk state by state meets them."""
        pair_ids: dict[tuple[int, Any], int] = {}  # (moved rests id, child's pending)
        flat_pair: list[int] = []
        flat_group: list[int] = []
        for edges in lists:
            for mid, child_pending, group in edges:
                flat_pair.append(pair_ids.setdefault((mid, child_pending), len(pair_ids)))
                flat_group.append(group)
        sizes = np.array([len(edges) for edges in lists], dtype=np.int64)
        starts = np.cumsum(sizes) - sizes
        per_state = sizes[list_of_state]
        offsets = np.zeros(len(list_of_state) + 1, dtype=np.int64)
        np.cumsum(per_state, out=offsets[1:])
        index = np.arange(offsets[-1]) + np.repeat(starts[list_of_state] - offsets[:-1], per_state)
        pair = np.array(flat_pair, dtype=np.int64)[index]
        group = np.array(flat_group, dtype=np.int64)[index]
        pairs = list(pair_ids)
        width = max(len(pairs), 1)
        key = np.repeat(untouched_of_state, per_state) * width + pair
        unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(unique), dtype=np.int64)
        rank[order] = np.arange(len(unique))
        dst = rank[inverse.reshape(-1)]
        # two keys may name one state (the same rests reached two ways); edges of one
        # state that now share a child are summed as they are
        merged: dict[tuple[Any, ...], int] = {}
        remap: list[int] = []
        for k in unique[order].tolist():
            uid, pid = divmod(k, width)
            mid, child_pending = pairs[pid]
            child = (tuple(sorted(untouched_of[uid] + moved_of[mid])), child_pending)
            remap.append(merged.setdefault(child, len(merged)))
        if len(merged) != len(remap):
            dst = np.array(remap, dtype=np.int64)[dst]
        layer = ([k[0] for k in merged], [k[1] for k in merged])
        return Level(offsets, dst, group, groups), layer

    # what flows backward

    def count(
        self,
        segments: Sequence[tuple[int, int, bool]] | None,
        allowed: Mapping[str, Collection[Value]] | None,
        clock: Clock,
    ) -> int:
        """The number of complete paths within `allowed` (whose sum the segments
        allow): each run of sums where the rules hold is a difference of two
        `at_most` counts."""
        if segments is not None and not any(ok for _, _, ok in segments):
            return 0
        filters = self._filters(allowed)
        if self.unchecked:
            return self._count_on_paths(segments, filters, clock)
        if self.ws is None or segments is None or segments == [(0, self.ws.top, True)]:
            return self._plain_counts(filters, clock)[0][0]
        if self.ws.top > MAX_SUM_STEPS:
            raise Unsupported("the sum takes too many distinct values to count")
        return sum(
            self.at_most(hi, filters, clock) - self.at_most(lo - 1, filters, clock)
            for lo, hi, ok in segments
            if ok
        )

    def _count_on_paths(
        self,
        segments: Sequence[tuple[int, int, bool]] | None,
        filters: Sequence[set[Value] | None],
        clock: Clock,
    ) -> int:
        """The complete paths within the filters where the rules left out of the levels
        hold (and whose sum the segments allow): forward, level by level, the paths to
        each state counted per rests of those rules (their partial sums, see
        _lazy_key) and, under a budget, per sum so far. Values of an edge alike to
        those rules (and adding the same) step once, their number multiplied."""
        ws = self.ws
        cut = ws is not None and segments is not None and segments != [(0, ws.top, True)]
        layer: dict[tuple[int, tuple[int, ...], int], int] = {(0, self.unchecked_start(), 0): 1}
        steps: dict[tuple[tuple[int, ...], str, Value], tuple[int, ...] | None] = {}
        for depth, level in enumerate(self.levels):
            clock.check()
            var, keep = self.order[depth], filters[depth]
            reading = [n for n in self.unchecked if var in self.tables[n].scope]
            alike: dict[int, list[tuple[Value, int, int]]] = {}  # per edge's values: groups
            out: dict[tuple[int, tuple[int, ...], int], int] = {}
            for (state, rests, partial), paths in layer.items():
                clock.tick()
                if len(out) > MAX_SUM_STEPS:
                    raise Unsupported(
                        "the rules checked on paths take too many partial sums to count"
                    )
                for e in level[state]:
                    groups = alike.get(id(e.values))
                    if groups is None:
                        found: dict[tuple[Any, ...], list[Any]] = {}
                        for value, u in zip(e.values, e.units, strict=True):
                            if keep is not None and value not in keep:
                                continue
                            key = tuple(
                                self.tables[n].classes[self.tables[n].scope.index(var)][value]
                                for n in reading
                            ) + ((u,) if cut else ())
                            found.setdefault(key, [value, u, 0])[2] += 1
                        groups = alike[id(e.values)] = [(v, u, k) for v, u, k in found.values()]
                    for value, u, times in groups:
                        after: tuple[int, ...] | None = rests
                        if reading:
                            step = (rests, var, value)
                            if step not in steps:
                                steps[step] = self.unchecked_step(rests, var, value)
                            after = steps[step]
                        if after is None:
                            continue
                        child = (e.child, after, partial + u if cut else 0)
                        out[child] = out.get(child, 0) + paths * times
            layer = out
        total = 0
        for (_, rests, partial), paths in layer.items():
            if any(r != -2 for r in rests):
                raise Unsupported("a rule checked on paths is still open at the end of a path")
            if not cut or any(lo <= partial <= hi and ok for lo, hi, ok in segments or ()):
                total += paths
        return total

    @staticmethod
    def _kept(e: Edge, keep: set[Value] | None) -> list[int]:
        """The units of an edge's values that a filter keeps."""
        if keep is None:
            return e.units
        return [u for v, u in zip(e.values, e.units, strict=True) if v in keep]

    def _plain_counts(self, filters: Sequence[set[Value] | None], clock: Clock) -> list[list[int]]:
        """Per level and state: its number of completions (the last level: 1 each).
        Exact integers, so a loop over the edge columns rather than arrays."""
        counts = [[1] * self.final]
        for depth in range(len(self.levels) - 1, -1, -1):
            clock.check()
            level, below = self.levels[depth], counts[0]
            sizes = [len(units) for units in self._kept_units(level, filters[depth])]
            row = [0] * len(level)
            for src, dst, group in zip(
                level.sources().tolist(), level.dst.tolist(), level.group.tolist(), strict=True
            ):
                if below[dst] and sizes[group]:
                    row[src] += sizes[group] * below[dst]
            counts.insert(0, row)
        return counts

    @staticmethod
    def _kept_units(level: Level, keep: set[Value] | None) -> list[list[int]]:
        """Per value group of a level, the units of the values a filter keeps."""
        if keep is None:
            return [units for _, units, _, _ in level.groups]
        return [
            [u for v, u in zip(values, units, strict=True) if v in keep]
            for values, units, _, _ in level.groups
        ]

    def _reach(
        self, filters: Sequence[set[Value] | None]
    ) -> tuple[list[list[int | None]], list[list[int]]]:
        """Per level and state: the least (None: not reached) and the most sum of the
        paths to it within the filters."""
        least: list[list[int | None]] = [[0]]
        most: list[list[int]] = [[0]]
        for depth, level in enumerate(self.levels):
            kept = self._kept_units(level, filters[depth])
            lows = [min(units, default=0) for units in kept]
            highs = [max(units, default=0) for units in kept]
            size = len(self.levels[depth + 1]) if depth + 1 < len(self.levels) else self.final
            low: list[int | None] = [None] * size
            high = [0] * size
            reached, top = least[-1], most[-1]
            for src, dst, group in zip(
                level.sources().tolist(), level.dst.tolist(), level.group.tolist(), strict=True
            ):
                lo = reached[src]
                if lo is None or not kept[group]:
                    continue
                x, y = lo + lows[group], top[src] + highs[group]
                below = low[dst]
                if below is None or x < below:
                    low[dst] = x
                if below is None or y > high[dst]:
                    high[dst] = y
            least.append(low)
            most.append(high)
        return least, most

    def at_most(self, limit: int, filters: Sequence[set[Value] | None], clock: Clock) -> int:
        """The number of complete paths within the filters whose sum is at most `limit`.

        Backward, each state keeps its cumulative counts C(j) = completions adding at
        most lo + j, packed into one integer (`bits` per coefficient), but only on a
        window: below lo = limit - (the most a path to it adds), every path to the
        state is under the limit whatever it adds, so C(0) stands for all of them;
        above hi = limit - (the least a path to it adds) no path is; and past the
        most the state can add, C is its total. Near the root the paths to a state
        differ little; near the leaves the completions do: windows stay narrow."""
        if limit < 0:
            return 0
        plain = self._plain_counts(filters, clock)
        total = plain[0][0] if plain[0] else 0
        if not total:
            return 0
        least, most = self._reach(filters)
        largest = self._best(-1, filters, clock)  # minus the most a state adds
        bits = total.bit_length() + 1
        slot = (1 << bits) - 1
        # coefficient 1 in each of limit + 2 slots, by doubling: a parent reads a child
        # within the child's budgets, at most `limit` past its lo
        size, ones_all = 1, 1
        while size < limit + 2:
            ones_all |= ones_all << (bits * size)
            size *= 2

        def ones(start: int, stop: int) -> int:
            """Coefficient 1 in slots start..stop-1."""
            if stop <= start:
                return 0
            return (ones_all & ((1 << (bits * (stop - start))) - 1)) << (bits * start)

        # per state of the level below: [lo, slots, poly, total]; past its window a
        # state's C is its total, and its poly is extended with totals as far as a
        # parent reads it (once per state, not once per value that reads it)
        below: list[list[int]] = [[0, 0, 0, 1] for _ in range(self.final)]
        for depth in range(len(self.levels) - 1, -1, -1):
            clock.check()
            keep = filters[depth]
            row: list[list[int]] = []
            for state, edges in enumerate(self.levels[depth]):
                clock.tick()
                reached = least[depth][state]
                count = plain[depth][state]
                if reached is None or limit - reached < 0 or not count:
                    row.append([0, 0, 0, 0])
                    continue
                hi = limit - reached
                lo = max(0, limit - most[depth][state])
                width = max(0, min(hi, int(-largest[depth][state])) - lo + 1)
                acc = 0
                if width:
                    for e in edges:
                        child = below[e.child]
                        c_lo, c_slots, c_poly, c_total = child
                        if not c_total:
                            continue
                        for u in self._kept(e, keep):
                            d = lo - u - c_lo  # child slot = this slot + d
                            if width + d > c_slots:
                                c_poly += c_total * ones(c_slots, width + d)
                                c_slots = child[1] = width + d
                                child[2] = c_poly
                            # no slot can carry into the next: each sums to at most
                            # this state's count; the window is cut out once, below
                            acc += c_poly >> (bits * d) if d >= 0 else c_poly << (bits * -d)
                    acc &= (1 << (bits * width)) - 1
                row.append([lo, width, acc, count])
            below = row
        lo, width, poly, count = below[0]
        return (poly & slot) if width else count

    def _filters(self, allowed: Mapping[str, Collection[Value]] | None) -> list[set[Value] | None]:
        """Per level, the values a request leaves (None: all of them)."""
        filters: list[set[Value] | None] = []
        for var in self.order:
            keep = None if allowed is None else set(allowed[var])
            if keep is not None and keep.issuperset(self.domains[var]):
                keep = None
            filters.append(keep)
        return filters

    def _best(
        self, sign: int, filters: Sequence[set[Value] | None], clock: Clock
    ) -> list[list[float]]:
        """Per level and state: the least sum (times sign) of a completion within the
        filters; +inf when there is none."""
        clock.spend(self.states)
        rows = least_completions(self.arrays(), self.final, sign, self._keeps(filters))
        return [row.tolist() for row in rows]

    def _keeps(self, filters: Sequence[set[Value] | None]) -> list[Bools | None]:
        """The filters as masks over each level's value places."""
        return [
            keep_mask(level, None if keep is None else [places[v] for v in keep if v in places])
            for level, keep, places in zip(self.arrays(), filters, self.places, strict=True)
        ]

    def best_first(
        self, sign: int, allowed: Mapping[str, Collection[Value]] | None, clock: Clock
    ) -> Iterator[tuple[int, dict[str, Value]]]:
        """Complete paths within `allowed`, least sum (times sign) first, each once:
        best-first search whose estimate (the best completion) is exact, expanding a
        state's choices lazily, best first, so each path costs a few steps. Ties keep
        the graph's order (values in domain order), so the order is fixed."""
        filters = self._filters(allowed)
        best = self._best(sign, filters, clock)
        inf = math.inf
        if not best[0] or best[0][0] == inf:
            return
        choices: dict[tuple[int, int], list[tuple[float, int, Value, int, int]]] = {}

        def options(depth: int, state: int) -> list[tuple[float, int, Value, int, int]]:
            """A state's choices, best first: (completion, order, value, units, child)."""
            key = (depth, state)
            found = choices.get(key)
            if found is None:
                below = best[depth + 1]
                keep = filters[depth]
                found = []
                n = 0
                for e in self.levels[depth][state]:
                    c = below[e.child]
                    for value, u in zip(e.values, e.units, strict=True):
                        n += 1
                        if c == inf or (keep is not None and value not in keep):
                            continue
                        found.append((c + sign * u, n, value, u, e.child))
                found.sort(key=lambda o: (o[0], o[1]))
                choices[key] = found
            return found

        last = len(self.levels)
        counter = 0
        # (estimate, tie, depth, state, index into options, sum so far, path so far)
        heap: list[tuple[float, int, int, int, int, int, tuple[Value, ...]]] = []
        first = options(0, 0)
        if first:
            heap.append((first[0][0], 0, 0, 0, 0, 0, ()))
        while heap:
            clock.tick()
            _, _, depth, state, index, so_far, path = heapq.heappop(heap)
            opts = options(depth, state)
            _, _, value, u, child = opts[index]
            if index + 1 < len(opts):
                counter += 1
                nxt = opts[index + 1]
                heapq.heappush(
                    heap, (so_far + nxt[0], counter, depth, state, index + 1, so_far, path)
                )
            here = so_far + sign * u
            path = (*path, value)
            if depth + 1 == last:
                found = dict(zip(self.order, path, strict=True))
                if not self.unchecked or self.holds_unchecked(found):
                    yield sign * here, found
                continue
            below = options(depth + 1, child)
            if below:
                counter += 1
                heapq.heappush(heap, (here + below[0][0], counter, depth + 1, child, 0, here, path))

    def cheapest(
        self,
        cost: PathCost,
        allowed: Mapping[str, Collection[Value]] | None,
        outers: Mapping[tuple[Value, ...], Sequence[tuple[int, int, bool]] | None],
        checks: Sequence[PathCheck],
        clock: Clock,
    ) -> Iterator[tuple[int, dict[str, Value]]]:
        """Complete paths within `allowed` on which `checks` hold, least `cost` first.

        A* whose estimate is the cheapest completion in the whole graph (never more
        than the true one: filters and checks only remove paths), worked out once
        per graph and cost. A path is valid when the sum lies where the rules of its
        outer assignment hold (`outers`: the truth segments per assignment of the
        sum's outer variables, () without any); partial paths that cannot reach
        such a sum are dropped early. Each check is tried once its last variable is
        set."""
        filters = self._filters(allowed)
        levels = cost.levels(self)
        (estimate, by_qty), ws_low, ws_high = cost.estimates(self, filters)
        last = len(self.levels)
        if not estimate[0] or estimate[0][0] == math.inf:
            return
        index = {v: i for i, v in enumerate(self.order)}
        # per level, the checks decided there, each with the places of its scope on the
        # path (a check reads its own variables: they are handed over alone)
        checks_at: list[list[tuple[PathCheck, list[int]]]] = [[] for _ in self.order]
        unchecked = [(self.tables[n].scope, self._holds(n)) for n in self.unchecked]
        for scope, check in [*checks, *unchecked]:
            if not all(v in index for v in scope):
                raise Unsupported("a check reads variables outside this graph")
            places = [index[v] for v in scope]
            checks_at[max(places, default=0)].append(((tuple(scope), check), places))
        n_outer = len(self.ws.outer) if self.ws is not None else 0
        if self.ws is not None and list(self.order[:n_outer]) != list(self.ws.outer):
            raise Unsupported("the sum's outer variables do not come first")
        holding: dict[tuple[Value, ...], tuple[int, int, list[tuple[int, int]]] | None] = {}
        for key, segments in outers.items():
            ok = [(lo, hi) for lo, hi, good in segments or () if good]
            lowest = min((lo for lo, _ in ok), default=1)
            highest = max((hi for _, hi in ok), default=0)
            holding[key] = None if segments is None else (lowest, highest, ok)
        sides = self._path_sums(filters)
        side_start = sides.start() if sides is not None else ()
        relaxed = self._relaxed(cost, sides, filters, estimate[0][0]) if sides is not None else []
        counter = 0
        # (estimate, -depth, tie, depth, state, cost so far, sum so far, side sums so
        # far, path): of equal estimates the deepest first, so that ties (a cost of 0
        # everywhere, say) go down to a complete path instead of widening; depth ==
        # last marks a complete path, whose estimate is its final cost
        heap: list[
            tuple[float, int, int, int, int, int, int, tuple[int, ...], tuple[Value, ...]]
        ] = [(estimate[0][0], 0, 0, 0, 0, 0, 0, side_start, ())]
        while heap:
            clock.tick()
            _, _, _, depth, state, so_far, ws_sum, side, path = heapq.heappop(heap)
            if depth == last:
                yield so_far, dict(zip(self.order, path, strict=True))
                continue
            keep = filters[depth]
            below = estimate[depth + 1]
            weights, from_path, fixed = levels[depth]
            qty = path[-1] if from_path else fixed
            known = depth >= n_outer  # the path holds every outer value already
            bounds = holding.get(path[:n_outer]) if known else None
            after = by_qty.get(depth + 1)  # this level sets the next part's quantity
            for e in self.levels[depth][state]:
                rest = below[e.child]
                if rest == math.inf:
                    continue
                for value, units in zip(e.values, e.units, strict=True):
                    if keep is not None and value not in keep:
                        continue
                    if after is not None:
                        at = after[1].get(value)
                        rest = math.inf if at is None else after[0][e.child][at]
                        if rest == math.inf:
                            continue
                    walked = (*path, value)
                    here = so_far
                    if weights is not None and value is not None:
                        here += weights[value] * cast(int, qty)
                    total = ws_sum + units
                    limits = bounds
                    if not known and depth + 1 == n_outer:
                        if walked not in holding:  # the sum's rules never hold here
                            continue
                        limits = holding[walked]
                    if limits is not None and (
                        total + ws_low[depth + 1][e.child] > limits[1]
                        or total + ws_high[depth + 1][e.child] < limits[0]
                    ):
                        continue
                    moved = side
                    if sides is not None:
                        stepped = sides.step(depth, walked, e.child, side)
                        if stepped is None:
                            continue
                        moved = stepped
                    if checks_at[depth]:
                        clock.tick()  # checks are the work here: a pop can try hundreds
                        if not all(
                            check(dict(zip(scope, [walked[i] for i in places], strict=True)))
                            for (scope, check), places in checks_at[depth]
                        ):
                            continue
                    counter += 1
                    if depth + 1 < last:
                        guess = here + rest
                        for i, direction, lam, (rows, qty_rows) in relaxed:
                            room = sides.room_at(i, depth, walked)  # type: ignore[union-attr]
                            edge = room[1] if direction == 1 else room[0]
                            if abs(edge) == math.inf:
                                continue
                            if after is not None:
                                at = after[1][value]
                                r = qty_rows[depth + 1][0][e.child][at]
                            else:
                                r = rows[depth + 1][e.child]
                            bound = here + r - direction * lam * (edge - moved[i])
                            if bound > guess:
                                guess = bound
                        heapq.heappush(
                            heap,
                            (
                                guess,
                                -depth - 1,
                                counter,
                                depth + 1,
                                e.child,
                                here,
                                total,
                                moved,
                                walked,
                            ),
                        )
                        continue
                    if limits is not None and not any(lo <= total <= hi for lo, hi in limits[2]):
                        continue
                    if cost.finish is not None:
                        here += cost.finish(dict(zip(self.order, walked, strict=True)))
                    heapq.heappush(
                        heap, (here, -last, counter, last, 0, here, total, moved, walked)
                    )

    def _relaxed(
        self,
        cost: PathCost,
        sides: PathSums,
        filters: Sequence[set[Value] | None],
        plain: float,
    ) -> list[tuple[int, int, float, Completions]]:
        """Per side rule and direction whose room the request narrows: the cheapest
        completions under the cost with the rule's sum folded in (Lagrangian
        relaxation, see sidesums.relaxed_weights) at the multiplier, a power of two,
        whose bound at the start is the highest; only where it beats the cost's own
        estimate (`plain`). The bound is concave in the multiplier: a climb finds it."""
        fixed = {
            var: next(iter(keep))
            for var, keep in zip(self.order, filters, strict=True)
            if keep is not None and len(keep) == 1
        }
        out: list[tuple[int, int, float, Completions]] = []
        if not cost.weights:
            return out  # no cost to bound (a search for any assembly)
        for i, (rule, bounds) in enumerate(zip(sides.rules, sides.bounds, strict=True)):
            room = sides.room_given(i, fixed)
            for direction, edge, loose in ((1, room[1], rule.most), (-1, room[0], rule.least)):
                if edge == loose or abs(edge) == math.inf:
                    continue  # the request leaves the sum all its room: nothing to gain
                key = (id(self), rule.expr, direction)
                k = cost.exponents.get(key)
                if k is None:
                    k = start_exponent(cost.weights, bounds)
                at = (cost, sides, filters, i, direction, edge)
                best, rows = self._relaxed_bound(*at, k)
                for step in (1, -1):
                    for _ in range(CLIMB):
                        found, more = self._relaxed_bound(*at, k + step)
                        if found <= best:
                            break
                        k, best, rows = k + step, found, more
                cost.exponents[key] = k  # the next request starts its climb here
                if best > plain:
                    out.append((i, direction, 2.0**k, rows))
        return out

    def _relaxed_bound(
        self,
        cost: PathCost,
        sides: PathSums,
        filters: Sequence[set[Value] | None],
        i: int,
        direction: int,
        edge: float,
        k: int,
    ) -> tuple[float, Completions]:
        """The relaxed estimates at multiplier 2**k, and their bound at the start."""
        relaxed = cost.relaxed(self, sides, i, direction, 2.0**k)
        rows = relaxed.estimates(self, filters)[0]
        return rows[0][0][0] - direction * 2.0**k * edge, rows

    def _path_sums(self, filters: Sequence[set[Value] | None]) -> PathSums | None:
        """The unchecked rules over one sum, bounded along a search's paths (None:
        there are none)."""
        if self._side_rules is None:
            self._side_rules = side_rules(self)
        if not self._side_rules:
            return None
        return PathSums(self, self._side_rules, self._keeps(filters))

    def supported(
        self,
        entries: Sequence[tuple[Mapping[str, Value], Sequence[tuple[int, int, bool]] | None]],
        allowed: Mapping[str, Collection[Value]] | None,
        clock: Clock,
        one: bool = False,
        wanted: Collection[str] | None = None,
    ) -> dict[str, set[tuple[type, Value]]]:
        """Per variable, the values on some complete path within `allowed` (a request's
        narrowed domains; None: every value) whose sum lies where the rules of its
        outer assignment hold (`entries`: per outer assignment, its truth segments);
        with `one` and rules left out of the levels, those of one such path; with
        `wanted`, exact only for those variables (the others' values are not witnessed).
        Unsupported when the rules hold on separate ranges of the sum.

        In signed units x (the sum, or minus the sum for a lower bound), an outer
        assignment asks for x <= B. A value on an edge s -> c is valid when the least
        x of a path to s, minus B, plus its own x, plus the least x of a completion
        from c is at most 0: so every outer assignment that asks the same way starts
        one forward pass at its state with -B, and one pass answers them all."""
        out: dict[str, set[tuple[type, Value]]] = {v: set() for v in self.order}
        filters = self._filters(allowed)
        n_outer = len(self.ws.outer) if self.ws is not None else 0
        best: dict[int, list[Floats]] = {}
        sources: dict[int, dict[int, float]] = {}
        witness_starts: list[Start] = []
        arrays = self.arrays()
        keeps = self._keeps(filters)
        for outer, segments in entries:
            bound = _bound(self.ws, segments)
            if bound is None:
                continue  # the rules hold for no sum
            sign, limit = bound
            state = self._follow(outer, n_outer, filters)
            if state is None:
                continue
            if sign not in best:
                clock.spend(self.states)
                best[sign] = least_completions(arrays, self.final, sign, keeps)
            least = best[sign][n_outer][state]
            if least == math.inf or least > limit:
                continue  # no completion, or none that keeps the sum in bounds
            for var in self.order[:n_outer]:
                out[var].add((type(outer[var]), outer[var]))
            starts = sources.setdefault(sign, {})
            starts[state] = min(starts.get(state, math.inf), -limit)
            if self.unchecked:
                rests: tuple[int, ...] | None = self.unchecked_start()
                for var in self.order[:n_outer]:
                    if rests is not None:
                        rests = self.unchecked_step(rests, var, outer[var])
                if rests is not None:
                    witness_starts.append((outer, sign, -limit, state, rests))
        for sign, starts in sources.items():
            clock.spend(self.states)
            size = arrays[n_outer].states if n_outer < len(arrays) else self.final
            start = np.full(size, math.inf)
            for state, value in starts.items():
                start[state] = value
            found = valid_places(arrays, n_outer, start, best[sign], sign, keeps)
            for var, bits in zip(self.order[n_outer:], found, strict=True):
                domain = self.domains[var]
                out[var].update((type(domain[i]), domain[i]) for i in np.flatnonzero(bits).tolist())
        if self.unchecked:  # what the levels allow still needs a witness
            if one or wanted is not None:
                return witnessed(
                    self, out, witness_starts, filters, best, keeps, clock, one, wanted
                )
            earlier = self._earlier(filters)
            if earlier is not None and earlier[0]:
                return {var: set(values) for var, values in earlier[1].items()}
            if earlier is not None:  # a wider request's valid values: none other is
                out = {var: values & earlier[1][var] for var, values in out.items()}
            settled = self._settled(filters, n_outer, witness_starts, clock)
            valid = witnessed(
                self, out, witness_starts, filters, best, keeps, clock, settled=settled
            )
            self._remember(filters, valid)
            return valid
        return out

    def _earlier(
        self, filters: Sequence[set[Value] | None]
    ) -> tuple[bool, dict[str, frozenset[tuple[type, Value]]]] | None:
        """The valid values of the latest earlier request that allowed at least what
        these filters allow (a click adds a choice to the request before it), and
        whether it allowed exactly that; None: no such request is remembered."""
        with self._answers_lock:
            answers = list(reversed(self._answers))
        for kept, valid in answers:
            if all(
                old is None or (new is not None and new <= old)
                for new, old in zip(filters, kept, strict=True)
            ):
                same = all(new == old for new, old in zip(filters, kept, strict=True))
                return same, valid
        return None

    def _remember(
        self, filters: Sequence[set[Value] | None], valid: Mapping[str, set[tuple[type, Value]]]
    ) -> None:
        """Keep a request's valid values for the requests after it."""
        kept = tuple(None if f is None else frozenset(f) for f in filters)
        entry = (kept, {var: frozenset(values) for var, values in valid.items()})
        with self._answers_lock:
            self._answers = [a for a in self._answers if a[0] != kept][-(ANSWERS - 1) :]
            self._answers.append(entry)

    def _settled(
        self,
        filters: Sequence[set[Value] | None],
        n_outer: int,
        starts: Sequence[Start],
        clock: Clock,
    ) -> dict[str, set[tuple[type, Value]]]:
        """Values valid without a witness: those on a path of the levels (within the
        filters, its sum in bounds) that also takes, for each unchecked rule, a value
        that settles it alone (`delivery == parcel -> total(weight_kg) <= 120` holds
        whatever the parts weigh once delivery is two_person); none when some rule
        has no such value the request allows."""
        through = list(filters)
        for per_level in self._settlers():
            for depth, values in per_level.items():
                keep = through[depth]
                narrowed = values if keep is None else values & keep
                if depth >= n_outer and narrowed:
                    through[depth] = set(narrowed)
                    break
            else:
                return {}
        out: dict[str, set[tuple[type, Value]]] = {var: set() for var in self.order}
        arrays = self.arrays()
        keeps = self._keeps(through)
        by_sign: dict[int, dict[int, float]] = {}
        for _, sign, y, state, _ in starts:
            found = by_sign.setdefault(sign, {})
            found[state] = min(found.get(state, math.inf), y)
        size = arrays[n_outer].states if n_outer < len(arrays) else self.final
        for sign, states in by_sign.items():
            clock.spend(2 * self.states)
            start = np.full(size, math.inf)
            for state, y in states.items():
                start[state] = y
            least = least_completions(arrays, self.final, sign, keeps)
            places = valid_places(arrays, n_outer, start, least, sign, keeps)
            for var, bits in zip(self.order[n_outer:], places, strict=True):
                domain = self.domains[var]
                out[var].update((type(domain[i]), domain[i]) for i in np.flatnonzero(bits).tolist())
        return out

    def _settlers(self) -> list[dict[int, frozenset[Value]]]:
        """Per unchecked rule, per level of a variable it reads outside its sums, the
        values that settle the rule alone (it holds whatever the others take); worked
        out once per graph."""
        if self._settling is None:
            initial = self.unchecked_start()
            index = {var: depth for depth, var in enumerate(self.order)}
            found: list[dict[int, frozenset[Value]]] = []
            for i, n in enumerate(self.unchecked):
                per_level: dict[int, frozenset[Value]] = {}
                expr = self.tables[n].expr
                for var in direct_scope(self.model, expr, None) if expr is not None else ():
                    if var not in index:
                        continue
                    values = frozenset(
                        v
                        for v in self.domains[var]
                        if (rests := self.unchecked_step(initial, var, v)) is not None
                        and rests[i] == -2
                    )
                    if values:
                        per_level[index[var]] = values
                found.append(per_level)
            self._settling = found
        return self._settling

    def arrays(self) -> list[LevelArrays]:
        """The levels as arrays for the click passes (flows.py), made on first use (under
        a lock: threads share a model's graphs)."""
        with self._arrays_lock:
            if self._arrays is None:
                self._arrays = [
                    level_arrays(
                        len(level),
                        len(self.levels[depth + 1]) if depth + 1 < len(self.levels) else self.final,
                        level.sources(),
                        level.dst,
                        level.group,
                        [([places[v] for v in vs], us, lo, hi) for vs, us, lo, hi in level.groups],
                        len(places),
                    )
                    for depth, (level, places) in enumerate(
                        zip(self.levels, self.places, strict=True)
                    )
                ]
        return self._arrays

    def _follow(
        self, outer: Mapping[str, Value], depth: int, filters: Sequence[set[Value] | None]
    ) -> int | None:
        """The state the first `depth` levels lead to with the outer values (None: the
        filters or the graph do not allow them)."""
        state = 0
        for d in range(depth):
            keep = filters[d]
            value = outer[self.order[d]]
            if keep is not None and value not in keep:
                return None
            child = next((e.child for e in self.levels[d][state] if value in e.values), None)
            if child is None:
                return None
            state = child
        return state


ANSWERS = 16  # requests whose valid values a graph keeps for the requests after them


def _bound(
    ws: WideSum | None, segments: Sequence[tuple[int, int, bool]] | None
) -> tuple[int, float] | None:
    """Where an outer assignment's sum rules hold, as (sign, B): signed sums x <= B
    (sign -1: minus the sum); None when they hold nowhere. Unsupported when they
    hold on separate ranges, or on one strictly inside the sum's range."""
    if ws is None or segments is None:
        return 1, math.inf
    holding = [(lo, hi) for lo, hi, ok in segments if ok]
    if not holding:
        return None
    if len(holding) > 1:
        raise Unsupported("the sum's rules allow separate ranges")
    lo, hi = holding[0]
    if lo == 0 and hi == ws.top:
        return 1, math.inf
    if lo == 0:
        return 1, hi
    if hi == ws.top:
        return -1, -lo
    raise Unsupported("the sum's rules allow a range strictly inside the sum's")


def _narrow_sums(model: Model, check: Check, domains: Mapping[str, Sequence[Value]]) -> bool:
    """Whether a rule over sums the graph does not carry may hold its partial sums in
    the states: each takes few values. A wide one (a weight in grams) would multiply
    the states past use; its rule is checked on paths instead (witnesses.py)."""
    assert check.expr is not None
    totals = {(t.attr, t.components): t for t in nodes(check.expr) if isinstance(t, Total)}
    return all(0 <= _spread(model, t, domains) <= NARROW_SUM for t in totals.values())


def outer_assignments(
    ws: WideSum | None, domains: Mapping[str, Sequence[Value]]
) -> Iterator[dict[str, Value]]:
    if ws is None or not ws.outer:
        yield {}
        return
    for combo in itertools.product(*(domains[v] for v in ws.outer)):
        yield dict(zip(ws.outer, combo, strict=True))


Built = list[tuple[dict[str, Value], list[tuple[int, int, bool]] | None, Graph]]


def build_graphs(
    model: Model,
    group: Sequence[str],
    domains: Mapping[str, Sequence[Value]],
    checks: Sequence[Check],
    clock: Clock,
    objective: Total | None = None,
) -> Built:
    """Per assignment of the variables a wide sum's rules read directly (one entry
    when there is no such sum): where those rules hold, and the graph, shared by
    every entry. Unsupported when the group has a shape the sweep does not take."""
    ws, side = wide_sum(model, domains, checks, objective)
    narrow = [c for c in side if _narrow_sums(model, c, domains)]
    tables = [c for c in checks if c.allowed is not None or c.lazy] + narrow
    unchecked = [c for c in side if c not in narrow]
    out: Built = []
    graph: Graph | None = None
    for outer in outer_assignments(ws, domains):
        segments = truth_segments(model, ws, outer) if ws is not None else None
        if segments is not None and not any(ok for _, _, ok in segments):
            continue
        if graph is None:
            # one graph for every outer assignment: those variables come first, and
            # each assignment reads the graph through a filter on them
            graph = Graph(model, group, domains, tables, ws, clock, list(outer), unchecked)
        out.append((outer, segments, graph))
    return out


def whole_space_graphs(
    model: Model,
    group: Sequence[str],
    domains: Mapping[str, Sequence[Value]],
    checks: Sequence[Check],
    clock: Clock,
) -> Built:
    """build_graphs for the model without a request, built once per model: a request
    that only selects values is answered on them by filtering (see `supported`)."""

    def build() -> Built | None:
        # compiling the whole space is part of loading the model, done once: it has
        # its own time limit, not the deadline of the request that happens to ask first
        # (a short deadline would stop it on every click and the model would never
        # get its graphs)
        own = Clock(BUILD_SECONDS, clock.cap)
        try:
            return build_graphs(model, group, domains, checks, own)
        except Unsupported:
            return None  # kept too: no use trying again for the next click
        except Stop as stop:
            if stop.reason == "deadline":
                return None  # too slow to build: the fallbacks answer for this model
            raise

    built = CompiledModel.of(model).get((WHOLE_SPACE, tuple(group)), build)
    if built is None:
        raise Unsupported("the whole space does not fit the sweep")
    return built


WHOLE_SPACE = "whole-space graphs"


def whole_space_compiled(model: Model) -> bool:
    """Whether some group's graphs of the whole space are built already (an earlier
    request built them): reading them is then cheaper than any search."""
    kept = CompiledModel.of(model)
    return any(
        isinstance(key, tuple) and key[0] == WHOLE_SPACE and kept.get(key, lambda: None) is not None
        for key in kept.built()
    )


def within_outer(
    graph: Graph, outer: Mapping[str, Value], allowed: Mapping[str, Collection[Value]] | None
) -> Mapping[str, Collection[Value]] | None:
    """A request's narrowed domains (None: the graph's own) fixed to one outer assignment;
    None when that assignment lies outside them."""
    if not outer:
        return allowed
    base: Mapping[str, Collection[Value]] = allowed if allowed is not None else graph.domains
    if any(outer[v] not in base[v] for v in outer):
        return None
    return {**base, **{v: [value] for v, value in outer.items()}}


def count_of(
    built: Built, clock: Clock, allowed: Mapping[str, Collection[Value]] | None = None
) -> int:
    """The complete paths of the graphs within `allowed` (None: all of them)."""
    total = 0
    for outer, segments, graph in built:
        within = within_outer(graph, outer, allowed)
        if outer and within is None:
            continue
        total += graph.count(segments, within, clock)
    return total


def left_to_paths(built: Built) -> str:
    """What the graphs leave to be checked on paths (rules over a second sum, whose
    valid values need a witness each), in words; "" when nothing."""
    graph = built[0][2] if built else None
    names = sorted({graph.tables[n].origin.name for n in graph.unchecked}) if graph else []
    return f"rules checked on paths: {', '.join(names)}" if names else ""


def counted_by_sums(built: Built) -> str:
    """How a count under a budget is taken, in words ("" without one): every state
    carries a count per sum within the budget, so it costs the states times the sums."""
    cut = [
        (graph, hi)
        for _, segments, graph in built
        if graph.ws is not None and segments is not None
        for lo, hi, ok in segments
        if ok and segments != [(0, graph.ws.top, True)]
    ]
    if not cut:
        return ""
    graph, budget = max(cut, key=lambda c: c[1])
    return f"a count per sum up to {budget:,} in each of {graph.states:,} states"


def supported_in(
    built: Built,
    group: Sequence[str],
    allowed: Mapping[str, Collection[Value]] | None,
    clock: Clock,
    one: bool = False,
    wanted: Collection[str] | None = None,
) -> dict[str, set[tuple[type, Value]]]:
    """Per variable of the group, the values on some complete path of the graph within
    `allowed` (with `one`, maybe only those of one path: enough to tell that there is
    one; with `wanted`, exact only for those variables); Unsupported when the graph
    cannot tell."""
    out: dict[str, set[tuple[type, Value]]] = {v: set() for v in group}
    if not built:
        return out
    graph = built[0][2]  # every entry shares one graph
    entries = [(outer, segments) for outer, segments, _ in built]
    for var, values in graph.supported(entries, allowed, clock, one, wanted).items():
        out[var] |= values
    return out
