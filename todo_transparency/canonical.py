"""The exact bytes that get hashed and signed: canonical JSON and instants as text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) for the values we encode: objects with ASCII keys, strings, integers, null.

    Keys sorted, no insignificant whitespace, UTF-8, and JSON's minimal string
    escapes (Python's `json` escapes exactly the control characters JCS does).
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def instant_text(value: datetime) -> str:
    """RFC 3339 in UTC with exactly six fractional digits: 2026-03-01T08:00:00.000000Z."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("an instant needs a UTC offset")
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def parse_instant(text: str) -> datetime:
    """The instant of `instant_text`'s output (and of any ISO 8601 text with an offset)."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return parsed.astimezone(UTC)
