"""PostgreSQL that speaks TLS, on this machine, for the chart's run against a secured database.

The embedded server is built without OpenSSL, so TLS is terminated in front of
it, as PostgreSQL itself does it: the client asks with an SSLRequest, is
answered `S`, and the TLS handshake follows on the same connection; then the
decrypted protocol goes to the server's Unix socket. A client that does not ask
for TLS is turned away, as a `hostssl`-only server does. With
`sslmode=verify-full`, asyncpg checks the certificate and the host name against
the CA an operator would put in a Secret, so this is a real TLS endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
from pathlib import Path
from typing import Final

import asyncpg
import trustme

from todo_cli.database import EmbeddedPostgres

HOST: Final = "localhost"  # the name in the certificate, and in the URL clients dial
_SSL_REQUEST: Final = 80877103
_GSSENC_REQUEST: Final = 80877104


class TlsPostgres:
    """An embedded PostgreSQL behind a TLS front on `localhost:<port>` with a certificate from a
    CA of its own (`ca_pem`). `stop()`/`start()` stop and start the server, not the front."""

    def __init__(self, directory: Path) -> None:
        ca = trustme.CA()
        self.ca_pem = ca.cert_pem.bytes()  # what an operator puts in the CA Secret
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(HOST).configure_cert(self._context)
        self.server = EmbeddedPostgres(directory)
        self._log = directory / "postgres.log"
        self._front: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.port = 0

    def url(self, database: str) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def start(self) -> None:
        self.server.start(log_path=self._log)

    def stop(self) -> None:
        self.server.stop()

    async def open(self) -> None:
        """Starts the server and the TLS front."""
        await asyncio.to_thread(self.start)
        self._front = await asyncio.start_server(self._serve, HOST, 0)
        self.port = self._front.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._front is not None:
            self._front.close()
            for writer in self._open:
                writer.transport.abort()
            await self._front.wait_closed()
        await asyncio.to_thread(self.stop)

    async def create_database(self, name: str) -> str:
        """Creates `name` (over the server's own socket) and returns its URL through the front."""
        conn = await asyncpg.connect(self.server.url("postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self._open.add(client_out)
        try:
            if await self._negotiated(client_in, client_out):
                await self._forward(client_in, client_out)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        finally:
            self._open.discard(client_out)
            client_out.transport.abort()

    async def _negotiated(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> bool:
        """Answers the client's requests until it asked for TLS (then True) or for anything else."""
        while True:
            length, code = struct.unpack("!II", await client_in.readexactly(8))
            if length == 8 and code == _GSSENC_REQUEST:
                client_out.write(b"N")  # no GSSAPI encryption: the client asks for TLS next
                continue
            if length != 8 or code != _SSL_REQUEST:
                return False  # TLS is required here
            client_out.write(b"S")
            await client_out.drain()
            await client_out.start_tls(self._context)
            return True

    async def _forward(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        socket = self.server.socket_dir / ".s.PGSQL.5432"
        server_in, server_out = await asyncio.open_unix_connection(str(socket))
        self._open.add(server_out)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, ssl.SSLError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        try:
            await asyncio.gather(pipe(client_in, server_out), pipe(server_in, client_out))
        finally:
            self._open.discard(server_out)
