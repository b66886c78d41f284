"""ParseQuickAdd over a real channel: RecurrenceService served in-process (no database or
broker: the method needs neither), called as a signed-in user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import grpc
import pytest

from tests.support.recurrence_service import serving_recurrence
from todo_contracts.recur.v1 import recurrence_service_pb2 as pb
from todo_contracts.recur.v1 import recurrence_service_pb2_grpc
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import error_details
from todo_runtime.identity import identity_metadata

if TYPE_CHECKING:
    from todo_contracts.recur.v1.recurrence_service_pb2_grpc import (
        RecurrenceServiceAsyncStub as Stub,
    )

SECRET = "quick-add-test-secret-0123456789abcdef"


@pytest.fixture
async def stub() -> AsyncIterator[Stub]:
    async with (
        serving_recurrence(SECRET) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        yield recurrence_service_pb2_grpc.RecurrenceServiceStub(channel)


async def call(stub: Stub, request: pb.ParseQuickAddRequest) -> pb.ParseQuickAddResponse:
    response: pb.ParseQuickAddResponse = await stub.ParseQuickAdd(
        request, metadata=identity_metadata(SECRET, "alice"), timeout=10
    )
    return response


async def test_a_line_becomes_the_task_create_task_would_take(
    stub: Stub,
) -> None:
    text = "Pay rent every month on the 1st at 9am #home !high remind 1 day before"
    response = await call(stub, pb.ParseQuickAddRequest(text=text, time_zone="Europe/Berlin"))
    task = response.task
    assert task.title == "Pay rent"
    assert task.priority == task_pb2.PRIORITY_HIGH
    assert list(task.tags) == ["home"]
    assert task.time_zone == "Europe/Berlin"
    assert task.recurrence.text == "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;BYSECOND=0"
    assert [r.minutes_before for r in task.reminders] == [1440]
    due = task.due_time.ToDatetime(UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert (due.day, due.hour, due.minute) == (1, 9, 0)
    assert response.recurrence.rule.startswith("FREQ=MONTHLY")
    assert response.recurrence.basis == task_pb2.RECURRENCE_BASIS_SCHEDULE
    fields = [(text[s.start : s.end], pb.QuickAddField.Name(s.field)) for s in response.spans]
    assert fields == [
        ("Pay rent", "QUICK_ADD_FIELD_TITLE"),
        ("every month on the 1st at 9am", "QUICK_ADD_FIELD_RECURRENCE"),
        ("#home", "QUICK_ADD_FIELD_TAG"),
        ("!high", "QUICK_ADD_FIELD_PRIORITY"),
        ("remind 1 day before", "QUICK_ADD_FIELD_REMINDER"),
    ]


async def test_relative_dues_are_read_at_the_servers_now(
    stub: Stub,
) -> None:
    before = datetime.now(UTC)
    response = await call(stub, pb.ParseQuickAddRequest(text="Call mom in 2 hours"))
    due = response.task.due_time.ToDatetime(UTC)
    assert before + timedelta(hours=2) <= due <= datetime.now(UTC) + timedelta(hours=2)
    assert response.task.time_zone == "UTC"  # an empty zone is UTC
    assert response.task.priority == task_pb2.PRIORITY_NONE
    assert not response.HasField("recurrence")


async def test_spans_count_code_points(
    stub: Stub,
) -> None:
    text = "🎉 party #fun"
    response = await call(stub, pb.ParseQuickAddRequest(text=text, time_zone="UTC"))
    assert [(s.start, s.end) for s in response.spans] == [(0, 7), (8, 12)]
    assert text[8:12] == "#fun"


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"text": "x", "time_zone": "Atlantis/Capital"}, "time_zone"),
        ({"text": "x", "time_zone": "../../etc/passwd"}, "time_zone"),
        ({"text": "x" * 1001}, "text"),
        ({"text": "a\x00b"}, "text"),
        ({"text": "x", "language": "xx"}, "language"),
    ],
)
async def test_bad_input_is_invalid_argument_naming_the_field(
    stub: Stub,
    request_fields: dict[str, str],
    field: str,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(stub, pb.ParseQuickAddRequest(**request_fields))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in error_details.violations(caught.value)] == [field]
