"""What every command shares: the app, exit codes, options, loading and progress."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core

from atoconf.engine.request import (
    Request,
    ResolvedRequest,
    locate_in_json,
    request_from_flags,
    request_from_json,
    resolve_request,
)
from atoconf.language.build import LoadResult, load_file
from atoconf.language.diagnostics import render_text
from atoconf.language.model import Model
from atoconf.language.source import SourceFile, read_source
from atoconf.language.version import __version__
from atoconf.planning.stock import Stock, StockError, open_stock

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class _HelpFlagMixin:
    """Show `--help` as the flag it is: typer would print a `<bool>` type beside it."""

    # `Any`: the context and option classes are typer's internal (vendored click) ones.
    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class Command(_HelpFlagMixin, typer.core.TyperCommand):
    """Every atoconf command: `@app.command(cls=Command)`."""


class Group(_HelpFlagMixin, typer.core.TyperGroup):
    """atoconf and its `stock` group."""


app = typer.Typer(
    cls=Group,
    name="atoconf",
    help="Configuration engine for assemble-to-order manufacturing.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # markdown joins a docstring's lines into paragraphs and keeps "[default: ...]" as text
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"atoconf {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version.", metavar=""
        ),
    ] = False,
) -> None:
    """Configuration engine for assemble-to-order manufacturing."""


def fail_usage(message: str) -> NoReturn:
    typer.echo(f"atoconf: error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def load_or_exit(path: Path) -> LoadResult:
    """Load a model for a command that needs one: exit 2 with every error if it has any."""
    result = load_file(path)
    if result.model is None:
        sys.stderr.write(render_text(result.diagnostics, result.sources))
        raise typer.Exit(EXIT_BAD_INPUT)
    return result


# ---- solve, count, domains ------------------------------------------------------------


class SolveFormat(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"


class ResultFormat(StrEnum):
    text = "text"
    json = "json"


FileArg = Annotated[Path, typer.Argument(help="Rule file.", show_default=False)]
RequestArg = Annotated[
    Path | None,
    typer.Argument(
        help="Request file (JSON: select, require, minimize/maximize, limit).", show_default=False
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Fix a choice (repeat for more): cpu=CPU-R7-7700X, gpu=none.", metavar="K=V"
    ),
]
RequireOpt = Annotated[
    list[str] | None,
    typer.Option("--require", help="An extra condition (repeat for more).", metavar="EXPR"),
]
DeadlineOpt = Annotated[
    float | None, typer.Option("--deadline", help="Stop after this many seconds.")
]
DefaultsOpt = Annotated[
    bool,
    typer.Option(
        "--defaults/--no-defaults",
        help="Give the options the request leaves open their declared defaults, where the "
        "rules allow (an option without a default stays open).",
        metavar="",
    ),
]
ResultFormatOpt = Annotated[ResultFormat, typer.Option("--format", "-f", help="Output format.")]


def checked_request(
    file: Path,
    request_file: Path | None,
    sets: list[str] | None,
    requires: list[str] | None,
    minimize: str | None = None,
    maximize: str | None = None,
    limit: int | None = None,
    deadline: float | None = None,
) -> tuple[Model, ResolvedRequest]:
    """The model and the checked request, or exit 2 with every error."""
    model = load_or_exit(file).model
    assert model is not None
    request, source = request_or_exit(
        request_file, sets, requires, minimize, maximize, limit, deadline
    )
    return model, resolved_or_exit(model, request, source)


def request_or_exit(
    request_file: Path | None,
    sets: list[str] | None,
    requires: list[str] | None,
    minimize: str | None = None,
    maximize: str | None = None,
    limit: int | None = None,
    deadline: float | None = None,
) -> tuple[Request, SourceFile | None]:
    """The request of a JSON file and flags (before any model checks it), and the
    file's source; or exit 2 with every error."""
    base: Request | None = None
    request_source: SourceFile | None = None
    if request_file is not None:
        source = read_source(request_file)
        if isinstance(source, str):
            fail_usage(f"{request_file}: {source}")
        request_source = source
        parsed = request_from_json(source.text, source.name)
        if parsed.value is None:
            sys.stderr.write(render_text(parsed.diagnostics, {source.name: source}))
            raise typer.Exit(EXIT_BAD_INPUT)
        base = parsed.value
    request = request_from_flags(
        sets or [], requires or [], minimize, maximize, limit, deadline, base
    )
    if request.value is None:
        sys.stderr.write(render_text(request.diagnostics, request.sources))
        raise typer.Exit(EXIT_BAD_INPUT)
    return request.value, request_source


def resolved_or_exit(
    model: Model, request: Request, request_source: SourceFile | None, note: str = ""
) -> ResolvedRequest:
    """The request checked against a model, or exit 2 with every error (located in
    the request's JSON file when it came from one; `note` follows them)."""
    resolved = resolve_request(model, request)
    if resolved.value is None:
        diagnostics, sources = resolved.diagnostics, dict(resolved.sources)
        if request_source is not None:
            diagnostics = locate_in_json(diagnostics, request_source)
            sources[request_source.name] = request_source
        sys.stderr.write(render_text(diagnostics, sources) + note)
        raise typer.Exit(EXIT_BAD_INPUT)
    return resolved.value


class Ticker:
    """What long work reports to: `ticker()` one more unit done, `ticker.update(done,
    total)` where the work learns its total as it goes. Shows nothing by itself."""

    def __init__(self, advance: Callable[[], None], update: Callable[[int, int], None]):
        self._advance = advance
        self.update = update

    def __call__(self) -> None:
        self._advance()


_SILENT = Ticker(lambda: None, lambda done, total: None)


def parse_today(text: str | None) -> date:
    """--today as a date (None: today), or exit 2 saying how to write one."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail_usage(f"--today must be a date such as 2026-11-26, not '{text}'")


@contextmanager
def progress(
    label: str, total: int | None = None, deadline: float | None = None
) -> Iterator[Ticker]:
    """On a terminal (stderr), a bar of done / total (`total=0` when the work gives it
    later through `Ticker.update`), or of the seconds spent against a `deadline`, or a
    spinner with a running count; nothing in pipes or CI."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield _SILENT
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress_bar import ProgressBar
    from rich.text import Text

    class AgainstDeadline(ProgressColumn):
        """The seconds spent, as a bar against the deadline the work stops at."""

        def render(self, task: Task) -> ProgressBar | Text:
            spent = min(task.elapsed or 0.0, deadline or 0.0)
            return ProgressBar(total=deadline, completed=spent, width=40)

    class RunningCount(ProgressColumn):
        """How many are done so far, once there are some."""

        def render(self, task: Task) -> Text:
            return Text(f"{task.completed:g}" if task.completed else "")

    columns: list[ProgressColumn | str]
    if deadline is not None and total is None:
        columns = [TextColumn("{task.description}"), AgainstDeadline(), TimeElapsedColumn()]
        columns.append(TextColumn(f"(stops at {deadline:g} s)"))
    elif total is not None:
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
        columns.append(TimeElapsedColumn())
    else:
        columns = [TextColumn("{task.description}"), RunningCount(), TimeElapsedColumn()]
    with Progress(SpinnerColumn(), *columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield Ticker(
            lambda: bar.advance(task),
            lambda done, all_: bar.update(task, completed=done, total=all_),
        )


def emit_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


@contextmanager
def stock_errors() -> Iterator[None]:
    """Bad stock input or an unusable database: every diagnostic, then exit 2."""
    try:
        yield
    except StockError as exc:
        sys.stderr.write(render_text(exc.diagnostics, exc.sources))
        raise typer.Exit(EXIT_BAD_INPUT) from None


def stock_or_exit(spec: str, supply: Path | None) -> Stock:
    """The stock from a CSV file (supply.csv beside it, or `supply`) or a database."""
    with stock_errors():
        return open_stock(spec, str(supply) if supply else None)
