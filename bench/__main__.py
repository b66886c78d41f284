"""`python -m bench` (`nox -s bench`): runs every benchmark; JSON results go to bench/results/."""

from __future__ import annotations

import asyncio

from bench import list_tasks, next_instance

for benchmark in (list_tasks, next_instance):
    asyncio.run(benchmark.main())
