"""The embedding API: model.configure(...), shared models across threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import atoconf
from atoconf.engine.results import Chosen
from tests.conftest import BIKE, PC, SMALL


def test_configure_answers_count_domains_and_solve() -> None:
    model = atoconf.load(SMALL)
    cfg = model.configure({"usage": "office", "cpu": "CPU-A", "gpu": None})
    assert cfg.count().count == 24  # the rule file's own test says so
    assert cfg.domains().domains["cpu"] == ["CPU-A"]
    first = next(iter(cfg.solve(limit=1)))
    assert first.components["cpu"] == Chosen(sku="CPU-A", qty=1)
    assert first.to_json()["components"]["cpu"] == {"sku": "CPU-A", "qty": 1}
    assert "objective" not in first.to_json()


def test_request_shape_and_objective_from_the_request() -> None:
    model = atoconf.load(SMALL)
    cfg = model.configure({"select": {"usage": "gaming"}, "minimize": "total(price)", "limit": 3})
    found = list(cfg.solve())
    assert len(found) == 3
    values = [float(a.objective or "nan") for a in found]
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


def test_a_misspelt_request_key_is_named_not_taken_for_a_choice() -> None:
    model = atoconf.load(SMALL)
    with pytest.raises(atoconf.RequestError) as caught:
        model.configure({"selec": {"usage": "gaming"}})
    (said,) = caught.value.diagnostics
    assert said.message == "selec: unknown request key"
    assert said.hint == "did you mean 'select'?"
    assert str(caught.value) == "selec: unknown request key (did you mean 'select'?)"
    # a bare mapping of choices is still a select
    assert model.configure({"usage": "gaming"}).request.selects == {"usage": "gaming"}


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

    model = atoconf.load(PC)
    cfg = model.configure()
    started = time.monotonic()
    counted = cfg.count(deadline=0.2)
    assert (counted.exact, counted.stopped) == (False, "deadline")
    stream = cfg.solve(minimize="total(price) * 3 - total(price)", deadline=0.2)
    listed = list(stream)
    assert time.monotonic() - started < 20
    assert stream.stopped == "deadline"
    assert all(a.objective is not None for a in listed)


def test_a_cap_stops_count_and_domains_and_keeps_every_unproven_value() -> None:
    model = atoconf.load(PC)
    cfg = model.configure({"usage": "gaming"})
    counted = cfg.count(cap=1000)
    assert (counted.count, counted.exact, counted.stopped) == (1000, False, "cap")
    full = cfg.domains()
    capped = cfg.domains(cap=300)
    assert full.stopped is None and capped.stopped == "cap"
    assert capped.to_json()["stopped"] == "cap"
    for name, values in full.domains.items():
        # what is greyed out must be sure: a stopped answer keeps what it has not ruled out
        assert set(values) <= set(capped.domains[name]), name


def test_a_later_request_does_not_inherit_an_earlier_deadline() -> None:
    import time

    from atoconf.engine.clock import Clock
    from atoconf.engine.solve import domains

    # the whole space's graphs are built once per model and kept; the deadline of
    # the request that built them must not stop the requests that reuse them
    model = atoconf.load(BIKE)
    first_clock = Clock(60)
    first = domains(model.model, clock=first_clock)
    assert first.stopped is None
    first_clock.deadline = time.monotonic() - 1  # the first request's deadline has passed
    later = model.configure({"usage": "gravel"}).domains()
    assert later.stopped is None and later.satisfiable


def test_a_product_shows_its_model_and_copies() -> None:
    import copy

    product = atoconf.load(BIKE)
    assert product.components is product.model.components
    assert copy.copy(product).model is product.model
    with pytest.raises(AttributeError):
        product.no_such_attribute  # noqa: B018


def test_a_diagnostic_renders_as_the_command_line_prints_it() -> None:
    text = "product p\noption fast: bool\nrule quick: fast || true\n"
    with pytest.raises(atoconf.RuleError) as caught:
        atoconf.loads(text, "quick.ato")
    (said,) = caught.value.diagnostics
    assert str(said) == "quick.ato:3:18: error[E0100]: unexpected '||' (write 'or' instead)"
    assert said.render(caught.value.sources) == (
        "quick.ato:3:18: error[E0100]: unexpected '||'\n"
        "  |\n"
        "3 | rule quick: fast || true\n"
        "  |                  ^^\n"
        "  = hint: write 'or' instead"
    )
    assert said.render().splitlines()[0] == "quick.ato:3:18: error[E0100]: unexpected '||'"


def test_one_documented_loader() -> None:
    """`atoconf.load` (and `loads` for text) is the API; the lower-level loaders that
    return every diagnostic stay importable but are not part of it."""
    loaders = {name for name in atoconf.__all__ if name.startswith("load")}
    assert loaders == {"load", "loads"}
    assert callable(atoconf.load_file) and callable(atoconf.load_text)  # still there
    assert atoconf.loads("product p\noption a: bool\n").configure({"a": True}).count().count == 1
