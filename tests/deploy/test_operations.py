"""`todo migrate` and `todo topics`, the chart's hook Jobs, against a real PostgreSQL and broker."""

from __future__ import annotations

import asyncpg
import pytest
from confluent_kafka.admin import AdminClient

from todo_cli import components, operations
from todo_cli.broker import EmbeddedBroker
from todo_cli.main import main
from todo_runtime import topics


async def test_migrate_prepares_every_component_once_and_again_is_a_no_op(
    database_url: str,
) -> None:
    first = await operations.migrate_all(database_url)
    with_database = [service for service in components.SERVICES if service.database]
    assert set(first) == {service.name for service in with_database} | {"gateway"}
    assert all(count > 0 for count in first.values())
    again = await operations.migrate_all(database_url)
    assert set(again.values()) == {0}

    conn = await asyncpg.connect(database_url)
    try:
        schemas = {row["nspname"] for row in await conn.fetch("SELECT nspname FROM pg_namespace")}
    finally:
        await conn.close()
    assert {service.schema for service in with_database} <= schemas


def test_topics_creates_every_topic_and_its_dead_letters(
    broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
    assert main(["topics"]) == 0
    assert main(["topics"]) == 0  # already there: fine
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    present = set(admin.list_topics(timeout=10).topics)
    assert set(topics.ALL_TOPICS) <= present
    assert topics.dead_letter(topics.TASK_EVENTS) in present
    assert set(operations.all_topics()) <= present


def test_migrate_without_a_reachable_database_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert main(["migrate"]) == 1
