"""Routes consumed records to the open streams of their user, never waiting for a slow one.

Every svc_live replica consumes every partition (see `ServiceParts.fan_out`),
so a stream can be served by any replica. A stream's buffer is bounded: when
it is full the stream is marked `stale` and its buffered task updates are
dropped, which is safe because the stream re-reads the change log before it
trusts its buffer again. Reminders have no change log, so a stream that wants
them is ended instead (`overflowed`), and its client resumes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field

from todo_contracts.events.v1.reminder_events_pb2 import ReminderFired
from todo_contracts.events.v1.task_events_pb2 import TaskUpdate
from todo_runtime import topics
from todo_runtime.failures import PermanentError
from todo_runtime.received_event import ReceivedEvent

log = logging.getLogger(__name__)

Item = TaskUpdate | ReminderFired


@dataclass(eq=False)
class Stream:
    """One open Subscribe call's inbox: what it wants, what arrived, and whether it can trust it."""

    user_id: str
    task_updates: bool
    reminders: bool
    capacity: int
    items: deque[Item] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Records may have passed unseen (overflow, broker restart): re-read the change log.
    stale: bool = False
    # A reminder could not be buffered: the stream must end so its client resumes.
    overflowed: bool = False

    def offer(self, item: Item) -> None:
        if len(self.items) >= self.capacity:
            self.items.clear()
            self.stale = True
            self.overflowed = self.overflowed or self.reminders
        else:
            self.items.append(item)
        self.wake.set()

    def mark_stale(self) -> None:
        self.stale = True
        self.wake.set()


class Fanout:
    """The open streams by user; `handle` is the fan-out consumer's handler."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._streams: dict[str, set[Stream]] = {}

    def open(self, user_id: str, *, task_updates: bool, reminders: bool) -> Stream:
        stream = Stream(user_id, task_updates, reminders, self._capacity)
        self._streams.setdefault(user_id, set()).add(stream)
        return stream

    def close(self, stream: Stream) -> None:
        streams = self._streams.get(stream.user_id)
        if streams is not None:
            streams.discard(stream)
            if not streams:
                del self._streams[stream.user_id]

    def reassigned(self) -> None:
        """The consumer may have missed records: every stream re-reads the change log."""
        for streams in self._streams.values():
            for stream in streams:
                stream.mark_stale()

    async def handle(self, event: ReceivedEvent) -> None:
        try:
            item: Item = (
                event.parse(TaskUpdate)
                if event.topic == topics.TASK_UPDATES
                else event.parse(ReminderFired)
            )
        except PermanentError as error:
            # Every replica sees the record: one log line each, no dead letters in triplicate.
            log.error("skipping %s@%d: %s", event.topic, event.offset, error)
            return
        for stream in self._streams.get(item.user_id, ()):
            if stream.task_updates if isinstance(item, TaskUpdate) else stream.reminders:
                stream.offer(item)
