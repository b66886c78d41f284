"""Shared pieces of the gateway tests: a config, tokens, and a GraphQL client over the ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.rate_buckets import RateLimiter
from gateway.transport.endpoint import GatewayGraphQL
from gateway.transport.server_options import server_options
from todo_cli.broker import free_port
from todo_runtime.tokens import issue_token

JWT_SECRET = "gateway-tests-jwt-secret-0123456789abcdef"
OTHER_SECRET = "some-other-jwt-secret-0123456789abcdefgh"
INTERNAL_SECRET = "gateway-tests-internal-secret"


# GraphQL documents the end-to-end tests share.
TASK_FIELDS = """
  id title description status priority tags dueAt timeZone version
  recurrence { rule text basis } reminders { id minutesBefore at }
  seriesId createdAt updatedAt completedAt
"""
USER_ERRORS = "userErrors { field message code }"
CREATE = f"""mutation($input: CreateTaskInput!) {{
  createTask(input: $input) {{ task {{ {TASK_FIELDS} }} {USER_ERRORS} }}
}}"""
GET = f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
UPDATE = f"""mutation($input: UpdateTaskInput!) {{
  updateTask(input: $input) {{ task {{ {TASK_FIELDS} }} {USER_ERRORS} }}
}}"""
COMPLETE = f"""mutation($id: ID!) {{
  completeTask(input: {{id: $id}}) {{ task {{ id status completedAt version }} {USER_ERRORS} }}
}}"""
REOPEN = f"""mutation($id: ID!) {{
  reopenTask(input: {{id: $id}}) {{ task {{ id status completedAt version }} {USER_ERRORS} }}
}}"""
DELETE = (
    f"mutation($id: ID!) {{ deleteTask(input: {{id: $id}}) {{ deletedTaskId {USER_ERRORS} }} }}"
)
LIST = """query($filter: TaskFilter, $orderBy: [TaskOrder!], $first: Int, $after: String) {
  tasks(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    edges { cursor node { id title } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}"""


def make_config(
    tasks_address: str | None = None, internal_secret: str = INTERNAL_SECRET, **overrides: Any
) -> GatewayConfig:
    """A config for tests; by default both services point at ports nothing listens on."""
    config = GatewayConfig(
        jwt_secret=JWT_SECRET,
        jwt_algorithm="HS256",
        jwks_url=None,
        jwt_audience=None,
        jwt_issuer=None,
        tasks_address=tasks_address or f"127.0.0.1:{free_port()}",
        recur_address=f"127.0.0.1:{free_port()}",
        notify_address=f"127.0.0.1:{free_port()}",
        internal_secret=internal_secret,
        grpc_timeout=5.0,
    )
    return replace(config, **overrides)


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


def token_for(user: str, ttl_seconds: int = 300, secret: str = JWT_SECRET) -> str:
    return issue_token(secret, user, ttl_seconds)


@dataclass
class GatewayClient:
    """Posts GraphQL to the app in-process, as `user` unless told otherwise."""

    app: Starlette
    http: httpx.AsyncClient
    user: str

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        user: str | None = None,
        authorization: str | None = None,
    ) -> dict[str, Any]:
        """The response body; `authorization` overrides the header built for `user`."""
        header = (
            authorization if authorization is not None else f"Bearer {token_for(user or self.user)}"
        )
        headers = {"Authorization": header} if header else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """The response data, asserting there were no errors."""
        body = await self.execute(query, variables, **kwargs)
        assert "errors" not in body, body["errors"]
        return body["data"]


async def create_task(
    client: GatewayClient, user: str | None = None, **fields: Any
) -> dict[str, Any]:
    """Creates a task through GraphQL (title "a task" unless given) and returns it."""
    data = await client.data(CREATE, {"input": {"title": "a task", **fields}}, user=user)
    task: dict[str, Any] = changed(data, "createTask", "task")
    return task


def changed(data: dict[str, Any], mutation: str, field: str) -> Any:
    """A mutation payload's changed object, asserting the mutation refused nothing."""
    payload = data[mutation]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload[field]


@contextlib.asynccontextmanager
async def running_client(config: GatewayConfig) -> AsyncIterator[GatewayClient]:
    """The app with its lifespan entered (channels open), behind an in-process httpx client."""
    app = create_app(config)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as http,
    ):
        yield GatewayClient(app=app, http=http, user=new_user())


def graphql_view(app: Starlette) -> GatewayGraphQL:
    """The app's GraphQL view: it holds the count of WebSocket connections per user."""
    for route in app.routes:
        if isinstance(route, WebSocketRoute) and isinstance(route.app, GatewayGraphQL):
            return route.app
    raise LookupError("no GraphQL WebSocket route")


def rate_limiter(app: Starlette) -> RateLimiter:
    """The app's rate limiter (its lifespan entered, with a database configured)."""
    limiter = graphql_view(app)._services.rate_limiter
    assert limiter is not None
    return limiter


@contextlib.asynccontextmanager
async def serving(config: GatewayConfig, app: Starlette | None = None) -> AsyncIterator[str]:
    """`app` (by default `config`'s) served by uvicorn on a free port of this event loop, as
    `python -m gateway` serves it; yields the ws:// URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app or create_app(config),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
            **server_options(config),
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
