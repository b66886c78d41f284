"""Gives pending entries their place in the log, in batches, and signs checkpoints.

One sequencer appends at a time per database (a transaction-scoped advisory
lock), so the log's order is the order in which its batches commit: an entry
can never land behind a checkpoint, however many replicas consume in
parallel. Every replica runs one; they take turns, and a replica that dies
mid-batch rolls back and leaves the rows for the next.

One batch, one transaction: take the lock; read the log's size, its latest
checkpoint and the compact range of its tree; take up to `batch` pending rows
in arrival order; number each owner's entries on from their last; hash the
canonical leaves; insert the entries and the subtree nodes they completed;
delete the pending rows; and sign a checkpoint when one is due. Batches stop
at checkpoint boundaries, so every `checkpoint_entries` entries a checkpoint
covers exactly that many more. A checkpoint is also due when the oldest
unsigned entry has waited `checkpoint_seconds`: the loop is woken by NOTIFY
when entries arrive and otherwise sleeps until then, with no polling.

A log that is smaller than its latest checkpoint, or whose root at that size
is not the signed one, was tampered with: the sequencer refuses to append
to it (appending would fork history) and says so. Nor does it append when
the log's latest checkpoint is not its key's to follow: a replica left on a
key the log was rotated away from (a rolling update) stops rather than sign
with a retired key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from svc_audit import checkpoints, log_key, tree_store
from svc_audit.history import leaf_of
from svc_audit.settings import AuditSettings
from todo_runtime.db import Connection
from todo_runtime.due_work import run_due_work
from todo_transparency.checkpoints import Checkpoint
from todo_transparency.merkle import Frontier

log = logging.getLogger(__name__)

_LOCK_CLASS: Final = (
    0x70D0_0003  # advisory lock namespace of sequencers; the other key is the schema
)
_HEAD: Final = """
    SELECT size, c.tree_size AS signed_size, c.root_hash AS signed_root,
           clock_timestamp() AS now,
           (SELECT appended_at FROM entries WHERE leaf_index = coalesce(c.tree_size, 0))
               AS oldest_unsigned_at
    FROM (SELECT coalesce(max(leaf_index) + 1, 0) AS size FROM entries) AS log
    LEFT JOIN LATERAL (
        SELECT tree_size, root_hash FROM checkpoints ORDER BY tree_size DESC LIMIT 1
    ) AS c ON true"""
_PENDING: Final = """
    SELECT id, event_id, type, task_id, owner_id, actor, at, changes
    FROM pending_entries ORDER BY id LIMIT $1"""
_LOGGED: Final = "SELECT event_id FROM entries WHERE event_id = ANY($1::text[])"
_LAST_SEQUENCES: Final = """
    SELECT owner_id, (SELECT max(owner_sequence) FROM entries e WHERE e.owner_id = o.owner_id) AS last
    FROM unnest($1::text[]) AS o (owner_id)"""
_MOVE: Final = """
    WITH moved AS (DELETE FROM pending_entries WHERE id = ANY($1::bigint[]) RETURNING *)
    INSERT INTO entries (leaf_index, event_id, type, task_id, owner_id, owner_sequence, actor, at,
                         changes, leaf_hash, appended_at)
    SELECT a.leaf_index, p.event_id, p.type, p.task_id, p.owner_id, a.owner_sequence, p.actor, p.at,
           p.changes, a.leaf_hash, $6
    FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bytea[])
        AS a (pending_id, leaf_index, owner_sequence, leaf_hash)
    JOIN moved p ON p.id = a.pending_id"""


class RetiredKey(RuntimeError):
    """The log has moved on to another signing key (a rotation or a replacement)."""


async def lock_log(conn: Connection, schema: str) -> None:
    """Takes `schema`'s append lock until the transaction ends: appends and key changes go one
    at a time, across replicas."""
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, schema)


@dataclass(frozen=True)
class Batch:
    """What one batch did: pending rows taken (at most `limit`), entries appended (fewer when
    some events were already logged), and when a checkpoint is due (seconds; None: no entry
    waits for one)."""

    taken: int
    limit: int
    appended: int
    checkpoint_in: float | None


class Sequencer:
    """Appends the pending entries of `schema`'s log; run one per replica."""

    def __init__(self, pool: asyncpg.Pool[Any], schema: str, settings: AuditSettings) -> None:
        self._pool = pool
        self._schema = schema
        self._settings = settings
        self._accepted_size: int | None = None  # the latest checkpoint known to be this key's

    async def run(self) -> None:
        """Appends until cancelled."""
        await run_due_work(
            self._pool, f"{self._schema}_pending_entries", self.work, name="audit sequencer"
        )

    async def work(self) -> float | None:
        """Appends everything pending; returns seconds until a checkpoint is due."""
        while True:
            batch = await self.append_batch()
            if batch.taken < batch.limit:  # nothing more is pending (a full batch: look again)
                return batch.checkpoint_in

    async def append_batch(self) -> Batch:
        async with self._pool.acquire() as conn, conn.transaction():
            await lock_log(conn, self._schema)
            return await self._append(conn)

    async def _check_key(self, conn: Connection) -> None:
        """RetiredKey unless the log's latest checkpoint is this key's to follow (signed by it,
        or a rotation to it): a replica left on a retired key must not sign."""
        key = self._settings.signing_key
        current = await log_key.current(conn)
        if current is not None and not current.accepts(key.public_key):
            raise RetiredKey(
                f"this replica's TODO_AUDIT_SIGNING_KEY (key id {key.key_id}) is no longer the "
                f"audit log's key: {current.describe()}; not appending or signing. Restart it "
                "with the log's key (docs/operations.md#rotating-the-signing-key)"
            )

    async def _append(self, conn: Connection) -> Batch:
        settings = self._settings
        head = await conn.fetchrow(_HEAD)
        if head is None:  # the query always returns one row
            raise RuntimeError("no log head")
        size: int = head["size"]
        signed_size: int | None = head["signed_size"]
        now: datetime = head["now"]
        if signed_size is not None and signed_size != self._accepted_size:
            await self._check_key(conn)
            self._accepted_size = signed_size
        signed_root = head["signed_root"]
        tree = await tree_store.appendable_frontier(
            conn, size, signed_size, None if signed_root is None else bytes(signed_root)
        )
        unsigned = size - (signed_size or 0)
        limit = max(0, min(settings.batch, settings.checkpoint_entries - unsigned))
        rows = await conn.fetch(_PENDING, limit) if limit else []
        appended = await self._move(conn, rows, size, tree, now) if rows else 0
        size += appended
        unsigned += appended
        oldest: datetime = head["oldest_unsigned_at"] or now
        due = (
            signed_size is None
            or unsigned >= settings.checkpoint_entries
            or (unsigned > 0 and (now - oldest).total_seconds() >= settings.checkpoint_seconds)
        )
        if due:
            checkpoint = Checkpoint(settings.origin, size, tree.root(), now)
            await checkpoints.store(conn, settings.signing_key.sign(checkpoint))
            self._accepted_size = size
            log.debug("signed the audit checkpoint at %d entries", size)
            return Batch(len(rows), limit, appended, None)
        if unsigned == 0:
            return Batch(len(rows), limit, appended, None)
        waited = (now - oldest).total_seconds()
        return Batch(len(rows), limit, appended, max(0.0, settings.checkpoint_seconds - waited))

    async def _move(
        self, conn: Connection, rows: list[Any], size: int, tree: Frontier, now: datetime
    ) -> int:
        """Appends `rows` (minus events already logged) at `size`; returns how many."""
        logged = {
            row["event_id"] for row in await conn.fetch(_LOGGED, [row["event_id"] for row in rows])
        }
        fresh = [row for row in rows if row["event_id"] not in logged]
        owners = sorted({row["owner_id"] for row in fresh})
        last = {
            row["owner_id"]: row["last"] or 0 for row in await conn.fetch(_LAST_SEQUENCES, owners)
        }
        sequences, hashes = [], []
        for row in fresh:
            last[row["owner_id"]] += 1
            sequences.append(last[row["owner_id"]])
            hashes.append(leaf_of(row, sequences[-1]).hash())
        completed = tree.append(hashes)
        await conn.execute(
            _MOVE,
            [row["id"] for row in rows],
            [row["id"] for row in fresh],
            list(range(size, size + len(fresh))),
            sequences,
            hashes,
            now,
        )
        await tree_store.store_nodes(conn, completed)
        if logged:
            log.info("skipped %d events already in the audit log", len(logged))
        return len(fresh)
