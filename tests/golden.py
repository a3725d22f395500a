"""Golden files: error examples (tests/errors/CODE/) and grammar dumps (tests/grammar/).

`python -m tests.golden --update`, run in the checkout, rewrites every expected file
and docs/errors.md from what atoconf prints now; review the diff before committing it.

Each example is rendered as atoconf prints it when run inside the example's folder,
without going there: its files are read by their full paths and the text names them
relative to the folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import NoReturn

import sqlalchemy as sa

from atoconf.cli.test import run_files, test_diagnostics
from atoconf.engine.check import LINT_DEADLINE, check_files
from atoconf.engine.request import (
    locate_in_json,
    request_from_flags,
    request_from_json,
    resolve_request,
)
from atoconf.engine.ruletests import TEST_DEADLINE
from atoconf.language.build import load_file
from atoconf.language.codes import CODES
from atoconf.language.diagnostics import render_text
from atoconf.language.dump import dump_model
from atoconf.language.model import Model
from atoconf.language.source import SourceFile, display_name
from atoconf.planning.calendar import CalendarError, read_calendar
from atoconf.planning.orders import read_orders
from atoconf.planning.plan import plan_and_reserve
from atoconf.planning.planner import Planner
from atoconf.planning.stock import (
    Stock,
    StockDatabase,
    StockError,
    read_receipts_csv,
    stock_report,
    unknown_skus,
)

ROOT = Path(__file__).resolve().parent.parent
ERRORS = ROOT / "tests" / "errors"
GRAMMAR = ROOT / "tests" / "grammar"
# messages that name the fix for what a newcomer writes from another language: what
# `atoconf check main.ato` prints in each folder
MESSAGES = ROOT / "tests" / "messages"
ERRORS_DOC = ROOT / "docs" / "errors.md"
# files in an example folder that say how to run it, not inputs to show
MARKERS = ("expected.txt", "test.txt", "deadline.txt")


def relative_to(folder: Path, text: str) -> str:
    """The text with the files in `folder` named relative to it: atoconf names them
    by their full paths or relative to the working directory, whichever it shows."""
    for shown in (str(folder), display_name(folder)):
        text = text.replace(shown + os.sep, "")
    return text


def render_error_example(code: str) -> str:
    """What `atoconf check main.ato` prints inside the example's folder (lints with
    the seconds in `deadline.txt`, if any); with a `request.json` (or a `set.txt`
    holding one --set value), what checking that request against main.ato prints;
    with a `test.txt`, what `atoconf test main.ato` reports (its flags inside)."""
    folder = ERRORS / code
    return relative_to(folder, _render(folder))


def render_message_example(folder: Path) -> str:
    """What `atoconf check main.ato` prints in a folder of tests/messages."""
    return relative_to(folder, _render(folder))


def _render(folder: Path) -> str:
    main = folder / "main.ato"
    if (folder / "http.txt").exists():
        return render_http_example(folder)
    result = load_file(main)
    if (folder / "calendar.toml").exists():  # what `plan --calendar calendar.toml` reports
        try:
            read_calendar(folder / "calendar.toml")
        except CalendarError as exc:
            return render_text(exc.diagnostics, exc.sources)
        return ""
    if result.model is not None and any(
        (folder / name).exists() for name in ("stock.csv", "stock.db", "orders.jsonl")
    ):
        return render_stock_example(folder, result.model, result.sources)
    test_file = folder / "test.txt"
    if result.model is not None and test_file.exists():
        return render_test_example(main, test_file.read_text(encoding="utf-8").split())
    request_file, set_file = folder / "request.json", folder / "set.txt"
    if result.model is None:
        return render_text(result.diagnostics, result.sources)
    if not (request_file.exists() or set_file.exists()):
        deadline = folder / "deadline.txt"
        seconds = float(deadline.read_text()) if deadline.exists() else LINT_DEADLINE
        checked = check_files([main], deadline=seconds)
        return render_text(checked.diagnostics, checked.sources)
    if set_file.exists():
        flags = request_from_flags([set_file.read_text().strip()], [], None, None, None, None)
        assert not flags.ok
        return render_text(flags.diagnostics, flags.sources)
    text = request_file.read_text(encoding="utf-8")
    request = request_from_json(text, "request.json")
    if request.value is None:
        return render_text(request.diagnostics, {"request.json": SourceFile("request.json", text)})
    resolved = resolve_request(result.model, request.value)
    source = SourceFile("request.json", text)
    located = locate_in_json(resolved.diagnostics, source)
    return render_text(located, {**resolved.sources, source.name: source})


HTTP_TOKEN = "golden-token-0123456789"


def render_http_example(folder: Path) -> str:
    """What `atoconf serve main.ato` answers to the request in http.txt: its first line
    is `METHOD PATH` and flags (`stock`: with stock.csv; `writes`: with stock.db made
    from it and a token; `token`: the request carries it; `latin-1`: the body is
    sent in that encoding; `huge`: the body is 1 MB of spaces; `fails`: the
    operation raises, as a bug would), the lines after it the body. The answer's status, then
    each diagnostic as the command line prints it, with its JSON pointer."""
    from fastapi.testclient import TestClient

    import atoconf.serve.app as served
    from atoconf.serve.app import MAX_BODY, ServeConfig, create_app, products_of

    head, *rest = (folder / "http.txt").read_text(encoding="utf-8").split("\n")
    method, path, *flags = head.split()
    body = "\n".join(rest).strip("\n")
    main = folder / "main.ato"
    model = load_file(main).model
    assert model is not None
    with tempfile.TemporaryDirectory() as scratch:
        stock: str | None = str(folder / "stock.csv") if "stock" in flags else None
        token = None
        if "writes" in flags:
            stock = str(Path(scratch) / "stock.db")
            database = StockDatabase(stock)
            database.init()
            database.import_csv(Stock.from_csv(folder / "stock.csv"))
            database.engine.dispose()
            token = HTTP_TOKEN
        config = ServeConfig(products_of([main], [model]), stock=stock, token=token)
        headers = {"Authorization": f"Bearer {HTTP_TOKEN}"} if "token" in flags else {}
        saved = served.Configuration.domains

        def failing(*args: object, **kwargs: object) -> NoReturn:
            raise RuntimeError("a bug")

        if "fails" in flags:
            served.Configuration.domains = failing  # type: ignore[method-assign]
        try:
            with TestClient(create_app(config), raise_server_exceptions=False) as client:
                sent = body.encode("latin-1" if "latin-1" in flags else "utf-8")
                if "huge" in flags:
                    sent = b" " * (MAX_BODY + 1)
                answer = client.request(method, path, content=sent, headers=headers)
        finally:
            served.Configuration.domains = saved  # type: ignore[method-assign]
    lines = [f"HTTP {answer.status_code}"]
    for d in answer.json()["diagnostics"]:
        where = f"{d['file']}:{d['line']}:{d['col']}: " if d["line"] else ""
        lines.append(f"{where}{d['severity']}[{d['code']}]: {d['message']}")
        if d["hint"]:
            lines.append(f"  = hint: {d['hint']}")
        if d["path"]:
            lines.append(f"  = path: {d['path']}")
    return "\n".join(lines) + "\n"


def render_test_example(main: Path, flags: list[str]) -> str:
    """What `atoconf test main.ato --format github` reports (with `--coverage` when
    test.txt says so), in the text form of diagnostics."""
    run = run_files([main], "--coverage" in flags, None, TEST_DEADLINE)
    return render_text(run.problems + test_diagnostics(run), run.sources)


def render_stock_example(folder: Path, model: Model, rules: dict[str, SourceFile]) -> str:
    """What `atoconf plan main.ato --stock stock.csv --orders orders.jsonl` reports about
    its stock and orders (with a supply.csv: what `atoconf check main.ato --stock
    stock.csv` reports) (with `reserve-twice.txt`: what a second `--reserve` run of the
    same orders against one database reports; with `skip-reserved.txt`: what a second
    run with --skip-reserved reports once the first run's stored plans are gone);
    `stock.db`: what opening it reports."""
    if (folder / "stock.db").exists():
        try:
            StockDatabase(str(folder / "stock.db")).check_schema()
        except StockError as exc:
            return render_text(exc.diagnostics, exc.sources)
        return ""
    try:
        stock = Stock.from_csv(folder / "stock.csv")
    except StockError as exc:
        return render_text(exc.diagnostics, exc.sources)
    # with supply data: what `atoconf check main.ato --stock stock.csv` reports
    has_supply = (folder / "supply.csv").exists()
    diagnostics = stock_report(stock, model) if has_supply else unknown_skus(stock, model)
    sources = {**rules, **stock.sources}
    if (folder / "receipts.csv").exists():  # `atoconf stock receive stock.db receipts.csv`
        with tempfile.TemporaryDirectory() as temporary:
            database = StockDatabase(str(Path(temporary) / "stock.db"))
            database.init()
            database.import_csv(stock)
            try:
                database.receive(read_receipts_csv(folder / "receipts.csv"))
                shown = ""
            except StockError as exc:
                shown = render_text(exc.diagnostics, exc.sources)
            database.engine.dispose()
            return relative_to(folder, shown.replace(temporary + os.sep, ""))
    orders_file = folder / "orders.jsonl"
    if orders_file.exists():
        text = orders_file.read_text(encoding="utf-8")
        read = read_orders(model, text, "orders.jsonl")
        orders = read.value or []
        diagnostics += read.diagnostics
        sources.update(read.sources)
        twice = (folder / "reserve-twice.txt").exists()
        if twice or (folder / "skip-reserved.txt").exists():
            with tempfile.TemporaryDirectory() as temporary:
                database = StockDatabase(str(Path(temporary) / "stock.db"))
                database.init()
                database.import_csv(stock)
                planner = Planner(model, stock, date(2026, 11, 26))
                plan_and_reserve(planner, orders, database)
                if not twice:  # reserved as before plans were stored, kept on a rerun
                    with database.engine.begin() as conn:
                        conn.execute(sa.delete(database.plan_table))
                again = plan_and_reserve(planner, orders, database, skip_reserved=not twice)
                database.engine.dispose()
            diagnostics += again.diagnostics
            # the hints name the database as it was given: here, a file in a temporary
            # folder, shown as the reader's own stock.db
            return render_text(diagnostics, sources).replace(temporary + os.sep, "")
    return render_text(diagnostics, sources)


def render_grammar_example(path: Path) -> str:
    """What `atoconf dump NAME.ato` prints in the grammar folder (or its errors)."""
    result = load_file(path)
    if result.model is None:
        shown = render_text(result.diagnostics, result.sources)
    else:
        shown = dump_model(result.model)
    return relative_to(path.parent, shown)


def example_files(code: str) -> list[Path]:
    folder = ERRORS / code
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name not in MARKERS and p.parent.name != "main.ato"
    )


def errors_doc() -> str:
    lines = [
        "# Error codes",
        "",
        "Every diagnostic atoconf reports has a code. Each section below shows a",
        "small bad example and exactly what `atoconf check main.ato` prints for it",
        "(for stock and orders: what `atoconf plan` reports about them).",
        "This file is generated from `tests/errors/` by `python tests/golden.py --update`;",
        "a test fails when it drifts.",
        "",
    ]
    for code, info in CODES.items():
        # the heading says what the code means; the anchor stays the bare code (SARIF
        # logs link to it)
        lines += [f'<a id="{code.lower()}"></a>', "", f"## {code}: {info.title}", ""]
        lines += [f"`{info.name}`", ""]
        files = example_files(code)
        if not files:
            lines += ["`main.ato` is a directory, not a file.", ""]
        for path in files:
            rel = path.relative_to(ERRORS / code)
            lang = {".csv": "csv", ".json": "json", ".jsonl": "json", ".txt": "text"}.get(
                path.suffix, "ato"
            )
            text = path.read_text(encoding="utf-8")
            if not text:
                lines += [f"`{rel}` is empty.", ""]
                continue
            lines += [f"`{rel}`:", "", f"```{lang}", text.rstrip("\n"), "```", ""]
        folder = ERRORS / code
        if (folder / "test.txt").exists():
            flags = " ".join(["main.ato", *(folder / "test.txt").read_text().split()])
            lines += [f"`atoconf test {flags}` reports (`--format github`: as annotations):", ""]
        elif (folder / "deadline.txt").exists():
            seconds = (folder / "deadline.txt").read_text().strip()
            lines += [f"`atoconf check main.ato --lint-deadline {seconds}`:", ""]
        elif (folder / "http.txt").exists():
            lines += [
                "`atoconf serve main.ato` answers the request in `http.txt` (its first line: "
                "the method, the path and how the example is run; the body below it) with:",
                "",
            ]
        elif (folder / "receipts.csv").exists():
            lines += [
                "After `atoconf stock import stock.db stock.csv`, "
                "`atoconf stock receive stock.db receipts.csv` reports (nothing is booked in):",
                "",
            ]
        lines += ["```text", render_error_example(code).rstrip("\n"), "```", ""]
    return "\n".join(lines)


def update() -> None:
    for code in CODES:
        (ERRORS / code / "expected.txt").write_text(render_error_example(code), encoding="utf-8")
    for folder in sorted(p for p in MESSAGES.iterdir() if p.is_dir()):
        (folder / "expected.txt").write_text(render_message_example(folder), encoding="utf-8")
    for source in sorted(GRAMMAR.glob("*.ato")):
        source.with_suffix(".dump").write_text(render_grammar_example(source), encoding="utf-8")
    ERRORS_DOC.write_text(errors_doc(), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.golden --update")
    update()
