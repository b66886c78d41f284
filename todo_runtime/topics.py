"""Topic names and their creation.

Topics are created by the services at start-up (and again by the outbox relay
and consumers when an in-memory broker restarted and forgot them), never by
broker-side auto-creation, so every topic gets the configured partition count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Final

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic  # confluent_kafka.admin re-exports it implicitly

from todo_runtime.kafka_settings import KafkaConfig, client_settings

log = logging.getLogger(__name__)

TASK_EVENTS: Final = "task-events"
TASK_UPDATES: Final = "task-updates"
REMINDERS: Final = "reminders"
AUDIT_CHECKPOINTS: Final = "audit-checkpoints"
ALL_TOPICS: Final = (TASK_EVENTS, TASK_UPDATES, REMINDERS)


class TopicError(RuntimeError):
    """A topic could not be created (broker unreachable, bad settings, ...)."""


def dead_letter(topic: str) -> str:
    """The topic where a consumer parks records of `topic` it could not process."""
    return f"{topic}.dlq"


def ensure_topics(config: KafkaConfig, topics: Iterable[str], timeout: float = 10.0) -> None:
    """Creates the topics that do not exist yet; blocking, so call it `broker_calls.off_loop`."""
    names = sorted(set(topics))
    if not names:
        return
    admin = AdminClient(client_settings(config))
    requested = [NewTopic(name, config.partitions, config.replication_factor) for name in names]
    futures: dict[str, Future[None]] = admin.create_topics(
        requested, request_timeout=timeout, operation_timeout=timeout
    )
    for name, future in futures.items():
        try:
            future.result(timeout=timeout + 1.0)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            raise TopicError(f"cannot create topic {name}: {error.str()}") from None
        except TimeoutError:
            raise TopicError(f"cannot create topic {name}: no answer within {timeout} s") from None
        log.info("created topic %s (%d partitions)", name, config.partitions)
