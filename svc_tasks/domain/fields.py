"""Rules about one field's value: limits, normalizing, what is refused.

Every violation is an `InvalidArgument` naming the request field, so clients
can point at the offending input. The `field` parameters default to where the
value sits in a task; a filter passes its own (e.g. "filter.tags").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from todo_contracts.tasks.v1 import task_pb2
from todo_recurrence.zones import lookup_zone
from todo_runtime import object_ids, validation
from todo_runtime.errors import InvalidArgument

TITLE_MAX = 500
DESCRIPTION_MAX = 10_000
TAG_MAX = 50
MINUTES_BEFORE_MAX = 525_600
REQUEST_ID_MAX = 100
# Priority number -> name, from the contract; UNSPECIFIED is not a priority (use NONE).
PRIORITIES: Final = {
    number: name.removeprefix("PRIORITY_")
    for name, number in task_pb2.Priority.items()
    if number != task_pb2.PRIORITY_UNSPECIFIED
}


@dataclass(frozen=True)
class Reminder:
    """Exactly one of `minutes_before` and `at` is set."""

    minutes_before: int | None = None
    at: datetime | None = None

    @property
    def id(self) -> str:
        if self.minutes_before is not None:
            return f"before-{self.minutes_before}"
        if self.at is None:
            raise ValueError("a reminder needs minutes_before or at")
        return f"at-{int(self.at.timestamp())}"


def title(value: str, field: str = "task.title") -> str:
    stripped = validation.text(value.strip(), field, max_length=TITLE_MAX)
    if not stripped:
        raise InvalidArgument(field, "must not be empty")
    return stripped


def description(value: str, field: str = "task.description") -> str:
    return validation.text(value, field, max_length=DESCRIPTION_MAX)


def tags(values: Sequence[str], field: str = "task.tags") -> list[str]:
    """Trimmed, lower-cased, de-duplicated in first-seen order; the list as sent holds at most
    TAGS_MAX (checked before any tag is looked at: a task's tags and a filter's alike)."""
    validation.bounded(values, field, validation.TAGS_MAX)
    normalized: list[str] = []
    for index, raw in enumerate(values):
        tag = validation.text(raw.strip().lower(), f"{field}[{index}]", max_length=TAG_MAX)
        if not tag:
            raise InvalidArgument(f"{field}[{index}]", "must not be empty")
        if tag not in normalized:
            normalized.append(tag)
    return normalized


def time_zone(name: str, field: str = "task.time_zone") -> ZoneInfo:
    """An IANA zone; empty means UTC."""
    zone = lookup_zone(name)
    if zone is None:
        raise InvalidArgument(
            field, f"unknown IANA time zone {validation.shown(name)}, e.g. 'Europe/Berlin'"
        )
    return zone


def priority(value: int, field: str = "task.priority") -> int:
    """A Priority number; UNSPECIFIED (0) is not a priority, use NONE."""
    if value not in PRIORITIES:
        raise InvalidArgument(field, f"must be one of {', '.join(PRIORITIES.values())}")
    return value


def reminders(
    values: Sequence[Reminder], due_at: datetime | None, field: str = "task.reminders"
) -> list[Reminder]:
    validation.bounded(values, field, validation.REMINDERS_MAX)
    unique: dict[str, Reminder] = {}
    for index, reminder in enumerate(values):
        if reminder.minutes_before is not None:
            if not 0 <= reminder.minutes_before <= MINUTES_BEFORE_MAX:
                raise InvalidArgument(
                    f"{field}[{index}].minutes_before", f"must be 0..{MINUTES_BEFORE_MAX}"
                )
            if due_at is None:
                raise InvalidArgument(
                    f"{field}[{index}].minutes_before", "needs the task to have a due time"
                )
        elif reminder.at is not None:
            validation.instant(reminder.at, f"{field}[{index}].remind_time")
        else:
            raise InvalidArgument(f"{field}[{index}]", "set minutes_before or remind_time")
        unique.setdefault(reminder.id, reminder)
    return list(unique.values())


def request_id(value: str) -> str | None:
    return validation.text(value, "request_id", max_length=REQUEST_ID_MAX) or None


def series(series_id: str, series_index: int) -> tuple[uuid.UUID | None, int | None]:
    """An explicit (series, index) for the next instance of a series, or none."""
    if not series_id:
        if series_index:
            raise InvalidArgument("task.series_index", "needs task.series_id")
        return None, None
    if series_index < 1:
        raise InvalidArgument("task.series_index", "must be at least 1 with a series_id")
    return object_ids.task_id(series_id, "task.series_id"), series_index
