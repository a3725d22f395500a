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

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LevelArrays:
    """One level of a graph: its edges (state -> child, least and most units) and its
    edge values (which edge, the value's place in the variable's domain, units)."""

    states: int
    children: int
    src: Ints
    dst: Ints
    lo: Floats
    hi: Floats
    edge_of: Ints
    place: Ints
    units: Floats
    places: int  # the size of the variable's domain


def level_arrays(
    edges_per_state: Sequence[Sequence[tuple[int, Sequence[int], Sequence[int]]]],
    children: int,
    places: int,
) -> LevelArrays:
    """Arrays of one level from, per state, its edges as (child, value places, units)."""
    src: list[int] = []
    dst: list[int] = []
    edge_of: list[int] = []
    place: list[int] = []
    units: list[int] = []
    for state, edges in enumerate(edges_per_state):
        for child, value_places, value_units in edges:
            n = len(src)
            src.append(state)
            dst.append(child)
            edge_of.extend([n] * len(value_places))
            place.extend(value_places)
            units.extend(value_units)
    units_array = np.array(units, dtype=np.float64)
    edge_array = np.array(edge_of, dtype=np.int64)
    lo = np.full(len(src), np.inf)
    hi = np.full(len(src), -np.inf)
    np.minimum.at(lo, edge_array, units_array)
    np.maximum.at(hi, edge_array, units_array)
    return LevelArrays(
        states=len(edges_per_state),
        children=children,
        src=np.array(src, dtype=np.int64),
        dst=np.array(dst, dtype=np.int64),
        lo=lo,
        hi=hi,
        edge_of=edge_array,
        place=np.array(place, dtype=np.int64),
        units=units_array,
        places=places,
    )


def keep_mask(level: LevelArrays, keep: Sequence[int] | None) -> Bools | None:
    """Which places a filter keeps (None: all)."""
    if keep is None:
        return None
    mask = np.zeros(level.places, dtype=np.bool_)
    mask[list(keep)] = True
    return mask


def least_completions(
    levels: Sequence[LevelArrays], final: int, sign: int, keeps: Sequence[Bools | None]
) -> list[Floats]:
    """Per level and state, the least signed sum of a completion within the filters
    (inf: none); the last row is the final states' zeros."""
    rows: list[Floats] = [np.zeros(final)]
    for level, keep in zip(reversed(levels), reversed(keeps), strict=True):
        below = rows[0]
        row = np.full(level.states, np.inf)
        if keep is None:
            own = level.lo if sign == 1 else -level.hi
            np.minimum.at(row, level.src, below[level.dst] + own)
        else:
            kept = keep[level.place]
            edges = level.edge_of[kept]
            x = below[level.dst[edges]] + sign * level.units[kept]
            np.minimum.at(row, level.src[edges], x)
        rows.insert(0, row)
    return rows


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
            out.append(_valid_at(levels[depth], reach, best[depth + 1], sign, keeps[depth]))
            reach = _reach_below(levels[depth], reach, sign, keeps[depth])
    return out


def _valid_at(
    level: LevelArrays, reach: Floats, below: Floats, sign: int, keep: Bools | None
) -> Bools:
    r = reach[level.src[level.edge_of]]
    c = below[level.dst[level.edge_of]]
    ok = (r + sign * level.units + c <= 0) & (r < np.inf) & (c < np.inf)
    if keep is not None:
        ok &= keep[level.place]
    found = np.zeros(level.places, dtype=np.bool_)
    found[level.place[ok]] = True
    return found


def _reach_below(level: LevelArrays, reach: Floats, sign: int, keep: Bools | None) -> Floats:
    """The least signed sum of a path to each state of the next level."""
    nxt = np.full(level.children, np.inf)
    if keep is None:
        own = level.lo if sign == 1 else -level.hi
        np.minimum.at(nxt, level.dst, reach[level.src] + own)
    else:
        kept = keep[level.place]
        edges = level.edge_of[kept]
        np.minimum.at(nxt, level.dst[edges], reach[level.src[edges]] + sign * level.units[kept])
    return nxt


__all__ = ["LevelArrays", "keep_mask", "least_completions", "level_arrays", "valid_places"]
