"""Calendar feed render time for 1,000 tasks: p50/p99, rendering alone and through the gateway.

`render` runs on 1,000 tasks shaped like users' (four zones, a third recurring, reminders, tags):
cold (every component rendered by icalendar, as on a feed's first fetch or after a restart) and
warm (the components of unchanged tasks cached, as on a calendar app's next poll), and the ETag
alone (all a 304 needs). Then `GET /calendar/{token}.ics` through the gateway in this process,
in front of svc_tasks on a scratch database and broker: the full answer (ListTasks paged five
times, rendered warm) and the 304 for a poll with `If-None-Match`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.support import accepted, gateway_client, scratch_stack, summary, write_results
from gateway.transport.calendar_ics import ComponentCache, etag, render
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.config import DatabaseConfig

TASKS = 1000
COLD_SAMPLES = 15
WARM_SAMPLES = 50
HTTP_SAMPLES = 20
ZONES = ("Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo")
CREATE = """mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id } userErrors { field message code } } }"""
FEED = """mutation {
  createCalendarFeed(input: {kind: VTODO}) { url userErrors { field message code } } }"""


def _tasks() -> list[task_pb2.Task]:
    start = datetime(2030, 1, 1, 9, tzinfo=UTC)
    tasks = []
    for n in range(TASKS):
        task = task_pb2.Task(
            id=f"00000000-0000-4000-8000-{n:012d}",
            title=f"task {n}",
            description="details" if n % 2 else "",
            priority=task_pb2.PRIORITY_HIGH if n % 5 == 0 else task_pb2.PRIORITY_NONE,
            tags=["home", "work"][: n % 3],
            time_zone=ZONES[n % len(ZONES)],
            version=1 + n % 4,
        )
        task.due_time.FromDatetime(start + timedelta(hours=7 * n))
        task.create_time.FromDatetime(start - timedelta(days=1))
        task.update_time.FromDatetime(start - timedelta(hours=1))
        if n % 3 == 0:
            task.recurrence.rule = "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0;BYSECOND=0"
            task.recurrence.basis = task_pb2.RECURRENCE_BASIS_SCHEDULE
        if n % 2 == 0:
            task.reminders.add(minutes_before=30)
        tasks.append(task)
    return tasks


def _timed(samples: int, work: Callable[[], object]) -> dict[str, float]:
    spent = []
    for _ in range(samples):
        started = time.perf_counter()
        work()
        spent.append((time.perf_counter() - started) * 1000)
    return summary(spent)


async def _through_the_gateway() -> dict[str, Any]:
    async with (
        scratch_stack() as stack,
        gateway_client(
            stack.tasks_address,
            database=DatabaseConfig(stack.database_url, 1, 4),
            rate_points=10**6,  # each feed fetch takes a tenth: drained again within a millisecond
            max_cost=5000,
            rate_restore=10**9,
        ) as http,
    ):
        base = datetime(2030, 1, 1, 9, tzinfo=UTC)
        for n in range(TASKS):
            task: dict[str, Any] = {
                "title": f"task {n}",
                "dueAt": (base + timedelta(hours=7 * n)).isoformat(),
                "timeZone": ZONES[n % len(ZONES)],
                "remindMinutesBefore": [30] if n % 2 == 0 else [],
            }
            if n % 3 == 0:
                task["recurrence"] = "every monday and wednesday at 9am"
            body = (
                await http.post("/graphql", json={"query": CREATE, "variables": {"input": task}})
            ).json()
            accepted(body.get("data"), "createTask")
        body = (await http.post("/graphql", json={"query": FEED})).json()
        url = accepted(body.get("data"), "createCalendarFeed")["url"]
        full: list[float] = []
        unchanged: list[float] = []
        tag = ""
        for sample in range(HTTP_SAMPLES + 1):
            started = time.perf_counter()
            response = await http.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"feed answered {response.status_code}")
            if sample:  # the first renders cold
                full.append((time.perf_counter() - started) * 1000)
            tag = response.headers["etag"]
        for _ in range(HTTP_SAMPLES):
            started = time.perf_counter()
            response = await http.get(url, headers={"If-None-Match": tag})
            if response.status_code != 304:
                raise RuntimeError(f"feed answered {response.status_code}, not 304")
            unchanged.append((time.perf_counter() - started) * 1000)
    return {"get_200_warm": summary(full), "get_304": summary(unchanged)}


async def main() -> None:
    tasks = _tasks()
    cache = ComponentCache()
    size = len(render(tasks, "VTODO", cache=cache))
    results: dict[str, Any] = {
        "tasks": TASKS,
        "body_bytes": size,
        "render_cold": _timed(COLD_SAMPLES, lambda: render(tasks, "VTODO")),
        "render_warm": _timed(WARM_SAMPLES, lambda: render(tasks, "VTODO", cache=cache)),
        "etag_only": _timed(WARM_SAMPLES, lambda: etag(tasks, "VTODO", "")),
    }
    results.update(await _through_the_gateway())
    for name in ("render_cold", "render_warm", "etag_only", "get_200_warm", "get_304"):
        result = results[name]
        print(f"{name}: p50={result['p50_ms']} ms p99={result['p99_ms']} ms (n={result['n']})")
    print(f"results: {write_results('calendar_feed', results)}")


if __name__ == "__main__":
    asyncio.run(main())
