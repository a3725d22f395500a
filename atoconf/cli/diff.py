"""`atoconf diff OLD NEW`: what a change to the rule files declares differently."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from atoconf.cli.common import EXIT_BAD_INPUT, Command, app, emit_json
from atoconf.diff.declarations import Declarations, Declared, declarations
from atoconf.language.build import LoadResult, load_file
from atoconf.language.diagnostics import render_text

JSON_VERSION = 1


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    github = "github"


@app.command(cls=Command)
def diff(
    old: Annotated[Path, typer.Argument(help="The rule file as it was.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The rule file as it is.", show_default=False)],
    output_format: Annotated[
        DiffFormat,
        typer.Option(
            "--format",
            "-f",
            help="text, json, markdown (a pull-request comment) or github (annotations).",
        ),
    ] = DiffFormat.text,
) -> None:
    """What the new version of a product declares differently from the old: parts by
    SKU (with the attributes that changed), rules by name (old and new text; a change
    of layout alone is none), components, options, steps and tests. A rename shows as
    a removal and an addition.

    Exit 0 (a difference is an answer), 2 when either version has errors (every error
    of both is reported).
    """
    loaded = [load_file(old), load_file(new)]
    broken = [r for r in loaded if r.model is None]
    for result in broken:
        sys.stderr.write(render_text(result.diagnostics, result.sources))
    if broken:
        raise typer.Exit(EXIT_BAD_INPUT)
    before, after = loaded
    found = _declarations(before, after)
    if output_format is DiffFormat.json:
        emit_json({"version": JSON_VERSION, "declarations": found.to_json()})
    elif output_format is DiffFormat.markdown:
        sys.stdout.write(_markdown(found, old, new))
    elif output_format is DiffFormat.github:
        sys.stdout.write(_github(found, new))
    else:
        sys.stdout.write(_text(found))


def _declarations(before: LoadResult, after: LoadResult) -> Declarations:
    assert before.model is not None and after.model is not None
    return declarations(before.model, after.model, before.sources, after.sources)


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


def _markdown(found: Declarations, old: Path, new: Path) -> str:
    """A pull-request comment: the summary first, the details folded."""
    lines = [
        f"### atoconf diff: `{old.name}` → `{new.name}`",
        "",
        f"**Declarations:** {_summary(found)}.",
        "",
    ]
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


def _github(found: Declarations, new: Path) -> str:
    """Workflow annotations on the new version's lines (a removal: its first line)."""
    out = []
    for verb, items in (("added", found.added), ("removed", found.removed)):
        for d in items:
            out.append(_annotation(d, new, f"{d.kind} '{d.name}' {verb}"))
    for d in found.changed:
        out.append(_annotation(d, new, f"{d.kind} '{d.name}' changed: {_change(d)}"))
    return "".join(out)


def _annotation(d: Declared, new: Path, message: str) -> str:
    file, line = (d.span.file, d.span.line) if d.span else (str(new), 1)
    text = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::notice file={file},line={line},title=atoconf diff::{text}\n"
