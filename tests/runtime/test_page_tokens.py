"""A verified token's values are still checked, each for the range of the field it goes to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.support.infra import TEST_SECRET
from todo_runtime.errors import InvalidArgument
from todo_runtime.page_tokens import (
    INT64_MAX,
    PageTokens,
    Payload,
    checked_instant,
    checked_text,
)

TOKENS = PageTokens(TEST_SECRET, "todo.test.v1.List")


def payload(value: object) -> Payload:
    """`{"v": value}` signed with the real key and verified: only its value can be wrong."""
    return TOKENS.decode("alice", TOKENS.encode("alice", {"v": value}), "page_token")


@pytest.mark.parametrize(
    ("value", "minimum", "maximum"),
    [(0, 0, INT64_MAX), (INT64_MAX, 0, INT64_MAX), (1, 1, 5), (5, 1, 5), (2**32 - 1, 0, 2**32 - 1)],
)
def test_an_integer_in_range_is_read(value: int, minimum: int, maximum: int) -> None:
    assert payload(value).integer("v", minimum=minimum, maximum=maximum) == value


@pytest.mark.parametrize(
    ("value", "minimum", "maximum"),
    [
        (-1, 0, INT64_MAX),  # negative where not allowed
        (2**63, 0, INT64_MAX),  # past int64
        (10**300, 0, INT64_MAX),
        (2**32, 0, 2**32 - 1),  # past uint32
        (0, 1, 5),
        (6, 1, 5),
        (True, 0, INT64_MAX),  # JSON true is no number
        (1.0, 0, INT64_MAX),
        ("1", 0, INT64_MAX),
        (None, 0, INT64_MAX),
        ([1], 0, INT64_MAX),
    ],
)
def test_an_integer_out_of_range_or_not_an_integer_is_invalid_argument(
    value: object, minimum: int, maximum: int
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        payload(value).integer("v", minimum=minimum, maximum=maximum)
    assert caught.value.field == "page_token"


def test_an_instant_is_read_in_utc() -> None:
    read = payload("2027-03-01T09:00:00+01:00").instant("v")
    assert read == datetime(2027, 3, 1, 8, tzinfo=UTC)
    assert read.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC: converting it overflows
        "9999-12-31T23:59:59-14:00",
        "2027-03-01T09:00:00",  # no offset
        "9999-12-31T23:59:59.999999",  # an infinity, where none is allowed
        "yesterday",
        1_700_000_000,
        None,
    ],
)
def test_an_instant_out_of_range_or_not_an_instant_is_invalid_argument(value: object) -> None:
    with pytest.raises(InvalidArgument) as caught:
        payload(value).instant("v")
    assert caught.value.field == "page_token"


@pytest.mark.parametrize("infinity", [datetime.max, datetime.min])
def test_postgresql_infinities_are_read_where_allowed(infinity: datetime) -> None:
    token = payload(infinity.isoformat())
    assert checked_instant(token.get("v"), token, infinite=True) == infinity


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", 5, None])
def test_text_a_query_cannot_carry_is_invalid_argument(value: object) -> None:
    token = payload(value)
    with pytest.raises(InvalidArgument):
        checked_text(token.get("v"), token)


@pytest.mark.parametrize("value", ["not-a-uuid", 5, None])
def test_an_identifier_that_is_no_uuid_is_invalid_argument(value: object) -> None:
    with pytest.raises(InvalidArgument):
        payload(value).identifier("v")
    known = uuid.uuid4()
    assert payload(str(known)).identifier("v") == known


def test_the_error_names_the_field_the_token_came_in() -> None:
    token = TOKENS.encode("alice", {"v": 2**63})
    with pytest.raises(InvalidArgument) as caught:
        TOKENS.decode("alice", token, "before_page_token").integer("v")
    assert caught.value.field == "before_page_token"
    assert str(caught.value).startswith("before_page_token: holds a number out of range")
