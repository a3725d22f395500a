"""The command line of the formatter: `atoconf fmt FILE... [--check] [--diff]`."""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from atoconf.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, Command, app
from atoconf.language.diagnostics import render_text
from atoconf.language.fmt import FormatResult, format_source
from atoconf.language.source import SourceFile, decode, read_source

STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class _Input:
    """A file as read: its text for the formatter, and its bytes (a CRLF or BOM
    makes a file unformatted even when its text is canonical)."""

    name: str
    source: SourceFile
    data: bytes


@app.command(cls=Command)
def fmt(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Rule files, folders (every *.ato below them) or - for stdin.",
            show_default=False,
        ),
    ],
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; list the files that are not formatted.", metavar=""
        ),
    ] = False,
    diff: Annotated[
        bool,
        typer.Option(
            "--diff", help="Write nothing; print what would change as a diff.", metavar=""
        ),
    ] = False,
) -> None:
    """Rewrite rule files in their canonical layout (docs/fmt.md).

    Exit 0 when done (with --check or --diff: when every file is formatted),
    1 when --check or --diff found a file to change, 2 when a file cannot be
    read or parsed (it is left as it is; the other files are still formatted).
    """
    bad_input = False
    unformatted = False
    for name in _expand(files):
        read = _read_stdin() if name == STDIN else _read(Path(name), name)
        if isinstance(read, str):
            typer.echo(f"atoconf: error: {name}: {read}", err=True)
            bad_input = True
            continue
        result = format_source(read.source)
        if result.text is None:
            sys.stderr.write(render_text(result.diagnostics, {read.source.name: read.source}))
            bad_input = True
            continue
        new = result.text.encode("utf-8")
        if name == STDIN and not (check or diff):
            sys.stdout.write(result.text)
            continue
        if new == read.data:
            continue
        if diff:
            sys.stdout.write(_unified_diff(read, result))
        elif check:
            sys.stdout.write(f"{read.name}\n")
        if check or diff:
            unformatted = True
            continue
        problem = _replace(Path(name), new)
        if problem is not None:
            typer.echo(f"atoconf: error: {name}: {problem}", err=True)
            bad_input = True
    if bad_input:
        raise typer.Exit(EXIT_BAD_INPUT)
    if unformatted:
        raise typer.Exit(EXIT_FAILED)


def _expand(arguments: list[str]) -> list[str]:
    """Files as named; a folder stands for every *.ato file below it, sorted."""
    names: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if argument != STDIN and path.is_dir():
            names.extend(str(p) for p in sorted(path.rglob("*.ato")) if p.is_file())
        else:
            names.append(argument)
    return names


def _read(path: Path, name: str) -> _Input | str:
    """A rule file, or why it cannot be read."""
    source = read_source(path, name)
    if isinstance(source, str):
        return source
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    return _Input(name, source, data)


def _read_stdin() -> _Input | str:
    data = sys.stdin.buffer.read()
    source = decode(data, STDIN_NAME)
    if isinstance(source, str):
        return source
    return _Input(STDIN_NAME, source, data)


def _unified_diff(read: _Input, result: FormatResult) -> str:
    assert result.text is not None
    # the bytes as they are, so that a CRLF-only change shows too
    old = read.data.decode("utf-8", errors="replace").splitlines(keepends=True)
    new = result.text.splitlines(keepends=True)
    lines = difflib.unified_diff(old, new, f"a/{read.name}", f"b/{read.name}")
    # a last line without a newline still ends its diff line
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _replace(path: Path, data: bytes) -> str | None:
    """Write the file atomically: a temporary file beside it, then a rename over it,
    keeping its permissions (and a symbolic link a link). Why it failed, or None."""
    tmp: str | None = None
    path = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        return f"cannot write the file: {exc.strerror or exc}"
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return None
