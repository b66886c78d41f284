"""The group consumer: at least once, offsets stored only after the effect.

The handler makes its effect durable and idempotent (see `unit_of_work`); only
after it returned is the record's offset stored, and librdkafka commits stored
offsets every second (`consume_loop.COMMIT_INTERVAL_MS`) and on revoke and
close. A crash therefore redelivers at most that interval's records, which the
inbox skips. The fetch loop, retries and dead letters are `consume_loop`'s.
"""

from __future__ import annotations

import logging

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from todo_runtime.consume_loop import ConsumeLoop, consumer_settings
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.producer import DeliveryError
from todo_runtime.received_event import position

log = logging.getLogger(__name__)


class EventConsumer(ConsumeLoop):
    """Consumes `topics` as a member of group `group`, calling `handler` once per record until it
    succeeds; parameters as `ConsumeLoop`'s. The members share the partitions, and one that
    takes a partition over resumes after the last record whose effect was stored."""

    def _joining(
        self, config: KafkaConfig, group: str, fetch_wait_max_ms: int | None
    ) -> dict[str, object]:
        return consumer_settings(config, group, fetch_wait_max_ms=fetch_wait_max_ms)

    def _start_at(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """At the group's committed offsets, which librdkafka assigns once this returns."""

    async def _done_with(self, consumer: Consumer, messages: list[Message]) -> None:
        """Stores their offsets, for librdkafka's next commit."""
        await self._call(_store_offsets, consumer, messages)

    def _may_have_missed_records(self) -> None:
        """Nothing to do: the group resumes from its committed offsets, so nothing passes unseen."""

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Commits what was stored before the partitions move to another member."""
        super()._on_revoke(consumer, partitions)
        try:
            consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if DeliveryError.from_exception(exc).code != KafkaError._NO_OFFSET:
                log.warning("consumer %s: commit on revoke failed: %s", self._group_id, exc)


def _store_offsets(consumer: Consumer, messages: list[Message]) -> None:
    """Stores the offsets of processed records, for librdkafka's next commit."""
    for message in messages:
        try:
            consumer.store_offsets(message)
        except KafkaException as exc:  # e.g. partition revoked meanwhile: redelivered, idempotent
            log.warning(
                "cannot store the offset of %s, it will be redelivered: %s", position(message), exc
            )
