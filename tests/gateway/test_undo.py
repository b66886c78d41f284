"""`revertChange` through GraphQL, in front of the real svc_tasks, svc_audit and svc_notify: a
change is named by its audit entry, undone as a new (audited, undoable) change, and refused
with a user error when it cannot be."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from svc_notify.service import SERVICE as NOTIFY
from tests.gateway.test_gateway_audit import _history, audit_service, client
from tests.support.gateway.gateway_harness import (
    DELETE,
    UPDATE,
    GatewayClient,
    create_task,
    new_user,
)
from tests.support.infra import RunningTasks, eventually, service_config
from todo_runtime import endpoints
from todo_runtime.runner import RunningService, start_service

__all__ = ["audit_service", "client"]  # fixtures, used by name

REVERT = """mutation($input: RevertChangeInput!) { revertChange(input: $input) {
  clientMutationId reverted deletedTaskId removedNextInstanceId
  task { id title seriesId version dueAt reminders { minutesBefore } }
  keptNextInstance { id }
  userErrors { field message code } } }"""


async def revert(client: GatewayClient, entry_id: str, **kwargs: Any) -> dict[str, Any]:
    data = await client.data(
        REVERT, {"input": {"auditEntryId": entry_id, "clientMutationId": "undo-1"}}, **kwargs
    )
    payload: dict[str, Any] = data["revertChange"]
    return payload


async def rename(client: GatewayClient, task_id: str, title: str) -> None:
    await client.data(UPDATE, {"input": {"id": task_id, "title": title}})


async def test_undo_a_title_change_and_undo_the_undo(client: GatewayClient) -> None:
    task = await create_task(client, title="Buy milk")
    await rename(client, task["id"], "Buy oat milk")
    _, renamed = await _history(client, task["id"], 2)

    undone = await revert(client, renamed["id"])
    assert undone["userErrors"] == []
    assert (undone["reverted"], undone["clientMutationId"]) == (True, "undo-1")
    assert undone["task"]["title"] == "Buy milk"

    *_, undo_entry = await _history(client, task["id"], 3)
    assert undo_entry["type"] == "todo.task.updated"
    assert undo_entry["actor"] == client.user
    assert {"field": "title", "before": "Buy oat milk", "after": "Buy milk"} in undo_entry[
        "changes"
    ]
    redone = await revert(client, undo_entry["id"])
    assert redone["task"]["title"] == "Buy oat milk"

    again = await revert(client, undo_entry["id"])  # a retry of the same undo
    assert (again["reverted"], again["userErrors"]) == (False, [])
    assert again["task"]["title"] == "Buy oat milk"


async def test_a_field_changed_since_refuses_with_the_field_named(client: GatewayClient) -> None:
    task = await create_task(client, title="One")
    await rename(client, task["id"], "Two")
    await rename(client, task["id"], "Three")
    _, first_rename, _ = await _history(client, task["id"], 3)
    refused = await revert(client, first_rename["id"])
    assert refused["task"] is None
    [error] = refused["userErrors"]
    assert error["code"] == "CHANGED_SINCE"
    assert error["field"] == ["input", "auditEntryId"]
    assert "title" in error["message"]


async def test_another_users_entry_is_not_found(client: GatewayClient) -> None:
    task = await create_task(client, title="Mine")
    await rename(client, task["id"], "Still mine")
    _, renamed = await _history(client, task["id"], 2)
    foreign = await revert(client, renamed["id"], user=new_user())
    assert [(e["code"], e["field"]) for e in foreign["userErrors"]] == [
        ("NOT_FOUND", ["input", "auditEntryId"])
    ]
    assert foreign["task"] is None
    nonsense = await revert(client, "not-an-entry")
    assert [e["code"] for e in nonsense["userErrors"]] == ["NOT_FOUND"]


@pytest.fixture
async def notify_service(
    tasks_service: RunningTasks, audit_service: RunningService
) -> AsyncIterator[RunningService]:
    config = service_config(
        endpoints.NOTIFY,
        tasks_service.config.database.url,
        tasks_service.config.kafka.bootstrap_servers,
    )
    service = await start_service(NOTIFY, config)
    try:
        yield service
    finally:
        await service.stop()


async def _scheduled(url: str, task_id: str) -> list[tuple[str, datetime]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT reminder_id, fire_at FROM notify.reminders "
            "WHERE task_id = $1 AND state = 'scheduled' ORDER BY fire_at",
            uuid.UUID(task_id),
        )
    finally:
        await conn.close()
    return [(row["reminder_id"], row["fire_at"]) for row in rows]


async def test_restore_a_deleted_task_with_its_future_reminder(
    client: GatewayClient, tasks_service: RunningTasks, notify_service: RunningService
) -> None:
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    task = await create_task(
        client,
        title="Dentist",
        dueAt=due.isoformat(),
        timeZone="UTC",
        recurrence="every month",
        remindMinutesBefore=[60],
    )
    service_id = await _service_task_id(tasks_service.config.database.url, "Dentist", client.user)
    url = tasks_service.config.database.url

    async def scheduled() -> bool:
        return bool(await _scheduled(url, service_id))

    await eventually(scheduled, 30.0)
    await client.data(DELETE, {"id": task["id"]})

    async def cancelled() -> bool:
        return not await _scheduled(url, service_id)

    await eventually(cancelled, 30.0)
    *_, deleted = await _history(client, task["id"], 2)
    assert deleted["type"] == "todo.task.deleted"

    restored = await revert(client, deleted["id"])
    assert restored["userErrors"] == []
    assert restored["task"]["id"] == task["id"]
    assert restored["task"]["seriesId"] == task["seriesId"]
    assert restored["task"]["reminders"] == [{"minutesBefore": 60}]
    await eventually(scheduled, 30.0)
    assert await _scheduled(url, service_id) == [("before-60", due - timedelta(hours=1))]

    *_, restore_entry = await _history(client, task["id"], 3)
    assert restore_entry["type"] == "todo.task.created"
    again = await revert(client, deleted["id"])  # back already: nothing more to do
    assert (again["reverted"], again["userErrors"]) == (False, [])


async def _service_task_id(url: str, title: str, owner: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        value = await conn.fetchval(
            "SELECT id FROM tasks.tasks WHERE owner_id = $1 AND title = $2", owner, title
        )
    finally:
        await conn.close()
    return str(value)
