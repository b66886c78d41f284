"""ListTasks with 100k tasks for one user: filtered, ordered first and later pages over gRPC.

Seeds rows with one INSERT ... SELECT (the outbox is not involved), then times
each query shape end to end through svc_tasks, and records PostgreSQL's plan
(`EXPLAIN (ANALYZE, BUFFERS)`) of every statement a shape's pages run, built as
svc_tasks builds them: the first page, its count, the next page and whether rows
lie before it. The plans go to bench/results/list_tasks.json and
docs/performance.md, between its plan markers.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from typing import Any, Final

import asyncpg
import grpc

from bench.support import SECRET, rewrite_section, scratch_stack, summary, write_results
from svc_tasks import listing
from svc_tasks.servicer import task_query
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2_grpc
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.identity import identity_metadata
from todo_runtime.page_tokens import PageTokens

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
    "one_tag": svc.ListTasksRequest(page_size=50, filter=svc.TaskFilter(tags=["alpha"])),
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


BEGIN: Final = "<!-- list plans: begin -->"
END: Final = "<!-- list plans: end -->"


async def plans(conn: asyncpg.Connection[Any]) -> dict[str, dict[str, list[str]]]:
    """Each shape's statements, labelled, with their plans."""
    await conn.execute("SET search_path TO tasks, public")  # as the service's pool sets it
    found: dict[str, dict[str, list[str]]] = {}
    for name, request in SHAPES.items():
        query = task_query(request, USER, PageTokens(SECRET, "plans"))
        first = listing.page_sql(query)
        statements = {"first page": first, "count": listing.count_sql(query)}
        rows = await conn.fetch(first[0], *first[1])
        if len(rows) > query.page_size:
            last = rows[query.page_size - 1]
            keys = [last[f"k{index}"] for index in range(len(query.order))]
            later = replace(query, after=(keys, last["id"]))
            statements["next page"] = listing.page_sql(later)
            beyond = listing.beyond_window_sql(later, before=True)
            if beyond is not None:
                statements["rows before it"] = beyond
        found[name] = {
            label: [
                row[0] for row in await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
            ]
            for label, (sql, params) in statements.items()
        }
    await conn.execute("RESET search_path")
    return found


def _execution_ms(plan: list[str]) -> str:
    match = next((re.search(r"Execution Time: ([\d.]+)", line) for line in plan[::-1]), None)
    return match.group(1) if match else "?"


def _buffers(plan: list[str]) -> str:
    """The top node's shared buffers (each 8 kB), read from cache and from disk."""
    for line in plan:
        match = re.search(r"Buffers: shared (.*)", line)
        if match:
            return match.group(1)
    return "none"


def publish(found: dict[str, dict[str, list[str]]]) -> None:
    lines = [
        BEGIN,
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {TASKS:,} tasks for "
        f"the user, {TASKS // 4:,} for another, after `VACUUM ANALYZE`.",
        "",
        "| shape | statement | execution ms | shared buffers |",
        "|---|---|---|---|",
    ]
    for name, statements in found.items():
        for label, plan in statements.items():
            lines.append(f"| {name} | {label} | {_execution_ms(plan)} | {_buffers(plan)} |")
    for name, statements in found.items():
        lines += ["", f"<details><summary>{name}</summary>", ""]
        for label, plan in statements.items():
            lines += [f"{label}:", "", "```", *plan, "```", ""]
        lines.append("</details>")
    lines.append(END)
    rewrite_section("\n".join(lines), BEGIN, END)


async def main() -> None:
    async with scratch_stack() as stack:
        conn = await asyncpg.connect(stack.database_url)
        await conn.execute(SEED, USER, _WORDS, TASKS)
        await conn.execute(SEED, "someone-else", _WORDS, TASKS // 4)
        for table in ("tasks.tasks", "tasks.search_words", "tasks.task_tags"):
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
        results["plans"] = await plans(conn)
        await conn.close()
    publish(results["plans"])
    path = write_results("list_tasks", results)
    print(f"results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
