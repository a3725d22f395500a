"""Orders to plan: a batch read from JSON lines (each bad line located), or one request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from atoconf.engine.request import (
    ResolvedRequest,
    _key_offsets,
    locate_in_json,
    request_from_json,
    resolve_request,
)
from atoconf.language.diagnostics import Checked, Diagnostic, error
from atoconf.language.model import (
    Model,
)
from atoconf.language.source import SourceFile, Span

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


def read_orders(model: Model, text: str, name: str) -> Checked[list[Order]]:
    """The orders of a JSON-lines file; a bad line is reported (file:line:col) and
    skipped, so the value holds the good orders even when there are errors."""
    orders: list[Order] = []
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {name: SourceFile(name, text)}
    lines = text.split("\n")
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        read = _read_order(model, line, name, number)
        if read.diagnostics:  # again, the line at its own place in the file, for the positions
            masked = "\n" * (number - 1) + line
            read = _read_order(model, masked, name, number)
        diagnostics += read.diagnostics
        sources.update(read.sources)
        order = read.value
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
    return Checked(orders, diagnostics, sources)


def _order_error(message: str, span: Span | None, hint: str | None) -> Diagnostic:
    return error("E0809", message, span, hint=hint)


def _line_span(name: str, number: int, line: str) -> Span:
    return Span(file=name, line=number, col=1, end_line=number, end_col=max(2, len(line) + 1))


def _read_order(model: Model, masked: str, name: str, number: int) -> Checked[Order]:
    source = SourceFile(name, masked)
    line = masked.rsplit("\n", 1)[-1]
    whole = _line_span(name, number, line)
    try:
        data = json.loads(masked)
    except json.JSONDecodeError as exc:
        span = Span(
            file=name, line=exc.lineno, col=exc.colno, end_line=exc.lineno, end_col=exc.colno + 1
        )
        problem = _order_error(
            f"the order is not valid JSON: {exc.msg}", span, "write one JSON object per line"
        )
        return Checked(None, [problem])
    hint = 'write {"order_id": "A-1", "due": "2026-12-01", "request": {...}}'
    if not isinstance(data, dict):
        return Checked(None, [_order_error("an order must be a JSON object", whole, hint)])
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
            _order_error(
                "the order needs a request object, as a request file holds", at("request"), hint
            )
        )
    if problems:
        return Checked(None, problems)
    # the request's own text, at its place in the file, so errors point into the file
    start = offsets[("request",)][0][1]
    begin = masked.index("{", masked.index(":", start))
    _, end = json.JSONDecoder().raw_decode(masked, begin)
    request_text = "".join(c if c == "\n" else " " for c in masked[:begin]) + masked[begin:end]
    parsed = request_from_json(request_text, name)
    if parsed.value is None:
        return Checked(None, parsed.diagnostics)
    resolved = resolve_request(model, parsed.value)
    if resolved.value is None:
        located = locate_in_json(resolved.diagnostics, SourceFile(name, request_text))
        return Checked(None, [d for d in located if d.is_error], resolved.sources)
    assert isinstance(order_id, str)
    order = Order(order_id, resolved.value, due, priority, number, name)
    return Checked(order, [])


def single_order(request: ResolvedRequest, order_id: str = "request") -> Order:
    return Order(order_id, request)
