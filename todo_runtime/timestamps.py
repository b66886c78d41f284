"""Conversions between aware datetimes and `google.protobuf.Timestamp`, shared by every service.

Pure (protobuf's well-known Timestamp only): rules import it. They compute what protobuf's
`FromDatetime` and `ToDatetime(tzinfo=UTC)` compute, in about half the time: a page of tasks
converts three instants per task on each side of a call (docs/performance.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from google.protobuf.timestamp_pb2 import Timestamp

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_DAY: Final = 86_400


def timestamp(value: datetime) -> Timestamp:
    """The Timestamp of an aware datetime (its instant; the zone is not kept)."""
    since = value - EPOCH  # an aware difference: the instant's, whatever the zone
    return Timestamp(seconds=since.days * _DAY + since.seconds, nanos=since.microseconds * 1000)


def from_timestamp(value: Timestamp) -> datetime:
    """The instant of a Timestamp as an aware UTC datetime."""
    return EPOCH + timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)
