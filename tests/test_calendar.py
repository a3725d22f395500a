"""Working days: the calendar's arithmetic, its file, and plans dated by it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoconf.planning.calendar import Calendar, CalendarError, assembly_days, read_calendar
from tests.conftest import CATALOGS, cli

PC = str(CATALOGS / "pc" / "workstation.ato")
STOCK = str(CATALOGS / "pc" / "stock.csv")
CHRISTMAS = Calendar(holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))


def test_weekdays_and_holidays() -> None:
    friday, monday = date(2026, 12, 4), date(2026, 12, 7)
    assert Calendar().on_or_after(date(2026, 12, 5)) == monday  # a Saturday
    assert Calendar().on_or_before(date(2026, 12, 6)) == friday  # a Sunday
    assert Calendar().shifted(friday, 1) == monday and Calendar().shifted(monday, -1) == friday
    assert CHRISTMAS.on_or_after(date(2026, 12, 24)) == date(2026, 12, 28)
    assert CHRISTMAS.shifted(date(2026, 12, 23), 1) == date(2026, 12, 28)
    # working days after a day, up to and including another
    assert Calendar().between(friday, monday) == 1
    assert Calendar().between(monday, friday) == 0
    assert CHRISTMAS.between(date(2026, 12, 23), date(2026, 12, 28)) == 1
    assert [assembly_days(m, 480) for m in (0, 1, 480, 481, 960)] == [1, 1, 1, 2, 2]


@given(
    st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    st.frozensets(st.integers(0, 6), min_size=1),
)
def test_between_counts_the_working_days(start: date, end: date, weekdays: frozenset[int]) -> None:
    calendar = Calendar(weekdays, frozenset({date(2026, 12, 25), date(2027, 1, 1)}))
    days = [start + timedelta(days=n) for n in range(1, (end - start).days + 1)]
    assert calendar.between(start, end) == sum(calendar.working(d) for d in days)
    first = calendar.on_or_after(start)
    assert calendar.working(first) and not any(
        calendar.working(start + timedelta(days=n)) for n in range((first - start).days)
    )
    assert (
        calendar.shifted(first, 3) > first
        and calendar.between(first, calendar.shifted(first, 3)) == 3
    )


def test_a_calendar_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(
        'weekdays = ["mon", "tue", "wed", "thu", "fri", "sat"]\nholidays = [2026-12-25]\n'
    )
    calendar = read_calendar(path)
    assert calendar.weekdays == frozenset(range(6))
    assert calendar.holidays == frozenset({date(2026, 12, 25)})
    path.write_text("weekdays = [\n")
    with pytest.raises(CalendarError) as bad:
        read_calendar(path)
    assert bad.value.diagnostics[0].code == "E0811"
    assert bad.value.diagnostics[0].span is not None


def test_a_late_order_and_a_calendar_on_the_command_line(tmp_path: Path) -> None:
    """A 5090 with 12 days of lead is promised after its due date: late by the working
    days between, counted on the shop's calendar (Saturdays worked, a holiday off)."""
    orders = tmp_path / "orders.jsonl"
    request = {"select": {"usage": "gaming", "gpu": "GPU-5090"}}
    orders.write_text(json.dumps({"order_id": "L-1", "due": "2026-12-01", "request": request}))
    args = ("plan", PC, "--stock", STOCK, "--orders", str(orders), "--today", "2026-11-26")
    ran = cli(*args, "-f", "json", in_process=True)
    (order,) = json.loads(ran.stdout)["orders"]
    # parts on Tuesday 8 December; due Tuesday 1 December: 5 weekdays late
    assert order["promise_date"] == "2026-12-08" and order["late_days"] == 5
    text = cli(*args, in_process=True).stdout
    assert "Order L-1: SHORT, due 2026-12-01 -- LATE by 5 working days" in text
    assert "1 order: 0 buildable now, 1 short, 0 impossible; 1 late" in text
    calendar = tmp_path / "calendar.toml"
    calendar.write_text(
        'weekdays = ["mon", "tue", "wed", "thu", "fri", "sat"]\nholidays = [2026-12-07]\n'
    )
    ran = cli(*args, "--calendar", str(calendar), "-f", "json", in_process=True)
    (order,) = json.loads(ran.stdout)["orders"]
    # Wednesday 2 to Tuesday 8 December, Saturday worked, Monday 7 off: 5 days
    assert order["promise_date"] == "2026-12-08" and order["late_days"] == 5
    calendar.write_text('weekdays = ["mon"]\n')
    ran = cli(*args, "--calendar", str(calendar), "-f", "json", in_process=True)
    (order,) = json.loads(ran.stdout)["orders"]
    assert order["promise_date"] == "2026-12-14"  # the next Monday
    assert order["late_days"] == 2  # Mondays 7 and 14 December
    calendar.write_text('weekdays = ["someday"]\n')
    ran = cli(*args, "--calendar", str(calendar), in_process=True)
    assert ran.returncode == 2 and "calendar.toml:1:" in ran.stderr and "E0811" in ran.stderr
