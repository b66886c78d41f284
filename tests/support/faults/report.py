"""The fault suite's table: formatted in the test, carried to pytest's terminal summary.

The test runs in an xdist worker whose output nobody sees, so it attaches the
table to its report as a user property (xdist sends those to the controller),
and `print_tables`, called from the root conftest's `pytest_terminal_summary`,
prints it whatever `-r`/`-q` options the run has.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

if TYPE_CHECKING:  # the root conftest imports this module: keep its imports light
    from tests.support.faults.campaign import Row

PROPERTY: Final = "fault table"
DETAILS_SHOWN: Final = 5
WARNINGS_SHOWN: Final = 30  # per log, when a row lost or duplicated something
_WARNING_LEVELS: Final = ('"level": "WARNING"', '"level": "ERROR"', '"level": "CRITICAL"')


def table(rows: list[Row], title: str) -> str:
    header = f"{'fault':<40} {'ops during':>10} {'recovery s':>10} {'lost':>5} {'duplicated':>10}"
    lines = [title, header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.fault:<40} {row.operations:>10} {row.recovery:>10.1f} "
            f"{len(row.lost):>5} {len(row.duplicated):>10}"
        )
        lines.extend(f"    lost: {item}" for item in row.lost[:DETAILS_SHOWN])
        lines.extend(f"    duplicated: {item}" for item in row.duplicated[:DETAILS_SHOWN])
    if rows:
        notes = ", ".join(f"{key} {value}" for key, value in sorted(rows[-1].notes.items()))
        lines.append(f"at the end: {notes}")
    return "\n".join(lines)


def warnings(logs: Path) -> str:
    """The last warnings and errors of every part's log in `logs`: what a failed run leaves to
    explain it once its temporary directory is gone (CI keeps only the output)."""
    lines: list[str] = []
    for log in sorted(logs.glob("*.log")):
        found = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if any(level in line for level in _WARNING_LEVELS)
        ]
        lines.append(f"{log.name}: {len(found)} warnings and errors, the last {WARNINGS_SHOWN}:")
        lines.extend(f"    {line}" for line in found[-WARNINGS_SHOWN:])
    return "\n".join(lines)


def print_tables(reporter: pytest.TerminalReporter) -> None:
    """Prints every fault table the run's reports carry."""
    for reports in reporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == PROPERTY and getattr(report, "when", "call") == "call":
                    reporter.write_sep("=", "fault injection")
                    reporter.write_line(str(value))
