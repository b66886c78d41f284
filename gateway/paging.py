"""Relay cursor connections over the services' page tokens, in one place: the default and the
largest page, and the translation both ways (an edge's cursor is the token of the page after it,
and a page's cursors and next token make its PageInfo)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from gateway.arguments import given
from gateway.errors import bad_input

DEFAULT_PAGE_SIZE: Final = 50


@dataclass(frozen=True)
class Page:
    """A page as a client asks for it, in the terms of the services' list requests: `size` is
    `page_size`, `token` `page_token`, `before_token` `before_page_token`."""

    size: int
    token: str
    before_token: str = ""
    from_end: bool = False

    @classmethod
    def forward(cls, first: int | None, after: str | None, max_size: int) -> Page:
        """`first` items (DEFAULT_PAGE_SIZE when null) after the cursor `after`."""
        size = DEFAULT_PAGE_SIZE if first is None else first
        return cls(_checked("first", size, max_size), after or "")

    @classmethod
    def either_way(
        cls,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        max_size: int,
    ) -> Page:
        """The first `first` or the last `last` items between the cursors `after` and `before`;
        the first DEFAULT_PAGE_SIZE when neither size is given."""
        if given(first) and given(last):
            raise bad_input("last", "give first or last, not both")
        if given(last):
            size = _checked("last", last, max_size)
        else:
            size = _checked("first", first if given(first) else DEFAULT_PAGE_SIZE, max_size)
        return cls(size, after or "", before or "", from_end=given(last))


def _checked(name: str, size: int, max_size: int) -> int:
    if not 1 <= size <= max_size:
        raise bad_input(name, f"must be between 1 and {max_size}, got {size}")
    return size


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
    def of(
        cls, cursors: Sequence[str], *, has_next_page: bool, has_previous_page: bool
    ) -> PageInfo:
        return cls(
            has_next_page=has_next_page,
            has_previous_page=has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )

    @classmethod
    def forward(cls, cursors: Sequence[str], next_page_token: str) -> PageInfo:
        """A page of a list that pages forwards only (as the specification allows)."""
        return cls.of(cursors, has_next_page=bool(next_page_token), has_previous_page=False)


def selects(info: strawberry.Info[Any, Any], name: str) -> bool:
    """Whether the current field's selection (through fragments too) includes `name`: what a
    connection counts or reads only when asked (`totalCount`, `changeCursor`)."""
    return name in selected_at(info)


def selected_at(info: strawberry.Info[Any, Any], *path: str) -> frozenset[str]:
    """The names of the fields selected at `path` inside the current field's selection, through
    fragments and aliases (`"edges", "node"`: what a connection's nodes must hold)."""
    level: list[SelectedField | FragmentSpread | InlineFragment] = [
        child for field in info.selected_fields for child in field.selections
    ]
    for name in path:
        level = [
            child for field in _fields(level) if field.name == name for child in field.selections
        ]
    return frozenset(field.name for field in _fields(level))


def _fields(
    selections: list[SelectedField | FragmentSpread | InlineFragment],
) -> list[SelectedField]:
    """The fields of `selections`, those inside fragments included."""
    found: list[SelectedField] = []
    pending = list(selections)
    while pending:
        node = pending.pop()
        if isinstance(node, SelectedField):
            found.append(node)
        else:
            pending.extend(node.selections)
    return found
