"""A request as solver input: the model's compiled problem narrowed by the request's
choices and conditions (with arc consistency), and the soft option defaults."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from atoconf.engine.clock import Clock, Stop
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.problem import (
    Bound,
    Check,
    Compiled,
    Origin,
    check_holds,
    checks_for,
    compiled,
    solutions,
)
from atoconf.engine.propagate import Abstract, Scope, may_hold
from atoconf.engine.results import value_key
from atoconf.language.model import (
    Expr,
    Model,
    Value,
)


class Setup:
    """A model's compiled problem narrowed by one request."""

    def __init__(
        self,
        model: Model,
        select: Mapping[str, Value],
        require: Sequence[Expr],
        prune: bool = True,
        rules: Collection[str] | None = None,
        allowed: Mapping[str, Collection[Value]] | None = None,
    ) -> None:
        self.model = model
        self.comp: Compiled = compiled(model)
        domains = {name: list(values) for name, values in self.comp.domains.items()}
        for name, values in (allowed or {}).items():  # stock: what the shelves can give
            keys = {value_key(v) for v in values}
            domains[name] = [v for v in domains[name] if value_key(v) in keys]
        for name, value in select.items():
            if name not in domains:  # the quantity of a component with a fixed quantity
                owner = name.removesuffix(".qty")
                comp = model.components[owner]
                wanted = (None,) if value == 0 else () if value != comp.qty_min else None
                if wanted is None:
                    domains[owner] = [s for s in domains[owner] if s is not None]
                else:
                    domains[owner] = [s for s in domains[owner] if s in wanted]
                continue
            domains[name] = [v for v in domains[name] if v == value and type(v) is type(value)]
        # a chosen part or quantity also settles the other half of the component
        for name, var in self.comp.variables.items():
            if var.kind == "qty" and name in select and select[name] != 0:
                domains[var.owner] = [s for s in domains[var.owner] if s is not None]
        self.select = dict(select)
        self.requires = bool(require)
        requires = [(Origin("request", f"require[{i}]"), expr) for i, expr in enumerate(require)]
        own = self.comp.checks
        if rules is not None:  # only these of the model's rules (explanations)
            own = tuple(c for c in own if c.origin.kind != "rule" or c.origin.name in rules)
        checks = [*own, *checks_for(model, requires, domains)]
        # a rule that reads no variable holds or fails for every assembly
        if any(not check_holds(model, c, {}) for c in checks if not c.scope):
            domains = {name: [] for name in domains}
        self.checks: list[Check] = [c for c in checks if c.scope]
        self.domains = domains
        self.pruned = False
        if prune:
            self.prune()

    def prune(self) -> None:
        """Arc consistency: drop values no completion can use (once). Tables are revised a
        class at a time; narrow expressions by their bounds. Wide checks (sums over
        every component) are left to the search's own bounds reasoning: probing each
        of their values here costs more than it saves."""
        if self.pruned:
            return
        self.pruned = True
        narrow = [c for c in self.checks if c.allowed is not None or len(c.scope) <= 3]
        watching: dict[str, list[int]] = {}
        for n, check in enumerate(narrow):
            for var in check.scope:
                watching.setdefault(var, []).append(n)
        # a check is revised again only when a domain it reads has shrunk; a table
        # keeps the rows still alive (their indexes), which only ever shrink
        alive: dict[int, npt.NDArray[np.int64]] = {}
        queue = list(range(len(narrow)))
        queued = set(queue)
        while queue:
            n = queue.pop(0)
            queued.discard(n)
            check = narrow[n]
            uses: list[set[int]] = []
            if check.allowed is not None:
                full = self.comp.domains
                if n not in alive and all(
                    len(self.domains[v]) == len(full[v]) for v in check.scope
                ):
                    # untouched by the request: the same answer for every request
                    alive[n], uses = self._on_full_domains(check)
                else:
                    alive[n], uses = self._alive(check, alive.get(n), self.domains)
            for i, var in enumerate(check.scope):
                if check.allowed is not None:
                    used = uses[i]
                    keep = [v for v in self.domains[var] if check.classes[i][v] in used]
                else:
                    keep = [v for v in self.domains[var] if self._supported(check, var, v)]
                if len(keep) != len(self.domains[var]):
                    self.domains[var] = keep
                    if not keep:
                        return
                    for other in watching[var]:
                        if other != n and other not in queued:
                            queue.append(other)
                            queued.add(other)

    @staticmethod
    def _alive(
        check: Check,
        rows: npt.NDArray[np.int64] | None,
        domains: Mapping[str, Sequence[Value]],
    ) -> tuple[npt.NDArray[np.int64], list[set[int]]]:
        """Of a table's rows (indexes; None: all), those whose classes all occur in
        the domains, and the classes they use per position."""
        table = check.rows()
        index = np.arange(len(table)) if rows is None else rows
        for j, var in enumerate(check.scope):
            index = index[check.class_mask(j, domains[var])[table[index, j]]]
        uses = [set(np.unique(table[index, i]).tolist()) for i in range(len(check.scope))]
        return index, uses

    def _on_full_domains(self, check: Check) -> tuple[npt.NDArray[np.int64], list[set[int]]]:
        """A table's rows whose classes all occur in the model's full domains, and the
        classes they use per position: the same for every request, so worked out once
        per model for the model's own rules."""

        def on_full_domains() -> tuple[npt.NDArray[np.int64], list[set[int]]]:
            return self._alive(check, None, self.comp.domains)

        if any(check is c for c in self.comp.checks):  # the check lives as long as the model
            return CompiledModel.of(self.model).get(("full rows", id(check)), on_full_domains)
        return on_full_domains()

    def _supported(self, check: Check, var: str, value: Value) -> bool:
        assert check.expr is not None
        return may_hold(Scope(self.model, {var: value}, self.domains), check.expr)

    @property
    def satisfiable_so_far(self) -> bool:
        return all(self.domains[v] for v in self.comp.variables)

    def bounds_refute(self) -> bool:
        """Whether some wide check (one `prune` leaves to the search) cannot hold on
        the pruned domains by its bounds alone: a sum whose least value passes its
        limit is proved empty at once, where a search would try every way to reach it."""
        memo: dict[tuple[str, str, str], Abstract] = {}
        scope = Scope(self.model, {}, self.domains, memo=memo)
        return any(
            c.expr is not None and not may_hold(scope, c.expr)
            for c in self.checks
            if c.allowed is None and len(c.scope) > 3
        )

    def parts(self) -> list[list[str]]:
        """Independent groups of variables: no check links two groups."""
        parent = {v: v for v in self.comp.variables}

        def find(v: str) -> str:
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        for check in self.checks:
            for other in check.scope[1:]:
                parent[find(other)] = find(check.scope[0])
        groups: dict[str, list[str]] = {}
        for v in self.comp.variables:
            groups.setdefault(find(v), []).append(v)
        return list(groups.values())

    def checks_within(self, names: Sequence[str]) -> list[Check]:
        wanted = set(names)
        return [c for c in self.checks if set(c.scope) <= wanted]

    def iterate(
        self, clock: Clock, bound: Bound | None = None, only: Sequence[str] | None = None
    ) -> Iterator[dict[str, Value]]:
        if not self.satisfiable_so_far:
            return iter(())
        return solutions(self.comp, self.domains, self.checks, clock, bound, only)


def with_defaults(
    model: Model,
    select: Mapping[str, Value],
    require: Sequence[Expr] = (),
    clock: Clock | None = None,
) -> dict[str, Value]:
    """The request plus each option default, in declaration order, that some valid
    assembly still agrees with (a default never makes a request unsatisfiable)."""
    clock = clock or Clock()

    def agrees(trial: dict[str, Value]) -> bool:
        return next(Setup(model, trial, require).iterate(clock), None) is not None

    return each_default(model, select, agrees)


def each_default(
    model: Model, select: Mapping[str, Value], agrees: Callable[[dict[str, Value]], bool]
) -> dict[str, Value]:
    """The request plus each option default, in declaration order, that `agrees` with
    the choices so far; a search stopped by its deadline ends the walk there."""
    chosen = dict(select)
    defaults = [
        (option.name, option.default)
        for option in model.options.values()
        if option.name not in chosen and option.has_default
    ]

    # Defaults that agree all together are what the walk one at a time takes (each
    # of their prefixes agrees too, fewer fixed values leaving more assemblies): try
    # a run of them whole, and halve it where it fails. Most requests take every
    # default, in one search instead of one a default.
    def walk(run: list[tuple[str, Value]]) -> None:
        trial = {**chosen, **dict(run)}
        if agrees(trial):
            chosen.update(trial)
        elif len(run) > 1:
            walk(run[: len(run) // 2])
            walk(run[len(run) // 2 :])

    try:
        if defaults:
            walk(defaults)
    except Stop:
        pass
    return chosen


def whole_setup(model: Model) -> Setup:
    return CompiledModel.of(model).get("whole setup", lambda: Setup(model, {}, []))
