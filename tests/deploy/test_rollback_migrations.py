"""`helm rollback` after an upgrade: the previous release's own tests, run with its own code, on
databases that already hold this tree's migrations.

The previous release is the commit in charts/todo/previous-release. Its tree comes from this
clone's history (`git archive`), and its tests run in a subprocess from that tree with the tree
first on the path, against a private PostgreSQL whose template databases this tree's
`todo migrate` prepared: every database those tests create starts with the newer schema, which
the previous release's migration runner and queries must accept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import asyncpg
import pytest

from tests.support.deploy import previous_release
from tests.support.infra import url_for_database
from todo_cli import operations
from todo_cli.database import EmbeddedPostgres
from todo_cli.die_with_parent import tied

# The previous release's tests of each component's tables, chosen to keep the run near two
# minutes: tasks, their change log, search words and outbox (svc_tasks); reminders,
# notifications and webhooks with their delivery leases (svc_notify); completions and the inbox
# (svc_recur); the append-only log and its triggers (svc_audit); the rate buckets (gateway).
# The runtime's outbox, inbox and topic epochs live in each service's schema, so these use them
# too. Review the list when the previous release changes: a path it lacks fails the run.
OLD_TESTS: Final = (
    "tests/svc_tasks/test_task_api.py",
    "tests/svc_tasks/test_task_listing.py",
    "tests/svc_tasks/test_task_search.py",
    "tests/svc_tasks/test_task_events.py::test_every_change_is_published_in_order_with_cloudevents_headers",
    "tests/svc_tasks/test_task_events.py::test_changes_made_while_the_broker_is_down_are_published_when_it_returns",
    "tests/svc_notify/test_reminders.py::test_a_reminder_fires_on_time_once",
    "tests/svc_notify/test_reminders.py::test_snooze_fires_again_once",
    "tests/svc_notify/test_reminders.py::test_mark_read_and_unread_only",
    "tests/svc_notify/test_firing.py",
    "tests/svc_notify/test_webhook_api.py",
    "tests/svc_notify/test_webhook_delivery.py::test_failures_are_retried_on_the_schedule_signed_afresh",
    "tests/svc_recur/test_recur_flow.py::test_completion_creates_exactly_one_next_instance",
    "tests/svc_recur/test_recur_flow.py::test_redelivered_completions_create_nothing_more",
    "tests/svc_audit/test_history.py",
    "tests/svc_audit/test_append_only.py::test_the_database_refuses_changes",
    "tests/gateway/test_gateway_cost.py",
)
# Tests of how an empty database is migrated, not of the schema: none holds on a migrated one.
NOT_ABOUT_THE_SCHEMA: Final = (
    "tests/svc_tasks/test_task_search.py::test_the_migration_rebuilds_words_per_owner",
)
OLD_WORKERS: Final = 2
OLD_RUN_SECONDS: Final = 600  # measured at about 120 s alone on two cores: room for a busy CI
# Whatever template the previous release's conftest copies its test databases from.
TEMPLATES: Final = ("template0", "template1")


@pytest.fixture
async def migrated_postgres() -> AsyncIterator[str]:
    """A private server whose template databases hold this tree's migrations; yields its
    admin URL. Private, because the rest of the suite needs empty databases."""
    with tempfile.TemporaryDirectory(prefix="todo-rollback-postgres-") as directory:
        server = EmbeddedPostgres(Path(directory))
        server.start(log_path=Path(directory) / "postgres.log")
        try:
            admin_url = server.url("postgres")
            admin = await asyncpg.connect(admin_url)
            try:
                # template0 refuses connections; it is opened only while it is migrated.
                await admin.execute("ALTER DATABASE template0 ALLOW_CONNECTIONS true")
                for template in TEMPLATES:
                    applied = await operations.migrate_all(url_for_database(admin_url, template))
                    assert all(applied.values()), applied
                await admin.execute("ALTER DATABASE template0 ALLOW_CONNECTIONS false")
                await admin.execute("CREATE DATABASE probe TEMPLATE template0")
            finally:
                await admin.close()
            again = await operations.migrate_all(url_for_database(admin_url, "probe"))
            assert set(again.values()) == {0}, f"a copy of the template is not migrated: {again}"
            yield admin_url
        finally:
            server.stop()


def _environment(old_tree: Path, database_url: str) -> dict[str, str]:
    """This process's environment minus pytest's own, with the old tree first on the path."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PYTEST_") and name != "PYTHONPATH"
    }
    return environment | {"PYTHONPATH": str(old_tree), "TEST_DATABASE_URL": database_url}


def _check_imports_come_from(old_tree: Path, environment: dict[str, str]) -> None:
    """The same interpreter has this tree installed (editable): the old tree must win."""
    packages = sorted(path.parent.name for path in old_tree.glob("*/__init__.py"))
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib, sys\n"
            "for name in sys.argv[1:]: print(importlib.import_module(name).__file__)",
            *packages,
        ],
        cwd=old_tree,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    files = [Path(line) for line in shown.stdout.splitlines()]
    assert len(files) == len(packages) > 0
    elsewhere = [str(file) for file in files if not file.resolve().is_relative_to(old_tree)]
    assert not elsewhere, f"packages imported from outside the previous release: {elsewhere}"


@pytest.mark.alone  # two workers of its own, with their services and brokers
@pytest.mark.timeout(OLD_RUN_SECONDS + 120)
def test_the_previous_release_runs_on_the_migrated_database(
    migrated_postgres: str, tmp_path: Path
) -> None:
    release = previous_release.commit()
    old_tree = previous_release.export(release, tmp_path / "previous").resolve()
    environment = _environment(old_tree, migrated_postgres)
    _check_imports_come_from(old_tree, environment)

    command = [
        sys.executable,
        "-m",
        "pytest",
        f"--numprocesses={OLD_WORKERS}",
        f"--basetemp={tmp_path / 'basetemp'}",
        "-q",
        "-rfE",
        *(f"--deselect={test}" for test in NOT_ABOUT_THE_SCHEMA),
        *OLD_TESTS,
    ]
    # A session of its own, so a timeout ends the run's workers with it.
    run = subprocess.Popen(
        tied(command),
        cwd=old_tree,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = run.communicate(timeout=OLD_RUN_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        output, _ = run.communicate()
        pytest.fail(f"the previous release's tests ran over {OLD_RUN_SECONDS} s:\n{output[-6000:]}")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode == 0, (
        f"the previous release ({release[:12]}) fails on this tree's migrations:\n{output[-6000:]}"
    )
