"""/graphql for HTTP and WebSocket: who is calling, and the per-request context they get."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry import Schema
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from gateway.config import GatewayConfig
from gateway.context import GatewayContext
from gateway.limits.connections import UserConnections
from gateway.services import Services
from gateway.transport.auth import AuthError, TokenVerifier, authorization_param
from gateway.transport.challenge import Challenge, challenge
from gateway.transport.http_view import GraphQLOverHTTP
from gateway.transport.playground import Playground
from gateway.transport.request_body import decode_request_json
from gateway.transport.ws_protocol import GatewayWebSocket, TransportWS, WebSocketOperations


class GatewayGraphQL(GraphQLOverHTTP[GatewayContext, None]):
    """The GraphQL-over-HTTP view (media types, statuses, persisted queries) plus authentication.

    HTTP reads the `Authorization` header; WebSocket reads the `connection_init` payload, and
    bounds connections per user (`UserConnections`), operations per connection, and the wait
    for `connection_init` (closed with 4408 after `ws_init_timeout`); the server bounds its
    messages as HTTP bodies (`server_options`), the handler what they leave behind (`ws_protocol`).
    """

    graphql_transport_ws_handler_class = TransportWS
    websocket_adapter_class = GatewayWebSocket  # type: ignore[assignment]  # as in strawberry's views

    def __init__(
        self,
        schema: Schema,
        config: GatewayConfig,
        services: Services,
        verifier: TokenVerifier,
        public_fields: frozenset[str] = frozenset(),
    ) -> None:
        """`public_fields`: the root query fields that need no user (a 401 is not due for them)."""
        # The WebSocket's own, first: it acts once every other extension is done (`ws_protocol`).
        schema.extensions = (WebSocketOperations, *schema.extensions)
        super().__init__(
            schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=config.ws_init_timeout),
            max_subscriptions_per_connection=config.ws_max_operations,
            allowed_origins=config.allowed_origins,
        )
        self._services = services
        self._verifier = verifier
        self._max_page_size = config.max_page_size
        self._subscription_buffer = config.subscription_buffer
        self._public_fields = public_fields
        self._max_tokens = config.max_tokens
        self.connections = UserConnections(config.ws_max_connections_per_user)
        self.playground = Playground()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket's context is made here, so its user's slot is freed however it ends."""
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        context = self._context()
        try:
            await self.run(WebSocket(scope, receive=receive, send=send), context=context)
        finally:
            if context.user_id is not None:
                self.connections.release(context.user_id)

    def _context(self) -> GatewayContext:
        return GatewayContext(
            services=self._services,
            max_page_size=self._max_page_size,
            subscription_buffer=self._subscription_buffer,
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the gateway's own files (`playground`), not Strawberry's page off a CDN."""
        return self.playground.page(request)

    def decode_json(self, data: str | bytes) -> object:
        """A request body (or GET variables) as JSON, refusing what would otherwise be a 500."""
        return decode_request_json(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GatewayContext:
        context = self._context()
        if isinstance(request, Request):
            await self._authenticate(context, request.headers.get("authorization"))
            context.origin = str(request.base_url).rstrip("/")  # for URLs the API hands out
        return context

    def challenge(
        self, request: Request, context: GatewayContext, data: GraphQLRequestData
    ) -> Challenge | None:
        """401 for a token sent and refused, or for no token and an operation that needs one."""
        if context.user_id is not None:
            return None
        sent = (request.headers.get("authorization") or "").strip()
        return challenge(
            refused_token=context.auth_error if sent else None,
            missing_token=context.auth_error,
            query=data.query,
            operation_name=data.operation_name,
            public_fields=self._public_fields,
            max_tokens=self._max_tokens,
            by_get=request.method == "GET",
        )

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType | dict[str, object] | None:
        """Acks only a valid token in the `connection_init` payload of a user below the
        connection limit; otherwise closes with 4403. Operations stop working at the token's `exp`.
        """
        authorization = authorization_param(context.connection_params)
        await self._authenticate(context, authorization)
        user = context.user_id
        if user is None:
            raise ConnectionRejectionError({"message": context.auth_error})
        if not self.connections.acquire(user):
            context.user_id = None  # holds no slot
            raise ConnectionRejectionError({"message": "too many open connections"})
        context.expires_at = self._verifier.expiry(authorization)
        return UnsetType()  # a plain connection_ack, with no payload

    async def _authenticate(self, context: GatewayContext, authorization: str | None) -> None:
        try:
            context.user_id = await self._verifier.user_id(authorization)
        except AuthError as error:
            context.auth_error = error.message
