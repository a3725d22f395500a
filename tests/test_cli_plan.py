"""`atoconf plan` end to end on the bundled PC catalog and its stock: the JSON shape of
SPEC §3, the work order in text, exit codes, and bad input named at its line."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import atoconf
from tests.conftest import CATALOGS, Ran, cli

PC = str(CATALOGS / "pc" / "workstation.ato")
STOCK = str(CATALOGS / "pc" / "stock.csv")
ORDERS = str(CATALOGS / "pc" / "orders.jsonl")

ORDER_KEYS = [
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
]


def plan(*args: str) -> Ran:
    return cli("plan", PC, "--stock", STOCK, "--today", "2026-11-26", *args, in_process=True)


def test_a_single_request_in_the_json_shape_of_spec_3() -> None:
    code, out, _ = plan("--set", "usage=gaming", "--set", "gpu=GPU-5090", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["version", "today", "orders", "purchase_list", "load"]
    assert data["load"] == []  # no --capacity: nothing is booked
    assert data["version"] == 1 and data["today"] == "2026-11-26"
    (order,) = data["orders"]
    assert list(order) == ORDER_KEYS
    assert order["order_id"] == "request" and order["status"] == "short"
    assert list(order["assembly"]) == ["components", "options"]
    assert order["assembly"]["components"]["gpu"] == {"sku": "GPU-5090", "qty": 1}
    # every GPU-5090 on the shelves is promised: it is short, with its lead time
    assert order["shortages"] == [{"sku": "GPU-5090", "qty": 1, "lead_days": 12}]
    assert all(set(p) == {"sku", "location", "qty"} for p in order["picks"])
    assert {p["sku"] for p in order["picks"]} | {"GPU-5090"} == {
        c["sku"] for c in order["assembly"]["components"].values() if c
    }
    # the promise: 12 days of lead time from Thursday 26 November is Tuesday 8
    # December, a working day, when its minutes of assembly fit
    assert order["promise_date"] == "2026-12-08"
    assert order["due"] is None and order["late_days"] is None  # a request has no due date
    assert 1 <= len(order["alternatives"]) <= 3
    for alternative in order["alternatives"]:
        assert list(alternative) == ["assembly", "price_delta"]
        assert alternative["assembly"]["components"]["gpu"]["sku"] != "GPU-5090"
        assert alternative["price_delta"].startswith("-")  # a 5090 costs more than any other
    assert [s["name"] for s in order["steps"]][:2] == ["prep_case", "mount_cpu"]
    assert set(order["cost"]) == {"parts", "labour", "total"}
    assert order["cost"]["labour"] == "0.00"
    # without a due date it is needed now: 12 days of lead time ago, past
    assert data["purchase_list"] == [
        {
            "sku": "GPU-5090",
            "qty": 1,
            "needed_by": "2026-11-26",
            "order_by": "2026-11-14",
            "past": True,
        }
    ]
    assert order["unpriced"] == []  # every part has supply data


def test_labour_is_costed_at_the_rate_for_the_minutes_of_the_steps() -> None:
    code, out, _ = plan("--set", "usage=office", "--labour-rate", "60", "-f", "json")
    assert code == 0
    (order,) = json.loads(out)["orders"]
    minutes = sum(s["minutes"] for s in order["steps"])
    cost = order["cost"]
    assert cost["labour"] == f"{minutes}.00"
    assert float(cost["total"]) == float(cost["parts"]) + minutes


def test_the_text_work_order() -> None:
    code, out, _ = plan("--set", "usage=gaming", "--set", "gpu=GPU-5090", "--labour-rate", "45")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Order: SHORT"
    assert "  Promise date: 2026-12-08" in lines
    assert "    GPU-5090  x1   12 days lead" in lines
    for heading in ("  Picks:", "  Short:", "  Buildable now instead:", "  Steps:"):
        assert heading in lines
    assert any(line.startswith("  Cost: parts ") for line in lines)
    assert any(line.strip().startswith("total") and line.endswith("min") for line in lines)


def test_a_batch_plans_by_priority_then_due_date_with_a_summary() -> None:
    code, out, err = plan("--orders", ORDERS, "-f", "json")
    assert code == 1, err  # A-1022 has no valid assembly
    data = json.loads(out)
    orders = data["orders"]
    assert len(orders) == 36
    statuses = {o["order_id"]: o["status"] for o in orders}
    assert statuses["A-1022"] == "impossible"
    assert sum(s == "short" for s in statuses.values()) >= 5
    lines = [json.loads(line) for line in Path(ORDERS).read_text().splitlines()]
    by_id = {o["order_id"]: o for o in lines}
    keys = [
        (
            by_id[o["order_id"]].get("priority") is None,
            by_id[o["order_id"]].get("priority", 0),
            by_id[o["order_id"]]["due"],
            o["order_id"],
        )
        for o in orders
    ]
    assert keys == sorted(keys)
    # the purchase list adds up the shortages
    short: dict[str, int] = {}
    for order in orders:
        for s in order["shortages"]:
            short[s["sku"]] = short.get(s["sku"], 0) + s["qty"]
    assert {p["sku"]: p["qty"] for p in data["purchase_list"]} == short
    code, text, _ = plan("--orders", ORDERS)
    assert "36 orders: " in text and "Purchase list:" in text


def test_bad_orders_are_named_and_skipped(tmp_path: Path) -> None:
    good = Path(ORDERS).read_text().splitlines()[0]
    orders = tmp_path / "orders.jsonl"
    orders.write_text(
        good + "\n"
        '{"order_id": "B-1", "due": "2026-13-01", "request": {}}\n'
        '{"order_id": "B-2", "due": "2026-12-01", "request": {"select": {"gpu": "GPU-0"}}}\n'
        "not json\n"
    )
    code, out, err = plan("--orders", str(orders), "-f", "json")
    assert code == 2
    assert [o["order_id"] for o in json.loads(out)["orders"]] == ["A-1001"]
    assert "orders.jsonl:2:" in err and "error[E0809]" in err and "due must be a date" in err
    assert "orders.jsonl:3:" in err and "unknown part number 'GPU-0'" in err
    assert "orders.jsonl:4:1: error[E0809]" in err
    assert "Traceback" not in err


def test_bad_stock_is_named_at_its_row_and_nothing_is_planned(tmp_path: Path) -> None:
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,location,on_hand,reserved\nCPU-I3-14100,A-01,three,0\n")
    result = cli("plan", PC, "--stock", str(stock), "--set", "usage=office", in_process=True)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "stock.csv:2:19: error[E0805]: on_hand must be a whole number" in result.stderr


def test_bad_flags_exit_2_with_a_message() -> None:
    for args, message in (
        (["--set", "usage=office", "--today", "tomorrow"], "--today must be a date"),
        (["--set", "usage=office", "--labour-rate", "-3"], "--labour-rate must be"),
        (["--orders", ORDERS, "--set", "usage=office"], "either a request or --orders"),
        (["--set", "usage=office", "--replace"], "--replace goes with --reserve"),
    ):
        code, _, err = plan(*args)
        assert code == 2, args
        assert message in err
    result = cli("plan", PC, "--set", "usage=office", in_process=True)
    assert result.returncode == 2 and "--stock" in result.stderr


def test_an_impossible_request_exits_1() -> None:
    code, out, _ = plan("--set", "usage=cad", "--set", "tier=budget", "--require", "gpu == none")
    assert code == 1
    assert "IMPOSSIBLE" in out and "atoconf explain" in out


def run(*args: str) -> Ran:
    return cli(*args, in_process=True)


def _without_supply(tmp_path: Path, *skus: str) -> str:
    """The PC stock with the supply rows of `skus` deleted; the new stock.csv's path."""
    folder = CATALOGS / "pc"
    (tmp_path / "stock.csv").write_text((folder / "stock.csv").read_text())
    rows = (folder / "supply.csv").read_text().splitlines(keepends=True)
    kept = [r for r in rows if r.split(",")[0] not in skus]
    assert len(kept) == len(rows) - len(skus)
    (tmp_path / "supply.csv").write_text("".join(kept))
    return str(tmp_path / "stock.csv")


def _stock_row(stock: str, sku: str) -> int:
    lines = Path(stock).read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(f"{sku},"))


def test_a_part_without_supply_data_is_not_taken_for_free(tmp_path: Path) -> None:
    """Deleting the supply row of a dearer boot drive than the one chosen does not make
    the plan prefer it; pinned, it is planned, named as unpriced, left out of the cost,
    and warned about at its stock row."""
    chosen = json.loads(plan("--set", "usage=office", "-f", "json").stdout)["orders"][0]
    boot = chosen["assembly"]["components"]["boot"]["sku"]
    dearer = "SSD-NV-1TB-990P"
    assert boot != dearer
    stock = _without_supply(tmp_path, dearer)
    ran = run("plan", PC, "--stock", stock, "--today", "2026-11-26", "--set", "usage=office")
    assert ran.returncode == 0 and f"    boot    {boot}" in ran.stdout
    assert "W0802" not in ran.stderr  # the plan does not use it: nothing to warn about
    args = ("--today", "2026-11-26", "--set", "usage=office", "--set", f"boot={dearer}")
    ran = run("plan", PC, "--stock", stock, *args, "-f", "json")
    assert ran.returncode == 0
    (order,) = json.loads(ran.stdout)["orders"]
    assert order["assembly"]["components"]["boot"]["sku"] == dearer
    assert order["unpriced"] == [dearer]
    priced = json.loads(plan(*args[2:], "-f", "json").stdout)["orders"][0]
    assert order["assembly"] == priced["assembly"]
    cost = Decimal(priced["cost"]["parts"]) - Decimal(order["cost"]["parts"])
    assert cost == Decimal(_supply_cost(dearer))  # the cost counts the priced parts only
    row = _stock_row(stock, dearer)
    assert f"stock.csv:{row}:1: warning[W0802]: SKU '{dearer}' has no supply data" in ran.stderr
    text = run("plan", PC, "--stock", stock, *args)
    assert f"not counted, no supply cost: {dearer}" in text.stdout


def _supply_cost(sku: str) -> str:
    for line in (CATALOGS / "pc" / "supply.csv").read_text().splitlines():
        if line.startswith(f"{sku},"):
            return line.split(",")[2]
    raise AssertionError(sku)


def test_an_alternative_to_an_unpriced_assembly_has_no_price_delta(tmp_path: Path) -> None:
    """The 5090 is short and, without supply data, unpriced: the alternatives built now
    cannot say how much they save."""
    stock = _without_supply(tmp_path, "GPU-5090")
    args = ("--today", "2026-11-26", "--set", "usage=gaming", "--set", "gpu=GPU-5090")
    ran = run("plan", PC, "--stock", stock, *args, "-f", "json")
    (order,) = json.loads(ran.stdout)["orders"]
    assert order["status"] == "short" and order["unpriced"] == ["GPU-5090"]
    assert order["promise_date"] is None  # its lead time is not known either
    assert order["alternatives"]
    assert all(a["price_delta"] is None for a in order["alternatives"])
    text = run("plan", PC, "--stock", stock, *args).stdout
    assert "(cost not known: unpriced parts)" in text


def test_check_reports_a_stock_against_the_product(tmp_path: Path) -> None:
    stock = _without_supply(tmp_path, "SSD-NV-1TB-990P")
    with open(stock, "a") as extra:
        extra.write("SSD-NOT-A-PART,Z-01,1,0\n")
    ran = run("check", PC, "--stock", stock)
    assert ran.returncode == 0, ran.stdout  # warnings only
    row = _stock_row(stock, "SSD-NV-1TB-990P")
    assert f"stock.csv:{row}:1: warning[W0802]" in ran.stdout
    assert "warning[W0801]: SKU 'SSD-NOT-A-PART'" in ran.stdout
    assert run("check", PC, "--stock", stock, "--strict").returncode == 1
    found = json.loads(run("check", PC, "--stock", stock, "-f", "json").stdout)
    codes = sorted(d["code"] for d in found["diagnostics"])
    assert codes == ["W0801", "W0802"]
    # a part neither on a shelf nor in the supply data can never be planned
    lines = Path(stock).read_text().splitlines(keepends=True)
    Path(stock).write_text("".join(x for x in lines if not x.startswith("SSD-NV-1TB-990P,")))
    ran = run("check", PC, "--stock", stock)
    assert "warning[W0803]: part 'SSD-NV-1TB-990P' is on no shelf" in ran.stdout
    assert ran.stdout.count("warning[W0802]") == 0
    assert (
        run("check", PC, str(CATALOGS / "bike" / "bicycle.ato"), "--stock", stock).returncode == 2
    )
    assert run("check", PC, "--supply", str(tmp_path / "supply.csv")).returncode == 2
    assert run("check", PC, "--stock", str(tmp_path / "missing.csv")).returncode == 2


def test_the_pick_list_as_csv_matches_the_plan() -> None:
    """One line per order, SKU and location, in location order (then planning order),
    the same picks as the JSON plan, each with the part's name."""
    args = ("--orders", ORDERS)
    rows = list(csv.reader(io.StringIO(plan(*args, "-f", "csv").stdout)))
    assert rows[0] == ["order_id", "sku", "name", "location", "qty"]
    lines = rows[1:]
    orders = json.loads(plan(*args, "-f", "json").stdout)["orders"]
    expected = sorted(
        (p["location"], n, o["order_id"], p["sku"], p["qty"])
        for n, o in enumerate(orders)
        for p in o["picks"]
    )
    assert [(loc, oid, sku, int(q)) for oid, sku, _, loc, q in lines] == [
        (loc, oid, sku, q) for loc, _, oid, sku, q in expected
    ]
    model = atoconf.load(PC)
    assert all(name == model.parts[sku].name for _, sku, name, _, _ in lines)
    assert len({(oid, sku, loc) for oid, sku, _, loc, _ in lines}) == len(lines)


VOID = frozenset({"meta", "br", "img", "hr", "line", "input", "link"})  # never closed


class _Page(HTMLParser):
    """The tags of a page, checked to nest, with each table's rows as cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_the_html_report_is_one_self_contained_page_of_the_plan() -> None:
    args = ("--orders", ORDERS, "--capacity", "120")
    code, out, _ = plan(*args, "-f", "json")
    assert code == 1  # one order of the catalog's batch has no valid assembly
    data = json.loads(out)
    code, page, _ = plan(*args, "-f", "html")
    assert code == 1
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    assert parsed.open == []  # every tag closed, in order
    names = [tag for tag, _ in parsed.tags]
    assert "script" not in names and "link" not in names and "img" not in names
    # nothing is fetched: no source or link outside the page (the SVG's namespace
    # is a name, not a fetch)
    for tag, attrs in parsed.tags:
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
    bars = [(a["data-date"], int(a["data-minutes"] or 0)) for t, a in parsed.tags if t == "rect"]
    assert bars == [(d["date"], d["minutes"]) for d in data["load"]]
    (capacity,) = [a for t, a in parsed.tags if t == "line"]
    assert capacity["data-minutes"] == "120"
    orders, *rest = parsed.tables
    planned = data["orders"]
    expected = sorted(range(len(planned)), key=lambda i: (-(planned[i]["late_days"] or 0), i))
    assert [row[0] for row in orders[1:]] == [planned[i]["order_id"] for i in expected]
    assert any(o["late_days"] for o in planned)  # so the order above means something
    purchases = rest[-1]
    assert [row[:4] for row in purchases[1:]] == [
        [p["sku"], str(p["qty"]), p["needed_by"], p["order_by"] or ""]
        for p in data["purchase_list"]
    ]
    shortages = rest[0]
    assert len(shortages) - 1 == sum(len(o["shortages"]) for o in planned)


def test_an_alternative_that_changes_a_quantity_shows_it(tmp_path: Path) -> None:
    """The request pins the 32 GB stick, which is out of stock; two 16 GB sticks on the
    shelf are the alternative buildable now: its line says 'x2'."""
    (tmp_path / "ram.ato").write_text(
        "product ram\n"
        "type RAM { gb: int  price: decimal }\n"
        'parts RAM { "RAM16": gb=16, price=50  "RAM32": gb=32, price=80 }\n'
        "component memory: RAM qty 1..2\n"
        "rule enough: memory.qty * memory.gb >= 32\n"
    )
    (tmp_path / "stock.csv").write_text("sku,location,on_hand,reserved\nRAM16,A-01,4,0\n")
    (tmp_path / "supply.csv").write_text("sku,lead_days,unit_cost\nRAM16,2,40\nRAM32,3,60\n")
    ran = cli(
        "plan",
        str(tmp_path / "ram.ato"),
        "--stock",
        str(tmp_path / "stock.csv"),
        "--today",
        "2026-11-26",
        "--set",
        "memory=RAM32",
        in_process=True,
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "Order: SHORT"  # a single request has no order id of its own
    start = lines.index("  Buildable now instead:")
    assert lines[start + 1].startswith("    1. memory RAM16 x2 (+20.00)"), lines
