"""Decides, with no I/O, which task (if any) completing a recurring instance creates.

The next instance's key is (series id, index + 1): svc_tasks makes a second
create of the same key return the first, so redelivered events, a completion
after a reopen and concurrent replicas all converge on one instance.

Pure, as `lint-imports` checks: what a pure module may import is listed with its
contract in pyproject.toml.
"""

from __future__ import annotations

from datetime import UTC
from typing import Final, cast

from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2
from todo_recurrence import Basis, CatchUp, Recurrence, RecurrenceError, next_instance
from todo_recurrence.zones import lookup_zone
from todo_runtime.enum_maps import from_numbers, to_numbers
from todo_runtime.validation import shown

_BASES: Final = from_numbers(Basis, task_pb2.RecurrenceBasis)
_NUMBERS: Final = to_numbers(Basis, task_pb2.RecurrenceBasis)


class UnusableEvent(ValueError):
    """The event cannot produce a next instance: a poison record. Not a transient failure
    (`todo_runtime.failures`), so the consumer dead-letters it."""


def is_recurring_completion(event: task_events_pb2.TaskEvent) -> bool:
    task = event.task
    return (
        event.kind == task_pb2.CHANGE_KIND_COMPLETED
        and task.HasField("recurrence")
        and bool(task.series_id)
    )


def plan_next(
    event: task_events_pb2.TaskEvent, catch_up: CatchUp
) -> tasks_service_pb2.CreateTaskRequest | None:
    """The CreateTask request for the instance after the completed one, or None.

    "Now" for the catch-up policy is the completion time, so the decision is
    the same however late the event is processed or redelivered.
    """
    task = event.task
    if not is_recurring_completion(event):
        return None
    zone = lookup_zone(task.time_zone)
    if zone is None:
        raise UnusableEvent(f"task {task.id} has unknown time zone {shown(task.time_zone)}")
    if not task.HasField("complete_time"):
        raise UnusableEvent(f"completed task {task.id} has no complete_time")
    recurrence = Recurrence(
        task.recurrence.rule,
        task.recurrence.text,
        _BASES.get(task.recurrence.basis, Basis.SCHEDULE),
    )
    completed_at = task.complete_time.ToDatetime(tzinfo=UTC)
    try:
        following = next_instance(
            recurrence,
            zone,
            previous_due=task.due_time.ToDatetime(tzinfo=UTC)
            if task.HasField("due_time")
            else None,
            completed_at=completed_at,
            now=completed_at,
            catch_up=catch_up,
        )
    except RecurrenceError as error:
        raise UnusableEvent(f"task {task.id} has an unusable rule: {error}") from error
    if following is None:
        return None
    reminders = [
        task_pb2.Reminder(minutes_before=r.minutes_before)
        for r in task.reminders
        if r.HasField("minutes_before")
    ]
    upcoming = task_pb2.Task(
        title=task.title,
        description=task.description,
        priority=task.priority,
        tags=task.tags,
        time_zone=task.time_zone,
        recurrence=task_pb2.Recurrence(
            rule=following.recurrence.rule,
            # A number of the contract's enum, which the generated stubs type by the enum's class.
            basis=cast("task_pb2.RecurrenceBasis", _NUMBERS[following.recurrence.basis]),
        ),
        reminders=reminders,
        series_id=task.series_id,
        series_index=task.series_index + 1,
    )
    upcoming.due_time.FromDatetime(following.due.astimezone(UTC))
    return tasks_service_pb2.CreateTaskRequest(task=upcoming)
