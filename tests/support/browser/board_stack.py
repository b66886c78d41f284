"""Every service and the gateway in this process, on a database and a broker of their own, for
the board's browser tests; plus GraphQL over HTTP as another device would send it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from svc_audit.service import SERVICE as AUDIT
from svc_live.service import SERVICE as LIVE
from svc_notify.service import SERVICE as NOTIFY
from svc_recur.service import SERVICE as RECUR
from svc_tasks.service import SERVICE as TASKS
from tests.support.gateway.gateway_harness import CREATE, make_config, serving, token_for
from tests.support.gateway.ws_client import client
from tests.support.infra import (
    TEST_SECRET,
    eventually,
    scratch_database,
    service_config,
)
from todo_cli.broker import EmbeddedBroker, free_port
from todo_runtime import endpoints
from todo_runtime.runner import start_service
from todo_runtime.service import ServiceDefinition
from todo_transparency.checkpoints import SigningKey

REMINDERS = "subscription { reminders { notificationId task { id } } }"
# Joining the consumer groups takes seconds on a fresh broker.
JOIN_SECONDS = 90.0
PROBE_SECONDS = 5.0


@dataclass
class BoardStack:
    """The running stack: the board's origin, and a GraphQL client for other devices."""

    origin: str
    http: httpx.AsyncClient

    def sign_in_link(self, user: str) -> str:
        """The link `todo up` prints: the token in the fragment, never sent to the server."""
        return f"{self.origin}/#token={token_for(user, ttl_seconds=3600)}"

    async def graphql(self, user: str, query: str, variables: dict[str, Any]) -> Any:
        """The data of one operation as `user`, failing on any error."""
        response = await self.http.post(
            f"{self.origin}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token_for(user)}"},
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


@contextlib.asynccontextmanager
async def board_stack(admin_url: str) -> AsyncIterator[BoardStack]:
    """svc_tasks, svc_recur, svc_notify, svc_audit, svc_live and the gateway, all real."""
    async with contextlib.AsyncExitStack() as stack:
        database = await stack.enter_async_context(scratch_database(admin_url, "todo_board"))
        broker = EmbeddedBroker(port=free_port())
        await asyncio.to_thread(broker.start)
        stack.callback(broker.stop)
        bootstrap = broker.bootstrap_servers

        async def started(
            definition: ServiceDefinition, endpoint: endpoints.Endpoint, **settings: str
        ) -> str:
            config = service_config(endpoint, database, bootstrap, **settings)
            service = await start_service(definition, config)
            stack.push_async_callback(service.stop)
            return f"127.0.0.1:{service.port}"

        tasks = await started(TASKS, endpoints.TASKS)
        recur = await started(RECUR, endpoints.RECUR, TODO_TASKS_ADDR=tasks)
        notify = await started(NOTIFY, endpoints.NOTIFY)
        audit = await started(
            AUDIT,
            endpoints.AUDIT,
            TODO_AUDIT_SIGNING_KEY=SigningKey.generate_text(),
            TODO_AUDIT_CHECKPOINT_SECONDS="0.5",
        )
        live = await started(LIVE, endpoints.LIVE, TODO_TASKS_ADDR=tasks)
        config = make_config(
            tasks,
            internal_secret=TEST_SECRET,
            recur_address=recur,
            notify_address=notify,
            audit_address=audit,
            live_address=live,
        )
        ws_url = await stack.enter_async_context(serving(config))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
        origin = ws_url.replace("ws://", "http://").removesuffix("/graphql")
        board = BoardStack(origin, http)
        await _reminders_flow(board, ws_url)
        yield board


async def _reminders_flow(board: BoardStack, ws_url: str) -> None:
    """Returns once a reminder reaches a subscriber: svc_notify and svc_live have joined their
    consumer groups, so no test's reminder (live only) fires before anyone listens."""
    probe = f"probe-{uuid.uuid4().hex[:8]}"
    async with client(ws_url, token_for(probe)) as subscriber:
        operation = subscriber.operations[await subscriber.subscribe(REMINDERS)]
        async with asyncio.timeout(JOIN_SECONDS):
            while not operation.results:
                assert operation.error is None, operation.error
                due = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()  # not past: skipped
                await board.graphql(
                    probe,
                    CREATE,
                    {"input": {"title": "probe", "dueAt": due, "remindMinutesBefore": [0]}},
                )
                # svc_live reads reminders from the end of the topic once it has joined:
                # until then a reminder passes unseen, so another is made after a while.
                with contextlib.suppress(AssertionError):  # not yet: make another
                    await eventually(lambda: bool(operation.results), PROBE_SECONDS)
