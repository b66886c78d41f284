"""LiveService: the caller's changes and reminders as one server stream (see `stream`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from svc_live.change_log import ChangeLog
from svc_live.fanout import Fanout
from svc_live.stream import LiveStream
from todo_contracts.live.v1 import live_service_pb2 as pb
from todo_contracts.live.v1 import live_service_pb2_grpc
from todo_runtime import metrics
from todo_runtime.errors import InvalidArgument
from todo_runtime.identity import current_user

Context = grpc.aio.ServicerContext[Any, Any]


class LiveServicer(live_service_pb2_grpc.LiveServiceServicer):
    """Streams from `fanout`, resyncing from `log`; an idle stream gets a heartbeat every
    `heartbeat` seconds."""

    def __init__(self, fanout: Fanout, log: ChangeLog, heartbeat: float) -> None:
        self._fanout = fanout
        self._log = log
        self._heartbeat = heartbeat

    async def Subscribe(
        self, request: pb.SubscribeRequest, context: Context
    ) -> AsyncIterator[pb.SubscribeResponse]:
        if not (request.task_updates or request.reminders):
            raise InvalidArgument("task_updates", "ask for task_updates, reminders or both")
        stream = self._fanout.open(
            current_user(), task_updates=request.task_updates, reminders=request.reminders
        )
        metrics.LIVE_STREAMS.inc()
        try:
            live = LiveStream(stream, self._log, self._heartbeat)
            await live.start(request.after_sequence, from_latest=request.from_latest)
            async for response in live.responses():
                yield response
        finally:
            metrics.LIVE_STREAMS.dec()  # also when the client vanished: the call is cancelled
            self._fanout.close(stream)
