"""Turns a task's requested recurrence into the stored, pinned rule (engine: todo_recurrence).

Creation goes through `plan_series`, the function the preview uses too, so the
due a preview shows first is the due a created task gets. Pure and CPU-bound:
the servicer runs it on a worker thread (`Offload`) under the engine's budget.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from svc_tasks.domain import RecurrenceValue
from todo_contracts.tasks.v1 import task_pb2
from todo_recurrence import MAX_RULE_TEXT, Basis, RecurrenceError, plan_series
from todo_runtime import validation
from todo_runtime.errors import InvalidArgument

_BASIS_NUMBERS: Final = {
    Basis.SCHEDULE: task_pb2.RECURRENCE_BASIS_SCHEDULE,
    Basis.COMPLETION: task_pb2.RECURRENCE_BASIS_COMPLETION,
}
_BASES: Final[dict[int, Basis]] = {number: basis for basis, number in _BASIS_NUMBERS.items()}


def resolve(
    requested: task_pb2.Recurrence, zone: ZoneInfo, due_at: datetime | None, now: datetime
) -> tuple[RecurrenceValue, datetime]:
    """The normalized rule pinned to the series anchor, and the due time (from the rule if none was given).

    `rule` (with `basis`) wins over `text`, so a rule another service already
    normalized is stored as it is.
    """
    field = "task.recurrence.rule" if requested.rule else "task.recurrence.text"
    source = validation.text(requested.rule or requested.text, field, max_length=MAX_RULE_TEXT)
    if not source.strip():
        raise InvalidArgument("task.recurrence", "set rule or text, e.g. 'every weekday at 9am'")
    if requested.basis not in (0, *_BASES):
        raise InvalidArgument("task.recurrence.basis", "must be SCHEDULE or COMPLETION")
    basis = _BASES.get(requested.basis) if requested.rule else None
    try:
        plan = plan_series(source, zone, now, due=due_at, count=2, basis=basis)
    except RecurrenceError as error:
        raise InvalidArgument(field, str(error)) from None
    if plan.first_due is None:
        raise InvalidArgument(field, "the rule has no occurrence after now")
    pinned = plan.recurrence
    value = RecurrenceValue(
        pinned.rule, pinned.text, _BASIS_NUMBERS[pinned.basis], final=len(plan.occurrences) < 2
    )
    return value, plan.first_due


def is_final(rule: str, basis: int, zone: ZoneInfo, due: datetime, now: datetime) -> bool:
    """Whether no instance follows a task with `rule` due at `due` (its rule already pinned)."""
    try:
        plan = plan_series(rule, zone, now, due=due, count=2, basis=_BASES.get(basis))
    except RecurrenceError as error:
        raise InvalidArgument("task.due_time", str(error)) from None
    return len(plan.occurrences) < 2
