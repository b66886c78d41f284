"""A real webhook receiver for the tests: uvicorn serving a Starlette app on this event loop.

It records every request (arrival time, headers, body) and answers from a
script (status, headers, delay), then with a default answer. With a trustme
CA it serves https for `localhost` only, so a client that does not send the
registered name as the TLS server name fails certificate verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import trustme
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic() when the request arrived
    wall: float  # time.time() then
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering


class Receiver:
    """What reached the server, and what it will answer next (`script`, then `default`)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[Answer] = []
        self.default = Answer()
        self.url = ""

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.received.append(Received(time.monotonic(), time.time(), dict(request.headers), body))
        answer = self.script.pop(0) if self.script else self.default
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return Response(status_code=answer.status, headers=answer.headers)


@contextlib.asynccontextmanager
async def receiving(
    *, tls: trustme.CA | None = None, directory: Path | None = None
) -> AsyncIterator[Receiver]:
    """A receiver on a free port: `http://127.0.0.1:<port>/hook`, or with `tls` (and a
    `directory` for the key file) `https://localhost:<port>/hook`."""
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    certfile: str | None = None
    if tls is not None and directory is not None:
        certfile = str(directory / "localhost.pem")
        tls.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(certfile)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            ssl_certfile=certfile,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        origin = "https://localhost" if certfile else "http://127.0.0.1"
        receiver.url = f"{origin}:{port}/hook"
        yield receiver
    finally:
        server.should_exit = True
        await task
