"""TaskService: converts requests into domain values and results back; calls the domain and the
store.

The rules are the domain's (`svc_tasks.domain`), the queries the store's. Every
method acts for `identity.current_user()`; errors are raised as domain errors
and mapped to statuses by the shared interceptor.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import grpc

from svc_tasks import listing, messages
from svc_tasks.domain import fields, lifecycle, revert
from svc_tasks.store import LockedTask, LoggedChange, TaskStore
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2, tasks_service_pb2_grpc
from todo_runtime import object_ids, validation
from todo_runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from todo_runtime.identity import current_user
from todo_runtime.offload import Offload
from todo_runtime.page_tokens import PageTokens

P = ParamSpec("P")
R = TypeVar("R")
Context = grpc.aio.ServicerContext[Any, Any]
CHANGES_DEFAULT_PAGE, CHANGES_MAX_PAGE = 100, 1000


def task_query(
    request: tasks_service_pb2.ListTasksRequest, owner_id: str, tokens: PageTokens
) -> listing.TaskQuery:
    """The request as a validated query (the benchmark's plans are built from it too)."""
    flt = request.filter
    # Lists are bounded before any item is looked at (filter.tags by fields.tags).
    validation.bounded(flt.priorities, "filter.priorities", validation.PRIORITIES_MAX)
    validation.bounded(request.order_by, "order_by", validation.ORDER_KEYS_MAX)
    status = listing.status_filter(flt.status)
    priorities = tuple(
        sorted(
            {fields.priority(p, f"filter.priorities[{i}]") for i, p in enumerate(flt.priorities)}
        )
    )
    query = listing.TaskQuery(
        owner_id=owner_id,
        status=status,
        priorities=priorities,
        tags=tuple(fields.tags(flt.tags, "filter.tags")),
        due_before=validation.instant_from_pb(flt.due_before, "filter.due_before")
        if flt.HasField("due_before")
        else None,
        due_after=validation.instant_from_pb(flt.due_after, "filter.due_after")
        if flt.HasField("due_after")
        else None,
        overdue=flt.overdue if flt.HasField("overdue") else None,
        search=validation.text(flt.search.strip(), "filter.search", max_length=listing.SEARCH_MAX),
        order=listing.order_keys([(key.field, key.direction) for key in request.order_by]),
        page_size=validation.page_size(
            request.page_size, default=listing.DEFAULT_PAGE_SIZE, maximum=listing.MAX_PAGE_SIZE
        ),
    )
    return replace(
        query,
        after=listing.decode_token(tokens, query, request.page_token, "page_token")
        if request.page_token
        else None,
        before=listing.decode_token(tokens, query, request.before_page_token, "before_page_token")
        if request.before_page_token
        else None,
        from_end=request.from_end,
    )


def _changes_start(
    request: tasks_service_pb2.ListChangesRequest, owner_id: str, tokens: PageTokens
) -> int:
    if request.after_sequence < 0:
        raise InvalidArgument("after_sequence", "must not be negative")
    if not request.page_token:
        return request.after_sequence
    payload = tokens.decode(owner_id, request.page_token)
    if payload.integer("from") != request.after_sequence:
        raise InvalidArgument("page_token", "belongs to a different after_sequence")
    return payload.integer("after")


class TaskServicer(tasks_service_pb2_grpc.TaskServiceServicer):
    """`store` holds the tasks; `secret` signs page tokens (shared by every replica);
    `offload` runs the recurrence engine off the event loop, one computation per user at a time."""

    def __init__(self, store: TaskStore, secret: str, offload: Offload) -> None:
        self._store = store
        self._offload = offload
        self._list_tokens = PageTokens(secret, "todo.tasks.v1.ListTasks")
        self._change_tokens = PageTokens(secret, "todo.tasks.v1.ListChanges")

    async def _decide(
        self,
        owner: str,
        expands: bool,
        rule: Callable[P, R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """`rule(*args)`: on a worker when it `expands` a recurrence (CPU-bound), else here."""
        if expands:
            return await self._offload.run(owner, rule, *args, **kwargs)
        return rule(*args, **kwargs)

    async def CreateTask(
        self, request: tasks_service_pb2.CreateTaskRequest, context: Context
    ) -> tasks_service_pb2.CreateTaskResponse:
        owner = current_user()
        messages.bound_lists(request.task)
        draft = lifecycle.Draft(
            messages.input_from_pb(request.task),
            series_id=request.task.series_id,
            series_index=request.task.series_index,
            request_id=request.request_id,
        )
        now = datetime.now(UTC)
        new = await self._decide(
            owner, lifecycle.create_expands(draft), lifecycle.new_task, draft, now
        )
        created = await self._store.create(owner, new, actor=owner)
        return tasks_service_pb2.CreateTaskResponse(task=lifecycle.create_answer(created))

    async def GetTask(
        self, request: tasks_service_pb2.GetTaskRequest, context: Context
    ) -> tasks_service_pb2.GetTaskResponse:
        task = await self._store.get(current_user(), object_ids.task_id(request.id))
        return tasks_service_pb2.GetTaskResponse(task=task)

    async def ListTasks(
        self, request: tasks_service_pb2.ListTasksRequest, context: Context
    ) -> tasks_service_pb2.ListTasksResponse:
        query = task_query(request, current_user(), self._list_tokens)
        page = await self._store.page(
            query,
            count=not request.skip_total_size,
            latest=request.read_latest_sequence,
            fields=messages.read_mask(request.read_mask),
        )
        cursors = [listing.encode_token(self._list_tokens, query, p) for p in page.positions]
        return tasks_service_pb2.ListTasksResponse(
            tasks=page.tasks,
            next_page_token=cursors[-1] if cursors and page.has_next else "",
            total_size=page.total,
            cursors=cursors,
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            latest_sequence=page.latest_sequence,
        )

    async def UpdateTask(
        self, request: tasks_service_pb2.UpdateTaskRequest, context: Context
    ) -> tasks_service_pb2.UpdateTaskResponse:
        owner = current_user()
        messages.bound_lists(request.task)
        paths = lifecycle.mask(request.update_mask.paths)
        task_id = object_ids.task_id(request.task.id, "task.id")
        expected = request.expected_version if request.HasField("expected_version") else None
        now = datetime.now(UTC)
        async with self._store.locked(owner, task_id) as locked:
            # Converted once the task is found: another user's task is NOT_FOUND, whatever is sent.
            edit = lifecycle.Edit(paths, messages.input_from_pb(request.task, paths), expected)
            expands = lifecycle.update_expands(locked.state, edit)
            change = await self._decide(owner, expands, lifecycle.update, locked.state, edit, now)
            task = await locked.write(change, actor=owner)
        return tasks_service_pb2.UpdateTaskResponse(task=task)

    async def CompleteTask(
        self, request: tasks_service_pb2.CompleteTaskRequest, context: Context
    ) -> tasks_service_pb2.CompleteTaskResponse:
        task = await self._set_status(request.id, task_pb2.TASK_STATUS_COMPLETED)
        return tasks_service_pb2.CompleteTaskResponse(task=task)

    async def ReopenTask(
        self, request: tasks_service_pb2.ReopenTaskRequest, context: Context
    ) -> tasks_service_pb2.ReopenTaskResponse:
        task = await self._set_status(request.id, task_pb2.TASK_STATUS_OPEN)
        return tasks_service_pb2.ReopenTaskResponse(task=task)

    async def _set_status(self, task_id: str, status: task_pb2.TaskStatus) -> task_pb2.Task:
        owner, now = current_user(), datetime.now(UTC)
        async with self._store.locked(owner, object_ids.task_id(task_id)) as locked:
            return await locked.write(lifecycle.set_status(locked.state, status, now), actor=owner)

    async def DeleteTask(
        self, request: tasks_service_pb2.DeleteTaskRequest, context: Context
    ) -> tasks_service_pb2.DeleteTaskResponse:
        owner = current_user()
        task_id = object_ids.task_id(request.id)
        await self._store.delete(owner, task_id, actor=owner)
        return tasks_service_pb2.DeleteTaskResponse(id=str(task_id))

    async def ListChanges(
        self, request: tasks_service_pb2.ListChangesRequest, context: Context
    ) -> tasks_service_pb2.ListChangesResponse:
        size = validation.page_size(
            request.page_size, default=CHANGES_DEFAULT_PAGE, maximum=CHANGES_MAX_PAGE
        )
        owner = current_user()
        start = _changes_start(request, owner, self._change_tokens)
        changes, latest = await self._store.list_changes(owner, start, size + 1)
        token = ""
        if len(changes) > size:
            changes = changes[:size]
            payload = {"from": request.after_sequence, "after": changes[-1].sequence}
            token = self._change_tokens.encode(owner, payload)
        return tasks_service_pb2.ListChangesResponse(
            changes=changes, next_page_token=token, latest_sequence=latest
        )

    async def RevertChange(
        self, request: tasks_service_pb2.RevertChangeRequest, context: Context
    ) -> tasks_service_pb2.RevertChangeResponse:
        owner = current_user()
        try:
            event_id = uuid.UUID(request.event_id)
        except ValueError:
            raise InvalidArgument("event_id", "must be a change's event id (a UUID)") from None
        logged = await self._store.logged(owner, event_id)
        if logged.kind == task_pb2.CHANGE_KIND_CREATED:
            return await self._uncreate(owner, logged)
        if logged.kind == task_pb2.CHANGE_KIND_DELETED:
            return await self._restore(owner, logged)
        if logged.before is None:  # every change but a creation follows one of the same task
            raise FailedPrecondition("this change cannot be undone", reason="NOT_REVERTIBLE")
        before, after = messages.state_from_pb(logged.before), messages.state_from_pb(logged.after)
        response = tasks_service_pb2.RevertChangeResponse()
        try:
            async with self._store.locked(owner, logged.task_id) as locked:
                change = revert.revert(locked.state, before, after)
                response.task.CopyFrom(await locked.write(change, actor=owner))
                if change is not None:
                    response.kind = change.kind
                if logged.kind == task_pb2.CHANGE_KIND_COMPLETED and change is not None:
                    await _undo_next_instance(locked, owner, response)
        except NotFound:
            raise FailedPrecondition(
                f"task {logged.task_id} was deleted since; restore it from its delete first",
                reason="CHANGED_SINCE",
            ) from None
        return response

    async def _uncreate(
        self, owner: str, logged: LoggedChange
    ) -> tasks_service_pb2.RevertChangeResponse:
        """Undoes a creation: deletes the task while it is as created; gone already, nothing."""
        response = tasks_service_pb2.RevertChangeResponse()
        created = messages.state_from_pb(logged.after)
        try:
            async with self._store.locked(owner, logged.task_id) as locked:
                revert.check_uncreate(locked.state, created)
                await locked.delete(actor=owner)
        except NotFound:
            return response  # deleted already (by this revert retried, or by hand)
        response.kind = task_pb2.CHANGE_KIND_DELETED
        return response

    async def _restore(
        self, owner: str, logged: LoggedChange
    ) -> tasks_service_pb2.RevertChangeResponse:
        """Undoes a delete: the task again, same id and series, as a creation."""
        deleted = messages.state_from_pb(logged.after)
        existing = await self._store.find(owner, logged.task_id)
        state = revert.restored(existing, deleted)
        task, wrote = await self._store.restore(owner, logged.after, state, actor=owner)
        if not wrote:  # restored by a concurrent call between the read and the insert
            revert.restored(messages.state_from_pb(task), deleted)
        return tasks_service_pb2.RevertChangeResponse(
            task=task,
            kind=task_pb2.CHANGE_KIND_CREATED if wrote else task_pb2.CHANGE_KIND_UNSPECIFIED,
        )


async def _undo_next_instance(
    locked: LockedTask, owner: str, response: tasks_service_pb2.RevertChangeResponse
) -> None:
    """After a completion is undone: the next instance it made goes too, in the same
    transaction, unless it was changed since (then it stays, and the answer says so)."""
    following = await locked.successor()
    if following is None:
        return
    if revert.removes_next_instance(following.state):
        await following.delete(actor=owner)
        response.removed_next_instance_id = str(following.state.id)
    else:
        response.kept_next_instance.CopyFrom(following.task())
