"""The notifications a user sees: listing (keyset pages), marking read, snoozing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

import asyncpg

from svc_notify import schedule
from todo_contracts.notify.v1 import notification_service_pb2 as pb
from todo_runtime import metrics
from todo_runtime.db import Connection
from todo_runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from todo_runtime.page_tokens import Page, PageTokens
from todo_runtime.timestamps import timestamp

SNOOZE_MAX_MINUTES: Final = 10_080
_COLUMNS: Final = """
    n.id, n.task_id, n.reminder_id, n.title, n.due_at, n.scheduled_at, n.fired_at, n.read_at,
    (SELECT r.fire_at FROM reminders r
     WHERE r.task_id = n.task_id AND r.reminder_id = 'snooze:' || n.id AND r.state = 'scheduled'
     LIMIT 1) AS snooze_until"""


def to_pb(row: Mapping[str, Any]) -> pb.Notification:
    message = pb.Notification(
        id=str(row["id"]),
        task_id=str(row["task_id"]),
        title=row["title"],
        reminder_id="snooze"
        if row["reminder_id"].startswith(schedule.SNOOZE_PREFIX)
        else row["reminder_id"],
        scheduled_time=timestamp(row["scheduled_at"]),
        fire_time=timestamp(row["fired_at"]),
    )
    if row["due_at"] is not None:
        message.due_time.CopyFrom(timestamp(row["due_at"]))
    if row["read_at"] is not None:
        message.read_time.CopyFrom(timestamp(row["read_at"]))
    if row["snooze_until"] is not None:
        message.snooze_until_time.CopyFrom(timestamp(row["snooze_until"]))
    return message


class NotificationStore:
    """Queries over the service's pool; every one scoped to an owner."""

    def __init__(self, pool: asyncpg.Pool[Any], tokens: PageTokens) -> None:
        self._pool = pool
        self._tokens = tokens

    def _scope(self, owner_id: str, unread_only: bool) -> str:
        return f"{owner_id}\x00{int(unread_only)}"

    async def page(
        self, owner_id: str, *, unread_only: bool, size: int, token: str, count: bool
    ) -> Page[pb.Notification]:
        """Newest first; `token` a cursor of this owner's list with the same `unread_only`."""
        clauses = ["n.owner_id = $1"]
        params: list[Any] = [owner_id]
        if unread_only:
            clauses.append("n.read_at IS NULL")
        count_sql = f"SELECT count(*) FROM notifications n WHERE {' AND '.join(clauses)}"  # noqa: S608 - fixed clauses
        if token:
            payload = self._tokens.decode(self._scope(owner_id, unread_only), token)
            params += [payload.instant("t"), payload.identifier("id")]
            clauses.append(f"(n.fired_at, n.id) < (${len(params) - 1}, ${len(params)})")
        params.append(size + 1)
        sql = (
            f"SELECT {_COLUMNS} FROM notifications n WHERE {' AND '.join(clauses)}"  # noqa: S608
            f" ORDER BY n.fired_at DESC, n.id DESC LIMIT ${len(params)}"
        )
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql, *params)
            total = int(await conn.fetchval(count_sql, owner_id)) if count else 0
        more = len(rows) > size
        rows = rows[:size]
        scope = self._scope(owner_id, unread_only)
        cursors = [
            self._tokens.encode(scope, {"t": row["fired_at"].isoformat(), "id": str(row["id"])})
            for row in rows
        ]
        return Page([to_pb(row) for row in rows], cursors, more, total)

    async def get(self, owner_id: str, notification: uuid.UUID) -> pb.Notification:
        async with self._pool.acquire() as conn:
            return await self._get(conn, owner_id, notification)

    async def mark_read(self, owner_id: str, notification: uuid.UUID) -> pb.Notification:
        async with self._pool.acquire() as conn:
            await conn.execute(
                """UPDATE notifications SET read_at = coalesce(read_at, now())
                   WHERE owner_id = $1 AND id = $2""",
                owner_id,
                notification,
            )
            return await self._get(conn, owner_id, notification)

    async def snooze(self, owner_id: str, notification: uuid.UUID, minutes: int) -> pb.Notification:
        """Schedules the notification's task to remind again in `minutes` (once; again = moved)."""
        if not 1 <= minutes <= SNOOZE_MAX_MINUTES:
            raise InvalidArgument("minutes", f"must be 1..{SNOOZE_MAX_MINUTES}")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """SELECT n.task_id, s.open FROM notifications n
                   LEFT JOIN task_states s USING (task_id)
                   WHERE n.owner_id = $1 AND n.id = $2""",
                owner_id,
                notification,
            )
            if row is None:
                raise NotFound(
                    f"notification {notification} not found", reason="NOTIFICATION_NOT_FOUND"
                )
            if not row["open"]:
                raise FailedPrecondition(
                    "the task is completed or deleted: nothing to snooze", reason="TASK_DONE"
                )
            reminder_id = schedule.snooze_reminder_id(str(notification))
            await conn.execute(
                "DELETE FROM reminders WHERE task_id = $1 AND reminder_id = $2 AND state = 'scheduled'",
                row["task_id"],
                reminder_id,
            )
            await conn.execute(
                """INSERT INTO reminders (owner_id, task_id, reminder_id, fire_at)
                   VALUES ($1, $2, $3, clock_timestamp() + $4::interval)""",
                owner_id,
                row["task_id"],
                reminder_id,
                timedelta(minutes=minutes),
            )
            snoozed = await self._get(conn, owner_id, notification)
        metrics.REMINDERS_SCHEDULED.inc()  # committed
        return snoozed

    async def _get(
        self,
        conn: Connection,
        owner_id: str,
        notification: uuid.UUID,
    ) -> pb.Notification:
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM notifications n WHERE n.owner_id = $1 AND n.id = $2",  # noqa: S608
            owner_id,
            notification,
        )
        if row is None:
            raise NotFound(
                f"notification {notification} not found", reason="NOTIFICATION_NOT_FOUND"
            )
        return to_pb(row)
