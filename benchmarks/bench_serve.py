#!/usr/bin/env python3
"""How fast does `atoconf serve` answer clicks, with many people clicking at once?

Starts `atoconf serve` (--workers 2 by default) on the large PC of large_pc.py and
a generated product of shapes.py, warms each worker, then runs N concurrent
sessions (1, 8 and 32 by default), each clicking 10 times through one of the two
products over HTTP: a click fixes one more choice to a value its last answer
still offered, and is timed as the page's question for it, `domains` of the
request so far. Prints p50, p95 and max per click and requests per second for
each N (and per product), beside the baseline measured in the same run: the 8
sessions' clicks answered in this process, without HTTP, one at a time. Goal:
p95 < 150 ms at 8 sessions with 2 workers on a 2-core machine.

    python benchmarks/bench_serve.py [--sessions 1,8,32] [--clicks 10] [--workers 2]
        [--family pump --shape-seed 1] [--seed 1]

Exit status: 0 whatever the timings (a benchmark reports, it does not fail CI).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import shapes  # noqa: E402
from large_pc import generate_large_pc  # noqa: E402

import atoconf  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(base: str, path: str, body: Any) -> Any:
    asked = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(asked, timeout=120) as answer:
        return json.load(answer)


def session(base: str, product: str, clicks: int, seed: int) -> list[tuple[float, dict[str, Any]]]:
    """One person clicking: (seconds, request) per click."""
    rng = Random(seed)
    select: dict[str, Any] = {}
    answer = post(base, f"/api/v1/products/{product}/domains", {"select": select})
    timed = []
    for _ in range(clicks):
        open_ = [k for k, v in answer["domains"].items() if k not in select and len(v) > 1]
        if not open_:
            break
        name = rng.choice(sorted(open_))
        select = {**select, name: rng.choice(answer["domains"][name])}
        request = {"select": select}
        started = time.perf_counter()
        answer = post(base, f"/api/v1/products/{product}/domains", request)
        timed.append((time.perf_counter() - started, request))
    return timed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sessions", default="1,8,32")
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--family", choices=shapes.FAMILIES, default="pump")
    parser.add_argument("--shape-seed", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        large = generate_large_pc(args.seed, Path(folder))
        shape = shapes.generate(args.family, args.shape_seed, 1_500)
        shaped = Path(folder) / f"{shape.name}.ato"
        shaped.write_text(shape.text, encoding="utf-8")
        products = {large.entry.stem: large.entry, shaped.stem: shaped}
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "atoconf", "serve", *map(str, products.values())]
        command += ["--port", str(port), "--workers", str(args.workers), "--deadline", "30"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        try:
            started = time.perf_counter()
            while True:
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=5).close()
                    break
                except OSError:
                    time.sleep(0.2)
            # every worker compiles every product before the clock runs
            names = list(products)
            with ThreadPoolExecutor(8) as pool:
                warm = [f"/api/v1/products/{names[k % 2]}/domains" for k in range(8 * args.workers)]
                list(pool.map(lambda path: post(base, path, {}), warm))
            print(
                f"{args.workers} workers serving {large.entry.stem} ({large.skus} SKUs) and "
                f"{shape.name}; up and warm in {time.perf_counter() - started:.1f} s"
            )
            recorded: list[tuple[str, dict[str, Any]]] = []
            for n in [int(x) for x in args.sessions.split(",")]:

                def one(k: int, n: int = n) -> tuple[str, list[tuple[float, dict[str, Any]]]]:
                    product = names[k % 2]
                    return product, session(base, product, args.clicks, args.seed * 1000 + k)

                started = time.perf_counter()
                with ThreadPoolExecutor(n) as pool:
                    done = list(pool.map(one, range(n)))
                wall = time.perf_counter() - started
                times = [t for _, clicks in done for t, _ in clicks]
                requests = sum(len(clicks) + 1 for _, clicks in done)
                if n == 8 or not recorded:
                    recorded = [(p, r) for p, clicks in done for _, r in clicks]
                p95 = percentile(times, 95)
                verdict = "PASS" if p95 < 0.150 else "FAIL"
                goal = f"  [goal p95 < 150 ms: {verdict}]" if n == 8 else ""
                print(
                    f"{n:>3} sessions: {len(times)} clicks, "
                    f"p50 {statistics.median(times) * 1000:.0f} ms, "
                    f"p95 {p95 * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; "
                    f"{requests / wall:.0f} requests/s{goal}"
                )
                for name in names:
                    mine = [t for product, clicks in done if product == name for t, _ in clicks]
                    if mine and n > 1:
                        print(
                            f"      {name}: p50 {statistics.median(mine) * 1000:.0f} ms, "
                            f"p95 {percentile(mine, 95) * 1000:.0f} ms"
                        )
        finally:
            server.terminate()
            server.wait(timeout=30)
        # the baseline: the same clicks in this process, without HTTP, one at a time
        loaded = {name: atoconf.load(path) for name, path in products.items()}
        for product in loaded.values():
            product.configure({}).domains(deadline=30)  # compiled, as the workers were
        for name in names:
            inside = []
            for product, request in recorded:
                if product == name:
                    started = time.perf_counter()
                    loaded[name].configure(request).domains(deadline=30)
                    inside.append(time.perf_counter() - started)
            if inside:
                print(
                    f"baseline, {name}'s clicks of the 8 sessions in process (no HTTP), one at a "
                    f"time: p50 {statistics.median(inside) * 1000:.0f} ms, "
                    f"p95 {percentile(inside, 95) * 1000:.0f} ms"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
