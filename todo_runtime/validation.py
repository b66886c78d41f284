"""Input rules every edge shares: text, instants, user ids, list lengths and page sizes (one
definition, many callers). Pure: rules import it.

Text never holds NUL (PostgreSQL text cannot store it) or a lone surrogate
(it cannot be encoded as UTF-8, so no protocol can carry it). Instants lie in
a documented range, so converting them never overflows. User ids use an
alphabet that gRPC metadata, logs and URLs all carry unchanged. Every list a
client sends has a maximum length, checked before any of its items is looked
at, so the work a request makes is bounded by its size.
"""

from __future__ import annotations

import re
from collections.abc import Sized
from datetime import UTC, datetime
from typing import Final

from google.protobuf.timestamp_pb2 import Timestamp

from todo_runtime.errors import InvalidArgument

EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9999, 12, 31, tzinfo=UTC)
RANGE_TEXT: Final = "between 1970-01-01T00:00:00Z and 9999-12-31T00:00:00Z"
USER_ID_MAX: Final = 128
USER_ID_ALPHABET: Final = "letters, digits and . _ - @ : | + ="
# List maxima, the same at the gateway (GraphQL arguments) and in the services (request fields).
TAGS_MAX: Final = 20  # a task's tags, and the tags a filter asks for
REMINDERS_MAX: Final = 10  # a task's reminders, both kinds together
PRIORITIES_MAX: Final = 5  # a filter's priorities: there are five
ORDER_KEYS_MAX: Final = 5  # a list's sort keys: each of the five fields once
_USER_ID: Final = re.compile(r"[A-Za-z0-9._@:|+=-]{1,128}")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def shown(value: str, limit: int = 60) -> str:
    """`value` quoted for a message or a log line, cut to `limit` characters (users send anything)."""
    cut = value if len(value) <= limit else value[:limit] + "..."
    return repr(cut)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored or sent as text, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if _SURROGATE.search(value):
        return "must not contain unpaired surrogates (it is not valid Unicode text)"
    return None


def text(value: str, field: str, *, max_length: int) -> str:
    """`value` unchanged, or InvalidArgument naming `field` and the rule it breaks."""
    problem = text_problem(value)
    if problem is not None:
        raise InvalidArgument(field, problem)
    if len(value) > max_length:
        raise InvalidArgument(field, f"must be at most {max_length} characters, got {len(value)}")
    return value


def instant(value: datetime, field: str) -> datetime:
    """An aware instant in the supported range."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(field, "must have a UTC offset")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise InvalidArgument(field, f"must be {RANGE_TEXT}") from None
    if not EARLIEST <= utc <= LATEST:
        raise InvalidArgument(field, f"must be {RANGE_TEXT}")
    return utc


def instant_from_pb(value: Timestamp, field: str) -> datetime:
    """The instant of a Timestamp field, in range; InvalidArgument for anything else."""
    try:
        moment = value.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(field, f"must be {RANGE_TEXT}") from None
    return instant(moment, field)


def user_id_problem(value: str) -> str | None:
    """Why `value` is not a user id, or None when it is one."""
    if _USER_ID.fullmatch(value) is None:
        return f"a user id is 1..{USER_ID_MAX} of {USER_ID_ALPHABET}"
    return None


def bounded(values: Sized, field: str, maximum: int) -> None:
    """InvalidArgument naming `field` when `values` holds more than `maximum` items."""
    if len(values) > maximum:
        raise InvalidArgument(field, f"must hold at most {maximum} items, got {len(values)}")


def page_size(value: int, *, default: int, maximum: int, field: str = "page_size") -> int:
    """AIP-158, for every list RPC: 0 = `default`, above `maximum` = `maximum` (capped, not
    refused), negative = InvalidArgument."""
    if value < 0:
        raise InvalidArgument(field, "must not be negative")
    return min(value or default, maximum)
