"""The operator commands find their servers in the environment, else in a running `todo up`, and
otherwise say which variable to set (exit 2) instead of failing on a path or dialling a guess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from confluent_kafka.admin import AdminClient

from todo_cli import components
from todo_cli.broker import EmbeddedBroker
from todo_cli.operations import all_topics
from todo_cli.stack_state import STATE_FILE, StackState, running_stack, write_state

COMMANDS = [
    (["migrate"], "DATABASE_URL"),
    (["replay", "--since", "2026-01-01T00:00Z"], "DATABASE_URL"),
    (["topics"], "KAFKA_BOOTSTRAP_SERVERS"),
    (["dlq", "replay"], "KAFKA_BOOTSTRAP_SERVERS"),
]


def environment(data: Path, **variables: str) -> dict[str, str]:
    """This process's environment without any server setting, on data directory `data`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TODO_", "KAFKA_")) and k not in {"DATABASE_URL", "TEST_DATABASE_URL"}
    }
    return {**env, "TODO_DATA_DIR": str(data), **variables}


def todo(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "todo_cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(finished.stdout)


@pytest.mark.parametrize(
    ("argv", "variable"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_without_the_variable_or_a_stack_the_command_names_the_variable(
    tmp_path: Path, argv: list[str], variable: str
) -> None:
    data = tmp_path / "data"
    finished = todo(environment(data), *argv)
    assert finished.returncode == 2, finished.stdout + finished.stderr
    [line] = finished.stdout.splitlines()
    assert f"set {variable}" in line
    assert "Traceback" not in finished.stderr
    assert not data.exists()  # looking for a stack leaves nothing behind


@pytest.mark.parametrize(
    ("argv", "variable"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_the_record_of_a_stack_that_was_killed_counts_for_nothing(
    tmp_path: Path, argv: list[str], variable: str
) -> None:
    unreachable = StackState(dead_pid(), "postgresql://postgres@/todo?host=/nowhere", "127.0.0.1:9")
    write_state(tmp_path, unreachable)
    assert running_stack(tmp_path) is None
    finished = todo(environment(tmp_path), *argv)
    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert f"set {variable}" in finished.stdout


SCHEMAS = {service.schema for service in components.SERVICES if service.database}


async def schemas(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT nspname FROM pg_namespace")
    finally:
        await conn.close()
    return {row["nspname"] for row in rows}


async def test_migrate_uses_database_url_when_set(tmp_path: Path, database_url: str) -> None:
    # A running stack's record too: the variable wins over it.
    write_state(
        tmp_path, StackState(os.getpid(), "postgresql://postgres@/todo?host=/nowhere", None)
    )
    finished = todo(environment(tmp_path, DATABASE_URL=database_url), "migrate")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "migration(s) applied" in finished.stdout
    assert await schemas(database_url) >= SCHEMAS


async def test_migrate_uses_the_running_stacks_database_without_the_variable(
    tmp_path: Path, database_url: str
) -> None:
    # This process stands in for `todo up`: alive, and recording the database it started.
    write_state(tmp_path, StackState(os.getpid(), database_url, None))
    finished = todo(environment(tmp_path), "migrate")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert await schemas(database_url) >= SCHEMAS
    assert (tmp_path / STATE_FILE).exists()  # only `todo up` removes its record


@pytest.mark.parametrize("from_stack", [False, True], ids=["variable", "running stack"])
def test_topics_uses_the_variable_or_the_running_stacks_broker(
    tmp_path: Path, broker: EmbeddedBroker, from_stack: bool
) -> None:
    if from_stack:
        write_state(tmp_path, StackState(os.getpid(), None, broker.bootstrap_servers))
        env = environment(tmp_path)
    else:
        env = environment(tmp_path, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers)
    finished = todo(env, "topics")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    assert set(all_topics()) <= set(admin.list_topics(timeout=10).topics)
