"""Every `todo` command explains itself: `--help` says what it does and names the environment
variables the code reads for it; `--version` says which build runs."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from todo_cli import parser
from todo_cli.main import main
from todo_runtime import metrics

# What each command reads, written out here rather than taken from the code's constants: a help
# text built from a constant the command stopped reading would still pass a test built from it.
READS = {
    ("migrate",): {"DATABASE_URL", "PGSSLMODE", "PGSSLROOTCERT", "TODO_DATA_DIR"},
    ("replay",): {"DATABASE_URL", "PGSSLMODE", "TODO_DATA_DIR"},
    ("topics",): {
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SSL_CA_LOCATION",
        "KAFKA_SASL_PASSWORD_FILE",
        "TODO_TOPIC_PARTITIONS",
        "TODO_TOPIC_REPLICATION",
        "TODO_DATA_DIR",
    },
    ("dlq", "replay"): {
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SASL_USERNAME",
        "TODO_DATA_DIR",
    },
    ("audit", "verify"): {
        "TODO_TOKEN",
        "TODO_AUDIT_PUBLIC_KEY",
        "TODO_GATEWAY_URL",
        "TODO_GATEWAY_PORT",
        "TODO_JWT_SECRET",
        "TODO_DATA_DIR",
    },
    ("token",): {"TODO_JWT_SECRET", "TODO_INTERNAL_SECRET", "TODO_GATEWAY_PORT", "TODO_DATA_DIR"},
    ("up",): {
        "DATABASE_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_SECURITY_PROTOCOL",
        "TODO_BROKER_PORT",
        "TODO_BIND_HOST",
        "TODO_TASKS_PORT",
        "TODO_GATEWAY_PORT",
        "TODO_METRICS_PORT",
        "TODO_JWT_SECRET",
        "TODO_AUDIT_SIGNING_KEY",
        "TODO_LOG_FORMAT",
        "TODO_DATA_DIR",
    },
    ("serve",): {
        "DATABASE_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "TODO_INTERNAL_SECRET",
        "TODO_TASKS_PORT",
        "TODO_TASKS_ADDR",
        "TODO_METRICS_PORT",
        "TODO_REVISION",
    },
    ("check",): {
        "TODO_CHECK_TOKEN",
        "TODO_JWT_SECRET",
        "TODO_GATEWAY_URL",
        "TODO_GATEWAY_PORT",
        "TODO_TASKS_ADDR",
        "TODO_NOTIFY_ADDR",
        "TODO_RECUR_ADDR",
        "TODO_AUDIT_ADDR",
        "TODO_LIVE_ADDR",
    },
}
# Variables of ours, as opposed to the interpreter's and the libraries' own (HOME, PATH, ...).
OURS = ("TODO_", "KAFKA_", "DATABASE_URL", "PG")


def every_command(
    found: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Every command path of the parser (`("dlq", "replay")`), the groups' own included."""
    for action in found._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name)
                yield from every_command(sub, (*path, name))


def help_of(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_every_command_is_listed_here() -> None:
    commands = set(every_command(parser.build()))
    groups = {("dlq",), ("audit",)}
    assert commands - groups == set(READS)


@pytest.mark.parametrize("command", sorted(every_command(parser.build())), ids=" ".join)
def test_every_command_has_help_that_says_what_it_does(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(command, capsys)
    assert f"usage: todo {' '.join(command)}" in text
    description = text.split("\n\n")[1]
    assert len(description) > 25, text  # a sentence, not just the usage line


@pytest.mark.parametrize("command", sorted(READS), ids=" ".join)
def test_help_names_the_variables_the_command_reads(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(command, capsys)
    _, heading, listed = text.partition("environment variables:")
    assert heading, text
    missing = {name for name in READS[command] if name not in listed}
    assert missing == set(), text


def recorded_reads(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> tuple[int, set[str]]:
    """Runs `todo argv` in this process; its exit status and the variables of ours it read."""
    reads: set[str] = set()
    original = os._Environ.__getitem__

    def recording(self: os._Environ[str], key: str) -> str:
        # A look-up by name; walking every variable (urllib's proxy settings do) reads none.
        if sys._getframe(1).f_code.co_name != "__iter__":
            reads.add(key)
        return original(self, key)

    monkeypatch.setattr(os._Environ, "__getitem__", recording)
    status = main(argv)
    monkeypatch.undo()
    return status, {name for name in reads if name.startswith(OURS)}


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        # Neither the variable nor a running stack: each stops before reaching any server.
        (["migrate"], 2),
        (["replay", "--since", "2026-01-01T00:00Z"], 2),
        (["topics"], 2),
        (["dlq", "replay"], 2),
        (["audit", "verify"], 2),
        (["token", "alice"], 0),
        (["check", "--timeout", "0.2"], 1),  # nothing listens at the addresses
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else str(value),
)
def test_what_a_command_reads_is_in_its_help(
    argv: list[str],
    status: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every variable of ours the command read on its way is one its help names."""
    for name in list(os.environ):
        if name.startswith(OURS):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TODO_DATA_DIR", str(tmp_path))
    unreachable = "127.0.0.1:9"  # discard: nothing listens
    for name in ("TASKS", "NOTIFY", "RECUR", "AUDIT", "LIVE"):
        monkeypatch.setenv(f"TODO_{name}_ADDR", unreachable)
    monkeypatch.setenv("TODO_JWT_SECRET", "a-secret-of-at-least-32-bytes-0123456789")
    exit_status, reads = recorded_reads(monkeypatch, argv)
    capsys.readouterr()
    assert exit_status == status
    command = tuple(word for word in argv if not word.startswith("-") and word[:1].isalpha())
    command = next(c for c in READS if command[: len(c)] == c)
    text = help_of(command, capsys)
    assert reads, "the recorder saw nothing"
    assert {name for name in reads if name not in text} == set(), text


def version_line(env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-m", "todo_cli", "--version"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_version_names_the_release_and_the_revision_when_known() -> None:
    env = {k: v for k, v in os.environ.items() if k != metrics.REVISION_ENV}
    assert metrics.version() != metrics.UNKNOWN
    assert version_line(env) == f"todo {metrics.version()}"  # installed from a tree: unknown
    built = version_line({**env, metrics.REVISION_ENV: "0f1e2d3c"})
    assert built == f"todo {metrics.version()} (revision 0f1e2d3c)"
