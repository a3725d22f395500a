"""The command line of stock and plans: `atoconf plan` and `atoconf stock ...`."""

from __future__ import annotations

import csv
import io
import sys
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from atoconf.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    Command,
    DeadlineOpt,
    FileArg,
    Group,
    RequestArg,
    RequireOpt,
    SetOpt,
    app,
    checked_request,
    emit_json,
    fail_usage,
    load_or_exit,
    parse_today,
    progress,
    stock_errors,
    stock_or_exit,
)
from atoconf.language.diagnostics import Diagnostic, plural, render_text
from atoconf.language.model import Model, shown
from atoconf.language.source import SourceFile, read_source
from atoconf.planning.calendar import CalendarError, read_calendar
from atoconf.planning.orders import read_orders, single_order
from atoconf.planning.plan import plan_and_reserve, plan_orders
from atoconf.planning.planner import Planner
from atoconf.planning.report import html_report
from atoconf.planning.results import OrderPlan, PlanResult
from atoconf.planning.shelves import Shelves
from atoconf.planning.stock import (
    Pick,
    StockDatabase,
    is_database,
    read_receipts_csv,
    unknown_skus,
    unpriced_skus,
)

stock_app = typer.Typer(
    cls=Group,
    help="Keep stock in a database: init, import, receive, show, release, consume.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(stock_app, name="stock")


class PlanFormat(StrEnum):
    text = "text"
    json = "json"


class PlanOutput(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"  # the pick list
    html = "html"  # a report page


ModelOpt = Annotated[
    Path | None, typer.Option("--model", help="Warn about SKUs this rule file lacks.")
]
DatabaseArg = Annotated[
    str, typer.Argument(help="SQLite file (stock.db) or database URL.", show_default=False)
]


def _database_or_exit(spec: str, schema: bool = True) -> StockDatabase:
    with stock_errors():
        database = StockDatabase(spec)
        if schema:
            database.check_schema()
        return database


def _warn(diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
    if diagnostics:
        sys.stderr.write(render_text(diagnostics, sources))


@app.command(cls=Command)
def plan(
    file: FileArg,
    request_file: RequestArg = None,
    stock: Annotated[
        str,
        typer.Option(
            "--stock",
            help="stock.csv (supply.csv beside it), an SQLite file or a database URL.",
            show_default=False,
        ),
    ] = "",
    supply: Annotated[
        Path | None, typer.Option(help="supply.csv, when not beside stock.csv.")
    ] = None,
    orders_file: Annotated[
        Path | None, typer.Option("--orders", help="Orders, one JSON object per line.")
    ] = None,
    sets: SetOpt = None,
    requires: RequireOpt = None,
    minimize: Annotated[str | None, typer.Option(help="Objective instead of cost.")] = None,
    maximize: Annotated[str | None, typer.Option(help="Objective instead of cost.")] = None,
    reserve: Annotated[
        bool, typer.Option("--reserve", help="Record the picks in the stock database.", metavar="")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="With --reserve: replace earlier reservations.", metavar=""),
    ] = False,
    skip_reserved: Annotated[
        bool,
        typer.Option(
            "--skip-reserved",
            help="With --reserve: keep orders that already hold units as they were planned "
            "(a batch run again).",
            metavar="",
        ),
    ] = False,
    order_id: Annotated[
        str | None,
        typer.Option(
            "--order-id",
            help="The id of a single request's order [default: request]; needed to reserve.",
        ),
    ] = None,
    today: Annotated[
        str | None, typer.Option(help="Plan as of this date (YYYY-MM-DD) [default: today].")
    ] = None,
    labour_rate: Annotated[str, typer.Option("--labour-rate", help="Labour cost per hour.")] = "0",
    workday: Annotated[
        int, typer.Option("--workday-minutes", help="Assembly minutes in one working day.")
    ] = 480,
    capacity: Annotated[
        int | None,
        typer.Option(
            "--capacity",
            help="Assembly minutes per working day for the whole shop: orders take them "
            "first-fit in planning order [default: unlimited].",
        ),
    ] = None,
    calendar_file: Annotated[
        Path | None,
        typer.Option(
            "--calendar",
            help="Working weekdays and holidays (TOML) [default: Monday to Friday].",
        ),
    ] = None,
    deadline: DeadlineOpt = None,
    output_format: Annotated[
        PlanOutput,
        typer.Option(
            "--format",
            "-f",
            help="Output format: the work orders (text), json, the pick list (csv), or a "
            "report page (html: one self-contained file).",
        ),
    ] = PlanOutput.text,
) -> None:
    """Plan orders against stock: the assembly to build, picks, shortages and promise
    date, steps and cost. A request (file or --set/--require), or --orders.
    `--format csv` prints the pick list: one line per order, SKU and location;
    `--format html` a report page (summary, load chart, late orders first, shortages,
    purchase list) to save and open in a browser.

    Exit 0 when every order has a plan, 1 when some order has no valid assembly,
    2 on bad input (bad orders are reported and skipped; the rest are planned).
    """
    if not stock:
        fail_usage("give the stock: --stock stock.csv (or an SQLite file or database URL)")
    if orders_file is not None and (request_file or sets or requires or minimize or maximize):
        fail_usage("give either a request or --orders, not both")
    if replace and not reserve:
        fail_usage("--replace goes with --reserve")
    if skip_reserved and not reserve:
        fail_usage("--skip-reserved goes with --reserve")
    if skip_reserved and replace:
        fail_usage("give --replace (plan reserved orders again) or --skip-reserved (keep them)")
    if reserve and not is_database(stock):
        fail_usage(
            "--reserve records picks in a stock database; import the CSV into one first: "
            "atoconf stock init stock.db && atoconf stock import stock.db stock.csv supply.csv"
        )
    if reserve and orders_file is None and order_id is None:
        fail_usage(
            "--reserve of a single request needs the order it is for: --order-id ID "
            "(the same id later releases or consumes it)"
        )
    if order_id is not None and orders_file is not None:
        fail_usage("--order-id names a single request's order; --orders give their own ids")
    day = parse_today(today)
    rate = _parse_rate(labour_rate)
    if workday < 0:
        fail_usage("--workday-minutes must be 0 or more")
    if capacity is not None and capacity <= 0:
        fail_usage("--capacity must be 1 minute a day or more")
    bad_input = False
    if orders_file is not None:
        model = load_or_exit(file).model
        assert model is not None
        source = read_source(orders_file)
        if isinstance(source, str):
            fail_usage(f"{orders_file}: {source}")
        read = read_orders(model, source.text, source.name)
        orders = read.value or []
        if read.diagnostics:
            bad_input = True
            sys.stderr.write(render_text(read.diagnostics, read.sources))
    else:
        model, request = checked_request(file, request_file, sets, requires, minimize, maximize)
        orders = [single_order(request, order_id or "request")]
    stock_data = stock_or_exit(stock, supply)
    _warn(unknown_skus(stock_data, model), stock_data.sources)
    calendar = None
    if calendar_file is not None:
        try:
            calendar = read_calendar(calendar_file)
        except CalendarError as exc:
            sys.stderr.write(render_text(exc.diagnostics, exc.sources))
            raise typer.Exit(EXIT_BAD_INPUT) from None
    planner = Planner(model, stock_data, day, rate, workday, deadline, calendar, capacity)
    with progress("orders planned", total=len(orders)) as advance:
        if reserve:
            database = _database_or_exit(stock)
            with stock_errors():
                reserved = plan_and_reserve(
                    planner, orders, database, replace, skip_reserved, tick=advance
                )
            if reserved.diagnostics:
                # an order refused is an error; one kept without its plan, a warning
                bad_input = bad_input or any(d.is_error for d in reserved.diagnostics)
                sys.stderr.write(render_text(reserved.diagnostics, reserved.sources))
            assert reserved.value is not None
            result = reserved.value
        else:
            result = plan_orders(planner, orders, Shelves(stock_data), tick=advance)
    _warn(unpriced_skus(stock_data, _used(result)), stock_data.sources)
    if output_format is PlanOutput.json:
        emit_json(result.to_json())
    elif output_format is PlanOutput.csv:
        sys.stdout.write(pick_list(model, result))
    elif output_format is PlanOutput.html:
        sys.stdout.write(html_report(result, model.product))
    else:
        named = orders_file is not None or order_id is not None
        sys.stdout.write(render_plan(model, result, batch=orders_file is not None, named=named))
    if bad_input:
        raise typer.Exit(EXIT_BAD_INPUT)
    if any(o.status == "impossible" for o in result.orders):
        raise typer.Exit(EXIT_FAILED)


def _used(result: PlanResult) -> set[str]:
    """The SKUs of every planned assembly and alternative."""
    assemblies = [o.assembly for o in result.orders] + [
        a.assembly for o in result.orders for a in o.alternatives
    ]
    return {c.sku for a in assemblies if a is not None for c in a.components.values() if c}


def _parse_rate(text: str) -> Decimal:
    try:
        rate = Decimal(text)
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or rate < 0:
        fail_usage(f"--labour-rate must be an amount per hour such as 45.00, not '{text}'")
    return rate


# ---- the plan as text: a work order per order ---------------------------------------


def render_plan(model: Model, result: PlanResult, batch: bool, named: bool = True) -> str:
    """Each order as a work order (assembly, picks, shortages, steps, cost), headed by its
    id when it has one of its own (`named`), then for a batch the summary and the
    purchase list."""
    blocks = [_render_order(model, order, named) for order in result.orders]
    if batch or len(result.orders) != 1:
        counts = result.counts
        blocks.append(
            f"{plural(len(result.orders), 'order')}: {counts['buildable']} buildable now, "
            f"{counts['short']} short, {counts['impossible']} impossible; "
            f"{result.late} late"
        )
    if result.load:
        lines = ["Assembly load (minutes booked / capacity):"]
        for load in result.load:
            lines.append(f"  {load.date}  {load.minutes:>5} / {load.capacity}")
        blocks.append("\n".join(lines))
    if result.purchase_list:
        lines = ["Purchase list:"]
        width = max(len(p.sku) for p in result.purchase_list)
        for line in result.purchase_list:
            order_by = ""
            if line.order_by is not None:
                order_by = f", order by {line.order_by}" + (" (PAST)" if line.past else "")
            lines.append(
                f"  {line.sku:<{width}}  x{line.qty:<3} needed by {line.needed_by}{order_by}"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def pick_list(model: Model, result: PlanResult) -> str:
    """The picks as CSV for the warehouse: one line per order, SKU and location
    (`order_id,sku,name,location,qty`), in location order, then planning order."""
    lines = sorted(
        (pick.location, n, pick.sku, order.order_id, pick.qty)
        for n, order in enumerate(result.orders)
        for pick in order.picks
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["order_id", "sku", "name", "location", "qty"])
    for location, _, sku, order_id, qty in lines:
        writer.writerow([order_id, sku, model.parts[sku].name, location, qty])
    return out.getvalue()


def _render_order(model: Model, order: OrderPlan, named: bool = True) -> str:
    due = f", due {order.due}" if order.due else ""
    late = f" -- LATE by {order.late_days} working days" if order.late_days else ""
    kept = " (reserved earlier, kept as planned)" if order.kept else ""
    title = f"Order {order.order_id}" if named else "Order"
    head = f"{title}: {order.status.upper()}{due}{late}{kept}"
    if order.status == "impossible" or order.assembly is None:
        reason = f" (stopped at the {order.stopped})" if order.stopped else ""
        return (
            f"{head}\n  no valid assembly satisfies this request{reason}; "
            "run `atoconf explain` with it to see which rules conflict"
        )
    lines = [head]
    if order.promise_date:
        word = "Ready" if order.status == "buildable" else "Promise date"
        lines.append(f"  {word}: {order.promise_date}")
    elif order.status == "short":
        lines.append("  Promise date: unknown (a short part has no supply lead time)")
    lines.append("  Assembly:")
    width = max(len(n) for n in model.components)
    for name, chosen in order.assembly.components.items():
        if chosen is None:
            continue
        part = model.parts[chosen.sku]
        qty = f" x{chosen.qty}" if chosen.qty != 1 else ""
        lines.append(f"    {name:<{width}}  {chosen.sku}{qty}  {part.name}")
    options = ", ".join(f"{k}={shown(v)}" for k, v in order.assembly.options.items())
    if options:
        lines.append(f"    options: {options}")
    if order.picks:
        lines.append("  Picks:")
        sku_w = max(len(p.sku) for p in order.picks)
        for pick in order.picks:
            lines.append(f"    {pick.sku:<{sku_w}}  x{pick.qty:<3} from {pick.location}")
    if order.shortages:
        lines.append("  Short:")
        sku_w = max(len(s.sku) for s in order.shortages)
        for short in order.shortages:
            lead = f"{short.lead_days} days lead" if short.lead_days is not None else "no lead"
            lines.append(f"    {short.sku:<{sku_w}}  x{short.qty:<3} {lead}")
    if order.alternatives:
        lines.append("  Buildable now instead:")
        for n, alt in enumerate(order.alternatives, start=1):
            changed = [
                f"{name} " + ("none" if c is None else c.sku + (f" x{c.qty}" if c.qty != 1 else ""))
                for name, c in alt.assembly.components.items()
                if c != order.assembly.components.get(name)
            ] + [
                f"{name}={shown(v)}"
                for name, v in alt.assembly.options.items()
                if v != order.assembly.options.get(name)
            ]
            if alt.price_delta is None:
                delta = "cost not known: unpriced parts"
            else:
                delta = f"{alt.price_delta:+}"
            lines.append(f"    {n}. {', '.join(changed) or 'same parts'} ({delta})")
    if order.steps:
        lines.append("  Steps:")
        name_w = max(len(s.name) for s in order.steps)
        for n, step in enumerate(order.steps, start=1):
            title = f"  {step.title}" if step.title else ""
            lines.append(f"    {n:>2}. {step.name:<{name_w}} {step.minutes:>4} min{title}")
        total = sum(s.minutes for s in order.steps)
        lines.append(f"        {'total':<{name_w}} {total:>4} min")
    if order.cost:
        cost = order.cost
        lines.append(f"  Cost: parts {cost.parts} + labour {cost.labour} = {cost.total}")
        if order.unpriced:
            lines.append(f"        not counted, no supply cost: {', '.join(order.unpriced)}")
    return "\n".join(lines)


# ---- atoconf stock ---------------------------------------------------------------------


@stock_app.command("init", cls=Command)
def stock_init(database: DatabaseArg) -> None:
    """Create the stock schema in a database (or migrate an older one)."""
    db = _database_or_exit(database, schema=False)
    with stock_errors():
        version = db.init()
    typer.echo(f"{database}: stock schema {version}", err=True)


@stock_app.command("import", cls=Command)
def stock_import(
    database: DatabaseArg,
    stock_csv: Annotated[Path, typer.Argument(help="stock.csv", show_default=False)],
    supply_csv: Annotated[
        Path | None, typer.Argument(help="supply.csv [default: beside stock.csv]")
    ] = None,
    model_file: ModelOpt = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="A full stocktake: shelves the file does not list drop to zero.",
            metavar="",
        ),
    ] = False,
) -> None:
    """Load stock and supply from CSV in one transaction: a bad row imports nothing.
    Each listed shelf's counts are set, reservations made by plans kept on top;
    the SKUs' supply rows are replaced. With --replace, shelves the file does not
    list drop to zero, refused where orders hold units there."""
    db = _database_or_exit(database)
    data = stock_or_exit(str(stock_csv), supply_csv)
    if model_file is not None:
        model = load_or_exit(model_file).model
        assert model is not None
        _warn(unknown_skus(data, model), data.sources)
    with stock_errors():
        shelves, supplies = db.import_csv(data, replace)
    typer.echo(f"{database}: imported {shelves} stock rows and {supplies} supply rows", err=True)


@stock_app.command("receive", cls=Command)
def stock_receive(
    database: DatabaseArg,
    receipts: Annotated[
        Path, typer.Argument(help="A CSV of sku,location,qty booked in.", show_default=False)
    ],
    model_file: ModelOpt = None,
) -> None:
    """Book goods in: each row's qty is added to its shelf's on hand (a known SKU at a
    known location may start a new shelf), in one transaction; a bad row, a SKU the
    stock does not know (nor the --model) or a location without a shelf books nothing in."""
    db = _database_or_exit(database)
    with stock_errors():
        read = read_receipts_csv(receipts)
    parts: list[str] = []
    if model_file is not None:
        model = load_or_exit(model_file).model
        assert model is not None
        _warn(read.unknown(model), read.sources)
        parts = list(model.parts)
    with stock_errors():
        units = db.receive(read, parts)
    typer.echo(f"{database}: booked in {units} units on {len(read.picks)} shelves", err=True)


@stock_app.command("consume", cls=Command)
def stock_consume(
    database: DatabaseArg,
    order_id: Annotated[str, typer.Argument(help="The order built.", show_default=False)],
) -> None:
    """Take the units an order holds off the shelves once it is built. Exit 1 when it
    holds none."""
    db = _database_or_exit(database)
    with stock_errors():
        consumed = db.consume(order_id)
    _said(consumed, order_id, "took {units} units of order '{order}' off the shelves")


def _said(picks: list[Pick], order_id: str, done: str) -> None:
    """What a release or consume did; exit 1 when the order held nothing."""
    if not picks:
        typer.echo(f"order '{order_id}' holds no reservation", err=True)
        raise typer.Exit(EXIT_FAILED)
    typer.echo(done.format(units=sum(p.qty for p in picks), order=order_id), err=True)


@stock_app.command("show", cls=Command)
def stock_show(
    database: DatabaseArg,
    sku: Annotated[str | None, typer.Option(help="Only SKUs containing this text.")] = None,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="Output format.")
    ] = PlanFormat.text,
) -> None:
    """Stock per SKU and location (on hand, reserved, available) and the reservations."""
    db = _database_or_exit(database)
    data = stock_or_exit(database, None)
    shelves = [s for k, s in sorted(data.shelves.items()) if sku is None or sku in k[0]]
    orders = db.orders()
    if output_format is PlanFormat.json:
        emit_json(
            {
                "version": 1,
                "stock": [
                    {
                        "sku": s.sku,
                        "location": s.location,
                        "on_hand": s.on_hand,
                        "reserved": s.reserved,
                        "available": s.available,
                    }
                    for s in shelves
                ],
                "reservations": [
                    {"order_id": o, "sku": p.sku, "location": p.location, "qty": p.qty}
                    for o, picks in orders.items()
                    for p in picks
                    if sku is None or sku in p.sku
                ],
            }
        )
        return
    width = max([len(s.sku) for s in shelves] + [3])
    lines = [f"{'sku':<{width}}  location  on_hand  reserved  available"]
    for s in shelves:
        lines.append(
            f"{s.sku:<{width}}  {s.location:<8}  {s.on_hand:>7}  {s.reserved:>8}  {s.available:>9}"
        )
    holds = "order holds a reservation" if len(orders) == 1 else "orders hold reservations"
    lines.append(f"\n{len(orders)} {holds}")
    for order_id, picks in orders.items():
        held = ", ".join(f"{p.qty} x {p.sku} at {p.location}" for p in picks)
        lines.append(f"  {order_id}: {held}")
    sys.stdout.write("\n".join(lines) + "\n")


@stock_app.command("release", cls=Command)
def stock_release(
    database: DatabaseArg,
    order_id: Annotated[str, typer.Argument(help="The order to release.", show_default=False)],
) -> None:
    """Give back every unit an order holds. Exit 1 when it holds none."""
    db = _database_or_exit(database)
    with stock_errors():
        released = db.release(order_id)
    _said(released, order_id, "released {units} units held by order '{order}'")
