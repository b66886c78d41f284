"""Query.tasks end to end against the real svc_tasks: every filter, ordering and paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.gateway.gateway_harness import (
    COMPLETE,
    LIST,
    TASK_FIELDS,
    GatewayClient,
    create_task,
)


def _iso(value: datetime) -> str:
    return value.isoformat()


async def _titles(client: GatewayClient, **variables: Any) -> list[str]:
    data = await client.data(LIST, variables)
    return [edge["node"]["title"] for edge in data["tasks"]["edges"]]


@pytest.fixture
async def four_tasks(gateway_client: GatewayClient) -> GatewayClient:
    """Four tasks, created in this order.

    Pay rent (HIGH, home+money, overdue), Buy milk (LOW, home, due tomorrow), Write report
    (URGENT, work, no due time, completed), Call mom (NONE, due in 3 days).
    """
    now = datetime.now(UTC)
    await create_task(
        gateway_client,
        title="Pay rent",
        priority="HIGH",
        tags=["home", "money"],
        dueAt=_iso(now - timedelta(days=1)),
        description="transfer to landlord",
    )
    await create_task(
        gateway_client,
        title="Buy milk",
        priority="LOW",
        tags=["home"],
        dueAt=_iso(now + timedelta(days=1)),
    )
    report = await create_task(
        gateway_client, title="Write report", priority="URGENT", tags=["work"]
    )
    await create_task(gateway_client, title="Call mom", dueAt=_iso(now + timedelta(days=3)))
    await gateway_client.data(COMPLETE, {"id": report["id"]})
    return gateway_client


# One svc_tasks (with its database and broker) serves a whole table: starting one per row is slow.
FILTER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"Pay rent", "Buy milk", "Write report", "Call mom"}),
    ({"status": "OPEN"}, {"Pay rent", "Buy milk", "Call mom"}),
    ({"status": "COMPLETED"}, {"Write report"}),
    ({"priorities": ["HIGH", "URGENT"]}, {"Pay rent", "Write report"}),
    ({"tags": ["home", "money"]}, {"Pay rent"}),
    ({"tags": ["HOME"]}, {"Pay rent", "Buy milk"}),
    ({"tags": ["home", "work"]}, set()),
    ({"dueBefore": "NOW"}, {"Pay rent"}),
    ({"dueAfter": "NOW"}, {"Buy milk", "Call mom"}),
    ({"overdue": True}, {"Pay rent"}),
    ({"overdue": False}, {"Buy milk", "Write report", "Call mom"}),
    ({"search": "landlord"}, {"Pay rent"}),
    ({"search": "repor"}, {"Write report"}),
    ({"status": "OPEN", "tags": ["home"], "dueAfter": "NOW"}, {"Buy milk"}),
]
ORDER_CASES: list[tuple[list[dict[str, str]] | None, list[str]]] = [
    (None, ["Call mom", "Write report", "Buy milk", "Pay rent"]),
    ([{"field": "CREATED_AT"}], ["Pay rent", "Buy milk", "Write report", "Call mom"]),
    (
        [{"field": "DUE_AT", "direction": "ASC"}],
        ["Pay rent", "Buy milk", "Call mom", "Write report"],
    ),
    (
        [{"field": "DUE_AT", "direction": "DESC"}],
        ["Call mom", "Buy milk", "Pay rent", "Write report"],
    ),
    (
        [{"field": "PRIORITY", "direction": "DESC"}],
        ["Write report", "Pay rent", "Buy milk", "Call mom"],
    ),
    ([{"field": "TITLE"}], ["Buy milk", "Call mom", "Pay rent", "Write report"]),
    (
        [{"field": "UPDATED_AT", "direction": "DESC"}],
        ["Write report", "Call mom", "Buy milk", "Pay rent"],
    ),
    (
        [{"field": "PRIORITY", "direction": "ASC"}, {"field": "TITLE", "direction": "DESC"}],
        ["Call mom", "Buy milk", "Pay rent", "Write report"],
    ),
]


async def test_filters(four_tasks: GatewayClient) -> None:
    now = _iso(datetime.now(UTC))
    for task_filter, titles in FILTER_CASES:
        resolved = {key: now if value == "NOW" else value for key, value in task_filter.items()}
        data = await four_tasks.data(LIST, {"filter": resolved})
        found = {edge["node"]["title"] for edge in data["tasks"]["edges"]}
        assert found == titles, task_filter
        assert data["tasks"]["totalCount"] == len(titles), task_filter


async def test_ordering(four_tasks: GatewayClient) -> None:
    for order_by, titles in ORDER_CASES:
        assert await _titles(four_tasks, orderBy=order_by) == titles, order_by


async def test_paging_to_the_end(gateway_client: GatewayClient) -> None:
    for index in range(7):
        await create_task(gateway_client, title=f"task {index}")
    seen: list[str] = []
    after = None
    pages = []
    while True:
        data = await gateway_client.data(
            LIST, {"first": 3, "after": after, "orderBy": [{"field": "TITLE"}]}
        )
        page = data["tasks"]
        assert page["totalCount"] == 7
        pages.append(len(page["edges"]))
        seen += [edge["node"]["title"] for edge in page["edges"]]
        cursors = [edge["cursor"] for edge in page["edges"]]
        assert len(set(cursors)) == len(cursors)  # every edge is its own position
        assert page["pageInfo"]["endCursor"] == cursors[-1]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == [3, 3, 1]
    assert seen == [f"task {index}" for index in range(7)]


async def test_a_cursor_from_another_filter_is_bad_input(gateway_client: GatewayClient) -> None:
    for index in range(3):
        await create_task(gateway_client, title=f"task {index}")
    data = await gateway_client.data(LIST, {"first": 1})
    body = await gateway_client.execute(
        LIST,
        {"first": 1, "after": data["tasks"]["pageInfo"]["endCursor"], "filter": {"status": "OPEN"}},
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


SELECTIONS = [
    f"{TASK_FIELDS} seriesIndex __typename",
    "...on Task { reminders { id at minutesBefore } } __typename",
    "named: title again: title ...identified",
    "... { seriesIndex seriesId } completedAt recurrence { text final }",
    "createdAt updatedAt status priority",
    "__typename",
]


@pytest.mark.parametrize("selection", SELECTIONS)
async def test_a_page_holds_each_task_as_it_is_fetched_alone(
    gateway_client: GatewayClient, selection: str
) -> None:
    now = datetime.now(UTC)
    series = await create_task(
        gateway_client,
        title="Water the plants",
        description="the balcony",
        priority="HIGH",
        tags=["home"],
        dueAt=_iso(now + timedelta(days=1)),
        recurrence="FREQ=WEEKLY",
        remindMinutesBefore=[30],
        remindAt=[_iso(now + timedelta(hours=2))],
    )
    await gateway_client.data(COMPLETE, {"id": series["id"]})
    await create_task(gateway_client, title="Call mom")
    fragment = "fragment identified on Node { id }" if "...identified" in selection else ""
    listed = await gateway_client.data(
        f"{{ tasks {{ edges {{ cursor node {{ {selection} }} }} }} }} {fragment}"
    )
    ids = await gateway_client.data("{ tasks { edges { node { id } } } }")
    get = f"query($id: ID!) {{ task(id: $id) {{ {selection} }} }} {fragment}"
    alone = [
        (await gateway_client.data(get, {"id": edge["node"]["id"]}))["task"]
        for edge in ids["tasks"]["edges"]
    ]
    assert [edge["node"] for edge in listed["tasks"]["edges"]] == alone
    assert all(edge["cursor"] for edge in listed["tasks"]["edges"])


async def test_a_page_of_cursors_alone_has_every_cursor(gateway_client: GatewayClient) -> None:
    for index in range(3):
        await create_task(gateway_client, title=f"task {index}")
    data = await gateway_client.data("{ tasks { edges { cursor } pageInfo { endCursor } } }")
    cursors = [edge["cursor"] for edge in data["tasks"]["edges"]]
    assert len(set(cursors)) == 3
    assert data["tasks"]["pageInfo"]["endCursor"] == cursors[-1]
