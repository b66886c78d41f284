"""The audit log (svc_audit): entries shaped for a history UI, and what verifies them (checkpoints,
proofs), from `todo.audit.v1` messages. Hashes, keys and signatures are standard base64."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import strawberry

from gateway import ids
from gateway.api.node import Node
from gateway.api.scalars import to_timestamp
from gateway.arguments import given
from gateway.context import GatewayContext, Info
from gateway.errors import bad_input
from gateway.limits.query_cost import VERIFY_MAX_ENTRIES
from gateway.limits.refunds import unused
from gateway.paging import DEFAULT_PAGE_SIZE, Page, PageInfo, selects
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_contracts.audit.v1 import checkpoint_pb2
from todo_runtime.timestamps import from_timestamp

# GraphQL's Int is 32 bits: tree sizes and positions beyond it cannot be asked for.
MAX_INT = 2**31 - 1


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64_list(hashes: Sequence[bytes]) -> list[str]:
    return [b64(hash) for hash in hashes]


def tree_size_argument(name: str, value: int) -> int:
    if not 0 <= value <= MAX_INT:
        raise bad_input(name, f"must be between 0 and {MAX_INT}, got {value}")
    return value


@strawberry.type(description="One field an event changed: from what, to what.")
class FieldChange:
    field: str = strawberry.field(
        description="The task field, as the services name it: title, description, status, "
        "priority, tags, due_time, time_zone, recurrence, reminders, series_id, series_index, "
        "create_time, complete_time, delete_time."
    )
    before: str | None = strawberry.field(
        description="The value before; null when it had none (or the task is new). Enums by "
        "name, instants as RFC 3339, the due time in its zone as RFC 9557 "
        "(2026-03-01T09:00:00+01:00[Europe/Berlin]), lists and recurrence as JSON."
    )
    after: str | None = strawberry.field(description="The value after; null when it has none.")


def field_changes(changes: Sequence[pb.FieldChange]) -> list[FieldChange]:
    return [
        FieldChange(
            field=change.field,
            before=change.before if change.HasField("before") else None,
            after=change.after if change.HasField("after") else None,
        )
        for change in changes
    ]


@strawberry.type(description="Proof that an entry is a leaf of a tree size (RFC 9162 §2.1.3).")
class InclusionProof:
    leaf_index: int = strawberry.field(description="The entry's position in the log.")
    tree_size: int = strawberry.field(description="The size of the tree proven against.")
    hashes: list[str] = strawberry.field(
        description="The audit path, leaf's sibling first, 32-byte SHA-256 hashes in base64."
    )

    @classmethod
    def from_pb(cls, message: pb.GetInclusionProofResponse) -> InclusionProof:
        return cls(
            leaf_index=message.leaf_index,
            tree_size=message.tree_size,
            hashes=b64_list(message.hashes),
        )


@strawberry.type(
    description="Proof that a smaller tree is a prefix of a larger one (RFC 9162 §2.1.4)."
)
class ConsistencyProof:
    from_tree_size: int = strawberry.field(description="The smaller tree's size.")
    to_tree_size: int = strawberry.field(description="The larger tree's size.")
    hashes: list[str] = strawberry.field(
        description="The proof, 32-byte SHA-256 hashes in base64; empty when the sizes are equal "
        "or the smaller is 0."
    )


@strawberry.type(
    description="The log's signed state: svc_audit states that the log had `treeSize` entries "
    "with this root, and signs it with Ed25519 over `body`."
)
class AuditCheckpoint:
    origin: str = strawberry.field(description="The log's name, the body's first line.")
    tree_size: int = strawberry.field(description="How many entries the tree covers.")
    root_hash: str = strawberry.field(description="The Merkle tree root (base64, 32 bytes).")
    signed_at: datetime = strawberry.field(description="When it was signed.")
    signature: str = strawberry.field(description="Ed25519 signature of `body` (base64, 64 bytes).")
    key_id: str = strawberry.field(
        description="The signing key: hex of the first 4 bytes of SHA-256 over the public key."
    )
    body: str = strawberry.field(
        description="The signed text: origin, tree size, base64 root and `time <RFC 3339>`, one "
        "per line. Rebuild it from the fields rather than trusting it."
    )

    @classmethod
    def from_pb(cls, message: checkpoint_pb2.Checkpoint) -> AuditCheckpoint:
        return cls(
            origin=message.origin,
            tree_size=message.tree_size,
            root_hash=b64(message.root_hash),
            signed_at=from_timestamp(message.signed_time),
            signature=b64(message.signature),
            key_id=message.key_id,
            body=message.body,
        )


async def inclusion_proof(
    root: AuditEntry,
    info: Info,
    tree_size: Annotated[int, strawberry.argument(description="A checkpoint's treeSize.")],
) -> InclusionProof | None:
    tree_size_argument("treeSize", tree_size)
    if root.leaf_index >= tree_size:
        return None
    context = info.context
    request = pb.GetInclusionProofRequest(entry_id=str(root.leaf_index), tree_size=tree_size)
    return InclusionProof.from_pb(await context.call(context.audit.GetInclusionProof, request))


@strawberry.type(
    description="One entry of your audit log: an event about one of your tasks, who caused it, "
    "when, and what it changed. Entries are never changed or removed."
)
class AuditEntry(Node):
    id: strawberry.ID = strawberry.field(description="Global id.")
    event_id: strawberry.ID = strawberry.field(description="The event this entry records.")
    type: str = strawberry.field(
        description="What happened, e.g. todo.task.created, todo.task.updated, "
        "todo.task.completed, todo.task.reopened, todo.task.deleted, todo.reminder.fired."
    )
    task_id: strawberry.ID = strawberry.field(description="The task's global id (as Task.id).")
    actor: str = strawberry.field(
        description="Who did it: your user id, or system:<service> for automatic changes."
    )
    at: datetime = strawberry.field(description="When it happened.")
    changes: list[FieldChange] = strawberry.field(
        description="For an update, the fields that changed; for a new task, what it was "
        "created with; empty for reminders."
    )
    owner_id: str = strawberry.field(description="Whose log this is: yours.")
    owner_sequence: int = strawberry.field(
        description="1 for your first entry, then 2, 3, ... with no gaps."
    )
    leaf_index: int = strawberry.field(description="Its position in the whole log (0-based).")
    inclusion_proof: InclusionProof | None = strawberry.field(
        resolver=inclusion_proof,
        description="Proof that this entry is in the tree of `treeSize` entries (a checkpoint's); "
        "null when the entry is not in that tree (it is newer).",
    )

    @classmethod
    def from_pb(cls, message: pb.AuditEntry) -> AuditEntry:
        return cls(
            id=ids.encode(ids.AUDIT_ENTRY, message.id),
            event_id=strawberry.ID(message.event_id),
            type=message.type,
            task_id=ids.encode(ids.TASK, message.task_id),
            actor=message.actor,
            at=from_timestamp(message.time),
            changes=field_changes(message.changes),
            owner_id=message.owner_id,
            owner_sequence=message.owner_sequence,
            leaf_index=message.leaf_index,
        )


@strawberry.type(description="One entry in an AuditEntryConnection page.")
class AuditEntryEdge:
    cursor: str = strawberry.field(description="This entry's position in the list.")
    node: AuditEntry = strawberry.field(description="The entry.")


@strawberry.type(description="A page of audit entries (Relay cursor connection).")
class AuditEntryConnection:
    edges: list[AuditEntryEdge] = strawberry.field(description="This page, in the list's order.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    total_count: int = strawberry.field(
        description="Entries matching, across all pages (counted only when selected)."
    )

    @classmethod
    def from_pb(cls, response: pb.ListAuditEntriesResponse) -> AuditEntryConnection:
        edges = [
            AuditEntryEdge(cursor=cursor, node=AuditEntry.from_pb(entry))
            for cursor, entry in zip(response.cursors, response.entries, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.forward(response.cursors, response.next_page_token),
            total_count=response.total_size,
        )


@strawberry.type(description="The outcome of checking your audit log (verifyAuditLog).")
class AuditVerification:
    ok: bool = strawberry.field(description="Every checked entry and the checkpoint verified.")
    entries: int = strawberry.field(
        description="How many of your entries were verified (those the checkpoint covers)."
    )
    first_broken_entry_id: strawberry.ID | None = strawberry.field(
        description="The first entry that failed; null when ok or when a checkpoint failed."
    )
    reason: str | None = strawberry.field(description="Why it failed; null when ok.")
    checkpoint: AuditCheckpoint | None = strawberry.field(
        description="The checkpoint the entries were verified against; null before the first."
    )
    pending_entries: int = strawberry.field(
        description="Your entries newer than that checkpoint: verifiable once the next is signed."
    )

    @classmethod
    def from_pb(cls, message: pb.VerifyAuditLogResponse) -> AuditVerification:
        broken = message.first_broken_entry_id
        return cls(
            ok=message.ok,
            entries=message.entries,
            first_broken_entry_id=ids.encode(ids.AUDIT_ENTRY, broken) if broken else None,
            reason=message.reason or None,
            checkpoint=AuditCheckpoint.from_pb(message.checkpoint)
            if message.HasField("checkpoint")
            else None,
            pending_entries=message.pending_entries,
        )


async def checkpoint_at(
    info: Info,
    tree_size: Annotated[int, strawberry.argument(description="A tree size.")],
) -> AuditCheckpoint:
    context = info.context
    request = pb.GetCheckpointRequest(tree_size=tree_size_argument("treeSize", tree_size))
    response = await context.call(context.audit.GetCheckpoint, request)
    return AuditCheckpoint.from_pb(response.checkpoint)


async def consistency_proof(
    info: Info,
    from_tree_size: Annotated[int, strawberry.argument(description="The smaller size.")],
    to_tree_size: Annotated[int, strawberry.argument(description="The larger size.")],
) -> ConsistencyProof:
    context = info.context
    request = pb.GetConsistencyProofRequest(
        from_tree_size=tree_size_argument("fromTreeSize", from_tree_size),
        to_tree_size=tree_size_argument("toTreeSize", to_tree_size),
    )
    response = await context.call(context.audit.GetConsistencyProof, request)
    return ConsistencyProof(
        from_tree_size=response.from_tree_size,
        to_tree_size=response.to_tree_size,
        hashes=b64_list(response.hashes),
    )


@strawberry.type(
    description="A change of the audit log's signing key: an entry of the log itself (no "
    "user's) that names the retired and the new public key, and the checkpoint the retired key "
    "signed at it. A verifier that trusts the old key follows it to the new one."
)
class AuditKeyRotation:
    leaf_index: int = strawberry.field(description="The rotation entry's position in the log.")
    event_id: strawberry.ID = strawberry.field(description="The entry's event id.")
    type: str = strawberry.field(description="Always todo.audit.key.rotated.")
    task_id: str = strawberry.field(
        description="The nil UUID (00000000-0000-0000-0000-000000000000): no task."
    )
    actor: str = strawberry.field(description="Always operator.")
    at: datetime = strawberry.field(description="When the key was rotated.")
    owner_id: str = strawberry.field(description="Empty: the log's own entries are no user's.")
    owner_sequence: int = strawberry.field(
        description="1 for the log's first entry about itself, then 2, 3, ..."
    )
    changes: list[FieldChange] = strawberry.field(
        description="One change: field signing_key, before the retired public key, after the "
        "new one (base64 of the raw 32 bytes). The leaf is rebuilt from these fields as an "
        "AuditEntry's is."
    )
    checkpoint: AuditCheckpoint = strawberry.field(
        description="The checkpoint signed at the rotation, by the retired key: the first to "
        "cover the entry (treeSize = leafIndex + 1). Later ones are signed by the new key."
    )
    inclusion_proof: InclusionProof = strawberry.field(
        description="Proof that the entry is in that checkpoint's tree."
    )

    @classmethod
    def from_pb(cls, message: pb.KeyRotation) -> AuditKeyRotation:
        entry = message.entry
        return cls(
            leaf_index=entry.leaf_index,
            event_id=strawberry.ID(entry.event_id),
            type=entry.type,
            task_id=entry.task_id,
            actor=entry.actor,
            at=from_timestamp(entry.time),
            owner_id=entry.owner_id,
            owner_sequence=entry.owner_sequence,
            changes=field_changes(entry.changes),
            checkpoint=AuditCheckpoint.from_pb(message.checkpoint),
            inclusion_proof=InclusionProof(
                leaf_index=entry.leaf_index,
                tree_size=message.checkpoint.tree_size,
                hashes=b64_list(message.inclusion_proof),
            ),
        )


@strawberry.type(description="One rotation in an AuditKeyRotationConnection page.")
class AuditKeyRotationEdge:
    cursor: str = strawberry.field(description="This rotation's position in the list.")
    node: AuditKeyRotation = strawberry.field(description="The rotation.")


@strawberry.type(description="A page of key rotations, oldest first (Relay cursor connection).")
class AuditKeyRotationConnection:
    edges: list[AuditKeyRotationEdge] = strawberry.field(description="This page, in log order.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")

    @classmethod
    def from_pb(cls, response: pb.ListKeyRotationsResponse) -> AuditKeyRotationConnection:
        edges = [
            AuditKeyRotationEdge(cursor=cursor, node=AuditKeyRotation.from_pb(rotation))
            for cursor, rotation in zip(response.cursors, response.rotations, strict=True)
        ]
        return cls(
            edges=edges, page_info=PageInfo.forward(response.cursors, response.next_page_token)
        )


async def key_rotations(
    info: Info,
    from_tree_size: Annotated[
        int,
        strawberry.argument(
            description="Only rotations whose entry is at or after this position (the size of "
            "the checkpoint you trust); 0: from the beginning."
        ),
    ] = 0,
    to_tree_size: Annotated[
        int,
        strawberry.argument(
            description="Only rotations whose entry is before this position (the latest "
            "checkpoint's size); 0: to the end of the log."
        ),
    ] = 0,
    first: Annotated[
        int | None, strawberry.argument(description="Page size, 1..200.")
    ] = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None, strawberry.argument(description="An edge's cursor: what follows it.")
    ] = strawberry.UNSET,
) -> AuditKeyRotationConnection:
    context = info.context
    page = Page.forward(first, after, context.max_page_size)
    request = pb.ListKeyRotationsRequest(
        from_tree_size=tree_size_argument("fromTreeSize", from_tree_size),
        to_tree_size=tree_size_argument("toTreeSize", to_tree_size),
        page_size=page.size,
        page_token=page.token,
    )
    response = await context.call(context.audit.ListKeyRotations, request)
    return AuditKeyRotationConnection.from_pb(response)


@strawberry.type(
    description="What a verifier checks your entries against, trusting nothing else: the "
    "signed checkpoints and the proofs between them (see `todo audit verify`)."
)
class AuditTree:
    public_key: str = strawberry.field(
        description="The Ed25519 public key (base64, 32 bytes) svc_audit signs with now. A "
        "verifier pins the key it trusts instead of taking this one."
    )
    checkpoint: AuditCheckpoint | None = strawberry.field(
        description="The latest checkpoint; null before the first is signed."
    )
    checkpoint_at: AuditCheckpoint = strawberry.field(
        resolver=checkpoint_at,
        description="The checkpoint of exactly `treeSize` entries (NOT_FOUND if none).",
    )
    consistency_proof: ConsistencyProof = strawberry.field(
        resolver=consistency_proof,
        description="Proof that the tree of `fromTreeSize` entries is a prefix of the tree of "
        "`toTreeSize` entries: nothing in it was changed or removed since.",
    )
    key_rotations: AuditKeyRotationConnection = strawberry.field(
        resolver=key_rotations,
        description="The signing key's rotations, oldest first, each signed by the key it "
        "retires: how a verifier that pinned an older key learns the key that signs now.",
    )

    @classmethod
    def from_pb(cls, response: pb.GetCheckpointResponse) -> AuditTree:
        return cls(
            public_key=b64(response.public_key),
            checkpoint=AuditCheckpoint.from_pb(response.checkpoint)
            if response.HasField("checkpoint")
            else None,
        )


async def fetch_audit_entry(context: GatewayContext, global_id: str) -> AuditEntry:
    request = pb.GetAuditEntryRequest(id=ids.service_id(global_id, ids.AUDIT_ENTRY))
    response = await context.call(context.audit.GetAuditEntry, request, about=global_id)
    return AuditEntry.from_pb(response.entry)


async def audit_log(
    info: Info,
    *,
    task_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only this task's entries; all of yours when null."),
    ] = strawberry.UNSET,
    first: Annotated[
        int | None, strawberry.argument(description="Page size, 1..200.")
    ] = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None, strawberry.argument(description="An edge's cursor: what follows it.")
    ] = strawberry.UNSET,
    newest_first: Annotated[
        bool | None,
        strawberry.argument(description="Latest first; default oldest first (log order)."),
    ] = False,
    since: Annotated[
        datetime | None, strawberry.argument(description="Only entries at or after this time.")
    ] = strawberry.UNSET,
    until: Annotated[
        datetime | None, strawberry.argument(description="Only entries before this time.")
    ] = strawberry.UNSET,
) -> AuditEntryConnection:
    context = info.context
    page = Page.forward(first, after, context.max_page_size)
    request = pb.ListAuditEntriesRequest(
        task_id=ids.service_id(task_id, ids.TASK) if given(task_id) else "",
        page_size=page.size,
        page_token=page.token,
        order=pb.ENTRY_ORDER_NEWEST_FIRST if newest_first else pb.ENTRY_ORDER_OLDEST_FIRST,
        skip_total_size=not selects(info, "totalCount"),
    )
    if given(since):
        request.start_time.CopyFrom(to_timestamp(since))
    if given(until):
        request.end_time.CopyFrom(to_timestamp(until))
    response = await context.call(context.audit.ListAuditEntries, request)
    return AuditEntryConnection.from_pb(response)


async def audit_tree(info: Info) -> AuditTree:
    context = info.context
    response = await context.call(context.audit.GetCheckpoint, pb.GetCheckpointRequest())
    return AuditTree.from_pb(response)


async def verify_audit_log(info: Info) -> AuditVerification:
    """Priced at the most entries it checks (`VERIFY_MAX_ENTRIES`, a log with more is refused
    before any is checked); the entries it did not check are given back once it ran."""
    context = info.context
    checked = 0
    try:
        entries = await _entry_count(context)
        if entries > VERIFY_MAX_ENTRIES:
            raise bad_input(
                "verifyAuditLog",
                f"checks at most {VERIFY_MAX_ENTRIES} entries on the server and your log has "
                f"{entries}: verify it with `todo audit verify`, which reads it page by page",
            )
        checked = entries  # what it is asked to do, should the answer not come
        request = pb.VerifyAuditLogRequest()
        response = await context.call(context.audit.VerifyAuditLog, request)
        checked = response.entries + response.pending_entries
        return AuditVerification.from_pb(response)
    finally:
        unused(VERIFY_MAX_ENTRIES - checked)


async def _entry_count(context: GatewayContext) -> int:
    """How many entries the caller's log holds: the newest one's number (they are numbered
    1, 2, 3, ... with no gaps), one index lookup however long the log."""
    request = pb.ListAuditEntriesRequest(
        page_size=1, order=pb.ENTRY_ORDER_NEWEST_FIRST, skip_total_size=True
    )
    newest = (await context.call(context.audit.ListAuditEntries, request)).entries
    return newest[0].owner_sequence if newest else 0


@strawberry.type
class AuditQueries:
    audit_log: AuditEntryConnection = strawberry.field(
        resolver=audit_log,
        description="Your task history: one entry per change or fired reminder, with who, "
        "when and what changed from what to what; of one task or all of yours. Another "
        "user's task gives an empty list. Entries are never changed or removed.",
    )
    audit_tree: AuditTree = strawberry.field(
        resolver=audit_tree,
        description="The audit log's signed checkpoints, public key and consistency proofs: "
        "what `todo audit verify` checks your entries against.",
    )
    verify_audit_log: AuditVerification = strawberry.field(
        resolver=verify_audit_log,
        description="Checks your entries on the server: the latest checkpoint's signature, "
        "each entry's inclusion recomputed from its content, and that none is missing. "
        "`todo audit verify` makes the same check without trusting the server. It checks at "
        f"most {VERIFY_MAX_ENTRIES} entries (a longer log is BAD_USER_INPUT: verify it with "
        "`todo audit verify`) and costs 1 per entry: charged at the most, the entries it did "
        "not check given back (extensions.cost.actualQueryCost).",
    )
