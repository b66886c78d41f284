"""Subscriptions across replicas and failures: two svc_live replicas behind two gateway
processes, a svc_live restart and a gateway killed mid-stream, each resumed without loss."""

from __future__ import annotations

from tests.support.gateway.gateway_harness import new_user, token_for
from tests.support.gateway.live_stack import LiveStack
from tests.support.gateway.ws_client import (
    CHANGE_CURSOR,
    TASK_UPDATES,
    WsClient,
    client,
    open_client,
)
from tests.support.infra import eventually
from todo_cli.broker import free_port


async def _since(url: str, user: str) -> str:
    async with client(url, token_for(user)) as reader:
        cursor: str = (await reader.query(CHANGE_CURSOR))["tasks"]["changeCursor"]
    return cursor


async def test_two_replicas_behind_two_gateway_processes(stack: LiveStack) -> None:
    one, two = await stack.start_live(), await stack.start_live()
    gateways = [
        await stack.start_gateway_process(one),
        await stack.start_gateway_process(two),
    ]
    users = [new_user() for _ in range(4)]
    since = {user: await _since(gateways[0].url, user) for user in users}
    subscriptions: list[tuple[str, WsClient, str]] = []
    try:
        for user in users:
            for gateway in gateways:  # each user on both gateways, so both replicas serve them
                subscriber = await open_client(gateway.url, token_for(user))
                operation = await subscriber.subscribe(TASK_UPDATES, {"since": since[user]})
                subscriptions.append((user, subscriber, operation))
        for round_ in range(5):
            for index, user in enumerate(users):
                url = gateways[(round_ + index) % 2].url  # mutations spread over both too
                await stack.create(url, user, f"{user} {round_}")
        for user, subscriber, operation in subscriptions:
            updates = await subscriber.updates(operation, 5)
            assert [u["task"]["title"] for u in updates] == [f"{user} {r}" for r in range(5)]
    finally:
        for _, subscriber, _ in subscriptions:
            await subscriber.close()


async def test_a_svc_live_restart_mid_stream_is_resumed_without_loss(stack: LiveStack) -> None:
    port = str(free_port())
    replica = await stack.start_live(TODO_LIVE_PORT=port)
    url = await stack.start_gateway(replica)
    user = new_user()
    since = await _since(url, user)
    async with client(url, token_for(user)) as subscriber:
        operation = await subscriber.subscribe(TASK_UPDATES, {"since": since})
        await stack.create(url, user, "one")
        [first] = await subscriber.updates(operation, 1)
        await replica.stop()
        stack.replicas.remove(replica)
        ended = await subscriber.ended(operation)
        assert ended.error_codes == ["UNAVAILABLE"]
        await stack.create(url, user, "while svc_live restarts")
        await stack.start_live(TODO_LIVE_PORT=port)
        # svc_live serves again: the client subscribes again with its last cursor.
        resumed = await subscriber.subscribe(TASK_UPDATES, {"since": first["cursor"]})
        await stack.create(url, user, "after the restart")
        titles = [u["task"]["title"] for u in await subscriber.updates(resumed, 2)]
    assert titles == ["while svc_live restarts", "after the restart"]


async def test_a_gateway_killed_mid_stream_is_resumed_on_another(stack: LiveStack) -> None:
    await stack.start_live()
    doomed = await stack.start_gateway_process()
    other = await stack.start_gateway_process()
    user = new_user()
    since = await _since(other.url, user)
    subscriber = await open_client(doomed.url, token_for(user))
    operation = await subscriber.subscribe(TASK_UPDATES, {"since": since})
    await stack.create(other.url, user, "one")
    [first] = await subscriber.updates(operation, 1)
    doomed.kill()
    await eventually(lambda: subscriber.closed)
    for index in range(3):
        await stack.create(other.url, user, f"while reconnecting {index}")
    async with client(other.url, token_for(user)) as again:
        resumed = await again.subscribe(TASK_UPDATES, {"since": first["cursor"]})
        await stack.create(other.url, user, "after")
        titles = [u["task"]["title"] for u in await again.updates(resumed, 4)]
    assert titles == [*(f"while reconnecting {index}" for index in range(3)), "after"]
