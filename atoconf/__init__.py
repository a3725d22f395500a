"""atoconf: a configuration engine for assemble-to-order manufacturing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from atoconf.changes.impact import Scope
from atoconf.changes.replay import replay
from atoconf.changes.report import DiffResult, compare
from atoconf.engine.clock import Clock
from atoconf.engine.configure import Configuration, Product, RequestError, as_model, configure
from atoconf.engine.request import Request
from atoconf.engine.results import AssemblyResult, Chosen, CountResult, DomainsResult, SolveResult
from atoconf.language.build import LoadResult, load_file, load_text
from atoconf.language.diagnostics import Checked, Diagnostic, Severity
from atoconf.language.model import Model
from atoconf.language.source import Span
from atoconf.language.version import __version__
from atoconf.planning.calendar import Calendar, CalendarError, read_calendar
from atoconf.planning.orders import read_orders
from atoconf.planning.plan import plan
from atoconf.planning.results import OrderPlan, PlanResult
from atoconf.planning.stock import Stock, StockDatabase, StockError

__all__ = [
    "AssemblyResult",
    "Calendar",
    "CalendarError",
    "Checked",
    "Chosen",
    "Configuration",
    "CountResult",
    "Diagnostic",
    "DiffResult",
    "DomainsResult",
    "LoadResult",
    "Model",
    "OrderPlan",
    "PlanResult",
    "Product",
    "Request",
    "RequestError",
    "RuleError",
    "Severity",
    "SolveResult",
    "Span",
    "Stock",
    "StockDatabase",
    "StockError",
    "__version__",
    "diff",
    "load",
    "loads",
    "plan",
    "read_calendar",
]


class RuleError(Exception):
    """Rule files with errors: `diagnostics` holds every one of them."""

    def __init__(self, result: LoadResult) -> None:
        self.diagnostics = [d for d in result.diagnostics if d.is_error]
        self.sources = result.sources
        first = self.diagnostics[0] if self.diagnostics else None
        summary = (
            f"{first.span}: {first.message}"
            if first and first.span
            else (first.message if first else "errors")
        )
        more = len(self.diagnostics) - 1
        super().__init__(summary + (f" (and {more} more)" if more > 0 else ""))


def load(path: str | Path) -> Product:
    """The loader: a rule file and what it imports, as a Product to configure and plan
    with; raises RuleError listing every error. (`atoconf check` reports the warnings
    too; `atoconf.language.build.load_file` returns every diagnostic without raising.)"""
    result = load_file(path)
    if result.model is None:
        raise RuleError(result)
    return Product(result.model, result.sources)


def loads(text: str, name: str = "<text>") -> Product:
    """`load` for rule text held in a string (it can import nothing); `name` is the file
    name its diagnostics give."""
    result = load_text(text, name)
    if result.model is None:
        raise RuleError(result)
    return Product(result.model, result.sources)


def diff(
    old: Model | Product,
    new: Model | Product,
    request: Request | Mapping[str, Any] | None = None,
    orders: str | None = None,
    stock: Stock | None = None,
    today: date | None = None,
    deadline: float = 60.0,
) -> DiffResult:
    """What the new version of a product does differently from the old, as `atoconf
    diff` reports it: the declarations that differ, the valid assemblies before and
    after with those lost and gained (the cheapest of each), the values that became
    dead or came alive, and the tests whose verdict changes; within `request`'s
    assemblies when given. With `orders` (the text of an orders file, JSON lines) and
    `stock`, the orders whose plan changes. Raises atoconf.RequestError for a request
    or orders the old version cannot read (orders only the new one cannot read are
    listed as changed, with why)."""
    if (orders is None) != (stock is None):
        raise ValueError("orders and stock go together: the batch and the stock it is planned on")
    before, after = as_model(old), as_model(new)
    scope = None
    if request is not None:
        was = configure(before, request).request
        now = configure(after, request).request
        scope = Scope.of(was, now)
    if orders is not None:
        read = read_orders(before, orders, "orders")
        if read.diagnostics or read.value is None:
            raise RequestError(read.diagnostics, dict(read.sources))
        now_read = read_orders(after, orders, "orders")
    found = compare(before, after, _sources(old), _sources(new), Clock(deadline), scope)
    if orders is not None and stock is not None:
        assert read.value is not None and now_read.value is not None
        changes = replay(
            before, after, read.value, now_read.value, now_read.diagnostics, stock,
            today or date.today(),
        )  # fmt: skip
        found = replace(found, orders=changes, planned=len(read.value))
    return found


def _sources(model: Model | Product) -> Mapping[str, Any]:
    """The text of a product's files as loaded (none for a bare Model)."""
    return model.sources if isinstance(model, Product) else {}
