"""The whole stack under load: wrk against `todo up`, with CPU per operation for every part.

`todo up` runs every part as its own process (PostgreSQL, the broker, each
service, the gateway) and every consumer runs. wrk (a native load generator,
so it takes no CPU from the Python processes; `apt-get install wrk`) sends one
GraphQL operation per request, as one user, at 1, 16 and 64 connections:
createTask, updateTask, completeTask on recurring tasks (each completion makes
svc_recur create the next instance, and svc_notify reschedule its reminder),
`tasks(first: 50)` with a filter, and a search; then create, list and search
again at 16 connections as 1,000 users (tokens minted up front), so the
per-user paths (rate-limit buckets, change sequences, search words) are loaded
as production loads them. For each run it reports throughput, latency
p50/p99/max, errors, the CPU seconds each part spent per operation (from
/proc, through psutil) and the PostgreSQL transactions each operation caused.

Beside them, in the same run and on the same PostgreSQL: the floor
(`bench.floor`, a bare Starlette + asyncpg app doing what a create and a
50-task page must) under the same wrk settings, and the stack's throughput as
a ratio of the floor's; a gRPC round trip, an asyncpg insert and commit, and
an HTTP request the gateway answers without GraphQL. It also measures the idle
stack's CPU and every part's memory. The tasks tables are ANALYZEd before
their pages are read, as autovacuum keeps a long-lived table's statistics (a
table filled a minute ago has none, and its plans are guesses). Results:
bench/results/load.json, and the table in docs/performance.md between its
markers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg
import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench import floor
from bench.local_stack import LocalStack, local_stack
from bench.support import SECRET, rewrite_section, write_results
from svc_tasks import listing
from svc_tasks.servicer import task_query
from todo_cli.broker import free_port
from todo_cli.database import EmbeddedPostgres
from todo_contracts.tasks.v1 import task_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.page_tokens import PageTokens

SCRIPT: Final = Path(__file__).with_name("wrk") / "graphql.lua"
BEGIN, END = "<!-- load table: begin -->", "<!-- load table: end -->"
CONNECTIONS: Final = (1, 16, 64)
SECONDS: Final = int(os.environ.get("TODO_BENCH_SECONDS", "10"))
OPERATIONS: Final = ("create", "update", "complete", "list", "search")
USER: Final = "load-user"
MANY_USERS: Final = 1000
# Every part of the stack, told apart by its command line.
PARTS: Final = {
    "gateway": re.compile(r"-m gateway\b|todo_cli serve gateway|\bgateway\b.*uvicorn"),
    "svc_tasks": re.compile(r"-m svc_tasks\b"),
    "svc_recur": re.compile(r"-m svc_recur\b"),
    "svc_notify": re.compile(r"-m svc_notify\b"),
    "svc_audit": re.compile(r"-m svc_audit\b"),
    "svc_live": re.compile(r"-m svc_live\b"),
    "postgres": re.compile(r"\bpostgres\b"),
    "broker": re.compile(r"\btansu\b"),
}


@dataclass
class Part:
    """One part of the stack: the process `todo up` started and everything below it."""

    name: str
    root: psutil.Process

    def processes(self) -> Iterator[psutil.Process]:
        yield self.root
        yield from self.root.children(recursive=True)

    def cpu_seconds(self) -> float:
        """Live processes' CPU plus what their exited children used (PostgreSQL's backends
        come and go; their time moves to the postmaster's `children_*` when reaped)."""
        total = 0.0
        for process in self.processes():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def memory_mb(self) -> float:
        """RSS of the part's main process; for PostgreSQL, its processes' unique memory summed
        (their RSS counts the shared buffers once per backend)."""
        if self.name != "postgres":
            return self.root.memory_info().rss / 2**20
        total = 0
        for process in self.processes():
            try:
                total += process.memory_full_info().uss
            except psutil.NoSuchProcess:
                continue
        return total / 2**20


def find_parts(stack: LocalStack) -> list[Part]:
    found: dict[str, Part] = {}
    for child in psutil.Process(stack.process.pid).children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        for name, pattern in PARTS.items():
            if name not in found and pattern.search(command):
                found[name] = Part(name, child)
    missing = set(PARTS) - set(found)
    if missing:
        raise RuntimeError(f"cannot find these parts of the stack: {sorted(missing)}")
    return [found[name] for name in PARTS]


def cpu(parts: list[Part]) -> dict[str, float]:
    return {part.name: part.cpu_seconds() for part in parts}


def wrk(
    base_url: str,
    users: Path,
    operation: str,
    connections: int,
    seconds: int,
    *,
    ids: Path | None = None,
    save: Path | None = None,
) -> dict[str, Any]:
    """Runs wrk once, each request as one of `users` in turn; returns what the script's done()
    reported."""
    threads = min(2, connections)
    env = {**os.environ, "TODO_BENCH_USERS": str(users), "TODO_BENCH_OPERATION": operation}
    if ids is not None:
        env["TODO_BENCH_IDS"] = str(ids)
    if save is not None:
        env["TODO_BENCH_SAVE_IDS"] = str(save)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        base_url,
        "--",
        str(threads),
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if line.startswith("WRK_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("WRK_RESULT "))
            return result
    raise RuntimeError(f"wrk printed no result: {output}")


def http_floor(stack: LocalStack) -> dict[str, Any]:
    """The gateway's HTTP server alone: GET /healthz at 16 connections."""
    command = ["wrk", "-t2", "-c16", f"-d{SECONDS}s", "--latency", f"{stack.base_url}/healthz"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return {"healthz_per_second_at_16": float(rate.group(1)) if rate else None}


async def grpc_floor(stack: LocalStack, calls: int = 2000) -> float:
    """Median ms of a gRPC unary call that does no work (health Check on svc_tasks)."""
    samples = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.env['TODO_TASKS_PORT']}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(calls):
            started = time.perf_counter()
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
            samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


async def database_floor(url: str, inserts: int = 2000) -> float:
    """Median ms of an asyncpg INSERT and COMMIT (durable: synchronous_commit stays on)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TEMP TABLE floor (id bigserial PRIMARY KEY, v text)")
        await conn.execute("CREATE TABLE IF NOT EXISTS public.bench_floor (v text)")
        samples = []
        for _ in range(inserts):
            started = time.perf_counter()
            async with conn.transaction():
                await conn.execute("INSERT INTO public.bench_floor (v) VALUES ('x')")
            samples.append((time.perf_counter() - started) * 1000)
        await conn.execute("DROP TABLE public.bench_floor")
    finally:
        await conn.close()
    return round(statistics.median(samples), 3)


def measured(
    stack: LocalStack,
    parts: list[Part],
    operation: str,
    connections: int,
    users: Path,
    *,
    base_url: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """One wrk run with every part's CPU before and after; the consumers' share included
    (the run's events are processed by the time the next run starts: see settle())."""
    database_url = EmbeddedPostgres(Path(stack.env["TODO_DATA_DIR"])).url()
    commits_before = asyncio.run(commits(database_url))
    before = cpu(parts)
    result = wrk(base_url or stack.base_url, users, operation, connections, SECONDS, **kwargs)
    settle(parts)
    after = cpu(parts)
    commits_after = asyncio.run(commits(database_url))
    done = max(1, result["requests"] - result["errors"])
    seconds = result["duration_us"] / 1e6
    per_part = {name: round((after[name] - before[name]) * 1000 / done, 3) for name in after}
    return {
        "operation": operation,
        "connections": connections,
        "users": len(users.read_text().splitlines()),
        "per_second": round(result["requests"] / seconds, 1),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "max_ms": result["max_us"] / 1000,
        "requests": result["requests"],
        "errors": result["errors"]
        + result["connect_errors"]
        + result["read_errors"]
        + result["write_errors"]
        + result["timeouts"],
        "example_error": result["example_error"],
        "cpu_ms_per_operation": per_part,
        "cpu_ms_per_operation_total": round(sum(per_part.values()), 3),
        # Every transaction the operation caused, its events' consumers included.
        "postgres_commits_per_operation": round((commits_after - commits_before) / done, 2),
    }


@contextlib.contextmanager
def floor_app(stack: LocalStack) -> Iterator[tuple[str, Part]]:
    """`bench.floor` on a free port beside the stack, on its PostgreSQL; yields its URL and
    its process."""
    database_url = EmbeddedPostgres(Path(stack.env["TODO_DATA_DIR"])).url()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.floor", database_url, str(port)], env=stack.env
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the floor app did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", Part("floor", psutil.Process(process.pid))
    finally:
        process.terminate()
        process.wait(10)


async def analyze(url: str, table: str) -> None:
    """Gathers `table`'s planner statistics now."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"ANALYZE {table}")
    finally:
        await conn.close()


# The list run's page, as the gateway asks svc_tasks for it (bench/wrk/graphql.lua: `list`).
LIST_PAGE: Final = svc.ListTasksRequest(
    page_size=50,
    skip_total_size=True,
    filter=svc.TaskFilter(status=task_pb2.TASK_STATUS_OPEN, tags=["load"]),
)


async def page_plan(url: str) -> dict[str, Any]:
    """The one-user list run's page statement, built as svc_tasks builds it, with its plan and
    what the user holds: why PostgreSQL spends what it spends on that page."""
    query = task_query(LIST_PAGE, USER, PageTokens(SECRET, "plan"))
    sql, params = listing.page_sql(query)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET search_path TO tasks, public")  # as the service's pool sets it
        plan = [row[0] for row in await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)]
        (held,) = await conn.fetch(
            "SELECT count(*) AS tasks, count(*) FILTER (WHERE status = $2 AND tags @> $3) AS"
            " matching FROM tasks WHERE owner_id = $1",
            USER,
            task_pb2.TASK_STATUS_OPEN,
            list(LIST_PAGE.filter.tags),
        )
    finally:
        await conn.close()
    return {"plan": plan, "tasks": held["tasks"], "matching": held["matching"]}


async def commits(url: str) -> int:
    """Transactions committed in the whole PostgreSQL server so far."""
    conn = await asyncpg.connect(url)
    try:
        total: int = await conn.fetchval("SELECT sum(xact_commit)::bigint FROM pg_stat_database")
        return total
    finally:
        await conn.close()


def settle(parts: list[Part], quiet: float = 0.05, within: float = 60.0) -> None:
    """Waits until the stack is nearly idle (consumers caught up): under `quiet` cores for 1 s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        start = sum(cpu(parts).values())
        time.sleep(1.0)
        if sum(cpu(parts).values()) - start < quiet:
            return


def idle(parts: list[Part], seconds: float = 20.0) -> dict[str, float]:
    """Percent of one core each part uses with no request at all."""
    before = cpu(parts)
    time.sleep(seconds)
    after = cpu(parts)
    return {name: round((after[name] - before[name]) * 100 / seconds, 2) for name in after}


def seed_ids(
    stack: LocalStack, users: Path, operation: str, at_least: int, directory: Path
) -> Path:
    """Creates tasks with wrk until `at_least` ids are saved; returns the file of ids."""
    prefix = directory / operation
    collected = directory / f"{operation}.ids"
    lines: list[str] = []
    while len(lines) < at_least:
        wrk(stack.base_url, users, operation, 16, 10, save=prefix)
        for part in directory.glob(f"{operation}.*"):
            if part.suffix != ".ids":
                lines.extend(part.read_text().split())
                part.unlink()
    collected.write_text("\n".join(lines) + "\n")
    return collected


def table(runs: list[dict[str, Any]], parts: list[str]) -> str:
    header = (
        "| operation | users | conns | ops/s | p50 ms | p99 ms | max ms | errors | "
        + " | ".join(f"{name} CPU ms/op" for name in parts)
        + " | all CPU ms/op | commits/op |"
    )
    rule = "|" + "---|" * (10 + len(parts))
    rows = [
        f"| {run['operation']} | {run['users']} | {run['connections']} | {run['per_second']} | "
        f"{run['p50_ms']:.1f} | "
        f"{run['p99_ms']:.1f} | {run['max_ms']:.1f} | {run['errors']} | "
        + " | ".join(f"{run['cpu_ms_per_operation'][name]:.2f}" for name in parts)
        + f" | {run['cpu_ms_per_operation_total']:.2f} | {run['postgres_commits_per_operation']} |"
        for run in runs
    ]
    return "\n".join([header, rule, *rows])


def ratios(runs: list[dict[str, Any]], floor: list[dict[str, Any]]) -> dict[str, float]:
    """The stack's throughput over the floor's, one user at 16 connections, per operation; a
    run with errors is no rate to compare (a floor that answers 500s is fast)."""

    def rate(of: list[dict[str, Any]], operation: str) -> float:
        [found] = [
            r
            for r in of
            if r["operation"] == operation and r["connections"] == 16 and r["users"] == 1
        ]
        if found["errors"]:
            raise RuntimeError(
                f"{operation}: {found['errors']} errors, e.g. {found['example_error']!r}"
            )
        return float(found["per_second"])

    return {
        operation: round(rate(runs, operation) / rate(floor, f"floor_{operation}"), 2)
        for operation in ("create", "list")
    }


def publish(results: dict[str, Any], parts: list[str]) -> None:
    """Puts the latest table into docs/performance.md between its markers."""
    floors = results["floors"]
    memory = ", ".join(f"{name} {mb:.0f} MB" for name, mb in results["memory_mb_after"].items())
    idle_cpu = results["idle_percent_of_a_core"]
    text = "\n".join(
        [
            BEGIN,
            f"Measured {results['measured_at']} on {results['machine']}; {SECONDS} s per run.",
            "",
            table(results["runs"], parts),
            "",
            "The floor (`bench/floor.py`) in the same run, 16 connections: "
            + "; ".join(
                f"{run['operation'].removeprefix('floor_')} {run['per_second']}/s, p99 "
                f"{run['p99_ms']:.1f} ms, {run['cpu_ms_per_operation']['floor']:.2f} ms CPU in the "
                f"app and {run['cpu_ms_per_operation']['postgres']:.2f} ms in PostgreSQL per "
                "operation"
                for run in results["floor"]
            )
            + ". The stack's throughput as a share of the floor's: "
            + ", ".join(f"{op} {ratio}" for op, ratio in results["ratio_to_floor"].items())
            + ".",
            "",
            f"Other floors: gRPC round trip {floors['grpc_round_trip_ms']} ms, "
            f"asyncpg insert and commit {floors['insert_commit_ms']} ms, gateway GET /healthz "
            f"{floors['http']['healthz_per_second_at_16']}/s at 16 connections.",
            "",
            f"Idle stack: {sum(idle_cpu.values()):.2f}% of one core in all "
            f"({', '.join(f'{k} {v}%' for k, v in idle_cpu.items())}).",
            "",
            f"Memory after the runs: {memory}.",
            "",
            page_plan_text(results["list_page_plan"]),
            END,
        ]
    )
    rewrite_section(text, BEGIN, END)


def page_plan_text(found: dict[str, Any]) -> str:
    """The one-user page's plan as the run found it, with what the user held."""
    plan = "\n".join(found["plan"])
    return (
        f"The one-user list run's page statement (open tasks tagged `load`, newest first), "
        f"planned after the runs before it: the user then held {found['tasks']:,} tasks, "
        f"{found['matching']:,} of them open and tagged `load`.\n\n```\n{plan}\n```"
    )


async def main() -> None:
    await asyncio.to_thread(run)


def run() -> None:
    """Everything but the floors blocks on wrk or sleeps: it runs in a thread of its own."""
    if shutil.which("wrk") is None:
        raise SystemExit("the load benchmark needs wrk: apt-get install wrk (or brew install wrk)")
    with (
        local_stack(
            TODO_RATE_LIMIT_POINTS="1000000000", TODO_RATE_LIMIT_RESTORE="1000000000"
        ) as stack,
        tempfile.TemporaryDirectory(prefix="todo-load-") as scratch,
    ):
        directory = Path(scratch)
        parts = find_parts(stack)
        names = [part.name for part in parts]
        settle(parts)
        results: dict[str, Any] = {
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
            "seconds_per_run": SECONDS,
            "memory_mb_idle": {part.name: round(part.memory_mb(), 1) for part in parts},
            "idle_percent_of_a_core": idle(parts),
        }
        database_url = EmbeddedPostgres(Path(stack.env["TODO_DATA_DIR"])).url()
        results["floors"] = {
            "grpc_round_trip_ms": asyncio.run(grpc_floor(stack)),
            "insert_commit_ms": asyncio.run(database_floor(database_url)),
            "http": http_floor(stack),
        }
        one = stack.users_file([USER], directory / "one.users")
        many = stack.users_file(
            [f"load-user-{n:04}" for n in range(MANY_USERS)], directory / "many.users"
        )
        runs = []
        created = directory / "create"
        for connections in CONNECTIONS:
            runs.append(measured(stack, parts, "create", connections, one, save=created))
        ids = directory / "created.ids"
        ids.write_text(
            "".join(p.read_text() for p in directory.glob("create.*") if p.suffix != ".ids")
        )
        for connections in CONNECTIONS:
            runs.append(measured(stack, parts, "update", connections, one, ids=ids))
        # Completing a task twice is a no-op, so every completion gets a task of its own.
        best = max(run["per_second"] for run in runs if run["operation"] == "create")
        share = int(best * SECONDS * 1.3)
        recurring = seed_ids(stack, one, "create_recurring", share * len(CONNECTIONS), directory)
        lines = recurring.read_text().split()
        settle(parts)
        for index, connections in enumerate(CONNECTIONS):
            batch = directory / f"complete-{connections}.ids"
            batch.write_text("\n".join(lines[index * share : (index + 1) * share]) + "\n")
            run = measured(stack, parts, "complete", connections, one, ids=batch)
            run["ids_exhausted"] = run["requests"] > share
            runs.append(run)
        # The planner's statistics, as autovacuum keeps them on a table that grew long ago: a
        # table filled in the last minute has none yet, and its page plans are guesses.
        for statistics_of in ("tasks.tasks", "tasks.task_tags"):
            asyncio.run(analyze(database_url, statistics_of))
        results["list_page_plan"] = asyncio.run(page_plan(database_url))
        for operation in ("list", "search"):
            for connections in CONNECTIONS:
                runs.append(measured(stack, parts, operation, connections, one))
        for operation in ("create", "list", "search"):  # the per-user paths, as 1,000 users
            runs.append(measured(stack, parts, operation, 16, many))
        with floor_app(stack) as (floor_url, floor_part):
            floor_parts = [floor_part, *(part for part in parts if part.name == "postgres")]
            floor_runs = [measured(stack, floor_parts, "floor_create", 16, one, base_url=floor_url)]
            asyncio.run(analyze(database_url, f"{floor.SCHEMA}.tasks"))
            floor_runs.append(
                measured(stack, floor_parts, "floor_list", 16, one, base_url=floor_url)
            )
        results["runs"] = runs
        results["floor"] = floor_runs
        results["ratio_to_floor"] = ratios(runs, floor_runs)
        results["memory_mb_after"] = {part.name: round(part.memory_mb(), 1) for part in parts}
        results["idle_percent_of_a_core_after"] = idle(parts, 10.0)
    print(table(runs, names))
    path = write_results("load", results)
    publish(results, names)
    print(f"results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
