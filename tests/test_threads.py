"""Embedding under threads: a fresh model, eight threads at once, and every answer and
every compiled entry exactly as one thread alone would have them."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest

import atoconf
from atoconf.engine.compiled import CompiledModel

ROOT = Path(__file__).resolve().parent.parent
BIKE = ROOT / "catalogs" / "bike" / "bicycle.ato"
PC = ROOT / "catalogs" / "pc"
THREADS = 8
Entry = TypeVar("Entry")

# each thread asks a different mix, so that cold entries are wanted by several at once
BIKE_REQUESTS: list[dict[str, Any]] = [{"usage": "road"}, {"usage": "gravel"}, {}]
CONFLICT = {"frame": "FR-ENDURANCE-AL", "tires": "TI-GRAVELKING-45"}
PC_REQUESTS: list[dict[str, Any]] = [{"usage": "gaming"}, {"usage": "office"}]


def _answers(bike: atoconf.Product, pc: atoconf.Product, stock: atoconf.Stock, n: int) -> list[Any]:
    """What thread n asks: a count, domains and an explanation of the bike, a plan of a PC."""
    cfg = bike.configure(BIKE_REQUESTS[n % len(BIKE_REQUESTS)])
    request = PC_REQUESTS[n % len(PC_REQUESTS)]
    return [
        cfg.count().model_dump(),
        cfg.domains().to_json(),
        bike.configure(CONFLICT).explain().to_json(),
        atoconf.plan(pc, request, stock, today=date(2026, 12, 1)).to_json(),
    ]


def test_eight_threads_on_a_fresh_model_get_the_sequential_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stock = atoconf.Stock.from_csv(PC / "stock.csv")
    bike, pc = atoconf.load(BIKE), atoconf.load(PC / "workstation.ato")
    sequential = [_answers(bike, pc, stock, n) for n in range(THREADS)]

    builds: Counter[tuple[int, Hashable]] = Counter()
    counting = threading.Lock()
    get = CompiledModel.get

    def counted_get(self: CompiledModel, key: Hashable, build: Callable[[], Entry]) -> Entry:
        def counted_build() -> Entry:
            with counting:
                builds[(id(self), key)] += 1
            return build()

        return get(self, key, counted_build)

    monkeypatch.setattr(CompiledModel, "get", counted_get)
    bike, pc = atoconf.load(BIKE), atoconf.load(PC / "workstation.ato")
    start = threading.Barrier(THREADS)

    def thread(n: int) -> list[Any]:
        start.wait()
        return _answers(bike, pc, stock, n)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        parallel = list(pool.map(thread, range(THREADS)))

    assert parallel == sequential
    assert builds, "nothing was compiled: the test measures nothing"
    assert {key: n for key, n in builds.items() if n != 1} == {}
    # the whole space's graphs were among what the threads wanted at once
    assert any(isinstance(k, tuple) and k[0] == "whole-space graphs" for _, k in builds)
