"""A database outage in the middle of a retry is waited out, logged once, and loses nothing."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import grpc
import pytest

from tests.support.infra import PostgresProxy, eventually
from tests.support.svc_notify.receiver import Answer, Receiver, receiving
from tests.svc_notify.conftest import FireReminder, RunningNotify, StartNotify, new_user
from todo_contracts.notify.v1 import notification_service_pb2 as pb


async def test_a_database_outage_is_waited_out_and_logged_once(
    proxy: PostgresProxy,
    start_notify: StartNotify,
    fire_reminder: FireReminder,
    tables: asyncpg.Pool[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    notify = await start_notify(DATABASE_URL=proxy.url, TODO_WEBHOOK_RETRY_SCALE="1")
    async with receiving() as receiver:
        receiver.script = [Answer(500)]
        await outage(notify, proxy, receiver, fire_reminder, tables)
    assert caplog.text.count("webhooks: database unavailable") == 1
    assert "webhooks: database back after" in caplog.text


async def outage(
    notify: RunningNotify,
    proxy: PostgresProxy,
    receiver: Receiver,
    fire_reminder: FireReminder,
    tables: asyncpg.Pool[Any],
) -> None:
    """A failed attempt, the database cut until its retry is due, then back: the retry is sent."""
    user = new_user()
    webhook_id = (await notify.create_webhook(user, receiver.url)).webhook.id
    await fire_reminder(user)

    async def attempts(count: int) -> bool:
        try:
            found = await notify.attempts(user, webhook_id)
        except grpc.aio.AioRpcError as error:  # the pool may still hold a connection the cut killed
            if error.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            return False
        return len(found) == count and found[-1].state != pb.DELIVERY_STATE_UNSPECIFIED

    await eventually(lambda: attempts(1), within=60.0)
    await proxy.cut()
    await eventually(lambda: not notify.service.readiness.ready, within=30.0)

    async def retry_due() -> bool:  # the retry's time (5 s after the failure) passes meanwhile
        return bool(
            await tables.fetchval(
                "SELECT bool_and(next_attempt_at <= now()) FROM webhook_deliveries"
            )
        )

    await eventually(retry_due, within=30.0)
    assert len(receiver.received) == 1
    await proxy.start()

    await eventually(lambda: len(receiver.received) == 2, within=60.0)
    await eventually(lambda: attempts(2), within=60.0)
    found = await notify.attempts(user, webhook_id)
    assert [a.state for a in found] == [pb.DELIVERY_STATE_PENDING, pb.DELIVERY_STATE_SUCCEEDED]
