"""A batch of orders planned on both versions of a product: the orders whose status,
assembly or cost changes.

Each version plans the whole batch on its own copy of the same stock, in the same
order, so an order's plan also shows what the change did to the orders before it
(a part the new version prefers may run out sooner). An order the new version
cannot read (it pins a part the change removed, say) is listed with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from atoconf.language.diagnostics import Diagnostic
from atoconf.language.model import Model
from atoconf.planning.orders import Order
from atoconf.planning.plan import plan_orders
from atoconf.planning.planner import Planner
from atoconf.planning.results import OrderPlan
from atoconf.planning.shelves import Shelves
from atoconf.planning.stock import Stock


@dataclass(frozen=True)
class OrderChange:
    """One order planned on both versions; `changed` names what differs ("status",
    "assembly", "cost"); `new` is None with `because` when the new version cannot
    read the order."""

    order_id: str
    old: OrderPlan
    new: OrderPlan | None
    changed: list[str]
    because: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "changed": self.changed,
            "old": _summary(self.old),
            "new": _summary(self.new) if self.new is not None else None,
        } | ({"because": self.because} if self.because else {})


def _summary(plan: OrderPlan) -> dict[str, Any]:
    return {
        "status": plan.status,
        "assembly": plan.assembly.to_json() if plan.assembly is not None else None,
        "cost": str(plan.cost.total) if plan.cost is not None else None,
    }


def replay(
    old: Model,
    new: Model,
    old_orders: Sequence[Order],
    new_orders: Sequence[Order],
    unread: Sequence[Diagnostic],
    stock: Stock,
    today: date,
    labour_rate: Decimal = Decimal(0),
    deadline: float | None = None,
) -> list[OrderChange]:
    """The orders (each read by both versions, or by the old one only: `unread` says
    why the new one could not read the rest) whose plan differs, in planning order."""
    before = plan_orders(
        Planner(old, stock, today, labour_rate, deadline=deadline), old_orders, Shelves(stock)
    )
    after = plan_orders(
        Planner(new, stock, today, labour_rate, deadline=deadline), new_orders, Shelves(stock)
    )
    planned = {p.order_id: p for p in after.orders}
    lines = {d.span.line: d for d in unread if d.span is not None}
    by_line = {o.order_id: o.line for o in old_orders}
    changes: list[OrderChange] = []
    for was in before.orders:
        now = planned.get(was.order_id)
        if now is None:
            why = lines.get(by_line.get(was.order_id) or -1)
            said = why.message if why is not None else "the new version cannot read this order"
            changes.append(OrderChange(was.order_id, was, None, ["status"], said))
            continue
        changed = [
            what
            for what, differs in (
                ("status", was.status != now.status),
                ("assembly", _choices(was) != _choices(now)),
                ("cost", _total(was) != _total(now)),
            )
            if differs
        ]
        if changed:
            changes.append(OrderChange(was.order_id, was, now, changed))
    return changes


def _choices(plan: OrderPlan) -> Any:
    if plan.assembly is None:
        return None
    return (plan.assembly.components, plan.assembly.options)


def _total(plan: OrderPlan) -> Decimal | None:
    return plan.cost.total if plan.cost is not None else None
