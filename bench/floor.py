"""The floor the load benchmark measures the stack against: the least a `createTask` and a 50-task
page must do, served by a bare Starlette + asyncpg app.

`POST /create` writes what a create must, in one transaction: the task row, the owner's next
change-log sequence, the change-log row with the task's snapshot and the two outbox rows (its
task event and its live update), JSON in and out, into copies of svc_tasks' tables
(`CREATE TABLE ... (LIKE tasks.x INCLUDING ALL)`, indexes included) in a schema of their own, so
it pays for the same indexes without adding to the stack's rows. `POST /list` reads the owner's
50 newest open tasks with a tag from svc_tasks' own tables, the same rows the benchmark's list
query returns, through the same tag index (`task_tags`), and answers them as JSON. No GraphQL,
no gRPC, no identity check: what is left is the HTTP server, JSON and PostgreSQL. One uvicorn
worker on uvloop and httptools, with the services' pool size. `python -m bench.floor
DATABASE_URL PORT`; the owner is the `x-user` header.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from todo_runtime.config import DatabaseConfig, Env

SCHEMA: Final = "bench_floor"
_TABLES: Final = ("tasks", "user_sequences", "changes", "outbox")

# One statement (one round trip, one transaction): the task, the next sequence, the change and
# its two events.
_CREATE: Final = """
WITH task AS (
    INSERT INTO tasks (id, owner_id, title, status, priority, tags, due_at, time_zone, version,
                       created_at, updated_at)
    VALUES ($1, $2, $3, 1, 1, $4, $5, 'UTC', 1, $6, $6)
    RETURNING id, owner_id, title, tags, due_at, version, created_at
), sequence AS (
    INSERT INTO user_sequences (owner_id, last_sequence) VALUES ($2, 1)
    ON CONFLICT (owner_id) DO UPDATE SET last_sequence = user_sequences.last_sequence + 1
    RETURNING last_sequence
), change AS (
    INSERT INTO changes (owner_id, sequence, kind, task_id, event_id, snapshot, changed_at)
    SELECT $2, last_sequence, 1, $1, $7, $8, $6 FROM sequence
), events AS (
    INSERT INTO outbox (topic, key, value)
    VALUES ('task-events', $9, $8), ('task-updates', $9, $8)
)
SELECT * FROM task"""  # data-modifying CTEs run to completion whether or not they are read
# The stack's own rows (svc_tasks' tables): the same 50 the stack's page returns, read as
# svc_tasks reads them: the owner's entries of the tag in `task_tags`, newest first, and each
# one's task. $2 is the tag, $3 every tag asked for.
_LIST: Final = """
SELECT listed.* FROM tasks.task_tags AS tagged CROSS JOIN LATERAL (
    SELECT id, title, due_at, priority, tags FROM tasks.tasks
    WHERE id = tagged.task_id AND owner_id = $1 AND status = 1 AND tags @> $3::text[]
) AS listed
WHERE tagged.owner_id = $1 AND tagged.tag = $2
ORDER BY tagged.created_at DESC, tagged.task_id DESC LIMIT 51"""


async def prepare(pool: asyncpg.Pool[Any]) -> None:
    """The floor's copy of svc_tasks' tables (which must exist: the stack created them)."""
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        for table in _TABLES:
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table} (LIKE tasks.{table} INCLUDING ALL)"
            )


def create_app(database: DatabaseConfig) -> Starlette:
    pool: asyncpg.Pool[Any] | None = None
    pages: asyncpg.Pool[Any] | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool, pages
        pool = await asyncpg.create_pool(
            database.url,
            min_size=database.pool_min,
            max_size=database.pool_max,
            server_settings={"search_path": SCHEMA},
        )
        # The page is planned for its user every time, so that it reads what svc_tasks' page
        # reads (the plan under the load table in docs/performance.md). Left to PostgreSQL, the
        # floor's statement took a generic plan once the table held many users' tags, which
        # reads every open task of the user's for each entry: 600 ms a page.
        pages = await asyncpg.create_pool(
            database.url,
            min_size=database.pool_min,
            max_size=database.pool_max,
            server_settings={"plan_cache_mode": "force_custom_plan"},
        )
        await prepare(pool)
        try:
            yield
        finally:
            await pages.close()
            await pool.close()

    def connected(which: asyncpg.Pool[Any] | None = None) -> asyncpg.Pool[Any]:
        if pool is None or pages is None:
            raise RuntimeError("the floor serves only inside its lifespan")
        return which or pool

    async def create(request: Request) -> Response:
        body = json.loads(await request.body())
        task_id, now = uuid.uuid4(), datetime.now(UTC)
        due = datetime.fromisoformat(body["dueAt"]) if body.get("dueAt") else None
        snapshot = json.dumps({"id": str(task_id), "title": body["title"]}).encode()
        row = await connected().fetchrow(
            _CREATE,
            task_id,
            request.headers["x-user"],
            body["title"],
            body.get("tags", []),
            due,
            now,
            uuid.uuid4(),
            snapshot,
            task_id.bytes,
        )
        if row is None:
            raise RuntimeError("the create statement returned no task")
        task = {
            "id": str(row["id"]),
            "title": row["title"],
            "tags": row["tags"],
            "dueAt": row["due_at"].isoformat() if row["due_at"] else None,
            "version": row["version"],
            "createdAt": row["created_at"].isoformat(),
        }
        return Response(json.dumps({"task": task}), media_type="application/json")

    async def page(request: Request) -> Response:
        body = json.loads(await request.body())
        tags = body["tags"]
        rows = await connected(pages).fetch(_LIST, request.headers["x-user"], tags[0], tags)
        tasks = [
            {
                "id": str(row["id"]),
                "title": row["title"],
                "dueAt": row["due_at"].isoformat() if row["due_at"] else None,
                "priority": row["priority"],
                "tags": row["tags"],
            }
            for row in rows[:50]
        ]
        answer = {"tasks": tasks, "hasNextPage": len(rows) > 50}
        return Response(json.dumps(answer), media_type="application/json")

    return Starlette(
        routes=[Route("/create", create, methods=["POST"]), Route("/list", page, methods=["POST"])],
        lifespan=lifespan,
    )


def main() -> None:
    """Serves the floor on PORT, with the services' pool size (TODO_DB_POOL_MIN/MAX)."""
    database = DatabaseConfig.from_env(Env({**os.environ, "DATABASE_URL": sys.argv[1]}))
    uvicorn.run(
        create_app(database),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
