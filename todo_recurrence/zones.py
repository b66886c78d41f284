"""IANA zone lookup that never touches the file system outside the zone database."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=1024)
def lookup_zone(name: str) -> ZoneInfo | None:
    """The zone called `name` ("" means UTC), or None when there is no such IANA zone."""
    name = name or "UTC"
    if name.startswith("/") or ".." in name or "\\" in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
