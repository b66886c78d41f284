"""Reminder firing accuracy: a burst of 1,000 reminders due in the same second.

svc_notify runs as real processes (`python -m svc_notify`, one or two
replicas) on a private PostgreSQL and broker. The burst is written straight
into its schedule; the fire error of each reminder is its fire time minus
its scheduled time, both on PostgreSQL's clock. Target: p99 under 1 s, none
early, none twice.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.support import (
    SECRET,
    postgres_server,
    scratch_database,
    summary,
    wait_for,
    write_results,
)
from todo_cli.broker import EmbeddedBroker, free_port
from todo_contracts.tasks.v1 import task_pb2

BURST = 1000
USERS = 50


async def seed(conn: asyncpg.Connection[Any], at: datetime) -> None:
    task_ids = [uuid.uuid4() for _ in range(BURST)]
    owners = [f"user-{i % USERS}" for i in range(BURST)]
    snapshots = [
        task_pb2.Task(id=str(t), owner_id=o, title=f"task {i}").SerializeToString()
        for i, (t, o) in enumerate(zip(task_ids, owners, strict=True))
    ]
    await conn.execute(
        """INSERT INTO notify.task_states (task_id, owner_id, sequence, open, snapshot)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::boolean[], $5::bytea[])""",
        task_ids,
        owners,
        [1] * BURST,
        [True] * BURST,
        snapshots,
    )
    await conn.execute(
        """INSERT INTO notify.reminders (owner_id, task_id, reminder_id, fire_at)
           SELECT o, t, 'before-0', $3 FROM unnest($1::text[], $2::uuid[]) AS s (o, t)""",
        owners,
        task_ids,
        at,
    )


async def run(url: str, replicas: int) -> dict[str, Any]:
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "TODO_INTERNAL_SECRET": SECRET,
        "TODO_LOG_LEVEL": "WARNING",
    }
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "svc_notify", env={**env, "TODO_NOTIFY_PORT": str(free_port())}
        )
        for _ in range(replicas)
    ]
    try:
        conn = await asyncpg.connect(url)
        try:

            async def migrated() -> bool:
                return bool(
                    await conn.fetchval("SELECT to_regclass('notify.reminders') IS NOT NULL")
                )

            async def listening() -> bool:  # every replica's scheduler waits on its channel
                count = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%notify_reminders%'"
                )
                return bool(count >= replicas)

            await wait_for(migrated, 60, "svc_notify migrated its schema")
            await wait_for(listening, 60, "every scheduler listening")
            due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
            await seed(conn, due)

            async def settled() -> bool:
                return not await conn.fetchval(
                    "SELECT count(*) FROM notify.reminders WHERE state = 'scheduled'"
                )

            await wait_for(settled, 60, "the burst settled")
            errors = [
                float(row["error_ms"])
                for row in await conn.fetch(
                    """SELECT extract(epoch FROM n.fired_at - r.fire_at) * 1000 AS error_ms
                       FROM notify.reminders r JOIN notify.notifications n ON n.id = r.notification_id"""
                )
            ]
            missed = await conn.fetchval(
                "SELECT count(*) FROM notify.reminders WHERE state = 'missed'"
            )
            notifications = await conn.fetchval("SELECT count(*) FROM notify.notifications")
        finally:
            await conn.close()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await process.wait()
        broker.stop()
    return {
        "fire_error": summary(errors),
        "earliest_ms": round(min(errors), 2),
        "fired": len(errors),
        "missed": missed,
        "duplicates": notifications - len(errors),
    }


async def main() -> None:
    results: dict[str, Any] = {"burst": BURST, "target_p99_ms": 1000}
    async with postgres_server() as admin_url:
        for replicas in (1, 2):
            async with scratch_database(admin_url) as url:
                outcome = await run(url, replicas)
            results[f"replicas_{replicas}"] = outcome
            error = outcome["fire_error"]
            print(
                f"{BURST} reminders due together, {replicas} replica(s): fire error "
                f"p50 {error['p50_ms']} ms, p99 {error['p99_ms']} ms, max {error['max_ms']} ms "
                f"(earliest {outcome['earliest_ms']} ms, missed {outcome['missed']}, "
                f"duplicates {outcome['duplicates']})"
            )
    print(f"results: {write_results('reminder_burst', results)}")


if __name__ == "__main__":
    asyncio.run(main())
