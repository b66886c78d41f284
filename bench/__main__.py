"""`python -m bench` (`nox -s bench`): runs every benchmark; JSON results go to bench/results/."""

from __future__ import annotations

import asyncio
import sys

from bench import hostile_recurrence, list_tasks, load, next_instance, reminder_burst

BENCHMARKS = {
    "list_tasks": list_tasks,
    "next_instance": next_instance,
    "hostile_recurrence": hostile_recurrence,
    "reminder_burst": reminder_burst,
    "load": load,
}

# `nox -s bench -- NAME...` runs only those.
for name in sys.argv[1:] or BENCHMARKS:
    asyncio.run(BENCHMARKS[name].main())
