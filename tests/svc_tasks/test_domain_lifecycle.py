"""Rules about a task as a whole and its changes (svc_tasks.domain.lifecycle): no database."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from svc_tasks.domain.fields import Reminder
from svc_tasks.domain.lifecycle import (
    Change,
    Draft,
    Edit,
    TaskInput,
    TaskState,
    create_answer,
    create_expands,
    mask,
    new_task,
    set_status,
    update,
    update_expands,
)
from svc_tasks.domain.recurrence import RecurrenceValue, RequestedRecurrence, resolve
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.errors import Conflict, DomainError, InvalidArgument

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
DUE = datetime(2027, 3, 5, 8, tzinfo=UTC)
SERIES = uuid.UUID("6f1c2b9e-3d4a-4f5b-8c7d-9e0f1a2b3c4d")
UNTIL_10TH = RequestedRecurrence(rule="FREQ=DAILY;UNTIL=20270310T000000Z")
DAILY = RequestedRecurrence(text="every day at 8am")


def _pinned(requested: RequestedRecurrence) -> RecurrenceValue:
    return resolve(requested, ZoneInfo("UTC"), DUE, NOW)[0]


TASK = TaskState(
    id=uuid.UUID("0b7e4c1a-2f3d-4e5f-9a8b-7c6d5e4f3a2b"),
    title="Water plants",
    description="",
    priority=task_pb2.PRIORITY_NONE,
    tags=("home",),
    due_at=None,
    time_zone="Europe/Berlin",
    recurrence=None,
    reminders=(),
    series_id=None,
    series_index=None,
)
DUE_TASK = replace(TASK, due_at=DUE, reminders=(Reminder(minutes_before=30),))
RECURRING = replace(
    TASK,
    due_at=DUE,
    time_zone="UTC",
    recurrence=_pinned(UNTIL_10TH),
    series_id=SERIES,
    series_index=1,
)
COMPLETED = replace(TASK, status=task_pb2.TASK_STATUS_COMPLETED, completed_at=NOW, version=2)


def edit(paths: str, expected_version: int | None = None, **values: Any) -> Edit:
    return Edit(frozenset(paths.split()), TaskInput(**values), expected_version)


def draft(**values: Any) -> Draft:
    values.setdefault("title", "Water plants")
    values.setdefault("priority", task_pb2.PRIORITY_NONE)
    return Draft(TaskInput(**values))


@pytest.mark.parametrize(
    ("paths", "named"),
    [
        (["title"], {"title"}),
        (["due_time", "reminders", "due_time"], {"due_time", "reminders"}),
    ],
)
def test_a_mask_names_updatable_fields(paths: list[str], named: set[str]) -> None:
    assert mask(paths) == named


@pytest.mark.parametrize(
    ("paths", "field", "words"),
    [
        ([], "update_mask", "at least one of"),
        (["owner_id"], "update_mask", "cannot update owner_id"),
        (["title", "status"], "update_mask", "cannot update status"),
        (["title"] * 9, "update_mask.paths", "at most 8"),
    ],
)
def test_a_bad_mask_is_refused(paths: list[str], field: str, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words) as caught:
        mask(paths)
    assert caught.value.field == field


def test_a_new_task_is_open_at_version_one_with_normalized_fields() -> None:
    new = new_task(draft(title="  Water plants ", tags=["Home", "home"]), NOW)
    task = new.task
    assert (task.title, task.tags, task.time_zone) == ("Water plants", ("home",), "UTC")
    assert (task.status, task.version, task.completed_at) == (task_pb2.TASK_STATUS_OPEN, 1, None)
    assert (task.recurrence, task.series_id, task.series_index) == (None, None, None)
    assert new.request_id is None
    assert new.kind == task_pb2.CHANGE_KIND_CREATED


def test_a_recurring_task_starts_a_series_and_gets_its_due_from_the_rule() -> None:
    task = new_task(draft(recurrence=DAILY), NOW).task
    assert task.recurrence is not None
    assert task.recurrence.rule.startswith("FREQ=DAILY")
    assert task.due_at == datetime(2027, 3, 2, 8, tzinfo=UTC)
    assert task.series_id is not None
    assert task.series_index == 1


def test_a_series_occurrence_keeps_its_series() -> None:
    requested = Draft(
        TaskInput(title="x", priority=task_pb2.PRIORITY_NONE, recurrence=DAILY),
        series_id=str(SERIES),
        series_index=4,
        request_id="retry-1",
    )
    new = new_task(requested, NOW)
    assert (new.task.series_id, new.task.series_index, new.request_id) == (SERIES, 4, "retry-1")


@pytest.mark.parametrize(
    ("requested", "field"),
    [
        (draft(time_zone="Mars/Olympus"), "task.time_zone"),
        (draft(recurrence=RequestedRecurrence()), "task.recurrence"),
        (
            draft(recurrence=RequestedRecurrence(rule="FREQ=DAILY", basis=7)),
            "task.recurrence.basis",
        ),
        (draft(recurrence=RequestedRecurrence(text="whenever")), "task.recurrence.text"),
        (draft(title=" "), "task.title"),
        (draft(priority=task_pb2.PRIORITY_UNSPECIFIED), "task.priority"),
        (draft(tags=["ok", ""]), "task.tags[1]"),
        (draft(reminders=[Reminder(minutes_before=5)]), "task.reminders[0].minutes_before"),
        (Draft(draft().values, series_index=2), "task.series_index"),
        (Draft(draft().values, request_id="r" * 101), "request_id"),
    ],
)
def test_a_bad_create_names_the_field(requested: Draft, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        new_task(requested, NOW)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("requested", "fields"),
    [
        (
            draft(title=" ", priority=task_pb2.PRIORITY_UNSPECIFIED, time_zone="Mars/Olympus"),
            ["task.title", "task.priority", "task.time_zone"],
        ),
        (
            draft(tags=[""], reminders=[Reminder(minutes_before=5)]),
            ["task.tags[0]", "task.reminders[0].minutes_before"],
        ),
        (
            # The reminders wait for the due time the rule would give: not named when it fails.
            draft(
                description="\x00",
                recurrence=RequestedRecurrence(text="whenever"),
                reminders=[Reminder(minutes_before=5)],
            ),
            ["task.description", "task.recurrence.text"],
        ),
    ],
)
def test_a_bad_create_names_every_wrong_field_at_once(requested: Draft, fields: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        new_task(requested, NOW)
    assert [v.field for v in caught.value.violations] == fields


@pytest.mark.parametrize(
    ("state", "requested", "fields"),
    [
        (
            TASK,
            edit("title priority time_zone", time_zone="Nowhere/Near"),
            ["task.title", "task.priority", "task.time_zone"],
        ),
        (RECURRING, edit("tags due_time", tags=[""]), ["task.tags[0]", "task.due_time"]),
        (TASK, edit("description", title=" ", description="ok"), None),
    ],
)
def test_a_bad_update_names_every_wrong_field_its_mask_names(
    state: TaskState, requested: Edit, fields: list[str] | None
) -> None:
    if fields is None:  # a wrong value of a field the mask leaves out is not looked at
        assert update(state, requested, NOW) is not None
        return
    with pytest.raises(InvalidArgument) as caught:
        update(state, requested, NOW)
    assert [v.field for v in caught.value.violations] == fields


def test_a_repeated_create_answers_with_the_first_task_unless_it_was_deleted() -> None:
    first = task_pb2.Task(id=str(TASK.id))
    assert create_answer(first) is first
    with pytest.raises(Conflict, match="was deleted"):
        create_answer(None)


@pytest.mark.parametrize(
    ("state", "requested", "after"),
    [
        (TASK, edit("title", title=" New "), {"title": "New"}),
        (TASK, edit("title", title="New", description="not in the mask"), {"title": "New"}),
        (TASK, edit("tags", tags=["Garden", "GARDEN"]), {"tags": ("garden",)}),
        (TASK, edit("priority", priority=task_pb2.PRIORITY_HIGH), {"priority": 4}),
        (TASK, edit("time_zone"), {"time_zone": "UTC"}),
        (TASK, edit("due_time", due_at=DUE), {"due_at": DUE}),
        (DUE_TASK, edit("due_time reminders"), {"due_at": None, "reminders": ()}),
        (RECURRING, edit("recurrence"), {"recurrence": None}),
        (TASK, edit("title", 1, title="New"), {"title": "New"}),
    ],
)
def test_an_update_changes_what_its_mask_names(
    state: TaskState, requested: Edit, after: dict[str, Any]
) -> None:
    expected = replace(state, version=state.version + 1, **after)
    assert update(state, requested, NOW) == Change(task_pb2.CHANGE_KIND_UPDATED, expected)


@pytest.mark.parametrize(
    ("state", "requested"),
    [
        (TASK, edit("title", title=" Water plants ")),
        (TASK, edit("tags", tags=["HOME"])),
        (TASK, edit("recurrence")),
        (TASK, edit("time_zone due_time", time_zone="Europe/Berlin")),
        (DUE_TASK, edit("reminders", reminders=[Reminder(minutes_before=30)] * 2)),
    ],
)
def test_an_update_that_changes_nothing_is_no_change(state: TaskState, requested: Edit) -> None:
    assert update(state, requested, NOW) is None


@pytest.mark.parametrize(
    ("state", "requested", "error", "words"),
    [
        (TASK, edit("title", 2, title="New"), Conflict, "is at version 1, not 2"),
        (TASK, edit("title"), InvalidArgument, "task.title"),
        (TASK, edit("priority"), InvalidArgument, "task.priority"),
        (TASK, edit("time_zone", time_zone="Nowhere/Near"), InvalidArgument, "task.time_zone"),
        (RECURRING, edit("due_time"), InvalidArgument, "task.due_time: a recurring task"),
        (DUE_TASK, edit("due_time"), InvalidArgument, "task.due_time: reminders are relative"),
        (
            DUE_TASK,
            edit("due_time reminders", reminders=[Reminder(minutes_before=5)]),
            InvalidArgument,
            r"task.reminders\[0\].minutes_before",
        ),
        (
            TASK,
            edit("recurrence", recurrence=RequestedRecurrence(text="now and then")),
            InvalidArgument,
            "task.recurrence.text",
        ),
    ],
)
def test_an_update_against_the_rules_is_refused(
    state: TaskState, requested: Edit, error: type[DomainError], words: str
) -> None:
    with pytest.raises(error, match=words):
        update(state, requested, NOW)


def test_a_recurrence_added_by_an_update_is_pinned_and_starts_a_series() -> None:
    change = update(DUE_TASK, edit("recurrence", recurrence=DAILY), NOW)
    assert change is not None
    task = change.task
    assert task.recurrence is not None
    assert task.recurrence.rule.startswith("FREQ=DAILY")
    assert task.due_at == DUE
    assert task.series_id is not None
    assert task.series_index == 1


def test_a_recurrence_replaced_by_an_update_keeps_the_series() -> None:
    change = update(RECURRING, edit("recurrence", recurrence=DAILY), NOW)
    assert change is not None
    assert (change.task.series_id, change.task.series_index) == (SERIES, 1)
    assert change.task.recurrence != RECURRING.recurrence


@pytest.mark.parametrize(
    ("due", "zone", "final"),
    [
        (DUE + timedelta(days=4), "UTC", True),  # the 9th: the 10th passes the rule's UNTIL
        (DUE + timedelta(days=1), "UTC", False),
        (DUE, "Asia/Tokyo", False),
    ],
)
def test_moving_a_recurring_task_decides_anew_whether_it_is_the_last(
    due: datetime, zone: str, final: bool
) -> None:
    change = update(RECURRING, edit("due_time time_zone", due_at=due, time_zone=zone), NOW)
    assert change is not None
    assert change.task.recurrence is not None
    assert change.task.recurrence.final is final


@pytest.mark.parametrize(
    ("state", "status", "kind", "completed_at"),
    [
        (TASK, task_pb2.TASK_STATUS_COMPLETED, task_pb2.CHANGE_KIND_COMPLETED, NOW),
        (COMPLETED, task_pb2.TASK_STATUS_OPEN, task_pb2.CHANGE_KIND_REOPENED, None),
    ],
)
def test_completing_and_reopening_change_the_status_and_say_so(
    state: TaskState, status: task_pb2.TaskStatus, kind: task_pb2.ChangeKind, completed_at: datetime
) -> None:
    expected = replace(state, status=status, completed_at=completed_at, version=state.version + 1)
    assert set_status(state, status, NOW) == Change(kind, expected)


@pytest.mark.parametrize(
    ("state", "status"),
    [(TASK, task_pb2.TASK_STATUS_OPEN), (COMPLETED, task_pb2.TASK_STATUS_COMPLETED)],
)
def test_completing_or_reopening_twice_changes_nothing(
    state: TaskState, status: task_pb2.TaskStatus
) -> None:
    assert set_status(state, status, NOW + timedelta(hours=1)) is None


@pytest.mark.parametrize(
    ("state", "requested", "expands"),
    [
        (TASK, edit("recurrence", recurrence=DAILY), True),
        (TASK, edit("recurrence"), False),
        (TASK, edit("due_time time_zone", due_at=DUE), False),
        (RECURRING, edit("due_time", due_at=DUE), True),
        (RECURRING, edit("time_zone"), True),
        (RECURRING, edit("title", title="x"), False),
    ],
)
def test_only_updates_that_expand_a_recurrence_need_the_engine(
    state: TaskState, requested: Edit, expands: bool
) -> None:
    assert update_expands(state, requested) is expands


@pytest.mark.parametrize(
    ("requested", "expands"), [(draft(), False), (draft(recurrence=DAILY), True)]
)
def test_only_recurring_creates_need_the_engine(requested: Draft, expands: bool) -> None:
    assert create_expands(requested) is expands
