"""Blocking broker calls (topic creation, topic ids, the broker watch) off the event loop, on
threads that never hold up a stop.

librdkafka's admin calls block for their whole timeout while the broker is away or refuses us.
On asyncio's default executor a stop would wait for every one in flight, since the loop joins
its threads when it closes (and the interpreter its executors' threads when it exits): a service
told to stop would take the calls' timeouts to go. These run on daemon threads instead: a
cancelled call is abandoned, and its thread ends with the call or with the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
V = TypeVar("V")


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` on a daemon thread of its own; cancelling the await abandons the call."""
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = function(*args)
        except BaseException as failure:  # handed to the awaiting task, never lost
            _deliver(loop, outcome, outcome.set_exception, failure)
        else:
            _deliver(loop, outcome, outcome.set_result, result)

    name = getattr(function, "__name__", "broker call")
    threading.Thread(target=run, name=name, daemon=True).start()
    return await outcome


def _deliver(
    loop: asyncio.AbstractEventLoop,
    outcome: asyncio.Future[Any],
    settle: Callable[[V], None],
    value: V,
) -> None:
    def on_loop() -> None:
        if not outcome.done():  # cancelled meanwhile: nobody waits for it any more
            settle(value)

    with contextlib.suppress(RuntimeError):  # the loop closed: the process is stopping
        loop.call_soon_threadsafe(on_loop)
