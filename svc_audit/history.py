"""A user's entries as they read them: keyset pages by task or by user, and one by id.

Every query is scoped to the owner, so another user's task or entry simply
matches nothing. Pages follow the owner's entry numbers (log order), oldest or
newest first; a cursor is a signed position in one list (same task, times and
order), so it can only be used with the list it came from.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_runtime.errors import NotFound
from todo_runtime.page_tokens import Page, PageTokens
from todo_runtime.timestamps import timestamp
from todo_transparency.entries import AuditLeaf, FieldChange

COLUMNS: Final = "leaf_index, event_id, type, task_id, owner_id, owner_sequence, actor, at, changes"


def to_pb(row: Mapping[str, Any]) -> pb.AuditEntry:
    entry = pb.AuditEntry(
        id=str(row["leaf_index"]),
        event_id=row["event_id"],
        type=row["type"],
        task_id=str(row["task_id"]),
        actor=row["actor"],
        time=timestamp(row["at"]),
        owner_id=row["owner_id"],
        owner_sequence=row["owner_sequence"],
        leaf_index=row["leaf_index"],
    )
    for change in row["changes"]:
        field = entry.changes.add(field=change["field"])
        if change["before"] is not None:
            field.before = change["before"]
        if change["after"] is not None:
            field.after = change["after"]
    return entry


def leaf_of(row: Mapping[str, Any], owner_sequence: int) -> AuditLeaf:
    """The leaf of a pending or logged row (`changes` decoded from jsonb)."""
    return AuditLeaf(
        event_id=row["event_id"],
        type=row["type"],
        task_id=str(row["task_id"]),
        owner=row["owner_id"],
        owner_sequence=owner_sequence,
        actor=row["actor"],
        time=row["at"],
        changes=tuple(
            FieldChange(change["field"], change["before"], change["after"])
            for change in row["changes"]
        ),
    )


def entry_index(entry_id: str) -> int:
    """The leaf index an entry id names; NotFound for anything else."""
    if not entry_id.isascii() or not entry_id.isdigit() or len(entry_id) > 18:
        raise NotFound(f"audit entry {entry_id[:60]!r} not found", reason="AUDIT_ENTRY_NOT_FOUND")
    return int(entry_id)


@dataclass(frozen=True)
class Query:
    """Which of the owner's entries, in which order."""

    task_id: uuid.UUID | None
    start: datetime | None
    end: datetime | None
    newest_first: bool

    def scope(self, owner: str) -> str:
        parts = [owner, str(self.task_id or ""), str(self.start or ""), str(self.end or "")]
        return "\x00".join([*parts, "desc" if self.newest_first else "asc"])


class History:
    """Reads over the service's pool; every one scoped to an owner."""

    def __init__(self, pool: asyncpg.Pool[Any], tokens: PageTokens) -> None:
        self._pool = pool
        self._tokens = tokens

    async def page(
        self, owner: str, query: Query, *, size: int, token: str, count: bool
    ) -> Page[pb.AuditEntry]:
        clauses = ["owner_id = $1"]
        params: list[Any] = [owner]
        for column, value in (
            ("task_id =", query.task_id),
            ("at >=", query.start),
            ("at <", query.end),
        ):
            if value is not None:
                params.append(value)
                clauses.append(f"{column} ${len(params)}")
        filters = " AND ".join(clauses)
        scope = query.scope(owner)
        if token:
            params.append(self._tokens.decode(scope, token).integer("after"))
            clauses.append(f"owner_sequence {'<' if query.newest_first else '>'} ${len(params)}")
        params.append(size + 1)
        direction = "DESC" if query.newest_first else "ASC"
        sql = (
            f"SELECT {COLUMNS} FROM entries WHERE {' AND '.join(clauses)}"  # noqa: S608 - fixed clauses
            f" ORDER BY owner_sequence {direction} LIMIT ${len(params)}"
        )
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql, *params)
            total = 0
            if count:
                count_params = params[: filters.count("$")]
                total = int(
                    await conn.fetchval(
                        f"SELECT count(*) FROM entries WHERE {filters}",  # noqa: S608
                        *count_params,
                    )
                )
        more = len(rows) > size
        rows = rows[:size]
        cursors = [self._tokens.encode(scope, {"after": row["owner_sequence"]}) for row in rows]
        return Page([to_pb(row) for row in rows], cursors, more, total)

    async def get(self, owner: str, entry_id: str) -> pb.AuditEntry:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {COLUMNS} FROM entries WHERE owner_id = $1 AND leaf_index = $2",  # noqa: S608
                owner,
                entry_index(entry_id),
            )
        if row is None:
            raise NotFound(
                f"audit entry {entry_id[:60]!r} not found", reason="AUDIT_ENTRY_NOT_FOUND"
            )
        return to_pb(row)
