"""Completion → next instance visible through GraphQL `tasks`: p50/p99 over real services.

svc_tasks, svc_recur and the gateway run in this process against a scratch
database and a Tansu broker; each sample completes a recurring task through
`completeTask` and polls `tasks` until the next instance is listed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bench.support import (
    accepted,
    gateway_client,
    scratch_stack,
    service_config,
    summary,
    write_results,
)
from svc_recur.service import SERVICE as RECUR
from todo_runtime import endpoints
from todo_runtime.runner import start_service

SAMPLES = 60
CREATE = """mutation($t: String!) {
  createTask(input: {title: $t, recurrence: "every day at 9am"}) {
    task { id seriesId } userErrors { field message code } } }"""
COMPLETE = """mutation($id: ID!) {
  completeTask(input: {id: $id}) { task { id } userErrors { field message code } } }"""
SERIES = "query($s: String!) { tasks(filter: {search: $s, status: OPEN}) { edges { node { id seriesId } } } }"


async def _graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = (
        await http.post("/graphql", json={"query": query, "variables": variables})
    ).json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]  # type: ignore[no-any-return]


async def main() -> None:
    async with scratch_stack() as stack:
        recur = await start_service(
            RECUR,
            service_config(
                endpoints.RECUR,
                stack.database_url,
                stack.kafka.bootstrap_servers,
                TODO_TASKS_ADDR=stack.tasks_address,
            ),
        )
        latencies: list[float] = []
        async with gateway_client(stack.tasks_address, f"127.0.0.1:{recur.port}") as http:
            for sample in range(SAMPLES + 3):
                title = f"sample{sample:03d}"
                created = accepted(await _graphql(http, CREATE, {"t": title}), "createTask")["task"]
                started = time.perf_counter()
                accepted(await _graphql(http, COMPLETE, {"id": created["id"]}), "completeTask")
                while True:
                    edges = (await _graphql(http, SERIES, {"s": title}))["tasks"]["edges"]
                    if any(e["node"]["id"] != created["id"] for e in edges):
                        break
                    await asyncio.sleep(0.005)
                if sample >= 3:  # the first ones include the consumer group join
                    latencies.append((time.perf_counter() - started) * 1000)
        await recur.stop()
    result = summary(latencies)
    print(
        f"completion -> next instance visible: p50={result['p50_ms']} ms p99={result['p99_ms']} ms (n={result['n']})"
    )
    path = write_results(
        "next_instance", {"completion_to_next_instance_visible": result, "target_p99_ms": 1000}
    )
    print(f"results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
