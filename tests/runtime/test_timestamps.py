"""`todo_runtime.timestamps` converts exactly as protobuf's own FromDatetime and ToDatetime do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from todo_runtime.timestamps import from_timestamp, timestamp

OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# Away from the ends of datetime's range, so that every offset keeps the instant inside it.
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS
)


@given(INSTANTS)
def test_an_instant_becomes_the_timestamp_protobuf_makes(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value)
    assert timestamp(value) == expected


@given(
    seconds=st.integers(min_value=-62_135_596_800, max_value=253_402_300_799),
    nanos=st.integers(min_value=0, max_value=999_999_999),
)
def test_a_timestamp_becomes_the_utc_instant_protobuf_reads(seconds: int, nanos: int) -> None:
    value = Timestamp(seconds=seconds, nanos=nanos)
    converted = from_timestamp(value)
    assert converted == value.ToDatetime(tzinfo=UTC)
    assert converted.tzinfo is UTC


@given(INSTANTS)
def test_the_instant_survives_the_round_trip(value: datetime) -> None:
    assert from_timestamp(timestamp(value)) == value
