"""The uvicorn settings the gateway runs with, shared by `python -m gateway` and the tests.

A WebSocket message has the limit of an HTTP body (`MAX_BODY_BYTES`). uvicorn hands
`ws_max_size` to the protocol of the `websockets` library, which counts a fragmented
message's frames together and a compressed one once inflated; the header of a frame that
would go over fails the connection with 1009 (message too big) before its payload is read.
The implementation is named, not left to `auto`, so that the limit served is the one tested.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from gateway.config import GatewayConfig
from gateway.transport.request_body import MAX_BODY_BYTES


class ServerOptions(TypedDict):
    """Keyword arguments of `uvicorn.run` and `uvicorn.Config`."""

    ws: Literal["websockets-sansio"]
    ws_max_size: int
    ws_ping_interval: float
    ws_ping_timeout: float


def server_options(config: GatewayConfig) -> ServerOptions:
    """The server pings every `ws_ping_interval`: a client silent for two is dropped with its streams."""
    return ServerOptions(
        ws="websockets-sansio",
        ws_max_size=MAX_BODY_BYTES,
        ws_ping_interval=config.ws_ping_interval,
        ws_ping_timeout=config.ws_ping_interval,
    )
