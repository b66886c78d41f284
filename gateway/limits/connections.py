"""Open WebSocket connections per user, bounded in this gateway process.

Each replica counts its own connections: a load balancer spreading one user's
connections over N replicas allows up to N times the limit, which still bounds
what one user can hold open.
"""

from __future__ import annotations

from collections import Counter


class UserConnections:
    """Counts acknowledged connections by user, up to `limit` each."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open: Counter[str] = Counter()

    def held(self, user_id: str) -> int:
        """The connections `user_id` holds now."""
        return self._open[user_id]

    def acquire(self, user_id: str) -> bool:
        """Takes a slot for `user_id`; False when they already hold `limit`."""
        if self.held(user_id) >= self._limit:
            return False
        self._open[user_id] += 1
        return True

    def release(self, user_id: str) -> None:
        self._open[user_id] -= 1
        if self._open[user_id] <= 0:
            del self._open[user_id]
