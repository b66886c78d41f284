"""What a failed fault run prints to explain itself: the parts' last warnings and errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.faults import report


def _line(level: str, message: str) -> str:
    return json.dumps({"time": "2026-12-07T20:10:16+00:00", "level": level, "message": message})


def test_a_failed_run_shows_each_parts_last_warnings_and_errors(tmp_path: Path) -> None:
    (tmp_path / "audit-1.log").write_text(
        "\n".join(
            [
                _line("INFO", "svc_audit serving"),
                *(_line("WARNING", f"retrying {n}") for n in range(40)),
                _line("ERROR", "sequencer stopped"),
            ]
        )
    )
    (tmp_path / "broker.log").write_text("plain text the broker wrote\n")
    shown = report.warnings(tmp_path).splitlines()
    assert shown[0] == "audit-1.log: 41 warnings and errors, the last 30:"
    assert shown[1].endswith('"retrying 11"}')
    assert shown[30].endswith('"sequencer stopped"}')
    assert shown[31:] == ["broker.log: 0 warnings and errors, the last 30:"]
    assert not any("serving" in line for line in shown)
