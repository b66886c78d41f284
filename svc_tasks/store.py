"""Task persistence, SQL only. Every change writes the task row, a change-log entry with
the user's next sequence number and the outbox events in ONE transaction, so
the database and the event stream can never disagree. Whether a change is
allowed and what it is, the domain decides (`svc_tasks.domain`); the store
writes what it is given.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

import asyncpg

from svc_tasks import listing
from svc_tasks.domain.lifecycle import Change, NewTask
from svc_tasks.events import change_events
from svc_tasks.messages import columns, state_from_row, task_from_row
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2
from todo_runtime.errors import NotFound
from todo_runtime.outbox import enqueue
from todo_runtime.timestamps import timestamp

Row = Mapping[str, Any]
Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"

_NEXT_SEQUENCE = """
INSERT INTO user_sequences (owner_id, last_sequence) VALUES ($1, 1)
ON CONFLICT (owner_id) DO UPDATE SET last_sequence = user_sequences.last_sequence + 1
RETURNING last_sequence"""


@dataclass(frozen=True)
class Page:
    """A page of tasks in order, the position of each, and whether matching tasks lie beyond it."""

    tasks: list[task_pb2.Task]
    positions: list[listing.Position]
    has_next: bool
    has_previous: bool
    total: int
    latest_sequence: int = 0


def _not_found(task_id: uuid.UUID) -> NotFound:
    return NotFound(f"task {task_id} not found", reason="TASK_NOT_FOUND")


class TaskStore:
    """Queries of one service instance over its pool."""

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def create(self, owner_id: str, new: NewTask, actor: str) -> task_pb2.Task | None:
        """Inserts `new`. A create that repeats an earlier one's request id or series occurrence
        inserts nothing and finds the task that one made instead: None when it was deleted."""
        now = datetime.now(UTC)
        values = {
            **columns(new.task),
            "owner_id": owner_id,
            "request_id": new.request_id,
            "created_at": now,
            "updated_at": now,
        }
        placeholders = ", ".join(f"${index}" for index in range(1, len(values) + 1))
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"INSERT INTO tasks ({', '.join(values)}) VALUES ({placeholders}) "  # noqa: S608 - column names come from code
                "ON CONFLICT DO NOTHING RETURNING *",
                *values.values(),
            )
            if row is None:
                earlier = await conn.fetchrow(
                    """SELECT * FROM tasks WHERE owner_id = $1
                       AND ((request_id = $2) OR (series_id = $3 AND series_index = $4))""",
                    owner_id,
                    new.request_id,
                    new.task.series_id,
                    new.task.series_index,
                )
                return None if earlier is None else task_from_row(earlier)
            return await _record(conn, new.kind, row, previous=None, actor=actor, now=now)

    async def get(self, owner_id: str, task_id: uuid.UUID) -> task_pb2.Task:
        row = await self._pool.fetchrow(
            "SELECT * FROM tasks WHERE owner_id = $1 AND id = $2", owner_id, task_id
        )
        if row is None:
            raise _not_found(task_id)
        return task_from_row(row)

    async def page(
        self, query: listing.TaskQuery, *, count: bool = True, latest: bool = False
    ) -> Page:
        """One page of the query's window, each task's position, what lies beyond, and the total;
        with `latest`, the owner's change-log sequence as of the page too.

        That sequence is read in the page's own snapshot (one REPEATABLE READ transaction): the
        changes up to it are those the page shows, so replaying the changes after it neither
        skips nor repeats one. Without it the reads need no transaction.
        """
        page_sql, page_params = listing.page_sql(query)
        async with self._pool.acquire() as conn:
            snapshot: contextlib.AbstractAsyncContextManager[object] = (
                conn.transaction(isolation="repeatable_read", readonly=True)
                if latest
                else contextlib.nullcontext()
            )
            async with snapshot:
                rows = list(await conn.fetch(page_sql, *page_params))
                more = len(rows) > query.page_size
                rows = rows[: query.page_size]
                beyond = listing.beyond_window_sql(query, before=not query.from_end)
                other_side = bool(await conn.fetchval(beyond[0], *beyond[1])) if beyond else False
                total = 0
                if count:
                    count_sql, count_params = listing.count_sql(query)
                    total = int(await conn.fetchval(count_sql, *count_params))
                sequence = await self._latest_sequence(conn, query.owner_id) if latest else 0
        if query.from_end:
            rows.reverse()
        positions: list[listing.Position] = [
            ([row[f"k{i}"] for i in range(len(query.order))], row["id"]) for row in rows
        ]
        return Page(
            tasks=[task_from_row(row) for row in rows],
            positions=positions,
            has_next=other_side if query.from_end else more,
            has_previous=more if query.from_end else other_side,
            total=total,
            latest_sequence=sequence,
        )

    @contextlib.asynccontextmanager
    async def locked(self, owner_id: str, task_id: uuid.UUID) -> AsyncIterator[LockedTask]:
        """The owner's task, read and locked for a read-modify-write in one transaction: decide
        the change from `.state`, then `.write` it (raising instead writes nothing). NotFound
        when the owner has no such task."""
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM tasks WHERE owner_id = $1 AND id = $2 FOR UPDATE", owner_id, task_id
            )
            if row is None:
                raise _not_found(task_id)
            yield LockedTask(conn, row, now)

    async def delete(self, owner_id: str, task_id: uuid.UUID, actor: str) -> None:
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "DELETE FROM tasks WHERE owner_id = $1 AND id = $2 RETURNING *", owner_id, task_id
            )
            if row is None:
                raise _not_found(task_id)
            await _record(
                conn,
                task_pb2.CHANGE_KIND_DELETED,
                row,
                previous=None,
                actor=actor,
                now=now,
                deleted=True,
            )

    async def list_changes(
        self, owner_id: str, after_sequence: int, limit: int
    ) -> tuple[list[tasks_service_pb2.TaskChange], int]:
        """Up to `limit` changes after `after_sequence` and the latest sequence now."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT sequence, kind, snapshot, changed_at FROM changes
                   WHERE owner_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3""",
                owner_id,
                after_sequence,
                limit,
            )
            latest = await self._latest_sequence(conn, owner_id)
        changes = []
        for row in rows:
            change = tasks_service_pb2.TaskChange(
                sequence=row["sequence"], kind=row["kind"], change_time=timestamp(row["changed_at"])
            )
            change.task.ParseFromString(row["snapshot"])
            changes.append(change)
        return changes, latest

    @staticmethod
    async def _latest_sequence(conn: Connection, owner_id: str) -> int:
        """The owner's last change-log sequence (0 before their first change)."""
        latest = await conn.fetchval(
            "SELECT last_sequence FROM user_sequences WHERE owner_id = $1", owner_id
        )
        return int(latest or 0)


class LockedTask:
    """A task read under its row lock, in the transaction that `write` changes it in."""

    def __init__(self, conn: Connection, row: Row, now: datetime) -> None:
        self._conn = conn
        self._row = row
        self._now = now
        self.state = state_from_row(row)

    async def write(self, change: Change | None, actor: str) -> task_pb2.Task:
        """Writes the columns `change` changes with its change-log entry and events, and returns
        the task as it then is; `None` writes nothing and returns the task as it was."""
        current = task_from_row(self._row)
        if change is None:
            return current
        changed = {
            column: value
            for column, value in columns(change.task).items()
            if self._row[column] != value
        }
        assignments = ", ".join(
            f"{column} = ${index}" for index, column in enumerate(changed, start=3)
        )
        owner_id, task_id = self._row["owner_id"], self._row["id"]
        row = await self._conn.fetchrow(
            f"UPDATE tasks SET {assignments}, updated_at = ${len(changed) + 3} "  # noqa: S608 - column names come from code
            "WHERE owner_id = $1 AND id = $2 RETURNING *",
            owner_id,
            task_id,
            *changed.values(),
            self._now,
        )
        if row is None:  # the row is locked by this transaction: it cannot vanish
            raise RuntimeError(f"task {task_id} disappeared under its row lock")
        return await _record(
            self._conn, change.kind, row, previous=current, actor=actor, now=self._now
        )


async def _record(
    conn: Connection,
    kind: task_pb2.ChangeKind,
    row: Row,
    *,
    previous: task_pb2.Task | None,
    actor: str,
    now: datetime,
    deleted: bool = False,
) -> task_pb2.Task:
    """Appends the change to the owner's log and its events to the outbox."""
    task = task_from_row(row)
    if deleted:
        task.delete_time.CopyFrom(timestamp(now))
        previous = task_from_row(row)
    sequence = await conn.fetchval(_NEXT_SEQUENCE, task.owner_id)
    event_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO changes (owner_id, sequence, kind, task_id, event_id, snapshot, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        task.owner_id,
        sequence,
        kind,
        row["id"],
        event_id,
        task.SerializeToString(),
        now,
    )
    await enqueue(
        conn,
        change_events(
            kind=kind,
            event_id=event_id,
            sequence=sequence,
            actor=actor,
            at=now,
            task=task,
            previous=previous,
        ),
    )
    return task
