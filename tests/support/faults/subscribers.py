"""Subscribers that stay subscribed: `taskUpdates(since)` that resumes by cursor when it drops.

Each one holds a graphql-transport-ws connection to one gateway. When the
connection closes or the subscription ends with an error (a gateway or svc_live
killed, the broker gone), it connects again, to the same gateway, with the
cursor of the last change it received, as a browser client does. It records
the sequence of every change it received, for the ordering invariant.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from gateway.api.tasks.change_cursors import ChangeCursors
from tests.support.gateway.ws_client import PROTOCOL

TASK_UPDATES: Final = """subscription($since: String) {
  taskUpdates(since: $since) { cursor kind task { id } }
}"""
HANDSHAKE_WITHIN: Final = 10.0


class Subscriber:
    """One user's subscription on one gateway (`url`, ws://); `since` is the user's first cursor."""

    def __init__(self, url: str, user: str, token: str, since: str, cursors: ChangeCursors) -> None:
        self.url = url
        self.user = user
        self._token = token
        self._cursor = since
        self._cursors = cursors
        self.sequences: list[int] = []
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"subscriber {self.user} {self.url}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def last(self) -> int:
        return self.sequences[-1] if self.sequences else 0

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError, WebSocketException, TimeoutError):
                async with connect(
                    self.url, subprotocols=[PROTOCOL], open_timeout=HANDSHAKE_WITHIN
                ) as connection:
                    await self._follow(connection)
            self.reconnects += 1
            await asyncio.sleep(0.3)  # pacing reconnection attempts while a gateway is down

    async def _follow(self, connection: ClientConnection) -> None:
        """Reads the subscription until it ends or errs (then the caller resumes)."""
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self._token}"}}
        await connection.send(json.dumps(init))
        async with asyncio.timeout(HANDSHAKE_WITHIN):
            reply = json.loads(await connection.recv())
        if reply.get("type") != "connection_ack":
            return
        payload = {"query": TASK_UPDATES, "variables": {"since": self._cursor}}
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        async for raw in connection:
            message: dict[str, Any] = json.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                await connection.send(json.dumps({"type": "pong"}))
            elif kind == "next":
                result = message["payload"]
                if result.get("errors") or not result.get("data"):
                    return
                cursor = result["data"]["taskUpdates"]["cursor"]
                self.sequences.append(self._cursors.decode(self.user, cursor))
                self._cursor = cursor
            elif kind in {"error", "complete"}:
                return
