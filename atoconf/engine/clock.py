"""One clock per operation: the deadline (and a cap on steps of work) that every
search, graph build and inner call of that operation looks at.

Seconds exist only at the API boundary (`Configuration`, `atoconf.plan`, the
command line), which makes one `Clock`; everything below takes that clock, so
defaults, search, explanations and their inner calls share one budget."""

from __future__ import annotations

import time
from typing import Literal

StopReason = Literal["deadline", "cap"]
# why an operation ended early; None when it did not
Stopped = StopReason | None


class Stop(Exception):
    """The work hit its deadline or its cap of steps."""

    def __init__(self, reason: StopReason) -> None:
        super().__init__(reason)
        self.reason: StopReason = reason


class Clock:
    """A deadline, and a cap on steps of work, that the search looks at while it runs."""

    __slots__ = ("calls", "cap", "deadline")

    def __init__(self, seconds: float | None = None, cap: int | None = None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.cap = cap
        self.calls = 0

    def capped(self, cap: int | None) -> Clock:
        """A clock with this one's deadline and its own cap of `cap` steps (no more
        than this clock has left, when it has a cap)."""
        if self.cap is not None:
            left = max(self.cap - self.calls, 0)
            cap = left if cap is None else min(cap, left)
        other = Clock(None, cap)
        other.deadline = self.deadline
        return other

    def tick(self) -> None:
        self.calls += 1
        if self.calls & 255 == 0:
            self.check()

    def spend(self, steps: int) -> None:
        """Count `steps` of work done at once (a pass over a graph's states)."""
        self.calls += steps
        self.check()

    def left(self) -> float | None:
        """Seconds to the deadline (None: no deadline); Stop when it has passed."""
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Stop("deadline")
        return left

    def check(self) -> None:
        if self.cap is not None and self.calls > self.cap:
            raise Stop("cap")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise Stop("deadline")
