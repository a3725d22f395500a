"""Which path answers: the engine says so on the `atoconf.engine` logger, and the bundled
catalogs are answered on their compiled decision graphs (clicks, counts, plans), so a
new fallback fails here rather than in a benchmark read months later."""

from __future__ import annotations

import logging
from datetime import date

import pytest

import atoconf
from atoconf.engine import sweep
from tests.conftest import BIKE, PC


def _paths(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str]]:
    return [
        (r.operation, r.path, r.reason)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "atoconf.engine"
    ]


@pytest.mark.parametrize(
    ("path", "clicks"),
    [
        (BIKE, [{}, {"usage": "gravel"}, {"usage": "gravel", "fenders": True}]),
        (PC, [{}, {"usage": "gaming"}, {"usage": "gaming", "gpu": "GPU-4070"}]),
    ],
    ids=["bike", "pc"],
)
def test_the_catalogs_clicks_and_counts_are_answered_on_the_graphs(
    caplog: pytest.LogCaptureFixture, path: object, clicks: list[dict[str, object]]
) -> None:
    model = atoconf.load(path)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="atoconf.engine"):
        for select in clicks:
            cfg = model.configure(select)
            assert cfg.domains().satisfiable
        model.configure(clicks[1]).count()
    paths = _paths(caplog)
    assert {op for op, _, _ in paths} == {"domains", "count"}
    assert [p for p in paths if p[1] != "graph"] == []


def test_a_plan_of_the_pc_catalog_is_answered_on_the_graphs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = atoconf.load(PC)
    stock = atoconf.Stock.from_csv(PC.parent / "stock.csv")
    with caplog.at_level(logging.DEBUG, logger="atoconf.engine"):
        plan = atoconf.plan(model, {"usage": "gaming"}, stock, today=date(2026, 12, 1))
    assert plan.orders[0].status in ("buildable", "short")
    paths = _paths(caplog)
    assert ("plan", "graph", "") in paths
    assert [p for p in paths if p[1] != "graph"] == []


def test_a_fallback_is_named_with_its_reason(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # graphs allowed no state at all: every group falls back to search
    monkeypatch.setattr(sweep, "MAX_STATES", -1)
    model = atoconf.load(BIKE)
    with caplog.at_level(logging.DEBUG, logger="atoconf.engine"):
        assert model.configure({"usage": "gravel"}).domains().satisfiable
    fallbacks = [p for p in _paths(caplog) if p[1] != "graph"]
    assert fallbacks, "the search fallback was not reported"
    assert all(op == "domains" and path == "search" and reason for op, path, reason in fallbacks)
