"""Fired reminders reach a real HTTP receiver, signed, retried on schedule, and survive restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import grpc
import pytest
from standardwebhooks import Webhook

from tests.support.infra import TEST_SECRET, RunningTasks, eventually
from tests.support.svc_notify.receiver import Answer, Receiver
from tests.svc_notify.conftest import FireReminder, RunningNotify, StartNotify, new_user
from todo_contracts.notify.v1 import notification_service_pb2 as pb
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2, tasks_service_pb2_grpc
from todo_runtime.global_ids import global_id
from todo_runtime.identity import identity_metadata
from todo_runtime.timestamps import timestamp

WITHIN = 60.0  # generous: the machine is shared; the tests check that it happens, not how fast


async def attempts_reach(
    notify: RunningNotify, user: str, webhook_id: str, count: int, last: int
) -> list[pb.WebhookDelivery]:
    """The endpoint's attempts (oldest first) once there are `count`, the last in state `last`."""
    found: list[pb.WebhookDelivery] = []

    async def done() -> bool:
        found[:] = await notify.attempts(user, webhook_id)
        assert len(found) <= count, [(a.attempt, a.status_code, a.error) for a in found]
        return len(found) == count and found[-1].state == last

    await eventually(done, within=WITHIN)
    return found


def verified(secret: str, received: Any) -> dict[str, Any]:
    """The payload, after the standard library checked the signature and the timestamp."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


async def test_a_fired_reminder_is_posted_signed(
    tasks_service: RunningTasks, start_notify: StartNotify, receiver: Receiver
) -> None:
    notify = await start_notify()
    user = new_user()
    created = await notify.create_webhook(user, receiver.url)
    task = task_pb2.Task(
        title="Water the plants",
        priority=task_pb2.PRIORITY_NONE,
        due_time=timestamp(datetime.now(UTC) + timedelta(seconds=2)),
        reminders=[task_pb2.Reminder(minutes_before=0)],
    )
    async with grpc.aio.insecure_channel(tasks_service.address) as channel:
        response = await tasks_service_pb2_grpc.TaskServiceStub(channel).CreateTask(
            tasks_service_pb2.CreateTaskRequest(task=task),
            metadata=identity_metadata(TEST_SECRET, user),
            timeout=10,
        )

    await eventually(lambda: len(receiver.received) == 1, within=WITHIN)
    request = receiver.received[0]
    payload = verified(created.secret, request)
    assert payload["type"] == "reminder.fired"
    assert payload["data"]["taskId"] == global_id("Task", response.task.id)
    assert payload["data"]["title"] == "Water the plants"
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["host"] == receiver.url.split("/")[2]
    assert json.loads(request.body) == payload

    [attempt] = await attempts_reach(
        notify, user, created.webhook.id, 1, pb.DELIVERY_STATE_SUCCEEDED
    )
    assert (attempt.attempt, attempt.status_code, attempt.error) == (1, 204, "")
    assert attempt.message_id == request.headers["webhook-id"]
    assert attempt.event_id == payload["data"]["eventId"]
    assert attempt.attempt_time.seconds > 0


async def test_failures_are_retried_on_the_schedule_signed_afresh(
    notify: RunningNotify, receiver: Receiver, fire_reminder: FireReminder
) -> None:
    receiver.script = [Answer(500), Answer(502)]
    user = new_user()
    created = await notify.create_webhook(user, receiver.url)
    await fire_reminder(user)

    attempts = await attempts_reach(
        notify, user, created.webhook.id, 3, pb.DELIVERY_STATE_SUCCEEDED
    )
    assert [(a.attempt, a.status_code, a.state) for a in attempts] == [
        (1, 500, pb.DELIVERY_STATE_PENDING),
        (2, 502, pb.DELIVERY_STATE_PENDING),
        (3, 204, pb.DELIVERY_STATE_SUCCEEDED),
    ]
    assert attempts[0].error == "HTTP 500 Internal Server Error"
    assert attempts[1].error == "HTTP 502 Bad Gateway"
    assert len({a.delivery_id for a in attempts}) == 1

    first, second, third = receiver.received
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    for request in receiver.received:
        verified(created.secret, request)  # each attempt's own signature and timestamp
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.received]
    assert stamps == sorted(stamps)
    assert stamps[2] > stamps[0]  # signed afresh: 3 s later
    assert third.headers["webhook-signature"] != first.headers["webhook-signature"]
    # The schedule times 0.01: 5 s -> 0.05 s, then 5 min -> 3 s (jitter adds up to 20 %).
    assert 0.05 <= second.at - first.at < 3.0
    assert 3.0 <= third.at - second.at < 3.6 + 10.0


async def test_retry_after_is_honoured(
    start_notify: StartNotify, receiver: Receiver, fire_reminder: FireReminder
) -> None:
    notify = await start_notify(TODO_WEBHOOK_RETRY_SCALE="0.001")  # 5 ms, then 0.3 s
    not_before = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    receiver.script = [
        Answer(429, {"retry-after": "2"}),
        Answer(503, {"retry-after": format_datetime(not_before, usegmt=True)}),
    ]
    user = new_user()
    created = await notify.create_webhook(user, receiver.url)
    await fire_reminder(user)

    attempts = await attempts_reach(
        notify, user, created.webhook.id, 3, pb.DELIVERY_STATE_SUCCEEDED
    )
    assert [a.status_code for a in attempts] == [429, 503, 204]
    first, second, third = receiver.received
    assert second.at - first.at >= 2.0
    assert third.wall >= not_before.timestamp()


async def test_a_410_disables_the_endpoint_and_its_delivery_waits(
    notify: RunningNotify, receiver: Receiver, fire_reminder: FireReminder
) -> None:
    receiver.script = [Answer(410)]
    user = new_user()
    webhook_id = (await notify.create_webhook(user, receiver.url)).webhook.id
    await fire_reminder(user)

    [gone] = await attempts_reach(notify, user, webhook_id, 1, pb.DELIVERY_STATE_PENDING)
    assert gone.status_code == 410
    assert gone.error == "HTTP 410 Gone: the endpoint is now disabled"
    webhook = (await notify.call(user, "GetWebhook", pb.GetWebhookRequest(id=webhook_id))).webhook
    assert not webhook.enabled
    assert webhook.disabled_reason.startswith("HTTP 410 Gone answered at ")

    enabled = await notify.call(
        user, "SetWebhookEnabled", pb.SetWebhookEnabledRequest(id=webhook_id, enabled=True)
    )
    assert enabled.webhook.disabled_reason == ""
    assert len(receiver.received) == 1  # nothing went out while it was disabled
    attempts = await attempts_reach(notify, user, webhook_id, 2, pb.DELIVERY_STATE_SUCCEEDED)
    assert attempts[1].message_id == gone.message_id


async def test_a_disabled_endpoints_due_delivery_waits(
    notify: RunningNotify, receiver: Receiver, fire_reminder: FireReminder, tables: Any
) -> None:
    receiver.script = [Answer(429, {"retry-after": "3600"})]  # the retry waits an hour
    user = new_user()
    waiting = (await notify.create_webhook(user, receiver.url)).webhook.id
    await fire_reminder(user)
    [failed] = await attempts_reach(notify, user, waiting, 1, pb.DELIVERY_STATE_PENDING)
    await notify.call(
        user, "SetWebhookEnabled", pb.SetWebhookEnabledRequest(id=waiting, enabled=False)
    )
    await tables.execute("UPDATE webhook_deliveries SET next_attempt_at = now()")  # due now

    # Another endpoint's delivery goes out: the worker looked, and skipped the disabled one.
    other = (await notify.create_webhook(user, receiver.url)).webhook.id
    await fire_reminder(user)
    await attempts_reach(notify, user, other, 1, pb.DELIVERY_STATE_SUCCEEDED)
    assert len(await notify.attempts(user, waiting)) == 1
    assert len(receiver.received) == 2

    await notify.call(
        user, "SetWebhookEnabled", pb.SetWebhookEnabledRequest(id=waiting, enabled=True)
    )
    attempts = await attempts_reach(notify, user, waiting, 2, pb.DELIVERY_STATE_SUCCEEDED)
    assert attempts[1].message_id == failed.message_id


async def test_no_answer_in_time_is_a_failed_attempt(
    start_notify: StartNotify, receiver: Receiver, fire_reminder: FireReminder
) -> None:
    notify = await start_notify(TODO_WEBHOOK_TIMEOUT_SECONDS="1")
    receiver.script = [Answer(204, delay=3.0)]
    user = new_user()
    webhook_id = (await notify.create_webhook(user, receiver.url)).webhook.id
    await fire_reminder(user)

    attempts = await attempts_reach(notify, user, webhook_id, 2, pb.DELIVERY_STATE_SUCCEEDED)
    assert (attempts[0].status_code, attempts[0].error) == (0, "no answer within 1 s")
    assert attempts[0].latency_ms >= 900
    assert attempts[1].status_code == 204


async def test_out_of_retries_fails_and_redelivery_sends_it_again(
    start_notify: StartNotify, receiver: Receiver, fire_reminder: FireReminder, tables: Any
) -> None:
    # The whole three-day schedule in about three seconds.
    notify = await start_notify(TODO_WEBHOOK_RETRY_SCALE="0.00001")
    receiver.default = Answer(500)
    user = new_user()
    webhook_id = (await notify.create_webhook(user, receiver.url)).webhook.id
    await fire_reminder(user)

    attempts = await attempts_reach(notify, user, webhook_id, 10, pb.DELIVERY_STATE_FAILED)
    assert [a.attempt for a in attempts] == list(range(1, 11))
    assert {a.state for a in attempts[:-1]} == {pb.DELIVERY_STATE_PENDING}
    assert attempts[-1].error == "HTTP 500 Internal Server Error"

    delivery_id = attempts[-1].delivery_id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await notify.call(
            new_user(), "RedeliverWebhook", pb.RedeliverWebhookRequest(delivery_id=delivery_id)
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    # While an attempt holds its lease, the delivery is left alone.
    await tables.execute("UPDATE webhook_deliveries SET lease_expires_at = now() + '1 hour'")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await notify.call(
            user, "RedeliverWebhook", pb.RedeliverWebhookRequest(delivery_id=delivery_id)
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await tables.execute("UPDATE webhook_deliveries SET lease_expires_at = NULL")

    receiver.default = Answer(200)
    redelivered = await notify.call(
        user, "RedeliverWebhook", pb.RedeliverWebhookRequest(delivery_id=delivery_id)
    )
    assert redelivered.delivery_id == delivery_id
    attempts = await attempts_reach(notify, user, webhook_id, 11, pb.DELIVERY_STATE_SUCCEEDED)
    assert attempts[-1].attempt == 11
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1

    # The log pages newest first, a cursor per attempt.
    listed: list[int] = []
    token = ""
    while True:
        page = await notify.call(
            user,
            "ListWebhookDeliveries",
            pb.ListWebhookDeliveriesRequest(webhook_id=webhook_id, page_size=4, page_token=token),
        )
        assert page.total_size == 11
        assert len(page.cursors) == len(page.deliveries)
        listed += [a.attempt for a in page.deliveries]
        token = page.next_page_token
        if not token:
            break
    assert listed == list(range(11, 0, -1))
    after_fifth = await notify.call(
        user,
        "ListWebhookDeliveries",
        pb.ListWebhookDeliveriesRequest(
            webhook_id=webhook_id, page_token=page.cursors[0], skip_total_size=True
        ),
    )
    assert [a.attempt for a in after_fifth.deliveries] == [2, 1]
    assert after_fifth.total_size == 0


async def test_a_target_that_turned_private_is_refused_at_delivery(
    start_notify: StartNotify, receiver: Receiver, fire_reminder: FireReminder
) -> None:
    relaxed = await start_notify()
    user = new_user()
    webhook_id = (await relaxed.create_webhook(user, receiver.url)).webhook.id
    await relaxed.stop()
    strict = await start_notify(TODO_WEBHOOK_ALLOW_PRIVATE="0")
    await fire_reminder(user)

    found: list[pb.WebhookDelivery] = []

    async def refused() -> bool:
        found[:] = await strict.attempts(user, webhook_id)
        return len(found) >= 1

    await eventually(refused, within=WITHIN)
    assert found[0].status_code == 0
    assert found[0].error == "refused: 127.0.0.1, a loopback address, which is not allowed"
    assert found[0].state == pb.DELIVERY_STATE_PENDING  # DNS may change: retried on schedule
    assert receiver.received == []


async def test_pending_deliveries_survive_a_restart(
    start_notify: StartNotify, receiver: Receiver, fire_reminder: FireReminder
) -> None:
    notify = await start_notify(TODO_WEBHOOK_RETRY_SCALE="1")  # the real 5 s before the retry
    receiver.script = [Answer(500)]
    user = new_user()
    webhook_id = (await notify.create_webhook(user, receiver.url)).webhook.id
    await fire_reminder(user)
    await attempts_reach(notify, user, webhook_id, 1, pb.DELIVERY_STATE_PENDING)
    await notify.stop()
    assert len(receiver.received) == 1

    again = await start_notify(TODO_WEBHOOK_RETRY_SCALE="1")
    attempts = await attempts_reach(again, user, webhook_id, 2, pb.DELIVERY_STATE_SUCCEEDED)
    assert attempts[0].message_id == attempts[1].message_id
    assert receiver.received[1].at - receiver.received[0].at >= 5.0


async def test_two_replicas_send_each_delivery_once(
    start_notify: StartNotify, receiver: Receiver, fire_reminder: FireReminder
) -> None:
    first = await start_notify()
    await start_notify()
    user = new_user()
    webhook_id = (await first.create_webhook(user, receiver.url)).webhook.id
    for _ in range(20):
        await fire_reminder(user)

    async def all_sent() -> bool:
        page = await first.call(
            user, "ListWebhookDeliveries", pb.ListWebhookDeliveriesRequest(webhook_id=webhook_id)
        )
        return bool(page.total_size >= 20)

    await eventually(all_sent, within=WITHIN)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 20
    assert len(set(ids)) == 20
