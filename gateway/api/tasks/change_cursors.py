"""Change cursors: a user's change-log sequence, signed for that user, opaque to clients.

`tasks.changeCursor` and every `TaskUpdate.cursor` are one; `taskUpdates(since:)`
takes either. A cursor of another user, another deployment (another secret)
or none at all fails verification and is refused as BAD_USER_INPUT.
"""

from __future__ import annotations

from typing import Final

from gateway.errors import GatewayError, bad_input
from todo_runtime.errors import InvalidArgument
from todo_runtime.page_tokens import PageTokens

_DOMAIN: Final = "todo.gateway.ChangeCursor"


def invalid_cursor() -> GatewayError:
    return bad_input(
        "since", "is not a change cursor of yours (take one from taskUpdates or tasks.changeCursor)"
    )


class ChangeCursors:
    """Signs with the internal secret, so every gateway replica accepts every other's cursors."""

    def __init__(self, secret: str) -> None:
        self._tokens = PageTokens(secret, _DOMAIN)

    def encode(self, user_id: str, sequence: int) -> str:
        return self._tokens.encode(user_id, {"s": sequence})

    def decode(self, user_id: str, cursor: str) -> int:
        """The sequence in `user_id`'s cursor, in the range of `after_sequence` (int64);
        BAD_USER_INPUT naming `since` otherwise."""
        try:
            return self._tokens.decode(user_id, cursor, "since").integer("s")
        except InvalidArgument:
            raise invalid_cursor() from None
