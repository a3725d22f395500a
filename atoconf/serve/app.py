"""The HTTP API: one FastAPI app per worker, made by `create_app` from the products
given at start (compiled once, kept warm), and what it answers with.

Every answer is JSON. A bad request is a 4xx whose body is `{"version": 1,
"diagnostics": [...]}`, each diagnostic as `check --format json` prints it plus
`path`, a JSON pointer to the body field it is about; the framework's own error
bodies are replaced by that shape, and no error answers with a traceback.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from atoconf.engine.clock import Clock
from atoconf.engine.configure import Configuration, RequestError
from atoconf.engine.request import Request as ConfigRequest
from atoconf.engine.request import locate_in_json, request_from_json, resolve_request
from atoconf.engine.results import SolveResult
from atoconf.engine.solve import solve
from atoconf.language.context import did_you_mean
from atoconf.language.diagnostics import Diagnostic, diagnostic_json, error
from atoconf.language.model import Model, Value
from atoconf.language.source import SourceFile, Span
from atoconf.language.typecheck import typed_expression
from atoconf.language.version import __version__
from atoconf.planning.constraints import cost_objective, with_costs
from atoconf.planning.orders import Order, read_orders, single_order
from atoconf.planning.plan import plan_and_reserve, plan_orders
from atoconf.planning.planner import Planner
from atoconf.planning.shelves import Shelves
from atoconf.planning.stock import Stock, StockDatabase, StockError, is_database, open_stock
from atoconf.serve.pages import STATIC, product_page, products_page

API = "/api/v1"
JSON_VERSION = 1
MAX_BODY = 1_000_000  # bytes of a request body
DEADLINE = 10.0  # seconds an operation may take, whatever the request asks
SOLVE_LIMIT = 100  # assemblies a solve lists at most
PRICE = "total(price)"  # the cheapest completion, where parts have a price
_VALUES = TypeAdapter(list[Value])
_log = logging.getLogger("atoconf.serve")


@dataclass(frozen=True)
class Served:
    """A product as the server knows it: its name in URLs, its model, its file."""

    name: str
    model: Model
    file: str


@dataclass
class ServeConfig:
    """What a server serves: products by name, the stock (a CSV pair or a database),
    and the token that enables writes (reserve, release) with a database."""

    products: dict[str, Served]
    stock: str | None = None
    supply: str | None = None
    token: str | None = None
    deadline: float = DEADLINE
    max_body: int = MAX_BODY
    writes: bool = field(init=False)

    def __post_init__(self) -> None:
        self.writes = self.token is not None and self.stock is not None and is_database(self.stock)


class Problem(Exception):
    """An answer with a 4xx status and located diagnostics."""

    def __init__(self, status: int, diagnostics: Sequence[Diagnostic], path: str | None = None):
        self.status = status
        self.diagnostics = list(diagnostics)
        self.path = path
        super().__init__(diagnostics[0].message if diagnostics else str(status))


def problem(status: int, code: str, message: str, hint: str | None = None) -> Problem:
    return Problem(status, [error(code, message, None, hint=hint)])


def bad_field(message: str) -> Problem:
    """422 for a body field: `message` starts with the field (`today: ...`), which
    gives the diagnostic its path."""
    return problem(422, "E0902", message)


# what a diagnostic's message may start with to name a body field
_FIELDS = {*ConfigRequest.model_fields, "request", "orders", "order_id", "today", "choice", "value"}


def _pointer(d: Diagnostic, prefix: str) -> str | None:
    """The JSON pointer of the body field a diagnostic names by its message's head
    (`select.cpu: ...` is /select/cpu, `orders/3: ...` is /orders/3), under `prefix`;
    `prefix` alone (None if empty) when it names none."""
    head, sep, _ = d.message.partition(": ")
    first = head.split("/")[0].split(".")[0]
    if not sep or " " in head or first not in _FIELDS:
        return prefix or None
    if first == "select":
        parts = ["select", head.removeprefix("select.")] if head != "select" else ["select"]
    else:
        parts = head.split("/")
    return prefix + "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _body_json(diagnostics: Sequence[Diagnostic], prefix: str = "") -> dict[str, Any]:
    out = []
    for d in diagnostics:
        shaped = diagnostic_json(d)
        shaped["path"] = _pointer(d, prefix)
        out.append(shaped)
    return {"version": JSON_VERSION, "diagnostics": out}


# ---- reading a body ---------------------------------------------------------------------------


async def _body_text(request: Request, limit: int) -> str:
    """The body as text: 413 past `limit` bytes (said before reading when the length is
    given), 400 when it is not UTF-8."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise problem(
            400,
            "E0901",
            f"the body is not UTF-8 text (byte {exc.start})",
            "send the JSON encoded as UTF-8",
        ) from None


async def _body_of(request: Request) -> str:
    return await _body_text(request, request.app.state.max_body)


# a request's body, read on the event loop; the endpoints that take it are plain
# functions, which FastAPI runs in its thread pool: a long answer never stops the loop
Body = Annotated[str, Depends(_body_of)]


def _too_large(limit: int) -> Problem:
    return problem(
        413,
        "E0904",
        f"the body is larger than {limit:,} bytes",
        "a request is a few kilobytes; send a large batch of orders in several parts",
    )


def _parse(text: str) -> Any:
    """The body's JSON; 400, at the line and column, when it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = Span(
            file="body", line=exc.lineno, col=exc.colno, end_line=exc.lineno, end_col=exc.colno + 1
        )
        raise Problem(400, [error("E0701", f"the body is not valid JSON: {exc.msg}", at)]) from None


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise bad_field(f"the body must be a JSON object ({what}), not {_kind(data)}")
    return data


def _only_keys(body: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    """422 at the first key of `body` that is not one of `allowed`."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        said = f"{unknown[0]}: not a key {where} ({', '.join(allowed)})"
        raise Problem(422, [error("E0902", said, None)], "/" + unknown[0])


def _kind(data: Any) -> str:
    return {list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(
        type(data), "a number"
    )


def _request(model: Model, text: str, prefix: str = "") -> Configuration:
    """A request read from JSON text against the model; 422 with every bad item, each
    located in the text (for a bare body) and with its path."""
    source = SourceFile(name="body", text=text)
    parsed = request_from_json(text, "body")
    if parsed.value is None:
        malformed = any(d.code == "E0701" for d in parsed.diagnostics)  # not JSON at all
        raise Problem(400 if malformed else 422, _nested(parsed.diagnostics, prefix), prefix)
    resolved = resolve_request(model, parsed.value)
    if resolved.value is None:
        found = locate_in_json(resolved.diagnostics, source)
        raise Problem(422, _nested(found, prefix), prefix)
    return Configuration(model, resolved.value)


def _nested(diagnostics: Sequence[Diagnostic], prefix: str) -> list[Diagnostic]:
    """Diagnostics of a request nested in the body have lines of its own text, not of
    the body: only their path says where."""
    if not prefix:
        return list(diagnostics)
    return [d.model_copy(update={"span": None}) for d in diagnostics]


def _field_request(model: Model, body: Mapping[str, Any], key: str = "request") -> Configuration:
    inner = body.get(key, {})
    if not isinstance(inner, dict):
        raise bad_field(f"{key}: must be a JSON object (a request), not {_kind(inner)}")
    return _request(model, json.dumps(inner), "/" + key)


# ---- the app ------------------------------------------------------------------------------------


def create_app(config: ServeConfig) -> FastAPI:
    """The API for `config`'s products (compiled as the first request of each needs
    them, then kept for the life of the worker)."""
    app = FastAPI(
        title="atoconf",
        version=__version__,
        summary="Valid assemblies, explanations and plans for assemble-to-order products.",
        docs_url=None,  # the interactive page loads scripts from a CDN: the schema only
        redoc_url=None,
        openapi_url="/openapi.json",
    )

    app.state.max_body = config.max_body

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return JSONResponse(_body_json(exc.diagnostics, exc.path or ""), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = [
            error("E0902", f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}", None)
            for e in exc.errors()
        ]
        return JSONResponse(_body_json(found), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = request.url.path
        if exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            found = error(
                "E0903",
                f"{path} does not take {request.method}",
                None,
                hint=f"ask it with {allowed}" if allowed else None,
            )
        elif exc.status_code == 404:
            found = error(
                "E0903",
                f"no such page: {path}",
                None,
                hint="the pages are / and "
                "/products/NAME; the API is under /api/v1 (see /openapi.json)",
            )
        else:
            found = error("E0903", str(exc.detail), None)
        return JSONResponse(_body_json([found]), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("atoconf serve: %s %s failed", request.method, request.url.path)
        message = "atoconf failed on this request (a bug: the server log has the details)"
        return JSONResponse(_body_json([error("E0999", message, None)]), status_code=500)

    def private(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
        """What the stock layer says, without the database's URL (it may hold a
        password): HTTP clients read these."""
        secret = config.stock or ""
        if not secret:
            return list(diagnostics)
        where = "the server's stock database"
        return [
            d.model_copy(
                update={
                    "message": d.message.replace(secret, where),
                    "hint": d.hint.replace(secret, where) if d.hint else d.hint,
                }
            )
            for d in diagnostics
        ]

    def served(name: str) -> Served:
        found = config.products.get(name)
        if found is None:
            known = ", ".join(sorted(config.products)) or "none"
            close = did_you_mean(name, config.products)
            raise problem(
                404,
                "E0905",
                f"no product '{name}' (served: {known})",
                close or "GET /api/v1/products lists them",
            )
        return found

    def authorised(request: Request) -> StockDatabase:
        if not config.writes or config.stock is None or config.token is None:
            raise problem(
                403,
                "E0906",
                "writes are not enabled on this server",
                "start it with --stock a database and --token-file",
            )
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), config.token.encode()
        ):
            raise problem(
                401,
                "E0907",
                "a write needs the server's token",
                "send the header Authorization: Bearer <token>",
            )
        return StockDatabase(config.stock)

    def stock_now() -> Stock:
        if config.stock is None:
            raise problem(404, "E0908", "this server has no stock", "start it with --stock STOCK")
        try:
            return open_stock(config.stock, config.supply)
        except StockError as exc:
            raise Problem(503, private(exc.diagnostics)) from None

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return products_page(
            [(p.name, p.model.title or p.model.product) for p in config.products.values()]
        )

    @app.get("/products/{name}", response_class=HTMLResponse)
    def page(name: str) -> str:
        found = served(name)
        return product_page(
            found.name,
            found.model.title or found.model.product,
            config.stock is not None,
            config.writes,
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(f"{API}/products")
    def products() -> list[dict[str, Any]]:
        return [
            {"name": p.name, "title": p.model.title or p.model.product, "file": p.file}
            for p in config.products.values()
        ]

    @app.get(API + "/products/{name}")
    def product(name: str) -> dict[str, Any]:
        return _choices(served(name), config.stock is not None)

    def seconds(asked: Configuration) -> float:
        """An operation's deadline: the request's, never past the server's."""
        own = asked.request.deadline
        return config.deadline if own is None else min(own, config.deadline)

    @app.post(API + "/products/{name}/domains")
    def domains_(name: str, text: Body) -> dict[str, Any]:
        asked = _request(served(name).model, text)
        return asked.domains(deadline=seconds(asked)).to_json()

    @app.post(API + "/products/{name}/count")
    def count_(name: str, text: Body) -> dict[str, Any]:
        asked = _request(served(name).model, text)
        shaped: dict[str, Any] = asked.count(deadline=seconds(asked)).model_dump(mode="json")
        return shaped

    @app.post(API + "/products/{name}/solve")
    def solve_(name: str, text: Body) -> dict[str, Any]:
        asked = _request(served(name).model, text)
        limit = min(asked.request.limit or SOLVE_LIMIT, SOLVE_LIMIT)
        stream = asked.solve(limit=limit, deadline=seconds(asked))
        return SolveResult(assemblies=list(stream), stopped=stream.stopped).to_json()

    @app.post(API + "/products/{name}/cheapest")
    def cheapest(name: str, text: Body) -> dict[str, Any]:
        """The cheapest completion of a request, as the page shows it: by the parts'
        price, else (with stock) by the supply's unit cost; a solve answer of one."""
        model = served(name).model
        asked = _request(model, text)
        by = _cheapest_by(model, config.stock is not None)
        if by is None:
            raise problem(
                404,
                "E0908",
                f"product '{name}' has no price and this server has no stock",
                "give the parts a price attribute, or start the server with --stock",
            )
        if by == "price":
            stream = asked.solve(minimize=PRICE, limit=1, deadline=seconds(asked))
            return SolveResult(assemblies=list(stream), stopped=stream.stopped).to_json()
        # the supply's unit costs, on the model with them (the request is the same)
        stock = stock_now()
        costed = with_costs(model, stock)
        stream = solve(
            costed,
            asked.request.selects,
            [e for _, e in asked.request.requires],
            minimize=cost_objective(costed, Decimal(0)),
            limit=1,
            clock=Clock(seconds(asked)),
            defaults=True,
        )
        listed = list(stream)
        shaped = SolveResult(assemblies=listed, stopped=stream.stopped).to_json()
        for assembly in shaped["assemblies"]:
            # the cost of the priced parts; parts without supply data are named
            chosen = [c for c in assembly["components"].values() if c is not None]
            known = sum(
                (stock.unit_cost(c["sku"]) * c["qty"] for c in chosen if stock.priced(c["sku"])),
                Decimal(0),
            )
            assembly["objective"] = str(known.quantize(Decimal("0.01")))
            assembly["unpriced"] = sorted({c["sku"] for c in chosen if not stock.priced(c["sku"])})
        return shaped

    @app.post(API + "/products/{name}/explain")
    def explain_(name: str, text: Body) -> dict[str, Any]:
        asked = _request(served(name).model, text)
        return asked.explain(max_conflicts=5, deadline=seconds(asked)).to_json()

    @app.post(API + "/products/{name}/why")
    def why(name: str, text: Body) -> dict[str, Any]:
        model = served(name).model
        body = _object(_parse(text), "request, choice, value")
        _only_keys(body, ("request", "choice", "value"), "of a why")
        asked = _field_request(model, body)
        choice = body.get("choice")
        if not isinstance(choice, str):
            raise bad_field('choice: must name a choice, e.g. "gpu"')
        try:
            found = asked.why(choice, body.get("value"), deadline=seconds(asked))
        except RequestError as exc:
            raise Problem(422, [_probe_problem(d) for d in exc.diagnostics]) from None
        return found.to_json()

    @app.post(API + "/products/{name}/plan")
    def plan_(name: str, text: Body) -> dict[str, Any]:
        model = served(name).model
        body = _object(_parse(text), "request or orders")
        orders, day = _orders(model, body, write=False)
        stock = stock_now()
        planner = Planner(model, stock, day, deadline=config.deadline)
        return plan_orders(planner, orders, Shelves(stock)).to_json()

    @app.post(API + "/products/{name}/reserve")
    def reserve(name: str, text: Body, request: Request) -> JSONResponse:
        model = served(name).model
        database = authorised(request)
        body = _object(_parse(text), "request or orders")
        orders, day = _orders(model, body, write=True)
        try:
            planner = Planner(model, database.snapshot(), day, deadline=config.deadline)
            done = plan_and_reserve(planner, orders, database)
        except StockError as exc:
            raise Problem(503, private(exc.diagnostics)) from None
        finally:
            database.engine.dispose()
        said = private(done.diagnostics)
        refused = [d for d in said if d.is_error and d.code == "E0810"]
        if refused and len(orders) == 1:
            raise Problem(409, refused)
        assert done.value is not None
        shaped = done.value.to_json()
        if said:
            shaped["diagnostics"] = [diagnostic_json(d) for d in said]
        return JSONResponse(shaped)

    @app.post(API + "/orders/{order_id}/release")
    def release(order_id: str, request: Request) -> dict[str, Any]:
        database = authorised(request)
        try:
            given = database.release(order_id)
        except StockError as exc:
            raise Problem(503, private(exc.diagnostics)) from None
        finally:
            database.engine.dispose()
        if not given:
            raise problem(
                404,
                "E0909",
                f"order '{order_id}' holds no reservation",
                "it was released or consumed already, or the id is misspelt: "
                "`atoconf stock show` of the server's database lists the reservations",
            )
        return {
            "version": JSON_VERSION,
            "order_id": order_id,
            "released": [{"sku": p.sku, "location": p.location, "qty": p.qty} for p in given],
        }

    return app


def _probe_problem(d: Diagnostic) -> Diagnostic:
    """A why's choice or value that the model does not have, said of that key."""
    key = "choice" if "unknown component or option" in d.message else "value"
    return d.model_copy(update={"span": None, "message": f"{key}: {d.message.partition(': ')[2]}"})


def _cheapest_by(model: Model, has_stock: bool) -> str | None:
    """What the page's cheapest completion is ranked by: "price" (the parts' own),
    "unit_cost" (the supply's, with stock), or None (neither is there)."""
    if typed_expression(model, PRICE, "minimize").ok:
        return "price"
    return "unit_cost" if has_stock else None


def _choices(product: Served, has_stock: bool) -> dict[str, Any]:
    """Every choice of a product with all its values (as domains JSON writes them),
    each part's name and price where it has one, and what its cheapest completion is
    ranked by."""
    model = product.model
    choices: list[dict[str, Any]] = []
    for comp in model.components.values():
        values: list[Value] = [None] if comp.optional else []
        choices.append(
            {
                "name": comp.name,
                "kind": "component",
                "type": comp.type,
                "optional": comp.optional,
                "values": _VALUES.dump_python(values + list(comp.parts), mode="json"),
            }
        )
        if comp.qty_min != comp.qty_max:
            quantities: list[Value] = list(range(comp.qty_min, comp.qty_max + 1))
            if comp.optional and comp.qty_min > 0:
                quantities.insert(0, 0)
            choices.append(
                {
                    "name": f"{comp.name}.qty",
                    "kind": "quantity",
                    "values": _VALUES.dump_python(quantities, mode="json"),
                }
            )
    for option in model.options.values():
        choices.append(
            {
                "name": option.name,
                "kind": "option",
                "values": _VALUES.dump_python(list(option.values), mode="json"),
                "default": _VALUES.dump_python([option.default], mode="json")[0]
                if option.has_default
                else None,
            }
        )
    parts = {
        sku: {"name": part.name, "type": part.type}
        | ({"price": str(part.values["price"])} if part.values.get("price") is not None else {})
        for sku, part in model.parts.items()
    }
    return {
        "version": JSON_VERSION,
        "name": product.name,
        "title": model.title or model.product,
        "file": product.file,
        "choices": choices,
        "parts": parts,
        "cheapest": _cheapest_by(model, has_stock),
    }


def _orders(model: Model, body: Mapping[str, Any], write: bool) -> tuple[list[Order], date]:
    """The orders of a plan or reserve body, and the day to plan from: `{"request",
    "order_id"?, "today"?}` or `{"orders": [...], "today"?}`."""
    _only_keys(body, ("request", "order_id", "orders", "today"), "here")
    day = date.today()
    if "today" in body:
        try:
            day = date.fromisoformat(str(body["today"]))
        except ValueError:
            raise bad_field('today: must be a date such as "2026-12-07"') from None
    if "orders" in body:
        if "request" in body or "order_id" in body:
            raise problem(422, "E0902", "give either a request (and its order_id) or orders")
        given = body["orders"]
        if not isinstance(given, list) or not given:
            raise bad_field("orders: must be a non-empty list")
        text = "\n".join(json.dumps(o) for o in given) + "\n"
        read = read_orders(model, text, "orders")
        if read.diagnostics:
            raise Problem(
                422,
                [
                    d.model_copy(
                        update={
                            "span": None,
                            "message": f"orders/{d.span.line - 1}: {d.message}"
                            if d.span
                            else d.message,
                        }
                    )
                    for d in read.diagnostics
                ],
            )
        return read.value or [], day
    order_id = body.get("order_id")
    if write and not isinstance(order_id, str):
        raise bad_field("order_id: a reservation needs the order it is for")
    if order_id is not None and not isinstance(order_id, str):
        raise bad_field("order_id: must be text")
    asked = _field_request(model, body)
    return [single_order(asked.request, order_id or "request")], day


def products_of(files: Sequence[Path], models: Sequence[Model]) -> dict[str, Served]:
    """Products by name (the file's stem), in the order given."""
    return {
        path.stem: Served(path.stem, model, str(path))
        for path, model in zip(files, models, strict=True)
    }
