"""Outbox backlog and age as the relay reports them: rows wait while the broker is away and the
gauges say so; once published they read 0, as they do in a relay that does not lead."""

from __future__ import annotations

from typing import Any

import asyncpg
from prometheus_client import REGISTRY

from tests.runtime.conftest import SCHEMA
from tests.runtime.test_outbox import change, drained, event, producer, running
from tests.support.infra import eventually, kafka_config
from todo_cli.broker import EmbeddedBroker
from todo_runtime.backoff import Backoff
from todo_runtime.outbox_relay import OutboxRelay


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"schema": SCHEMA})


async def test_backlog_and_age_grow_while_the_broker_is_away_and_fall_to_zero_after(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    async with producer(config, timeout_ms=1000) as kafka:
        relay = OutboxRelay(
            pool, SCHEMA, kafka, config, backoff=lambda: Backoff(0.05, 0.5), measure_every=0.1
        )
        assert gauge("todo_outbox_relay_leading") == 0  # until it leads: another relay reports
        async with running(relay):
            await eventually(lambda: relay.leading)
            assert gauge("todo_outbox_relay_leading") == 1
            broker.stop()
            await change(pool, event("ann", 1), event("ann", 2), event("bob", 1))
            await eventually(lambda: gauge("todo_outbox_backlog") == 3)
            first_age = gauge("todo_outbox_oldest_age_seconds") or 0.0
            await eventually(lambda: (gauge("todo_outbox_oldest_age_seconds") or 0.0) > first_age)
            broker.start()
            await drained(pool, within=30)
            await eventually(lambda: gauge("todo_outbox_backlog") == 0)
            assert gauge("todo_outbox_oldest_age_seconds") == 0
    assert gauge("todo_outbox_relay_leading") == 0
    assert gauge("todo_outbox_backlog") == 0
