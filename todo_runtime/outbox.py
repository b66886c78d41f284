"""Transactional outbox: events are rows written with the state change they announce.

`enqueue` writes events in the caller's transaction, so an event exists if and
only if its state change committed; `sequenced_insert` writes them in the very
statement that makes the change, with the sequence number that statement
allocates set in each message; `outbox_relay` publishes them. Kept apart
from the relay because this is all a writer needs: services that change state
import only this. `requeue_since` and `delete_sent` are the operator's replay
and the retention sweep's side of the same table.

Row format: `key` is the UTF-8 key, `value` the serialized Protobuf message and
`headers` a JSON list of `[name, value]` pairs with UTF-8 text values (every
CloudEvents header is text), kept readable for operators in psql. Besides the CloudEvents
headers a row keeps the correlation id and trace context of the request that wrote it
(`request_context`), so consumers and the relay's publish span continue that request.

Order: rows are published in id order, and ids are assigned at insert. Two
concurrent transactions can commit out of id order; writers that need per-key
order (per-user changes) serialize their transactions, e.g. with a row lock
taken before enqueueing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from google.protobuf.message import Message

from todo_runtime import request_context
from todo_runtime.cloudevents import event_headers
from todo_runtime.db import Connection

_INSERT: Final = """
    INSERT INTO outbox (topic, key, value, headers)
    SELECT topic, key, value, headers::jsonb
    FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[])
        WITH ORDINALITY AS batch (topic, key, value, headers, position)
    ORDER BY position"""
# `sequenced_insert`: each message gets `sequence` in its field numbered by the fifth array
# (NULL: none), appended by the runtime's migration 0003's `protobuf_varint_field`.
_SEQUENCED_INSERT: Final = """
    INSERT INTO outbox (topic, key, value, headers)
    SELECT batch.topic, batch.key,
           batch.value || coalesce(protobuf_varint_field(batch.field, {sequence}), ''),
           batch.headers::jsonb
    FROM {source}, unnest({topics}::text[], {keys}::bytea[], {values}::bytea[],
                          {headers}::text[], {fields}::integer[])
        WITH ORDINALITY AS batch (topic, key, value, headers, field, position)
    ORDER BY batch.position"""


class OutboxError(RuntimeError):
    """The outbox was used outside the transaction it must be part of."""


@dataclass(frozen=True)
class OutgoingEvent:
    """One event to publish: the Protobuf payload plus its CloudEvents attributes."""

    topic: str
    key: str
    message: Message
    event_id: str
    source: str
    type: str
    subject: str
    time: datetime
    # The request it is sent for, when not the current one (see `request_context.outgoing`).
    correlation_id: str | None = None
    # The message's field (an int64, left unset) that `sequenced_insert` sets.
    sequence_field: str | None = None


async def enqueue(conn: Connection, events: Sequence[OutgoingEvent]) -> None:
    """Writes `events` to the outbox inside the caller's transaction (one statement)."""
    if not events:
        return
    if not conn.is_in_transaction():
        raise OutboxError("enqueue must run inside the transaction that makes the state change")
    await conn.execute(_INSERT, *columns(events)[:4])


def sequenced_insert(*, source: str, sequence: str, first: int) -> str:
    """An `INSERT INTO outbox` to run as a data-modifying CTE of the statement that makes the
    state change, so both commit or neither does without a transaction block. It inserts one
    row per event for each row of `source` (a CTE of that statement: no row, no events), and
    sets `sequence` (an SQL expression over `source`) in each event's `sequence_field`. Its
    parameters are `columns(events)`, numbered from `first`. Rows are numbered after `source`
    is read, so a writer that locks its sequence there keeps per-key order."""
    names = ("topics", "keys", "values", "headers", "fields")
    numbers = {name: f"${first + offset}" for offset, name in enumerate(names)}
    return _SEQUENCED_INSERT.format(source=source, sequence=sequence, **numbers)


def columns(events: Sequence[OutgoingEvent]) -> list[list[str] | list[bytes] | list[int | None]]:
    """The parameters of `events`' rows: topics, keys, values, headers and (for
    `sequenced_insert`) the number of each message's sequence field."""
    headers = []
    propagation = request_context.outgoing()  # the request's id and trace go with its events
    for event in events:
        pairs = event_headers(
            event_id=event.event_id,
            source=event.source,
            type=event.type,
            subject=event.subject,
            time=event.time,
            message_name=event.message.DESCRIPTOR.full_name,
        )
        text = [[name, value.decode()] for name, value in pairs]
        carried = propagation
        if event.correlation_id is not None:
            carried = request_context.outgoing(event.correlation_id)
        headers.append(json.dumps(text + [[name, value] for name, value in carried]))
    return [
        [event.topic for event in events],
        [event.key.encode() for event in events],
        [event.message.SerializeToString() for event in events],
        headers,
        [_field_number(event) for event in events],
    ]


def _field_number(event: OutgoingEvent) -> int | None:
    if event.sequence_field is None:
        return None
    return int(event.message.DESCRIPTOR.fields_by_name[event.sequence_field].number)


async def requeue_since(conn: Connection, since: datetime) -> int:
    """Marks every retained row created at or after `since` unsent, so the relay publishes it again.

    The operator's replay (`todo replay --since`): for a broker that lost
    records in a way no topic id shows. Consumers skip what they already applied.
    """
    status = await conn.execute(
        "UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL AND created_at >= $1", since
    )
    await conn.execute("SELECT pg_notify(current_schema() || '_outbox', '')")
    return int(status.split()[-1])


async def delete_sent(conn: Connection, retention: timedelta) -> int:
    """Deletes rows sent longer than `retention` ago; returns how many."""
    status = await conn.execute(
        "DELETE FROM outbox WHERE sent_at < now() - $1::interval", retention
    )
    return int(status.split()[-1])
