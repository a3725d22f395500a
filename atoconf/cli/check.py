"""atoconf check and atoconf dump: rule files checked, and each stage of the pipeline."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from atoconf.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    Command,
    app,
    fail_usage,
    load_or_exit,
    progress,
    stock_or_exit,
)
from atoconf.engine.check import LINT_DEADLINE, check_files
from atoconf.language.diagnostics import RENDERERS, render_text
from atoconf.language.dump import dump_model
from atoconf.planning.stock import stock_report


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


class Stage(StrEnum):
    tokens = "tokens"
    tree = "tree"
    model = "model"


@app.command(cls=Command)
def check(
    files: Annotated[list[Path], typer.Argument(help="Rule files to check.", show_default=False)],
    output_format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.text,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on warnings too (exit 1).", metavar="")
    ] = False,
    lint: Annotated[
        bool,
        typer.Option(
            "--lint/--no-lint", help="Run the lints (warnings about likely mistakes).", metavar=""
        ),
    ] = True,
    lint_deadline: Annotated[
        float,
        typer.Option("--lint-deadline", help="Seconds the solver's lints of a product share."),
    ] = LINT_DEADLINE,
    stock: Annotated[
        str,
        typer.Option(
            "--stock",
            help="Also check this stock (stock.csv with supply.csv beside it, an SQLite "
            "file or a database URL) against the product.",
            show_default=False,
        ),
    ] = "",
    supply: Annotated[
        Path | None, typer.Option(help="supply.csv, when not beside stock.csv.")
    ] = None,
) -> None:
    """Parse, type-check and lint rule files; silent when there is nothing to report.

    With --stock, also report the stock's SKUs the product does not know, its parts
    without supply data (cost and lead time unknown), and parts neither on a shelf
    nor in the supply data.

    Exit 0 when there are no errors (and, with --strict, no warnings), 1 when
    there are, 2 when a file cannot be read. `# atoconf: ignore[W0304]` on any
    line of what a warning points at (or on a comment line right above it)
    silences that warning there.
    """
    if lint_deadline <= 0:
        fail_usage("--lint-deadline must be a number of seconds > 0")
    if (stock or supply) and len(files) != 1:
        fail_usage("--stock checks one product: give one rule file")
    if supply and not stock:
        fail_usage("--supply goes with --stock")
    with progress("linting", total=0) as ticker:
        result = check_files(files, lint=lint, deadline=lint_deadline, report=ticker.update)
    diagnostics = list(result.diagnostics)
    sources = dict(result.sources)
    if stock and len(result.models) == 1:
        stock_data = stock_or_exit(stock, supply)
        diagnostics += stock_report(stock_data, result.models[0])
        sources.update(stock_data.sources)
    if output_format is not CheckFormat.text or diagnostics:
        sys.stdout.write(RENDERERS[output_format.value](diagnostics, sources))
    if result.unreadable:
        raise typer.Exit(EXIT_BAD_INPUT)
    if any(d.is_error or strict for d in diagnostics):
        raise typer.Exit(EXIT_FAILED)


@app.command(cls=Command)
def dump(
    file: Annotated[Path, typer.Argument(help="Rule file.", show_default=False)],
    stage: Annotated[Stage, typer.Option("--stage", help="What to print.")] = Stage.model,
) -> None:
    """Print a stage of the pipeline: the tokens, the parse tree or the built model."""
    if stage is Stage.model:
        result = load_or_exit(file)
        assert result.model is not None
        sys.stdout.write(dump_model(result.model))
        return
    from atoconf.language.parse import _scanner, parse
    from atoconf.language.source import read_source

    source = read_source(file)
    if isinstance(source, str):
        fail_usage(f"{file}: {source}")
    if stage is Stage.tokens:
        tokens, _, diagnostics, _ = _scanner().scan(source)
        for token in tokens:
            sys.stdout.write(f"{token.line}:{token.column}\t{token.type}\t{token.value}\n")
    else:
        parsed = parse(source)
        diagnostics = parsed.diagnostics
        if parsed.tree is not None:
            sys.stdout.write(parsed.tree.pretty())
    if diagnostics:
        sys.stderr.write(render_text(diagnostics, {source.name: source}))
        raise typer.Exit(EXIT_BAD_INPUT)
