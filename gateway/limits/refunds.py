"""The points of the running operation's price that its fields' work left unused.

A field priced at the most it may do (`query_cost`) notes what it did not do (`unused`), and
the cost limits (`cost`) give it back once the operation ran. Apart from `cost`, so that a
resolver noting it imports no more than this.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_UNUSED: ContextVar[list[int] | None] = ContextVar("gateway_unused_cost", default=None)


def unused(points: int) -> None:
    """Notes that the running operation's work came to `points` less than it was charged
    (a field priced at the most it may do, that did less): they are given back after it."""
    ledger = _UNUSED.get()
    if ledger is not None and points > 0:
        ledger.append(points)


@contextlib.contextmanager
def ledger() -> Iterator[list[int]]:
    """What `unused` notes while the operation runs: seen by the resolvers, which run in this
    task or its children."""
    points: list[int] = []
    _UNUSED.set(points)
    try:
        yield points
    finally:
        _UNUSED.set(None)
