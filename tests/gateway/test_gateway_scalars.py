"""DateTime: ISO 8601 with an offset in, UTC with an offset out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.api.scalars import parse_datetime, serialize_datetime, to_timestamp
from gateway.errors import BAD_USER_INPUT, GatewayError
from todo_runtime.timestamps import from_timestamp

BERLIN_WINTER = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T09:00:00+01:00", datetime(2026, 3, 1, 9, tzinfo=BERLIN_WINTER)),
        ("2026-03-01T08:00:00Z", datetime(2026, 3, 1, 8, tzinfo=UTC)),
        ("2026-03-01T08:00:00.250+00:00", datetime(2026, 3, 1, 8, 0, 0, 250_000, tzinfo=UTC)),
        ("2026-03-01T02:30:00-05:30", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_parses_instants_with_an_offset(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-03-01T09:00:00", "no UTC offset"),
        ("2026-03-01", "no UTC offset"),
        ("next tuesday", "not ISO 8601"),
        ("", "not ISO 8601"),
        (1767225600, "ISO 8601 string"),
    ],
)
def test_rejects_values_without_an_offset_or_not_iso(value: object, reason: str) -> None:
    with pytest.raises(GatewayError, match=reason) as caught:
        parse_datetime(value)
    assert caught.value.extensions == {"code": BAD_USER_INPUT}


def test_serializes_aware_datetimes_only() -> None:
    assert serialize_datetime(datetime(2026, 3, 1, 8, tzinfo=UTC)) == "2026-03-01T08:00:00+00:00"
    with pytest.raises(TypeError):
        serialize_datetime(datetime(2026, 3, 1, 8))


def test_timestamps_keep_the_instant_across_offsets() -> None:
    local = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    back = from_timestamp(to_timestamp(local))
    assert back == local
    assert back.utcoffset() == timedelta(0)
    assert to_timestamp(local).seconds == int(local.timestamp())
