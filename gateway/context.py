"""Per-request context: who is calling (or why nobody is), and the one way a resolver calls a
service on their behalf (`GatewayContext.call` and `stream`), the client side's counterpart of the
services' call guard. A plain method rather than a grpc.aio interceptor, which would add Python
work to every call. What outlives the request is in `services`."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import grpc
import strawberry

from gateway.errors import rpc, unauthenticated
from gateway.services import Services

if TYPE_CHECKING:
    from todo_contracts.audit.v1.audit_service_pb2_grpc import AuditServiceAsyncStub
    from todo_contracts.live.v1.live_service_pb2_grpc import LiveServiceAsyncStub
    from todo_contracts.notify.v1.notification_service_pb2_grpc import (
        NotificationServiceAsyncStub,
    )
    from todo_contracts.recur.v1.recurrence_service_pb2_grpc import RecurrenceServiceAsyncStub
    from todo_contracts.tasks.v1.tasks_service_pb2_grpc import TaskServiceAsyncStub

RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")


@dataclass
class GatewayContext:
    """What resolvers get as `info.context`.

    user_id is None when the caller is not authenticated; `auth_error` then says
    why, and every field that needs a user fails with UNAUTHENTICATED. Fields
    that need no user (introspection) still work. On WebSocket the context lives
    for the whole connection: `connection_params` is the `connection_init`
    payload and `user_id` is set when it is accepted, until `expires_at` (the token's `exp`,
    unix time): after it, every operation on the connection fails with UNAUTHENTICATED.
    `subscription_buffer` bounds the events a subscription holds for a slow client.
    """

    services: Services
    max_page_size: int
    user_id: str | None = None
    auth_error: str = "missing bearer token"
    connection_params: dict[str, object] | None = None
    expires_at: float | None = None
    subscription_buffer: int = 100
    origin: str = ""  # scheme://host[:port] an HTTP request reached the gateway at; "" on WebSocket

    def user(self) -> str:
        """The authenticated user id; raises UNAUTHENTICATED otherwise."""
        if self.user_id is None:
            raise unauthenticated(self.auth_error)
        if self.expires_at is not None and time.time() >= self.expires_at:
            raise unauthenticated("token expired: connect again with a fresh token")
        return self.user_id

    def call(
        self,
        method: grpc.aio.UnaryUnaryMultiCallable[RequestT, ResponseT],
        request: RequestT,
        *,
        about: str | None = None,
    ) -> Awaitable[ResponseT]:
        """Calls `method` for the caller: with their signed identity (UNAUTHENTICATED before
        anything is sent when nobody is signed in) and the configured deadline; a failed status
        becomes the client's error (`errors.rpc`), a NOT_FOUND naming `about`, the id the client
        sent, when given."""
        call = method(request, metadata=self._metadata(), timeout=self.services.call.timeout)
        return rpc(call, about)

    def call_public(
        self, method: grpc.aio.UnaryUnaryMultiCallable[RequestT, ResponseT], request: RequestT
    ) -> Awaitable[ResponseT]:
        """Calls a method that needs no user (`api.recurrence.PUBLIC_FIELDS`) as `call` does, with
        the caller's identity when one is signed in and without one otherwise."""
        metadata = self._metadata() if self.user_id is not None else self.services.call.anonymous()
        return rpc(method(request, metadata=metadata, timeout=self.services.call.timeout))

    def stream(
        self, method: grpc.aio.UnaryStreamMultiCallable[RequestT, ResponseT], request: RequestT
    ) -> grpc.aio.UnaryStreamCall[RequestT, ResponseT]:
        """Opens a server stream for the caller: their signed identity and no deadline, since it
        lasts as long as the subscription that reads it (`api.live_stream`, which maps its
        failures as `call` does)."""
        return method(request, metadata=self._metadata())

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return self.services.call.metadata(self.user())

    @property
    def tasks(self) -> TaskServiceAsyncStub:
        """svc_tasks; UNAUTHENTICATED before any call is made when nobody is signed in."""
        self.user()
        return self.services.tasks

    @property
    def recur(self) -> RecurrenceServiceAsyncStub:
        """svc_recur; UNAUTHENTICATED before any call is made when nobody is signed in."""
        self.user()
        return self.services.recur

    @property
    def notify(self) -> NotificationServiceAsyncStub:
        """svc_notify; UNAUTHENTICATED before any call is made when nobody is signed in."""
        self.user()
        return self.services.notify

    @property
    def audit(self) -> AuditServiceAsyncStub:
        """svc_audit; UNAUTHENTICATED before any call is made when nobody is signed in."""
        self.user()
        return self.services.audit

    @property
    def live(self) -> LiveServiceAsyncStub:
        """svc_live; UNAUTHENTICATED before any call is made when nobody is signed in."""
        self.user()
        return self.services.live


# What every resolver takes as `info`.
Info = strawberry.Info[GatewayContext, None]
