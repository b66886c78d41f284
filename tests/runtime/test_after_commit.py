"""`after_commit` callbacks run once the unit of work committed, never for one that rolled back."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.runtime.test_consumer import name_of
from tests.runtime.test_unit_of_work import received
from todo_runtime.after_commit import after_commit
from todo_runtime.db import Connection
from todo_runtime.received_event import ReceivedEvent
from todo_runtime.unit_of_work import transactional


async def test_callbacks_run_after_the_commit_and_are_dropped_on_rollback(
    pool: asyncpg.Pool[Any],
) -> None:
    committed: list[str] = []

    async def handle(event: ReceivedEvent, conn: Connection) -> None:
        name = name_of(event)
        await conn.execute("INSERT INTO things VALUES ($1)", name)
        after_commit(lambda: committed.append(name))
        assert name not in committed  # not before the commit
        if name == "poison":
            raise ValueError("poison")

    run = transactional(pool, "after-commit", handle)
    await run(received("a", "e-1"))
    await run(received("a", "e-1"))  # redelivered: the inbox skips it, nothing to run
    assert committed == ["a"]

    with pytest.raises(ValueError, match="poison"):
        await run.batch([received("b", "e-2"), received("poison", "e-3")])
    assert committed == ["a"]
    await run.batch([received("b", "e-2"), received("c", "e-4")])
    assert committed == ["a", "b", "c"]
    names = await pool.fetch("SELECT name FROM things ORDER BY name")
    assert [row["name"] for row in names] == ["a", "b", "c"]


def test_outside_a_unit_of_work_it_refuses() -> None:
    with pytest.raises(RuntimeError, match="outside a unit of work"):
        after_commit(lambda: None)
