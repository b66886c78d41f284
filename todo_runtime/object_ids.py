"""The ids requests name objects by (UUIDs), parsed by one rule for every kind of object.

A malformed id is the caller's input error, INVALID_ARGUMENT naming the request field, in every
service (AIP-193); a well-formed id no object of the caller's has is NOT_FOUND. Pure: rules
import it.
"""

from __future__ import annotations

import uuid

from todo_runtime.errors import InvalidArgument
from todo_runtime.validation import shown


def object_id(value: str, noun: str, field: str = "id") -> uuid.UUID:
    """The id of the `noun` ("webhook") sent in `field`; InvalidArgument naming `field` for
    anything else."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(field, f"{shown(value)} is not a {noun} id") from None


def task_id(value: str, field: str = "id") -> uuid.UUID:
    """The task id sent in `field`."""
    return object_id(value, "task", field)
