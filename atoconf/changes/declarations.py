"""What two versions of a product declare differently: parts by SKU (with the
attributes that changed), rules by name (compared by their parsed form, so a change
of layout alone is none), components, options, steps and tests. A rename is a
removal and an addition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from atoconf.language.model import Model, Value, shown
from atoconf.language.source import SourceFile, Span

Kind = Literal["part", "rule", "component", "option", "step", "test"]
KINDS: tuple[Kind, ...] = ("part", "rule", "component", "option", "step", "test")
_VALUE: TypeAdapter[Value] = TypeAdapter(Value)


@dataclass(frozen=True)
class Declared:
    """One declaration added, removed or changed. For a changed part, `attributes`
    holds each changed attribute as (old, new), values as the rule language shows
    them; for anything else changed, `old` and `new` are its text in each version."""

    kind: Kind
    name: str
    old: str | None = None
    new: str | None = None
    attributes: dict[str, tuple[str, str]] = field(default_factory=dict)
    span: Span | None = None  # where it is in the new version (None: removed)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.old is not None or self.new is not None:
            out |= {"old": self.old, "new": self.new}
        if self.attributes:
            out["attributes"] = {
                name: {"old": old, "new": new} for name, (old, new) in self.attributes.items()
            }
        return out


@dataclass(frozen=True)
class Declarations:
    """Every declaration added, removed and changed, each list in declaration order
    (parts, rules, components, options, steps, tests)."""

    added: list[Declared]
    removed: list[Declared]
    changed: list[Declared]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": [d.to_json() for d in self.added],
            "removed": [d.to_json() for d in self.removed],
            "changed": [d.to_json() for d in self.changed],
        }


def declarations(
    old: Model,
    new: Model,
    old_sources: Mapping[str, SourceFile],
    new_sources: Mapping[str, SourceFile],
) -> Declarations:
    """What `new` declares differently from `old` (`*_sources`: their files, for the
    text of what changed)."""
    added: list[Declared] = []
    removed: list[Declared] = []
    changed: list[Declared] = []
    for kind in KINDS:
        before, after = _declared(old, kind), _declared(new, kind)
        for name, node in after.items():
            if name not in before:
                added.append(Declared(kind, name, span=_span(node)))
        for name in before:
            if name not in after:
                removed.append(Declared(kind, name))
        for name, node in after.items():
            was = before.get(name)
            if was is None or _shape(was, kind) == _shape(node, kind):
                continue
            if kind == "part":
                changed.append(
                    Declared(kind, name, attributes=_attributes(was, node), span=_span(node))
                )
            else:
                changed.append(
                    Declared(
                        kind,
                        name,
                        old=_text(was, old_sources),
                        new=_text(node, new_sources),
                        span=_span(node),
                    )
                )
    return Declarations(added, removed, changed)


def _declared(model: Model, kind: Kind) -> dict[str, BaseModel]:
    if kind == "part":
        return dict(model.parts)
    if kind == "rule":
        return dict(model.rules)
    if kind == "component":
        return dict(model.components)
    if kind == "option":
        return dict(model.options)
    if kind == "step":
        return dict(model.steps)
    return {t.name: t for t in model.tests}


def parsed_form(node: BaseModel) -> Any:
    """A declaration or an expression as data, without where it is written: equal for
    a change of layout."""
    return _without_spans(node.model_dump(mode="json"))


def _shape(node: BaseModel, kind: Kind) -> Any:
    """A declaration's parsed form. A component's parts are left out: they follow from
    the parts declared (a part added shows as such, not as every component that can
    take it changing)."""
    data = parsed_form(node)
    if kind == "component":
        data.pop("parts", None)
    return data


def _without_spans(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_spans(v) for k, v in data.items() if not k.endswith("span")}
    if isinstance(data, list):
        return [_without_spans(v) for v in data]
    return data


def _span(node: BaseModel) -> Span | None:
    span = getattr(node, "span", None)
    return span if isinstance(span, Span) else None


def _text(node: BaseModel, sources: Mapping[str, SourceFile]) -> str | None:
    """The declaration's text in its file, its lines joined by one space each."""
    span = _span(node)
    if span is None or span.file not in sources:
        return None
    source = sources[span.file]
    lines = [source.line_text(n) for n in range(span.line, span.end_line + 1)]
    if len(lines) == 1:
        return lines[0][span.col - 1 : span.end_col - 1].strip()
    lines[0] = lines[0][span.col - 1 :]
    lines[-1] = lines[-1][: span.end_col - 1]
    return " ".join(line.strip() for line in lines if line.strip())


def _attributes(old: BaseModel, new: BaseModel) -> dict[str, tuple[str, str]]:
    """A part's changed attributes (and its name and type), as the language shows them."""
    before = {"name": getattr(old, "name", None), "type": getattr(old, "type", None)}
    after = {"name": getattr(new, "name", None), "type": getattr(new, "type", None)}
    before |= dict(getattr(old, "values", {}))
    after |= dict(getattr(new, "values", {}))
    out: dict[str, tuple[str, str]] = {}
    for key in [*after, *(k for k in before if k not in after)]:
        was, now = before.get(key), after.get(key)
        if _VALUE.dump_python(was, mode="json") != _VALUE.dump_python(now, mode="json"):
            out[key] = (_shown(was), _shown(now))
    return out


def _shown(value: Any) -> str:
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}"
    return shown(value)
