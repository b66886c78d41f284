"""ListTasks with 100k tasks for one user: filtered, ordered first and later pages over gRPC.

Seeds rows with one INSERT ... SELECT (the outbox is not involved), then times
each query shape end to end through svc_tasks and records Postgres' plan.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import grpc

from bench.support import SECRET, scratch_stack, summary, write_results
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2_grpc
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.identity import identity_metadata

USER = "bench-user"
TASKS = 100_000
RUNS = 40
_WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()  # noqa: SIM905 - reads as prose

SEED = """
INSERT INTO tasks.tasks (id, owner_id, title, description, status, priority, tags, due_at, time_zone,
                         version, created_at, updated_at, completed_at)
SELECT gen_random_uuid(), $1,
       'task ' || g || ' ' || ($2::text[])[1 + g % 16] || ' ' || ($2::text[])[1 + (g / 16) % 16],
       'about ' || ($2::text[])[1 + (g / 7) % 16],
       CASE WHEN g % 3 = 0 THEN 2 ELSE 1 END,
       1 + g % 5,
       ARRAY[($2::text[])[1 + g % 16], ($2::text[])[1 + g % 5]],
       CASE WHEN g % 4 = 0 THEN NULL ELSE now() + ((g % 400) - 200) * interval '1 day' END,
       'UTC', 1,
       now() - g * interval '1 minute', now() - g * interval '1 minute',
       CASE WHEN g % 3 = 0 THEN now() ELSE NULL END
FROM generate_series(1, $3) AS g
"""

SHAPES: dict[str, svc.ListTasksRequest] = {
    "default_order": svc.ListTasksRequest(page_size=50),
    "open_by_due": svc.ListTasksRequest(
        page_size=50,
        filter=svc.TaskFilter(status=task_pb2.TASK_STATUS_OPEN),
        order_by=[
            svc.TaskOrder(
                field=svc.TASK_ORDER_FIELD_DUE_TIME, direction=svc.ORDER_DIRECTION_ASCENDING
            )
        ],
    ),
    "high_priority_by_priority_then_due": svc.ListTasksRequest(
        page_size=50,
        filter=svc.TaskFilter(priorities=[task_pb2.PRIORITY_HIGH, task_pb2.PRIORITY_URGENT]),
        order_by=[
            svc.TaskOrder(
                field=svc.TASK_ORDER_FIELD_PRIORITY, direction=svc.ORDER_DIRECTION_DESCENDING
            ),
            svc.TaskOrder(
                field=svc.TASK_ORDER_FIELD_DUE_TIME, direction=svc.ORDER_DIRECTION_ASCENDING
            ),
        ],
    ),
    "tags_all_of": svc.ListTasksRequest(
        page_size=50, filter=svc.TaskFilter(tags=["alpha", "bravo"])
    ),
    "overdue_by_due": svc.ListTasksRequest(
        page_size=50,
        filter=svc.TaskFilter(overdue=True),
        order_by=[
            svc.TaskOrder(
                field=svc.TASK_ORDER_FIELD_DUE_TIME, direction=svc.ORDER_DIRECTION_ASCENDING
            )
        ],
    ),
    "search_word": svc.ListTasksRequest(page_size=50, filter=svc.TaskFilter(search="foxtrot")),
    "search_typo": svc.ListTasksRequest(page_size=50, filter=svc.TaskFilter(search="foxtrt")),
    "title_order": svc.ListTasksRequest(
        page_size=50,
        order_by=[
            svc.TaskOrder(field=svc.TASK_ORDER_FIELD_TITLE, direction=svc.ORDER_DIRECTION_ASCENDING)
        ],
    ),
}


async def _time(stub: Any, request: svc.ListTasksRequest) -> tuple[list[float], list[float], int]:
    """Latencies of the first page and of the 20th page (reached by following tokens)."""
    first, later = [], []
    total = 0
    for _ in range(RUNS):
        started = time.perf_counter()
        page = await stub.ListTasks(request, metadata=identity_metadata(SECRET, USER), timeout=30)
        first.append((time.perf_counter() - started) * 1000)
        total = page.total_size
    token = page.next_page_token
    for _ in range(19):
        if not token:
            break
        page = await stub.ListTasks(
            svc.ListTasksRequest(**{**_fields(request), "page_token": token}),
            metadata=identity_metadata(SECRET, USER),
            timeout=30,
        )
        token = page.next_page_token
    if token:
        for _ in range(RUNS):
            started = time.perf_counter()
            await stub.ListTasks(
                svc.ListTasksRequest(**{**_fields(request), "page_token": token}),
                metadata=identity_metadata(SECRET, USER),
                timeout=30,
            )
            later.append((time.perf_counter() - started) * 1000)
    return first, later, total


async def _first_pages(stub: Any, request: svc.ListTasksRequest) -> list[float]:
    """Latencies of the first page alone."""
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await stub.ListTasks(request, metadata=identity_metadata(SECRET, USER), timeout=30)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _without_total(request: svc.ListTasksRequest) -> svc.ListTasksRequest:
    """The same page without counting every match (GraphQL: `totalCount` not selected)."""
    return svc.ListTasksRequest(**_fields(request), skip_total_size=True)


def _fields(request: svc.ListTasksRequest) -> dict[str, Any]:
    return {
        "page_size": request.page_size,
        "filter": request.filter,
        "order_by": list(request.order_by),
    }


async def main() -> None:
    async with scratch_stack() as stack:
        conn = await asyncpg.connect(stack.database_url)
        await conn.execute(SEED, USER, _WORDS, TASKS)
        await conn.execute(SEED, "someone-else", _WORDS, TASKS // 4)
        for table in ("tasks.tasks", "tasks.search_words"):
            await conn.execute(f"VACUUM ANALYZE {table}")  # the steady state autovacuum reaches
        results: dict[str, Any] = {"tasks_for_user": TASKS, "other_tasks": TASKS // 4, "shapes": {}}
        async with grpc.aio.insecure_channel(stack.tasks_address) as channel:
            stub = tasks_service_pb2_grpc.TaskServiceStub(channel)
            for name, request in SHAPES.items():
                first, later, total = await _time(stub, request)
                uncounted = await _first_pages(stub, _without_total(request))
                results["shapes"][name] = {
                    "total_count": total,
                    "first_page": summary(first),
                    "first_page_without_total": summary(uncounted),
                    "page_21": summary(later) if later else None,
                }
                stats, bare = summary(first), summary(uncounted)
                print(
                    f"{name:<38} total={total:>6}  first page p50={stats['p50_ms']} ms "
                    f"p99={stats['p99_ms']} ms; without totalCount p50={bare['p50_ms']} ms "
                    f"p99={bare['p99_ms']} ms"
                )
        plan = await conn.fetch(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM tasks.tasks WHERE owner_id = $1 AND status = 1 "
            "ORDER BY coalesce(due_at, 'infinity'::timestamptz), id LIMIT 51",
            USER,
        )
        results["explain_open_by_due"] = [row[0] for row in plan]
        await conn.close()
    path = write_results("list_tasks", results)
    print(f"results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
