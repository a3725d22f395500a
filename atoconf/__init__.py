"""atoconf: a configuration engine for assemble-to-order manufacturing."""

from __future__ import annotations

from pathlib import Path

from atoconf.engine.configure import Configuration, Product, RequestError
from atoconf.engine.request import Request
from atoconf.engine.results import AssemblyResult, Chosen, CountResult, DomainsResult, SolveResult
from atoconf.language.build import LoadResult, load_file, load_text
from atoconf.language.diagnostics import Checked, Diagnostic, Severity
from atoconf.language.model import Model
from atoconf.language.source import Span
from atoconf.language.version import __version__
from atoconf.planning.calendar import Calendar, CalendarError, read_calendar
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
    return Product(result.model)


def loads(text: str, name: str = "<text>") -> Product:
    """`load` for rule text held in a string (it can import nothing); `name` is the file
    name its diagnostics give."""
    result = load_text(text, name)
    if result.model is None:
        raise RuleError(result)
    return Product(result.model)
