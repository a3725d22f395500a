"""The embedding API: a model plus one customer's request (`model.configure(...)`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from atoconf.engine.clock import Clock
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.explain import Explanation, explain
from atoconf.engine.request import Request, ResolvedRequest, request_from_json, resolve_request
from atoconf.engine.results import CountResult, DomainsResult
from atoconf.engine.solve import Solutions, count, domains, solve
from atoconf.language.context import did_you_mean
from atoconf.language.diagnostics import Diagnostic
from atoconf.language.model import Expr, Model, Value
from atoconf.language.source import SourceFile
from atoconf.language.typecheck import typed_expression


class RequestError(Exception):
    """A request with bad items: `diagnostics` names every one of them."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
        self.diagnostics = [d for d in diagnostics if d.is_error]
        self.sources = sources
        said = [d.message + (f" ({d.hint})" if d.hint else "") for d in self.diagnostics]
        super().__init__("; ".join(said) or "bad request")


class Configuration:
    """A model narrowed by a request. Immutable; each call starts its own search, so one
    Configuration (and one Model) may serve many threads."""

    def __init__(self, model: Model, request: ResolvedRequest) -> None:
        self.model = model
        self.request = request

    @property
    def _requires(self) -> list[Expr]:
        return [expr for _, expr in self.request.requires]

    def _clock(self, deadline: float | None) -> Clock:
        """The one clock of an operation: its deadline, else the request's."""
        return Clock(deadline if deadline is not None else self.request.deadline)

    def _objective(self, text: str, field: str) -> Expr:
        typed = typed_expression(self.model, text, field)
        expr = typed.value
        if expr is None or not typed.ok or not expr.type.is_number:
            raise RequestError(typed.diagnostics, typed.sources)
        return expr

    def solve(
        self,
        minimize: str | None = None,
        maximize: str | None = None,
        limit: int | None = None,
        deadline: float | None = None,
        defaults: bool = True,
    ) -> Solutions:
        """Valid assemblies, streamed, best first when there is an objective (the
        request's own objective, limit and deadline apply unless given here). Option
        defaults and the search share the deadline; when it ends the stream early,
        the stream's `stopped` says so."""
        objective = self.request.objective
        low = self._objective(minimize, "minimize") if minimize else None
        high = self._objective(maximize, "maximize") if maximize else None
        if low is None and high is None and objective is not None:
            low, high = objective.minimize, objective.maximize
        return solve(
            self.model,
            self.request.selects,
            self._requires,
            minimize=low,
            maximize=high,
            limit=limit if limit is not None else self.request.limit,
            clock=self._clock(deadline),
            defaults=defaults,
        )

    def count(
        self, deadline: float | None = None, defaults: bool = False, cap: int | None = None
    ) -> CountResult:
        """The exact number of valid assemblies; past `cap`, stops and says so."""
        return count(
            self.model,
            self.request.selects,
            self._requires,
            clock=self._clock(deadline),
            defaults=defaults,
            cap=cap,
        )

    def explain(
        self,
        max_conflicts: int = 1,
        blame: Literal["request", "rules"] = "request",
        deadline: float | None = None,
    ) -> Explanation:
        """Why this request has no valid assembly: minimal conflicts (with their rules'
        locations) and repairs; `satisfiable` is True when it has one."""
        return explain(
            self.model,
            self.request,
            max_conflicts=max_conflicts,
            blame=blame,
            clock=self._clock(deadline),
        )

    def why(self, name: str, value: Value, deadline: float | None = None) -> Explanation:
        """Why `name` cannot be `value` under this request (a greyed-out choice): the
        minimal conflict between the request and that value."""
        return explain(
            self.model,
            self.request,
            why=_probe(self.model, name, value),
            clock=self._clock(deadline),
        )

    def domains(
        self, deadline: float | None = None, defaults: bool = False, cap: int | None = None
    ) -> DomainsResult:
        """The values each open component, quantity and option can still take; `cap`
        bounds the steps of work."""
        return domains(
            self.model,
            self.request.selects,
            self._requires,
            clock=self._clock(deadline),
            defaults=defaults,
            cap=cap,
        )


class Product:
    """A loaded product, ready to configure: the model (whose attributes it shows
    as its own) and, through `compiled`, everything the engine keeps of it."""

    __slots__ = ("model", "sources")

    def __init__(self, model: Model, sources: Mapping[str, SourceFile] | None = None) -> None:
        self.model = model
        self.sources: Mapping[str, SourceFile] = sources or {}  # its files' text, as loaded

    @property
    def compiled(self) -> CompiledModel:
        """The engine's caches for this model (built as operations need them)."""
        return CompiledModel.of(self.model)

    def configure(self, request: Request | Mapping[str, Any] | None = None) -> Configuration:
        """This model narrowed by a request (a Request, its JSON shape as a dict, or a
        dict of choices); raises atoconf.RequestError naming every bad item."""
        return configure(self.model, request)

    def __getattr__(self, name: str) -> Any:
        if name in ("model", "sources") or name.startswith(
            "__"
        ):  # not set yet (copy, pickle): no loop
            raise AttributeError(name)
        return getattr(self.model, name)

    def __repr__(self) -> str:
        return f"Product({self.model.product!r}, files={list(self.model.files)!r})"


def as_model(model: Model | Product) -> Model:
    """The language model behind what the API was given."""
    return model.model if isinstance(model, Product) else model


def _probe(model: Model, name: str, value: Value) -> tuple[str, Value]:
    """A single choice checked like a request's select: (variable, value)."""
    resolved = configure(model, {"select": {name: value}}).request
    ((key, checked),) = resolved.selects.items()
    return key, checked


def _misspelt_keys(model: Model, data: Mapping[str, Any]) -> bool:
    """Whether a mapping is a request with a key misspelt (`{"selec": ...}`): a key that
    names no choice of the model but is close to a request's key. Then it is read as a
    request, whose parser names the key with the fix, rather than as choices."""
    choices = {*model.components, *model.options} | {f"{c}.qty" for c in model.components}
    return any(
        key not in choices and did_you_mean(key, Request.model_fields) is not None for key in data
    )


def configure(model: Model, request: Request | Mapping[str, Any] | None = None) -> Configuration:
    """Check a request against a model; raises RequestError naming every bad item.

    A bare mapping of choices (`{"usage": "gaming"}`) is taken as the request's select."""
    if request is None:
        request = Request()
    elif not isinstance(request, Request):
        data = dict(request)
        if not set(data) <= set(Request.model_fields) and not _misspelt_keys(model, data):
            data = {"select": data}
        parsed = request_from_json(json.dumps(data), "<request>")
        if parsed.value is None:
            raise RequestError(parsed.diagnostics, {})
        request = parsed.value
    resolved = resolve_request(model, request)
    if resolved.value is None:
        raise RequestError(resolved.diagnostics, resolved.sources)
    return Configuration(model, resolved.value)
