#!/usr/bin/env python3
"""How fast does atoconf answer requests: count, domains, solve?

Measures, in this one process, for a large generated PC product (the bundled
workstation catalog with its part lists grown to about 1,500 SKUs over its 12
components, 5 options and 30+ rules, see large_pc.py) and for the two bundled
catalogs:

- the unconstrained space, and the time to load and compile the model;
- `count` with no request: time, and whether the number is exact (goal for
  the large product: exact in under 10 s);
- `domains` with no request, then an interactive session: 10 successive clicks,
  each fixing one value (chosen from the seed) among those `domains` still
  offers, with `domains` timed after every click: p50 and p95 (goal: p95 under
  100 ms);
- `solve`: the time to the first assembly and to the 100 cheapest (minimize
  total(price), limit 100);
- the same operations with the naive encoding one writes first, in the same
  run: every rule one python-constraint FunctionConstraint over all its
  variables evaluated with the reference semantics, and count, domains and the
  100 cheapest by enumerating every valid assembly. Each naive operation gets
  the same deadline; one that is stopped gives a lower bound ("> 30 s", ">= 40x").
  The ratio naive/atoconf is printed per operation (goal on domains: >= 20x);
- peak memory: the process's peak resident size after each model (goal: under
  500 MB).

    python benchmarks/bench_solver.py [--seed 1] [--deadline 30] [--only large|pc|bike] [--keep DIR]

The naive encoding imports python-constraint here, in the benchmark: it is the
baseline, not part of atoconf (whose only importer is atoconf/problem.py).
Exit status: 0 whatever the timings (a benchmark reports, it does not fail CI);
2 when a model does not load.
"""

from __future__ import annotations

import argparse
import heapq
import math
import resource
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import islice
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):  # run from a checkout without installing
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import constraint as pc  # noqa: E402  (the naive baseline only)
from large_pc import generate_large_pc  # noqa: E402

import atoconf  # noqa: E402
from atoconf.engine.clock import Clock  # noqa: E402
from atoconf.engine.problem import assembly_of, compiled, scope_of  # noqa: E402
from atoconf.engine.solve import count, domains, solve, space_size  # noqa: E402
from atoconf.language.evaluate import evaluate, holds  # noqa: E402
from atoconf.language.model import Expr, Model, Value  # noqa: E402
from atoconf.language.typecheck import typed_expression  # noqa: E402

GOAL_COUNT_S = 10.0
GOAL_CLICK_P95_S = 0.100
GOAL_DOMAINS_RATIO = 20.0
GOAL_MEMORY_MB = 500.0
CLICKS = 10
CHEAPEST = 100


# ---- measuring -------------------------------------------------------------------------------


@dataclass
class Timing:
    seconds: float
    result: str
    stopped: bool = False  # a deadline ended it: the time is a lower bound


def timed(fn: Callable[[], tuple[str, bool]]) -> Timing:
    start = time.perf_counter()
    try:
        result, stopped = fn()
    except Exception as exc:  # a crash is a finding: report it, go on
        traceback.print_exc(limit=3)
        result, stopped = f"CRASH {type(exc).__name__}: {exc}"[:60], False
    return Timing(time.perf_counter() - start, result, stopped)


def duration(t: Timing | float) -> str:
    seconds = t.seconds if isinstance(t, Timing) else t
    text = f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
    return ("> " if isinstance(t, Timing) and t.stopped else "") + text


def ratio(naive: Timing, ours: Timing) -> str:
    if ours.stopped:
        return "-"
    r = naive.seconds / max(ours.seconds, 1e-9)
    return f"{'>= ' if naive.stopped else ''}{r:,.1f}x"


def big(n: float) -> str:
    return f"{n:,.0f}" if n < 1e7 else f"{n:.3g}"


def peak_mb() -> float:
    """The process's peak resident size so far (ru_maxrss is in KiB on Linux)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (of 10 values, p95 is the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def short(value: Value) -> str:
    return "none" if value is None else str(value)


def expression(model: Model, text: str) -> Expr:
    typed = typed_expression(model, text, "<bench>")
    if typed.value is None:
        raise ValueError(f"{text!r}: " + "; ".join(d.message for d in typed.diagnostics))
    return typed.value


# ---- atoconf -----------------------------------------------------------------------------------


@dataclass
class Session:
    clicks: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    stopped: int = 0


def interactive(model: Model, seed: int, deadline: float) -> Session:
    """Ten clicks: each fixes one still-open variable to a value `domains` offers
    (chosen by the seed), then `domains` is timed for the request so far."""
    rng = Random(seed)
    select: dict[str, Value] = {}
    current = domains(model, clock=Clock(deadline))
    session = Session()
    for _ in range(CLICKS):
        open_ = [(n, vs) for n, vs in current.domains.items() if n not in select and len(vs) > 1]
        if not open_ or not current.satisfiable:
            break
        name, values = rng.choice(open_)
        select[name] = rng.choice(values)
        session.clicks.append(f"{name}={short(select[name])}")
        began = time.perf_counter()
        current = domains(model, select, clock=Clock(deadline))
        session.times.append(time.perf_counter() - began)
        session.stopped += bool(current.stopped)
    return session


def ours(model: Model, deadline: float, exact: list[int]) -> dict[str, Timing]:
    """atoconf's timings; `exact` gets the count when it is exact."""
    price = expression(model, "total(price)")
    out: dict[str, Timing] = {}

    def do_count() -> tuple[str, bool]:
        r = count(model, clock=Clock(deadline))
        if r.exact:
            exact.append(r.count)
        return (f"{big(r.count)} {'exact' if r.exact else 'NOT exact'}", bool(r.stopped))

    def do_domains() -> tuple[str, bool]:
        r = domains(model, clock=Clock(deadline))
        return (f"{sum(len(v) for v in r.domains.values())} values", bool(r.stopped))

    def do_first() -> tuple[str, bool]:
        stream = solve(model, limit=1, clock=Clock(deadline))
        found = list(islice(stream, 1))
        return (f"{len(found)} assembly", bool(stream.stopped))

    def do_cheapest() -> tuple[str, bool]:
        stream = solve(model, minimize=price, limit=CHEAPEST, clock=Clock(deadline))
        found = list(stream)
        text = f"{len(found)}, from {found[0].objective}" if found else "none"
        return (text, bool(stream.stopped))

    out["count"] = timed(do_count)
    out["domains"] = timed(do_domains)
    out["first assembly"] = timed(do_first)
    out[f"{CHEAPEST} cheapest"] = timed(do_cheapest)
    return out


# ---- the naive encoding ------------------------------------------------------------------------


class Expired(Exception):
    pass


def naive_assemblies(model: Model, deadline: float) -> Iterator[dict[str, Value]]:
    """Every valid assignment, from python-constraint with one FunctionConstraint per
    rule over all the rule's variables; raises Expired at the deadline."""
    variables = compiled(model).variables
    problem = pc.Problem()
    for name, var in variables.items():
        problem.addVariable(name, list(var.domain))
    end = time.monotonic() + deadline
    calls = [0]

    def tick() -> None:
        calls[0] += 1
        if calls[0] & 1023 == 0 and time.monotonic() > end:
            raise Expired

    for name, var in variables.items():
        if var.kind == "qty":

            def structure(sku: Value, qty: Value) -> bool:
                tick()
                return (sku is None) == (qty == 0)

            problem.addConstraint(structure, [var.owner, name])
    for rule in model.rules.values():
        scope = list(scope_of(model, rule.expr))

        def check(*values: Value, expr: Expr = rule.expr, scope: list[str] = scope) -> bool:
            tick()
            return holds(model, expr, assembly_of(model, dict(zip(scope, values, strict=True))))

        if scope:
            problem.addConstraint(check, scope)
    yield from problem.getSolutionIter()


def naive(model: Model, deadline: float, enumerated: list[int]) -> dict[str, Timing]:
    """The naive encoding's timings; `enumerated` gets the number of valid assemblies
    its count-and-domains pass listed."""
    price = expression(model, "total(price)")
    out: dict[str, Timing] = {}

    def do_first() -> tuple[str, bool]:
        try:
            found = next(naive_assemblies(model, deadline), None)
        except Expired:
            return ("-", True)
        return ("1 assembly" if found else "none", False)

    def do_count_domains() -> tuple[str, bool]:
        seen: dict[str, set[tuple[type, Value]]] = {}
        n = 0
        try:
            for values in naive_assemblies(model, deadline):
                n += 1
                for k, v in values.items():
                    seen.setdefault(k, set()).add((type(v), v))
        except Expired:
            enumerated.append(n)
            return (f"{big(n)} seen", True)
        enumerated.append(n)
        return (f"{big(n)}, {sum(map(len, seen.values()))} values", False)

    def do_cheapest() -> tuple[str, bool]:
        best: list[tuple[Fraction, int]] = []
        n = 0
        try:
            for values in naive_assemblies(model, deadline):
                n += 1
                value = evaluate(model, price, assembly_of(model, values))
                assert isinstance(value, Fraction)
                item = (-value, n)
                if len(best) < CHEAPEST:
                    heapq.heappush(best, item)
                else:
                    heapq.heappushpop(best, item)
        except Expired:
            return (f"{big(n)} seen", True)
        return (f"{len(best)}", False)

    out["first assembly"] = timed(do_first)
    both = timed(do_count_domains)  # one enumeration answers both
    out["count"] = both
    out["domains"] = both
    out[f"{CHEAPEST} cheapest"] = timed(do_cheapest)
    return out


# ---- one model ---------------------------------------------------------------------------------


@dataclass
class Case:
    key: str
    title: str
    path: Path
    goals: bool = False  # the large product: the issue's goals apply


def measure(case: Case, seed: int, deadline: float) -> list[str]:
    """Print the table for one model; return the goal lines."""
    try:
        began = time.perf_counter()
        model = atoconf.load(case.path).model
        load_s = time.perf_counter() - began
    except atoconf.RuleError as exc:
        print(f"{case.title}: load FAILED")
        for d in exc.diagnostics[:10]:
            print(f"  {d.span or '-'}: {d.code} {d.message}")
        raise
    began = time.perf_counter()
    space = space_size(model)
    compile_s = time.perf_counter() - began
    print(f"\n== {case.title}")
    print(
        f"   {len(model.components)} components, {len(model.parts):,} SKUs,"
        f" {len(model.options)} options, {len(model.rules)} rules;"
        f" {big(space)} assemblies before any rule"
    )
    print(f"   load {duration(load_s)}, compile {duration(compile_s)}")
    exact: list[int] = []
    mine = ours(model, deadline, exact)
    exact_count = exact[0] if exact else None
    session = interactive(model, seed, deadline)
    memory = peak_mb()
    enumerated: list[int] = []
    theirs = naive(model, deadline, enumerated)
    width = max(len(k) for k in mine) + 2
    print(f"   {'operation'.ljust(width)}{'atoconf':>12}  {'naive':>12}  {'ratio':>10}  result")
    for op, t in mine.items():
        n = theirs[op]
        print(
            f"   {op.ljust(width)}{duration(t):>12}  {duration(n):>12}  {ratio(n, t):>10}"
            f"  {t.result}{' (stopped)' if t.stopped else ''}; naive: {n.result}"
        )
    p50 = p95 = float("nan")
    if session.times:
        p50, p95 = percentile(session.times, 50), percentile(session.times, 95)
        print(
            f"   {len(session.times)} clicks, domains after each: p50 {duration(p50)},"
            f" p95 {duration(p95)}{' (some stopped)' if session.stopped else ''}"
        )
        print(f"   clicks: {', '.join(session.clicks)}")
    both = theirs["domains"]
    if both.stopped and enumerated and enumerated[0] and exact_count is not None:
        # the naive pass lists valid assemblies one by one: at its rate, all of them take
        rate = enumerated[0] / both.seconds
        needed = exact_count / rate
        mine_d = mine["domains"].seconds
        print(
            f"   naive enumeration: {big(rate)} valid assemblies/s; all {big(exact_count)}"
            f" would take ~{needed:.3g} s: ~{needed / max(mine_d, 1e-9):.3g}x atoconf's domains"
        )
    print(f"   peak resident memory so far: {memory:.0f} MB")
    if not case.goals:
        return []
    counted, listed = mine["count"], mine["domains"]
    dr = theirs["domains"].seconds / max(listed.seconds, 1e-9)

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    return [
        f"count exact in < {GOAL_COUNT_S:g} s: {duration(counted)} {counted.result} -> "
        + verdict(
            not counted.stopped and "NOT" not in counted.result and counted.seconds < GOAL_COUNT_S
        ),
        f"click p95 < {GOAL_CLICK_P95_S * 1000:g} ms: {duration(p95)}"
        f" -> {verdict(p95 < GOAL_CLICK_P95_S)}",
        f"domains >= {GOAL_DOMAINS_RATIO:g}x the naive encoding:"
        f" {'>= ' if theirs['domains'].stopped else ''}{dr:,.1f}x"
        f" -> {verdict(dr >= GOAL_DOMAINS_RATIO)}",
        f"peak memory < {GOAL_MEMORY_MB:g} MB: {memory:.0f} MB"
        f" -> {verdict(memory < GOAL_MEMORY_MB)}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=1, help="seed of the generator and the clicks")
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds per operation")
    parser.add_argument("--only", choices=("large", "pc", "bike"), action="append")
    parser.add_argument("--keep", metavar="DIR", type=Path, help="keep the generated product")
    args = parser.parse_args(argv)
    print(
        f"atoconf {atoconf.__version__}, Python {sys.version.split()[0]},"
        f" deadline {args.deadline:g} s per operation, seed {args.seed}"
    )
    with tempfile.TemporaryDirectory(prefix="atoconf-bench-") as tmp:
        folder = args.keep if args.keep is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        large = generate_large_pc(args.seed, folder)
        cases: Mapping[str, Case] = {
            "large": Case("large", f"large PC (generated, seed {args.seed})", large.entry, True),
            "pc": Case("pc", "workstation PC catalog", ROOT / "catalogs/pc/workstation.ato"),
            "bike": Case("bike", "bicycle catalog", ROOT / "catalogs/bike/bicycle.ato"),
        }
        goals: list[str] = []
        for key in args.only or list(cases):
            try:
                goals += measure(cases[key], args.seed, args.deadline)
            except atoconf.RuleError:
                return 2
        if goals:
            print("\ngoals (large PC):")
            for line in goals:
                print("  " + line)
        if args.keep is not None:
            print(f"\ngenerated product kept in {large.entry}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
