"""Migrations since the previous release only expand the schema, and released ones stay as they
were: what `helm rollback` to the previous release relies on (docs/operations.md#deploying-to-kubernetes)."""

from __future__ import annotations

import pytest

from tests.support.deploy import previous_release
from tests.support.deploy.migration_rules import contract_operations, marked_as_contract


def test_released_migrations_are_kept_as_released() -> None:
    """The runner refuses a file edited after it was applied; a deleted one is never applied
    to a new database."""
    now = previous_release.migrations()
    released = previous_release.migrations(previous_release.commit())
    assert released
    changed = [path for path, sql in released.items() if now.get(path) != sql]
    assert not changed, f"released migrations were edited or removed: {changed}"


def test_new_migrations_only_expand_unless_they_say_why() -> None:
    released = previous_release.migrations(previous_release.commit())
    unexplained = {
        path: operations
        for path, sql in previous_release.migrations().items()
        if path not in released
        and (operations := contract_operations(sql))
        and not marked_as_contract(sql)
    }
    assert not unexplained, (
        f"contract operations in migrations since the previous release: {unexplained}; "
        "they break it after `helm rollback`. Move them to the release after the one that stops "
        "using what they remove, and say so in a `-- contract: <why>` comment"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE labels (id uuid PRIMARY KEY, name text NOT NULL);",
        "ALTER TABLE tasks ADD COLUMN colour text;",
        "ALTER TABLE tasks ADD COLUMN archived boolean NOT NULL DEFAULT false;",
        "ALTER TABLE tasks ADD COLUMN n bigint NOT NULL GENERATED ALWAYS AS IDENTITY;",
        "ALTER TABLE tasks ADD COLUMN a text, ADD COLUMN b int NOT NULL DEFAULT 0;",
        "ALTER TABLE tasks ALTER COLUMN colour DROP NOT NULL;",
        "CREATE INDEX tasks_colour ON tasks (colour);",
        "ALTER TABLE tasks ALTER COLUMN colour SET DEFAULT 'drop table tasks';",
        "-- rename tasks.colour later\nCOMMENT ON COLUMN tasks.colour IS 'to RENAME';",
    ],
)
def test_expanding_is_allowed(sql: str) -> None:
    assert contract_operations(sql) == []


@pytest.mark.parametrize(
    ("sql", "operation"),
    [
        ("DROP TABLE processed_completions;", "DROP"),
        ("ALTER TABLE tasks DROP COLUMN search_text;", "DROP"),
        ("ALTER TABLE tasks DROP CONSTRAINT tasks_title_check;", "DROP"),
        ("ALTER TABLE tasks ALTER COLUMN colour DROP DEFAULT;", "DROP"),
        ("DROP INDEX IF EXISTS tasks_colour;", "DROP"),
        ("ALTER TABLE tasks RENAME COLUMN colour TO color;", "RENAME"),
        ("ALTER TABLE tasks RENAME TO todo_tasks;", "RENAME"),
        ("ALTER TABLE tasks ALTER COLUMN priority TYPE integer;", "change of type"),
        ('ALTER TABLE tasks ALTER "priority" SET DATA TYPE integer;', "change of type"),
        ("ALTER TABLE tasks ALTER COLUMN colour SET NOT NULL;", "SET NOT NULL"),
        ("ALTER TABLE tasks ADD CONSTRAINT short CHECK (length(title) < 100);", "ADD CONSTRAINT"),
        ("ALTER TABLE tasks ADD UNIQUE (owner_id, title);", "ADD CONSTRAINT"),
        ("ALTER TABLE tasks ADD COLUMN colour text NOT NULL;", "NOT NULL column without a default"),
        (
            "ALTER TABLE tasks ADD COLUMN a text DEFAULT 'x', ADD b int NOT NULL;",
            "NOT NULL column without a default",
        ),
    ],
)
def test_contracting_is_found(sql: str, operation: str) -> None:
    assert contract_operations(sql) == [operation]


def test_a_contract_step_says_why() -> None:
    bare = "ALTER TABLE tasks DROP COLUMN search_text;\n"
    assert not marked_as_contract(bare)
    assert not marked_as_contract("-- contract:\n" + bare)
    assert marked_as_contract(
        "-- contract: search_text is unread since release 0.3 (words are in search_words)\n" + bare
    )
