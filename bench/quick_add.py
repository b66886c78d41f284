"""Quick add: how long `todo_quickadd.parse_quick_add` takes per line, p50/p99 over the golden
table's lines (tests/quickadd/table.py), pure CPU in this process (no service, no I/O).

The preview runs on every keystroke pause in the board, so its cost bounds how responsive the
highlighting can be; the recurrence lines cost most (each "every ..." is re-read by the
recurrence grammar for the longest phrase it accepts, then its first due is planned).
"""

from __future__ import annotations

import time

from bench.support import summary, write_results
from tests.quickadd.table import ROWS
from todo_quickadd import parse_quick_add

ROUNDS = 20  # every line this many times


async def main() -> None:
    for row in ROWS:  # warm the zone cache and the recurrence engine
        parse_quick_add(row.line, row.zone, row.now)
    samples: list[float] = []
    recurring: list[float] = []
    for _ in range(ROUNDS):
        for row in ROWS:
            started = time.perf_counter()
            parsed = parse_quick_add(row.line, row.zone, row.now)
            elapsed = (time.perf_counter() - started) * 1000
            samples.append(elapsed)
            if parsed.recurrence_rule is not None:
                recurring.append(elapsed)
    results = {
        "lines": len(ROWS),
        "rounds": ROUNDS,
        "all_lines": summary(samples),
        "lines_with_a_recurrence": summary(recurring),
    }
    path = write_results("quick_add", results)
    print(f"quick add over {len(ROWS)} lines x {ROUNDS}: {results} -> {path}")
