"""The HTTP API in process (FastAPI's test client): the same JSON as the commands'
`--format json`, bad input answered with located diagnostics and the right status,
writes only with a database and the token."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from atoconf.language.build import load_file
from atoconf.planning.stock import Stock, StockDatabase
from atoconf.serve.app import MAX_BODY, ServeConfig, create_app, products_of
from tests.conftest import CATALOGS, PC, cli, serving
from tests.test_stock_db import invariant, loaded, write_stock

STOCK = CATALOGS / "pc" / "stock.csv"
TOKEN = "a-token-long-enough-1234"
GAMING = {"select": {"usage": "gaming", "tier": "mainstream"}}
# a request no assembly meets: an office PC with the largest GPU
CONFLICT = {"select": {"usage": "office", "gpu": "GPU-4090"}}


def client(stock: str | None = None, token: str | None = None) -> TestClient:
    model = load_file(PC).model
    assert model is not None
    config = ServeConfig(products_of([PC], [model]), stock=stock, token=token)
    return TestClient(create_app(config), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with client(str(STOCK)) as served:
        yield served


def command_json(tmp_path: Path, command: str, request: dict[str, Any], *args: str) -> Any:
    """What `atoconf COMMAND PC REQUEST -f json` prints."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    ran = cli(command, str(PC), str(path), "-f", "json", *args, in_process=True)
    assert ran.returncode in (0, 1), ran.stderr
    return json.loads(ran.stdout)


def test_health_products_and_choices(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    (listed,) = api.get("/api/v1/products").json()
    assert listed["name"] == "workstation" and listed["file"] == str(PC)
    shape = api.get("/api/v1/products/workstation").json()
    model = load_file(PC).model
    assert model is not None
    by_name = {c["name"]: c for c in shape["choices"]}
    for comp in model.components.values():
        values = by_name[comp.name]["values"]
        assert values == ([None] if comp.optional else []) + list(comp.parts)
        if comp.qty_min != comp.qty_max:
            assert max(by_name[f"{comp.name}.qty"]["values"]) == comp.qty_max
    for option in model.options.values():
        assert len(by_name[option.name]["values"]) == len(option.values)
    assert set(shape["parts"]) == set(model.parts)


@pytest.mark.parametrize(
    ("command", "request_", "args"),
    [
        ("domains", GAMING, ()),
        ("count", GAMING, ()),
        ("solve", {**GAMING, "minimize": "total(price)", "limit": 3}, ()),
        ("explain", CONFLICT, ()),
    ],
)
def test_answers_are_the_commands_json(
    api: TestClient, tmp_path: Path, command: str, request_: dict[str, Any], args: tuple[str, ...]
) -> None:
    answer = api.post(f"/api/v1/products/workstation/{command}", json=request_)
    assert answer.status_code == 200, answer.text
    assert answer.json() == command_json(tmp_path, command, request_, *args)


def test_a_plan_is_the_commands_json(api: TestClient, tmp_path: Path) -> None:
    body = {"request": GAMING, "today": "2026-12-07"}
    answer = api.post("/api/v1/products/workstation/plan", json=body)
    assert answer.status_code == 200, answer.text
    expected = command_json(
        tmp_path, "plan", GAMING, "--stock", str(STOCK), "--today", "2026-12-07"
    )
    assert answer.json() == expected
    orders = [
        json.loads(line)
        for line in (CATALOGS / "pc" / "orders.jsonl").read_text().splitlines()
        if line.strip()
    ]
    batch = api.post(
        "/api/v1/products/workstation/plan", json={"orders": orders, "today": "2026-12-07"}
    )
    assert batch.status_code == 200, batch.text
    ran = cli(
        "plan", str(PC), "--stock", str(STOCK), "--orders", str(CATALOGS / "pc" / "orders.jsonl"),
        "--today", "2026-12-07", "-f", "json", in_process=True,
    )  # fmt: skip
    assert batch.json() == json.loads(ran.stdout)


UNPRICED = """product lamp
type T { watts: int }
parts T { "A": watts=1  "B": watts=2  "C": watts=3 }
component a: T
"""


def test_the_cheapest_completion_by_price_else_by_unit_cost(
    api: TestClient, tmp_path: Path
) -> None:
    request = {"select": {"usage": "gaming"}}
    by_price = api.post("/api/v1/products/workstation/cheapest", json=request)
    solved = command_json(tmp_path, "solve", {**request, "minimize": "total(price)", "limit": 1})
    assert by_price.json()["assemblies"][0]["objective"] == solved["assemblies"][0]["objective"]
    # parts without a price: the supply's unit cost, with stock (else there is none)
    rules = tmp_path / "lamp.ato"
    rules.write_text(UNPRICED)
    (tmp_path / "stock.csv").write_text("sku,location,on_hand,reserved\nA,L,1,0\nB,L,1,0\n")
    (tmp_path / "supply.csv").write_text("sku,lead_days,unit_cost\nA,1,7.50\nC,1,2.25\n")
    model = load_file(rules).model
    assert model is not None
    for stock, by in [(None, None), (str(tmp_path / "stock.csv"), "unit_cost")]:
        config = ServeConfig(products_of([rules], [model]), stock=stock)
        with TestClient(create_app(config), raise_server_exceptions=False) as served:
            assert served.get("/api/v1/products/lamp").json()["cheapest"] == by
            answer = served.post("/api/v1/products/lamp/cheapest", json={})
            if by is None:
                _diagnostics(answer, 404)
                continue
            (best,) = answer.json()["assemblies"]
            assert (best["components"]["a"]["sku"], best["objective"]) == ("C", "2.25")
            pinned = served.post("/api/v1/products/lamp/cheapest", json={"select": {"a": "B"}})
            (unpriced,) = pinned.json()["assemblies"]
            assert (unpriced["objective"], unpriced["unpriced"]) == ("0.00", ["B"])


def test_why_names_the_rules_of_the_conflict(api: TestClient, tmp_path: Path) -> None:
    body = {"request": {"select": {"usage": "office"}}, "choice": "gpu", "value": "GPU-4090"}
    answer = api.post("/api/v1/products/workstation/why", json=body)
    assert answer.status_code == 200, answer.text
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body["request"]))
    ran = cli("explain", str(PC), str(path), "--why", "gpu=GPU-4090", "-f", "json", in_process=True)
    assert answer.json() == json.loads(ran.stdout)
    assert any(item["kind"] == "rule" for item in answer.json()["conflict"])


def _diagnostics(answer: Any, status: int) -> list[dict[str, Any]]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["version"] == 1 and body["diagnostics"]
    assert "Traceback" not in answer.text
    return list(body["diagnostics"])


def test_bad_bodies_are_located_4xx_never_500(api: TestClient) -> None:
    url = "/api/v1/products/workstation/domains"
    (bad,) = _diagnostics(api.post(url, content=b'{"select": {"usage": }'), 400)
    assert "not valid JSON" in bad["message"] and (bad["line"], bad["col"]) == (1, 22)
    (typed,) = _diagnostics(api.post(url, json={"limit": "x"}), 422)
    assert typed["path"] == "/limit" and (typed["line"], typed["col"]) == (1, 2)
    (unknown,) = _diagnostics(api.post(url, json={"select": {"cpux": "A"}}), 422)
    assert unknown["path"] == "/select/cpux" and "did you mean 'cpu'" in unknown["hint"]
    (value,) = _diagnostics(api.post(url, json={"select": {"gpu": "GPU-9"}}), 422)
    assert value["path"] == "/select/gpu" and value["line"] == 1
    (listed,) = _diagnostics(api.post(url, json=["gpu"]), 422)
    assert "JSON object" in listed["message"]
    (utf,) = _diagnostics(api.post(url, content=b'{"select": "\xff"}'), 400)
    assert "UTF-8" in utf["message"]
    (big,) = _diagnostics(api.post(url, content=b" " * (MAX_BODY + 1)), 413)
    assert "larger than" in big["message"]
    (nobody,) = _diagnostics(api.post("/api/v1/products/nobody/domains", json={}), 404)
    assert "workstation" in nobody["message"]
    _diagnostics(api.get("/no/such/page"), 404)
    _diagnostics(api.get("/api/v1/products/workstation/domains"), 405)
    why = "/api/v1/products/workstation/why"
    (choice,) = _diagnostics(api.post(why, json={"choice": "gpux", "value": None}), 422)
    assert choice["path"] == "/choice"
    (part,) = _diagnostics(api.post(why, json={"choice": "gpu", "value": "GPU-9"}), 422)
    assert part["path"] == "/value"
    (extra,) = _diagnostics(api.post(why, json={"choice": "gpu", "valu": None}), 422)
    assert extra["path"] == "/valu" and "(request, choice, value)" in extra["message"]
    nested = {"request": {"select": {"usage": "officer"}}, "choice": "gpu", "value": None}
    (inner,) = _diagnostics(api.post(why, json=nested), 422)
    assert inner["path"] == "/request/select/usage"
    plan = "/api/v1/products/workstation/plan"
    (day,) = _diagnostics(api.post(plan, json={"request": {}, "today": "monday"}), 422)
    assert day["path"] == "/today"
    (key,) = _diagnostics(api.post(plan, json={"request": {}, "orderid": "A"}), 422)
    assert key["path"] == "/orderid" and "(request, order_id, orders, today)" in key["message"]
    due = "2026-12-10"
    orders = {
        "orders": [
            {"order_id": "A", "due": due, "request": {}},
            {"order_id": "B", "due": due, "request": 3},
        ]
    }
    found = _diagnostics(api.post(plan, json=orders), 422)
    assert [d["path"] for d in found] == ["/orders/1"]


def test_an_operation_past_the_deadline_answers_with_what_it_found() -> None:
    model = load_file(PC).model
    assert model is not None
    config = ServeConfig(products_of([PC], [model]), deadline=0.001)
    with TestClient(create_app(config), raise_server_exceptions=False) as hurried:
        started = time.monotonic()
        counted = hurried.post("/api/v1/products/workstation/count", json={"deadline": 60})
        assert counted.status_code == 200
        assert counted.json()["stopped"] == "deadline" and counted.json()["exact"] is False
        assert time.monotonic() - started < 10  # the server's deadline, not the request's


def test_writes_need_a_database_and_the_token(tmp_path: Path) -> None:
    reserve = "/api/v1/products/workstation/reserve"
    body = {"request": GAMING, "order_id": "W-1", "today": "2026-12-07"}
    with client(str(STOCK), TOKEN) as csv_only:  # a CSV stock: no writes
        _diagnostics(csv_only.post(reserve, json=body), 403)
    url = str(tmp_path / "stock.db")
    database = StockDatabase(url)
    database.init()
    database.import_csv(Stock.from_csv(STOCK))
    with client(url) as no_token:
        _diagnostics(no_token.post(reserve, json=body), 403)
    with client(url, TOKEN) as served:
        _diagnostics(served.post(reserve, json=body), 401)
        wrong = {"Authorization": "Bearer not-the-token"}
        _diagnostics(served.post(reserve, json=body, headers=wrong), 401)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        (needs_id,) = _diagnostics(
            served.post(reserve, json={"request": GAMING}, headers=auth), 422
        )
        assert needs_id["path"] == "/order_id"
        done = served.post(reserve, json=body, headers=auth)
        assert done.status_code == 200, done.text
        (planned,) = done.json()["orders"]
        held = database.reserved_for("W-1")
        assert sorted((p.sku, p.location, p.qty) for p in held) == sorted(
            (p["sku"], p["location"], p["qty"]) for p in planned["picks"]
        )
        (twice,) = _diagnostics(served.post(reserve, json=body, headers=auth), 409)
        assert url not in twice["message"] + (twice["hint"] or "")  # no database URL
        released = served.post("/api/v1/orders/W-1/release", headers=auth)
        assert released.status_code == 200, released.text
        assert sum(p["qty"] for p in released.json()["released"]) == sum(p.qty for p in held)
        assert database.reserved_for("W-1") == []
        _diagnostics(served.post("/api/v1/orders/W-1/release", headers=auth), 404)
        _diagnostics(served.post("/api/v1/orders/W-1/release"), 401)
    database.engine.dispose()


def test_the_schema_is_served_and_no_page_loads_from_elsewhere(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    assert "/api/v1/products/{name}/domains" in schema["paths"]
    assert api.get("/docs").status_code == 404  # its page would load scripts from a CDN


def test_atoconf_serve_answers_over_http_from_two_workers(tmp_path: Path) -> None:
    with serving(str(PC), "--workers", "2", "--stock", str(STOCK)) as base:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
            assert json.load(answer) == {"status": "ok"}
        for _ in range(4):  # both workers answer the same
            asked = urllib.request.Request(
                f"{base}/api/v1/products/workstation/domains",
                data=json.dumps(GAMING).encode(),
                method="POST",
            )
            with urllib.request.urlopen(asked, timeout=30) as answer:
                assert json.load(answer) == command_json(tmp_path, "domains", GAMING)


def test_serve_refuses_bad_settings_before_listening(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("short\n")
    for args, said in [
        (["--token-file", str(token)], "need --stock a database"),
        (["--token-file", str(token), "--stock", str(tmp_path / "s.db")], "at least 16"),
        (["--supply", "supply.csv"], "--supply goes with --stock"),
        (["--deadline", "0"], "--deadline"),
    ]:
        if "s.db" in " ".join(args):
            database = StockDatabase(str(tmp_path / "s.db"))
            database.init()
            database.engine.dispose()
        ran = cli("serve", str(PC), *args)
        assert ran.returncode == 2 and said in ran.stderr, (args, ran.stderr)
    broken = tmp_path / "broken.ato"
    broken.write_text("product p\ncomponent cpu: Nope\n")
    ran = cli("serve", str(broken))
    assert ran.returncode == 2 and "broken.ato:2:" in ran.stderr


def test_the_json_doc_shows_the_servers_own_shapes(api: TestClient) -> None:
    """Each `http` example in docs/json.md has exactly the keys of the real answer."""
    from tests.test_docs import JSON_DOC, _key_paths

    text = JSON_DOC.read_text(encoding="utf-8")
    examples = re.findall(
        r"```http\n(GET|POST) (\S+)(?: (.*?))?\n```\n```json\n(.*?)\n```", text, re.S
    )
    assert len(examples) == 3
    for method, path, body, shown in examples:
        answer = api.get(path) if method == "GET" else api.post(path, content=body.encode())
        assert _key_paths(json.loads(shown)) == _key_paths(answer.json()), path


def test_two_servers_on_one_database_never_reserve_a_unit_twice(url: str, tmp_path: Path) -> None:
    """Two `atoconf serve` processes on one database (SQLite, and PostgreSQL under CI),
    16 reservations raced through HTTP for 5 units of a GPU."""
    loaded(url, write_stock(tmp_path, {"GPU-4070": [("B-01", 3), ("B-02", 2)]})).engine.dispose()
    token = tmp_path / "token"
    token.write_text(TOKEN)
    settings = (str(PC), "--stock", url, "--token-file", str(token))
    with serving(*settings) as first, serving(*settings) as second:

        def reserve(n: int) -> dict[str, Any]:
            body = {
                "request": {"select": {"usage": "gaming", "gpu": "GPU-4070"}},
                "order_id": f"R-{n:02d}",
                "today": "2026-11-26",
            }
            asked = urllib.request.Request(
                f"{(first, second)[n % 2]}/api/v1/products/workstation/reserve",
                data=json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {TOKEN}"},
                method="POST",
            )
            with urllib.request.urlopen(asked, timeout=120) as answer:
                (order,) = json.load(answer)["orders"]
                return dict(order)

        with ThreadPoolExecutor(8) as pool:
            orders = list(pool.map(reserve, range(16)))
    reported: dict[tuple[str, str], int] = {}
    for order in orders:
        for p in order["picks"]:
            shelf = (p["sku"], p["location"])
            reported[shelf] = reported.get(shelf, 0) + p["qty"]
    database = StockDatabase(url)
    held = invariant(database)
    database.engine.dispose()
    assert held == reported
    assert held[("GPU-4070", "B-01")] == 3 and held[("GPU-4070", "B-02")] == 2
    assert sorted(o["status"] for o in orders) == ["buildable"] * 5 + ["short"] * 11


def test_a_long_answer_does_not_stop_the_server_answering_others() -> None:
    """One worker: while a count runs for seconds, the health check still answers."""
    with serving(str(PC)) as base:

        def slow() -> float:
            started = time.monotonic()
            asked = urllib.request.Request(
                f"{base}/api/v1/products/workstation/count",
                data=json.dumps({"deadline": 3}).encode(),
                method="POST",
            )
            with urllib.request.urlopen(asked, timeout=60) as answer:
                json.load(answer)
            return time.monotonic() - started

        with ThreadPoolExecutor(1) as pool:
            counting = pool.submit(slow)
            time.sleep(0.5)
            started = time.monotonic()
            with urllib.request.urlopen(f"{base}/healthz", timeout=30) as answer:
                assert json.load(answer) == {"status": "ok"}
            waited = time.monotonic() - started
            took = counting.result()
        assert waited < 0.5 < took - waited, (took, waited)
