"""plan_next: which CreateTask a completion event asks for (pure, no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from svc_recur.next_instance import UnusableEvent, plan_next
from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2
from todo_recurrence import CatchUp
from todo_runtime.failures import is_transient
from todo_runtime.timestamps import timestamp

SERIES = str(uuid.uuid4())


def completed(
    rule: str,
    due: datetime,
    done: datetime,
    *,
    zone: str = "Europe/Berlin",
    basis: int = 1,
    index: int = 1,
) -> task_events_pb2.TaskEvent:
    task = task_pb2.Task(
        id=str(uuid.uuid4()),
        owner_id="alice",
        title="Water plants",
        description="all of them",
        status=task_pb2.TASK_STATUS_COMPLETED,
        priority=task_pb2.PRIORITY_HIGH,
        tags=["home"],
        time_zone=zone,
        recurrence=task_pb2.Recurrence(rule=rule, text="", basis=basis),  # type: ignore[arg-type]
        reminders=[
            task_pb2.Reminder(id="before-30", minutes_before=30),
            task_pb2.Reminder(id="at-1", remind_time=timestamp(due)),
        ],
        series_id=SERIES,
        series_index=index,
        due_time=timestamp(due),
        complete_time=timestamp(done),
    )
    return task_events_pb2.TaskEvent(
        event_id=str(uuid.uuid4()), kind=task_pb2.CHANGE_KIND_COMPLETED, user_id="alice", task=task
    )


def test_next_instance_copies_the_task_and_advances_the_series() -> None:
    due = datetime(2027, 1, 31, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    request = plan_next(
        completed("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0;BYSECOND=0", due, due),
        CatchUp.NEXT_AFTER_NOW,
    )
    assert request is not None
    task = request.task
    assert task.due_time.ToDatetime(tzinfo=UTC) == datetime(2027, 2, 28, 8, 0, tzinfo=UTC)
    assert (task.title, task.description, task.priority, list(task.tags)) == (
        "Water plants",
        "all of them",
        task_pb2.PRIORITY_HIGH,
        ["home"],
    )
    assert [r.minutes_before for r in task.reminders] == [
        30
    ]  # absolute reminders belonged to the old instance
    assert (task.series_id, task.series_index) == (SERIES, 2)
    assert task.time_zone == "Europe/Berlin"
    assert task.recurrence.rule.startswith("FREQ=MONTHLY")


def test_count_is_decremented_and_ends_the_series() -> None:
    due = datetime(2027, 3, 1, 9, tzinfo=UTC)
    request = plan_next(
        completed("FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0;COUNT=3", due, due, zone="UTC"),
        CatchUp.NEXT_AFTER_NOW,
    )
    assert request is not None
    assert "COUNT=2" in request.task.recurrence.rule
    last = completed("FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0;COUNT=1", due, due, zone="UTC")
    assert plan_next(last, CatchUp.NEXT_AFTER_NOW) is None


def test_late_completion_catches_up_by_default() -> None:
    due = datetime(2027, 3, 1, 9, tzinfo=UTC)
    done = datetime(2027, 3, 4, 12, tzinfo=UTC)
    rule = "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"
    caught_up = plan_next(completed(rule, due, done, zone="UTC"), CatchUp.NEXT_AFTER_NOW)
    strict = plan_next(completed(rule, due, done, zone="UTC"), CatchUp.NEXT_AFTER_DUE)
    assert caught_up is not None
    assert strict is not None
    assert caught_up.task.due_time.ToDatetime(tzinfo=UTC) == datetime(2027, 3, 5, 9, tzinfo=UTC)
    assert strict.task.due_time.ToDatetime(tzinfo=UTC) == datetime(2027, 3, 2, 9, tzinfo=UTC)


def test_completion_basis_measures_from_the_completion() -> None:
    due = datetime(2027, 3, 1, 9, tzinfo=UTC)
    done = datetime(2027, 3, 2, 15, tzinfo=UTC)
    request = plan_next(
        completed(
            "FREQ=DAILY;INTERVAL=3",
            due,
            done,
            zone="UTC",
            basis=task_pb2.RECURRENCE_BASIS_COMPLETION,
        ),
        CatchUp.NEXT_AFTER_NOW,
    )
    assert request is not None
    assert request.task.due_time.ToDatetime(tzinfo=UTC) == datetime(2027, 3, 5, 9, tzinfo=UTC)
    assert request.task.recurrence.basis == task_pb2.RECURRENCE_BASIS_COMPLETION


@pytest.mark.parametrize(
    "kind",
    [
        task_pb2.CHANGE_KIND_CREATED,
        task_pb2.CHANGE_KIND_UPDATED,
        task_pb2.CHANGE_KIND_REOPENED,
        task_pb2.CHANGE_KIND_DELETED,
    ],
)
def test_only_completions_create_instances(kind: int) -> None:
    due = datetime(2027, 3, 1, 9, tzinfo=UTC)
    event = completed("FREQ=DAILY", due, due)
    event.kind = kind  # type: ignore[assignment]
    assert plan_next(event, CatchUp.NEXT_AFTER_NOW) is None


def test_one_off_tasks_create_nothing() -> None:
    due = datetime(2027, 3, 1, 9, tzinfo=UTC)
    event = completed("FREQ=DAILY", due, due)
    event.task.ClearField("recurrence")
    assert plan_next(event, CatchUp.NEXT_AFTER_NOW) is None


def _without_complete_time(event: task_events_pb2.TaskEvent) -> task_events_pb2.TaskEvent:
    event.task.ClearField("complete_time")
    return event


POISON_DUE = datetime(2027, 3, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "words"),
    [
        (completed("FREQ=SOMETIMES", POISON_DUE, POISON_DUE), "unusable rule"),
        (completed("FREQ=DAILY", POISON_DUE, POISON_DUE, zone="Nowhere/Land"), "time zone"),
        (
            _without_complete_time(completed("FREQ=DAILY", POISON_DUE, POISON_DUE)),
            "no complete_time",
        ),
    ],
)
def test_unusable_events_are_poison(event: task_events_pb2.TaskEvent, words: str) -> None:
    """Not transient: the consumer dead-letters them instead of waiting for them to heal."""
    with pytest.raises(UnusableEvent, match=words) as caught:
        plan_next(event, CatchUp.NEXT_AFTER_NOW)
    assert not is_transient(caught.value)


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_series_at_the_end_of_the_calendar_ends_instead_of_failing(zone: str) -> None:
    due = datetime(9999, 6, 1, 9, tzinfo=UTC)
    event = completed("FREQ=YEARLY", due, due, zone=zone)
    assert plan_next(event, CatchUp.NEXT_AFTER_DUE) is None
    assert plan_next(event, CatchUp.NEXT_AFTER_NOW) is None
