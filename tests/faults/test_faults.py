"""Nothing is lost: the whole stack, two replicas of everything, broken on purpose under load.

The CI run injects every fault once, in turn (see `faults.every_fault`); with
`TODO_FAULT_SOAK_SECONDS` set it runs that long instead, with faults of any
kind on any replica at seeded random times (`TODO_FAULT_SEED`). Either way it
prints one table row per fault and fails on anything lost or duplicated.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import httpx
import pytest

from gateway.api.tasks.change_cursors import ChangeCursors
from tests.support.faults import faults, report
from tests.support.faults.campaign import Checker, Row, inject, settle
from tests.support.faults.invariants import AuditAccess, public_key
from tests.support.faults.stack import NOTIFY_GRACE_SECONDS, FaultStack
from tests.support.faults.subscribers import Subscriber
from tests.support.faults.workload import Workload
from tests.support.svc_notify.receiver import receiving
from todo_runtime.tokens import issue_token

SOAK_SECONDS: Final = float(os.environ.get("TODO_FAULT_SOAK_SECONDS", "0"))
SEED: Final = int(os.environ.get("TODO_FAULT_SEED", "16"))
USERS: Final = 3
WARM_UP: Final = 5.0  # seconds of client work before the first fault

pytestmark = [pytest.mark.faults, pytest.mark.alone, pytest.mark.timeout(SOAK_SECONDS + 900)]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[FaultStack]:
    running = FaultStack(tmp_path / "stack")
    try:
        await running.start()
        yield running
    finally:
        await running.close()


async def _first_cursor(url: str, token: str) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            url,
            json={"query": "{ tasks(first: 1) { changeCursor } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    cursor: str = response.json()["data"]["tasks"]["changeCursor"]
    return cursor


async def test_no_acknowledged_work_is_lost_or_duplicated_under_faults(
    stack: FaultStack, request: pytest.FixtureRequest
) -> None:
    since = datetime.now(UTC)
    secret = stack.secrets["TODO_JWT_SECRET"]
    tokens = {
        f"fault-user-{n}": issue_token(secret, f"fault-user-{n}", int(SOAK_SECONDS) + 3600)
        for n in range(USERS)
    }
    cursors = ChangeCursors(stack.secrets["TODO_INTERNAL_SECRET"])
    subscribers = [
        Subscriber(
            url.replace("http://", "ws://"), user, token, await _first_cursor(url, token), cursors
        )
        for user, token in tokens.items()
        for url in stack.gateway_urls
    ]
    workload = Workload(stack.gateway_urls, tokens, SEED)
    rows: list[Row] = []
    async with receiving() as receiver:
        await workload.register_webhooks(receiver.url)
        audit = AuditAccess(
            stack.gateway_urls[0],
            tokens,
            public_key(stack.secrets["TODO_AUDIT_SIGNING_KEY"]),
            stack.directory,
        )
        checker = Checker(
            database_url=stack.database_url,
            workload=workload,
            receiver=receiver,
            subscribers=subscribers,
            audit=audit,
            grace=timedelta(seconds=NOTIFY_GRACE_SECONDS),
        )
        for subscriber in subscribers:
            subscriber.start()
        workload.start()
        try:
            before = workload.acknowledged
            await asyncio.sleep(WARM_UP)  # the client's work before any fault, for the baseline
            rows.append(
                await settle(
                    checker,
                    workload,
                    "none (baseline)",
                    workload.acknowledged - before,
                    time.monotonic(),
                )
            )
            if SOAK_SECONDS:
                await _soak(stack, workload, checker, rows, since)
            else:
                for fault in faults.every_fault(since):
                    rows.append(await inject(fault, stack, workload, checker))
        finally:
            await workload.close()
            for subscriber in subscribers:
                await subscriber.close()
            took = time.monotonic() - stack.created
            title = f"fault injection: {len(rows)} rows, seed {SEED}, {took:.0f} s with start-up"
            text = report.table(rows, title)
            if any(row.lost or row.duplicated for row in rows):
                text += "\n" + report.warnings(stack.logs)
            request.node.user_properties.append((report.PROPERTY, text))
            print(text)
    assert [row.fault for row in rows if row.lost or row.duplicated] == []


async def _soak(
    stack: FaultStack, workload: Workload, checker: Checker, rows: list[Row], since: datetime
) -> None:
    """Faults at seeded random times until `SOAK_SECONDS` passed."""
    rng = random.Random(SEED)
    deadline = time.monotonic() + SOAK_SECONDS
    while time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(5.0, 60.0))  # the client works undisturbed meanwhile
        rows.append(await inject(faults.random_fault(rng, since), stack, workload, checker))
