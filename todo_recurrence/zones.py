"""IANA zones from the bundled `tzdata` package only, never the host's files.

A zone name is valid when the bundled database lists it (`UTC`,
`Asia/Calcutta` and `US/Eastern` are in; `localtime`, `posixrules`, directory
names such as `America` and paths are out), so a name can neither read host
configuration nor reach the file system with a path of the user's choosing,
and every machine accepts exactly the same names.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from typing import Final
from zoneinfo import ZoneInfo

MAX_ZONE_NAME: Final = 64  # the longest IANA name has 32 characters


@cache
def zone_names() -> frozenset[str]:
    """Every zone name the bundled database lists (read once)."""
    return frozenset(resources.files("tzdata").joinpath("zones").read_text().split())


@lru_cache(maxsize=1024)
def lookup_zone(name: str) -> ZoneInfo | None:
    """The zone called `name` ("" means UTC), or None when the bundled database has no such zone."""
    name = name or "UTC"
    if len(name) > MAX_ZONE_NAME or name not in zone_names():
        return None
    data = resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
    with data.open("rb") as source:
        return ZoneInfo.from_file(source, key=name)
