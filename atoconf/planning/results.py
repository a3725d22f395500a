"""What a plan answers: per order the assembly, picks, shortages, dates, steps and
cost, and a batch's purchase list, as pydantic models with their JSON shape."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from atoconf.engine.clock import StopReason
from atoconf.engine.results import JSON_VERSION, AssemblyResult

Status = Literal["buildable", "short", "impossible"]


# ---- results -------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PickLine(_Out):
    sku: str
    location: str
    qty: int


class ShortageLine(_Out):
    sku: str
    qty: int
    lead_days: int | None


class Alternative(_Out):
    assembly: AssemblyResult
    price_delta: Decimal | None  # None: a cost on either side is not known


class StepLine(_Out):
    name: str
    title: str | None
    minutes: int


class Cost(_Out):
    """Money to two decimal places (strings in JSON)."""

    parts: Decimal
    labour: Decimal
    total: Decimal


class OrderPlan(_Out):
    """One order's plan: what `plan --format json` prints for each order."""

    order_id: str
    status: Status
    assembly: AssemblyResult | None = None
    picks: list[PickLine] = []
    shortages: list[ShortageLine] = []
    promise_date: date | None = None
    due: date | None = None
    # working days the promise date falls after `due` (0: on time; None: no due date
    # or no promise date)
    late_days: int | None = None
    alternatives: list[Alternative] = []
    steps: list[StepLine] = []
    cost: Cost | None = None
    unpriced: list[str] = []  # SKUs without supply data: their cost is not in `cost`
    # reserved by an earlier run and kept as that run planned it (--skip-reserved)
    kept: bool = False
    # not part of the JSON shape unless set
    stopped: StopReason | None = None

    @property
    def late(self) -> bool:
        """Whether the order is promised after its due date."""
        return bool(self.late_days)

    def to_json(self) -> dict[str, Any]:
        """The JSON shape `--format json` prints (docs/json.md)."""
        out = self.model_dump(mode="json", exclude={"stopped", "assembly", "alternatives"})
        out["assembly"] = _assembly_json(self.assembly)
        out["alternatives"] = [
            {
                "assembly": _assembly_json(a.assembly),
                "price_delta": None if a.price_delta is None else str(a.price_delta),
            }
            for a in self.alternatives
        ]
        ordered = {k: out[k] for k in _ORDER_KEYS}
        if self.stopped:
            ordered["stopped"] = self.stopped
        return ordered


_ORDER_KEYS = (
    "order_id",
    "status",
    "assembly",
    "picks",
    "shortages",
    "promise_date",
    "due",
    "late_days",
    "alternatives",
    "steps",
    "cost",
    "unpriced",
    "kept",
)


def _assembly_json(assembly: AssemblyResult | None) -> dict[str, Any] | None:
    if assembly is None:
        return None
    return assembly.model_dump(mode="json", exclude={"objective"})


class PurchaseLine(_Out):
    """A part to buy: the units short over the batch, the day the first order short of
    it must start assembly, the last day to order it (needed_by less its lead time;
    None: the lead time is not known), and whether that day is past."""

    sku: str
    qty: int
    needed_by: date
    order_by: date | None
    past: bool


class DayLoad(_Out):
    """Assembly minutes booked on a working day, and the shop's capacity that day."""

    date: date
    minutes: int
    capacity: int


class PlanResult(_Out):
    """A whole plan: one entry per order, what to buy, and with a capacity the
    assembly minutes booked per working day."""

    version: int = JSON_VERSION
    today: date
    orders: list[OrderPlan]
    purchase_list: list[PurchaseLine]
    load: list[DayLoad] = []

    def to_json(self) -> dict[str, Any]:
        """The JSON shape `--format json` prints (docs/json.md)."""
        return {
            "version": self.version,
            "today": self.today.isoformat(),
            "orders": [o.to_json() for o in self.orders],
            "purchase_list": [p.model_dump(mode="json") for p in self.purchase_list],
            "load": [day.model_dump(mode="json") for day in self.load],
        }

    @property
    def late(self) -> int:
        """Orders promised after their due date."""
        return sum(order.late for order in self.orders)

    @property
    def counts(self) -> dict[Status, int]:
        """Orders per status."""
        found: dict[Status, int] = {"buildable": 0, "short": 0, "impossible": 0}
        for order in self.orders:
            found[order.status] += 1
        return found
