"""Turns a task's requested recurrence into the stored, pinned rule (engine: todo_recurrence)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from svc_tasks.domain import RecurrenceValue
from todo_contracts.tasks.v1 import task_pb2
from todo_recurrence import Basis, RecurrenceError, first_due, parse_recurrence, pin_rule
from todo_runtime.errors import InvalidArgument

_BASIS_NUMBERS = {
    Basis.SCHEDULE: task_pb2.RECURRENCE_BASIS_SCHEDULE,
    Basis.COMPLETION: task_pb2.RECURRENCE_BASIS_COMPLETION,
}


def resolve(
    requested: task_pb2.Recurrence, zone: ZoneInfo, due_at: datetime | None, now: datetime
) -> tuple[RecurrenceValue, datetime]:
    """The normalized rule pinned to the series anchor, and the due time (from the rule if none was given).

    `rule` (with `basis`) wins over `text`, so a rule another service already
    normalized is stored as it is.
    """
    field = "task.recurrence.rule" if requested.rule else "task.recurrence.text"
    source = requested.rule or requested.text
    if not source.strip():
        raise InvalidArgument("task.recurrence", "set rule or text, e.g. 'every weekday at 9am'")
    if requested.basis not in (
        0,
        task_pb2.RECURRENCE_BASIS_SCHEDULE,
        task_pb2.RECURRENCE_BASIS_COMPLETION,
    ):
        raise InvalidArgument("task.recurrence.basis", "must be SCHEDULE or COMPLETION")
    try:
        recurrence = parse_recurrence(source, zone)
    except RecurrenceError as error:
        raise InvalidArgument(field, str(error)) from None
    if requested.rule and requested.basis == task_pb2.RECURRENCE_BASIS_COMPLETION:
        recurrence = replace(recurrence, basis=Basis.COMPLETION)
    if due_at is None:
        first = first_due(recurrence, zone, now)
        if first is None:
            raise InvalidArgument(field, "the rule has no occurrence after now")
        due_at = first
    pinned = pin_rule(recurrence, due_at.astimezone(zone))
    return RecurrenceValue(pinned.rule, pinned.text, _BASIS_NUMBERS[pinned.basis]), due_at
