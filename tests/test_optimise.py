"""The best of independent groups combined: exactly the best sums, however many are
asked for (a cut of the groups' product before ranking once lost some)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from atoconf.engine.optimise import _best_combined

ranked_lists = st.lists(
    st.lists(st.integers(0, 50), min_size=1, max_size=12).map(sorted), min_size=0, max_size=4
)


@given(ranked_lists, st.integers(1, 60))
def test_the_best_combinations_are_the_best_sums_of_the_product(
    units: list[list[int]], limit: int
) -> None:
    per_group = [[(u, {f"g{g}": n}) for n, u in enumerate(us)] for g, us in enumerate(units)]
    found = _best_combined(per_group, limit)
    every = sorted(sum(u for u, _ in combo) for combo in itertools.product(*per_group))
    assert [u for u, _ in found] == every[:limit]
    for total, values in found:  # each is one of each group's, and sums to its units
        assert sorted(values) == [f"g{g}" for g in range(len(units))]
        assert total == sum(units[g][values[f"g{g}"]] for g in range(len(units)))
    assert len({tuple(sorted(v.items())) for _, v in found}) == len(found)
