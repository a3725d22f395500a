"""Stock in a database, the same tests on SQLite and on a real PostgreSQL server.

PostgreSQL runs when ATOCONF_TEST_POSTGRES_URL names one (`.ci/run` starts a
throw-away server and sets it); under CI its absence is a failure, not a skip.
Reservations are checked by their invariant (each shelf's reserved = units held
outside atoconf + the units of every reservation on it, never above on hand),
with two real planner processes racing for scarce stock and a planner killed
part way through a batch.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import atoconf
from atoconf.planning.orders import Order, read_orders
from atoconf.planning.plan import WRITE_BATCH, plan_and_reserve
from atoconf.planning.planner import Planner
from atoconf.planning.stock import (
    AlreadyReserved,
    Conflict,
    Pick,
    Receipts,
    Stock,
    StockDatabase,
    StockError,
)
from tests.conftest import CATALOGS, PC, checkout_env, cli


def write_stock(folder: Path, scarce: dict[str, list[tuple[str, int]]]) -> Path:
    """stock.csv and supply.csv for the PC catalog: 50 of every part at A-01, except
    the scarce SKUs, which sit where `scarce` says."""
    model = atoconf.load(PC)
    rows = ["sku,location,on_hand,reserved"]
    supply = ["sku,lead_days,unit_cost"]
    for sku, part in sorted(model.parts.items()):
        for location, qty in scarce.get(sku, [("A-01", 50)]):
            rows.append(f"{sku},{location},{qty},0")
        price = part.values.get("price")
        cost = (Decimal(str(price)) * Decimal("0.8")).quantize(Decimal("0.01"))
        supply.append(f"{sku},4,{cost}")
    (folder / "stock.csv").write_text("\n".join(rows) + "\n")
    (folder / "supply.csv").write_text("\n".join(supply) + "\n")
    return folder / "stock.csv"


def loaded(url: str, stock_csv: Path) -> StockDatabase:
    database = StockDatabase(url)
    database.init()
    database.import_csv(Stock.from_csv(stock_csv))
    return database


def invariant(database: StockDatabase) -> dict[tuple[str, str], int]:
    """Check every shelf against the reservations; returns units reserved per shelf."""
    by_shelf: dict[tuple[str, str], int] = {}
    for picks in database.orders().values():
        for p in picks:
            assert p.qty > 0
            by_shelf[(p.sku, p.location)] = by_shelf.get((p.sku, p.location), 0) + p.qty
    with database.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                database.stock.c.sku,
                database.stock.c.location,
                database.stock.c.on_hand,
                database.stock.c.held,
                database.stock.c.reserved,
            )
        ).all()
    for sku, location, on_hand, held, reserved in rows:
        assert 0 <= held <= reserved <= on_hand, (sku, location)
        assert reserved == held + by_shelf.get((sku, location), 0), (sku, location)
    return by_shelf


def start(
    url: str, orders: Path, *args: str, output: int = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """A planner process reserving a batch of orders."""
    command = [sys.executable, "-m", "atoconf", "plan", str(PC), "--stock", url]
    command += ["--orders", str(orders), "--reserve", "--today", "2026-11-26", *args]
    return subprocess.Popen(command, stdout=output, stderr=output, text=True, env=checkout_env())


def write_orders(path: Path, prefix: str, n: int, select: dict[str, object]) -> Path:
    lines = [
        json.dumps(
            {
                "order_id": f"{prefix}-{i:03d}",
                "due": f"2026-12-{1 + i % 28:02d}",
                "request": {"select": select},
            }
        )
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


# ---- schema, import, snapshot -------------------------------------------------------------------


def test_import_round_trips_and_init_is_idempotent(url: str) -> None:
    source = Stock.from_csv(CATALOGS / "pc" / "stock.csv")
    database = loaded(url, CATALOGS / "pc" / "stock.csv")
    assert database.init() == 2  # again: nothing changes
    snapshot = database.snapshot()
    assert {k: (s.on_hand, s.reserved) for k, s in snapshot.shelves.items()} == {
        k: (s.on_hand, s.reserved) for k, s in source.shelves.items()
    }
    assert {k: (s.lead_days, s.unit_cost) for k, s in snapshot.supply.items()} == {
        k: (s.lead_days, s.unit_cost) for k, s in source.supply.items()
    }
    assert all(isinstance(s.unit_cost, Decimal) for s in snapshot.supply.values())
    invariant(database)


def test_a_database_without_the_schema_is_named_with_the_fix(url: str) -> None:
    with pytest.raises(StockError) as raised:
        StockDatabase(url).snapshot()
    assert raised.value.diagnostics[0].code == "E0808"
    assert "atoconf stock init" in (raised.value.diagnostics[0].hint or "")


def test_an_import_that_fails_changes_nothing(url: str, tmp_path: Path) -> None:
    stock_csv = write_stock(tmp_path, {"GPU-4070": [("B-01", 3)]})
    database = loaded(url, stock_csv)
    database.reserve("A-1", [Pick("GPU-4070", "B-01", 2)])
    before = database.snapshot()
    # a new count that cannot cover the units orders hold: refused as a whole
    text = stock_csv.read_text().replace("GPU-4070,B-01,3,0", "GPU-4070,B-01,1,0")
    text = text.replace("CPU-I3-14100,A-01,50,0", "CPU-I3-14100,A-01,7,0")
    (tmp_path / "recount.csv").write_text(text)
    with pytest.raises(StockError) as raised:
        database.import_csv(Stock.from_csv(tmp_path / "recount.csv", tmp_path / "supply.csv"))
    assert [d.code for d in raised.value.diagnostics] == ["E0806"]
    after = database.snapshot()
    assert after.shelves == before.shelves and after.supply == before.supply
    invariant(database)


def test_reserve_release_replace_and_conflicts(url: str, tmp_path: Path) -> None:
    database = loaded(url, write_stock(tmp_path, {"GPU-4070": [("B-01", 2), ("B-02", 1)]}))
    database.reserve("A-1", [Pick("GPU-4070", "B-01", 2), Pick("CPU-I3-14100", "A-01", 1)])
    with pytest.raises(AlreadyReserved):
        database.reserve("A-1", [Pick("GPU-4070", "B-02", 1)])
    # more than the shelf has: nothing of the order is written, not even its good picks
    with pytest.raises(Conflict):
        database.reserve("A-2", [Pick("CPU-I3-14100", "A-01", 1), Pick("GPU-4070", "B-01", 1)])
    assert "A-2" not in database.orders()
    # replacing swaps the old units for the new in one step
    database.reserve("A-1", [Pick("GPU-4070", "B-01", 1)], replace=True)
    assert database.reserved_for("A-1") == [Pick("GPU-4070", "B-01", 1)]
    assert database.snapshot().available("GPU-4070") == 2
    assert database.release("A-1") == [Pick("GPU-4070", "B-01", 1)]
    assert database.release("A-1") == []
    assert database.snapshot().available("GPU-4070") == 3
    assert invariant(database) == {}


# ---- the command line ---------------------------------------------------------------------------


def test_stock_commands_and_plan_reserve_end_to_end(url: str, tmp_path: Path) -> None:
    stock_csv = write_stock(tmp_path, {"GPU-4070": [("B-01", 1), ("B-02", 1)]})
    assert cli("stock", "init", url).returncode == 0
    done = cli("stock", "import", url, str(stock_csv), "--model", str(PC))
    assert done.returncode == 0, done.stderr
    orders = write_orders(tmp_path / "orders.jsonl", "A", 3, {"usage": "gaming", "gpu": "GPU-4070"})
    args = ("plan", str(PC), "--stock", url, "--orders", str(orders), "--today", "2026-11-26")
    planned = cli(*args, "--reserve", "--format", "json")
    assert planned.returncode == 0, planned.stderr
    result = json.loads(planned.stdout)
    assert [o["status"] for o in result["orders"]] == ["buildable", "buildable", "short"]
    # A-002 is due on Thursday 3 December: its few minutes of assembly can start that
    # day, so the 4-day lead GPU is to be ordered by 29 November
    assert result["purchase_list"] == [
        {
            "sku": "GPU-4070",
            "qty": 1,
            "needed_by": "2026-12-03",
            "order_by": "2026-11-29",
            "past": False,
        }
    ]
    # the same orders again are refused, each named, and nothing changes
    again = cli(*args, "--reserve")
    assert again.returncode == 2
    assert again.stderr.count("error[E0810]") == 3
    listed = cli("stock", "show", url, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    shown = json.loads(listed.stdout)
    held = {(r["order_id"], r["sku"]) for r in shown["reservations"] if r["sku"] == "GPU-4070"}
    assert held == {("A-000", "GPU-4070"), ("A-001", "GPU-4070")}
    gpu = [r for r in shown["stock"] if r["sku"] == "GPU-4070"]
    assert [(r["location"], r["available"]) for r in gpu] == [("B-01", 0), ("B-02", 0)]
    # releasing one order frees its units for the next planner
    assert cli("stock", "release", url, "A-000").returncode == 0
    assert cli("stock", "release", url, "A-000").returncode == 1
    replanned = cli(*args, "--reserve", "--replace", "--format", "json")
    assert replanned.returncode == 0, replanned.stderr
    statuses = [o["status"] for o in json.loads(replanned.stdout)["orders"]]
    assert statuses == ["buildable", "buildable", "short"]
    invariant(StockDatabase(url))


def test_a_batch_run_again_keeps_the_orders_already_reserved(url: str, tmp_path: Path) -> None:
    """--skip-reserved: the orders that hold units stay as they were planned (their units,
    their minutes in the schedule, their shortages on the purchase list); new ones are
    planned on what is left; a released order is planned again."""
    stock_csv = write_stock(tmp_path, {"GPU-4070": [("B-01", 1), ("B-02", 1)]})
    database = loaded(url, stock_csv)
    orders = write_orders(tmp_path / "orders.jsonl", "A", 3, {"usage": "gaming", "gpu": "GPU-4070"})
    args = ("plan", str(PC), "--stock", url, "--today", "2026-11-26", "--capacity", "20")
    first = cli(*args, "--orders", str(orders), "--reserve", "--format", "json")
    assert first.returncode == 0, first.stderr
    before = json.loads(first.stdout)
    held = database.orders()
    assert sorted(held) == ["A-000", "A-001", "A-002"]  # A-002 holds all but the GPU
    assert sorted(database.plans()) == sorted(held)
    # the same batch and one new order, run again
    more = write_orders(tmp_path / "more.jsonl", "A", 4, {"usage": "gaming"})
    again = cli(*args, "--orders", str(more), "--reserve", "--skip-reserved", "--format", "json")
    assert again.returncode == 0, again.stderr
    after = json.loads(again.stdout)
    kept = {o["order_id"]: o for o in after["orders"] if o["kept"]}
    assert sorted(kept) == ["A-000", "A-001", "A-002"]
    for order in before["orders"]:
        mine = kept[order["order_id"]]
        assert {k: v for k, v in mine.items() if k != "kept"} == {
            k: v for k, v in order.items() if k != "kept"
        }
    new = [o for o in after["orders"] if not o["kept"]]
    assert [o["order_id"] for o in new] == ["A-003"] and new[0]["status"] == "buildable"
    assert database.orders() == {**held, "A-003": database.reserved_for("A-003")}
    # the kept orders' minutes are booked before the new one's, the short GPU bought again
    assert sum(d["minutes"] for d in after["load"]) == sum(
        sum(s["minutes"] for s in o["steps"]) for o in after["orders"]
    )
    assert [(p["sku"], p["qty"]) for p in after["purchase_list"]] == [("GPU-4070", 1)]
    text = cli(*args, "--orders", str(more), "--reserve", "--skip-reserved")
    assert text.returncode == 0, text.stderr
    assert text.stdout.count("(reserved earlier, kept as planned)") == 4
    # a released order (or one built) drops its stored plan: planned again next time
    assert cli("stock", "release", url, "A-000").returncode == 0
    assert cli("stock", "consume", url, "A-001").returncode == 0
    assert sorted(database.plans()) == ["A-002", "A-003"]
    last = cli(*args, "--orders", str(more), "--reserve", "--skip-reserved", "--format", "json")
    assert last.returncode == 0, last.stderr
    flags = {o["order_id"]: o["kept"] for o in json.loads(last.stdout)["orders"]}
    assert flags == {"A-000": False, "A-001": False, "A-002": True, "A-003": True}
    invariant(database)


def test_an_older_schema_is_migrated_and_its_orders_kept_without_a_plan(
    url: str, tmp_path: Path
) -> None:
    database = loaded(url, write_stock(tmp_path, {}))
    database.reserve("OLD-1", [Pick("CPU-I3-14100", "A-01", 1)])
    with database.engine.begin() as conn:  # as schema 1 had it: no stored plans
        database.plan_table.drop(conn)
        conn.execute(sa.update(database.meta_table).values(value="1"))
    with pytest.raises(StockError) as raised:
        database.check_schema()
    assert "older stock schema" in raised.value.diagnostics[0].message
    assert database.init() == 2
    database.check_schema()
    assert database.orders() == {"OLD-1": [Pick("CPU-I3-14100", "A-01", 1)]}
    orders = tmp_path / "orders.jsonl"
    orders.write_text('{"order_id": "OLD-1", "due": "2026-12-04", "request": {}}\n')
    args = ("plan", str(PC), "--stock", url, "--orders", str(orders), "--reserve")
    kept = cli(*args, "--skip-reserved", "--format", "json")
    assert kept.returncode == 0, kept.stderr
    assert "warning[W0804]" in kept.stderr and "orders.jsonl:1:1" in kept.stderr
    assert json.loads(kept.stdout)["orders"] == []
    assert database.orders() == {"OLD-1": [Pick("CPU-I3-14100", "A-01", 1)]}
    invariant(database)


def test_skip_reserved_goes_with_reserve_and_not_with_replace(tmp_path: Path) -> None:
    stock_csv = write_stock(tmp_path, {})
    orders = write_orders(tmp_path / "orders.jsonl", "A", 1, {"usage": "office"})
    args = ("plan", str(PC), "--orders", str(orders), "--skip-reserved")
    alone = cli(*args, "--stock", str(stock_csv))
    assert alone.returncode == 2 and "--skip-reserved goes with --reserve" in alone.stderr
    both = cli(*args, "--stock", str(tmp_path / "stock.db"), "--reserve", "--replace")
    assert both.returncode == 2 and "--replace" in both.stderr and "--skip-reserved" in both.stderr


def test_plan_reserve_needs_a_database(tmp_path: Path) -> None:
    stock_csv = write_stock(tmp_path, {})
    args = ("plan", str(PC), "--stock", str(stock_csv), "--set", "usage=office", "--reserve")
    done = cli(*args, "--order-id", "W-1")
    assert done.returncode == 2
    assert "atoconf stock init" in done.stderr and "Traceback" not in done.stderr
    # a single request is reserved only under an order id of its own
    args = ("plan", str(PC), "--stock", str(tmp_path / "stock.db"), "--set", "usage=office")
    done = cli(*args, "--reserve")
    assert done.returncode == 2 and "--order-id ID" in done.stderr


# ---- the reservation lifecycle: a request reserved, built, goods received, a stocktake ---


def shelf(database: StockDatabase, sku: str, location: str) -> tuple[int, int] | None:
    """(on hand, reserved) of a shelf; None: there is no such shelf."""
    s = database.stock.c
    with database.engine.connect() as conn:
        row = conn.execute(
            sa.select(s.on_hand, s.reserved).where(s.sku == sku, s.location == location)
        ).first()
    return None if row is None else (row[0], row[1])


def test_a_request_reserved_under_its_id_then_consumed(url: str, tmp_path: Path) -> None:
    database = loaded(url, write_stock(tmp_path, {"GPU-4070": [("B-01", 2)]}))
    args = ("plan", str(PC), "--stock", url, "--today", "2026-11-26", "--reserve")
    select = ("--set", "usage=gaming", "--set", "gpu=GPU-4070")
    done = cli(*args, *select, "--order-id", "W-7", "--format", "json")
    assert done.returncode == 0, done.stderr
    (order,) = json.loads(done.stdout)["orders"]
    assert order["order_id"] == "W-7"
    held = database.reserved_for("W-7")
    assert sorted((p.sku, p.location, p.qty) for p in held) == sorted(
        (p["sku"], p["location"], p["qty"]) for p in order["picks"]
    )
    assert shelf(database, "GPU-4070", "B-01") == (2, 1)
    # the next ad-hoc request gets its own id: no clash with W-7
    again = cli(*args, *select, "--order-id", "W-8")
    assert again.returncode == 0, again.stderr
    assert shelf(database, "GPU-4070", "B-01") == (2, 2)
    # W-7 is built: its units leave the shelves, and W-8 keeps its own
    built = cli("stock", "consume", url, "W-7")
    assert built.returncode == 0, built.stderr
    assert shelf(database, "GPU-4070", "B-01") == (1, 1)
    assert database.reserved_for("W-7") == []
    assert [p.sku for p in database.reserved_for("W-8")]
    assert cli("stock", "consume", url, "W-7").returncode == 1  # holds nothing any more
    invariant(database)


def test_goods_received_are_booked_in_one_transaction(url: str, tmp_path: Path) -> None:
    database = loaded(url, write_stock(tmp_path, {"GPU-4070": [("B-01", 1)]}))
    receipts = tmp_path / "receipts.csv"
    receipts.write_text("sku,location,qty\nGPU-4070,B-01,3\nGPU-4070,A-01,2\nGPU-4070,B-01,1\n")
    done = cli("stock", "receive", url, str(receipts), "--model", str(PC))
    assert done.returncode == 0, done.stderr
    assert shelf(database, "GPU-4070", "B-01") == (5, 0)  # 1 + 3 + 1
    assert shelf(database, "GPU-4070", "A-01") == (2, 0)  # a new shelf at a known place
    # a bad row books nothing in, and says where it is
    receipts.write_text("sku,location,qty\nGPU-4070,B-01,4\nGPU-4070,B-02,-1\n")
    done = cli("stock", "receive", url, str(receipts))
    assert done.returncode == 2
    assert "receipts.csv:3:" in done.stderr and "error[E0805]" in done.stderr
    assert shelf(database, "GPU-4070", "B-01") == (5, 0)
    # a SKU the stock does not know, or a location without a shelf: refused, each at
    # its row, and nothing of the file is booked in
    receipts.write_text("sku,location,qty\nGPU-4070,B-01,2\nGPU-9999,B-01,1\nGPU-4070,B-99,1\n")
    done = cli("stock", "receive", url, str(receipts), "--model", str(PC))
    assert done.returncode == 2
    assert "receipts.csv:3:1: error[E0812]: SKU 'GPU-9999' is not in the stock" in done.stderr
    assert "receipts.csv:4:1: error[E0812]: location 'B-99' has no shelf" in done.stderr
    assert shelf(database, "GPU-4070", "B-01") == (5, 0)
    invariant(database)


def test_a_stocktake_replaces_the_shelves_it_does_not_list(url: str, tmp_path: Path) -> None:
    scarce = {"GPU-4070": [("B-01", 2), ("B-02", 2)]}
    database = loaded(url, write_stock(tmp_path, scarce))
    database.reserve("R-1", [Pick("GPU-4070", "B-02", 1)])
    # the stocktake without shelf B-02, which R-1 holds a unit of: refused, nothing changes
    stocktake = tmp_path / "count"
    stocktake.mkdir()
    rows = (tmp_path / "stock.csv").read_text().splitlines(keepends=True)
    (stocktake / "stock.csv").write_text("".join(r for r in rows if ",B-02," not in r))
    done = cli("stock", "import", url, str(stocktake / "stock.csv"), "--replace")
    assert done.returncode == 2
    assert "error[E0806]" in done.stderr and "R-1" in done.stderr
    assert shelf(database, "GPU-4070", "B-02") == (2, 1)
    # released, the same stocktake empties B-02; without --replace it would be kept
    assert cli("stock", "release", url, "R-1").returncode == 0
    done = cli("stock", "import", url, str(stocktake / "stock.csv"))
    assert done.returncode == 0 and shelf(database, "GPU-4070", "B-02") == (2, 0)
    done = cli("stock", "import", url, str(stocktake / "stock.csv"), "--replace")
    assert done.returncode == 0, done.stderr
    assert shelf(database, "GPU-4070", "B-02") == (0, 0)
    assert shelf(database, "GPU-4070", "B-01") == (2, 0)
    assert database.snapshot().available("GPU-4070") == 2
    invariant(database)


# ---- concurrency and crashes ---------------------------------------------------------------


def test_two_planners_at_once_never_take_the_same_unit(url: str, tmp_path: Path) -> None:
    scarce = {"GPU-4070": [("B-01", 3), ("B-02", 2)]}
    loaded(url, write_stock(tmp_path, scarce)).engine.dispose()
    select = {"usage": "gaming", "gpu": "GPU-4070"}
    procs = []
    for prefix in ("A", "B"):
        orders = write_orders(tmp_path / f"{prefix}.jsonl", prefix, 8, select)
        procs.append(start(url, orders, "--format", "json", output=subprocess.PIPE))
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    plans = [o for out, _ in outputs for o in json.loads(out)["orders"]]
    assert len(plans) == 16
    # every unit once: what the planners report is exactly what the database holds
    reported: dict[tuple[str, str], int] = {}
    for plan in plans:
        for p in plan["picks"]:
            reported[(p["sku"], p["location"])] = (
                reported.get((p["sku"], p["location"]), 0) + p["qty"]
            )
    held = invariant(StockDatabase(url))
    assert held == reported
    assert held[("GPU-4070", "B-01")] == 3 and held[("GPU-4070", "B-02")] == 2
    assert sum(1 for p in plans if p["status"] == "buildable") == 5
    assert sum(1 for p in plans if p["status"] == "short") == 11


def test_a_batch_is_written_in_transactions_of_whole_orders(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WRITE_BATCH orders a transaction; a batch holding an order that already has
    units writes nothing, and its orders are written one at a time: that one refused,
    the others reserved, the plans in planning order."""
    database = loaded(url, write_stock(tmp_path, {}))
    model = atoconf.load(PC)
    database.reserve("W-005", [Pick("CASE-FD-7", "A-01", 1)])
    n = WRITE_BATCH * 2 + 3
    text = write_orders(tmp_path / "w.jsonl", "W", n, {"usage": "office"}).read_text()
    orders = read_orders(model, text, "w.jsonl").value
    assert orders is not None
    written: list[int] = []
    reserve_many = database.reserve_many

    def counted(
        claims: Sequence[tuple[str, Sequence[Pick], str | None]], replace: bool = False
    ) -> None:
        written.append(len(claims))
        reserve_many(claims, replace)

    monkeypatch.setattr(database, "reserve_many", counted)
    planner = Planner(model, database.snapshot(), date(2026, 11, 26))
    result = plan_and_reserve(planner, orders, database)
    assert written == [WRITE_BATCH] + [1] * WRITE_BATCH + [WRITE_BATCH, 3]
    assert [(d.code, "W-005" in d.message) for d in result.diagnostics] == [("E0810", True)]
    ids = [o.order_id for o in sorted(orders, key=Order.sort_key) if o.order_id != "W-005"]
    assert [o.order_id for o in result.value.orders] == ids
    held = database.orders()
    assert held["W-005"] == [Pick("CASE-FD-7", "A-01", 1)]  # untouched
    assert sorted(held) == sorted([*ids, "W-005"])
    invariant(database)
    database.engine.dispose()


def test_a_planner_killed_mid_batch_leaves_only_whole_orders(url: str, tmp_path: Path) -> None:
    database = loaded(url, write_stock(tmp_path, {}))
    orders = write_orders(tmp_path / "orders.jsonl", "K", 400, {"usage": "office"})
    proc = start(url, orders)
    try:
        deadline = time.monotonic() + 120
        while len(database.orders()) < 5:
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    reserved = database.orders()
    assert 5 <= len(reserved) < 400
    # every order the database holds is whole: a part for every component an assembly
    # must have (the orders differ in their optional parts as the cheapest run out)
    model = atoconf.load(PC)
    needed = [c for c in model.components.values() if not c.optional]
    for order, picks in reserved.items():
        skus = {p.sku for p in picks}
        assert all(skus & set(c.parts) for c in needed), (order, picks)
        assert sum(p.qty for p in picks) >= len(needed)
    # and with the plan it was reserved by, written in the same transaction
    plans = database.plans()
    assert sorted(plans) == sorted(reserved)
    for order, plan in plans.items():
        planned = json.loads(plan)
        assert planned["order_id"] == order
        assert sorted((p["sku"], p["location"], p["qty"]) for p in planned["picks"]) == sorted(
            (p.sku, p.location, p.qty) for p in reserved[order]
        )
    invariant(database)


def test_goods_in_and_orders_built_while_a_planner_reserves(url: str, tmp_path: Path) -> None:
    """Receipts and consumed orders written while a planner process reserves a batch:
    every write is one transaction, so the shelves end matching the reservations,
    and on hand ends as it began plus what came in less what was built."""
    database = loaded(url, write_stock(tmp_path, {}))
    before = database.snapshot()
    orders = write_orders(tmp_path / "orders.jsonl", "C", 60, {"usage": "office"})
    proc = start(url, orders)
    received: dict[tuple[str, str], int] = {}
    built: dict[tuple[str, str], int] = {}
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None:
            assert time.monotonic() < deadline
            some = sorted(before.shelves)[len(received) % len(before.shelves)]
            database.receive(Receipts([Pick(some[0], some[1], 1)], {}, {}))
            received[some] = received.get(some, 0) + 1
            for order_id in list(database.orders())[:1]:
                for p in database.consume(order_id):
                    built[(p.sku, p.location)] = built.get((p.sku, p.location), 0) + p.qty
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert received and built
    after = database.snapshot()
    for key, shelf_before in before.shelves.items():
        expected = shelf_before.on_hand + received.get(key, 0) - built.get(key, 0)
        assert after.shelves[key].on_hand == expected, key
    invariant(database)


def test_unusable_databases_are_named_and_never_created(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    for args in (
        ("stock", "show", str(missing)),
        ("plan", str(PC), "--stock", str(missing), "--set", "usage=office"),
        (
            "plan",
            str(PC),
            "--stock",
            "postgresql+psycopg://x@127.0.0.1:1/db",
            "--set",
            "usage=office",
        ),
        ("plan", str(PC), "--stock", "nosuchdialect://x/db", "--set", "usage=office"),
    ):
        done = cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "error[E0808]" in done.stderr and "Traceback" not in done.stderr
    assert not missing.exists()
