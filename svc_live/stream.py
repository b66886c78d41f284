"""One Subscribe call: replay from the change log, then live, each change once and in order.

The stream joins the fan-out before it reads the log, so a change committed
meanwhile is either in the log or still to come from the broker. It then
delivers sequence `last + 1` and nothing else: a duplicate (`<= last`) is
dropped, a jump (`> last + 1`) means something was missed and the log is read
again from `last`. So is it whenever the stream cannot vouch for its buffer
(`Stream.stale`) and on every heartbeat of an idle stream, which catches a
change whose record never arrived and was not followed by another.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from svc_live.change_log import ChangeLog
from svc_live.fanout import Stream
from todo_contracts.events.v1.task_events_pb2 import TaskUpdate
from todo_contracts.live.v1 import live_service_pb2 as pb
from todo_runtime.errors import InvalidArgument, TooSlow
from todo_runtime.timestamps import timestamp


class FellBehind(TooSlow):
    """The client read too slowly to buffer its reminders: it should subscribe again."""


class LiveStream:
    """Produces the responses of one stream; `last` is the sequence its client has seen."""

    def __init__(self, stream: Stream, log: ChangeLog, heartbeat: float) -> None:
        self._stream = stream
        self._log = log
        self._heartbeat = heartbeat
        self.last = 0

    async def start(self, after_sequence: int, *, from_latest: bool) -> None:
        """Checks the cursor against the user's log (before anything is sent)."""
        if after_sequence < 0:
            raise InvalidArgument("after_sequence", "must not be negative")
        if not self._stream.task_updates:
            return
        latest = await self._log.latest(self._stream.user_id)
        if from_latest:
            self.last = latest
        elif after_sequence > latest:
            raise InvalidArgument("after_sequence", "is beyond your latest change")
        else:
            self.last = after_sequence

    async def responses(self) -> AsyncIterator[pb.SubscribeResponse]:
        """Replay, then a heartbeat saying the stream is live, then live until the client cancels."""
        async for response in self._resync():
            yield response
        yield self._heartbeat_response()
        stream = self._stream
        while True:
            try:
                async with asyncio.timeout(self._heartbeat):
                    await stream.wake.wait()
            except TimeoutError:
                async for response in self._idle():
                    yield response
                continue
            stream.wake.clear()
            if stream.overflowed:
                raise FellBehind("the stream's buffer overflowed; subscribe again")
            if stream.stale:
                stream.stale = False
                stream.items.clear()
                async for response in self._resync():
                    yield response
            async for response in self._drain():
                yield response

    async def _idle(self) -> AsyncIterator[pb.SubscribeResponse]:
        """A quiet stream checks the log for a change whose record never came, else says it lives."""
        sent = False
        async for response in self._resync():
            sent = True
            yield response
        if not sent:
            yield self._heartbeat_response()

    def _heartbeat_response(self) -> pb.SubscribeResponse:
        now = timestamp(datetime.now(UTC))
        return pb.SubscribeResponse(heartbeat=pb.Heartbeat(send_time=now, sequence=self.last))

    async def _drain(self) -> AsyncIterator[pb.SubscribeResponse]:
        """The buffered records: the next sequence is sent, older ones dropped, a jump resyncs."""
        items = self._stream.items
        while items:
            item = items.popleft()
            if not isinstance(item, TaskUpdate):
                yield pb.SubscribeResponse(reminder_fired=item)
            elif item.sequence == self.last + 1:
                self.last = item.sequence
                yield pb.SubscribeResponse(task_update=item)
            elif item.sequence > self.last + 1:
                async for response in self._resync():
                    yield response

    async def _resync(self) -> AsyncIterator[pb.SubscribeResponse]:
        if not self._stream.task_updates:
            return
        async for update in self._log.after(self._stream.user_id, self.last):
            if update.sequence == self.last + 1:
                self.last = update.sequence
                yield pb.SubscribeResponse(task_update=update)
