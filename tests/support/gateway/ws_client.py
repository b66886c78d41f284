"""A graphql-transport-ws client over a real WebSocket (the `websockets` library), for the tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.support.infra import eventually

PROTOCOL = Subprotocol("graphql-transport-ws")
WITHIN = 30.0

TASK_UPDATES = """subscription($since: String) {
  taskUpdates(since: $since) { cursor kind task { id title version } }
}"""
CHANGE_CURSOR = "{ tasks(first: 1) { changeCursor } }"


def sized_ping(size: int) -> str:
    """A ping message of exactly `size` bytes: its payload is padding."""
    empty = len(json.dumps({"type": "ping", "payload": {"pad": ""}}))
    return json.dumps({"type": "ping", "payload": {"pad": "x" * (size - empty)}})


# Messages graphql-transport-ws does not allow from a client (graphql-ws's `validateMessage`).
MALFORMED: Final = {
    "not JSON": "{",
    "a list": "[]",
    "a number": "1",
    "a string": '"ping"',
    "null": "null",
    "nested too deep": "[" * 40 + "]" * 40,
    "no type": '{"id": "1"}',
    "a type that is not a string": '{"type": ["ping"]}',
    "an unknown type": '{"type": "start", "id": "1"}',
    "a server's type": '{"type": "next", "id": "1", "payload": {}}',
    "a ping whose payload is not an object": '{"type": "ping", "payload": "x"}',
    "subscribe without an id": '{"type": "subscribe", "payload": {"query": "{ a }"}}',
    "subscribe with an empty id": '{"type": "subscribe", "id": "", "payload": {"query": "{ a }"}}',
    "subscribe with a list for id": (
        '{"type": "subscribe", "id": [1], "payload": {"query": "{ a }"}}'
    ),
    "subscribe without a payload": '{"type": "subscribe", "id": "1"}',
    "subscribe with a string for payload": '{"type": "subscribe", "id": "1", "payload": "{ a }"}',
    "subscribe with a number for query": (
        '{"type": "subscribe", "id": "1", "payload": {"query": 1}}'
    ),
    "subscribe with a list of variables": (
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "variables": [1]}}'
    ),
    "subscribe with a number for operationName": (
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "operationName": 1}}'
    ),
    "subscribe with a string for extensions": (
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "extensions": "e"}}'
    ),
    "complete with an object for id": '{"type": "complete", "id": {}}',
}


class Operation:
    """What the server sent for one operation id: `next` payloads, then `error` or `complete`."""

    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []
        self.error: list[dict[str, Any]] | None = None
        self.completed = False

    @property
    def data(self) -> list[dict[str, Any]]:
        """The `next` payloads' data, asserting none carried errors."""
        assert all("errors" not in result for result in self.results), self.results
        return [result["data"] for result in self.results]

    @property
    def error_codes(self) -> list[str]:
        errors = [error for result in self.results for error in result.get("errors", [])]
        return [
            error.get("extensions", {}).get("code", "") for error in errors + (self.error or [])
        ]


class WsClient:
    """One acknowledged connection; messages are read in the background into `operations`."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.operations: dict[str, Operation] = {}
        self.close_code: int | None = None
        self._ids = 0
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                operation = self.operations.get(message.get("id", ""))
                if operation is None:
                    continue
                if message["type"] == "next":
                    operation.results.append(message["payload"])
                elif message["type"] == "error":
                    operation.error = message["payload"]
                elif message["type"] == "complete":
                    operation.completed = True
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.connection.close_code

    @property
    def closed(self) -> bool:
        return self._reader.done()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        operation_id = str(self._ids)
        self.operations[operation_id] = Operation()
        payload = {"query": query, "variables": variables or {}}
        await self.connection.send(
            json.dumps({"id": operation_id, "type": "subscribe", "payload": payload})
        )
        return operation_id

    async def complete(self, operation_id: str) -> None:
        await self.connection.send(json.dumps({"id": operation_id, "type": "complete"}))

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """Runs a query over the socket and returns its data."""
        operation_id = await self.subscribe(query, variables)
        operation = self.operations[operation_id]
        await eventually(lambda: operation.completed or operation.error is not None, WITHIN)
        return operation.data[0]

    async def updates(self, operation_id: str, count: int) -> list[dict[str, Any]]:
        """Waits for `count` taskUpdates of the operation (or its end) and returns them all."""
        operation = self.operations[operation_id]
        await eventually(
            lambda: (
                len(operation.results) >= count
                or operation.completed
                or operation.error is not None
                or self.closed
            ),
            WITHIN,
        )
        assert len(operation.results) >= count, (operation.results[-3:], operation.error)
        return [data["taskUpdates"] for data in operation.data]

    async def ended(self, operation_id: str) -> Operation:
        operation = self.operations[operation_id]
        await eventually(
            lambda: operation.completed or operation.error is not None or self.closed, WITHIN
        )
        return operation

    async def close(self) -> None:
        await self.connection.close()
        await asyncio.wait([self._reader])

    def abort(self) -> None:
        """Drops the TCP connection without a closing handshake (a client that vanished)."""
        self.connection.transport.abort()

    async def drop(self) -> None:
        """`abort()`, then waits until the client noticed."""
        self.abort()
        await asyncio.wait([self._reader])


async def open_client(url: str, token: str, **options: Any) -> WsClient:
    """Connects and sends connection_init with `token`; asserts the server acknowledged it."""
    connection = await connect(url, subprotocols=[PROTOCOL], **options)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await connection.send(json.dumps(init))
    raw = await connection.recv()
    assert isinstance(raw, str), "graphql-transport-ws messages are text frames"
    reply = json.loads(raw)
    assert reply == {"type": "connection_ack"}, reply
    return WsClient(connection)


@contextlib.asynccontextmanager
async def client(url: str, token: str, **options: Any) -> AsyncIterator[WsClient]:
    opened = await open_client(url, token, **options)
    try:
        yield opened
    finally:
        await opened.close()
