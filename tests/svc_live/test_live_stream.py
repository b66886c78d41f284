"""LiveService.Subscribe against the real svc_tasks and broker: replay, live, resume, isolation,
replicas, a broker restart, bursts and concurrent writers, heartbeats and cursor checks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import grpc
import pytest

from tests.support.infra import eventually
from tests.svc_live.conftest import Live, new_user
from todo_cli.broker import EmbeddedBroker
from todo_contracts.events.v1.reminder_events_pb2 import ReminderFired
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import topics
from todo_runtime.cloudevents import event_headers
from todo_runtime.producer import EventProducer, Record


async def test_replays_the_log_then_streams_live_changes_in_order(live: Live) -> None:
    await live.start()
    user = new_user()
    first = await live.create(user, "one")
    await live.create(user, "two")
    reader = live.subscribe(user, after_sequence=0)
    assert await reader.until(2) == [1, 2]
    await live.complete(user, first.id)
    await live.create(user, "three")
    assert await reader.until(4) == [1, 2, 3, 4]
    kinds = [response.task_update.kind for response in reader.updates]
    assert kinds[2] == task_pb2.CHANGE_KIND_COMPLETED
    assert reader.updates[3].task_update.task.title == "three"
    assert all(response.task_update.user_id == user for response in reader.updates)


async def test_a_resumed_stream_has_no_gap_and_no_duplicate(live: Live) -> None:
    await live.start()
    user = new_user()
    for index in range(5):
        await live.create(user, f"task {index}")
    first = live.subscribe(user, after_sequence=0)
    await first.until(5)
    await first.cancel()
    for index in range(3):
        await live.create(user, f"while away {index}")
    resumed = live.subscribe(user, after_sequence=5)
    await live.create(user, "after resuming")
    assert await resumed.until(4) == [6, 7, 8, 9]
    await asyncio.sleep(0)  # nothing more may follow: checked by the exact list above
    assert resumed.sequences == [6, 7, 8, 9]


async def test_from_latest_streams_only_new_changes(live: Live) -> None:
    await live.start()
    user = new_user()
    await live.create(user, "old")
    reader = live.subscribe(user, from_latest=True)
    await reader.live()
    await live.create(user, "new")
    assert await reader.until(1) == [2]


@pytest.mark.parametrize("after", [-1, 3])
async def test_a_cursor_outside_the_users_log_is_invalid(live: Live, after: int) -> None:
    await live.start()
    user = new_user()
    await live.create(user)
    await live.create(user)
    reader = live.subscribe(user, after_sequence=after)
    error = await reader.ended()
    assert error is not None
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_user_never_receives_another_users_changes(live: Live) -> None:
    await live.start()
    alice, mallory = new_user(), new_user()
    for _ in range(3):
        await live.create(mallory, "mallory's")
    # Mallory's cursor is beyond Alice's log; Alice's own stream only ever has her changes.
    forged = live.subscribe(alice, after_sequence=3)
    assert (await forged.ended()) is not None
    reader = live.subscribe(alice, after_sequence=0)
    await live.create(alice, "alice's")
    for _ in range(3):
        await live.create(mallory, "mallory's")
    await live.create(alice, "alice's again")
    assert await reader.until(2) == [1, 2]
    assert {response.task_update.task.title for response in reader.updates} == {
        "alice's",
        "alice's again",
    }
    assert {response.task_update.task.owner_id for response in reader.updates} == {alice}


async def test_every_replica_serves_every_user(live: Live) -> None:
    one, two = await live.start(), await live.start()
    users = [new_user() for _ in range(4)]
    readers = [
        live.subscribe(user, replica, after_sequence=0) for user in users for replica in (one, two)
    ]
    for round_ in range(3):
        for user in users:
            await live.create(user, f"round {round_}")
    for reader in readers:
        assert await reader.until(3) == [1, 2, 3]


async def test_a_burst_of_500_changes_arrives_in_order(live: Live) -> None:
    await live.start()
    user = new_user()
    reader = live.subscribe(user, from_latest=True)
    await reader.live()
    await asyncio.gather(*(live.create(user, f"burst {index}") for index in range(500)))
    assert await reader.until(500) == list(range(1, 501))


async def test_concurrent_writers_miss_nothing(live: Live) -> None:
    """Sequences follow commit order (the per-user row lock), so no subscriber skips a change."""
    await live.start()
    user = new_user()
    readers = [live.subscribe(user, from_latest=True) for _ in range(3)]
    for reader in readers:
        await reader.live()

    async def writer(name: str) -> None:
        for index in range(40):
            await live.create(user, f"{name} {index}")

    await asyncio.gather(*(writer(f"writer {number}") for number in range(8)))
    for reader in readers:
        assert await reader.until(320) == list(range(1, 321))


async def test_a_broker_restart_loses_nothing(live: Live, broker: EmbeddedBroker) -> None:
    await live.start()
    user = new_user()
    reader = live.subscribe(user, after_sequence=0)
    await live.create(user, "before")
    await reader.until(1)
    broker.stop()
    await live.create(user, "while the broker is down")  # waits in svc_tasks' outbox
    broker.start()
    await live.create(user, "after")
    assert await reader.until(3) == [1, 2, 3]


async def test_a_restarted_replica_resumes_from_the_cursor(live: Live) -> None:
    first = await live.start()
    user = new_user()
    reader = live.subscribe(user, after_sequence=0)
    await live.create(user, "one")
    await reader.until(1)
    await first.stop()
    live.replicas.remove(first)
    error = await reader.ended()
    assert error is not None
    await live.create(user, "while no replica runs")
    second = await live.start()
    resumed = live.subscribe(user, second, after_sequence=reader.sequences[-1])
    await live.create(user, "three")
    assert await resumed.until(2) == [2, 3]


async def test_an_idle_stream_gets_heartbeats(live: Live) -> None:
    await live.start(TODO_LIVE_HEARTBEAT_SECONDS="0.2")
    reader = live.subscribe(new_user(), from_latest=True)
    await eventually(lambda: reader.heartbeats >= 3)  # the first says it is live


async def test_a_reader_that_never_reads_is_resynced_not_skipped(live: Live) -> None:
    """A buffer of 5 overflows under 60 changes: the stream rereads the log and misses nothing."""
    await live.start(TODO_LIVE_BUFFER="5")
    user = new_user()
    reader = live.subscribe(user, from_latest=True)
    await reader.live()
    await asyncio.gather(*(live.create(user, f"change {index}") for index in range(60)))
    assert await reader.until(60) == list(range(1, 61))


async def test_reminders_reach_their_owner_only(live: Live) -> None:
    """Reminders come from svc_notify; here they are published on `reminders` directly, again
    until one arrives (the stream is live-only, and the replica joins the topic at its end)."""
    await live.start()
    alice, bob = new_user(), new_user()
    reader = live.subscribe(alice, task_updates=False, reminders=True)
    producer = EventProducer(live.tasks.config.kafka, client_id="test-reminders")
    try:
        async with asyncio.timeout(30):
            while not reader.reminders:
                await producer.send([_reminder(bob), _reminder(alice)])
                await asyncio.sleep(0.1)
    finally:
        await producer.close()
    assert {response.reminder_fired.user_id for response in reader.reminders} == {alice}
    assert reader.updates == []


def _reminder(user: str) -> Record:
    event = ReminderFired(
        event_id=str(uuid.uuid4()), notification_id=str(uuid.uuid4()), user_id=user
    )
    headers = event_headers(
        event_id=event.event_id,
        source="/tests",
        type="todo.reminder.fired",
        subject=event.notification_id,
        time=datetime.now(UTC),
        message_name=ReminderFired.DESCRIPTOR.full_name,
    )
    return Record(topics.REMINDERS, user.encode(), event.SerializeToString(), headers)
