"""The assembly plan (SPEC §3): for each order, the assembly to build from the shelves,
what to pick where, what is short and when it can be promised, the steps, the cost."""

from __future__ import annotations

import heapq
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict

from atoconf.engine.clock import Clock, StopReason
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.configure import Product, as_model, configure
from atoconf.engine.optimise import Found, best_ties, cheapest_by_graph, defaults_by_graph
from atoconf.engine.problem import assembly_of
from atoconf.engine.propagate import qty_var
from atoconf.engine.request import (
    Request,
    ResolvedRequest,
    _key_offsets,
    locate_in_json,
    request_from_json,
    resolve_request,
)
from atoconf.engine.results import JSON_VERSION, AssemblyResult
from atoconf.engine.setup import with_defaults
from atoconf.engine.solve import solve
from atoconf.engine.sweep import PathCheck, Unsupported
from atoconf.language.diagnostics import Diagnostic, error
from atoconf.language.evaluate import holds
from atoconf.language.model import (
    BOOL,
    DECIMAL,
    INT,
    NONE,
    STRING,
    Attribute,
    Binary,
    Compare,
    ComponentRef,
    Expr,
    IfThenElse,
    Literal_,
    Model,
    Part,
    PartType,
    QtyRef,
    Total,
    Value,
    ValueType,
)
from atoconf.language.source import SourceFile, Span
from atoconf.planning.stock import AlreadyReserved, Conflict, Pick, Stock, StockDatabase

COST_ATTR = "__atoconf_unit_cost"  # not a name rule files can write: no clash
TIES = 20  # assemblies of the best objective value compared by ready date
ALTERNATIVES = 3
CENT = Decimal("0.01")
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
    price_delta: str


class StepLine(_Out):
    name: str
    title: str | None
    minutes: int


class Cost(_Out):
    parts: str
    labour: str
    total: str


class OrderPlan(_Out):
    """One order's plan (SPEC §3)."""

    order_id: str
    status: Status
    assembly: AssemblyResult | None = None
    picks: list[PickLine] = []
    shortages: list[ShortageLine] = []
    promise_date: date | None = None
    alternatives: list[Alternative] = []
    steps: list[StepLine] = []
    cost: Cost | None = None
    # not part of the JSON shape unless set
    due: date | None = None
    stopped: StopReason | None = None

    def to_json(self) -> dict[str, Any]:
        out = self.model_dump(mode="json", exclude={"due", "stopped", "assembly", "alternatives"})
        out["assembly"] = _assembly_json(self.assembly)
        out["alternatives"] = [
            {"assembly": _assembly_json(a.assembly), "price_delta": a.price_delta}
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
    "alternatives",
    "steps",
    "cost",
)


def _assembly_json(assembly: AssemblyResult | None) -> dict[str, Any] | None:
    if assembly is None:
        return None
    return assembly.model_dump(mode="json", exclude={"objective"})


class PurchaseLine(_Out):
    sku: str
    qty: int
    needed_by: date


class PlanResult(_Out):
    """A whole plan: one entry per order, and what to buy."""

    version: int = JSON_VERSION
    today: date
    orders: list[OrderPlan]
    purchase_list: list[PurchaseLine]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "today": self.today.isoformat(),
            "orders": [o.to_json() for o in self.orders],
            "purchase_list": [p.model_dump(mode="json") for p in self.purchase_list],
        }

    @property
    def counts(self) -> dict[Status, int]:
        found: dict[Status, int] = {"buildable": 0, "short": 0, "impossible": 0}
        for order in self.orders:
            found[order.status] += 1
        return found


# ---- orders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    order_id: str
    request: ResolvedRequest
    due: date | None = None
    priority: int | None = None
    line: int | None = None
    source: str | None = None  # the orders file

    def sort_key(self) -> tuple[int, int, date, str]:
        """Orders with a priority first (1 before 2), then by due date, then by id."""
        return (
            0 if self.priority is not None else 1,
            self.priority or 0,
            self.due or date.max,
            self.order_id,
        )


def read_orders(
    model: Model, text: str, name: str
) -> tuple[list[Order], list[Diagnostic], dict[str, SourceFile]]:
    """The orders of a JSON-lines file; a bad line is reported (file:line:col) and skipped."""
    orders: list[Order] = []
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {name: SourceFile(name, text)}
    lines = text.split("\n")
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        order, found, more_sources = _read_order(model, line, name, number)
        if found:  # again, the line at its own place in the file, for the positions
            masked = "\n" * (number - 1) + line
            order, found, more_sources = _read_order(model, masked, name, number)
        diagnostics += found
        sources.update(more_sources)
        if order is None:
            continue
        if order.order_id in seen:
            diagnostics.append(
                _order_error(
                    f"order id '{order.order_id}' was already used on line "
                    f"{seen[order.order_id]}; this order is skipped",
                    _line_span(name, number, line),
                    "give every order its own id",
                )
            )
            continue
        seen[order.order_id] = number
        orders.append(order)
    return orders, diagnostics, sources


def _order_error(message: str, span: Span | None, hint: str | None) -> Diagnostic:
    return error("E0809", message, span, hint=hint)


def _line_span(name: str, number: int, line: str) -> Span:
    return Span(file=name, line=number, col=1, end_line=number, end_col=max(2, len(line) + 1))


def _read_order(
    model: Model, masked: str, name: str, number: int
) -> tuple[Order | None, list[Diagnostic], dict[str, SourceFile]]:
    source = SourceFile(name, masked)
    line = masked.rsplit("\n", 1)[-1]
    whole = _line_span(name, number, line)
    try:
        data = json.loads(masked)
    except json.JSONDecodeError as exc:
        span = Span(
            file=name, line=exc.lineno, col=exc.colno, end_line=exc.lineno, end_col=exc.colno + 1
        )
        return (
            None,
            [
                _order_error(
                    f"the order is not valid JSON: {exc.msg}",
                    span,
                    "write one JSON object per line",
                )
            ],
            {},
        )
    hint = 'write {"order_id": "A-1", "due": "2026-12-01", "request": {...}}'
    if not isinstance(data, dict):
        return None, [_order_error("an order must be a JSON object", whole, hint)], {}
    offsets = _key_offsets(masked)

    def at(key: str) -> Span:
        places = offsets.get((key,))
        return source.span(*places[0]) if places else whole

    problems: list[Diagnostic] = []
    unknown = [k for k in data if k not in ("order_id", "due", "request", "priority")]
    for key in unknown:
        problems.append(
            _order_error(
                f"unknown order key '{key}'",
                at(key),
                "the keys are order_id, due, request and priority",
            )
        )
    order_id = data.get("order_id")
    if not isinstance(order_id, str) or not order_id.strip():
        problems.append(
            _order_error("the order needs an order_id (a non-empty string)", at("order_id"), hint)
        )
    due: date | None = None
    if "due" not in data:
        problems.append(_order_error("the order needs a due date", whole, hint))
    else:
        try:
            due = date.fromisoformat(data["due"]) if isinstance(data["due"], str) else None
        except ValueError:
            due = None
        if due is None:
            problems.append(
                _order_error(
                    f'due must be a date such as "2026-12-01", not {json.dumps(data["due"])}',
                    at("due"),
                    "write the date as YYYY-MM-DD",
                )
            )
    priority = data.get("priority")
    if priority is not None and (type(priority) is not int or priority < 0):
        problems.append(
            _order_error(
                "priority must be a whole number of 0 or more (0 first)", at("priority"), None
            )
        )
    request_data = data.get("request")
    if not isinstance(request_data, dict):
        problems.append(
            _order_error("the order needs a request object (SPEC §2)", at("request"), hint)
        )
    if problems:
        return None, problems, {}
    # the request's own text, at its place in the file, so errors point into the file
    start = offsets[("request",)][0][1]
    begin = masked.index("{", masked.index(":", start))
    _, end = json.JSONDecoder().raw_decode(masked, begin)
    request_text = "".join(c if c == "\n" else " " for c in masked[:begin]) + masked[begin:end]
    parsed = request_from_json(request_text, name)
    if isinstance(parsed, list):
        return None, parsed, {}
    resolved, found, sources = resolve_request(model, parsed)
    if resolved is None:
        located = locate_in_json(found, SourceFile(name, request_text))
        return None, [d for d in located if d.is_error], sources
    assert isinstance(order_id, str)
    return Order(order_id, resolved, due, priority, number, name), [], {}


def single_order(request: ResolvedRequest, order_id: str = "request") -> Order:
    return Order(order_id, request)


# ---- the shelves during planning ---------------------------------------------------------------


class Shelves:
    """Available units per SKU and location, taken from as orders are planned."""

    def __init__(self, stock: Stock) -> None:
        self.stock = stock
        self.free: dict[str, dict[str, int]] = {}
        for (sku, location), shelf in sorted(stock.shelves.items()):
            if shelf.available > 0:
                self.free.setdefault(sku, {})[location] = shelf.available

    def available(self, sku: str) -> int:
        return sum(self.free.get(sku, {}).values())

    def take(self, picks: Iterable[Pick | PickLine]) -> None:
        for pick in picks:
            here = self.free[pick.sku]
            here[pick.location] -= pick.qty
            if not here[pick.location]:
                del here[pick.location]

    def give(self, picks: Iterable[Pick]) -> None:
        for pick in picks:
            here = self.free.setdefault(pick.sku, {})
            here[pick.location] = here.get(pick.location, 0) + pick.qty

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


# ---- the planner ---------------------------------------------------------------------------------


@dataclass
class _Known:
    """What earlier orders with the same request taught (stock only shrinks in a batch)."""

    buildable: AssemblyResult | None = None  # the last best buildable assembly
    never_buildable: bool = False
    best_any: list[AssemblyResult] | None = None  # the best assemblies, stock aside
    select: dict[str, Value] = field(default_factory=dict)


class Planner:
    """Plans orders against shelves: one planner per model, stock supply and settings."""

    def __init__(
        self,
        model: Model,
        stock: Stock,
        today: date,
        labour_rate: Decimal = Decimal(0),
        workday_minutes: int = 480,
        deadline: float | None = None,
    ) -> None:
        self.model = model
        self.stock = stock
        self.today = today
        self.labour_rate = labour_rate
        self.workday_minutes = workday_minutes
        self.deadline = deadline
        # one clock per order (set by `plan`): the order's searches share its deadline
        self._clock = Clock(deadline)
        self._stopped: StopReason | None = None
        self.costed = _with_costs(model, stock)
        # the cost objective, and what it (or no objective, for the defaults) needs per
        # decision graph, are kept with the costed model: later planners with the same
        # supply data and rate start warm; a request's own objective is this planner's
        kept = CompiledModel.of(self.costed)
        self.cost = kept.get(
            ("cost objective", labour_rate), lambda: _cost_objective(self.costed, labour_rate)
        )
        self._cost_needs: dict[Any, Any] = kept.get(("cost objective needs", labour_rate), dict)
        self._costs: dict[Any, Any] = {}
        self._known: dict[str, _Known] = {}
        self.shared = _shared_skus(model)

    def forget(self) -> None:
        """Drop what earlier orders taught (for stock that may have grown since)."""
        self._known.clear()

    # -- one order ----------------------------------------------------------------------

    def plan(self, order: Order, shelves: Shelves) -> OrderPlan:
        """The plan of one order; takes its picks from `shelves`."""
        self._clock = Clock(self.deadline)
        self._stopped = None
        request = order.request
        key = _request_key(request)
        known = self._known.setdefault(key, _Known())
        requires = [e for _, e in request.requires]
        if not known.select and not (known.never_buildable or known.best_any is not None):
            known.select = self._defaults(request.selects, requires)
        select = known.select
        minimize, maximize = self._objective(request)

        chosen: AssemblyResult | None = None
        if known.buildable is not None and self._buildable(known.buildable, shelves):
            chosen = known.buildable  # still on the shelves: still the best buildable
        elif not known.never_buildable:
            chosen = self._best(select, requires, minimize, maximize, shelves)
            known.buildable = chosen
            known.never_buildable = chosen is None and not self._stopped
        if chosen is not None:
            return self._finish(order, chosen, shelves, [], select, requires, minimize, maximize)
        if known.best_any is None:
            known.best_any = self._ties(select, requires, minimize, maximize, None)
        if not known.best_any:
            return OrderPlan(
                order_id=order.order_id,
                status="impossible",
                due=order.due,
                stopped=self._stopped,
            )
        chosen = min(known.best_any, key=lambda a: self._ready(a, shelves))
        plan = self._finish(
            order, chosen, shelves, known.best_any, select, requires, minimize, maximize
        )
        return plan.model_copy(update={"stopped": self._stopped})

    def _defaults(self, select: Mapping[str, Value], requires: Sequence[Expr]) -> dict[str, Value]:
        """The choices plus the option defaults some valid assembly agrees with: on the
        decision graphs when they fit, else by search."""
        try:
            return defaults_by_graph(self.costed, select, requires, self._clock, self._cost_needs)
        except Unsupported:
            return with_defaults(self.costed, select, requires, self._clock)

    def _objective(self, request: ResolvedRequest) -> tuple[Expr | None, Expr | None]:
        if request.objective is None:
            return self.cost, None
        return request.objective.minimize, request.objective.maximize

    def _ties(
        self,
        select: Mapping[str, Value],
        requires: Sequence[Expr],
        minimize: Expr | None,
        maximize: Expr | None,
        shelves: Shelves | None,
        limit: int = TIES,
        best_only: bool = True,
    ) -> list[AssemblyResult]:
        """The first assemblies of the best objective value (up to `limit`; with
        `best_only` False, the `limit` best whatever their value); with `shelves`, only
        assemblies buildable from them."""
        allowed: dict[str, list[Value]] | None = None
        extra: list[Expr] = []
        checks: list[PathCheck] = []
        if shelves is not None:
            allowed, extra, checks = self._stock_constraints(shelves)
        objective = minimize if minimize is not None else maximize
        assert objective is not None
        # the whole space's decision graphs, built once per model, searched by A*
        try:
            found = cheapest_by_graph(
                self.costed,
                select,
                objective,
                minimize is not None,
                limit,
                allowed,
                checks,
                requires,
                self._clock,
                self._cost_needs if objective is self.cost else self._costs,
                best_only,
            )
        except Unsupported:
            if best_only:
                found = best_ties(
                    self.costed,
                    select,
                    [*requires, *extra],
                    objective,
                    minimize is not None,
                    limit,
                    self._clock,
                    allowed,
                )
            else:
                stream = solve(
                    self.costed,
                    select,
                    [*requires, *extra],
                    minimize=minimize,
                    maximize=maximize,
                    limit=limit,
                    clock=self._clock,
                    allowed=allowed,
                )
                found = Found(list(stream), stream.stopped)
        self._stopped = self._stopped or found.stopped
        return found.assemblies

    def _best(
        self,
        select: Mapping[str, Value],
        requires: Sequence[Expr],
        minimize: Expr | None,
        maximize: Expr | None,
        shelves: Shelves,
    ) -> AssemblyResult | None:
        """The best assembly buildable from `shelves`: of the best objective value, the
        one with the fewest minutes of assembly."""
        ties = self._ties(select, requires, minimize, maximize, shelves)
        return min(ties, key=lambda a: self._minutes(a)) if ties else None

    def _stock_constraints(
        self, shelves: Shelves
    ) -> tuple[dict[str, list[Value]], list[Expr], list[PathCheck]]:
        """Availability as constraints: each component's SKUs narrowed to those with
        enough units for its smallest quantity; a quantity bound where a SKU has fewer
        units than the component's largest quantity; a joint bound where components
        sharing a SKU could together take more than there is. The bounds come as
        rule expressions (for branch and bound) and as checks on partial
        assignments (for the decision graph)."""
        allowed: dict[str, list[Value]] = {}
        extra: list[Expr] = []
        checks: list[PathCheck] = []
        for comp in self.model.components.values():
            keep: list[Value] = [None] if comp.optional else []
            bounds: dict[str, int] = {}
            for sku in comp.parts:
                have = shelves.available(sku)
                if have >= comp.qty_min:
                    keep.append(sku)
                    if have < comp.qty_max:
                        bounds[sku] = have
            allowed[comp.name] = keep
            if bounds:
                extra.append(_qty_bound(self.model, comp.name, list(bounds.items())))
                checks.append(_qty_check(comp.name, bounds))
        for sku, names in self.shared.items():
            have = shelves.available(sku)
            users = [n for n in names if sku in allowed[n]]
            most = sum(self.model.components[n].qty_max for n in users)
            if len(users) >= 2 and have < most:
                extra.append(_joint_bound(self.model, sku, users, have))
                checks.append(_joint_check(self.model, sku, users, have))
        return allowed, extra, checks

    # -- what an assembly needs --------------------------------------------------------------

    def _needs(self, assembly: AssemblyResult) -> dict[str, int]:
        need: dict[str, int] = {}
        for chosen in assembly.components.values():
            if chosen is not None:
                need[chosen.sku] = need.get(chosen.sku, 0) + chosen.qty
        return need

    def _buildable(self, assembly: AssemblyResult, shelves: Shelves) -> bool:
        return all(shelves.available(s) >= q for s, q in self._needs(assembly).items())

    def _steps(self, assembly: AssemblyResult) -> list[StepLine]:
        values = values_of(self.model, assembly)
        done = assembly_of(self.model, values)
        performed = {
            step.name
            for step in self.model.steps.values()
            if (not step.uses or any(done.components[c][0] is not None for c in step.uses))
            and (step.when is None or holds(self.model, step.when, done))
        }
        return [
            StepLine(name=s.name, title=s.title, minutes=s.minutes)
            for s in ordered_steps(self.model)
            if s.name in performed
        ]

    def _minutes(self, assembly: AssemblyResult) -> int:
        return sum(s.minutes for s in self._steps(assembly))

    def _ready(self, assembly: AssemblyResult, shelves: Shelves) -> tuple[int, int]:
        """(days until ready, minutes): the longest lead time of what is short, plus
        the assembly's working days."""
        lead = 0
        for sku, qty in self._needs(assembly).items():
            if shelves.available(sku) < qty:
                lead = max(lead, self.stock.lead_days(sku) or 0)
        minutes = self._minutes(assembly)
        return lead + self._assembly_days(minutes), minutes

    def _assembly_days(self, minutes: int) -> int:
        return -(-minutes // self.workday_minutes) if self.workday_minutes > 0 else 0

    def _cost(self, assembly: AssemblyResult, steps: Sequence[StepLine]) -> Cost:
        parts = sum(
            (self.stock.unit_cost(c.sku) * c.qty for c in assembly.components.values() if c),
            Decimal(0),
        )
        minutes = sum(s.minutes for s in steps)
        labour = (self.labour_rate * minutes / 60).quantize(CENT, ROUND_HALF_UP)
        parts = parts.quantize(CENT, ROUND_HALF_UP)
        return Cost(parts=str(parts), labour=str(labour), total=str(parts + labour))

    # -- the plan of a chosen assembly ----------------------------------------------------

    def _finish(
        self,
        order: Order,
        chosen: AssemblyResult,
        shelves: Shelves,
        ties: Sequence[AssemblyResult],
        select: Mapping[str, Value],
        requires: Sequence[Expr],
        minimize: Expr | None,
        maximize: Expr | None,
    ) -> OrderPlan:
        picks: list[PickLine] = []
        shortages: list[ShortageLine] = []
        for sku, need in sorted(self._needs(chosen).items()):
            taken, missing = shelves.pick(sku, need)
            picks += taken
            if missing:
                shortages.append(
                    ShortageLine(sku=sku, qty=missing, lead_days=self.stock.lead_days(sku))
                )
        steps = self._steps(chosen)
        cost = self._cost(chosen, steps)
        minutes = sum(s.minutes for s in steps)
        lead = max((s.lead_days or 0 for s in shortages), default=0)
        unknown_lead = any(s.lead_days is None for s in shortages)
        promise = (
            None
            if unknown_lead
            else self.today + timedelta(days=lead + self._assembly_days(minutes))
        )
        alternatives: list[Alternative] = []
        if shortages:
            alternatives = self._alternatives(
                chosen,
                cost,
                {s.sku for s in shortages},
                shelves,
                order.request.selects,
                requires,
                minimize,
                maximize,
            )
        shelves.take(picks)
        return OrderPlan(
            order_id=order.order_id,
            status="short" if shortages else "buildable",
            assembly=chosen,
            picks=picks,
            shortages=shortages,
            promise_date=promise,
            alternatives=alternatives,
            steps=steps,
            cost=cost,
            due=order.due,
        )

    def _alternatives(
        self,
        chosen: AssemblyResult,
        cost: Cost,
        short: set[str],
        shelves: Shelves,
        select: Mapping[str, Value],
        requires: Sequence[Expr],
        minimize: Expr | None,
        maximize: Expr | None,
    ) -> list[Alternative]:
        """The best assemblies buildable now once the request's own choices (`select`) of
        short parts and their quantities are let go; none when it chose no short part."""
        pinned = {
            name
            for name, c in chosen.components.items()
            if c is not None and c.sku in short and (name in select or qty_var(name) in select)
        }
        if not pinned:
            return []
        # the request without those choices, its option defaults applied afresh
        kept = {
            k: v
            for k, v in select.items()
            if k not in pinned and k.removesuffix(".qty") not in pinned
        }
        relaxed = self._defaults(kept, requires)
        best = self._ties(relaxed, requires, minimize, maximize, shelves, ALTERNATIVES, False)
        found: list[Alternative] = []
        for assembly in best:
            other = self._cost(assembly, self._steps(assembly))
            delta = Decimal(other.total) - Decimal(cost.total)
            found.append(Alternative(assembly=assembly, price_delta=str(delta)))
        return found


# ---- batches ---------------------------------------------------------------------------------


def plan_orders(planner: Planner, orders: Sequence[Order], shelves: Shelves) -> PlanResult:
    """Plan orders in priority order, each seeing what the earlier ones took."""
    planned = [planner.plan(order, shelves) for order in sorted(orders, key=Order.sort_key)]
    return PlanResult(
        today=planner.today, orders=planned, purchase_list=purchase_list(planner, planned)
    )


RESERVE_ATTEMPTS = 20


def plan_and_reserve(
    planner: Planner,
    orders: Sequence[Order],
    database: StockDatabase,
    replace: bool = False,
) -> tuple[PlanResult, list[Diagnostic]]:
    """Plan orders in priority order and record each one's picks in the database, one
    transaction per order. When another planner took units first, the order is planned
    again on fresh stock. An order that already holds units is refused (unless
    `replace`: its old units count as free for its new plan, and are swapped in the
    same transaction)."""
    shelves = Shelves(database.snapshot())
    planned: list[OrderPlan] = []
    diagnostics: list[Diagnostic] = []
    for order in sorted(orders, key=Order.sort_key):
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
                database.reserve(order.order_id, picks, replace)
            except AlreadyReserved:
                shelves.give(picks)
                diagnostics.append(
                    error(
                        "E0810",
                        f"order '{order.order_id}' already holds a reservation; it was not "
                        "planned again",
                        _order_span(order),
                        hint=f"release it first (atoconf stock release DB {order.order_id}) "
                        "or plan with --replace",
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
            planned.append(done)
    result = PlanResult(
        today=planner.today, orders=planned, purchase_list=purchase_list(planner, planned)
    )
    return result, diagnostics


def _order_span(order: Order) -> Span | None:
    if order.line is None or order.source is None:
        return None
    return Span(file=order.source, line=order.line, col=1, end_line=order.line, end_col=2)


def purchase_list(planner: Planner, orders: Sequence[OrderPlan]) -> list[PurchaseLine]:
    """Every short SKU: the total missing, needed by the earliest date an order
    short of it must start assembly to meet its due date (never before today)."""
    need: dict[str, tuple[int, date]] = {}
    for order in orders:
        if not order.shortages:
            continue
        minutes = sum(s.minutes for s in order.steps)
        due = order.due or planner.today
        by = max(planner.today, due - timedelta(days=planner._assembly_days(minutes)))
        for shortage in order.shortages:
            qty, when = need.get(shortage.sku, (0, by))
            need[shortage.sku] = (qty + shortage.qty, min(when, by))
    return [
        PurchaseLine(sku=sku, qty=qty, needed_by=by)
        for sku, (qty, by) in sorted(need.items(), key=lambda kv: (kv[1][1], kv[0]))
    ]


def plan(
    model: Model | Product,
    request_or_orders: Request | Mapping[str, Any] | Sequence[Order] | None,
    stock: Stock,
    today: date | None = None,
    labour_rate: Decimal | int | str = 0,
    workday_minutes: int = 480,
    deadline: float | None = None,
) -> PlanResult:
    """Plan one request (order "request") or a batch of orders against a stock snapshot.
    Raises atoconf.RequestError for a bad request."""
    model = as_model(model)
    planner = Planner(
        model,
        stock,
        today or date.today(),
        Decimal(str(labour_rate)),
        workday_minutes,
        deadline,
    )
    if isinstance(request_or_orders, Sequence) and not isinstance(request_or_orders, str):
        orders = list(request_or_orders)
    else:
        orders = [single_order(configure(model, request_or_orders).request)]
    return plan_orders(planner, orders, Shelves(stock))


# ---- building blocks -----------------------------------------------------------------------------


def ordered_steps(model: Model) -> list[Any]:
    """Every step, after the steps it follows; declaration order breaks ties."""
    index = {name: i for i, name in enumerate(model.steps)}
    waiting = {name: len(step.after) for name, step in model.steps.items()}
    followers: dict[str, list[str]] = {name: [] for name in model.steps}
    for name, step in model.steps.items():
        for before in step.after:
            followers[before].append(name)
    ready = [index[n] for n, w in waiting.items() if w == 0]
    heapq.heapify(ready)
    names = list(model.steps)
    out = []
    while ready:
        name = names[heapq.heappop(ready)]
        out.append(model.steps[name])
        for follower in followers[name]:
            waiting[follower] -= 1
            if waiting[follower] == 0:
                heapq.heappush(ready, index[follower])
    return out


def values_of(model: Model, assembly: AssemblyResult) -> dict[str, Value]:
    """The solver's variables for an assembly in the SPEC §2 shape."""
    values: dict[str, Value] = {}
    for name, chosen in assembly.components.items():
        comp = model.components[name]
        values[name] = chosen.sku if chosen else None
        if comp.qty_min != comp.qty_max:
            values[qty_var(name)] = chosen.qty if chosen else comp.qty_min
    values.update(assembly.options)
    return values


def _request_key(request: ResolvedRequest) -> str:
    select = sorted((k, repr(v)) for k, v in request.selects.items())
    objective = (request.objective.sense, request.objective.text) if request.objective else None
    return repr((select, [t for t, _ in request.requires], objective))


def _shared_skus(model: Model) -> dict[str, list[str]]:
    """SKUs two or more components can take, with those components."""
    users: dict[str, list[str]] = {}
    for comp in model.components.values():
        for sku in comp.parts:
            users.setdefault(sku, []).append(comp.name)
    return {sku: names for sku, names in users.items() if len(names) >= 2}


def _with_costs(model: Model, stock: Stock) -> Model:
    """The model with each part's unit cost from the supply data as an attribute the
    cost objective totals (parts without supply data cost 0): made once per model
    and set of costs, and kept with the model, so its compiled caches serve every
    later plan with the same supply data."""
    costs = tuple((sku, stock.unit_cost(sku)) for sku in model.parts)
    return CompiledModel.of(model).get(("costed", costs), lambda: _costed(model, dict(costs)))


def _costed(model: Model, costs: Mapping[str, Decimal]) -> Model:
    types = {
        name: t.model_copy(
            update={
                "attributes": {
                    **t.attributes,
                    COST_ATTR: Attribute(name=COST_ATTR, type=DECIMAL, span=t.span),
                }
            }
        )
        for name, t in model.types.items()
    }
    parts: dict[str, Part] = {
        sku: p.model_copy(update={"values": {**p.values, COST_ATTR: costs[sku]}})
        for sku, p in model.parts.items()
    }
    _types: dict[str, PartType] = types
    return model.model_copy(update={"types": _types, "parts": parts})


_SPAN = Span(file="<plan>", line=1, col=1, end_line=1, end_col=2)


def _lit(value: Value, kind: ValueType) -> Literal_:
    return Literal_(span=_SPAN, type=kind, value=value)


def _is(model: Model, component: str, sku: str | None) -> Compare:
    ref = ComponentRef(
        span=_SPAN,
        type=ValueType(kind="component", name=model.components[component].type),
        component=component,
    )
    value = _lit(sku, STRING if sku is not None else NONE)
    return Compare(span=_SPAN, type=BOOL, op="==", left=ref, right=value)


def _qty_bound(model: Model, component: str, bounds: Sequence[tuple[str, int]]) -> Expr:
    """For each (sku, n): component == sku -> component.qty <= n."""
    qty = QtyRef(span=_SPAN, type=INT, component=component)
    terms: list[Expr] = [
        Binary(
            span=_SPAN,
            type=BOOL,
            op="implies",
            left=_is(model, component, sku),
            right=Compare(span=_SPAN, type=BOOL, op="<=", left=qty, right=_lit(n, INT)),
        )
        for sku, n in bounds
    ]
    return _join(terms, "and", BOOL)


def _qty_check(component: str, bounds: Mapping[str, int]) -> PathCheck:
    qty = qty_var(component)

    def check(values: Mapping[str, Value]) -> bool:
        most = bounds.get(values[component])  # type: ignore[arg-type]
        return most is None or cast(int, values[qty]) <= most

    return (component, qty), check


def _joint_check(model: Model, sku: str, components: Sequence[str], have: int) -> PathCheck:
    counted = [
        (
            c,
            qty_var(c) if model.components[c].qty_min != model.components[c].qty_max else None,
            model.components[c].qty_min,
        )
        for c in components
    ]

    def check(values: Mapping[str, Value]) -> bool:
        taken = sum(
            (cast(int, values[q]) if q else fixed) for c, q, fixed in counted if values[c] == sku
        )
        return taken <= have

    scope = tuple(v for c, q, _ in counted for v in (c, q) if v)
    return scope, check


def _joint_bound(model: Model, sku: str, components: Sequence[str], have: int) -> Expr:
    """Σ (if c == sku then c.qty else 0) <= have."""
    terms: list[Expr] = [
        IfThenElse(
            span=_SPAN,
            type=INT,
            cond=_is(model, c, sku),
            then=QtyRef(span=_SPAN, type=INT, component=c),
            else_=_lit(0, INT),
        )
        for c in components
    ]
    total = _join(terms, "+", INT)
    return Compare(span=_SPAN, type=BOOL, op="<=", left=total, right=_lit(have, INT))


def _join(terms: Sequence[Expr], op: Literal["and", "or", "+"], kind: ValueType) -> Expr:
    out = terms[0]
    for term in terms[1:]:
        out = Binary(span=_SPAN, type=kind, op=op, left=out, right=term)
    return out


def _cost_objective(model: Model, labour_rate: Decimal) -> Expr:
    """What ranks assemblies by cost: parts' unit cost x quantity, plus the minutes at
    the rate of each step that some assemblies skip."""
    parts: Expr = Total(
        span=_SPAN, type=DECIMAL, attr=COST_ATTR, components=tuple(model.components)
    )
    if not labour_rate:
        return parts
    terms: list[Expr] = [parts]
    for step in model.steps.values():
        always = step.when is None and (
            not step.uses or any(not model.components[c].optional for c in step.uses)
        )
        if not step.minutes or always:  # the same for every assembly: ranks nothing
            continue
        conditions: list[Expr] = []
        if step.uses:
            conditions.append(_join([_not_none(model, c) for c in step.uses], "or", BOOL))
        if step.when is not None:
            conditions.append(step.when)
        # minutes x rate / 60, divided exactly by the evaluator
        amount = Binary(
            span=_SPAN,
            type=DECIMAL,
            op="/",
            left=_lit(step.minutes * labour_rate, DECIMAL),
            right=_lit(60, INT),
        )
        terms.append(
            IfThenElse(
                span=_SPAN,
                type=DECIMAL,
                cond=_join(conditions, "and", BOOL),
                then=amount,
                else_=_lit(Decimal(0), DECIMAL),
            )
            if conditions
            else amount
        )
    return _join(terms, "+", DECIMAL)


def _not_none(model: Model, component: str) -> Expr:
    eq = _is(model, component, None)
    return Compare(span=_SPAN, type=BOOL, op="!=", left=eq.left, right=eq.right)


__all__ = [
    "Alternative",
    "Cost",
    "Order",
    "OrderPlan",
    "PickLine",
    "PlanResult",
    "Planner",
    "PurchaseLine",
    "Shelves",
    "ShortageLine",
    "StepLine",
    "plan",
    "plan_and_reserve",
    "plan_orders",
    "read_orders",
]
