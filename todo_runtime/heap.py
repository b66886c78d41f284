"""What a process built to start is kept out of the garbage collector's full collections.

CPython's full collection walks every object the process holds. A started part holds tens of
thousands that will never be garbage (its modules, the generated contracts, the gateway's GraphQL
schema), and under load a full collection ran every second or two: in the gateway each one
stopped the event loop, and so every request in flight, for 40-50 ms (`docs/performance.md`).
`gc.freeze` moves what exists once the process has started to a generation the collector no
longer walks; what requests create afterwards is collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collects the start-up's garbage once, then freezes what is left; call it once the process
    has built what it serves with, before it serves."""
    gc.collect()
    gc.freeze()
