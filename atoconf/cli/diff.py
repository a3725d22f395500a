"""`atoconf diff OLD NEW`: what a change to the rule files declares differently."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from atoconf.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    Command,
    app,
    emit_json,
    fail_usage,
    progress,
)
from atoconf.diff.declarations import Declarations, Declared, declarations
from atoconf.diff.impact import (
    AssemblyCounts,
    ValueChanges,
    VerdictChange,
    assembly_counts,
    value_changes,
    verdict_changes,
)
from atoconf.engine.clock import Clock
from atoconf.language.build import LoadResult, load_file
from atoconf.language.diagnostics import github_escape, render_text
from atoconf.language.model import Model, shown

JSON_VERSION = 1


class FailOn(StrEnum):
    lost = "lost"
    gained = "gained"
    any = "any"


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    github = "github"


@app.command(cls=Command)
def diff(
    old: Annotated[
        Path,
        typer.Argument(help="The rule file as it was (with --git: as it is).", show_default=False),
    ],
    new: Annotated[
        Path | None, typer.Argument(help="The rule file as it is.", show_default=False)
    ] = None,
    git: Annotated[
        str | None,
        typer.Option(
            "--git",
            metavar="REV",
            help="Compare the file with itself at this git revision (its imports and part "
            "files read at that revision too).",
        ),
    ] = None,
    output_format: Annotated[
        DiffFormat,
        typer.Option(
            "--format",
            "-f",
            help="text, json, markdown (a pull-request comment) or github (annotations).",
        ),
    ] = DiffFormat.text,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when assemblies were lost, gained, or either (also when they could "
            "not be compared): a gate for CI.",
        ),
    ] = None,
    deadline: Annotated[
        float, typer.Option("--deadline", help="Seconds the counts of assemblies may take.")
    ] = 60.0,
) -> None:
    """What the new version of a product declares differently from the old: parts by
    SKU (with the attributes that changed), rules by name (old and new text; a change
    of layout alone is none), components, options, steps and tests. A rename shows as
    a removal and an addition.

    Then the valid assemblies before and after, and exactly how many were lost (valid
    before, not after) and gained, when both versions have the same components and
    options (otherwise only the counts compare). Option defaults do not apply.

    Exit 0 (a difference is an answer; with --fail-on, 1 when that impact is not
    empty), 2 when either version has errors (every error of both is reported).
    """
    if deadline <= 0:
        fail_usage("--deadline must be a number of seconds > 0")
    if (git is None) == (new is None):
        fail_usage("give two rule files (OLD NEW), or one and --git REV")
    with tempfile.TemporaryDirectory() as folder:
        if git is not None:
            _diff(at_revision(old, git, Path(folder)), old, output_format, fail_on, deadline)
        else:
            assert new is not None
            _diff(old, new, output_format, fail_on, deadline)


def _diff(
    old: Path | None,
    new: Path,
    output_format: DiffFormat,
    fail_on: FailOn | None,
    deadline: float,
) -> None:
    """The diff of two files (`old` None: a file that did not exist, an empty product)."""
    loaded = [load_file(old) if old is not None else _nothing(), load_file(new)]
    broken = [r for r in loaded if r.model is None]
    for result in broken:
        sys.stderr.write(render_text(result.diagnostics, result.sources))
    if broken:
        raise typer.Exit(EXIT_BAD_INPUT)
    before, after = loaded
    assert before.model is not None and after.model is not None
    found = declarations(before.model, after.model, before.sources, after.sources)
    with progress("counting assemblies", deadline=deadline):
        clock = Clock(deadline)
        counted = assembly_counts(before.model, after.model, clock)
        values = value_changes(before.model, after.model, clock)
    with progress("running the tests of both"):
        verdicts = verdict_changes(before.model, after.model, before.sources, after.sources)
    if output_format is DiffFormat.json:
        emit_json(
            {
                "version": JSON_VERSION,
                "declarations": found.to_json(),
                "assemblies": counted.to_json(),
                "values": values.to_json(),
                "tests": [v.to_json() for v in verdicts],
            }
        )
    elif output_format is DiffFormat.markdown:
        sys.stdout.write(_markdown(found, counted, values, verdicts, old or new, new))
    elif output_format is DiffFormat.github:
        sys.stdout.write(_github(found, counted, verdicts, new))
    else:
        said = _text(found) + _counts_text(counted) + "\n" + _values_text(values)
        sys.stdout.write(said + _verdicts_text(verdicts))
    if fail_on is not None and _fails(fail_on, counted):
        raise typer.Exit(EXIT_FAILED)


def _values_text(values: ValueChanges) -> str:
    """The values that became dead or came alive, a line each (nothing when none)."""
    lines = [f"  dead: {name} {shown(v)}" for name, v in values.dead]
    lines += [f"  alive: {name} {shown(v)}" for name, v in values.alive]
    if values.stopped:
        lines.append(f"  (values not all compared: stopped by the {values.stopped})")
    if not lines:
        return ""
    head = f"values: {len(values.dead)} dead, {len(values.alive)} alive"
    return "\n".join([head, *lines]) + "\n"


def at_revision(path: Path, rev: str, folder: Path) -> Path | None:
    """Where `path` is in a copy of its git repository at `rev`, written into `folder`
    (None: the file did not exist at `rev`); exit 2 when `path` is in no repository
    or `rev` names no commit."""
    where = path.resolve().parent
    found = _git(where, "rev-parse", "--show-toplevel")
    if found is None:
        fail_usage(f"{path}: not in a git repository, so --git has no revision to read")
    top = Path(found.decode().strip())
    try:
        inside = path.resolve().relative_to(top)
    except ValueError:
        fail_usage(f"{path}: outside the repository at {top}")
    if _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") is None:
        fail_usage(f"--git {rev}: no such revision in {top} (try HEAD, main, a tag or a hash)")
    archive = _git(top, "archive", "--format=tar", rev)
    if archive is None:
        fail_usage(f"--git {rev}: git could not read the files at that revision")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    copy = folder / inside
    return copy if copy.is_file() else None


def _git(where: Path, *args: str) -> bytes | None:
    """What git prints, or None when it fails (or is not installed)."""
    try:
        done = subprocess.run(["git", *args], cwd=where, capture_output=True, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def _nothing() -> LoadResult:
    """The old side of a file that did not exist: a product declaring nothing."""
    empty = Model(
        product=None,
        files=(),
        enums={},
        types={},
        parts={},
        components={},
        options={},
        rules={},
        steps={},
        tests=(),
    )
    return LoadResult(empty, [], {})


def _verdicts_text(verdicts: list[VerdictChange]) -> str:
    if not verdicts:
        return ""
    lines = [f"tests: {len(verdicts)} changed verdict"]
    lines += [f"  {v.name}: {v.old} -> {v.new} ({v.span})" for v in verdicts]
    return "\n".join(lines) + "\n"


def _fails(fail_on: FailOn, counted: AssemblyCounts) -> bool:
    """Whether the impact --fail-on names is there (not known counts as there)."""
    lost = counted.lost is None or counted.lost > 0
    gained = counted.gained is None or counted.gained > 0
    return {FailOn.lost: lost, FailOn.gained: gained, FailOn.any: lost or gained}[fail_on]


def _counts_text(counted: AssemblyCounts) -> str:
    """The assemblies before and after, and those lost and gained, in one sentence."""
    said = f"assemblies: {counted.old:,} -> {counted.new:,}"
    if counted.stopped is not None:
        return f"{said} (counts stopped by the {counted.stopped}: try a longer --deadline)"
    if counted.lost is None or counted.gained is None:
        return (
            f"{said}; lost and gained not compared: a component or option was added or "
            "removed, so only the counts compare"
        )
    return f"{said}: {counted.lost:,} lost, {counted.gained:,} gained"


def _summary(found: Declarations) -> str:
    return (
        f"{len(found.added)} added, {len(found.removed)} removed, {len(found.changed)} changed"
        if not found.empty
        else "none changed"
    )


def _change(d: Declared) -> str:
    """What changed in a changed declaration, on one line."""
    if d.attributes:
        return ", ".join(f"{name} {old} -> {new}" for name, (old, new) in d.attributes.items())
    return f"{d.old} -> {d.new}"


def _text(found: Declarations) -> str:
    lines = [f"declarations: {_summary(found)}"]
    lines += [f"  + {d.kind} {d.name}" + (f" ({d.span})" if d.span else "") for d in found.added]
    lines += [f"  - {d.kind} {d.name}" for d in found.removed]
    for d in found.changed:
        lines.append(f"  ~ {d.kind} {d.name}" + (f" ({d.span})" if d.span else ""))
        if d.attributes:
            lines += [f"      {n}: {o} -> {w}" for n, (o, w) in d.attributes.items()]
        else:
            lines += [f"      old: {d.old}", f"      new: {d.new}"]
    return "\n".join(lines) + "\n"


def _cell(text: str | None) -> str:
    return "" if text is None else "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def _markdown(
    found: Declarations,
    counted: AssemblyCounts,
    values: ValueChanges,
    verdicts: list[VerdictChange],
    old: Path,
    new: Path,
) -> str:
    """A pull-request comment: the summary first, the details folded."""
    lines = [
        f"### atoconf diff: `{old.name}` → `{new.name}`",
        "",
        f"**Valid {_counts_text(counted)}.**",
        "",
        f"**Declarations:** {_summary(found)}.",
        "",
    ]
    if values.dead or values.alive:
        said = [f"`{n}` {_cell(shown(v))} dead" for n, v in values.dead]
        said += [f"`{n}` {_cell(shown(v))} alive" for n, v in values.alive]
        lines += [f"**Values:** {', '.join(said)}.", ""]
    if verdicts:
        changed = [f"`{v.name}` {v.old} → **{v.new}**" for v in verdicts]
        lines += [f"**Tests:** {', '.join(changed)}.", ""]
    if not found.empty:
        lines += [
            "<details><summary>Declarations</summary>",
            "",
            "| | kind | name | change |",
            "|---|---|---|---|",
        ]
        lines += [f"| added | {d.kind} | `{d.name}` | |" for d in found.added]
        lines += [f"| removed | {d.kind} | `{d.name}` | |" for d in found.removed]
        lines += [
            f"| changed | {d.kind} | `{d.name}` | {_cell(_change(d))} |" for d in found.changed
        ]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def _github(
    found: Declarations, counted: AssemblyCounts, verdicts: list[VerdictChange], new: Path
) -> str:
    """Workflow annotations on the new version's lines (a removal, and the counts: its
    first line)."""
    first = (str(new), 1)
    out = [_annotation(*first, _counts_text(counted))]
    for v in verdicts:
        out.append(_annotation(v.span.file, v.span.line, f"test '{v.name}' {v.old} -> {v.new}"))
    for verb, items in (("added", found.added), ("removed", found.removed)):
        for d in items:
            out.append(_annotation(*_line_of(d, first), f"{d.kind} '{d.name}' {verb}"))
    for d in found.changed:
        said = f"{d.kind} '{d.name}' changed: {_change(d)}"
        out.append(_annotation(*_line_of(d, first), said))
    return "".join(out)


def _line_of(d: Declared, otherwise: tuple[str, int]) -> tuple[str, int]:
    return (d.span.file, d.span.line) if d.span else otherwise


def _annotation(file: str, line: int, message: str) -> str:
    where = f"file={github_escape(file, prop=True)},line={line}"
    return f"::notice {where},title=atoconf diff::{github_escape(message)}\n"
