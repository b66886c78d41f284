"""gRPC aio server bootstrap shared by every service.

One interceptor authenticates the caller (signed metadata, see `identity`) and
maps `DomainError`s to status codes (one table, `status_of`); unexpected
exceptions become INTERNAL without leaking details. Health (NOT_SERVING until
the service says it is ready) and server reflection are always on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import (
    _async as health_aio,
)  # the public alias `health.aio` is invisible to type checkers
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from todo_runtime import error_details, identity, metrics, request_context, tracing
from todo_runtime.config import GrpcServerConfig
from todo_runtime.errors import (
    Conflict,
    DataDamaged,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    TooSlow,
    Unauthenticated,
)
from todo_runtime.failures import describe, is_transient

log = logging.getLogger(__name__)

_MAX_MESSAGE = 1000
# SERVING while the process and its event loop run (the health servicer answers on that loop):
# what liveness and startup probes ask. The empty name and the service names are readiness.
LIVENESS: Final = "todo.liveness"
_PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


@dataclass(frozen=True)
class ServiceBinding:
    """A servicer and the generated function that registers it, e.g. `add_TaskServiceServicer_to_server`.

    `public` names the methods that also take calls without a caller's identity (they read and
    keep nothing of a user's); a call that carries one is still checked and served as that user.
    """

    name: str
    servicer: object
    register: Callable[[Any, grpc.aio.Server], None]
    public: frozenset[str] = frozenset()


if TYPE_CHECKING:
    _Interceptor = grpc.aio.ServerInterceptor[Any, Any]
else:  # the stubs are generic, the runtime class is not
    _Interceptor = grpc.aio.ServerInterceptor


class _CallGuard(_Interceptor):
    """Authenticates every non-public call and maps errors to statuses."""

    def __init__(self, secret: str, max_age: int, public: frozenset[str]) -> None:
        self._secret = secret
        self._max_age = max_age
        self._public = public  # full method names, `/todo.recur.v1.RecurrenceService/Parse...`

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        if handler is None or details.method.startswith(_PUBLIC_PREFIXES):
            return handler
        metadata = {
            key: value for key, value in details.invocation_metadata or () if isinstance(value, str)
        }
        deserializer = _tolerant(handler.request_deserializer)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, metadata, details.method),
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, metadata, details.method),
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # client streaming is not part of any contract

    def _authenticate(self, metadata: dict[str, str], method: str) -> str | None:
        """The verified caller; None only for a public method called without an identity."""
        if method in self._public and identity.USER_KEY not in metadata:
            return None
        return identity.verify(
            self._secret,
            metadata.get(identity.USER_KEY),
            metadata.get(identity.SIGNATURE_KEY),
            max_age=self._max_age,
        )

    def _unary(self, behavior: Any, metadata: dict[str, str], method: str) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            with (
                metrics.RPC_SECONDS.labels(method).time(),
                _counted(method, context),
                request_context.bound(_correlation(metadata)),
            ):
                try:
                    token = identity.set_current_user(self._authenticate(metadata, method))
                    try:
                        _require_decoded(request)
                        return await behavior(request, context)
                    finally:
                        identity.reset_current_user(token)
                except Exception as error:
                    await _abort(context, error, method)

        return wrapped

    def _stream(self, behavior: Any, metadata: dict[str, str], method: str) -> Any:
        async def wrapped(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            with _counted(method, context), request_context.bound(_correlation(metadata)):
                try:
                    token = identity.set_current_user(self._authenticate(metadata, method))
                    try:
                        _require_decoded(request)
                        async for response in behavior(request, context):
                            yield response
                    finally:
                        # A stream the client cancelled is closed from another context, where
                        # the variable was never set: there is nothing to reset then.
                        with contextlib.suppress(ValueError):
                            identity.reset_current_user(token)
                except Exception as error:
                    await _abort(context, error, method)

        return wrapped


_CODES: Final = {code.value[0]: code for code in grpc.StatusCode}


def _correlation(metadata: dict[str, str]) -> str:
    """The caller's correlation id, or a new one for a caller that sent none (grpcurl)."""
    return request_context.accept(metadata.get(request_context.CORRELATION_KEY))


@contextlib.contextmanager
def _counted(method: str, context: grpc.aio.ServicerContext[Any, Any]) -> Iterator[None]:
    """Counts the call by method and the status it ended with (CANCELLED when the client left)."""
    outcome = "OK"
    try:
        yield
    except (asyncio.CancelledError, GeneratorExit):
        outcome = "CANCELLED"
        raise
    except BaseException:
        outcome = "UNKNOWN"
        raise
    finally:
        code: Any = context.code()
        if isinstance(code, int):
            code = _CODES.get(code)
        if isinstance(code, grpc.StatusCode) and outcome != "CANCELLED":
            outcome = code.name
        metrics.RPC_REQUESTS.labels(method, outcome).inc()


@dataclass(frozen=True)
class _Undecodable:
    """What the deserializer hands on for bytes that are not the request message."""

    reason: str


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """Lets undecodable bytes reach the handler as `_Undecodable`, so they answer INVALID_ARGUMENT.

    gRPC itself answers a deserializer failure with UNKNOWN and the exception's class name.
    """
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError as error:
            return _Undecodable(str(error))

    return decode


def _require_decoded(request: Any) -> None:
    if isinstance(request, _Undecodable):
        raise InvalidArgument("request", f"cannot be decoded: {request.reason}")


# The status each kind of domain error answers with: the one place domain errors meet gRPC.
_STATUSES: Final[Mapping[type[DomainError], grpc.StatusCode]] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    Conflict: grpc.StatusCode.ABORTED,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    DataDamaged: grpc.StatusCode.DATA_LOSS,
    TooSlow: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def status_of(error: DomainError) -> grpc.StatusCode:
    """The status `error` answers with: its kind's in `_STATUSES` (a subclass, its nearest
    base's), INTERNAL for a kind not in it."""
    for kind in type(error).__mro__:
        status = _STATUSES.get(kind)
        if status is not None:
            return status
    return grpc.StatusCode.INTERNAL


async def _abort(
    context: grpc.aio.ServicerContext[Any, Any], error: Exception, method: str
) -> None:
    if isinstance(error, grpc.aio.AbortError):
        raise error
    if isinstance(error, DomainError):
        # Messages quote user input: keep them far below gRPC's metadata size limit.
        service = method.strip("/").partition("/")[0]
        status = error_details.to_status(
            error, status_of(error), error.message[:_MAX_MESSAGE], service
        )
        await context.abort(status.code, status.details, status.trailing_metadata)
    if is_transient(error):
        log.debug(
            "dependency unavailable: %s", describe(error)
        )  # the database watch logs the outage
        await context.abort(
            grpc.StatusCode.UNAVAILABLE, "the service cannot reach its database or broker; retry"
        )
    log.exception("unhandled error in RPC", exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")


class GrpcServer:
    """A started aio server, its bound port and its health servicer."""

    def __init__(
        self,
        server: grpc.aio.Server,
        port: int,
        health: health_aio.HealthServicer,
        names: Sequence[str],
    ) -> None:
        self.server = server
        self.port = port
        self.health = health
        self._names = ["", *names]

    async def set_serving(self, serving: bool) -> None:
        """Readiness: the empty name, every service's name and the extra names."""
        for name in self._names:
            await self.set_status(name, serving)

    async def set_status(self, name: str, serving: bool) -> None:
        """One health name's status (e.g. `todo.broker`, which readiness does not follow)."""
        await self.health.set(
            name,
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING,
        )

    async def stop(self, grace: float) -> None:
        """Reports NOT_SERVING, then lets in-flight calls finish for up to `grace` seconds."""
        await self.set_serving(False)
        await self.server.stop(grace)


def _public_methods(bindings: Sequence[ServiceBinding]) -> frozenset[str]:
    return frozenset(f"/{b.name}/{method}" for b in bindings for method in b.public)


async def start_server(
    config: GrpcServerConfig,
    secret: str,
    bindings: Sequence[ServiceBinding],
    health_names: Sequence[str] = (),
    *,
    max_signature_age: int = identity.DEFAULT_MAX_AGE_SECONDS,
) -> GrpcServer:
    """Builds and starts the server on `config.host:config.port` (port 0 = any free port).

    `health_names` are extra health service names that report the readiness
    status (`todo up` asks for its run's name, so it never mistakes another
    stack's server for its own). `LIVENESS` is SERVING from the start.
    """
    # The tracing interceptor (if on) comes first, so the guard and the servicer run in its span.
    server = grpc.aio.server(
        interceptors=[
            *tracing.server_interceptors(),
            _CallGuard(secret, max_signature_age, _public_methods(bindings)),
        ]
    )
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    for binding in bindings:
        binding.register(binding.servicer, server)
    names = [binding.name for binding in bindings]
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    port = server.add_insecure_port(f"{config.host}:{config.port}")
    if port == 0:
        raise OSError(f"could not bind gRPC server to {config.host}:{config.port}")
    await server.start()
    started = GrpcServer(server, port, health, [*names, *health_names])
    await started.set_serving(False)
    await started.set_status(LIVENESS, True)
    return started
