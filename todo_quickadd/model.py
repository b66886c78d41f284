"""What quick add reads out of one line: the task's fields and which words gave each one."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from todo_recurrence import Recurrence

# The one limit on a quick-add line: a title (500) and a recurrence phrase (500) fit, and it
# bounds the parser's work (each recurrence candidate is re-read at most MAX_PHRASE_TOKENS times).
MAX_TEXT = 1000


class Field(enum.Enum):
    """The task field a span of the line became."""

    TITLE = "TITLE"
    DUE = "DUE"
    RECURRENCE = "RECURRENCE"
    TAG = "TAG"
    PRIORITY = "PRIORITY"
    REMINDER = "REMINDER"


class Priority(enum.Enum):
    """The priorities a line can name (a line naming none leaves the task's default)."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    URGENT = "URGENT"


@dataclass(frozen=True)
class Span:
    """Characters `start`..`end` (Python string indices: code points) of the line became `field`."""

    start: int
    end: int
    field: Field


@dataclass(frozen=True)
class QuickAdd:
    """One line read as a task.

    `due` is aware, in the line's zone; with a recurrence it is the series' first due, as task
    creation would pick it. `recurrence_rule` is what to send as the task's recurrence text (an
    RRULE, plus " after completion" for completion-based rules: any language's phrase becomes
    the same rule); `recurrence` is that rule pinned to `due`, as it would be stored.
    `spans` are in order and never overlap; every word of the line is in exactly one.
    """

    title: str
    due: datetime | None = None
    recurrence_rule: str | None = None
    recurrence: Recurrence | None = None
    tags: tuple[str, ...] = ()
    priority: Priority | None = None
    remind_minutes_before: tuple[int, ...] = ()
    remind_at: tuple[datetime, ...] = ()
    spans: tuple[Span, ...] = ()

    def words(self, text: str, field: Field) -> list[str]:
        """The words of `text` (the parsed line) that became `field`, span by span."""
        return [text[s.start : s.end] for s in self.spans if s.field is field]


class QuickAddError(ValueError):
    """A line (or a language) quick add cannot read at all; unknown words never raise."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")
