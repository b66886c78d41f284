"""Other users while one user sends the most expensive rules: list and next-instance p99.

Runs the whole stack as `todo up` does (separate processes). Measures a
victim's `tasks(first: 50)` and completion -> next-instance latency three
times: alone; while another user sends ordinary recurring-task requests at a
fixed rate; and while that user sends, at the same rate, the rules that cost
the engine most (previews of 100 occurrences and creates). The rules are the
variable: target, the worst rules' p99s within 2x of the ordinary ones'.
(The load of the requests themselves is the rate limit's concern.)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Any

import httpx

from bench.local_stack import LocalStack, local_stack
from bench.support import accepted, summary, write_results

WORST_RULES = (
    "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=23;BYMINUTE=59",
    "FREQ=MINUTELY;INTERVAL=7;BYMONTH=2;BYMONTHDAY=29;BYDAY=SU,MO;BYSECOND=0,30",
    "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=TU;BYMINUTE=1,2,3",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=23;BYMINUTE=59;BYSECOND=59",
    "FREQ=YEARLY;INTERVAL=397;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=23;BYMINUTE=59;BYSECOND=7,8",
)
ORDINARY_RULES = ("every weekday at 9am", "every month on the last friday", "every 2 weeks")
RATE = 20.0  # the other user's requests per second, in both loaded phases
LIST_SAMPLES = 150
NEXT_SAMPLES = 30
LIST = "{ tasks(first: 50, filter: {status: OPEN}) { edges { node { id title } } } }"
CREATE = """mutation($i: CreateTaskInput!) {
  createTask(input: $i) { task { id } userErrors { field message code } } }"""
COMPLETE = """mutation($id: ID!) {
  completeTask(input: {id: $id}) { task { id } userErrors { field message code } } }"""
FIND = "query($s: String!) { tasks(filter: {search: $s, status: OPEN}) { edges { node { id } } } }"
PREVIEW = "query($t: String!) { parseRecurrence(text: $t, count: 100) { occurrences } }"


async def call(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body


async def mutate(http: httpx.AsyncClient, mutation: str, query: str, **variables: Any) -> Any:
    """The changed task of a mutation the victim needs done; RuntimeError if it was not."""
    body = await call(http, query, **variables)
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return accepted(body["data"], mutation)["task"]


async def measure(http: httpx.AsyncClient, label: str) -> dict[str, Any]:
    lists: list[float] = []
    for _ in range(LIST_SAMPLES):
        started = time.perf_counter()
        body = await call(http, LIST)
        if "errors" in body:
            raise RuntimeError(body["errors"])
        lists.append((time.perf_counter() - started) * 1000)
    nexts: list[float] = []
    for sample in range(NEXT_SAMPLES):
        title = f"{label}{sample:03d}"
        created = await mutate(
            http, "createTask", CREATE, i={"title": title, "recurrence": "every day at 9am"}
        )
        task_id = created["id"]
        started = time.perf_counter()
        await mutate(http, "completeTask", COMPLETE, id=task_id)
        while True:
            edges = (await call(http, FIND, s=title))["data"]["tasks"]["edges"]
            if any(edge["node"]["id"] != task_id for edge in edges):
                break
            await asyncio.sleep(0.005)
        nexts.append((time.perf_counter() - started) * 1000)
    return {"list_tasks": summary(lists), "next_instance": summary(nexts)}


async def send(http: httpx.AsyncClient, rule: str, preview: bool, outcomes: Counter[str]) -> None:
    query, variables = (
        (PREVIEW, {"t": rule}) if preview else (CREATE, {"i": {"title": "x", "recurrence": rule}})
    )
    body = await call(http, query, **variables)
    codes = [e.get("extensions", {}).get("code", "?") for e in body.get("errors", [])]
    # A rule createTask refuses is a user error in its payload, not an error (its code: INVALID).
    payload = (body.get("data") or {}).get("createTask") or {}
    codes += [error["code"] for error in payload.get("userErrors", [])]
    outcomes.update(codes or ["ok"])


async def other_user(
    http: httpx.AsyncClient, rules: tuple[str, ...], outcomes: Counter[str], stop: asyncio.Event
) -> None:
    """Requests at RATE per second (open loop: a slow answer does not slow the sender)."""
    sent: set[asyncio.Task[None]] = set()
    turn = 0
    while not stop.is_set():
        task = asyncio.create_task(send(http, rules[turn % len(rules)], bool(turn % 2), outcomes))
        sent.add(task)
        task.add_done_callback(sent.discard)
        turn += 1
        await asyncio.sleep(1 / RATE)
    for task in list(sent):
        with contextlib.suppress(httpx.HTTPError):
            await task


async def loaded(
    http: httpx.AsyncClient, other: httpx.AsyncClient, rules: tuple[str, ...], label: str
) -> tuple[dict[str, Any], dict[str, int]]:
    outcomes: Counter[str] = Counter()
    stop = asyncio.Event()
    sender = asyncio.create_task(other_user(other, rules, outcomes, stop))
    try:
        await asyncio.sleep(2.0)  # let the load settle
        result = await measure(http, label)
    finally:
        stop.set()
        await sender
    return result, dict(outcomes)


def ratios(slow: dict[str, Any], base: dict[str, Any]) -> dict[str, float]:
    return {
        name: round(slow[name]["p99_ms"] / max(base[name]["p99_ms"], 0.001), 2)
        for name in ("list_tasks", "next_instance")
    }


async def run(stack: LocalStack) -> dict[str, Any]:
    victim = {"Authorization": f"Bearer {stack.token('victim')}"}
    mallory = {"Authorization": f"Bearer {stack.token('mallory')}"}
    async with (
        httpx.AsyncClient(base_url=stack.base_url, headers=victim, timeout=60) as http,
        httpx.AsyncClient(base_url=stack.base_url, headers=mallory, timeout=60) as other,
    ):
        for index in range(200):
            await mutate(http, "createTask", CREATE, i={"title": f"plain task {index}"})
        await measure(http, "warmup")
        calm = await measure(http, "calm")
        ordinary, ordinary_outcomes = await loaded(http, other, ORDINARY_RULES, "ordinary")
        hostile, hostile_outcomes = await loaded(http, other, WORST_RULES, "storm")
    return {
        "calm": calm,
        "ordinary_rules": ordinary,
        "worst_rules": hostile,
        "other_user_rate_per_second": RATE,
        "worst_over_ordinary_p99": ratios(hostile, ordinary),
        "worst_over_calm_p99": ratios(hostile, calm),
        "target_worst_over_ordinary": 2.0,
        "other_user_outcomes": {"ordinary": ordinary_outcomes, "worst": hostile_outcomes},
    }


async def main() -> None:
    # The rate limiter would turn the victim's 150 back-to-back lists (101 points each) away:
    # this measures what hostile rules cost others, with nothing but the engine's budget between.
    with local_stack(
        TODO_RATE_LIMIT_POINTS="1000000000", TODO_RATE_LIMIT_RESTORE="1000000000"
    ) as stack:
        result = await run(stack)
    for name in ("list_tasks", "next_instance"):
        print(
            f"{name} p99: {result['calm'][name]['p99_ms']} ms alone, "
            f"{result['ordinary_rules'][name]['p99_ms']} ms beside ordinary rules, "
            f"{result['worst_rules'][name]['p99_ms']} ms beside the worst rules "
            f"(x{result['worst_over_ordinary_p99'][name]}, target x2)"
        )
    print(f"other user's answers: {result['other_user_outcomes']}")
    print(f"results: {write_results('hostile_recurrence', result)}")


if __name__ == "__main__":
    asyncio.run(main())
