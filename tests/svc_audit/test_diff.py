"""Field-level diffs: every task field a person can see or set, rendered once, compared."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from gateway.limits.query_cost import LIST_BOUNDS
from svc_audit.diff import FIELDS, changes
from tests.svc_audit.conftest import new_task
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.timestamps import timestamp
from todo_transparency.entries import FieldChange

DUE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # after Berlin's spring-forward


def _due(task: task_pb2.Task, when: datetime = DUE, zone: str = "UTC") -> None:
    task.due_time.CopyFrom(timestamp(when))
    task.time_zone = zone


def _remind(task: task_pb2.Task) -> None:
    task.reminders.add(id="r1", minutes_before=15)
    task.reminders.add(id="r2", remind_time=timestamp(DUE))


def _recur(task: task_pb2.Task, rule: str = "FREQ=DAILY") -> None:
    task.recurrence.rule = rule
    task.recurrence.text = "every day"
    task.recurrence.basis = task_pb2.RECURRENCE_BASIS_SCHEDULE


def _complete(task: task_pb2.Task) -> None:
    task.status = task_pb2.TASK_STATUS_COMPLETED
    task.complete_time.CopyFrom(timestamp(DUE))


def _reopen(task: task_pb2.Task) -> None:
    task.status = task_pb2.TASK_STATUS_OPEN
    task.ClearField("complete_time")


def _bump(task: task_pb2.Task) -> None:
    task.version = 9
    task.update_time.CopyFrom(timestamp(LATER))


BASE: Callable[[task_pb2.Task], None] = lambda task: None  # noqa: E731 - a table entry

CASES: list[tuple[str, Callable[[task_pb2.Task], None], Callable[[task_pb2.Task], None], list[FieldChange]]] = [
    ("title", BASE, lambda t: setattr(t, "title", "Feed the cat"),
     [FieldChange("title", "Water the plants", "Feed the cat")]),
    ("description set", BASE, lambda t: setattr(t, "description", "twice"),
     [FieldChange("description", None, "twice")]),
    ("description cleared", lambda t: setattr(t, "description", "twice"),
     lambda t: setattr(t, "description", ""), [FieldChange("description", "twice", None)]),
    ("priority", BASE, lambda t: setattr(t, "priority", task_pb2.PRIORITY_URGENT),
     [FieldChange("priority", "NONE", "URGENT")]),
    ("tags added", BASE, lambda t: t.tags.extend(["home", "garden"]),
     [FieldChange("tags", None, '["home","garden"]')]),
    ("tags changed", lambda t: t.tags.extend(["home"]), lambda t: t.tags.append("garden"),
     [FieldChange("tags", '["home"]', '["home","garden"]')]),
    ("tags removed", lambda t: t.tags.extend(["home"]), lambda t: t.ClearField("tags"),
     [FieldChange("tags", '["home"]', None)]),
    ("due set", BASE, _due, [FieldChange("due_time", None, "2026-03-01T08:00:00+00:00[UTC]")]),
    ("due moved", _due, lambda t: _due(t, LATER),
     [FieldChange("due_time", "2026-03-01T08:00:00+00:00[UTC]", "2026-03-29T08:00:00+00:00[UTC]")]),
    ("zone changed, same instant", _due, lambda t: _due(t, DUE, "Europe/Berlin"), [
        FieldChange("due_time", "2026-03-01T08:00:00+00:00[UTC]",
                    "2026-03-01T09:00:00+01:00[Europe/Berlin]"),
        FieldChange("time_zone", "UTC", "Europe/Berlin"),
    ]),
    ("due in summer time", lambda t: _due(t, DUE, "Europe/Berlin"),
     lambda t: _due(t, LATER, "Europe/Berlin"),
     [FieldChange("due_time", "2026-03-01T09:00:00+01:00[Europe/Berlin]",
                  "2026-03-29T10:00:00+02:00[Europe/Berlin]")]),
    ("due cleared", _due, lambda t: t.ClearField("due_time"),
     [FieldChange("due_time", "2026-03-01T08:00:00+00:00[UTC]", None)]),
    ("reminders set", BASE, _remind, [FieldChange(
        "reminders", None, '[{"minutesBefore":15},{"at":"2026-03-01T08:00:00Z"}]')]),
    ("reminders cleared", _remind, lambda t: t.ClearField("reminders"), [FieldChange(
        "reminders", '[{"minutesBefore":15},{"at":"2026-03-01T08:00:00Z"}]', None)]),
    ("recurrence set", BASE, _recur, [FieldChange(
        "recurrence", None, '{"basis":"SCHEDULE","rule":"FREQ=DAILY","text":"every day"}')]),
    ("recurrence basis", _recur,
     lambda t: setattr(t.recurrence, "basis", task_pb2.RECURRENCE_BASIS_COMPLETION), [FieldChange(
        "recurrence", '{"basis":"SCHEDULE","rule":"FREQ=DAILY","text":"every day"}',
        '{"basis":"COMPLETION","rule":"FREQ=DAILY","text":"every day"}')]),
    ("recurrence basis unspecified: SCHEDULE", _recur,
     lambda t: setattr(t.recurrence, "basis", task_pb2.RECURRENCE_BASIS_UNSPECIFIED), []),
    ("recurrence cleared", _recur, lambda t: t.ClearField("recurrence"), [FieldChange(
        "recurrence", '{"basis":"SCHEDULE","rule":"FREQ=DAILY","text":"every day"}', None)]),
    ("completed", BASE, _complete, [
        FieldChange("status", "OPEN", "COMPLETED"),
        FieldChange("complete_time", None, "2026-03-01T08:00:00Z"),
    ]),
    ("reopened", _complete, _reopen, [
        FieldChange("status", "COMPLETED", "OPEN"),
        FieldChange("complete_time", "2026-03-01T08:00:00Z", None),
    ]),
    ("deleted", BASE, lambda t: t.delete_time.CopyFrom(timestamp(LATER)),
     [FieldChange("delete_time", None, "2026-03-29T08:00:00Z")]),
    ("version and update time only", BASE, _bump, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_an_update_lists_each_changed_field(
    setup: Callable[[task_pb2.Task], None],
    change: Callable[[task_pb2.Task], None],
    expected: list[FieldChange],
) -> None:
    before = new_task("user-diff")
    setup(before)
    after = task_pb2.Task()
    after.CopyFrom(before)
    change(after)
    assert list(changes(before, after)) == expected


def test_a_new_task_lists_every_field_it_has() -> None:
    task = new_task("user-diff")
    _due(task, DUE, "Asia/Calcutta")
    task.tags.append("home")
    task.create_time.CopyFrom(timestamp(DUE))
    assert list(changes(None, task)) == [
        FieldChange("title", None, "Water the plants"),
        FieldChange("status", None, "OPEN"),
        FieldChange("priority", None, "NONE"),
        FieldChange("tags", None, '["home"]'),
        FieldChange("due_time", None, "2026-03-01T13:30:00+05:30[Asia/Calcutta]"),
        FieldChange("time_zone", None, "Asia/Calcutta"),
        FieldChange("create_time", None, "2026-03-01T08:00:00Z"),
    ]


def test_the_gateway_prices_every_field_a_diff_can_list() -> None:
    """The gateway's query cost bounds `AuditEntry.changes` by this count (it cannot import it)."""
    assert len(FIELDS) == LIST_BOUNDS["changes"]
