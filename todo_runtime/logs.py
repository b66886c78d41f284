"""Process-wide logging set-up: one line per record, level from TODO_LOG_LEVEL."""

from __future__ import annotations

import logging
import os


def configure_logging(component: str) -> None:
    """Logs `time level component logger: message` to stderr."""
    level = os.environ.get("TODO_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s %(levelname)s {component} %(name)s: %(message)s",
        force=True,
    )
    # asyncpg logs every failed attempt to refill its pool, with a traceback, all through a
    # database outage; the service's database watch reports the outage once instead.
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)
