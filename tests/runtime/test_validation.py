"""The input rules every edge shares (todo_runtime.validation), the ids requests carry
(todo_runtime.object_ids) and time conversions (todo_runtime.timestamps): no database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from todo_runtime import object_ids, validation
from todo_runtime.errors import DomainError, InvalidArgument, NotFound
from todo_runtime.timestamps import from_timestamp, timestamp

ID = "6f1c2b9e-3d4a-4f5b-8c7d-9e0f1a2b3c4d"


@pytest.mark.parametrize(
    ("sent", "default", "maximum", "size"),
    [
        (0, 50, 200, 50),
        (7, 50, 200, 7),
        (200, 50, 200, 200),
        (10_000, 50, 200, 200),
        (0, 100, 1000, 100),
        (1001, 100, 1000, 1000),
    ],
)
def test_page_size_follows_aip_158(sent: int, default: int, maximum: int, size: int) -> None:
    assert validation.page_size(sent, default=default, maximum=maximum) == size


def test_a_negative_page_size_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="must not be negative") as caught:
        validation.page_size(-1, default=50, maximum=200)
    assert caught.value.field == "page_size"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("plain text, ünïcödé, 🌱", None),
        ("nul\x00inside", "NUL"),
        ("lone \ud800 surrogate", "surrogates"),
        ("x" * 11, "at most 10 characters, got 11"),
    ],
)
def test_text_rules(value: str, problem: str | None) -> None:
    if problem is None:
        assert validation.text(value, "f", max_length=100) == value
        return
    with pytest.raises(InvalidArgument, match=problem) as caught:
        validation.text(value, "f", max_length=10)
    assert caught.value.field == "f"


@pytest.mark.parametrize(
    ("value", "instant"),
    [
        (datetime(2027, 3, 1, 9, tzinfo=UTC), datetime(2027, 3, 1, 9, tzinfo=UTC)),
        (
            datetime(2027, 3, 1, 10, tzinfo=timezone(timedelta(hours=1))),
            datetime(2027, 3, 1, 9, tzinfo=UTC),
        ),
        (validation.EARLIEST, validation.EARLIEST),
        (validation.LATEST, validation.LATEST),
    ],
)
def test_instants_in_range_are_taken_as_utc(value: datetime, instant: datetime) -> None:
    converted = validation.instant(value, "due")
    assert converted == instant
    assert converted.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (datetime(2027, 3, 1, 9), "UTC offset"),  # naive: no offset
        (validation.EARLIEST - timedelta(seconds=1), "between"),
        (datetime(9999, 12, 31, 0, 0, 1, tzinfo=UTC), "between"),
    ],
)
def test_instants_without_offset_or_out_of_range_are_refused(value: datetime, problem: str) -> None:
    with pytest.raises(InvalidArgument, match=problem) as caught:
        validation.instant(value, "due")
    assert caught.value.field == "due"


@pytest.mark.parametrize("seconds", [-1, 253_402_300_800, 2**62])
def test_timestamps_out_of_range_are_refused(seconds: int) -> None:
    with pytest.raises(InvalidArgument, match="between") as caught:
        validation.instant_from_pb(Timestamp(seconds=seconds), "task.due_time")
    assert caught.value.field == "task.due_time"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        datetime(2027, 3, 1, 10, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_timestamps_keep_the_instant(moment: datetime) -> None:
    back = from_timestamp(timestamp(moment))
    assert back == moment
    assert back.tzinfo is UTC
    assert validation.instant_from_pb(timestamp(moment), "t") == moment


@pytest.mark.parametrize(
    ("user", "valid"),
    [
        ("alice", True),
        ("auth0|5f7c8ec7c33c6c004bbafe82", True),
        ("a" * 128, True),
        ("", False),
        ("a" * 129, False),
        ("alice smith", False),
        ("alice/..", False),
    ],
)
def test_user_ids(user: str, valid: bool) -> None:
    assert (validation.user_id_problem(user) is None) is valid


@pytest.mark.parametrize(("items", "refused"), [(3, False), (4, True)])
def test_lists_are_bounded_as_sent(items: int, refused: bool) -> None:
    if not refused:
        validation.bounded(["x"] * items, "tags", 3)
        return
    with pytest.raises(InvalidArgument, match="at most 3 items, got 4") as caught:
        validation.bounded(["x"] * items, "tags", 3)
    assert caught.value.field == "tags"


@pytest.mark.parametrize("value", [ID, ID.upper(), ID.replace("-", ""), f"urn:uuid:{ID}"])
def test_ids_of_every_kind_are_uuids(value: str) -> None:
    assert object_ids.task_id(value) == uuid.UUID(ID)
    assert object_ids.object_id(value, "webhook") == uuid.UUID(ID)


@pytest.mark.parametrize("value", ["", "42", "not-a-uuid", ID + "0", "x" * 100])
@pytest.mark.parametrize(("noun", "field"), [("task", "task.id"), ("notification", "id")])
def test_a_malformed_id_of_any_kind_is_an_invalid_argument_naming_the_field(
    value: str, noun: str, field: str
) -> None:
    with pytest.raises(InvalidArgument, match=f"is not a {noun} id") as caught:
        object_ids.object_id(value, noun, field)
    assert caught.value.field == field
    assert len(caught.value.message) < 100  # what the caller sent is quoted cut short


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (InvalidArgument("task.title", "must not be empty"), "task.title: must not be empty"),
        (NotFound("task 1 not found"), "task 1 not found"),
    ],
)
def test_domain_errors_carry_their_message_and_no_status(error: DomainError, message: str) -> None:
    assert error.message == str(error) == message
    assert not hasattr(error, "code")
