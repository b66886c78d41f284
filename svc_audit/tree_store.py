"""The Merkle tree as stored: perfect-subtree hashes in `tree_nodes`, leaves in `entries`.

Proofs are built in two steps (see `todo_transparency.merkle`): which ranges a
proof holds, then the stored nodes of those ranges, fetched in one query and
hashed here. A node that should exist and does not means the log was damaged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from todo_runtime.db import Connection
from todo_runtime.errors import DataDamaged
from todo_transparency import merkle
from todo_transparency.merkle import Node

_NODES: Final = """
    SELECT wanted.level, wanted.idx, coalesce(n.hash, e.leaf_hash) AS hash
    FROM unnest($1::int[], $2::bigint[]) AS wanted (level, idx)
    LEFT JOIN tree_nodes n ON wanted.level > 0 AND n.level = wanted.level AND n.index = wanted.idx
    LEFT JOIN entries e ON wanted.level = 0 AND e.leaf_index = wanted.idx"""
_SIZE: Final = "SELECT coalesce(max(leaf_index) + 1, 0) FROM entries"
_STORE_NODES: Final = """
    INSERT INTO tree_nodes (level, index, hash)
    SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])"""


class LogDamaged(DataDamaged):
    """The stored log is inconsistent with itself or its checkpoints (it was tampered with)."""


async def log_size(conn: Connection) -> int:
    """How many entries the log holds."""
    return int(await conn.fetchval(_SIZE))


async def fetch_nodes(conn: Connection, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hash of every node in `nodes`; LogDamaged if one is missing."""
    wanted = sorted(set(nodes))
    if not wanted:
        return {}
    rows = await conn.fetch(
        _NODES, [node.level for node in wanted], [node.index for node in wanted]
    )
    found = {
        Node(row["level"], row["idx"]): bytes(row["hash"])
        for row in rows
        if row["hash"] is not None
    }
    missing = [node for node in wanted if node not in found]
    if missing:
        first = missing[0]
        raise LogDamaged(
            f"the audit log is damaged: no hash for leaves [{first.start}, {first.end})"
        )
    return found


async def frontier(conn: Connection, size: int) -> merkle.Frontier:
    """The compact range of the first `size` leaves (enough to append and to compute the root)."""
    nodes = merkle.Frontier.nodes(size)
    hashes = await fetch_nodes(conn, nodes)
    return merkle.Frontier(size, [hashes[node] for node in nodes])


async def appendable_frontier(
    conn: Connection, size: int, signed_size: int | None, signed_root: bytes | None
) -> merkle.Frontier:
    """The frontier of a log of `size` entries whose latest checkpoint signed `signed_size`
    entries with `signed_root`; LogDamaged when the log no longer holds what was signed
    (appending would fork history)."""
    if signed_size is not None and signed_size > size:
        raise LogDamaged(
            f"the audit log holds {size} entries but a checkpoint of {signed_size} was "
            "signed: entries were removed; refusing to append behind a checkpoint"
        )
    tree = await frontier(conn, size)
    if signed_size == size and tree.root() != signed_root:
        raise LogDamaged(
            f"the audit log's root at {size} entries is not the one its checkpoint signed: "
            "entries were changed; refusing to append"
        )
    return tree


async def store_nodes(conn: Connection, completed: Sequence[tuple[Node, bytes]]) -> None:
    """Stores the interior nodes an append completed (`Frontier.append`)."""
    if completed:
        await conn.execute(
            _STORE_NODES,
            [node.level for node, _ in completed],
            [node.index for node, _ in completed],
            [hash for _, hash in completed],
        )


async def root_at(conn: Connection, size: int) -> bytes:
    """MTH of the first `size` leaves."""
    return (await frontier(conn, size)).root()


async def _proofs(
    conn: Connection, plans: Sequence[Sequence[tuple[int, int]]]
) -> list[list[bytes]]:
    hashes = await fetch_nodes(conn, merkle.nodes_for([r for plan in plans for r in plan]))
    return [[merkle.range_hash(a, b, hashes.__getitem__) for a, b in plan] for plan in plans]


async def inclusion_proofs(
    conn: Connection, leaf_indexes: Sequence[int], tree_size: int
) -> list[list[bytes]]:
    """The audit paths of several leaves in the tree of `tree_size`, fetched together."""
    plans = [merkle.inclusion_ranges(index, tree_size) for index in leaf_indexes]
    return await _proofs(conn, plans)


async def inclusion_proofs_at(
    conn: Connection, positions: Sequence[tuple[int, int]]
) -> list[list[bytes]]:
    """The audit paths of several (leaf index, tree size) pairs, fetched together."""
    plans = [merkle.inclusion_ranges(index, tree_size) for index, tree_size in positions]
    return await _proofs(conn, plans)


async def consistency_proof(conn: Connection, old_size: int, new_size: int) -> list[bytes]:
    [proof] = await _proofs(conn, [merkle.consistency_ranges(old_size, new_size)])
    return proof
