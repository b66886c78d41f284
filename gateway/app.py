"""The Starlette app: /graphql (GraphiQL, HTTP, graphql-transport-ws) and its assets, the task
board at / (`transport.board`), /healthz, /readyz."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from gateway.api.roots import PUBLIC_FIELDS
from gateway.config import GatewayConfig
from gateway.schema import build_schema
from gateway.services import Services
from gateway.transport import request_ids
from gateway.transport.auth import TokenVerifier
from gateway.transport.board import Board
from gateway.transport.endpoint import GatewayGraphQL
from gateway.transport.request_body import MAX_BODY_BYTES

log = logging.getLogger(__name__)

RUN_ID_HEADER = "x-todo-run-id"


def create_app(config: GatewayConfig) -> Starlette:
    """The gateway app; gRPC channels open on startup and close on shutdown (ASGI lifespan)."""
    services = Services(config)
    schema = build_schema(
        max_depth=config.max_depth,
        max_tokens=config.max_tokens,
        max_aliases=config.max_aliases,
        max_cost=config.max_cost,
    )
    graphql = GatewayGraphQL(schema, config, services, TokenVerifier(config), PUBLIC_FIELDS)

    async def healthz(request: Request) -> Response:
        """Liveness: the process answers on its event loop."""
        return PlainTextResponse("ok")

    run_header = {RUN_ID_HEADER: config.run_id} if config.run_id else {}

    async def readyz(request: Request) -> Response:
        """Readiness is the gateway's own: its channels are open (the app serves requests only
        after its lifespan opened them). A service that is away does not take every gateway out
        of rotation: what still works is served, and each request that needs the missing
        service gets UNAVAILABLE."""
        return PlainTextResponse("ready", headers=run_header)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.open()
        log.info(
            "gateway ready: tasks at %s, recur at %s", config.tasks_address, config.recur_address
        )
        try:
            yield
        finally:
            await services.close()

    middleware = [Middleware(request_ids.RequestIds)]  # outermost: every response carries the id
    if config.allowed_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.allowed_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", request_ids.HEADER],
                expose_headers=[request_ids.HEADER],
            )
        )
    return Starlette(
        routes=[
            Route("/graphql", graphql, max_body_size=MAX_BODY_BYTES),
            WebSocketRoute("/graphql", graphql),
            graphql.playground.assets,
            *Board().routes,
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
