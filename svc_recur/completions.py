"""Consumes `task-events`: each completed recurring instance gets exactly one next instance.

The handler is the whole effect: skip completions already recorded, ask
svc_tasks for the next instance (idempotent by series and index), record the
completion. Transient failures of svc_tasks are retried here without limit, so
an outage delays next instances but never dead-letters them; a rejected
request is permanent and goes to the dead-letter topic through the consumer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
import grpc

from svc_recur.next_instance import is_recurring_completion, plan_next
from svc_recur.recurrence import CatchUp
from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2
from todo_runtime.consumer import ReceivedEvent
from todo_runtime.grpc_client import CallContext

if TYPE_CHECKING:
    from todo_contracts.tasks.v1.tasks_service_pb2_grpc import TaskServiceAsyncStub

log = logging.getLogger(__name__)
# svc_tasks or its database is unreachable or busy: wait it out. Anything else
# (a rejected request, a bug) is permanent and ends in the dead-letter topic.
_TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
MAX_BACKOFF = 10.0


class CompletionHandler:
    """Turns completion events into next instances; call it with each received event."""

    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        tasks: TaskServiceAsyncStub,
        calls: CallContext,
        catch_up: CatchUp,
    ) -> None:
        self._pool = pool
        self._tasks = tasks
        self._calls = calls
        self._catch_up = catch_up

    async def __call__(self, received: ReceivedEvent) -> None:
        event = received.parse(task_events_pb2.TaskEvent)
        if not is_recurring_completion(event):
            return
        if await self._pool.fetchval(
            "SELECT 1 FROM processed_completions WHERE event_id = $1", event.event_id
        ):
            return
        request = plan_next(event, self._catch_up)
        if request is None:
            log.info("series %s ended with task %s", event.task.series_id, event.task.id)
            await self._record(event, None)
            return
        created = await self._create(event.user_id, request)
        await self._record(event, created.id)
        log.info(
            "series %s: instance %d is task %s",
            request.task.series_id,
            request.task.series_index,
            created.id,
        )

    async def _create(
        self, user_id: str, request: tasks_service_pb2.CreateTaskRequest
    ) -> task_pb2.Task:
        backoff = 0.2
        while True:
            try:
                response = await self._tasks.CreateTask(
                    request, metadata=self._calls.metadata(user_id), timeout=self._calls.timeout
                )
                return response.task
            except grpc.aio.AioRpcError as error:
                if error.code() not in _TRANSIENT:
                    raise
                log.warning(
                    "svc_tasks %s; retrying in %.1f s: %s",
                    error.code().name,
                    backoff,
                    error.details(),
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def _record(self, event: task_events_pb2.TaskEvent, next_task_id: str | None) -> None:
        await self._pool.execute(
            """INSERT INTO processed_completions (event_id, task_id, series_id, next_task_id)
               VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING""",
            event.event_id,
            uuid.UUID(event.task.id),
            uuid.UUID(event.task.series_id),
            uuid.UUID(next_task_id) if next_task_id else None,
        )
