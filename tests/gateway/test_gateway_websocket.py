"""graphql-transport-ws over a real socket: the connection_init payload carries the token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from tests.gateway.gateway_harness import OTHER_SECRET, make_config, serving, token_for

PROTOCOL = Subprotocol("graphql-transport-ws")


@pytest.fixture
async def ws_url() -> AsyncIterator[str]:
    async with serving(make_config()) as url:
        yield url


async def _init(
    url: str, payload: dict[str, Any] | None
) -> tuple[ClientConnection, dict[str, Any]]:
    """Opens a connection and sends connection_init; returns it with the server's first reply."""
    connection = await connect(url, subprotocols=[PROTOCOL])
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
