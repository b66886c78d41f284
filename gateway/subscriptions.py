"""The Subscription root: svc_live's gRPC stream, relayed through a bounded buffer per subscription.

A relay task reads the stream as fast as svc_live sends, into a buffer of
`GatewayContext.subscription_buffer` events; the subscription sends from it
as fast as its client reads. A client slower than its updates fills the
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
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any

import grpc
import strawberry

from gateway.change_cursors import ChangeCursors, invalid_cursor
from gateway.context import GatewayContext
from gateway.errors import (
    BAD_USER_INPUT,
    SLOW_CONSUMER,
    GatewayError,
    from_rpc_error,
    unauthenticated,
)
from gateway.types.live import ReminderNotice, TaskUpdate
from todo_contracts.live.v1 import live_service_pb2 as pb
from todo_runtime import metrics

Info = strawberry.Info[GatewayContext, None]


class _Relay:
    """Reads one gRPC stream into a bounded buffer; notes how it ended."""

    def __init__(self, call: Any, capacity: int) -> None:
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


async def _relayed(
    context: GatewayContext, request: pb.SubscribeRequest, field: str
) -> AsyncIterator[pb.SubscribeResponse]:
    """svc_live's events for the caller until the client leaves, the stream fails or the token expires."""
    call = context.live.Subscribe(request, metadata=context.metadata())
    relay = _Relay(call, context.subscription_buffer)
    task = asyncio.create_task(relay.run(), name="gateway:live relay")
    open_now = metrics.LIVE_SUBSCRIPTIONS.labels(field)
    open_now.inc()
    try:
        while True:
            if context.expires_at is not None:
                remaining = context.expires_at - time.time()
                if remaining <= 0:
                    raise unauthenticated("token expired: connect again with a fresh token")
            else:
                remaining = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await relay.wake.wait()
            relay.wake.clear()
            if relay.failure is not None and _code(relay.failure) == SLOW_CONSUMER:
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


async def task_updates(
    info: Info,
    since: Annotated[
        str | None,
        strawberry.argument(
            description="A cursor from TaskUpdate.cursor or tasks.changeCursor; null = only "
            "changes from now on."
        ),
    ] = None,
) -> AsyncGenerator[TaskUpdate, None]:
    context = info.context
    user = context.user()
    cursors = ChangeCursors(context.services.call.secret)
    request = pb.SubscribeRequest(task_updates=True)
    if since is None:
        request.from_latest = True
    else:
        request.after_sequence = cursors.decode(user, since)
    try:
        async for response in _relayed(context, request, "taskUpdates"):
            if response.HasField("task_update"):
                update = response.task_update
                yield TaskUpdate.from_pb(update, cursors.encode(user, update.sequence))
    except GatewayError as error:
        if _code(error) == BAD_USER_INPUT:
            raise invalid_cursor() from None  # a cursor beyond the user's log
        raise


async def reminders(info: Info) -> AsyncGenerator[ReminderNotice, None]:
    request = pb.SubscribeRequest(reminders=True)
    async for response in _relayed(info.context, request, "reminders"):
        if response.HasField("reminder_fired"):
            yield ReminderNotice.from_pb(response.reminder_fired)


def _code(error: GatewayError) -> object:
    return (error.extensions or {}).get("code")


@strawberry.type(
    description="Live updates over graphql-transport-ws (send the token in connection_init)."
)
class Subscription:
    task_updates: AsyncGenerator[TaskUpdate, None] = strawberry.subscription(
        resolver=task_updates,
        description="Your task changes, in order, each once: first those after `since`, then "
        "live. Ends with SLOW_CONSUMER if you read slower than changes come, or UNAVAILABLE: "
        "subscribe again with the last cursor you got.",
    )
    reminders: AsyncGenerator[ReminderNotice, None] = strawberry.subscription(
        resolver=reminders,
        description="Your reminders as they fire (live only: on reconnect, read "
        "notifications(unreadOnly: true) for those fired meanwhile).",
    )
