"""Open live subscriptions as the gateway (by field) and svc_live (streams) count them: up on
subscribe, down again when the client ends one or vanishes without a goodbye."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.support.gateway.gateway_harness import new_user, token_for
from tests.support.gateway.live_stack import LiveStack
from tests.support.gateway.ws_client import TASK_UPDATES, open_client
from tests.support.infra import eventually

REMINDERS = "subscription { reminders { notificationId } }"


def open_now() -> tuple[float, float, float]:
    """Gateway subscriptions (taskUpdates, reminders) and svc_live streams open."""
    return (
        REGISTRY.get_sample_value("todo_live_subscriptions", {"field": "taskUpdates"}) or 0.0,
        REGISTRY.get_sample_value("todo_live_subscriptions", {"field": "reminders"}) or 0.0,
        REGISTRY.get_sample_value("todo_live_streams") or 0.0,
    )


async def test_open_subscriptions_go_up_and_back_down_after_an_abrupt_disconnect(
    live_stack: LiveStack,
) -> None:
    url = await live_stack.start_gateway()
    updates, reminders, streams = open_now()
    subscriber = await open_client(url, token_for(new_user()))
    first = await subscriber.subscribe(TASK_UPDATES)
    await subscriber.subscribe(TASK_UPDATES)
    await subscriber.subscribe(REMINDERS)
    await eventually(lambda: open_now() == (updates + 2, reminders + 1, streams + 3))

    await subscriber.complete(first)
    await eventually(lambda: open_now() == (updates + 1, reminders + 1, streams + 2))

    await subscriber.drop()  # no close frame, no complete: the TCP connection just ends
    await eventually(lambda: open_now() == (updates, reminders, streams))
