"""A service is SERVING only while everything it needs works: one flag per condition.

Conditions are set from anywhere (done callbacks, watch loops); the gRPC
health status follows their conjunction. Liveness stays the process itself: a
NOT_SERVING service is taken out of rotation, not killed, while it heals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Readiness:
    """Named conditions; `publish(serving)` is called whenever their conjunction changes.

    Starts not ready (the `started` condition) until `mark_started()`.
    """

    def __init__(self, service: str, publish: Callable[[bool], Awaitable[None]]) -> None:
        self._service = service
        self._publish = publish
        self._conditions: dict[str, bool] = {"started": False}
        self._changed = asyncio.Event()
        self._published: bool | None = None

    @property
    def ready(self) -> bool:
        return all(self._conditions.values())

    def set(self, condition: str, ok: bool) -> None:
        if self._conditions.get(condition) == ok:
            return
        self._conditions[condition] = ok
        if condition != "started":
            log.log(
                logging.INFO if ok else logging.WARNING,
                "%s: %s %s",
                self._service,
                condition,
                "ok" if ok else "failing: not serving until it recovers",
            )
        self._changed.set()

    def require(self, condition: str) -> None:
        """Adds a condition that must hold before the service first serves (like `started`, it is
        no failure while it does not hold yet)."""
        self._conditions.setdefault(condition, False)
        self._changed.set()

    def mark_started(self) -> None:
        self.set("started", True)

    async def run(self) -> None:
        """Publishes every change until cancelled (one task, woken by changes, never polling)."""
        while True:
            await self._changed.wait()
            self._changed.clear()
            serving = self.ready
            if serving != self._published:
                await self._publish(serving)
                self._published = serving
