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
# orders whose reservations are written in one transaction: a commit per order would
# cost more than planning it
WRITE_BATCH = 64


def plan_and_reserve(
    planner: Planner,
    orders: Sequence[Order],
    database: StockDatabase,
    replace: bool = False,
    skip_reserved: bool = False,
    tick: Callable[[], None] | None = None,
) -> Checked[PlanResult]:
    """Plan orders in priority order and record each one's picks in the database with
    its plan. Orders are written WRITE_BATCH at a time, each batch one transaction
    (whole orders only, whatever stops the run); when another planner took units
    first, or an order of the batch already holds some, nothing of the batch is
    written and its orders are planned again one at a time on fresh stock. An order
    that already holds units is refused, unless `replace` (its old units count as
    free for its new plan, and are swapped in the same transaction: one order a
    transaction) or `skip_reserved` (it is kept as it was planned: its units
    untouched, its minutes in the schedule, its shortages on the purchase list). The
    plan is there even when some orders were not reserved; the diagnostics name them.
    `tick` is called as each order is dealt with (a progress bar)."""
    writer = _Writer(planner, database, replace)
    stored = database.plans() if skip_reserved else {}
    holding = set(database.orders()) if skip_reserved else set()
    for order in sorted(orders, key=Order.sort_key):
        if tick is not None:
            tick()
        if order.order_id in holding:
            writer.flush()  # the plans stay in planning order
            if order.order_id in stored:
                kept = OrderPlan.model_validate_json(stored[order.order_id])
                writer.planned.append(planner.book(kept.model_copy(update={"kept": True})))
            else:
                writer.diagnostics.append(_kept_without_plan(order, database.spec))
            continue
        if replace:
            writer.reserve_one(order)
        else:
            writer.add(order)
    writer.flush()
    return Checked(_result(planner, writer.planned), writer.diagnostics)


class _Writer:
    """Plans orders on its own shelves and writes their reservations, in batches or
    one order at a time."""

    def __init__(self, planner: Planner, database: StockDatabase, replace: bool) -> None:
        self.planner = planner
        self.database = database
        self.replace = replace
        self.shelves = Shelves(database.snapshot())
        self.planned: list[OrderPlan] = []
        self.diagnostics: list[Diagnostic] = []
        self.pending: list[tuple[Order, OrderPlan, list[Pick]]] = []

    def add(self, order: Order) -> None:
        """Plan the order (its picks taken from these shelves) and write it with the
        next batch."""
        plan = self.planner.plan(order, self.shelves)
        self.pending.append((order, plan, [Pick(p.sku, p.location, p.qty) for p in plan.picks]))
        if len(self.pending) >= WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the pending orders in one transaction; if that fails (nothing is
        written), plan and write them again one at a time on fresh stock."""
        pending, self.pending = self.pending, []
        claims = [
            (o.order_id, picks, plan.model_dump_json()) for o, plan, picks in pending if picks
        ]
        try:
            if claims:
                self.database.reserve_many(claims)
        except (Conflict, AlreadyReserved):
            self.shelves = Shelves(self.database.snapshot())
            self.planner.forget()  # the batch's units are back: stock grew
            for order, _, _ in pending:
                self.reserve_one(order)
            return
        self.planned += [self.planner.book(plan) for _, plan, _ in pending]

    def reserve_one(self, order: Order) -> None:
        """Plan the order and write it in its own transaction, planning it again on
        fresh stock while other planners take its units first."""
        self.flush()
        held = self.database.reserved_for(order.order_id) if self.replace else []
        if held:  # stock grows: what earlier orders taught may no longer be the best
            self.shelves.give(held)
            self.planner.forget()
        for _ in range(RESERVE_ATTEMPTS):
            plan = self.planner.plan(order, self.shelves)
            picks = [Pick(p.sku, p.location, p.qty) for p in plan.picks]
            if not picks and not held:
                self.planned.append(self.planner.book(plan))
                return
            try:
                self.database.reserve(order.order_id, picks, self.replace, plan.model_dump_json())
            except AlreadyReserved:
                self.shelves.give(picks)
                self.diagnostics.append(_already_reserved(order, self.database.spec))
                return
            except Conflict:
                # another planner took some of these units: plan again on what is left
                self.shelves = Shelves(self.database.snapshot())
                held = self.database.reserved_for(order.order_id) if self.replace else []
                self.shelves.give(held)
                continue
            self.planned.append(self.planner.book(plan))
            return
        self.diagnostics.append(
            error(
                "E0810",
                f"order '{order.order_id}' could not be reserved: other planners kept "
                f"taking its units ({RESERVE_ATTEMPTS} attempts)",
                _order_span(order),
                hint="run the batch again",
            )
        )


def _already_reserved(order: Order, database: str) -> Diagnostic:
    return error(
        "E0810",
        f"order '{order.order_id}' already holds a reservation; it was not planned again",
        _order_span(order),
        hint=f"release it first (atoconf stock release {database} {order.order_id}), plan "
        "with --replace, or keep it as reserved with --skip-reserved",
    )


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
