"""A plan as one self-contained HTML page for a production manager: the summary, the
assembly minutes per working day against capacity (inline SVG), late orders first,
shortages, and the purchase list with order-by dates. No external assets, no script."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape

from atoconf.planning.results import OrderPlan, PlanResult

CHART_WIDTH = 720
CHART_HEIGHT = 220
_MARGIN = 40  # room for the axis labels

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.1rem; margin-top: 2rem; }
p.meta { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; margin-top: 0.5rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: 0.3rem 0.8rem; text-align: left; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.late td { background: #ffebe9; }
tr.past td { background: #fff8c5; }
ul.summary { list-style: none; padding: 0; display: flex; gap: 1.5rem; flex-wrap: wrap; }
ul.summary li { background: #f6f8fa; border-radius: 6px; padding: 0.5rem 0.9rem; }
ul.summary b { display: block; font-size: 1.3rem; }
svg text { font-size: 11px; fill: #57606a; }
rect.over { fill: #cf222e; }
rect.load { fill: #0969da; }
line.capacity { stroke: #cf222e; stroke-dasharray: 6 4; stroke-width: 1.5; }
"""


def html_report(result: PlanResult, product: str | None) -> str:
    """The whole page."""
    title = f"Plan for {product or 'the product'} as of {result.today.isoformat()}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{_STYLE}</style></head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        _summary(result),
        "<h2>Assembly minutes per working day</h2>",
        _chart(result),
        "<h2>Orders, late first</h2>",
        _orders(result.orders),
        "<h2>Shortages</h2>",
        _shortages(result.orders),
        "<h2>Purchase list</h2>",
        _purchases(result),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _summary(result: PlanResult) -> str:
    counts = result.counts
    total = sum((o.cost.total for o in result.orders if o.cost is not None), Decimal(0))
    items = [
        ("orders", str(len(result.orders))),
        ("buildable now", str(counts["buildable"])),
        ("short", str(counts["short"])),
        ("impossible", str(counts["impossible"])),
        ("late", str(result.late)),
        ("cost of the planned assemblies", f"{total:.2f}"),
        ("parts to buy", str(sum(p.qty for p in result.purchase_list))),
    ]
    cells = "".join(f"<li><b>{escape(v)}</b>{escape(k)}</li>" for k, v in items)
    return f'<ul class="summary">{cells}</ul>'


def _minutes_by_day(result: PlanResult) -> tuple[list[tuple[date, int]], int | None]:
    """Per working day the minutes booked, and the capacity (None: none was given;
    each order's minutes then fall on its ready or promise date)."""
    if result.load:
        return [(d.date, d.minutes) for d in result.load], result.load[0].capacity
    by_day: dict[date, int] = {}
    for order in result.orders:
        if order.promise_date is not None:
            minutes = sum(s.minutes for s in order.steps)
            by_day[order.promise_date] = by_day.get(order.promise_date, 0) + minutes
    return sorted(by_day.items()), None


def _chart(result: PlanResult) -> str:
    days, capacity = _minutes_by_day(result)
    if not days:
        return "<p>No assembly is planned.</p>"
    top = max([m for _, m in days] + [capacity or 0, 1])
    inner_w, inner_h = CHART_WIDTH - 2 * _MARGIN, CHART_HEIGHT - 2 * _MARGIN
    step = inner_w / len(days)
    bar = max(step * 0.7, 1.0)
    shapes = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" '
        f'height="{CHART_HEIGHT}" role="img" aria-label="assembly minutes per working day">'
    ]
    base = CHART_HEIGHT - _MARGIN
    for i, (day, minutes) in enumerate(days):
        height = inner_h * minutes / top
        x = _MARGIN + i * step + (step - bar) / 2
        kind = "over" if capacity is not None and minutes > capacity else "load"
        shapes.append(
            f'<rect class="{kind}" data-date="{day.isoformat()}" data-minutes="{minutes}" '
            f'x="{x:.1f}" y="{base - height:.1f}" width="{bar:.1f}" height="{height:.1f}">'
            f"<title>{day.isoformat()}: {minutes} minutes</title></rect>"
        )
        shapes.append(
            f'<text x="{x + bar / 2:.1f}" y="{base + 14}" text-anchor="middle">'
            f"{day.strftime('%d %b')}</text>"
        )
    if capacity is not None:
        y = base - inner_h * capacity / top
        shapes.append(
            f'<line class="capacity" data-minutes="{capacity}" x1="{_MARGIN}" '
            f'y1="{y:.1f}" x2="{CHART_WIDTH - _MARGIN}" y2="{y:.1f}"/>'
        )
        shapes.append(f'<text x="{_MARGIN}" y="{y - 4:.1f}">capacity {capacity} min</text>')
    if top != capacity:  # the scale's top, unless the capacity line already says it
        shapes.append(f'<text x="{_MARGIN}" y="{_MARGIN - 10}">{top} min</text>')
    shapes.append("</svg>")
    note = (
        ""
        if capacity is not None
        else "<p>No capacity was given: each order's minutes are shown on its ready day.</p>"
    )
    return "\n".join(shapes) + note


def _row(cells: list[str], numeric: set[int], css: str = "") -> str:
    tds = "".join(
        f'<td class="num">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
        for i, c in enumerate(cells)
    )
    return f'<tr class="{css}">{tds}</tr>' if css else f"<tr>{tds}</tr>"


def _table(head: list[str], rows: list[str]) -> str:
    ths = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _orders(orders: list[OrderPlan]) -> str:
    if not orders:
        return "<p>No orders.</p>"
    # late orders first, the latest first; the others in planning order
    ranked = sorted(enumerate(orders), key=lambda o: (-(o[1].late_days or 0), o[0]))
    rows = []
    for _, order in ranked:
        cells = [
            order.order_id,
            order.status + (" (kept)" if order.kept else ""),
            _day(order.due),
            _day(order.promise_date),
            "" if order.late_days is None else str(order.late_days),
            str(sum(s.minutes for s in order.steps)),
            "" if order.cost is None else f"{order.cost.total:.2f}",
        ]
        rows.append(_row(cells, {4, 5, 6}, "late" if order.late else ""))
    head = ["order", "status", "due", "ready or promised", "late days", "minutes", "cost"]
    return _table(head, rows)


def _shortages(orders: list[OrderPlan]) -> str:
    rows = [
        _row(
            [o.order_id, s.sku, str(s.qty), "unknown" if s.lead_days is None else str(s.lead_days)],
            {2, 3},
        )
        for o in orders
        for s in o.shortages
    ]
    if not rows:
        return "<p>Every planned order is covered by the shelves.</p>"
    return _table(["order", "SKU", "units short", "lead days"], rows)


def _purchases(result: PlanResult) -> str:
    if not result.purchase_list:
        return "<p>Nothing to buy.</p>"
    rows = [
        _row(
            [
                p.sku,
                str(p.qty),
                p.needed_by.isoformat(),
                _day(p.order_by),
                "PAST: order now" if p.past else "",
            ],
            {1},
            "past" if p.past else "",
        )
        for p in result.purchase_list
    ]
    return _table(["SKU", "units", "needed by", "order by", ""], rows)


def _day(day: date | None) -> str:
    return "" if day is None else day.isoformat()
