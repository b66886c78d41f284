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
    changed,
    create_task,
    make_config,
    new_user,
    running_client,
    serving,
    token_for,
)
from tests.support.infra import RunningTasks
from todo_runtime.global_ids import global_id


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


async def test_a_stale_expected_version_is_refused_with_the_current_task(
    gateway_client: GatewayClient,
) -> None:
    task = await create_task(gateway_client, title="v1")
    data = await gateway_client.data(
        UPDATE, {"input": {"id": task["id"], "title": "v2", "expectedVersion": 1}}
    )
    updated = changed(data, "updateTask", "task")
    assert (updated["title"], updated["version"]) == ("v2", 2)
    stale = await gateway_client.data(
        UPDATE, {"input": {"id": task["id"], "title": "v3", "expectedVersion": 1}}
    )
    [error] = stale["updateTask"]["userErrors"]
    assert (error["code"], error["field"]) == ("STALE_VERSION", ["input", "expectedVersion"])
    assert "version 2" in error["message"]
    # What to apply the change to: the task as it is now.
    assert stale["updateTask"]["task"] == updated
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
            "input": {
                "id": task["id"],
                "title": "renamed",
                "description": None,
                "remindMinutesBefore": [30],
            }
        },
    )
    updated = changed(data, "updateTask", "task")
    assert (updated["title"], updated["description"], updated["tags"]) == (
        "renamed",
        "keep me",
        ["a"],
    )
    assert updated["dueAt"] == "2030-01-01T10:00:00+00:00"
    # Only relative reminders were given: the absolute one is dropped (documented).
    assert [(r["minutesBefore"], r["at"]) for r in updated["reminders"]] == [(30, None)]
    data = await gateway_client.data(
        UPDATE,
        {"input": {"id": task["id"], "clearDueAt": True, "remindMinutesBefore": [], "tags": []}},
    )
    cleared = changed(data, "updateTask", "task")
    assert (cleared["dueAt"], cleared["reminders"], cleared["tags"]) == (None, [], [])


async def test_complete_reopen_delete(gateway_client: GatewayClient) -> None:
    task = await create_task(gateway_client, title="chore")
    done = changed(await gateway_client.data(COMPLETE, {"id": task["id"]}), "completeTask", "task")
    assert done["status"] == "COMPLETED"
    assert done["completedAt"] is not None
    data = await gateway_client.data(REOPEN, {"id": task["id"]})
    reopened = changed(data, "reopenTask", "task")
    assert (reopened["status"], reopened["completedAt"]) == ("OPEN", None)
    data = await gateway_client.data(DELETE, {"id": task["id"]})
    assert changed(data, "deleteTask", "deletedTaskId") == task["id"]
    gone = await gateway_client.execute(GET, {"id": task["id"]})
    assert gone["data"] == {"task": None}
    assert gone["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"title": "   "}, ["input", "title"], "empty"),
        ({"tags": ["home", " "]}, ["input", "tags", "1"], "empty"),
        ({"timeZone": "Mars/Olympus_Mons"}, ["input", "timeZone"], "zone"),
        ({"remindMinutesBefore": [10]}, ["input", "remindMinutesBefore", "0"], "due time"),
        (
            {
                "dueAt": "2030-01-01T10:00:00Z",
                "remindMinutesBefore": [5, -1],
                "remindAt": ["2031-01-01T00:00:00Z"],
            },
            ["input", "remindMinutesBefore", "1"],
            "0..",
        ),
    ],
    ids=["empty-title", "empty-tag", "bad-time-zone", "reminder-without-due", "second-reminder"],
)
async def test_a_refused_field_is_a_user_error_bound_to_it(
    gateway_client: GatewayClient, fields: dict[str, Any], field: list[str], fragment: str
) -> None:
    body = await gateway_client.execute(CREATE, {"input": {"title": "x", **fields}})
    assert "errors" not in body
    [error] = body["data"]["createTask"]["userErrors"]
    assert (error["field"], error["code"]) == (field, "INVALID")
    assert fragment in error["message"]
    assert body["data"]["createTask"]["task"] is None


async def test_every_wrong_field_is_named_at_once(gateway_client: GatewayClient) -> None:
    wrong = {"title": "x" * 501, "tags": ["home", ""], "recurrence": "every blursday"}
    data = await gateway_client.data(CREATE, {"input": wrong})
    errors = data["createTask"]["userErrors"]
    assert sorted(tuple(error["field"]) for error in errors) == [
        ("input", "recurrence"),
        ("input", "tags", "1"),
        ("input", "title"),
    ]
    assert {error["code"] for error in errors} == {"INVALID"}
    assert (await gateway_client.data(LIST, {}))["tasks"]["totalCount"] == 0


async def test_the_gateway_names_its_own_refusals_at_once(gateway_client: GatewayClient) -> None:
    task = await create_task(gateway_client, title="t")
    data = await gateway_client.data(
        UPDATE,
        {
            "input": {
                "id": task["id"],
                "dueAt": "2030-01-01T10:00:00Z",
                "clearDueAt": True,
                "recurrence": "daily",
                "clearRecurrence": True,
            }
        },
    )
    errors = data["updateTask"]["userErrors"]
    assert [(error["field"], error["code"]) for error in errors] == [
        (["input", "clearDueAt"], "INVALID"),
        (["input", "clearRecurrence"], "INVALID"),
    ]
    nothing = await gateway_client.data(UPDATE, {"input": {"id": task["id"]}})
    [error] = nothing["updateTask"]["userErrors"]
    assert (error["field"], error["message"]) == (["input"], "give at least one field to change")


async def test_client_mutation_id_is_echoed_whatever_the_answer(
    gateway_client: GatewayClient,
) -> None:
    document = """mutation($input: CreateTaskInput!) {
      createTask(input: $input) { clientMutationId task { title } userErrors { code } }
    }"""
    ok = await gateway_client.data(document, {"input": {"title": "t", "clientMutationId": "a1"}})
    assert ok["createTask"] == {"clientMutationId": "a1", "task": {"title": "t"}, "userErrors": []}
    refused = await gateway_client.data(
        document, {"input": {"title": " ", "clientMutationId": "a2"}}
    )
    assert refused["createTask"] == {
        "clientMutationId": "a2",
        "task": None,
        "userErrors": [{"code": "INVALID"}],
    }
    silent = await gateway_client.data(document, {"input": {"title": "u"}})
    assert silent["createTask"]["clientMutationId"] is None


async def test_one_refused_mutation_does_not_hide_another_ones_result(
    gateway_client: GatewayClient,
) -> None:
    document = """mutation($missing: ID!) {
      first: createTask(input: {title: "kept"}) { task { id title } userErrors { code } }
      second: completeTask(input: {id: $missing}) { task { id } userErrors { field code } }
      third: createTask(input: {title: "also kept"}) { task { title } userErrors { code } }
    }"""
    missing = (await create_task(gateway_client, title="gone"))["id"]
    await gateway_client.data(DELETE, {"id": missing})
    body = await gateway_client.execute(document, {"missing": missing})
    assert "errors" not in body
    data = body["data"]
    assert data["first"]["task"]["title"] == "kept"
    assert data["second"] == {
        "task": None,
        "userErrors": [{"field": ["input", "id"], "code": "NOT_FOUND"}],
    }
    assert data["third"]["task"]["title"] == "also kept"
    fetched = await gateway_client.data(GET, {"id": data["first"]["task"]["id"]})
    assert fetched["task"]["title"] == "kept"


async def test_a_top_level_error_nulls_only_its_own_payload(
    gateway_client: GatewayClient,
) -> None:
    """What is not about the input stays a top-level error: here svc_notify, which this
    gateway's config points at a port nothing listens on, is UNAVAILABLE."""
    document = """mutation($notification: ID!) {
      read: markNotificationRead(input: {id: $notification}) { notification { id } }
      create: createTask(input: {title: "kept"}) { task { title } userErrors { code } }
    }"""
    notification = global_id("Notification", str(uuid.uuid4()))
    body = await gateway_client.execute(document, {"notification": notification})
    assert body["data"] == {"read": None, "create": {"task": {"title": "kept"}, "userErrors": []}}
    [error] = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["read"], "UNAVAILABLE")


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
    for task_id in (task["id"], missing):
        body = await gateway_client.execute(GET, {"id": task_id}, user=bob)
        [error] = body["errors"]
        assert error["extensions"] == {"code": "NOT_FOUND"}
        assert error["message"].replace(task_id, "<id>") == "no object with id '<id>'"
        assert body["data"] == {"task": None}
    mutations = [
        (COMPLETE, "completeTask", {"id": "<id>"}),
        (REOPEN, "reopenTask", {"id": "<id>"}),
        (DELETE, "deleteTask", {"id": "<id>"}),
        (UPDATE, "updateTask", {"input": {"id": "<id>", "title": "mine"}}),
    ]
    for document, name, template in mutations:
        for task_id in (task["id"], missing):
            variables = json.loads(json.dumps(template).replace("<id>", task_id))
            data = await gateway_client.data(document, variables, user=bob)
            [error] = data[name]["userErrors"]
            assert (error["field"], error["code"]) == (["input", "id"], "NOT_FOUND"), name
            assert error["message"].replace(task_id, "<id>") == "no object with id '<id>'"
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
