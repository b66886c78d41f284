"""RecurrenceService: previews a rule in a zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from todo_contracts.recur.v1 import recurrence_service_pb2 as pb
from todo_contracts.recur.v1 import recurrence_service_pb2_grpc
from todo_contracts.tasks.v1 import task_pb2
from todo_recurrence import (
    Basis,
    RecurrenceError,
    first_due,
    occurrences,
    parse_recurrence,
    pin_rule,
)
from todo_recurrence.zones import lookup_zone
from todo_runtime.errors import InvalidArgument

Context = grpc.aio.ServicerContext[Any, Any]
TEXT_MAX = 500
DEFAULT_COUNT, MAX_COUNT = 5, 100
_BASES = {
    Basis.SCHEDULE: task_pb2.RECURRENCE_BASIS_SCHEDULE,
    Basis.COMPLETION: task_pb2.RECURRENCE_BASIS_COMPLETION,
}


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def preview(request: pb.ParseRecurrenceRequest, now: datetime) -> pb.ParseRecurrenceResponse:
    """The normalized rule and its next occurrences after `now` (from `start_time` if given)."""
    text = request.text.strip()
    if not text or len(text) > TEXT_MAX:
        raise InvalidArgument("text", f"must be 1..{TEXT_MAX} characters")
    zone = lookup_zone(request.time_zone)
    if zone is None:
        raise InvalidArgument(
            "time_zone", f"unknown IANA time zone {request.time_zone!r}, e.g. 'Europe/Berlin'"
        )
    if not 0 <= request.count <= MAX_COUNT:
        raise InvalidArgument("count", f"must be 0..{MAX_COUNT}")
    count = request.count or DEFAULT_COUNT
    try:
        recurrence = parse_recurrence(text, zone)
        start = (
            request.start_time.ToDatetime(tzinfo=UTC)
            if request.HasField("start_time")
            else first_due(recurrence, zone, now)
        )
    except RecurrenceError as error:
        raise InvalidArgument("text", str(error)) from None
    response = pb.ParseRecurrenceResponse()
    if start is None:  # a rule whose every occurrence is already past
        response.recurrence.CopyFrom(
            task_pb2.Recurrence(
                rule=recurrence.rule, text=recurrence.text, basis=_BASES[recurrence.basis]
            )
        )
        return response
    pinned = pin_rule(recurrence, start.astimezone(zone))
    response.recurrence.CopyFrom(
        task_pb2.Recurrence(rule=pinned.rule, text=pinned.text, basis=_BASES[pinned.basis])
    )
    after = max(now, start - timedelta(microseconds=1))
    response.occurrences.extend(
        _timestamp(o) for o in occurrences(pinned, start, zone, after=after, count=count)
    )
    return response


class RecurrenceServicer(recurrence_service_pb2_grpc.RecurrenceServiceServicer):
    async def ParseRecurrence(
        self, request: pb.ParseRecurrenceRequest, context: Context
    ) -> pb.ParseRecurrenceResponse:
        return preview(request, datetime.now(UTC))
