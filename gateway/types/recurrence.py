"""RecurrencePreview: what svc_recur understood of a rule, with its next occurrences."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.types.scalars import from_timestamp
from gateway.types.task import Recurrence, RecurrenceBasis
from todo_contracts.recur.v1 import recurrence_service_pb2


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
