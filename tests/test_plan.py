"""The planner (atoconf.planning.plan) against brute force, and its parts on their own.

Random small products get steps, random shelves and supply costs; the brute-force
oracle lists every valid assembly (after soft defaults), and the planner's choice
must be the cheapest buildable one when there is one, else the cheapest valid one;
picks never exceed what a shelf holds; a batch matches a sequential brute-force
allocation order by order.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import NoReturn

from hypothesis import event, given, settings
from hypothesis import strategies as st

from atoconf.engine.request import Request, resolve_request
from atoconf.engine.sweep import Unsupported
from atoconf.language.evaluate import Assembly, evaluate, holds
from atoconf.language.model import Expr, Model, Value
from atoconf.planning.constraints import ordered_steps
from atoconf.planning.orders import Order
from atoconf.planning.plan import plan_orders
from atoconf.planning.planner import TIES, Planner
from atoconf.planning.results import OrderPlan
from atoconf.planning.shelves import Shelves
from atoconf.planning.stock import Shelf, Stock, Supply
from tests import oracle
from tests.conftest import load_model, typed
from tests.strategies import FAST, random_models, random_requests

TODAY = date(2026, 11, 26)


class Case:
    """A random product with steps, shelves, supply and a request."""

    def __init__(
        self,
        text: str,
        model: Model,
        stock: Stock,
        select: dict[str, Value],
        require: tuple[str, ...],
        rate: Decimal,
    ) -> None:
        self.text, self.model, self.stock = text, model, stock
        self.select, self.require, self.rate = select, require, rate

    def __repr__(self) -> str:
        shelves = {k: (s.on_hand, s.reserved) for k, s in self.stock.shelves.items()}
        costs = {k: str(s.unit_cost) for k, s in self.stock.supply.items()}
        return (
            f"\n{self.text}\nshelves={shelves}\ncosts={costs}\nselect={self.select}"
            f"\nrequire={list(self.require)}\nrate={self.rate}"
        )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    text, model = draw(random_models())
    # a step per component, some after the first, one perhaps on a condition
    steps = []
    names = list(model.components)
    for i, name in enumerate(names):
        after = f"; after s_{names[0]}" if i and draw(st.booleans()) else ""
        minutes = draw(st.integers(0, 40))
        steps.append(f'step s_{name} "Fit {name}": uses {name}{after}; minutes {minutes}')
    bools = [o.name for o in model.options.values() if o.kind == "bool"]
    if bools and draw(st.booleans()):
        steps.append(f"step extra: when {bools[0]}; minutes {draw(st.integers(1, 30))}")
    text = text + "\n".join(steps) + "\n"
    model = load_model(text, "random.ato")
    shelves: dict[tuple[str, str], Shelf] = {}
    supply: dict[str, Supply] = {}
    for sku in sorted(model.parts):
        if draw(st.integers(0, 5)) > 0:  # a few parts have no supply data: unpriced
            supply[sku] = Supply(draw(st.integers(0, 9)), Decimal(draw(st.integers(0, 500))) / 4)
        stocked = draw(st.integers(0, 4)) > 0  # most parts are on some shelf
        places = st.sets(st.sampled_from(["A", "B", "C"]), min_size=int(stocked), max_size=2)
        for location in draw(places):
            on_hand = draw(st.integers(0, 3)) + (1 if stocked else 0)
            held = draw(st.integers(0, on_hand)) if draw(st.integers(0, 3)) == 0 else 0
            shelves[(sku, location)] = Shelf(sku, location, on_hand, held)
    select, require = draw(random_requests(model))
    # a request selects a component's absence as `none`, not as quantity 0
    select = {k: v for k, v in select.items() if not (k.endswith(".qty") and v == 0)}
    rate = Decimal(draw(st.sampled_from([0, 0, 30, 45])))
    return Case(text, model, Stock(shelves, supply), select, require, rate)  # type: ignore[arg-type]


@st.composite
def two_budget_cases(draw: st.DrawFn) -> Case:
    """A product with a price budget and a weight limit, each a sum over every
    component with many values: the decision graph carries one sum, and the rule
    over the other is checked on paths (bounded along them as the search goes)."""
    components = draw(st.integers(5, 6))  # a sum over five components or more stays a sum
    lines = ['product twin "Two budgets"', ""]
    lightest = heaviest = 0  # of an assembly
    weight_of: dict[str, int] = {}
    for c in range(components):
        lines += [f"type T{c} {{", "  price: int", "  weight: int", "}", f"parts T{c} {{"]
        weights = []
        for n in range(draw(st.integers(2, 3))):
            # prices spread wider than weights: the graph carries the price, and the
            # weight limit is the rule checked on paths
            price, weight = draw(st.integers(1000, 90000)), draw(st.integers(100, 5000))
            lines.append(f'  "P{c}-{n}" "part {n}": price={price}, weight={weight}')
            weights.append(weight)
            weight_of[f"P{c}-{n}"] = weight
        lines.append("}")
        extra = draw(st.sampled_from(["", "", " qty 1..2", " optional"]))
        lines.append(f"component c{c}: T{c}{extra}")
        lightest += 0 if extra == " optional" else min(weights)
        heaviest += max(weights) * (2 if extra == " qty 1..2" else 1)
    # a weight limit that rules out some assemblies and leaves others
    limit = lightest + (heaviest - lightest) * draw(st.integers(5, 70)) // 100
    lines += [
        "option race: bool default false",
        "option tier: enum { low, high } default high",
        f"rule budget: tier == low -> total(price) <= {draw(st.integers(10000, 400000))}",
        f"rule light: race -> total(weight) <= {limit}",
    ]
    text = "\n".join(lines) + "\n"
    model = load_model(text, "twin.ato")
    shelves: dict[tuple[str, str], Shelf] = {}
    supply: dict[str, Supply] = {}
    for sku in sorted(model.parts):
        # lighter parts cost more, as they do: the cheapest assembly is often too heavy
        unit_cost = (5100 - weight_of[sku]) // 10 + draw(st.integers(0, 100))
        supply[sku] = Supply(draw(st.integers(0, 9)), Decimal(unit_cost))
        if draw(st.integers(0, 3)) > 0:
            shelves[(sku, "A")] = Shelf(sku, "A", draw(st.integers(1, 3)), 0)
    select: dict[str, Value] = {}
    if draw(st.integers(0, 3)) > 0:
        select["race"] = draw(st.integers(0, 3)) > 0  # mostly the limit applies
    if draw(st.booleans()):
        select["tier"] = draw(st.sampled_from(["low", "high"]))
    return Case(text, model, Stock(shelves, supply), select, (), Decimal(0))


@FAST
@given(two_budget_cases(), st.integers(1, 4))
def test_a_second_budget_checked_on_paths_plans_like_brute_force(case: Case, n: int) -> None:
    orders = [order_of(case, f"O-{i}", TODAY + timedelta(days=i)) for i in range(n)]
    planner = Planner(case.model, case.stock, TODAY, case.rate)
    result = plan_orders(planner, orders, Shelves(case.stock))
    stock = case.stock
    for plan in result.orders:
        check_choice(case, stock, plan)
        stock = stock.minus(_picks(plan))


def order_of(case: Case, order_id: str = "request", due: date | None = None) -> Order:
    request = Request.model_validate({"select": case.select, "require": list(case.require)})
    resolved = resolve_request(case.model, request)
    assert resolved.value is not None, [d.message for d in resolved.diagnostics]
    return Order(order_id, resolved.value, due)


# ---- the brute-force reference ------------------------------------------------------------------


def valid_after_defaults(model: Model, select: dict[str, Value], require: list[Expr]) -> list[Key]:
    """SPEC §1: each default, in declaration order, applied while some valid assembly
    agrees with it."""
    chosen = dict(select)
    for option in model.options.values():
        if option.name in chosen or not option.has_default:
            continue
        trial = {**chosen, option.name: option.default}
        if oracle.valid_assemblies(model, trial, require):
            chosen = trial
    return oracle.valid_assemblies(model, chosen, require)


Key = oracle.Key


def needs(model: Model, key: Key) -> dict[str, int]:
    found: dict[str, int] = {}
    for sku, qty in oracle.assembly_of(model, key).components.values():
        if sku is not None:
            found[sku] = found.get(sku, 0) + qty
    return found


def minutes(model: Model, assembly: Assembly) -> int:
    total = 0
    for step in model.steps.values():
        used = not step.uses or any(assembly.components[c][0] is not None for c in step.uses)
        if used and (step.when is None or holds(model, step.when, assembly)):
            total += step.minutes
    return total


def cost(model: Model, stock: Stock, rate: Decimal, assembly: Assembly) -> Fraction:
    parts = sum(
        (Fraction(stock.unit_cost(s)) * q for s, q in assembly.components.values() if s),
        Fraction(0),
    )
    return parts + Fraction(rate) * minutes(model, assembly) / 60


def unpriced_units(stock: Stock, assembly: Assembly) -> int:
    """Units of parts without supply data: fewer rank first, before any known cost."""
    return sum(q for s, q in assembly.components.values() if s and not stock.priced(s))


def ready_on(parts_there: date, minutes: int) -> date:
    """Assembly on weekdays, 480 minutes a day, from the first weekday the parts are
    there; the day its last minute is done (that first day, for none)."""
    day = parts_there
    while day.weekday() >= 5:
        day += timedelta(days=1)
    left = minutes - 480
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 480
    return day


def free(stock: Stock) -> dict[str, int]:
    found: dict[str, int] = {}
    for shelf in stock.shelves.values():
        found[shelf.sku] = found.get(shelf.sku, 0) + shelf.available
    return found


def key_of(model: Model, plan: OrderPlan) -> Key:
    assert plan.assembly is not None
    return oracle.key_from_json(model, plan.assembly.to_json())


def check_choice(case: Case, stock: Stock, plan: OrderPlan) -> None:
    """The plan's assembly is the one SPEC §3 prefers, checked by brute force."""
    model = case.model
    valid = valid_after_defaults(model, case.select, [typed(model, t) for t in case.require])
    if not valid:
        assert plan.status == "impossible"
        assert plan.assembly is None and not plan.picks
        return
    have = free(stock)
    buildable = [k for k in valid if all(have.get(s, 0) >= q for s, q in needs(model, k).items())]
    chosen = key_of(model, plan)
    assert chosen in valid
    pool = buildable or valid
    assert chosen in pool
    assert plan.status == ("buildable" if buildable else "short")

    def price(k: Key) -> tuple[int, Fraction]:
        assembly = oracle.assembly_of(model, k)
        return unpriced_units(stock, assembly), cost(model, stock, case.rate, assembly)

    best = min(price(k) for k in pool)
    assert price(chosen) == best
    ties = [k for k in pool if price(k) == best]
    chosen_parts = oracle.assembly_of(model, chosen).components.values()
    assert plan.unpriced == sorted({s for s, _ in chosen_parts if s and not stock.priced(s)})
    if buildable and len(ties) <= TIES:  # the planner compares up to TIES ties
        fewest = min(minutes(model, oracle.assembly_of(model, k)) for k in ties)
        assert minutes(model, oracle.assembly_of(model, chosen)) == fewest
    # picks: what is there, never more than a shelf holds; shortages: the rest
    picked: dict[str, int] = {}
    for pick in plan.picks:
        shelf = stock.shelves[(pick.sku, pick.location)]
        assert 0 < pick.qty <= shelf.available
        picked[pick.sku] = picked.get(pick.sku, 0) + pick.qty
    short = {s.sku: s.qty for s in plan.shortages}
    for sku, need in needs(model, chosen).items():
        assert picked.get(sku, 0) == min(need, have.get(sku, 0))
        assert short.get(sku, 0) == need - picked.get(sku, 0)
        if sku in short:
            assert next(s for s in plan.shortages if s.sku == sku).lead_days == (
                stock.lead_days(sku)
            )
    assert set(picked) | set(short) == set(needs(model, chosen))
    # the promise: the longest lead time of what is short, plus the assembly's days
    work = minutes(model, oracle.assembly_of(model, chosen))
    lead = max((stock.lead_days(s) or 0 for s in short), default=0)
    if any(stock.lead_days(s) is None for s in short):
        assert plan.promise_date is None  # a short part without supply data: not known
    else:
        assert plan.promise_date == ready_on(TODAY + timedelta(days=lead), work)
    assert sum(s.minutes for s in plan.steps) == work


@FAST
@given(cases())
def test_the_plan_chooses_the_cheapest_buildable_assembly(case: Case) -> None:
    planner = Planner(case.model, case.stock, TODAY, case.rate)
    result = plan_orders(planner, [order_of(case)], Shelves(case.stock))
    (plan,) = result.orders
    event(plan.status)
    check_choice(case, case.stock, plan)
    if plan.cost is not None:
        assert plan.assembly is not None
        exact = cost(
            case.model,
            case.stock,
            case.rate,
            oracle.assembly_of(case.model, key_of(case.model, plan)),
        )
        assert abs(Fraction(plan.cost.total) - exact) <= Fraction(1, 100)


@contextmanager
def without_graph() -> Iterator[None]:
    """Plans by branch and bound alone: the decision graph's A* says it does not fit."""
    module = sys.modules["atoconf.planning.planner"]
    saved = module.cheapest_by_graph  # type: ignore[attr-defined]

    def unsupported(*args: object, **kwargs: object) -> NoReturn:
        raise Unsupported("forced: branch and bound alone")

    module.cheapest_by_graph = unsupported  # type: ignore[attr-defined]
    try:
        yield
    finally:
        module.cheapest_by_graph = saved  # type: ignore[attr-defined]


@settings(FAST, max_examples=30)
@given(cases())
def test_branch_and_bound_alone_chooses_the_same_way(case: Case) -> None:
    with without_graph():
        planner = Planner(case.model, case.stock, TODAY, case.rate)
        (plan,) = plan_orders(planner, [order_of(case)], Shelves(case.stock)).orders
    check_choice(case, case.stock, plan)


@settings(FAST, max_examples=25)
@given(cases(), st.integers(2, 5))
def test_a_batch_matches_sequential_brute_force_allocation(case: Case, n: int) -> None:
    """Each order, in due-date order, is the best for what the earlier ones left."""
    orders = [order_of(case, f"O-{i}", TODAY + timedelta(days=n - i)) for i in range(n)]
    planner = Planner(case.model, case.stock, TODAY, case.rate)
    ticks: list[None] = []
    result = plan_orders(planner, orders, Shelves(case.stock), tick=lambda: ticks.append(None))
    assert [o.order_id for o in result.orders] == [f"O-{i}" for i in reversed(range(n))]
    assert len(ticks) == n  # the progress bar moves once per order
    stock = case.stock
    for plan in result.orders:
        check_choice(case, stock, plan)
        stock = stock.minus(_picks(plan))
    for shelf in stock.shelves.values():
        assert 0 <= shelf.reserved <= shelf.on_hand
    # the purchase list adds up every order's shortages
    short: dict[str, int] = {}
    for plan in result.orders:
        for s in plan.shortages:
            short[s.sku] = short.get(s.sku, 0) + s.qty
    assert {p.sku: p.qty for p in result.purchase_list} == short
    # late: the weekdays after its due date up to its promise date
    for plan in result.orders:
        if plan.promise_date is None or plan.due is None:
            assert plan.late_days is None
        else:
            assert plan.late_days == weekdays_after(plan.due, plan.promise_date)
    # each part to buy: needed when the first order short of it must start, ordered
    # its lead time before
    for line in result.purchase_list:
        starts = [
            start_by(p.due, sum(s.minutes for s in p.steps))
            for p in result.orders
            if p.due is not None and any(s.sku == line.sku for s in p.shortages)
        ]
        assert line.needed_by == min(starts)
        lead = case.stock.lead_days(line.sku)
        assert line.order_by == (None if lead is None else line.needed_by - timedelta(days=lead))
        assert line.past == (line.order_by is not None and line.order_by < TODAY)


@settings(FAST, max_examples=25)
@given(cases(), st.integers(2, 5), st.integers(1, 40))
def test_capacity_books_each_order_first_fit_in_planning_order(
    case: Case, n: int, capacity: int
) -> None:
    """With a capacity, each order's minutes go into the earliest weekdays with room
    from the day its parts are there, in planning order: the same choices as without,
    dated by an independent first-fit schedule."""
    orders = [order_of(case, f"O-{i}", TODAY + timedelta(days=n - i)) for i in range(n)]
    free = plan_orders(
        Planner(case.model, case.stock, TODAY, case.rate), orders, Shelves(case.stock)
    )
    planner = Planner(case.model, case.stock, TODAY, case.rate, capacity=capacity)
    result = plan_orders(planner, orders, Shelves(case.stock))
    booked: dict[date, int] = {}
    for plan, unlimited in zip(result.orders, free.orders, strict=True):
        assert plan.assembly == unlimited.assembly and plan.picks == unlimited.picks
        if unlimited.promise_date is None:
            assert plan.promise_date is None
            continue
        day = TODAY + timedelta(days=max((s.lead_days or 0 for s in plan.shortages), default=0))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        last, left = day, sum(s.minutes for s in plan.steps)
        while left > 0:
            take = min(left, capacity - booked.get(day, 0))
            if take > 0 and day.weekday() < 5:
                booked[day] = booked.get(day, 0) + take
                left, last = left - take, day
            day += timedelta(days=1)
        assert plan.promise_date == last
        assert plan.late_days == (None if plan.due is None else weekdays_after(plan.due, last))
    assert [(d.date, d.minutes, d.capacity) for d in result.load] == [
        (day, minutes, capacity) for day, minutes in sorted(booked.items())
    ]


def test_three_orders_share_a_small_capacity() -> None:
    """Three buildable 8-minute orders, 10 minutes a day from Thursday 26 November:
    the first fits Thursday, the second spills into Friday, the third into Monday."""
    model = load_model(STEPS, "steps.ato")
    stock = Stock({("A", "L"): Shelf("A", "L", 9, 0)}, {"A": Supply(1, Decimal(1))})
    request = resolve_request(model, Request.model_validate({"select": {"b": None}})).value
    assert request is not None
    orders = [Order(f"O-{i}", request, TODAY + timedelta(days=1)) for i in range(3)]
    planner = Planner(model, stock, TODAY, capacity=10)
    result = plan_orders(planner, orders, Shelves(stock))
    assert [sum(s.minutes for s in o.steps) for o in result.orders] == [8, 8, 8]
    assert [o.promise_date for o in result.orders] == [
        date(2026, 11, 26),
        date(2026, 11, 27),
        date(2026, 11, 30),
    ]
    assert [o.late_days for o in result.orders] == [0, 0, 1]  # due Friday 27
    assert [(d.date.day, d.minutes) for d in result.load] == [(26, 10), (27, 10), (30, 4)]
    assert result.late == 1


RUNS_DOWN = """
product p
type T { price: decimal }
parts T { "A": price=1  "B": price=2  "C": price=3 }
component a: T qty 1..2
"""


def test_a_batch_moves_to_the_next_cheapest_part_as_each_runs_out() -> None:
    """Orders of one request, each taking what the cheapest still on the shelves is:
    what the planner knows of the stock follows every take (two units each: a part
    with one left cannot be taken at quantity 2)."""
    model = load_model(RUNS_DOWN, "runs_down.ato")
    counts = {"A": 3, "B": 4, "C": 9}
    stock = Stock(
        {(sku, "L"): Shelf(sku, "L", n, 0) for sku, n in counts.items()},
        {sku: Supply(1, Decimal(n + 1)) for n, sku in enumerate(counts)},
    )
    request = resolve_request(model, Request.model_validate({"select": {"a.qty": 2}})).value
    assert request is not None
    orders = [Order(f"O-{i}", request, None) for i in range(6)]
    result = plan_orders(Planner(model, stock, TODAY), orders, Shelves(stock))
    chosen = [o.assembly.components["a"] for o in result.orders if o.assembly]
    assert [(c.sku, c.qty) for c in chosen if c] == [("A", 2), ("B", 2), ("B", 2)] + [("C", 2)] * 3
    assert [o.status for o in result.orders] == ["buildable"] * 6


def weekdays_after(due: date, day: date) -> int:
    return sum((due + timedelta(days=n)).weekday() < 5 for n in range(1, (day - due).days + 1))


def start_by(due: date, minutes: int) -> date:
    """The weekday assembly of `minutes` (480 a day) must start to be done by `due`."""
    day = due
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    left = minutes - 480
    while left > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            left -= 480
    return day


def _picks(plan: OrderPlan) -> list[object]:
    from atoconf.planning.stock import Pick

    return [Pick(p.sku, p.location, p.qty) for p in plan.picks]


# ---- parts on their own --------------------------------------------------------------------------


def shelves_of(rows: dict[str, int]) -> Shelves:
    stock = Stock({("X", loc): Shelf("X", loc, n, 0) for loc, n in rows.items()}, {})
    return Shelves(stock)


def test_picks_come_from_the_fewest_locations_then_by_name() -> None:
    shelves = shelves_of({"A-03": 2, "A-01": 5, "B-01": 5, "C-01": 9})
    picks, missing = shelves.pick("X", 4)
    assert [(p.location, p.qty) for p in picks] == [("A-01", 4)] and missing == 0
    picks, missing = shelves.pick("X", 12)
    assert [(p.location, p.qty) for p in picks] == [("A-01", 5), ("C-01", 7)]
    picks, missing = shelves.pick("X", 30)
    assert sum(p.qty for p in picks) == 21 and missing == 9


@given(
    st.dictionaries(st.sampled_from("ABCDEF"), st.integers(1, 9), min_size=1), st.integers(1, 60)
)
def test_picks_never_exceed_a_shelf_and_use_the_fewest_shelves(
    rows: dict[str, int], need: int
) -> None:
    shelves = shelves_of(rows)
    picks, missing = shelves.pick("X", need)
    assert all(0 < p.qty <= rows[p.location] for p in picks)
    assert sum(p.qty for p in picks) + missing == need
    assert missing == max(0, need - sum(rows.values()))
    if not missing:
        sizes = sorted(rows.values(), reverse=True)
        fewest = next(k for k in range(1, len(sizes) + 1) if sum(sizes[:k]) >= need)
        assert len(picks) == fewest


STEPS = """
product p
type T { price: decimal }
parts T { "A": price=1  "B": price=2 }
component a: T
component b: T optional
option rush: bool default false
step s1 "First": uses a; minutes 5
step s4 "Late": uses a; after s3; minutes 1
step s2 "Second": uses b; after s1; minutes 7
step s3 "Third": uses a; after s1; minutes 2
step s5 "Rush only": when rush; minutes 9
"""


def test_steps_follow_after_with_declaration_order_breaking_ties() -> None:
    model = load_model(STEPS, "steps.ato")
    assert [s.name for s in ordered_steps(model)] == ["s1", "s2", "s3", "s4", "s5"]


def test_skipped_steps_are_left_out_of_the_plan() -> None:
    model = load_model(STEPS, "steps.ato")
    stock = Stock({("A", "L"): Shelf("A", "L", 5, 0)}, {"A": Supply(1, Decimal(1))})
    planner = Planner(model, stock, TODAY, Decimal(60))
    request = Request.model_validate({"select": {"b": None}})
    resolved = resolve_request(model, request).value
    assert resolved is not None
    plan = planner.plan(Order("o", resolved), Shelves(stock))
    assert [s.name for s in plan.steps] == ["s1", "s3", "s4"]  # b absent, rush off
    assert plan.cost is not None and plan.cost.labour == Decimal("8.00")
    assert plan.cost.parts == Decimal("1.00") and plan.cost.total == Decimal("9.00")
    # money is Decimal and dates are date in Python, strings in JSON
    assert all(type(x) is Decimal for x in (plan.cost.parts, plan.cost.labour, plan.cost.total))
    assert type(plan.promise_date) is date
    shown = plan.to_json()
    assert shown["cost"] == {"parts": "1.00", "labour": "8.00", "total": "9.00"}
    assert shown["promise_date"] == plan.promise_date.isoformat()


def test_evaluate_of_cost_model_matches() -> None:
    # the planner's cost model adds an attribute; the rest of the model is unchanged
    model = load_model(STEPS, "steps.ato")
    stock = Stock({}, {"A": Supply(1, Decimal("1.25")), "B": Supply(1, Decimal(3))})
    planner = Planner(model, stock, TODAY)
    assembly = Assembly({"a": ("A", 1), "b": ("B", 1)}, {"rush": False})
    assert evaluate(planner.costed, planner.cost, assembly) == Fraction(17, 4)
    assert planner.costed.rules == model.rules
