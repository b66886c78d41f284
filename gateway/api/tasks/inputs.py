"""Task inputs (create, update, complete, reopen, delete, filter, order) and the `todo.tasks.v1`
requests they become.

Omitted and null input fields mean the same thing, "not given": clearing is
always explicit (`clearDueAt`, `clearRecurrence`, an empty list or string).
What an input alone can tell is wrong is refused here, every problem at once, before any call.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Final, TypeVar

import strawberry
from google.protobuf.field_mask_pb2 import FieldMask

from gateway.api.payloads import MutationInput
from gateway.api.scalars import to_timestamp
from gateway.api.tasks.enums import PRIORITY_TO_PB, STATUS_TO_PB, Priority, TaskStatus
from gateway.arguments import given
from gateway.errors import BAD_USER_INPUT, GatewayError, Problem, UserErrorCode
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2
from todo_runtime.validation import ORDER_KEYS_MAX, PRIORITIES_MAX, REMINDERS_MAX, TAGS_MAX

_REMINDERS_MAX = f" At most {REMINDERS_MAX} reminders, of both kinds together."
_REMINDERS_NOTE = (
    " Giving either reminder list replaces all reminders with the union of the lists given: "
    "a kind whose list is omitted is dropped."
)
_T = TypeVar("_T")


def _list(value: list[_T] | None) -> list[_T]:
    return value if given(value) else []


def _reminders(
    minutes: list[int], instants: list[datetime], problems: list[Problem]
) -> list[task_pb2.Reminder]:
    """Both reminder lists as one, which holds at most REMINDERS_MAX (each list alone is
    checked before the operation runs, `limits.list_maxima`)."""
    if len(minutes) + len(instants) > REMINDERS_MAX:
        problems.append(
            _problem(
                "remindAt",
                f"with remindMinutesBefore, must hold at most {REMINDERS_MAX} reminders, got "
                f"{len(minutes) + len(instants)}",
            )
        )
    relative = [task_pb2.Reminder(minutes_before=value) for value in minutes]
    absolute = [task_pb2.Reminder(remind_time=to_timestamp(value)) for value in instants]
    return relative + absolute


def _problem(field: str, message: str) -> Problem:
    return Problem(UserErrorCode.INVALID, ("input", field) if field else ("input",), message)


def _refuse_if_any(problems: list[Problem]) -> None:
    if problems:
        first = problems[0]
        field = ".".join(first.field or ())
        raise GatewayError(
            BAD_USER_INPUT, f"{field}: {first.message}", field=field, problems=problems
        )


def _locate(path: tuple[str, ...], relative_count: int) -> tuple[str, ...]:
    """A service's path into the task as the path into this input: the recurrence's parts are
    the one `recurrence` string, and a reminder of the merged list (`input.reminders.3...`) is an
    item of the input list it came from (`input.remindAt.1`)."""
    if path[:2] == ("input", "recurrence"):
        return path[:2]
    if path[:2] != ("input", "reminders") or len(path) < 3 or not path[2].isdigit():
        return path
    index = int(path[2])
    if index < relative_count:
        return ("input", "remindMinutesBefore", str(index))
    return ("input", "remindAt", str(index - relative_count))


@strawberry.input(description="A new task. Only `title` is required.")
class CreateTaskInput(MutationInput):
    title: str = strawberry.field(description="1..500 characters after trimming.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Up to 10000 characters."
    )
    priority: Priority | None = strawberry.field(
        default=strawberry.UNSET, description="Default NONE."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"At most {TAGS_MAX}, each 1..50 characters; case-insensitive.",
    )
    due_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When it is due."
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="IANA zone for the due time and recurrence; default UTC.",
    )
    recurrence: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="RRULE or natural language, e.g. 'every weekday at 9am', 'every 3 days after "
        "completion'. Try it first with parseRecurrence.",
    )
    remind_minutes_before: list[int] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Reminders N minutes before the due time (needs dueAt)." + _REMINDERS_MAX,
    )
    remind_at: list[datetime] | None = strawberry.field(
        default=strawberry.UNSET, description="Reminders at absolute instants." + _REMINDERS_MAX
    )
    request_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Idempotency key (1..100 characters, unique per user): a retry with the same "
        "key returns the task the first call created instead of creating another.",
    )

    def to_pb(self) -> tasks_service_pb2.CreateTaskRequest:
        task = task_pb2.Task(title=self.title)
        if given(self.description):
            task.description = self.description
        task.priority = (
            PRIORITY_TO_PB[self.priority] if given(self.priority) else task_pb2.PRIORITY_NONE
        )
        if given(self.tags):
            task.tags.extend(self.tags)
        if given(self.due_at):
            task.due_time.CopyFrom(to_timestamp(self.due_at))
        if given(self.time_zone):
            task.time_zone = self.time_zone
        if given(self.recurrence):
            task.recurrence.text = self.recurrence
        problems: list[Problem] = []
        minutes, instants = _list(self.remind_minutes_before), _list(self.remind_at)
        task.reminders.extend(_reminders(minutes, instants, problems))
        _refuse_if_any(problems)
        request = tasks_service_pb2.CreateTaskRequest(task=task)
        if given(self.request_id):
            request.request_id = self.request_id
        return request

    def locate(self, path: tuple[str, ...]) -> tuple[str, ...]:
        return _locate(path, len(_list(self.remind_minutes_before)))


@strawberry.input(
    description="Changes to a task. Omitted or null fields stay unchanged; clear a due time or "
    "recurrence with clearDueAt / clearRecurrence, tags with [], the description with ''."
)
class UpdateTaskInput(MutationInput):
    id: strawberry.ID = strawberry.field(description="The task's id.")
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="The `version` you last read: a STALE_VERSION user error, with the current "
        "task, if it changed since.",
    )
    title: str | None = strawberry.field(default=strawberry.UNSET, description="1..500 characters.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="'' clears it."
    )
    priority: Priority | None = strawberry.field(
        default=strawberry.UNSET, description="New priority."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description=f"Replaces all tags; at most {TAGS_MAX}."
    )
    due_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="New due time; not together with clearDueAt."
    )
    clear_due_at: bool | None = strawberry.field(
        default=strawberry.UNSET, description="true removes the due time."
    )
    time_zone: str | None = strawberry.field(default=strawberry.UNSET, description="IANA zone.")
    recurrence: str | None = strawberry.field(
        default=strawberry.UNSET, description="New rule; not together with clearRecurrence."
    )
    clear_recurrence: bool | None = strawberry.field(
        default=strawberry.UNSET, description="true makes the task one-off."
    )
    remind_minutes_before: list[int] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Relative reminders." + _REMINDERS_MAX + _REMINDERS_NOTE,
    )
    remind_at: list[datetime] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Absolute reminders." + _REMINDERS_MAX + _REMINDERS_NOTE,
    )

    def to_pb(self, task_id: str) -> tasks_service_pb2.UpdateTaskRequest:
        """The request with an update mask naming exactly the fields given."""
        task = task_pb2.Task(id=task_id)
        problems: list[Problem] = []
        paths: list[str] = []
        if given(self.title):
            task.title = self.title
            paths.append("title")
        if given(self.description):
            task.description = self.description
            paths.append("description")
        if given(self.priority):
            task.priority = PRIORITY_TO_PB[self.priority]
            paths.append("priority")
        if given(self.tags):
            task.tags.extend(self.tags)
            paths.append("tags")
        paths += self._due_time(task, problems)
        if given(self.time_zone):
            task.time_zone = self.time_zone
            paths.append("time_zone")
        paths += self._recurrence(task, problems)
        if given(self.remind_minutes_before) or given(self.remind_at):
            minutes, instants = _list(self.remind_minutes_before), _list(self.remind_at)
            task.reminders.extend(_reminders(minutes, instants, problems))
            paths.append("reminders")
        if not paths and not problems:
            problems.append(_problem("", "give at least one field to change"))
        _refuse_if_any(problems)
        request = tasks_service_pb2.UpdateTaskRequest(task=task, update_mask=FieldMask(paths=paths))
        if given(self.expected_version):
            request.expected_version = self.expected_version
        return request

    def locate(self, path: tuple[str, ...]) -> tuple[str, ...]:
        return _locate(path, len(_list(self.remind_minutes_before)))

    def _due_time(self, task: task_pb2.Task, problems: list[Problem]) -> list[str]:
        if given(self.due_at):
            if self.clear_due_at:
                problems.append(_problem("clearDueAt", "cannot be true together with dueAt"))
            task.due_time.CopyFrom(to_timestamp(self.due_at))
            return ["due_time"]
        return ["due_time"] if self.clear_due_at else []

    def _recurrence(self, task: task_pb2.Task, problems: list[Problem]) -> list[str]:
        if given(self.recurrence):
            if self.clear_recurrence:
                problems.append(
                    _problem("clearRecurrence", "cannot be true together with recurrence")
                )
            task.recurrence.text = self.recurrence
            return ["recurrence"]
        return ["recurrence"] if self.clear_recurrence else []


@strawberry.input(description="The task to mark completed.")
class CompleteTaskInput(MutationInput):
    id: strawberry.ID = strawberry.field(description="The task's id.")


@strawberry.input(description="The task to mark open again.")
class ReopenTaskInput(MutationInput):
    id: strawberry.ID = strawberry.field(description="The task's id.")


@strawberry.input(description="The task to delete.")
class DeleteTaskInput(MutationInput):
    id: strawberry.ID = strawberry.field(description="The task's id.")


@strawberry.input(description="Which tasks to list. Every field given must match (AND).")
class TaskFilter:
    status: TaskStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Any when null."
    )
    priorities: list[Priority] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"Any of these priorities; at most {PRIORITIES_MAX}.",
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"The task has all of these tags (case-insensitive); at most {TAGS_MAX}.",
    )
    due_before: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="Due strictly before; tasks without a due time never match.",
    )
    due_after: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="Due at or after; tasks without a due time never match.",
    )
    overdue: bool | None = strawberry.field(
        default=strawberry.UNSET, description="true: open and due before now. false: not overdue."
    )
    search: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Full-text search over title and description: words, prefixes, small typos. "
        "Up to 200 characters.",
    )

    def to_pb(self) -> tasks_service_pb2.TaskFilter:
        message = tasks_service_pb2.TaskFilter()
        if given(self.status):
            message.status = STATUS_TO_PB[self.status]
        message.priorities.extend(PRIORITY_TO_PB[priority] for priority in _list(self.priorities))
        message.tags.extend(_list(self.tags))
        if given(self.due_before):
            message.due_before.CopyFrom(to_timestamp(self.due_before))
        if given(self.due_after):
            message.due_after.CopyFrom(to_timestamp(self.due_after))
        if given(self.overdue):
            message.overdue = self.overdue
        if given(self.search):
            message.search = self.search
        return message


@strawberry.enum(description="A field to order tasks by; the task id always breaks ties.")
class TaskOrderField(Enum):
    DUE_AT = strawberry.enum_value("DUE_AT", description="Tasks without a due time sort last.")
    PRIORITY = strawberry.enum_value("PRIORITY", description="URGENT is highest.")
    TITLE = strawberry.enum_value("TITLE", description="Case-insensitive.")
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


# By hand: GraphQL names these for clients (DUE_AT, ASC), not as the contract does (DUE_TIME,
# ASCENDING), so they cannot be matched by name.
_ORDER_FIELD_TO_PB: Final = {
    TaskOrderField.DUE_AT: tasks_service_pb2.TASK_ORDER_FIELD_DUE_TIME,
    TaskOrderField.PRIORITY: tasks_service_pb2.TASK_ORDER_FIELD_PRIORITY,
    TaskOrderField.TITLE: tasks_service_pb2.TASK_ORDER_FIELD_TITLE,
    TaskOrderField.CREATED_AT: tasks_service_pb2.TASK_ORDER_FIELD_CREATE_TIME,
    TaskOrderField.UPDATED_AT: tasks_service_pb2.TASK_ORDER_FIELD_UPDATE_TIME,
}
_DIRECTION_TO_PB: Final = {
    OrderDirection.ASC: tasks_service_pb2.ORDER_DIRECTION_ASCENDING,
    OrderDirection.DESC: tasks_service_pb2.ORDER_DIRECTION_DESCENDING,
}


@strawberry.input(
    description=f"One ordering key; list several in priority order (at most {ORDER_KEYS_MAX})."
)
class TaskOrder:
    field: TaskOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection | None = strawberry.field(
        default=strawberry.UNSET, description="Default ASC."
    )

    def to_pb(self) -> tasks_service_pb2.TaskOrder:
        message = tasks_service_pb2.TaskOrder(field=_ORDER_FIELD_TO_PB[self.field])
        if given(self.direction):
            message.direction = _DIRECTION_TO_PB[self.direction]
        return message
