"""The secured listener's connections: TLS, then SASL as a Kafka broker runs it, then bytes.

Until a client authenticated, only ApiVersions (forwarded, with the SASL APIs
added to the answer), SaslHandshake and SaslAuthenticate are served; anything
else, a malformed frame, or bad credentials (after the error answer) closes
the connection, as Kafka does. Afterwards the bytes pass through unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tests.support.kafka_security.sasl import (
    AuthenticationFailed,
    Credentials,
    SaslExchange,
    start_exchange,
)
from tests.support.kafka_security.wire import (
    API_VERSIONS,
    SASL_AUTHENTICATE,
    SASL_AUTHENTICATION_FAILED,
    SASL_HANDSHAKE,
    UNSUPPORTED_SASL_MECHANISM,
    MalformedMessage,
    add_sasl_api_versions,
    frame,
    parse_request,
    read_frame,
    sasl_authenticate_response,
    sasl_authenticate_token,
    sasl_handshake_response,
)

CLOSE_TIMEOUT = 2.0  # seconds a closing connection may take to flush (TLS close_notify)
CHUNK = 64 * 1024


@dataclass(frozen=True)
class _Stream:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


class KafkaSecurityProxy:
    """Serves the connections of one listening socket on the running event loop."""

    def __init__(
        self,
        upstream: tuple[str, int],
        ssl_context: ssl.SSLContext | None,
        mechanisms: tuple[str, ...],
        credentials: Credentials,
    ) -> None:
        self._upstream = upstream
        self._ssl_context = ssl_context
        self._mechanisms = mechanisms
        self._credentials = credentials
        self._connections: set[asyncio.Task[None]] = set()
        # Every accepted connection until its task has closed it: one whose task is cancelled
        # before it first ran (or during its TLS handshake) never closes itself.
        self._accepted: set[asyncio.StreamWriter] = set()

    @contextlib.asynccontextmanager
    async def listening(self, listener: socket.socket) -> AsyncIterator[None]:
        """Accepts connections until the block ends, then closes every one of them."""
        server = await asyncio.start_server(self._accept, sock=listener)
        try:
            yield
        finally:
            server.close()
            await server.wait_closed()
            for connection in self._connections:
                connection.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            for writer in self._accepted:
                writer.transport.abort()
            self._accepted.clear()
            await asyncio.sleep(0)  # aborted transports close their sockets on the next turn

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._accepted.add(writer)
        task = asyncio.create_task(self._serve(_Stream(reader, writer)))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _serve(self, client: _Stream) -> None:
        try:
            await self._serve_secured(client)
        finally:
            if client.writer.transport.is_closing():  # else left to `listening` to abort
                self._accepted.discard(client.writer)

    async def _serve_secured(self, client: _Stream) -> None:
        if self._ssl_context is not None:
            try:
                await client.writer.start_tls(self._ssl_context)
            except OSError:  # handshake refused (untrusted certificate, plaintext client)
                client.writer.transport.abort()  # the socket too, not left for the collector
                return
        streams = [client]
        try:
            upstream = _Stream(*await asyncio.open_connection(*self._upstream))
            streams.append(upstream)
            if self._mechanisms and not await self._authenticate(client, upstream):
                return
            await _relay(client, upstream)
        except (OSError, asyncio.IncompleteReadError, MalformedMessage):
            return
        except asyncio.CancelledError:
            for stream in streams:  # the proxy is stopping: no waiting for the peers
                stream.writer.transport.abort()
            raise
        finally:
            await _close(streams)

    async def _authenticate(self, client: _Stream, upstream: _Stream) -> bool:
        """Kafka's SASL sequence; True once the client authenticated."""
        while True:
            message = await read_frame(client.reader)
            header, body = parse_request(message)
            if header.api_key == API_VERSIONS:
                await upstream.send(frame(message))
                answer = await read_frame(upstream.reader)
                await client.send(frame(add_sasl_api_versions(answer, header.api_version)))
                continue
            if header.api_key != SASL_HANDSHAKE:
                return False
            mechanism = body.string()
            enabled = mechanism in self._mechanisms
            error = 0 if enabled else UNSUPPORTED_SASL_MECHANISM
            await client.send(
                sasl_handshake_response(header.correlation_id, error, list(self._mechanisms))
            )
            if not enabled:
                return False
            exchange = start_exchange(mechanism, self._credentials)
            if header.api_version == 0:
                user = await _exchange_raw_tokens(client, exchange)
            else:
                user = await _exchange_authenticate_requests(client, exchange)
            if user is None:
                return False
            self._credentials.record_authentication(user)
            return True


async def _exchange_raw_tokens(client: _Stream, exchange: SaslExchange) -> str | None:
    """After SaslHandshake v0 the tokens travel bare, each length-prefixed; a refusal just
    closes the connection."""
    while exchange.user is None:
        token = await read_frame(client.reader)
        try:
            answer = exchange.step(token)
        except AuthenticationFailed:
            return None
        await client.send(frame(answer))
    return exchange.user


async def _exchange_authenticate_requests(client: _Stream, exchange: SaslExchange) -> str | None:
    """After SaslHandshake v1 each token is a SaslAuthenticate request; a refusal is answered
    SASL_AUTHENTICATION_FAILED with Kafka's message before the connection closes."""
    while exchange.user is None:
        header, body = parse_request(await read_frame(client.reader))
        if header.api_key != SASL_AUTHENTICATE:
            return None
        try:
            answer = exchange.step(sasl_authenticate_token(header, body))
        except AuthenticationFailed as failure:
            await client.send(
                sasl_authenticate_response(header, SASL_AUTHENTICATION_FAILED, str(failure), b"")
            )
            return None
        await client.send(sasl_authenticate_response(header, 0, None, answer))
    return exchange.user


async def _pump(source: _Stream, target: _Stream) -> None:
    while data := await source.reader.read(CHUNK):
        await target.send(data)


async def _relay(client: _Stream, upstream: _Stream) -> None:
    """Bytes both ways until either side closes."""
    pumps = [
        asyncio.create_task(_pump(client, upstream)),
        asyncio.create_task(_pump(upstream, client)),
    ]
    try:
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


async def _close(streams: list[_Stream]) -> None:
    """Closes gracefully (a refused client still reads its error answer), then aborts what
    is left, also when the proxy is stopping: no socket outlives it."""
    for stream in streams:
        stream.writer.close()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(s.writer.wait_closed() for s in streams), return_exceptions=True),
                CLOSE_TIMEOUT,
            )
    finally:
        for stream in streams:
            stream.writer.transport.abort()
