"""RecurrenceService: previews a rule in a zone, exactly as task creation would store it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final, cast

import grpc

from svc_recur.quick_add import quick_add_preview
from todo_contracts.recur.v1 import recurrence_service_pb2 as pb
from todo_contracts.recur.v1 import recurrence_service_pb2_grpc
from todo_contracts.tasks.v1 import task_pb2
from todo_recurrence import MAX_RULE_TEXT, Basis, RecurrenceError, plan_series
from todo_recurrence.zones import lookup_zone
from todo_runtime import validation
from todo_runtime.enum_maps import to_numbers
from todo_runtime.errors import InvalidArgument
from todo_runtime.identity import current_user_or
from todo_runtime.offload import Offload
from todo_runtime.timestamps import timestamp

Context = grpc.aio.ServicerContext[Any, Any]
DEFAULT_COUNT, MAX_COUNT = 5, 100
_BASES: Final = to_numbers(Basis, task_pb2.RecurrenceBasis)


def preview(request: pb.ParseRecurrenceRequest, now: datetime) -> pb.ParseRecurrenceResponse:
    """The rule as CreateTask would store it and the series' dues from its first task on.

    Pure and CPU-bound: the servicer runs it on a worker thread under the engine's budget.
    """
    text = validation.text(request.text.strip(), "text", max_length=MAX_RULE_TEXT)
    if not text:
        raise InvalidArgument("text", f"must be 1..{MAX_RULE_TEXT} characters")
    zone = lookup_zone(request.time_zone)
    if zone is None:
        raise InvalidArgument(
            "time_zone",
            f"unknown IANA time zone {validation.shown(request.time_zone)}, e.g. 'Europe/Berlin'",
        )
    if not 0 <= request.count <= MAX_COUNT:
        raise InvalidArgument("count", f"must be 0..{MAX_COUNT}")
    count = request.count or DEFAULT_COUNT
    start = (
        validation.instant_from_pb(request.start_time, "start_time")
        if request.HasField("start_time")
        else None
    )
    try:
        # One more than shown, to tell whether the first task is the series' last.
        plan = plan_series(text, zone, now, due=start, count=max(count, 2))
    except RecurrenceError as error:
        raise InvalidArgument("text", str(error)) from None
    pinned = plan.recurrence
    response = pb.ParseRecurrenceResponse(
        recurrence=task_pb2.Recurrence(
            rule=pinned.rule,
            text=pinned.text,
            basis=cast("task_pb2.RecurrenceBasis", _BASES[pinned.basis]),
            final=plan.first_due is not None and len(plan.occurrences) < 2,
        )
    )
    response.occurrences.extend(timestamp(o) for o in plan.occurrences[:count])
    return response


# The turn every caller without an identity shares (ParseRecurrence is public): together they
# hold one worker at most, never a signed-in user's. Parentheses are in no user id.
ANONYMOUS: Final = "(anonymous)"


class RecurrenceServicer(recurrence_service_pb2_grpc.RecurrenceServiceServicer):
    """Previews run on `offload`, one per user at a time, so no user can hold every worker."""

    PUBLIC: Final = frozenset({"ParseRecurrence"})  # reads and keeps nothing of a user's

    def __init__(self, offload: Offload) -> None:
        self._offload = offload

    async def ParseRecurrence(
        self, request: pb.ParseRecurrenceRequest, context: Context
    ) -> pb.ParseRecurrenceResponse:
        return await self._offload.run(
            current_user_or(ANONYMOUS), preview, request, datetime.now(UTC)
        )

    async def ParseQuickAdd(
        self, request: pb.ParseQuickAddRequest, context: Context
    ) -> pb.ParseQuickAddResponse:
        return await self._offload.run(
            current_user_or(ANONYMOUS), quick_add_preview, request, datetime.now(UTC)
        )
