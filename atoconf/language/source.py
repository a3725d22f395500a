"""Source files and the spans that point into them."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

MAX_FILE_BYTES = 16 * 1024 * 1024


class Span(BaseModel):
    """A region of a file: 1-based lines and columns, `end_col` exclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def contains_line(self, line: int) -> bool:
        """Whether `line` lies within the span."""
        return self.line <= line <= self.end_line


@dataclass(frozen=True)
class SourceFile:
    """The text of one file as read, with its display name and line index."""

    name: str
    text: str
    path: Path | None = None
    _line_starts: list[int] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self._line_starts.extend(starts)

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        if not 1 <= line <= len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end == -1 else self.text[start:end]

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, col) of a character offset."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        """The span of the characters [start, end)."""
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(file=self.name, line=line, col=col, end_line=end_line, end_col=end_col)

    def whole_line(self, line: int) -> Span:
        return Span(
            file=self.name,
            line=line,
            col=1,
            end_line=line,
            end_col=len(self.line_text(line)) + 1,
        )


def display_name(path: Path) -> str:
    """How a path is shown in messages: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def decode(data: bytes, name: str, path: Path | None = None) -> SourceFile | str:
    """Decode UTF-8 bytes (a BOM is dropped, CRLF becomes LF); a reason string on failure."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return (
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as UTF-8"
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceFile(name=name, text=text, path=path)


def read_source(path: Path, name: str | None = None) -> SourceFile | str:
    """Read a text file; a reason string when it cannot be read as one."""
    shown = name or display_name(path)
    try:
        if path.is_dir():
            return "this is a directory, not a file; name the rule file inside it"
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return (
                f"the file is {size / 1024 / 1024:.1f} MB, over the "
                f"{MAX_FILE_BYTES // 1024 // 1024} MB limit for one file; split it with imports"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        return "no such file; check the path"
    except PermissionError:
        return "permission denied; make the file readable"
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    return decode(data, shown, path)
