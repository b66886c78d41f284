"""Transactional outbox: events are rows written with the state change, published by a relay.

`enqueue` writes events in the caller's transaction, so an event exists if and
only if its state change committed. `OutboxRelay` publishes unsent rows in id
order and marks a row sent only after the broker acknowledged it: a broker
outage delays events, never loses them. Delivery is at least once (a relay that
dies between the broker's ack and marking the row resends it); consumers
deduplicate by event id (`inbox.claim`).

Row format: `key` is the UTF-8 key, `value` the serialized Protobuf message and
`headers` a JSON list of `[name, value]` pairs with UTF-8 text values (every
CloudEvents header is text), kept readable for operators in psql.

Order: rows are published in id order, and ids are assigned at insert. Two
concurrent transactions can commit out of id order; writers that need per-key
order (per-user changes) serialize their transactions, e.g. with a row lock
taken before enqueueing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from google.protobuf.message import Message

from todo_runtime.cloudevents import event_headers
from todo_runtime.config import KafkaConfig
from todo_runtime.producer import DeliveryError, EventProducer, Record
from todo_runtime.topics import ensure_topics

log = logging.getLogger(__name__)

# A plain or pooled connection; every function here takes either.
Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

_LOCK_CLASS: Final = 0x70D0_0002  # advisory lock namespace of relays; the other key is the schema
_DB_ERRORS: Final = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
_INITIAL_BACKOFF: Final = 0.1

_INSERT: Final = """
    INSERT INTO outbox (topic, key, value, headers)
    SELECT topic, key, value, headers::jsonb
    FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[])
        WITH ORDINALITY AS batch (topic, key, value, headers, position)
    ORDER BY position"""
_SELECT_UNSENT: Final = """
    SELECT id, topic, key, value, headers::text AS headers
    FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1"""


class OutboxError(RuntimeError):
    """The outbox was used outside the transaction it must be part of."""


@dataclass(frozen=True)
class OutgoingEvent:
    """One event to publish: the Protobuf payload plus its CloudEvents attributes."""

    topic: str
    key: str
    message: Message
    event_id: str
    source: str
    type: str
    subject: str
    time: datetime


async def enqueue(conn: Connection, events: Sequence[OutgoingEvent]) -> None:
    """Writes `events` to the outbox inside the caller's transaction (one statement)."""
    if not events:
        return
    if not conn.is_in_transaction():
        raise OutboxError("enqueue must run inside the transaction that makes the state change")
    headers = []
    for event in events:
        pairs = event_headers(
            event_id=event.event_id,
            source=event.source,
            type=event.type,
            subject=event.subject,
            time=event.time,
            message_name=event.message.DESCRIPTOR.full_name,
        )
        headers.append(json.dumps([[name, value.decode()] for name, value in pairs]))
    await conn.execute(
        _INSERT,
        [event.topic for event in events],
        [event.key.encode() for event in events],
        [event.message.SerializeToString() for event in events],
        headers,
    )


class OutboxRelay:
    """Publishes a schema's outbox; one active relay per schema across all processes.

    Parameters: `pool` is the service's pool (the leader holds one connection of
    it for its advisory lock and LISTEN); `schema` the schema whose outbox to
    publish; `batch_size` rows per produce batch; `retention` how long sent rows
    are kept; `max_backoff` the longest wait between retries while the broker or
    Postgres is down; `poll_interval` the safety-net poll when no NOTIFY arrives;
    `lock_retry` how often a follower tries to become leader.
    """

    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        schema: str,
        producer: EventProducer,
        kafka: KafkaConfig,
        *,
        batch_size: int = 500,
        retention: timedelta = timedelta(hours=24),
        max_backoff: float = 5.0,
        poll_interval: float = 1.0,
        lock_retry: float = 1.0,
        cleanup_interval: float = 60.0,
    ) -> None:
        self._pool = pool
        self._schema = schema
        self._producer = producer
        self._kafka = kafka
        self._batch_size = batch_size
        self._retention = retention
        self._max_backoff = max_backoff
        self._poll_interval = poll_interval
        self._lock_retry = lock_retry
        self._cleanup_interval = cleanup_interval
        self._leading = False
        self._broker_down_since: float | None = None

    @property
    def leading(self) -> bool:
        """True while this relay holds the schema's relay lock."""
        return self._leading

    async def run(self) -> None:
        """Leads or waits to lead until cancelled; Postgres outages are retried with backoff."""
        delay = _INITIAL_BACKOFF
        db_down_since: float | None = None
        while True:
            try:
                async with self._pool.acquire() as conn:
                    if db_down_since is not None:
                        log.info(
                            "outbox relay %s: Postgres reachable again after %.1f s",
                            self._schema,
                            time.monotonic() - db_down_since,
                        )
                        db_down_since = None
                    delay = _INITIAL_BACKOFF
                    locked = await conn.fetchval(
                        "SELECT pg_try_advisory_lock($1, hashtext($2))", _LOCK_CLASS, self._schema
                    )
                    if locked:
                        await self._lead(conn)
                await asyncio.sleep(self._lock_retry)
                continue
            except _DB_ERRORS as exc:
                if db_down_since is None:
                    db_down_since = time.monotonic()
                    log.warning(
                        "outbox relay %s: Postgres unavailable (%s); retrying", self._schema, exc
                    )
            except Exception:  # a stopped relay silently stops every event: retry instead
                log.exception("outbox relay %s: unexpected error; retrying", self._schema)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _lead(self, conn: Connection) -> None:
        """Publishes on every NOTIFY (and every `poll_interval`) while `conn` holds the lock."""
        wake = asyncio.Event()
        closed = False

        def on_notify(*_: object) -> None:
            wake.set()

        def on_close(_: object) -> None:
            nonlocal closed
            closed = True
            wake.set()

        channel = f"{self._schema}_outbox"
        await conn.add_listener(channel, on_notify)
        conn.add_termination_listener(on_close)
        self._leading = True
        log.info("outbox relay %s: leading", self._schema)
        next_cleanup = 0.0
        try:
            while not closed:
                wake.clear()
                await self._drain(conn)
                if time.monotonic() >= next_cleanup:
                    await self._delete_sent(conn)
                    next_cleanup = time.monotonic() + self._cleanup_interval
                try:
                    async with asyncio.timeout(self._poll_interval):
                        await wake.wait()
                except TimeoutError:
                    pass
            log.warning(
                "outbox relay %s: lost its Postgres connection and with it the lead", self._schema
            )
        finally:
            self._leading = False
            # A dead pooled connection is detached from its proxy, whose every
            # method then raises; its listeners died with it.
            with contextlib.suppress(asyncpg.InterfaceError):
                conn.remove_termination_listener(on_close)
            if not closed:
                await _unlisten(conn, channel, on_notify)

    async def _drain(self, conn: Connection) -> None:
        """Publishes until the backlog is empty, waiting out broker failures with backoff."""
        delay = _INITIAL_BACKOFF
        while True:
            _, error = await self._publish(conn)
            if error is None:
                if self._broker_down_since is not None:
                    log.info(
                        "outbox relay %s: publishing again after %.1f s",
                        self._schema,
                        time.monotonic() - self._broker_down_since,
                    )
                    self._broker_down_since = None
                return
            if self._broker_down_since is None:
                self._broker_down_since = time.monotonic()
                log.warning(
                    "outbox relay %s: cannot publish (%s); retrying with backoff",
                    self._schema,
                    error,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def publish_pending(self) -> int:
        """One pass over the backlog; returns how many rows were published.

        Raises the first record's delivery error after marking the records
        before it (creating missing topics first, so a retry can succeed).
        """
        async with self._pool.acquire() as conn:
            published, error = await self._publish(conn)
        if error is not None:
            raise error
        return published

    async def _publish(self, conn: Connection) -> tuple[int, BaseException | None]:
        """Publishes batches until none is left or a record fails; (published, first error)."""
        published = 0
        while True:
            rows = await conn.fetch(_SELECT_UNSENT, self._batch_size)
            if not rows:
                return published, None
            records = [
                Record(
                    topic=row["topic"],
                    key=row["key"],
                    value=row["value"],
                    headers=[(name, value.encode()) for name, value in json.loads(row["headers"])],
                )
                for row in rows
            ]
            log.debug(
                "outbox relay %s: sending %d records from id %d",
                self._schema,
                len(rows),
                rows[0]["id"],
            )
            outcomes = await self._producer.send(records)
            failed = [i for i, outcome in enumerate(outcomes) if outcome is not None]
            acked = failed[0] if failed else len(rows)
            if acked:
                await conn.execute(
                    "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])",
                    [row["id"] for row in rows[:acked]],
                )
                published += acked
            if acked < len(rows):
                error = outcomes[acked]
                if isinstance(error, DeliveryError) and error.topic_missing:
                    await self._create_topics({record.topic for record in records[acked:]})
                return published, error
            if len(rows) < self._batch_size:
                return published, None

    async def _create_topics(self, topics: set[str]) -> None:
        """Recreates topics an in-memory broker lost on restart (best effort; retried later)."""
        try:
            await asyncio.to_thread(ensure_topics, self._kafka, topics)
        except Exception as exc:  # the publish retry loop reports the outage
            log.debug("outbox relay %s: cannot create topics %s: %s", self._schema, topics, exc)

    async def _delete_sent(self, conn: Connection) -> None:
        status = await conn.execute(
            "DELETE FROM outbox WHERE sent_at < now() - $1::interval", self._retention
        )
        log.debug("outbox relay %s: cleanup %s", self._schema, status)


async def _unlisten(conn: Connection, channel: str, callback: Any) -> None:
    """Removes the listener before the pool gets the connection back, or drops the connection.

    A connection in doubt (broken, or its UNLISTEN cancelled) is terminated
    rather than returned with a live listener; the pool opens a fresh one.
    """
    try:
        async with asyncio.timeout(2.0):
            await conn.remove_listener(channel, callback)
    except BaseException as exc:
        with contextlib.suppress(asyncpg.InterfaceError):  # already detached: nothing to drop
            conn.terminate()
        if not isinstance(exc, _DB_ERRORS):  # leadership is over anyway; cancellation is not
            raise
