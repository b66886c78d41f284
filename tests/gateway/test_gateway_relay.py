"""The Relay server specification: global object ids, node/nodes, and cursor connections."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from tests.support.gateway.gateway_harness import GatewayClient, create_task, new_user

NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Task { title } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  tasks(first: $first, after: $after, last: $last, before: $before, orderBy: [{field: TITLE}]) {
    edges { cursor node { id title } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def titles(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in page["edges"]]


async def test_node_refetches_a_task_by_its_global_id(gateway_client: GatewayClient) -> None:
    task = await create_task(gateway_client, title="refetch me")
    found = (await gateway_client.data(NODE, {"id": task["id"]}))["node"]
    assert found == {"__typename": "Task", "id": task["id"], "title": "refetch me"}
    raw = base64.urlsafe_b64decode(task["id"] + "=" * (-len(task["id"]) % 4)).decode()
    assert raw.startswith("Task:")
    assert str(uuid.UUID(raw.removeprefix("Task:"))) == raw.removeprefix("Task:")


async def test_unknown_malformed_and_foreign_ids_are_all_just_not_found(
    gateway_client: GatewayClient,
) -> None:
    theirs = await create_task(gateway_client, user=new_user(), title="someone else's")
    mine = await create_task(gateway_client, title="mine")
    raw_uuid = base64.urlsafe_b64decode(mine["id"] + "==").decode().removeprefix("Task:")
    series_like = base64.urlsafe_b64encode(b"Series:" + raw_uuid.encode()).decode().rstrip("=")
    unknown = base64.urlsafe_b64encode(f"Task:{uuid.uuid4()}".encode()).decode().rstrip("=")
    messages = set()
    for bad in (theirs["id"], unknown, "not-an-id", "", raw_uuid, series_like, mine["id"] + "="):
        body = await gateway_client.execute(NODE, {"id": bad})
        assert body["data"] == {"node": None}, bad
        [error] = body["errors"]
        assert error["extensions"] == {"code": "NOT_FOUND"}, bad
        messages.add(error["message"].replace(f"'{bad}'", "'<id>'"))
    assert len(messages) == 1  # nothing tells a foreign id from a missing or malformed one


async def test_nodes_answer_in_order_with_a_null_and_an_error_per_bad_id(
    gateway_client: GatewayClient,
) -> None:
    first = await create_task(gateway_client, title="one")
    second = await create_task(gateway_client, title="two")
    foreign = await create_task(gateway_client, user=new_user(), title="not yours")
    body = await gateway_client.execute(
        NODES, {"ids": [second["id"], foreign["id"], "junk", first["id"]]}
    )
    assert body["data"]["nodes"] == [
        {"__typename": "Task", "id": second["id"]},
        None,
        None,
        {"__typename": "Task", "id": first["id"]},
    ]
    assert sorted((e["path"], e["extensions"]["code"]) for e in body["errors"]) == [
        (["nodes", 1], "NOT_FOUND"),
        (["nodes", 2], "NOT_FOUND"),
    ]


async def test_ids_are_unique_across_objects(gateway_client: GatewayClient) -> None:
    created = [
        (
            await gateway_client.data(
                """mutation { createTask(input: {title: "r", dueAt: "2030-01-01T09:00:00Z",
                   remindMinutesBefore: [30], recurrence: "every day"}) {
                   task { id seriesId reminders { id } } } }"""
            )
        )["createTask"]["task"]
        for _ in range(2)
    ]
    every = [
        i for task in created for i in (task["id"], task["seriesId"], task["reminders"][0]["id"])
    ]
    assert len(set(every)) == len(every) == 6


async def test_every_edge_cursor_pages_exactly_from_its_edge_both_ways(
    gateway_client: GatewayClient,
) -> None:
    for index in range(9):
        await create_task(gateway_client, title=f"task {index}")
    whole = (await gateway_client.data(PAGE, {"first": 50}))["tasks"]
    names = titles(whole)
    assert names == [f"task {i}" for i in range(9)]
    info = whole["pageInfo"]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (False, False)
    assert (info["startCursor"], info["endCursor"]) == (
        whole["edges"][0]["cursor"],
        whole["edges"][-1]["cursor"],
    )
    for index, edge in enumerate(whole["edges"]):
        after = (await gateway_client.data(PAGE, {"first": 3, "after": edge["cursor"]}))["tasks"]
        assert titles(after) == names[index + 1 : index + 4]
        assert after["pageInfo"]["hasNextPage"] == (index + 4 < len(names))
        assert after["pageInfo"]["hasPreviousPage"]
        before = (await gateway_client.data(PAGE, {"last": 3, "before": edge["cursor"]}))["tasks"]
        assert titles(before) == names[max(0, index - 3) : index]
        assert before["pageInfo"]["hasPreviousPage"] == (index > 3)
        assert before["pageInfo"]["hasNextPage"]


async def test_last_without_before_is_the_end_of_the_list(gateway_client: GatewayClient) -> None:
    for index in range(5):
        await create_task(gateway_client, title=f"task {index}")
    tail = (await gateway_client.data(PAGE, {"last": 2}))["tasks"]
    assert titles(tail) == ["task 3", "task 4"]
    assert (tail["pageInfo"]["hasPreviousPage"], tail["pageInfo"]["hasNextPage"]) == (True, False)
    both = await gateway_client.execute(PAGE, {"first": 1, "last": 1})
    assert both["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_cursor_is_bound_to_its_user(gateway_client: GatewayClient) -> None:
    await create_task(gateway_client, title="alice's")
    cursor = (await gateway_client.data(PAGE, {"first": 1}))["tasks"]["edges"][0]["cursor"]
    body = await gateway_client.execute(PAGE, {"first": 1, "after": cursor}, user=new_user())
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
