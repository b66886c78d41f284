"""A real TLS and SASL Kafka endpoint for the tests: a proxy in front of a Tansu broker.

Tansu's own TLS and SCRAM cannot be used as shipped, so the proxy terminates
TLS (a trustme certificate for `localhost`, optionally requiring a client
certificate) and runs SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) as a Kafka
broker does; Tansu advertises the proxy's address, so metadata needs no
rewriting. The proxy's event loop runs in a thread of its own, so sync tests
and tests with their own loop use it alike; users and the served certificate
can be changed while it runs, to show clients recovering without a restart.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import trustme

from tests.support.kafka_security.proxy import KafkaSecurityProxy
from tests.support.kafka_security.sasl import MECHANISMS, Credentials
from todo_cli.broker import EmbeddedBroker, free_port

HOST = "localhost"  # the name in the served certificate and in the advertised address
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class ClientFiles:
    """PEM files for a client, named after the librdkafka properties that take them."""

    ssl_ca_location: Path
    ssl_certificate_location: Path | None  # only for mutual TLS
    ssl_key_location: Path | None


@dataclass(frozen=True)
class _Running:
    loop: asyncio.AbstractEventLoop
    stop: asyncio.Event
    thread: threading.Thread
    tansu: EmbeddedBroker


class SecureBroker:
    """`localhost:<port>` speaking TLS and/or SASL, backed by a Tansu broker of its own."""

    def __init__(
        self,
        *,
        tls: bool = True,
        mutual_tls: bool = False,
        sasl_mechanisms: Sequence[str] = (),
        users: Mapping[str, str] | None = None,
    ) -> None:
        if mutual_tls and not tls:
            raise ValueError("mutual TLS needs tls=True")
        unknown = set(sasl_mechanisms) - set(MECHANISMS)
        if unknown:
            raise ValueError(f"unsupported SASL mechanisms {sorted(unknown)}; use {MECHANISMS}")
        self._tls = tls
        self._mutual_tls = mutual_tls
        self._mechanisms = tuple(sasl_mechanisms)
        self._credentials = Credentials(users or {})
        self._ca = trustme.CA()
        self._ssl_context: ssl.SSLContext | None = None
        if tls:
            self._ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ca.issue_cert(HOST).configure_cert(self._ssl_context)
            if mutual_tls:
                self._ssl_context.verify_mode = ssl.CERT_REQUIRED
                self._ca.configure_trust(self._ssl_context)
        self._port: int | None = None
        self._running: _Running | None = None

    @property
    def ca(self) -> trustme.CA:
        """The broker's own CA: it issues the listener's certificate (until `use_certificate`
        serves another CA's) and, for mutual TLS, the client certificates it accepts."""
        return self._ca

    @property
    def bootstrap_servers(self) -> str:
        if self._port is None:
            raise RuntimeError("the broker is not started")
        return f"{HOST}:{self._port}"

    @property
    def security_protocol(self) -> str:
        """The librdkafka `security.protocol` this listener takes."""
        if self._mechanisms:
            return "SASL_SSL" if self._tls else "SASL_PLAINTEXT"
        return "SSL" if self._tls else "PLAINTEXT"

    def authentications(self, user: str) -> int:
        """How many connections authenticated as `user` so far."""
        return self._credentials.authentications(user)

    def set_password(self, user: str, password: str) -> None:
        """Accepts `user` with `password` from the next authentication on."""
        self._credentials.set_password(user, password)

    def use_certificate(self, ca: trustme.CA) -> None:
        """Serves a certificate for `localhost` issued by `ca` from the next connection on."""
        if self._ssl_context is None:
            raise RuntimeError("the broker has no TLS listener")
        certificate = ca.issue_cert(HOST)
        context = self._ssl_context
        self._in_loop(lambda: certificate.configure_cert(context))

    def write_client_files(self, directory: Path) -> ClientFiles:
        """The CA certificate, and for mutual TLS a client certificate and key, as PEM files."""
        ca_file = directory / "ca.pem"
        self._ca.cert_pem.write_to_path(str(ca_file))
        if not self._mutual_tls:
            return ClientFiles(ca_file, None, None)
        client = self._ca.issue_cert("todo-client")
        certificate_file = directory / "client.pem"
        key_file = directory / "client.key"
        certificate_file.write_bytes(b"".join(blob.bytes() for blob in client.cert_chain_pems))
        client.private_key_pem.write_to_path(str(key_file))
        return ClientFiles(ca_file, certificate_file, key_file)

    def start(self) -> None:
        """Starts Tansu and the proxy; returns once both accept connections."""
        if self._running is not None:
            return
        listener = socket.create_server(("127.0.0.1", 0))
        port: int = listener.getsockname()[1]
        tansu = EmbeddedBroker(port=free_port(), advertised=f"{HOST}:{port}")
        started: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]]
        started = concurrent.futures.Future()
        proxy = KafkaSecurityProxy(
            (tansu.host, tansu.port), self._ssl_context, self._mechanisms, self._credentials
        )
        thread = threading.Thread(
            target=_run, args=(proxy, listener, started), name=f"secure-broker-{port}"
        )
        try:
            tansu.start()
            thread.start()
            loop, stop = started.result(START_TIMEOUT)
        except BaseException:
            listener.close()
            tansu.stop()
            raise
        self._port = port
        self._running = _Running(loop, stop, thread, tansu)

    def stop(self) -> None:
        """Closes every connection, ends the proxy's thread and stops Tansu."""
        running, self._running = self._running, None
        if running is None:
            return
        try:
            running.loop.call_soon_threadsafe(running.stop.set)
            running.thread.join(STOP_TIMEOUT)
            if running.thread.is_alive():
                raise RuntimeError(f"the proxy did not stop within {STOP_TIMEOUT} s")
        finally:
            running.tansu.stop()

    def __enter__(self) -> SecureBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _in_loop(self, change: Callable[[], None]) -> None:
        """Runs `change` on the proxy's loop (the TLS context is only touched there)."""
        if self._running is None:
            change()
            return

        async def call() -> None:
            change()

        asyncio.run_coroutine_threadsafe(call(), self._running.loop).result(START_TIMEOUT)


def _run(
    proxy: KafkaSecurityProxy,
    listener: socket.socket,
    started: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]],
) -> None:
    """The proxy thread: its own event loop, until the stop event is set."""

    async def serve() -> None:
        stop = asyncio.Event()
        async with proxy.listening(listener):
            started.set_result((asyncio.get_running_loop(), stop))
            await stop.wait()

    try:
        asyncio.run(serve())
    except BaseException as error:
        if started.done():
            raise
        started.set_exception(error)
    finally:
        listener.close()
