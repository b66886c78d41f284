"""ParseQuickAdd's pure part: a line to the task CreateTask would take (`todo_quickadd`)."""

from __future__ import annotations

from datetime import datetime
from typing import Final, cast

from todo_contracts.recur.v1 import recurrence_service_pb2 as pb
from todo_contracts.tasks.v1 import task_pb2
from todo_quickadd import MAX_TEXT, Field, Priority, QuickAdd, QuickAddError, parse_quick_add
from todo_recurrence import Basis, RecurrenceError
from todo_recurrence.zones import lookup_zone
from todo_runtime import validation
from todo_runtime.enum_maps import to_numbers
from todo_runtime.errors import InvalidArgument
from todo_runtime.timestamps import timestamp

# By name, as `to_numbers` does; a line cannot say NONE, so the contract's enum has one more.
_PRIORITIES: Final = {
    p: cast("task_pb2.Priority", task_pb2.Priority.Value(f"PRIORITY_{p.name}")) for p in Priority
}
_BASES: Final = to_numbers(Basis, task_pb2.RecurrenceBasis)
_FIELDS: Final = to_numbers(Field, pb.QuickAddField)


def quick_add_preview(request: pb.ParseQuickAddRequest, now: datetime) -> pb.ParseQuickAddResponse:
    """The line read in its zone at `now`; pure and CPU-bound, run on a worker thread."""
    text = validation.text(request.text, "text", max_length=MAX_TEXT)
    zone = lookup_zone(request.time_zone)
    if zone is None:
        raise InvalidArgument(
            "time_zone",
            f"unknown IANA time zone {validation.shown(request.time_zone)}, e.g. 'Europe/Berlin'",
        )
    try:
        parsed = parse_quick_add(text, zone, now, language=request.language)
    except QuickAddError as error:
        raise InvalidArgument(error.field, error.problem) from None
    except RecurrenceError as error:  # too costly to expand: the words were understood
        raise InvalidArgument("text", str(error)) from None
    return pb.ParseQuickAddResponse(
        task=_task(parsed, zone.key),
        recurrence=_recurrence(parsed),
        spans=[
            pb.QuickAddSpan(
                start=span.start,
                end=span.end,
                field=cast("pb.QuickAddField", _FIELDS[span.field]),
            )
            for span in parsed.spans
        ],
    )


def _task(parsed: QuickAdd, zone: str) -> task_pb2.Task:
    task = task_pb2.Task(
        title=parsed.title,
        priority=_PRIORITIES[parsed.priority] if parsed.priority else task_pb2.PRIORITY_NONE,
        tags=parsed.tags,
        time_zone=zone,
    )
    if parsed.due is not None:
        task.due_time.CopyFrom(timestamp(parsed.due))
    if parsed.recurrence_rule is not None:
        task.recurrence.text = parsed.recurrence_rule
    task.reminders.extend(
        task_pb2.Reminder(minutes_before=minutes) for minutes in parsed.remind_minutes_before
    )
    task.reminders.extend(
        task_pb2.Reminder(remind_time=timestamp(instant)) for instant in parsed.remind_at
    )
    return task


def _recurrence(parsed: QuickAdd) -> task_pb2.Recurrence | None:
    if parsed.recurrence is None:
        return None
    return task_pb2.Recurrence(
        rule=parsed.recurrence.rule,
        text=parsed.recurrence.text,
        basis=cast("task_pb2.RecurrenceBasis", _BASES[parsed.recurrence.basis]),
    )
