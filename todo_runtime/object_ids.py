"""The ids requests name objects by (UUIDs), parsed by one function per kind of id.

Each kind answers a malformed id as its service always has: a task id is INVALID_ARGUMENT
naming the field; the id of a notification, webhook or delivery is NOT_FOUND, as for a
well-formed id no object has. Pure: rules import it.
"""

from __future__ import annotations

import uuid

from todo_runtime.errors import InvalidArgument, NotFound
from todo_runtime.validation import shown


def task_id(value: str, field: str = "id") -> uuid.UUID:
    """The task id sent in `field`; InvalidArgument naming `field` for anything else."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(field, f"{shown(value)} is not a task id") from None


def looked_up_id(value: str, noun: str) -> uuid.UUID:
    """The id of the `noun` ("webhook") a request looks up; NotFound for anything else."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{noun} {shown(value)} not found") from None
