#!/usr/bin/env python3
"""How fast does atoconf answer on products of every shape, not only the large PC?

Measures, through the public API only, generated products of every family of
shapes.py (1,500 SKUs each; the held-out-like family 1,458), the bundled catalogs
(workstation PC, bicycle) and the large PC of large_pc.py. Each model runs in a
fresh process, so its first request and its peak memory are its own, and every
operation gets a deadline (--deadline), so the run always ends:

- first request: load the model and answer `domains` for the empty request (the
  parser is warmed on a tiny product first, as a running server would have it);
- 10 clicks: each fixes one value (chosen from the seed) that the current domains
  still offer, then `domains` is timed for the request so far: p50, p95, max;
- solve: the first assembly, and the 100 cheapest (minimize total(price)) where
  the parts have a price; both without soft defaults;
- explain: requests of two selects without a valid assembly (the first click's
  value and a value that click greyed out; when `domains` was stopped before it
  greyed anything out, random pairs that a short search proves to conflict);
- why: after each click, one value greyed out so far (else the second item of
  each conflict found), explained;
- count: the exact number of valid assemblies (time, exact or not), its deadline
  no shorter than its goal;
- peak resident memory of the model's process;
- the naive encoding of bench_solver.py (one python-constraint FunctionConstraint
  per rule, domains by listing every assembly) under --naive-deadline: its time
  over atoconf's `domains` (a lower bound when it was stopped).

Each figure is printed per model, then per family and overall beside its goal:
domains p95 < 100 ms and no click over 300 ms, first request < 2 s, solve first
< 100 ms, 100 cheapest < 300 ms, explain p95 < 500 ms, why p95 < 200 ms, count
p95 < 5 s (large PC and feature models < 10 s), peak memory < 500 MB. A figure
marked `>` was stopped by its deadline: a lower bound. Once --patience clicks
(explains, whys) of a model were stopped, the rest of them are skipped. Every
operation also records its CPU time: CPU/wall well under 100% means other
processes shared the CPUs and the wall times are inflated, and the paths the
engine says answered it (logger `atoconf.engine`): every path other than the
plain compiled graphs (a fallback with its reason, or a graph that says what it
left to be checked on paths or how it counted) is printed per model and per
family, and at the end each goal a family misses is listed with the paths that
answered those operations: why it missed.

    python benchmarks/bench_shapes.py [--families pc,server,...] [--count 5] [--skus N]
        [--seed 1] [--deadline 30] [--naive-deadline 5] [--jobs 1] [--quick]
        [--json FILE] [--keep DIR]

Exit status: 0 whatever the timings (a benchmark reports, it does not fail CI);
2 when a model does not load.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "benchmarks"):  # run from a checkout without installing
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from large_pc import generate_large_pc  # noqa: E402
from shapes import FAMILIES, HELDOUT_SKUS, generate, write  # noqa: E402

import atoconf  # noqa: E402

CLICKS = 10
CHEAPEST = 100
SKUS = 1500
CATALOGS = ("catalogs", "large_pc")  # the bundled catalogs, and the large PC
GROUPS = (*FAMILIES, *CATALOGS)

# goals, in seconds (memory in MB)
GOAL_CLICK_P95 = 0.100
GOAL_CLICK_MAX = 0.300
GOAL_FIRST = 2.0
GOAL_SOLVE_FIRST = 0.100
GOAL_CHEAPEST = 0.300
GOAL_EXPLAIN_P95 = 0.500
GOAL_WHY_P95 = 0.200
GOAL_COUNT = {"large_pc": 10.0, "feature": 10.0}  # others: GOAL_COUNT_DEFAULT
GOAL_COUNT_DEFAULT = 5.0
GOAL_MEMORY_MB = 500.0

Record = dict[str, Any]  # one operation's figures, as written to --json


@dataclass(frozen=True)
class Case:
    """One model to measure."""

    name: str
    group: str  # a family of shapes.py, `catalogs` or `large_pc`
    path: Path
    seed: int


@dataclass(frozen=True)
class Settings:
    deadline: float
    naive_deadline: float
    clicks: int
    explains: int
    whys: int
    patience: int  # deadline hits of one kind of operation before the rest is skipped
    budget: float  # seconds of wall time for one model's process


# ---- measuring, in the model's own process -----------------------------------------------------


def peak_mb() -> float:
    """This process's peak resident size (ru_maxrss is KiB on Linux, bytes on macOS)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


class PathLog(logging.Handler):
    """The paths the engine says answered (logger `atoconf.engine`, DEBUG): which
    operations fell back from the compiled graphs, and why."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        path = getattr(record, "path", None)
        if path is not None:
            reason = getattr(record, "reason", "")
            said = f"{getattr(record, 'operation', '?')}: {path}" + (
                f" ({reason})" if reason else ""
            )
            if said not in self.seen:
                self.seen.append(said)


PATHS = PathLog()


def timed(fn: Callable[[], Record]) -> Record:
    """Run one operation: its record plus `s` (wall seconds), `cpu_s` (this process's
    CPU seconds: near `s` unless other processes share the CPUs) and `paths` (which
    paths of the engine answered it); a crash is recorded."""
    began, cpu = time.perf_counter(), time.process_time()
    PATHS.seen = []
    try:
        record = fn()
    except Exception as exc:  # a crash is a finding: report it and go on
        traceback.print_exc(limit=3)
        record = {"stopped": False, "crash": f"{type(exc).__name__}: {exc}"[:200]}
    return {
        "s": time.perf_counter() - began,
        "cpu_s": time.process_time() - cpu,
        "paths": PATHS.seen,
        **record,
    }


def shown(value: Any) -> str:
    return (
        "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    )


def choice(name: str, value: Any) -> tuple[str, Any]:
    """A value `domains` offers as a request's select: `domains` lists quantity 0 for an
    absent optional component, which a request must write as the component being none."""
    if name.endswith(".qty") and value == 0:
        return name.removesuffix(".qty"), None
    return name, value


def greyed(
    before: dict[str, list[Any]], after: dict[str, list[Any]], select: dict[str, Any]
) -> list[tuple[str, Any]]:
    """Values offered before a click and greyed out after it (for names still open)."""
    out = []
    for name, values in before.items():
        if name in select or name not in after:
            continue
        still = {(type(v), v) for v in after[name]}
        out += [choice(name, v) for v in values if (type(v), v) not in still]
    return [(n, v) for n, v in out if n not in select]


def solutions(configuration: Any, **how: Any) -> tuple[list[Any], bool]:
    """`configuration.solve(**how)` listed, and whether a deadline stopped it (the stream
    says so in its `stopped`; before it did, a list passed as `stopped=` did)."""
    stopped: list[Any] = []
    try:
        stream = configuration.solve(stopped=stopped, **how)
    except TypeError:
        stream = configuration.solve(**how)
    found = list(stream)
    return found, bool(stopped) or getattr(stream, "stopped", None) is not None


def naive_domains(model: object, deadline: float) -> Record:
    """bench_solver's naive encoding: every valid assembly enumerated (domains and count)."""
    try:  # imported by name: bench_solver reads atoconf's internals, mypy need not follow it
        solver = importlib.import_module("bench_solver")
    except Exception as exc:
        return {"stopped": False, "unavailable": f"{type(exc).__name__}: {exc}"[:200]}
    expired: type[Exception] = solver.Expired
    assemblies: Callable[[object, float], Iterator[dict[str, Any]]] = solver.naive_assemblies
    seen = 0
    try:  # the language model behind the loaded product, whichever the API returns
        for _ in assemblies(getattr(model, "model", model), deadline):
            seen += 1
    except expired:
        return {"stopped": True, "seen": seen}
    return {"stopped": False, "seen": seen}


def measure(case: Case, settings: Settings, send: Callable[[Record], None]) -> None:
    """Every figure of one model; `send` gets the record so far after each stage."""
    deadline = settings.deadline
    rng = Random(f"{case.seed}:{case.name}")
    out: Record = {"name": case.name, "group": case.group, "path": str(case.path)}
    engine_log = logging.getLogger("atoconf.engine")
    engine_log.setLevel(logging.DEBUG)
    engine_log.addHandler(PATHS)
    engine_log.propagate = False
    warm = atoconf.loads("product warm_up\noption a: bool\noption b: bool\nrule r: a -> b\n")
    warm.configure({}).domains()

    began, cpu = time.perf_counter(), time.process_time()
    PATHS.seen = []
    try:
        model = atoconf.load(case.path)
    except atoconf.RuleError as exc:
        out["load_error"] = [f"{d.span}: {d.code} {d.message}" for d in exc.diagnostics[:20]]
        send(out)
        return
    out["load_s"] = time.perf_counter() - began
    out["skus"] = len(model.parts)
    out["components"] = len(model.components)
    out["options"] = len(model.options)
    out["rules"] = len(model.rules)
    first = model.configure({}).domains(deadline=deadline)
    out["first_request_s"] = time.perf_counter() - began
    out["first_request_cpu_s"] = time.process_time() - cpu
    out["first_stopped"] = first.stopped is not None
    out["first_paths"] = PATHS.seen
    out["values"] = sum(len(v) for v in first.domains.values())
    send(out)

    # ---- ten clicks, and the values each greys out --------------------------------------------
    full = first.domains
    select: dict[str, Any] = {}
    current = first.domains
    clicks: list[Record] = []
    states: list[tuple[dict[str, Any], dict[str, list[Any]]]] = []
    for _ in range(settings.clicks):
        offered = [(n, vs) for n, vs in current.items() if n not in select and len(vs) > 1]
        if not offered or sum(c.get("stopped", False) for c in clicks) >= settings.patience:
            break
        name, values = rng.choice(offered)
        name, value = choice(name, rng.choice(values))
        if name in select:  # `x.qty = 0` after `x` was chosen
            continue
        select[name] = value
        request = {"select": dict(select)}

        def click(request: dict[str, Any] = request) -> Record:
            r = model.configure(request).domains(deadline=deadline)
            return {
                "stopped": r.stopped is not None,
                "satisfiable": r.satisfiable,
                "domains": r.domains,
            }

        record = timed(click)
        current = record.pop("domains", {})
        clicks.append({"click": f"{name}={shown(value)}", **record})
        if "crash" in record or not record["satisfiable"]:
            break
        states.append((dict(select), current))
    out["clicks"] = clicks
    send(out)

    # ---- explain: two selects without a valid assembly ----------------------------------------
    pairs: list[dict[str, Any]] = []
    if states:
        ((key, value),) = states[0][0].items()
        pairs = [{key: value, n: v} for n, v in greyed(full, states[0][1], states[0][0])]
    probes = 0
    while not pairs and probes < 2 and full:  # the first click greyed nothing: try others
        probes += 1
        name = rng.choice(sorted(n for n, vs in full.items() if len(vs) > 1) or [""])
        if not name:
            break
        name, value = choice(name, rng.choice(full[name]))
        one = model.configure({"select": {name: value}}).domains(deadline=deadline)
        pairs = [{name: value, n: v} for n, v in greyed(full, one.domains, {name: value})]
    tries = 0
    while not pairs and tries < 30 and len(full) > 1:
        # no value known to be greyed out (domains were stopped): draw two selects, and
        # keep them when a short search proves that they have no valid assembly
        tries += 1
        (a, xs), (b, ys) = rng.sample(sorted(full.items()), 2)
        pair = dict([choice(a, rng.choice(xs)), choice(b, rng.choice(ys))])
        if len(pair) == 2:
            found, stopped = solutions(
                model.configure({"select": pair}), limit=1, defaults=False, deadline=1.0
            )
            if not found and not stopped:
                pairs.append(pair)
    explains: list[Record] = []
    for pair in rng.sample(pairs, min(settings.explains, len(pairs))):
        if sum(e.get("stopped", False) for e in explains) >= settings.patience:
            break

        def explain(pair: dict[str, Any] = pair) -> Record:
            e = model.configure({"select": pair}).explain(deadline=deadline)
            return {
                "request": {k: shown(v) for k, v in pair.items()},
                "stopped": e.stopped is not None,
                "satisfiable": e.satisfiable,
                "conflict": [m.name or m.item for m in e.conflict],
                "repairs": len(e.repairs),
            }

        explains.append(timed(explain))
        send({**out, "explain": explains})
    out["explain"] = explains

    # ---- why: a value each click greyed out ---------------------------------------------------
    whys: list[Record] = []
    asked: list[tuple[dict[str, Any], str, Any]] = []
    for chosen, domains in states[: settings.whys]:
        options = greyed(full, domains, chosen)
        if options:
            asked.append((chosen, *rng.choice(options)))
    if not asked:  # nothing known greyed out: why the second item of each conflict
        for pair in pairs[: settings.whys]:
            (a, x), (b, y) = pair.items()
            asked.append(({a: x}, b, y))
    for chosen, name, value in asked:
        if sum(w.get("stopped", False) for w in whys) >= settings.patience:
            break

        def why(chosen: dict[str, Any] = chosen, name: str = name, value: Any = value) -> Record:
            e = model.configure({"select": chosen}).why(name, value, deadline=deadline)
            return {
                "value": f"{name}={shown(value)}",
                "after": len(chosen),
                "stopped": e.stopped is not None,
                "satisfiable": e.satisfiable,
                "conflict": [m.name or m.item for m in e.conflict],
            }

        whys.append(timed(why))
        send({**out, "why": whys})
    out["why"] = whys

    # ---- solve, count ---------------------------------------------------------------------------
    empty = model.configure({})

    def solve_first() -> Record:
        found, stopped = solutions(empty, limit=1, defaults=False, deadline=deadline)
        return {"stopped": stopped, "found": len(found)}

    def cheapest() -> Record:
        try:
            found, stopped = solutions(
                empty, minimize="total(price)", limit=CHEAPEST, defaults=False, deadline=deadline
            )
        except atoconf.RequestError:
            return {"stopped": False, "unpriced": True}
        return {
            "stopped": stopped,
            "found": len(found),
            "from": found[0].objective if found else None,
        }

    def count() -> Record:
        # never stopped before its goal: a count within its goal is seen to be
        r = empty.count(deadline=max(deadline, GOAL_COUNT.get(case.group, GOAL_COUNT_DEFAULT)))
        return {"stopped": r.stopped is not None, "exact": r.exact, "count": str(r.count)}

    def domains_again() -> Record:
        r = empty.domains(deadline=deadline)
        return {"stopped": r.stopped is not None}

    out["solve_first"] = timed(solve_first)
    send(out)
    out["cheapest"] = timed(cheapest)
    send(out)
    out["count"] = timed(count)
    send(out)
    out["domains_again"] = timed(domains_again)
    out["peak_mb"] = peak_mb()
    send(out)
    if settings.naive_deadline > 0:
        out["naive"] = timed(lambda: naive_domains(model, settings.naive_deadline))
    send(out)


def child(case: Case, settings: Settings, conn: Connection) -> None:
    """A model's process: measure, sending every partial record up the pipe."""
    latest: Record = {"name": case.name, "group": case.group}

    def send(record: Record) -> None:
        latest.update(record)
        conn.send(record)

    try:
        measure(case, settings, send)
    except Exception as exc:
        traceback.print_exc(limit=5)
        conn.send({**latest, "crash": f"{type(exc).__name__}: {exc}"[:200]})
    finally:
        conn.close()


def run(case: Case, settings: Settings) -> Record:
    """Measure one model in a fresh process; kill it past the model's wall budget."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=child, args=(case, settings, send), daemon=True)
    began = time.perf_counter()
    process.start()
    send.close()
    record: Record = {"name": case.name, "group": case.group, "path": str(case.path)}
    while True:
        try:
            if receive.poll(1.0):
                record = receive.recv()
                continue
        except EOFError:
            break
        if not process.is_alive() and not receive.poll(0):
            break
        if time.perf_counter() - began > settings.budget:
            process.kill()
            record["killed"] = f"killed after {settings.budget:.0f} s"
            break
    process.join(5)
    record["wall_s"] = time.perf_counter() - began
    return record


# ---- figures -----------------------------------------------------------------------------------


@dataclass
class Figure:
    """Seconds, and whether a deadline stopped the operation (then a lower bound)."""

    s: float
    stopped: bool = False

    def __str__(self) -> str:
        text = f"{self.s * 1000:.0f} ms" if self.s < 1 else f"{self.s:.2f} s"
        return ("> " if self.stopped else "") + text


def figures(records: list[Record]) -> list[Figure]:
    return [Figure(r["s"], bool(r.get("stopped"))) for r in records if "s" in r]


def percentile(values: list[Figure], p: float) -> Figure | None:
    """Nearest-rank percentile (of 10 values, p95 is the largest); None for no values."""
    if not values:
        return None
    ordered = sorted(values, key=lambda f: f.s)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def op(record: Record, key: str) -> Figure | None:
    r = record.get(key)
    if not isinstance(r, dict) or "s" not in r or r.get("unpriced") or r.get("unavailable"):
        return None
    return Figure(r["s"], bool(r.get("stopped")))


def first_request(record: Record) -> Figure | None:
    if "first_request_s" not in record:
        return None
    return Figure(record["first_request_s"], bool(record.get("first_stopped")))


def cpu_share(records: list[Record]) -> float | None:
    """CPU seconds over wall seconds of every timed operation: 1.0 when the model's
    process had a CPU to itself, less when other processes shared them."""
    wall = cpu = 0.0
    for r in records:
        wall += r.get("first_request_s", 0.0)
        cpu += r.get("first_request_cpu_s", 0.0)
        for key in ("clicks", "explain", "why"):
            wall += sum(x.get("s", 0.0) for x in r.get(key, []))
            cpu += sum(x.get("cpu_s", 0.0) for x in r.get(key, []))
        for key in ("solve_first", "cheapest", "count", "domains_again"):
            wall += r.get(key, {}).get("s", 0.0)
            cpu += r.get(key, {}).get("cpu_s", 0.0)
    return cpu / wall if wall else None


def total_time(record: Record) -> float:
    """Seconds spent in the model's timed operations (not the naive encoding's)."""
    spent = record.get("first_request_s", 0.0)
    for key in ("clicks", "explain", "why"):
        spent += sum(r.get("s", 0.0) for r in record.get(key, []))
    for key in ("solve_first", "cheapest", "count", "domains_again"):
        spent += record.get(key, {}).get("s", 0.0)
    return float(spent)


def worst(record: Record) -> tuple[str, Figure]:
    """The model's slowest single operation."""
    found: list[tuple[str, Figure]] = []
    if (f := first_request(record)) is not None:
        found.append(("first request", f))
    for key, title in (("clicks", "click"), ("explain", "explain"), ("why", "why")):
        found += [(title, f) for f in figures(record.get(key, []))]
    for key, title in (
        ("solve_first", "solve first"),
        ("cheapest", "100 cheapest"),
        ("count", "count"),
    ):
        if (f := op(record, key)) is not None:
            found.append((title, f))
    return max(found, key=lambda x: x[1].s) if found else ("-", Figure(0.0))


def naive_ratio(record: Record) -> str:
    """The naive encoding's time to list every assembly over atoconf's domains."""
    naive, ours = record.get("naive"), op(record, "domains_again")
    if not isinstance(naive, dict) or ours is None or "s" not in naive or "unavailable" in naive:
        return "-"
    ratio = naive["s"] / max(ours.s, 1e-9)
    if ours.stopped:
        return "-"
    text = f"{'>= ' if naive.get('stopped') else ''}{ratio:,.1f}x"
    count = record.get("count", {})
    seen = naive.get("seen", 0)
    if naive.get("stopped") and count.get("exact") and seen:
        needed = int(count["count"]) / (seen / naive["s"])  # at its rate, all of them take
        text += f" (all would take ~{needed:.3g} s: ~{needed / max(ours.s, 1e-9):.3g}x)"
    return text


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def line(title: str, value: Figure | None, goal: float, extra: str = "") -> str:
    if value is None:
        return f"   {title:<28} {'-':>12}   goal < {Figure(goal)!s:<8}  n/a {extra}".rstrip()
    ok = value.s < goal and not value.stopped
    return (
        f"   {title:<28} {value!s:>12}   goal < {Figure(goal)!s:<8}  {verdict(ok)} {extra}".rstrip()
    )


def summary(title: str, records: list[Record], count_goal: float | None) -> list[str]:
    """The lines of one family's (or the whole run's) figures beside the goals."""
    ok = [r for r in records if "first_request_s" in r]
    clicks = [f for r in ok for f in figures(r.get("clicks", []))]
    explains = [f for r in ok for f in figures(r.get("explain", []))]
    whys = [f for r in ok for f in figures(r.get("why", []))]
    firsts = [f for r in ok if (f := first_request(r)) is not None]
    solves = [f for r in ok if (f := op(r, "solve_first")) is not None]
    cheap = [f for r in ok if (f := op(r, "cheapest")) is not None]
    counts = [f for r in ok if (f := op(r, "count")) is not None]
    exact = sum(1 for r in ok if r.get("count", {}).get("exact"))
    memory = max((r.get("peak_mb", 0.0) for r in ok), default=0.0)
    skus = sorted({r.get("skus", 0) for r in ok})
    out = [
        f"== {title}: {len(records)} models"
        + (f", {skus[0]:,}-{skus[-1]:,} SKUs" if skus and skus[0] != skus[-1] else "")
        + (f", {skus[0]:,} SKUs" if len(skus) == 1 else "")
    ]
    if len(ok) < len(records):
        out.append(f"   {len(records) - len(ok)} did not load or crashed")
    p95 = percentile(clicks, 95)
    slow = sum(1 for f in clicks if f.s >= GOAL_CLICK_MAX or f.stopped)
    out.append(
        line(
            f"domains p95 ({len(clicks)} clicks)",
            p95,
            GOAL_CLICK_P95,
            f"p50 {percentile(clicks, 50)}",
        )
    )
    out.append(
        line("slowest click", percentile(clicks, 100), GOAL_CLICK_MAX, f"{slow} clicks over")
    )
    out.append(
        line(
            "first request, max",
            percentile(firsts, 100),
            GOAL_FIRST,
            f"p50 {percentile(firsts, 50)}",
        )
    )
    out.append(
        line(
            "solve first, p95",
            percentile(solves, 95),
            GOAL_SOLVE_FIRST,
            f"max {percentile(solves, 100)}",
        )
    )
    out.append(
        line(
            "100 cheapest, p95",
            percentile(cheap, 95),
            GOAL_CHEAPEST,
            f"max {percentile(cheap, 100) or '-'}",
        )
    )
    out.append(line(f"explain p95 ({len(explains)})", percentile(explains, 95), GOAL_EXPLAIN_P95))
    out.append(line(f"why p95 ({len(whys)})", percentile(whys, 95), GOAL_WHY_P95))
    if count_goal is not None:
        out.append(
            line("count, p95", percentile(counts, 95), count_goal, f"{exact} of {len(ok)} exact")
        )
    else:
        within = sum(
            1
            for r in ok
            if (f := op(r, "count")) is not None
            and not f.stopped
            and r["count"].get("exact")
            and f.s < GOAL_COUNT.get(r["group"], GOAL_COUNT_DEFAULT)
        )
        out.append(
            f"   {'count, p95':<28} {percentile(counts, 95)!s:>12}   goal per family    "
            f"{verdict(within == len(ok))} {within} of {len(ok)} exact within their goal"
        )
    out.append(
        f"   {'peak memory, max':<28} {memory:>9.0f} MB   goal < {GOAL_MEMORY_MB:.0f} MB    "
        f"{verdict(memory < GOAL_MEMORY_MB)}"
    )
    share = cpu_share(ok)
    if share is not None:
        out.append(
            f"   {'CPU time / wall time':<28} {share:>11.0%}   (100%: the CPUs were not shared)"
        )
    ratios = [x.split(" (")[0] for r in ok if (x := naive_ratio(r)) != "-"]
    if ratios:
        out.append(
            f"   {'naive / atoconf domains':<28} {'; '.join(ratios)}"
            f" ({len(ratios)} of {len(ok)} models; the others' domains were stopped)"
        )
    models_by: dict[str, int] = {}
    for r in ok:
        for said in other_paths(r):
            models_by[said] = models_by.get(said, 0) + 1
    for said, n in sorted(models_by.items(), key=lambda item: -item[1]):
        out.append(f"   other path in {n} of {len(ok)} models: {said}")
    if ok:
        slowest = max(ok, key=total_time)
        kind, figure = worst(slowest)
        out.append(
            f"   slowest model: {slowest['name']} ({total_time(slowest):.1f} s in all;"
            f" worst {kind} {figure})"
        )
    return out


def misses(group: str, records: list[Record], count_goal: float) -> list[str]:
    """Each goal a family misses: its figure and the paths that answered those
    operations with what they say (a fallback's reason, what a graph left to paths or
    how it counted), the commonest first: why it missed."""
    ok = [r for r in records if "first_request_s" in r]
    clicks = [f for r in ok for f in figures(r.get("clicks", []))]

    def each(key: str) -> list[Figure]:
        if key in ("clicks", "explain", "why"):
            return [f for r in ok for f in figures(r.get(key, []))]
        if key == "first_paths":
            return [f for r in ok if (f := first_request(r)) is not None]
        return [f for r in ok if (f := op(r, key)) is not None]

    targets = [
        ("domains p95", percentile(clicks, 95), GOAL_CLICK_P95, "clicks"),
        ("slowest click", percentile(clicks, 100), GOAL_CLICK_MAX, "clicks"),
        ("first request", percentile(each("first_paths"), 100), GOAL_FIRST, "first_paths"),
        ("solve first p95", percentile(each("solve_first"), 95), GOAL_SOLVE_FIRST, "solve_first"),
        ("100 cheapest p95", percentile(each("cheapest"), 95), GOAL_CHEAPEST, "cheapest"),
        ("explain p95", percentile(each("explain"), 95), GOAL_EXPLAIN_P95, "explain"),
        ("why p95", percentile(each("why"), 95), GOAL_WHY_P95, "why"),
        ("count p95", percentile(each("count"), 95), count_goal, "count"),
    ]
    out = []
    for title, figure, goal, key in targets:
        inexact = key == "count" and any(not r.get("count", {}).get("exact") for r in ok)
        if figure is None or (figure.s < goal and not figure.stopped and not inexact):
            continue
        said: dict[str, int] = {}
        for r in ok:
            found = r.get(key)
            if key == "first_paths":
                found = [{"paths": found or []}]
            for x in found if isinstance(found, list) else [found]:
                for path in x.get("paths", []) if isinstance(x, dict) else []:
                    said[path] = said.get(path, 0) + 1
        why = sorted(
            ((n, path) for path, n in said.items() if not path.endswith(COMPILED)),
            key=lambda item: -item[0],
        )
        plain = "answered on the compiled graphs alone: the graphs' own work"
        reasons = "; ".join(f"{path} x{n}" for n, path in why[:3]) or (
            plain if said else "stopped before any path answered"
        )
        out.append(f"   {group:<10} {title} {figure} (goal < {Figure(goal)}): {reasons}")
    memory = max((r.get("peak_mb", 0.0) for r in ok), default=0.0)
    if memory >= GOAL_MEMORY_MB:
        out.append(f"   {group:<10} peak memory {memory:.0f} MB (goal < {GOAL_MEMORY_MB:.0f} MB)")
    return out


COMPILED = (": graph", ": clauses")  # the compiled paths: decision graphs, the SAT solver


def other_paths(record: Record) -> dict[str, int]:
    """The paths other than the plain compiled ones (the decision graphs, or clauses for
    the SAT solver, with nothing to say) that answered a model's operations, each with
    how many operations it answered (in part)."""
    said: list[str] = list(record.get("first_paths", []))
    for key in ("clicks", "explain", "why", "solve_first", "cheapest", "count", "domains_again"):
        found = record.get(key)
        for r in found if isinstance(found, list) else [found]:
            if isinstance(r, dict):
                said += r.get("paths", [])
    out: dict[str, int] = {}
    for s in said:
        if not s.endswith(COMPILED):
            out[s] = out.get(s, 0) + 1
    return out


def every_figure(record: Record) -> list[Figure]:
    """Every timed operation of the model, the first request included."""
    out = [f for f in [first_request(record)] if f is not None]
    for key in ("clicks", "explain", "why"):
        out += figures(record.get(key, []))
    for key in ("solve_first", "cheapest", "count", "domains_again"):
        out += [f for f in [op(record, key)] if f is not None]
    return out


def report(record: Record, index: int, total: int, deadline: float) -> list[str]:
    """The lines for one model, as soon as it is measured."""
    head = f"[{index}/{total}] {record['name']} ({record['group']})"
    if "load_error" in record:
        return [head + ": LOAD FAILED", *("   " + d for d in record["load_error"])]
    if "first_request_s" not in record:
        return [head + ": " + str(record.get("crash") or record.get("killed") or "no figures")]
    clicks = figures(record.get("clicks", []))
    explains = figures(record.get("explain", []))
    whys = figures(record.get("why", []))
    count = record.get("count", {})
    lines = [
        f"{head}: {record['skus']:,} SKUs, {record['components']} components,"
        f" {record['options']} options, {record['rules']} rules; load {Figure(record['load_s'])};"
        f" measured in {record.get('wall_s', 0):.0f} s",
        f"   first request {first_request(record)}; clicks p50 {percentile(clicks, 50)},"
        f" p95 {percentile(clicks, 95)}, max {percentile(clicks, 100)}"
        f" ({sum(f.stopped for f in clicks)} stopped of {len(clicks)})",
        f"   solve first {op(record, 'solve_first')};"
        f" 100 cheapest {op(record, 'cheapest') or 'n/a'};"
        f" explain p95 {percentile(explains, 95) or '-'} ({len(explains)});"
        f" why p95 {percentile(whys, 95) or '-'} ({len(whys)})",
        f"   count {op(record, 'count')}"
        f" ({'exact ' + count['count'] if count.get('exact') else 'NOT exact'});"
        f" peak {record.get('peak_mb', 0):.0f} MB; naive/atoconf domains {naive_ratio(record)};"
        f" CPU/wall {cpu_share([record]) or 0:.0%}",
        f"   clicks: {', '.join(c['click'] for c in record.get('clicks', []))}",
    ]
    lines += [f"   other path: {said} x{n}" for said, n in other_paths(record).items()]
    late = [f for f in every_figure(record) if f.s > 1.5 * deadline]
    if late:
        lines.append(
            f"   {len(late)} operations ran over 1.5x the deadline of {deadline:g} s"
            f" (longest {max(f.s for f in late):.1f} s)"
        )
    odd = [e for e in record.get("explain", []) + record.get("why", []) if e.get("satisfiable")]
    if odd:
        lines.append(
            f"   SURPRISE: {len(odd)} explain/why answered 'satisfiable' for a greyed-out value"
        )
    crashes = []
    for key in ("clicks", "explain", "why", "solve_first", "cheapest", "count", "naive"):
        found = record.get(key)
        for r in found if isinstance(found, list) else [found]:
            if isinstance(r, dict) and r.get("crash"):
                crashes.append(f"{key}: {r['crash']}")
    lines += [f"   CRASH: {c}" for c in crashes]
    if record.get("killed"):
        lines.append(f"   {record['killed']} (figures so far kept)")
    return lines


# ---- the run -----------------------------------------------------------------------------------


def cases(args: argparse.Namespace, folder: Path) -> list[Case]:
    """The models to measure, written to `folder`."""
    out = []
    for group in args.families:
        if group == "catalogs":
            out.append(
                Case("workstation_pc", group, ROOT / "catalogs/pc/workstation.ato", args.seed)
            )
            out.append(Case("bicycle", group, ROOT / "catalogs/bike/bicycle.ato", args.seed))
        elif group == "large_pc":
            large = generate_large_pc(args.seed, folder)
            out.append(Case(f"large_pc_s{args.seed}", group, large.entry, args.seed))
        else:
            skus = args.skus or (HELDOUT_SKUS if group == "heldout" else SKUS)
            for k in range(args.count):
                shape = generate(group, args.seed + k, skus)
                out.append(Case(shape.name, group, write(shape, folder / "models"), args.seed + k))
    return out


def commit() -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except OSError:
        return "-"
    return done.stdout.strip() or "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--families",
        default=",".join(GROUPS),
        help=f"comma-separated, of: {', '.join(GROUPS)}",
    )
    parser.add_argument("--count", type=int, default=5, help="models per family")
    parser.add_argument("--skus", type=int, help="SKUs per generated model (default 1,500)")
    parser.add_argument("--seed", type=int, default=1, help="first seed of the models and clicks")
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds per operation")
    parser.add_argument("--naive-deadline", type=float, default=5.0, help="0: no naive encoding")
    parser.add_argument("--explains", type=int, default=3, help="2-item conflicts per model")
    parser.add_argument("--whys", type=int, default=CLICKS, help="why queries per model")
    parser.add_argument(
        "--patience",
        type=int,
        default=3,
        help="after this many clicks (explains, whys) of a model stopped by the deadline,"
        " skip the rest of them: the figure is already a lower bound",
    )
    parser.add_argument("--jobs", type=int, default=1, help="models measured at once")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: one small model a family"
    )
    parser.add_argument("--json", metavar="FILE", type=Path, help="write every raw figure here")
    parser.add_argument("--keep", metavar="DIR", type=Path, help="keep the generated models here")
    args = parser.parse_args(argv)
    args.families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in args.families if f not in GROUPS]
    if unknown:
        parser.error(f"unknown families {', '.join(unknown)}; known: {', '.join(GROUPS)}")
    clicks = CLICKS
    if args.quick:
        args.count, args.skus, clicks = 1, args.skus or 30, 5
        args.deadline = min(args.deadline, 1.0)
        args.naive_deadline = min(args.naive_deadline, 0.2)
        args.explains, args.whys, args.patience = 1, 2, 1
        args.families = [f for f in args.families if f != "large_pc"]
    settings = Settings(
        deadline=args.deadline,
        naive_deadline=args.naive_deadline,
        clicks=clicks,
        explains=args.explains,
        whys=args.whys,
        patience=args.patience,
        budget=3 * (2 + clicks + args.explains + args.whys + 6) * args.deadline
        + 2 * args.naive_deadline
        + 60,
    )
    print(
        f"atoconf {atoconf.__version__} ({commit()}), Python {sys.version.split()[0]},"
        f" {platform.machine()} x{os.cpu_count()}; deadline {args.deadline:g} s per operation,"
        f" seed {args.seed}, {args.count} models per family"
        + (f", {args.skus:,} SKUs" if args.skus else "")
    )
    print("command: " + " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]))
    print("load average at start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    began = time.perf_counter()
    records: list[Record] = []
    with tempfile.TemporaryDirectory(prefix="atoconf-shapes-") as tmp:
        folder = args.keep if args.keep is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        todo = cases(args, folder)
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:  # each run is its own process
            running = [pool.submit(run, case, settings) for case in todo]
            for i, done in enumerate(as_completed(running), 1):
                records.append(done.result())
                print("\n".join(report(records[-1], i, len(todo), args.deadline)), flush=True)
        order = {case.name: i for i, case in enumerate(todo)}
        records.sort(key=lambda r: order[r["name"]])
    print(
        f"\n{len(records)} models in {time.perf_counter() - began:.0f} s;"
        " load average at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + "\n"
    )
    lines: list[str] = []
    for group in args.families:
        mine = [r for r in records if r["group"] == group]
        if mine:
            goal = GOAL_COUNT.get(group, GOAL_COUNT_DEFAULT)
            lines += [*summary(f"family {group}", mine, goal), ""]
    lines += summary("overall", records, None)
    print("\n".join(lines))
    missed = [
        m
        for group in args.families
        for m in misses(
            group,
            [r for r in records if r["group"] == group],
            GOAL_COUNT.get(group, GOAL_COUNT_DEFAULT),
        )
    ]
    print("\ngoals missed, with the paths that answered them (why):")
    print("\n".join(missed) if missed else "   none: every goal met")
    print("\nslowest model of each family:")
    for group in args.families:
        mine = [r for r in records if r["group"] == group and "first_request_s" in r]
        if mine:
            slowest = max(mine, key=total_time)
            kind, figure = worst(slowest)
            print(
                f"   {group:<10} {slowest['name']:<24} {total_time(slowest):8.1f} s in all;"
                f" worst {kind} {figure}"
            )
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "version": 1,
                    "atoconf": atoconf.__version__,
                    "commit": commit(),
                    "deadline": args.deadline,
                    "seed": args.seed,
                    "models": records,
                    "summary": lines,
                },
                indent=1,
                default=str,
            ),
            encoding="utf-8",
        )
        print(f"\nraw figures written to {args.json}")
    return 2 if any("load_error" in r for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
