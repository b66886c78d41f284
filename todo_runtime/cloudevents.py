"""CloudEvents 1.0 in Kafka binary content mode: attributes travel as `ce_*` headers.

The value stays a plain serialized Protobuf message, so consumers that ignore
CloudEvents still read it; `proto_message` names the message type so a reader
(or the dead-letter tooling) knows how to decode it without guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

SPEC_VERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/protobuf"

H_SPECVERSION: Final = "ce_specversion"
H_ID: Final = "ce_id"
H_SOURCE: Final = "ce_source"
H_TYPE: Final = "ce_type"
H_TIME: Final = "ce_time"
H_SUBJECT: Final = "ce_subject"
H_CONTENT_TYPE: Final = "content-type"
H_MESSAGE: Final = "proto_message"

_REQUIRED: Final = (H_SPECVERSION, H_ID, H_SOURCE, H_TYPE, H_TIME, H_SUBJECT, H_MESSAGE)


class EventHeadersError(ValueError):
    """A record lacks required CloudEvents headers or carries malformed ones."""


@dataclass(frozen=True)
class EventHeaders:
    """The CloudEvents attributes of one record."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    message_name: str


def format_time(time: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix; naive datetimes are refused (their zone is a guess)."""
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError("event time must be timezone-aware")
    return time.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def event_headers(
    *,
    event_id: str,
    source: str,
    type: str,
    subject: str,
    time: datetime,
    message_name: str,
) -> list[tuple[str, bytes]]:
    """Kafka headers of one event.

    `source` names the producing service ("/svc_tasks"), `type` the change
    ("todo.task.completed"), `subject` the entity (a task id), `message_name`
    the Protobuf message's full name ("todo.events.v1.TaskEvent").
    """
    values = [
        (H_SPECVERSION, SPEC_VERSION),
        (H_ID, event_id),
        (H_SOURCE, source),
        (H_TYPE, type),
        (H_TIME, format_time(time)),
        (H_SUBJECT, subject),
        (H_CONTENT_TYPE, CONTENT_TYPE),
        (H_MESSAGE, message_name),
    ]
    return [(name, value.encode()) for name, value in values]


def read_headers(
    headers: Iterable[tuple[str, bytes | str | None]] | Mapping[str, bytes | str | None] | None,
) -> EventHeaders:
    """Parses the CloudEvents attributes of a record (the first occurrence of each header wins)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    found: dict[str, str] = {}
    for name, raw in pairs:
        if name in found or raw is None:
            continue
        try:
            found[name] = raw.decode() if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            raise EventHeadersError(f"header {name} is not UTF-8") from None
    missing = [name for name in _REQUIRED if not found.get(name)]
    if missing:
        raise EventHeadersError(f"missing CloudEvents headers: {', '.join(missing)}")
    if found[H_SPECVERSION] != SPEC_VERSION:
        raise EventHeadersError(f"unsupported CloudEvents specversion {found[H_SPECVERSION]!r}")
    try:
        time = datetime.fromisoformat(found[H_TIME])
    except ValueError:
        raise EventHeadersError(f"ce_time is not RFC 3339: {found[H_TIME]!r}") from None
    if time.tzinfo is None:
        raise EventHeadersError(f"ce_time has no offset: {found[H_TIME]!r}")
    return EventHeaders(
        id=found[H_ID],
        source=found[H_SOURCE],
        type=found[H_TYPE],
        subject=found[H_SUBJECT],
        time=time,
        message_name=found[H_MESSAGE],
    )
