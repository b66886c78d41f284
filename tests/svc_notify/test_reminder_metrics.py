"""Reminder metrics against real PostgreSQL: scheduled, fired, late and missed are counted once
their transaction committed, and a rolled-back one counts nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from google.protobuf.message import DecodeError
from prometheus_client import REGISTRY

from svc_notify.firing import Scheduler
from svc_notify.service import SCHEMA
from svc_notify.task_changes import apply_task_event
from tests.svc_notify.test_firing import change, received, seed_burst
from todo_runtime.failures import PermanentError
from todo_runtime.unit_of_work import transactional

COUNTERS = (
    "todo_reminders_scheduled_total",
    "todo_reminders_fired_total",
    "todo_reminders_late_total",
    "todo_reminders_missed_total",
    "todo_reminder_delay_seconds_count",
)


def counts() -> dict[str, float]:
    return {name: REGISTRY.get_sample_value(name) or 0.0 for name in COUNTERS}


def moved(before: dict[str, float]) -> dict[str, float]:
    """How far each counter moved since `before` (the ones that did not move left out)."""
    now = counts()
    return {name: now[name] - before[name] for name in COUNTERS if now[name] != before[name]}


async def test_fired_late_and_missed_are_counted(pool: asyncpg.Pool[Any]) -> None:
    now = datetime.now(UTC)
    await seed_burst(pool, 1, now)  # on time
    await seed_burst(pool, 2, now - timedelta(seconds=5))  # late, within the grace window
    await seed_burst(pool, 1, now - timedelta(hours=1))  # missed
    before = counts()
    delay_before = REGISTRY.get_sample_value("todo_reminder_delay_seconds_sum") or 0.0

    assert await Scheduler(pool, SCHEMA, grace=timedelta(minutes=10)).fire_due() == 4

    assert moved(before) == {
        "todo_reminders_fired_total": 3,
        "todo_reminders_late_total": 2,
        "todo_reminders_missed_total": 1,
        "todo_reminder_delay_seconds_count": 3,
    }
    delay = (REGISTRY.get_sample_value("todo_reminder_delay_seconds_sum") or 0.0) - delay_before
    assert 10 <= delay < 60


async def test_a_batch_that_rolled_back_counts_nothing(pool: asyncpg.Pool[Any]) -> None:
    await seed_burst(pool, 1, datetime.now(UTC))
    await pool.execute("UPDATE task_states SET snapshot = '\\xff'::bytea")  # cannot be decoded
    before = counts()

    with pytest.raises(DecodeError):
        await Scheduler(pool, SCHEMA, grace=timedelta(minutes=10)).fire_due()

    assert moved(before) == {}
    assert await pool.fetchval("SELECT state FROM reminders") == "scheduled"


async def test_scheduled_counts_what_committed(pool: asyncpg.Pool[Any]) -> None:
    apply = transactional(pool, "svc_notify", apply_task_event)
    due = datetime.now(UTC) + timedelta(hours=1)
    wanted = received(change(str(uuid.uuid4()), 1, due))
    broken = received(change("not a task id", 1, due))
    before = counts()

    # A batch with a bad event rolls back as a whole (the consumer then applies one at a time).
    with pytest.raises(PermanentError):
        await apply.batch([wanted, broken])
    assert moved(before) == {}

    await apply(wanted)
    await apply(wanted)  # redelivered: skipped, nothing new scheduled
    assert moved(before) == {"todo_reminders_scheduled_total": 1}
