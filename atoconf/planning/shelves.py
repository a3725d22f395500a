"""The shelves while a batch is planned: what each order may still take, and where."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

from atoconf.planning.results import PickLine
from atoconf.planning.stock import Pick, Stock

# ---- the shelves during planning ---------------------------------------------------------------


class Shelves:
    """Available units per SKU and location, taken from as orders are planned."""

    def __init__(self, stock: Stock) -> None:
        self.stock = stock
        self.free: dict[str, dict[str, int]] = {}
        self.totals: dict[str, int] = {}
        # every SKU taken or given, in order: a reader follows it from where it was
        self.changed: list[str] = []
        for (sku, location), shelf in sorted(stock.shelves.items()):
            if shelf.available > 0:
                self.free.setdefault(sku, {})[location] = shelf.available
                self.totals[sku] = self.totals.get(sku, 0) + shelf.available

    def available(self, sku: str) -> int:
        return self.totals.get(sku, 0)

    def take(self, picks: Iterable[Pick | PickLine]) -> None:
        for pick in picks:
            here = self.free[pick.sku]
            here[pick.location] -= pick.qty
            if not here[pick.location]:
                del here[pick.location]
            self.totals[pick.sku] -= pick.qty
            self.changed.append(pick.sku)

    def give(self, picks: Iterable[Pick]) -> None:
        for pick in picks:
            here = self.free.setdefault(pick.sku, {})
            here[pick.location] = here.get(pick.location, 0) + pick.qty
            self.totals[pick.sku] = self.totals.get(pick.sku, 0) + pick.qty
            self.changed.append(pick.sku)

    def pick(self, sku: str, need: int) -> tuple[list[PickLine], int]:
        """Picks for `need` units of `sku` (fewest locations, then location names) and
        the units still missing."""
        here = self.free.get(sku, {})
        have = sum(here.values())
        if have <= need:  # everything there is, and the rest is short
            return [PickLine(sku=sku, location=loc, qty=q) for loc, q in sorted(here.items())], (
                need - have
            )
        by_size = sorted(here.values(), reverse=True)
        fewest = next(k for k in range(1, len(by_size) + 1) if sum(by_size[:k]) >= need)
        names = sorted(here)
        chosen: Sequence[str] | None = None
        if math.comb(len(names), fewest) <= 5000:
            chosen = next(
                c for c in itertools.combinations(names, fewest) if sum(here[x] for x in c) >= need
            )
        else:  # too many to try: the largest shelves, by name on ties
            chosen = sorted(sorted(names, key=lambda x: (-here[x], x))[:fewest])
        picks: list[PickLine] = []
        left = need
        for location in chosen:
            qty = min(left, here[location])
            picks.append(PickLine(sku=sku, location=location, qty=qty))
            left -= qty
        return picks, 0
