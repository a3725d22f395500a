#!/usr/bin/env python3
"""How fast does atoconf explain: conflicts and repairs, and why a value is greyed out?

On the large generated PC (large_pc.py: the bundled catalog grown to about 1,500
SKUs), in one process after one load:

- 20 unsatisfiable requests of 4 to 8 items (random choices of components and
  options, drawn from the seed until 20 have no valid assembly): time to the
  minimal conflict and the repairs, and the number of satisfiability checks
  (solver calls) per explanation;
- 20 `why` queries: values that `domains` greys out under a typical request
  (usage=gaming, tier=mainstream), each explained.

Prints p50 and p95 in ms for both (goal: p95 under 500 ms), and the calls.

    python benchmarks/bench_explain.py [--seed 1] [--deadline 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):  # run from a checkout without installing
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_solver import percentile  # noqa: E402
from large_pc import generate_large_pc  # noqa: E402

import atoconf  # noqa: E402
from atoconf.engine.configure import configure  # noqa: E402
from atoconf.engine.problem import compiled  # noqa: E402
from atoconf.language.model import Model, Value  # noqa: E402

GOAL_P95_S = 0.5
QUERIES = 20


def report(title: str, times: list[float], calls: list[int]) -> str:
    p50, p95 = percentile(times, 50), percentile(times, 95)
    print(
        f"{title}: {len(times)} queries, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms;"
        f" solver calls per query: median {percentile([float(c) for c in calls], 50):.0f},"
        f" max {max(calls)}"
    )
    return f"{title}: p95 {p95 * 1000:.0f} ms < {GOAL_P95_S * 1000:.0f} ms -> " + (
        "PASS" if p95 < GOAL_P95_S else "FAIL"
    )


def unsatisfiable_requests(model: Model, rng: Random) -> list[dict[str, Value]]:
    """Requests of 4 to 8 selects, drawn until QUERIES of them have no valid assembly."""
    variables = [v for v in compiled(model).variables.values() if len(v.domain) > 1]
    out: list[dict[str, Value]] = []
    tries = 0
    while len(out) < QUERIES and tries < 2000:
        tries += 1
        chosen = rng.sample(variables, rng.randint(4, 8))
        # a quantity of 0 is written as the component being none
        select = {
            v.name: rng.choice([x for x in v.domain if x != 0 or v.kind != "qty"]) for v in chosen
        }
        stream = configure(model, select).solve(limit=1, defaults=False, deadline=5)
        found = list(stream)
        if not found and not stream.stopped:  # unsatisfiable, and proven so
            out.append(select)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=10.0, help="seconds per query")
    args = parser.parse_args(argv)
    rng = Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="atoconf-bench-") as tmp:
        large = generate_large_pc(args.seed, Path(tmp))
        model = atoconf.load(large.entry).model
    print(f"large PC (seed {args.seed}): {len(model.parts):,} SKUs, {len(model.rules)} rules")

    requests = unsatisfiable_requests(model, rng)
    times: list[float] = []
    calls: list[int] = []
    sizes: list[int] = []
    stopped = 0
    for select in requests:
        cfg = configure(model, select)
        began = time.perf_counter()
        result = cfg.explain(deadline=args.deadline)
        times.append(time.perf_counter() - began)
        calls.append(result.solver_calls)
        sizes.append(len(result.conflict))
        stopped += bool(result.stopped)
        assert not result.satisfiable
    verdicts = [report("explain (conflict + repairs)", times, calls)]
    print(f"  conflict sizes: {sorted(sizes)}; stopped by the deadline: {stopped}")

    base = {"usage": "gaming", "tier": "mainstream"}
    cfg = configure(model, base)
    allowed = cfg.domains(deadline=args.deadline).domains
    variables = compiled(model).variables
    greyed = [
        (name, value)
        for name, var in variables.items()
        for value in var.domain
        if name not in base
        and value not in allowed.get(name, var.domain)
        and not (var.kind == "qty" and value == 0)
    ]
    picks = rng.sample(greyed, min(QUERIES, len(greyed)))
    times, calls = [], []
    for name, value in picks:
        began = time.perf_counter()
        result = cfg.why(name, value, deadline=args.deadline)
        times.append(time.perf_counter() - began)
        calls.append(result.solver_calls)
        assert not result.satisfiable or result.stopped
    verdicts.append(report(f"why (under {base}, {len(greyed)} greyed values)", times, calls))
    print("\ngoals:")
    for line in verdicts:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
