"""A user's webhook endpoints and their delivery log: what the webhook RPCs do.

Every query is scoped to the owner, so another user's id reads as not found.
The signing secret is generated here (32 random bytes, `whsec_<base64>` as
Standard Webhooks writes it) and returned once, by `create`.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import asyncpg

from svc_notify import targets
from svc_notify.webhook_settings import WebhookSettings
from todo_contracts.notify.v1 import notification_service_pb2 as pb
from todo_runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from todo_runtime.page_tokens import Page, PageTokens
from todo_runtime.timestamps import timestamp
from todo_runtime.validation import text

Row = TypeVar("Row")
URL_FIELD: Final = "webhook.url"
MAX_ENDPOINTS: Final = 20  # per user: each one multiplies every reminder's deliveries
SECRET_BYTES: Final = 32
_STATES: Final = {
    "pending": pb.DELIVERY_STATE_PENDING,
    "succeeded": pb.DELIVERY_STATE_SUCCEEDED,
    "failed": pb.DELIVERY_STATE_FAILED,
}
_ATTEMPT_COLUMNS: Final = """
    a.id, a.delivery_id, d.message_id, d.event_id, a.attempt, a.status_code, a.error,
    a.attempted_at, a.latency_ms, a.state"""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_pb(row: Mapping[str, Any]) -> pb.Webhook:
    return pb.Webhook(
        id=str(row["id"]),
        url=row["url"],
        create_time=timestamp(row["created_at"]),
        enabled=row["enabled"],
        disabled_reason=row["disabled_reason"],
    )


def attempt_pb(row: Mapping[str, Any]) -> pb.WebhookDelivery:
    return pb.WebhookDelivery(
        id=str(row["id"]),
        delivery_id=str(row["delivery_id"]),
        message_id=row["message_id"],
        event_id=row["event_id"],
        attempt=row["attempt"],
        status_code=row["status_code"],
        error=row["error"],
        attempt_time=timestamp(row["attempted_at"]),
        latency_ms=row["latency_ms"],
        state=_STATES[row["state"]],
    )


class WebhookStore:
    """Endpoints and attempts over the service's pool; `tokens_secret` signs page tokens."""

    def __init__(
        self, pool: asyncpg.Pool[Any], tokens_secret: str, settings: WebhookSettings
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._endpoint_tokens = PageTokens(tokens_secret, "todo.notify.v1.ListWebhooks")
        self._attempt_tokens = PageTokens(tokens_secret, "todo.notify.v1.ListWebhookDeliveries")

    async def create(self, owner_id: str, url: str) -> tuple[pb.Webhook, str]:
        """Registers `url` (checked as a delivery would be); returns the endpoint and its secret."""
        text(url, URL_FIELD, max_length=targets.MAX_URL_LENGTH)
        try:
            async with asyncio.timeout(self._settings.timeout):  # a slow resolver: UNAVAILABLE
                await targets.resolve(
                    targets.parse(url), allow_private=self._settings.allow_private
                )
        except targets.TargetRefused as refused:
            raise InvalidArgument(URL_FIELD, str(refused)) from None
        secret = new_secret()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"webhooks:{owner_id}"
            )
            count = await conn.fetchval(
                "SELECT count(*) FROM webhook_endpoints WHERE owner_id = $1", owner_id
            )
            if count >= MAX_ENDPOINTS:
                raise FailedPrecondition(
                    f"a user has at most {MAX_ENDPOINTS} webhooks: delete one first",
                    reason="TOO_MANY_WEBHOOKS",
                )
            webhook = uuid.uuid4()
            created_at = await conn.fetchval(
                """INSERT INTO webhook_endpoints (id, owner_id, url, secret)
                   VALUES ($1, $2, $3, $4) RETURNING created_at""",
                webhook,
                owner_id,
                url,
                secret,
            )
        created = pb.Webhook(
            id=str(webhook), url=url, create_time=timestamp(created_at), enabled=True
        )
        return created, secret

    async def page(self, owner_id: str, size: int, token: str) -> tuple[list[pb.Webhook], str]:
        """Oldest first; returns the page and the next page's token (empty at the end)."""
        params: list[Any] = [owner_id]
        after = ""
        if token:
            payload = self._endpoint_tokens.decode(owner_id, token)
            params += [payload.instant("t"), payload.identifier("id")]
            after = "AND (created_at, id) > ($2, $3)"
        params.append(size + 1)
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"""SELECT * FROM webhook_endpoints WHERE owner_id = $1 {after}
                    ORDER BY created_at, id LIMIT ${len(params)}""",  # noqa: S608 - fixed clauses
                *params,
            )
        if len(rows) <= size:
            return [webhook_pb(row) for row in rows], ""
        last = rows[size - 1]
        next_token = self._endpoint_tokens.encode(
            owner_id, {"t": last["created_at"].isoformat(), "id": str(last["id"])}
        )
        return [webhook_pb(row) for row in rows[:size]], next_token

    async def get(self, owner_id: str, webhook: uuid.UUID) -> pb.Webhook:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM webhook_endpoints WHERE id = $1 AND owner_id = $2", webhook, owner_id
            )
        return webhook_pb(_found(row, webhook))

    async def set_enabled(self, owner_id: str, webhook: uuid.UUID, enabled: bool) -> pb.Webhook:
        """Enabling clears the reason it was disabled; waiting deliveries then go out."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                """UPDATE webhook_endpoints
                   SET enabled = $3, disabled_reason = CASE WHEN $3 THEN '' ELSE disabled_reason END
                   WHERE id = $1 AND owner_id = $2 RETURNING *""",
                webhook,
                owner_id,
                enabled,
            )
        return webhook_pb(_found(row, webhook))

    async def delete(self, owner_id: str, webhook: uuid.UUID) -> None:
        """Deletes the endpoint with its deliveries and their log."""
        async with self._pool.acquire() as conn:
            deleted = await conn.fetchval(
                "DELETE FROM webhook_endpoints WHERE id = $1 AND owner_id = $2 RETURNING id",
                webhook,
                owner_id,
            )
        if deleted is None:
            raise NotFound(f"webhook {webhook} not found", reason="WEBHOOK_NOT_FOUND")

    async def attempts(
        self, owner_id: str, webhook: uuid.UUID, *, size: int, token: str, count: bool
    ) -> Page[pb.WebhookDelivery]:
        """The endpoint's attempts, newest first, a cursor for each."""
        scope = f"{owner_id}\x00{webhook}"
        params: list[Any] = [webhook]
        after = ""
        if token:
            payload = self._attempt_tokens.decode(scope, token)
            params += [payload.instant("t"), payload.integer("id", minimum=1)]
            after = "AND (a.attempted_at, a.id) < ($2, $3)"
        params.append(size + 1)
        async with self._pool.acquire() as conn:
            owned = await conn.fetchval(
                "SELECT true FROM webhook_endpoints WHERE id = $1 AND owner_id = $2",
                webhook,
                owner_id,
            )
            if owned is None:
                raise NotFound(f"webhook {webhook} not found", reason="WEBHOOK_NOT_FOUND")
            rows = await conn.fetch(
                f"""SELECT {_ATTEMPT_COLUMNS}
                    FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
                    WHERE a.endpoint_id = $1 {after}
                    ORDER BY a.attempted_at DESC, a.id DESC LIMIT ${len(params)}""",  # noqa: S608
                *params,
            )
            total = 0
            if count:
                total = await conn.fetchval(
                    "SELECT count(*) FROM webhook_attempts WHERE endpoint_id = $1", webhook
                )
        more = len(rows) > size
        rows = rows[:size]
        cursors = [
            self._attempt_tokens.encode(
                scope, {"t": row["attempted_at"].isoformat(), "id": row["id"]}
            )
            for row in rows
        ]
        return Page([attempt_pb(row) for row in rows], cursors, more, int(total))

    async def redeliver(self, owner_id: str, delivery: uuid.UUID) -> None:
        """Pending again, due now, with a fresh retry schedule; attempt numbers go on."""
        async with self._pool.acquire() as conn:
            found = await conn.fetchval(
                """UPDATE webhook_deliveries
                   SET state = 'pending', retry_base = attempts, last_error = '',
                       next_attempt_at = clock_timestamp(), lease_expires_at = NULL
                   WHERE id = $1 AND owner_id = $2
                     AND (lease_expires_at IS NULL OR lease_expires_at <= clock_timestamp())
                   RETURNING id""",
                delivery,
                owner_id,
            )
            if found is not None:
                return
            exists = await conn.fetchval(
                "SELECT true FROM webhook_deliveries WHERE id = $1 AND owner_id = $2",
                delivery,
                owner_id,
            )
        if exists is None:
            raise NotFound(f"delivery {delivery} not found", reason="DELIVERY_NOT_FOUND")
        raise FailedPrecondition(
            f"delivery {delivery} is being sent right now: redeliver it once that attempt is listed",
            reason="DELIVERY_IN_FLIGHT",
        )


def _found(row: Row | None, webhook: uuid.UUID) -> Row:
    if row is None:
        raise NotFound(f"webhook {webhook} not found", reason="WEBHOOK_NOT_FOUND")
    return row
