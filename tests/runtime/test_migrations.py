"""Migrations: idempotent, serialized across concurrent runners, and tamper-evident."""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from todo_runtime.migrations import MigrationError, MigrationSet, migrate

RUNTIME = MigrationSet("runtime", "todo_runtime")


def throwaway_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[MigrationSet, Path]:
    """A package of its own on sys.path holding two migrations: a table, then a row in it."""
    package = f"migrations_test_{uuid.uuid4().hex[:8]}"
    directory = tmp_path / package / "migrations"
    directory.mkdir(parents=True)
    (tmp_path / package / "__init__.py").write_text("")
    (directory / "0001_things.sql").write_text("CREATE TABLE things (id integer PRIMARY KEY);\n")
    (directory / "0002_first_thing.sql").write_text("INSERT INTO things VALUES (1);\n")
    (directory / "notes.txt").write_text("not a migration")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, package, raising=False)
    return MigrationSet("things", package), directory


async def test_applying_twice_is_a_no_op(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    things, _ = throwaway_set(tmp_path, monkeypatch)
    runtime_files = len(RUNTIME.files())

    assert await migrate(database_url, "svc", [RUNTIME, things]) == runtime_files + 2
    assert await migrate(database_url, "svc", [RUNTIME, things]) == 0

    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM svc.things") == 1
        assert await conn.fetchval("SELECT count(*) FROM svc.outbox") == 0
        applied = await conn.fetch(
            "SELECT migration_set, version FROM svc.schema_migrations ORDER BY 1, 2"
        )
        assert [(row["migration_set"], row["version"]) for row in applied] == [
            *(("runtime", version) for version, _, _ in RUNTIME.files()),
            ("things", 1),
            ("things", 2),
        ]
        # The runner leaves the session as it found it.
        assert await conn.fetchval("SHOW search_path") == '"$user", public'
    finally:
        await conn.close()


async def test_concurrent_runners_apply_each_file_once(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    things, _ = throwaway_set(tmp_path, monkeypatch)
    runtime_files = len(RUNTIME.files())

    counts = await asyncio.gather(
        *(migrate(database_url, "svc", [RUNTIME, things]) for _ in range(4))
    )

    assert sorted(counts) == [0, 0, 0, runtime_files + 2]
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM svc.things") == 1
    finally:
        await conn.close()


async def test_schemas_are_independent(database_url: str) -> None:
    assert await migrate(database_url, "tasks", [RUNTIME]) == len(RUNTIME.files())
    assert await migrate(database_url, "notify", [RUNTIME]) == len(RUNTIME.files())
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("INSERT INTO tasks.processed_events VALUES ('c', 'e')")
        assert await conn.fetchval("SELECT count(*) FROM notify.processed_events") == 0
    finally:
        await conn.close()


async def test_edited_applied_file_fails(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    things, directory = throwaway_set(tmp_path, monkeypatch)
    await migrate(database_url, "svc", [RUNTIME, things])

    (directory / "0002_first_thing.sql").write_text("INSERT INTO things VALUES (2);\n")

    with pytest.raises(MigrationError, match=r"0002_first_thing\.sql changed"):
        await migrate(database_url, "svc", [RUNTIME, things])


async def test_a_new_file_is_applied_later(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    things, directory = throwaway_set(tmp_path, monkeypatch)
    await migrate(database_url, "svc", [RUNTIME, things])

    (directory / "0003_second_thing.sql").write_text("INSERT INTO things VALUES (2);\n")

    assert await migrate(database_url, "svc", [RUNTIME, things]) == 1
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM svc.things") == 2
    finally:
        await conn.close()


async def test_failed_migration_rolls_back_and_is_retried(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    things, directory = throwaway_set(tmp_path, monkeypatch)
    (directory / "0003_broken.sql").write_text(
        "INSERT INTO things VALUES (3);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    with pytest.raises(asyncpg.UndefinedTableError):
        await migrate(database_url, "svc", [RUNTIME, things])

    (directory / "0003_broken.sql").write_text("INSERT INTO things VALUES (3);\n")
    assert await migrate(database_url, "svc", [RUNTIME, things]) == 1
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT array_agg(id ORDER BY id) FROM svc.things") == [1, 3]
    finally:
        await conn.close()


async def test_an_older_release_runs_on_migrations_it_does_not_know(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After `helm rollback` the database keeps the newer release's migrations."""
    things, directory = throwaway_set(tmp_path, monkeypatch)
    newer = directory / "0003_second_thing.sql"
    newer.write_text("INSERT INTO things VALUES (2);\n")
    await migrate(database_url, "svc", [RUNTIME, things])

    newer.unlink()  # the previous release's files
    with caplog.at_level(logging.WARNING, logger="todo_runtime.migrations"):
        assert await migrate(database_url, "svc", [RUNTIME, things]) == 0

    [record] = caplog.records
    assert "things/0003_second_thing.sql" in record.getMessage()
    assert "schema svc" in record.getMessage()
