"""Task mutations and reads end to end against the real svc_tasks (and its Postgres, broker)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.support.gateway.gateway_harness import (
    COMPLETE,
    CREATE,
    DELETE,
    GET,
    LIST,
    REOPEN,
    UPDATE,
    GatewayClient,
    create_task,
    make_config,
    new_user,
    running_client,
    serving,
    token_for,
)
from tests.support.infra import RunningTasks


def _iso(value: datetime) -> str:
    return value.isoformat()


async def _titles(client: GatewayClient, **variables: Any) -> list[str]:
    data = await client.data(LIST, variables)
    return [edge["node"]["title"] for edge in data["tasks"]["edges"]]


async def test_create_and_read_back(gateway_client: GatewayClient) -> None:
    due = datetime(2030, 3, 1, 9, tzinfo=timezone(timedelta(hours=1)))
    created = await create_task(
        gateway_client,
        title="  Pay rent ",
        description="by transfer",
        priority="HIGH",
        tags=["Home", "money", "home"],
        dueAt=_iso(due),
        timeZone="Europe/Berlin",
        remindMinutesBefore=[60],
        remindAt=["2030-02-28T18:00:00Z"],
    )
    assert created["title"] == "Pay rent"
    assert (created["status"], created["priority"], created["version"]) == ("OPEN", "HIGH", 1)
    assert created["tags"] == ["home", "money"]
    assert datetime.fromisoformat(created["dueAt"]) == due
    assert created["dueAt"].endswith("+00:00")
    assert created["timeZone"] == "Europe/Berlin"
    assert created["recurrence"] is None
    assert created["seriesId"] is None
    assert created["completedAt"] is None
    assert [(r["minutesBefore"], r["at"]) for r in created["reminders"]] == [
        (60, None),
        (None, "2030-02-28T18:00:00+00:00"),
    ]
    fetched = await gateway_client.data(GET, {"id": created["id"]})
    assert fetched["task"] == created


async def test_request_id_makes_create_idempotent(gateway_client: GatewayClient) -> None:
    first = await create_task(gateway_client, title="once", requestId="req-42")
    again = await create_task(gateway_client, title="once", requestId="req-42")
    assert again["id"] == first["id"]
    data = await gateway_client.data(LIST, {})
    assert data["tasks"]["totalCount"] == 1


async def test_recurring_task_gets_a_normalized_rule(gateway_client: GatewayClient) -> None:
    task = await create_task(
        gateway_client,
        title="Standup",
        dueAt="2030-03-04T09:00:00+01:00",
        timeZone="Europe/Berlin",
        recurrence="every weekday at 9am",
    )
    assert task["recurrence"]["rule"].startswith("FREQ=")
    assert task["recurrence"]["basis"] == "SCHEDULE"
    assert task["seriesId"] is not None


async def test_stale_expected_version_is_a_conflict(gateway_client: GatewayClient) -> None:
    task = await create_task(gateway_client, title="v1")
    updated = await gateway_client.data(
        UPDATE, {"id": task["id"], "input": {"title": "v2"}, "version": 1}
    )
    assert (updated["updateTask"]["title"], updated["updateTask"]["version"]) == ("v2", 2)
    body = await gateway_client.execute(
        UPDATE, {"id": task["id"], "input": {"title": "v3"}, "version": 1}
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "CONFLICT"
    current = await gateway_client.data(GET, {"id": task["id"]})
    assert (current["task"]["title"], current["task"]["version"]) == ("v2", 2)


async def test_update_changes_only_what_is_given(gateway_client: GatewayClient) -> None:
    task = await create_task(
        gateway_client,
        title="t",
        description="keep me",
        tags=["a"],
        dueAt="2030-01-01T10:00:00Z",
        remindMinutesBefore=[5],
        remindAt=["2029-12-31T10:00:00Z"],
    )
    data = await gateway_client.data(
        UPDATE,
        {
            "id": task["id"],
            "input": {"title": "renamed", "description": None, "remindMinutesBefore": [30]},
        },
    )
    updated = data["updateTask"]
    assert (updated["title"], updated["description"], updated["tags"]) == (
        "renamed",
        "keep me",
        ["a"],
    )
    assert updated["dueAt"] == "2030-01-01T10:00:00+00:00"
    # Only relative reminders were given: the absolute one is dropped (documented).
    assert [(r["minutesBefore"], r["at"]) for r in updated["reminders"]] == [(30, None)]
    cleared = await gateway_client.data(
        UPDATE,
        {"id": task["id"], "input": {"clearDueAt": True, "remindMinutesBefore": [], "tags": []}},
    )
    assert cleared["updateTask"]["dueAt"] is None
    assert cleared["updateTask"]["reminders"] == []
    assert cleared["updateTask"]["tags"] == []


async def test_complete_reopen_delete(gateway_client: GatewayClient) -> None:
    task = await create_task(gateway_client, title="chore")
    done = (await gateway_client.data(COMPLETE, {"id": task["id"]}))["completeTask"]
    assert done["status"] == "COMPLETED"
    assert done["completedAt"] is not None
    reopened = (await gateway_client.data(REOPEN, {"id": task["id"]}))["reopenTask"]
    assert (reopened["status"], reopened["completedAt"]) == ("OPEN", None)
    assert (await gateway_client.data(DELETE, {"id": task["id"]}))["deleteTask"] == task["id"]
    gone = await gateway_client.execute(GET, {"id": task["id"]})
    assert gone["data"] == {"task": None}
    assert gone["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


@pytest.mark.parametrize(
    ("fields", "field_name", "fragment"),
    [
        ({"title": "   "}, "title", "title"),
        ({"tags": [f"t{index}" for index in range(21)]}, "input.tags", "at most 20"),
        ({"timeZone": "Mars/Olympus_Mons"}, "timeZone", "time_zone"),
        ({"remindMinutesBefore": [10]}, "reminders[0].minutesBefore", "minutes_before"),
    ],
    ids=["empty-title", "21-tags", "bad-time-zone", "reminder-without-due"],
)
async def test_validation_errors_name_the_field(
    gateway_client: GatewayClient, fields: dict[str, Any], field_name: str, fragment: str
) -> None:
    body = await gateway_client.execute(CREATE, {"input": {"title": "x", **fields}})
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field_name}
    assert fragment in error["message"]


async def test_datetime_without_offset_is_bad_input(gateway_client: GatewayClient) -> None:
    body = await gateway_client.execute(
        CREATE, {"input": {"title": "x", "dueAt": "2030-01-01T10:00:00"}}
    )
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "dueAt" in error["message"]
    assert (await gateway_client.data(LIST, {}))["tasks"]["totalCount"] == 0


async def test_other_users_tasks_are_invisible(gateway_client: GatewayClient) -> None:
    alice, bob = new_user(), new_user()
    task = await create_task(gateway_client, user=alice, title="alice's secret")
    missing = str(uuid.uuid4())
    for document in (GET, COMPLETE, REOPEN, DELETE):
        for task_id in (task["id"], missing):
            body = await gateway_client.execute(document, {"id": task_id}, user=bob)
            [error] = body["errors"]
            assert error["extensions"] == {"code": "NOT_FOUND"}, document
            assert error["message"].replace(task_id, "<id>") == "no object with id '<id>'"
            assert body["data"] in (None, {"task": None})
    for task_id in (task["id"], missing):
        body = await gateway_client.execute(
            UPDATE, {"id": task_id, "input": {"title": "mine"}}, user=bob
        )
        assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
    listing = await gateway_client.data(LIST, {"filter": {"search": "secret"}}, user=bob)
    assert listing["tasks"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "totalCount": 0,
    }
    assert (await gateway_client.data(LIST, {}, user=bob))["tasks"]["totalCount"] == 0
    # Nothing bob tried changed alice's task.
    untouched = (await gateway_client.data(GET, {"id": task["id"]}, user=alice))["task"]
    assert (untouched["title"], untouched["status"], untouched["version"]) == (
        "alice's secret",
        "OPEN",
        1,
    )


async def test_readyz_is_200_with_svc_tasks_serving(gateway_client: GatewayClient) -> None:
    response = await gateway_client.http.get("/readyz")
    assert response.status_code == 200


async def test_websocket_operations_use_the_connection_user(tasks_service: RunningTasks) -> None:
    user = new_user()
    config = make_config(tasks_service.address, internal_secret=tasks_service.secret)
    async with running_client(config) as client:
        await create_task(client, user=user, title="mine")
    async with (
        serving(config) as url,
        connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws,
    ):
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {token_for(user)}"},
                }
            )
        )
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "{ tasks { totalCount edges { node { title } } } }"},
                }
            )
        )
        result = json.loads(await ws.recv())
        assert result["payload"]["data"] == {
            "tasks": {"totalCount": 1, "edges": [{"node": {"title": "mine"}}]}
        }
