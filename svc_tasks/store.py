"""Task persistence. Every change writes the task row, a change-log entry with
the user's next sequence number and the outbox events in ONE transaction, so
the database and the event stream can never disagree.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

import asyncpg

from svc_tasks import listing
from svc_tasks.domain import COMPLETED, OPEN, NewTask
from svc_tasks.events import change_events
from svc_tasks.messages import reminders_to_json, task_from_row
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2
from todo_runtime.errors import Conflict, NotFound
from todo_runtime.outbox import enqueue
from todo_runtime.timestamps import timestamp

Row = Mapping[str, Any]
Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"
Changes = dict[str, Any]

_INSERT = """
INSERT INTO tasks (id, owner_id, title, description, status, priority, tags, due_at, time_zone,
                   recurrence_rule, recurrence_text, recurrence_basis, reminders, series_id, series_index,
                   version, created_at, updated_at, request_id, recurrence_final)
VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15, $16, $17)
ON CONFLICT DO NOTHING
RETURNING *"""

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


def _not_found(task_id: uuid.UUID) -> NotFound:
    return NotFound(f"task {task_id} not found")


class TaskStore:
    """Queries of one service instance over its pool."""

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def create(self, owner_id: str, new: NewTask, actor: str) -> task_pb2.Task:
        """Inserts a task; a retry with the same request id or series occurrence returns the first one."""
        now = datetime.now(UTC)
        recurrence = new.recurrence
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                _INSERT,
                uuid.uuid4(),
                owner_id,
                new.title,
                new.description,
                new.priority,
                new.tags,
                new.due_at,
                new.time_zone,
                recurrence.rule if recurrence else None,
                recurrence.text if recurrence else None,
                recurrence.basis if recurrence else None,
                reminders_to_json(new.reminders),
                new.series_id,
                new.series_index,
                now,
                new.request_id,
                recurrence.final if recurrence else False,
            )
            if row is None:
                existing = await conn.fetchrow(
                    """SELECT * FROM tasks WHERE owner_id = $1
                       AND ((request_id = $2) OR (series_id = $3 AND series_index = $4))""",
                    owner_id,
                    new.request_id,
                    new.series_id,
                    new.series_index,
                )
                if existing is None:  # the first create was deleted since: create again is wrong
                    raise Conflict(
                        "a task with this request_id or series occurrence existed and was deleted"
                    )
                return task_from_row(existing)
            return await _record(
                conn, task_pb2.CHANGE_KIND_CREATED, row, previous=None, actor=actor, now=now
            )

    async def get(self, owner_id: str, task_id: uuid.UUID) -> task_pb2.Task:
        row = await self._pool.fetchrow(
            "SELECT * FROM tasks WHERE owner_id = $1 AND id = $2", owner_id, task_id
        )
        if row is None:
            raise _not_found(task_id)
        return task_from_row(row)

    async def page(self, query: listing.TaskQuery, *, count: bool = True) -> Page:
        """One page of the query's window, each task's position, what lies beyond, and the total."""
        page_sql, page_params = listing.page_sql(query)
        async with self._pool.acquire() as conn:
            rows = list(await conn.fetch(page_sql, *page_params))
            more = len(rows) > query.page_size
            rows = rows[: query.page_size]
            beyond = listing.beyond_window_sql(query, before=not query.from_end)
            other_side = bool(await conn.fetchval(beyond[0], *beyond[1])) if beyond else False
            total = 0
            if count:
                count_sql, count_params = listing.count_sql(query)
                total = int(await conn.fetchval(count_sql, *count_params))
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
        )

    async def update(
        self,
        owner_id: str,
        task_id: uuid.UUID,
        *,
        expected_version: int | None,
        compute: Callable[[Row], Awaitable[Changes]],
        actor: str,
        kind: task_pb2.ChangeKind = task_pb2.CHANGE_KIND_UPDATED,
    ) -> task_pb2.Task:
        """Applies `compute(current row)` (column → new value); unchanged values write nothing."""
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            current = await conn.fetchrow(
                "SELECT * FROM tasks WHERE owner_id = $1 AND id = $2 FOR UPDATE", owner_id, task_id
            )
            if current is None:
                raise _not_found(task_id)
            if expected_version is not None and current["version"] != expected_version:
                raise Conflict(
                    f"task {task_id} is at version {current['version']}, not {expected_version}; re-read and retry"
                )
            changes = {
                column: value
                for column, value in (await compute(current)).items()
                if current[column] != value
            }
            if not changes:
                return task_from_row(current)
            assignments = ", ".join(
                f"{column} = ${index}" for index, column in enumerate(changes, start=3)
            )
            row = await conn.fetchrow(
                f"UPDATE tasks SET {assignments}, version = version + 1, updated_at = ${len(changes) + 3} "  # noqa: S608 - column names come from code
                "WHERE owner_id = $1 AND id = $2 RETURNING *",
                owner_id,
                task_id,
                *changes.values(),
                now,
            )
            if row is None:  # the row is locked by this transaction: it cannot vanish
                raise RuntimeError(f"task {task_id} disappeared under its row lock")
            return await _record(
                conn, kind, row, previous=task_from_row(current), actor=actor, now=now
            )

    async def set_completed(
        self, owner_id: str, task_id: uuid.UUID, completed: bool, actor: str
    ) -> task_pb2.Task:
        """Completes or reopens; doing it twice changes nothing and emits nothing."""
        now = datetime.now(UTC)
        target = COMPLETED if completed else OPEN

        async def compute(row: Row) -> Changes:
            if row["status"] == target:
                return {}
            return {"status": target, "completed_at": now if completed else None}

        kind = task_pb2.CHANGE_KIND_COMPLETED if completed else task_pb2.CHANGE_KIND_REOPENED
        return await self.update(
            owner_id, task_id, expected_version=None, compute=compute, actor=actor, kind=kind
        )

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
            latest = await conn.fetchval(
                "SELECT last_sequence FROM user_sequences WHERE owner_id = $1", owner_id
            )
        changes = []
        for row in rows:
            change = tasks_service_pb2.TaskChange(
                sequence=row["sequence"], kind=row["kind"], change_time=timestamp(row["changed_at"])
            )
            change.task.ParseFromString(row["snapshot"])
            changes.append(change)
        return changes, int(latest or 0)


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
