#!/usr/bin/env python3
"""How fast does atoconf answer requests: solve, count, domains?

Measures, in this one process, for the two bundled catalogs (the workstation
PC and the bicycle) and for a large generated product (a bottling line built
to order from ~30 modules: ~10^20 assemblies before any rule, for seed 1):

- the size of the unconstrained space (the product of the domains), and the
  time to compile the model into solver form;
- `count` with no request: time, and whether the number is exact;
- `domains` with no request and with a typical request;
- `solve`: the time to the first assembly, to 100 assemblies streamed, and to
  the proven optimum of `minimize total(price)`;
- an interactive session: 10 successive clicks, each fixing one value chosen
  (from the seed) among those `domains` still offers, timing `domains` after
  every click (p50 / p95 in ms);
- a baseline per model: random assignments of the whole space checked by
  brute force against every rule with `atoconf.evaluate.holds` for about one
  second. The table shows each time as the number of assemblies brute force
  checks in that time, and for `count` how long brute force would need to
  check the whole space.

    python benchmarks/bench_solve.py [--seed 1] [--deadline 30] [--keep DIR] [--profile]

Every operation runs with `--deadline` seconds and the table says when one was
stopped by it. The large model must count exactly in under 10 s (PASS/FAIL).
With `--profile`, each model's slowest operation (when over a second) is run
again under cProfile and the functions it spends its time in are listed.
Exit status: 0 whatever the timings (a benchmark reports, it does not fail
CI); 2 when a model does not load.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice, pairwise
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import atoconf  # noqa: E402
from atoconf.build import typed_expression  # noqa: E402
from atoconf.evaluate import holds  # noqa: E402
from atoconf.model import Expr, Model, Value  # noqa: E402
from atoconf.problem import assembly_of, compiled  # noqa: E402
from atoconf.solve import (  # noqa: E402
    CountResult,
    DomainsResult,
    count,
    domains,
    solve,
    space_size,
)

GOAL_COUNT_S = 10.0  # the large model must count exactly within this
GOAL_SPACE = 10**15  # ... and have at least this many assemblies before any rule
CLICKS = 10
STREAMED = 100
BASELINE_S = 1.0
PROFILE_S = 1.0  # --profile: profile each model's slowest operation if it takes longer
PROFILE_LINES = 12

# ---- the large generated product: a bottling line --------------------------------------

MOUNTS = ("M_A", "M_B", "M_C", "M_D", "M_E", "M_F")
GRADES = ("standard", "pro", "heavy")
MODULES = (
    "infeed",
    "rinser",
    "filler",
    "capper",
    "labeler",
    "inspector",
    "packer",
    "palletizer",
)
THROUGHPUT = ("filler", "capper", "packer")  # their bases must keep up with `output`
FOOD_CONTACT = ("rinser", "filler", "capper")  # washdown needs non-standard grades
UNIT_NAMES = ("drive", "head", "sensor", "guard")


@dataclass
class Unit:
    """One component of the generated line, with the part rows it may choose from."""

    name: str
    module: str
    kind: str  # Base | Unit
    slot: int
    family: int
    optional: bool = False
    qty_max: int = 1
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Line:
    text: str
    components: int
    skus: int
    rules: int
    budget: Decimal


def _money(amount: float, rng: Random) -> Decimal:
    """A catalogue price: whole euros, sometimes ending in .50 or .90."""
    euros = max(5, round(amount))
    return Decimal(euros) + Decimal(rng.choice(("0.00", "0.00", "0.50", "0.90")))


def _base_rows(rng: Random, module: str, family: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(rng.randint(3, 5)):
        capacity = rng.choice((600, 800, 1000, 1200, 1500))
        grade = rng.randrange(len(GRADES))
        mounts = sorted(rng.sample(MOUNTS, rng.randint(2, 4)))
        price = _money(150 + capacity * 0.4 + grade * 120 + rng.uniform(-40, 40), rng)
        rows.append(
            {
                "sku": f"{module[:3].upper()}-B{family:02d}-{i + 1}",
                "title": f"{module.title()} base {capacity} W, {GRADES[grade]}",
                "values": {
                    "family": family,
                    "mounts": "{" + ", ".join(mounts) + "}",
                    "capacity": capacity,
                    "grade": GRADES[grade],
                    "price": price,
                },
            }
        )
    return rows


def _unit_rows(rng: Random, unit: Unit) -> list[dict[str, Any]]:
    rows = []
    for i in range(rng.randint(3, 4)):
        load = rng.randrange(100, 501, 50)
        grade = rng.randrange(len(GRADES))
        price = _money(40 + load * 0.5 + grade * 60 + rng.uniform(-20, 20), rng)
        rows.append(
            {
                "sku": f"{unit.module[:3].upper()}-U{unit.family:02d}{unit.slot}-{i + 1}",
                "title": f"{unit.module.title()} {UNIT_NAMES[unit.slot - 1]} {load} W",
                "values": {
                    "family": unit.family,
                    "slot": unit.slot,
                    "mount": rng.choice(MOUNTS),
                    "load": load,
                    "grade": GRADES[grade],
                    "price": price,
                },
            }
        )
    return rows


def _row_text(row: Mapping[str, Any]) -> str:
    values = ", ".join(f"{k}={v}" for k, v in row["values"].items())
    return f'  "{row["sku"]}" "{row["title"]}": {values}'


def _expected_price(unit: Unit) -> Decimal:
    """The mean price a uniformly random choice of this component adds."""
    prices = [Decimal(r["values"]["price"]) for r in unit.rows]
    mean = sum(prices, Decimal(0)) / len(prices)
    quantity = Decimal(1 + unit.qty_max) / 2
    share = Decimal(len(prices)) / (len(prices) + 1) if unit.optional else Decimal(1)
    return mean * quantity * share


def generate_line(seed: int) -> Line:
    """A bottling line of 8 modules; each a base and 2-3 units that mount on it.

    Rules are mostly local: a unit's mount must be on its base, the base powers
    its first two units, grades pair up within a module; a few options reach
    several modules, adjacent modules hand over between grades, and one rule
    caps the total price of the line."""
    rng = Random(seed)
    units: list[Unit] = []
    rules: list[tuple[str, str, str]] = []
    per_module: dict[str, tuple[Unit, list[Unit]]] = {}
    for family, module in enumerate(MODULES, start=1):
        base = Unit(f"{module}_base", module, "Base", 0, family)
        base.rows = _base_rows(rng, module, family)
        children = []
        for slot in range(1, rng.randint(2, 3) + 1):
            child = Unit(f"{module}_{UNIT_NAMES[slot - 1]}", module, "Unit", slot, family)
            child.optional = slot > 1 and rng.random() < 0.5
            child.qty_max = 2 if slot == 1 and rng.random() < 0.4 else 1
            child.rows = _unit_rows(rng, child)
            children.append(child)
        units += [base, *children]
        per_module[module] = (base, children)

    for module, (base, children) in per_module.items():
        b = base.name
        for child in children:
            fits = f"{child.name}.mount in {b}.mounts"
            expr = f"{child.name} != none -> {fits}" if child.optional else fits
            rules.append((f"{child.name}_mount", f"The {child.name} mounts on the base", expr))
        first, second = children[0].name, children[1].name
        load = f"{first}.qty * {first}.load" if children[0].qty_max > 1 else f"{first}.load"
        rules.append(
            (
                f"{module}_power",
                f"The {module} base powers its {UNIT_NAMES[0]} and {UNIT_NAMES[1]}",
                f"{b}.capacity >= {load} + {second}.load",
            )
        )
        heavy = rng.choice(children).name
        rules.append(
            (
                f"{heavy}_heavy",
                "A heavy unit needs a pro or heavy base",
                f"{heavy}.grade == heavy -> {b}.grade != standard",
            )
        )
        if rng.random() < 0.6:
            rules.append(
                (
                    f"{module}_mix",
                    "Standard and heavy units are not mixed in one module",
                    f"not ({first}.grade == standard and {second}.grade == heavy)",
                )
            )
        if module in THROUGHPUT:
            rules.append(
                (
                    f"{module}_output",
                    "The base keeps up with the ordered output",
                    f"{b}.capacity >= 250 * output + 300",
                )
            )
        if module in FOOD_CONTACT:
            rules.append(
                (
                    f"{module}_washdown",
                    "Washdown lines get pro or heavy parts where they touch the product",
                    f"washdown -> {b}.grade != standard and {first}.grade != standard",
                )
            )
        if rng.random() < 0.5:
            rules.append(
                (
                    f"{module}_duty",
                    "Continuous duty needs a base of 1000 W or more",
                    f"duty == continuous -> {b}.capacity >= 1000",
                )
            )
        spare = [c for c in children if c.optional]
        if spare and rng.random() < 0.5:
            rules.append(
                (
                    f"{spare[0].name}_redundancy",
                    "Redundant lines fit every optional unit",
                    f"redundancy -> {spare[0].name} != none",
                )
            )
    for a, b in pairwise(MODULES):
        if rng.random() < 0.5:
            rules.append(
                (
                    f"handover_{a}_{b}",
                    "A heavy module hands over only to a pro or heavy module",
                    f"{a}_base.grade == heavy -> {b}_base.grade != standard",
                )
            )
    expected = sum((_expected_price(u) for u in units), Decimal(0))
    budget = Decimal(int(expected) // 100 * 100)
    rules.append(
        ("budget", "The line stays within the customer's budget", f"total(price) <= {budget}")
    )

    out = [
        f"# Generated by benchmarks/bench_solve.py (seed {seed}): do not edit.",
        'product bottling_line "Bottling line built to order"',
        "",
        "enum Mount { " + ", ".join(MOUNTS) + " }",
        "enum Grade { " + ", ".join(GRADES) + " }",
        "",
        "type Base {",
        "  family: int",
        "  mounts: set of Mount",
        '  capacity: int unit "W"',
        "  grade: Grade",
        '  price: decimal unit "EUR"',
        "}",
        "type Unit {",
        "  family: int",
        "  slot: int",
        "  mount: Mount",
        '  load: int unit "W"',
        "  grade: Grade",
        '  price: decimal unit "EUR"',
        "}",
        "",
    ]
    for kind in ("Base", "Unit"):
        out.append(f"parts {kind} {{")
        out += [_row_text(row) for u in units if u.kind == kind for row in u.rows]
        out += ["}", ""]
    for u in units:
        modifiers = f" qty 1..{u.qty_max}" if u.qty_max > 1 else ""
        modifiers += " optional" if u.optional else ""
        where = f"family == {u.family}" + (f" and slot == {u.slot}" if u.kind == "Unit" else "")
        out.append(f"component {u.name}: {u.kind}{modifiers} where {where}")
    out += [
        "",
        "option duty: enum { light, normal, continuous } default normal",
        "option output: int 1..4 default 2",
        "option washdown: bool default false",
        "option redundancy: bool default false",
        "",
    ]
    for name, description, expr in rules:
        out.append(f'rule {name} "{description}":\n  {expr}')
    out.append("")
    return Line(
        text="\n".join(out),
        components=len(units),
        skus=sum(len(u.rows) for u in units),
        rules=len(rules),
        budget=budget,
    )


# ---- measuring ---------------------------------------------------------------------------


@dataclass
class Outcome:
    result: str
    stopped: str | None = None


@dataclass
class Row:
    operation: str
    seconds: float | None
    result: str
    stopped: str | None = None
    versus: str = ""
    rerun: Callable[[], object] | None = None


@dataclass
class Baseline:
    rate: float  # assemblies checked per second
    checked: int
    valid: int


def timed(fn: Callable[[], Outcome]) -> tuple[float, Outcome]:
    start = time.perf_counter()
    try:
        outcome = fn()
    except Exception as exc:  # a crash inside atoconf is a finding: report it, go on
        traceback.print_exc(limit=3)
        outcome = Outcome(f"CRASH {type(exc).__name__}: {exc}"[:60])
    return time.perf_counter() - start, outcome


def big(n: float) -> str:
    return f"{n:,.0f}" if n < 1e7 else f"{n:.2e}"


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    if seconds < 3600 * 48:
        return f"{seconds / 3600:.1f} h"
    if seconds < 3600 * 24 * 365:
        return f"{seconds / (3600 * 24):.0f} days"
    return f"{seconds / (3600 * 24 * 365):.2e} years"


def brute_force(model: Model, seconds: float, seed: int) -> Baseline:
    """Random assignments of every variable, each value drawn from its full domain
    (the space `space_size` counts), checked against every rule until one fails.
    Drawing the assignments is not timed; building the assembly and checking is."""
    rng = Random(seed)
    variables = [(v.name, v.domain) for v in compiled(model).variables.values()]
    quantity_of = {c: f"{c}.qty" for c in model.components}
    rules = [rule.expr for rule in model.rules.values()]
    checked = valid = 0
    elapsed = 0.0
    while elapsed < seconds:
        batch = [{name: rng.choice(domain) for name, domain in variables} for _ in range(500)]
        start = time.perf_counter()
        for values in batch:
            # an absent component has quantity 0, a present one a quantity of its range
            if any(
                q in values and (values[c] is None) != (values[q] == 0)
                for c, q in quantity_of.items()
            ):
                continue
            assembly = assembly_of(model, values)
            if all(holds(model, expr, assembly) for expr in rules):
                valid += 1
        elapsed += time.perf_counter() - start
        checked += len(batch)
    return Baseline(checked / elapsed, checked, valid)


def expression(model: Model, text: str) -> Expr:
    expr, diagnostics, _ = typed_expression(model, text, "<bench>")
    if expr is None:
        raise ValueError(f"{text!r}: " + "; ".join(d.message for d in diagnostics))
    return expr


def short(value: Value) -> str:
    return "none" if value is None else str(value)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (of 10 values, p95 is the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Session:
    times: list[float] = field(default_factory=list)
    clicks: list[str] = field(default_factory=list)
    stopped: int = 0
    note: str = ""


def interactive(model: Model, start: DomainsResult, seed: int, deadline: float) -> Session:
    """Ten clicks: each fixes one still-open variable to a value `domains` offers
    (chosen by the seed), then `domains` is timed for the request so far."""
    rng = Random(seed)
    select: dict[str, Value] = {}
    current = start
    session = Session()
    for _ in range(CLICKS):
        open_ = [
            (name, values)
            for name, values in current.domains.items()
            if name not in select and len(values) > 1
        ]
        if not open_:
            session.note = "nothing left open"
            break
        name, values = rng.choice(open_)
        select[name] = rng.choice(values)
        session.clicks.append(f"{name}={short(select[name])}")
        began = time.perf_counter()
        current = domains(model, select, deadline=deadline)
        session.times.append(time.perf_counter() - began)
        if current.stopped:
            session.stopped += 1
            session.note = "cut short: a click was stopped, its domains are unproven"
            break
        if not current.satisfiable:
            session.note = "a click left no valid assembly (should not happen)"
            break
    return session


@dataclass
class Case:
    title: str
    path: Path
    request: dict[str, Value]
    count_goal: bool = False  # the large model: count must be exact in < 10 s
    about: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdict: bool | None = None  # the count goal, for the model that has one


def measure(case: Case, seed: int, deadline: float) -> Report | None:
    """The table rows for one model; None when it does not load."""
    try:
        load_s = time.perf_counter()
        model = atoconf.load(case.path)
        load_s = time.perf_counter() - load_s
    except atoconf.RuleError as exc:
        print(f"{case.title}: load FAILED with {len(exc.diagnostics)} error(s)")
        for d in exc.diagnostics[:15]:
            print(f"  {d.span or '-'}: {d.code} {d.message}")
        return None
    except Exception:
        traceback.print_exc()
        print(f"{case.title}: load CRASHED")
        return None

    report = Report()
    rows = report.rows
    rows.append(Row("load", load_s, f"{len(model.components)} components"))
    compile_s, size_outcome = timed(lambda: Outcome(str(space_size(model))))
    space = int(size_outcome.result) if size_outcome.result.isdigit() else 0
    rows.append(Row("compile + space size", compile_s, f"{big(space)} assemblies"))

    base = brute_force(model, BASELINE_S, seed)
    valid = f"{base.valid:,}/{base.checked:,} valid"
    if base.valid:
        valid += f", so count ~ {space * base.valid / base.checked:.2g}"
    rows.append(
        Row(
            "baseline: brute-force check",
            base.checked / base.rate,
            f"{big(base.rate)} assemblies/s",
            versus=valid,
        )
    )

    def versus(seconds: float) -> str:
        return f"= {big(seconds * base.rate)} brute-force checks"

    counted: dict[str, CountResult] = {}

    def do_count() -> Outcome:
        result = count(model, deadline=deadline)
        counted["result"] = result
        text = f"{big(result.count)} {'exact' if result.exact else 'NOT exact'}"
        return Outcome(text, result.stopped)

    seconds, outcome = timed(do_count)
    brute = f"brute force: {duration(space / base.rate)}"
    if not outcome.stopped:
        brute += f" ({space / base.rate / seconds:.1e}x)"
    rows.append(
        Row(
            "count",
            seconds,
            outcome.result if not outcome.stopped else "-",
            outcome.stopped,
            brute,
            do_count,
        )
    )
    if case.count_goal:
        result = counted.get("result")
        report.verdict = bool(
            result is not None and result.exact and not result.stopped and seconds < GOAL_COUNT_S
        )
        report.notes.append(
            f"goal: {case.title}: space {big(space)}"
            f" (>= 1e15: {'yes' if space >= GOAL_SPACE else 'NO'}),"
            f" count exact in < {GOAL_COUNT_S:g} s: {duration(seconds)}"
            f"{' stopped' if outcome.stopped else ''} -> {'PASS' if report.verdict else 'FAIL'}"
        )

    first_domains: dict[str, DomainsResult] = {}

    def do_domains(request: Mapping[str, Value]) -> Outcome:
        result = domains(model, request, deadline=deadline)
        first_domains.setdefault("none" if not request else "request", result)
        if not result.satisfiable:
            return Outcome("unsatisfiable", result.stopped)
        open_ = sum(len(v) > 1 for v in result.domains.values())
        values = sum(len(v) for v in result.domains.values())
        return Outcome(f"{open_} open, {values} values", result.stopped)

    request_text = ", ".join(f"{k}={short(v)}" for k, v in case.request.items())
    for label, request in (("domains", {}), (f"domains {request_text}", case.request)):

        def again(request: Mapping[str, Value] = request) -> Outcome:
            return do_domains(request)

        seconds, outcome = timed(again)
        rows.append(Row(label, seconds, outcome.result, outcome.stopped, versus(seconds), again))

    def do_solve(limit: int, minimize: Expr | None = None) -> Outcome:
        stopped: list[str] = []
        stream = solve(model, minimize=minimize, limit=limit, deadline=deadline, stopped=stopped)
        found = list(islice(stream, limit))
        if minimize is not None and found:
            return Outcome(f"optimum {found[0]['objective']}", stopped[0] if stopped else None)
        noun = "assembly" if len(found) == 1 else "assemblies"
        return Outcome(f"{len(found)} {noun}", stopped[0] if stopped else None)

    price = expression(model, "total(price)")
    for label, limit, objective in (
        ("solve: first assembly", 1, None),
        (f"solve: {STREAMED} assemblies", STREAMED, None),
        ("solve: min total(price)", 1, price),
    ):

        def run(limit: int = limit, objective: Expr | None = objective) -> Outcome:
            return do_solve(limit, objective)

        seconds, outcome = timed(run)
        rows.append(Row(label, seconds, outcome.result, outcome.stopped, versus(seconds), run))

    start = first_domains.get("none")
    if start is None or not start.satisfiable:
        rows.append(Row(f"session: {CLICKS} clicks", None, "skipped: no domains to click"))
    else:
        session = interactive(model, start, seed, deadline)
        if session.times:
            p50, p95 = percentile(session.times, 50), percentile(session.times, 95)
            rows.append(
                Row(
                    f"session: {len(session.times)} clicks, p50",
                    p50,
                    f"p95 {duration(p95)}",
                    "deadline" if session.stopped else None,
                    versus(p50),
                )
            )
        report.notes.insert(0, f"{case.title}: clicks " + ", ".join(session.clicks))
        if session.note:
            report.notes.insert(1, f"{case.title}: session {session.note}")
    return report


def print_table(title: str, rows: Sequence[Row]) -> None:
    print(f"\n== {title}")
    width = max(len(r.operation) for r in rows)
    for r in rows:
        seconds = "-" if r.seconds is None else duration(r.seconds)
        result = f"stopped: {r.stopped}" if r.stopped and r.result == "-" else r.result
        if r.stopped and r.result != "-":
            result += f" (stopped: {r.stopped})"
        print(f"  {r.operation.ljust(width)}  {seconds:>10}  {result:<28}  {r.versus}".rstrip())


def profile(title: str, row: Row) -> None:
    assert row.rerun is not None
    print(f"\n== profile: {title} / {row.operation} (its slowest operation), by own time")
    profiler = cProfile.Profile()
    profiler.enable()
    row.rerun()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.strip_dirs().sort_stats("tottime").print_stats(PROFILE_LINES)
    lines = [line for line in text.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    for line in lines[start:]:
        print("  " + line[:120])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=1, help="seed of the generator and the clicks")
    parser.add_argument(
        "--deadline", type=float, default=30.0, help="seconds allowed for each operation"
    )
    parser.add_argument(
        "--keep", metavar="DIR", type=Path, help="write the generated product to DIR and keep it"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile each model's slowest operation afterwards"
    )
    parser.add_argument(
        "--only", choices=("pc", "bike", "line"), action="append", help="measure only these"
    )
    args = parser.parse_args(argv)

    line = generate_line(args.seed)
    with tempfile.TemporaryDirectory(prefix="atoconf-bench-") as tmp:
        folder = args.keep if args.keep is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        generated = folder / "bottling_line.ato"
        generated.write_text(line.text, encoding="utf-8")
        cases = {
            "pc": Case("workstation PC", ROOT / "catalogs/pc/workstation.ato", {"usage": "gaming"}),
            "bike": Case("bicycle", ROOT / "catalogs/bike/bicycle.ato", {"usage": "gravel"}),
            "line": Case(
                f"generated bottling line (seed {args.seed})",
                generated,
                {"duty": "continuous"},
                count_goal=True,
                about=(
                    f"{line.components} components, {line.skus} SKUs, {line.rules} rules,"
                    f" budget total(price) <= {line.budget}"
                ),
            ),
        }
        print(
            f"atoconf {atoconf.__version__}, Python {sys.version.split()[0]},"
            f" deadline {args.deadline:g} s per operation, seed {args.seed}"
        )
        print(
            "last column: what brute force (the baseline row: random assemblies checked"
            " with holds)\ndoes in the same time; for count, the time it needs for the"
            " whole space (and the speedup)"
        )
        status = 0
        slowest: list[tuple[str, Row]] = []
        notes: list[str] = []
        for key in args.only or list(cases):
            case = cases[key]
            report = measure(case, args.seed, args.deadline)
            if report is None:
                status = 2
                continue
            print_table(case.title + (f": {case.about}" if case.about else ""), report.rows)
            notes += report.notes
            timed_rows = [r for r in report.rows if r.rerun is not None and r.seconds is not None]
            worst = max(timed_rows, key=lambda r: r.seconds or 0.0, default=None)
            if worst is not None and (worst.seconds or 0.0) > PROFILE_S:
                slowest.append((case.title, worst))
        print()
        for text in notes:
            print(text)
        if args.keep is not None:
            print(f"generated product kept in {generated}")
        if args.profile:
            for title, row in slowest:
                profile(title, row)
    return status


if __name__ == "__main__":
    sys.exit(main())
