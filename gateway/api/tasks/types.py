"""Task, its connection and its live updates, converted from `todo.tasks.v1` messages."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import strawberry

from gateway import ids
from gateway.api.node import Node
from gateway.api.scalars import optional_timestamp
from gateway.api.tasks.enums import (
    BASIS_FROM_PB,
    KIND_FROM_PB,
    PRIORITY_FROM_PB,
    STATUS_FROM_PB,
    ChangeKind,
    Priority,
    RecurrenceBasis,
    TaskStatus,
)
from gateway.paging import PageInfo
from todo_contracts.events.v1.task_events_pb2 import TaskUpdate as TaskUpdatePb
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2
from todo_runtime.timestamps import EPOCH, from_timestamp


@strawberry.type(description="How a task repeats.")
class Recurrence:
    rule: str = strawberry.field(
        description="Normalized RFC 5545 RRULE without DTSTART (the series starts at `dueAt`), "
        "e.g. FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=0;BYSECOND=0."
    )
    text: str = strawberry.field(description="The rule in English, e.g. 'every weekday at 09:00'.")
    basis: RecurrenceBasis = strawberry.field(
        description="What the next instance is measured from."
    )
    final: bool = strawberry.field(
        description="True when this task is the last of its series: completing it creates no "
        "next one (COUNT or UNTIL reached, or the next date would pass 9999-12-31). For "
        "completion-based rules it assumes completion when due."
    )

    @classmethod
    def from_pb(cls, message: task_pb2.Recurrence) -> Recurrence:
        return cls(
            rule=message.rule,
            text=message.text,
            basis=BASIS_FROM_PB[message.basis],
            final=message.final,
        )


@strawberry.type(
    description="When to remind the owner. Exactly one of `minutesBefore` and `at` is set."
)
class Reminder:
    id: strawberry.ID = strawberry.field(
        description="Global and stable: the same reminder of the same task keeps its id."
    )
    minutes_before: int | None = strawberry.field(description="Minutes before the due time.")
    at: datetime | None = strawberry.field(description="An absolute instant.")

    @classmethod
    def from_pb(cls, message: task_pb2.Reminder, task_id: str) -> Reminder:
        kind = message.WhichOneof("when")
        return cls(
            id=ids.encode(ids.REMINDER, f"{task_id}:{message.id}"),
            minutes_before=message.minutes_before if kind == "minutes_before" else None,
            at=from_timestamp(message.remind_time) if kind == "remind_time" else None,
        )


@strawberry.type(description="A unit of work owned by the signed-in user.")
class Task(Node):
    id: strawberry.ID = strawberry.field(
        description="Global id (refetch with `node(id:)`); the services' task id is the UUID "
        "inside it: base64url('Task:<uuid>')."
    )
    title: str = strawberry.field(description="1..500 characters, trimmed.")
    description: str = strawberry.field(
        description="Free text up to 10000 characters; empty = none."
    )
    status: TaskStatus = strawberry.field(description="Changed by completeTask and reopenTask.")
    priority: Priority = strawberry.field(description="How urgent it is.")
    tags: list[str] = strawberry.field(
        description="At most 20, each 1..50 characters, stored trimmed and lower-cased, "
        "de-duplicated, in the order first given."
    )
    due_at: datetime | None = strawberry.field(
        description="When the task is due; null = no due time."
    )
    time_zone: str = strawberry.field(
        description="IANA zone the due time and recurrence are read in, e.g. Europe/Berlin."
    )
    recurrence: Recurrence | None = strawberry.field(description="Null for a one-off task.")
    reminders: list[Reminder] = strawberry.field(description="At most 10.")
    series_id: strawberry.ID | None = strawberry.field(
        description="Shared by every instance of a recurring series (a global id of the series); "
        "null for a one-off task."
    )
    series_index: int | None = strawberry.field(
        description="1-based position of this instance in its series; null for a one-off task."
    )
    version: int = strawberry.field(
        description="Incremented by every change; pass it as `expectedVersion` to updateTask "
        "so you never overwrite a change you have not seen."
    )
    created_at: datetime = strawberry.field(description="When the task was created.")
    updated_at: datetime = strawberry.field(description="When the task last changed.")
    completed_at: datetime | None = strawberry.field(description="Set while the task is COMPLETED.")

    @classmethod
    def from_pb(cls, message: task_pb2.Task, fields: TaskFields | None = None) -> Task:
        """The task in `message`. A page passes the fields its query selects (`TaskFields`): its
        message holds only those (`read_mask`), and only those are converted; the others are
        left empty and never read."""
        values = dict(_EMPTY)
        for attribute, convert in (fields or ALL_TASK_FIELDS).conversions:
            values[attribute] = convert(message)
        return cls(**values)


def _task_id(message: task_pb2.Task) -> strawberry.ID:
    return ids.encode(ids.TASK, message.id) if message.id else strawberry.ID("")


def _recurrence(message: task_pb2.Task) -> Recurrence | None:
    return Recurrence.from_pb(message.recurrence) if message.HasField("recurrence") else None


def _reminders(message: task_pb2.Task) -> list[Reminder]:
    return [Reminder.from_pb(reminder, message.id) for reminder in message.reminders]


@dataclass(frozen=True, slots=True)
class _Field:
    """One field of the GraphQL Task: the message fields it reads (a reminder's id holds its
    task's), the attribute it fills, and how it converts the message."""

    reads: tuple[str, ...]
    attribute: str
    convert: Callable[[task_pb2.Task], Any]


_FIELDS: Final[dict[str, _Field]] = {
    "id": _Field(("id",), "id", _task_id),
    "title": _Field(("title",), "title", lambda m: m.title),
    "description": _Field(("description",), "description", lambda m: m.description),
    "status": _Field(
        ("status",), "status", lambda m: STATUS_FROM_PB[m.status] if m.status else TaskStatus.OPEN
    ),
    "priority": _Field(
        ("priority",),
        "priority",
        lambda m: PRIORITY_FROM_PB[m.priority] if m.priority else Priority.NONE,
    ),
    "tags": _Field(("tags",), "tags", lambda m: list(m.tags)),
    "dueAt": _Field(("due_time",), "due_at", lambda m: optional_timestamp(m, "due_time")),
    "timeZone": _Field(("time_zone",), "time_zone", lambda m: m.time_zone),
    "recurrence": _Field(("recurrence",), "recurrence", _recurrence),
    "reminders": _Field(("reminders", "id"), "reminders", _reminders),
    "seriesId": _Field(
        ("series_id",),
        "series_id",
        lambda m: ids.encode(ids.SERIES, m.series_id) if m.series_id else None,
    ),
    "seriesIndex": _Field(("series_index",), "series_index", lambda m: m.series_index or None),
    "version": _Field(("version",), "version", lambda m: m.version),
    # Every task has these; a partial message (above) may leave them out.
    "createdAt": _Field(
        ("create_time",), "created_at", lambda m: optional_timestamp(m, "create_time") or EPOCH
    ),
    "updatedAt": _Field(
        ("update_time",), "updated_at", lambda m: optional_timestamp(m, "update_time") or EPOCH
    ),
    "completedAt": _Field(
        ("complete_time",), "completed_at", lambda m: optional_timestamp(m, "complete_time")
    ),
}


@dataclass(frozen=True)
class TaskFields:
    """The fields of Task a query reads of each task, with how to convert them, worked out once
    per page: every field when one of those selected is not known here."""

    names: frozenset[str]
    conversions: tuple[tuple[str, Callable[[task_pb2.Task], Any]], ...]

    @classmethod
    def selected(cls, names: AbstractSet[str]) -> TaskFields:
        """The fields the `names` selected of Task read (`__typename` reads none)."""
        known = names - {"__typename"}
        if not known <= _FIELDS.keys():
            return ALL_TASK_FIELDS
        return cls(
            frozenset(known),
            tuple((_FIELDS[name].attribute, _FIELDS[name].convert) for name in sorted(known)),
        )

    @property
    def read_mask(self) -> list[str]:
        """The Task message fields to send: those these fields read, at least the id; none
        (an empty mask: every field) when these are all of Task's."""
        if self.names == ALL_TASK_FIELDS.names:
            return []
        return sorted({path for name in self.names for path in _FIELDS[name].reads}) or ["id"]


ALL_TASK_FIELDS: Final = TaskFields(
    frozenset(_FIELDS), tuple((field.attribute, field.convert) for field in _FIELDS.values())
)
# What an attribute holds when its field is not selected, so that every attribute exists: what
# an empty message gives it (never read, so its lists may be shared).
_EMPTY: Final[dict[str, Any]] = {
    attribute: convert(task_pb2.Task()) for attribute, convert in ALL_TASK_FIELDS.conversions
}


@strawberry.type(description="One task in a TaskConnection page.")
class TaskEdge:
    cursor: str = strawberry.field(
        description="This task's position in the list: `after` it gives exactly the tasks that "
        "follow it, `before` it the ones that precede it (same filter and order; signed, "
        "opaque, yours only)."
    )
    node: Task = strawberry.field(description="The task.")


@strawberry.type(description="A page of tasks (Relay cursor connection).")
class TaskConnection:
    edges: list[TaskEdge] = strawberry.field(description="This page's tasks, in order.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    total_count: int = strawberry.field(
        description="Tasks matching the filter, across all pages (counted only when selected)."
    )
    change_cursor: str = strawberry.field(
        default="",
        description="Pass it as taskUpdates(since:) to get exactly the changes this page does "
        "not show: it is your change log's position read in the same snapshot as the page, so "
        "no change is missed or repeated (read only when selected).",
    )

    @classmethod
    def from_pb(
        cls,
        response: tasks_service_pb2.ListTasksResponse,
        change_cursor: str = "",
        fields: TaskFields | None = None,
    ) -> TaskConnection:
        """The page in `response`, its tasks holding `fields` (every field when None)."""
        edges = [
            TaskEdge(cursor=cursor, node=Task.from_pb(task, fields))
            for cursor, task in zip(response.cursors, response.tasks, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.of(
                response.cursors,
                has_next_page=response.has_next_page,
                has_previous_page=response.has_previous_page,
            ),
            total_count=response.total_size,
            change_cursor=change_cursor,
        )


@strawberry.type(description="One change to one of your tasks, in the order they happened.")
class TaskUpdate:
    cursor: str = strawberry.field(
        description="Resume cursor: pass it as taskUpdates(since:) to get exactly the changes "
        "after this one (signed, opaque, yours only)."
    )
    kind: ChangeKind = strawberry.field(description="What happened to the task.")
    task: Task = strawberry.field(
        description="The task after the change (for DELETED: as it was when deleted)."
    )

    @classmethod
    def from_pb(cls, message: TaskUpdatePb, cursor: str) -> TaskUpdate:
        return cls(cursor=cursor, kind=KIND_FROM_PB[message.kind], task=Task.from_pb(message.task))
