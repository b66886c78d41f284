"""`todo up` as a user runs it: embedded Postgres and broker, every component, restart, clean stop."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from todo_cli.broker import free_port

READY_TIMEOUT = 180.0


class Stack:
    """A `todo up` process whose output lines are read in the background."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "todo_cli", "up"],
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
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip())

    def wait_for(self, text: str, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    pytest.fail(f"todo up exited with {self.process.returncode}: {self.seen}")
                continue
            self.seen.append(line)
            if text in line:
                return
        pytest.fail(f"no line containing {text!r} within {timeout} s: {self.seen}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(60)
        self._reader.join(10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "KAFKA_BOOTSTRAP_SERVERS",
            "TODO_JWT_SECRET",
            "TODO_INTERNAL_SECRET",
        }
    }
    env.update(
        TODO_DATA_DIR=str(tmp_path / "data"),
        TODO_BROKER_PORT=str(free_port()),
        TODO_TASKS_PORT=str(free_port()),
        TODO_RECUR_PORT=str(free_port()),
        TODO_GATEWAY_PORT=str(free_port()),
    )
    env["TODO_TASKS_ADDR"] = f"127.0.0.1:{env['TODO_TASKS_PORT']}"
    env["TODO_RECUR_ADDR"] = f"127.0.0.1:{env['TODO_RECUR_PORT']}"
    return env


def graphql(env: dict[str, str], token: str, query: str) -> dict[str, object]:
    response = httpx.post(
        f"http://127.0.0.1:{env['TODO_GATEWAY_PORT']}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    body: dict[str, object] = response.json()
    assert "errors" not in body, body
    return body


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def test_todo_up_runs_restarts_and_stops_cleanly(stack_env: dict[str, str]) -> None:
    stack = Stack(stack_env)
    try:
        stack.wait_for("todo stack ready")
        output = "\n".join(stack.seen)
        for name, port in [("tasks", "TODO_TASKS_PORT"), ("recur", "TODO_RECUR_PORT")]:
            assert f"{name:<9} grpc://127.0.0.1:{stack_env[port]}" in output
        assert f"http://127.0.0.1:{stack_env['TODO_GATEWAY_PORT']}/graphql" in output

        token = subprocess.run(
            [sys.executable, "-m", "todo_cli", "token", "alice"],
            env=stack_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        created = graphql(
            stack_env,
            token,
            'mutation { createTask(input: {title: "from the stack test"}) { id title } }',
        )
        assert created["data"] == {
            "createTask": {
                "id": created["data"]["createTask"]["id"],
                "title": "from the stack test",
            }
        }  # type: ignore[index]

        children = descendants(stack.process.pid)
        svc_tasks = next(p for p in children if "svc_tasks" in " ".join(p.cmdline()))
        svc_tasks.kill()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                listed = graphql(stack_env, token, "{ tasks { totalCount } }")
                if listed["data"] == {"tasks": {"totalCount": 1}}:
                    break
            except (AssertionError, httpx.HTTPError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail("svc_tasks was not restarted")
        restarted = [
            p for p in descendants(stack.process.pid) if "svc_tasks" in " ".join(p.cmdline())
        ]
        assert restarted
        assert restarted[0].pid != svc_tasks.pid
        everything = descendants(stack.process.pid)
    finally:
        code = stack.stop()
    assert code == 0
    time.sleep(1.0)
    assert [
        p.pid for p in everything if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    ] == []
    assert (Path(stack_env["TODO_DATA_DIR"]) / "pgdata" / "PG_VERSION").exists()

    again = Stack(stack_env)  # the data directory is kept: the task is still there
    try:
        again.wait_for("todo stack ready")
        assert graphql(stack_env, token, "{ tasks { totalCount } }")["data"] == {
            "tasks": {"totalCount": 1}
        }
    finally:
        assert again.stop() == 0


def test_todo_up_refuses_a_taken_broker_port(stack_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(stack_env["TODO_BROKER_PORT"])))
        taken.listen()
        command = [sys.executable, "-m", "todo_cli", "up"]
        result = subprocess.run(
            command, check=False, env=stack_env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert f"port {stack_env['TODO_BROKER_PORT']} is already in use" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
