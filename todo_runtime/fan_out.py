"""The fan-out consumer: every replica sees every record of every partition, from the moment it
joined, whatever other processes consume.

A group of one (its group id gets a unique suffix) that starts at the end of each partition as
it is assigned and commits nothing: nobody ever resumes from its offsets. Whatever may have passed
unseen (before start-up, while the broker was away or restarted) its owner re-reads from its
source of truth when told so (`on_reassigned`). svc_live's streams are built on it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from todo_runtime.broker_health import BrokerHealth
from todo_runtime.consume_loop import ConsumeLoop, consumer_settings
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.producer import EventProducer
from todo_runtime.received_event import ReceivedEvent

log = logging.getLogger(__name__)

# What a group of one changes in a group member's settings (see `_position_at_end` for the start).
_FROM_NOW_ON: Final = {"enable.auto.commit": False, "auto.offset.reset": "latest"}


class FanOutConsumer(ConsumeLoop):
    """Sees every record of `topics` from now on, calling `handler` once per record as
    `ConsumeLoop` does; `group` labels its lag and its broker reports.

    `on_reassigned` is called (on the event loop) whenever its partitions were
    (re)assigned or lost, or the broker came back, i.e. whenever records may
    have passed unseen: the caller re-reads them from its source of truth.
    `producer_for_dlq`, `fetch_wait_max_ms` and `broker` are as `ConsumeLoop`'s.
    """

    def __init__(
        self,
        config: KafkaConfig,
        group: str,
        topics: Sequence[str],
        handler: Callable[[ReceivedEvent], Awaitable[None]],
        *,
        on_reassigned: Callable[[], None],
        producer_for_dlq: EventProducer | None = None,
        fetch_wait_max_ms: int | None = None,
        broker: BrokerHealth | None = None,
    ) -> None:
        super().__init__(
            config,
            group,
            topics,
            handler,
            producer_for_dlq=producer_for_dlq,
            fetch_wait_max_ms=fetch_wait_max_ms,
            broker=broker,
        )
        self._on_reassigned = on_reassigned

    def _joining(
        self, config: KafkaConfig, group: str, fetch_wait_max_ms: int | None
    ) -> dict[str, object]:
        """As the only member of a group of its own: the group's name and a unique suffix."""
        group_id = f"{group}-{uuid.uuid4().hex[:12]}"
        settings = consumer_settings(config, group_id, fetch_wait_max_ms=fetch_wait_max_ms)
        return settings | _FROM_NOW_ON

    def _start_at(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """At each partition's end as of now (`_position_at_end`)."""
        _position_at_end(consumer, partitions, self._group_id)

    async def _done_with(self, consumer: Consumer, messages: list[Message]) -> None:
        """Nothing: no offset is stored or committed."""

    def _may_have_missed_records(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_reassigned)


def _position_at_end(consumer: Consumer, partitions: list[TopicPartition], group_id: str) -> None:
    """Starts a fan-out consumer at each partition's end as of now, before its owner re-reads its
    source of truth (`on_reassigned`, scheduled after this returns).

    `auto.offset.reset=latest` would find the end only at the first fetch, later: a record
    published in between would be neither re-read (it came after the re-read) nor fetched (it
    lies before the end found). Asked here, the end is below every record the re-read misses.
    """
    for partition in partitions:
        try:
            _low, high = consumer.get_watermark_offsets(partition, timeout=5.0, cached=False)
        except KafkaException as exc:  # the re-read on the next reassignment or heartbeat covers it
            log.warning(
                "consumer %s: cannot find the end of %s [%d], starting at the latest: %s",
                group_id,
                partition.topic,
                partition.partition,
                exc,
            )
            continue
        partition.offset = high
    consumer.assign(partitions)
