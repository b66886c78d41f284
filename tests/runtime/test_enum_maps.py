"""Enum maps built from the proto descriptors: by name, complete both ways, or refused."""

from __future__ import annotations

from enum import Enum

import pytest

from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.enum_maps import EnumMismatch, from_numbers, to_numbers


class Priority(Enum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class Incomplete(Enum):
    NONE = 1
    LOW = 2


def test_members_map_to_the_proto_values_of_their_name_and_back() -> None:
    numbers = to_numbers(Priority, task_pb2.Priority)
    assert numbers[Priority.NONE] == task_pb2.PRIORITY_NONE
    assert numbers[Priority.URGENT] == task_pb2.PRIORITY_URGENT
    assert len(numbers) == len(Priority)
    back = from_numbers(Priority, task_pb2.Priority)
    assert back == {number: member for member, number in numbers.items()}
    assert task_pb2.PRIORITY_UNSPECIFIED not in back


def test_an_enum_that_names_other_values_is_refused() -> None:
    with pytest.raises(EnumMismatch, match="MEDIUM"):
        to_numbers(Incomplete, task_pb2.Priority)
