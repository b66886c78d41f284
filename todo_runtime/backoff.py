"""The one backoff every retry loop uses: exponential, capped, with jitter.

Jitter ("equal jitter": half the delay fixed, half random) keeps replicas that
failed together from retrying in lockstep against a dependency coming back.
"""

from __future__ import annotations

import asyncio
import random


class Backoff:
    """Delays of `initial`, times `factor` per failure, capped at `maximum` seconds.

    Call `wait()` after a failure and `reset()` after a success.
    """

    def __init__(self, initial: float = 0.1, maximum: float = 5.0, factor: float = 2.0) -> None:
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")
        self._initial = initial
        self._maximum = maximum
        self._factor = factor
        self._current = initial

    def next_delay(self) -> float:
        """The delay to wait now; the following one grows."""
        base = self._current
        self._current = min(self._current * self._factor, self._maximum)
        return base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not a secret

    def reset(self) -> None:
        self._current = self._initial

    async def wait(self) -> None:
        await asyncio.sleep(self.next_delay())
