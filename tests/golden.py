"""Golden files: error examples (tests/errors/CODE/) and grammar dumps (tests/grammar/).

`python tests/golden.py --update` rewrites every expected file and docs/errors.md
from what atoconf prints now; review the diff before committing it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atoconf.cli.test import run_files, test_diagnostics  # noqa: E402
from atoconf.engine.check import LINT_DEADLINE, check_files  # noqa: E402
from atoconf.engine.request import (  # noqa: E402
    locate_in_json,
    request_from_flags,
    request_from_json,
    resolve_request,
)
from atoconf.engine.ruletests import TEST_DEADLINE  # noqa: E402
from atoconf.language.build import load_file  # noqa: E402
from atoconf.language.codes import CODES  # noqa: E402
from atoconf.language.diagnostics import render_text  # noqa: E402
from atoconf.language.dump import dump_model  # noqa: E402
from atoconf.language.model import Model  # noqa: E402
from atoconf.language.source import SourceFile  # noqa: E402
from atoconf.planning.plan import Planner, plan_and_reserve, read_orders  # noqa: E402
from atoconf.planning.stock import Stock, StockDatabase, StockError, unknown_skus  # noqa: E402

ERRORS = ROOT / "tests" / "errors"
GRAMMAR = ROOT / "tests" / "grammar"
ERRORS_DOC = ROOT / "docs" / "errors.md"
# files in an example folder that say how to run it, not inputs to show
MARKERS = ("expected.txt", "test.txt", "deadline.txt")


@contextmanager
def cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def render_error_example(code: str) -> str:
    """What `atoconf check main.ato` prints inside the example's folder (lints with
    the seconds in `deadline.txt`, if any); with a `request.json` (or a `set.txt`
    holding one --set value), what checking that request against main.ato prints;
    with a `test.txt`, what `atoconf test main.ato` reports (its flags inside)."""
    with cwd(ERRORS / code):
        result = load_file(Path("main.ato"))
        if result.model is not None and any(
            Path(name).exists() for name in ("stock.csv", "stock.db", "orders.jsonl")
        ):
            return render_stock_example(result.model)
        if result.model is not None and Path("test.txt").exists():
            return render_test_example(Path("test.txt").read_text(encoding="utf-8").split())
        request_file, set_file = Path("request.json"), Path("set.txt")
        if result.model is None:
            return render_text(result.diagnostics, result.sources)
        if not (request_file.exists() or set_file.exists()):
            deadline = Path("deadline.txt")
            seconds = float(deadline.read_text()) if deadline.exists() else LINT_DEADLINE
            checked = check_files([Path("main.ato")], deadline=seconds)
            return render_text(checked.diagnostics, checked.sources)
        if set_file.exists():
            flags = request_from_flags([set_file.read_text().strip()], [], None, None, None, None)
            assert isinstance(flags, list)
            return render_text(flags, {})
        text = request_file.read_text(encoding="utf-8")
        request = request_from_json(text, "request.json")
        if isinstance(request, list):
            return render_text(request, {"request.json": SourceFile("request.json", text)})
        _, diagnostics, sources = resolve_request(result.model, request)
        source = SourceFile("request.json", text)
        located = locate_in_json(diagnostics, source)
        return render_text(located, {**sources, source.name: source})


def render_test_example(flags: list[str]) -> str:
    """What `atoconf test main.ato --format github` reports (with `--coverage` when
    test.txt says so), in the text form of diagnostics."""
    run = run_files([Path("main.ato")], "--coverage" in flags, None, TEST_DEADLINE)
    return render_text(run.problems + test_diagnostics(run), run.sources)


def render_stock_example(model: Model) -> str:
    """What `atoconf plan main.ato --stock stock.csv --orders orders.jsonl` reports about
    its stock and orders (with `reserve-twice.txt`: what a second `--reserve` run of the
    same orders against one database reports); `stock.db`: what opening it reports."""
    if Path("stock.db").exists():
        try:
            StockDatabase("stock.db").check_schema()
        except StockError as exc:
            return render_text(exc.diagnostics, exc.sources)
        return ""
    try:
        stock = Stock.from_csv("stock.csv")
    except StockError as exc:
        return render_text(exc.diagnostics, exc.sources)
    diagnostics = unknown_skus(stock, model)
    sources = dict(stock.sources)
    if Path("orders.jsonl").exists():
        text = Path("orders.jsonl").read_text(encoding="utf-8")
        orders, problems, more = read_orders(model, text, "orders.jsonl")
        diagnostics += problems
        sources.update(more)
        if Path("reserve-twice.txt").exists():
            with tempfile.TemporaryDirectory() as folder:
                database = StockDatabase(str(Path(folder) / "stock.db"))
                database.init()
                database.import_csv(stock)
                planner = Planner(model, stock, date(2026, 11, 26))
                for _ in range(2):
                    _, problems = plan_and_reserve(planner, orders, database)
                database.engine.dispose()
            diagnostics += problems
    return render_text(diagnostics, sources)


def render_grammar_example(path: Path) -> str:
    with cwd(path.parent):
        result = load_file(Path(path.name))
        if result.model is None:
            return render_text(result.diagnostics, result.sources)
        return dump_model(result.model)


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
        lines += [f"## {code}", "", f"**{info.name}**: {info.title}.", ""]
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
        lines += ["```text", render_error_example(code).rstrip("\n"), "```", ""]
    return "\n".join(lines)


def update() -> None:
    for code in CODES:
        (ERRORS / code / "expected.txt").write_text(render_error_example(code), encoding="utf-8")
    for source in sorted(GRAMMAR.glob("*.ato")):
        source.with_suffix(".dump").write_text(render_grammar_example(source), encoding="utf-8")
    ERRORS_DOC.write_text(errors_doc(), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/golden.py --update")
    update()
