"""Relay's shared types: the Node interface (global object identification) and PageInfo."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry


@strawberry.interface(
    description="An object with a global id; `node(id:)` and `nodes(ids:)` fetch it again."
)
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque and global: unique across types.")


@strawberry.type(description="Where a page sits in its list (Relay cursor connections).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="More items follow the last edge (within `before`, when paging forwards)."
    )
    has_previous_page: bool = strawberry.field(
        description="More items precede the first edge (within `after`, when paging backwards)."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor; null when the page is empty."
    )

    @classmethod
    def forward(cls, cursors: Sequence[str], next_page_token: str) -> PageInfo:
        """A page of a list that pages forwards only (as the specification allows)."""
        return cls(
            has_next_page=bool(next_page_token),
            has_previous_page=False,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
