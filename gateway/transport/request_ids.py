"""Every HTTP request and WebSocket connection runs under a correlation id (`request_context`).

A client's `X-Request-Id` is kept when it is valid (1 to 128 letters, digits or `._:-`), else
replaced by a new one, never echoed; an HTTP response carries the id in its `X-Request-Id` header.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from todo_runtime import request_context

HEADER = request_context.CORRELATION_KEY


class RequestIds:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self._app(scope, receive, send)
            return
        correlation = request_context.accept(Headers(scope=scope).get(HEADER))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = correlation
            await send(message)

        with request_context.bound(correlation):
            await self._app(scope, receive, send_with_id)
