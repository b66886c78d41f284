"""Consumes `task-events`: each completed recurring instance gets exactly one next instance.

The handler runs in the runtime's unit of work (inbox claim in svc_recur's
schema, one transaction): it asks svc_tasks for the next instance, which is
idempotent by (series id, index), so a redelivered completion, a completion
after a reopen, or two replicas racing all converge on one instance. An
unavailable svc_tasks is a transient failure, retried until it is back; an
event that can never produce an instance is permanent and dead-lettered.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import grpc

from svc_recur.next_instance import is_recurring_completion, plan_next
from todo_contracts.events.v1 import task_events_pb2
from todo_recurrence import CatchUp
from todo_runtime.db import Connection
from todo_runtime.failures import PermanentError, is_transient
from todo_runtime.grpc_client import CallContext
from todo_runtime.offload import Offload
from todo_runtime.received_event import ReceivedEvent

if TYPE_CHECKING:
    from todo_contracts.tasks.v1.tasks_service_pb2_grpc import TaskServiceAsyncStub

log = logging.getLogger(__name__)
_NEXT_INSTANCES = " next instances"  # an offload key no user id can take (ids have no spaces)


class CompletionHandler:
    """Turns completion events into next instances; the consumer calls it once per event."""

    def __init__(
        self, tasks: TaskServiceAsyncStub, calls: CallContext, catch_up: CatchUp, offload: Offload
    ) -> None:
        self._tasks = tasks
        self._calls = calls
        self._catch_up = catch_up
        self._offload = offload

    async def __call__(self, received: ReceivedEvent, conn: Connection) -> None:
        event = received.parse(task_events_pb2.TaskEvent)
        if not is_recurring_completion(event):
            return
        # Its own turn on the workers, so users' previews never queue next instances.
        request = await self._offload.run(_NEXT_INSTANCES, plan_next, event, self._catch_up)
        if request is None:
            log.info("series %s ended with task %s", event.task.series_id, event.task.id)
            return
        try:
            response = await self._tasks.CreateTask(
                request, metadata=self._calls.metadata(event.user_id), timeout=self._calls.timeout
            )
        except grpc.aio.AioRpcError as error:
            if is_transient(error):
                raise
            if error.code() == grpc.StatusCode.ABORTED:  # the user deleted that instance already
                log.info(
                    "series %s: instance %d was deleted; not creating it again",
                    request.task.series_id,
                    request.task.series_index,
                )
                return
            raise PermanentError(
                f"svc_tasks refused the next instance: {error.code().name} {error.details()}"
            ) from None
        log.info(
            "series %s: instance %d is task %s",
            request.task.series_id,
            request.task.series_index,
            response.task.id,
        )
