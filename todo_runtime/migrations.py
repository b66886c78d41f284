"""Versioned SQL migrations, applied at start-up.

A service's schema is built from one or more migration sets (the runtime's
outbox and inbox tables, then the service's own), each a directory of
`NNNN_name.sql` files. A session-level advisory lock serializes runners, so two
replicas starting together apply each file exactly once; a file changed after
it was applied fails start-up instead of being silently skipped. Migrations the
database holds that this release does not know were applied by a newer release
that has been rolled back: they are logged and left alone. A release's migrations
only add to the schema and remove only what the release before it no longer
used (docs/operations.md#deploying-to-kubernetes), so the older release runs on it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

_LOCK_KEY = 0x70D0_0001  # one lock for all schemas: CREATE EXTENSION is database-wide
_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """A migration set is malformed or was edited after it was applied."""


@dataclass(frozen=True)
class MigrationSet:
    """A named, ordered directory of SQL files shipped inside a package."""

    name: str
    package: str
    directory: str = "migrations"

    def files(self) -> list[tuple[int, str, str]]:
        """(version, file name, SQL) in version order."""
        root: Traversable = resources.files(self.package).joinpath(self.directory)
        found: list[tuple[int, str, str]] = []
        for entry in root.iterdir():
            match = _FILE.match(entry.name)
            if match:
                found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
        found.sort()
        versions = [version for version, _, _ in found]
        if len(set(versions)) != len(versions):
            raise MigrationError(f"migration set {self.name} has duplicate versions")
        return found


async def migrate(
    dsn_or_conn: str | asyncpg.Connection[Any], schema: str, sets: list[MigrationSet]
) -> int:
    """Creates `schema` if needed and applies pending migrations; returns how many ran."""
    conn = (
        dsn_or_conn
        if isinstance(dsn_or_conn, asyncpg.Connection)
        else await asyncpg.connect(dsn_or_conn)
    )
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            return await _apply(conn, schema, sets)
        finally:
            await conn.execute("RESET search_path")
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        if conn is not dsn_or_conn:
            await conn.close()


async def _apply(conn: asyncpg.Connection[Any], schema: str, sets: list[MigrationSet]) -> int:
    quoted = '"' + schema.replace('"', '""') + '"'
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
    await conn.execute(f"SET search_path TO {quoted}, public")
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               migration_set text NOT NULL,
               version integer NOT NULL,
               name text NOT NULL,
               checksum text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now(),
               PRIMARY KEY (migration_set, version))"""
    )
    rows = await conn.fetch("SELECT migration_set, version, name, checksum FROM schema_migrations")
    unknown = {(row["migration_set"], row["version"]): row["name"] for row in rows}
    applied_count = 0
    for migration_set in sets:
        applied = {
            row["version"]: row["checksum"]
            for row in rows
            if row["migration_set"] == migration_set.name
        }
        for version, name, sql in migration_set.files():
            unknown.pop((migration_set.name, version), None)
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if version in applied:
                if applied[version] != checksum:
                    raise MigrationError(
                        f"{migration_set.name}/{name} changed after it was applied to {schema}"
                    )
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (migration_set, version, name, checksum) VALUES ($1, $2, $3, $4)",
                    migration_set.name,
                    version,
                    name,
                    checksum,
                )
            log.info("applied migration %s/%s to schema %s", migration_set.name, name, schema)
            applied_count += 1
    if unknown:
        log.warning(
            "schema %s holds migrations this release does not know, from a newer release (a "
            "rollback?): %s; carrying on, since a release's migrations only add to the schema",
            schema,
            ", ".join(f"{set_name}/{name}" for (set_name, _), name in sorted(unknown.items())),
        )
    return applied_count
