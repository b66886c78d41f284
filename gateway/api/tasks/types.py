"""Task, its connection and its live updates, converted from `todo.tasks.v1` messages."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Final

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
    def from_pb(cls, message: task_pb2.Task) -> Task:
        """The task in `message`. A page's message holds only the fields its query selects
        (`read_mask`): what it lacks is not converted but left empty (an enum at its first
        value), and is never read."""
        return cls(
            id=ids.encode(ids.TASK, message.id) if message.id else strawberry.ID(""),
            title=message.title,
            description=message.description,
            status=STATUS_FROM_PB[message.status] if message.status else TaskStatus.OPEN,
            priority=PRIORITY_FROM_PB[message.priority] if message.priority else Priority.NONE,
            tags=list(message.tags),
            due_at=optional_timestamp(message, "due_time"),
            time_zone=message.time_zone,
            recurrence=Recurrence.from_pb(message.recurrence)
            if message.HasField("recurrence")
            else None,
            reminders=[Reminder.from_pb(reminder, message.id) for reminder in message.reminders],
            series_id=ids.encode(ids.SERIES, message.series_id) if message.series_id else None,
            series_index=message.series_index or None,
            version=message.version,
            # Every task has these; a partial message (above) may leave them out.
            created_at=optional_timestamp(message, "create_time") or EPOCH,
            updated_at=optional_timestamp(message, "update_time") or EPOCH,
            completed_at=optional_timestamp(message, "complete_time"),
        )


# The Task message fields each field of the GraphQL Task reads (a reminder's id holds its task's).
_READS: Final[dict[str, tuple[str, ...]]] = {
    "__typename": (),
    "id": ("id",),
    "title": ("title",),
    "description": ("description",),
    "status": ("status",),
    "priority": ("priority",),
    "tags": ("tags",),
    "dueAt": ("due_time",),
    "timeZone": ("time_zone",),
    "recurrence": ("recurrence",),
    "reminders": ("reminders", "id"),
    "seriesId": ("series_id",),
    "seriesIndex": ("series_index",),
    "version": ("version",),
    "createdAt": ("create_time",),
    "updatedAt": ("update_time",),
    "completedAt": ("complete_time",),
}


def read_mask(selected: AbstractSet[str]) -> list[str]:
    """The Task message fields that the `selected` fields of Task read (at least the id, as an
    empty mask reads everything); empty, so everything, when one of them is not known here."""
    paths: set[str] = set()
    for name in selected:
        reads = _READS.get(name)
        if reads is None:
            return []
        paths.update(reads)
    return sorted(paths) or ["id"]


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
        cls, response: tasks_service_pb2.ListTasksResponse, change_cursor: str = ""
    ) -> TaskConnection:
        edges = [
            TaskEdge(cursor=cursor, node=Task.from_pb(task))
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
