"""At start: make sure this replica signs with the log's key, or change the key on purpose.

Run once per replica before its sequencer starts, under the sequencer's lock,
so replicas starting together take turns and the second finds what the first
did. With `K` the configured key, `P` the previous one and `R` the id of a
lost key (docs/operations.md#the-audit-logs-signing-key):

| the log                    | what happens                                             |
|----------------------------|----------------------------------------------------------|
| has no checkpoint yet      | start: the first checkpoint is signed with K             |
| has K as its key           | start (P or R, if set, are left over: nothing to do)     |
| has P as its key           | rotate: an entry naming K, its checkpoint signed by P    |
| has a key whose id is R    | replace: an entry naming K, signed by K; WARNING         |
| has another key            | refuse: ConfigError naming both key ids and the ways out |
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from svc_audit import key_entries, log_key
from svc_audit.log_key import LogKey
from svc_audit.sequencer import lock_log
from svc_audit.settings import (
    PREVIOUS_KEY_ENV,
    REPLACE_LOST_KEY_ENV,
    SIGNING_KEY_ENV,
    AuditSettings,
)
from todo_runtime.config import ConfigError
from todo_runtime.db import Connection

log = logging.getLogger(__name__)


def _refusal(current: LogKey, settings: AuditSettings) -> ConfigError:
    """Why this key may not sign the log, and the two ways out."""
    key = settings.signing_key
    previous = settings.previous_signing_key
    also = f" (nor is {PREVIOUS_KEY_ENV}, key id {previous.key_id})" if previous is not None else ""
    lost = settings.replace_lost_key
    if lost is not None and lost != current.key_id:
        return ConfigError(
            f"{REPLACE_LOST_KEY_ENV}={lost} does not name the audit log's key: "
            f"{current.describe()}; {SIGNING_KEY_ENV} (key id {key.key_id}) may replace only "
            f"that key ({REPLACE_LOST_KEY_ENV}={current.key_id}), and only if it is lost"
        )
    return ConfigError(
        f"{SIGNING_KEY_ENV} (key id {key.key_id}) is not the audit log's key{also}: "
        f"{current.describe()}, and verifiers that pinned that key would report a forged log. "
        f"Either set {SIGNING_KEY_ENV} to the log's key (key id {current.key_id}), or change "
        f"keys on purpose: set {PREVIOUS_KEY_ENV} to that key to rotate to this one, or, if it "
        f"is lost, set {REPLACE_LOST_KEY_ENV}={current.key_id} (see "
        "docs/operations.md#rotating-the-signing-key and docs/operations.md#a-lost-signing-key)"
    )


async def _take_up(conn: Connection, settings: AuditSettings) -> None:
    key = settings.signing_key
    previous = settings.previous_signing_key
    current = await log_key.current(conn)
    if current is None:
        return  # an empty log: the first checkpoint is signed with this key
    if current.accepts(key.public_key):
        left_over = [
            name
            for name, value in (
                (PREVIOUS_KEY_ENV, previous),
                (REPLACE_LOST_KEY_ENV, settings.replace_lost_key),
            )
            if value is not None
        ]
        if left_over:
            log.info(
                "the audit log's key is key id %s already: %s has nothing to do; unset it once "
                "every replica runs this key",
                key.key_id,
                " and ".join(left_over),
            )
        return
    if previous is not None and current.accepts(previous.public_key):
        signed = await key_entries.rotate(conn, settings.origin, current.checkpoint, previous, key)
        log.warning(
            "rotated the audit log's signing key from key id %s to key id %s: the rotation is "
            "entry %d, its checkpoint signed by the old key; unset %s once every replica runs "
            "the new key",
            previous.key_id,
            key.key_id,
            signed.tree_size - 1,
            PREVIOUS_KEY_ENV,
        )
        return
    if settings.replace_lost_key == current.key_id:
        signed = await key_entries.replace_lost(
            conn, settings.origin, current.checkpoint, current.key_id, key
        )
        log.warning(
            "replaced the lost audit signing key (key id %s) with key id %s at tree size %d, "
            "without a rotation the old key signed: verifiers that pinned the old key now report "
            "a forged log until they re-pin the new public key, which you publish yourself; "
            "unset %s",
            current.key_id,
            key.key_id,
            signed.tree_size,
            REPLACE_LOST_KEY_ENV,
        )
        return
    raise _refusal(current, settings)


async def take_up_key(pool: asyncpg.Pool[Any], schema: str, settings: AuditSettings) -> None:
    """Checks (and, when configured, changes) the log's key; ConfigError when this replica's
    key may not sign the log. See the module docstring."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_log(conn, schema)
        await _take_up(conn, settings)
