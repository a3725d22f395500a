"""Working days: when assembly happens (Monday to Friday unless a calendar file says
otherwise, holidays off). Supplier lead times are calendar days; assembly minutes
are scheduled on working days."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from atoconf.language.diagnostics import Diagnostic, error
from atoconf.language.source import SourceFile, Span, read_source

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class CalendarError(Exception):
    """A calendar file that cannot be used: `diagnostics` say where and why."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
        self.diagnostics = diagnostics
        self.sources = sources
        super().__init__(diagnostics[0].message)


@dataclass(frozen=True)
class Calendar:
    """The weekdays assembly works (0 Monday .. 6 Sunday) and the holidays it does not."""

    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = field(default_factory=frozenset)

    def working(self, day: date) -> bool:
        """Whether assembly happens on `day` (a working weekday, not a holiday)."""
        return day.weekday() in self.weekdays and day not in self.holidays

    def on_or_after(self, day: date) -> date:
        """The first working day on or after `day`."""
        while not self.working(day):
            day += timedelta(days=1)
        return day

    def on_or_before(self, day: date) -> date:
        """The last working day on or before `day`."""
        while not self.working(day):
            day -= timedelta(days=1)
        return day

    def shifted(self, day: date, days: int) -> date:
        """The working day `days` working days after a working day (before, when
        negative)."""
        step = timedelta(days=1 if days >= 0 else -1)
        for _ in range(abs(days)):
            day += step
            while not self.working(day):
                day += step
        return day

    def between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.working(day)
        return count


def assembly_days(minutes: int, per_day: int) -> int:
    """Working days `minutes` of assembly span at `per_day` minutes a day (at least one,
    the day the parts are there, even for no minutes)."""
    if per_day <= 0 or minutes <= 0:
        return 1
    return -(-minutes // per_day)


def read_calendar(path: str | Path) -> Calendar:
    """A calendar file (TOML): `weekdays = ["mon", ..., "fri"]` and `holidays =
    [2026-12-25, ...]`, both optional. Raises CalendarError naming the line."""
    source = read_source(Path(path))
    if isinstance(source, str):
        raise CalendarError([error("E0001", f"cannot read {path}: {source}", None)], {})
    sources = {source.name: source}
    hint = 'write weekdays = ["mon", "tue", "wed", "thu", "fri"] and holidays = [2026-12-25]'
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+), column (\d+)", str(exc))
        line, col = (int(found[1]), int(found[2])) if found else (1, 1)
        span = _at(source, line, col)
        message = f"not a calendar: {str(exc).split(' (at ')[0]}"
        raise CalendarError([error("E0811", message, span, hint=hint)], sources) from None
    problems: list[Diagnostic] = []

    def bad(message: str, about: str, fix: str = hint) -> None:
        problems.append(error("E0811", message, _find(source, about), hint=fix))

    for key in data:
        if key not in ("weekdays", "holidays"):
            bad(f"unknown key '{key}'", key)
    names = data.get("weekdays", list(WEEKDAYS[:5]))
    weekdays: set[int] = set()
    if not isinstance(names, list):
        bad("weekdays must be a list", "weekdays")
        names = []
    for name in names:
        if isinstance(name, str) and (name.lower() in WEEKDAYS or name.lower() in NAMES):
            weekdays.add(WEEKDAYS.index(name.lower()[:3]))
        else:
            bad(f"'{name}' is not a weekday", str(name), "the weekdays are mon, tue, ... sun")
    holidays = data.get("holidays", [])
    if not isinstance(holidays, list):
        holidays = [holidays]
    for day in holidays:
        if type(day) is not date:
            bad(f"holiday '{day}' is not a date", str(day), "write dates unquoted: 2026-12-25")
    if not problems and not weekdays:
        bad("no weekday is a working day", "weekdays")
    if problems:
        raise CalendarError(problems, sources)
    return Calendar(frozenset(weekdays), frozenset(d for d in holidays if type(d) is date))


def _at(source: SourceFile, line: int, col: int) -> Span:
    return Span(file=source.name, line=line, col=col, end_line=line, end_col=col + 1)


def _find(source: SourceFile, text: str) -> Span | None:
    """Where `text` first appears in the file (the value a problem is about)."""
    for number, line in enumerate(source.text.splitlines(), start=1):
        col = line.find(text)
        if col >= 0 and not line.lstrip().startswith("#"):
            return Span(
                file=source.name,
                line=number,
                col=col + 1,
                end_line=number,
                end_col=col + 1 + len(text),
            )
    return None
