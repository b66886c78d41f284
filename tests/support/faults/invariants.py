"""The invariants the fault suite holds the stack to, read from the databases and the client.

Each check returns `Findings`: keys of what is missing ("lost") and of what
happened more than once ("duplicated"). A key names one item (an event, a
task, a reminder), so a later check can tell what is new since the last fault.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import asyncpg
from standardwebhooks import Webhook

from gateway import ids
from tests.support.faults.subscribers import Subscriber
from tests.support.faults.workload import Workload
from tests.support.svc_notify.receiver import Receiver
from todo_cli import audit_verify
from todo_runtime.global_ids import global_id
from todo_transparency.checkpoints import SigningKey

# Task events reach these consumers; reminder events only svc_audit (svc_live keeps nothing).
TASK_EVENT_CONSUMERS: Final = (
    ("notify", "svc_notify"),
    ("recur", "svc_recur"),
    ("audit", "svc_audit"),
)
DUE_SLACK: Final = timedelta(seconds=3)  # a reminder this much past due must have been settled
_EVENT_IDS: Final = """
SELECT DISTINCT h->>1 AS event_id FROM {schema}.outbox o, jsonb_array_elements(o.headers) h
WHERE o.topic = $1 AND h->>0 = 'ce_id'"""


@dataclass
class Findings:
    """What is missing and what is duplicated, by item key; `notes` count benign events."""

    lost: set[str] = field(default_factory=set)
    duplicated: set[str] = field(default_factory=set)
    notes: dict[str, int] = field(default_factory=dict)

    def add(self, other: Findings) -> None:
        self.lost |= other.lost
        self.duplicated |= other.duplicated
        self.notes.update(other.notes)


@dataclass(frozen=True)
class AuditAccess:
    """What `todo audit verify` needs: the gateway, each user's token, the pinned key, state dir."""

    url: str
    tokens: dict[str, str]
    public_key: bytes
    directory: Path


async def acknowledged(conn: asyncpg.Connection, workload: Workload) -> Findings:
    """Every acknowledged mutation is in svc_tasks: the task, its last title, its status."""
    rows = await conn.fetch(
        "SELECT id::text, owner_id, title, status FROM tasks.tasks WHERE id = any($1::uuid[])",
        list(workload.expected),
    )
    stored = {row["id"]: (row["owner_id"], row["title"], row["status"]) for row in rows}
    lost = {
        f"acknowledged {task}"
        for task, want in workload.expected.items()
        if stored.get(task) != (want.owner, want.title, want.status)
    }
    return Findings(lost=lost, notes={"acknowledged": len(workload.expected)})


async def consumed(conn: asyncpg.Connection) -> Findings:
    """Every published event reached every consumer (its inbox holds the id) and is audited once."""
    task_events = {
        r["event_id"] for r in await conn.fetch(_EVENT_IDS.format(schema="tasks"), "task-events")
    }
    reminders = {
        r["event_id"] for r in await conn.fetch(_EVENT_IDS.format(schema="notify"), "reminders")
    }
    findings = Findings(notes={"task events": len(task_events), "reminder events": len(reminders)})
    for schema, consumer in TASK_EVENT_CONSUMERS:
        processed = {
            r["event_id"]
            for r in await conn.fetch(
                f"SELECT event_id FROM {schema}.processed_events WHERE consumer = $1",
                consumer,
            )
        }
        wanted = task_events | (reminders if consumer == "svc_audit" else set())
        findings.lost |= {f"{consumer} never applied {event}" for event in wanted - processed}
    entries = await conn.fetch(
        "SELECT event_id, count(*) AS n FROM audit.entries GROUP BY event_id"
    )
    audited = {row["event_id"]: row["n"] for row in entries}
    # Whether a missing entry waits for the sequencer, or never reached svc_audit's intake.
    pending = {
        r["event_id"] for r in await conn.fetch("SELECT event_id FROM audit.pending_entries")
    }
    for event in task_events | reminders:
        count = audited.get(event, 0)
        if count == 0:
            waiting = " (pending, not yet sequenced)" if event in pending else ""
            findings.lost.add(f"no audit entry for {event}{waiting}")
        elif count > 1:
            findings.duplicated.add(f"{count} audit entries for {event}")
    return findings


async def recurrences(conn: asyncpg.Connection) -> Findings:
    """Exactly one next instance per completed occurrence of an unending series."""
    rows = await conn.fetch(
        """SELECT t.id::text, count(n.id) AS next
           FROM tasks.tasks t LEFT JOIN tasks.tasks n
             ON n.owner_id = t.owner_id AND n.series_id = t.series_id
            AND n.series_index = t.series_index + 1
           WHERE t.status = 2 AND t.series_id IS NOT NULL AND NOT t.recurrence_final
           GROUP BY t.id"""
    )
    return Findings(
        lost={f"no next instance after {r['id']}" for r in rows if r["next"] == 0},
        duplicated={f"{r['next']} next instances after {r['id']}" for r in rows if r["next"] > 1},
        notes={"completed occurrences": len(rows)},
    )


async def reminders(conn: asyncpg.Connection, workload: Workload, grace: timedelta) -> Findings:
    """Each due reminder fired once (one notification), or is missed as the grace rule says."""
    rows = await conn.fetch(
        """SELECT r.task_id::text, r.reminder_id, r.fire_at, r.state, r.settled_at,
                  (SELECT count(*) FROM notify.notifications n WHERE n.task_id = r.task_id
                     AND n.reminder_id = r.reminder_id AND n.scheduled_at = r.fire_at) AS fired,
                  (SELECT min(n.fired_at) FROM notify.notifications n WHERE n.task_id = r.task_id
                     AND n.reminder_id = r.reminder_id AND n.scheduled_at = r.fire_at) AS fired_at
           FROM notify.reminders r WHERE r.fire_at < clock_timestamp() - $1::interval""",
        DUE_SLACK,
    )
    findings = Findings()
    scheduled = {row["task_id"] for row in rows}
    wanted = await _set_ahead(conn, workload.with_reminder)
    findings.lost |= {
        f"no reminder scheduled for {task}"
        for task in wanted
        if task not in scheduled and not workload.expected[task].completed
    }
    findings.notes["reminders set already past"] = len(workload.with_reminder) - len(wanted)
    missed = 0
    for row in rows:
        key = f"reminder {row['task_id']} {row['reminder_id']} {row['fire_at'].isoformat()}"
        if row["state"] == "scheduled":
            findings.lost.add(f"{key} never fired")
        elif row["state"] == "missed":
            missed += 1
            if row["settled_at"] - row["fire_at"] <= grace:
                findings.lost.add(f"{key} marked missed within the grace window")
        elif row["fired"] == 0:
            findings.lost.add(f"{key} fired without a notification")
        elif row["fired"] > 1:
            findings.duplicated.add(f"{key} fired {row['fired']} times")
        elif row["fired_at"] - row["fire_at"] > grace + DUE_SLACK:
            findings.lost.add(f"{key} fired after the grace window")
    findings.notes.update({"due reminders": len(rows), "missed reminders": missed})
    return findings


async def _set_ahead(conn: asyncpg.Connection, tasks: set[str]) -> set[str]:
    """The tasks whose reminder time was still ahead when the task was stored. The others are
    not scheduled, by design: a retried create can commit after the time the client chose."""
    rows = await conn.fetch(
        """SELECT id::text FROM tasks.tasks t, jsonb_array_elements(t.reminders) r
           WHERE t.id = any($1::uuid[]) AND (r->>'at')::timestamptz > t.created_at""",
        list(tasks),
    )
    return {row["id"] for row in rows}


async def webhooks(conn: asyncpg.Connection, receiver: Receiver, workload: Workload) -> Findings:
    """Every notification was delivered to its owner's endpoint, and the receiver got it signed,
    under one `webhook-id` (repeats of that id are allowed retries, never a second id)."""
    notifications = await conn.fetch("SELECT id::text, owner_id FROM notify.notifications")
    deliveries = await conn.fetch(
        "SELECT message_id, state, payload->'data'->>'notificationId' AS notification FROM notify.webhook_deliveries"
    )
    findings = Findings()
    by_notification = {row["notification"]: row for row in deliveries}
    received: dict[str, set[str]] = defaultdict(set)  # notification -> webhook-ids
    bodies: dict[str, int] = defaultdict(int)
    for request in receiver.received:
        message_id = request.headers.get("webhook-id", "")
        payload: dict[str, Any] = json.loads(request.body)
        owner = _owner(workload, payload)
        if owner is None or not _signed(
            request.headers, request.body, workload.webhook_secrets[owner]
        ):
            findings.lost.add(f"webhook {message_id} not signed with its endpoint's secret")
            continue
        received[payload["data"]["notificationId"]].add(message_id)
        bodies[message_id] += 1
    for row in notifications:
        notification = global_id("Notification", row["id"])
        delivery = by_notification.get(notification)
        if delivery is None:
            findings.lost.add(f"no webhook delivery for {notification}")
        elif (
            delivery["state"] != "succeeded" or delivery["message_id"] not in received[notification]
        ):
            findings.lost.add(
                f"webhook {delivery['message_id']} not received ({delivery['state']})"
            )
    findings.duplicated |= {
        f"{len(ids)} webhook-ids for {notification}"
        for notification, ids in received.items()
        if len(ids) > 1
    }
    findings.notes.update(
        {"webhooks": len(bodies), "webhook retries": sum(bodies.values()) - len(bodies)}
    )
    return findings


def _owner(workload: Workload, payload: dict[str, Any]) -> str | None:
    """The user whose task the webhook is about (the suite knows every task it created)."""
    task = workload.expected.get(ids.task_id(payload["data"]["taskId"]) or "")
    return task.owner if task is not None else None


def _signed(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """The `webhook-signature` header holds the endpoint's HMAC of this id, timestamp and body.

    Compared directly rather than with `Webhook.verify`, which also refuses anything signed
    more than five minutes ago, and the suite checks a request long after it arrived.
    """
    stamp = datetime.fromtimestamp(int(headers.get("webhook-timestamp", "0")), UTC)
    expected = Webhook(secret).sign(headers.get("webhook-id", ""), stamp, body.decode())
    return expected in headers.get("webhook-signature", "").split(" ")


async def audit_log(access: AuditAccess) -> Findings:
    """Each user's audit log verifies (`todo audit verify`) against its last checkpoint, which it
    keeps between runs, and the checkpoint covers every entry."""
    findings = Findings()
    entries = 0
    for user, token in access.tokens.items():
        outcome = await asyncio.to_thread(
            audit_verify.run,
            url=access.url,
            token=token,
            public_key=access.public_key,
            data=access.directory,
        )
        if outcome.failure is not None:
            findings.lost.add(f"audit log of {user}: {outcome.report()}")
        elif outcome.pending or outcome.checkpoint is None:
            findings.lost.add(f"audit log of {user}: not covered by a checkpoint yet")
        entries += outcome.entries
    findings.notes["audit entries verified"] = entries
    return findings


async def subscriptions(conn: asyncpg.Connection, subscribers: list[Subscriber]) -> Findings:
    """Each subscriber got every change of its user, in order, none twice, across reconnects."""
    rows = await conn.fetch(
        "SELECT owner_id, array_agg(sequence) AS s FROM tasks.changes GROUP BY owner_id"
    )
    changes = {row["owner_id"]: set(row["s"]) for row in rows}
    findings = Findings(notes={"resubscriptions": sum(s.reconnects for s in subscribers)})
    for subscriber in subscribers:
        who = f"{subscriber.user} on {subscriber.url}"
        seen: set[int] = set()
        previous = 0
        for sequence in subscriber.sequences:
            if sequence in seen:
                findings.duplicated.add(f"{who} got change {sequence} twice")
            elif sequence < previous:
                findings.duplicated.add(f"{who} got change {sequence} after {previous}")
            seen.add(sequence)
            previous = max(previous, sequence)
        findings.lost |= {
            f"{who} never got change {sequence}"
            for sequence in changes.get(subscriber.user, set()) - seen
        }
    return findings


def public_key(signing_key: str) -> bytes:
    """The audit log's public key for a signing key given as configuration text."""
    return SigningKey(signing_key).public_key
