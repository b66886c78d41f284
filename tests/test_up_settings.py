"""`todo up`'s settings: Kafka security settings it cannot honour are refused before it starts
anything; each component gets a metrics port of its own; operator commands find a running stack."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.stack_harness import Stack, stack_environment
from todo_cli import components
from todo_cli.broker import free_port
from todo_cli.ports import is_taken
from todo_cli.stack_state import STATE_FILE, running_stack
from todo_cli.up import StackError, plan
from todo_runtime import metrics

# It starts the platform's own processes (or real JavaScript clients) itself.
pytestmark = pytest.mark.integration


def todo_up(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "todo_cli.main", "up"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        # The embedded broker speaks plaintext: settings for another broker would be ignored.
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "todo"},
            "KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_USERNAME set, but KAFKA_BOOTSTRAP_SERVERS is not",
        ),
        # A broker of the user's own: its settings must work before any part starts.
        (
            {
                "KAFKA_BOOTSTRAP_SERVERS": "kafka.example.org:9093",
                "KAFKA_SECURITY_PROTOCOL": "SSL",
                "KAFKA_SSL_CA_LOCATION": "/no/such/ca.pem",
            },
            "environment variable KAFKA_SSL_CA_LOCATION: cannot read /no/such/ca.pem",
        ),
    ],
)
def test_todo_up_refuses_kafka_security_settings_it_cannot_use(
    tmp_path: Path, variables: dict[str, str], message: str
) -> None:

    env = stack_environment(tmp_path / "data") | variables
    finished = todo_up(env)
    assert finished.returncode == 1, finished.stdout + finished.stderr
    [line] = finished.stdout.strip().splitlines()
    assert line.startswith("todo up: ")
    assert message in line
    assert "todo stack" not in finished.stdout  # nothing started
    assert not (tmp_path / "data" / "pgdata").exists()


def free_ports_in_a_row(count: int) -> int:
    """The first of `count` consecutive ports nothing listens on."""
    for _ in range(100):
        base = free_port()
        if base + count <= 65535 and not any(
            is_taken("127.0.0.1", base + offset) for offset in range(count)
        ):
            return base
    raise AssertionError(f"no {count} free ports in a row")


def test_each_component_gets_a_metrics_port_of_its_own(tmp_path: Path) -> None:
    base = free_ports_in_a_row(len(components.COMPONENTS))
    env = stack_environment(tmp_path) | {metrics.PORT_ENV: str(base)}
    stack = plan(tmp_path, env)
    ports = {
        part.spec.name: part.spec.env[metrics.PORT_ENV]
        for part in stack.parts
        if part.spec.env is not None and part.spec.name in components.BY_NAME
    }
    assert sorted(ports) == sorted(components.BY_NAME)
    assert sorted(int(port) for port in ports.values()) == [
        base + offset for offset in range(len(components.COMPONENTS))
    ]
    for part in stack.parts:
        if part.spec.name in ports:
            assert f"metrics http://127.0.0.1:{ports[part.spec.name]}/metrics" in part.spec.address
    # Unset, no part serves metrics (and the lines stay as they were).
    unset = plan(tmp_path, stack_environment(tmp_path))
    assert all(metrics.PORT_ENV not in (part.spec.env or {}) for part in unset.parts)
    assert not any("metrics" in part.spec.address for part in unset.parts)


def test_a_metrics_port_that_lands_on_another_port_is_refused(tmp_path: Path) -> None:
    env = stack_environment(tmp_path)
    tasks_port = int(env["TODO_TASKS_PORT"])
    env[metrics.PORT_ENV] = str(tasks_port - 1)  # notify's metrics would take tasks' gRPC port
    with pytest.raises(StackError) as refused:
        plan(tmp_path, env)
    message = str(refused.value)
    assert f"port {tasks_port} is wanted by tasks (TODO_TASKS_PORT)" in message
    assert f"notify metrics ({metrics.PORT_ENV})" in message


def test_every_part_serves_its_metrics_and_operators_find_the_running_stack(
    tmp_path: Path,
) -> None:
    """One `todo up` with TODO_METRICS_PORT: each component's own /metrics, with its build; and,
    while it runs, `todo migrate` without DATABASE_URL uses its database."""
    data = tmp_path / "data"
    base = free_ports_in_a_row(len(components.COMPONENTS))
    env = stack_environment(data) | {metrics.PORT_ENV: str(base), metrics.REVISION_ENV: "c0ffee"}
    stack = Stack(env)
    try:
        stack.wait_for("todo stack ready")
        urls = dict(
            re.findall(r"^(\w+) .*metrics (http://\S+/metrics)$", "\n".join(stack.seen), re.M)
        )
        assert sorted(urls) == sorted(components.BY_NAME)
        assert len(set(urls.values())) == len(urls)
        for name, url in urls.items():
            text = httpx.get(url, timeout=10).text
            assert 'todo_build_info{revision="c0ffee",version="' in text, name
        state = running_stack(data)
        assert state is not None
        assert state.pid == stack.process.pid
        operator = {k: v for k, v in env.items() if k != metrics.PORT_ENV}
        migrated = subprocess.run(
            [sys.executable, "-m", "todo_cli", "migrate"],
            env=operator,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert "0 migration(s) applied" in migrated.stdout  # the services migrated already
        checked = subprocess.run(  # signs with the running stack's own secret
            [sys.executable, "-m", "todo_cli", "check"],
            env=operator,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert len(checked.stdout.splitlines()) == len(components.COMPONENTS)
    finally:
        assert stack.stop() == 0
    assert not (data / STATE_FILE).exists()
    assert running_stack(data) is None
