"""Every command's `--help` as a user reads it at 80 columns: no type shown beside a flag,
prose wrapped where the width ends and not where the source's lines did, nothing about
internal documents, and every `[default: ...]` the help text states kept."""

from __future__ import annotations

import itertools
import re

import pytest
import typer

from atoconf.cli import app
from tests.conftest import cli

WIDTH = 80


def _command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = [()]
    for name, command in getattr(root, "commands", {}).items():
        paths.append((name,))
        paths.extend((name, sub) for sub in getattr(command, "commands", {}))
    return paths


COMMANDS = _command_paths()


def _help(path: tuple[str, ...]) -> str:
    shown = cli(*path, "--help", in_process=True, env={"COLUMNS": str(WIDTH), "NO_COLOR": "1"})
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def _words(text: str) -> str:
    """The help's text with the panels' borders gone and every run of spaces one space."""
    return " ".join(text.replace("│", " ").split())


def _prose_runs(text: str) -> list[list[str]]:
    """Runs of lines that wrap one piece of prose: a paragraph of the description, or
    the help column of one row of a panel."""
    runs: list[list[str]] = []
    current: list[str] = []

    def close() -> None:
        nonlocal current
        if current:
            runs.append(current)
        current = []

    for line in text.splitlines():
        if line.startswith("│"):
            inner = line[1:].rstrip().removesuffix("│").rstrip()
            cells = re.split(r" {2,}", inner.strip())
            if inner[: inner.rfind(cells[-1])].strip():  # a new row: text left of its help
                close()
            if cells[-1] and not cells[-1].startswith("["):  # "[default: ...]" has a line
                current.append(cells[-1])
            continue
        stripped = line.strip()
        if not stripped or stripped[0] in "╭╰" or stripped.startswith("Usage:"):
            close()
        else:
            current.append(stripped)
    close()
    return runs


def test_the_command_tree_is_walked() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "check", "plan", "stock", "stock receive", "new"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "atoconf")
def test_help_reads_as_written(path: tuple[str, ...]) -> None:
    shown = _help(path)
    assert "<bool>" not in shown
    assert "SPEC" not in shown
    assert "--help" in shown and "Show this message and exit." in _words(shown)
    for run in _prose_runs(shown):
        # wrapped greedily, a line ends where the next word would pass the widest line
        width = max(len(line) for line in run)
        for line, after in itertools.pairwise(run):
            assert len(line) + 1 + len(after.split()[0]) > width, (
                f"`{' '.join(path) or 'atoconf'} --help` breaks a line early:\n"
                f"  {line!r}\n  {after!r}"
            )


def test_defaults_stated_in_help_texts_are_shown() -> None:
    """The help's markup must not eat a `[default: ...]` written in a help text."""
    for path, default in [
        (("plan",), "[default: Monday to Friday]"),
        (("stock", "import"), "[default: beside stock.csv]"),
    ]:
        assert default in _words(_help(path))
