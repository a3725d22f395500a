"""Part rows, inline in rule text and from CSV files (read with csvparts), checked
against their part type: every attribute known and given (or defaulted) once, every
value of its type, every part number (SKU) unique."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

from lark import Token

from atoconf.language import csvparts
from atoconf.language.context import Context
from atoconf.language.diagnostics import Related, error, plural
from atoconf.language.loader import Decl, display_relative, overlaps_error
from atoconf.language.model import Attribute, Part, PartType, Value
from atoconf.language.nodes import Node, tokens, trees, unquote
from atoconf.language.source import Span, read_source
from atoconf.language.values import convert_cell, expecting, literal_value


def build_parts(inline: list[Decl], from_csv: list[Decl], ctx: Context) -> None:
    """Every part row, inline and from CSV, into `ctx.parts`; a repeated SKU is reported."""
    first_row: dict[str, Span] = {}
    blocks = sorted(
        inline + from_csv, key=lambda d: (d.unit.source.name, d.node.meta.line, d.node.meta.column)
    )
    # keep file order: units were read dependencies first
    unit_order = {id(d.unit): i for i, d in enumerate(inline + from_csv)}
    blocks.sort(key=lambda d: unit_order[id(d.unit)])
    for decl in blocks:
        type_token = tokens(decl.node, "NAME")[0]
        ptype = ctx.types.get(str(type_token))
        if ptype is None:
            if str(type_token) in ctx.enums:
                ctx.report(
                    error(
                        "E0203",
                        f"'{type_token}' is an enum, not a part type",
                        decl.span(type_token),
                        hint="parts belong to a `type` with attributes",
                    )
                )
            else:
                ctx.unknown("part type", str(type_token), decl.span(type_token), ctx.types)
            continue
        rows = (
            _inline_rows(decl, ptype, ctx)
            if decl.node.data == "parts_inline"
            else _csv_rows(decl, ptype, ctx)
        )
        for part in rows:
            seen = first_row.get(part.sku)
            if seen is not None:
                ctx.report(
                    error(
                        "E0206",
                        f"part number '{part.sku}' is declared twice",
                        part.span,
                        hint="each part number (SKU) names one part; remove or rename one",
                        related=[Related(message="first declared here", span=seen)],
                    )
                )
                continue
            first_row[part.sku] = part.span
            ctx.parts[part.sku] = part


def _complete(
    ptype: PartType,
    values: dict[str, Value],
    span: Span,
    sku: str,
    ctx: Context,
) -> dict[str, Value] | None:
    missing = [a for a in ptype.attributes.values() if a.name not in values and not a.has_default]
    if missing:
        names = ", ".join(a.name for a in missing)
        ctx.report(
            error(
                "E0401",
                f"part '{sku}' gives no value for {names}",
                span,
                hint=f"add {', '.join(a.name + '=…' for a in missing)} or declare a default "
                f"in type {ptype.name}",
            )
        )
        return None
    return {name: values.get(name, attr.default) for name, attr in ptype.attributes.items()}


def _inline_rows(decl: Decl, ptype: PartType, ctx: Context) -> Iterator[Part]:
    for row in trees(decl.node, "part_row"):
        if overlaps_error(row, decl.unit):
            continue
        kids = row.children
        strings = [k for k in kids if isinstance(k, Token)]
        sku = unquote(strings[0])
        name = unquote(strings[1]) if len(strings) > 1 else sku
        values: dict[str, Value] = {}
        good = True
        for assignment in cast(list[Node], kids[len(strings) :]):
            attr_token, value_node = cast(tuple[Token, Node], assignment.children)
            attr = ptype.attributes.get(str(attr_token))
            if attr is None:
                ctx.unknown(
                    f"attribute of type {ptype.name}",
                    str(attr_token),
                    decl.span(attr_token),
                    ptype.attributes,
                    code="E0403",
                )
                good = False
                continue
            if attr.name in values:
                ctx.report(
                    error(
                        "E0406",
                        f"'{attr.name}' is given twice for part '{sku}'",
                        decl.span(attr_token),
                        hint="keep one value",
                    )
                )
                good = False
                continue
            ok, value = literal_value(value_node, attr.type, ctx, decl.file, attr.name)
            values[attr.name] = value
            good = good and ok
        span = decl.span(strings[0])
        complete = _complete(ptype, values, span, sku, ctx)
        if good and complete is not None:
            yield _part(sku, name, ptype.name, complete, span)
        else:
            ctx.suppressed.add(sku)


def _csv_rows(decl: Decl, ptype: PartType, ctx: Context) -> Iterator[Part]:
    path_token = tokens(decl.node, "STRING")[0]
    relative = unquote(path_token)
    shown = display_relative(decl.file, relative)
    base = decl.unit.path.parent if decl.unit.path else Path.cwd()
    source = read_source(base / relative, shown)
    if isinstance(source, str):
        ctx.report(
            error(
                "E0502",
                f"cannot read parts file '{relative}': {source}",
                decl.span(path_token),
                hint="CSV paths are relative to the file that names them",
            )
        )
        return
    ctx.sources[source.name] = source
    rows, problem, offset = csvparts.read_rows(source.text)
    if problem is not None:
        ctx.report(error("E0404", problem, source.span(offset, offset + 1)))
        return
    if not rows:
        ctx.report(
            error(
                "E0405",
                "the parts file is empty",
                Span(file=source.name, line=1, col=1, end_line=1, end_col=1),
                hint=f"the first line is the header: sku,name,{','.join(ptype.attributes)}",
            )
        )
        return
    header, *body = rows
    names = [c.text for c in header.cells]
    header_hint = f"the header is: sku,name,{','.join(ptype.attributes)}"
    if names[:2] != ["sku", "name"]:
        ctx.report(
            error(
                "E0405",
                "the header must start with the columns sku,name",
                source.span(header.start, header.end - 1 if header.end > header.start else 1),
                hint=header_hint,
            )
        )
        return
    columns: list[Attribute | None] = [None, None]
    good_header = True
    for cell in header.cells[2:]:
        attr = ptype.attributes.get(cell.text)
        if attr is None:
            ctx.unknown(
                f"attribute of type {ptype.name}",
                cell.text,
                csvparts.cell_span(source, cell),
                ptype.attributes,
                code="E0403",
            )
            good_header = False
        elif attr in columns:
            ctx.report(
                error(
                    "E0405",
                    f"column '{cell.text}' appears twice",
                    csvparts.cell_span(source, cell),
                    hint="remove one of the columns",
                )
            )
            good_header = False
        columns.append(attr)
    missing = [a.name for a in ptype.attributes.values() if a not in columns and not a.has_default]
    if missing:
        ctx.report(
            error(
                "E0401",
                f"no column for {', '.join(missing)}, which type {ptype.name} requires",
                source.span(header.start, max(header.end - 1, header.start + 1)),
                hint=f"add the column(s) {', '.join(missing)} or declare defaults",
            )
        )
        good_header = False
    if not good_header:
        return
    for row in body:
        cells = row.cells
        row_span = source.span(row.start, max(row.end - 1, row.start + 1))
        if len(cells) != len(columns):
            ctx.report(
                error(
                    "E0404",
                    f"this row has {plural(len(cells), 'cell')}; the header has {len(columns)}",
                    row_span,
                    hint='quote cells that contain commas: "a, b"',
                )
            )
            if cells and cells[0].text:
                ctx.suppressed.add(cells[0].text)
            continue
        sku = cells[0].text
        if not sku:
            ctx.report(
                error("E0404", "the sku cell is empty", row_span, hint="every row needs a SKU")
            )
            continue
        values: dict[str, Value] = {}
        good = True
        for cell, attr in zip(cells[2:], columns[2:], strict=True):
            assert attr is not None
            if cell.text == "":
                if attr.has_default:
                    values[attr.name] = attr.default
                    continue
                ctx.report(
                    error(
                        "E0401",
                        f"part '{sku}' has no value for '{attr.name}'",
                        csvparts.cell_span(source, cell),
                        hint=f"fill in the cell or declare a default for '{attr.name}'",
                    )
                )
                good = False
                continue
            ok, value, reason = convert_cell(cell.text, attr.type, ctx)
            if not ok:
                ctx.report(
                    error(
                        "E0402",
                        f"'{attr.name}' of part '{sku}': {reason}",
                        csvparts.cell_span(source, cell),
                        hint=expecting(attr.type).replace("{A, B}", "A|B"),
                    )
                )
                good = False
                continue
            values[attr.name] = value
        complete = (
            _complete(ptype, values, csvparts.cell_span(source, cells[0]), sku, ctx)
            if good
            else None
        )
        if complete is not None:
            yield _part(
                sku,
                cells[1].text or sku,
                ptype.name,
                complete,
                csvparts.cell_span(source, cells[0]),
            )
        else:
            ctx.suppressed.add(sku)


def _part(sku: str, name: str, type_name: str, values: dict[str, Value], span: Span) -> Part:
    """A part row whose values the builder has checked against its type: made without
    validating them again (a large catalog has thousands of rows, and validation was
    most of the time a load took)."""
    return Part.model_construct(sku=sku, name=name, type=type_name, values=values, span=span)
