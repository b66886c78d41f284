"""CPU-bound pure work (recurrence expansion) off the event loop, fairly shared between users.

The event loop keeps serving while a computation runs on a worker thread.
At most `workers` computations run at once, and at most one per key (a
user): a user who sends expensive rules back to back waits for their own
previous one, so they occupy one worker, never all of them. Each computation
bounds itself (the engine's budget), so no worker is held for long.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class _Key:
    """One key's turn-taking lock and how many calls hold or wait for it."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.calls = 0


class Offload:
    """Worker threads for one service; `close()` on stop."""

    def __init__(self, name: str, workers: int = 2) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=f"{name}-compute")
        self._keys: dict[str, _Key] = {}

    async def run(self, key: str, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args, **kwargs)` on a worker, after `key`'s previous computation finished.

        Context variables (the engine's budget) travel with the call.
        """
        turn = self._keys.setdefault(key, _Key())
        turn.calls += 1
        try:
            async with turn.lock:
                call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
                return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        finally:
            turn.calls -= 1
            if not turn.calls:
                del self._keys[key]

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
