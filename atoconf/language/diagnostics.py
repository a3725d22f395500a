"""The one diagnostic type every stage reports, and its renderers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from atoconf.language.source import SourceFile, Span
from atoconf.language.version import __version__

JSON_VERSION = 1


class Severity(StrEnum):
    """An error stops a file from loading; a warning does not (unless --strict)."""

    ERROR = "error"
    WARNING = "warning"


class Related(BaseModel):
    """A second location that explains a diagnostic (a link in an import chain, say)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message: str
    span: Span


class Diagnostic(BaseModel):
    """One finding: a code, what is wrong, where, and how to fix it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    hint: str | None = None
    related: tuple[Related, ...] = ()

    @property
    def is_error(self) -> bool:
        """Whether this is an error (not a warning)."""
        return self.severity is Severity.ERROR

    def render(self, sources: Mapping[str, SourceFile] | None = None) -> str:
        """As the command line prints it: the location, code and message, the source
        line with a caret underline (when `sources` holds its file), notes, the hint."""
        return _block(self, sources or {})

    def __str__(self) -> str:
        """One line: `file:line:col: error[E0201]: message (hint)`."""
        where = f"{self.span}: " if self.span else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.severity.value}[{self.code}]: {self.message}{hint}"


def error(
    code: str,
    message: str,
    span: Span | None,
    hint: str | None = None,
    related: Iterable[Related] = (),
) -> Diagnostic:
    return Diagnostic(
        code=code,
        severity=Severity.ERROR,
        message=message,
        span=span,
        hint=hint,
        related=tuple(related),
    )


def warning(code: str, message: str, span: Span | None, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.WARNING, message=message, span=span, hint=hint)


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    if d.span is None:
        return ("", 0, 0, d.code)
    return (d.span.file, d.span.line, d.span.col, d.code)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


T = TypeVar("T")


@dataclass(frozen=True)
class Checked(Generic[T]):
    """What a stage made of its input: the value, every diagnostic, and the sources
    they point into. Every stage that reads user input returns one.

    `value` is None when the errors leave nothing to use; a stage that skips bad parts
    and goes on (a batch of orders, say) keeps what it made beside the errors."""

    value: T | None
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """A value and no errors (warnings may remain)."""
        return self.value is not None and not has_errors(self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics that are errors."""
        return [d for d in self.diagnostics if d.is_error]


# ---- renderers --------------------------------------------------------------

Sources = Mapping[str, SourceFile]


def _underline(source: SourceFile | None, span: Span) -> list[str]:
    if source is None:
        return []
    text = source.line_text(span.line)
    if not text and span.line > source.line_count:
        return []
    end = span.end_col if span.end_line == span.line else len(text) + 1
    width = max(1, end - span.col)
    gutter = " " * len(str(span.line))
    prefix = "".join(c if c == "\t" else " " for c in text[: span.col - 1])
    return [
        f"{gutter} |",
        f"{span.line} | {text}",
        f"{gutter} | {prefix}{'^' * width}",
    ]


def render_text(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    """`file:line:col: error[E0201]: message`, the source line, a caret underline, the hint."""
    blocks = [_block(d, sources) for d in diagnostics]
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    if blocks:
        blocks.append(f"{plural(errors, 'error')}, {plural(warnings, 'warning')}")
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _block(d: Diagnostic, sources: Sources) -> str:
    where = f"{d.span}: " if d.span else ""
    lines = [f"{where}{d.severity.value}[{d.code}]: {d.message}"]
    if d.span:
        lines.extend(_underline(sources.get(d.span.file), d.span))
    for rel in d.related:
        lines.append(f"  note: {rel.span}: {rel.message}")
    if d.hint:
        lines.append(f"  = hint: {d.hint}")
    return "\n".join(lines)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {"code": d.code, "severity": d.severity.value, "message": d.message}
    span = d.span
    out.update(
        file=span.file if span else None,
        line=span.line if span else None,
        col=span.col if span else None,
        end_line=span.end_line if span else None,
        end_col=span.end_col if span else None,
    )
    out["hint"] = d.hint
    if d.related:
        out["related"] = [
            {"message": r.message, "file": r.span.file, "line": r.span.line, "col": r.span.col}
            for r in d.related
        ]
    return out


def check_json(diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    errors = sum(1 for d in diagnostics if d.is_error)
    return {
        "version": JSON_VERSION,
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": len(diagnostics) - errors,
        "diagnostics": [diagnostic_json(d) for d in diagnostics],
    }


def render_json(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    return json.dumps(check_json(diagnostics), indent=2) + "\n"


def github_escape(text: str, prop: bool = False) -> str:
    """Text for a GitHub workflow command: its message, or (`prop`) a property value."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    """GitHub Actions workflow commands: `::error file=,line=,col=::message`."""
    out = []
    for d in diagnostics:
        props = [f"title={github_escape(d.code, prop=True)}"]
        if d.span:
            s = d.span
            props = [
                f"file={github_escape(s.file, prop=True)}",
                f"line={s.line}",
                f"col={s.col}",
                f"endLine={s.end_line}",
                f"endColumn={s.end_col}",
                *props,
            ]
        message = f"{d.message} [{d.code}]" + (f" (hint: {d.hint})" if d.hint else "")
        out.append(f"::{d.severity.value} {','.join(props)}::{github_escape(message)}\n")
    return "".join(out)


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(file: str) -> str:
    """A file name as a SARIF artifact URI (RFC 3986): relative paths stay relative."""
    posix = file.replace("\\", "/")
    if posix.startswith("/"):
        return "file://" + quote(posix, safe="/")
    if len(posix) > 2 and posix[1] == ":" and posix[2] == "/":  # C:/ on Windows
        return "file:///" + quote(posix, safe="/:")
    return quote(posix, safe="/")


def sarif_log(diagnostics: Sequence[Diagnostic], tool_version: str) -> dict[str, Any]:
    from atoconf.language.codes import CODES

    used = sorted({d.code for d in diagnostics})
    rules = [
        {
            "id": code,
            "name": CODES[code].name if code in CODES else code,
            "shortDescription": {"text": CODES[code].title if code in CODES else code},
            "helpUri": f"https://github.com/atoconf/atoconf/blob/main/docs/errors.md#{code.lower()}",
        }
        for code in used
    ]
    results = []
    for d in diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": used.index(d.code),
            "level": "error" if d.is_error else "warning",
            "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
        }
        if d.span:
            s = d.span
            result["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(s.file)},
                        "region": {
                            "startLine": s.line,
                            "startColumn": s.col,
                            "endLine": s.end_line,
                            "endColumn": max(s.end_col, 1),
                        },
                    }
                }
            ]
        if d.related:
            result["relatedLocations"] = [
                {
                    "id": i,
                    "message": {"text": r.message},
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(r.span.file)},
                        "region": {"startLine": r.span.line, "startColumn": r.span.col},
                    },
                }
                for i, r in enumerate(d.related)
            ]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "atoconf",
                        "version": tool_version,
                        "informationUri": "https://github.com/atoconf/atoconf",
                        "rules": rules,
                    }
                },
                "results": results,
                # atoconf counts columns in characters (code points), not UTF-16 units
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render_sarif(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    return json.dumps(sarif_log(diagnostics, __version__), indent=2) + "\n"


RENDERERS: dict[str, Callable[[Sequence[Diagnostic], Sources], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}
