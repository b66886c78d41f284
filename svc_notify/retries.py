"""When a failed delivery is tried again: the Standard Webhooks schedule, with jitter.

The specification recommends attempts immediately, then 5 s, 5 min, 30 min,
2 h, 5 h, 10 h, 14 h, 20 h and 24 h after each failure (about three days in
all). Jitter (up to +20 %, never earlier) keeps the retries of a burst from
arriving at a recovering receiver together. A 429 or 503 answer's
Retry-After is honoured: the next attempt waits at least that long (up to a
day, so a hostile value cannot park a delivery for ever).
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

# Seconds from a failure to the next attempt; index 0 is the first attempt (immediate).
SCHEDULE: Final = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER: Final = 0.2
MAX_RETRY_AFTER: Final = 86400.0
_SECONDS: Final = re.compile(r"[0-9]+")


def next_delay(
    attempts_in_round: int, *, scale: float = 1.0, retry_after: float | None = None
) -> float | None:
    """Seconds until the next attempt after `attempts_in_round` failed ones; None: out of attempts.

    `scale` multiplies the schedule (a test setting); `retry_after` is a floor.
    """
    if attempts_in_round >= len(SCHEDULE):
        return None
    delay = SCHEDULE[attempts_in_round] * scale * (1 + random.uniform(0, JITTER))  # noqa: S311 - jitter, not a secret
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks to wait (delay-seconds or HTTP-date, RFC 9110 §10.2.3).

    None when absent or malformed: the schedule applies as usual.
    """
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC with no claim about local time
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
