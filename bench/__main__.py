"""`python -m bench` (`nox -s bench`): runs every benchmark; JSON results go to bench/results/."""

from __future__ import annotations

import asyncio
import sys

from bench import (
    audit_log,
    calendar_feed,
    hostile_recurrence,
    list_tasks,
    live_latency,
    load,
    next_instance,
    profile,
    propagation,
    quick_add,
    reminder_burst,
)

BENCHMARKS = {
    "list_tasks": list_tasks,
    "next_instance": next_instance,
    "hostile_recurrence": hostile_recurrence,
    "reminder_burst": reminder_burst,
    "audit_log": audit_log,
    "calendar_feed": calendar_feed,
    "quick_add": quick_add,
    "propagation": propagation,
    "live_latency": live_latency,
    "load": load,  # last two: they need wrk, and stop the run where it is missing
    "profile": profile,  # and py-spy
}

# `nox -s bench -- NAME...` runs only those.
for name in sys.argv[1:] or BENCHMARKS:
    asyncio.run(BENCHMARKS[name].main())
