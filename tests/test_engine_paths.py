"""Which path answers: the engine says so on the `atoconf.engine` logger, and the bundled
catalogs are answered on their compiled decision graphs (clicks, counts, plans), so a
new fallback fails here rather than in a benchmark read months later."""

from __future__ import annotations

import logging
from datetime import date

import pytest

import atoconf
from atoconf.engine import sweep
from atoconf.engine.problem import compiled
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


def test_an_explanation_says_its_questions_without_every_rule_are_searched(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = atoconf.load(PC)
    with caplog.at_level(logging.DEBUG, logger="atoconf.engine"):
        found = model.configure({"usage": "gaming", "cpu": "CPU-I3-14100"}).explain()
    assert [m.name or m.item for m in found.conflict] == [
        "gaming_cpu",
        "usage=gaming",
        "cpu=CPU-I3-14100",
    ]
    searched = {p for p in _paths(caplog) if p[0] == "explain"}
    assert searched == {
        ("explain", "search", "a question without every rule: the graphs hold them all")
    }


LINEAR = """product skid
type Frame {
  length: int
}
type Part {
  length: int
  spacer: bool default false
}
parts Frame {
  "F-1" "short": length=900
  "F-2" "long": length=1400
}
parts Part {
  "P-1" "pump": length=500
  "P-2" "big pump": length=700
  "C-1" "coupling": length=0, spacer=true
}
component frame: Frame
component pump: Part
component coupling: Part
rule fits:
  frame.length >= pump.length + 2 * pump.length - pump.length
    + (if coupling.spacer then 140 else 40)
"""


def test_a_lazy_comparison_keys_its_own_terms_by_their_sum() -> None:
    """A variable read in one term of its own is keyed by the term's signed value; one
    read in two terms is not (its classes decide)."""
    model = atoconf.loads(LINEAR).model
    rule = next(c for c in compiled(model).checks if c.origin.name == "fits")
    domains = {v: list(x.domain) for v, x in compiled(model).variables.items()}
    terms = sweep.linear_terms(model, rule.expr, domains)
    assert set(terms) == {"frame", "coupling"}
    assert terms["frame"] == {"F-1": 900, "F-2": 1400}
    assert terms["coupling"] == {"P-1": -40, "P-2": -40, "C-1": -140}
