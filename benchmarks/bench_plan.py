#!/usr/bin/env python3
"""How fast does atoconf plan orders against stock?

On the large generated PC product (the bundled catalog with its part lists grown
to 1,420 SKUs, see large_pc.py), with synthetic stock (every SKU on one to three
shelves, some scarce, some out) and supply costs, measures in this one process:

- a batch of orders (10,000 by default; options drawn as customers choose them,
  some pinning a GPU or a CPU, some with a requirement), planned in priority
  order in memory: orders per second and the total (goal: 10,000 in under 60 s),
  the share buildable / short / impossible, and how many distinct requests the
  batch held;
- the naive approach on the first orders of the same batch, in the same run:
  enumerate the valid assemblies (atoconf's own `solve`, no objective), keep
  those the shelves can build, take the cheapest. It gets the same deadline per
  order; an order it cannot finish gives a lower bound on the ratio;
- the reservation path on SQLite: the same planner writing the orders' picks
  (`plan_and_reserve`, WRITE_BATCH orders a transaction), orders per second (goal:
  at least 500/s), and the transactions alone (the picks of already planned
  orders), one per order beside WRITE_BATCH orders each;
- peak memory.

    python benchmarks/bench_plan.py [--orders 10000] [--naive 10] [--reserve 2000] [--seed 1]
        [--family heldout --shape-seed 4]

With --family, the product is shapes.py's model of that family (1,500 SKUs; the
held-out-like PC catalog: 1,458) instead of the large PC, and each order picks
each option with probability one half and pins a random part of a random
component one time in ten (the large PC's orders are drawn as its customers
choose).

Exit status: 0 whatever the timings (a benchmark reports, it does not fail CI).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import shapes  # noqa: E402
from large_pc import generate_large_pc  # noqa: E402

import atoconf  # noqa: E402
from atoconf.engine.clock import Clock  # noqa: E402
from atoconf.engine.setup import with_defaults  # noqa: E402
from atoconf.engine.solve import solve  # noqa: E402
from atoconf.language.model import Model  # noqa: E402
from atoconf.planning.orders import Order, read_orders  # noqa: E402
from atoconf.planning.plan import (  # noqa: E402
    WRITE_BATCH,
    plan_and_reserve,
    plan_orders,
    purchase_list,
)
from atoconf.planning.planner import Planner  # noqa: E402
from atoconf.planning.results import PlanResult  # noqa: E402
from atoconf.planning.shelves import Shelves  # noqa: E402
from atoconf.planning.stock import Pick, Shelf, Stock, StockDatabase, Supply  # noqa: E402

TODAY = date(2026, 11, 26)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_stock(model: Model, rng: Random) -> Stock:
    """Every SKU on one to three shelves: most with a few to a few dozen units, one
    in eight scarce (one or two), one in twenty out (none free)."""
    shelves: dict[tuple[str, str], Shelf] = {}
    supply: dict[str, Supply] = {}
    aisles = [f"{a}-{n:02d}" for a in "ABCD" for n in range(1, 11)]
    for sku, part in sorted(model.parts.items()):
        kind = rng.random()
        for location in rng.sample(aisles, rng.randint(1, 3)):
            on_hand = rng.randint(5, 40) if kind > 0.175 else rng.randint(0, 2)
            held = on_hand if kind < 0.05 else rng.randint(0, on_hand // 4)
            shelves[(sku, location)] = Shelf(sku, location, on_hand, held)
        price = Decimal(str(part.values.get("price") or 0))
        cost = (price * Decimal(rng.randint(70, 85)) / 100).quantize(Decimal("0.01"))
        supply[sku] = Supply(rng.randint(1, 21), cost)
    return Stock(shelves, supply, "synthetic")


def synthetic_orders(model: Model, n: int, rng: Random) -> str:
    """Orders as JSON lines: options as customers pick them, one in ten pinning a
    GPU or CPU, one in twenty with a requirement, one in twenty with a priority."""
    gpus = [s for s in model.components["gpu"].parts]
    cpus = [s for s in model.components["cpu"].parts]
    lines = []
    for i in range(n):
        select: dict[str, object] = {"usage": rng.choice(["office", "gaming", "cad"])}
        if rng.random() < 0.6:
            select["tier"] = rng.choice(["budget", "mainstream", "enthusiast"])
        if rng.random() < 0.2:
            select["rgb"] = True
        if rng.random() < 0.15:
            select["wireless"] = True
        if rng.random() < 0.1:
            select["warranty_years"] = rng.randint(1, 5)
        if rng.random() < 0.05:
            select["gpu"] = rng.choice(gpus)
        elif rng.random() < 0.05:
            select["cpu"] = rng.choice(cpus)
        request: dict[str, object] = {"select": select}
        if rng.random() < 0.05:
            request["require"] = [rng.choice(["gpu.vram_gb >= 12", "cpu.cores >= 8"])]
        order: dict[str, object] = {
            "order_id": f"O-{i:05d}",
            "due": (TODAY + timedelta(days=rng.randint(1, 30))).isoformat(),
            "request": request,
        }
        if rng.random() < 0.05:
            order["priority"] = rng.randint(0, 3)
        lines.append(json.dumps(order))
    return "\n".join(lines) + "\n"


def generic_orders(model: Model, n: int, rng: Random) -> str:
    """Orders for any product, as JSON lines: each option set with probability one
    half, one in ten pinning a random part of a random component."""
    lines = []
    options = sorted(model.options.items())
    components = sorted(model.components.items())
    for i in range(n):
        select: dict[str, object] = {}
        for name, option in options:
            if rng.random() < 0.5:
                value = rng.choice(list(option.values))
                select[name] = str(value) if isinstance(value, Decimal) else value
        if rng.random() < 0.1:
            name, component = rng.choice(components)
            select[name] = rng.choice(list(component.parts))
        order = {
            "order_id": f"O-{i:05d}",
            "due": (TODAY + timedelta(days=rng.randint(1, 30))).isoformat(),
            "request": {"select": select},
        }
        lines.append(json.dumps(order))
    return "\n".join(lines) + "\n"


def naive_plan(
    model: Model, planner: Planner, order: Order, shelves: Shelves, deadline: float
) -> tuple[str, float]:
    """Enumerate valid assemblies, keep the buildable ones, take the cheapest; returns
    (what it found, seconds). Stops at the deadline."""
    start = time.perf_counter()
    clock = Clock(deadline)
    select = with_defaults(
        planner.costed, order.request.selects, [e for _, e in order.request.requires], clock
    )
    best = None
    stream = solve(planner.costed, select, [e for _, e in order.request.requires], clock=clock)
    for assembly in stream:
        need: dict[str, int] = {}
        for chosen in assembly.components.values():
            if chosen is not None:
                need[chosen.sku] = need.get(chosen.sku, 0) + chosen.qty
        if all(shelves.available(s) >= q for s, q in need.items()):
            cost = sum(
                planner.stock.unit_cost(c.sku) * c.qty for c in assembly.components.values() if c
            )
            if best is None or cost < best:
                best = cost
        if time.perf_counter() - start > deadline:
            break
    seconds = time.perf_counter() - start
    return ("stopped" if stream.stopped or seconds > deadline else "done"), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=10, help="orders the naive approach plans")
    parser.add_argument("--naive-deadline", type=float, default=10.0)
    parser.add_argument("--reserve", type=int, default=2_000, help="orders planned and reserved")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--family", choices=shapes.FAMILIES, help="plan a shapes.py product")
    parser.add_argument("--shape-seed", type=int, default=1, help="the seed of that product")
    parser.add_argument("--deadline", type=float, default=10.0, help="seconds per search")
    args = parser.parse_args(argv)
    rng = Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        if args.family:
            size = 1_458 if args.family == "heldout" else 1_500
            shape = shapes.generate(args.family, args.shape_seed, size)
            model = atoconf.loads(shape.text).model
            title = f"{shape.name}: {len(model.parts)}"
        else:
            large = generate_large_pc(args.seed, Path(folder))
            model = atoconf.load(large.entry).model
            title = f"large PC: {large.skus}"
        stock = synthetic_stock(model, rng)
        make = generic_orders if args.family else synthetic_orders
        text = make(model, args.orders, rng)
        read = read_orders(model, text, "orders.jsonl")
        assert read.value is not None and not read.diagnostics, read.diagnostics[:3]
        orders = read.value
        print(
            f"{title} SKUs, {len(stock.shelves)} shelves; "
            f"{len(orders)} orders read in {time.perf_counter() - started:.1f} s"
        )
        distinct = len({o.request.request.model_dump_json() for o in orders})

        # -- the batch, in memory
        planner = Planner(model, stock, TODAY, deadline=args.deadline)
        shelves = Shelves(stock)
        started = time.perf_counter()
        planned = []
        # plan_orders, one order at a time, to print progress
        for n, order in enumerate(sorted(orders, key=Order.sort_key), start=1):
            planned.append(planner.plan(order, shelves))
            if n % 1000 == 0:
                print(f"  {n} orders planned in {time.perf_counter() - started:.0f} s")
        result = PlanResult(
            today=TODAY, orders=planned, purchase_list=purchase_list(planner, planned)
        )
        seconds = time.perf_counter() - started
        counts = Counter(o.status for o in result.orders)
        stopped = sum(1 for o in result.orders if o.stopped)
        rate = len(orders) / seconds
        print(
            f"batch: {len(orders)} orders ({distinct} distinct requests) in {seconds:.1f} s = "
            f"{rate:.0f} orders/s  [goal: 10,000 in < 60 s: "
            f"{'PASS' if seconds < 60 * len(orders) / 10_000 else 'FAIL'}]"
        )
        print(
            f"  {counts['buildable']} buildable now, {counts['short']} short, "
            f"{counts['impossible']} impossible ({stopped} stopped at the deadline); "
            f"{len(result.purchase_list)} SKUs to buy"
        )

        # -- the naive approach, on the first orders, same shelves as the batch saw
        if args.naive:
            shelves = Shelves(stock)
            ours: list[float] = []
            theirs: list[float] = []
            bounded = 0
            fresh = Planner(model, stock, TODAY, deadline=30)
            fresh.plan(orders[0], Shelves(stock))  # the decision graph, built once per model
            for order in sorted(orders, key=Order.sort_key)[: args.naive]:
                fresh.forget()  # cold: nothing learnt from earlier orders
                t = time.perf_counter()
                fresh.plan(order, Shelves(stock))
                ours.append(time.perf_counter() - t)
                outcome, naive_seconds = naive_plan(
                    model, fresh, order, shelves, args.naive_deadline
                )
                theirs.append(naive_seconds)
                bounded += outcome == "stopped"
            ratio = sum(theirs) / sum(ours)
            print(
                f"naive (enumerate valid assemblies, filter by stock) on {args.naive} orders: "
                f"{sum(theirs):.1f} s vs atoconf {sum(ours):.2f} s (each order planned cold): "
                f"{'>= ' if bounded else ''}{ratio:.0f}x"
                f"{f' ({bounded} stopped at {args.naive_deadline:.0f} s)' if bounded else ''}"
            )

        # -- the reservation path on SQLite
        if args.reserve:
            database = StockDatabase(str(Path(folder) / "stock.db"))
            database.init()
            database.import_csv(stock)
            batch = orders[: args.reserve]
            planner = Planner(model, stock, TODAY, deadline=30)
            plan_orders(planner, batch[:1], Shelves(stock))  # the decision graph, built once
            started = time.perf_counter()
            reserved = plan_and_reserve(planner, batch, database).value
            seconds = time.perf_counter() - started
            rate = len(batch) / seconds
            print(
                f"plan + reserve on SQLite: {len(batch)} orders in {seconds:.1f} s = "
                f"{rate:.0f} orders/s  [goal >= 500/s: {'PASS' if rate >= 500 else 'FAIL'}]"
            )
            # the transactions alone: the same picks again under other order ids
            database.import_csv(stock)
            for order_id in list(database.orders()):
                database.release(order_id)
            picks = [[Pick(p.sku, p.location, p.qty) for p in o.picks] for o in reserved.orders]
            started = time.perf_counter()
            for n, chosen in enumerate(picks):
                database.reserve(f"R-{n}", chosen)
            seconds = time.perf_counter() - started
            # and in the transactions of a batch (WRITE_BATCH orders each)
            for order_id in list(database.orders()):
                database.release(order_id)
            claims = [(f"B-{n}", chosen, None) for n, chosen in enumerate(picks)]
            started = time.perf_counter()
            for first in range(0, len(claims), WRITE_BATCH):
                database.reserve_many(claims[first : first + WRITE_BATCH])
            batched = time.perf_counter() - started
            print(
                f"  reservation transactions alone: one per order {len(picks) / seconds:.0f}/s "
                f"(the naive way), {WRITE_BATCH} orders each (as plan --reserve writes) "
                f"{len(picks) / batched:.0f}/s"
            )
            database.engine.dispose()
    print(f"peak memory: {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
