"""A `taskUpdates` subscription with no `since`, opened while svc_live's fan-out consumer is still
joining (at start, and as a replica comes back), gets every change committed once its stream is
open: each change is awaited before the next, and svc_live's heartbeat (which re-reads the log)
is pushed out of reach, so only the live path can deliver."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import REGISTRY

from tests.support.gateway.gateway_harness import new_user, token_for
from tests.support.gateway.live_stack import LiveStack
from tests.support.gateway.ws_client import TASK_UPDATES, WsClient, client
from tests.support.infra import eventually
from todo_runtime.runner import RunningService

QUIET = "600"  # svc_live's heartbeat seconds: far beyond the test
AFTER_READY = 5
ARRIVES_WITHIN = 10.0  # seconds for one change to arrive (about 0.05 s here)


def open_streams() -> float:
    return REGISTRY.get_sample_value("todo_live_streams") or 0.0


async def every_change_arrives(stack: LiveStack, url: str, replica: RunningService) -> None:
    user = new_user()
    async with client(url, token_for(user)) as subscriber:
        before = open_streams()
        operation = await subscriber.subscribe(TASK_UPDATES)  # no `since`: from now on
        await eventually(lambda: open_streams() > before, ARRIVES_WITHIN)  # svc_live opened it
        made, after = 0, 0
        while after < AFTER_READY:
            after += 1 if replica.readiness.ready else 0
            await stack.create(url, user, f"change {made}")
            made += 1
            await eventually(arrived(subscriber, operation, made), ARRIVES_WITHIN)
        titles = [update["task"]["title"] for update in await subscriber.updates(operation, made)]
    assert titles == [f"change {index}" for index in range(made)]


def arrived(subscriber: WsClient, operation: str, count: int) -> Callable[[], bool]:
    return lambda: len(subscriber.operations[operation].results) >= count


async def test_a_subscription_opened_while_svc_live_starts_gets_every_change(
    stack: LiveStack,
) -> None:
    replica = await stack.start_live(TODO_LIVE_HEARTBEAT_SECONDS=QUIET)
    url = await stack.start_gateway(replica)
    await every_change_arrives(stack, url, replica)


async def test_a_subscription_opened_while_svc_live_comes_back_gets_every_change(
    stack: LiveStack,
) -> None:
    first = await stack.start_live(TODO_LIVE_HEARTBEAT_SECONDS=QUIET)
    await eventually(lambda: first.readiness.ready, 60)
    await first.stop()
    stack.replicas.remove(first)
    second = await stack.start_live(TODO_LIVE_HEARTBEAT_SECONDS=QUIET)
    url = await stack.start_gateway(second)
    await every_change_arrives(stack, url, second)
