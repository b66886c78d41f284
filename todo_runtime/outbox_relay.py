"""The outbox relay: publishes a schema's outbox rows in order, one relay per schema at a time.

`OutboxRelay` publishes unsent rows (written by `outbox.enqueue`) in id order
and marks a row sent only after the broker acknowledged it: a broker outage
delays events, never loses them. Delivery is at least once (a relay that dies
between the broker's ack and marking the row resends it); consumers
deduplicate by event id (`inbox.claim`). Every replica runs one; a session
advisory lock makes one of them lead, and NOTIFY wakes the leader for every
commit. It also republishes what a broker lost (`topic_epochs`) and reports the
backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import asyncpg

from todo_runtime import metrics
from todo_runtime.backoff import Backoff
from todo_runtime.db import Connection, release_session_lock, unlisten
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.missing_topics import create_missing_topics
from todo_runtime.producer import DeliveryError, EventProducer, Record
from todo_runtime.topic_epochs import TopicEpochError, TopicEpochs

log = logging.getLogger(__name__)

_LOCK_CLASS: Final = 0x70D0_0002  # advisory lock namespace of relays; the other key is the schema
# InternalClientError: asyncpg on a connection the server dropped mid-operation.
_DB_ERRORS: Final = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)

_SELECT_UNSENT: Final = """
    SELECT id, topic, key, value, headers::text AS headers
    FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1"""
_BACKLOG: Final = """
    SELECT count(*) AS rows, extract(epoch FROM clock_timestamp() - min(created_at)) AS age
    FROM outbox WHERE sent_at IS NULL"""


class OutboxRelay:
    """Publishes a schema's outbox; one active relay per schema across all processes.

    Parameters: `pool` is the service's pool (the leader holds one connection of
    it for its advisory lock and LISTEN); `schema` the schema whose outbox to
    publish; `topics` the topics the service produces to, watched for a broker
    that lost them (see `topic_epochs`); `batch_size` rows per produce batch;
    `backoff` the waits between retries while the broker or Postgres is down;
    `idle_check` how often an idle leader looks for rows nobody announced and
    for recreated topics (NOTIFY wakes it for every commit, so this is a
    safety net, not a poll loop); `measure_every` how often the leader measures
    the backlog for `todo_outbox_backlog` (replicas not leading report 0).
    """

    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        schema: str,
        producer: EventProducer,
        kafka: KafkaConfig,
        *,
        topics: Sequence[str] = (),
        batch_size: int = 500,
        backoff: Callable[[], Backoff] = lambda: Backoff(0.1, 5.0),
        idle_check: float = 30.0,
        measure_every: float = 5.0,
    ) -> None:
        self._pool = pool
        self._schema = schema
        self._producer = producer
        self._kafka = kafka
        self._epochs = TopicEpochs(kafka, topics)
        self._batch_size = batch_size
        self._backoff = backoff
        self._idle_check = idle_check
        self._leading = False
        self._broker_down_since: float | None = None
        self._epoch_due = True
        self._seen_disconnects = producer.disconnects
        self._measure_every = measure_every
        for gauge in (metrics.OUTBOX_BACKLOG, metrics.OUTBOX_AGE, metrics.OUTBOX_LEADING):
            gauge.labels(schema)  # 0 (reported as such) until this relay leads

    @property
    def leading(self) -> bool:
        """True while this relay holds the schema's relay lock."""
        return self._leading

    async def run(self) -> None:
        """Leads, or waits for the lead, until cancelled; Postgres outages are retried with backoff.

        A follower blocks on the advisory lock, so it takes over the moment the
        leader's session ends, without polling.
        """
        backoff = self._backoff()
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
                    backoff.reset()
                    await conn.execute(
                        "SELECT pg_advisory_lock($1, hashtext($2))", _LOCK_CLASS, self._schema
                    )
                    try:
                        await self._lead(conn)
                    finally:
                        await _unlock(conn, self._schema)
                continue
            except _DB_ERRORS as exc:
                if db_down_since is None:
                    db_down_since = time.monotonic()
                    log.warning(
                        "outbox relay %s: Postgres unavailable (%s); retrying", self._schema, exc
                    )
            except Exception:  # a stopped relay silently stops every event: retry instead
                log.exception("outbox relay %s: unexpected error; retrying", self._schema)
            await backoff.wait()

    async def _lead(self, conn: Connection) -> None:
        """Publishes on every NOTIFY (and every `idle_check`) while `conn` holds the lock."""
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
        metrics.OUTBOX_LEADING.labels(self._schema).set(1)
        measuring = asyncio.create_task(self._measure(), name=f"outbox backlog {self._schema}")
        self._epoch_due = True
        log.info("outbox relay %s: leading", self._schema)
        try:
            while not closed:
                wake.clear()
                await self._drain(conn)
                try:
                    async with asyncio.timeout(self._idle_check):
                        await wake.wait()
                except TimeoutError:
                    self._epoch_due = True
            log.warning(
                "outbox relay %s: lost its Postgres connection and with it the lead", self._schema
            )
        finally:
            self._leading = False
            measuring.cancel()
            metrics.OUTBOX_LEADING.labels(self._schema).set(0)
            self._report_backlog(0, 0.0)  # the next leader reports it
            # A dead pooled connection is detached from its proxy, whose every
            # method then raises; its listeners died with it.
            with contextlib.suppress(asyncpg.InterfaceError):
                conn.remove_termination_listener(on_close)
            await unlisten(conn, channel, on_notify)

    async def _drain(self, conn: Connection) -> None:
        """Publishes until the backlog is empty, waiting out broker failures with backoff."""
        backoff = self._backoff()
        while True:
            if self._epoch_due or self._producer.disconnects != self._seen_disconnects:
                await self._check_epochs(conn)
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
            self._epoch_due = True
            if self._broker_down_since is None:
                self._broker_down_since = time.monotonic()
                log.warning(
                    "outbox relay %s: cannot publish (%s); retrying with backoff",
                    self._schema,
                    error,
                )
            await backoff.wait()

    async def _measure(self) -> None:
        """Measures the backlog while leading, on a connection of its own (the lead's is busy
        publishing): off the publish path, and current also while a big backlog drains."""
        while True:
            try:
                backlog = await self._pool.fetchrow(_BACKLOG)
            except _DB_ERRORS as exc:  # the lead's connection notices the outage and reports it
                log.debug("outbox relay %s: cannot measure the backlog: %s", self._schema, exc)
            else:
                if backlog is not None:
                    self._report_backlog(backlog["rows"], float(backlog["age"] or 0.0))
            await asyncio.sleep(self._measure_every)

    def _report_backlog(self, rows: int, age: float) -> None:
        metrics.OUTBOX_BACKLOG.labels(self._schema).set(rows)
        metrics.OUTBOX_AGE.labels(self._schema).set(age)

    async def _check_epochs(self, conn: Connection) -> None:
        """Queues every retained row of a topic the broker lost (it was created anew) again."""
        self._seen_disconnects = self._producer.disconnects
        try:
            ids = await self._epochs.current()
        except TopicEpochError as error:  # broker unreachable: the publish retry reports it
            log.debug("outbox relay %s: cannot check topics: %s", self._schema, error)
            return
        async with conn.transaction():
            lost = await self._epochs.record(conn, ids)
            requeued = "UPDATE 0"
            if lost:
                requeued = await conn.execute(
                    "UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL AND topic = ANY($1::text[])",
                    sorted(lost),
                )
        self._epoch_due = False
        if lost:
            log.warning(
                "outbox relay %s: the broker lost %s (created anew); republishing %s retained events",
                self._schema,
                ", ".join(sorted(lost)),
                requeued.split()[-1],
            )

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
                    missing = {record.topic for record in records[acked:]}
                    await create_missing_topics(
                        self._kafka, missing, f"outbox relay {self._schema}"
                    )
                return published, error
            if len(rows) < self._batch_size:
                return published, None


async def _unlock(conn: Connection, schema: str) -> None:
    """Releases the relay lock of a connection going back to the pool (a dead one holds nothing)."""
    await release_session_lock(
        conn, "SELECT pg_advisory_unlock($1, hashtext($2))", _LOCK_CLASS, schema
    )
