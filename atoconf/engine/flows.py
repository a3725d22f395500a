"""The passes a click makes over a layered graph, as array operations.

A click asks, of every value, whether some complete path through it keeps the sum
where the rules hold (sweep.Graph.supported): one backward pass (the least signed
sum of a completion of each state) and one forward pass (the least signed sum of a
path to each state, and which values pass). Over a graph of a few hundred thousand
edges a Python loop takes most of a second a pass; the same passes over arrays of
edges and of edge values take milliseconds, which is why numpy is a dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LevelArrays:
    """One level of a graph: its edges (state -> child, least and most units, group of
    values) and the groups of values edges share (each value's group, place in the
    variable's domain, units): a least over an edge's values is a least over its
    group's, and there are far fewer groups' values than edges' values. The edge
    values (which edge, place, units) are spelt out on first use."""

    states: int
    children: int
    src: Ints
    dst: Ints
    lo: Floats
    hi: Floats
    edge_group: Ints
    places: int  # the size of the variable's domain
    group_count: int
    group_of: Ints
    group_start: Ints  # per group: where its values start
    group_place: Ints
    group_units: Floats

    @cached_property
    def _edge_values(self) -> tuple[Ints, Ints, Floats]:
        sizes = np.diff(np.append(self.group_start, len(self.group_place)))
        per_edge = sizes[self.edge_group]
        edge_of = np.repeat(np.arange(len(self.edge_group)), per_edge)
        # the i-th value overall is value (i - the edge's first) of the edge's group
        first = np.cumsum(per_edge) - per_edge
        index = np.arange(len(edge_of)) + np.repeat(
            self.group_start[self.edge_group] - first, per_edge
        )
        return edge_of, self.group_place[index], self.group_units[index]

    @property
    def edge_of(self) -> Ints:
        """Per edge value: its edge."""
        return self._edge_values[0]

    @property
    def place(self) -> Ints:
        """Per edge value: its place in the variable's domain."""
        return self._edge_values[1]

    @property
    def units(self) -> Floats:
        """Per edge value: its units."""
        return self._edge_values[2]


def level_arrays(
    states: int,
    children: int,
    src: Ints,
    dst: Ints,
    group: Ints,
    groups: Sequence[tuple[Sequence[int], Sequence[int], int, int]],
    places: int,
) -> LevelArrays:
    """Arrays of one level from its edges as columns (source state, child, group) and
    the groups of values the edges carry (value places, units, least and most unit)."""
    sizes = np.array([len(g[0]) for g in groups], dtype=np.int64)
    group_lo = np.array([g[2] for g in groups], dtype=np.float64)
    group_hi = np.array([g[3] for g in groups], dtype=np.float64)
    return LevelArrays(
        states=states,
        children=children,
        src=src,
        dst=dst,
        lo=group_lo[group],
        hi=group_hi[group],
        edge_group=group,
        places=places,
        group_count=len(groups),
        group_of=np.repeat(np.arange(len(groups)), sizes),
        group_start=np.cumsum(sizes) - sizes,
        group_place=np.fromiter((x for g in groups for x in g[0]), dtype=np.int64),
        group_units=np.fromiter((u for g in groups for u in g[1]), dtype=np.float64),
    )


def keep_mask(level: LevelArrays, keep: Sequence[int] | None) -> Bools | None:
    """Which places a filter keeps (None: all)."""
    if keep is None:
        return None
    mask = np.zeros(level.places, dtype=np.bool_)
    mask[list(keep)] = True
    return mask


def least_completions(
    levels: Sequence[LevelArrays],
    final: int,
    sign: int,
    keeps: Sequence[Bools | None],
    known: Sequence[Floats] = (),
) -> list[Floats]:
    """Per level and state, the least signed sum of a completion within the filters
    (inf: none); the last row is the final states' zeros. `known`: the last rows
    already worked out (the filters below them unchanged)."""
    rows: list[Floats] = list(known) or [np.zeros(final)]
    for depth in range(len(levels) - len(rows), -1, -1):
        rows.insert(0, completion_row(levels[depth], rows[0], sign, keeps[depth]))
    return rows


def completion_row(level: LevelArrays, below: Floats, sign: int, keep: Bools | None) -> Floats:
    """Per state of a level, the least signed sum of a completion within the filter,
    from the next level's row (inf: none)."""
    return _relax(level, below, level.states, sign, keep, forward=False)


def valid_places(
    levels: Sequence[LevelArrays],
    top: int,
    starts: Floats,
    best: Sequence[Floats],
    sign: int,
    keeps: Sequence[Bools | None],
) -> list[Bools]:
    """Per level from `top`, which places of its variable lie on a path whose signed
    sum x, with the path's start value added, is at most 0 (see Graph.supported)."""
    out: list[Bools] = []
    reach = starts
    with np.errstate(invalid="ignore"):  # -inf + inf on dead edges, masked below
        for depth in range(top, len(levels)):
            level, keep = levels[depth], keeps[depth]
            out.append(_valid_at(level, reach, best[depth + 1], sign, keep))
            reach = _relax(level, reach, level.children, sign, keep, forward=True)
    return out


def _valid_at(
    level: LevelArrays, reach: Floats, below: Floats, sign: int, keep: Bools | None
) -> Bools:
    # a value passes on an edge when its signed units are at most the edge's room,
    # minus the least sum to the edge and from it: so it passes somewhere when they
    # are at most the largest room of an edge carrying its group
    room = -(reach[level.src] + below[level.dst])
    live = room > -np.inf
    largest = np.full(level.group_count, -np.inf)
    np.maximum.at(largest, level.edge_group[live], room[live])
    ok = sign * level.group_units <= largest[level.group_of]
    if keep is not None:
        ok &= keep[level.group_place]
    found = np.zeros(level.places, dtype=np.bool_)
    found[level.group_place[ok]] = True
    return found


def _relax(
    level: LevelArrays, values: Floats, size: int, sign: int, keep: Bools | None, forward: bool
) -> Floats:
    """Per state on one side of a level's edges (the next level's when `forward`, else
    this level's), the least value on the other side plus an edge value's signed
    units, over the values the filter keeps."""
    near, far = (level.src, level.dst) if forward else (level.dst, level.src)
    out = np.full(size, np.inf)
    if keep is None:
        own = level.lo if sign == 1 else -level.hi
        np.minimum.at(out, far, values[near] + own)
    else:
        kept = np.where(keep[level.group_place], sign * level.group_units, np.inf)
        own = group_least(level, kept)[level.edge_group]
        live = own < np.inf
        np.minimum.at(out, far[live], values[near[live]] + own[live])
    return out


def group_least(level: LevelArrays, per_value: Floats) -> Floats:
    """Per group of values of a level, the least of `per_value` (given per group
    value, in the order of `group_place`; inf: none)."""
    out = np.full(level.group_count, np.inf)
    np.minimum.at(out, level.group_of, per_value)
    return out


__all__ = [
    "LevelArrays",
    "completion_row",
    "group_least",
    "keep_mask",
    "least_completions",
    "level_arrays",
    "valid_places",
]
