"""TaskService: a thin adapter from requests to domain validation and the store.

Every method acts for `identity.current_user()`; errors are raised as domain
errors and mapped to statuses by the shared interceptor.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import grpc

from svc_tasks import domain, listing
from svc_tasks.domain import RecurrenceValue
from svc_tasks.messages import reminders_from_pb, reminders_to_json
from svc_tasks.recurrence import is_final, resolve
from svc_tasks.store import Changes, Row, TaskStore
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2, tasks_service_pb2_grpc
from todo_runtime import validation
from todo_runtime.errors import InvalidArgument
from todo_runtime.identity import current_user
from todo_runtime.offload import Offload
from todo_runtime.page_tokens import PageTokens

Context = grpc.aio.ServicerContext[Any, Any]
UPDATABLE = frozenset(
    {"title", "description", "priority", "tags", "due_time", "time_zone", "recurrence", "reminders"}
)
CHANGES_DEFAULT_PAGE, CHANGES_MAX_PAGE = 100, 1000


def _due(task: task_pb2.Task) -> datetime | None:
    if not task.HasField("due_time"):
        return None
    return validation.instant_from_pb(task.due_time, "task.due_time")


def _new_task(
    request: tasks_service_pb2.CreateTaskRequest,
    recurrence: RecurrenceValue | None,
    due_at: datetime | None,
    zone: ZoneInfo,
) -> domain.NewTask:
    task = request.task
    series_id, series_index = domain.series(task.series_id, task.series_index)
    if recurrence is not None and series_id is None:
        series_id, series_index = uuid.uuid4(), 1
    return domain.NewTask(
        title=domain.title(task.title),
        description=domain.description(task.description),
        priority=domain.priority(task.priority),
        tags=domain.tags(task.tags),
        due_at=due_at,
        time_zone=zone.key,
        recurrence=recurrence,
        reminders=domain.reminders(reminders_from_pb(task.reminders), due_at),
        series_id=series_id,
        series_index=series_index,
        request_id=domain.request_id(request.request_id),
    )


def _bounded_lists(task: task_pb2.Task) -> None:
    """A task's lists are refused when too long before anything else of the request is read
    (a recurrence is expanded, a row locked)."""
    validation.bounded(task.tags, "task.tags", validation.TAGS_MAX)
    validation.bounded(task.reminders, "task.reminders", validation.REMINDERS_MAX)


def _update_paths(request: tasks_service_pb2.UpdateTaskRequest) -> set[str]:
    validation.bounded(request.update_mask.paths, "update_mask.paths", len(UPDATABLE))
    paths = set(request.update_mask.paths)
    if not paths:
        raise InvalidArgument("update_mask", f"name at least one of {', '.join(sorted(UPDATABLE))}")
    unknown = paths - UPDATABLE
    if unknown:
        raise InvalidArgument("update_mask", f"cannot update {', '.join(sorted(unknown))}")
    return paths


def _update_changes(task: task_pb2.Task, paths: set[str], now: datetime, row: Row) -> Changes:
    """The column changes of an update against the current row (pure; run off the event loop)."""
    changes: Changes = {}
    zone = domain.time_zone(task.time_zone if "time_zone" in paths else row["time_zone"])
    changes["time_zone"] = zone.key
    due_at = _due(task) if "due_time" in paths else row["due_at"]
    if "recurrence" in paths and task.HasField("recurrence"):
        recurrence, due_at = resolve(task.recurrence, zone, due_at, now)
        changes.update(
            recurrence_rule=recurrence.rule,
            recurrence_text=recurrence.text,
            recurrence_basis=recurrence.basis,
            recurrence_final=recurrence.final,
        )
        if row["series_id"] is None:
            changes.update(series_id=uuid.uuid4(), series_index=1)
    elif "recurrence" in paths:
        changes.update(
            recurrence_rule=None,
            recurrence_text=None,
            recurrence_basis=None,
            recurrence_final=False,
        )
    elif row["recurrence_rule"] is not None:
        if due_at is None:
            raise InvalidArgument(
                "task.due_time", "a recurring task needs a due time; clear the recurrence too"
            )
        if due_at != row["due_at"] or zone.key != row["time_zone"]:
            changes["recurrence_final"] = is_final(
                row["recurrence_rule"], row["recurrence_basis"], zone, due_at, now
            )
    changes["due_at"] = due_at
    if "reminders" in paths:
        reminders = domain.reminders(reminders_from_pb(task.reminders), due_at)
        changes["reminders"] = reminders_to_json(reminders)
    elif due_at is None and any("minutes_before" in r for r in row["reminders"]):
        raise InvalidArgument(
            "task.due_time", "reminders are relative to the due time; clear them too"
        )
    if "title" in paths:
        changes["title"] = domain.title(task.title)
    if "description" in paths:
        changes["description"] = domain.description(task.description)
    if "priority" in paths:
        changes["priority"] = domain.priority(task.priority)
    if "tags" in paths:
        changes["tags"] = domain.tags(task.tags)
    return changes


def _expands(task: task_pb2.Task, paths: set[str], row: Row) -> bool:
    """Whether an update needs the recurrence engine (and so a worker thread)."""
    if "recurrence" in paths and task.HasField("recurrence"):
        return True
    return row["recurrence_rule"] is not None and bool({"due_time", "time_zone"} & paths)


def _task_query(
    request: tasks_service_pb2.ListTasksRequest, owner_id: str, tokens: PageTokens
) -> listing.TaskQuery:
    flt = request.filter
    # Lists are bounded before any item is looked at (filter.tags by domain.tags).
    validation.bounded(flt.priorities, "filter.priorities", validation.PRIORITIES_MAX)
    validation.bounded(request.order_by, "order_by", validation.ORDER_KEYS_MAX)
    if flt.status not in (0, task_pb2.TASK_STATUS_OPEN, task_pb2.TASK_STATUS_COMPLETED):
        raise InvalidArgument("filter.status", "must be OPEN or COMPLETED")
    priorities = tuple(
        sorted(
            {domain.priority(p, f"filter.priorities[{i}]") for i, p in enumerate(flt.priorities)}
        )
    )
    query = listing.TaskQuery(
        owner_id=owner_id,
        status=flt.status or None,
        priorities=priorities,
        tags=tuple(domain.tags(flt.tags, "filter.tags")),
        due_before=validation.instant_from_pb(flt.due_before, "filter.due_before")
        if flt.HasField("due_before")
        else None,
        due_after=validation.instant_from_pb(flt.due_after, "filter.due_after")
        if flt.HasField("due_after")
        else None,
        overdue=flt.overdue if flt.HasField("overdue") else None,
        search=validation.text(flt.search.strip(), "filter.search", max_length=listing.SEARCH_MAX),
        order=listing.order_keys([(key.field, key.direction) for key in request.order_by]),
        page_size=listing.page_size(request.page_size),
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

    async def CreateTask(
        self, request: tasks_service_pb2.CreateTaskRequest, context: Context
    ) -> tasks_service_pb2.CreateTaskResponse:
        owner = current_user()
        task = request.task
        _bounded_lists(task)
        zone = domain.time_zone(task.time_zone)
        due_at = _due(task)
        recurrence = None
        if task.HasField("recurrence"):
            now = datetime.now(UTC)
            recurrence, due_at = await self._offload.run(
                owner, resolve, task.recurrence, zone, due_at, now
            )
        new = _new_task(request, recurrence, due_at, zone)
        created = await self._store.create(owner, new, actor=owner)
        return tasks_service_pb2.CreateTaskResponse(task=created)

    async def GetTask(
        self, request: tasks_service_pb2.GetTaskRequest, context: Context
    ) -> tasks_service_pb2.GetTaskResponse:
        task = await self._store.get(current_user(), domain.task_id(request.id))
        return tasks_service_pb2.GetTaskResponse(task=task)

    async def ListTasks(
        self, request: tasks_service_pb2.ListTasksRequest, context: Context
    ) -> tasks_service_pb2.ListTasksResponse:
        query = _task_query(request, current_user(), self._list_tokens)
        page = await self._store.page(query, count=not request.skip_total_size)
        cursors = [listing.encode_token(self._list_tokens, query, p) for p in page.positions]
        return tasks_service_pb2.ListTasksResponse(
            tasks=page.tasks,
            next_page_token=cursors[-1] if cursors and page.has_next else "",
            total_size=page.total,
            cursors=cursors,
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
        )

    async def UpdateTask(
        self, request: tasks_service_pb2.UpdateTaskRequest, context: Context
    ) -> tasks_service_pb2.UpdateTaskResponse:
        owner = current_user()
        _bounded_lists(request.task)
        paths = _update_paths(request)
        expected = request.expected_version if request.HasField("expected_version") else None
        task, now = request.task, datetime.now(UTC)

        async def compute(row: Row) -> Changes:
            if _expands(task, paths, row):
                return await self._offload.run(owner, _update_changes, task, paths, now, row)
            return _update_changes(task, paths, now, row)

        task_id = domain.task_id(request.task.id, "task.id")
        task = await self._store.update(
            owner, task_id, expected_version=expected, compute=compute, actor=owner
        )
        return tasks_service_pb2.UpdateTaskResponse(task=task)

    async def CompleteTask(
        self, request: tasks_service_pb2.CompleteTaskRequest, context: Context
    ) -> tasks_service_pb2.CompleteTaskResponse:
        owner = current_user()
        task = await self._store.set_completed(
            owner, domain.task_id(request.id), completed=True, actor=owner
        )
        return tasks_service_pb2.CompleteTaskResponse(task=task)

    async def ReopenTask(
        self, request: tasks_service_pb2.ReopenTaskRequest, context: Context
    ) -> tasks_service_pb2.ReopenTaskResponse:
        owner = current_user()
        task = await self._store.set_completed(
            owner, domain.task_id(request.id), completed=False, actor=owner
        )
        return tasks_service_pb2.ReopenTaskResponse(task=task)

    async def DeleteTask(
        self, request: tasks_service_pb2.DeleteTaskRequest, context: Context
    ) -> tasks_service_pb2.DeleteTaskResponse:
        owner = current_user()
        task_id = domain.task_id(request.id)
        await self._store.delete(owner, task_id, actor=owner)
        return tasks_service_pb2.DeleteTaskResponse(id=str(task_id))

    async def ListChanges(
        self, request: tasks_service_pb2.ListChangesRequest, context: Context
    ) -> tasks_service_pb2.ListChangesResponse:
        if request.page_size < 0:
            raise InvalidArgument("page_size", "must not be negative")
        size = min(request.page_size or CHANGES_DEFAULT_PAGE, CHANGES_MAX_PAGE)
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
