"""`atoconf diff OLD NEW`: what a change to the rule files declares differently."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from atoconf.changes.declarations import Declarations, Declared
from atoconf.changes.examples import Example
from atoconf.changes.impact import AssemblyCounts, Scope, ValueChanges, VerdictChange
from atoconf.changes.replay import OrderChange, replay
from atoconf.changes.report import DiffResult, compare
from atoconf.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    Command,
    RequireOpt,
    SetOpt,
    app,
    emit_json,
    fail_usage,
    parse_today,
    progress,
    request_or_exit,
    resolved_or_exit,
    stock_or_exit,
)
from atoconf.engine.clock import Clock
from atoconf.engine.request import Request
from atoconf.engine.results import Chosen
from atoconf.language.build import LoadResult, load_file
from atoconf.language.diagnostics import Diagnostic, github_escape, render_text
from atoconf.language.model import Model, shown
from atoconf.language.source import SourceFile, read_source
from atoconf.planning.orders import Order, read_orders
from atoconf.planning.results import OrderPlan
from atoconf.planning.stock import Stock


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
        float,
        typer.Option(
            "--deadline", help="Seconds the counts and the searches for examples may take."
        ),
    ] = 60.0,
    request_file: Annotated[
        Path | None,
        typer.Option(
            "--request",
            metavar="FILE",
            help="Compare only the assemblies this request (a JSON file) allows.",
        ),
    ] = None,
    sets: SetOpt = None,
    requires: RequireOpt = None,
    orders_file: Annotated[
        Path | None,
        typer.Option(
            "--orders",
            metavar="FILE",
            help="Plan this batch of orders (JSON lines) on both versions and list the "
            "orders whose status, assembly or cost changes (needs --stock).",
        ),
    ] = None,
    stock: Annotated[
        str | None,
        typer.Option(
            "--stock",
            metavar="STOCK",
            help="The stock the orders are planned against: a CSV file, an SQLite file or "
            "a database URL.",
        ),
    ] = None,
    supply: Annotated[
        Path | None,
        typer.Option("--supply", metavar="FILE", help="Supply costs and lead times (CSV)."),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", metavar="DATE", help="The planning date (default: today)."),
    ] = None,
) -> None:
    """What the new version of a product declares differently from the old: parts by
    SKU (with the attributes that changed), rules by name (old and new text; a change
    of layout alone is none), components, options, steps and tests. A rename shows as
    a removal and an addition.

    Then the valid assemblies before and after, and exactly how many were lost (valid
    before, not after) and gained, with the cheapest of each and the rule it breaks,
    when both versions have the same components and options (otherwise only the
    counts compare); the values that became dead or came alive; the tests whose
    verdict changes. Option defaults do not apply. With a request (--request, --set,
    --require), only the assemblies it allows. With --orders and --stock, the orders
    whose plan changes.

    Exit 0 (a difference is an answer; with --fail-on, 1 when that impact is not
    empty), 2 when either version has errors (every error of both is reported).
    """
    if deadline <= 0:
        fail_usage("--deadline must be a number of seconds > 0")
    if (git is None) == (new is None):
        fail_usage("give two rule files (OLD NEW), or one and --git REV")
    if (orders_file is None) != (stock is None):
        fail_usage("--orders and --stock go together: the batch and the stock it is planned on")
    if supply is not None and stock is None:
        fail_usage("--supply goes with --orders and --stock")
    asked = Asked(
        request_or_exit(request_file, sets, requires)
        if request_file is not None or sets or requires
        else None,
        orders_file,
        stock,
        supply,
        parse_today(today),
    )
    with tempfile.TemporaryDirectory() as folder:
        if git is not None:
            before = at_revision(old, git, Path(folder))
            _diff(before, old, output_format, fail_on, deadline, asked)
        else:
            assert new is not None
            _diff(old, new, output_format, fail_on, deadline, asked)


@dataclass(frozen=True)
class Asked:
    """What a diff is asked beyond the two versions: a request (and the JSON file it
    came from), a batch of orders with its stock and supply, and the planning date."""

    request: tuple[Request, SourceFile | None] | None
    orders: Path | None
    stock: str | None
    supply: Path | None
    today: date


def _diff(
    old: Path | None,
    new: Path,
    output_format: DiffFormat,
    fail_on: FailOn | None,
    deadline: float,
    asked: Asked,
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
    scope = None
    if asked.request is not None:
        request, source = asked.request
        was = resolved_or_exit(before.model, request, source, "(in the old version)\n")
        now = resolved_or_exit(after.model, request, source, "(in the new version)\n")
        if was.selects != now.selects:
            fail_usage("the request's choices read differently in the two versions")
        scope = Scope.of(was, now)
    # every input is read before the long work, so that a bad one is told at once
    batch = _batch(before.model, after.model, asked) if asked.orders is not None else None
    with progress("comparing the versions", deadline=deadline):
        clock = Clock(deadline)
        found = compare(before.model, after.model, before.sources, after.sources, clock, scope)
    if batch is not None:
        with progress("planning the orders on both versions"):
            changes = replay(before.model, after.model, *batch, asked.today)
        found = replace(found, orders=changes, planned=len(batch[0]))
    if output_format is DiffFormat.json:
        emit_json(found.to_json())
    elif output_format is DiffFormat.markdown:
        sys.stdout.write(_markdown(found, old or new, new))
    elif output_format is DiffFormat.github:
        sys.stdout.write(_github(found, new))
    else:
        sys.stdout.write(_text_report(found))
    if fail_on is not None and _fails(fail_on, found.assemblies):
        raise typer.Exit(EXIT_FAILED)


def _batch(
    old: Model, new: Model, asked: Asked
) -> tuple[list[Order], list[Order], list[Diagnostic], Stock]:
    """The orders as each version reads them (and why the new one cannot read some: a
    change can remove what an order asks for, and that is listed), and the stock; exit
    2 when the orders file is bad for the old version, or the stock is bad."""
    assert asked.orders is not None and asked.stock is not None
    source = read_source(asked.orders)
    if isinstance(source, str):
        fail_usage(f"{asked.orders}: {source}")
    was = read_orders(old, source.text, source.name)
    if was.diagnostics:
        sys.stderr.write(render_text(was.diagnostics, was.sources) + "(in the old version)\n")
        raise typer.Exit(EXIT_BAD_INPUT)
    now = read_orders(new, source.text, source.name)
    assert was.value is not None and now.value is not None
    return was.value, now.value, now.diagnostics, stock_or_exit(asked.stock, asked.supply)


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


def _markdown(found: DiffResult, old: Path, new: Path) -> str:
    """A pull-request comment: the summary first, the details folded."""
    counted, values, verdicts = found.assemblies, found.values, found.tests
    lines = [
        f"### atoconf diff: `{old.name}` → `{new.name}`",
        "",
        f"**Valid {_counts_text(counted)}.**",
        "",
    ]
    for label, example in (("lost", found.examples.lost), ("gained", found.examples.gained)):
        if example is not None:
            lines += [f"Cheapest {label}: {_cell(_assembly_words(example))}.", ""]
    lines += [f"**Declarations:** {_summary(found.declarations)}.", ""]
    if values.dead or values.alive:
        said = [f"`{n}` {_cell(shown(v))} dead" for n, v in values.dead]
        said += [f"`{n}` {_cell(shown(v))} alive" for n, v in values.alive]
        lines += [f"**Values:** {', '.join(said)}.", ""]
    if verdicts:
        changed = [f"`{v.name}` {v.old} → **{v.new}**" for v in verdicts]
        lines += [f"**Tests:** {', '.join(changed)}.", ""]
    if found.orders is not None:
        lines += [f"**Orders:** {len(found.orders)} of {found.planned} planned differently.", ""]
    decl = found.declarations
    rows = [f"| added | {d.kind} | `{d.name}` | |" for d in decl.added]
    rows += [f"| removed | {d.kind} | `{d.name}` | |" for d in decl.removed]
    rows += [f"| changed | {d.kind} | `{d.name}` | {_cell(_change(d))} |" for d in decl.changed]
    lines += _folded("Declarations", "| | kind | name | change |", rows)
    rows = [f"| `{o.order_id}` | {_cell(_order_words(o))} |" for o in found.orders or []]
    lines += _folded("Orders", "| order | change |", rows)
    return "\n".join(lines)


def _folded(summary: str, header: str, rows: list[str]) -> list[str]:
    """A table folded under its summary (nothing without rows)."""
    if not rows:
        return []
    rule = "|" + "---|" * (header.count("|") - 1)
    return [f"<details><summary>{summary}</summary>", "", header, rule, *rows, "", "</details>", ""]


def _github(found: DiffResult, new: Path) -> str:
    """Workflow annotations on the new version's lines (a removal, the counts and the
    orders: its first line)."""
    first = (str(new), 1)
    out = [_annotation(*first, _counts_text(found.assemblies))]
    for v in found.tests:
        out.append(_annotation(v.span.file, v.span.line, f"test '{v.name}' {v.old} -> {v.new}"))
    decl = found.declarations
    for verb, items in (("added", decl.added), ("removed", decl.removed)):
        for d in items:
            out.append(_annotation(*_line_of(d, first), f"{d.kind} '{d.name}' {verb}"))
    for d in decl.changed:
        said = f"{d.kind} '{d.name}' changed: {_change(d)}"
        out.append(_annotation(*_line_of(d, first), said))
    if found.orders:
        said = f"{len(found.orders)} of {found.planned} orders planned differently"
        out.append(_annotation(*first, said))
    return "".join(out)


def _text_report(found: DiffResult) -> str:
    """The whole diff as text: declarations, assemblies (with the examples), values,
    tests and orders."""
    parts = [_text(found.declarations), _counts_text(found.assemblies) + "\n"]
    for label, example in (("lost", found.examples.lost), ("gained", found.examples.gained)):
        if example is not None:
            parts.append(f"  cheapest {label}: {_assembly_words(example)}\n")
    if found.examples.stopped and found.assemblies.stopped is None:
        parts.append(f"  (examples not all found: stopped by the {found.examples.stopped})\n")
    parts += [_values_text(found.values), _verdicts_text(found.tests)]
    if found.orders is not None:
        parts.append(f"orders: {len(found.orders)} of {found.planned} planned differently\n")
        parts += [f"  {o.order_id}: {_order_words(o)}\n" for o in found.orders]
    return "".join(parts)


def _assembly_words(example: Example) -> str:
    """An example on one line: its price, its choices, and what it breaks."""
    assembly = example.assembly
    chosen = [f"{name} {_sku(c)}" for name, c in assembly.components.items()]
    chosen += [f"{name}={shown(value)}" for name, value in assembly.options.items()]
    price = f"price {assembly.objective}: " if assembly.objective is not None else ""
    return f"{price}{', '.join(chosen)} ({example.because})"


def _order_words(change: OrderChange) -> str:
    """What changed in one order's plan."""
    was, now = change.old, change.new
    if now is None:
        return f"{was.status} -> not read by the new version: {change.because}"
    said = []
    if "status" in change.changed:
        said.append(f"{was.status} -> {now.status}")
    if was.assembly is None or now.assembly is None:
        return "; ".join(said)  # impossible in one of them: the status says it all
    if "assembly" in change.changed:
        said.append("assembly " + _assembly_change(was, now))
    if "cost" in change.changed:
        said.append(f"cost {_money(was)} -> {_money(now)}")
    return "; ".join(said)


def _assembly_change(was: OrderPlan, now: OrderPlan) -> str:
    assert was.assembly is not None and now.assembly is not None
    moved = [
        f"{name} {_sku(c)} -> {_sku(now.assembly.components.get(name))}"
        for name, c in was.assembly.components.items()
        if c != now.assembly.components.get(name)
    ]
    moved += [
        f"{name} {shown(v)} -> {shown(now.assembly.options.get(name))}"
        for name, v in was.assembly.options.items()
        if v != now.assembly.options.get(name)
    ]
    return ", ".join(moved)


def _sku(chosen: Chosen | None) -> str:
    if chosen is None:
        return "none"
    return chosen.sku if chosen.qty == 1 else f"{chosen.qty} x {chosen.sku}"


def _money(plan: OrderPlan) -> str:
    return f"{plan.cost.total:,.2f}" if plan.cost is not None else "unknown"


def _line_of(d: Declared, otherwise: tuple[str, int]) -> tuple[str, int]:
    return (d.span.file, d.span.line) if d.span else otherwise


def _annotation(file: str, line: int, message: str) -> str:
    where = f"file={github_escape(file, prop=True)},line={line}"
    return f"::notice {where},title=atoconf diff::{github_escape(message)}\n"
