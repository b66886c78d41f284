"""The client of the fault suite: a seeded, steady mix of mutations over both gateways.

Each user has one worker doing one operation at a time: create a task,
create a recurring task, complete one, update a title, or create a task with
a reminder due a few seconds later. An operation is retried (creates with the
same `requestId`, so a retry never makes a second task) until a gateway
acknowledges it; only then does the client record what it now expects. That
record, `expected`, is what the invariants hold the databases to.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx

from gateway import ids
from todo_runtime.global_ids import global_id

OPERATION_DEADLINE: Final = 180.0  # longer than any fault the suite injects
PACE: Final = 0.15  # seconds between one worker's operations: a steady, modest load
# Codes that say the request did not (certainly) take effect and may be sent again.
RETRYABLE: Final = frozenset({"UNAVAILABLE", "INTERNAL", "RATE_LIMITED", "TOO_MANY_REQUESTS"})
RECURRENCE: Final = "every day at 9am"

CREATE: Final = """mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id title status } userErrors { field message code } } }"""
UPDATE: Final = """mutation($input: UpdateTaskInput!) {
  updateTask(input: $input) { task { id title status } userErrors { field message code } } }"""
COMPLETE: Final = """mutation($id: ID!) {
  completeTask(input: {id: $id}) { task { id title status } userErrors { field message code } }
}"""
CREATE_WEBHOOK: Final = """mutation($url: String!) {
  createWebhook(input: {url: $url}) { secret userErrors { field message code } } }"""


class NotAcknowledged(AssertionError):
    """A gateway refused an operation for good, or never acknowledged it within the deadline."""


@dataclass
class Expected:
    """What the client was told about one task: its owner, title and whether it is completed."""

    owner: str
    title: str
    completed: bool
    recurring: bool

    @property
    def status(self) -> int:
        return 2 if self.completed else 1  # svc_tasks' stored status codes


class Workload:
    """Runs one worker per user until closed; `pause()` lets every in-flight operation finish.

    `urls`: the gateways' /graphql URLs; `tokens`: a bearer token per user.
    """

    def __init__(self, urls: list[str], tokens: dict[str, str], seed: int) -> None:
        self._urls = urls
        self._tokens = tokens
        self._seed = seed
        self._http = httpx.AsyncClient(timeout=10)
        self._running = asyncio.Event()
        self._busy: dict[str, bool] = dict.fromkeys(tokens, False)
        self._workers: list[asyncio.Task[None]] = []
        self.expected: dict[str, Expected] = {}  # by task id (svc_tasks' uuid)
        self.acknowledged = 0
        self.webhook_secrets: dict[str, str] = {}
        self.with_reminder: set[str] = set()  # tasks created with a reminder due in the run

    async def register_webhooks(self, url: str) -> None:
        """One endpoint per user at `url`, so every fired reminder is also a webhook delivery."""
        for user in self._tokens:
            payload = await self._mutate(user, 0, CREATE_WEBHOOK, {"url": url})
            self.webhook_secrets[user] = payload["secret"]

    def start(self) -> None:
        self._running.set()
        self._workers = [
            asyncio.create_task(self._work(user), name=f"worker {user}") for user in self._tokens
        ]

    async def pause(self) -> None:
        """Stops new operations and waits until every started one was acknowledged."""
        self._running.clear()
        while any(self._busy.values()):
            self._raise_failures()
            await asyncio.sleep(0.05)
        self._raise_failures()

    def resume(self) -> None:
        self._running.set()

    def _raise_failures(self) -> None:
        for worker in self._workers:
            if worker.done() and not worker.cancelled():
                worker.result()

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        await self._http.aclose()

    async def _work(self, user: str) -> None:
        rng = random.Random(f"{self._seed}/{user}")
        open_tasks: list[str] = []
        open_recurring: list[str] = []
        number = 0
        while True:
            await self._running.wait()
            self._busy[user] = True
            try:
                number += 1
                choice = rng.choices(
                    ["create", "recurring", "complete", "update", "reminder"], [2, 2, 2, 3, 2]
                )[0]
                if choice == "complete" and open_recurring:
                    task = open_recurring.pop(0)
                    await self._complete(user, number, task)
                elif choice == "update" and open_tasks:
                    task = rng.choice(open_tasks)
                    await self._update(user, number, task, f"{user} renamed {number}")
                elif choice == "recurring":
                    open_recurring.append(
                        await self._create(user, number, {"recurrence": RECURRENCE}, recurring=True)
                    )
                elif choice == "reminder":
                    now = datetime.now(UTC)
                    fire = now + timedelta(seconds=rng.uniform(1.0, 3.0))
                    fields = {
                        "remindAt": [fire.isoformat()],
                        "dueAt": (now + timedelta(minutes=5)).isoformat(),
                    }
                    task = await self._create(user, number, fields, recurring=False)
                    self.with_reminder.add(task)
                    open_tasks.append(task)
                else:
                    open_tasks.append(await self._create(user, number, {}, recurring=False))
            finally:
                self._busy[user] = False
            await asyncio.sleep(PACE)

    async def _create(
        self, user: str, number: int, fields: dict[str, Any], *, recurring: bool
    ) -> str:
        title = f"{user} task {number}"
        request = {"title": title, "requestId": f"{self._seed}-{user}-{number}", **fields}
        payload = await self._mutate(user, number, CREATE, {"input": request})
        return self._acknowledge(user, payload["task"], recurring=recurring)

    async def _update(self, user: str, number: int, task: str, title: str) -> None:
        update = {"id": global_id("Task", task), "title": title}
        payload = await self._mutate(user, number, UPDATE, {"input": update})
        self._acknowledge(user, payload["task"], recurring=self.expected[task].recurring)

    async def _complete(self, user: str, number: int, task: str) -> None:
        payload = await self._mutate(user, number, COMPLETE, {"id": global_id("Task", task)})
        self._acknowledge(user, payload["task"], recurring=True)

    def _acknowledge(self, user: str, task: dict[str, Any], *, recurring: bool) -> str:
        local = ids.task_id(task["id"])
        assert local is not None, task
        self.expected[local] = Expected(
            user, task["title"], task["status"] == "COMPLETED", recurring
        )
        self.acknowledged += 1
        return local

    async def _mutate(
        self, user: str, number: int, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        """The mutation's payload once a gateway acknowledged it; tries the other gateway next.
        A refusal of its input (userErrors) is for good."""
        deadline = time.monotonic() + OPERATION_DEADLINE
        attempt = 0
        while True:
            url = self._urls[(number + attempt) % len(self._urls)]
            attempt += 1
            body = await self._post(url, user, query, variables)
            errors = body.get("errors") if body else None
            if body is not None and not errors and body.get("data"):
                [payload] = body["data"].values()
                if payload["userErrors"]:
                    raise NotAcknowledged(f"{query.split('(', maxsplit=1)[0]} refused: {payload}")
                return dict(payload)
            codes = {e.get("extensions", {}).get("code", "") for e in errors or []}
            if codes - RETRYABLE:
                raise NotAcknowledged(f"{query.split('(', maxsplit=1)[0]} refused: {errors}")
            if time.monotonic() > deadline:
                raise NotAcknowledged(f"not acknowledged within {OPERATION_DEADLINE} s: {body}")
            await asyncio.sleep(min(1.0, 0.1 * attempt))

    async def _post(
        self, url: str, user: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any] | None:
        try:
            response = await self._http.post(
                url,
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {self._tokens[user]}"},
            )
            body: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError):
            return None  # no answer, or not GraphQL's (a gateway starting or stopping)
        return body
