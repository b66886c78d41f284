"""Rules about a task's recurrence: the stored, pinned rule (engine: todo_recurrence).

Creation goes through `plan_series`, the function the preview uses too, so the
due a preview shows first is the due a created task gets. CPU-bound: the
servicer runs whatever calls the engine on a worker thread (`Offload`) under
the engine's budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from todo_contracts.tasks.v1 import task_pb2
from todo_recurrence import MAX_RULE_TEXT, Basis, RecurrenceError, plan_series
from todo_runtime import validation
from todo_runtime.enum_maps import from_numbers, to_numbers
from todo_runtime.errors import InvalidArgument

BASIS_NUMBERS: Final = to_numbers(Basis, task_pb2.RecurrenceBasis)
BASES: Final = from_numbers(Basis, task_pb2.RecurrenceBasis)


@dataclass(frozen=True)
class RequestedRecurrence:
    """A recurrence as a client sends it: `rule` (with `basis`, a RecurrenceBasis number) or
    `text`."""

    rule: str = ""
    text: str = ""
    basis: int = task_pb2.RECURRENCE_BASIS_UNSPECIFIED


@dataclass(frozen=True)
class RecurrenceValue:
    """A normalized rule as stored: RRULE value, description, basis, and whether the task it is
    stored on is the last of its series."""

    rule: str
    text: str
    basis: Basis
    final: bool


def resolve(
    requested: RequestedRecurrence, zone: ZoneInfo, due_at: datetime | None, now: datetime
) -> tuple[RecurrenceValue, datetime]:
    """The normalized rule pinned to the series anchor, and the due time (from the rule if none was given).

    `rule` (with `basis`) wins over `text`, so a rule another service already
    normalized is stored as it is.
    """
    field = "task.recurrence.rule" if requested.rule else "task.recurrence.text"
    source = validation.text(requested.rule or requested.text, field, max_length=MAX_RULE_TEXT)
    if not source.strip():
        raise InvalidArgument("task.recurrence", "set rule or text, e.g. 'every weekday at 9am'")
    if requested.basis not in (task_pb2.RECURRENCE_BASIS_UNSPECIFIED, *BASES):
        raise InvalidArgument("task.recurrence.basis", "must be SCHEDULE or COMPLETION")
    basis = BASES.get(requested.basis) if requested.rule else None
    try:
        plan = plan_series(source, zone, now, due=due_at, count=2, basis=basis)
    except RecurrenceError as error:
        raise InvalidArgument(field, str(error)) from None
    if plan.first_due is None:
        raise InvalidArgument(field, "the rule has no occurrence after now")
    pinned = plan.recurrence
    value = RecurrenceValue(pinned.rule, pinned.text, pinned.basis, final=len(plan.occurrences) < 2)
    return value, plan.first_due


def is_final(recurrence: RecurrenceValue, zone: ZoneInfo, due: datetime, now: datetime) -> bool:
    """Whether no instance follows a task with `recurrence` (already pinned) due at `due`."""
    try:
        plan = plan_series(recurrence.rule, zone, now, due=due, count=2, basis=recurrence.basis)
    except RecurrenceError as error:
        raise InvalidArgument("task.due_time", str(error)) from None
    return len(plan.occurrences) < 2
