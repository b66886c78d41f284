"""graphql-transport-ws over a real socket: the connection_init payload carries the token; a
message may be as long as an HTTP body, no longer; a message the protocol does not allow closes
the socket with 4400, however odd it is."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, Final, cast

import httpx
import pytest
from starlette.types import Message
from starlette.websockets import WebSocket
from strawberry.http.exceptions import WebSocketDisconnected
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close
from websockets.typing import Origin

from gateway.app import create_app
from gateway.transport.request_body import MAX_BODY_BYTES
from gateway.transport.ws_protocol import GatewayWebSocket, TransportWS
from tests.support.gateway.gateway_harness import (
    INTERNAL_SECRET,
    JWT_SECRET,
    OTHER_SECRET,
    graphql_view,
    make_config,
    serving,
    token_for,
)
from tests.support.gateway.ws_client import MALFORMED, PROTOCOL, TASK_UPDATES, sized_ping
from tests.support.infra import eventually
from todo_cli.broker import free_port
from todo_cli.die_with_parent import tied

Outgoing = str | bytes | list[str]  # a list: one message in fragments


@pytest.fixture
async def ws_url() -> AsyncIterator[str]:
    async with serving(make_config()) as url:
        yield url


async def _init(
    url: str, payload: dict[str, Any] | None, **options: Any
) -> tuple[ClientConnection, dict[str, Any]]:
    """Opens a connection and sends connection_init; returns it with the server's first reply."""
    connection = await connect(url, subprotocols=[PROTOCOL], **options)
    message: dict[str, Any] = {"type": "connection_init"}
    if payload is not None:
        message["payload"] = payload
    await connection.send(json.dumps(message))
    return connection, json.loads(await connection.recv())


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Bearer {token_for('alice', secret=OTHER_SECRET)}"},
        {"Authorization": token_for("alice")},
        {"token": token_for("alice")},
    ],
    ids=["no-payload", "empty", "garbage", "wrong-signature", "no-bearer", "other-key"],
)
async def test_connection_without_a_good_token_is_closed_4403(
    ws_url: str, payload: dict[str, Any] | None
) -> None:
    with pytest.raises(ConnectionClosed) as closed:
        await _init(ws_url, payload)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


@pytest.mark.parametrize("key", ["Authorization", "authorization", "AUTHORIZATION"])
async def test_connection_with_a_good_token_is_acknowledged(ws_url: str, key: str) -> None:
    connection, reply = await _init(ws_url, {key: f"Bearer {token_for('alice')}"})
    async with connection:
        assert reply == {"type": "connection_ack"}
        await connection.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}})
        )
        assert json.loads(await connection.recv()) == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"__typename": "Query"}},
        }
        assert json.loads(await connection.recv()) == {"id": "1", "type": "complete"}


async def test_operations_run_as_the_acknowledged_user(ws_url: str) -> None:
    """The connection's user reaches resolvers: with no svc_tasks, the call fails after auth."""
    connection, reply = await _init(ws_url, {"authorization": f"Bearer {token_for('alice')}"})
    async with connection:
        assert reply == {"type": "connection_ack"}
        await connection.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": "{ tasks { totalCount } }"}}
            )
        )
        result = json.loads(await connection.recv())
        assert result["type"] == "next"
        assert result["payload"]["errors"][0]["extensions"] == {"code": "UNAVAILABLE"}


async def test_cross_site_pages_cannot_open_a_socket(ws_url: str) -> None:
    with pytest.raises(Exception, match="403"):
        await connect(ws_url, subprotocols=[PROTOCOL], origin=Origin("https://evil.example"))


async def _acknowledged(url: str, **options: Any) -> ClientConnection:
    connection, reply = await _init(
        url, {"Authorization": f"Bearer {token_for('alice')}"}, **options
    )
    assert reply == {"type": "connection_ack"}
    return connection


async def _send_then_read(connection: ClientConnection, messages: tuple[Outgoing, ...]) -> None:
    for message in messages:
        await connection.send(message)
    async with asyncio.timeout(10):
        while True:
            await connection.recv()


async def _close_of(connection: ClientConnection, *messages: Outgoing) -> Close:
    """Sends `messages` and returns the server's close frame."""
    with pytest.raises(ConnectionClosed) as closed:
        await _send_then_read(connection, messages)
    assert closed.value.rcvd is not None, closed.value
    return closed.value.rcvd


@pytest.mark.parametrize("compression", [None, "deflate"], ids=["plain", "deflated"])
async def test_a_message_as_long_as_an_http_body_may_be_is_answered(
    ws_url: str, compression: str | None
) -> None:
    async with await _acknowledged(ws_url, compression=compression) as connection:
        await connection.send(sized_ping(MAX_BODY_BYTES))
        assert json.loads(await connection.recv()) == {"type": "pong"}
        payload = {"query": "{ __typename }", "extensions": {"pad": ""}}
        empty = len(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        payload["extensions"] = {"pad": "x" * (MAX_BODY_BYTES - empty)}
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        assert json.loads(await connection.recv())["payload"] == {"data": {"__typename": "Query"}}
        assert json.loads(await connection.recv()) == {"id": "1", "type": "complete"}


LONGER: Final[dict[str, tuple[dict[str, Any], list[Outgoing]]]] = {
    "plain": ({}, [sized_ping(MAX_BODY_BYTES + 1)]),
    # Counted inflated: a megabyte of one letter deflates to about a kilobyte.
    "deflated": ({"compression": "deflate"}, [sized_ping(MAX_BODY_BYTES + 1)]),
    # Counted whole: each fragment is under the limit.
    "fragmented": ({}, [["x" * (MAX_BODY_BYTES // 2 + 1)] * 2]),
    "much longer": ({}, [sized_ping(16 * MAX_BODY_BYTES)]),
}


@pytest.mark.parametrize("case", LONGER)
async def test_a_longer_message_closes_the_socket_with_1009(ws_url: str, case: str) -> None:
    """RFC 6455's "message too big", as HTTP answers a longer body with 413."""
    options, messages = LONGER[case]
    connection = await _acknowledged(ws_url, **options)
    assert (await _close_of(connection, *messages)).code == 1009


@contextlib.asynccontextmanager
async def _gateway_process() -> AsyncIterator[str]:
    """`python -m gateway`, with nothing behind it; yields its ws:// URL once it is healthy."""
    port = free_port()
    env = {
        **os.environ,
        "TODO_JWT_SECRET": JWT_SECRET,
        "TODO_INTERNAL_SECRET": INTERNAL_SECRET,
        "TODO_GATEWAY_PORT": str(port),
    }
    env.pop("DATABASE_URL", None)
    process = await asyncio.create_subprocess_exec(
        *tied([sys.executable, "-m", "gateway"]), env=env, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        async with httpx.AsyncClient() as http:

            async def healthy() -> bool:
                try:
                    response = await http.get(f"http://127.0.0.1:{port}/healthz")
                except httpx.TransportError:
                    return process.returncode is not None  # ended: fail below, not wait
                return response.status_code == 200

            await eventually(healthy, 60.0)
        assert process.returncode is None, "python -m gateway ended"
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


@pytest.mark.integration
async def test_python_m_gateway_holds_messages_to_the_same_limit() -> None:
    """The server as it runs in production, not only the tests' in-process one."""
    async with _gateway_process() as url:
        async with await _acknowledged(url) as connection:
            await connection.send(sized_ping(MAX_BODY_BYTES))
            assert json.loads(await connection.recv()) == {"type": "pong"}
        for compression in (None, "deflate"):
            connection = await _acknowledged(url, compression=compression)
            assert (await _close_of(connection, sized_ping(MAX_BODY_BYTES + 1))).code == 1009


@pytest.mark.parametrize(
    "message", [*MALFORMED.values(), b'{"type": "ping"}'], ids=[*MALFORMED, "binary"]
)
async def test_a_message_the_protocol_does_not_allow_closes_the_socket_with_4400(
    ws_url: str, message: str | bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, JSON that is not an object, or nested too deep, and an id or payload of another
    type raised in the handler (the socket ended without a close frame, with a traceback);
    a query or operationName of another type, an empty id and a ping payload that is not an
    object were run or answered (the operationName as INTERNAL)."""
    connection = await _acknowledged(ws_url)
    assert (await _close_of(connection, message)).code == 4400
    assert not _errors_logged(caplog)


def _errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR or record.exc_info is not None
    ]


async def test_close_reasons_are_cut_to_fit_a_close_frame(
    ws_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Strawberry's reasons quote the operation id or the parse error; a long one raised
    instead of closing (the socket ended without a close frame, with a traceback). And a
    document that does not parse, or has no such operation, closes with 4400: before, the
    first got a bare `complete` and the second INTERNAL, both with a traceback in the log."""
    long_id = "x" * 200
    subscribe = {"id": long_id, "type": "subscribe", "payload": {"query": TASK_UPDATES}}
    connection = await _acknowledged(ws_url)
    close = await _close_of(connection, json.dumps(subscribe), json.dumps(subscribe))
    assert close.code == 4409
    assert close.reason.startswith("Subscriber for xxx")
    assert len(close.reason.encode()) <= 123
    for payload in (
        {"query": "z" * 300},  # the parse error quotes the name
        {"query": "{ __typename }", "operationName": "é" * 100},  # cut between characters
    ):
        message = {"id": "1", "type": "subscribe", "payload": payload}
        connection = await _acknowledged(ws_url)
        close = await _close_of(connection, json.dumps(message))
        assert close.code == 4400
        assert 0 < len(close.reason.encode()) <= 123
    assert not _errors_logged(caplog)


async def test_a_null_connection_init_payload_is_no_token(ws_url: str) -> None:
    """graphql-transport-ws allows a null payload: the socket is refused for the missing token
    (4403), not as a bad message (4400)."""
    connection = await connect(ws_url, subprotocols=[PROTOCOL])
    close = await _close_of(connection, json.dumps({"type": "connection_init", "payload": None}))
    assert close.code == 4403


async def test_an_answer_for_a_socket_closed_meanwhile_ends_its_operation_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An operation answering as its socket closed (the client left; another operation, the
    connection_init wait or the size limit closed it) raised RuntimeError or logged
    WebSocketDisconnected as a fault, ending the connection with a traceback, now and then."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    view = graphql_view(create_app(make_config()))
    socket = WebSocket({"type": "websocket", "path": "/graphql", "headers": []}, receive, send)
    await socket.accept(subprotocol="graphql-transport-ws")
    # Strawberry types an adapter's view as one without a context (its views ignore this too).
    adapter = GatewayWebSocket(cast("Any", view), socket, socket)
    await adapter.close(4400, "closed by another task")
    with pytest.raises(WebSocketDisconnected):
        await adapter.send_json({"type": "pong"})
    await adapter.close(4400, "and again")
    assert [message["type"] for message in sent] == ["websocket.accept", "websocket.close"]
    handler = TransportWS(view, adapter, view._context(), None, view.schema, timedelta(seconds=3))
    await handler.handle_task_exception(WebSocketDisconnected())
    assert not caplog.records
