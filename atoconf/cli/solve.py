"""atoconf solve, count, domains and explain."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from atoconf.cli.common import (
    EXIT_FAILED,
    Command,
    DeadlineOpt,
    DefaultsOpt,
    FileArg,
    RequestArg,
    RequireOpt,
    ResultFormat,
    ResultFormatOpt,
    SetOpt,
    SolveFormat,
    app,
    checked_request,
    emit_json,
    progress,
)
from atoconf.engine.clock import Clock
from atoconf.engine.explain import Explanation
from atoconf.engine.explain import explain as explain_op
from atoconf.engine.problem import nodes
from atoconf.engine.request import (
    ResolvedRequest,
)
from atoconf.engine.results import AssemblyResult, SolveResult
from atoconf.engine.setup import with_defaults
from atoconf.engine.solve import count as count_op
from atoconf.engine.solve import domains as domains_op
from atoconf.engine.solve import solve as solve_op
from atoconf.language.model import AttrRef, Model, Value, shown


@app.command(cls=Command)
def solve(
    file: FileArg,
    request_file: RequestArg = None,
    sets: SetOpt = None,
    requires: RequireOpt = None,
    minimize: Annotated[str | None, typer.Option(help="Objective to minimise.")] = None,
    maximize: Annotated[str | None, typer.Option(help="Objective to maximise.")] = None,
    limit: Annotated[
        int | None, typer.Option(help="Most assemblies to list [default: 10; 0: all].")
    ] = None,
    deadline: DeadlineOpt = None,
    defaults: DefaultsOpt = True,
    output_format: Annotated[
        SolveFormat, typer.Option("--format", "-f", help="Output format.")
    ] = SolveFormat.text,
) -> None:
    """List valid assemblies, best first when there is an objective.

    Exit 0 when at least one was found, 1 when there is none.
    """
    model, req = checked_request(
        file, request_file, sets, requires, minimize, maximize, limit or None, deadline
    )
    cap = req.limit if req.limit is not None else (None if limit == 0 else 10)
    objective = req.objective
    found = solve_op(
        model,
        req.selects,
        [expr for _, expr in req.requires],
        minimize=objective.minimize if objective else None,
        maximize=objective.maximize if objective else None,
        limit=cap,
        clock=Clock(req.deadline),
        defaults=defaults,
    )
    assemblies: list[AssemblyResult] = []
    produced = 0
    with progress("assemblies found") as advance:
        for assembly in found:
            produced += 1
            advance()
            if output_format is SolveFormat.jsonl:
                sys.stdout.write(json.dumps(assembly.to_json()) + "\n")
                sys.stdout.flush()
            elif output_format is SolveFormat.json:
                assemblies.append(assembly)
            else:
                _print_assembly(model, assembly, produced)
    reason = found.stopped
    if output_format is SolveFormat.json:
        emit_json(SolveResult(assemblies=assemblies, stopped=reason).to_json())
    elif reason:
        typer.echo(f"stopped: {reason}", err=True)
    _said_defaults(found.defaults)
    if not produced:
        typer.echo(
            "no valid assembly"
            + (f" found before the {reason}" if reason else "")
            + "; run `atoconf explain` to see which rules conflict",
            err=True,
        )
        raise typer.Exit(EXIT_FAILED)


def _print_assembly(model: Model, assembly: AssemblyResult, index: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    # the key attributes only where there is room for them beside the rest
    columns = ["component", "sku", "name", "qty", "key attributes", "price", "line total"]
    if console.width < WIDE_TABLE:
        columns.remove("key attributes")
    title = f"Assembly {index}"
    if assembly.objective is not None:
        title += f"  (objective {assembly.objective})"
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in ("qty", "price", "line total") else "left",
            no_wrap=column != "name",
            overflow="ellipsis",
        )
    total: Decimal | int = 0
    priced = False
    for name, choice in assembly.components.items():
        if choice is None:
            row = [name, "-", "(none)", "0", "", "", ""]
        else:
            part = model.parts[choice.sku]
            price = part.values.get("price")
            line = choice.qty * price if isinstance(price, Decimal | int) else None
            if line is not None:
                total += line
                priced = True
            row = [
                name,
                part.sku,
                part.name,
                str(choice.qty),
                _key_attributes(model, name, part.values),
                "" if price is None else str(price),
                "" if line is None else str(line),
            ]
        if "key attributes" not in columns:
            del row[4]
        table.add_row(*row)
    if priced:
        table.add_section()
        table.add_row("total", *[""] * (len(columns) - 2), str(total))
    console.print(table)
    if assembly.options:
        console.print(
            "options: " + ", ".join(f"{k}={shown(v)}" for k, v in assembly.options.items())
        )
    console.print()


WIDE_TABLE = 110  # columns a terminal needs for the key attributes
KEY_ATTRIBUTES = 3  # per part in the text table


def _key_attributes(model: Model, component: str, values: Mapping[str, object]) -> str:
    """The first few attributes of a part that the rules read, as `name=value`."""
    read = _attributes_read(model).get(component, ())
    texts: list[str] = []
    for attr in read:
        if len(texts) == KEY_ATTRIBUTES:
            break
        value = values.get(attr)
        if value is None or attr == "price":
            continue
        if isinstance(value, frozenset):
            value = "|".join(sorted(value))
        texts.append(f"{attr}={shown(value)}")
    return ", ".join(texts)


def _attributes_read(model: Model) -> dict[str, list[str]]:
    """Per component, the attributes its rules read, in the order first read."""
    found: dict[str, dict[str, None]] = {}
    for rule in model.rules.values():
        for node in nodes(rule.expr):
            if isinstance(node, AttrRef):
                found.setdefault(node.component, {})[node.attr] = None
    return {name: list(attrs) for name, attrs in found.items()}


Answer = TypeVar("Answer")


def _answer(
    operation: Callable[..., Answer],
    model: Model,
    req: ResolvedRequest,
    defaults: bool,
    label: str,
    cap: int | None,
) -> Answer:
    """Run count or domains for a checked request, with progress on a terminal (the
    time spent against the deadline, when there is one); with `defaults`, say which
    option defaults the request was given, as solve does."""
    requires = [expr for _, expr in req.requires]
    clock = Clock(req.deadline)
    with progress(label, deadline=req.deadline):
        # the defaults filled here once, both to answer with and to say which they were
        select = with_defaults(model, req.selects, requires, clock) if defaults else req.selects
        answer = operation(model, select, requires, clock=clock, cap=cap)
    _said_defaults({k: v for k, v in select.items() if k not in req.selects})
    return answer


def _said_defaults(filled: Mapping[str, Value]) -> None:
    """The option defaults an answer assumed, and how to answer without them (stderr)."""
    if filled:
        shown_ = ", ".join(f"{k}={shown(v)}" for k, v in filled.items())
        typer.echo(
            f"option defaults filled in: {shown_} (the request leaves these options open); "
            "--no-defaults answers with their other values too",
            err=True,
        )


@app.command(cls=Command)
def count(
    file: FileArg,
    request_file: RequestArg = None,
    sets: SetOpt = None,
    requires: RequireOpt = None,
    deadline: DeadlineOpt = None,
    defaults: DefaultsOpt = False,
    cap: Annotated[
        int | None, typer.Option(min=1, help="Stop once the count passes N (says so).")
    ] = None,
    output_format: ResultFormatOpt = ResultFormat.text,
) -> None:
    """Count the valid assemblies exactly (0 is an answer: exit 0)."""
    model, req = checked_request(file, request_file, sets, requires, deadline=deadline)
    result = _answer(count_op, model, req, defaults, "counting", cap)
    if output_format is ResultFormat.json:
        emit_json(result.model_dump(mode="json"))
        return
    if result.exact:
        typer.echo(f"{result.count:,}")
    elif result.stopped == "cap":
        typer.echo(f"more than {result.count:,} (stopped at the cap)")
    else:
        typer.echo(f"no exact count: stopped by the {result.stopped}; try a longer --deadline")


@app.command(cls=Command)
def domains(
    file: FileArg,
    request_file: RequestArg = None,
    sets: SetOpt = None,
    requires: RequireOpt = None,
    deadline: DeadlineOpt = None,
    defaults: DefaultsOpt = False,
    cap: Annotated[
        int | None,
        typer.Option(min=1, help="Stop after N steps of work; unproven values are kept."),
    ] = None,
    output_format: ResultFormatOpt = ResultFormat.text,
) -> None:
    """The values each open choice can still take. Exit 1 when nothing is valid."""
    model, req = checked_request(file, request_file, sets, requires, deadline=deadline)
    result = _answer(domains_op, model, req, defaults, "checking values", cap)
    if output_format is ResultFormat.json:
        emit_json(result.to_json())
    else:
        for name, values in result.domains.items():
            origin = result.provenance.get(name, "open")
            typer.echo(f"{name} ({origin}): {', '.join(shown(v) for v in values)}")
        if result.stopped:
            typer.echo(f"stopped: {result.stopped}", err=True)
    if not result.satisfiable:
        if output_format is ResultFormat.text:
            typer.echo(
                "no valid assembly; run `atoconf explain` to see which rules conflict", err=True
            )
        raise typer.Exit(EXIT_FAILED)


class Blame(StrEnum):
    request = "request"
    rules = "rules"


# the distinct minimal conflicts listed: all of them when there are fewer
MAX_CONFLICTS = 5
MAX_ALL = 20  # with --all


@app.command(cls=Command)
def explain(
    file: FileArg,
    request_file: RequestArg = None,
    sets: SetOpt = None,
    requires: RequireOpt = None,
    why: Annotated[
        str | None,
        typer.Option(help="Why is this value unavailable? KEY=VALUE, as for --set.", metavar="K=V"),
    ] = None,
    every: Annotated[
        bool,
        typer.Option(
            "--all",
            help=f"List up to {MAX_ALL} distinct conflicts (without it: up to {MAX_CONFLICTS}).",
            metavar="",
        ),
    ] = False,
    blame: Annotated[
        Blame, typer.Option(help="Blame request items first, or rules first.")
    ] = Blame.request,
    deadline: DeadlineOpt = None,
    output_format: ResultFormatOpt = ResultFormat.text,
) -> None:
    """Why a request has no valid assembly, and what to change.

    Exit 0 when explained, 1 when the request is in fact satisfiable.
    """
    model, req = checked_request(file, request_file, sets, requires, deadline=deadline)
    asked: tuple[str, Value] | None = None
    if why is not None:
        _, probe = checked_request(file, None, [why], None)
        ((key, value),) = probe.selects.items()
        asked = (key, value)
    with progress("explaining"):
        result = explain_op(
            model,
            req,
            why=asked,
            max_conflicts=MAX_ALL if every else MAX_CONFLICTS,
            blame=blame.value,
            clock=Clock(req.deadline),
        )
    if output_format is ResultFormat.json:
        emit_json(result.to_json())
    else:
        _print_explanation(model, result, why, MAX_ALL if every else MAX_CONFLICTS)
    if result.satisfiable:
        if output_format is ResultFormat.text:
            typer.echo(
                f"{why} is available for this request" if why else "the request is satisfiable",
                err=True,
            )
        raise typer.Exit(EXIT_FAILED)


def _print_explanation(
    model: Model, result: Explanation, why: str | None, max_conflicts: int
) -> None:
    if result.satisfiable:
        return
    conflicts = result.conflicts or [result.conflict]
    head = f"{why} is unavailable" if why else "No valid assembly for this request"
    if not result.conflict and not result.stopped and why:
        typer.echo(
            f"{head} in itself, whatever the request and the rules: its component's"
            " parts, `where` filter or quantity range leave no assembly with it"
        )
        return
    if not result.conflict and not result.stopped:
        typer.echo(
            f"{head}: the model itself has no valid assembly, whatever the request and"
            " the rules (a component without parts, say); `atoconf check` tells more"
        )
        return
    if len(conflicts) == 1:
        typer.echo(f"{head}. These conflict; removing any one of them resolves it:")
    else:
        more = " (or more)" if len(conflicts) >= max_conflicts else ""
        typer.echo(
            f"{head}: {len(conflicts)}{more} conflicts, and each must be resolved; removing"
            " any one member of a conflict resolves that conflict:"
        )
    for n, conflict in enumerate(conflicts, start=1):
        if len(conflicts) > 1:
            typer.echo(f"conflict {n}:")
        for member in conflict:
            if member.kind == "request":
                typer.echo(f"  request  {member.item}")
                continue
            where = f"{member.file}:{member.line}:{member.col}"
            about = f" ({member.description})" if member.description else ""
            typer.echo(f"  rule     {member.name}{about}  {where}")
            for number, line in _rule_lines(model, member.name, member.file):
                typer.echo(f"           {number} | {line}")
    if result.repairs:
        typer.echo("Repairs:")
    for n, repair in enumerate(result.repairs, start=1):
        typer.echo(f"  {n}. drop {', '.join(repair.remove)}")
        for key, values in repair.instead.items():
            if values:
                first = ", ".join(shown(v) for v in values[:8])
                more = f" (+{len(values) - 8} more)" if len(values) > 8 else ""
                typer.echo(f"     or choose {key} in {{{first}{more}}}")
        parts = [
            f"{name} {c.sku}" + (f" x{c.qty}" if c.qty != 1 else "")
            for name, c in repair.assembly.components.items()
            if c is not None
        ]
        price = _assembly_price(model, repair.assembly)
        typer.echo(f"     e.g. {', '.join(parts)}" + (f"; total price {price}" if price else ""))
    if result.stopped:
        typer.echo(f"stopped: {result.stopped}; the answer may be incomplete", err=True)


def _rule_lines(model: Model, name: str | None, file: str | None) -> list[tuple[int, str]]:
    """Every line of a rule's source (a rule may span several), numbered."""
    rule = model.rules.get(name or "")
    if rule is None or file is None:
        return []
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    last = min(rule.span.end_line, len(lines))
    return [(n, lines[n - 1].rstrip()) for n in range(rule.span.line, last + 1)]


def _assembly_price(model: Model, assembly: AssemblyResult) -> str:
    total = Decimal(0)
    for choice in assembly.components.values():
        if choice is None:
            continue
        price = model.parts[choice.sku].values.get("price")
        if isinstance(price, Decimal | int):
            total += choice.qty * price
    return str(total) if total else ""
