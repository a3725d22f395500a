"""The command line: `atoconf check`, `atoconf dump`, ..."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from atoconf import __version__
from atoconf.build import LoadResult, load_file
from atoconf.diagnostics import RENDERERS, Diagnostic, render_text, sort_key
from atoconf.dump import dump_model
from atoconf.source import SourceFile

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3

app = typer.Typer(
    name="atoconf",
    help="Configuration engine for assemble-to-order manufacturing.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


class Stage(StrEnum):
    tokens = "tokens"
    tree = "tree"
    model = "model"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"atoconf {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Configuration engine for assemble-to-order manufacturing."""


def _fail_usage(message: str) -> NoReturn:
    typer.echo(f"atoconf: error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def load_or_exit(path: Path) -> LoadResult:
    """Load a model for a command that needs one: exit 2 with every error if it has any."""
    result = load_file(path)
    if result.model is None:
        sys.stderr.write(render_text(result.diagnostics, result.sources))
        raise typer.Exit(EXIT_BAD_INPUT)
    return result


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Rule files to check.", show_default=False)],
    output_format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.text,
) -> None:
    """Parse and type-check rule files; silent when there is nothing to report.

    Exit 0 when there are no errors, 1 when errors were found, 2 when a file
    cannot be read.
    """
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    seen: set[tuple[str, str, object]] = set()
    unreadable = False
    for path in files:
        result = load_file(path)
        sources.update(result.sources)
        for d in result.diagnostics:
            unreadable = unreadable or d.code == "E0001"
            key = (d.code, d.message, d.span)
            if key not in seen:
                seen.add(key)
                diagnostics.append(d)
    diagnostics.sort(key=sort_key)
    if output_format is not CheckFormat.text or diagnostics:
        sys.stdout.write(RENDERERS[output_format.value](diagnostics, sources))
    if unreadable:
        raise typer.Exit(EXIT_BAD_INPUT)
    if any(d.is_error for d in diagnostics):
        raise typer.Exit(EXIT_FAILED)


@app.command()
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
    from atoconf.parse import _scanner, parse
    from atoconf.source import read_source

    source = read_source(file)
    if isinstance(source, str):
        _fail_usage(f"{file}: {source}")
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


def main() -> None:
    """Run the command line; never ends in a traceback."""
    try:
        app(prog_name="atoconf")
    except KeyboardInterrupt:
        sys.stderr.write("atoconf: interrupted\n")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug in atoconf, not in the user's input
        sys.stderr.write(
            f"atoconf: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in atoconf; please report it with the command and input.\n"
        )
        sys.exit(EXIT_INTERNAL)
