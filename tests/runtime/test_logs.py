"""Log lines: JSON objects (or text) with the request's correlation id and the event handled."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# A process that logs as a service does: plain, under a request, about an event, with a traceback.
SCRIPT = """
import logging
from todo_runtime import request_context
from todo_runtime.logs import configure_logging

configure_logging("svc_probe")
log = logging.getLogger("svc_probe.work")
log.info("plain %s", "line")
with request_context.bound("req-42"):
    log.warning("under a request")
with request_context.handling([("x-request-id", "req-7")], event_id="e-1", topic="task-events"):
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("about an event")
logging.getLogger("svc_probe.chatter").debug("hidden at INFO")
"""


def run_probe(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TODO_LOG")}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_json_is_the_default_one_object_per_line() -> None:
    probe = run_probe()
    assert probe.returncode == 0, probe.stderr
    lines = [json.loads(line) for line in probe.stderr.splitlines()]
    assert [line["message"] for line in lines] == [
        "plain line",
        "under a request",
        "about an event",
    ]
    plain, requested, handled = lines
    for line in lines:
        assert line["component"] == "svc_probe"
        assert line["time"].endswith("+00:00")
    assert plain["level"] == "INFO"
    assert plain["logger"] == "svc_probe.work"
    assert "correlation_id" not in plain
    assert "exception" not in plain
    assert requested["level"] == "WARNING"
    assert requested["correlation_id"] == "req-42"
    assert "event_id" not in requested
    assert handled["level"] == "ERROR"
    assert handled["correlation_id"] == "req-7"
    assert handled["event_id"] == "e-1"
    assert handled["topic"] == "task-events"
    assert handled["exception"].startswith("Traceback")
    assert "ValueError: boom" in handled["exception"]


def test_text_for_people_with_the_ids_in_brackets() -> None:
    probe = run_probe(TODO_LOG_FORMAT="text", TODO_LOG_LEVEL="debug")
    assert probe.returncode == 0, probe.stderr
    lines = probe.stderr.splitlines()
    assert " INFO svc_probe svc_probe.work: plain line" in lines[0]
    assert " WARNING svc_probe svc_probe.work [req-42]: under a request" in lines[1]
    assert " ERROR svc_probe svc_probe.work [req-7 e-1]: about an event" in lines[2]
    assert lines[3] == "Traceback (most recent call last):"
    assert "hidden at INFO" in probe.stderr  # DEBUG is on


@pytest.mark.parametrize("value", ["xml", "JSONL"])
def test_an_unknown_format_fails_naming_the_variable(value: str) -> None:
    probe = run_probe(TODO_LOG_FORMAT=value)
    assert probe.returncode != 0
    assert "TODO_LOG_FORMAT must be json or text" in probe.stderr
