"""The embedding API: model.configure(...), shared models across threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import atoconf

ROOT = Path(__file__).resolve().parent.parent
BIKE = ROOT / "catalogs" / "bike" / "bicycle.ato"
SMALL = ROOT / "tests" / "fixtures" / "fuzz_base.ato"


def test_configure_answers_count_domains_and_solve() -> None:
    model = atoconf.load(SMALL)
    cfg = model.configure({"usage": "office", "cpu": "CPU-A", "gpu": None})
    assert cfg.count().count == 24  # the rule file's own test says so
    assert cfg.domains().domains["cpu"] == ["CPU-A"]
    first = next(iter(cfg.solve(limit=1)))
    assert first["components"]["cpu"] == {"sku": "CPU-A", "qty": 1}


def test_request_shape_and_objective_from_the_request() -> None:
    model = atoconf.load(SMALL)
    cfg = model.configure({"select": {"usage": "gaming"}, "minimize": "total(price)", "limit": 3})
    found = list(cfg.solve())
    assert len(found) == 3
    values = [float(a["objective"]) for a in found]
    assert values == sorted(values)


def test_bad_requests_raise_with_every_item() -> None:
    model = atoconf.load(SMALL)
    with pytest.raises(atoconf.RequestError) as caught:
        model.configure({"cpuu": "CPU-A", "usage": "gamin"})
    messages = [d.message for d in caught.value.diagnostics]
    assert len(messages) == 2
    assert caught.value.diagnostics[0].hint == "did you mean 'cpu'?"
    with pytest.raises(atoconf.RequestError):
        next(iter(model.configure().solve(minimize="gpu != none")))


def test_one_model_serves_many_threads() -> None:
    model = atoconf.load(BIKE)
    requests = [{"usage": u} for u in ("road", "gravel", "mtb")] * 4
    sequential = [model.configure(r).count().count for r in requests]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda r: model.configure(r).count().count, requests))
    assert parallel == sequential
    assert len(set(sequential)) == 3


def test_a_deadline_stops_every_operation_and_says_so() -> None:
    import time

    model = atoconf.load(ROOT / "catalogs" / "pc" / "workstation.ato")
    cfg = model.configure()
    started = time.monotonic()
    counted = cfg.count(deadline=0.2)
    assert (counted.exact, counted.stopped) == (False, "deadline")
    stopped: list[str] = []
    listed = list(
        cfg.solve(minimize="total(price) * 3 - total(price)", deadline=0.2, stopped=stopped)
    )
    assert time.monotonic() - started < 20
    assert stopped == ["deadline"]
    assert all("objective" in a for a in listed)
