"""Proto ↔ GraphQL conversion of tasks and the requests built from inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import strawberry
from graphql import GraphQLObjectType

from gateway.api.scalars import to_timestamp
from gateway.api.tasks.enums import Priority, RecurrenceBasis, TaskStatus
from gateway.api.tasks.inputs import (
    CreateTaskInput,
    OrderDirection,
    TaskFilter,
    TaskOrder,
    TaskOrderField,
    UpdateTaskInput,
)
from gateway.api.tasks.types import ALL_TASK_FIELDS, Task, TaskConnection, TaskFields
from gateway.errors import GatewayError, UserErrorCode
from gateway.ids import encode
from gateway.schema import build_schema
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2

DUE = datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=1)))
CREATED = datetime(2026, 3, 1, 8, tzinfo=UTC)
ID = strawberry.ID("VGFzazox")


def _task(**fields: object) -> task_pb2.Task:
    message = task_pb2.Task(
        id="t1",
        owner_id="alice",
        title="Pay rent",
        status=task_pb2.TASK_STATUS_OPEN,
        priority=task_pb2.PRIORITY_HIGH,
        time_zone="Europe/Berlin",
        version=3,
        create_time=to_timestamp(CREATED),
        update_time=to_timestamp(CREATED),
    )
    for name, value in fields.items():
        if isinstance(value, list):
            getattr(message, name).extend(value)
        elif hasattr(value, "CopyFrom"):
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def test_one_off_task_has_nulls_for_unset_fields() -> None:
    task = Task.from_pb(_task())
    assert (task.id, task.title, task.description) == (encode("Task", "t1"), "Pay rent", "")
    assert (task.status, task.priority, task.version) == (TaskStatus.OPEN, Priority.HIGH, 3)
    assert task.due_at is None
    assert task.recurrence is None
    assert task.series_id is None
    assert task.series_index is None
    assert task.completed_at is None
    assert task.reminders == []
    assert task.created_at == CREATED


def test_recurring_task_with_reminders() -> None:
    task = Task.from_pb(
        _task(
            due_time=to_timestamp(DUE),
            recurrence=task_pb2.Recurrence(
                rule="FREQ=DAILY", text="every day", basis=task_pb2.RECURRENCE_BASIS_COMPLETION
            ),
            reminders=[
                task_pb2.Reminder(id="before-0", minutes_before=0),
                task_pb2.Reminder(id="at-1772438400", remind_time=to_timestamp(CREATED)),
            ],
            series_id="s1",
            series_index=2,
            status=task_pb2.TASK_STATUS_COMPLETED,
            complete_time=to_timestamp(CREATED),
            tags=["home", "money"],
        )
    )
    assert task.due_at == DUE
    assert task.recurrence is not None
    assert (task.recurrence.rule, task.recurrence.basis) == (
        "FREQ=DAILY",
        RecurrenceBasis.COMPLETION,
    )
    assert [(r.id, r.minutes_before, r.at) for r in task.reminders] == [
        (encode("Reminder", "t1:before-0"), 0, None),
        (encode("Reminder", "t1:at-1772438400"), None, CREATED),
    ]
    assert (task.series_id, task.series_index) == (encode("Series", "s1"), 2)
    assert task.status == TaskStatus.COMPLETED
    assert task.completed_at == CREATED
    assert task.tags == ["home", "money"]


def test_connection_edges_carry_their_own_cursors_and_page_info() -> None:
    page = TaskConnection.from_pb(
        tasks_service_pb2.ListTasksResponse(
            tasks=[_task(), _task(id="t2")],
            cursors=["c1", "c2"],
            next_page_token="c2",
            has_next_page=True,
            total_size=5,
        )
    )
    assert [edge.cursor for edge in page.edges] == ["c1", "c2"]
    info = page.page_info
    assert (info.has_next_page, info.has_previous_page, info.start_cursor, info.end_cursor) == (
        True,
        False,
        "c1",
        "c2",
    )
    assert page.total_count == 5
    empty = TaskConnection.from_pb(tasks_service_pb2.ListTasksResponse(has_previous_page=True))
    assert empty.edges == []
    assert (empty.page_info.start_cursor, empty.page_info.end_cursor) == (None, None)
    assert empty.page_info.has_previous_page


def test_create_input_sets_only_what_was_given() -> None:
    request = CreateTaskInput(title="Pay rent").to_pb()
    assert request.task.title == "Pay rent"
    assert request.task.priority == task_pb2.PRIORITY_NONE  # the contract default
    assert not request.task.HasField("due_time")
    assert not request.task.HasField("recurrence")
    assert request.request_id == ""

    full = CreateTaskInput(
        title="Standup",
        description="daily",
        priority=Priority.URGENT,
        tags=["Work"],
        due_at=DUE,
        time_zone="Europe/Berlin",
        recurrence="every weekday at 9am",
        remind_minutes_before=[10, 0],
        remind_at=[CREATED],
        request_id="req-1",
    ).to_pb()
    assert full.task.priority == task_pb2.PRIORITY_URGENT
    assert list(full.task.tags) == ["Work"]
    assert full.task.due_time == to_timestamp(DUE)
    assert full.task.recurrence.text == "every weekday at 9am"
    assert [r.WhichOneof("when") for r in full.task.reminders] == ["minutes_before"] * 2 + [
        "remind_time"
    ]
    assert [r.minutes_before for r in full.task.reminders[:2]] == [10, 0]
    assert full.request_id == "req-1"


@pytest.mark.parametrize(
    ("update", "paths"),
    [
        (UpdateTaskInput(id=ID, title="New"), ["title"]),
        (UpdateTaskInput(id=ID, description=""), ["description"]),
        (UpdateTaskInput(id=ID, priority=Priority.LOW, tags=[]), ["priority", "tags"]),
        (UpdateTaskInput(id=ID, due_at=DUE), ["due_time"]),
        (UpdateTaskInput(id=ID, clear_due_at=True), ["due_time"]),
        (UpdateTaskInput(id=ID, clear_due_at=False, title="x"), ["title"]),
        (UpdateTaskInput(id=ID, time_zone="Asia/Tokyo"), ["time_zone"]),
        (UpdateTaskInput(id=ID, recurrence="daily"), ["recurrence"]),
        (UpdateTaskInput(id=ID, clear_recurrence=True), ["recurrence"]),
        (UpdateTaskInput(id=ID, remind_minutes_before=[5]), ["reminders"]),
        (UpdateTaskInput(id=ID, remind_at=[]), ["reminders"]),
        (UpdateTaskInput(id=ID, title=None, description="d"), ["description"]),
    ],
)
def test_update_mask_names_exactly_the_given_fields(
    update: UpdateTaskInput, paths: list[str]
) -> None:
    request = update.to_pb("t1")
    assert request.task.id == "t1"
    assert list(request.update_mask.paths) == paths
    assert not request.HasField("expected_version")


def test_update_values_and_expected_version() -> None:
    request = UpdateTaskInput(
        id=ID,
        expected_version=4,
        due_at=DUE,
        recurrence="every 2 weeks",
        remind_minutes_before=[15],
        remind_at=[CREATED],
    ).to_pb("t1")
    assert request.expected_version == 4
    assert request.task.due_time == to_timestamp(DUE)
    assert request.task.recurrence.text == "every 2 weeks"
    assert [r.WhichOneof("when") for r in request.task.reminders] == [
        "minutes_before",
        "remind_time",
    ]
    cleared = UpdateTaskInput(id=ID, clear_due_at=True, clear_recurrence=True).to_pb("t1")
    assert not cleared.task.HasField("due_time")
    assert not cleared.task.HasField("recurrence")


@pytest.mark.parametrize(
    ("update", "fields"),
    [
        (UpdateTaskInput(id=ID), [("input",)]),
        (UpdateTaskInput(id=ID, title=None, clear_due_at=False), [("input",)]),
        (UpdateTaskInput(id=ID, due_at=DUE, clear_due_at=True), [("input", "clearDueAt")]),
        (
            UpdateTaskInput(id=ID, recurrence="daily", clear_recurrence=True),
            [("input", "clearRecurrence")],
        ),
        (
            UpdateTaskInput(
                id=ID, due_at=DUE, clear_due_at=True, recurrence="daily", clear_recurrence=True
            ),
            [("input", "clearDueAt"), ("input", "clearRecurrence")],
        ),
    ],
)
def test_empty_or_contradictory_updates_name_every_problem(
    update: UpdateTaskInput, fields: list[tuple[str, ...]]
) -> None:
    with pytest.raises(GatewayError) as caught:
        update.to_pb("t1")
    assert [problem.field for problem in caught.value.problems] == fields
    assert {problem.code for problem in caught.value.problems} == {UserErrorCode.INVALID}
    first = ".".join(fields[0])
    assert caught.value.extensions == {"code": "BAD_USER_INPUT", "field": first}
    assert caught.value.message.startswith(f"{first}: ")


@pytest.mark.parametrize(
    ("path", "located"),
    [
        (("input", "title"), ("input", "title")),
        (("input", "recurrence", "text"), ("input", "recurrence")),
        (("input", "reminders", "1", "minutesBefore"), ("input", "remindMinutesBefore", "1")),
        (("input", "reminders", "2", "remindTime"), ("input", "remindAt", "0")),
        (("input", "reminders", "3"), ("input", "remindAt", "1")),
        (("input", "reminders"), ("input", "reminders")),
    ],
)
def test_a_service_path_is_located_in_the_input(
    path: tuple[str, ...], located: tuple[str, ...]
) -> None:
    update = UpdateTaskInput(id=ID, remind_minutes_before=[5, 10], remind_at=[DUE, CREATED])
    create = CreateTaskInput(title="t", remind_minutes_before=[5, 10], remind_at=[DUE, CREATED])
    assert update.locate(path) == create.locate(path) == located


def test_filter_and_order_to_pb() -> None:
    message = TaskFilter(
        status=TaskStatus.OPEN,
        priorities=[Priority.HIGH, Priority.URGENT],
        tags=["a", "b"],
        due_before=DUE,
        due_after=CREATED,
        overdue=False,
        search="rent",
    ).to_pb()
    assert message.status == task_pb2.TASK_STATUS_OPEN
    assert list(message.priorities) == [task_pb2.PRIORITY_HIGH, task_pb2.PRIORITY_URGENT]
    assert list(message.tags) == ["a", "b"]
    assert (message.due_before, message.due_after) == (to_timestamp(DUE), to_timestamp(CREATED))
    assert message.HasField("overdue")
    assert message.overdue is False
    assert message.search == "rent"
    empty = TaskFilter().to_pb()
    assert not empty.HasField("overdue")
    assert empty == tasks_service_pb2.TaskFilter()

    assert TaskOrder(field=TaskOrderField.DUE_AT).to_pb() == tasks_service_pb2.TaskOrder(
        field=tasks_service_pb2.TASK_ORDER_FIELD_DUE_TIME
    )
    expected = {
        TaskOrderField.PRIORITY: tasks_service_pb2.TASK_ORDER_FIELD_PRIORITY,
        TaskOrderField.TITLE: tasks_service_pb2.TASK_ORDER_FIELD_TITLE,
        TaskOrderField.CREATED_AT: tasks_service_pb2.TASK_ORDER_FIELD_CREATE_TIME,
        TaskOrderField.UPDATED_AT: tasks_service_pb2.TASK_ORDER_FIELD_UPDATE_TIME,
    }
    for field, pb_field in expected.items():
        order = TaskOrder(field=field, direction=OrderDirection.DESC).to_pb()
        assert (order.field, order.direction) == (
            pb_field,
            tasks_service_pb2.ORDER_DIRECTION_DESCENDING,
        )


def test_unset_is_not_given() -> None:
    assert UpdateTaskInput(id=ID).title is strawberry.UNSET


def test_every_field_of_task_names_what_it_reads_of_the_message() -> None:
    task_type = build_schema()._schema.get_type("Task")
    assert isinstance(task_type, GraphQLObjectType)
    unknown = [name for name in task_type.fields if TaskFields.selected({name}) is ALL_TASK_FIELDS]
    assert unknown == []  # a new field of Task must say which message fields it reads


def test_a_task_converted_for_one_field_holds_what_the_whole_conversion_gives_it() -> None:
    message = _task(
        description="the ones on the balcony",
        status=task_pb2.TASK_STATUS_COMPLETED,
        tags=["home"],
        series_id="s1",
        series_index=3,
        recurrence=task_pb2.Recurrence(rule="FREQ=DAILY", text="every day"),
        reminders=[task_pb2.Reminder(id="r1", minutes_before=10)],
        due_time=to_timestamp(DUE),
        complete_time=to_timestamp(CREATED),
    )
    whole = Task.from_pb(message)
    task_type = build_schema()._schema.get_type("Task")
    assert isinstance(task_type, GraphQLObjectType)
    for name, field in task_type.fields.items():
        attribute = field.extensions["strawberry-definition"].python_name
        alone = Task.from_pb(message, TaskFields.selected({name}))
        assert getattr(alone, attribute) == getattr(whole, attribute), name
    assert Task.from_pb(message, TaskFields.selected({"title"})).due_at is None  # not converted


@pytest.mark.parametrize(
    ("selected", "paths"),
    [
        ({"id", "title"}, ["id", "title"]),
        ({"dueAt", "createdAt", "__typename"}, ["create_time", "due_time"]),
        ({"reminders"}, ["id", "reminders"]),
        ({"__typename"}, ["id"]),
        (set(), ["id"]),
        ({"title", "somethingNew"}, []),
    ],
)
def test_a_page_reads_only_the_fields_its_query_selects(
    selected: set[str], paths: list[str]
) -> None:
    assert TaskFields.selected(selected).read_mask == paths


def test_a_task_of_a_partial_message_has_what_the_message_holds() -> None:
    task = Task.from_pb(task_pb2.Task(title="Pay rent", tags=["home"]))
    assert (task.title, task.tags, task.id, task.due_at, task.reminders) == (
        "Pay rent",
        ["home"],
        "",
        None,
        [],
    )
