"""How much work one engine call may do, so a hostile rule cannot stall a service.

Some valid rules match so rarely (or, past the cheap emptiness checks, never)
that expanding them walks centuries, and some have so many instances that
walking them takes long. Every public call therefore runs under a `Budget`:
a cap on the periods examined (deterministic: the same rule gives up at the
same point on any machine) and a deadline in CPU time of the calling thread
(the backstop on a slow machine). CPU time, not wall time: a machine busy with
other work must not refuse a rule that an idle one accepts, and the time a
service can lose to one rule is the CPU it spends on it. Running out raises
`RecurrenceTooExpensive`.

The budget is a context variable so services can set it per request without
threading it through every signature; `time.thread_time()` here is the
engine's only clock read, and it never decides a result, only whether to give
up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .model import RecurrenceTooExpensive

RARE = "no occurrence found within the search budget: the rule matches too rarely (or never)"
CROWDED = "too many occurrences to go through within the search budget: the rule matches too often"


@dataclass(frozen=True)
class Budget:
    """Limits for one engine call (`first_due`, `occurrences`, `next_instance`, `plan_series`).

    `seconds`: CPU time (of the calling thread) the call may take. `max_periods`: periods it
    may examine: FREQ periods handed to dateutil, counted in INTERVAL steps
    (a minute of a minutely rule, a year of a yearly one), plus one per day
    or month that a daily or sub-daily rule's day parts skip.
    """

    seconds: float
    max_periods: int


# 0.25 s is far above any normal rule (the golden tables take about a
# millisecond per call) and short enough not to hold a request hostage. A
# million periods is two years of minutes walked one by one, or centuries of
# skipped days: normal rules stay far below it (the search gives up after 100
# empty years anyway); it binds when a caller raises the deadline.
DEFAULT_BUDGET = Budget(seconds=0.25, max_periods=1_000_000)

_budget: ContextVar[Budget] = ContextVar("todo_recurrence_budget", default=DEFAULT_BUDGET)


class Meter:
    """What one engine call has spent of its budget; raises once it is exceeded."""

    def __init__(self, budget: Budget, shown: str) -> None:
        """`shown` is the rule text named in the error (what the user wrote, if known)."""
        self.shown = shown
        self.deadline = time.thread_time() + budget.seconds
        self.periods_left = budget.max_periods
        self.spends = 0
        self.candidates = 0

    def spend(self, periods: int) -> None:
        """Take `periods` off the cap (before examining them), then check the deadline."""
        self.spends += 1
        self.periods_left -= periods
        if self.periods_left < 0:
            self._give_up()
        self.check()

    def candidate(self) -> None:
        """Count one candidate date, then check the deadline."""
        self.candidates += 1
        self.check()

    def check(self) -> None:
        """Raise if the deadline has passed."""
        if time.thread_time() > self.deadline:
            self._give_up()

    def _give_up(self) -> None:
        # More spends than candidates: the time went into searching, not into dates.
        reason = CROWDED if self.candidates > self.spends else RARE
        raise RecurrenceTooExpensive(self.shown, reason)


_meter: ContextVar[Meter | None] = ContextVar("todo_recurrence_meter", default=None)


@contextmanager
def spending(budget: Budget) -> Iterator[Budget]:
    """Run the engine calls inside the block under `budget` instead of `DEFAULT_BUDGET`.

    Each call gets the whole budget: it is a per-call limit, not a shared pot.
    """
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


@contextmanager
def metered(shown: str) -> Iterator[Meter]:
    """Start a meter for a public call; calls made inside it share the outer call's meter.

    So `plan_series` (which runs several searches) has one deadline, and its
    errors name the user's text rather than the canonical rule.
    """
    active = _meter.get()
    if active is not None:
        yield active
        return
    meter = Meter(_budget.get(), shown)
    token = _meter.set(meter)
    try:
        yield meter
    finally:
        _meter.reset(token)


def active_meter(shown: Callable[[], str]) -> Meter:
    """The running call's meter, or a fresh one (naming `shown()`) outside a public call."""
    return _meter.get() or Meter(_budget.get(), shown())
