"""Conversions between aware datetimes and `google.protobuf.Timestamp`, shared by every service.

Pure (protobuf's well-known Timestamp only): rules import it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(value: datetime) -> Timestamp:
    """The Timestamp of an aware datetime (its instant; the zone is not kept)."""
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def from_timestamp(value: Timestamp) -> datetime:
    """The instant of a Timestamp as an aware UTC datetime."""
    return value.ToDatetime(tzinfo=UTC)
