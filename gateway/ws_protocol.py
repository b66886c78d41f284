"""Strawberry's graphql-transport-ws handler, with a coded answer to the operation limit.

Strawberry refuses an operation beyond `max_subscriptions_per_connection`
with an `error` message whose error has no `extensions.code`; every error of
this gateway has one, so the limit is checked here first, the same way.
"""

from __future__ import annotations

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)

from gateway.context import GatewayContext
from gateway.errors import TOO_MANY_OPERATIONS, GatewayError


class TransportWS(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = GatewayError(
                TOO_MANY_OPERATIONS, f"at most {limit} operations may run at once on a connection"
            )
            refusal = ErrorMessage(id=message["id"], type="error", payload=[error.formatted])
            await self.send_message(refusal)
            return
        await super().handle_subscribe(message)
