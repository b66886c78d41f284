"""The DateTime scalar: ISO 8601 with a UTC offset, so no instant is ever ambiguous.

A local time without an offset would be read differently by every client and
server zone; it is rejected with BAD_USER_INPUT rather than guessed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import strawberry
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from strawberry.types.scalar import ScalarDefinition

from gateway.errors import BAD_USER_INPUT, GatewayError
from todo_runtime import validation
from todo_runtime.errors import InvalidArgument
from todo_runtime.timestamps import from_timestamp
from todo_runtime.validation import RANGE_TEXT, shown

_EXAMPLE = "2026-03-01T09:00:00+01:00"


def serialize_datetime(value: object) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TypeError(f"DateTime needs an aware datetime, got {value!r}")
    return value.isoformat()


def parse_datetime(value: object) -> datetime:
    """Parses client input; raises a BAD_USER_INPUT error saying what was wrong."""
    if not isinstance(value, str):
        raise GatewayError(
            BAD_USER_INPUT, f"DateTime must be an ISO 8601 string such as {_EXAMPLE}"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise GatewayError(
            BAD_USER_INPUT, f"DateTime {shown(value)} is not ISO 8601; expected e.g. {_EXAMPLE}"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise GatewayError(
            BAD_USER_INPUT,
            f"DateTime {shown(value)} has no UTC offset; add one (e.g. {_EXAMPLE} or a trailing Z)",
        )
    try:
        return validation.instant(parsed, "DateTime")
    except InvalidArgument:
        raise GatewayError(
            BAD_USER_INPUT, f"DateTime {shown(value)} is out of range: it must be {RANGE_TEXT}"
        ) from None


DATETIME: Final[ScalarDefinition] = strawberry.scalar(
    name="DateTime",
    description=(
        "An instant as ISO 8601 with a UTC offset, e.g. 2026-03-01T09:00:00+01:00 or "
        "2026-03-01T08:00:00Z, between 1970-01-01T00:00:00Z and 9999-12-31T00:00:00Z. "
        "Values without an offset are rejected. Output is always in UTC."
    ),
    specified_by_url="https://scalars.graphql.org/andimarek/date-time",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

SCALAR_MAP: Final[dict[object, ScalarDefinition]] = {datetime: DATETIME}


def optional_timestamp(message: Message, field: str) -> datetime | None:
    """The field's instant, or None when the Timestamp field is unset (proto3 message presence)."""
    if not message.HasField(field):
        return None
    return from_timestamp(getattr(message, field))


def to_timestamp(value: datetime) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromDatetime(value)
    return timestamp
