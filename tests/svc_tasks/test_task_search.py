"""Typo-tolerant search is per owner: known words are counted per user, go with their last task,
and survive concurrent writers, against the real service and Postgres."""

from __future__ import annotations

import asyncio
import random
import string
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from svc_tasks.service import SERVICE as TASKS
from tests.support.infra import RunningTasks
from tests.svc_tasks.conftest import Call, create_request
from todo_contracts.tasks.v1 import task_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.migrations import MigrationSet, migrate

# Alice's words and a typo of each that finds them (trigram similarity >= 0.4).
ALICE_TITLES = ["Repot the plants", "Pay the invoice", "Call the dentist", "Weed the garden"]
TYPOS = ["plnts", "invoce", "dentst", "gardn"]
# Ten words closer to "plnts" than "plants" is (similarity 0.5 against 0.44) that the
# prefix "plnts:*" does not match: they take all ten places a search word is widened to.
CROWD = "plnta plntb plntc plntd plnte plntf plntg plnth plnti plntj"
# Words every writer in the concurrency test shares, so their word locks overlap.
SHARED = "alpha bravo charlie delta echo foxtrot golf hotel india juliet".split()  # noqa: SIM905 - reads as prose
# What the trigger must keep: each owner's words with the number of tasks using them.
RECOUNT = """
SELECT owner_id, lexeme AS word, count(*) AS uses
FROM tasks.tasks, unnest(search_document)
WHERE tasks.is_correctable(lexeme)
GROUP BY owner_id, lexeme
"""


def one_letter_away(word: str) -> set[str]:
    """Every word one deletion, substitution or insertion away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletions = {left + right[1:] for left, right in splits if right}
    substitutions = {
        left + c + right[1:] for left, right in splits if right for c in string.ascii_lowercase
    }
    insertions = {left + c + right for left, right in splits for c in string.ascii_lowercase}
    return (deletions | substitutions | insertions) - {word}


async def create(call: Call, user: str, title: str, description: str = "") -> str:
    response = await call(user, "CreateTask", create_request(title, description=description))
    return str(response.task.id)


async def search(call: Call, user: str, text: str) -> list[str]:
    """Ids of every task `text` finds, in list order; the count must agree."""
    response = await call(
        user,
        "ListTasks",
        svc.ListTasksRequest(page_size=200, filter=svc.TaskFilter(search=text)),
    )
    assert response.total_size == len(response.tasks)
    return [task.id for task in response.tasks]


async def edit(call: Call, user: str, task_id: str, field: str, text: str) -> None:
    """Sets the task's title or description to `text`."""
    task = task_pb2.Task(id=task_id)
    setattr(task, field, text)
    await call(
        user, "UpdateTask", svc.UpdateTaskRequest(task=task, update_mask=FieldMask(paths=[field]))
    )


@pytest.fixture
async def database(tasks_service: RunningTasks) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A direct connection to the service's database, to check the word counts."""
    conn = await asyncpg.connect(tasks_service.config.database.url)
    try:
        yield conn
    finally:
        await conn.close()


async def known_words(conn: asyncpg.Connection[Any], owner: str) -> dict[str, int]:
    rows = await conn.fetch("SELECT word, uses FROM tasks.search_words WHERE owner_id = $1", owner)
    return {row["word"]: row["uses"] for row in rows}


async def assert_counts_match_tasks(conn: asyncpg.Connection[Any]) -> None:
    counted = await conn.fetch("SELECT owner_id, word, uses FROM tasks.search_words")
    expected = await conn.fetch(RECOUNT)
    assert sorted(map(tuple, counted)) == sorted(map(tuple, expected))


async def test_a_flood_of_near_misses_by_another_user_changes_nothing(call: Call) -> None:
    ids = [await create(call, "alice", title) for title in ALICE_TITLES]
    before = {typo: await search(call, "alice", typo) for typo in TYPOS}
    assert before == {typo: [task_id] for typo, task_id in zip(TYPOS, ids, strict=True)}

    flood = sorted(
        set().union(*(one_letter_away(word) for word in ("plants", "invoice", "dentist", "garden")))
    )
    assert len(flood) > 1000
    titles = [" ".join(flood[i : i + 5]) for i in range(0, len(flood), 5)]
    for start in range(0, len(titles), 10):
        await asyncio.gather(
            *(create(call, "mallory", title) for title in titles[start : start + 10])
        )

    assert {typo: await search(call, "alice", typo) for typo in TYPOS} == before
    assert await search(call, "mallory", "plnts") != []  # mallory's own words do widen


async def test_words_of_a_deleted_task_stop_widening(
    call: Call, database: asyncpg.Connection[Any]
) -> None:
    plants = await create(call, "alice", "Repot the plants")
    crowd = await create(call, "alice", CROWD)
    assert await search(call, "alice", "plnts") == [crowd]  # the crowd took every place

    await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=crowd))

    assert await search(call, "alice", "plnts") == [plants]
    assert await known_words(database, "alice") == {"repot": 1, "the": 1, "plants": 1}


@pytest.mark.parametrize("field", ["title", "description"])
async def test_words_edited_away_stop_widening(
    call: Call, database: asyncpg.Connection[Any], field: str
) -> None:
    plants = await create(call, "alice", "Repot the plants")
    crowd = await create(call, "alice", "Crowd")
    await edit(call, "alice", crowd, field, CROWD)
    assert await search(call, "alice", "plnts") == [crowd]

    await edit(call, "alice", crowd, field, "Sweep")

    assert await search(call, "alice", "plnts") == [plants]
    assert await search(call, "alice", "swep") == [crowd]
    assert not set(CROWD.split()) & set(await known_words(database, "alice"))


async def test_a_word_stays_while_another_task_uses_it(
    call: Call, database: asyncpg.Connection[Any]
) -> None:
    first = await create(call, "alice", "Water the plants")
    second = await create(call, "alice", "Repot plants", description="plants like it")
    await create(call, "bob", "Buy plants")
    assert (await known_words(database, "alice"))["plants"] == 2

    await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=first))

    assert (await known_words(database, "alice"))["plants"] == 1
    assert await search(call, "alice", "plnts") == [second]
    await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=second))
    assert await known_words(database, "alice") == {}
    assert await known_words(database, "bob") == {"buy": 1, "plants": 1}


async def test_concurrent_writers_sharing_words_neither_deadlock_nor_miscount(
    call: Call, database: asyncpg.Connection[Any]
) -> None:
    rng = random.Random(11)

    def title() -> str:
        return " ".join(rng.sample(SHARED, 6))  # shared words in a different order each time

    live = [await create(call, "alice", title()) for _ in range(20)]
    for _ in range(3):
        victims, renamed = live[:5], live[5:13]
        calls = [
            *(
                call("alice", "DeleteTask", svc.DeleteTaskRequest(id=task_id))
                for task_id in victims
            ),
            *(edit(call, "alice", task_id, "title", title()) for task_id in renamed),
            *(create(call, "alice", title()) for _ in range(7)),
        ]
        results = await asyncio.gather(*calls)
        live = live[5:] + [result for result in results if isinstance(result, str)]

    assert len(live) == 26
    await assert_counts_match_tasks(database)
    found = set(await search(call, "alice", "foxtrt"))
    titles = {
        task.id: task.title
        for task in (await call("alice", "ListTasks", svc.ListTasksRequest(page_size=200))).tasks
    }
    assert found == {task_id for task_id, text in titles.items() if "foxtrot" in text.split()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plnts", ["plants"]),  # a typo
        ("PLANTS", ["plants"]),
        ("plan", ["planning", "plants"]),  # a prefix
        ("gardn", ["garden"]),
        ("invoces", ["invoices"]),  # a typo in the description
        ("plnts invoices", []),  # every word must match
        ("xylophone", []),
    ],
)
async def test_typos_and_prefixes_still_match(call: Call, text: str, expected: list[str]) -> None:
    names: dict[str, str] = {}
    for name, title, description in [
        ("plants", "Repot the plants", ""),
        ("garden", "Weed the garden", ""),
        ("planning", "Budget planning", ""),
        ("invoices", "Finance", "quarterly invoices"),
    ]:
        names[await create(call, "alice", title, description)] = name
    await create(call, "bob", "xylophone plants")
    assert [names[task_id] for task_id in await search(call, "alice", text)] == expected


def old_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MigrationSet:
    """svc_tasks' migrations as they were before 0003, as a package of their own."""
    package = f"tasks_before_0003_{uuid.uuid4().hex[:8]}"
    directory = tmp_path / package / "migrations"
    directory.mkdir(parents=True)
    (tmp_path / package / "__init__.py").write_text("")
    for version, name, sql in TASKS.migrations.files():
        if version < 3:
            (directory / name).write_text(sql, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return MigrationSet(TASKS.migrations.name, package)


def task_rows(rows: Iterable[tuple[str, str, str]]) -> list[tuple[uuid.UUID, str, str, str]]:
    return [(uuid.uuid4(), owner, title, description) for owner, title, description in rows]


async def test_the_migration_rebuilds_words_per_owner(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate(database_url, TASKS.schema, [old_migrations(tmp_path, monkeypatch)])
    conn = await asyncpg.connect(database_url)
    try:
        insert = """INSERT INTO tasks.tasks (id, owner_id, title, description, status, priority,
                                              time_zone, version, created_at, updated_at)
                    VALUES ($1, $2, $3, $4, 1, 1, 'UTC', 1, now(), now())"""
        await conn.executemany(
            insert,
            task_rows(
                [
                    ("alice", "Repot the plants", "plants need water"),
                    ("alice", "Water plants", ""),
                    ("bob", "Buy 42 plantz", ""),
                    ("bob", "Forgotten", ""),
                ]
            ),
        )
        await conn.execute("DELETE FROM tasks.tasks WHERE title = 'Forgotten'")
        assert "forgotten" in {
            row[0] for row in await conn.fetch("SELECT word FROM tasks.search_words")
        }

        await migrate(database_url, TASKS.schema, [TASKS.migrations])

        assert await known_words(conn, "alice") == {
            "need": 1,
            "plants": 2,
            "repot": 1,
            "the": 1,
            "water": 2,
        }
        assert await known_words(conn, "bob") == {"buy": 1, "plantz": 1}
        await conn.execute("DELETE FROM tasks.tasks WHERE title = 'Water plants'")
        assert await known_words(conn, "alice") == {
            "need": 1,
            "plants": 1,
            "repot": 1,
            "the": 1,
            "water": 1,
        }
        await assert_counts_match_tasks(conn)
    finally:
        await conn.close()
