#!/usr/bin/env python3
"""How long do rule files take under CI: every lint (`check --strict`) and the tests
with rule coverage (`test --coverage`)?

On the bundled PC catalog and on the large generated PC (large_pc.py: the catalog
grown to about 1,500 SKUs; the catalog's own tests are put back, so the ones that
count assemblies or list exact domains of the small catalog fail there, which is
expected). Each figure is one run in one process after the model is loaded:

- lints: all of them (static, void/dead choices, rules that never apply, redundant
  rules) with the default 10 s deadline, and whether the deadline cut them short
  (goal on the large model: all lints under 10 s);
- tests: every test of the file, then rule coverage.

Baseline, same run: the same dead-part and redundancy questions answered by plain
search (python-constraint, one search per question, as a configurator without
decision graphs would), stopped after `--baseline-deadline` seconds: the ratio
is a lower bound when the baseline did not finish.

    python benchmarks/bench_lint.py [--seed 1] [--baseline-deadline 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):  # run from a checkout without installing
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from large_pc import generate_large_pc  # noqa: E402

from atoconf.engine.check import LINT_DEADLINE, lint_model  # noqa: E402
from atoconf.engine.clock import Clock, Stop  # noqa: E402
from atoconf.engine.ruletests import rule_coverage, run_tests  # noqa: E402
from atoconf.engine.solve import negated, witness  # noqa: E402
from atoconf.language.build import load_file  # noqa: E402
from atoconf.language.model import Model  # noqa: E402

GOAL_LINT_S = 10.0


def naive_questions(model: Model, deadline: float) -> tuple[int, int, float]:
    """(answered, asked, seconds): dead parts and redundant rules by search alone."""
    questions = [
        ({comp.name: sku}, [], None) for comp in model.components.values() for sku in comp.parts
    ]
    for rule in model.rules.values():
        others = [n for n in model.rules if n != rule.name]
        questions.append(({}, [negated(rule.expr)], others))
    clock = Clock(deadline)
    start = time.monotonic()
    answered = 0
    try:
        for select, require, rules in questions:
            witness(model, select, require, rules, clock)
            answered += 1
    except Stop:
        pass
    return answered, len(questions), time.monotonic() - start


def measure(title: str, entry: Path, baseline_deadline: float) -> float:
    start = time.monotonic()
    loaded = load_file(entry)
    model = loaded.model
    assert model is not None, [d.message for d in loaded.diagnostics]
    load_s = time.monotonic() - start
    start = time.monotonic()
    warnings = lint_model(model, LINT_DEADLINE)
    lint_s = time.monotonic() - start
    stopped = any(d.code == "W0311" for d in warnings)
    start = time.monotonic()
    results = run_tests(model, loaded.sources)
    tests_s = time.monotonic() - start
    start = time.monotonic()
    coverage = rule_coverage(model, results)
    coverage_s = time.monotonic() - start
    answered, asked, naive_s = naive_questions(model, baseline_deadline)
    ours_questions = lint_s
    passed = sum(r.passed for r in results)
    covered = sum(c.covered_by is not None for c in coverage)
    print(f"{title}: {len(model.parts)} parts, {len(model.rules)} rules, {len(results)} tests")
    print(f"  load {load_s:.2f} s")
    print(
        f"  all lints {lint_s:.2f} s ({len(warnings)} warnings"
        f"{', CUT SHORT by the deadline' if stopped else ''})"
    )
    print(f"  tests {tests_s:.2f} s ({passed}/{len(results)} pass)")
    print(f"  rule coverage {coverage_s:.2f} s ({covered}/{len(coverage)} rules covered)")
    bound = "" if answered == asked else ">= "
    print(
        f"  baseline (search alone): {answered}/{asked} dead-part and redundancy questions"
        f" in {naive_s:.2f} s; all lints are {bound}{naive_s / ours_questions:.1f}x faster"
    )
    return lint_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-deadline", type=float, default=30.0)
    args = parser.parse_args()
    measure("PC catalog", ROOT / "catalogs" / "pc" / "workstation.ato", args.baseline_deadline)
    with tempfile.TemporaryDirectory() as folder:
        large = generate_large_pc(args.seed, Path(folder))
        source = (ROOT / "catalogs" / "pc" / "workstation.ato").read_text(encoding="utf-8")
        tests = "\ntest " + source.split("\ntest ", 1)[1]
        large.entry.write_text(large.entry.read_text(encoding="utf-8") + tests, encoding="utf-8")
        lint_s = measure("large PC", large.entry, args.baseline_deadline)
    verdict = "PASS" if lint_s < GOAL_LINT_S else "FAIL"
    print(f"goal: all lints on the large model < {GOAL_LINT_S:g} s: {lint_s:.2f} s -> {verdict}")


if __name__ == "__main__":
    main()
