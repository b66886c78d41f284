"""Which reminders a task wants and when (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from svc_notify.schedule import Wanted, current, is_open, snooze_reminder_id, wanted
from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.timestamps import timestamp

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def event(
    *reminders: task_pb2.Reminder,
    due: datetime | None = NOW + timedelta(hours=2),
    status: int = task_pb2.TASK_STATUS_OPEN,
    kind: int = task_pb2.CHANGE_KIND_UPDATED,
) -> task_events_pb2.TaskEvent:
    task = task_pb2.Task(id="t", status=status, reminders=list(reminders))  # type: ignore[arg-type]
    if due is not None:
        task.due_time.CopyFrom(timestamp(due))
    return task_events_pb2.TaskEvent(kind=kind, task=task, event_time=timestamp(NOW))  # type: ignore[arg-type]


def test_relative_and_absolute_reminders() -> None:
    found = wanted(
        event(
            task_pb2.Reminder(id="before-30", minutes_before=30),
            task_pb2.Reminder(id="at-1", remind_time=timestamp(NOW + timedelta(minutes=5))),
        )
    )
    assert found == [
        Wanted("before-30", NOW + timedelta(hours=1, minutes=30)),
        Wanted("at-1", NOW + timedelta(minutes=5)),
    ]


def test_relative_reminders_need_a_due_time() -> None:
    assert wanted(event(task_pb2.Reminder(id="before-0", minutes_before=0), due=None)) == []


def test_reminders_not_after_the_change_are_not_scheduled() -> None:
    past = task_pb2.Reminder(id="at-0", remind_time=timestamp(NOW - timedelta(seconds=1)))
    exactly = task_pb2.Reminder(id="at-1", remind_time=timestamp(NOW))
    assert wanted(event(past, exactly)) == []


def test_a_reminder_past_the_change_stays_current_if_an_earlier_change_set_it() -> None:
    """Not scheduled anew, but not cancelled either: svc_notify may see the change late."""
    past = task_pb2.Reminder(id="at-0", remind_time=timestamp(NOW - timedelta(seconds=1)))
    assert current(event(past)) == [Wanted("at-0", NOW - timedelta(seconds=1))]
    assert current(event(past, status=task_pb2.TASK_STATUS_COMPLETED)) == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (task_pb2.TASK_STATUS_COMPLETED, task_pb2.CHANGE_KIND_COMPLETED),
        (task_pb2.TASK_STATUS_OPEN, task_pb2.CHANGE_KIND_DELETED),
    ],
)
def test_completed_and_deleted_tasks_want_nothing(status: int, kind: int) -> None:
    done = event(task_pb2.Reminder(id="before-5", minutes_before=5), status=status, kind=kind)
    assert not is_open(done)
    assert wanted(done) == []


@pytest.mark.parametrize(
    ("reminders", "due", "fires"),
    [
        ((), NOW + timedelta(hours=2), []),
        (
            (task_pb2.Reminder(id="before-0", minutes_before=0),),
            NOW + timedelta(hours=2),
            [Wanted("before-0", NOW + timedelta(hours=2))],
        ),
        (
            (task_pb2.Reminder(id="before-120", minutes_before=120),),
            NOW + timedelta(hours=2),
            [],  # exactly the change's time: not after it
        ),
        (
            (
                task_pb2.Reminder(id="before-60", minutes_before=60),
                task_pb2.Reminder(id="at-2", remind_time=timestamp(NOW + timedelta(days=2))),
            ),
            None,
            [Wanted("at-2", NOW + timedelta(days=2))],
        ),
        ((task_pb2.Reminder(id="empty"),), NOW + timedelta(hours=2), []),
    ],
)
def test_when_each_reminder_fires(
    reminders: tuple[task_pb2.Reminder, ...], due: datetime | None, fires: list[Wanted]
) -> None:
    assert wanted(event(*reminders, due=due)) == fires


def test_a_snoozed_notification_has_one_schedule_entry() -> None:
    assert snooze_reminder_id("n1") == snooze_reminder_id("n1") == "snooze:n1"
