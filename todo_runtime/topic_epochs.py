"""Noticing a broker that lost its state: a topic created anew gets a new topic id.

An in-memory broker (Tansu under `todo up`) forgets topics, records and
offsets when it restarts, and an operator can delete and recreate a topic on
any broker. Either way, records the relay already marked sent may never have
reached a consumer. Every relay records the id of each topic it publishes to;
when the broker shows another id, the topic was created anew and the relay
publishes its retained rows of that topic again (consumers skip what they
already applied). A broker that reports no topic ids cannot be watched this
way; `todo replay --since` covers it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Final

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient

from todo_runtime.broker_calls import off_loop
from todo_runtime.db import Connection
from todo_runtime.kafka_settings import KafkaConfig, client_settings
from todo_runtime.topics import TopicError, ensure_topics

log = logging.getLogger(__name__)

_NO_ID: Final = "AAAAAAAAAAAAAAAAAAAAAA"  # the all-zero Kafka Uuid: the broker has no topic ids
_TIMEOUT: Final = 5.0


class TopicEpochError(RuntimeError):
    """The broker could not be asked for its topics (it is down or refused)."""


def current_topic_ids(config: KafkaConfig, topics: Sequence[str]) -> dict[str, str | None]:
    """Each topic's id on the broker now (None: no ids), creating missing topics first. Blocking."""
    ids, missing = _describe(config, topics)
    if missing:
        try:
            ensure_topics(config, missing, timeout=_TIMEOUT)
        except TopicError as error:
            raise TopicEpochError(str(error)) from None
        created, still_missing = _describe(config, missing)
        if still_missing:
            raise TopicEpochError(f"topics {still_missing} are missing right after creation")
        ids |= created
    return ids


def _describe(
    config: KafkaConfig, topics: Sequence[str]
) -> tuple[dict[str, str | None], list[str]]:
    """topic → id (None when the broker has no ids), and the topics that do not exist."""
    admin = AdminClient(client_settings(config))
    futures: dict[str, Future[Any]] = admin.describe_topics(
        TopicCollection(list(topics)), request_timeout=_TIMEOUT
    )
    found: dict[str, str | None] = {}
    missing: list[str] = []
    for topic, future in futures.items():
        try:
            description = future.result(timeout=_TIMEOUT + 1)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                missing.append(topic)
                continue
            raise TopicEpochError(f"cannot describe topic {topic}: {error.str()}") from None
        except TimeoutError:
            raise TopicEpochError(f"no answer about topic {topic} within {_TIMEOUT} s") from None
        topic_id = str(description.topic_id) if description.topic_id is not None else _NO_ID
        found[topic] = None if topic_id == _NO_ID else topic_id
    return found, missing


class TopicEpochs:
    """The topics one relay publishes to, and what their ids were when it last looked."""

    def __init__(self, config: KafkaConfig, topics: Sequence[str]) -> None:
        self._config = config
        self._topics = sorted(set(topics))
        self._warned_no_ids = False

    async def current(self) -> dict[str, str | None]:
        """The broker's topic ids now; raises TopicEpochError when the broker cannot tell."""
        if not self._topics:
            return {}
        return await off_loop(current_topic_ids, self._config, self._topics)

    async def record(self, conn: Connection, ids: Mapping[str, str | None]) -> set[str]:
        """Stores `ids` and returns the topics whose id changed since the last record.

        Run it in the transaction that republishes those topics, so a crash in
        between cannot forget a loss.
        """
        rows = await conn.fetch(
            "SELECT topic, topic_id FROM topic_epochs WHERE topic = ANY($1::text[])", list(ids)
        )
        known = {row["topic"]: row["topic_id"] for row in rows}
        if None in ids.values() and not self._warned_no_ids:
            self._warned_no_ids = True
            log.info("the broker reports no topic ids: a broker that loses topics goes unnoticed")
        present = {topic: topic_id for topic, topic_id in ids.items() if topic_id is not None}
        await conn.executemany(
            """INSERT INTO topic_epochs (topic, topic_id) VALUES ($1, $2)
               ON CONFLICT (topic) DO UPDATE SET topic_id = EXCLUDED.topic_id, seen_at = now()
               WHERE topic_epochs.topic_id IS DISTINCT FROM EXCLUDED.topic_id""",
            list(present.items()),
        )
        return {
            topic
            for topic, topic_id in present.items()
            if known.get(topic) is not None and known[topic] != topic_id
        }
