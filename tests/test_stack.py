"""`todo up` as a user runs it: every part a process, restarts, a clean stop, and a broker that forgets."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import psutil
import pytest

from tests.support.stack_harness import (
    Stack,
    database_url,
    graphql,
    listening_ports,
    service_environment,
    stack_environment,
    token,
)
from todo_cli.die_with_parent import tied

# It starts the platform's own processes (or real JavaScript clients) itself.
pytestmark = pytest.mark.integration

COUNT = "{ tasks { totalCount } }"


def kill_and_recover(stack: Stack, marker: str, token: str) -> None:
    """SIGKILLs the part whose command line holds `marker`; `todo up` must bring it back."""
    victim = stack.child(marker)
    victim.kill()
    deadline = time.monotonic() + 60
    while True:
        try:
            if graphql(stack.env, token, COUNT) == {"tasks": {"totalCount": 1}}:
                break
        except (AssertionError, OSError):
            pass
        assert time.monotonic() < deadline, f"{marker} was not restarted"
        time.sleep(0.5)
    assert stack.child(marker).pid != victim.pid


def test_todo_up_runs_refuses_a_second_run_restarts_and_stops_cleanly(tmp_path: Path) -> None:
    env = stack_environment(tmp_path / "data")
    stack = Stack(env)
    try:
        took = stack.wait_for("todo stack ready")
        print(f"todo up ready in {took:.1f} s")
        # One line per part, then the ready line; no warning on the way.
        assert [line.split()[0] for line in stack.seen] == [
            "postgres",
            "broker",
            "tasks",
            "notify",
            "recur",
            "audit",
            "live",
            "gateway",
            "todo",
        ]
        assert f"kafka://127.0.0.1:{env['TODO_BROKER_PORT']}" in stack.seen[1]
        assert stack.seen[2].endswith(f"grpc://127.0.0.1:{env['TODO_TASKS_PORT']}")
        assert stack.seen[3].endswith(f"grpc://127.0.0.1:{env['TODO_NOTIFY_PORT']}")
        assert stack.seen[4].endswith(f"grpc://127.0.0.1:{env['TODO_RECUR_PORT']}")
        assert stack.seen[5].endswith(f"grpc://127.0.0.1:{env['TODO_AUDIT_PORT']}")
        assert stack.seen[6].endswith(f"grpc://127.0.0.1:{env['TODO_LIVE_PORT']}")
        assert stack.seen[7].endswith(f"http://127.0.0.1:{env['TODO_GATEWAY_PORT']}/graphql")

        alice = token(env, "alice")
        created = graphql(
            env, alice, 'mutation { createTask(input: {title: "kept"}) { task { title } } }'
        )
        assert created == {"createTask": {"task": {"title": "kept"}}}

        # A second stack on the same ports starts nothing and says which ports and settings.
        second = subprocess.run(
            [sys.executable, "-m", "todo_cli", "up"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 1
        for port, setting in [
            ("TODO_BROKER_PORT", "TODO_BROKER_PORT"),
            ("TODO_TASKS_PORT", "TODO_TASKS_PORT"),
            ("TODO_NOTIFY_PORT", "TODO_NOTIFY_PORT"),
            ("TODO_RECUR_PORT", "TODO_RECUR_PORT"),
            ("TODO_AUDIT_PORT", "TODO_AUDIT_PORT"),
            ("TODO_LIVE_PORT", "TODO_LIVE_PORT"),
            ("TODO_GATEWAY_PORT", "TODO_GATEWAY_PORT"),
        ]:
            assert f"{env[port]} (" in second.stdout
            assert setting in second.stdout
        assert "todo stack ready" not in second.stdout
        assert "Traceback" not in second.stdout + second.stderr

        kill_and_recover(stack, "svc_tasks", alice)
        kill_and_recover(stack, "pgdata", alice)  # the PostgreSQL postmaster
        everything = stack.children()
    finally:
        code = stack.stop()
    assert code == 0, stack.seen
    assert stack.seen[-1] == "todo stack stopped"
    psutil.wait_procs(everything, timeout=10)
    assert [
        p.pid for p in everything if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    ] == []
    assert listening_ports(env) == []

    again = Stack(env)  # the data directory is kept: the task is still there
    try:
        again.wait_for("todo stack ready")
        assert graphql(env, alice, COUNT) == {"tasks": {"totalCount": 1}}
    finally:
        assert again.stop() == 0


async def _backlog(env: dict[str, str]) -> int:
    conn = await asyncpg.connect(database_url(env))
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM tasks.outbox WHERE sent_at IS NULL")
        return count
    finally:
        await conn.close()


def test_a_broker_that_comes_back_empty_loses_no_next_instance(tmp_path: Path) -> None:
    env = stack_environment(tmp_path / "data")
    stack = Stack(env, "--without", "recur")  # svc_recur is down while the events go out
    recur: subprocess.Popen[bytes] | None = None
    try:
        stack.wait_for("todo stack ready")
        alice = token(env, "alice")
        series = []
        for index in range(4):
            task = graphql(
                env,
                alice,
                "mutation($t: String!) { createTask(input: {title: $t, recurrence: "
                '"every day at 9am"}) { task { id seriesId } } }',
                t=f"series {index}",
            )["createTask"]["task"]
            completed = graphql(
                env,
                alice,
                "mutation($id: ID!) { completeTask(input: {id: $id}) { task { status } } }",
                id=task["id"],
            )
            assert completed["completeTask"]["task"] == {"status": "COMPLETED"}
            series.append(task["seriesId"])
        deadline = time.monotonic() + 60
        while asyncio.run(_backlog(env)):  # published: the relay has the broker's ack
            assert time.monotonic() < deadline, "the completions were never published"
            time.sleep(0.2)

        broker = stack.child("--listener-url")
        broker.kill()  # with every record and offset it held
        deadline = time.monotonic() + 60
        while True:
            try:
                if stack.child("--listener-url").pid != broker.pid:
                    break
            except StopIteration:
                pass
            assert time.monotonic() < deadline, "todo up did not restart the broker"
            time.sleep(0.2)

        recur = subprocess.Popen(
            tied([sys.executable, "-m", "todo_cli", "serve", "recur"]),
            env=service_environment(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        query = "{ tasks(first: 100) { edges { node { seriesId } } } }"

        def instances() -> dict[str, int]:
            edges = graphql(env, alice, query)["tasks"]["edges"]
            ids = [edge["node"]["seriesId"] for edge in edges]
            return {s: ids.count(s) for s in series}

        deadline = time.monotonic() + 90
        while any(count < 2 for count in instances().values()):
            assert time.monotonic() < deadline, f"next instances missing: {instances()}"
            time.sleep(0.5)
        time.sleep(3.0)  # a duplicate would come from the same replay: give it time to show
        assert instances() == dict.fromkeys(series, 2)
    finally:
        if recur is not None:
            recur.terminate()
            recur.wait(30)
        assert stack.stop() == 0
