"""Strawberry's graphql-transport-ws handler, held to the protocol and to bounded memory.

Where strawberry's handler raised (the socket ended without a close frame, with a traceback
in the log), answered INTERNAL, or sent a bare `complete`, this one closes the socket with
the code graphql-transport-ws prescribes:

- a message graphql-ws's `validateMessage` refuses (`protocol_message`), or JSON the gateway
  refuses (nested too deep, not an object): 4400;
- a document that does not parse (the parser cache parses in a hook, where strawberry's
  stream does not catch the error) or has no operation of the `operationName` sent: 4400;
- whatever the reason, in no more than the 123 bytes a close frame carries (strawberry puts
  the operation id or the parse error in some).

An operation answering as its socket closes ends quietly. An operation beyond
`max_subscriptions_per_connection` gets an `error` message with TOO_MANY_OPERATIONS
(strawberry's has no `extensions.code`). A subscription keeps the parsed document it runs and
the variables it declares, not the message it came in: the receive loop holds no message
while it waits for the next, the operation hands its text and variables over to its stream,
and `WebSocketOperations` trims the stream's execution context once the subscription runs.
A message longer than `MAX_BODY_BYTES` never gets here: the server closes with 1009
(`server_options`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Iterator, Mapping
from json import JSONDecodeError
from typing import Any, Final, cast

from cross_web import HTTPException
from graphql import GraphQLError, GraphQLSyntaxError, OperationType, get_operation_ast
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.extensions import SchemaExtension
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.schema.schema import StreamResult
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    Message,
    SubscribeMessage,
)
from strawberry.types import ExecutionContext
from strawberry.types.execution import PreExecutionError

from gateway.context import GatewayContext
from gateway.errors import TOO_MANY_OPERATIONS, GatewayError

MAX_CLOSE_REASON_BYTES: Final = 123  # a close frame's payload is at most 125 bytes, 2 are its code
_PAYLOAD_MEMBERS: Final = (("variables", dict), ("operationName", str), ("extensions", dict))


class InvalidMessage(Exception):
    """A message graphql-transport-ws does not allow from a client; the text says why."""


class UnknownOperation(GraphQLError):
    """The document has no operation of the `operationName` sent (`WebSocketOperations`)."""

    def __init__(self, name: str) -> None:
        missing = CannotGetOperationTypeError(name)
        super().__init__(missing.as_http_error_reason(), original_error=missing)


def protocol_message(value: object) -> Message:
    """`value` as a client's message, checked as graphql-ws's `validateMessage` checks it."""
    if not isinstance(value, dict):
        raise InvalidMessage("a message must be a JSON object")
    kind = value.get("type")
    if not isinstance(kind, str):
        raise InvalidMessage("a message needs a string 'type'")
    if kind in {"connection_init", "ping", "pong"}:
        payload = value.get("payload")
        if payload is None:  # a null payload is allowed: the same as none (strawberry: 4400)
            return cast("Message", {"type": kind})
        if not isinstance(payload, dict):
            raise InvalidMessage(f"the payload of {kind} must be an object")
        return cast("Message", value)
    if kind not in {"subscribe", "complete"}:
        raise InvalidMessage(f"unexpected message type {kind!r}")
    operation_id = value.get("id")
    if not isinstance(operation_id, str) or not operation_id:
        raise InvalidMessage(f"{kind} needs a non-empty string 'id'")
    if kind == "subscribe":
        payload = value.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise InvalidMessage("subscribe needs a payload with a string 'query'")
        for name, expected in _PAYLOAD_MEMBERS:
            member = payload.get(name)
            if member is not None and not isinstance(member, expected):
                raise InvalidMessage(f"'{name}' must be a {expected.__name__} or null")
    return cast("Message", value)


def close_reason(reason: str) -> str:
    """`reason` cut to what a close frame can carry, on a character boundary."""
    return reason.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


class GatewayWebSocket(ASGIWebSocketAdapter):
    """Strawberry's adapter of Starlette's WebSocket, except that:

    - it keeps no message's text while it waits for the next;
    - JSON the gateway refuses (`decode_request_json`) is not JSON, rather than an exception;
    - a message for a socket closed meanwhile (by the client, by another task, or by the
      server's protocol) is `WebSocketDisconnected`, and closing it again does nothing: both
      raised RuntimeError, which ended the connection with a traceback;
    - a close reason fits a close frame;
    - every message goes out as a text frame, as graphql-transport-ws requires, although the
      view's encoder returns bytes (Strawberry would send those as a binary frame).
    """

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                try:
                    yield self.view.decode_json(await self.ws.receive_text())
                except (JSONDecodeError, HTTPException) as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
        except KeyError as error:  # a binary message has no "text"
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except (WebSocketDisconnect, RuntimeError) as error:
            # RuntimeError: Starlette's or uvicorn's "after 'websocket.close'".
            raise WebSocketDisconnected from error

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # closed already, or gone
            await super().close(code, close_reason(reason))


class TransportWS(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    async def handle(self) -> None:
        """Strawberry's receive loop, letting go of each message once it is handled."""
        self.on_request_accepted()
        try:
            try:
                async for message in self.websocket.iter_json():
                    await self.handle_message(message)
                    del message  # not kept while the next one is awaited
            except NonTextMessageReceived:
                await self.handle_invalid_message("WebSocket message type must be text")
            except NonJsonMessageReceived:
                await self.handle_invalid_message("WebSocket message must be valid JSON")
        except WebSocketDisconnected:
            pass
        finally:
            await self.shutdown()

    async def handle_task_exception(self, error: Exception) -> None:
        """An operation that was answering as its socket closed is no fault to log."""
        if not isinstance(error, WebSocketDisconnected):
            await super().handle_task_exception(error)

    async def handle_message(self, message: object) -> None:
        try:
            checked = protocol_message(message)
        except InvalidMessage as error:
            await self.handle_invalid_message(str(error))
            return
        await super().handle_message(checked)

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

    async def _send_result_stream(
        self, operation: Operation[GatewayContext, None], result_source: StreamResult
    ) -> None:
        # The stream has taken the text and the variables (and trims them: WebSocketOperations);
        # the operation lives as long and needs them no more.
        operation.query, operation.variables = "", None
        try:
            await super()._send_result_stream(operation, result_source)
        except (GraphQLSyntaxError, UnknownOperation) as error:
            # Raised by a hook before the operation ran (the parser cache's parse, or
            # `WebSocketOperations`): answered as strawberry answers its own, with 4400.
            refusal = PreExecutionError(data=None, errors=[error])
            await self._handle_pre_execution_error(operation, refusal)


class WebSocketOperations(SchemaExtension):
    """What an operation over the WebSocket (its context has a connection_init payload) needs
    besides strawberry; listed first, so that it acts once every other extension is done.

    - An `operationName` the document does not define is refused before strawberry's stream
      finds out: the stream answered it as an error the gateway logged as its own fault and
      masked to INTERNAL. Over HTTP strawberry refuses it itself (400).
    - Once a subscription runs, its execution context keeps the parsed document and the
      variables it declares, not the text or undeclared variables, for as long as it runs.
    """

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        name = context._provided_operation_name  # what the client sent, if anything
        if (
            _over_websocket(context)
            and context.graphql_document is not None
            and name is not None
            and get_operation_ast(context.graphql_document, name) is None
        ):
            raise UnknownOperation(name)

    def on_execute(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
            return
        definitions = operation.variable_definitions or ()  # None when it declares none
        declared = {definition.variable.name.value for definition in definitions}
        variables: dict[str, Any] = context.variables or {}
        context.query = None
        context.variables = {name: variables[name] for name in declared if name in variables}


def _over_websocket(context: ExecutionContext) -> bool:
    gateway = context.context
    return isinstance(gateway, GatewayContext) and gateway.connection_params is not None
