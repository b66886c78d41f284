"""Recurrence (svc_recur): `parseRecurrence`, what svc_recur understood of a rule, with its next
occurrences. How a task repeats is the task's (`tasks.types.Recurrence`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

import strawberry

from gateway.api.scalars import to_timestamp
from gateway.api.tasks.enums import RecurrenceBasis
from gateway.api.tasks.types import Recurrence
from gateway.arguments import given
from gateway.context import Info
from gateway.errors import bad_input
from todo_contracts.recur.v1 import recurrence_service_pb2
from todo_runtime.timestamps import from_timestamp

DEFAULT_PREVIEW_COUNT: Final = 5
MAX_PREVIEW_COUNT: Final = 100


@strawberry.type(
    description="A rule as the server understood it, to show before saving it on a task."
)
class RecurrencePreview:
    rule: str = strawberry.field(description="Normalized RFC 5545 RRULE, without DTSTART.")
    text: str = strawberry.field(description="The rule in English.")
    basis: RecurrenceBasis = strawberry.field(
        description="What the next instance is measured from."
    )
    occurrences: list[datetime] = strawberry.field(
        description="The dues of the series' tasks in order, starting with the due createTask "
        "would give the first task (`dueAt` if given, else the first occurrence after now), "
        "each next one as if every task were completed when due. Fewer when the series ends "
        "sooner; empty when the rule has no occurrence after now."
    )

    @classmethod
    def from_pb(cls, response: recurrence_service_pb2.ParseRecurrenceResponse) -> RecurrencePreview:
        recurrence = Recurrence.from_pb(response.recurrence)
        return cls(
            rule=recurrence.rule,
            text=recurrence.text,
            basis=recurrence.basis,
            occurrences=[from_timestamp(occurrence) for occurrence in response.occurrences],
        )


async def parse_recurrence(
    info: Info,
    text: Annotated[
        str,
        strawberry.argument(
            description="Natural language ('every month on the last friday at 9am') or RRULE "
            "text ('FREQ=WEEKLY;BYDAY=MO,TH'); 1..500 characters."
        ),
    ],
    time_zone: Annotated[
        str | None, strawberry.argument(description="IANA zone the rule is read in; default UTC.")
    ] = strawberry.UNSET,
    count: Annotated[
        int | None, strawberry.argument(description="How many occurrences to preview, 1..100.")
    ] = DEFAULT_PREVIEW_COUNT,
    due_at: Annotated[
        datetime | None,
        strawberry.argument(
            description="The first task's due, as you would pass it to createTask; default: the "
            "first occurrence after now, as createTask picks one."
        ),
    ] = strawberry.UNSET,
) -> RecurrencePreview:
    context = info.context
    count = DEFAULT_PREVIEW_COUNT if count is None else count
    if not 1 <= count <= MAX_PREVIEW_COUNT:
        raise bad_input("count", f"must be between 1 and {MAX_PREVIEW_COUNT}, got {count}")
    request = recurrence_service_pb2.ParseRecurrenceRequest(
        text=text, time_zone=time_zone or "", count=count
    )
    if given(due_at):
        request.start_time.CopyFrom(to_timestamp(due_at))
    response = await context.call_public(context.services.recur.ParseRecurrence, request)
    return RecurrencePreview.from_pb(response)


# Root fields anyone may ask for, signed in or not: a preview reads and keeps nothing of a user's.
PUBLIC_FIELDS: Final = frozenset({"parseRecurrence"})


@strawberry.type
class RecurrenceQueries:
    parse_recurrence: RecurrencePreview = strawberry.field(
        resolver=parse_recurrence,
        description="Checks a recurrence rule (natural language or RRULE) without saving it: the "
        "normalized rule, its English text and the first `count` (1..100) dues of its tasks, "
        "read in `timeZone` (default UTC), exactly as createTask with the same text, zone and "
        "dueAt would store them.",
    )
