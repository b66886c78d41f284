"""Task persistence, SQL only. Every change writes the task row, a change-log entry with
the user's next sequence number and the outbox events in ONE statement (`_RECORD`), so
the database and the event stream can never disagree. One statement is one round trip and,
for a create, the whole transaction: the owner's sequence row (and the search-word counts
the task's trigger keeps) stay locked only while it runs and commits, so one user's writes
queue behind each other for that long and no longer. Whether a change is allowed and what
it is, the domain decides (`svc_tasks.domain`); the store writes what it is given.
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
from svc_tasks.domain.lifecycle import Change, NewTask, TaskState
from svc_tasks.events import change_events
from svc_tasks.messages import (
    TASK_COLUMNS,
    TASK_FIELDS,
    columns,
    columns_of,
    state_from_row,
    task_from_row,
)
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2
from todo_runtime import outbox
from todo_runtime.errors import NotFound
from todo_runtime.timestamps import from_timestamp, timestamp

Row = Mapping[str, Any]
Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"

# `written` is the CTE that writes the task, with a row when it did; then the owner's next
# sequence, the change-log entry, and the events, each carrying that sequence. Parameters:
# $1 owner, $2 kind, $3 task id, $4 event id, $5 snapshot, $6 time, $7..$11 the events
# (`outbox.columns`), and `written`'s own from $12. Answers the sequence (NULL: not written).
_RECORD = """
WITH written AS ({written}),
sequenced AS (
    INSERT INTO user_sequences AS known (owner_id, last_sequence) SELECT $1, 1 FROM written
    ON CONFLICT (owner_id) DO UPDATE SET last_sequence = known.last_sequence + 1
    RETURNING last_sequence
),
logged AS (
    INSERT INTO changes (owner_id, sequence, kind, task_id, event_id, snapshot, changed_at)
    SELECT $1, last_sequence, $2, $3, $4, $5, $6 FROM sequenced
    RETURNING sequence
),
published AS ({published})
SELECT sequence FROM logged"""
_PUBLISHED = outbox.sequenced_insert(source="logged", sequence="logged.sequence", first=7)
_WRITTEN_FROM = 12
# A task's row as the rules and the API read it (`messages.TASK_COLUMNS`): by id; the one a
# create's request id or series position already made; a series' instance, locked.
_BY_ID = f"SELECT {TASK_COLUMNS} FROM tasks WHERE owner_id = $1 AND id = $2"  # noqa: S608 - code-defined
_EARLIER = (
    f"SELECT {TASK_COLUMNS} FROM tasks WHERE owner_id = $1"  # noqa: S608 - code-defined
    " AND ((request_id = $2) OR (series_id = $3 AND series_index = $4))"
)
_SERIES_INSTANCE_LOCKED = (
    f"SELECT {TASK_COLUMNS} FROM tasks"  # noqa: S608 - code-defined
    " WHERE owner_id = $1 AND series_id = $2 AND series_index = $3 FOR UPDATE"
)


@dataclass(frozen=True)
class Page:
    """A page of tasks in order, the position of each, and whether matching tasks lie beyond it."""

    tasks: list[task_pb2.Task]
    positions: list[listing.Position]
    has_next: bool
    has_previous: bool
    total: int
    latest_sequence: int = 0


@dataclass(frozen=True)
class LoggedChange:
    """One change of the log: its kind, the task before it (None: it created the task) and
    after it (for a delete, the task as it was, with `delete_time`)."""

    kind: task_pb2.ChangeKind
    task_id: uuid.UUID
    before: task_pb2.Task | None
    after: task_pb2.Task


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
        placeholders = ", ".join(
            f"${index}" for index in range(_WRITTEN_FROM, _WRITTEN_FROM + len(values))
        )
        number = {column: f"${index}" for index, column in enumerate(values, start=_WRITTEN_FROM)}
        written = f"INSERT INTO tasks ({', '.join(values)}) SELECT {placeholders}"
        if values["series_id"] is not None:  # a task outside a series has no previous one
            # An occurrence whose previous instance is open (its completion was undone, see
            # `revert`) is not made: the previous row is share-locked, so a revert that reopens
            # it and looks for this one runs wholly before or after this insert, never beside
            # it. The LIMIT keeps `status = 1` out of the locking scan: pushed into it, the
            # planner would lock only an open row (a completed one is the case that matters)
            # and could pick the open-tasks index, scanning the owner's every open task.
            written += (
                " WHERE NOT EXISTS (SELECT 1 FROM (SELECT status FROM tasks "  # noqa: S608 - fixed text
                f"WHERE owner_id = $1 AND series_id = {number['series_id']} "
                f"AND series_index = {number['series_index']} - 1 FOR SHARE LIMIT 1) AS previous "
                "WHERE status = 1)"
            )
        task = task_from_row(values)
        async with self._pool.acquire() as conn:
            recorded = await _record(
                conn,
                new.kind,
                task,
                previous=None,
                actor=actor,
                now=now,
                written=f"{written} ON CONFLICT DO NOTHING RETURNING 1",
                parameters=list(values.values()),
            )
            if recorded:
                return task
            earlier = await conn.fetchrow(
                _EARLIER,
                owner_id,
                new.request_id,
                new.task.series_id,
                new.task.series_index,
            )
            return None if earlier is None else task_from_row(earlier)

    async def get(self, owner_id: str, task_id: uuid.UUID) -> task_pb2.Task:
        row = await self._pool.fetchrow(_BY_ID, owner_id, task_id)
        if row is None:
            raise _not_found(task_id)
        return task_from_row(row)

    async def page(
        self,
        query: listing.TaskQuery,
        *,
        count: bool = True,
        latest: bool = False,
        fields: frozenset[str] = TASK_FIELDS,
    ) -> Page:
        """One page of the query's window (each task with only `fields` set), each task's
        position, what lies beyond, and the total; with `latest`, the owner's change-log sequence
        as of the page too, read by the page's own statement (`listing.page_with_latest_sql`), so
        replaying the changes after it neither skips nor repeats one."""
        page_sql, page_params = (listing.page_with_latest_sql if latest else listing.page_sql)(
            query, columns_of(fields)
        )
        async with self._pool.acquire() as conn:
            rows = list(await conn.fetch(page_sql, *page_params))
            sequence = int(rows[0]["latest_sequence"]) if latest else 0
            rows = [row for row in rows if row["id"] is not None]  # an empty page's lone row
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
            tasks=[task_from_row(row, fields) for row in rows],
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
            row = await conn.fetchrow(f"{_BY_ID} FOR UPDATE", owner_id, task_id)
            if row is None:
                raise _not_found(task_id)
            yield LockedTask(conn, row, now)

    async def delete(self, owner_id: str, task_id: uuid.UUID, actor: str) -> None:
        """Deletes the task (`LockedTask.delete`)."""
        async with self.locked(owner_id, task_id) as locked:
            await locked.delete(actor)

    async def logged(self, owner_id: str, event_id: uuid.UUID) -> LoggedChange:
        """The owner's change that sent event `event_id`, with the task before it (its previous
        change's snapshot). The log only grows: no lock is needed to read it. NotFound when the
        owner made no such change."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT sequence, kind, task_id, snapshot FROM changes "
                "WHERE owner_id = $1 AND event_id = $2",
                owner_id,
                event_id,
            )
            if row is None:
                raise NotFound(f"change {event_id} not found", reason="CHANGE_NOT_FOUND")
            previous = await conn.fetchval(
                """SELECT snapshot FROM changes WHERE owner_id = $1 AND task_id = $2
                   AND sequence < $3 ORDER BY sequence DESC LIMIT 1""",
                owner_id,
                row["task_id"],
                row["sequence"],
            )
        return LoggedChange(
            kind=row["kind"],
            task_id=row["task_id"],
            after=task_pb2.Task.FromString(row["snapshot"]),
            before=None if previous is None else task_pb2.Task.FromString(previous),
        )

    async def restore(
        self, owner_id: str, deleted: task_pb2.Task, state: TaskState | None, actor: str
    ) -> tuple[task_pb2.Task, bool]:
        """Inserts `state` (the deleted task at its next version; None: only read the task that
        holds its id) as a CREATED change whose previous task is `deleted`, keeping its creation
        time. The task under that id now, and whether this wrote it (False: one holds the id)."""
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn:
            if state is not None:
                values = {
                    **columns(state),
                    "owner_id": owner_id,
                    "created_at": from_timestamp(deleted.create_time),
                    "updated_at": now,
                }
                placeholders = ", ".join(
                    f"${index}" for index in range(_WRITTEN_FROM, _WRITTEN_FROM + len(values))
                )
                task = task_from_row(values)
                recorded = await _record(
                    conn,
                    task_pb2.CHANGE_KIND_CREATED,
                    task,
                    previous=deleted,
                    actor=actor,
                    now=now,
                    written=f"INSERT INTO tasks ({', '.join(values)}) VALUES ({placeholders}) "  # noqa: S608 - column names come from code
                    "ON CONFLICT DO NOTHING RETURNING 1",
                    parameters=list(values.values()),
                )
                if recorded:
                    return task, True
            row = await conn.fetchrow(
                _BY_ID,
                owner_id,
                uuid.UUID(deleted.id),
            )
        if row is None:  # `state` None means the caller saw it; only a delete since removes it
            raise _not_found(uuid.UUID(deleted.id))
        return task_from_row(row), False

    async def find(self, owner_id: str, task_id: uuid.UUID) -> TaskState | None:
        """The owner's task as the rules read it, or None."""
        row = await self._pool.fetchrow(_BY_ID, owner_id, task_id)
        return None if row is None else state_from_row(row)

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

    async def successor(self) -> LockedTask | None:
        """The next instance of this task's series (index + 1), read and locked in this
        transaction (after this task's row, the order every write takes them in); None when
        the task is in no series or that instance does not exist."""
        if self._row["series_id"] is None:
            return None
        row = await self._conn.fetchrow(
            _SERIES_INSTANCE_LOCKED,
            self._row["owner_id"],
            self._row["series_id"],
            self._row["series_index"] + 1,
        )
        return None if row is None else LockedTask(self._conn, row, self._now)

    def task(self) -> task_pb2.Task:
        """The task as it was read."""
        return task_from_row(self._row)

    async def delete(self, actor: str) -> None:
        """Deletes the task in the statement that records the change: its row is already locked,
        so every write takes its locks in the same order (the task's row, the owner's sequence,
        then the search-word counts, whose trigger runs as the statement ends) and two writers
        never wait for each other in a circle."""
        task = task_from_row(self._row)
        task.delete_time.CopyFrom(timestamp(self._now))
        await _record(
            self._conn,
            task_pb2.CHANGE_KIND_DELETED,
            task,
            previous=task_from_row(self._row),
            actor=actor,
            now=self._now,
            written="DELETE FROM tasks WHERE owner_id = $1 AND id = $3 RETURNING 1",
            parameters=[],
        )

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
            f"{column} = ${index}" for index, column in enumerate(changed, start=_WRITTEN_FROM)
        )
        task = task_from_row({**dict(self._row.items()), **changed, "updated_at": self._now})
        recorded = await _record(
            self._conn,
            change.kind,
            task,
            previous=current,
            actor=actor,
            now=self._now,
            written=f"UPDATE tasks SET {assignments}, updated_at = $6 "  # noqa: S608 - column names come from code
            "WHERE owner_id = $1 AND id = $3 RETURNING 1",
            parameters=list(changed.values()),
        )
        if not recorded:  # the row is locked by this transaction: it cannot vanish
            raise RuntimeError(f"task {task.id} disappeared under its row lock")
        return task


async def _record(
    conn: Connection,
    kind: task_pb2.ChangeKind,
    task: task_pb2.Task,
    *,
    previous: task_pb2.Task | None,
    actor: str,
    now: datetime,
    written: str,
    parameters: list[Any],
) -> bool:
    """Runs `written` (SQL that writes `task`, with `parameters` numbered from
    `_WRITTEN_FROM`) and, when it wrote, appends the change to the owner's log and its events
    to the outbox, all in one statement. Whether it wrote."""
    event_id = uuid.uuid4()
    events = change_events(
        kind=kind, event_id=event_id, actor=actor, at=now, task=task, previous=previous
    )
    sequence = await conn.fetchval(
        _RECORD.format(written=written, published=_PUBLISHED),
        task.owner_id,
        kind,
        uuid.UUID(task.id),
        event_id,
        task.SerializeToString(),
        now,
        *outbox.columns(events),
        *parameters,
    )
    return sequence is not None
