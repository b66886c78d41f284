"""Running `todo up` as a user does: a process whose output lines the test reads, plus helpers."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from todo_cli.broker import free_port
from todo_cli.database import EmbeddedPostgres
from todo_cli.die_with_parent import tied

READY_TIMEOUT = 180.0


def stack_environment(data_dir: Path) -> dict[str, str]:
    """This process's environment with every port moved to a free one and a fresh data dir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TODO_")
        and k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "TEST_DATABASE_URL"}
    }
    env.update(
        TODO_DATA_DIR=str(data_dir),
        TODO_BROKER_PORT=str(free_port()),
        TODO_TASKS_PORT=str(free_port()),
        TODO_RECUR_PORT=str(free_port()),
        TODO_NOTIFY_PORT=str(free_port()),
        TODO_AUDIT_PORT=str(free_port()),
        TODO_LIVE_PORT=str(free_port()),
        TODO_GATEWAY_PORT=str(free_port()),
    )
    return env


class Stack:
    """A `todo up` process whose output lines are read in the background."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.env = env
        self.process = subprocess.Popen(
            tied([sys.executable, "-m", "todo_cli", "up", *args]),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        if self.process.stdout is None:
            return
        for line in self.process.stdout:
            self.lines.put(line.rstrip())

    def wait_for(self, text: str, timeout: float = READY_TIMEOUT) -> float:
        """Seconds until a line containing `text` appeared; fails the test after `timeout`."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    pytest.fail(f"todo up exited with {self.process.returncode}: {self.seen}")
                continue
            self.seen.append(line)
            if text in line:
                return time.monotonic() - started
        pytest.fail(f"no line containing {text!r} within {timeout} s: {self.seen}")

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def child(self, marker: str) -> psutil.Process:
        """The running child whose command line contains `marker` (StopIteration if none);
        a child that exits while the children are read is passed over."""
        for process in self.children():
            try:
                command = " ".join(process.cmdline())
            except psutil.NoSuchProcess:
                continue
            if marker in command:
                return process
        raise StopIteration(marker)

    def stop(self, signum: signal.Signals = signal.SIGINT) -> int:
        """Stops the stack as Ctrl-C does and returns `todo up`'s exit status."""
        self.process.send_signal(signum)
        code = self.process.wait(60)
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code


def token(env: dict[str, str], user: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "todo_cli", "token", user],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def graphql(env: dict[str, str], bearer: str, query: str, **variables: Any) -> dict[str, Any]:
    """The `data` of a GraphQL call to the stack's gateway, failing on errors."""
    response = httpx.post(
        f"http://127.0.0.1:{env['TODO_GATEWAY_PORT']}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def database_url(env: dict[str, str]) -> str:
    """The stack's embedded database, on its Unix socket."""
    return EmbeddedPostgres(Path(env["TODO_DATA_DIR"])).url()


def service_environment(env: dict[str, str]) -> dict[str, str]:
    """What `todo serve NAME` needs to join the running stack (as an operator would set it)."""
    secrets = json.loads((Path(env["TODO_DATA_DIR"]) / "secrets.json").read_text())
    return {
        **env,
        **secrets,
        "DATABASE_URL": database_url(env),
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{env['TODO_BROKER_PORT']}",
    }


def listening_ports(env: dict[str, str]) -> list[int]:
    """Which of the stack's TCP ports something still listens on."""
    ports = [int(env[key]) for key in env if key.startswith("TODO_") and key.endswith("_PORT")]
    listening = {
        conn.laddr[1]
        for conn in psutil.net_connections("tcp")
        if conn.status == psutil.CONN_LISTEN and conn.laddr
    }
    return sorted(port for port in ports if port in listening)
