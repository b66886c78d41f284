"""Creating, on the spot, the topics a client finds missing: best effort.

An in-memory broker (the embedded one) forgets every topic when it restarts, and a dead-letter
topic may not exist before its first record. The client that notices (a consumer, its dead
letters, the outbox relay) creates what it needs and retries; a failure here is only logged,
since that retry reports the outage.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from todo_runtime.broker_calls import off_loop
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.topics import ensure_topics

log = logging.getLogger(__name__)


async def create_missing_topics(config: KafkaConfig, topics: Collection[str], owner: str) -> None:
    """Creates those of `topics` the broker does not have; `owner` names the client in the log."""
    try:
        await off_loop(ensure_topics, config, topics)
    except Exception as exc:  # the caller's retry reports the outage
        log.debug("%s: cannot create topics %s: %s", owner, topics, exc)
