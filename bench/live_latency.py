"""Live update latency: mutation → subscriber, with 100 and with 1,000 open subscriptions.

svc_tasks runs in this process on a private PostgreSQL and Tansu broker;
svc_live and the gateway run as real processes (`python -m svc_live`,
`python -m gateway`). Subscriptions are spread over 100 users and opened with
the user's `changeCursor`, so none can miss a change. Each mutation (one
createTask at a time, round-robin over the users) is timed from just before
its request to the moment each of its user's subscribers receives the update.
Reported: p50/p99 latency per scenario, the deliveries lost (expected minus
received; must be 0), and the gateway's RSS per open subscription.
Targets: p99 < 100 ms with 100 subscriptions, no loss with 1,000.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.support import SECRET, Stack, accepted, scratch_stack, summary, wait_for, write_results
from todo_cli.broker import free_port
from todo_runtime.tokens import issue_token

JWT_SECRET = "bench-jwt-secret-0123456789abcdefghijkl"
USERS = 100
MUTATIONS = 200
SUBSCRIBE = "subscription($since: String) { taskUpdates(since: $since) { cursor task { title } } }"
CREATE = """mutation($title: String!) {
  createTask(input: {title: $title}) { task { id } userErrors { field message code } } }"""
CURSOR = "{ tasks(first: 1) { changeCursor } }"


class Subscriber:
    """One graphql-transport-ws connection with one taskUpdates subscription; notes arrival times."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.arrivals: dict[str, float] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.connection:
                now = time.perf_counter()
                message = json.loads(raw)
                if message.get("type") == "next" and message["payload"].get("data"):
                    self.arrivals[message["payload"]["data"]["taskUpdates"]["task"]["title"]] = now

    async def close(self) -> None:
        self.reader.cancel()
        await asyncio.wait([self.reader])
        await self.connection.close()


async def _subscribe(url: str, token: str, since: str) -> Subscriber:
    connection = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")])
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await connection.send(json.dumps(init))
    if json.loads(await connection.recv()).get("type") != "connection_ack":
        raise RuntimeError("the gateway did not acknowledge the connection")
    payload = {"query": SUBSCRIBE, "variables": {"since": since}}
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return Subscriber(connection)


@contextlib.asynccontextmanager
async def _processes(stack: Stack) -> AsyncIterator[tuple[str, psutil.Process]]:
    """svc_live and the gateway as processes; yields the gateway's port and process."""
    live_port, gateway_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": stack.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka.bootstrap_servers,
        "TODO_INTERNAL_SECRET": SECRET,
        "TODO_JWT_SECRET": JWT_SECRET,
        "TODO_TASKS_ADDR": stack.tasks_address,
        "TODO_LIVE_PORT": str(live_port),
        "TODO_GATEWAY_PORT": str(gateway_port),
        "TODO_WS_MAX_CONNECTIONS_PER_USER": "100",
        "TODO_RATE_LIMIT_POINTS": "1000000",
        "TODO_LOG_LEVEL": "WARNING",
    }
    live = await asyncio.create_subprocess_exec(sys.executable, "-m", "svc_live", env=env)
    gateway_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}  # no rate limiter
    gateway = await asyncio.create_subprocess_exec(sys.executable, "-m", "gateway", env=gateway_env)
    try:
        async with httpx.AsyncClient() as http:

            async def ready() -> bool:
                try:
                    response = await http.get(f"http://127.0.0.1:{gateway_port}/healthz")
                except httpx.TransportError:
                    return False
                return response.status_code == 200

            await wait_for(ready, 60.0, "gateway up")
        yield str(gateway_port), psutil.Process(gateway.pid)
    finally:
        for process in (gateway, live):
            process.terminate()
            await process.wait()


async def scenario(port: str, gateway: psutil.Process, subscriptions: int) -> dict[str, Any]:
    url, http_url = f"ws://127.0.0.1:{port}/graphql", f"http://127.0.0.1:{port}/graphql"
    users = [f"bench-{subscriptions}-{index}" for index in range(USERS)]
    tokens = {user: issue_token(JWT_SECRET, user, 3600) for user in users}
    async with httpx.AsyncClient(timeout=30) as http:

        async def post(user: str, query: str, variables: dict[str, Any]) -> Any:
            headers = {"Authorization": f"Bearer {tokens[user]}"}
            body = {"query": query, "variables": variables}
            response = (await http.post(http_url, json=body, headers=headers)).json()
            if "errors" in response:
                raise RuntimeError(response["errors"])
            return response["data"]

        cursors = {user: (await post(user, CURSOR, {}))["tasks"]["changeCursor"] for user in users}
        rss_before = gateway.memory_info().rss
        by_user: dict[str, list[Subscriber]] = {user: [] for user in users}
        for index in range(subscriptions):
            user = users[index % USERS]
            by_user[user].append(await _subscribe(url, tokens[user], cursors[user]))
        # Every subscription is live once it delivered its user's warm-up change.
        for user in users:
            accepted(await post(user, CREATE, {"title": f"warm-up {user}"}), "createTask")

        async def all_live() -> bool:
            return all(f"warm-up {u}" in s.arrivals for u in users for s in by_user[u])

        await wait_for(all_live, 120.0, "every subscription live")
        rss_per_subscription = (gateway.memory_info().rss - rss_before) / subscriptions
        sent: dict[str, tuple[str, float]] = {}
        for index in range(MUTATIONS):
            user = users[index % USERS]
            title = f"m{index}"
            sent[title] = (user, time.perf_counter())
            accepted(await post(user, CREATE, {"title": title}), "createTask")
            await asyncio.sleep(0.02)  # about 50 mutations a second

        def delivered() -> int:
            return sum(title in s.arrivals for title, (u, _) in sent.items() for s in by_user[u])

        expected = sum(len(by_user[user]) for user, _ in sent.values())
        with contextlib.suppress(RuntimeError):  # lost deliveries are counted, not raised

            async def complete() -> bool:
                return delivered() == expected

            await wait_for(complete, 30.0, "every update delivered")
        latencies = [
            (s.arrivals[title] - start) * 1000
            for title, (user, start) in sent.items()
            for s in by_user[user]
            if title in s.arrivals
        ]
        for subscribers in by_user.values():
            for subscriber in subscribers:
                await subscriber.close()
    return {
        "subscriptions": subscriptions,
        "users": USERS,
        "mutations": MUTATIONS,
        "latency": summary(latencies),
        "expected_deliveries": expected,
        "lost": expected - delivered(),
        "gateway_rss_per_subscription_kb": round(rss_per_subscription / 1024, 1),
    }


async def main() -> None:
    async with scratch_stack() as stack, _processes(stack) as (port, gateway):
        results = [await scenario(port, gateway, count) for count in (100, 1000)]
    path = write_results("live_latency", {"scenarios": results})
    for result in results:
        print(
            f"{result['subscriptions']} subscriptions: p50 {result['latency']['p50_ms']} ms, "
            f"p99 {result['latency']['p99_ms']} ms, lost {result['lost']}, gateway RSS "
            f"{result['gateway_rss_per_subscription_kb']} KB per subscription"
        )
    print(f"results: {path}")


if __name__ == "__main__":
    asyncio.run(main())
