"""taskUpdates and reminders over graphql-transport-ws with a real WebSocket client, in front of
the real svc_tasks, svc_live and broker: delivery, order, resume, replicas, restarts, writers,
isolation, slow consumers, limits and tokens."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.api.tasks.change_cursors import ChangeCursors
from tests.support.gateway.gateway_harness import (
    COMPLETE,
    new_user,
    token_for,
)
from tests.support.gateway.live_stack import LiveStack
from tests.support.gateway.ws_client import (
    CHANGE_CURSOR,
    TASK_UPDATES,
    client,
    open_client,
)
from todo_contracts.events.v1.reminder_events_pb2 import ReminderFired
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import topics
from todo_runtime.cloudevents import event_headers
from todo_runtime.producer import EventProducer, Record


@pytest.fixture
async def url(stack: LiveStack) -> str:
    """One svc_live replica and one gateway in front of it."""
    await stack.start_live()
    return await stack.start_gateway()


async def _cursor(url: str, user: str) -> str:
    """The user's current change cursor, read as a client does: with the task list."""
    async with client(url, token_for(user)) as reader:
        data = await reader.query(CHANGE_CURSOR)
    cursor: str = data["tasks"]["changeCursor"]
    return cursor


def _titles(updates: list[dict[str, Any]]) -> list[str]:
    return [update["task"]["title"] for update in updates]


async def test_a_mutation_reaches_the_subscriber(stack: LiveStack, url: str) -> None:
    user = new_user()
    async with client(url, token_for(user)) as subscriber:
        since = await _cursor(url, user)
        operation = await subscriber.subscribe(TASK_UPDATES, {"since": since})
        task = await stack.create(url, user, "water the plants")
        await stack.execute(url, user, COMPLETE, {"id": task["id"]})
        updates = await subscriber.updates(operation, 2)
    assert [update["kind"] for update in updates] == ["CREATED", "COMPLETED"]
    assert [update["task"]["id"] for update in updates] == [task["id"], task["id"]]
    assert updates[0]["cursor"] != updates[1]["cursor"]


async def test_a_list_then_subscribe_misses_nothing(stack: LiveStack, url: str) -> None:
    """A change made between reading the list and subscribing arrives as an update."""
    user = new_user()
    await stack.create(url, user, "listed")
    since = await _cursor(url, user)
    await stack.create(url, user, "made in between")
    async with client(url, token_for(user)) as subscriber:
        operation = await subscriber.subscribe(TASK_UPDATES, {"since": since})
        assert _titles(await subscriber.updates(operation, 1)) == ["made in between"]


LIST_WITH_CURSOR = "{ tasks(first: 200) { changeCursor edges { node { id } } } }"


async def test_a_lists_cursor_replays_exactly_what_the_list_does_not_show(
    stack: LiveStack, url: str
) -> None:
    """Lists read while writers run: each list's changeCursor, read in the list's snapshot,
    replays every task the list does not show, and none it does."""
    user = new_user()
    created: list[str] = []

    async def writer(name: str) -> None:
        for index in range(15):
            created.append((await stack.create(url, user, f"{name}-{index:02}"))["id"])

    async def reader() -> list[tuple[set[str], str]]:
        seen = []
        async with client(url, token_for(user)) as lister:
            while len(created) < 60:
                data = (await lister.query(LIST_WITH_CURSOR))["tasks"]
                seen.append(({edge["node"]["id"] for edge in data["edges"]}, data["changeCursor"]))
        amid = [read for read in seen if 0 < len(read[0]) < 60]
        return amid[:: max(1, len(amid) // 8)]  # a few read amid the writes, spread over them

    async with asyncio.TaskGroup() as group:  # a failing writer cancels the reader
        listing = group.create_task(reader())
        for number in range(4):
            group.create_task(writer(f"w{number}"))
    lists = listing.result()
    assert len(created) == 60
    assert lists, "no list was read amid the writes"
    async with client(url, token_for(user)) as subscriber:
        for listed, cursor in lists:
            operation = await subscriber.subscribe(TASK_UPDATES, {"since": cursor})
            replayed = [
                u["task"]["id"] for u in await subscriber.updates(operation, 60 - len(listed))
            ]
            assert listed.isdisjoint(replayed)  # nothing the list shows comes again
            assert listed | set(replayed) == set(created)  # nothing it misses is lost
            await subscriber.complete(operation)
    print(f"{len(lists)} lists read during 60 writes, each replayed exactly its complement")


async def test_order_holds_under_a_burst_of_500(stack: LiveStack, url: str) -> None:
    user = new_user()
    since = await _cursor(url, user)
    async with client(url, token_for(user)) as subscriber:
        operation = await subscriber.subscribe(TASK_UPDATES, {"since": since})
        titles = [f"burst {index:03}" for index in range(500)]
        for chunk in range(0, 500, 50):  # 50 requests in flight at a time
            await asyncio.gather(*(stack.create(url, user, t) for t in titles[chunk : chunk + 50]))
        updates = await subscriber.updates(operation, 500)
    assert len(updates) == 500
    assert sorted(_titles(updates)) == titles
    assert len({update["cursor"] for update in updates}) == 500


async def test_a_resume_after_disconnect_has_no_gap_and_no_duplicate(
    stack: LiveStack, url: str
) -> None:
    user = new_user()
    since = await _cursor(url, user)
    first = await open_client(url, token_for(user))
    operation = await first.subscribe(TASK_UPDATES, {"since": since})
    for index in range(3):
        await stack.create(url, user, f"before {index}")
    seen = await first.updates(operation, 3)
    first.abort()
    for index in range(4):
        await stack.create(url, user, f"while away {index}")
    async with client(url, token_for(user)) as second:
        resumed = await second.subscribe(TASK_UPDATES, {"since": seen[-1]["cursor"]})
        await stack.create(url, user, "after")
        updates = await second.updates(resumed, 5)
        await asyncio.sleep(0.5)  # a duplicate would arrive now
        assert len(second.operations[resumed].results) == 5
    assert _titles(updates) == [*(f"while away {index}" for index in range(4)), "after"]


async def test_many_writers_at_once_and_no_subscriber_misses_a_change(
    stack: LiveStack, url: str
) -> None:
    user = new_user()
    since = await _cursor(url, user)
    async with (
        client(url, token_for(user)) as one,
        client(url, token_for(user)) as two,
    ):
        operations = [
            (one, await one.subscribe(TASK_UPDATES, {"since": since})),
            (two, await two.subscribe(TASK_UPDATES, {"since": since})),
        ]

        async def writer(name: str) -> None:
            for index in range(25):
                await stack.create(url, user, f"{name}-{index:02}")

        await asyncio.gather(*(writer(f"w{number}") for number in range(8)))
        for subscriber, operation in operations:
            updates = await subscriber.updates(operation, 200)
            assert len(updates) == 200
            assert len(set(_titles(updates))) == 200
            for number in range(8):  # each writer's own changes in its order
                mine = [t for t in _titles(updates) if t.startswith(f"w{number}-")]
                assert mine == sorted(mine)


async def test_no_user_receives_another_users_update(stack: LiveStack, url: str) -> None:
    alice, bob = new_user(), new_user()
    alice_since, bob_since = await _cursor(url, alice), await _cursor(url, bob)
    async with client(url, token_for(alice)) as alices, client(url, token_for(bob)) as bobs:
        a = await alices.subscribe(TASK_UPDATES, {"since": alice_since})
        b = await bobs.subscribe(TASK_UPDATES, {"since": bob_since})
        for index in range(5):
            await stack.create(url, alice, f"alice {index}")
            await stack.create(url, bob, f"bob {index}")
        assert all(t.startswith("alice") for t in _titles(await alices.updates(a, 5)))
        assert all(t.startswith("bob") for t in _titles(await bobs.updates(b, 5)))
        # Bob replaying with Alice's cursor is refused: cursors are signed for their user.
        stolen = await bobs.subscribe(TASK_UPDATES, {"since": alice_since})
        assert (await bobs.ended(stolen)).error_codes == ["BAD_USER_INPUT"]
        await asyncio.sleep(0.5)  # anything of Alice's would have reached Bob by now
        assert all(t.startswith("bob") for t in _titles(await bobs.updates(b, 5)))


@pytest.mark.parametrize("since", ["", "garbage", "eyJzIjo1fQ.AAAAAAAAAAAAAAAAAAAAAA", "x" * 5000])
async def test_a_malformed_or_forged_cursor_is_a_clear_error(url: str, since: str) -> None:
    async with client(url, token_for(new_user())) as subscriber:
        operation = await subscriber.subscribe(TASK_UPDATES, {"since": since})
        ended = await subscriber.ended(operation)
    assert ended.error_codes == ["BAD_USER_INPUT"], (ended.results, ended.error)


async def test_a_cursor_beyond_the_users_log_is_a_clear_error(stack: LiveStack, url: str) -> None:
    """A cursor signed for this user but from another database (its sequence never happened)."""
    user = new_user()
    foreign = ChangeCursors(stack.tasks.secret).encode(user, 42)
    async with client(url, token_for(user)) as subscriber:
        operation = await subscriber.subscribe(TASK_UPDATES, {"since": foreign})
        ended = await subscriber.ended(operation)
    assert ended.error_codes == ["BAD_USER_INPUT"]


REMINDERS = "subscription { reminders { notificationId firedAt dueAt task { id title } } }"


async def test_reminders_reach_their_owner_only(stack: LiveStack, url: str) -> None:
    """Published as svc_notify does, again until one arrives (reminders are live only)."""
    alice, bob = new_user(), new_user()
    producer = EventProducer(stack.tasks.config.kafka, client_id="test-reminders")
    try:
        async with client(url, token_for(alice)) as subscriber:
            operation = await subscriber.subscribe(REMINDERS)
            received = subscriber.operations[operation]
            async with asyncio.timeout(30):
                while not received.results:
                    await producer.send([_reminder(bob), _reminder(alice)])
                    await asyncio.sleep(0.1)
            notices = [data["reminders"] for data in received.data]
    finally:
        await producer.close()
    assert {notice["task"]["title"] for notice in notices} == {f"{alice}'s plants"}
    assert all(notice["notificationId"] for notice in notices)


def _reminder(user: str) -> Record:
    event = ReminderFired(
        event_id=str(uuid.uuid4()),
        notification_id=str(uuid.uuid4()),
        user_id=user,
        task=task_pb2.Task(
            id=str(uuid.uuid4()),
            owner_id=user,
            title=f"{user}'s plants",
            status=task_pb2.TASK_STATUS_OPEN,
            priority=task_pb2.PRIORITY_NONE,
        ),
    )
    now = datetime.now(UTC)
    event.task.create_time.FromDatetime(now)
    event.task.update_time.FromDatetime(now)
    event.fire_time.FromDatetime(datetime.now(UTC))
    headers = event_headers(
        event_id=event.event_id,
        source="/svc_notify",
        type="todo.reminder.fired",
        subject=event.notification_id,
        time=datetime.now(UTC),
        message_name=ReminderFired.DESCRIPTOR.full_name,
    )
    return Record(topics.REMINDERS, user.encode(), event.SerializeToString(), headers)
