#!/usr/bin/env python3
"""How fast does `atoconf diff` tell what a change does, on a large product?

On the large generated PC product (1,420 SKUs, see large_pc.py), for each of a
few typical changes, measures in this one process the whole diff the command
prints (declarations, exact counts before and after, lost and gained with the
cheapest example of each, values dead and alive, test verdicts), each version
loaded fresh as the command loads it. Goal: one changed rule or one changed
part in under 10 s. Beside it, in the same run, the baseline a reviewer has
without a diff: counting each version's assemblies on its own (two `atoconf
count` runs, which say nothing about which assemblies changed).

    python benchmarks/bench_diff.py [--seed 1] [--deadline 60]

The changes: a rule tightened (a CPU of 24 cores or more no longer fits any
board), a part's attribute changed (a graphics card 15 mm longer), a part's price
changed (a sum over every component reads it: the slowest case known), and a
part removed.

Exit status: 0 whatever the timings (a benchmark reports, it does not fail CI).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from large_pc import CATALOG, generate_large_pc  # noqa: E402

from atoconf.changes.report import compare  # noqa: E402
from atoconf.engine.clock import Clock  # noqa: E402
from atoconf.engine.solve import count  # noqa: E402
from atoconf.language.build import load_file  # noqa: E402

GOAL = 10.0  # seconds, for one changed rule or one changed part


def _tighten_rule(folder: Path) -> None:
    rules = folder / "workstation.ato"
    text = rules.read_text(encoding="utf-8")
    edited = text.replace(
        "  cpu.socket == board.socket\n", "  cpu.socket == board.socket and cpu.cores < 24\n"
    )
    assert edited != text
    rules.write_text(edited, encoding="utf-8")


def _edit_csv(folder: Path, file: str, column: str, change: Callable[[str], str | None]) -> None:
    """Change one column of the first data row of a part list (None: drop the row)."""
    path = folder / "parts" / file
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    at = header.index(column)
    value = change(row[at])
    if value is None:
        del lines[1]
    else:
        row[at] = value
        lines[1] = ",".join(row)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


CHANGES: list[tuple[str, bool, Callable[[Path], None]]] = [
    ("one rule tightened", True, _tighten_rule),
    (
        "one part's length changed",
        True,
        lambda f: _edit_csv(f, "gpus.csv", "length_mm", lambda v: str(int(v) + 15)),
    ),
    (
        "one part's price changed",
        False,
        lambda f: _edit_csv(f, "gpus.csv", "price", lambda v: f"{float(v) + 10:.2f}"),
    ),
    ("one part removed", False, lambda f: _edit_csv(f, "gpus.csv", "sku", lambda v: None)),
]


def _measure(
    title: str,
    goaled: bool,
    edit: Callable[[Path], None],
    entry: Path,
    folder: Path,
    deadline: float,
) -> None:
    """One change of the product at `entry`: the whole diff, and the baseline."""
    new = folder / "new"
    if new.exists():
        shutil.rmtree(new)
    shutil.copytree(entry.parent, new)
    edit(new)
    started = time.perf_counter()
    before, after = load_file(entry), load_file(new / entry.name)
    assert before.model is not None and after.model is not None, after.diagnostics[:3]
    found = compare(before.model, after.model, before.sources, after.sources, Clock(deadline))
    seconds = time.perf_counter() - started
    # the baseline: each version counted on its own, freshly loaded
    started = time.perf_counter()
    clock = Clock(deadline)
    for path in (entry, new / entry.name):
        loaded = load_file(path)
        assert loaded.model is not None
        count(loaded.model, clock=clock)
    baseline = time.perf_counter() - started
    counted = found.assemblies
    impact = (
        f"{counted.lost:,} / {counted.gained:,}"
        if counted.lost is not None and counted.gained is not None
        else f"not compared ({counted.stopped or 'choices differ'})"
    )
    verdict = ("PASS" if seconds < GOAL else "FAIL") if goaled else "-"
    print(f"  {title:28} {seconds:7.1f}s {baseline:10.1f}s  {impact}  {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=60.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        large = generate_large_pc(args.seed, folder / "large")
        products = [("bundled PC (164 SKUs)", CATALOG / "workstation.ato")]
        products.append((f"large PC ({large.skus:,} SKUs)", large.entry))
        for product, entry in products:
            print(f"\n{product}")
            print(f"  {'change':28} {'diff':>8} {'two counts':>11}  lost / gained  goal")
            for title, goaled, edit in CHANGES:
                _measure(title, goaled, edit, entry, folder, args.deadline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
