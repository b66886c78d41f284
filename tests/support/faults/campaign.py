"""One fault at a time against the running stack: inject, hold, heal, then wait for the stack to
converge and count what the invariants found lost or duplicated since the previous row."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

import asyncpg

from tests.support.faults import invariants
from tests.support.faults.faults import Fault
from tests.support.faults.invariants import AuditAccess, Findings
from tests.support.faults.stack import FaultStack
from tests.support.faults.subscribers import Subscriber
from tests.support.faults.workload import Workload
from tests.support.svc_notify.receiver import Receiver

log = logging.getLogger(__name__)

CONVERGE_WITHIN: Final = 150.0  # generous: a broker back empty is refilled from the outboxes
SETTLE: Final = 1.0  # seconds the client keeps working on the healed stack before the check


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    fault: str
    operations: int  # mutations acknowledged between inject and heal
    recovery: float  # seconds from heal until the start of the check that found all held
    lost: list[str]
    duplicated: list[str]
    notes: dict[str, int] = field(default_factory=dict)


class Checker:
    """Runs the invariants until nothing is missing (or the deadline), remembering what earlier
    rows already reported."""

    def __init__(
        self,
        *,
        database_url: str,
        workload: Workload,
        receiver: Receiver,
        subscribers: list[Subscriber],
        audit: AuditAccess,
        grace: timedelta,
    ) -> None:
        self._database_url = database_url
        self._workload = workload
        self._receiver = receiver
        self._subscribers = subscribers
        self._audit = audit
        self._grace = grace
        self._reported: set[str] = set()

    async def check(self) -> Findings:
        """Every invariant once; the audit verification (slow) only when the rest holds."""
        conn = await asyncpg.connect(self._database_url)
        try:
            findings = Findings()
            findings.add(await invariants.acknowledged(conn, self._workload))
            findings.add(await invariants.consumed(conn))
            findings.add(await invariants.recurrences(conn))
            findings.add(await invariants.reminders(conn, self._workload, self._grace))
            findings.add(await invariants.webhooks(conn, self._receiver, self._workload))
            findings.add(await invariants.subscriptions(conn, self._subscribers))
        finally:
            await conn.close()
        if not findings.lost - self._reported:
            findings.add(await invariants.audit_log(self._audit))
        return findings

    async def converge(self) -> tuple[Findings, float]:
        """Checks until nothing is lost but what earlier rows reported (for good), or until a
        check started after `CONVERGE_WITHIN`; returns the last findings and when that check
        started (a check reads a growing history, so it takes a while itself)."""
        deadline = time.monotonic() + CONVERGE_WITHIN
        while True:
            began = time.monotonic()
            findings = await self.check()
            findings.notes["seconds per check"] = round(time.monotonic() - began)
            waiting = findings.lost - self._reported
            if not waiting or began > deadline:
                return findings, began
            log.info("waiting for %d items, e.g. %s", len(waiting), sorted(waiting)[:3])
            await asyncio.sleep(0.5)

    def new(self, findings: Findings) -> tuple[list[str], list[str]]:
        """What this check found that no earlier row reported."""
        lost = sorted(findings.lost - self._reported)
        duplicated = sorted(findings.duplicated - self._reported)
        self._reported |= findings.lost | findings.duplicated
        return lost, duplicated


async def settle(
    checker: Checker, workload: Workload, name: str, operations: int, healed: float
) -> Row:
    """Lets the client work a little on the healed stack, pauses it, and checks."""
    await asyncio.sleep(SETTLE)
    await workload.pause()
    findings, held = await checker.converge()
    recovery = held - healed
    lost, duplicated = checker.new(findings)
    workload.resume()
    return Row(name, operations, recovery, lost, duplicated, findings.notes)


async def inject(fault: Fault, stack: FaultStack, workload: Workload, checker: Checker) -> Row:
    """One fault: inject it, keep it `hold` seconds while the client works, heal it, check."""
    before = workload.acknowledged
    await fault.inject(stack)
    await asyncio.sleep(fault.hold)  # the fault's duration, not a wait for a condition
    await fault.heal(stack)
    healed = time.monotonic()
    return await settle(checker, workload, fault.name, workload.acknowledged - before, healed)
