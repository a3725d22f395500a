"""Planning a batch (each order seeing what the earlier ones took), with or without
reserving the picks in a stock database, and the purchase list."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from atoconf.engine.configure import Product, as_model, configure
from atoconf.engine.request import (
    Request,
)
from atoconf.language.diagnostics import Checked, Diagnostic, error, warning
from atoconf.language.model import (
    Model,
)
from atoconf.language.source import Span
from atoconf.planning.calendar import Calendar
from atoconf.planning.orders import Order, single_order
from atoconf.planning.planner import Planner
from atoconf.planning.results import DayLoad, OrderPlan, PlanResult, PurchaseLine
from atoconf.planning.shelves import Shelves
from atoconf.planning.stock import AlreadyReserved, Conflict, Pick, Stock, StockDatabase

# ---- batches ---------------------------------------------------------------------------------


def plan_orders(
    planner: Planner,
    orders: Sequence[Order],
    shelves: Shelves,
    tick: Callable[[], None] | None = None,
) -> PlanResult:
    """Plan orders in priority order, each seeing what the earlier ones took; `tick` is
    called as each order is planned (a progress bar)."""
    planned = []
    for order in sorted(orders, key=Order.sort_key):
        planned.append(planner.book(planner.plan(order, shelves)))
        if tick is not None:
            tick()
    return _result(planner, planned)


def _result(planner: Planner, planned: list[OrderPlan]) -> PlanResult:
    load = [
        DayLoad(date=day, minutes=minutes, capacity=planner.capacity or 0)
        for day, minutes in sorted(planner.booked.items())
    ]
    return PlanResult(
        today=planner.today,
        orders=planned,
        purchase_list=purchase_list(planner, planned),
        load=load,
    )


RESERVE_ATTEMPTS = 20


def plan_and_reserve(
    planner: Planner,
    orders: Sequence[Order],
    database: StockDatabase,
    replace: bool = False,
    skip_reserved: bool = False,
    tick: Callable[[], None] | None = None,
) -> Checked[PlanResult]:
    """Plan orders in priority order and record each one's picks in the database with
    its plan, one transaction per order. When another planner took units first, the
    order is planned again on fresh stock. An order that already holds units is
    refused, unless `replace` (its old units count as free for its new plan, and are
    swapped in the same transaction) or `skip_reserved` (it is kept as it was planned:
    its units untouched, its minutes in the schedule, its shortages on the purchase
    list). The plan is there even when some orders were not reserved; the diagnostics
    name them. `tick` is called as each order is dealt with (a progress bar)."""
    shelves = Shelves(database.snapshot())
    stored = database.plans() if skip_reserved else {}
    holding = set(database.orders()) if skip_reserved else set()
    planned: list[OrderPlan] = []
    diagnostics: list[Diagnostic] = []
    for order in sorted(orders, key=Order.sort_key):
        if tick is not None:
            tick()
        if order.order_id in holding:
            if order.order_id in stored:
                kept = OrderPlan.model_validate_json(stored[order.order_id])
                planned.append(planner.book(kept.model_copy(update={"kept": True})))
            else:
                diagnostics.append(_kept_without_plan(order, database.spec))
            continue
        held = database.reserved_for(order.order_id) if replace else []
        if held:  # stock grows: what earlier orders taught may no longer be the best
            shelves.give(held)
            planner.forget()
        done: OrderPlan | None = None
        for _ in range(RESERVE_ATTEMPTS):
            plan = planner.plan(order, shelves)
            picks = [Pick(p.sku, p.location, p.qty) for p in plan.picks]
            if not picks and not held:
                done = plan
                break
            try:
                database.reserve(order.order_id, picks, replace, plan.model_dump_json())
            except AlreadyReserved:
                shelves.give(picks)
                diagnostics.append(
                    error(
                        "E0810",
                        f"order '{order.order_id}' already holds a reservation; it was not "
                        "planned again",
                        _order_span(order),
                        hint=f"release it first (atoconf stock release {database.spec} "
                        f"{order.order_id}), plan with --replace, or keep it as reserved with "
                        "--skip-reserved",
                    )
                )
                break
            except Conflict:
                # another planner took some of these units: plan again on what is left
                shelves = Shelves(database.snapshot())
                held = database.reserved_for(order.order_id) if replace else []
                shelves.give(held)
                continue
            done = plan
            break
        else:
            diagnostics.append(
                error(
                    "E0810",
                    f"order '{order.order_id}' could not be reserved: other planners kept "
                    f"taking its units ({RESERVE_ATTEMPTS} attempts)",
                    _order_span(order),
                    hint="run the batch again",
                )
            )
        if done is not None:
            planned.append(planner.book(done))
    return Checked(_result(planner, planned), diagnostics)


def _kept_without_plan(order: Order, database: str) -> Diagnostic:
    return warning(
        "W0804",
        f"order '{order.order_id}' holds units reserved before plans were stored: kept as "
        "it is, but not in the schedule or the purchase list",
        _order_span(order),
        hint=f"to plan it again: atoconf stock release {database} {order.order_id}, then run "
        "the batch again",
    )


def _order_span(order: Order) -> Span | None:
    if order.line is None or order.source is None:
        return None
    return Span(file=order.source, line=order.line, col=1, end_line=order.line, end_col=2)


def purchase_list(planner: Planner, orders: Sequence[OrderPlan]) -> list[PurchaseLine]:
    """Every short SKU: the total missing, needed by the earliest working day an order
    short of it must start assembly to meet its due date (today for an order without
    one; not moved to today when it is past), to be ordered its lead time before."""
    need: dict[str, tuple[int, date, int | None]] = {}
    for order in orders:
        if not order.shortages:
            continue
        minutes = sum(s.minutes for s in order.steps)
        by = planner.today if order.due is None else planner.start_by(order.due, minutes)
        for shortage in order.shortages:
            qty, when, lead = need.get(shortage.sku, (0, by, shortage.lead_days))
            need[shortage.sku] = (qty + shortage.qty, min(when, by), lead)
    lines = []
    for sku, (qty, by, lead) in sorted(need.items(), key=lambda kv: (kv[1][1], kv[0])):
        order_by = None if lead is None else by - timedelta(days=lead)
        past = order_by is not None and order_by < planner.today
        lines.append(PurchaseLine(sku=sku, qty=qty, needed_by=by, order_by=order_by, past=past))
    return lines


def plan(
    model: Model | Product,
    request_or_orders: Request | Mapping[str, Any] | Sequence[Order] | None,
    stock: Stock,
    today: date | None = None,
    labour_rate: Decimal | int | str = 0,
    workday_minutes: int = 480,
    deadline: float | None = None,
    calendar: Calendar | None = None,
    capacity: int | None = None,
) -> PlanResult:
    """Plan one request (order "request") or a batch of orders against a stock snapshot,
    assembling on the calendar's working days (Monday to Friday by default). Raises
    atoconf.RequestError for a bad request."""
    model = as_model(model)
    planner = Planner(
        model,
        stock,
        today or date.today(),
        Decimal(str(labour_rate)),
        workday_minutes,
        deadline,
        calendar,
        capacity,
    )
    if isinstance(request_or_orders, Sequence) and not isinstance(request_or_orders, str):
        orders = list(request_or_orders)
    else:
        orders = [single_order(configure(model, request_or_orders).request)]
    return plan_orders(planner, orders, Shelves(stock))
