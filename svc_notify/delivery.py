"""Sends webhook deliveries from the database: at least once, never twice at the same time.

The worker sleeps until the next pending delivery is due and is woken early
by NOTIFY (a delivery written, rescheduled or redelivered, an endpoint
enabled); it has no polling interval. It claims due deliveries of enabled
endpoints with `FOR UPDATE SKIP LOCKED` and leases them in the same
statement (attempt number + 1, due again after the attempt's timeout and a
margin), which commits before anything is sent: another replica skips a
leased delivery, and one whose worker died comes due again when the lease
runs out. The POST happens outside any transaction; a second transaction
logs the attempt and sets the next state (pending with the next retry time,
succeeded or failed) unless the delivery has moved on meanwhile. Receivers
deduplicate by `webhook-id`, which every attempt of a delivery shares.

Each recorded attempt counts once, after its commit, in `todo_webhook_deliveries`
by what it led to: `delivered`; `gave_up` (the schedule ran out); `endpoint_gone`
(HTTP 410: the endpoint is disabled); `refused` (the target check refused the
address) and `retry_scheduled` (any other failure), both tried again; or
`superseded` (its lease ran out or its endpoint was deleted meanwhile, so the
delivery moved on without it).

With tracing on, each attempt is a `webhook delivery` span (delivery id, endpoint, webhook-id
and attempt number as attributes) in the trace of the event that scheduled the reminder (the
delivery keeps its context); it encloses the POST (`sender`) and the attempt's record.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg
from opentelemetry.trace import StatusCode

from svc_notify import retries
from svc_notify.sender import Outcome, Sender
from svc_notify.webhook_settings import WebhookSettings
from todo_runtime import metrics, tracing
from todo_runtime.backoff import Backoff
from todo_runtime.due_work import run_due_work
from todo_runtime.failures import describe, is_transient

log = logging.getLogger(__name__)

LEASE_MARGIN: Final = timedelta(seconds=30)
SUPERSEDED: Final = "superseded"
_CLAIM: Final = """
WITH due AS (
    SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.state = 'pending' AND d.next_attempt_at <= clock_timestamp() AND e.enabled
    ORDER BY d.next_attempt_at
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1,
    next_attempt_at = clock_timestamp() + $2::interval,
    lease_expires_at = clock_timestamp() + $2::interval
FROM due, webhook_endpoints e
WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, d.message_id, d.payload, d.attempts AS attempt,
          d.attempts - d.retry_base AS attempts_in_round, e.url, e.secret, d.trace_context"""
_NEXT: Final = """
SELECT extract(epoch FROM d.next_attempt_at - clock_timestamp())
FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
WHERE d.state = 'pending' AND e.enabled
ORDER BY d.next_attempt_at
LIMIT 1"""


@dataclass(frozen=True)
class Claimed:
    """A leased delivery: what to send, where, and which attempt this is."""

    id: uuid.UUID
    endpoint_id: uuid.UUID
    message_id: str
    payload: Any
    attempt: int
    attempts_in_round: int
    url: str
    secret: str
    trace_context: dict[str, str] | None  # of the event that scheduled the reminder


class DeliveryWorker:
    """Delivers the webhooks of one schema; run one per replica (`run()`)."""

    def __init__(self, pool: asyncpg.Pool[Any], schema: str, settings: WebhookSettings) -> None:
        self._pool = pool
        self._channel = f"{schema}_deliveries"
        self._settings = settings
        self._lease = timedelta(seconds=settings.timeout) + LEASE_MARGIN
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Delivers until cancelled."""
        try:
            async with Sender(self._settings) as sender:
                await run_due_work(
                    self._pool,
                    self._channel,
                    lambda: self._work(sender),
                    name="webhooks",
                    wake=self._wake,
                )
        finally:
            for task in self._inflight:
                task.cancel()
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _work(self, sender: Sender) -> float | None:
        """Starts attempts for free slots; returns seconds until the next one is due."""
        free = self._settings.concurrency - len(self._inflight)
        if free <= 0:
            return None  # every slot busy: an attempt ending wakes us
        claimed = await self._claim(free)
        for delivery in claimed:
            self._start(self._attempt(sender, delivery))
        if len(claimed) == free:
            return None  # more may be due: claim again once a slot frees
        delay = await self._pool.fetchval(_NEXT)
        return None if delay is None else float(delay)

    def _start(self, attempt: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(attempt)
        self._inflight.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._inflight.discard(finished)
            self._wake.set()  # a slot is free

        task.add_done_callback(done)

    async def _claim(self, limit: int) -> list[Claimed]:
        """Leases up to `limit` due deliveries (committed before any is sent)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_CLAIM, limit, self._lease)
        return [Claimed(**dict(row)) for row in rows]

    async def _attempt(self, sender: Sender, delivery: Claimed) -> None:
        with tracing.continuing(
            delivery.trace_context,
            "webhook delivery",
            {
                "todo.webhook.delivery_id": str(delivery.id),
                "todo.webhook.endpoint_id": str(delivery.endpoint_id),
                "todo.webhook.message_id": delivery.message_id,
                "todo.webhook.attempt": delivery.attempt,
            },
        ) as span:
            attempted_at = datetime.now(UTC)
            try:
                outcome = await sender.send(
                    delivery.url, delivery.secret, delivery.message_id, delivery.payload
                )
            except Exception as error:  # a bug, not the target: still an attempt, so retries end
                log.exception("webhooks: attempt of delivery %s crashed", delivery.id)
                outcome = Outcome(0, f"internal error: {describe(error)}", 0)
            if not outcome.delivered:
                span.set_status(StatusCode.ERROR, outcome.error)
            await self._keep(delivery, attempted_at, outcome)

    async def _keep(self, delivery: Claimed, attempted_at: datetime, outcome: Outcome) -> None:
        """Records the attempt, through a database outage (the run loop logs it)."""
        backoff = Backoff(0.2, 5.0)
        while True:
            try:
                counted = await self._record(delivery, attempted_at, outcome)
                metrics.WEBHOOK_DELIVERIES.labels(counted).inc()  # committed
                return
            except Exception as error:
                if not is_transient(error):
                    log.exception("webhooks: cannot record attempt of delivery %s", delivery.id)
                    return  # the lease runs out and the delivery is attempted again
                await backoff.wait()

    async def _record(self, delivery: Claimed, attempted_at: datetime, outcome: Outcome) -> str:
        """Logs the attempt and moves the delivery on, unless it moved on without us; returns
        what the attempt led to (see the module's docstring)."""
        state, delay = "succeeded", timedelta(0)
        if not outcome.delivered:
            seconds = retries.next_delay(
                delivery.attempts_in_round,
                scale=self._settings.retry_scale,
                retry_after=outcome.retry_after,
            )
            state = "failed" if seconds is None else "pending"
            delay = timedelta(seconds=seconds or 0)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """SELECT attempts, state, lease_expires_at IS NOT NULL AS leased
                   FROM webhook_deliveries WHERE id = $1 FOR UPDATE""",
                delivery.id,
            )
            if row is None:
                return SUPERSEDED  # its endpoint was deleted meanwhile
            led_to = _led_to(outcome, state)
            if row["attempts"] != delivery.attempt or not row["leased"]:
                state = row["state"]  # our lease ran out: re-claimed or redelivered since
                led_to = SUPERSEDED
            else:
                await conn.execute(
                    """UPDATE webhook_deliveries
                       SET state = $2, last_error = $3, lease_expires_at = NULL,
                           next_attempt_at = CASE WHEN $2 = 'pending'
                               THEN clock_timestamp() + $4::interval ELSE next_attempt_at END
                       WHERE id = $1""",
                    delivery.id,
                    state,
                    outcome.error,
                    delay,
                )
                if outcome.gone:
                    await conn.execute(
                        """UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2
                           WHERE id = $1 AND enabled""",
                        delivery.endpoint_id,
                        f"HTTP 410 Gone answered at {attempted_at.isoformat(timespec='seconds')}",
                    )
            await conn.execute(
                """INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, status_code,
                                                 error, attempted_at, latency_ms, state)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                delivery.id,
                delivery.endpoint_id,
                delivery.attempt,
                outcome.status_code,
                outcome.error,
                attempted_at,
                outcome.latency_ms,
                state,
            )
        if not outcome.delivered:
            log.info(
                "webhooks: delivery %s attempt %d failed (%s); now %s",
                delivery.id,
                delivery.attempt,
                outcome.error,
                state,
            )
        return led_to


def _led_to(outcome: Outcome, state: str) -> str:
    """What an applied attempt led to: the final outcomes first, then why it is retried."""
    if outcome.delivered:
        return "delivered"
    if state == "failed":
        return "gave_up"
    if outcome.gone:
        return "endpoint_gone"
    return "refused" if outcome.refused else "retry_scheduled"
