"""What bounds subscriptions: slow consumers, operations per connection, connections per user,
tokens (bad, expired, expiring), the connection_init wait, dead clients, and no leftovers after
a thousand abrupt disconnects."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import socket
import time
import tracemalloc

import jwt
import psutil
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.gateway.gateway_harness import JWT_SECRET, new_user, token_for
from tests.support.gateway.live_stack import LiveStack
from tests.support.gateway.ws_client import (
    CHANGE_CURSOR,
    PROTOCOL,
    TASK_UPDATES,
    client,
    open_client,
)
from tests.support.infra import eventually

# Each update carries its description ten times (about 90 KB): a reader that stops reading
# fills the socket's buffers with a hundred or so.
BIG_UPDATES = (
    "subscription($since: String) { taskUpdates(since: $since) { cursor task { "
    + " ".join(f"d{index}: description" for index in range(10))
    + " } } }"
)


def _relays() -> int:
    """The gateway's relays of gRPC streams alive in this process (see gateway.subscriptions)."""
    return sum(task.get_name() == "gateway:live relay" for task in asyncio.all_tasks())


async def test_a_slow_consumer_is_ended_alone(live_stack: LiveStack) -> None:
    # No server pings here: the reader that stopped reading could not answer them.
    url = await live_stack.start_gateway(subscription_buffer=5, ws_ping_interval=600.0)
    user = new_user()
    async with client(url, token_for(user)) as fast:
        since = (await fast.query(CHANGE_CURSOR))["tasks"]["changeCursor"]
        watched = await fast.subscribe(TASK_UPDATES, {"since": since})
        # A client that never reads: a tiny receive buffer, its library stops reading at once,
        # and no compression shrinks what the server has to push.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # Segments smaller than that window, so that reading it again announces it (loopback's
        # 64 KB segments never fit, and the server would only probe, five times a second).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1024)
        sock.connect(("127.0.0.1", int(url.split(":")[2].split("/")[0])))
        slow = await connect(
            url,
            subprotocols=[PROTOCOL],
            sock=sock,
            max_queue=1,
            compression=None,
            ping_interval=None,
        )
        init = {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {token_for(user)}"},
        }
        await slow.send(json.dumps(init))
        assert json.loads(await slow.recv()) == {"type": "connection_ack"}
        payload = {"query": BIG_UPDATES, "variables": {"since": since}}
        await slow.send(json.dumps({"id": "slow", "type": "subscribe", "payload": payload}))
        description = "x" * 9000
        for chunk in range(2):
            await asyncio.gather(
                *(
                    live_stack.create(url, user, f"change {chunk}-{index}", description=description)
                    for index in range(50)
                )
            )
        # The fast client got every change meanwhile; the slow one's relay and gRPC stream are
        # gone, and what that client is sent ends with SLOW_CONSUMER.
        assert len(await fast.updates(watched, 100)) == 100
        await eventually(lambda: _relays() == 1)
        delivered, codes = await _read_to_the_end(slow)
        print(f"the slow reader got {delivered} updates, then {codes}")
        assert codes == ["SLOW_CONSUMER"]
        assert delivered < 100
        slow.transport.abort()


async def _read_to_the_end(connection: ClientConnection) -> tuple[int, list[str]]:
    """How many updates the connection's one subscription delivered before it ended, and the codes it ended with."""
    delivered, codes = 0, []
    async with asyncio.timeout(60):
        while True:
            message = json.loads(await connection.recv())
            if message["type"] == "next" and "errors" not in message["payload"]:
                delivered += 1
            elif message["type"] == "next":
                codes = [error["extensions"]["code"] for error in message["payload"]["errors"]]
            elif message["type"] == "complete":
                return delivered, codes


async def test_operations_per_connection_are_limited(live_stack: LiveStack) -> None:
    url = await live_stack.start_gateway(ws_max_operations=2)
    async with client(url, token_for(new_user())) as subscriber:
        first = await subscriber.subscribe(TASK_UPDATES)
        await subscriber.subscribe(TASK_UPDATES)
        third = await subscriber.subscribe(TASK_UPDATES)
        refused = await subscriber.ended(third)
        assert refused.error_codes == ["TOO_MANY_OPERATIONS"]
        await subscriber.complete(first)
        await eventually(lambda: _relays() == 1)
        fourth = await subscriber.subscribe(TASK_UPDATES)
        await eventually(lambda: _relays() == 2)
        assert subscriber.operations[fourth].error is None


async def test_connections_per_user_are_limited(live_stack: LiveStack) -> None:
    url = await live_stack.start_gateway(ws_max_connections_per_user=2)
    user = new_user()
    one = await open_client(url, token_for(user))
    two = await open_client(url, token_for(user))
    with pytest.raises(ConnectionClosed) as closed:
        await open_client(url, token_for(user))
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    await (await open_client(url, token_for(new_user()))).close()  # other users are not counted
    await one.close()
    again = await open_client(url, token_for(user))  # a closed connection frees its slot
    for connection in (two, again):
        await connection.close()


async def test_an_expired_token_is_refused_on_connection_init(live_stack: LiveStack) -> None:
    url = await live_stack.start_gateway()
    expired = jwt.encode({"sub": new_user(), "exp": int(time.time()) - 10}, JWT_SECRET)
    with pytest.raises(ConnectionClosed) as closed:
        await open_client(url, expired)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_a_subscription_ends_when_its_token_expires(live_stack: LiveStack) -> None:
    url = await live_stack.start_gateway()
    async with client(url, token_for(new_user(), ttl_seconds=3)) as subscriber:
        operation = await subscriber.subscribe(TASK_UPDATES)
        ended = await subscriber.ended(operation)
        assert ended.error_codes == ["UNAUTHENTICATED"]
        # Every other operation on the connection is refused from then on too.
        query = await subscriber.ended(await subscriber.subscribe(CHANGE_CURSOR))
        assert query.error_codes == ["UNAUTHENTICATED"]
    await eventually(lambda: _relays() == 0)


async def test_a_client_without_connection_init_is_closed_4408(live_stack: LiveStack) -> None:
    url = await live_stack.start_gateway()  # the default wait: 3 s
    connection = await connect(url, subprotocols=[PROTOCOL])
    async with asyncio.timeout(10):
        with pytest.raises(ConnectionClosed) as closed:
            await connection.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408


async def test_a_dead_client_is_dropped_within_two_ping_intervals(live_stack: LiveStack) -> None:
    url = await live_stack.start_gateway(ws_ping_interval=1.0)
    subscriber = await open_client(url, token_for(new_user()))
    await subscriber.subscribe(TASK_UPDATES)
    await eventually(lambda: _relays() == 1)
    subscriber.connection.transport.pause_reading()  # it answers no ping from now on
    async with asyncio.timeout(2 * 1.0 + 2.0):  # two intervals, and slack for a busy machine
        await eventually(lambda: _relays() == 0)
    subscriber.abort()


# Alone: its RSS must level off, and under the parallel suite's load one round has grown 10 to
# 18 MB from allocator arenas alone while the Python objects left stayed under 0.1 MB.
@pytest.mark.alone
async def test_a_thousand_abrupt_disconnects_leave_nothing_behind(live_stack: LiveStack) -> None:
    url = await live_stack.start_gateway()
    process = psutil.Process()

    # Reconnecting clients: a few users with one token each (every new token would be cached).
    tokens = itertools.cycle([token_for(new_user()) for _ in range(20)])

    async def cycle() -> None:
        subscriber = await open_client(url, next(tokens))
        await subscriber.subscribe(TASK_UPDATES)
        await subscriber.drop()

    async def thousand_cycles() -> int:
        """Runs 1000 cycles, 20 at a time; returns the RSS growth once everything ended."""
        rss_before = process.memory_info().rss
        for _ in range(50):
            await asyncio.gather(*(cycle() for _ in range(20)))
        await eventually(lambda: _relays() == 0 and len(asyncio.all_tasks()) <= tasks_before, 60.0)
        gc.collect()
        return process.memory_info().rss - rss_before

    tasks_before = len(asyncio.all_tasks())
    # Caches, pools, lazily made objects and the allocator's arenas grow to their size first;
    # after that a leak keeps growing. This process also runs svc_tasks and svc_live, and RSS
    # moves with the allocator's arenas, so the Python objects left behind are counted exactly
    # (tracemalloc) and RSS must merely level off.
    await thousand_cycles()
    await thousand_cycles()
    tracemalloc.start()
    try:
        await thousand_cycles()  # tracemalloc's own structures grow here
        traced_before, _ = tracemalloc.get_traced_memory()
        growths = [await thousand_cycles() for _ in range(2)]
        traced_after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    left = traced_after - traced_before
    assert left < 1024 * 1024, f"{left / 1e6:.2f} MB of Python objects left by 2000 cycles"
    assert min(growths) < 8 * 1024 * 1024, f"RSS grew {[g / 1e6 for g in growths]} MB per 1000"
