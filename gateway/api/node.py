"""Relay's global object identification: the Node interface every object a client caches has."""

from __future__ import annotations

import strawberry


@strawberry.interface(
    description="An object with a global id; `node(id:)` and `nodes(ids:)` fetch it again."
)
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque and global: unique across types.")
