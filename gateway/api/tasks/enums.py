"""A task's enums, and their `todo.tasks.v1` numbers matched by name (`todo_runtime.enum_maps`)
rather than listed by hand, so no table can miss a value the contract has."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final, cast

import strawberry

from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.enum_maps import from_numbers, to_numbers


@strawberry.enum(
    description="How urgent a task is. Ordering by priority descending puts URGENT first."
)
class Priority(Enum):
    NONE = strawberry.enum_value("NONE", description="No particular priority (the default).")
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    URGENT = "URGENT"


@strawberry.enum(description="Whether a task still needs doing.")
class TaskStatus(Enum):
    OPEN = strawberry.enum_value("OPEN", description="Not done yet. New tasks start here.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="Done; `completedAt` says when.")


@strawberry.enum(description="What the next instance of a recurring task is measured from.")
class RecurrenceBasis(Enum):
    SCHEDULE = strawberry.enum_value(
        "SCHEDULE", description="The first occurrence after the previous due time."
    )
    COMPLETION = strawberry.enum_value(
        "COMPLETION", description="Measured from the time the previous instance was completed."
    )


@strawberry.enum(description="The kind of change that happened to a task (live updates, audit).")
class ChangeKind(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    COMPLETED = "COMPLETED"
    REOPENED = "REOPENED"
    DELETED = "DELETED"


# Cast to the contract's enum types: its stubs type a field's numbers as a class of their own.
PRIORITY_TO_PB: Final = cast(
    "Mapping[Priority, task_pb2.Priority]", to_numbers(Priority, task_pb2.Priority)
)
STATUS_TO_PB: Final = cast(
    "Mapping[TaskStatus, task_pb2.TaskStatus]", to_numbers(TaskStatus, task_pb2.TaskStatus)
)
PRIORITY_FROM_PB: Final = from_numbers(Priority, task_pb2.Priority)
STATUS_FROM_PB: Final = from_numbers(TaskStatus, task_pb2.TaskStatus)
# The contract treats an unspecified basis as SCHEDULE.
BASIS_FROM_PB: Final = {
    **from_numbers(RecurrenceBasis, task_pb2.RecurrenceBasis),
    task_pb2.RECURRENCE_BASIS_UNSPECIFIED: RecurrenceBasis.SCHEDULE,
}
KIND_FROM_PB: Final = from_numbers(ChangeKind, task_pb2.ChangeKind)
