"""`todo_webhook_deliveries` against a real receiver: each recorded attempt counts once, by what
it led to (delivered, retry scheduled, gave up, endpoint gone, refused)."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.support.infra import eventually
from tests.support.svc_notify.receiver import Answer, Receiver
from tests.svc_notify.conftest import FireReminder, StartNotify, new_user
from tests.svc_notify.test_webhook_delivery import WITHIN, attempts_reach
from todo_contracts.notify.v1 import notification_service_pb2 as pb

OUTCOMES = ("delivered", "retry_scheduled", "gave_up", "endpoint_gone", "refused", "superseded")


def counts() -> dict[str, float]:
    return {
        outcome: REGISTRY.get_sample_value("todo_webhook_deliveries_total", {"outcome": outcome})
        or 0.0
        for outcome in OUTCOMES
    }


def moved(before: dict[str, float]) -> dict[str, float]:
    now = counts()
    return {name: now[name] - before[name] for name in OUTCOMES if now[name] != before[name]}


async def test_attempts_are_counted_by_what_they_led_to(
    start_notify: StartNotify, receiver: Receiver, fire_reminder: FireReminder
) -> None:
    notify = await start_notify(TODO_WEBHOOK_RETRY_SCALE="0.00001")  # 10 attempts in ~3 s
    before = counts()

    receiver.script = [Answer(410)]
    gone = new_user()
    webhook_id = (await notify.create_webhook(gone, receiver.url)).webhook.id
    await fire_reminder(gone)
    await attempts_reach(notify, gone, webhook_id, 1, pb.DELIVERY_STATE_PENDING)

    receiver.default = Answer(500)
    failing = new_user()
    webhook_id = (await notify.create_webhook(failing, receiver.url)).webhook.id
    await fire_reminder(failing)
    await attempts_reach(notify, failing, webhook_id, 10, pb.DELIVERY_STATE_FAILED)

    receiver.default = Answer(204)
    happy = new_user()
    webhook_id = (await notify.create_webhook(happy, receiver.url)).webhook.id
    await fire_reminder(happy)
    await attempts_reach(notify, happy, webhook_id, 1, pb.DELIVERY_STATE_SUCCEEDED)

    expected = {"endpoint_gone": 1, "retry_scheduled": 9, "gave_up": 1, "delivered": 1}
    await eventually(lambda: moved(before) == expected, WITHIN)


async def test_a_refused_target_is_counted_as_refused(
    start_notify: StartNotify, receiver: Receiver, fire_reminder: FireReminder
) -> None:
    relaxed = await start_notify()
    user = new_user()
    await relaxed.create_webhook(user, receiver.url)
    await relaxed.stop()
    await start_notify(TODO_WEBHOOK_ALLOW_PRIVATE="0")
    before = counts()
    await fire_reminder(user)

    await eventually(lambda: set(moved(before)) == {"refused"}, WITHIN)
    assert receiver.received == []
