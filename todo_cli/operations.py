"""What an operator runs before a release starts: `todo migrate` and `todo topics`.

In Kubernetes these are the chart's hook Jobs, so new pods never race each
other to migrate or to create topics. Both do what every service also does
at start, for every component at once, and are safe to run again.
"""

from __future__ import annotations

from gateway import rate_buckets as rate_limit
from todo_cli import components
from todo_runtime import topics
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.migrations import migrate
from todo_runtime.service import migrate_service


async def migrate_all(url: str) -> dict[str, int]:
    """Applies every component's pending migrations; returns how many ran for each (svc_live,
    which keeps nothing durable, has none)."""
    applied = {}
    for service in (service for service in components.SERVICES if service.database):
        applied[service.name] = await migrate_service(url, service)
    applied["gateway"] = await migrate(url, rate_limit.SCHEMA, [rate_limit.MIGRATIONS])
    return applied


def all_topics() -> list[str]:
    """Every topic of the system, dead-letter topics included."""
    return sorted({topic for service in components.SERVICES for topic in service.topics})


def create_topics(kafka: KafkaConfig) -> list[str]:
    """Creates the topics that do not exist yet (blocking); returns every topic's name."""
    names = all_topics()
    topics.ensure_topics(kafka, names, timeout=30.0)
    return names
