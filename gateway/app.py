"""The Starlette app: /graphql (GraphiQL, HTTP, graphql-transport-ws) and its assets, the task
board at / (`transport.board`), calendar feeds at /calendar/{token}.ics (`transport.calendar`),
/healthz, /readyz.

While tracing is on (`todo_runtime.tracing`), the official ASGI middleware makes a server span per
request and WebSocket connection, continuing the client's W3C `traceparent`; the GraphQL
operation's span (Strawberry's extension, `schema`) is its child. Probes and static assets are
not traced. Off, the middleware is not there at all."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import Any, Final

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Scope

from gateway.api.roots import PUBLIC_FIELDS
from gateway.config import GatewayConfig
from gateway.schema import build_schema
from gateway.services import Services
from gateway.transport import board, calendar, playground, request_ids
from gateway.transport.auth import TokenVerifier
from gateway.transport.board import Board
from gateway.transport.calendar import CalendarFeedEndpoint
from gateway.transport.endpoint import GatewayGraphQL
from gateway.transport.request_body import MAX_BODY_BYTES
from todo_runtime import tracing

log = logging.getLogger(__name__)

RUN_ID_HEADER = "x-todo-run-id"
# What the tracing middleware leaves alone, as regular expressions on `scheme://host/path` (the
# form OTEL_PYTHON_ASGI_EXCLUDED_URLS takes): the probes, /metrics should it ever be served here,
# and the static assets. Anchored at the path, so no other path matches by containing one.
_ORIGIN: Final = "^[a-z]+://[^/]*"
UNTRACED: Final = (
    *(f"{_ORIGIN}{re.escape(path)}$" for path in ("/healthz", "/readyz", "/metrics")),
    *(f"{_ORIGIN}{re.escape(path)}/" for path in (board.ASSETS_PATH, playground.ASSETS_PATH)),
    # A calendar feed's path is its secret token: no span may record it.
    f"{_ORIGIN}{re.escape(calendar.PATH_PREFIX)}",
)


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

    # The tracing middleware (if on) comes first, so the rest runs in its span; then the ids, so
    # every response carries one.
    middleware = [*_tracing(), Middleware(request_ids.RequestIds)]
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
            CalendarFeedEndpoint(services).route,
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )


def _tracing() -> list[Middleware]:
    """OpenTelemetry's ASGI middleware while tracing is on, else nothing: no per-request cost."""
    provider = tracing.provider()
    if provider is None:
        return []
    from opentelemetry.instrumentation.asgi import (  # noqa: PLC0415 - only when on
        OpenTelemetryMiddleware,
        get_default_span_details,
    )

    def span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
        # A WebSocket has no method, which the default names `HTTP /graphql`.
        if scope["type"] == "websocket":
            return f"WEBSOCKET {scope['path']}", {}
        return get_default_span_details(scope)  # type: ignore[arg-type]  # it only reads it

    return [
        Middleware(
            OpenTelemetryMiddleware,
            excluded_urls=",".join(UNTRACED),
            default_span_details=span_details,
            tracer_provider=provider,
            # No span per ASGI message: one per request (or connection) keeps the trace readable.
            exclude_spans=["receive", "send"],
        )
    ]
