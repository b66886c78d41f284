"""Work a handler wants done only once its transaction committed, such as counting a metric.

`unit_of_work` runs each handler inside `collecting()`: callbacks a handler
registers with `after_commit` run when the transaction committed, and are
dropped when it rolled back (a failed batch is applied again one event at a
time, and must not count twice).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar

_PENDING: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_commit", default=None)


@contextlib.asynccontextmanager
async def collecting() -> AsyncIterator[None]:
    """Collects `after_commit` callbacks; runs them if the block (the transaction) succeeded.

    List it before the transaction in one `async with`, so it exits after the commit.
    """
    callbacks: list[Callable[[], None]] = []
    token = _PENDING.set(callbacks)
    try:
        yield
    finally:
        _PENDING.reset(token)
    for callback in callbacks:  # not reached when the block raised
        callback()


def after_commit(callback: Callable[[], None]) -> None:
    """Runs `callback` once the current unit of work committed (never if it rolls back)."""
    pending = _PENDING.get()
    if pending is None:
        raise RuntimeError("after_commit outside a unit of work (see todo_runtime.unit_of_work)")
    pending.append(callback)
