"""Rules about undoing a change: which fields it changed, whether they may go back, and what
the task is after they do.

A change is known by the task before it and after it (the change log keeps the task after each
change; the one before is the task's previous entry). Undoing it is a new change that gives the
fields it changed their values from before, and only when none of them changed since (the task
still holds the values from after): otherwise a later change would be silently lost. A revert
that finds the fields already back (a retried request) changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from svc_tasks.domain.lifecycle import Change, TaskState
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.errors import FailedPrecondition

# The values a change can change, and the name each has in the contract and the audit log
# (`FieldChange.field`), which a refusal names them by. Not the id, owner, version or times the
# store keeps.
FIELDS: Final = {
    "title": "title",
    "description": "description",
    "status": "status",
    "priority": "priority",
    "tags": "tags",
    "due_at": "due_time",
    "time_zone": "time_zone",
    "recurrence": "recurrence",
    "reminders": "reminders",
    "series_id": "series_id",
    "series_index": "series_index",
    "completed_at": "complete_time",
}
# A reverted status is a status change like any other, so its events are those of one.
_STATUS_KINDS: Final = {
    task_pb2.TASK_STATUS_OPEN: task_pb2.CHANGE_KIND_REOPENED,
    task_pb2.TASK_STATUS_COMPLETED: task_pb2.CHANGE_KIND_COMPLETED,
}


def changed_since(names: list[str]) -> FailedPrecondition:
    """The refusal to undo a change whose fields `names` (attribute names) changed since."""
    shown = ", ".join(FIELDS.get(name, name) for name in names)
    return FailedPrecondition(
        f"changed since: {shown}; undo the later change first", reason="CHANGED_SINCE"
    )


def _differ(one: TaskState, other: TaskState, names: list[str] | None = None) -> list[str]:
    return [
        name
        for name in (list(FIELDS) if names is None else names)
        if getattr(one, name) != getattr(other, name)
    ]


def revert(current: TaskState, before: TaskState, after: TaskState) -> Change | None:
    """`current` with the fields the change from `before` to `after` changed set back: UPDATED,
    or REOPENED / COMPLETED when it moved the status. None when they are back already.

    CHANGED_SINCE (naming them) when one of them no longer holds its value from `after`, or
    when setting them back would break a rule about the fields the change left alone (a due time
    cleared under relative reminders or a recurrence added since)."""
    changed = _differ(before, after)
    if not changed or not _differ(current, before, changed):
        return None
    moved = _differ(current, after, changed)
    if moved:
        raise changed_since(moved)
    restored = replace(current, **{name: getattr(before, name) for name in changed})
    if restored.due_at is None:
        needs_due = [
            name
            for name, needs in (
                ("recurrence", restored.recurrence is not None),
                ("reminders", any(r.minutes_before is not None for r in restored.reminders)),
            )
            if needs
        ]
        if needs_due:
            raise changed_since(needs_due)
    kind = _STATUS_KINDS[restored.status] if "status" in changed else task_pb2.CHANGE_KIND_UPDATED
    return Change(kind, replace(restored, version=current.version + 1))


def check_uncreate(current: TaskState, created: TaskState) -> None:
    """Undoing a creation deletes the task: only while it is as it was created (CHANGED_SINCE
    naming what changed otherwise)."""
    moved = _differ(current, created)
    if moved:
        raise changed_since(moved)


def restored(existing: TaskState | None, deleted: TaskState) -> TaskState | None:
    """The task a delete removed, back under the same id and series at the next version; None
    when it is back already (`existing` holds its values: a retried restore).

    TASK_EXISTS when a different task holds its id again (it was restored and changed since)."""
    if existing is not None:
        if _differ(existing, deleted):
            raise FailedPrecondition(
                f"task {deleted.id} exists again (it was restored and changed since)",
                reason="TASK_EXISTS",
            )
        return None
    return replace(deleted, version=deleted.version + 1)


def removes_next_instance(next_instance: TaskState) -> bool:
    """Whether undoing a completion deletes the next instance it made: only while nothing
    changed it since it was made (still version 1); one a person touched is theirs, and kept."""
    return next_instance.version == 1
