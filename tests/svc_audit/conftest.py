"""svc_audit test helpers: the service started in-process (as many replicas as a test wants),
gRPC calls as any user, its tables, events published straight to the broker, and a verifier
that checks a user's log over gRPC the way `todo audit verify` does over GraphQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import grpc
import pytest

from svc_audit import checkpoints
from svc_audit.service import SCHEMA
from svc_audit.service import SERVICE as AUDIT
from tests.support.infra import TEST_SECRET, eventually, kafka_config, service_config
from todo_cli.broker import EmbeddedBroker
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_contracts.audit.v1 import audit_service_pb2_grpc
from todo_contracts.events.v1 import reminder_events_pb2, task_events_pb2
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import endpoints, topics
from todo_runtime.cloudevents import event_headers
from todo_runtime.config import DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.identity import identity_metadata
from todo_runtime.producer import EventProducer, Record
from todo_runtime.runner import RunningService, start_service
from todo_runtime.timestamps import from_timestamp, timestamp
from todo_runtime.topics import ensure_topics
from todo_transparency.checkpoints import SigningKey
from todo_transparency.entries import AuditLeaf, FieldChange
from todo_transparency.verification import EntryProof, Held, LogVerifier, RotationProof

SIGNING_KEY = SigningKey.generate_text()
PUBLIC_KEY = SigningKey(SIGNING_KEY).public_key
# Checkpoints come quickly in tests: every 0.2 s of waiting or 50 entries.
DEFAULTS = {
    "TODO_AUDIT_SIGNING_KEY": SIGNING_KEY,
    "TODO_AUDIT_CHECKPOINT_SECONDS": "0.2",
    "TODO_AUDIT_CHECKPOINT_ENTRIES": "50",
    "TODO_DB_POOL_MAX": "8",
}


class RunningAudit:
    """svc_audit running in this process; `call` makes a gRPC call as `user`."""

    def __init__(self, service: RunningService) -> None:
        self.service = service
        self.address = f"127.0.0.1:{service.port}"
        self._channel = grpc.aio.insecure_channel(self.address)
        self.stub = audit_service_pb2_grpc.AuditServiceStub(self._channel)

    async def call(self, user: str, method: str, request: Any) -> Any:
        rpc = getattr(self.stub, method)
        return await rpc(request, metadata=identity_metadata(TEST_SECRET, user), timeout=10)

    async def entries(self, user: str, **fields: Any) -> list[pb.AuditEntry]:
        """Every entry of `user` matching `fields` (ListAuditEntriesRequest), following pages."""
        found: list[pb.AuditEntry] = []
        token = ""
        while True:
            request = pb.ListAuditEntriesRequest(page_size=200, page_token=token, **fields)
            response: pb.ListAuditEntriesResponse = await self.call(
                user, "ListAuditEntries", request
            )
            found += response.entries
            token = response.next_page_token
            if not token:
                return found

    async def stop(self) -> None:
        await self._channel.close(None)
        await self.service.stop()


class StartAudit(Protocol):
    async def __call__(self, **settings: str) -> RunningAudit: ...


@pytest.fixture
async def start_audit(database_url: str, broker: EmbeddedBroker) -> AsyncIterator[StartAudit]:
    """Starts svc_audit on the test's database and broker with `DEFAULTS` and `settings`;
    every replica started is stopped at the end."""
    started: list[RunningAudit] = []

    async def start(**settings: str) -> RunningAudit:
        config = service_config(
            endpoints.AUDIT, database_url, broker.bootstrap_servers, **{**DEFAULTS, **settings}
        )
        audit = RunningAudit(await start_service(AUDIT, config))
        started.append(audit)
        return audit

    yield start
    for audit in started:
        await audit.stop()


@pytest.fixture
async def audit(start_audit: StartAudit) -> RunningAudit:
    return await start_audit()


@pytest.fixture
async def tables(database_url: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    """svc_audit's tables, unqualified, jsonb as Python values, as the service's own pool has
    them (the service must have started: it creates them)."""
    pool = await create_pool(DatabaseConfig(database_url, 1, 3), SCHEMA)
    try:
        yield pool
    finally:
        await pool.close()


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def task_event(
    task: task_pb2.Task,
    kind: task_pb2.ChangeKind = task_pb2.CHANGE_KIND_UPDATED,
    previous: task_pb2.Task | None = None,
    *,
    actor: str | None = None,
    at: datetime | None = None,
    event_id: str | None = None,
) -> task_events_pb2.TaskEvent:
    event = task_events_pb2.TaskEvent(
        event_id=event_id or str(uuid.uuid4()),
        kind=kind,
        user_id=task.owner_id,
        actor=actor or task.owner_id,
        event_time=timestamp(at or datetime.now(UTC)),
        task=task,
        sequence=1,
    )
    if previous is not None:
        event.previous_task.CopyFrom(previous)
    return event


def task_record(event: task_events_pb2.TaskEvent) -> Record:
    """The `task-events` record svc_tasks would publish for `event`."""
    kind = task_pb2.ChangeKind.Name(event.kind).removeprefix("CHANGE_KIND_").lower()
    headers = event_headers(
        event_id=event.event_id,
        source="/svc_tasks",
        type=f"todo.task.{kind}",
        subject=event.task.id,
        time=event.event_time.ToDatetime(tzinfo=UTC),
        message_name=event.DESCRIPTOR.full_name,
    )
    return Record(topics.TASK_EVENTS, event.user_id.encode(), event.SerializeToString(), headers)


def reminder_record(owner: str, task_id: str) -> Record:
    """A `reminders` record as svc_notify publishes one."""
    now = datetime.now(UTC)
    event = reminder_events_pb2.ReminderFired(
        event_id=str(uuid.uuid4()),
        notification_id=str(uuid.uuid4()),
        user_id=owner,
        task_id=task_id,
        reminder_id="before-15",
        scheduled_time=timestamp(now),
        fire_time=timestamp(now),
    )
    headers = event_headers(
        event_id=event.event_id,
        source="/svc_notify",
        type="todo.reminder.fired",
        subject=task_id,
        time=now,
        message_name=event.DESCRIPTOR.full_name,
    )
    return Record(topics.REMINDERS, owner.encode(), event.SerializeToString(), headers)


@dataclass
class Publisher:
    producer: EventProducer

    async def send(self, records: Sequence[Record]) -> None:
        outcomes = await self.producer.send(records)
        failed = [outcome for outcome in outcomes if outcome is not None]
        assert not failed, failed


@pytest.fixture
async def publish(broker: EmbeddedBroker) -> AsyncIterator[Publisher]:
    """Produces records to the test's broker (topics are created as the services create them)."""
    kafka = kafka_config(broker.bootstrap_servers)
    await asyncio.to_thread(ensure_topics, kafka, [topics.TASK_EVENTS, topics.REMINDERS])
    producer = EventProducer(kafka, "audit-tests")
    try:
        yield Publisher(producer)
    finally:
        await producer.close()


def new_task(owner: str, title: str = "Water the plants") -> task_pb2.Task:
    return task_pb2.Task(
        id=str(uuid.uuid4()),
        owner_id=owner,
        title=title,
        status=task_pb2.TASK_STATUS_OPEN,
        priority=task_pb2.PRIORITY_NONE,
        time_zone="UTC",
    )


def leaf_of(entry: pb.AuditEntry) -> AuditLeaf:
    """The leaf an entry's served content encodes (recomputed, as a verifier does)."""
    return AuditLeaf(
        event_id=entry.event_id,
        type=entry.type,
        task_id=entry.task_id,
        owner=entry.owner_id,
        owner_sequence=entry.owner_sequence,
        actor=entry.actor,
        time=from_timestamp(entry.time),
        changes=tuple(
            FieldChange(
                change.field,
                change.before if change.HasField("before") else None,
                change.after if change.HasField("after") else None,
            )
            for change in entry.changes
        ),
    )


async def rotations(
    audit: RunningAudit, user: str, from_tree_size: int, to_tree_size: int
) -> list[RotationProof]:
    """The key rotations ListKeyRotations serves between the two sizes, every page, each with
    its leaf recomputed from the content served."""
    found: list[RotationProof] = []
    token = ""
    while True:
        request = pb.ListKeyRotationsRequest(
            from_tree_size=from_tree_size,
            to_tree_size=to_tree_size,
            page_size=1,
            page_token=token,
        )
        response: pb.ListKeyRotationsResponse = await audit.call(user, "ListKeyRotations", request)
        found += [
            RotationProof(
                leaf_of(rotation.entry),
                rotation.entry.leaf_index,
                checkpoints.from_pb(rotation.checkpoint),
                list(rotation.inclusion_proof),
            )
            for rotation in response.rotations
        ]
        token = response.next_page_token
        if not token:
            return found


async def _consistency(audit: RunningAudit, user: str, old: int, new: int) -> list[bytes]:
    if not 0 < old < new:
        return []
    response: pb.GetConsistencyProofResponse = await audit.call(
        user,
        "GetConsistencyProof",
        pb.GetConsistencyProofRequest(from_tree_size=old, to_tree_size=new),
    )
    return list(response.hashes)


async def verify(
    audit: RunningAudit, user: str, held: Held | None = None, *, public_key: bytes = PUBLIC_KEY
) -> Held:
    """Checks `user`'s log over gRPC against `public_key` and the `held` checkpoint, trusting
    nothing the service says: the key rotations since `held`, the latest checkpoint's signature,
    its consistency with `held`, and every entry's inclusion from its content. Raises
    VerificationFailure at the first thing that fails; returns what to hold next."""
    verifier = LogVerifier(public_key, user, held)
    latest: pb.GetCheckpointResponse = await audit.call(
        user, "GetCheckpoint", pb.GetCheckpointRequest()
    )
    checkpoint = checkpoints.from_pb(latest.checkpoint)
    for rotation in await rotations(audit, user, verifier.anchor_size, checkpoint.tree_size):
        proof = await _consistency(audit, user, verifier.anchor_size, rotation.checkpoint.tree_size)
        verifier.follow_rotation(rotation, proof)
    proof = await _consistency(audit, user, verifier.anchor_size, checkpoint.tree_size)
    verifier.check_checkpoint(checkpoint, proof)
    for entry in await audit.entries(user):
        inclusion: list[bytes] | None = None
        if entry.leaf_index < checkpoint.tree_size:
            try:
                response: pb.GetInclusionProofResponse = await audit.call(
                    user,
                    "GetInclusionProof",
                    pb.GetInclusionProofRequest(entry_id=entry.id, tree_size=checkpoint.tree_size),
                )
                inclusion = list(response.hashes)
            except grpc.aio.AioRpcError as error:  # a damaged log cannot prove: the entry fails
                if error.code() != grpc.StatusCode.DATA_LOSS:
                    raise
        verifier.check_entry(EntryProof(entry.id, leaf_of(entry), entry.leaf_index, inclusion))
    return verifier.finish()


async def signed(audit: RunningAudit, user: str, entries: int) -> list[pb.AuditEntry]:
    """Waits until `user` has `entries` entries, all covered by a signed checkpoint."""

    async def covered() -> bool:
        found = await audit.entries(user)
        if len(found) != entries:
            return False
        latest: pb.GetCheckpointResponse = await audit.call(
            user, "GetCheckpoint", pb.GetCheckpointRequest()
        )
        return all(entry.leaf_index < latest.checkpoint.tree_size for entry in found)

    await eventually(covered, 30)
    return await audit.entries(user)
