"""A TCP link from one service replica to PostgreSQL that the fault suite can cut and restore.

Like `tests.support.infra.PostgresProxy`, but it lives for a whole run: it is restored
on the same port after a cut, and it answers a connection it cannot forward
(PostgreSQL down) by closing it, as a refused connection would be.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class DatabaseLink:
    """Forwards 127.0.0.1:<port> to the server's Unix socket `socket_path`."""

    def __init__(self, socket_path: str) -> None:
        self._socket_path = socket_path
        self._server: asyncio.Server | None = None
        self.port = 0
        self._open: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listens (again, on the same port after a cut)."""
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Drops every open connection and refuses new ones until `start()`."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _forward(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            server_in, server_out = await asyncio.open_unix_connection(self._socket_path)
        except OSError:
            client_out.transport.abort()
            return
        self._open |= {client_out, server_out}
        task = asyncio.create_task(
            _both(_pipe(client_in, server_out), _pipe(server_in, client_out))
        )
        self._pipes.add(task)
        try:
            await task
        finally:
            self._pipes.discard(task)
            self._open -= {client_out, server_out}


async def _both(one: Coroutine[Any, Any, None], other: Coroutine[Any, Any, None]) -> None:
    await asyncio.gather(one, other)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.transport.abort()
