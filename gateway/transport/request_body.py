"""Request bodies the GraphQL view can work with, or a 400 that says what is wrong; and how long
a body, or a WebSocket message, may be.

Strawberry turns a body that is not UTF-8, JSON nested deeper than Python
recurses, or JSON that is neither an object nor a batch list into a 500 (and
a reset connection). Here each becomes a 400 with a message, on a connection
that stays usable.
"""

from __future__ import annotations

import json
from typing import Final

from cross_web import HTTPException

MAX_NESTING: Final = 32  # far beyond any input type of the schema
# A GraphQL document plus variables, by HTTP or in a WebSocket message (`server_options`); far
# above any real request, small enough to bound memory.
MAX_BODY_BYTES: Final = 1024 * 1024


def decode_request_json(data: str | bytes) -> object:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not valid UTF-8.") from None
    try:
        value = json.loads(data)
    except RecursionError:
        raise HTTPException(400, f"JSON nested deeper than {MAX_NESTING} levels.") from None
    if not isinstance(value, dict | list):
        raise HTTPException(400, "The request body must be a JSON object.")
    if _depth(value) > MAX_NESTING:
        raise HTTPException(400, f"JSON nested deeper than {MAX_NESTING} levels.")
    return value


def _depth(value: object) -> int:
    """Nesting depth of JSON containers, without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = list(item)
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest
