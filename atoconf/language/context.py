"""What one build knows as it goes: the declarations built so far, the names left out
after an error (never reported as unknown), enum members, the sources read and the
diagnostics reported; and how an unknown name is reported, with a did-you-mean hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from atoconf.language.diagnostics import Diagnostic, error
from atoconf.language.model import Component, EnumDecl, Option, Part, PartType
from atoconf.language.source import SourceFile, Span


@dataclass
class Context:
    """Everything one build has declared, left out and reported so far."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    suppressed: set[str] = field(default_factory=set)
    enums: dict[str, EnumDecl] = field(default_factory=dict)
    types: dict[str, PartType] = field(default_factory=dict)
    parts: dict[str, Part] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)
    options: dict[str, Option] = field(default_factory=dict)
    # enum name -> members, for declared enums and the inline enums of options
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # names declared but left out (syntax or earlier errors): never "unknown"
    broken_values: set[str] = field(default_factory=set)
    broken_rules: set[str] = field(default_factory=set)

    def report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def unknown(
        self,
        what: str,
        name: str,
        span: Span,
        candidates: Iterable[str],
        code: str = "E0201",
        extra: str | None = None,
    ) -> None:
        if name in self.suppressed:
            return
        hint = did_you_mean(name, candidates) or extra
        if what.startswith(("member of", "attribute of", "value of")):
            message = f"'{name}' is not {'an' if what[0] == 'a' else 'a'} {what}"
        else:
            message = f"unknown {what} '{name}'"
        self.report(error(code, message, span, hint=hint))


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the candidate closest to `name`; None when none is close."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f"did you mean '{close[0]}'?" if close else None
