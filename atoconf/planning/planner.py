"""The planner: for one order, the best assembly buildable from the shelves (or the
best one at all, and what is short), its picks, steps, cost and dates."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from atoconf.engine.clock import Clock, StopReason
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.optimise import (
    Found,
    ObjectiveCosts,
    best_ties,
    cheapest_by_graph,
    defaults_by_graph,
)
from atoconf.engine.paths import GRAPH, answered
from atoconf.engine.problem import assembly_of
from atoconf.engine.propagate import qty_var
from atoconf.engine.request import (
    ResolvedRequest,
)
from atoconf.engine.results import AssemblyResult
from atoconf.engine.setup import with_defaults
from atoconf.engine.solve import solve
from atoconf.engine.sweep import PathCheck, Unsupported
from atoconf.language.evaluate import holds
from atoconf.language.model import (
    Expr,
    Model,
    Value,
)
from atoconf.planning.calendar import Calendar, assembly_days
from atoconf.planning.constraints import (
    cost_objective,
    joint_bound,
    joint_check,
    ordered_steps,
    qty_bound,
    qty_check,
    request_key,
    shared_skus,
    values_of,
    with_costs,
)
from atoconf.planning.orders import Order
from atoconf.planning.results import Alternative, Cost, OrderPlan, PickLine, ShortageLine, StepLine
from atoconf.planning.shelves import Shelves
from atoconf.planning.stock import Stock

# the share of an order's deadline the search among what is on the shelves may take
BUILDABLE_SHARE = 0.5
TIES = 20  # assemblies of the best objective value compared by ready date
ALTERNATIVES = 3
CENT = Decimal("0.01")


# ---- the planner ---------------------------------------------------------------------------------


@dataclass
class _Known:
    """What earlier orders with the same request taught (stock only shrinks in a batch)."""

    buildable: AssemblyResult | None = None  # the last best buildable assembly
    never_buildable: bool = False
    best_any: list[AssemblyResult] | None = None  # the best assemblies, stock aside
    select: dict[str, Value] = field(default_factory=dict)


@dataclass
class _StockView:
    """The stock constraints of one Shelves (see Planner._stock_constraints), brought
    up to date SKU by SKU from the shelves' log of changes."""

    shelves: Shelves
    seen: int = 0  # entries of shelves.changed applied
    allowed: dict[str, list[Value]] = field(default_factory=dict)
    kept: dict[str, set[Value]] = field(default_factory=dict)  # allowed, as sets
    bounds: dict[str, dict[str, int]] = field(default_factory=dict)  # per component
    checks: dict[str, PathCheck] = field(default_factory=dict)
    joint: dict[str, tuple[list[str], int]] = field(default_factory=dict)  # per shared SKU


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
        calendar: Calendar | None = None,
        capacity: int | None = None,
    ) -> None:
        self.model = model
        self.stock = stock
        self.today = today
        self.calendar = calendar or Calendar()
        if capacity is not None and capacity <= 0:
            raise ValueError(f"the capacity must be 1 minute a day or more, not {capacity}")
        # assembly minutes a working day for the whole shop (None: unlimited), and the
        # minutes booked per day by the orders this planner planned so far: one
        # schedule per planner (see `book`)
        self.capacity = capacity
        self.booked: dict[date, int] = {}
        self.labour_rate = labour_rate
        self.workday_minutes = workday_minutes
        self.deadline = deadline
        # one clock per order (set by `plan`): the order's searches share its deadline
        self._clock = Clock(deadline)
        self._stopped: StopReason | None = None
        self.costed = with_costs(model, stock, labour_rate)
        # the cost objective, and what it (or no objective, for the defaults) needs on
        # the decision graphs, are kept with the costed model: later planners with the
        # same supply data and rate start warm; a request's own objective is this
        # planner's
        kept = CompiledModel.of(self.costed)
        self.cost = kept.get(
            ("cost objective", labour_rate), lambda: cost_objective(self.costed, labour_rate)
        )
        self._cost_needs = kept.get(("cost objective needs", labour_rate), ObjectiveCosts)
        self._defaults_needs = kept.get("no objective needs", ObjectiveCosts)
        self._request_needs: dict[tuple[str, bool], ObjectiveCosts] = {}
        self._known: dict[str, _Known] = {}
        self.shared = shared_skus(model)
        self._users: dict[str, list[str]] = {}  # per SKU, the components that take it
        for comp in model.components.values():
            for sku in comp.parts:
                self._users.setdefault(sku, []).append(comp.name)
        self._view: _StockView | None = None

    def forget(self) -> None:
        """Drop what earlier orders taught (for stock that may have grown since)."""
        self._known.clear()

    # -- one order ----------------------------------------------------------------------

    def plan(self, order: Order, shelves: Shelves) -> OrderPlan:
        """The plan of one order; takes its picks from `shelves`."""
        self._clock = Clock(self.deadline)
        self._stopped = None
        request = order.request
        key = request_key(request)
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
            # the search among what is on the shelves gets part of the order's time: if
            # it runs out, the best assembly at all (and what is short) is still told
            whole = self._clock
            self._clock = Clock(None if self.deadline is None else self.deadline * BUILDABLE_SHARE)
            chosen = self._best(select, requires, minimize, maximize, shelves)
            self._clock = whole
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
            found = defaults_by_graph(
                self.costed, select, requires, self._clock, self._defaults_needs
            )
        except Unsupported as why:
            answered("plan defaults", "search", str(why))
            return with_defaults(self.costed, select, requires, self._clock)
        answered("plan defaults", GRAPH)
        return found

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
        extra: Callable[[], list[Expr]] = list
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
                self._objective_costs(objective, minimize is not None),
                best_only,
            )
            answered("plan", GRAPH)
        except Unsupported as why:
            answered("plan", "branch and bound", str(why))
            if best_only:
                found = best_ties(
                    self.costed,
                    select,
                    [*requires, *extra()],
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
                    [*requires, *extra()],
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

    def _objective_costs(self, objective: Expr, minimizing: bool) -> ObjectiveCosts:
        """What the objective needs on the decision graphs, kept for later orders."""
        if objective is self.cost:
            return self._cost_needs
        key = (objective.model_dump_json(), minimizing)
        return self._request_needs.setdefault(key, ObjectiveCosts())

    def _stock_constraints(
        self, shelves: Shelves
    ) -> tuple[dict[str, list[Value]], Callable[[], list[Expr]], list[PathCheck]]:
        """Availability as constraints: each component's SKUs narrowed to those with
        enough units for its smallest quantity; a quantity bound where a SKU has fewer
        units than the component's largest quantity; a joint bound where components
        sharing a SKU could together take more than there is. The bounds come as
        checks on partial assignments (for the decision graph) and, made only when
        asked, as rule expressions (for branch and bound)."""
        view = self._view
        if view is None or view.shelves is not shelves:
            view = self._view = _StockView(shelves)
            changed: Iterable[str] = self._users
            view.kept = {name: set() for name in self.model.components}
            view.bounds = {name: {} for name in self.model.components}
            stale = set(self.model.components)
        else:
            changed = set(shelves.changed[view.seen :])
            stale = set()
        view.seen = len(shelves.changed)
        for sku in changed:
            have = shelves.available(sku)
            for name in self._users[sku]:
                comp = self.model.components[name]
                kept = have >= comp.qty_min
                if kept and sku not in view.kept[name]:
                    view.kept[name].add(sku)
                    stale.add(name)
                elif not kept and sku in view.kept[name]:
                    view.kept[name].remove(sku)
                    stale.add(name)
                bound = have if kept and have < comp.qty_max else None
                if bound != view.bounds[name].get(sku):
                    stale.add(name)
                    view.bounds[name] = dict(view.bounds[name])  # checks made hold the old
                    if bound is None:
                        del view.bounds[name][sku]
                    else:
                        view.bounds[name][sku] = bound
            if sku in self.shared:
                users = [n for n in self.shared[sku] if sku in view.kept[n]]
                most = sum(self.model.components[n].qty_max for n in users)
                view.joint.pop(sku, None)
                if len(users) >= 2 and have < most:
                    view.joint[sku] = (users, have)
        for name in stale:
            comp = self.model.components[name]
            optional: list[Value] = [None] if comp.optional else []
            view.allowed[name] = optional + [s for s in comp.parts if s in view.kept[name]]
            view.checks.pop(name, None)
            if view.bounds[name]:
                view.checks[name] = qty_check(name, view.bounds[name])
        order = list(self.model.components)
        allowed = {name: view.allowed[name] for name in order}
        qty_bounds = [(name, view.bounds[name]) for name in order if view.bounds[name]]
        checks = [view.checks[name] for name in order if name in view.checks]
        joint = [(sku, users, have) for sku, (users, have) in view.joint.items()]
        by_users: dict[tuple[str, ...], dict[str, int]] = {}
        for sku, users, have in joint:
            by_users.setdefault(tuple(users), {})[sku] = have
        checks += [joint_check(self.model, users, have) for users, have in by_users.items()]

        def exprs() -> list[Expr]:
            return [qty_bound(self.model, c, list(b.items())) for c, b in qty_bounds] + [
                joint_bound(self.model, sku, users, have) for sku, users, have in joint
            ]

        return allowed, exprs, checks

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

    def _ready(self, assembly: AssemblyResult, shelves: Shelves) -> tuple[date, int]:
        """(the day it is ready, minutes): the longest lead time of what is short, then
        the assembly's working days."""
        lead = 0
        for sku, qty in self._needs(assembly).items():
            if shelves.available(sku) < qty:
                lead = max(lead, self.stock.lead_days(sku) or 0)
        minutes = self._minutes(assembly)
        return self.ready_on(lead, minutes), minutes

    def book(self, plan: OrderPlan) -> OrderPlan:
        """With a capacity, the plan with its minutes booked first-fit into the shop's
        working days from the day its parts are there, spilling into later days: its
        promise date is the day its last minute is booked. Called once per accepted
        plan, in planning order."""
        if self.capacity is None or plan.promise_date is None:
            return plan
        lead = max((s.lead_days or 0 for s in plan.shortages), default=0)
        day = last = self.calendar.on_or_after(self.today + timedelta(days=lead))
        left = sum(s.minutes for s in plan.steps)
        while left > 0:
            take = min(left, self.capacity - self.booked.get(day, 0))
            if take > 0:
                self.booked[day] = self.booked.get(day, 0) + take
                left -= take
                last = day
            day = self.calendar.shifted(day, 1)
        late = None if plan.due is None else self.calendar.between(plan.due, last)
        return plan.model_copy(update={"promise_date": last, "late_days": late})

    def ready_on(self, lead_days: int, minutes: int) -> date:
        """The working day the last of `minutes` of assembly is done, when the parts
        are there `lead_days` calendar days from today (0: they are on the shelves):
        assembly starts on the first working day on or after that day."""
        start = self.calendar.on_or_after(self.today + timedelta(days=lead_days))
        return self.calendar.shifted(start, assembly_days(minutes, self.workday_minutes) - 1)

    def start_by(self, due: date, minutes: int) -> date:
        """The working day `minutes` of assembly must start to be done by `due`."""
        last = self.calendar.on_or_before(due)
        return self.calendar.shifted(last, 1 - assembly_days(minutes, self.workday_minutes))

    def _unpriced(self, assembly: AssemblyResult) -> list[str]:
        """The assembly's SKUs without supply data (their cost is not in its cost)."""
        return sorted(sku for sku in self._needs(assembly) if not self.stock.priced(sku))

    def _cost(self, assembly: AssemblyResult, steps: Sequence[StepLine]) -> Cost:
        """Parts (those with a known cost) and labour."""
        parts = sum(
            (self.stock.unit_cost(c.sku) * c.qty for c in assembly.components.values() if c),
            Decimal(0),
        )
        minutes = sum(s.minutes for s in steps)
        labour = (self.labour_rate * minutes / 60).quantize(CENT, ROUND_HALF_UP)
        parts = parts.quantize(CENT, ROUND_HALF_UP)
        return Cost(parts=parts, labour=labour, total=parts + labour)

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
        unpriced = self._unpriced(chosen)
        minutes = sum(s.minutes for s in steps)
        lead = max((s.lead_days or 0 for s in shortages), default=0)
        unknown_lead = any(s.lead_days is None for s in shortages)
        promise = None if unknown_lead else self.ready_on(lead, minutes)
        late = None
        if promise is not None and order.due is not None:
            late = self.calendar.between(order.due, promise)
        alternatives: list[Alternative] = []
        if shortages:
            alternatives = self._alternatives(
                chosen,
                None if unpriced else cost,
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
            unpriced=unpriced,
            due=order.due,
            late_days=late,
        )

    def _alternatives(
        self,
        chosen: AssemblyResult,
        cost: Cost | None,
        short: set[str],
        shelves: Shelves,
        select: Mapping[str, Value],
        requires: Sequence[Expr],
        minimize: Expr | None,
        maximize: Expr | None,
    ) -> list[Alternative]:
        """The best assemblies buildable now once the request's own choices (`select`) of
        short parts and their quantities are let go; none when it chose no short part.
        Each with its cost less `cost` (the chosen assembly's; None: not known, as is
        an alternative's with an unpriced part)."""
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
            delta: Decimal | None = None
            if cost is not None and not self._unpriced(assembly):
                delta = self._cost(assembly, self._steps(assembly)).total - cost.total
            found.append(Alternative(assembly=assembly, price_delta=delta))
        return found
