"""One correlation id follows a mutation through `todo up`'s processes: the gateway's log line,
gRPC, the outbox, Kafka, every consumer's log line, and what a consumer causes in turn."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.stack_harness import Stack, stack_environment, token

# It starts the platform's own processes (or real JavaScript clients) itself.
pytestmark = pytest.mark.integration

COMPONENTS = ("gateway", "tasks", "notify", "recur", "audit", "live")
CREATE = """mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id } userErrors { message } }
}"""
COMPLETE = """mutation($id: ID!) { completeTask(input: {id: $id}) { task { id } userErrors { message } } }"""


def post(env: dict[str, str], bearer: str, request_id: str, query: str, **variables: Any) -> str:
    """Sends a GraphQL operation with `X-Request-Id: request_id`; returns the response's id."""
    response = httpx.post(
        f"http://127.0.0.1:{env['TODO_GATEWAY_PORT']}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {bearer}", "X-Request-Id": request_id},
        timeout=10,
    )
    body = response.json()
    assert "errors" not in body, response.text
    payloads = [value for value in body["data"].values() if "userErrors" in value]
    assert all(payload["userErrors"] == [] for payload in payloads), response.text
    return response.headers["x-request-id"]


def log_lines(data: Path, component: str) -> list[dict[str, Any]]:
    """Every line `component` logged so far, each of which must be a JSON object."""
    path = data / "logs" / f"{component}.log"
    text = path.read_text() if path.exists() else ""
    return [json.loads(line) for line in text.splitlines() if line]


def wait_for_line(
    data: Path, component: str, wanted: Callable[[dict[str, Any]], bool], within: float = 60.0
) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        found = [line for line in log_lines(data, component) if wanted(line)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no such line in {component}.log"
        time.sleep(0.2)


def applied(
    correlation: str, event_type: str, topic: str = "task-events"
) -> Callable[[dict[str, Any]], bool]:
    """A consumer's line saying it applied an event of `event_type` for request `correlation`."""

    def matches(line: dict[str, Any]) -> bool:
        return (
            line.get("correlation_id") == correlation
            and line["message"].endswith(f"applied {event_type}")
            and line.get("topic") == topic
        )

    return matches


def test_one_id_from_the_gateway_to_every_consumer_and_beyond(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = stack_environment(data) | {"TODO_LOG_FORMAT": "json", "TODO_LOG_LEVEL": "DEBUG"}
    stack = Stack(env)
    try:
        stack.wait_for("todo stack ready")
        alice = token(env, "alice")
        created_id = f"create-{uuid.uuid4().hex}"
        task_input: dict[str, Any] = {"title": "water plants", "dueAt": "2030-01-01T09:00:00Z"}
        # Soon, but after svc_notify scheduled it: a reminder already past never fires.
        remind_at = datetime.now(UTC) + timedelta(seconds=5)
        task_input |= {"timeZone": "UTC", "recurrence": "every day"}
        task_input |= {"remindAt": [remind_at.isoformat()]}
        assert post(env, alice, created_id, CREATE, input=task_input) == created_id
        for consumer in ("audit", "notify", "recur"):
            line = wait_for_line(data, consumer, applied(created_id, "todo.task.created"))
            assert line["event_id"]
        wait_for_line(  # its access log line
            data,
            "gateway",
            lambda line: (
                line.get("correlation_id") == created_id and "POST /graphql" in line["message"]
            ),
        )

        # The reminder fires later, for no request: its event still carries the creation's id.
        wait_for_line(data, "audit", applied(created_id, "todo.reminder.fired", "reminders"))

        # Completing it makes svc_recur create the next instance over gRPC: that instance's
        # event carries the completion's id to the other consumers.
        completed_id = f"complete-{uuid.uuid4().hex}"
        listed = httpx.post(
            f"http://127.0.0.1:{env['TODO_GATEWAY_PORT']}/graphql",
            json={"query": "{ tasks { edges { node { id } } } }"},
            headers={"Authorization": f"Bearer {alice}"},
            timeout=10,
        ).json()
        [edge] = listed["data"]["tasks"]["edges"]
        post(env, alice, completed_id, COMPLETE, id=edge["node"]["id"])
        wait_for_line(data, "recur", applied(completed_id, "todo.task.completed"))
        wait_for_line(data, "audit", applied(completed_id, "todo.task.created"))

        # A malformed or oversized id is replaced, never echoed.
        for bad in ("has space", "x" * 129, 'quote"d'):
            replaced = post(env, alice, bad, "{ tasks { totalCount } }")
            assert replaced != bad
            assert len(replaced) == 32
            assert all(char in "0123456789abcdef" for char in replaced)
    finally:
        stack.stop()
    for component in COMPONENTS:  # every line of every component parsed as JSON
        assert log_lines(data, component), component
