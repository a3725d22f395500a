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
largest completion when looking for valid values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from atoconf.evaluate import part_value
from atoconf.model import AttrRef, ComponentRef, Model, OptionRef, QtyRef, Total, Value
from atoconf.problem import Check, Clock, nodes, scope_of
from atoconf.propagate import FALSE, TRUE, Interval, Scope, abstract, qty_var

MAX_OUTER = 256  # assignments of the variables a sum's rules read directly
MAX_SUM_STEPS = 400_000  # distinct sums a polynomial may track
MAX_STATES = 400_000  # states of one level before the sweep gives up


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
) -> dict[str, dict[tuple[Value, int], Fraction]]:
    out: dict[str, dict[tuple[Value, int], Fraction]] = {}
    for name in total.components:
        comp = model.components[name]
        qv = qty_var(name)
        quantities = [int(q) for q in domains[qv]] if qv in domains else [comp.qty_min]  # type: ignore[arg-type]
        table: dict[tuple[Value, int], Fraction] = {}
        for sku in domains[name]:
            for q in quantities:
                if sku is None:
                    if q == 0 or qv not in domains:
                        table[(None, q)] = Fraction(0)
                    continue
                if q == 0:
                    continue
                unit = part_value(model, str(sku), total.attr)
                table[(sku, q)] = q * (unit if isinstance(unit, Fraction) else Fraction(0))
        out[name] = table
    return out


def wide_sum(
    model: Model, domains: Mapping[str, Sequence[Value]], checks: Sequence[Check]
) -> WideSum | None:
    """The one wide sum the expression checks read, or None when all checks are
    tables; Unsupported for anything else."""
    wide = [c for c in checks if c.allowed is None]
    if not wide:
        return None
    totals: dict[tuple[str, tuple[str, ...]], Total] = {}
    for check in wide:
        assert check.expr is not None
        for node in nodes(check.expr):
            if isinstance(node, Total):
                totals[(node.attr, node.components)] = node
    if len(totals) != 1:
        raise Unsupported("not exactly one wide sum")
    total = next(iter(totals.values()))
    summed = {v for name in total.components for v in (name, qty_var(name))}
    outer: dict[str, None] = {}
    for check in wide:
        assert check.expr is not None
        for var in _direct_scope(model, check.expr, total):
            outer[var] = None
    if set(outer) & summed:
        raise Unsupported("a sum's rule also reads a summed component directly")
    if math.prod(len(domains[v]) for v in outer) > MAX_OUTER:
        raise Unsupported("too many assignments of the sum's other variables")

    contributions = _contributions(model, total, domains)
    if any(not table for table in contributions.values()):
        raise Unsupported("a summed component has no choice")
    lows = {name: min(table.values()) for name, table in contributions.items()}
    deltas = [x - lows[n] for n, table in contributions.items() for x in table.values()]
    denominator = math.lcm(*(d.denominator for d in deltas))
    numerators = [int(d * denominator) for d in deltas]
    divisor = math.gcd(*numerators) or 1
    step = Fraction(divisor, denominator)
    units = {
        name: {key: int((x - lows[name]) / step) for key, x in table.items()}
        for name, table in contributions.items()
    }
    top = sum(max(table.values()) for table in units.values())
    if top > MAX_SUM_STEPS:
        raise Unsupported("the sum takes too many distinct values")
    fixed = {
        name: model.components[name].qty_min
        for name in total.components
        if qty_var(name) not in domains
    }
    base = sum(lows.values(), Fraction(0))
    return WideSum(total, wide, list(outer), base, step, units, top, fixed)


def _direct_scope(model: Model, expr: Any, total: Total) -> list[str]:
    """The variables an expression reads outside the sum."""
    found: dict[str, None] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Total) and (node.attr, node.components) == (
            total.attr,
            total.components,
        ):
            continue
        if isinstance(node, AttrRef | ComponentRef | QtyRef | OptionRef | Total):
            found.update(dict.fromkeys(scope_of(model, node)))
            continue
        stack.extend(_children(node))
    return list(found)


def _children(node: Any) -> list[Any]:
    out: list[Any] = []
    for name in ("args", "items"):
        child = getattr(node, name, None)
        if isinstance(child, tuple):
            out.extend(child)
    for name in ("operand", "left", "right", "element", "container", "cond", "then", "else_"):
        child = getattr(node, name, None)
        if child is not None and not isinstance(child, tuple):
            out.append(child)
    return out


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


def greedy_order(
    variables: Sequence[str], checks: Sequence[Check], sizes: Mapping[str, int]
) -> list[str]:
    """Variables in the order that keeps the fewest rules open: at each step, the
    variable that closes the most rules, then touches the most open ones, then has
    the smallest domain."""
    scopes = [set(c.scope) for c in checks if c.allowed is not None]
    placed: set[str] = set()
    order: list[str] = []
    position = {v: i for i, v in enumerate(variables)}
    while len(order) < len(variables):

        def score(v: str) -> tuple[int, int, int, int]:
            closes = opened = touches = 0
            for scope in scopes:
                if v not in scope:
                    continue
                rest = scope - placed
                if rest == {v}:
                    closes += 1
                elif rest == scope:
                    opened += 1
                else:
                    touches += 1
            return (-closes, -touches, opened, sizes.get(v, 1) * 1000 + position[v])

        pick = min((v for v in variables if v not in placed), key=score)
        order.append(pick)
        placed.add(pick)
    return order


@dataclass
class Edge:
    values: list[Value]  # the values of the level's variable that lead to `child`
    child: int  # index of a state of the next level
    units: list[int]  # per value: what it adds to the sum (all 0 without one)


class Graph:
    """The layered graph of partial assignments (see the module docstring)."""

    def __init__(
        self,
        variables: Sequence[str],
        domains: Mapping[str, Sequence[Value]],
        checks: Sequence[Check],
        ws: WideSum | None,
        clock: Clock,
    ) -> None:
        tables = [c for c in checks if c.allowed is not None and c.scope]
        sizes = {v: len(domains[v]) for v in variables}
        order = greedy_order(variables, tables, sizes)
        # a component's quantity right after its part, so the pair's share of the
        # sum is known one level later
        summed = set(ws.units) if ws is not None else set()
        arranged: list[str] = []
        for var in order:
            if var.endswith(".qty") and var.removesuffix(".qty") in variables:
                continue
            arranged.append(var)
            if qty_var(var) in variables:
                arranged.append(qty_var(var))
        self.order = arranged
        self.domains = domains
        self.tables = tables
        self.ws = ws
        self.clock = clock
        index = {v: i for i, v in enumerate(arranged)}
        self.last = [max(index[v] for v in c.scope) for c in tables]
        self.first = [min(index[v] for v in c.scope) for c in tables]
        self.touching: list[list[tuple[int, int]]] = [[] for _ in arranged]
        for n, check in enumerate(tables):
            for pos, v in enumerate(check.scope):
                self.touching[index[v]].append((n, pos))
        self.summed = summed
        # rests are interned: (check, open positions, rows) -> id
        self._rest_ids: dict[tuple[int, tuple[int, ...], frozenset[tuple[int, ...]]], int] = {}
        self._rests: list[tuple[int, tuple[int, ...], frozenset[tuple[int, ...]]]] = []
        self._moves: dict[tuple[int, int, int], int] = {}
        self._start: dict[int, int] = {}
        self.levels: list[list[list[Edge]]] = []  # per level, per state: its edges
        self._build()

    # rests: what a table still allows for its open positions

    def _intern(self, n: int, open_: tuple[int, ...], rows: frozenset[tuple[int, ...]]) -> int:
        key = (n, open_, rows)
        found = self._rest_ids.get(key)
        if found is None:
            found = self._rest_ids[key] = len(self._rests)
            self._rests.append(key)
        return found

    def _initial(self, n: int) -> int:
        found = self._start.get(n)
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

    def _groups(self, depth: int, var: str) -> dict[tuple[int, ...], dict[Any, tuple[Any, Edge]]]:
        """The values of one level grouped by their classes in the tables they appear in
        (which decides the next state) and by what they leave pending for the sum:
        signature -> pending key -> (child pending, the edge's values and units)."""
        ws = self.ws
        touching = self.touching[depth]
        order = self.order
        owner = var.removesuffix(".qty")
        is_qty = ws is not None and var.endswith(".qty") and owner in self.summed
        pairs_next = (
            ws is not None
            and var in self.summed
            and depth + 1 < len(order)
            and order[depth + 1] == qty_var(var)
        )
        quantities = [int(q) for q in self.domains.get(qty_var(var), ())]  # type: ignore[arg-type]
        groups: dict[tuple[int, ...], dict[Any, tuple[Any, Edge]]] = {}
        for value in self.domains[var]:
            sig = tuple(self.tables[n].classes[pos][value] for n, pos in touching)
            by_pending = groups.setdefault(sig, {})
            if ws is not None and pairs_next:
                # the part's share for each quantity: the next level picks one
                units = ws.units[var]
                key: Any = tuple(units.get((value, q), -1) for q in quantities)
                entry = by_pending.get(key)
                if entry is None:
                    entry = by_pending[key] = (key, Edge([], -1, []))
                entry[1].values.append(value)
                entry[1].units.append(0)
                continue
            if ws is not None and is_qty:
                # one edge list per pending share, filled per state below
                by_pending.setdefault(None, (None, Edge([], -1, [])))[1].values.append(value)
                continue
            share = 0
            if ws is not None and var in self.summed:
                share = ws.units[var][(value, ws.fixed[var])]
            entry = by_pending.setdefault(None, (None, Edge([], -1, [])))
            entry[1].values.append(value)
            entry[1].units.append(share)
        return groups

    def _moves_from(self, rest: int, pos: int) -> dict[int, int]:
        """Every class's move from one rest at one position."""
        key = (rest, pos)
        found = self._move_maps.get(key)
        if found is None:
            _, open_, rows = self._rests[rest]
            at = open_.index(pos)
            found = {cls: self._move(rest, pos, cls) for cls in {r[at] for r in rows}}
            self._move_maps[key] = found
        return found

    def _build(self) -> None:
        self._move_maps: dict[tuple[int, int], dict[int, int]] = {}
        states: list[tuple[tuple[int, int], ...]] = [()]
        pending_of: list[Any] = [None]  # per state: the part's share per quantity, if any
        for depth, var in enumerate(self.order):
            self.clock.check()
            touching = self.touching[depth]
            touched = {n for n, _ in touching}
            is_qty = (
                self.ws is not None
                and var.endswith(".qty")
                and var.removesuffix(".qty") in self.summed
            )
            quantities = [int(q) for q in self.domains[var]] if is_qty else []  # type: ignore[arg-type]
            groups = list(self._groups(depth, var).items())
            next_ids: dict[tuple[Any, ...], int] = {}
            next_states: list[tuple[tuple[int, int], ...]] = []
            next_pending: list[Any] = []
            level: list[list[Edge]] = []
            for state, pending in zip(states, pending_of, strict=True):
                rests = dict(state)
                untouched = tuple(item for item in state if item[0] not in touched)
                maps = [
                    (n, self._moves_from(rests.get(n, -1) if n in rests else self._initial(n), pos))
                    for n, pos in touching
                ]
                by_child: dict[int, Edge] = {}
                for sig, by_pending in groups:
                    moved: list[tuple[int, int]] = []
                    for (n, table), cls in zip(maps, sig, strict=True):
                        after = table.get(cls, -1)
                        if after == -1:
                            break
                        if after != -2:
                            moved.append((n, after))
                    else:
                        moved_key = tuple(moved)
                        for child_pending, edge in by_pending.values():
                            values, units = edge.values, edge.units
                            if is_qty:
                                # this quantity times the pending part's share
                                pairs = [
                                    (q, pending[i])
                                    for i, q in enumerate(quantities)
                                    if q in values and pending[i] >= 0
                                ]
                                if not pairs:
                                    continue
                                values = [q for q, _ in pairs]
                                units = [u for _, u in pairs]
                            key = (untouched, moved_key, child_pending)
                            child = next_ids.get(key)
                            if child is None:
                                child = next_ids[key] = len(next_states)
                                next_states.append(tuple(sorted(untouched + moved_key)))
                                next_pending.append(child_pending)
                            found = by_child.get(child)
                            if found is None:
                                by_child[child] = Edge(values, child, units)
                            else:  # a copy: the group's lists are shared between states
                                by_child[child] = Edge(
                                    found.values + values, child, found.units + units
                                )
                level.append(list(by_child.values()))
            self.levels.append(level)
            # two keys may name one state (the same rests reached two ways)
            merged: dict[tuple[Any, ...], int] = {}
            remap = []
            for st, pend in zip(next_states, next_pending, strict=True):
                remap.append(merged.setdefault((st, pend), len(merged)))
            if len(merged) != len(next_states):
                for edges in level:
                    for e in edges:
                        e.child = remap[e.child]
                # edges of one state that now share a child are summed as they are
            states = [k[0] for k in merged]
            pending_of = [k[1] for k in merged]
            if len(states) > MAX_STATES:
                raise Unsupported("too many states")
        self.final = len(states)

    # what flows backward

    def count(self, segments: Sequence[tuple[int, int, bool]] | None) -> int:
        """The number of complete paths (whose sum the segments allow)."""
        if segments is not None and not any(ok for _, _, ok in segments):
            return 0
        if self.ws is None or segments is None or segments == [(0, self.ws.top, True)]:
            counts = [1] * self.final
            for level in reversed(self.levels):
                self.clock.check()
                counts = [
                    sum(len(e.values) * counts[e.child] for e in edges if counts[e.child])
                    for edges in level
                ]
            return counts[0] if counts else 0
        top = max((hi for lo, hi, ok in segments if ok), default=-1)
        if top < 0:
            return 0
        width = top + 1
        # a coefficient can be no larger than the number of complete paths
        bits = max(8, -(-(self.count(None).bit_length() + 1) // 8) * 8)
        # the least a path adds before reaching each state: what a state's
        # polynomial holds beyond top minus that can never count
        least = self._least_reach()
        polys = [1] * self.final
        for depth in range(len(self.levels) - 1, -1, -1):
            self.clock.check()
            out = []
            for state, edges in enumerate(self.levels[depth]):
                room = top - least[depth][state]
                acc = 0
                if room >= 0:
                    for e in edges:
                        poly = polys[e.child]
                        if not poly:
                            continue
                        for u in e.units:
                            if u <= room:
                                acc += poly << (bits * u)
                    acc &= (1 << (bits * (room + 1))) - 1
                out.append(acc)
            polys = out
        poly = polys[0] if polys else 0
        raw = poly.to_bytes(bits // 8 * width, "little")
        size = bits // 8
        total = 0
        for lo, hi, ok in segments:
            if not ok:
                continue
            for i in range(lo, min(hi, top) + 1):
                total += int.from_bytes(raw[i * size : (i + 1) * size], "little")
        return total

    def _least_reach(self) -> list[list[int]]:
        """Per level and state: the least sum of the paths from the root to it."""
        out: list[list[int]] = [[0]]
        for level in self.levels:
            nxt: dict[int, int] = {}
            for state, edges in enumerate(level):
                r = out[-1][state]
                for e in edges:
                    x = r + min(e.units)
                    if x < nxt.get(e.child, x + 1):
                        nxt[e.child] = x
            size = max(nxt, default=-1) + 1
            out.append([nxt.get(i, 0) for i in range(size)])
        return out

    def supported(
        self, segments: Sequence[tuple[int, int, bool]] | None
    ) -> dict[str, set[tuple[type, Value]]] | None:
        """Per variable, the values on some complete path; None when the sum's rules
        hold on no single run from one end (the smallest or largest sum decides)."""
        sense = 0
        limit = 0
        if self.ws is not None and segments is not None:
            holding = [(lo, hi) for lo, hi, ok in segments if ok]
            if not holding:
                return {v: set() for v in self.order}
            if len(holding) > 1:
                return None
            lo, hi = holding[0]
            if lo == 0 and hi == self.ws.top:
                sense = 0
            elif lo == 0:
                sense, limit = 1, hi  # the smallest sum must stay <= limit
            elif hi == self.ws.top:
                sense, limit = -1, lo  # the largest sum must reach limit
            else:
                return None
        inf = math.inf
        # backward: the best completion of each state (+inf: none)
        best: list[list[float]] = [[0.0] * self.final]
        for level in reversed(self.levels):
            self.clock.check()
            below = best[0]
            row = []
            for edges in level:
                b = inf
                for e in edges:
                    c = below[e.child]
                    if c == inf:
                        continue
                    for u in e.units:
                        x = c + (u if sense >= 0 else -u)
                        if x < b:
                            b = x
                row.append(b)
            best.insert(0, row)
        out: dict[str, set[tuple[type, Value]]] = {v: set() for v in self.order}
        if not best[0] or best[0][0] == inf:
            return out
        if sense == 1 and best[0][0] > limit:
            return out
        if sense == -1 and -best[0][0] < limit:
            return out
        # forward: the best way to reach each state, and the values on good edges
        reach: list[float] = [0.0]
        for depth, level in enumerate(self.levels):
            self.clock.check()
            below = best[depth + 1]
            nxt = [inf] * len(below)
            found = out[self.order[depth]]
            for state, edges in enumerate(level):
                r = reach[state]
                if r == inf:
                    continue
                for e in edges:
                    c = below[e.child]
                    if c == inf:
                        continue
                    for value, u in zip(e.values, e.units, strict=True):
                        step = u if sense >= 0 else -u
                        through = r + step
                        if sense == 1 and through + c > limit:
                            continue
                        if sense == -1 and -(through + c) < limit:
                            continue
                        found.add((type(value), value))
                        if through < nxt[e.child]:
                            nxt[e.child] = through
            reach = nxt
        return out


def outer_assignments(
    ws: WideSum | None, domains: Mapping[str, Sequence[Value]]
) -> Iterator[dict[str, Value]]:
    if ws is None or not ws.outer:
        yield {}
        return
    for combo in itertools.product(*(domains[v] for v in ws.outer)):
        yield dict(zip(ws.outer, combo, strict=True))


def count_group(
    model: Model,
    group: Sequence[str],
    domains: Mapping[str, Sequence[Value]],
    checks: Sequence[Check],
    clock: Clock,
) -> int:
    """The number of valid assignments of one independent group; Unsupported when the
    group has a shape the sweep does not take."""
    ws = wide_sum(model, domains, checks)
    tables = [c for c in checks if c.allowed is not None]
    total = 0
    for outer in outer_assignments(ws, domains):
        segments = truth_segments(model, ws, outer) if ws is not None else None
        if segments is not None and not any(ok for _, _, ok in segments):
            continue
        narrowed = {v: [outer[v]] if v in outer else domains[v] for v in group}
        total += Graph(group, narrowed, tables, ws, clock).count(segments)
    return total


def supported_values(
    model: Model,
    group: Sequence[str],
    domains: Mapping[str, Sequence[Value]],
    checks: Sequence[Check],
    clock: Clock,
) -> dict[str, set[tuple[type, Value]]]:
    """Per variable of one independent group, the values some valid assignment uses
    (as (type, value) keys); Unsupported when the sweep cannot tell."""
    ws = wide_sum(model, domains, checks)
    tables = [c for c in checks if c.allowed is not None]
    out: dict[str, set[tuple[type, Value]]] = {v: set() for v in group}
    for outer in outer_assignments(ws, domains):
        segments = truth_segments(model, ws, outer) if ws is not None else None
        if segments is not None and not any(ok for _, _, ok in segments):
            continue
        narrowed = {v: [outer[v]] if v in outer else domains[v] for v in group}
        found = Graph(group, narrowed, tables, ws, clock).supported(segments)
        if found is None:
            raise Unsupported("the sum's rules allow separate ranges")
        for var, values in found.items():
            out[var] |= values
    return out
