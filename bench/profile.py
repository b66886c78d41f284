"""Where the CPU goes under load: py-spy on the gateway and svc_tasks, pg_stat_statements on
PostgreSQL, while wrk sends `createTask` and then a 50-task page at 16 connections.

The stack is `todo up` (as in `bench.load`), its embedded PostgreSQL started with
`pg_stat_statements` preloaded. For each operation: the statement counters are reset, py-spy
samples both Python parts (their child processes included) for the length of the run, and
wrk sends the operation as one user. py-spy's samples are summed by the package whose code was
on the CPU (the innermost frame) and by function; PostgreSQL's statements by their total
execution time, with calls per operation. Needs py-spy (`pip install py-spy`, run as a user
that may ptrace the stack: root, or `kernel.yama.ptrace_scope=0`) and wrk. Results:
bench/results/profile.json, and the tables in docs/performance.md between the profile markers.
"""

from __future__ import annotations

import asyncio
import collections
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import asyncpg

from bench.load import SECONDS, USER, find_parts, settle, wrk
from bench.local_stack import local_stack
from bench.support import rewrite_section, write_results
from todo_cli.database import EmbeddedPostgres

BEGIN, END = "<!-- profile table: begin -->", "<!-- profile table: end -->"
PROFILED: Final = ("gateway", "svc_tasks")
OPERATIONS: Final = ("create", "list")
CONNECTIONS: Final = 16
RATE: Final = 250  # samples per second
TOP: Final = 12
# The innermost frame's file, to the package it belongs to (first match wins).
PACKAGES: Final = [
    (re.compile(p), name)
    for p, name in [
        (r"/graphql/", "graphql-core"),
        (r"/strawberry/", "strawberry"),
        (r"/grpc/|cygrpc|_cython", "grpcio"),
        (r"/asyncpg/", "asyncpg"),
        (r"/google/protobuf/", "protobuf"),
        (r"/uvicorn/|httptools", "uvicorn"),
        (r"/starlette/", "starlette"),
        (r"/confluent_kafka/", "confluent-kafka"),
        (r"/opentelemetry/", "opentelemetry"),
        (r"/prometheus_client/", "prometheus-client"),
        (r"/(jwt|cryptography)/", "jwt"),
        (r"/gateway/", "gateway (ours)"),
        (r"/svc_tasks/", "svc_tasks (ours)"),
        (r"/todo_runtime/|/todo_contracts/|/todo_recurrence/", "todo_runtime (ours)"),
        # py-spy sees no native frames: time in uvloop's C loop shows as asyncio's `run`, and
        # time in the native threads (gRPC's, librdkafka's) as `Thread.run`.
        (r"/asyncio/|uvloop", "event loop (native)"),
        (r"/threading\.py", "native threads"),
        (r"/json/|/logging/|/typing\.py|/enum\.py|/dataclasses\.py|/uuid\.py", "stdlib"),
    ]
]
_FRAME: Final = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def package_of(file: str) -> str:
    for pattern, name in PACKAGES:
        if pattern.search(file):
            return name
    return "other"


def summarise(raw: str) -> dict[str, Any]:
    """py-spy's collapsed stacks ("frame;frame;... count") as shares of the samples: by the
    innermost frame's package and by its function."""
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.rsplit(";", 1)[-1]
        match = _FRAME.match(leaf)
        function, file = (match["function"], match["file"]) if match else (leaf, leaf)
        samples = int(count)
        total += samples
        by_package[package_of(file)] += samples
        by_function[f"{function} ({Path(file).parent.name}/{Path(file).name})"] += samples

    def shares(counter: collections.Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / max(1, total), 1)) for name, n in counter.most_common(TOP)]

    return {"samples": total, "by_package": shares(by_package), "by_function": shares(by_function)}


async def statements(url: str, operations: int) -> list[dict[str, Any]]:
    """The statements that took PostgreSQL's time since the last reset, largest first."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """SELECT query, calls, total_exec_time, mean_exec_time,
                      sum(total_exec_time) OVER () AS everything
               FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1""",
            TOP,
        )
    finally:
        await conn.close()
    return [
        {
            "query": " ".join(row["query"].split())[:110],
            "calls_per_operation": round(row["calls"] / max(1, operations), 2),
            "mean_ms": round(row["mean_exec_time"], 3),
            "share_percent": round(100 * row["total_exec_time"] / max(1e-9, row["everything"]), 1),
        }
        for row in rows
    ]


async def reset(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


def run() -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("the profile needs wrk: see this module's docstring")
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("the profile needs py-spy: see this module's docstring")
    conf = {"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all"}
    results: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "connections": CONNECTIONS,
        "seconds": SECONDS,
        "operations": {},
    }
    with (
        local_stack(
            postgres_conf=conf,
            TODO_RATE_LIMIT_POINTS="1000000000",
            TODO_RATE_LIMIT_RESTORE="1000000000",
        ) as stack,
        tempfile.TemporaryDirectory(prefix="todo-profile-") as scratch,
    ):
        directory = Path(scratch)
        parts = {part.name: part for part in find_parts(stack)}
        database_url = EmbeddedPostgres(Path(stack.env["TODO_DATA_DIR"])).url()
        users = stack.users_file([USER], directory / "one.users")
        settle(list(parts.values()))
        for operation in OPERATIONS:
            asyncio.run(reset(database_url))
            spies = {
                name: subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(parts[name].root.pid),
                        "--subprocesses",
                        "--nonblocking",
                        "--full-filenames",
                        "--rate",
                        str(RATE),
                        "--duration",
                        str(SECONDS),
                        "--format",
                        "raw",
                        "--output",
                        str(directory / f"{operation}.{name}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for name in PROFILED
            }
            result = wrk(stack.base_url, users, operation, CONNECTIONS, SECONDS)
            for sampler in spies.values():
                sampler.wait(SECONDS + 30)
            done = max(1, result["requests"] - result["errors"])
            settle(list(parts.values()))
            results["operations"][operation] = {
                "per_second": round(result["requests"] / (result["duration_us"] / 1e6), 1),
                "errors": result["errors"],
                "python": {
                    name: summarise((directory / f"{operation}.{name}.txt").read_text())
                    for name in PROFILED
                },
                "postgres": asyncio.run(statements(database_url, done)),
            }
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        BEGIN,
        f"Measured {results['measured_at']}; {results['connections']} connections, "
        f"{results['seconds']} s per operation, as one user.",
    ]
    for operation, found in results["operations"].items():
        lines += ["", f"**{operation}** ({found['per_second']}/s while profiled)", ""]
        for name, profile in found["python"].items():
            packages = ", ".join(f"{package} {share}%" for package, share in profile["by_package"])
            functions = ", ".join(
                f"`{function}` {share}%" for function, share in profile["by_function"][:6]
            )
            lines.append(f"- {name}, by package on the CPU: {packages}.")
            lines.append(f"  Hottest functions: {functions}.")
        lines += ["", "| PostgreSQL statement | calls/op | mean ms | share |", "|---|---|---|---|"]
        for row in found["postgres"][:8]:
            query = row["query"].replace("|", "\\|")
            lines.append(
                f"| `{query}` | {row['calls_per_operation']} | {row['mean_ms']} | {row['share_percent']}% |"
            )
    lines.append(END)
    return "\n".join(lines)


def publish(results: dict[str, Any]) -> None:
    rewrite_section(table(results), BEGIN, END)


async def main() -> None:
    results = await asyncio.to_thread(run)
    path = write_results("profile", results)
    publish(results)
    print(f"results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
