"""Everything a diff finds, in one result: what `atoconf diff` prints and what
`atoconf.diff` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from atoconf.changes.declarations import Declarations, declarations
from atoconf.changes.examples import Example, Examples, examples
from atoconf.changes.impact import (
    AssemblyCounts,
    Scope,
    ValueChanges,
    VerdictChange,
    assembly_counts,
    value_changes,
    verdict_changes,
)
from atoconf.changes.replay import OrderChange
from atoconf.engine.clock import Clock
from atoconf.language.model import Model
from atoconf.language.source import SourceFile

JSON_VERSION = 1


@dataclass(frozen=True)
class DiffResult:
    """What a change declares differently and what it does: assemblies before and
    after, lost and gained (with the cheapest example of each), values dead and
    alive, tests whose verdict changes, and (when a batch was replayed) the orders
    whose plan changes, of `planned` orders."""

    declarations: Declarations
    assemblies: AssemblyCounts
    examples: Examples
    values: ValueChanges
    tests: list[VerdictChange]
    orders: list[OrderChange] | None = None
    planned: int = 0

    def to_json(self) -> dict[str, Any]:
        """The JSON shape `atoconf diff --format json` prints (docs/json.md)."""
        assemblies = self.assemblies.to_json() | {
            "lost_example": _example(self.examples.lost),
            "gained_example": _example(self.examples.gained),
        }
        if self.examples.stopped and "stopped" not in assemblies:
            assemblies["stopped"] = self.examples.stopped
        out: dict[str, Any] = {
            "version": JSON_VERSION,
            "declarations": self.declarations.to_json(),
            "assemblies": assemblies,
            "values": self.values.to_json(),
            "tests": [v.to_json() for v in self.tests],
        }
        if self.orders is not None:
            out["orders"] = {
                "planned": self.planned,
                "changed": [o.to_json() for o in self.orders],
            }
        return out


def _example(example: Example | None) -> dict[str, Any] | None:
    return example.to_json() if example is not None else None


def compare(
    old: Model,
    new: Model,
    old_sources: Mapping[str, SourceFile],
    new_sources: Mapping[str, SourceFile],
    clock: Clock,
    scope: Scope | None = None,
) -> DiffResult:
    """The declarations, assemblies, examples, values and test verdicts of a change
    (within a request's scope); the counts and searches share the clock."""
    return DiffResult(
        declarations(old, new, old_sources, new_sources),
        assembly_counts(old, new, clock, scope),
        examples(old, new, clock, scope),
        value_changes(old, new, clock, scope),
        verdict_changes(old, new, old_sources, new_sources),
    )
