"""After start-up, a full collection walks only what was made since (`todo_runtime.heap`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from todo_runtime.heap import freeze_startup_heap


@pytest.fixture
def thawed() -> Iterator[None]:
    """Gives the test process its heap back afterwards."""
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.mark.usefixtures("thawed")
def test_what_exists_at_start_is_left_out_of_full_collections() -> None:
    walked_before = len(gc.get_objects(generation=2))

    freeze_startup_heap()
    made_after = [[n] for n in range(1000)]  # containers the collector tracks
    gc.collect(1)  # pushes them on to the oldest generation

    walked_after = gc.get_objects(generation=2)
    assert walked_before > 10_000  # a test process: its modules, fixtures and plugins
    assert gc.get_freeze_count() > 10_000  # what of them was not garbage
    assert len(walked_after) < walked_before / 10
    assert any(o is made_after[0] for o in walked_after)  # new objects are still collected
