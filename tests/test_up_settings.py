"""`todo up` refuses Kafka security settings it cannot honour before it starts anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack_harness import stack_environment

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
