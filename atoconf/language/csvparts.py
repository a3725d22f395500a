"""CSV part files: cells with their offsets, so every error can point at its cell."""

from __future__ import annotations

from dataclasses import dataclass

from atoconf.language.source import SourceFile, Span


@dataclass(frozen=True)
class Cell:
    text: str
    start: int  # offset of the cell's first character (its quote, if quoted)
    end: int


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    start: int
    end: int


def cell_span(source: SourceFile, cell: Cell) -> Span:
    """The cell's characters; an empty cell gets one column where it stands."""
    if cell.end > cell.start:
        return source.span(cell.start, cell.end)
    line, col = source.position(cell.start)
    return Span(file=source.name, line=line, col=col, end_line=line, end_col=col + 1)


def read_rows(text: str) -> tuple[list[Row], str | None, int]:
    """Split CSV text (RFC 4180: quotes, doubled quotes, commas and newlines in
    quotes) into rows; blank lines are skipped. Returns (rows, error, error offset)."""
    rows: list[Row] = []
    n = len(text)
    pos = 0
    while pos < n:
        eol = text.find("\n", pos)
        eol = n if eol == -1 else eol
        if not text[pos:eol].strip():  # a blank line
            pos = eol + 1
            continue
        row_start = pos
        cells: list[Cell] = []
        while True:
            start = pos
            if pos < n and text[pos] == '"':
                pos += 1
                parts: list[str] = []
                while True:
                    close = text.find('"', pos)
                    if close == -1:
                        return rows, "a quoted cell is not closed; add the closing '\"'", start
                    parts.append(text[pos:close])
                    if close + 1 < n and text[close + 1] == '"':
                        parts.append('"')
                        pos = close + 2
                        continue
                    pos = close + 1
                    break
                if pos < n and text[pos] not in ",\n":
                    return (
                        rows,
                        "unexpected text after a quoted cell; quote the whole cell",
                        pos,
                    )
                cells.append(Cell("".join(parts), start, pos))
            else:
                while pos < n and text[pos] not in ",\n":
                    pos += 1
                cells.append(Cell(text[start:pos].strip(), start, pos))
            if pos < n and text[pos] == ",":
                pos += 1
                continue
            break
        if pos < n:
            pos += 1  # the newline
        rows.append(Row(tuple(cells), row_start, pos))
    return rows, None, 0
