"""Rules about a task as a whole and the changes it goes through.

A task is a `TaskState`. Creating one (`new_task`), editing it (`update`) and completing or
reopening it (`set_status`) check the request against the rules and return the task's values
afterwards with the kind of change, which decides the events that follow; the store writes
both in one transaction. `None` means nothing changes: nothing is written, nothing is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, ClassVar, Final, TypeVar
from zoneinfo import ZoneInfo

from svc_tasks.domain import fields
from svc_tasks.domain.fields import Reminder
from svc_tasks.domain.recurrence import RecurrenceValue, RequestedRecurrence, is_final, resolve
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import validation
from todo_runtime.errors import Conflict, InvalidArgument, gather

T = TypeVar("T")

UPDATABLE: Final = frozenset(
    {"title", "description", "priority", "tags", "due_time", "time_zone", "recurrence", "reminders"}
)
# The change that moving a task to a status is, and so the events that follow it.
_STATUS_CHANGES: Final = {
    task_pb2.TASK_STATUS_COMPLETED: task_pb2.CHANGE_KIND_COMPLETED,
    task_pb2.TASK_STATUS_OPEN: task_pb2.CHANGE_KIND_REOPENED,
}


@dataclass(frozen=True)
class TaskState:
    """A task's values as the rules read and write them (its owner and the times the store keeps
    are not theirs to decide)."""

    id: uuid.UUID
    title: str
    description: str
    priority: int
    tags: tuple[str, ...]
    due_at: datetime | None
    time_zone: str
    recurrence: RecurrenceValue | None
    reminders: tuple[Reminder, ...]
    series_id: uuid.UUID | None
    series_index: int | None
    status: task_pb2.TaskStatus = task_pb2.TASK_STATUS_OPEN
    completed_at: datetime | None = None
    version: int = 1  # every change makes the next (optimistic concurrency, AIP-154)


@dataclass(frozen=True)
class TaskInput:
    """A task's settable fields as a client sent them: converted from the request, not checked."""

    title: str = ""
    description: str = ""
    priority: int = task_pb2.PRIORITY_UNSPECIFIED
    tags: Sequence[str] = ()
    due_at: datetime | None = None
    time_zone: str = ""
    recurrence: RequestedRecurrence | None = None
    reminders: Sequence[Reminder] = ()


@dataclass(frozen=True)
class Draft:
    """A create: the fields, the series occurrence it is (svc_recur's next instance; "" and 0
    for none) and its idempotency key ("" for none)."""

    values: TaskInput
    series_id: str = ""
    series_index: int = 0
    request_id: str = ""


@dataclass(frozen=True)
class Edit:
    """An update: the fields its mask names (see `mask`), the values sent for them, and the
    version the client last read (None: whatever it is now)."""

    paths: frozenset[str]
    values: TaskInput
    expected_version: int | None = None


@dataclass(frozen=True)
class NewTask:
    """A task to create and the request id that makes creating it idempotent."""

    task: TaskState
    request_id: str | None
    kind: ClassVar[task_pb2.ChangeKind] = task_pb2.CHANGE_KIND_CREATED


@dataclass(frozen=True)
class Change:
    """A task's values after a change, and the kind of change (its events are of this kind)."""

    kind: task_pb2.ChangeKind
    task: TaskState


def mask(paths: Sequence[str]) -> frozenset[str]:
    """The fields an update's mask names: at least one, each of them updatable."""
    validation.bounded(paths, "update_mask.paths", len(UPDATABLE))
    named = frozenset(paths)
    if not named:
        raise InvalidArgument("update_mask", f"name at least one of {', '.join(sorted(UPDATABLE))}")
    unknown = named - UPDATABLE
    if unknown:
        raise InvalidArgument("update_mask", f"cannot update {', '.join(sorted(unknown))}")
    return named


def create_expands(draft: Draft) -> bool:
    """Whether creating `draft` runs the recurrence engine (CPU-bound: run it on a worker)."""
    return draft.values.recurrence is not None


def update_expands(state: TaskState, edit: Edit) -> bool:
    """Whether `update(state, edit)` runs the recurrence engine (CPU-bound: run it on a worker)."""
    if "recurrence" in edit.paths and edit.values.recurrence is not None:
        return True
    return state.recurrence is not None and bool({"due_time", "time_zone"} & edit.paths)


def new_task(draft: Draft, now: datetime) -> NewTask:
    """The task `draft` asks for, open at version 1. A recurrence is pinned to the due time (or
    gives one), and a recurring task that is no series' occurrence starts a series of its own.
    Every wrong field is named at once (one InvalidArgument with all of them)."""
    values = draft.values
    problems = gather(
        lambda: fields.title(values.title),
        lambda: fields.description(values.description),
        lambda: fields.priority(values.priority),
        lambda: fields.tags(values.tags),
        lambda: fields.series(draft.series_id, draft.series_index),
        lambda: fields.request_id(draft.request_id),
    )
    due_at, recurrence = values.due_at, None
    try:
        zone = fields.time_zone(values.time_zone)
        if values.recurrence is not None:
            recurrence, due_at = resolve(values.recurrence, zone, due_at, now)
    except InvalidArgument as error:
        # The reminders' rules need the due time the recurrence would have given: wait for it.
        raise InvalidArgument.of([*problems, *error.violations]) from None
    problems += gather(lambda: fields.reminders(values.reminders, due_at))
    if problems:
        raise InvalidArgument.of(problems)
    # Every field passed its rule above; the rules run again below only to normalize (cheap).
    series_id, series_index = fields.series(draft.series_id, draft.series_index)
    if recurrence is not None and series_id is None:
        series_id, series_index = uuid.uuid4(), 1
    task = TaskState(
        id=uuid.uuid4(),
        title=fields.title(values.title),
        description=fields.description(values.description),
        priority=fields.priority(values.priority),
        tags=tuple(fields.tags(values.tags)),
        due_at=due_at,
        time_zone=zone.key,
        recurrence=recurrence,
        reminders=tuple(fields.reminders(values.reminders, due_at)),
        series_id=series_id,
        series_index=series_index,
    )
    return NewTask(task, fields.request_id(draft.request_id))


def create_answer(found: T | None) -> T:
    """What a create answers with: the task it made or, when an earlier create took its request
    id or series occurrence, the task that one made (a retry must not make a second).

    `found` None, that task was deleted since: Conflict, since creating it again would undo the
    delete (a redelivered completion must not bring back an instance its user deleted).
    """
    if found is None:
        raise Conflict(
            "a task with this request_id or series occurrence existed and was deleted (or the "
            "series' previous instance is open again: its completion was undone)",
            reason="TASK_DELETED",
        )
    return found


def update(state: TaskState, edit: Edit, now: datetime) -> Change | None:
    """`state` after `edit`, or None when it changes nothing.

    A stale `expected_version` is a Conflict. Beyond each field's own rules:
    - a recurrence the edit sets is pinned to the due time (or gives one) and starts a series
      if the task has none; an empty one clears it;
    - a recurring task keeps a due time, and moving it or its zone decides anew whether the
      task is its series' last (`final`);
    - relative reminders keep a due time.
    """
    if edit.expected_version is not None and state.version != edit.expected_version:
        raise Conflict(
            f"task {state.id} is at version {state.version}, not {edit.expected_version}; re-read and retry",
            reason="STALE_VERSION",
        )
    paths, values = edit.paths, edit.values
    # Fields with rules of their own are all checked; the due time's, which tie it to the
    # recurrence and the reminders, stop at their first problem (the next depends on it).
    problems = gather(
        *(
            partial(rule, getattr(values, name))
            for name, rule in _OWN_RULES.items()
            if name in paths
        )
    )
    try:
        zone = fields.time_zone(values.time_zone if "time_zone" in paths else state.time_zone)
        timing = _timing(state, edit, zone, now)
    except InvalidArgument as error:
        raise InvalidArgument.of([*problems, *error.violations]) from None
    if problems:
        raise InvalidArgument.of(problems)
    after = replace(
        state,
        time_zone=zone.key,
        due_at=timing.due_at,
        recurrence=timing.recurrence,
        series_id=timing.series_id,
        series_index=timing.series_index,
        reminders=timing.reminders,
        title=fields.title(values.title) if "title" in paths else state.title,
        description=fields.description(values.description)
        if "description" in paths
        else state.description,
        priority=fields.priority(values.priority) if "priority" in paths else state.priority,
        tags=tuple(fields.tags(values.tags)) if "tags" in paths else state.tags,
    )
    return _change(task_pb2.CHANGE_KIND_UPDATED, state, after)


# The fields an update checks on their own: each rule takes the value sent.
_OWN_RULES: Final[dict[str, Callable[[Any], object]]] = {
    "title": fields.title,
    "description": fields.description,
    "priority": fields.priority,
    "tags": fields.tags,
}


@dataclass(frozen=True)
class _Timing:
    """When a task is due and what hangs on it, after an update."""

    due_at: datetime | None
    recurrence: RecurrenceValue | None
    series_id: uuid.UUID | None
    series_index: int | None
    reminders: tuple[Reminder, ...]


def _timing(state: TaskState, edit: Edit, zone: ZoneInfo, now: datetime) -> _Timing:
    """The due time, recurrence, series and reminders `edit` leaves `state` with."""
    paths, values = edit.paths, edit.values
    due_at = values.due_at if "due_time" in paths else state.due_at
    recurrence, series_id, series_index = state.recurrence, state.series_id, state.series_index
    if "recurrence" in paths and values.recurrence is not None:
        recurrence, due_at = resolve(values.recurrence, zone, due_at, now)
        if series_id is None:
            series_id, series_index = uuid.uuid4(), 1
    elif "recurrence" in paths:
        recurrence = None
    elif recurrence is not None:
        if due_at is None:
            raise InvalidArgument(
                "task.due_time", "a recurring task needs a due time; clear the recurrence too"
            )
        if due_at != state.due_at or zone.key != state.time_zone:
            recurrence = replace(recurrence, final=is_final(recurrence, zone, due_at, now))
    reminders = state.reminders
    if "reminders" in paths:
        reminders = tuple(fields.reminders(values.reminders, due_at))
    elif due_at is None and any(r.minutes_before is not None for r in reminders):
        raise InvalidArgument(
            "task.due_time", "reminders are relative to the due time; clear them too"
        )
    return _Timing(due_at, recurrence, series_id, series_index, reminders)


def set_status(state: TaskState, status: task_pb2.TaskStatus, now: datetime) -> Change | None:
    """Completes (COMPLETED, at `now`) or reopens (OPEN) a task; doing it twice changes nothing,
    so it sends nothing either."""
    if state.status == status:
        return None
    completed_at = now if status == task_pb2.TASK_STATUS_COMPLETED else None
    return _change(
        _STATUS_CHANGES[status], state, replace(state, status=status, completed_at=completed_at)
    )


def _change(kind: task_pb2.ChangeKind, before: TaskState, after: TaskState) -> Change | None:
    """`after` as the next version of `before`, or None when it is the same."""
    if after == before:
        return None
    return Change(kind, replace(after, version=before.version + 1))
