"""svc_live's gRPC stream, relayed to a subscription through a bounded buffer.

A relay task reads the stream as fast as svc_live sends, into a buffer of
`buffer` events (`GatewayContext.subscription_buffer`); the subscription sends
from it as fast as its client reads. A client slower than its updates fills the
buffer: the subscription then ends with SLOW_CONSUMER (its gRPC stream
cancelled, nothing else slowed down), and the client resubscribes with the
last cursor it got. Ending the subscription or closing the socket cancels the
relay and the gRPC stream. The subscription also ends, with UNAUTHENTICATED,
when the connection's token expires: a new connection needs a fresh token.
`todo_live_subscriptions` counts the subscriptions open, by field.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator

import grpc

from gateway.errors import (
    SLOW_CONSUMER,
    GatewayError,
    code_of,
    from_rpc_error,
    unauthenticated,
)
from todo_contracts.live.v1 import live_service_pb2 as pb
from todo_runtime import metrics

Stream = grpc.aio.UnaryStreamCall[pb.SubscribeRequest, pb.SubscribeResponse]


class _Relay:
    """Reads one gRPC stream into a bounded buffer; notes how it ended."""

    def __init__(self, call: Stream, capacity: int) -> None:
        self.call = call
        self.capacity = capacity
        self.items: deque[pb.SubscribeResponse] = deque()
        self.wake = asyncio.Event()
        self.failure: GatewayError | None = None
        self.ended = False

    async def run(self) -> None:
        try:
            async for response in self.call:
                if response.HasField("heartbeat"):
                    continue  # svc_live's keep-alive; the WebSocket has its own pings
                if len(self.items) >= self.capacity:
                    self.failure = GatewayError(
                        SLOW_CONSUMER,
                        "you read updates slower than they came: resubscribe with your last cursor",
                    )
                    self.call.cancel()
                    break
                self.items.append(response)
                self.wake.set()
        except grpc.aio.AioRpcError as error:
            self.failure = from_rpc_error(error)
        finally:
            self.ended = True
            self.wake.set()


async def relayed(
    call: Stream, field: str, *, buffer: int, expires_at: float | None
) -> AsyncIterator[pb.SubscribeResponse]:
    """The events of `call` (opened by `GatewayContext.stream`) until the client leaves, the
    stream fails or the token expires (`expires_at`, unix time)."""
    relay = _Relay(call, buffer)
    task = asyncio.create_task(relay.run(), name="gateway:live relay")
    open_now = metrics.LIVE_SUBSCRIPTIONS.labels(field)
    open_now.inc()
    try:
        while True:
            if expires_at is not None:
                remaining = expires_at - time.time()
                if remaining <= 0:
                    raise unauthenticated("token expired: connect again with a fresh token")
            else:
                remaining = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await relay.wake.wait()
            relay.wake.clear()
            if relay.failure is not None and code_of(relay.failure) == SLOW_CONSUMER:
                raise relay.failure
            while relay.items:
                yield relay.items.popleft()
            if relay.ended:
                if relay.failure is not None:
                    raise relay.failure
                return
    finally:
        open_now.dec()
        call.cancel()
        task.cancel()
        await asyncio.wait([task])
