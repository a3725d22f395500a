"""Model + request -> solver problem. The only module that imports python-constraint2.

One variable per component (its SKUs after `where`, plus None when optional),
per component whose quantity varies (`name.qty`, with 0 meaning absent) and
per option. Rules never reach the solver as text: each becomes a Constraint
object that evaluates the typed expression, with bounds reasoning on partial
assignments (see propagate.py); rules over two variables become precomputed
tables of allowed pairs; rules over one variable prune its domain up front.
Every constraint keeps a back-link (Origin) to the rule or request item it
came from.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import constraint as pc
import numpy as np
import numpy.typing as npt

from atoconf.engine.clock import Clock
from atoconf.engine.closures import compile_holds
from atoconf.engine.compiled import CompiledModel
from atoconf.engine.propagate import Interval, Scope, abstract, may_hold, qty_var
from atoconf.engine.sums import shares, sum_terms
from atoconf.language.evaluate import Assembly, evaluate, holds, part_value
from atoconf.language.model import (
    AttrRef,
    Call,
    Compare,
    ComponentRef,
    Expr,
    IfThenElse,
    Model,
    OptionRef,
    QtyRef,
    Total,
    Value,
)
from atoconf.language.source import Span

# A full or partial assignment of solver variables.
Values = Mapping[str, Value]


@dataclass(frozen=True)
class Origin:
    """Where a constraint came from, in the user's terms."""

    kind: Literal["rule", "request", "structure"]
    name: str
    description: str | None = None
    span: Span | None = None


@dataclass(frozen=True)
class Variable:
    name: str
    kind: Literal["part", "qty", "option"]
    owner: str  # the component or option
    domain: tuple[Value, ...]


@dataclass(frozen=True)
class Check:
    """One constraint: a condition over a scope of variables, or a table.

    A table lists the allowed tuples of *classes*: `classes[i]` maps each value of
    `scope[i]` to its class, and values in one class read the same to this check
    (CPUs of one socket and one TDP, say), so a rule over three variables of a
    hundred values each often has a table of a few hundred rows. A lazy check has
    the classes but not the rows (see `lazy`)."""

    scope: tuple[str, ...]
    origin: Origin
    expr: Expr | None = None
    allowed: frozenset[tuple[int, ...]] | None = None
    classes: tuple[Mapping[Value, int], ...] = ()

    @property
    def lazy(self) -> bool:
        """Classes without rows: a rule over a handful of variables whose table would
        be too large to list; the sweep evaluates it on the paths it builds."""
        return self.allowed is None and bool(self.classes)

    def row(self, values: Values) -> tuple[int, ...]:
        """The class tuple of an assignment of (at least) the scope."""
        return tuple(c[values[v]] for c, v in zip(self.classes, self.scope, strict=True))

    def rows(self) -> npt.NDArray[np.int64]:
        """A table's allowed class tuples as an array, one row each (made once)."""
        found: npt.NDArray[np.int64] | None = self.__dict__.get("_rows")
        if found is None:
            assert self.allowed is not None
            found = np.array(sorted(self.allowed), dtype=np.int64).reshape(-1, len(self.scope))
            object.__setattr__(self, "_rows", found)  # not a field, as `compiled`
        return found

    def class_mask(self, position: int, values: Iterable[Value]) -> npt.NDArray[np.bool_]:
        """Which classes of a position the values fall in (indexed by class, over every
        class the table's rows name)."""
        classes = self.classes[position]
        sizes: list[int] | None = self.__dict__.get("_class_counts")
        if sizes is None:
            rows = self.rows()
            sizes = [
                max(int(rows[:, i].max()) if len(rows) else -1, *self.classes[i].values(), -1) + 1
                for i in range(len(self.scope))
            ]
            object.__setattr__(self, "_class_counts", sizes)  # not a field, as `compiled`
        mask = np.zeros(sizes[position], dtype=np.bool_)
        mask[[classes[v] for v in values if v in classes]] = True
        return mask

    def compiled(self, model: Model) -> Callable[[Assembly], bool]:
        """The check's expression as a closure, compiled once (for `model`, the
        model the check belongs to)."""
        run: Callable[[Assembly], bool] | None = self.__dict__.get("_compiled")
        if run is None:
            assert self.expr is not None
            run = compile_holds(model, self.expr)
            # not a field: equality and hashing stay the check's; two threads may
            # both compile it, to the same closure
            object.__setattr__(self, "_compiled", run)
        return run


@dataclass(frozen=True)
class Compiled:
    """A model's variables and rule checks: built once per model, shared by every request."""

    model: Model
    variables: dict[str, Variable]
    checks: tuple[Check, ...]
    # each variable's domain
    domains: dict[str, tuple[Value, ...]]


# ---- variables and scopes ----------------------------------------------------------


def variables_of(model: Model) -> dict[str, Variable]:
    out: dict[str, Variable] = {}
    for comp in model.components.values():
        skus: tuple[Value, ...] = comp.parts + ((None,) if comp.optional else ())
        out[comp.name] = Variable(comp.name, "part", comp.name, skus)
        if comp.qty_min < comp.qty_max:
            quantities = tuple(range(comp.qty_min, comp.qty_max + 1))
            if comp.optional:
                quantities = (0, *quantities)
            out[qty_var(comp.name)] = Variable(qty_var(comp.name), "qty", comp.name, quantities)
    for option in model.options.values():
        out[option.name] = Variable(option.name, "option", option.name, option.values)
    return out


def direct_scope(model: Model, expr: Any, total: Total | None) -> list[str]:
    """The variables an expression reads outside the sum (None: outside every sum)."""
    found: dict[str, None] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Total) and (
            total is None or (node.attr, node.components) == (total.attr, total.components)
        ):
            continue
        if isinstance(node, AttrRef | ComponentRef | QtyRef | OptionRef | Total):
            found.update(dict.fromkeys(scope_of(model, node)))
            continue
        stack.extend(_children(node))
    return list(found)


def _children(node: Any) -> list[Any]:
    out: list[Any] = []
    for name in ("args", "items"):
        child = getattr(node, name, None)
        if isinstance(child, tuple):
            out.extend(child)
    for name in ("operand", "left", "right", "element", "container", "cond", "then", "else_"):
        child = getattr(node, name, None)
        if child is not None and not isinstance(child, tuple):
            out.append(child)
    return out


def nodes(expr: Expr) -> Iterator[Any]:
    """Every node of an expression, parents before children."""
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def children(node: Any) -> list[Any]:
    """The expressions right below a node, in reading order."""
    if isinstance(node, Call):
        return list(node.args)
    out: list[Any] = []
    for name in ("left", "right", "element", "container", "cond", "then", "else_"):
        child = getattr(node, name, None)
        if child is not None:
            out.append(child)
    for name in ("operand", "items"):
        child = getattr(node, name, None)
        if isinstance(child, tuple):
            out.extend(child)
        elif child is not None:
            out.append(child)
    return out


def scope_of(model: Model, expr: Expr) -> tuple[str, ...]:
    """The variables an expression reads, in a stable order."""
    found: dict[str, None] = {}

    def component(name: str, quantity: bool) -> None:
        found[name] = None
        comp = model.components[name]
        if quantity and comp.qty_min < comp.qty_max:
            found[qty_var(name)] = None

    for node in nodes(expr):
        if isinstance(node, AttrRef | ComponentRef):
            component(node.component, False)
        elif isinstance(node, QtyRef):
            component(node.component, True)
        elif isinstance(node, OptionRef):
            found[node.option] = None
        elif isinstance(node, Total):
            for name in node.components:
                component(name, True)
    return tuple(found)


def _reads(expr: Expr) -> dict[str, set[str | None]]:
    """Per component, what of its part an expression reads: attribute names, and
    None when it reads the SKU itself (`os != "OS-W11-HOME"`). Whether a component
    is present (`gpu != none`, `count(gpu, wifi)`) reads neither: all its parts
    are alike to that."""
    presence = _presence_only(expr)
    out: dict[str, set[str | None]] = {}
    for node in nodes(expr):
        if isinstance(node, AttrRef):
            out.setdefault(node.component, set()).add(node.attr)
        elif isinstance(node, ComponentRef):
            reads = out.setdefault(node.component, set())
            if id(node) not in presence:
                reads.add(None)
        elif isinstance(node, Total):
            for name in node.components:
                out.setdefault(name, set()).add(node.attr)
    return out


_COUNTING = ("count", "exactly_one", "at_most_one", "at_least_one")


def _presence_only(expr: Expr) -> set[int]:
    """The component references (by id) that only ask whether the component is
    present: compared with `none`, or counted."""
    found: set[int] = set()
    for node in nodes(expr):
        if isinstance(node, Compare) and node.op in ("==", "!="):
            sides = (node.left, node.right)
            for ref, other in (sides, sides[::-1]):
                if isinstance(ref, ComponentRef) and other.type.kind == "none":
                    found.add(id(ref))
        elif isinstance(node, Call) and node.func in _COUNTING:
            found |= {id(a) for a in node.args if isinstance(a, ComponentRef)}
    return found


def assembly_of(model: Model, values: Values) -> Assembly:
    """The assembly a (possibly partial) assignment describes, for evaluation."""
    components: dict[str, tuple[str | None, int]] = {}
    for comp in model.components.values():
        if comp.name not in values:
            continue
        sku = values[comp.name]
        if sku is None:
            components[comp.name] = (None, 0)
        elif comp.qty_min == comp.qty_max:
            components[comp.name] = (str(sku), comp.qty_min)
        else:
            qty = values.get(qty_var(comp.name), comp.qty_min)
            components[comp.name] = (str(sku), int(qty))  # type: ignore[arg-type]
    options = {o: values[o] for o in model.options if o in values}
    return Assembly(components, options)


def _assembler(model: Model, scope: Sequence[str]) -> Callable[[Sequence[Value]], Assembly]:
    """Assemblies of values of the scope's variables in order, as `assembly_of` makes
    them, without reading the whole model for each (a table evaluates many)."""
    at = {var: i for i, var in enumerate(scope)}
    # per component in the scope: its part's place, its quantity's place, its fixed
    # quantity (None: read the quantity) and its least quantity
    present = [
        (
            comp.name,
            at[comp.name],
            at.get(qty_var(comp.name)),
            comp.qty_min if comp.qty_min == comp.qty_max else None,
            comp.qty_min,
        )
        for comp in model.components.values()
        if comp.name in at
    ]
    options = [(name, at[name]) for name in model.options if name in at]

    def assemble(row: Sequence[Value]) -> Assembly:
        components: dict[str, tuple[str | None, int]] = {}
        for name, i, qi, fixed, least in present:
            sku = row[i]
            if sku is None:
                components[name] = (None, 0)
            elif fixed is not None:
                components[name] = (str(sku), fixed)
            else:
                components[name] = (str(sku), least if qi is None else int(row[qi]))  # type: ignore[arg-type]
        return Assembly(components, {name: row[i] for name, i in options})

    return assemble


def check_holds(model: Model, check: Check, values: Values) -> bool:
    """Whether a check holds for an assignment of (at least) its scope."""
    if check.allowed is not None:
        return check.row(values) in check.allowed
    return check.compiled(model)(assembly_of(model, values))


# a rule becomes a table when its classes have at most this many combinations
TABLE_LIMIT = 20_000
# a sum over at least this many components stays a sum: the counter and the
# valid-domains sweep carry it through their graph (sweep.py)
WIDE_SUM = 5


def classes_of(
    model: Model, expr: Expr, scope: Sequence[str], domains: Mapping[str, Sequence[Value]]
) -> list[dict[Value, int]]:
    """Per variable of the scope, each value's class: values whose reads by `expr`
    are the same (the same attribute values, absent or not) get the same class."""
    reads = _reads(expr)
    out: list[dict[Value, int]] = []
    for var in scope:
        what = reads.get(var)
        ids: dict[Any, int] = {}
        classes: dict[Value, int] = {}
        for value in domains[var]:
            if what is None and var in model.components:
                key: Any = value is None  # read through its quantity only: present or not
            elif what is None or None in what:  # a quantity, an option, or the SKU itself
                key = (type(value), value)
            elif value is None:
                key = None
            else:
                key = tuple(
                    (attr, part_value(model, str(value), attr))
                    for attr in sorted(a for a in what if a is not None)
                    if attr in model.parts[str(value)].values
                )
            classes[value] = ids.setdefault(key, len(ids))
        out.append(classes)
    return out


def _table(check: Check, model: Model, domains: Mapping[str, Sequence[Value]]) -> Check | None:
    """The check as a table over classes; lazy (classes, no rows) when that table would
    be too large; None when it reads a wide sum."""
    assert check.expr is not None
    if any(isinstance(n, Total) and len(n.components) >= WIDE_SUM for n in nodes(check.expr)):
        return None
    classes = classes_of(model, check.expr, check.scope, domains)
    if math.prod(len(set(c.values())) for c in classes) > TABLE_LIMIT:
        return lazy_check(model, check, domains, classes)
    representatives = []
    for mapping in classes:
        first: dict[int, Value] = {}
        for value, cls in mapping.items():
            first.setdefault(cls, value)
        representatives.append(list(first.items()))
    allowed = set()
    rule = check.compiled(model)
    assemble = _assembler(model, check.scope)
    for combo in itertools.product(*representatives):
        if rule(assemble([value for _, value in combo])):
            allowed.add(tuple(cls for cls, _ in combo))
    return Check(check.scope, check.origin, check.expr, frozenset(allowed), tuple(classes))


def lazy_check(
    model: Model,
    check: Check,
    domains: Mapping[str, Sequence[Value]],
    classes: Sequence[Mapping[Value, int]] | None = None,
) -> Check:
    """The check as a lazy one: its classes without rows, which the sweep finds as it
    builds its graph (a table would be too large, or the rule reads a sum)."""
    assert check.expr is not None
    if classes is None:
        classes = classes_of(model, check.expr, check.scope, domains)
    return Check(check.scope, check.origin, check.expr, None, tuple(classes))


def checks_for(
    model: Model,
    exprs: Sequence[tuple[Origin, Expr]],
    domains: Mapping[str, Sequence[Value]],
) -> list[Check]:
    """Checks for conditions; those whose classes combine into a small table become
    tables, the others (sums over many components) stay expressions."""
    out = []
    for origin, expr in exprs:
        check = Check(scope_of(model, expr), origin, expr)
        if check.scope:
            check = _table(check, model, domains) or check
        out.append(check)
    return out


def _structure(model: Model, variables: Mapping[str, Variable]) -> list[Check]:
    """An absent component has quantity 0 and a present one a quantity of its range."""
    out = []
    for comp in model.components.values():
        qv = qty_var(comp.name)
        if qv not in variables:
            continue
        # classes: absent or present; 0 or another quantity
        parts = {sku: int(sku is not None) for sku in variables[comp.name].domain}
        quantities = {q: int(q != 0) for q in variables[qv].domain}
        origin = Origin("structure", f"{comp.name} quantity", None, comp.span)
        out.append(
            Check((comp.name, qv), origin, None, frozenset({(0, 0), (1, 1)}), (parts, quantities))
        )
    return out


def _compile(model: Model) -> Compiled:
    variables = variables_of(model)
    domains = {name: var.domain for name, var in variables.items()}
    rules = [(Origin("rule", r.name, r.description, r.span), r.expr) for r in model.rules.values()]
    checks = _structure(model, variables) + checks_for(model, rules, domains)
    return Compiled(model, variables, tuple(checks), domains)


def compiled(model: Model) -> Compiled:
    """The model's variables and rule checks, compiled once per model."""
    return CompiledModel.of(model).get("problem", lambda: _compile(model))


# ---- constraints for python-constraint2 -----------------------------------------------


class _TableConstraint(pc.Constraint):  # type: ignore[misc]
    def __init__(self, check: Check, clock: Clock) -> None:
        self.check = check
        self.clock = clock
        assert check.allowed is not None
        self.allowed = check.allowed

    def __call__(
        self,
        variables: Sequence[str],
        domains: dict[str, Any],
        assignments: dict[str, Value],
        forwardcheck: Any = False,
    ) -> bool:
        self.clock.tick()
        classes = self.check.classes
        row: list[Any] = [
            classes[i][assignments[v]] if v in assignments else _FREE
            for i, v in enumerate(variables)
        ]
        free = [i for i, value in enumerate(row) if value is _FREE]
        if not free:
            return tuple(row) in self.allowed
        if len(free) == 1 and forwardcheck:
            i = free[0]
            domain = domains[variables[i]]
            verdict: dict[int, bool] = {}
            for value in domain[:]:
                cls = classes[i][value]
                ok = verdict.get(cls)
                if ok is None:
                    row[i] = cls
                    ok = verdict[cls] = tuple(row) in self.allowed
                if not ok:
                    domain.hideValue(value)
            return bool(domain)
        return True


_FREE = object()


class _RuleConstraint(pc.Constraint):  # type: ignore[misc]
    def __init__(
        self, model: Model, check: Check, clock: Clock, full: Mapping[str, Sequence[Value]]
    ) -> None:
        self.model = model
        self.check = check
        self.clock = clock
        assert check.expr is not None
        self.expr = check.expr
        self.holds = check.compiled(model)
        # what each unset component can contribute, worked out once from the full
        # domains: a wide sum's bounds then cost one lookup per component
        self.memo: dict[tuple[str, str, str], Any] = {}
        abstract(Scope(model, {}, full, self.memo), self.expr)

    def __call__(
        self,
        variables: Sequence[str],
        domains: dict[str, Any],
        assignments: dict[str, Value],
        forwardcheck: Any = False,
    ) -> bool:
        self.clock.tick()
        unassigned = [v for v in variables if v not in assignments]
        if not unassigned:
            return self.holds(assembly_of(self.model, assignments))
        if not may_hold(Scope(self.model, assignments, domains, self.memo, False), self.expr):
            return False
        if forwardcheck and len(unassigned) == 1:
            return bool(self.forwardCheck(variables, domains, assignments))
        return True


class _BoundConstraint(pc.Constraint):  # type: ignore[misc]
    """The objective must lie within a bound that may tighten while the search runs:
    branch and bound for optimisation. A sum's `total(...)` terms are bounded from a
    table of each part's contribution (the common objective, and the hot path); the
    other terms by interval reasoning."""

    def __init__(
        self, model: Model, bound: Bound, clock: Clock, full: Mapping[str, Sequence[Value]]
    ) -> None:
        self.model, self.bound, self.clock = model, bound, clock
        terms = sum_terms(bound.expr)
        self.totals = [_contributions(model, t) for t in terms if isinstance(t, Total)]
        # `if cond then a else b` with constant a and b (labour of a step, say): decided
        # once cond's variables are all set, else either value
        self.choices: list[tuple[Expr, tuple[str, ...], Fraction, Fraction]] = []
        self.others: list[Expr] = []
        for term in terms:
            if isinstance(term, Total):
                continue
            constants = _constant_branches(model, term)
            if constants is None:
                self.others.append(term)
            else:
                assert isinstance(term, IfThenElse)
                self.choices.append((term.cond, scope_of(model, term.cond), *constants))
        # as for rules: what each unset component can contribute, from the full domains
        self.memo: dict[tuple[str, str, str], Any] = {}
        for term in self.others:
            abstract(Scope(model, {}, full, self.memo), term)

    def preProcess(self, *args: Any) -> None:
        """Stay in the search: the base class would apply a one-variable constraint to
        its domain once and drop it, but this bound tightens after that."""

    def __call__(
        self,
        variables: Sequence[str],
        domains: dict[str, Any],
        assignments: dict[str, Value],
        forwardcheck: Any = False,
    ) -> bool:
        self.clock.tick()
        bound = self.bound
        if all(v in assignments for v in variables):
            try:
                value = evaluate(self.model, bound.expr, assembly_of(self.model, assignments))
            except ZeroDivisionError:
                return False  # no objective value: such assemblies are not ranked
            assert isinstance(value, Fraction)
            return bound.admits(value, value)
        lo: Fraction | None = Fraction(0)
        hi: Fraction | None = Fraction(0)
        for table in self.totals:
            t_lo, t_hi = _total_range(table, assignments, domains)
            lo, hi = lo + t_lo, hi + t_hi  # type: ignore[operator]
        for cond, reads, then, else_ in self.choices:
            if all(v in assignments for v in reads):
                taken = (
                    then if holds(self.model, cond, assembly_of(self.model, assignments)) else else_
                )
                lo, hi = lo + taken, hi + taken  # type: ignore[operator]
            else:
                lo, hi = lo + min(then, else_), hi + max(then, else_)  # type: ignore[operator]
        scope = Scope(self.model, assignments, domains, self.memo, False)
        for term in self.others:
            interval = abstract(scope, term)
            assert isinstance(interval, Interval)
            lo = None if lo is None or interval.lo is None else lo + interval.lo
            hi = None if hi is None or interval.hi is None else hi + interval.hi
        return bound.admits(lo, hi)


def _constant_branches(model: Model, expr: Expr) -> tuple[Fraction, Fraction] | None:
    if (
        not isinstance(expr, IfThenElse)
        or scope_of(model, expr.then)
        or scope_of(model, expr.else_)
    ):
        return None
    empty = Assembly({}, {})
    then, else_ = evaluate(model, expr.then, empty), evaluate(model, expr.else_, empty)
    if isinstance(then, Fraction) and isinstance(else_, Fraction):
        return then, else_
    return None


# a total's parts' contributions as integers over one denominator (exact, and fast to
# compare): per component (name, its quantity variable or None, fixed quantity,
# sku -> value x scale), then the scale
_Contribution = tuple[str, str | None, int, dict[Value, int]]
_Contributions = tuple[list[_Contribution], int]


def _contributions(model: Model, total: Total) -> _Contributions:
    values = shares(model, total)
    scale = math.lcm(1, *(v.denominator for per in values.values() for v in per.values()))
    found: list[_Contribution] = []
    for name, per_sku in values.items():
        comp = model.components[name]
        qty = qty_var(name) if comp.qty_min != comp.qty_max else None
        scaled = {s: int(v * scale) for s, v in per_sku.items()}
        found.append((name, qty, comp.qty_min, scaled))
    return found, scale


def _total_range(
    table: _Contributions, assignments: Mapping[str, Value], domains: Mapping[str, Any]
) -> tuple[Fraction, Fraction]:
    lo = hi = 0
    parts, scale = table
    for name, qty_name, fixed, per_sku in parts:
        if name in assignments:
            v_lo = v_hi = per_sku[assignments[name]]
        else:
            values = [per_sku[s] for s in domains[name]]
            if not values:
                continue
            v_lo, v_hi = min(values), max(values)
        if qty_name is None:
            q_lo = q_hi = fixed
        elif qty_name in assignments:
            q_lo = q_hi = assignments[qty_name]  # type: ignore[assignment]
        else:
            q_lo, q_hi = min(domains[qty_name]), max(domains[qty_name])
        # quantity x value: the extremes lie at the corners (absent parts add 0 anyway)
        corners = (q_lo * v_lo, q_lo * v_hi, q_hi * v_lo, q_hi * v_hi)
        lo += min(corners)
        hi += max(corners)
    return Fraction(lo, scale), Fraction(hi, scale)


@dataclass
class Bound:
    """Keep only assemblies whose objective lies between low and high (each bound
    inclusive or, when `open`, strict). Mutable: branch and bound tightens it."""

    expr: Expr
    low: Fraction | None = None
    high: Fraction | None = None
    low_open: bool = False
    high_open: bool = False

    def admits(self, lo: Fraction | None, hi: Fraction | None) -> bool:
        """Whether some value in [lo, hi] (None: unbounded) lies within the bound."""
        below = (
            self.low is not None
            and hi is not None
            and (hi < self.low or (self.low_open and hi == self.low))
        )
        above = (
            self.high is not None
            and lo is not None
            and (lo > self.high or (self.high_open and lo == self.high))
        )
        return not (below or above)


def solutions(
    comp: Compiled,
    domains: Mapping[str, Sequence[Value]],
    checks: Sequence[Check],
    clock: Clock,
    bound: Bound | None = None,
    only: Sequence[str] | None = None,
) -> Iterator[dict[str, Value]]:
    """Every assignment of the variables (or of `only` and the checks among them) that
    satisfies the checks, in a deterministic order: declaration order of each domain."""
    names = list(only) if only is not None else list(comp.variables)
    if any(not domains[n] for n in names):
        return
    if not names:
        yield {}
        return
    wanted = set(names)
    problem = pc.Problem(pc.BacktrackingSolver(forwardcheck=True))
    for name in names:
        # the solver tries a domain's last value first
        problem.addVariable(name, list(reversed(domains[name])))
    for check in checks:
        if not set(check.scope) <= wanted:
            continue
        if check.allowed is not None:
            problem.addConstraint(_TableConstraint(check, clock), list(check.scope))
        else:
            problem.addConstraint(
                _RuleConstraint(comp.model, check, clock, domains), list(check.scope)
            )
    if bound is not None:
        scope = [v for v in scope_of(comp.model, bound.expr) if v in wanted]
        problem.addConstraint(_BoundConstraint(comp.model, bound, clock, domains), scope)
    yield from problem.getSolutionIter()
